"""The PNG encoder: lossless for opaque and transparent images, valid for other readers, deterministic."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from gradviz.ui import png

pytestmark = pytest.mark.usefixtures("qapp")  # text drawing needs the application's fonts


def drawing(width: int, height: int, transparent: bool) -> QImage:
    """Antialiased shapes and text over a flat or transparent background."""
    fmt = QImage.Format.Format_ARGB32_Premultiplied if transparent else QImage.Format.Format_RGB32
    image = QImage(width, height, fmt)
    image.fill(Qt.GlobalColor.transparent if transparent else QColor("#fafafa"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(30, 120, 200, 160))
    painter.drawRoundedRect(QRectF(5, 5, width * 0.6, height * 0.5), 6, 6)
    painter.setPen(QColor("#c03030"))
    painter.drawLine(QPointF(0, height - 1), QPointF(width - 1, 0))
    painter.drawText(QPointF(8, height - 8), "AddBackward0 ∑")
    painter.end()
    return image


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    stride = image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=stride * image.height())
    return data.reshape(image.height(), stride)[:, : image.width() * 4].copy()


@pytest.mark.parametrize("size", [(1, 1), (97, 31), (301, 1203)])
def test_opaque_image_round_trips_exactly_as_rgb(size):
    image = drawing(*size, transparent=False)
    data = png.encode(image)
    back = QImage.fromData(data, "PNG")
    assert (back.width(), back.height()) == size
    assert not back.hasAlphaChannel()
    assert np.array_equal(pixels(back), pixels(image))
    with Image.open(io.BytesIO(data)) as pil:  # a second, independent reader accepts it
        assert pil.mode == "RGB" and pil.size == size
        pil.load()


def test_transparent_image_keeps_its_alpha_straight():
    image = drawing(120, 80, transparent=True)
    data = png.encode(image)
    with Image.open(io.BytesIO(data)) as pil:
        assert pil.mode == "RGBA"
        rgba = np.asarray(pil)
    assert rgba[0, -1, 3] == 0  # untouched corner stays fully transparent
    inside = rgba[20, 20]
    assert inside[3] == 160 and abs(int(inside[2]) - 200) <= 2  # straight colour, not premultiplied
    assert np.array_equal(pixels(QImage.fromData(data, "PNG")), pixels(image))


def test_bytes_depend_on_pixels_only_and_chunks_are_checked():
    a, b = png.encode(drawing(64, 48, False)), png.encode(drawing(64, 48, False))
    assert a == b and a.startswith(png.SIGNATURE)
    kinds, pos = [], len(png.SIGNATURE)
    while pos < len(a):
        length = int.from_bytes(a[pos:pos + 4], "big")
        kind, body = a[pos + 4:pos + 8], a[pos + 8:pos + 8 + length]
        assert int.from_bytes(a[pos + 8 + length:pos + 12 + length], "big") == zlib.crc32(kind + body)
        kinds.append(kind)
        pos += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]  # no time or text chunks


def test_big_images_use_the_fast_level_and_stay_lossless():
    image = drawing(100, png.FAST_PIXELS // 100 + 1, transparent=False)
    data = png.encode(image)
    body = data[len(png.SIGNATURE) + 25 + 8:]
    assert body[:2] == b"\x78\x01"  # zlib header of the fastest level
    assert np.array_equal(pixels(QImage.fromData(data, "PNG")), pixels(image))


def test_empty_image_is_refused():
    with pytest.raises(ValueError, match="empty image"):
        png.encode(QImage())


def test_the_two_halves_of_a_big_image_make_one_valid_zlib_stream():
    rng = np.random.default_rng(0)
    for height in (1, 2, 3, 501):  # odd, even, a single row, an empty first half
        rows = rng.integers(0, 4, size=(height, 1 + 7 * 3), dtype=np.uint8)
        data = png._deflate_halves(rows)
        assert data[:2] == png.ZLIB_FAST_HEADER
        assert zlib.decompress(data) == rows.tobytes()  # also checks the joined Adler-32
