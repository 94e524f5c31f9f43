"""Background dots: copied from a tile at whole-pixel spacing, drawn as points otherwise; both look the same."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from gradviz.ui.canvas.grid import STEP, DotGrid

pytestmark = pytest.mark.usefixtures("qapp")

PEN = QPen(QColor("#9aa3b5"), 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
PEN.setCosmetic(True)


def paint(scale: float, dx: float, dy: float, rect: QRectF, tiles: bool) -> np.ndarray:
    image = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.white)
    grid = DotGrid()
    if not tiles:
        grid._draw_tiled = lambda *a: False  # the point path, for comparison
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.translate(dx, dy)
    p.scale(scale, scale)
    grid.draw(p, rect, PEN)
    p.end()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(300, 400, 4)
    return data[:, :, :3].astype(int)


@pytest.mark.parametrize("dx, dy", [(0.0, 0.0), (7.0, -13.0), (3.5, 0.25), (-100.75, 40.5)])
def test_tiles_put_the_same_dots_where_points_would(dx, dy):
    rect = QRectF(-200, -200, 900, 900)
    tiled, points = paint(1.0, dx, dy, rect, True), paint(1.0, dx, dy, rect, False)
    dark_t, dark_p = tiled.sum(axis=2) < 700, points.sum(axis=2) < 700
    assert dark_p.sum() > 100  # there are dots to compare
    assert np.abs(tiled - points).max() <= 24  # the same dots, up to antialiasing rounding
    assert (dark_t == dark_p).mean() > 0.999


def test_only_the_asked_rectangle_gets_dots():
    strip = QRectF(30, 40, 60, 200)
    image = paint(1.0, 0.0, 0.0, strip, True)
    dark = image.sum(axis=2) < 740
    ys, xs = np.nonzero(dark)
    assert xs.min() >= 30 and xs.max() < 90 and ys.min() >= 40 and ys.max() < 240
    assert len(set((xs // STEP).tolist())) >= 2


def test_other_zooms_draw_points_and_crowded_dots_are_left_out():
    grid = DotGrid()
    used = []
    grid._draw_tiled = lambda *a: used.append(True) or DotGrid._draw_tiled(grid, *a)
    image = QImage(200, 200, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.white)
    p = QPainter(image)
    p.scale(0.83, 0.83)  # 19.92 px apart: not whole pixels
    grid.draw(p, QRectF(0, 0, 240, 240), PEN)
    p.resetTransform()
    p.scale(0.2, 0.2)  # 4.8 px apart: too dense, nothing drawn
    grid.draw(p, QRectF(0, 0, 1000, 1000), PEN)
    p.end()
    assert used == [True]  # asked once (at 0.83), declined; never at 0.2
    assert not grid._tiles and grid._blocks
