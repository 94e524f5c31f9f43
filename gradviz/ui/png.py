"""PNG files from QImages: 8-bit RGB, or RGBA when the image has transparency; no metadata chunks.

Qt's writer (libpng) tries several row filters on every row; on the graph pictures gradviz draws
(flat colours, mostly background) that search costs more time than it saves bytes. Here rows
are stored unfiltered and compressed by zlib in one go, big images in two halves at once: a few
times faster than Qt's writer at its fastest setting, for files of about the same size
(``benchmarks/bench_canvas.py`` times the overview export). The bytes depend on the pixels only.
"""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtGui import QImage

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: zlib level by image size: small pictures get the tighter setting (their encoding takes a few
#: milliseconds either way), big ones the fastest, where time grows with the pixel count.
FAST_PIXELS = 1_000_000
SMALL_LEVEL = 6
FAST_LEVEL = 1
#: The two bytes that open a zlib stream made at the fastest level (32 kB window, deflate).
ZLIB_FAST_HEADER = b"\x78\x01"
COLOR_RGB = 2
COLOR_RGBA = 6


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode(image: QImage) -> bytes:
    """The PNG bytes of ``image``; an image with an alpha channel keeps it (straight, not premultiplied)."""
    if image.isNull():
        raise ValueError("cannot encode an empty image as PNG")
    alpha = image.hasAlphaChannel()
    converted = image.convertToFormat(QImage.Format.Format_RGBA8888 if alpha else QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    channels = 4 if alpha else 3
    stride = converted.bytesPerLine()
    pixels = np.frombuffer(converted.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    rows = np.empty((height, 1 + width * channels), np.uint8)
    rows[:, 0] = 0  # filter type 0 (none) on every row
    rows[:, 1:] = pixels[:, : width * channels]
    if width * height >= FAST_PIXELS:
        data = _deflate_halves(rows)
    else:
        data = zlib.compress(rows.data, SMALL_LEVEL)
    header = struct.pack(">IIBBBBB", width, height, 8, COLOR_RGBA if alpha else COLOR_RGB, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _deflate_halves(rows: np.ndarray) -> bytes:
    """One zlib stream (fastest level) of ``rows``, its two halves compressed at the same time.

    zlib lets go of the GIL while it compresses, so a second thread uses the other core: the
    first half ends with a full flush (byte-aligned, nothing referred to across it) and the two
    deflate parts join into one stream. Always two halves, so the bytes depend on the pixels
    only, not on the machine.
    """
    half = len(rows) // 2
    first, second = rows[:half].data, rows[half:].data

    def deflate(part, mode: int) -> bytes:
        packer = zlib.compressobj(FAST_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        return packer.compress(part) + packer.flush(mode)

    with ThreadPoolExecutor(1) as pool:
        head = pool.submit(deflate, first, zlib.Z_FULL_FLUSH)
        tail = deflate(second, zlib.Z_FINISH)
        checksum = zlib.adler32(second, zlib.adler32(first))
        body = head.result() + tail
    return ZLIB_FAST_HEADER + body + checksum.to_bytes(4, "big")
