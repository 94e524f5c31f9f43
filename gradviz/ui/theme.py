"""Light and dark palettes and the fonts of the graph canvas (colours as hex, Qt objects made lazily)."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtGui import QColor, QFont, QFontMetricsF

from gradviz.core.result import ACCUMULATE, LEAF, OP, PARAM, ROOT

THEME_NAMES = ("light", "dark")

# Font families in order of preference; DejaVu is what a bare Linux box has. The CJK family comes
# last: Latin text never reaches it (DejaVu has every Latin glyph, so English renders stay the same),
# Chinese text (captions, hints, a variable named 梯度) takes its glyphs from it, and an SVG lists it
# before the generic family so other renderers pick it too.
CJK_SANS = "Noto Sans CJK SC"
CJK_MONO = "Noto Sans Mono CJK SC"
SANS = ["Inter", "Segoe UI", "Helvetica Neue", "Cantarell", "DejaVu Sans", CJK_SANS]
MONO = ["JetBrains Mono", "Cascadia Mono", "Menlo", "Consolas", "DejaVu Sans Mono", CJK_MONO]


@dataclass(frozen=True)
class Palette:
    """The colours of one canvas theme, as ``#rrggbb`` / ``#aarrggbb`` strings.

    ``kinds`` maps each node kind to its accent colour; ``flow`` is the colour of the gradient
    travelling in the current animation step; ``done`` marks nodes the engine already ran.
    """

    name: str
    background: str
    grid: str
    surface: str
    border: str
    text: str
    text_muted: str
    text_faint: str
    shadow: str
    edge: str
    edge_carried: str
    flow: str
    flow_soft: str
    done: str
    label_bg: str
    label_border: str
    chip_bg: str
    chip_border: str
    chip_text: str
    chip_freed: str
    selection: str
    hover: str
    error: str
    error_bg: str
    error_text: str
    badge_bg: str
    badge_border: str
    made: str  # nodes a backward pass made (create_graph=True): their mark, legend and origin links
    kinds: dict[str, str] = field(default_factory=dict)
    tints: dict[str, str] = field(default_factory=dict)


LIGHT = Palette(
    name="light",
    background="#f6f7f9",
    grid="#dfe3e9",
    surface="#ffffff",
    border="#d4d9e1",
    text="#1c2230",
    text_muted="#5d6776",
    text_faint="#98a1ae",
    shadow="#1a1c2433",
    edge="#a3adbb",
    edge_carried="#5f6b7c",
    flow="#f26b1d",
    flow_soft="#fde6d5",
    done="#1f9d6b",
    label_bg="#ffffff",
    label_border="#d4d9e1",
    chip_bg="#eef1f5",
    chip_border="#d2d8e1",
    chip_text="#465162",
    chip_freed="#b5bcc7",
    selection="#2f6fe4",
    hover="#8fb4f5",
    error="#d93a3a",
    error_bg="#fff1f0",
    error_text="#6b1d1d",
    badge_bg="#fffaf5",
    badge_border="#f4b38a",
    made="#a16207",
    kinds={ROOT: "#e0365e", OP: "#2f6fe4", ACCUMULATE: "#0e93ad", LEAF: "#19a058", PARAM: "#8b46d9"},
    tints={ROOT: "#fdeef2", OP: "#ffffff", ACCUMULATE: "#ffffff", LEAF: "#eaf7ef", PARAM: "#f4ecfc"},
)

DARK = Palette(
    name="dark",
    background="#12151b",
    grid="#232833",
    surface="#1c2029",
    border="#2f3642",
    text="#e8ebf1",
    text_muted="#a2abb9",
    text_faint="#6b7483",
    shadow="#00000066",
    edge="#4f5867",
    edge_carried="#9aa4b4",
    flow="#ff8a3d",
    flow_soft="#3d2a1e",
    done="#3ccf91",
    label_bg="#232833",
    label_border="#39414f",
    chip_bg="#262c37",
    chip_border="#3a4250",
    chip_text="#c3cad6",
    chip_freed="#596272",
    selection="#5b95ff",
    hover="#3f5f96",
    error="#ff6b6b",
    error_bg="#2c1a1d",
    error_text="#ffd6d6",
    badge_bg="#241f1b",
    badge_border="#8a5230",
    made="#e8b931",
    kinds={ROOT: "#ff6b8b", OP: "#5b95ff", ACCUMULATE: "#2cc5e0", LEAF: "#45d483", PARAM: "#b884ff"},
    tints={ROOT: "#2e1c23", OP: "#1c2029", ACCUMULATE: "#1c2029", LEAF: "#17291f", PARAM: "#261d33"},
)

PALETTES = {"light": LIGHT, "dark": DARK}

# Base point sizes (pixels) of the canvas fonts, before the presentation scale.
FONT_SIZES = {
    "title": 12.5,  # op name / variable names
    "subtitle": 9.0,  # "Backward0", "leaf", "param"
    "mono": 9.0,  # shapes
    "chip": 8.0,  # saved tensor chips
    "label": 9.0,  # gradient labels on edges
    "label_bold": 9.5,  # the label of the gradient travelling now
    "badge": 10.0,  # fan-in sum, .grad before + incoming = after
    "badge_title": 10.0,
    "banner_title": 12.0,  # backward error
    "banner": 10.5,
    "caption_title": 15.0,  # export caption
    "caption": 11.0,
}
MONO_ROLES = {"mono", "chip", "label", "label_bold", "badge", "caption"}
BOLD_ROLES = {"title", "label_bold", "badge_title", "banner_title", "caption_title"}


def palette(name: str) -> Palette:
    """The palette called ``name`` ("light" or "dark"); ValueError for anything else."""
    try:
        return PALETTES[name]
    except KeyError:
        raise ValueError(f"unknown theme {name!r}: use one of {', '.join(THEME_NAMES)}") from None


class Theme:
    """A palette plus fonts at a presentation scale, handing out cached QColor and QFont objects.

    Create it after the QApplication (fonts need one). ``font_scale`` enlarges every canvas font
    (presentation mode on a projector); node sizes follow, so the graph is laid out again.
    """

    def __init__(self, name: str = "light", font_scale: float = 1.0):
        self.palette = palette(name)
        self.name = name
        self.font_scale = float(font_scale)
        self._colors: dict[str, QColor] = {}
        self._fonts: dict[str, QFont] = {}
        self._metrics: dict[str, QFontMetricsF] = {}

    def color(self, role: str) -> QColor:
        """A palette colour by field name (``"flow"``), or a kind accent as ``"kind:op"``, tint as ``"tint:op"``."""
        c = self._colors.get(role)
        if c is None:
            if role.startswith("kind:"):
                value = self.palette.kinds[role[5:]]
            elif role.startswith("tint:"):
                value = self.palette.tints[role[5:]]
            else:
                value = getattr(self.palette, role)
            c = self._colors[role] = QColor(value)
        return c

    def font(self, role: str) -> QFont:
        f = self._fonts.get(role)
        if f is None:
            f = QFont()
            f.setFamilies(MONO if role in MONO_ROLES else SANS)
            f.setPixelSize(max(1, round(FONT_SIZES[role] * self.font_scale)))
            if role in BOLD_ROLES:
                f.setWeight(QFont.Weight.DemiBold if role != "title" else QFont.Weight.Bold)
            # Layout is computed from these metrics: keep it independent of the screen's hinting.
            f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
            f.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
            self._fonts[role] = f
        return f

    def metrics(self, role: str) -> QFontMetricsF:
        m = self._metrics.get(role)
        if m is None:
            m = self._metrics[role] = QFontMetricsF(self.font(role))
        return m

    def px(self, value: float) -> float:
        """A length that grows with the font scale (paddings, radii)."""
        return value * self.font_scale
