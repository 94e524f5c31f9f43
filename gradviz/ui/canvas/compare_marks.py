"""The marks of compare mode on a graph canvas: a ring around a node only one run has, another
around a leaf whose .grad differs from the other run's."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from gradviz.ui.canvas.scene import GraphScene

ONLY = "only"  # a node only this run's graph has
GRAD = "grad"  # a leaf whose .grad differs from the other run's
MARK_KINDS = (ONLY, GRAD)

#: Distinct from every colour the canvas already uses (node kinds, the orange flow, the green
#: done, the blue selection, the red error) in both themes.
MARK_COLORS = {
    "light": {ONLY: "#c026d3", GRAD: "#a16207"},
    "dark": {ONLY: "#f17af5", GRAD: "#fcd34d"},
}
#: How far the ring stands off the node box, and its width, in scene units (before the font scale).
RING_GAP = 6.0
RING_WIDTH = 3.0
MARK_Z = 50.0  # over edges and labels' backgrounds, under callouts


def mark_color(theme: str, kind: str) -> QColor:
    return QColor(MARK_COLORS.get(theme, MARK_COLORS["light"])[kind])


def mark_pen(theme: str, kind: str, width: float) -> QPen:
    """Dashed for a node only one side has, solid for a .grad that differs (told apart without colour too)."""
    style = Qt.PenStyle.DashLine if kind == ONLY else Qt.PenStyle.SolidLine
    pen = QPen(mark_color(theme, kind), width, style, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    return pen


class MarkItem(QGraphicsPathItem):
    """A rounded ring around one node; ``kind`` is ONLY or GRAD, ``node_id`` the node it rings."""

    def __init__(self, node_id: str, kind: str, rect: QRectF, theme: str, scale: float):
        super().__init__()
        self.node_id = node_id
        self.kind = kind
        gap = RING_GAP * scale
        ring = rect.adjusted(-gap, -gap, gap, gap)
        path = QPainterPath()
        radius = min(ring.height() / 2, 12.0 * scale)
        path.addRoundedRect(ring, radius, radius)
        self.setPath(path)
        self.setZValue(MARK_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._scale = scale
        self.set_theme(theme)

    def set_theme(self, theme: str) -> None:
        self.setPen(mark_pen(theme, self.kind, RING_WIDTH * self._scale))


def add_marks(scene: GraphScene, marks: dict[str, str]) -> list[MarkItem]:
    """Ring every node of ``marks`` (node id -> ONLY or GRAD) that ``scene`` shows; returns the items
    (the scene owns them: a new graph clears them with everything else)."""
    theme = scene.theme
    items = []
    for node_id, kind in marks.items():
        rect = scene.node_rect(node_id)
        if rect is None:
            continue
        item = MarkItem(node_id, kind, rect, theme.name, theme.font_scale)
        scene.addItem(item)
        items.append(item)
    return items


def restyle_marks(items: list[MarkItem], theme: str) -> None:
    for item in items:
        item.set_theme(theme)
