"""Minimap: a thumbnail of a big graph in the corner of the canvas; click or drag it to navigate."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QWidget

MAX_W, MAX_H = 220, 160
MARGIN = 12


class Minimap(QWidget):
    """The whole graph drawn small, with the part the view shows outlined.

    The thumbnail is the scene's batched overview painted once into a pixmap (again only when
    the graph or the theme changes); the current node of the animation and the view rectangle
    are drawn live on top.
    """

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self._pixmap: QPixmap | None = None
        self._map = QTransform()  # scene -> minimap widget coordinates
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    def invalidate(self) -> None:
        self._pixmap = None
        self.update()

    def sizeHint(self) -> QSize:
        rect = self._graph_rect()
        if rect.isEmpty():
            return QSize(MAX_W, MAX_H)
        s = min((MAX_W - 8) / rect.width(), (MAX_H - 8) / rect.height())
        return QSize(max(60, round(rect.width() * s) + 8), max(40, round(rect.height() * s) + 8))

    def _graph_rect(self) -> QRectF:
        return self.view.scene().graph_rect() if self.view.scene().has_graph() else QRectF()

    def place(self) -> None:
        size = self.sizeHint()
        if size != self.size():
            self.resize(size)
            self._pixmap = None
        vp = self.view.viewport().geometry()
        self.move(vp.right() - size.width() - MARGIN, vp.bottom() - size.height() - MARGIN)
        self.raise_()

    def _update_map(self) -> QTransform:
        """Scene -> widget: the graph centred in the widget with a 4 px border."""
        rect = self._graph_rect()
        w, h = self.width(), self.height()
        s = min((w - 8) / max(rect.width(), 1), (h - 8) / max(rect.height(), 1))
        ox = (w - rect.width() * s) / 2 - rect.left() * s
        oy = (h - rect.height() * s) / 2 - rect.top() * s
        self._map = QTransform(s, 0, 0, s, ox, oy)
        return self._map

    def _render(self) -> None:
        scene = self.view.scene()
        w, h = self.width(), self.height()
        ratio = self.devicePixelRatioF()
        image = QImage(round(w * ratio), round(h * ratio), QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        look = scene.look
        bg = QColor(look.color("surface"))
        bg.setAlpha(235)
        p.setPen(QPen(look.color("border"), 1))
        p.setBrush(bg)
        p.drawRoundedRect(QRectF(0.5, 0.5, w - 1, h - 1), 6, 6)
        p.setTransform(self._update_map())
        overview = scene.ensure_overview()
        overview.draw_base(p)
        p.end()
        self._pixmap = QPixmap.fromImage(image)

    def paintEvent(self, event) -> None:
        if self._pixmap is None or self._pixmap.size() != self.size() * self.devicePixelRatioF():
            self._render()
        p = QPainter(self)
        p.drawPixmap(0, 0, self._pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        look = self.view.scene().look
        frame = self.view.frame
        current = self.view.scene().node_rect(frame.current) if frame is not None else None
        if current is not None:
            c = self._map.map(current.center())
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(look.color("flow"))
            p.drawEllipse(c, 3.5, 3.5)
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        r = self._map.mapRect(visible).intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        fill = QColor(look.color("selection"))
        fill.setAlpha(40)
        p.setBrush(fill)
        p.setPen(QPen(look.color("selection"), 1.5))
        p.drawRect(r)
        p.end()

    def _navigate(self, pos: QPointF) -> None:
        inverse, ok = self._update_map().inverted()
        if ok:
            self.view.centerOn(inverse.map(pos))
            self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._navigate(event.position())
            event.accept()

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._navigate(event.position())
            event.accept()

    def mouseReleaseEvent(self, event) -> None:
        event.accept()

    def wheelEvent(self, event) -> None:
        event.accept()  # a wheel over the minimap must not zoom the view under it
