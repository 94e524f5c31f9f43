"""How the canvas shows nodes a backward pass made (create_graph=True): a mark on each, a dashed
link to the node whose backward made it, and a legend; words drawn here are shared with renders."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from gradviz.core.i18n import t
from gradviz.core.result import GraphData, GraphNode, MadeBy
from gradviz.ui.canvas.items import LOD_SHAPE, LOD_TEXT, Z_BADGE, Z_EDGE, Look, NodeItem

#: The badge on a marked node and in the legend: the sign of a derivative.
SIGN = "∂"
#: How far the mark's dashed outline stands off the node box (inside the selection ring at 4).
OUTLINE_GAP = 2.5
_lod_of = QStyleOptionGraphicsItem.levelOfDetailFromTransform


def made_text(made: MadeBy) -> str:
    """"made by the backward of SinBackward0 (line 3), call 1" in the window's language."""
    if made.line is not None:
        text = QCoreApplication.translate("MadeBy", "made by the backward of {op} (line {line}), call {call}")
    else:
        text = QCoreApplication.translate("MadeBy", "made by the backward of {op}, call {call}")
    return text.format(op=made.op, line=made.line, call=made.call + 1)


def marked_nodes(graph: GraphData) -> list[GraphNode]:
    return [n for n in graph.nodes if n.made_by is not None]


def _badge_rect(box: QRectF, look: Look) -> QRectF:
    d = look.theme.px(15)
    return QRectF(box.left() - d * 0.35, box.top() - d * 0.45, d, d)


def _paint_sign(painter: QPainter, rect: QRectF, look: Look) -> None:
    painter.setPen(look.pen("surface", 1.2))
    painter.setBrush(look.brush("made"))
    painter.drawEllipse(rect)
    painter.setPen(look.color("surface"))
    painter.setFont(look.theme.font("badge_title"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, SIGN)


class MadeMarkItem(QGraphicsItem):
    """The mark on a node a backward pass made: a dashed outline in the "made" colour around its
    box and a "∂" badge on its top-left corner. A child of the NodeItem, so it moves with it."""

    def __init__(self, node_item: NodeItem, look: Look):
        super().__init__(node_item)
        self.look = look
        self.box = node_item.box.adjusted(-OUTLINE_GAP, -OUTLINE_GAP, OUTLINE_GAP, OUTLINE_GAP)
        self.badge = _badge_rect(node_item.box, look)
        self._bounds = self.box.united(self.badge).adjusted(-2, -2, 2, 2)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option, widget=None) -> None:
        look = self.look
        lod = _lod_of(painter.worldTransform())
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if lod < LOD_SHAPE:
            painter.setPen(look.pen("made", 2.0, cosmetic=True))
            painter.drawRect(self.box)
            return
        radius = look.theme.px(9)
        painter.setPen(look.pen("made", 1.8, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(self.box, radius, radius)
        if lod >= LOD_TEXT:
            _paint_sign(painter, self.badge, look)


def _side_point(rect: QRectF, toward: QPointF) -> QPointF:
    """Where the line from ``rect``'s centre to ``toward`` leaves ``rect``."""
    c = rect.center()
    dx, dy = toward.x() - c.x(), toward.y() - c.y()
    if dx == 0 and dy == 0:
        return c
    sx = rect.width() / 2 / abs(dx) if dx else float("inf")
    sy = rect.height() / 2 / abs(dy) if dy else float("inf")
    s = min(sx, sy, 1.0)
    return QPointF(c.x() + dx * s, c.y() + dy * s)


def link_path(made: QRectF, origin: QRectF) -> QPainterPath:
    """The thin curve from a made node's box to its origin's box.

    Boxes in one row are joined by an arc below them (a straight line would run through the
    boxes between); others by a slightly bowed line from side to side, kept apart from a graph
    edge between the same boxes.
    """
    if made.top() < origin.bottom() and origin.top() < made.bottom():  # side by side
        a, b = QPointF(made.center().x(), made.bottom()), QPointF(origin.center().x(), origin.bottom())
        depth = min(60.0, 12.0 + abs(a.x() - b.x()) * 0.18)
        low = max(a.y(), b.y()) + depth
        path = QPainterPath(a)
        path.cubicTo(QPointF(a.x(), low), QPointF(b.x(), low), b)
        return path
    a = _side_point(made, origin.center())
    b = _side_point(origin, made.center())
    path = QPainterPath(a)
    bend = QLineF(a, b).normalVector()
    mid = QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)
    k = 0.12
    ctrl = QPointF(mid.x() + (bend.p2().x() - bend.p1().x()) * k, mid.y() + (bend.p2().y() - bend.p1().y()) * k)
    path.quadTo(ctrl, b)
    return path


class OriginLinkItem(QGraphicsPathItem):
    """A thin dashed link from a made node to the node of the same graph whose backward made it."""

    def __init__(self, made_id: str, origin_id: str, path: QPainterPath, look: Look):
        super().__init__(path)
        self.made_id = made_id
        self.origin_id = origin_id
        self.look = look
        self.setZValue(Z_EDGE - 1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setPen(look.pen("made", 1.2, Qt.PenStyle.DashLine))

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setPen(self.look.pen("made", 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        end = self.path().pointAtPercent(1.0)
        r = self.look.theme.px(2.5)
        painter.setBrush(self.look.brush("made"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(end, r, r)


class MadeLegendItem(QGraphicsItem):
    """The legend of the marks, above the graph's top-left corner: the "∂" badge and what it means,
    and the dashed link when one is drawn."""

    def __init__(self, look: Look, links: bool):
        super().__init__()
        self.look = look
        self.entries = [t("made by a backward pass (create_graph=True)")]
        if links:
            self.entries.append(t("the node whose backward made it"))
        self.setZValue(Z_BADGE)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        theme = look.theme
        self.pad = theme.px(8)
        self.sign = theme.px(15)
        self.row = max(self.sign, look.height("banner")) + theme.px(4)
        text_w = max(look.width("banner", e) for e in self.entries)
        self.rect = QRectF(0, 0, self.pad * 3 + self.sign * 1.6 + text_w, self.pad * 2 + self.row * len(self.entries))

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        look = self.look
        r = look.theme.px(6)
        painter.setPen(look.pen("label_border", 1.0))
        painter.setBrush(look.brush("label_bg"))
        painter.drawRoundedRect(self.rect, r, r)
        x0, y = self.rect.left() + self.pad, self.rect.top() + self.pad
        text_x = x0 + self.sign * 1.6 + self.pad
        for k, entry in enumerate(self.entries):
            cy = y + self.row * k + self.row / 2
            if k == 0:
                _paint_sign(painter, QRectF(x0 + self.sign * 0.3, cy - self.sign / 2, self.sign, self.sign), look)
            else:
                painter.setPen(look.pen("made", 1.2, Qt.PenStyle.DashLine))
                painter.drawLine(QPointF(x0, cy), QPointF(x0 + self.sign * 1.6, cy))
            painter.setPen(look.color("text"))
            painter.setFont(look.theme.font("banner"))
            painter.drawText(QRectF(text_x, cy - self.row / 2, self.rect.right() - text_x, self.row),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, entry)


class MadeMarks:
    """The legend and origin links of one scene's graph (the per-node marks live on the NodeItems).

    ``links`` maps a made node's id to its OriginLinkItem; ``legend`` is None when nothing is marked.
    """

    def __init__(self, scene, graph: GraphData, node_rects: dict[str, QRectF], bounds: QRectF, look: Look):
        self.links: dict[str, OriginLinkItem] = {}
        self.legend: MadeLegendItem | None = None
        marked = marked_nodes(graph)
        if not marked:
            return
        for n in marked:
            here = n.made_by.here if n.made_by is not None else None
            if here is not None and here in node_rects and n.id in node_rects:
                item = OriginLinkItem(n.id, here, link_path(node_rects[n.id], node_rects[here]), look)
                scene.addItem(item)
                self.links[n.id] = item
        self.legend = MadeLegendItem(look, bool(self.links))
        gap = look.theme.px(14)
        self.legend.setPos(bounds.left(), bounds.top() - gap - self.legend.rect.height())
        scene.addItem(self.legend)

    def rect(self) -> QRectF | None:
        """The legend's rect in the scene (the export and fit-all take it in)."""
        return self.legend.sceneBoundingRect() if self.legend is not None else None
