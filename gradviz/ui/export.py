"""Export the graph canvas: PNG at a scale, SVG with text labels, GIF/APNG and PNG frames of a backward pass.

Pure functions of a GraphScene (the same scene and items the app shows): no dialogs, no files
unless asked (``write_png_frames``). Output is deterministic: the same scene and frames give the
same bytes (no timestamps or other metadata are written).

An animation has one image per Replay frame: frame 0 (the graph before the engine starts) and
then one per backward step, so ``len(call.steps) + 1`` images. The last one is held longer.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QStaticText
from PySide6.QtWidgets import QGraphicsItem

from gradviz.core import i18n
from gradviz.core.replay import Replay
from gradviz.core.result import BackwardCall
from gradviz.ui import png
from gradviz.ui.canvas.items import LOD_TEXT
from gradviz.ui.canvas.scene import NODE_CACHE, GraphScene
from gradviz.ui.canvas.view import OVERVIEW_MIN_NODES
from gradviz.ui.numbers import split_op
from gradviz.ui.theme import CJK_MONO, CJK_SANS

MARGIN = 24.0  # scene units around the graph's bounding rect
#: Images are shrunk to stay below this many pixels: a 5,000-node graph at 1x would be gigapixels,
#: and PNG encoding time grows with the pixel count (16 Mpx: about 0.4 s here).
MAX_PIXELS = 16_000_000
#: Overview exports (big graphs at scales without text) stop at fewer pixels: their shapes stay
#: recognisable at a quarter of the size, and PNG encoding of a 16 Mpx strip alone took 0.5 s.
OVERVIEW_MAX_PIXELS = 4_000_000
FRAME_MS = 900  # one animation step
LAST_FRAME_MS = 2600  # the finished pass stays on screen a little longer
FIRST_FRAME_MS = 1200


@dataclass(frozen=True)
class Caption:
    """Text drawn above an exported graph: a lesson title, the statement, the step."""

    title: str = ""
    statement: str = ""
    step: str = ""

    def __bool__(self) -> bool:
        return bool(self.title or self.statement or self.step)


def step_caption(call: BackwardCall, step: int, base: Caption | None = None) -> Caption:
    """``base`` with its step text set to "step k / n · Op" for ``step`` of ``call``."""
    base = base or Caption()
    n = len(call.steps)
    if step <= 0:
        text = i18n.t("before backward \u00b7 {count} steps", count=n)
    else:
        st = call.steps[min(step, n) - 1]
        op = "".join(split_op(st.op))
        text = i18n.t("step {step} / {count} \u00b7 {op}", step=min(step, n), count=n, op=op)
    return Caption(base.title, base.statement, text)


def export_rect(scene: GraphScene, overview: bool = False) -> QRectF:
    """The part of the scene an export shows: what is drawn (``overview``: by the overview), with a margin."""
    return scene.graph_rect(overview).adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


class _Prepared:
    """Scene switched to export looks (no grid; the items, or the overview) for a with-block.

    ``overview=True`` draws a big graph with its batched overview (what the canvas shows when
    zoomed far out): at scales where no text can be read, it is the same picture for a
    fraction of the cost, and the scene's items are not even needed (none are made).
    """

    def __init__(self, scene: GraphScene, transparent: bool, overview: bool = False):
        self.scene, self.transparent, self.overview = scene, transparent, overview

    def __enter__(self) -> _Prepared:
        s = self.scene
        if not self.overview:
            s.finish_build()  # an incremental build still going: export needs every item
        self.saved = (s.show_grid, s.transparent, s.detail)
        s.show_grid = False
        s.transparent = self.transparent
        self.cached = [item for item in s.node_items.values()
                       if item.cacheMode() != QGraphicsItem.CacheMode.NoCache] if not self.overview else []
        for item in self.cached:  # painted straight into the image: the same pixels as a small graph's
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        if self.overview:
            base = s.ensure_overview()
            # Painted straight into the image: a device cache as big as the export is no help.
            self.saved_cache = base.cacheMode()
            base.setCacheMode(QGraphicsItem.CacheMode.NoCache)
            s.set_detail(False)
        else:
            s.set_detail(True)
        return self

    def labels_for(self, scale: float) -> None:
        """A big graph's label items for the whole export, when its text will be readable."""
        scene = self.scene
        if scene.lazy and scale >= LOD_TEXT and not self.overview:
            scene.realize(scene.graph_rect().adjusted(-1e4, -1e4, 1e4, 1e4))

    def __exit__(self, *exc):
        s = self.scene
        s.show_grid, s.transparent = self.saved[0], self.saved[1]
        if self.overview:
            s.overview.setCacheMode(self.saved_cache)
        for item in self.cached:
            item.setCacheMode(NODE_CACHE)
        s.set_detail(self.saved[2])
        return False


def uses_overview(scene: GraphScene, scale: float) -> bool:
    """True when an export of ``scene`` at ``scale`` (pixels per scene unit) draws the overview.

    Big graphs (those the canvas draws with an overview when zoomed out) at scales where the
    canvas would draw no text: the export looks like the canvas at that zoom, costs a fraction.
    Small graphs, and any graph at a readable scale, keep their full drawing.
    """
    return len(scene.graph.nodes) >= OVERVIEW_MIN_NODES and scale < LOD_TEXT


def draws_overview(scene: GraphScene, scale: float = 1.0, caption: Caption | None = None,
                   rect: QRectF | None = None) -> bool:
    """True when ``png_bytes(scene, scale, …, caption)`` (``render_image`` of ``rect``) draws the
    overview: decided by the size of the graph, not by the callouts of the frame shown (hidden
    in an overview, and sized by the numbers they hold)."""
    rect = QRectF(rect) if rect is not None else export_rect(scene, overview=True)
    return uses_overview(scene, fit_scale(*_layout(scene, rect, caption)[:2], scale))


def _caption_height(scene: GraphScene, caption: Caption | None) -> float:
    if not caption:
        return 0.0
    look = scene.look
    px = look.theme.px
    h = px(14)
    if caption.title or caption.step:
        h += look.height("caption_title") + px(4)
    if caption.statement:
        h += (look.height("caption") + px(3)) * len(caption.statement.splitlines()) + px(2)
    return h + px(8)


def _caption_width(scene: GraphScene, caption: Caption | None) -> float:
    if not caption:
        return 0.0
    look = scene.look
    px = look.theme.px
    w = look.width("caption_title", caption.title) + px(40) + look.width("caption", caption.step)
    for line in caption.statement.splitlines():
        w = max(w, look.width("caption", line))
    return w + 2 * px(MARGIN)


def _draw_caption(painter: QPainter, scene: GraphScene, caption: Caption, width: float) -> None:
    look = scene.look
    t = look.theme
    px = t.px
    x, y = MARGIN, px(14)
    if caption.title or caption.step:
        painter.setFont(t.font("caption_title"))
        painter.setPen(look.color("text"))
        if caption.title:
            painter.drawStaticText(QPointF(x, y), _static(caption.title))
        if caption.step:
            painter.setFont(t.font("caption"))
            painter.setPen(look.color("flow"))
            w = look.width("caption", caption.step)
            dy = look.height("caption_title") - look.height("caption")
            painter.drawStaticText(QPointF(width - MARGIN - w, y + dy), _static(caption.step))
        y += look.height("caption_title") + px(4)
    if caption.statement:
        painter.setFont(t.font("caption"))
        painter.setPen(look.color("text_muted"))
        for line in caption.statement.splitlines():
            painter.drawStaticText(QPointF(x, y), _static(line))
            y += look.height("caption") + px(3)
    painter.setPen(look.pen("border", 1.0))
    bottom = _caption_height(scene, caption) - px(4)
    painter.drawLine(QPointF(x, bottom), QPointF(width - MARGIN, bottom))


def _static(text: str) -> QStaticText:
    st = QStaticText(text)
    st.setTextFormat(Qt.TextFormat.PlainText)
    return st


def _layout(scene: GraphScene, rect: QRectF, caption: Caption | None) -> tuple[float, float, float]:
    """Width and height of the export in scene units, and the caption's height."""
    cap_h = _caption_height(scene, caption)
    return max(rect.width(), _caption_width(scene, caption)), rect.height() + cap_h, cap_h


def _paint(painter: QPainter, scene: GraphScene, rect: QRectF, caption: Caption | None,
           transparent: bool, width: float, height: float, cap_h: float, filled: bool = False) -> None:
    """Paint caption and graph in scene units (the painter is already scaled).

    ``filled``: the device already has the background (an image filled when made).
    """
    if not transparent and not filled:
        painter.fillRect(QRectF(0, 0, width, height), scene.look.brush("background"))
    if caption:
        _draw_caption(painter, scene, caption, width)
    # Centre the graph horizontally when the caption is wider than it.
    src = QRectF(rect)
    dx = (width - rect.width()) / 2
    target = QRectF(dx, cap_h, rect.width(), rect.height())
    scene.render(painter, target, src, Qt.AspectRatioMode.IgnoreAspectRatio)


def fit_scale(width: float, height: float, scale: float, max_pixels: int | None = None) -> float:
    """``scale``, reduced so that the image stays under ``max_pixels`` (default MAX_PIXELS)."""
    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    pixels = width * height * scale * scale
    if pixels > max_pixels:
        scale *= math.sqrt(max_pixels / pixels)
    return scale


def render_image(scene: GraphScene, scale: float = 1.0, transparent: bool = False,
                 caption: Caption | None = None, rect: QRectF | None = None) -> QImage:
    """The scene as it stands (its current frame) rendered into an image at ``scale``.

    ``rect`` is the part of the scene to show (default: ``export_rect``); the image is
    ``ceil(width * scale) × ceil(height * scale)`` pixels, caption included.
    """
    overview = draws_overview(scene, scale, caption, rect)
    cap = OVERVIEW_MAX_PIXELS if overview else MAX_PIXELS
    with _Prepared(scene, transparent, overview) as prepared:
        if rect is None and not overview:  # the overview draws no labels
            prepared.labels_for(fit_scale(*_layout(scene, export_rect(scene), caption)[:2], scale))
        rect = QRectF(rect) if rect is not None else export_rect(scene, overview)
        width, height, cap_h = _layout(scene, rect, caption)
        scale = fit_scale(width, height, scale, cap)
        size = QSize(max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
        # Opaque images are RGB32: quicker to fill and to encode than ARGB.
        fmt = QImage.Format.Format_ARGB32_Premultiplied if transparent else QImage.Format.Format_RGB32
        image = QImage(size, fmt)
        image.fill(Qt.GlobalColor.transparent if transparent else scene.look.color("background"))
        painter = QPainter(image)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                               | QPainter.RenderHint.SmoothPixmapTransform)
        painter.scale(scale, scale)
        _paint(painter, scene, rect, caption, transparent, width, height, cap_h, filled=True)
        painter.end()
    return image


def png_bytes(scene: GraphScene, scale: float = 1.0, transparent: bool = False,
              caption: Caption | None = None) -> bytes:
    """The scene at its current frame as PNG bytes, ``scale`` × its size (1, 2, 4 …)."""
    return png.encode(render_image(scene, scale, transparent, caption))


def svg_bytes(scene: GraphScene, caption: Caption | None = None, transparent: bool = False,
              title: str = "gradviz autograd graph") -> bytes:
    """The scene at its current frame as SVG; node and edge labels stay ``<text>`` elements."""
    with _Prepared(scene, transparent) as prepared:
        prepared.labels_for(1.0)
        rect = export_rect(scene)
        width, height, cap_h = _layout(scene, rect, caption)
        with svg_document(width, height, title) as (painter, out):
            _paint(painter, scene, rect, caption, transparent, width, height, cap_h)
    return out.data


class SvgOut:
    """What svg_document leaves: the finished SVG (with generic font fallbacks) once the block ends."""

    data: bytes = b""


@contextmanager
def svg_document(width: float, height: float, title: str) -> Iterator[tuple[QPainter, SvgOut]]:
    """A painter on an SVG document of ``width`` x ``height`` pixels; at the end of the block the
    document is finished and its bytes are in the SvgOut."""
    from PySide6.QtSvg import QSvgGenerator

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QSize(math.ceil(width), math.ceil(height)))
    gen.setViewBox(QRectF(0, 0, math.ceil(width), math.ceil(height)))
    gen.setTitle(title)
    gen.setDescription("Made with gradviz")
    gen.setResolution(96)
    painter = QPainter(gen)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    out = SvgOut()
    try:
        yield painter, out
    finally:
        painter.end()
        buf.close()
    out.data = _generic_fallbacks(bytes(data.data()))


#: What an SVG viewer without any of the listed fonts should fall back to: without a generic family
#: it takes its default (often a serif, wider than the text was measured in), and labels overrun
#: their boxes and strike-through lines. Before it, a CJK family, for Chinese text: a viewer whose
#: generic family has no CJK glyphs would draw boxes.
_GENERIC = {b"DejaVu Sans Mono": (CJK_MONO.encode(), b"monospace"), b"DejaVu Sans": (CJK_SANS.encode(), b"sans-serif"),
            b"Sans Serif": (CJK_SANS.encode(), b"sans-serif"), CJK_SANS.encode(): (b"", b"sans-serif"),
            CJK_MONO.encode(): (b"", b"monospace")}
_FAMILY = re.compile(rb'font-family="([^"]*)"')


def _generic_fallbacks(svg: bytes) -> bytes:
    """Every ``font-family`` list ends with a CJK family and the generic family of its last font."""

    def add(match: re.Match) -> bytes:
        families = match.group(1)
        last = families.rsplit(b",", 1)[-1].strip()
        if last not in _GENERIC:
            return match.group(0)
        cjk, generic = _GENERIC[last]
        return b'font-family="' + families + (b"," + cjk if cjk else b"") + b"," + generic + b'"'

    return _FAMILY.sub(add, svg)


# ----------------------------------------------------------------------------------- animations
def animation_images(scene: GraphScene, call: BackwardCall, scale: float = 1.0,
                     transparent: bool = False, caption: Caption | None = None,
                     steps: list[int] | None = None) -> list[QImage]:
    """One image per frame of ``call`` (frame 0, then one per step), all the same size.

    The scene shows the frame it showed before afterwards. ``caption`` (if any) gets the step
    text of each frame.
    """
    replay = Replay(call)
    steps = list(range(len(replay))) if steps is None else steps
    shown = (scene.frame, scene.call)
    # The crop must hold every frame (badges and labels come and go): take the union first.
    # The overview shows none of them: its crop is the graph's.
    if draws_overview(scene, scale, caption):
        rect = export_rect(scene, overview=True)
    else:
        with _Prepared(scene, transparent) as prepared:
            prepared.labels_for(fit_scale(*_layout(scene, export_rect(scene), caption)[:2], scale))
        rect = QRectF()
        for k in steps:
            scene.apply_frame(replay.frame(k), call)
            rect = rect.united(export_rect(scene))
    images = []
    for k in steps:
        scene.apply_frame(replay.frame(k), call)
        cap = step_caption(call, k, caption) if caption is not None else None
        images.append(render_image(scene, scale, transparent, cap, rect))
    scene.apply_frame(*shown)
    # Every frame the same size: the caption may differ in width from frame to frame.
    w = max(im.width() for im in images)
    h = max(im.height() for im in images)
    out = []
    for im in images:
        if im.width() == w and im.height() == h:
            out.append(im)
            continue
        padded = QImage(w, h, im.format())
        padded.fill(Qt.GlobalColor.transparent if transparent else scene.look.color("background"))
        p = QPainter(padded)
        p.drawImage(0, 0, im)
        p.end()
        out.append(padded)
    return out


def _to_pil(image: QImage):
    from PIL import Image

    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = rgba.width(), rgba.height()
    raw = bytes(rgba.constBits())[: rgba.bytesPerLine() * h]
    return Image.frombuffer("RGBA", (w, h), raw, "raw", "RGBA", rgba.bytesPerLine(), 1).copy()


def _durations(n: int, frame_ms: int) -> list[int]:
    if n == 1:
        return [LAST_FRAME_MS]
    return [FIRST_FRAME_MS] + [frame_ms] * (n - 2) + [LAST_FRAME_MS]


def gif_bytes(scene: GraphScene, call: BackwardCall, scale: float = 1.0,
              caption: Caption | None = None, frame_ms: int = FRAME_MS) -> bytes:
    """An animated GIF of the backward pass: ``len(call.steps) + 1`` frames, looping.

    All frames share one 255-colour palette taken from the first, middle and last frame, and
    are mapped to it without dithering (flat areas stay flat; same input, same bytes).
    """
    frames = [_to_pil(im).convert("RGB") for im in animation_images(scene, call, scale, False, caption)]
    return encode_gif(frames, frame_ms)


def encode_gif(frames: list, frame_ms: int = FRAME_MS) -> bytes:
    """RGB PIL frames as a looping GIF with one shared palette (see ``gif_bytes``)."""
    from PIL import Image

    picks = sorted({0, len(frames) // 2, len(frames) - 1})
    sample = Image.new("RGB", (frames[0].width, frames[0].height * len(picks)))
    for i, k in enumerate(picks):
        sample.paste(frames[k], (0, i * frames[0].height))
    palette = sample.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    quant = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    out = io.BytesIO()
    quant[0].save(out, format="GIF", save_all=True, append_images=quant[1:], loop=0,
                  duration=_durations(len(quant), frame_ms), disposal=1, optimize=False)
    return out.getvalue()


def apng_bytes(scene: GraphScene, call: BackwardCall, scale: float = 1.0, transparent: bool = False,
               caption: Caption | None = None, frame_ms: int = FRAME_MS) -> bytes:
    """An animated PNG of the backward pass (full colour, optional transparency), looping."""
    frames = [_to_pil(im) for im in animation_images(scene, call, scale, transparent, caption)]
    if not transparent:
        frames = [f.convert("RGB") for f in frames]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:], loop=0,
                   duration=_durations(len(frames), frame_ms), disposal=0, blend=0, default_image=False)
    return out.getvalue()


def write_png_frames(scene: GraphScene, call: BackwardCall, folder: str | Path, scale: float = 1.0,
                     transparent: bool = False, caption: Caption | None = None,
                     prefix: str = "frame") -> list[Path]:
    """Numbered PNG files ``frame_000.png`` … (frame 0 is before the first step) in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images = animation_images(scene, call, scale, transparent, caption)
    digits = max(3, len(str(len(images) - 1)))
    paths = []
    for k, image in enumerate(images):
        path = folder / f"{prefix}_{k:0{digits}d}.png"
        path.write_bytes(png.encode(image))
        paths.append(path)
    return paths
