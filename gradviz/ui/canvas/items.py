"""The graphics items of the graph canvas: nodes, edges, gradient labels, badges, the error banner.

Items paint themselves from cached text (QStaticText) and cached shapes, and take their colours
and fonts from a shared ``Look`` at paint time, so a theme change is one repaint. Geometry lives in
the C++ base classes (QGraphicsRectItem/QGraphicsPathItem): the scene index and hit tests never
call back into Python. Each ``paint`` drops detail when the item is small on screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem, QStyleOptionGraphicsItem

from gradviz.core import i18n
from gradviz.core.result import LEAF, OP, PARAM, ROOT, GraphNode
from gradviz.ui.canvas.frame_state import CURRENT, DONE, EDGE_ACTIVE, EDGE_CARRIED, EDGE_IDLE, IDLE
from gradviz.ui.canvas.wrap import wrap_text
from gradviz.ui.numbers import format_shape, split_op
from gradviz.ui.theme import Theme

# Label styles.
LABEL_QUIET, LABEL_ACTIVE, LABEL_INDEX, LABEL_GRAD = "quiet", "active", "index", "grad"

# Z order: edges under nodes under labels under badges under the banner.
Z_OVERVIEW, Z_EDGE, Z_EDGE_ACTIVE, Z_NODE, Z_LABEL, Z_LABEL_ACTIVE, Z_BADGE, Z_BANNER = (
    -10, 0, 2, 10, 20, 22, 30, 40)

# Below these levels of detail (screen pixels per scene unit) text and then shapes are dropped.
LOD_TEXT = 0.45
LOD_SHAPE = 0.2

GLOW = 12.0  # room around a node box for the glow of the current node and the selection ring

_lod_of = QStyleOptionGraphicsItem.levelOfDetailFromTransform
# Enum members looked up once: item constructors run thousands of times per graph.
_NO_PEN = Qt.PenStyle.NoPen
_LEFT = Qt.MouseButton.LeftButton
_NO_BUTTON = Qt.MouseButton.NoButton


def _default_name(kind: str) -> str:
    """What a tensor node without a name is called, in the current language."""
    return {ROOT: i18n.t("output"), LEAF: i18n.t("tensor"), PARAM: i18n.t("parameter")}[kind]


def _kind_word(kind: str) -> str:
    """A tensor node's kind word under its name, in the current language."""
    return {ROOT: i18n.t("root"), LEAF: i18n.t("leaf"), PARAM: i18n.t("param")}[kind]


class Look:
    """What every item paints with: the theme, plus caches of static text, widths, pens and brushes.

    One Look per scene; a theme change swaps its theme and clears the colour caches.
    """

    def __init__(self, theme: Theme):
        self.theme = theme
        self._texts: dict[tuple[str, str], QStaticText] = {}
        self._widths: dict[tuple[str, str], float] = {}
        self._pens: dict[tuple, QPen] = {}
        self._brushes: dict[str, QBrush] = {}
        self._paths: dict[tuple, QPainterPath] = {}

    def set_theme(self, theme: Theme) -> None:
        scale_changed = theme.font_scale != self.theme.font_scale
        self.theme = theme
        self._pens.clear()
        self._brushes.clear()
        if scale_changed:
            self._texts.clear()
            self._widths.clear()
            self._paths.clear()

    def text(self, role: str, text: str) -> QStaticText:
        key = (role, text)
        st = self._texts.get(key)
        if st is None:
            st = QStaticText(text)
            st.setTextFormat(Qt.TextFormat.PlainText)
            st.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
            st.prepare(QTransform(), self.theme.font(role))
            self._texts[key] = st
        return st

    def width(self, role: str, text: str) -> float:
        key = (role, text)
        w = self._widths.get(key)
        if w is None:
            w = self._widths[key] = self.theme.metrics(role).horizontalAdvance(text)
        return w

    def height(self, role: str) -> float:
        m = self.theme.metrics(role)
        return m.ascent() + m.descent()

    def color(self, role: str) -> QColor:
        return self.theme.color(role)

    def pen(self, role: str, width: float = 1.0, style=Qt.PenStyle.SolidLine, cosmetic: bool = False) -> QPen:
        key = (role, width, style, cosmetic)
        p = self._pens.get(key)
        if p is None:
            p = QPen(self.theme.color(role), width, style, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            p.setCosmetic(cosmetic)
            self._pens[key] = p
        return p

    def brush(self, role: str) -> QBrush:
        b = self._brushes.get(role)
        if b is None:
            b = self._brushes[role] = QBrush(self.theme.color(role))
        return b

    def faded(self, role: str, alpha: int) -> QColor:
        c = QColor(self.theme.color(role))
        c.setAlpha(alpha)
        return c

    def stripe(self, h: float, radius: float, width: float) -> QPainterPath:
        """The accent stripe on the left of an op card: the card's rounded left edge, ``width`` wide."""
        key = ("stripe", h, radius, width)
        path = self._paths.get(key)
        if path is None:
            card = QPainterPath()
            card.addRoundedRect(QRectF(0, 0, radius * 2 + width, h), radius, radius)
            clip = QPainterPath()
            clip.addRect(QRectF(0, 0, width, h))
            path = self._paths[key] = card.intersected(clip)
        return path


@dataclass
class Chip:
    """A saved tensor, or a hook of the program, drawn on its node: text, place in the node box (local coordinates)."""

    name: str
    text: str
    rect: QRectF
    freed: bool = False
    hook: bool = False


@dataclass
class NodeShape:
    """The measured content of a node: box size and where each text goes (box top-left origin)."""

    w: float
    h: float
    title: str
    subtitle: str
    detail: str  # shape (and names for op nodes, drawn in the accent colour)
    names: str
    title_pos: QPointF = field(default_factory=QPointF)
    subtitle_pos: QPointF = field(default_factory=QPointF)
    names_pos: QPointF = field(default_factory=QPointF)
    detail_pos: QPointF = field(default_factory=QPointF)
    chips: list[Chip] = field(default_factory=list)
    radius: float = 8.0
    pill: bool = False


def measure_node(node: GraphNode, look: Look) -> NodeShape:
    """Measure the texts of ``node`` and place them: the layout receives ``(w, h)`` from this."""
    t = look.theme
    px = t.px
    title_h = look.height("title")
    mono_h = look.height("mono")
    tm, sm = t.metrics("title"), t.metrics("subtitle")
    tensor = node.kind in (ROOT, LEAF, PARAM)
    if tensor:
        title = ", ".join(node.names) if node.names else _default_name(node.kind)
        if len(title) > 40:
            title = title[:38] + "…"
        subtitle = _kind_word(node.kind)
        names = ""
    else:
        title, subtitle = split_op(node.op)
        names = ", ".join(node.names)
        if len(names) > 24:
            names = names[:22] + "…"
    detail = format_shape(node.shape, unknown="")
    top = px(7)
    title_w = look.width("title", title)
    sub_w = look.width("subtitle", subtitle) if subtitle else 0.0
    gap = px(3)
    row1 = title_w + (gap + sub_w if subtitle else 0)
    names_w = look.width("mono", names) if names else 0.0
    detail_w = look.width("mono", detail) if detail else 0.0
    if tensor:
        # Row 2 is "leaf  [4]": kind word (subtitle) then the shape.
        row2 = sub_w + (px(6) + detail_w if detail else 0)
        row1 = title_w
    else:
        row2 = names_w + (px(6) if names and detail else 0) + detail_w
    content_w = max(row1, row2)
    h = top + title_h + px(2) + mono_h + px(7)
    pad = px(12) if not tensor else max(px(14), h * 0.42)
    stripe = 0.0 if tensor else px(4)
    w = max(content_w + 2 * pad + stripe, px(64))
    shape = NodeShape(w, h, title, subtitle, detail, names, radius=h / 2 if tensor else px(8), pill=tensor)
    left = stripe + (w - stripe - content_w) / 2 if tensor else stripe + pad
    shape.title_pos = QPointF(left + (content_w - row1) / 2 if tensor else left, top)
    baseline = top + tm.ascent()
    if tensor:
        row2_left = left + (content_w - row2) / 2
        shape.subtitle_pos = QPointF(row2_left, top + title_h + px(2) + (mono_h - look.height("subtitle")) / 2)
        shape.detail_pos = QPointF(row2_left + sub_w + px(6), top + title_h + px(2))
    else:
        shape.subtitle_pos = QPointF(left + title_w + gap, baseline - sm.ascent())
        shape.names_pos = QPointF(left, top + title_h + px(2))
        shape.detail_pos = QPointF(left + names_w + (px(6) if names else 0), top + title_h + px(2))
    if (node.saved or node.hooks) and not tensor:
        _place_chips(node, look, shape, left, content_w)
    return shape


def _place_chips(node: GraphNode, look: Look, shape: NodeShape, left: float, content_w: float) -> None:
    t = look.theme
    px = t.px
    chip_h = look.height("chip") + px(4)
    gap = px(4)
    max_w = max(content_w, px(150))
    x, y = 0.0, shape.h - px(2)
    rows_w = 0.0
    chips = []
    wanted = [(s.name, f"{s.name} {format_shape(s.shape)}" if s.shape is not None else s.name, s.freed, False)
              for s in node.saved]
    wanted += [(f"hook:{h.name}", i18n.t("hook {name}", name=h.name), False, True) for h in node.hooks]
    for name, text, freed, hook in wanted:
        w = look.width("chip", text) + px(10)
        if x > 0 and x + w > max_w:
            x = 0.0
            y += chip_h + gap
        chips.append(Chip(name, text, QRectF(left + x, y, w, chip_h), freed, hook))
        x += w + gap
        rows_w = max(rows_w, x - gap)
    shape.chips = chips
    shape.h = y + chip_h + px(8)
    stripe = px(4)
    shape.w = max(shape.w, stripe + px(12) * 2 + rows_w)


class NodeItem(QGraphicsRectItem):
    """One graph node: a card for grad_fn nodes, a pill for tensors, saved tensors as chips.

    ``state`` is IDLE, CURRENT (lit: the engine runs it in this frame) or DONE. The item's rect is
    the node box grown by ``GLOW`` so the glow and selection ring stay inside it.
    """

    def __init__(self, node: GraphNode, shape: NodeShape, look: Look, parent: QGraphicsItem | None = None):
        self.box = QRectF(-shape.w / 2, -shape.h / 2, shape.w, shape.h)
        super().__init__(self.box.adjusted(-GLOW, -GLOW, GLOW, GLOW), parent)
        self.node = node
        self.order = 0  # position in the graph's node list (set by the scene)
        self.shape_ = shape
        self.look = look
        self.state = IDLE
        self.hovered = False
        self.selected = False
        self.freed: frozenset[str] = frozenset()
        self.setPen(_NO_PEN)
        self.setZValue(Z_NODE)
        self.setAcceptedMouseButtons(_LEFT)

    @property
    def node_id(self) -> str:
        return self.node.id

    def shape(self) -> QPainterPath:  # hit tests use the box, not the glow margin
        path = QPainterPath()
        path.addRoundedRect(self.box, self.shape_.radius, self.shape_.radius)
        return path

    def set_state(self, state: int) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def set_freed(self, names: frozenset[str]) -> None:
        if names != self.freed:
            self.freed = names
            self.update()

    def set_hovered(self, on: bool) -> None:
        if on != self.hovered:
            self.hovered = on
            self.update()

    def set_selected(self, on: bool) -> None:
        if on != self.selected:
            self.selected = on
            self.update()

    def chip_freed(self, chip: Chip) -> bool:
        return chip.freed or chip.name in self.freed

    def paint(self, painter: QPainter, option, widget=None) -> None:
        look = self.look
        kind = self.node.kind
        box = self.box
        lod = _lod_of(painter.worldTransform())
        state = self.state
        if lod < LOD_SHAPE:
            role = "flow" if state == CURRENT else ("done" if state == DONE else f"kind:{kind}")
            painter.fillRect(box, look.brush(role))
            return
        shape = self.shape_
        r = shape.radius
        if state == CURRENT:
            painter.setPen(Qt.PenStyle.NoPen)
            for i, alpha in ((10, 22), (7, 40), (4, 70)):
                painter.setBrush(look.faded("flow", alpha))
                painter.drawRoundedRect(box.adjusted(-i, -i, i, i), r + i, r + i)
        elif lod >= LOD_TEXT:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(look.brush("shadow"))
            painter.drawRoundedRect(box.translated(0, 1.5), r, r)
        if self.selected:
            painter.setPen(look.pen("selection", 2.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box.adjusted(-4, -4, 4, 4), r + 4, r + 4)
        elif self.hovered:
            painter.setPen(look.pen("hover", 3.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box.adjusted(-2, -2, 2, 2), r + 2, r + 2)
        accent = f"kind:{kind}"
        if state == CURRENT:
            border = look.pen("flow", 2.0)
        elif state == DONE:
            border = look.pen("done", 1.6)
        elif shape.pill:
            border = look.pen(accent, 1.4)
        else:
            border = look.pen("border", 1.0)
        painter.setPen(border)
        painter.setBrush(look.brush(f"tint:{kind}"))
        painter.drawRoundedRect(box, r, r)
        if not shape.pill:
            painter.translate(box.left(), box.top())
            painter.fillPath(look.stripe(box.height(), r, look.theme.px(4)),
                             look.brush("flow" if state == CURRENT else accent))
            painter.translate(-box.left(), -box.top())
        if lod < LOD_TEXT:
            return
        ox, oy = box.left(), box.top()
        t = look.theme
        painter.setPen(look.color("text"))
        painter.setFont(t.font("title"))
        painter.drawStaticText(QPointF(ox + shape.title_pos.x(), oy + shape.title_pos.y()),
                               look.text("title", shape.title))
        if shape.subtitle:
            painter.setPen(look.color(accent if shape.pill else "text_muted"))
            painter.setFont(t.font("subtitle"))
            painter.drawStaticText(QPointF(ox + shape.subtitle_pos.x(), oy + shape.subtitle_pos.y()),
                                   look.text("subtitle", shape.subtitle))
        painter.setFont(t.font("mono"))
        if shape.names:
            painter.setPen(look.color(accent))
            painter.drawStaticText(QPointF(ox + shape.names_pos.x(), oy + shape.names_pos.y()),
                                   look.text("mono", shape.names))
        if shape.detail:
            painter.setPen(look.color("text_muted"))
            painter.drawStaticText(QPointF(ox + shape.detail_pos.x(), oy + shape.detail_pos.y()),
                                   look.text("mono", shape.detail))
        if shape.chips:
            self._paint_chips(painter, look, ox, oy)
        if state == DONE:
            self._paint_check(painter, look)

    def _paint_chips(self, painter: QPainter, look: Look, ox: float, oy: float) -> None:
        t = look.theme
        painter.setFont(t.font("chip"))
        pad = t.px(5)
        for chip in self.shape_.chips:
            rect = chip.rect.translated(ox, oy)
            freed = self.chip_freed(chip)
            if freed:
                painter.setPen(look.pen("chip_freed", 1.0, Qt.PenStyle.DashLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
            elif chip.hook:  # a hook of the program runs here: the badge colours of the flow
                painter.setPen(look.pen("badge_border", 1.0))
                painter.setBrush(look.brush("badge_bg"))
            else:
                painter.setPen(look.pen("chip_border", 1.0))
                painter.setBrush(look.brush("chip_bg"))
            painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            painter.setPen(look.color("chip_freed" if freed else "chip_text"))
            painter.drawStaticText(QPointF(rect.left() + pad, rect.top() + t.px(2)), look.text("chip", chip.text))
            if freed:  # struck through: the engine released this tensor
                y = rect.center().y()
                painter.setPen(look.pen("chip_freed", 1.0))
                painter.drawLine(QPointF(rect.left() + pad - 1, y), QPointF(rect.right() - pad + 1, y))

    def _paint_check(self, painter: QPainter, look: Look) -> None:
        box = self.box
        d = look.theme.px(13)
        c = QRectF(box.right() - d * 0.7, box.top() - d * 0.3, d, d)
        painter.setPen(look.pen("surface", 1.5))
        painter.setBrush(look.brush("done"))
        painter.drawEllipse(c)
        s = d / 13
        path = QPainterPath(QPointF(c.left() + 3.6 * s, c.top() + 6.8 * s))
        path.lineTo(c.left() + 5.6 * s, c.top() + 8.8 * s)
        path.lineTo(c.left() + 9.4 * s, c.top() + 4.6 * s)
        painter.setPen(look.pen("surface", 1.6 * s))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)


def curve_through(points: list[tuple[float, float]]) -> QPainterPath:
    """A smooth path through ``points`` leaving and entering each point vertically.

    Vertical tangents make the edges of a top-down graph read as flowing between layers, and
    keep the curve inside the gaps the layout reserved for its waypoints.
    """
    ax, ay = points[0]
    path = QPainterPath(QPointF(ax, ay))
    for bx, by in points[1:]:
        dy = (by - ay) * 0.5
        path.cubicTo(ax, ay + dy, bx, by - dy, bx, by)
        ax, ay = bx, by
    return path


_EDGE_EXTENT: QPen | None = None


def _edge_extent_pen() -> QPen:
    """A pen as wide as an active edge's halo: it only sizes the C++ bounding rect."""
    global _EDGE_EXTENT
    if _EDGE_EXTENT is None:
        _EDGE_EXTENT = QPen(Qt.GlobalColor.black, 9.0)
    return _EDGE_EXTENT


class EdgeItem(QGraphicsPathItem):
    """A curved edge with an arrowhead, in the direction gradients flow.

    ``state`` is EDGE_IDLE, EDGE_CARRIED (a gradient passed along it) or EDGE_ACTIVE (the
    gradient travels along it in this frame: drawn bold with a moving dot). The path item's
    own path includes the arrowhead and its pen is as wide as the active halo, so the C++
    bounding rect covers everything painted.
    """

    def __init__(self, key: tuple[str, str, int], curve: QPainterPath, arrow: QPolygonF,
                 look: Look, label_anchor: tuple[float, float], label_align: int, dot_t: float = 0.82,
                 outline: QPainterPath | None = None, parent: QGraphicsItem | None = None):
        if outline is None:
            outline = QPainterPath(curve)
            outline.addPolygon(arrow)
        super().__init__(outline, parent)
        self.setPen(_edge_extent_pen())
        self.key = key
        self.order = 0  # position in the graph's edge list (set by the scene)
        self.curve = curve
        self.arrow = arrow
        self.look = look
        self.state = EDGE_IDLE
        self.label_anchor = label_anchor
        self.label_align = label_align  # -1: label ends at the anchor, 0: centred, 1: starts there
        self.dot_t = dot_t  # where on the curve the travelling gradient is drawn
        self._dot: QPointF | None = None
        self.points: list[tuple[float, float]] = []  # start, waypoints, end (the overview draws these)
        self.setZValue(Z_EDGE)
        self.setAcceptedMouseButtons(_NO_BUTTON)

    def set_state(self, state: int) -> None:
        if state != self.state:
            if EDGE_ACTIVE in (state, self.state):
                self.setZValue(Z_EDGE_ACTIVE if state == EDGE_ACTIVE else Z_EDGE)
            self.state = state
            self.update()

    def dot_position(self) -> QPointF:
        if self._dot is None:
            self._dot = self.curve.pointAtPercent(self.dot_t)
        return self._dot

    def paint(self, painter: QPainter, option, widget=None) -> None:
        look = self.look
        lod = _lod_of(painter.worldTransform())
        state = self.state
        role = "flow" if state == EDGE_ACTIVE else ("edge_carried" if state == EDGE_CARRIED else "edge")
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if lod < LOD_SHAPE:
            painter.setPen(look.pen(role, 2.0 if state == EDGE_ACTIVE else 1.0, cosmetic=True))
            painter.drawPath(self.curve)
            return
        if state == EDGE_ACTIVE:
            painter.setPen(look.pen("flow_soft", 7.0))
            painter.drawPath(self.curve)
            painter.setPen(look.pen("flow", 2.4))
        elif state == EDGE_CARRIED:
            painter.setPen(look.pen("edge_carried", 1.6))
        else:
            painter.setPen(look.pen("edge", 1.3))
        painter.drawPath(self.curve)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(look.brush(role))
        painter.drawPolygon(self.arrow)
        if state == EDGE_ACTIVE:
            p = self.dot_position()
            painter.setBrush(look.brush("flow"))
            painter.drawEllipse(p, 5.0, 5.0)
            painter.setBrush(look.brush("surface"))
            painter.drawEllipse(p, 2.0, 2.0)


class LabelItem(QGraphicsRectItem):
    """A small pill of text on an edge (a gradient value, an input index) or under a leaf (.grad).

    ``style`` is LABEL_QUIET (a gradient that passed), LABEL_ACTIVE (travelling now), LABEL_INDEX
    (which input of a repeated edge) or LABEL_GRAD (a leaf's accumulated ``.grad``).
    """

    def __init__(self, anchor: tuple[float, float], align: int, look: Look, order: int = 0,
                 parent: QGraphicsItem | None = None):
        super().__init__(parent)
        self.anchor = anchor
        self.wanted = True  # False: hidden because the frame wants no label here
        self.align = align
        self.look = look
        self.text = ""
        self.style = LABEL_QUIET
        # Overlapping labels stack in graph order, not in the order frames happened to make
        # them (that follows set iteration, which changes from run to run): same input, same
        # picture, same bytes.
        self._tie = order * 1e-7
        self.setPen(_NO_PEN)
        self.setZValue(Z_LABEL + self._tie)
        self.setAcceptedMouseButtons(_NO_BUTTON)

    def _role(self) -> str:
        return "label_bold" if self.style == LABEL_ACTIVE else "label"

    def set_wanted(self, on: bool) -> None:
        """Show (True) or hide the label; hidden labels are kept for when the frame wants them again."""
        if on != self.wanted:
            self.wanted = on
            self.setVisible(on)

    def set_content(self, text: str, style: str) -> None:
        if text == self.text and style == self.style:
            return
        self.text, self.style = text, style
        self.setZValue((Z_LABEL_ACTIVE if style == LABEL_ACTIVE else Z_LABEL) + self._tie)
        self.relayout()

    def relayout(self) -> None:
        look = self.look
        px = look.theme.px
        role = self._role()
        w = look.width(role, self.text) + px(12)
        h = look.height(role) + px(5)
        x, y = self.anchor
        left = x - w / 2 if self.align == 0 else (x - w if self.align < 0 else x)
        self.setRect(QRectF(left, y - h / 2, w, h))

    def paint(self, painter: QPainter, option, widget=None) -> None:
        look = self.look
        rect = self.rect()
        lod = _lod_of(painter.worldTransform())
        style = self.style
        if lod < LOD_TEXT:
            if style == LABEL_ACTIVE:
                painter.fillRect(rect, look.brush("flow"))
            return
        r = rect.height() / 2
        if style == LABEL_ACTIVE:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(look.brush("flow"))
            text_role = "surface"
        elif style == LABEL_GRAD:
            painter.setPen(look.pen("done", 1.0))
            painter.setBrush(look.brush("label_bg"))
            text_role = "text"
        elif style == LABEL_INDEX:
            painter.setPen(look.pen("label_border", 1.0))
            painter.setBrush(look.brush("background"))
            text_role = "text_faint"
        else:
            painter.setPen(look.pen("label_border", 1.0))
            painter.setBrush(look.brush("label_bg"))
            text_role = "text_muted"
        painter.drawRoundedRect(rect, r, r)
        role = self._role()
        painter.setFont(look.theme.font(role))
        painter.setPen(look.color(text_role))
        painter.drawStaticText(QPointF(rect.left() + look.theme.px(6), rect.top() + look.theme.px(2.5)),
                               look.text(role, self.text))


@dataclass(frozen=True)
class BadgeRow:
    """One line of a badge: an operator column (``""``, ``+``, ``=``), a caption and a value."""

    op: str
    caption: str
    value: str


class BadgeItem(QGraphicsRectItem):
    """A callout beside the current node: a fan-in sum, or ``.grad`` before + incoming = after."""

    def __init__(self, look: Look):
        super().__init__()
        self.look = look
        self.title = ""
        self.rows: tuple[BadgeRow, ...] = ()
        self._cols = (0.0, 0.0)
        self._side = 1
        self._target = self._card = QRectF()
        self.setPen(Qt.PenStyle.NoPen)
        self.setZValue(Z_BADGE)
        self.setAcceptedMouseButtons(_NO_BUTTON)

    def text(self) -> str:
        """Everything the badge says, one line per row (for tests and the accessibility text)."""
        lines = [self.title] + [f"{r.op} {r.caption}: {r.value}".strip() for r in self.rows]
        return "\n".join(lines)

    def equation(self) -> str:
        """The rows as one equation: ``a + b = c``."""
        out = []
        for r in self.rows:
            out.append(f"{r.op} {r.value}" if r.op else r.value)
        return " ".join(out)

    def set_content(self, title: str, rows: tuple[BadgeRow, ...], node_box: QRectF, side: int = 1,
                    shift: tuple[float, float] = (0.0, 0.0)) -> None:
        """Show ``rows`` beside ``node_box``: right when side is 1, else left; ``shift``: (away, down)."""
        look = self.look
        px = look.theme.px
        self.title, self.rows, self._side, self._target = title, rows, side, QRectF(node_box)
        op_w = max((look.width("badge", r.op) for r in rows), default=0.0)
        cap_w = max((look.width("subtitle", r.caption) for r in rows), default=0.0)
        val_w = max((look.width("badge", r.value) for r in rows), default=0.0)
        self._cols = (op_w, cap_w)
        w = max(look.width("badge_title", title), op_w + px(6) + cap_w + px(10) + val_w) + px(24)
        line = look.height("badge") + px(4)
        h = px(10) + look.height("badge_title") + px(6) + line * len(rows) + px(8)
        gap = px(16) + shift[0]
        x = node_box.right() + gap if side > 0 else node_box.left() - gap - w
        y = node_box.center().y() - h / 2 + shift[1]
        self.setRect(QRectF(x - (gap if side > 0 else 0), y, w + gap, h))
        self._card = QRectF(x, y, w, h)

    def card(self) -> QRectF:
        return QRectF(self._card)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        look = self.look
        t = look.theme
        px = t.px
        card = self.card()
        lod = _lod_of(painter.worldTransform())
        painter.setPen(look.pen("badge_border", 1.2))
        painter.setBrush(look.brush("badge_bg"))
        if lod < LOD_TEXT:
            painter.drawRect(card)
            return
        ty = self._target.center().y()  # the pointer to the node: level with it, card slid or not
        cy = min(max(ty, card.top() + px(10)), card.bottom() - px(10))
        if self._side > 0:
            tip, base = self._target.right() + px(7), card.left() + 0.5
        else:
            tip, base = self._target.left() - px(7), card.right() - 0.5
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(look.brush("shadow"))
        painter.drawRoundedRect(card.translated(0, 2), px(8), px(8))
        painter.setPen(look.pen("badge_border", 1.2))
        painter.setBrush(look.brush("badge_bg"))
        painter.drawPolygon(QPolygonF([QPointF(base, cy - px(7)), QPointF(tip, ty), QPointF(base, cy + px(7))]))
        painter.drawRoundedRect(card, px(8), px(8))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRect(QRectF(min(base, base - 1.5 * self._side), cy - px(6), 2.0, px(12)))
        x = card.left() + px(12)
        y = card.top() + px(10)
        painter.setFont(t.font("badge_title"))
        painter.setPen(look.color("flow"))
        painter.drawStaticText(QPointF(x, y), look.text("badge_title", self.title))
        y += look.height("badge_title") + px(6)
        op_w, cap_w = self._cols
        line = look.height("badge") + px(4)
        for row in self.rows:
            if row.op == "=":
                painter.setPen(look.pen("badge_border", 1.0))
                painter.drawLine(QPointF(x, y - px(2)), QPointF(card.right() - px(12), y - px(2)))
            painter.setFont(t.font("badge"))
            painter.setPen(look.color("flow"))
            if row.op:
                painter.drawStaticText(QPointF(x, y), look.text("badge", row.op))
            painter.setFont(t.font("subtitle"))
            painter.setPen(look.color("text_muted"))
            sub_dy = (look.height("badge") - look.height("subtitle")) / 2
            painter.drawStaticText(QPointF(x + op_w + px(6), y + sub_dy), look.text("subtitle", row.caption))
            painter.setFont(t.font("badge"))
            painter.setPen(look.color("text" if row.value != "None" else "text_faint"))
            painter.drawStaticText(QPointF(x + op_w + px(6) + cap_w + px(10), y), look.text("badge", row.value))
            y += line


class BannerItem(QGraphicsRectItem):
    """The error of a backward call, with its hint, shown on the graph near the root."""

    def __init__(self, look: Look):
        super().__init__()
        self.look = look
        self.title = ""
        self.message = ""
        self.hint = ""
        self._lines: list[tuple[str, str]] = []
        self.setPen(Qt.PenStyle.NoPen)
        self.setZValue(Z_BANNER)
        self.setAcceptedMouseButtons(_NO_BUTTON)

    def text(self) -> str:
        return "\n".join(x for x in (self.title, self.message, self.hint) if x)

    def set_content(self, title: str, message: str, hint: str, anchor: QPointF, above: bool) -> None:
        """Place the banner centred on ``anchor.x()``, its bottom (or top) edge at ``anchor.y()``."""
        look = self.look
        px = look.theme.px
        self.title, self.message, self.hint = title, message, hint
        max_w = px(420)
        lines = [("banner_title", title)]
        lines += [("banner", s) for s in wrap_text(message, look, "banner", max_w)]
        if hint:
            lines += [("hint", s) for s in wrap_text(i18n.t("Hint: {hint}", hint=hint), look, "banner", max_w)]
        self._lines = lines
        w = max(look.width("banner_title" if r == "banner_title" else "banner", s) for r, s in lines) + px(40)
        h = px(12) + sum(look.height("banner_title" if r == "banner_title" else "banner") + px(3)
                         for r, _ in lines) + px(10) + (px(4) if hint else 0)
        y = anchor.y() - h if above else anchor.y()
        self.setRect(QRectF(anchor.x() - w / 2, y, w, h))

    def paint(self, painter: QPainter, option, widget=None) -> None:
        look = self.look
        t = look.theme
        px = t.px
        rect = self.rect()
        painter.setPen(look.pen("error", 1.4))
        painter.setBrush(look.brush("error_bg"))
        painter.drawRoundedRect(rect, px(9), px(9))
        painter.fillRect(QRectF(rect.left() + px(12), rect.top() + px(12), px(4), rect.height() - px(24)),
                         look.brush("error"))
        if _lod_of(painter.worldTransform()) < LOD_TEXT:
            return
        x = rect.left() + px(24)
        y = rect.top() + px(12)
        hint_started = False
        for role, s in self._lines:
            font_role = "banner_title" if role == "banner_title" else "banner"
            if role == "hint" and not hint_started:
                hint_started = True
                y += px(4)
            painter.setFont(t.font(font_role))
            painter.setPen(look.color("error" if role == "banner_title" else
                                      ("text_muted" if role == "hint" else "error_text")))
            painter.drawStaticText(QPointF(x, y), look.text(font_role, s))
            y += look.height(font_role) + px(3)



class OverviewItem(QGraphicsItem):
    """The whole graph drawn in a few batched calls, for zoom levels where items would be dots.

    The scene holds two of these: ``part="base"`` draws the graph itself and is cached by Qt in
    device coordinates (an animation step then costs a blit), ``part="state"`` draws the frame on
    top (done nodes, the current node with a ring of fixed screen size, the edges that carried
    gradient) from small cached lists. One Python paint call replaces thousands, which keeps a
    fit-all repaint of a 5,000-node graph fast.

    Below LOD_SHAPE (nodes a few pixels high) nodes are rectangles coloured by kind and edges
    polylines, as the items themselves draw then. From LOD_SHAPE on (an export of a big graph
    at a scale too small for text) it draws what the items draw without their text: rounded
    cards and pills, curved edges with arrowheads, done and current nodes outlined, carried
    edges coloured, each layer one path built once.
    """

    def __init__(self, look: Look, bounds: QRectF, part: str = "base"):
        super().__init__()
        self.look = look
        self.part = part
        self.bounds = QRectF(bounds)
        self.node_rects: dict[str, QRectF] = {}
        self.node_kinds: dict[str, str] = {}
        self.node_radii: dict[str, float] = {}
        self.edge_polylines: dict[tuple, list] = {}
        self.edge_curves: Mapping[tuple, tuple[QPainterPath, QPolygonF]] = {}  # made on first use (see ScenePlan)
        self.done: frozenset[str] | set[str] = frozenset()
        self.current: str | None = None
        self.active: frozenset = frozenset()
        self.carried: frozenset | set = frozenset()
        self._lines: list | None = None
        self._by_kind: dict[str, list[QRectF]] | None = None
        self._done_rects: list[QRectF] | None = None
        self._paths: dict[object, QPainterPath] = {}  # shape-mode paths, by what they draw
        self.setZValue(Z_OVERVIEW if part == "base" else Z_OVERVIEW + 1)
        self.setAcceptedMouseButtons(_NO_BUTTON)
        if part == "base":
            self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def boundingRect(self) -> QRectF:
        return self.bounds

    def set_state(self, done, current: str | None, active, carried=frozenset()) -> None:
        if done is not self.done:
            self.done = done
            self._done_rects = None
            self._paths.pop("done", None)
        if carried is not self.carried:
            self.carried = carried
            self._paths.pop(("carried", "curves"), None)
        self.current, self.active = current, active

    def paint(self, painter: QPainter, option, widget=None) -> None:
        shapes = _lod_of(painter.worldTransform()) >= LOD_SHAPE and bool(self.edge_curves or not self.edge_polylines)
        if self.part == "base":
            self.draw_base_shapes(painter) if shapes else self.draw_base(painter)
        else:
            self.draw_state_shapes(painter) if shapes else self.draw_state(painter)

    def draw_base(self, painter: QPainter) -> None:
        """The graph: edges as lines, nodes as rectangles coloured by kind."""
        look = self.look
        if self._lines is None:
            self._lines = [ln for lines in self.edge_polylines.values() for ln in lines]
            self._by_kind = {}
            for nid, rect in self.node_rects.items():
                self._by_kind.setdefault(self.node_kinds[nid], []).append(rect)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(look.pen("edge", 1.0, cosmetic=True))
        painter.drawLines(self._lines)
        painter.setPen(Qt.PenStyle.NoPen)
        for kind, rects in self._by_kind.items():
            painter.setBrush(look.brush(f"kind:{kind}"))
            painter.drawRects(rects)

    def draw_state(self, painter: QPainter) -> None:
        """The frame: done nodes, active edges, the current node."""
        look = self.look
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if self.done:
            if self._done_rects is None:
                rects = self.node_rects
                self._done_rects = [rects[n] for n in self.done if n in rects]
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(look.brush("done"))
            painter.drawRects(self._done_rects)
        if self.active:
            painter.setPen(look.pen("flow", 2.5, cosmetic=True))
            painter.drawLines([ln for k in self.active for ln in self.edge_polylines.get(k, ())])
        rect = self.node_rects.get(self.current) if self.current else None
        if rect is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(look.pen("flow", 2.0, cosmetic=True))
            painter.setBrush(look.faded("flow", 90))
            # A ring of fixed screen size so the lit node is visible at any zoom.
            scale = max(painter.worldTransform().m11(), 1e-6)
            r = max(rect.width(), rect.height()) / 2 + 8 / scale
            painter.drawEllipse(rect.center(), r, r)
            painter.setBrush(look.brush("flow"))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRect(rect)

    # -- shape mode: what the items draw without their text -------------------------------------
    # On a big export, stroking one path of thousands of curves is cheap, but *filling* one path of
    # thousands of shapes is very slow (the fill runs over the whole bounding box), so fills are one
    # call per shape and strokes one call per layer.
    def _outline_path(self, key, nids) -> QPainterPath:
        path = self._paths.get(key)
        if path is None:
            path = QPainterPath()
            rects, radii = self.node_rects, self.node_radii
            for nid in nids:
                rect = rects.get(nid)
                if rect is not None:
                    r = radii.get(nid, 0.0)
                    path.addRoundedRect(rect, r, r)
            self._paths[key] = path
        return path

    def _curves_path(self, key, keys) -> QPainterPath:
        path = self._paths.get((key, "curves"))
        if path is None or key == "active":
            path = QPainterPath()
            table = self.edge_curves
            for k in keys:
                found = table.get(k)
                if found is not None:
                    path.addPath(found[0])
            self._paths[(key, "curves")] = path
        return path

    def _arrows(self, painter: QPainter, keys, brush: QBrush) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(brush)
        table = self.edge_curves
        for k in keys:
            found = table.get(k)
            if found is not None:
                painter.drawPolygon(found[1])

    def draw_base_shapes(self, painter: QPainter) -> None:
        """The graph as the items draw it without text: curved edges, rounded cards and pills."""
        look = self.look
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(look.pen("edge", 1.3))
        painter.drawPath(self._curves_path("all", self.edge_curves))
        self._arrows(painter, self.edge_curves, look.brush("edge"))
        kinds, radii = self.node_kinds, self.node_radii
        stripe = look.theme.px(4)
        for nid, rect in self.node_rects.items():
            kind = kinds.get(nid, OP)
            pill = kind in (ROOT, LEAF, PARAM)
            painter.setPen(look.pen(f"kind:{kind}", 1.4) if pill else look.pen("border", 1.0))
            painter.setBrush(look.brush(f"tint:{kind}"))
            r = radii.get(nid, 0.0)
            painter.drawRoundedRect(rect, r, r)
            if not pill:  # the accent stripe of a card (straight: its corners are under a pixel here)
                painter.fillRect(QRectF(rect.left(), rect.top() + r / 2, stripe, rect.height() - r),
                                 look.brush(f"kind:{kind}"))

    def draw_state_shapes(self, painter: QPainter) -> None:
        """The frame on top: carried and active edges coloured, done nodes outlined, the current node lit."""
        look = self.look
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.carried:
            # Active edges are drawn over these in their own colours.
            painter.setPen(look.pen("edge_carried", 1.6))
            painter.drawPath(self._curves_path("carried", self.carried))
            self._arrows(painter, self.carried, look.brush("edge_carried"))
        if self.active:
            curves = self._curves_path("active", self.active)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(look.pen("flow_soft", 7.0))
            painter.drawPath(curves)
            painter.setPen(look.pen("flow", 2.4))
            painter.drawPath(curves)
            self._arrows(painter, self.active, look.brush("flow"))
        if self.done:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(look.pen("done", 1.6))
            painter.drawPath(self._outline_path("done", self.done))
        rect = self.node_rects.get(self.current) if self.current else None
        if rect is not None:
            r = self.node_radii.get(self.current, 0.0)
            painter.setPen(Qt.PenStyle.NoPen)
            for i, alpha in ((10, 22), (7, 40), (4, 70)):
                painter.setBrush(look.faded("flow", alpha))
                painter.drawRoundedRect(rect.adjusted(-i, -i, i, i), r + i, r + i)
            painter.setPen(look.pen("flow", 2.0))
            painter.setBrush(look.brush(f"tint:{self.node_kinds.get(self.current, OP)}"))
            painter.drawRoundedRect(rect, r, r)
