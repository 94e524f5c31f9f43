"""The canvas's background dots: a grid of points every ``STEP`` scene units.

The view follows the lit node during an animation, so every step scrolls it and the background
of the uncovered strips is drawn again. Drawing a viewport of antialiased points is a
noticeable part of a step; when the dots land a whole number of pixels apart (1:1 zoom, the
zoom people read at) they are copied from one tile instead, an order of magnitude cheaper.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen, QPixmap, QPolygonF, QTransform

STEP = 24.0
#: Dots closer than this on screen read as noise and are not drawn.
MIN_SPACING_PX = 10.0
#: Areas needing more dots than this are left plain (a long jump exposes huge strips).
MAX_DOTS = 20000


class DotGrid:
    """Draws the dots of a background rectangle (scene coordinates) with a scene's painter."""

    def __init__(self) -> None:
        self._blocks: dict[int, tuple[int, QPolygonF]] = {}  # dots per row -> (rows, points)
        self._tiles: dict[tuple, QPixmap] = {}

    def draw(self, painter: QPainter, rect: QRectF, pen: QPen) -> None:
        transform = painter.worldTransform()
        scale = transform.m11()
        if STEP * scale < MIN_SPACING_PX:
            return
        # After a long jump the view may ask for the background of everything it scrolled past
        # (hundreds of thousands of units): only what lands on the device is drawn.
        device = painter.device()
        inverse, ok = transform.inverted()
        if device is not None and ok:
            rect = rect.intersected(inverse.mapRect(QRectF(0, 0, device.width(), device.height())))
        x0 = math.floor(rect.left() / STEP) * STEP
        y0 = math.floor(rect.top() / STEP) * STEP
        nx = int((rect.right() - x0) // STEP) + 1
        ny = int((rect.bottom() - y0) // STEP) + 1
        if rect.isEmpty() or nx * ny > MAX_DOTS:
            return
        if self._draw_tiled(painter, transform, rect, pen, device):
            return
        painter.save()
        painter.setPen(pen)
        painter.setClipRect(rect, Qt.ClipOperation.IntersectClip)
        painter.translate(x0, y0)
        painter.drawPoints(self._block(nx, ny))
        painter.restore()

    def _block(self, nx: int, ny: int) -> QPolygonF:
        """``nx`` dots per row, ``ny`` rows, made once per width and cut to the height."""
        rows, block = self._blocks.get(nx, (0, None))
        if block is None or rows < ny:
            if len(self._blocks) > 32:
                self._blocks.clear()
            rows = max(ny, 48)
            block = QPolygonF([QPointF(i * STEP, j * STEP) for j in range(rows) for i in range(nx)])
            self._blocks[nx] = (rows, block)
        return block if rows == ny else block.mid(0, nx * ny)

    def _draw_tiled(self, painter: QPainter, transform: QTransform, rect: QRectF, pen: QPen, device) -> bool:
        """Copy the dots from a tile when they are a whole number of device pixels apart."""
        if transform.type().value > QTransform.TransformationType.TxScale.value or transform.m11() != transform.m22():
            return False
        spacing = STEP * transform.m11()
        period = round(spacing)
        if abs(spacing - period) > 1e-6:
            return False
        # Dot k sits at k * period + offset on the device; the tile holds one dot at its centre,
        # drawn at the same fraction of a pixel as the points would be.
        ox, oy = transform.dx() % period, transform.dy() % period
        fx, fy = ox % 1.0, oy % 1.0
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        tile = self._tile(period, fx, fy, pen, ratio)
        centre = period // 2
        area = transform.mapRect(rect).toAlignedRect()
        start_x, start_y = math.floor(ox) - centre, math.floor(oy) - centre  # a tile's top left
        painter.save()
        painter.resetTransform()
        painter.setClipRect(transform.mapRect(rect), Qt.ClipOperation.IntersectClip)
        painter.drawTiledPixmap(QRectF(area), tile, QPointF((area.left() - start_x) % period,
                                                            (area.top() - start_y) % period))
        painter.restore()
        return True

    def _tile(self, period: int, fx: float, fy: float, pen: QPen, ratio: float) -> QPixmap:
        key = (period, round(fx, 3), round(fy, 3), pen.color().rgba(), pen.widthF(), ratio)
        tile = self._tiles.get(key)
        if tile is None:
            if len(self._tiles) > 16:
                self._tiles.clear()
            size = max(1, round(period * ratio))
            tile = QPixmap(size, size)
            tile.setDevicePixelRatio(ratio)
            tile.fill(Qt.GlobalColor.transparent)
            p = QPainter(tile)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(pen)
            centre = period // 2
            p.drawPoint(QPointF(centre + fx, centre + fy))
            p.end()
            self._tiles[key] = tile
        return tile
