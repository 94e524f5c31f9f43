"""GraphView: the zoomable, pannable canvas that shows a GraphScene, with a minimap for big graphs."""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, QRectF, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView

from gradviz.core.replay import Frame
from gradviz.core.result import BackwardCall, GraphData
from gradviz.ui.canvas.items import Look
from gradviz.ui.canvas.minimap import Minimap
from gradviz.ui.canvas.plan import ScenePlan, node_shapes, node_sizes, plan_graph
from gradviz.ui.canvas.scene import GraphScene
from gradviz.ui.theme import Theme

ZOOM_STEP = 1.2
GLOW_MARGIN = 12  # room for the glow around the lit node when scrolling to it
#: Once zoomed (not fitted), the view can scroll this far beyond what is drawn (scene units).
SCROLL_MARGIN_X, SCROLL_MARGIN_Y = 240.0, 180.0
MAX_SCALE = 4.0
FIT_MAX_SCALE = 1.25  # fit-all never blows a small graph up beyond this
#: The smallest on-screen size, in pixels times the font scale, of the edge labels (the smallest
#: text a lesson is read by) in the view a graph opens with: a graph whose labels would be
#: smaller fitted (a 15-node MLP in a window beside the editor, a 5,000-node transformer) opens
#: at the zoom that makes them this big, around its root, with the minimap for the rest.
READABLE_LABEL_PX = 8.0
#: A graph that is whole at this share of the readable zoom is shown whole at it (text 3% smaller);
#: in presentation mode, where the text is big, at 90% (lesson 1 on a 1024x640 projector).
WHOLE_SLACK = 0.97
PRESENTATION_WHOLE_SLACK = 0.9
#: Below this scale a big graph is drawn by the batched overview instead of its items.
OVERVIEW_SCALE = 0.2
OVERVIEW_MIN_NODES = 300
#: Graphs with fewer nodes never get a minimap: scrolling them is easier than reading a thumbnail.
MINIMAP_MIN_NODES = 12
#: Graphs needing more items than this are built in slices when asked (``show_graph(incremental=True)``).
INCREMENTAL_MIN_ITEMS = 600
#: Seconds of item making per event-loop turn during an incremental build (the UI thread stays free).
BUILD_SLICE = 0.025
#: Items of an old scene deleted per event-loop turn; old scenes with fewer go at once.
DISPOSE_SLICE = 1500
#: While the new graph is being built, the old scene waits this long (ms) before looking again.
DISPOSE_WAIT_MS = 30


class SceneDisposer(QObject):
    """Deletes the items of scenes no longer shown, a slice per event-loop turn.

    Clearing a 5,000-node scene at once blocks the UI thread for about 0.1 s; in slices of
    DISPOSE_SLICE items no turn takes more than a few milliseconds.
    """

    def __init__(self, parent: QObject | None = None, busy=None):
        super().__init__(parent)
        self._busy = busy or (lambda: False)  # while True, wait: one heavy job per event-loop turn
        self._queue: list[tuple[QGraphicsScene, list]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._work)

    def dispose(self, scene: GraphScene) -> None:
        items = [*scene.node_items.values(), *scene.edge_items.values(), *scene.labels.values(),
                 *scene.grad_tags.values()]
        if len(items) <= DISPOSE_SLICE:
            scene.clear_graph()
            scene.deleteLater()
            return
        # No index to keep up to date while items go, and nobody reads the old dicts any more.
        scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        scene.node_items, scene.edge_items, scene.labels, scene.grad_tags = {}, {}, {}, {}
        self._queue.append((scene, items))
        self._timer.start()

    @property
    def pending(self) -> int:
        """Items still to delete."""
        return sum(len(items) for _, items in self._queue)

    def flush(self) -> None:
        """Delete everything still queued now."""
        while self._queue:
            self._work(budget=None)

    def _work(self, budget: float | None = 0.01) -> None:
        if not self._queue:
            return
        if budget is not None and self._busy():
            self._timer.start(DISPOSE_WAIT_MS)  # the new graph's items first
            return
        self._timer.setInterval(0)
        scene, items = self._queue[0]
        deadline = None if budget is None else time.perf_counter() + budget
        while items:
            for item in items[-DISPOSE_SLICE // 4:]:
                if shiboken6.isValid(item):
                    shiboken6.delete(item)
            del items[-DISPOSE_SLICE // 4:]
            if deadline is not None and time.perf_counter() > deadline:
                break
        if not items:
            self._queue.pop(0)
            scene.clear_graph()
            scene.deleteLater()
        if self._queue and budget is not None:
            self._timer.start()


class GraphView(QGraphicsView):
    """The graph canvas: show a graph, show animation frames, zoom, pan, select.

    Signals
    -------
    node_clicked(str)
        A node was clicked (its id).
    node_hovered(str)
        The pointer entered a node (its id) or left all nodes ("").
    zoom_changed(float)
        The view scale changed (1.0 = 1:1).
    build_finished()
        Every item of the graph shown exists (at once for ordinary builds; after the last
        slice of an incremental one).

    Zoom with the wheel, a pinch, or the keys + / - / 0 (1:1) / F (fit); pan by dragging, with
    the scroll bars or the arrow keys. ``scene()`` is the GraphScene that export renders: each
    ``show_graph`` puts a new one in place (the old one is deleted in slices, in the background).
    """

    node_clicked = Signal(str)
    node_hovered = Signal(str)
    zoom_changed = Signal(float)
    build_finished = Signal()

    def __init__(self, parent=None, theme: str = "light", font_scale: float = 1.0, root_at: str = "top"):
        self._theme = Theme(theme, font_scale)
        self._look = Look(self._theme)  # shared by every scene this view shows (text and pen caches)
        self._scene = GraphScene(self._theme, look=self._look)
        super().__init__(self._scene, parent)
        self._scene.setParent(self)
        self._scene.build_finished.connect(self._built)
        self._scene.sceneRectChanged.connect(self._scene_rect_changed)
        self._disposer = SceneDisposer(self, busy=lambda: self._scene.building)
        self._build_timer = QTimer(self)
        self._build_timer.setSingleShot(True)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self._build_slice)
        self._fitted = False  # the view shows everything (fit_all) and the user has not zoomed since
        self._placement: str | None = None  # "fit" (fit_all), "auto" (fit_or_focus), None: the user zoomed
        self._settling = False  # True while show_graph puts a new scene in place
        self._refit_pending = False
        self.root_at = root_at
        self.follow_current = False
        self.graph: GraphData | None = None
        self._layout = None
        self._frame: Frame | None = None
        self._call: BackwardCall | None = None
        self._selected: str | None = None
        self._hovered: str | None = None
        self._press_pos: QPointF | None = None
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.minimap = Minimap(self)
        self.minimap.hide()

    # ----------------------------------------------------------------------------- content
    def scene(self) -> GraphScene:  # noqa: D102 - typed accessor
        return self._scene

    def node_sizes(self, graph: GraphData) -> dict[str, tuple[float, float]]:
        """The node sizes the layout needs for ``graph`` at the current theme and font scale.

        Safe to call from a worker thread (the app lays big graphs out off the GUI thread): the
        fonts are then measured with a private Look, never the one the items paint with.
        """
        app = QCoreApplication.instance()
        if app is not None and QThread.currentThread() is not app.thread():
            look = Look(Theme(self._theme.name, self._theme.font_scale))
            return node_sizes(node_shapes(graph, look))
        return node_sizes(node_shapes(graph, self._look))

    def plan(self, graph: GraphData, layout=None, root_at: str | None = None) -> ScenePlan:
        """Everything ``show_graph`` needs for ``graph``: node sizes, the layout (when None) and geometry.

        Safe to call from a worker thread (the app prepares big graphs off the GUI thread): the
        fonts are then measured with a private Look, never the one the items paint with.
        """
        app = QCoreApplication.instance()
        if app is not None and QThread.currentThread() is not app.thread():
            look = Look(Theme(self._theme.name, self._theme.font_scale))
        else:
            look = self._look
        return plan_graph(graph, look, root_at or self.root_at, layout)

    def show_graph(self, graph: GraphData, layout=None, plan: ScenePlan | None = None,
                   incremental: bool = False) -> None:
        """Draw ``graph`` placed by ``layout`` (computed here when None), fitted into the view.

        ``plan`` (from ``plan``, possibly made on a worker thread) spares measuring and geometry.
        With ``incremental`` a big graph's items are made a slice per event-loop turn: the
        overview, frames and fit work at once, ``build_finished`` says when all items exist.
        """
        self.graph = graph
        self._frame = self._call = None
        self._selected = self._hovered = None
        # Scroll events while the new scene gets its zoom would make labels for the old zoom.
        self._settling = True
        try:
            self._build(layout, plan, incremental)
            self.fit_all()
        finally:
            self._settling = False
        self._realize()

    def _build(self, layout=None, plan: ScenePlan | None = None, incremental: bool = False) -> None:
        if plan is None or plan.graph is not self.graph or (layout is not None and plan.layout is not layout):
            plan = self.plan(self.graph, layout)
        self._layout = plan.layout
        scene = self._new_scene()
        scene.begin_build(plan)
        self._update_scroll_rect()
        self.resetCachedContent()
        self.minimap.invalidate()
        self._update_lod()
        if incremental and plan.size > INCREMENTAL_MIN_ITEMS:
            self._build_timer.start()
        else:
            scene.finish_build()

    def _new_scene(self) -> GraphScene:
        """Put a fresh scene in place; the old one is deleted in slices."""
        self._build_timer.stop()
        old = self._scene
        scene = GraphScene(self._theme, self, look=self._look)
        scene.build_finished.connect(self._built)
        scene.sceneRectChanged.connect(self._scene_rect_changed)
        self._scene = scene
        self.setScene(scene)
        old.build_finished.disconnect(self._built)
        old.sceneRectChanged.disconnect(self._scene_rect_changed)
        self._disposer.dispose(old)
        return scene

    def _build_slice(self) -> None:
        if not self._scene.build_some(BUILD_SLICE):
            self._build_timer.start()

    @property
    def building(self) -> bool:
        """True while an incremental build has items left to make."""
        return self._scene.building

    def finish_build(self) -> None:
        """Make every item still missing now (export needs the whole scene)."""
        self._build_timer.stop()
        self._scene.finish_build()

    def _built(self) -> None:
        if self.sender() is not self._scene:
            return
        self._build_timer.stop()
        # Selection and hover marks on items that were made after they were set.
        selected, self._selected = self._selected, None
        self.select_node(selected)
        self._realize()
        self.minimap.update()
        self.build_finished.emit()

    def clear(self) -> None:
        self.graph = None
        self._frame = self._call = None
        self._selected = self._hovered = None
        self._new_scene()
        self._update_scroll_rect()
        self.minimap.invalidate()
        self.minimap.hide()

    def show_frame(self, frame: Frame | None, call: BackwardCall | None = None) -> None:
        """Show animation ``frame`` (None: the plain graph); pass ``call`` for ``.grad before`` badges."""
        self._frame, self._call = frame, call
        scene = self._scene
        scene.apply_frame(frame, call)
        if self.follow_current and frame is not None:
            rect = scene.node_rect(frame.current)
            if rect is not None:
                self.ensureVisible(rect, 80 + GLOW_MARGIN, 80 + GLOW_MARGIN)
        self._reveal_badge()
        self._realize()
        self.minimap.update()

    def _reveal_badge(self) -> None:
        """Scroll a little so the callout beside the lit node is on screen, keeping the node there."""
        scene = self._scene
        badge = scene.badge
        if badge is None or not badge.isVisible() or not scene.detail or self._frame is None:
            return
        node = scene.node_rect(self._frame.current)
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        if node is None or visible.contains(badge.card()) or not visible.intersects(node):
            return
        self.ensureVisible(badge.card(), 12, 12)
        self.ensureVisible(node, 12, 12)

    def _realize(self) -> None:
        """Give a big graph label items for what is on screen (and a margin around it)."""
        scene = self._scene
        if scene.lazy and scene.detail and self.scale_factor() >= OVERVIEW_SCALE and not self._settling:
            visible = self.mapToScene(self.viewport().rect()).boundingRect()
            m = 300 / max(self.scale_factor(), 1e-3)
            scene.realize(visible.adjusted(-m, -m, m, m))

    @property
    def frame(self) -> Frame | None:
        return self._frame

    # ----------------------------------------------------------------------------- looks
    def set_theme(self, name: str) -> None:
        """Switch to the "light" or "dark" palette."""
        self._theme = Theme(name, self._theme.font_scale)
        self._scene.set_theme(self._theme)
        self.resetCachedContent()
        self.minimap.invalidate()
        self.viewport().update()

    @property
    def theme_name(self) -> str:
        return self._theme.name

    def set_font_scale(self, scale: float) -> None:
        """Presentation mode: every canvas font ``scale`` times larger; the graph is laid out again."""
        if scale == self._theme.font_scale:
            return
        self._theme = Theme(self._theme.name, scale)
        self._scene.set_theme(self._theme)
        if self.graph is not None:
            self._rebuild()

    @property
    def font_scale(self) -> float:
        return self._theme.font_scale

    def set_root_at(self, where: str) -> None:
        """Put the root at the "top" or the "bottom" of the graph."""
        if where not in ("top", "bottom"):
            raise ValueError(f"root_at must be 'top' or 'bottom', not {where!r}")
        if where != self.root_at:
            self.root_at = where
            if self.graph is not None:
                self._rebuild()

    def _rebuild(self) -> None:
        frame, call, selected = self._frame, self._call, self._selected
        self._settling = True
        try:
            self._build(None, None, incremental=True)
            if frame is not None:
                self._scene.apply_frame(frame, call)
            self._selected = None
            self.select_node(selected)
            # New fonts or the root moved: the graph placed afresh, the way it was placed.
            if self._placement == "auto":
                self.fit_or_focus()
            else:
                self.fit_all()
        finally:
            self._settling = False
        self._realize()

    # ----------------------------------------------------------------------------- zoom
    def scale_factor(self) -> float:
        return self.transform().m11()

    def fit_all(self) -> None:
        """Show everything drawn (nodes, edges, labels, callouts), never magnified beyond FIT_MAX_SCALE.

        The scene rect (the scroll range) is what is fitted, so a graph that fits has no scroll
        bars; while the view stays fitted, callouts appearing later refit it (``_scene_rect_changed``).
        """
        self._placement = "fit"
        self._fit()

    def _fit(self) -> None:
        if self.graph is None or not self._scene.has_graph():
            return
        self._fitted = True
        self._update_scroll_rect()  # no scroll bars from here on: the viewport has its full size
        s = self.fit_scale()
        if s is None:
            return
        self._set_scale(s)
        self.centerOn(self._scene.fit_rect().center())

    def fit_scale(self) -> float | None:
        """The zoom fit_all would choose now (None before there is anything to fit)."""
        rect = self._scene.fit_rect() if self.graph is not None and self._scene.has_graph() else QRectF()
        vp = self.viewport().rect()
        if rect.isEmpty() or vp.width() < 2 or vp.height() < 2:
            return None
        # A hair under the exact fit: rounding must not leave a one-pixel scroll range.
        return min((vp.width() - 2) / rect.width(), (vp.height() - 2) / rect.height(), FIT_MAX_SCALE)

    def _scale_to_show(self, rect: QRectF) -> float:
        """The zoom at which ``rect`` just fits the viewport."""
        vp = self.viewport().rect()
        return min((vp.width() - 2) / max(rect.width(), 1.0), (vp.height() - 2) / max(rect.height(), 1.0))

    def readable_scale(self) -> float:
        """The lowest zoom the view opens a graph at: its edge labels READABLE_LABEL_PX (times the font scale) high.

        The same zoom in presentation mode makes the bigger fonts big on screen: node names
        readable from the back of a classroom.
        """
        return READABLE_LABEL_PX * self._theme.font_scale / self._theme.font("label").pixelSize()

    def fit_or_focus(self, node_id: str | None = None) -> None:
        """Fit the graph when it is readable fitted; otherwise show it at the readable zoom around
        ``node_id`` (default: the first root), the minimap showing where that is in the whole.

        A whole graph fitted into a window beside the editor can be a strip of specks; students
        start from the loss and scroll or follow the animation down (F or Ctrl+0 still fits all).
        The view keeps this placement as it changes size (``refit``) until the user zooms.
        """
        self._placement = "auto"
        s = self.fit_scale()
        if s is None or s >= self.readable_scale():
            self._fit()
            return
        scale = self.readable_scale()
        root = self.graph.roots[0] if self.graph.roots else None
        target = node_id or root
        rect = self._scene.node_rect(target) if target is not None else None
        self._fitted = False
        self._update_scroll_rect()
        # Everything drawn (with the glow, without the fit margin) at a zoom a hair under the
        # readable one: shown whole and centred. A five-node lesson in presentation mode keeps
        # its 18 px names and its leaf, which the root-at-the-top placement cut off.
        drawn = self._scene.graph_rect()
        slack = WHOLE_SLACK if self._theme.font_scale <= 1.0 else PRESENTATION_WHOLE_SLACK
        if self._scale_to_show(drawn) >= slack * scale:
            drawn = drawn.united(self._scene.itemsBoundingRect())  # glows and done marks stick out
            whole_scale = self._scale_to_show(drawn)
            if whole_scale >= slack * scale:
                self._set_scale(min(scale, whole_scale))
                self.centerOn(drawn.center())
                self.minimap.update()
                return
        self._set_scale(scale)
        if rect is not None:
            half = self.viewport().height() / (2 * scale)
            margin = 60 / scale
            whole = self._scene.fit_rect()
            if target != root:
                y = rect.center().y()
            elif self.root_at == "bottom":  # the root near the bottom edge, the graph above it
                y = rect.bottom() + margin - half
            else:  # the root near the top edge, the graph below it; an error banner above it stays in view
                y = min(rect.top(), whole.top()) - margin + half
            # A graph as narrow as the view is centred as a whole, else around the node.
            x = whole.center().x() if whole.width() * scale <= self.viewport().width() else rect.center().x()
            self.centerOn(x, y)
        self.minimap.update()

    @property
    def placement(self) -> str | None:
        """How the view placed the graph last: "fit" (fit_all), "auto" (fit_or_focus), None once the user zoomed."""
        return self._placement

    def refit(self) -> None:
        """Place the graph again the way it was placed last (the view changed size), unless the user zoomed since."""
        if self.graph is not None and self._scene.has_graph():
            self._place_again()

    def _place_again(self) -> None:
        if self._placement == "fit":
            self._fit()
        elif self._placement == "auto":
            s = self.fit_scale()
            # Already shown readable around what the user looks at, and still too big to fit: keep it.
            if self._fitted or s is None or s >= self.readable_scale() \
                    or abs(self.scale_factor() - self.readable_scale()) > 1e-6:
                self.fit_or_focus()

    def _scene_rect_changed(self, rect: QRectF) -> None:
        # Something was drawn outside what fit-all showed (a badge, a label): fit again, once.
        if self._fitted:
            if not self._refit_pending:
                self._refit_pending = True
                QTimer.singleShot(0, self._refit)
        else:
            self._update_scroll_rect()

    def _update_scroll_rect(self) -> None:
        """The scroll range: exactly what is drawn when fitted (no scroll bars), with room to pan once zoomed."""
        rect = self._scene.sceneRect()
        if not self._fitted:
            rect = rect.adjusted(-SCROLL_MARGIN_X, -SCROLL_MARGIN_Y, SCROLL_MARGIN_X, SCROLL_MARGIN_Y)
        if rect != self.sceneRect():
            self.setSceneRect(rect)
        # Fitted, everything is in view: scroll bars would only flicker in and out (and take
        # room from the viewport) while callouts grow the picture and the view refits.
        policy = Qt.ScrollBarPolicy.ScrollBarAlwaysOff if self._fitted else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        if self.verticalScrollBarPolicy() != policy:
            self.setVerticalScrollBarPolicy(policy)
            self.setHorizontalScrollBarPolicy(policy)

    def _refit(self) -> None:
        self._refit_pending = False
        if self._fitted:
            self._fit()

    @property
    def fitted(self) -> bool:
        """True while the view shows everything (fit_all) and has not been zoomed since."""
        return self._fitted

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def reset_zoom(self) -> None:
        """1:1 (one scene unit per pixel), keeping the centre."""
        center = self.mapToScene(self.viewport().rect().center())
        self._fitted = False
        self._placement = None
        self._set_scale(1.0)
        self.centerOn(center)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping ``anchor`` (viewport coordinates; default the centre) still."""
        current = self.scale_factor()
        target = max(self._min_scale(), min(MAX_SCALE, current * factor))
        if abs(target - current) < 1e-9:
            return
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        self._fitted = False
        self._placement = None
        before = self.mapToScene(anchor.toPoint())
        self._set_scale(target)
        after = self.mapToScene(anchor.toPoint())
        delta = after - before
        center = self.mapToScene(self.viewport().rect().center())
        self.centerOn(center - delta)

    def _min_scale(self) -> float:
        rect = self._scene.graph_rect() if self.graph is not None and self._scene.has_graph() else QRectF(0, 0, 1, 1)
        vp = self.viewport().rect()
        fit = min(vp.width() / max(rect.width(), 1), vp.height() / max(rect.height(), 1))
        return max(min(fit * 0.5, 0.1), 0.002)

    def _set_scale(self, s: float) -> None:
        self._update_scroll_rect()
        t = self.transform()
        self.setTransform(t.fromScale(s, s))
        self._update_lod()
        self.zoom_changed.emit(s)

    def _update_lod(self) -> None:
        scene = self._scene
        big = len(scene.graph.nodes) >= OVERVIEW_MIN_NODES
        scene.set_detail(not big or self.scale_factor() >= OVERVIEW_SCALE)
        self._realize()
        self._update_minimap()

    def _update_minimap(self) -> None:
        if self.graph is None or not self._scene.has_graph():
            self.minimap.hide()
            return
        # Only for graphs that are big on screen: the nodes' extent, not callouts, decides, and
        # a graph a little larger than the view is better scrolled than covered by a thumbnail.
        scene = self._scene
        rect = self.mapFromScene(scene.node_bounds()).boundingRect()
        vp = self.viewport().rect()
        fits = (len(scene.graph.nodes) < MINIMAP_MIN_NODES
                or (rect.width() <= vp.width() * 1.25 and rect.height() <= vp.height() * 1.25))
        self.minimap.setVisible(not fits)
        if not fits:
            self.minimap.place()
            self.minimap.update()

    # ----------------------------------------------------------------------------- selection
    def select_node(self, node_id: str | None) -> None:
        """Mark ``node_id`` as selected (None clears); does not emit node_clicked."""
        items = self._scene.node_items
        if self._selected in items:
            items[self._selected].set_selected(False)
        # A node whose item is not made yet (incremental build) is marked when it is.
        self._selected = node_id if self._scene.node_rect(node_id) is not None else None
        if self._selected in items:
            items[self._selected].set_selected(True)

    @property
    def selected(self) -> str | None:
        return self._selected

    def center_on_node(self, node_id: str) -> None:
        rect = self._scene.node_rect(node_id)
        if rect is not None:
            self.centerOn(rect.center())

    # ----------------------------------------------------------------------------- events
    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y()
        if delta == 0:
            super().wheelEvent(event)
            return
        self.zoom_by(ZOOM_STEP ** (delta / 120), event.position())
        event.accept()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.reset_zoom()
        elif key == Qt.Key.Key_F:
            self.fit_all()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def viewportEvent(self, event) -> bool:
        etype = event.type()
        if etype == QEvent.Type.Gesture:
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if pinch is not None:
                factor = pinch.scaleFactor()
                if factor > 0:
                    self.zoom_by(factor, self.viewport().mapFromGlobal(pinch.centerPoint().toPoint()).toPointF())
                event.accept()
                return True
        elif etype == QEvent.Type.NativeGesture:
            if event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.zoom_by(1.0 + event.value(), event.position())
                event.accept()
                return True
        return super().viewportEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_pos = event.position()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        press, self._press_pos = self._press_pos, None
        if event.button() != Qt.MouseButton.LeftButton or press is None:
            return
        if (event.position() - press).manhattanLength() > 4:
            return  # a drag, not a click
        item = self._scene.node_at(self.mapToScene(event.position().toPoint()))
        if item is not None:
            self.select_node(item.node_id)
            self.node_clicked.emit(item.node_id)

    def mouseMoveEvent(self, event) -> None:
        super().mouseMoveEvent(event)
        if self._press_pos is not None and event.buttons() & Qt.MouseButton.LeftButton:
            return
        item = self._scene.node_at(self.mapToScene(event.position().toPoint())) if self._scene.detail else None
        self._set_hovered(item.node_id if item is not None else None)

    def leaveEvent(self, event) -> None:
        self._set_hovered(None)
        super().leaveEvent(event)

    def _set_hovered(self, node_id: str | None) -> None:
        if node_id == self._hovered:
            return
        items = self._scene.node_items
        if self._hovered in items:
            items[self._hovered].set_hovered(False)
        self._hovered = node_id
        if node_id is not None:
            items[node_id].set_hovered(True)
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        self.node_hovered.emit(node_id or "")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._realize()
        self._update_minimap()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self._realize()
        if self.minimap.isVisible():
            self.minimap.update()
