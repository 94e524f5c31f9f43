"""The gradients panel (leaves and parameters with their .grad) and the .grad history plot, in pyqtgraph."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gradviz.core.replay import Frame
from gradviz.core.result import BACKWARD, SET, SET_NONE, ZEROED, LeafHistory, RunResult, TensorValue
from gradviz.ui.elided import ElidedLabel
from gradviz.ui.numbers import format_block, format_number, format_shape, format_value, nice_step, norm

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

#: Tensors with at most this many elements are shown as numbers; larger matrices as a heatmap.
NUMBERS_MAX = 16
#: At most this many leaves are plotted at once (the ones with the largest gradients).
MAX_SERIES = 8
#: Heatmaps with at most this many cells show each value in its cell, when the cells are at
#: least this wide and high on screen (pixels, before the font scale): a 64-vector is a strip of
#: 5-pixel cells in a narrow dock, where 64 labels would be unreadable and slow every step.
CELL_LABELS_MAX = 64
CELL_LABEL_MIN_PX = (30, 14)
#: The part of the heatmap widget that is not cells (axes, colour bar, margins), in pixels before
#: the font scale, until it has been measured once on screen.
HEAT_FRAME_PX = (80, 40)
#: Tables with more rows than this size their name and shape columns once, not on every change.
MEASURE_ONCE_ROWS = 200
#: When more rows than this change at once (a jump across a call), only the rows in view are
#: written now, the others as they scroll into view.
FORMAT_AT_ONCE_ROWS = 48
#: Leaves with at most this many elements can plot each element's history.
ELEMENTS_MAX = 12
#: Lines the history legend may take; entries beyond are counted ("+3 more") and in its tooltip.
LEGEND_LINES = 2

SERIES_COLORS = ("#0969da", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#0598bc", "#cf4fa0", "#57606a")
SERIES_COLORS_DARK = ("#58a6ff", "#ff7b72", "#3fb950", "#d2a8ff", "#e3b341", "#39c5cf", "#f778ba", "#8b949e")

THEMES = {
    "light": {"bg": "#ffffff", "fg": "#24292f", "grid": 0.25, "muted": "#8c959f", "zero": "#bf8700", "none": "#cf222e",
              "current": "#0969da22"},
    "dark": {"bg": "#1e2127", "fg": "#d7dae0", "grid": 0.2, "muted": "#7f848e", "zero": "#e3b341", "none": "#ff7b72",
             "current": "#58a6ff30"},
}


@dataclass(frozen=True)
class HistoryPoint:
    """One change of a leaf's .grad placed on the history plot's x axis.

    Backward call k (0-based) sits at x = k + 1; a zeroing or set-to-None sits half a call
    before the leaf's next backward call (other leaves' calls may run in between), or half a
    call after its last one. ``y`` is the plotted number (the norm, or one element);
    a ``.grad`` of None plots as 0, since the next backward starts from nothing.
    """

    x: float
    y: float
    kind: str
    line: int
    call: int | None
    value: TensorValue | None


def history_points(history: LeafHistory, element: int | None = None) -> list[HistoryPoint]:
    """The points of one leaf's history: its norm, or element ``element`` (flat index)."""
    points: list[HistoryPoint] = []
    events = history.events
    last_call = -1
    between = 0
    for i, ev in enumerate(events):
        if ev.kind == BACKWARD:
            last_call = ev.call if ev.call is not None else last_call + 1
            x = last_call + 1.0
            between = 0
        else:
            # Other leaves' backward calls may run in between: place a reset just before this
            # leaf's next backward call (x = call + 0.5), or after its last one.
            nxt = next((e.call for e in events[i + 1:] if e.kind == BACKWARD and e.call is not None), None)
            base = nxt + 0.5 if nxt is not None else last_call + 1.5
            x = base + 0.12 * between - (0.12 * _resets_before_next(events, i) if nxt is not None else 0.0)
            between += 1
        points.append(HistoryPoint(x, _y(ev.value, element), ev.kind, ev.line, ev.call, ev.value))
    return points


def _peak_norm(history: LeafHistory) -> float:
    values = [norm(e.value) for e in history.events if e.value is not None]
    return max((v for v in values if v is not None and math.isfinite(v)), default=0.0)


def calls_total(histories) -> int:
    """Backward calls seen in these histories (the highest call index + 1)."""
    return max((e.call for h in histories for e in h.events if e.call is not None), default=-1) + 1


def _resets_before_next(events, i: int) -> int:
    """How many non-backward events follow event ``i`` before the next backward one."""
    n = 0
    for e in events[i + 1:]:
        if e.kind == BACKWARD:
            break
        n += 1
    return n


def _y(value: TensorValue | None, element: int | None) -> float:
    if value is None:
        return 0.0
    if element is None:
        n = norm(value)
        return n if n is not None and math.isfinite(n) else float("nan")
    flat = value.flat()
    return flat[element] if element < len(flat) else float("nan")


def leaf_rows(result: RunResult) -> list[tuple[str, tuple[int, ...], TensorValue | None, str | None, bool]]:
    """(name, shape, grad, node_id, is_param) for every leaf tensor that requires grad and every parameter."""
    rows = []
    nodes = set()
    for v in result.variables:
        if v.is_param or (v.is_leaf and v.requires_grad):
            if v.node_id is not None:
                if (v.graph_call, v.node_id) in nodes:
                    continue  # another name for a tensor listed already (z = x): one row per tensor
                nodes.add((v.graph_call, v.node_id))
            rows.append((v.name, v.shape, v.grad, v.node_id, v.is_param))
    known = {r[0] for r in rows}
    # Leaves that only appear in the history (bound inside a function, or deleted) still count.
    for h in result.grad_history:
        if h.name not in known:
            last = h.events[-1].value if h.events else None
            rows.append((h.name, h.shape, last, None, False))
            known.add(h.name)
    return rows


def _mono_font(scale: float = 1.0) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(7.0, font.pointSizeF() * scale))
    return font


class _LeafTable(QTreeWidget):
    """The leaves table, asking for a few rows' height: the heatmap below needs the room more."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), self.fontMetrics().height() * 7)


class GradsPanel(QWidget):
    """Every leaf and parameter with its ``.grad`` at the current animation step.

    The table lists them; the selected one is shown whole below: numbers for small tensors,
    a heatmap (pyqtgraph ImageItem) for matrices and long vectors.

    Signals
    -------
    leaf_selected(str)
        A row was selected (the leaf's name).
    """

    leaf_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gradsPanel")
        self._theme = "light"
        self._rows: dict[str, QTreeWidgetItem] = {}
        self._node_of: dict[str, str | None] = {}
        self._final: dict[str, TensorValue | None] = {}
        self._shown: dict[str, TensorValue | None] = {}
        self._changed: set[str] = set()
        self._stale: set[str] = set()  # rows whose .grad text waits until they are in view
        self._cell_labels: list = []  # the value labels shown in the heatmap's cells
        self._label_pool: list = []  # every label item made so far (reused, hidden when not needed)
        self._heat_matrix: tuple[np.ndarray, float] | None = None  # what the heatmap shows, and its top
        self._font_scale = 1.0
        self.table = _LeafTable(self)
        self.table.setObjectName("gradsTable")
        self.table.setColumnCount(3)
        self.table.setHeaderLabels([translate("GradsPanel", "Leaf / parameter"), translate("GradsPanel", "Shape"),
                                    ".grad"])
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.currentItemChanged.connect(self._current_changed)
        self.table.verticalScrollBar().valueChanged.connect(lambda _v: self._write_stale_rows())
        self.table.viewport().installEventFilter(self)

        self.title = ElidedLabel("", self)
        self.title.setObjectName("gradTitle")
        self.numbers = QLabel("", self)
        self.numbers.setObjectName("gradNumbers")
        self.numbers.setFont(_mono_font(1.05))
        self.numbers.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.numbers.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.numbers.setWordWrap(True)
        # In a short dock the numbers scroll rather than lose their last rows.
        self.numbers_view = QScrollArea(self)
        self.numbers_view.setObjectName("gradNumbersView")
        self.numbers_view.setFrameShape(QFrame.Shape.NoFrame)
        self.numbers_view.setWidgetResizable(True)
        self.numbers_view.setWidget(self.numbers)
        self._heat_frame: tuple[float, float] | None = None  # measured (width, height) around the cells
        self._heat_ticks: dict = {}  # what the axes' and colour bar's ticks were last set for
        self.heatmap = pg.GraphicsLayoutWidget(self)
        self.heatmap.setObjectName("gradHeatmap")
        self._heat_plot = self.heatmap.addPlot()
        self._heat_plot.invertY(True)
        self._heat_plot.setAspectLocked(False)
        self._heat_plot.hideButtons()
        self._heat_plot.setMenuEnabled(False)
        # Fitted to the matrix, not zoomable: with no reset button a wheel zoom would stay, and
        # the range is only fitted again when the shape changes (see _show_detail).
        self._heat_plot.setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        # Cells get their values once they are big enough on screen (the dock grew, or was shown).
        self._heat_plot.getViewBox().sigResized.connect(self._relabel_cells)
        self._heat_plot.addItem(self.image)
        self._colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("CET-D1"), interactive=False, width=12)
        self._colorbar.setImageItem(self.image, insert_in=self._heat_plot)
        self.empty = QLabel(translate("GradsPanel", "Run a program to see each leaf's .grad"), self)
        self.empty.setObjectName("emptyLabel")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.detail = QStackedWidget(self)
        self.detail.addWidget(self.empty)
        self.detail.addWidget(self.numbers_view)
        self.detail.addWidget(self.heatmap)
        self.detail.installEventFilter(self)

        below = QWidget(self)
        below_layout = QVBoxLayout(below)
        below_layout.setContentsMargins(8, 6, 8, 6)
        below_layout.addWidget(self.title)
        below_layout.addWidget(self.detail, 1)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(below)
        # The detail below gets the larger share: a matrix needs the height, a few rows do not.
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.set_theme("light")

    # -- data ----------------------------------------------------------------------------------

    def set_result(self, result: RunResult | None) -> None:
        """Show the leaves of a run with their final ``.grad``."""
        selected = self.selected_leaf()
        self.table.clear()
        self._rows.clear()
        self._node_of.clear()
        self._final.clear()
        self._shown.clear()
        self._changed.clear()
        self._stale.clear()
        font = _mono_font(0.95 * self._font_scale)
        items = []
        for name, shape, grad, node_id, is_param in (leaf_rows(result) if result else []):
            item = QTreeWidgetItem([name, format_shape(shape), format_value(grad, 60)])
            item.setData(0, Qt.ItemDataRole.UserRole, name)
            item.setToolTip(0, "nn.Parameter" if is_param else translate("GradsPanel",
                                                                         "leaf tensor (requires_grad=True)"))
            item.setFont(2, font)
            items.append(item)
            self._rows[name] = item
            self._node_of[name] = node_id
            self._final[name] = grad
            self._shown[name] = grad
        # Columns sized to their contents re-measure every row whenever a row changes (a bold
        # name while the animation plays): with many rows they are measured once, here.
        header = self.table.header()
        modes = QHeaderView.ResizeMode
        mode = modes.Interactive if len(items) > MEASURE_ONCE_ROWS else modes.ResizeToContents
        for column in (0, 1):
            header.setSectionResizeMode(column, mode)
        self.table.addTopLevelItems(items)  # one model insertion for a thousand parameters
        if mode == QHeaderView.ResizeMode.Interactive:
            for column in (0, 1):
                self.table.resizeColumnToContents(column)
        self._paint_rows()
        if self._rows:
            self.select_leaf(selected if selected in self._rows else next(iter(self._rows)))
        else:
            self.title.setText("")
            self.detail.setCurrentWidget(self.empty)

    def set_frame(self, frame: Frame | None, leaf_names: dict[str, str] | None = None, follow: bool = False) -> None:
        """Show ``.grad`` as it is at an animation frame; ``leaf_names`` maps node ids to leaf names.

        Leaves the replayed call does not touch keep their final value. ``follow``: select the
        leaf whose .grad the frame's current node writes (the detail below is drawn once).
        """
        shown = dict(self._final)
        changed: set[str] = set()
        if frame is not None and leaf_names:
            for node_id, value in frame.leaf_grads.items():
                name = leaf_names.get(node_id)
                if name in self._rows:
                    shown[name] = value
            if frame.current is not None and frame.current in leaf_names:
                changed.add(leaf_names[frame.current])
        # Values are shared objects: identity tells which rows changed (1,000 parameters
        # must not be re-formatted on every animation step, nor all on a jump).
        differ = [name for name in self._rows if shown[name] is not self._shown.get(name)]
        self._shown = shown
        if len(differ) + len(self._stale) <= FORMAT_AT_ONCE_ROWS:
            for name in self._stale.union(differ):
                self._write_row(name)
            self._stale.clear()
        else:
            self._stale.update(differ)
            self._write_stale_rows()
        selected = self.selected_leaf()
        target = leaf_names.get(frame.current) if follow and frame is not None and leaf_names else None
        if target in self._rows and target != selected:
            self.table.blockSignals(True)  # one detail drawing below, not one per change
            self.table.setCurrentItem(self._rows[target])
            self.table.blockSignals(False)
            self._show_detail()
            self.leaf_selected.emit(target)
        elif selected in differ:
            self._show_detail()
        repaint = changed | self._changed
        self._changed = changed
        self._paint_rows(repaint)

    def _write_stale_rows(self) -> None:
        """Write the .grad text of the stale rows in view (and of the selected one)."""
        if not self._stale:
            return
        table = self.table
        viewport = table.viewport().rect()
        first = table.indexAt(viewport.topLeft()).row()
        last = table.indexAt(viewport.bottomLeft()).row()
        if first < 0:
            first = 0
        if last < 0:
            last = table.topLevelItemCount() - 1
        names = [table.topLevelItem(row).data(0, Qt.ItemDataRole.UserRole) for row in range(first, last + 1)]
        selected = self.selected_leaf()
        for name in names + ([selected] if selected else []):
            if name in self._stale:
                self._stale.discard(name)
                self._write_row(name)

    def _write_row(self, name: str) -> None:
        self._rows[name].setText(2, format_value(self._shown[name], 60))

    def eventFilter(self, watched, event) -> bool:
        if watched is self.detail:
            # The detail area grew or shrank: a small matrix may now read better the other way.
            if event.type() in (QEvent.Type.Resize, QEvent.Type.Show) and self._heat_matrix is not None:
                name = self.selected_leaf()
                value = self._shown.get(name) if name is not None else None
                matrix = self._as_matrix(value) if value is not None else None
                if matrix is not None and self._heat_fits(matrix.shape) != self.is_heatmap_shown():
                    self._show_detail()
            return False
        # The table's viewport grew (splitter, dock) or was shown: more rows may be in view.
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show) and self._stale:
            self._write_stale_rows()
        return False

    def grad_text(self, name: str) -> str:
        """The ``.grad`` column of a leaf as shown now (for tests and the status bar)."""
        item = self._rows.get(name)
        if item is not None and name in self._stale:
            self._stale.discard(name)
            self._write_row(name)
        return item.text(2) if item else ""

    def shown_value(self, name: str) -> TensorValue | None:
        return self._shown.get(name)

    def leaf_names(self) -> list[str]:
        return list(self._rows)

    def selected_leaf(self) -> str | None:
        item = self.table.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item else None

    def select_leaf(self, name: str) -> None:
        item = self._rows.get(name)
        if item is not None:
            self.table.setCurrentItem(item)

    def select_node(self, node_id: str | None) -> None:
        """Select the leaf whose graph node is ``node_id`` (clicked on the canvas)."""
        for name, nid in self._node_of.items():
            if nid is not None and nid == node_id:
                self.select_leaf(name)
                return

    def _current_changed(self, current, _previous) -> None:
        self._show_detail()
        if current is not None:
            self.leaf_selected.emit(current.data(0, Qt.ItemDataRole.UserRole))

    def _show_detail(self) -> None:
        name = self.selected_leaf()
        if name is None:
            self.detail.setCurrentWidget(self.empty)
            return
        value = self._shown.get(name)
        if value is None:
            self.title.setText(f"{name}.grad")
            self.numbers.setText("None\n\n" + translate("GradsPanel", "No backward pass has written it yet,\n"
                                                          "or zero_grad() set it back to None."))
            self.detail.setCurrentWidget(self.numbers_view)
            return
        size = format_number(norm(value) or 0.0, 4)
        self.title.setText(f"{name}.grad  ·  {format_shape(value.shape)}  ·  ‖·‖ = {size}")
        matrix = self._as_matrix(value)
        if matrix is not None:
            self._heat_matrix = (matrix, 1.0)  # until drawn: lets a resize decide again
        if matrix is None or not self._heat_fits(matrix.shape):
            self.numbers.setText(format_block(value))
            self.detail.setCurrentWidget(self.numbers_view)
        else:
            finite = matrix[np.isfinite(matrix)]
            top = float(np.abs(finite).max()) if finite.size else 1.0
            top = top or 1.0
            self.detail.setCurrentWidget(self.heatmap)
            self.image.setImage(matrix, levels=(-top, top))
            self._heat_matrix = (matrix, top)
            self._colorbar.setLevels((-top, top))
            self._fit_heat_labels()

    @staticmethod
    def _as_matrix(value: TensorValue) -> np.ndarray | None:
        """A 2-D array for the heatmap, or None when numbers read better (small or not whole)."""
        if value.data is None or len(value.shape) == 0 or value.numel == 0:
            return None
        # A real matrix (both sides ≥ 2) reads best as a heatmap; vectors and (n, 1)
        # columns read best as numbers until they get long.
        matrix = len(value.shape) >= 2 and value.shape[-1] >= 2 and value.numel // value.shape[-1] >= 2
        if value.numel <= NUMBERS_MAX and not matrix:
            return None
        arr = np.array(value.flat(), dtype=float)
        if len(value.shape) == 1:
            return arr.reshape(1, -1)
        return arr.reshape(-1, value.shape[-1])

    def _label_cells(self, matrix: np.ndarray, top: float) -> None:
        """Write each value in its cell when the matrix is small enough to read them.

        The text items are kept and reused (hidden when not needed): while the animation plays,
        the selected leaf changes every few steps, and making the items again is slow.
        """
        labels = self._label_pool
        count = matrix.size if matrix.size <= CELL_LABELS_MAX and self._cells_readable(matrix.shape) else 0
        for label in labels[count:]:
            label.hide()
        self._cell_labels = labels[:count]
        if not count:
            return
        font = _mono_font(0.85 * self._font_scale)
        for k, ((r, c), v) in enumerate(np.ndenumerate(matrix)):
            dark_cell = np.isfinite(v) and abs(v) > 0.55 * top
            color = "#ffffff" if dark_cell else "#1c2230"
            text = format_number(float(v), 3)
            if k < len(labels):
                label = labels[k]
                if label.textItem.toPlainText() != text or label.color != pg.mkColor(color):
                    label.setText(text, color=color)
            else:
                label = pg.TextItem(text, anchor=(0.5, 0.5), color=color)
                self._heat_plot.addItem(label)
                labels.append(label)
                self._cell_labels.append(label)
            if label.textItem.font() != font:
                label.setFont(font)
            label.setPos(c + 0.5, r + 0.5)
            label.show()

    def _relabel_cells(self, *_args) -> None:
        # The view box was just laid out: what surrounds it (axes, colour bar) is measured here,
        # where its geometry is current (it lags the widget's until the scene lays it out).
        box = self._heat_plot.getViewBox().sceneBoundingRect()
        frame = (self.heatmap.width() - box.width(), self.heatmap.height() - box.height())
        if self.is_heatmap_shown() and box.width() > 1 and min(frame) >= 0:
            self._heat_frame = frame
        if self._heat_matrix is not None and self.is_heatmap_shown():
            self._fit_heat_labels()

    def _fit_heat_labels(self) -> None:
        """Values in the cells, and axis and colour-bar labels spaced so none overlap."""
        matrix, top = self._heat_matrix
        self._label_cells(matrix, top)
        rows, cols = matrix.shape
        width, height = self._cell_area()
        metrics = self.fontMetrics()
        line = metrics.height() * 1.15
        every_row = nice_step(line / max(height / rows, 1e-6))
        every_col = nice_step((metrics.horizontalAdvance(str(cols - 1)) + line) / max(width / cols, 1e-6))
        # The colour bar as tall as the cells: its ends and zero when three labels fit, else its ends.
        bar = [(-top, format_number(-top, 2)), (0.0, "0"), (top, format_number(top, 2))]
        if height < 3 * line:
            bar = [bar[0], bar[2]] if height >= 2 * line else []
        # Each only when it changes: a change makes the axes lay themselves out again (on every
        # step that follows a leaf, where only the colour bar's numbers move).
        done = self._heat_ticks
        if done.get("axes") != (matrix.shape, every_row, every_col):
            done["axes"] = (matrix.shape, every_row, every_col)
            self._heat_plot.getViewBox().setRange(xRange=(0, cols), yRange=(0, rows), padding=0.02)
            self._heat_plot.getAxis("bottom").setTicks([[(c + 0.5, str(c)) for c in range(0, cols, every_col)]])
            self._heat_plot.getAxis("left").setTicks([[(r + 0.5, str(r)) for r in range(0, rows, every_row)]])
        if done.get("bar") != bar:
            done["bar"] = bar
            self._colorbar.axis.setTicks([bar])
        # The bar's width follows its labels (its axis would keep the room of the widest ever shown).
        width_px = max((metrics.horizontalAdvance(t) for _v, t in bar), default=0) + 12
        if done.get("width") != width_px:
            done["width"] = width_px
            self._colorbar.axis.setWidth(width_px)

    def _cell_area(self) -> tuple[float, float]:
        """The on-screen size the heatmap's cells share: the detail area less the axes and colour bar."""
        frame = self._heat_frame or tuple(v * self._font_scale for v in HEAT_FRAME_PX)
        return max(0.0, self.detail.width() - frame[0]), max(0.0, self.detail.height() - frame[1])

    def _cells_readable(self, shape: tuple[int, int]) -> bool:
        """Whether cells of a ``shape`` heatmap are big enough on screen to hold their value."""
        width, height = self._cell_area()
        min_w, min_h = (v * self._font_scale for v in CELL_LABEL_MIN_PX)
        return width / shape[1] >= min_w and height / shape[0] >= min_h

    def _heat_fits(self, shape: tuple[int, int]) -> bool:
        """Whether a matrix reads as a heatmap here: a small one only when its values fit in its
        cells (otherwise its numbers, which scroll, say more than thin stripes); a large one
        and a long vector always."""
        if shape[0] * shape[1] > CELL_LABELS_MAX or min(shape) < 2 or not self.detail.isVisible():
            return True  # a picture, a strip (numbers are not shorter), or decided again when shown
        return self._cells_readable(shape)

    def is_heatmap_shown(self) -> bool:
        return self.detail.currentWidget() is self.heatmap

    # -- look ----------------------------------------------------------------------------------

    def set_theme(self, theme: str) -> None:
        self._theme = theme if theme in THEMES else "light"
        t = THEMES[self._theme]
        self.heatmap.setBackground(t["bg"])
        for axis in ("left", "bottom"):
            ax = self._heat_plot.getAxis(axis)
            ax.setPen(pg.mkPen(t["muted"]))
            ax.setTextPen(pg.mkPen(t["fg"]))
        self._colorbar.axis.setPen(pg.mkPen(t["muted"]))
        self._colorbar.axis.setTextPen(pg.mkPen(t["fg"]))
        self._paint_rows()

    def set_font_scale(self, scale: float) -> None:
        """Presentation mode: the numbers grow with the rest of the UI."""
        self._font_scale = scale
        self.numbers.setFont(_mono_font(1.05 * scale))
        for item in self._rows.values():
            item.setFont(2, _mono_font(0.95 * scale))
        self._show_detail()

    def _paint_rows(self, names=None) -> None:
        muted = QColor(THEMES[self._theme]["muted"])
        accent = QColor(SERIES_COLORS[0] if self._theme == "light" else SERIES_COLORS_DARK[0])
        text = self.palette().text().color()
        for name in (self._rows if names is None else names):
            item = self._rows.get(name)
            if item is None:
                continue
            value = self._shown.get(name)
            # Each change re-measures the resize-to-contents columns over every row (about
            # slow with a thousand parameters): only what differs is set.
            font = item.font(0)
            if font.bold() != (name in self._changed):
                bold = QFont(font)
                bold.setBold(name in self._changed)
                item.setFont(0, bold)
            color = accent if name in self._changed else (muted if value is None else text)
            if item.foreground(2).color() != color:
                item.setForeground(2, color)


class HistoryPlot(QWidget):
    """Each leaf's ``.grad`` across backward calls, with zeroing and set-to-None marked.

    Without ``zero_grad`` the norm climbs call after call; with it, it resets. Vertical dashed
    lines mark where ``.grad`` was zeroed (amber) or set to None (red); the replayed call is
    shaded.
    """

    MODES = ("norm", "elements")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("historyPlot")
        self._theme = "light"
        self._histories: tuple[LeafHistory, ...] = ()
        self._current_call: int | None = None
        self._region = None
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.markers: list[tuple[float, str]] = []
        self.mode = QComboBox(self)
        self.mode.setObjectName("historyMode")
        self.mode.addItem(translate("HistoryPlot", "‖.grad‖ (norm)"), "norm")
        self.mode.addItem(translate("HistoryPlot", "each element"), "elements")
        self.mode.setToolTip(translate("HistoryPlot",
                                       "Plot the norm of each .grad, or every element of one small leaf"))
        self.leaf = QComboBox(self)
        self.leaf.setObjectName("historyLeaf")
        self.leaf.setToolTip(translate("HistoryPlot", "Which leaves to plot"))
        self.caption = ElidedLabel("", self)
        self.caption.setObjectName("historyCaption")
        self.plot = pg.PlotWidget(self)
        self.plot.setObjectName("historyPlotWidget")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", translate("HistoryPlot", "backward call"))
        self.plot.setLabel("left", "‖.grad‖")
        self.plot.getAxis("bottom").setTickSpacing(1, 1)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        # The legend is a label above the plot: inside the plot it would cover data points.
        # Whole entries fill at most LEGEND_LINES lines of its width (see _fit_legend): in a
        # narrow dock a wrapped legend took the plot's room and broke names in two.
        self.legend_label = QLabel("", self)
        self.legend_label.setObjectName("historyLegend")
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setMinimumWidth(1)
        self.legend_label.installEventFilter(self)
        self.legend_entries: list[tuple[str, str, str]] = []  # (colour, mark, text)
        self.empty = QLabel(translate("HistoryPlot",
                                      "No .grad history yet: the plot fills in when a program calls backward()"),
                            self)
        self.empty.setObjectName("emptyLabel")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.plot)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 0)
        bar.addWidget(self.caption, 1)
        bar.addWidget(self.leaf)
        bar.addWidget(self.mode)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        legend_row = QHBoxLayout()
        legend_row.setContentsMargins(10, 0, 8, 0)
        legend_row.addWidget(self.legend_label, 1)
        layout.addLayout(legend_row)
        layout.addWidget(self.stack, 1)
        self.leaf.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.mode.currentIndexChanged.connect(lambda _i: self._redraw())
        self.leaf.currentIndexChanged.connect(lambda _i: self._redraw())
        self.set_theme("light")

    def set_histories(self, histories: tuple[LeafHistory, ...] | list[LeafHistory]) -> None:
        self._histories = tuple(h for h in histories if h.events)
        current = self.leaf.currentData()
        self.leaf.blockSignals(True)
        self.leaf.clear()
        self.leaf.addItem(translate("HistoryPlot", "all leaves"), None)
        for h in self._histories:
            self.leaf.addItem(h.name, h.name)
        i = self.leaf.findData(current)
        self.leaf.setCurrentIndex(max(0, i))
        self.leaf.blockSignals(False)
        self.leaf.setVisible(len(self._histories) > 1)
        self._redraw()

    def set_current_call(self, index: int | None) -> None:
        """Shade backward call ``index`` (the one being replayed); moves the shade, no redraw."""
        if index == self._current_call:
            return
        self._current_call = index
        if self._region is None:
            return
        if index is None:
            self._region.hide()
        else:
            self._region.setRegion((index + 1 - 0.2, index + 1 + 0.2))
            self._region.show()

    def set_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(self.MODES.index(mode))

    def set_leaf(self, name: str | None) -> None:
        i = self.leaf.findData(name)
        if i >= 0:
            self.leaf.setCurrentIndex(i)

    def curve_data(self, name: str) -> tuple[list[float], list[float]]:
        """The plotted (x, y) of one series (a leaf name, or ``x[i]`` in element mode)."""
        curve = self.curves[name]
        xs, ys = curve.getData()
        return [float(v) for v in xs], [float(v) for v in ys]

    def _selected(self) -> list[LeafHistory]:
        name = self.leaf.currentData()
        return [h for h in self._histories if name is None or h.name == name]

    def _redraw(self) -> None:
        t = THEMES[self._theme]
        colors = SERIES_COLORS if self._theme == "light" else SERIES_COLORS_DARK
        self.plot.clear()
        self._region = None
        self.curves = {}
        legend: list[tuple[str, str, str]] = []
        self.legend_entries = legend
        self.markers = []
        histories = self._selected()
        if not histories:
            self.stack.setCurrentWidget(self.empty)
            self.caption.setText("")
            self._fit_legend()
            return
        self.stack.setCurrentWidget(self.plot)
        mode = self.mode.currentData()
        series: list[tuple[str, list[HistoryPoint]]] = []
        small = len(histories) == 1 and 0 < math.prod(histories[0].shape) <= ELEMENTS_MAX
        self.mode.setEnabled(small or mode == "elements")
        if mode == "elements" and small:
            h = histories[0]
            n = math.prod(h.shape)
            for i in range(n):
                series.append((f"{h.name}[{_index(i, h.shape)}]", history_points(h, i)))
            self.plot.setLabel("left", translate("HistoryPlot", "{name}.grad elements").format(name=h.name))
        else:
            shown = histories
            if len(histories) > MAX_SERIES:
                # A thousand lines read as noise (and cost seconds): the largest few carry the story.
                shown = sorted(histories, key=_peak_norm, reverse=True)[:MAX_SERIES]
            for h in shown:
                series.append((h.name, history_points(h)))
            self.plot.setLabel("left", "‖.grad‖")
        xs_all = []
        for k, (name, points) in enumerate(series):
            color = colors[k % len(colors)]
            xs = [p.x for p in points]
            ys = [p.y for p in points]
            xs_all.extend(xs)
            # One symbol for the legend's sake (pyqtgraph's legend crashes on per-point symbol
            # lists); zeroing and set-to-None get their own markers drawn on top.
            curve = self.plot.plot(xs, ys, pen=pg.mkPen(color, width=2.2), symbol="o", symbolSize=8,
                                   symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen(t["bg"], width=1.2))
            legend.append((color, "━●", name))
            special = [p for p in points if p.kind != BACKWARD]
            if special:
                marks = pg.ScatterPlotItem(
                    x=[p.x for p in special], y=[p.y for p in special], size=7 if len(points) > 24 else 11,
                    symbol=[{ZEROED: "s", SET_NONE: "x", SET: "d"}.get(p.kind, "o") for p in special],
                    brush=[pg.mkBrush(t["none"] if p.kind == SET_NONE else t["zero"]) for p in special],
                    pen=[pg.mkPen(t["none"] if p.kind == SET_NONE else t["zero"], width=1.5) for p in special],
                )
                marks.setZValue(5)
                self.plot.addItem(marks)
            self.curves[name] = curve
        many = calls_total(histories) > 12
        for curve in self.curves.values():
            if many:
                curve.setSymbolSize(5)
        # One dashed line per place where .grad was zeroed or set to None (any leaf); the
        # legend explains the markers, so the lines carry no text that could cover the data.
        seen = set()
        for h in histories:
            for p in history_points(h):
                if p.kind in (ZEROED, SET_NONE, SET) and (p.x, p.kind) not in seen:
                    seen.add((p.x, p.kind))
                    color = t["none"] if p.kind == SET_NONE else t["zero"]
                    self.markers.append((p.x, p.kind))
                    if many:  # a line per reset would hide the data: the markers say it
                        continue
                    pen = pg.mkPen(color, width=1.2, style=Qt.PenStyle.DashLine)
                    line = pg.InfiniteLine(pos=p.x, angle=90, pen=pen)
                    line.setZValue(-5)
                    self.plot.addItem(line)
        for kind, text in ((SET_NONE, ".grad = None"), (ZEROED, translate("HistoryPlot", ".grad zeroed")),
                           (SET, translate("HistoryPlot", ".grad set"))):
            if any(k == kind for _x, k in self.markers):
                color = t["none"] if kind == SET_NONE else t["zero"]
                mark = {ZEROED: "■", SET_NONE: "✕", SET: "◆"}[kind]
                legend.append((color, f"┆{mark}", text))
        self._fit_legend()
        ys_all = [p.y for _n, pts in series for p in pts if math.isfinite(p.y)]
        if ys_all:
            low, high = min(0.0, min(ys_all)), max(0.0, max(ys_all))
            span = (high - low) or 1.0
            # Headroom at the top for the legend row.
            self.plot.setYRange(low - 0.06 * span, high + 0.08 * span, padding=0)
        x = (self._current_call if self._current_call is not None else 0) + 1
        self._region = pg.LinearRegionItem((x - 0.2, x + 0.2), movable=False, brush=pg.mkBrush(t["current"]),
                                           pen=pg.mkPen(None))
        self._region.setZValue(-10)
        self._region.setVisible(self._current_call is not None)
        self.plot.addItem(self._region)
        n_calls = calls_total(histories)
        bottom = self.plot.getAxis("bottom")
        if n_calls > 15:
            step = 5 if n_calls <= 60 else 10 ** max(1, len(str(n_calls)) - 1)
            bottom.setTickSpacing(step, step)
        else:
            bottom.setTickSpacing(1, 1)
        if xs_all:
            self.plot.setXRange(min(0.5, min(xs_all) - 0.5), max(xs_all) + 0.5, padding=0.02)
        calls = n_calls
        zeroes = sum(1 for _x, k in self.markers if k in (ZEROED, SET_NONE))
        hidden = len(histories) - len(series) if mode != "elements" else 0
        self.caption.setText(
            (translate("HistoryPlot", "largest {shown} of {all} leaves · ").format(shown=len(series),
                                                                                   all=len(histories))
             if hidden > 0 else "")
            + (translate("HistoryPlot", "%n backward call", None, calls) if calls == 1
               else translate("HistoryPlot", "%n backward calls", None, calls))
            + (translate("HistoryPlot", " · .grad reset {count}×").format(count=zeroes) if zeroes
               else translate("HistoryPlot", " · never reset: .grad accumulates"))
        )

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_legend()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.legend_label and event.type() == QEvent.Type.FontChange:
            self._fit_legend()  # the entries were measured in the old font (style sheet, zoom)
        return False

    def _fit_legend(self) -> None:
        """Show the legend's whole entries in at most LEGEND_LINES lines of the label's width.

        An entry is never broken. When not all fit, the last series make room (counted at the
        end, "+3 more", and listed in the tooltip); the entries that explain the reset markers
        stay, as the markers are drawn on every series.
        """
        entries = self.legend_entries
        label = self.legend_label
        if not entries:
            label.setText("")
            label.setToolTip("")
            return
        width = label.contentsRect().width()

        def entry(i: int) -> str:
            if i < 0:
                return f"<span style='color:{THEMES[self._theme]['muted']}'>{more}</span>"
            color, mark, text = entries[i]
            # Non-breaking inside an entry: a name is never split over two lines.
            return (f"<span style='color:{color}; font-weight:700'>{html.escape(mark)}</span>&nbsp;"
                    + html.escape(text).replace(" ", "&nbsp;"))

        # Measured as the label draws them (bold marks, symbols from a fallback font): measured
        # with the label's font metrics the entries came out wider, and one was counted
        # ("+1 more") where it had room.
        document = QTextDocument()
        document.setDefaultFont(label.font())
        document.setDocumentMargin(0)

        def drawn_width(text: str) -> float:
            document.setHtml(text)
            return document.idealWidth()

        more = ""
        gap = drawn_width("&nbsp;&nbsp;&nbsp;")
        sizes = [drawn_width(entry(i)) for i in range(len(entries))]
        series = [i for i, (_c, mark, _t) in enumerate(entries) if not mark.startswith("┆")]
        markers = [i for i in range(len(entries)) if i not in series]
        lines = _pack(list(range(len(entries))), sizes, gap, width, LEGEND_LINES)
        if lines is None and not series:  # only marker entries, in a very narrow dock
            lines = [markers]
        keep = len(series)
        while lines is None:  # one series fewer each time (an entry alone on a line always fits)
            keep = max(0, keep - 1)
            more = translate("HistoryPlot", "+{count} more").format(count=len(series) - keep)
            shown = series[:keep] + markers
            lines = _pack(shown + [-1], sizes + [drawn_width(entry(-1))], gap, width, LEGEND_LINES)
            if lines is None and keep == 0:
                lines = [shown + [-1]]  # nothing narrower to show

        label.setText("<br>".join("&nbsp;&nbsp;&nbsp;".join(entry(i) for i in line) for line in lines))
        label.setToolTip("\n".join(f"{mark} {text}" for _c, mark, text in entries) if more else "")

    def set_theme(self, theme: str) -> None:
        self._theme = theme if theme in THEMES else "light"
        t = THEMES[self._theme]
        self.plot.setBackground(t["bg"])
        for axis in ("left", "bottom"):
            ax = self.plot.getAxis(axis)
            ax.setPen(pg.mkPen(t["muted"]))
            ax.setTextPen(pg.mkPen(t["fg"]))
        self.plot.showGrid(x=True, y=True, alpha=t["grid"])
        self._redraw()

    def set_font_scale(self, scale: float) -> None:
        font = QFont(self.font())
        font.setPointSizeF(9 * scale)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setStyle(tickFont=font)
            self.plot.getAxis(axis).label.setFont(font)
        # Never shorter than its axis title written upwards, plus the call numbers and title under the
        # plot: squeezed by the docks above it, the title was cut to "‖.gra".
        metrics = QFontMetrics(font)
        self.plot.setMinimumHeight(round(metrics.horizontalAdvance("‖.grad‖") + 4 * metrics.height()))


def _pack(items: list[int], sizes: list[float], gap: float, width: float, max_lines: int) -> list[list[int]] | None:
    """``items`` (indices into ``sizes``; -1 is the last size) in order on lines of ``width``, or None when
    they need more than ``max_lines`` lines."""
    lines: list[list[int]] = [[]]
    used = 0.0
    for i in items:
        w = sizes[i]
        if lines[-1] and used + gap + w > width:
            if len(lines) == max_lines:
                return None
            lines.append([])
            used = 0.0
        used += (gap if lines[-1] else 0.0) + w
        lines[-1].append(i)
    return lines


def _index(flat: int, shape: tuple[int, ...]) -> str:
    idx = []
    for size in reversed(shape):
        idx.append(flat % size)
        flat //= size
    return ", ".join(str(i) for i in reversed(idx))
