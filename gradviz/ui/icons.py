"""Toolbar icons: the SVGs of resources/icons drawn in the theme's colour (made on demand, never at import)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap

from gradviz.core.resources import resource_path


@cache
def _svg_text(name: str) -> str:
    try:
        return resource_path("icons", f"{name}.svg").read_text(encoding="utf-8")
    except OSError:
        return ""


def icon(name: str, color: str, disabled: str | None = None) -> QIcon:
    """The icon ``name`` with ``currentColor`` painted as ``color`` (and ``disabled`` when greyed)."""
    from PySide6.QtSvg import QSvgRenderer

    text = _svg_text(name)
    result = QIcon()
    if not text:
        return result
    for mode, col in ((QIcon.Mode.Normal, color), (QIcon.Mode.Disabled, disabled or color + "55")):
        renderer = QSvgRenderer(QByteArray(text.replace("currentColor", col).encode("utf-8")))
        for size in (16, 20, 24, 32, 48):
            image = QImage(size * 2, size * 2, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter, QRectF(0, 0, size * 2, size * 2))
            painter.end()
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(2.0)
            result.addPixmap(pixmap, mode)
    return result
