"""Export two graph canvases side by side (compare mode): one PNG or SVG, or one GIF/APNG whose
frames step both backward passes together.

Pure functions of two GraphScenes, like ``gradviz.ui.export``: each side is the picture that
module makes of its scene (with its title as a caption), placed left and right under one legend
of the difference marks. Frame i of the animation shows frame ``Comparison.pair(i)`` of the two
calls, so a GIF has ``Comparison.frames`` frames: the longer call's count, the shorter one
holding its last.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter

from gradviz.core.compare import Comparison
from gradviz.core.i18n import t
from gradviz.core.result import BackwardCall
from gradviz.ui import export, png
from gradviz.ui.canvas.compare_marks import GRAD, ONLY, mark_pen
from gradviz.ui.canvas.scene import GraphScene

GAP = 28.0  # scene units between the two pictures (a divider runs down the middle)


@dataclass
class Side:
    """One side of the comparison: its scene (marks added), the call it shows, its caption."""

    scene: GraphScene
    call: BackwardCall | None
    caption: export.Caption


def legend_entries(comparison: Comparison | None) -> list[tuple[str | None, str]]:
    """(mark kind or None, text) of the legend: the two marks, or a line saying nothing differs."""
    if comparison is None:
        return [(None, t("No backward call on one side: nothing to compare"))]
    if comparison.identical:
        return [(None, t("No differences: the same nodes and the same .grad values"))]
    entries: list[tuple[str | None, str]] = []
    if comparison.only_a or comparison.only_b:
        entries.append((ONLY, t("node only one run has ({a} in A, {b} in B)",
                                a=len(comparison.only_a), b=len(comparison.only_b))))
    if comparison.grads:
        names = ", ".join(g.name for g in comparison.grads[:4]) + (", …" if len(comparison.grads) > 4 else "")
        entries.append((GRAD, t(".grad differs: {names}", names=names)))
    return entries


def _legend_height(scene: GraphScene) -> float:
    px = scene.theme.px
    return scene.look.height("caption") + px(20)


def _legend_width(scene: GraphScene, entries) -> float:
    px = scene.theme.px
    look = scene.look
    return sum(px(36) + look.width("caption", text) for _, text in entries) + 2 * export.MARGIN


def _draw_legend(painter: QPainter, scene: GraphScene, entries, width: float) -> None:
    look = scene.look
    theme = scene.theme
    px = theme.px
    h = _legend_height(scene)
    x = export.MARGIN
    mid = h / 2
    painter.setFont(theme.font("caption"))
    for kind, text in entries:
        if kind is not None:
            painter.setPen(mark_pen(theme.name, kind, px(2.5)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(x, mid - px(7), px(22), px(14)), px(5), px(5))
            x += px(30)
        painter.setPen(look.color("text"))
        painter.drawStaticText(QPointF(x, mid - look.height("caption") / 2), export._static(text))
        x += look.width("caption", text) + px(28)
    painter.setPen(look.pen("border", 1.0))
    painter.drawLine(QPointF(export.MARGIN, h - 1), QPointF(width - export.MARGIN, h - 1))


def _compose(images: tuple[QImage, QImage], scene: GraphScene, entries, scale: float, transparent: bool) -> QImage:
    """The two side images next to each other under the legend, at ``scale`` pixels per unit."""
    a, b = images
    gap = math.ceil(GAP * scale)
    legend_h = math.ceil(_legend_height(scene) * scale)
    width = max(a.width() + gap + b.width(), math.ceil(_legend_width(scene, entries) * scale))
    height = legend_h + max(a.height(), b.height())
    fmt = QImage.Format.Format_ARGB32_Premultiplied if transparent else QImage.Format.Format_RGB32
    out = QImage(QSize(width, height), fmt)
    out.fill(Qt.GlobalColor.transparent if transparent else scene.look.color("background"))
    painter = QPainter(out)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    painter.drawImage(0, legend_h, a)
    painter.drawImage(a.width() + gap, legend_h, b)
    painter.setPen(scene.look.pen("border", max(1.0, scale)))
    divider = a.width() + gap / 2
    painter.drawLine(QPointF(divider, legend_h + 8 * scale), QPointF(divider, height - 8 * scale))
    painter.scale(scale, scale)
    _draw_legend(painter, scene, entries, width / scale)
    painter.end()
    return out


def render_pair(left: Side, right: Side, comparison: Comparison | None, scale: float = 1.0,
                transparent: bool = False) -> QImage:
    """Both scenes as they stand (their current frames), side by side under the legend."""
    images = (export.render_image(left.scene, scale, transparent, left.caption),
              export.render_image(right.scene, scale, transparent, right.caption))
    return _compose(images, left.scene, legend_entries(comparison), scale, transparent)


def png_pair(left: Side, right: Side, comparison: Comparison | None, scale: float = 1.0,
             transparent: bool = False) -> bytes:
    return png.encode(render_pair(left, right, comparison, scale, transparent))


def svg_pair(left: Side, right: Side, comparison: Comparison | None, transparent: bool = False) -> bytes:
    """Both scenes as one SVG; node labels, edge labels and both titles stay ``<text>``."""
    scene = left.scene
    entries = legend_entries(comparison)
    legend_h = _legend_height(scene)
    sizes = []
    for side in (left, right):
        with export._Prepared(side.scene, transparent) as prepared:
            prepared.labels_for(1.0)
            rect = export.export_rect(side.scene)
            sizes.append((rect, *export._layout(side.scene, rect, side.caption)))
    width = max(sizes[0][1] + GAP + sizes[1][1], _legend_width(scene, entries))
    height = legend_h + max(sizes[0][2], sizes[1][2])
    with export.svg_document(width, height, "gradviz: two runs compared") as (painter, out):
        if not transparent:
            painter.fillRect(QRectF(0, 0, width, height), scene.look.brush("background"))
        _draw_legend(painter, scene, entries, width)
        x = 0.0
        for side, (rect, w, h, cap_h) in zip((left, right), sizes, strict=True):
            with export._Prepared(side.scene, transparent):
                painter.save()
                painter.translate(x, legend_h)
                export._paint(painter, side.scene, rect, side.caption, transparent, w, h, cap_h, filled=True)
                painter.restore()
            x += w + GAP
        painter.setPen(scene.look.pen("border", 1.0))
        divider = sizes[0][1] + GAP / 2
        painter.drawLine(QPointF(divider, legend_h + 8), QPointF(divider, height - 8))
    return out.data


def animation_pair(left: Side, right: Side, comparison: Comparison, scale: float = 1.0,
                   transparent: bool = False) -> list[QImage]:
    """One image per paired frame (``comparison.frames`` of them), both passes stepping together."""
    pairs = comparison.pairs()
    entries = legend_entries(comparison)
    sides = []
    for side, which in ((left, 0), (right, 1)):
        steps = [p[which] for p in pairs]
        if side.call is None:
            raise ValueError("an animation needs a backward call on both sides")
        sides.append(export.animation_images(side.scene, side.call, scale, transparent, side.caption, steps))
    return [_compose((a, b), left.scene, entries, scale, transparent) for a, b in zip(*sides, strict=True)]


def gif_pair(left: Side, right: Side, comparison: Comparison, scale: float = 1.0,
             frame_ms: int = export.FRAME_MS) -> bytes:
    """An animated GIF of both passes stepping together: ``comparison.frames`` frames, looping."""
    frames = [export._to_pil(im).convert("RGB") for im in animation_pair(left, right, comparison, scale)]
    return export.encode_gif(frames, frame_ms)


def apng_pair(left: Side, right: Side, comparison: Comparison, scale: float = 1.0, transparent: bool = False,
              frame_ms: int = export.FRAME_MS) -> bytes:
    frames = [export._to_pil(im) for im in animation_pair(left, right, comparison, scale, transparent)]
    if not transparent:
        frames = [f.convert("RGB") for f in frames]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:], loop=0,
                   duration=export._durations(len(frames), frame_ms), disposal=0, blend=0, default_image=False)
    return out.getvalue()

