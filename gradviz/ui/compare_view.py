"""Compare mode's panel: two graph canvases side by side, one player driving both, the difference
marks with their legend, and both runs' .grad histories in one plot."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gradviz.core.compare import RunPair
from gradviz.core.replay import Frame, Replay
from gradviz.ui import style
from gradviz.ui.canvas import GraphView
from gradviz.ui.canvas.compare_marks import GRAD, ONLY, MarkItem, add_marks, mark_pen, restyle_marks
from gradviz.ui.compare_plot import CompareHistoryPlot
from gradviz.ui.elided import ElidedLabel
from gradviz.ui.icons import icon
from gradviz.ui.player import Player, PlayerBar


class MarkSwatch(QWidget):
    """A small ring drawn like the canvas marks of ``kind``, for the legend."""

    def __init__(self, kind: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = kind
        self.theme = "light"
        self.setFixedSize(QSize(26, 16))

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(mark_pen(self.theme, self.kind, 2.5))
        painter.drawRoundedRect(QRectF(2, 2, 22, 12), 5, 5)
        painter.end()


class ComparePane(QWidget):
    """One side: its title over its canvas; ``marks`` are the rings on the canvas shown now."""

    def __init__(self, side: str, theme: str, root_at: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.side = side
        self.setObjectName(f"comparePane{side.upper()}")
        self.title = ElidedLabel("", self, min_width=40)
        self.title.setObjectName("compareTitle")
        self.view = GraphView(self, theme=theme, root_at=root_at)
        self.view.setObjectName(f"compareView{side.upper()}")
        self.call = None
        self.replay: Replay | None = None
        self.wanted: dict[str, str] = {}
        self.marks: list[MarkItem] = []
        self._marked_scene = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        self.view.build_finished.connect(self.mark)

    def show_call(self, call, marks: dict[str, str]) -> None:
        self.call = call
        self.wanted = marks
        if call is None:
            self.replay = None
            self.view.clear()
            return
        self.replay = Replay(call)
        self.view.show_graph(call.graph)
        self.mark()

    def mark(self) -> None:
        """Ring the differing nodes on the scene shown (a rebuilt scene, after a font or root change, too)."""
        scene = self.view.scene()
        if scene is self._marked_scene or self.call is None:
            return
        self._marked_scene = scene
        self.marks = add_marks(scene, self.wanted)

    def show_step(self, step: int) -> int:
        if self.replay is None:
            return 0
        frame = self.replay.frame(step)
        self.view.show_frame(frame, self.call)
        return frame.step

    @property
    def step(self) -> int | None:
        frame = self.view.frame
        return frame.step if frame is not None else None

    def set_theme(self, theme: str) -> None:
        self.view.set_theme(theme)
        restyle_marks(self.marks, theme)


class CompareView(QWidget):
    """Two runs side by side, stepped by one player.

    Signals
    -------
    leave_requested()
        The user asked to leave compare mode (the window puts its own panel back).
    pair_shown(object)
        A RunPair is now shown (both canvases, the marks, the plot).
    """

    leave_requested = Signal()
    pair_shown = Signal(object)

    def __init__(self, theme: str = "light", root_at: str = "top", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("compareView")
        self.theme = theme
        self.pair: RunPair | None = None
        self.heading = QLabel(self.tr("Compare"), self)
        self.heading.setObjectName("graphTitle")
        self.swatches = {ONLY: MarkSwatch(ONLY, self), GRAD: MarkSwatch(GRAD, self)}
        self.legend_only = QLabel(self.tr("node only one run has"), self)
        self.legend_grad = QLabel(self.tr(".grad differs"), self)
        self.summary = ElidedLabel("", self, min_width=40)
        self.summary.setObjectName("compareSummary")
        self.leave_button = QPushButton(self.tr("Leave Compare"), self)
        self.leave_button.setObjectName("leaveCompare")
        self.leave_button.clicked.connect(self.leave_requested)
        header = QHBoxLayout()
        header.setContentsMargins(12, 6, 8, 6)
        header.setSpacing(8)
        header.addWidget(self.heading)
        header.addWidget(self.swatches[ONLY])
        header.addWidget(self.legend_only)
        header.addSpacing(8)
        header.addWidget(self.swatches[GRAD])
        header.addWidget(self.legend_grad)
        header.addStretch(1)
        header.addWidget(self.leave_button)
        summary_row = QHBoxLayout()
        summary_row.setContentsMargins(12, 0, 8, 4)
        summary_row.addWidget(self.summary, 1)

        self.panes = {"a": ComparePane("a", theme, root_at, self), "b": ComparePane("b", theme, root_at, self)}
        sides = QSplitter(Qt.Orientation.Horizontal, self)
        sides.setChildrenCollapsible(False)
        sides.addWidget(self.panes["a"])
        sides.addWidget(self.panes["b"])
        self.plot = CompareHistoryPlot(self)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.setChildrenCollapsible(False)
        split.addWidget(sides)
        split.addWidget(self.plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([560, 200])
        self.splitter = split

        # One player over the longer of the two calls; each step shows the paired frame of both.
        self.player = Player(self)
        self.player_bar = PlayerBar(self.player, self)
        self.actions = {}
        for name, text, slot in (("first", self.tr("To Start"), self.player.to_start),
                                 ("step-back", self.tr("Step Back"), self.player.step_back),
                                 ("play", self.tr("Play"), self.player.toggle),
                                 ("step-forward", self.tr("Step Forward"), self.player.step_forward),
                                 ("last", self.tr("To End"), self.player.to_end)):
            action = QAction(text, self)
            action.setObjectName(name)
            action.setToolTip(text)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            self.actions[name] = action
        self.player_bar.bind_actions(list(self.actions.values()))
        self.player.frame_changed.connect(self._frame_changed)
        self.player.playing_changed.connect(self._playing_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addLayout(summary_row)
        layout.addWidget(split, 1)
        layout.addWidget(self.player_bar)
        self.set_theme(theme)

    # -- showing ---------------------------------------------------------------------------------
    def show_running(self, title_a: str, title_b: str) -> None:
        """Both titles, and a word that the programs run (the canvases fill in when they have)."""
        self.panes["a"].title.setText(title_a)
        self.panes["b"].title.setText(title_b)
        self.summary.setText(self.tr("Running both programs…"))

    def show_pair(self, pair: RunPair, failures: list[str] | None = None) -> None:
        """Show ``pair``: both graphs with their marks, the plot, the player at the end of both passes."""
        self.pair = pair
        c = pair.comparison
        self.panes["a"].title.setText(pair.title_a)
        self.panes["b"].title.setText(pair.title_b)
        self.panes["a"].show_call(pair.backward_a(), c.differing_nodes("a") if c else {})
        self.panes["b"].show_call(pair.backward_b(), c.differing_nodes("b") if c else {})
        self.plot.set_histories(*pair.histories, pair.title_a, pair.title_b)
        self.summary.setText(self._summary(pair, failures or []))
        longer = None
        if c is not None:
            longer = pair.backward_b() if c.steps_b > c.steps_a else pair.backward_a()
        self.player.set_calls([longer] if longer is not None else [])
        self.pair_shown.emit(pair)

    def _summary(self, pair: RunPair, failures: list[str]) -> str:
        c = pair.comparison
        parts = list(failures)
        if c is None:
            parts.append(self.tr("One run made no backward call: nothing to compare"))
        elif c.identical:
            parts.append(self.tr("No differences: the same nodes and the same .grad values"))
        else:
            if c.only_a or c.only_b:
                parts.append(self.tr("{a} node(s) only in A, {b} only in B").format(a=len(c.only_a), b=len(c.only_b)))
            for g in c.grads[:3]:
                if g.max_abs is not None:
                    parts.append(self.tr("{name}.grad differs by up to {diff:.4g}").format(name=g.name, diff=g.max_abs))
                else:
                    parts.append(self.tr("{name}.grad differs").format(name=g.name))
        return " · ".join(parts)

    def _frame_changed(self, frame: Frame | None) -> None:
        c = self.pair.comparison if self.pair is not None else None
        if frame is None or c is None:
            return
        step_a, step_b = c.pair(frame.step)
        self.panes["a"].show_step(step_a)
        self.panes["b"].show_step(step_b)

    def _playing_changed(self, playing: bool) -> None:
        self.actions["play"].setText(self.tr("Pause") if playing else self.tr("Play"))
        self.actions["play"].setToolTip(self.actions["play"].text())
        self._icons()

    def _icons(self) -> None:
        colors = style.theme_colors(self.theme)
        for name, action in self.actions.items():
            shown = "pause" if name == "play" and self.player.is_playing else name
            action.setIcon(icon(shown, colors["text"], colors["faint"]))

    def steps(self) -> tuple[int | None, int | None]:
        """The frame each canvas shows (for tests and the status bar)."""
        return self.panes["a"].step, self.panes["b"].step

    def set_font_scale(self, scale: float) -> None:
        """Presentation mode: both canvases with larger fonts (laid out again, marks made again)."""
        for pane in self.panes.values():
            pane.view.set_font_scale(scale)

    def set_root_at(self, where: str) -> None:
        """Root at the top or the bottom of both canvases (laid out again, marks made again)."""
        for pane in self.panes.values():
            pane.view.set_root_at(where)

    def set_theme(self, theme: str) -> None:
        self.theme = theme
        for pane in self.panes.values():
            pane.set_theme(theme)
        for swatch in self.swatches.values():
            swatch.theme = theme
            swatch.update()
        self.plot.set_theme(theme)
        self._icons()

    def stop(self) -> None:
        self.player.pause()
