"""GraphScene: makes the items of a planned graph and shows animation frames by diffing their states.

The geometry comes from the plan (``plan.py``), what a frame lights from ``frame_state.py``, the
badge's and banner's texts and places from ``callouts.py``; the scene ties them to its items.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsScene, QToolTip

from gradviz.core.collector import collector_paused
from gradviz.core.layout import Layout
from gradviz.core.replay import EdgeKey, Frame
from gradviz.core.result import BackwardCall, GraphData, GraphNode
from gradviz.ui.canvas.callouts import (
    Obstacles,
    badge_content,
    badge_place,
    badge_side,
    banner_anchor,
    banner_title,
    node_tooltip,
)
from gradviz.ui.canvas.frame_state import (
    CURRENT,
    DONE,
    EDGE_ACTIVE,
    EDGE_CARRIED,
    EDGE_IDLE,
    FrameState,
    current_changes,
    done_changes,
    edge_changes,
    state_of,
)
from gradviz.ui.canvas.grid import DotGrid
from gradviz.ui.canvas.items import (
    LABEL_ACTIVE,
    LABEL_GRAD,
    LABEL_INDEX,
    LABEL_QUIET,
    Z_EDGE,
    Z_LABEL,
    BadgeItem,
    BannerItem,
    EdgeItem,
    LabelItem,
    Look,
    NodeItem,
    NodeShape,
    OverviewItem,
)
from gradviz.ui.canvas.made_by import MadeMarkItem, MadeMarks
from gradviz.ui.canvas.plan import EdgeGeometry, ScenePlan, node_shapes, plan_scene
from gradviz.ui.numbers import compact_value
from gradviz.ui.theme import Theme

#: Room around everything drawn in the scene rect (scene units). The scene rect starts around the
#: nodes and edges and grows to hold labels, badges and the banner as frames show them; fit-all
#: shows all of it, so a graph that fits the view needs no scroll bars.
FIT_MARGIN = 32.0
#: How the nodes of big graphs are cached between paints.
NODE_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
#: Items made between two looks at the clock while building.
BUILD_BATCH = 64
#: A frame that changes more nodes and edges than this repaints the whole overview at once.
OVERVIEW_FULL_UPDATE = 400
#: How far a label reaches from its anchor, at most (half the widest value's pill).
LABEL_REACH = 200.0
#: From this many nodes on, label items are made only where the view looks (``realize``).
LAZY_LABEL_NODES = 300


class GraphScene(QGraphicsScene):
    """The items of one autograd graph and the state of one animation frame.

    ``build(graph, layout, shapes)`` creates one NodeItem per node and one EdgeItem per edge
    (parallel edges kept apart); ``apply_frame(frame, call)`` lights the current node, labels
    the edges that carried gradient and shows fan-in, ``.grad`` updates, freed tensors and
    errors, touching only the items whose state changed since the previous frame.

    Big graphs are built in slices: ``begin_build(plan)`` shows the plan at once (bounds, the
    overview, frames, labels and badges all work from the plan's geometry), ``build_some``
    makes the next items within a time budget and ``finish_build`` makes all that are left.
    Items made late take the state of the frame shown, so the scene is consistent at every
    moment of a build.

    Signals
    -------
    build_finished()
        The last item of the graph was made (``building`` is False from now on).

    ``node_items``, ``edge_items`` and ``labels`` map node ids and edge keys to their items;
    ``frame_state`` is what the frame shown lights (a FrameState).
    """

    build_finished = Signal()

    def __init__(self, theme: Theme | None = None, parent=None, look: Look | None = None):
        super().__init__(parent)
        self.look = look or Look(theme or Theme())
        if theme is not None and look is not None and look.theme is not theme:
            self.look.set_theme(theme)
        self.graph = GraphData()
        self.layout = None
        self.plan: ScenePlan | None = None
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[EdgeKey, EdgeItem] = {}
        self.labels: dict[EdgeKey, LabelItem] = {}
        self.grad_tags: dict[str, LabelItem] = {}
        self.badge: BadgeItem | None = None
        self.banner: BannerItem | None = None
        self.overview: OverviewItem | None = None  # the graph, for tiny zoom levels
        self.overview_state: OverviewItem | None = None  # the frame on top of it
        # Node and edge items live under one layer, labels under another: switching between
        # items and the overview is then two setVisible calls, not thousands.
        self.item_layer: QGraphicsRectItem | None = None
        self.label_layer: QGraphicsRectItem | None = None
        # Labels the frame wants (key -> (value, style); value None for an input index). On big
        # graphs items are made only for the part someone looks at: see ``realize``.
        self._label_want: dict[EdgeKey, tuple[object, str]] = {}
        self.lazy = False
        self._realized = QRectF()
        self.frame: Frame | None = None
        self.call: BackwardCall | None = None
        self.detail = True
        self.show_grid = True
        self.transparent = False
        self.parallel: dict[EdgeKey, tuple[int, int]] = {}  # key -> (position, group size)
        self.frame_state = FrameState()  # what the frame shown lights: items made later take it
        self._leaf_edges: set[EdgeKey] = set()  # AccumulateGrad -> leaf edges
        self._root_ids: list[str] = []
        self._label_text: dict[EdgeKey, tuple[object, str]] = {}
        self._bounds = QRectF()
        self._next_node = 0
        self._next_edge = 0
        self._grid = DotGrid()  # the background dots
        self.made: MadeMarks | None = None  # marks of nodes a backward pass made (create_graph=True)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)

    # ----------------------------------------------------------------------------- building
    @property
    def theme(self) -> Theme:
        return self.look.theme

    def measure(self, graph: GraphData) -> dict[str, NodeShape]:
        return node_shapes(graph, self.look)

    def build(self, graph: GraphData, layout: Layout, shapes: dict[str, NodeShape] | None = None) -> None:
        """Replace the scene's items with those of ``graph`` placed by ``layout`` (all of them, now)."""
        shapes = shapes or self.measure(graph)
        self.begin_build(plan_scene(graph, layout, shapes, self.look))
        self.finish_build()

    def begin_build(self, plan: ScenePlan) -> None:
        """Show ``plan``: from now on bounds, overview and frames work; items come with ``build_some``."""
        self.clear_graph()
        self.plan = plan
        self._obstacles = None
        self.graph = plan.graph
        self.layout = plan.layout
        self._bounds = QRectF(plan.bounds)
        # A fixed scene rect spares the index from growing with every item.
        self.setSceneRect(plan.edges_rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN))
        self.parallel = plan.parallel
        self._leaf_edges = plan.leaf_edges
        self._root_ids = plan.root_ids
        self.lazy = len(plan.graph.nodes) >= LAZY_LABEL_NODES
        for layer, z in (("item_layer", Z_EDGE), ("label_layer", Z_LABEL)):
            item = QGraphicsRectItem()
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
            item.setZValue(z)
            self.addItem(item)
            setattr(self, layer, item)
        self._next_node = self._next_edge = 0
        self.made = MadeMarks(self, plan.graph, plan.node_rects, plan.bounds, self.look)
        if self.lazy:
            self._build_overview()  # big graphs show it while their items are being made
        self._edges_changed([(key, EDGE_IDLE, None) for key in plan.parallel])  # their "#k" labels

    @property
    def building(self) -> bool:
        """True while items of the planned graph are still to be made."""
        plan = self.plan
        return plan is not None and (self._next_node < len(plan.graph.nodes) or self._next_edge < len(plan.edges))

    def build_progress(self) -> tuple[int, int]:
        """(items made, items planned)."""
        plan = self.plan
        return (self._next_node + self._next_edge, plan.size) if plan is not None else (0, 0)

    def build_some(self, budget: float = 0.02) -> bool:
        """Make items for about ``budget`` seconds; True when the graph is complete."""
        if not self.building:
            return True
        with collector_paused():  # thousands of items: no full collections in the middle of a slice
            self._make_items(time.perf_counter() + budget)
        return self._check_built()

    def _make_items(self, deadline: float) -> None:
        plan = self.plan
        nodes, edges = plan.graph.nodes, plan.edges
        while self._next_node < len(nodes):
            end = min(self._next_node + BUILD_BATCH, len(nodes))
            for node in nodes[self._next_node:end]:
                self._make_node(node)
            self._next_node = end
            if time.perf_counter() > deadline:
                return
        while self._next_edge < len(edges):
            end = min(self._next_edge + BUILD_BATCH, len(edges))
            for geometry in edges[self._next_edge:end]:
                self._make_edge(geometry)
            self._next_edge = end
            if time.perf_counter() > deadline:
                return

    def finish_build(self) -> None:
        """Make every item still missing (export and headless rendering need the whole scene)."""
        while not self.build_some(3600.0):
            pass

    def _check_built(self) -> bool:
        if self.building:
            return False
        self.build_finished.emit()
        return True

    def _make_node(self, node: GraphNode) -> None:
        nid = node.id
        plan = self.plan
        item = NodeItem(node, plan.shapes[nid], self.look, self.item_layer)
        item.order = plan.node_order[nid]
        x, y = plan.layout.positions[nid]
        item.setPos(x, y)
        # The state of the frame already shown.
        state = self.frame_state
        if nid == state.current:
            item.state = CURRENT
        elif nid in state.done:
            item.state = DONE
        freed = state.freed.get(nid)
        if freed:
            item.freed = freed
        if node.made_by is not None:
            MadeMarkItem(item, self.look)
        if self.lazy:
            # Big graphs: while the view follows the lit node it scrolls nearly every step and
            # repaints what it shows; cached node pictures make that a blit (Qt's pixmap cache
            # bounds the memory). Exports paint the nodes directly (see export._Prepared).
            item.setCacheMode(NODE_CACHE)
        self.node_items[nid] = item

    def _make_edge(self, g: EdgeGeometry) -> None:
        item = EdgeItem(g.key, g.curve, g.arrow, self.look, g.anchor, g.align, g.dot_t, g.outline, self.item_layer)
        item.points = g.points
        item.order = g.order
        key = g.key
        state = self.frame_state
        if key in state.active:
            item.set_state(EDGE_ACTIVE)
        elif key in state.carried:
            item.set_state(EDGE_CARRIED)
        self.edge_items[key] = item

    def clear_graph(self) -> None:
        self.clear()
        self.plan = None
        self._obstacles = None
        self.item_layer = self.label_layer = None
        self._next_node = self._next_edge = 0
        self.node_items, self.edge_items, self.labels, self.grad_tags = {}, {}, {}, {}
        self.badge = self.banner = self.overview = self.overview_state = None
        self.made = None
        self.frame = self.call = None
        self.detail = True
        self.frame_state = FrameState()
        self._leaf_edges, self._root_ids = set(), []
        self.parallel = {}
        self._label_text = {}
        self._label_want = {}
        self.lazy = False
        self._realized = QRectF()
        self._bounds = QRectF()
        self.graph = GraphData()

    def node_rect(self, node_id: str) -> QRectF | None:
        """The box of a node in scene coordinates (from the plan: also before its item exists)."""
        plan = self.plan
        rect = plan.node_rects.get(node_id) if plan is not None else None
        return QRectF(rect) if rect is not None else None

    def has_graph(self) -> bool:
        """True when a graph with at least one node is shown (or being built)."""
        return self.plan is not None and bool(self.plan.graph.nodes)

    # ----------------------------------------------------------------------------- looks
    def set_theme(self, theme: Theme) -> None:
        """Repaint with ``theme``; a different font scale needs ``build`` again (sizes change)."""
        self.look.set_theme(theme)
        if self.overview is not None:
            self.overview.update()
            self.overview_state.update()
        for label in list(self.labels.values()) + list(self.grad_tags.values()):
            label.relayout()
        self.update()

    def graph_rect(self, overview: bool = False) -> QRectF:
        """The bounding rect of what is drawn: nodes, edges, labels, badge and banner.

        ``overview``: of what the overview draws, the graph and the banner (labels, ``.grad``
        tags and the badge are hidden there, and their size depends on the numbers they show).
        """
        plan = self.plan
        rect = QRectF(plan.edges_rect) if plan is not None else QRectF(self._bounds)
        if not overview:
            for group in (self.labels.values(), self.grad_tags.values()):
                for item in group:
                    if item.wanted:
                        rect = rect.united(item.sceneBoundingRect())
            if self.badge is not None and self._badge_wanted:
                rect = rect.united(self.badge.sceneBoundingRect())
        if self.banner is not None and self.banner.isVisible():
            rect = rect.united(self.banner.sceneBoundingRect())
        legend = self.made.rect() if self.made is not None else None
        if legend is not None:
            rect = rect.united(legend)
        return rect

    def fit_rect(self) -> QRectF:
        """What fit-all shows: the scene rect, grown to hold everything drawn (with a margin).

        It only grows: a callout drawn at one step and gone at the next still counts, so
        stepping through a fitted animation does not zoom in and out.
        """
        self._grow_scene_rect(self.graph_rect(), FIT_MARGIN)
        return self.sceneRect()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        if self.transparent:
            return
        look = self.look
        painter.fillRect(rect, look.brush("background"))
        if not self.show_grid:
            return
        scale = painter.worldTransform().m11()
        self._grid.draw(painter, rect, self.look.pen("grid", max(1.5, 2.0 * scale), cosmetic=True))

    # ----------------------------------------------------------------------------- detail
    def set_detail(self, on: bool) -> None:
        """Items (True) or the batched overview (False) for zoom levels where nodes are dots."""
        if on == self.detail or self.plan is None or not self.plan.graph.nodes:
            return
        self.detail = on
        self.ensure_overview()
        self.item_layer.setVisible(on)
        self.label_layer.setVisible(on)
        if self.badge is not None:
            self.badge.setVisible(on and self._badge_wanted)
        self.overview.setVisible(not on)
        self.overview_state.setVisible(not on)

    def ensure_overview(self) -> OverviewItem:
        """The batched overview of the graph (built on first use; hidden while items are shown)."""
        if self.overview is None:
            self._build_overview()
        return self.overview

    def _build_overview(self) -> None:
        plan = self.plan
        bounds = (plan.bounds if plan is not None else self._bounds).adjusted(-20, -20, 20, 20)
        base = OverviewItem(self.look, bounds, "base")
        state = OverviewItem(self.look, bounds, "state")
        if plan is not None:
            base.node_rects, base.node_kinds, base.edge_polylines = plan.node_rects, plan.node_kinds, plan.edge_lines
            base.node_radii, base.edge_curves = plan.node_radii, plan.edge_curves
        # The state layer reads the same geometry.
        state.node_rects, state.node_kinds, state.edge_polylines = (
            base.node_rects, base.node_kinds, base.edge_polylines)
        state.node_radii, state.edge_curves = base.node_radii, base.edge_curves
        for ov in (base, state):
            ov.setVisible(not self.detail)
            self.addItem(ov)
        self.overview, self.overview_state = base, state
        shown = self.frame_state
        state.set_state(shown.done, shown.current, shown.active, shown.carried)

    # ----------------------------------------------------------------------------- frames
    def apply_frame(self, frame: Frame | None, call: BackwardCall | None = None) -> None:
        """Show ``frame`` (None: the plain graph). ``call`` adds ``.grad`` before to AccumulateGrad badges.

        Only items whose state differs from the previous frame are touched; the differences
        are set operations (frame_state.py), so a step costs what changed, not the graph's size.
        Items not made yet (a build in progress) take the state when they are made.
        """
        self.frame, self.call = frame, call
        planned = self.plan.node_rects if self.plan is not None else {}
        old, new = self.frame_state, state_of(frame, planned, self._leaf_edges, self._root_ids)
        ov = self.overview
        changed_nodes: list[str] = []
        node = self.node_items.get
        for nid, state in done_changes(old, new):
            item = node(nid)
            if item is not None:
                item.set_state(state)
                changed_nodes.append(nid)
        for nid, state in current_changes(old, new):
            item = node(nid)
            if item is not None:
                item.set_state(state)
            changed_nodes.append(nid)  # the overview rings the current node: repainted, item or not
        # Edges (and their labels) whose state changed.
        changes = edge_changes(old, new, self._label_text)
        self.frame_state = new
        self._edges_changed(changes)
        if ov is not None:
            self.overview_state.set_state(new.done, new.current, new.active, new.carried)
            if not self.detail:
                self._update_overview(changed_nodes, [change[0] for change in changes])
        self._apply_leaf_grads(old.tags, new.tags)
        self._apply_freed(old.freed, new.freed)
        self._apply_badge(frame, call)
        self._apply_banner(frame)

    def _update_overview(self, nodes: list[str], edges: list[EdgeKey]) -> None:
        """Repaint only the parts of the overview that changed."""
        ov = self.overview_state
        plan = self.plan
        if len(nodes) + len(edges) > OVERVIEW_FULL_UPDATE:
            ov.update()  # a jump across the pass: one update beats thousands of small ones
            return
        for nid in nodes:
            rect = ov.node_rects.get(nid)
            if rect is None:
                continue
            # The current node's ring has a fixed size on screen: leave room for it.
            m = max(rect.width(), rect.height()) * 3 + 60
            ov.update(rect.adjusted(-m, -m, m, m))
        for key in edges:
            g = plan.edge_by_key.get(key)
            if g is not None:
                ov.update(g.rect)

    def _edges_changed(self, changes: list[tuple[EdgeKey, int, object]]) -> None:
        """Give each changed edge its state and say what its label should show (value None: no
        value). Labels are updated where they exist or would be seen; the others are made when
        they come into view. A jump across a 5,000-step pass changes thousands of edges at once,
        so this is one loop with the visible anchors found once (by bisection), not a call each.
        """
        plan = self.plan
        if not changes:
            return
        items, want, labels = self.edge_items, self._label_want, self.labels
        by_key = plan.edge_by_key if plan is not None else {}
        parallel, lazy = self.parallel, self.lazy and plan is not None
        seen = self._anchors_in(self._realized) if lazy else None
        sync = []
        for key, state, value in changes:
            item = items.get(key)
            if item is not None:
                item.set_state(state)
            elif key not in by_key:
                continue
            if value is not None:
                want[key] = (value, LABEL_ACTIVE if state == EDGE_ACTIVE else LABEL_QUIET)
            elif key in parallel:
                want[key] = (None, LABEL_INDEX)
            else:
                want.pop(key, None)
            if not lazy or key in labels or key in seen:
                sync.append(key)
        for key in sync:
            self._sync_label(key)

    def _anchors_in(self, rect: QRectF) -> set[EdgeKey]:
        """Edges whose label anchor lies in ``rect``."""
        if rect.isEmpty():
            return set()
        plan = self.plan
        left, right = rect.left(), rect.right()
        lo, hi = bisect_left(plan.label_ys, rect.top()), bisect_right(plan.label_ys, rect.bottom())
        return {key for _y, x, key in plan.label_rows[lo:hi] if left <= x <= right}

    def _label_text_of(self, key: EdgeKey, value) -> str:
        if value is None:
            return f"#{key[2]}"
        cached = self._label_text.get(key)
        if cached is not None and cached[0] is value:
            return cached[1]
        text = compact_value(value)
        if key in self.parallel:
            text = f"#{key[2]}  {text}"
        self._label_text[key] = (value, text)
        return text

    def _sync_label(self, key: EdgeKey) -> None:
        want = self._label_want.get(key)
        label = self.labels.get(key)
        if want is None:
            if label is not None:
                label.set_wanted(False)
            return
        if label is None:
            g = self.plan.edge_by_key[key]
            label = LabelItem(g.anchor, g.align, self.look, g.order, self.label_layer)
            self.labels[key] = label
        label.set_content(self._label_text_of(key, want[0]), want[1])
        label.set_wanted(True)
        if not self.lazy:
            self._grow_scene_rect(label.sceneBoundingRect(), FIT_MARGIN)

    def realize(self, rect: QRectF) -> None:
        """Make the label items of a big graph that fall inside ``rect`` (scene coordinates).

        The view calls this for what it shows, export for what it exports; small graphs get
        all their labels as frames come, so this has nothing left to do there.
        """
        if not self.lazy or rect == self._realized or self.plan is None:
            return  # labels wanted inside the realized rect are made as frames come
        self._realized = QRectF(rect)
        plan = self.plan
        left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
        # Only the anchors inside the rect are looked at (bisection on y): scrolling a
        # 5,000-node graph costs what is on screen, not what is in the graph.
        labels, want = self.labels, self._label_want
        lo, hi = bisect_left(plan.label_ys, top), bisect_right(plan.label_ys, bottom)
        for _y, x, key in plan.label_rows[lo:hi]:
            if left <= x <= right and key in want and key not in labels:
                self._sync_label(key)
        tags, values = self.grad_tags, self.frame_state.tags
        lo, hi = bisect_left(plan.tag_ys, top), bisect_right(plan.tag_ys, bottom)
        for _y, x, nid in plan.tag_rows[lo:hi]:
            if left <= x <= right and nid in values and nid not in tags:
                self._sync_tag(nid)

    def _tag_anchor(self, nid: str) -> tuple[float, float]:
        return self.plan.tag_anchors[nid]

    def _sync_tag(self, nid: str) -> None:
        value = self.frame_state.tags.get(nid)
        tag = self.grad_tags.get(nid)
        if value is None:
            if tag is not None:
                tag.set_wanted(False)
            return
        if tag is None:
            tag = LabelItem(self._tag_anchor(nid), 0, self.look, self.plan.node_order.get(nid, 0), self.label_layer)
            self.grad_tags[nid] = tag
        tag.set_content(f".grad = {compact_value(value)}", LABEL_GRAD)
        tag.set_wanted(True)
        if not self.lazy:
            self._grow_scene_rect(tag.sceneBoundingRect(), FIT_MARGIN)

    def _apply_leaf_grads(self, old: dict[str, object], wanted: dict[str, object]) -> None:
        """Show the ``.grad`` tags ``wanted`` (leaf id -> value) where ``old`` were shown."""
        for nid in old.keys() - wanted.keys():
            self._sync_tag(nid)
        for nid, value in wanted.items():
            if old.get(nid) is value:
                continue
            if not self.lazy or nid in self.grad_tags or self._realized.contains(*self._tag_anchor(nid)):
                self._sync_tag(nid)

    def _apply_freed(self, old: dict[str, frozenset[str]], new: dict[str, frozenset[str]]) -> None:
        """Strike out the saved tensors freed in ``new`` (node id -> names), un-strike those only in ``old``."""
        items = self.node_items
        for nid in old.keys() - new.keys():
            if nid in items:
                items[nid].set_freed(frozenset())
        for nid, names in new.items():
            if nid in items:
                items[nid].set_freed(names)

    _badge_wanted = False
    _obstacles: Obstacles | None = None  # made for the first callout of a plan

    def _apply_badge(self, frame: Frame | None, call: BackwardCall | None) -> None:
        content = None
        if frame is not None and frame.current is not None:
            content = badge_content(self.graph, frame, call, self.parallel)
        box = self.node_rect(frame.current) if content is not None else None
        self._badge_wanted = box is not None
        if box is None:
            if self.badge is not None:
                self.badge.setVisible(False)
            return
        if self.badge is None:
            self.badge = BadgeItem(self.look)
            self.addItem(self.badge)
        title, rows = content
        side = badge_side(box, self._bounds)
        self.badge.set_content(title, rows, box, side)
        if self.plan is not None:
            if self._obstacles is None:
                self._obstacles = Obstacles(self.plan.node_rects, self.plan.edges)
            placed, shift = badge_place(self.badge.card(), box, side, self._obstacles, self._labels_near)
            if shift != (0.0, 0.0) or placed != side:
                self.badge.set_content(title, rows, box, placed, shift)
        self.badge.setVisible(self.detail)
        self._grow_scene_rect(self.badge.sceneBoundingRect(), FIT_MARGIN)

    def _labels_near(self, region: QRectF) -> list[QRectF]:
        """The rects of the edge labels and ``.grad`` tags shown near ``region`` (found by their anchors)."""
        plan, labels, tags = self.plan, self.labels, self.grad_tags
        wide = region.adjusted(-LABEL_REACH, -LABEL_REACH, LABEL_REACH, LABEL_REACH)
        found = [labels[k] for k in self._anchors_in(wide) if k in labels]
        lo, hi = bisect_left(plan.tag_ys, wide.top()), bisect_right(plan.tag_ys, wide.bottom())
        found += [tags[nid] for _y, _x, nid in plan.tag_rows[lo:hi] if nid in tags]
        return [lab.sceneBoundingRect() for lab in found if lab.wanted]

    def _grow_scene_rect(self, rect: QRectF, margin: float) -> None:
        """Make room in the scene rect (the scroll range) for what is drawn near the graph's edge."""
        wanted = rect.adjusted(-margin, -margin, margin, margin)
        if not self.sceneRect().contains(wanted):
            self.setSceneRect(self.sceneRect().united(wanted))

    def node_bounds(self) -> QRectF:
        """The rect around all node boxes (without labels and callouts)."""
        return QRectF(self._bounds)

    def _apply_banner(self, frame: Frame | None) -> None:
        error = frame.error if frame is not None else None
        if error is None:
            if self.banner is not None:
                self.banner.setVisible(False)
            return
        if self.banner is None:
            self.banner = BannerItem(self.look)
            self.addItem(self.banner)
        planned = self.plan.node_rects if self.plan is not None else {}
        anchor, above = banner_anchor(self.graph.roots, planned, self._bounds)
        self.banner.set_content(banner_title(error), error.message, error.hint or "", anchor, above)
        self.banner.setVisible(True)
        self._grow_scene_rect(self.banner.sceneBoundingRect(), FIT_MARGIN)

    # ----------------------------------------------------------------------------- queries
    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def tooltip(self, node_id: str) -> str:
        """Rich text describing a node: full op, shape, dtype, names, line, saved tensors."""
        node = self.graph.by_id.get(node_id)
        if node is None:
            return ""
        return node_tooltip(node, self.node_items[node_id].freed if node_id in self.node_items else frozenset())

    def helpEvent(self, event) -> None:
        item = self.node_at(event.scenePos())
        if item is None:
            QToolTip.hideText()
            event.ignore()
            return
        QToolTip.showText(event.screenPos(), self.tooltip(item.node_id), event.widget())
        event.accept()
