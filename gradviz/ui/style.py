"""Application look: the QSS of resources/style with a theme's colours, a Fusion palette to match, fonts."""

from __future__ import annotations

import re
from functools import cache

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from gradviz.core.resources import resource_path

THEMES = ("light", "dark")
_VAR = re.compile(r"@(\w+):\s*(#[0-9a-fA-F]{6,8})")
#: Base UI font size in points; presentation mode multiplies it.
BASE_POINTS = 10.0
PRESENTATION_SCALE = 1.6
#: A projector shows any screen at the size of the wall: text keeps its share of the picture's
#: height when the scale follows the screen's height below PRESENTATION_HEIGHT (a 1024x640 screen
#: at 1.6 left the graph 40% of the height under menus, toolbar and player), down to a floor.
PRESENTATION_HEIGHT = 900
SMALL_PRESENTATION_SCALE = 1.15


def presentation_scale(screen_height: int | None) -> float:
    """Presentation mode's font scale on a screen ``screen_height`` pixels tall (None: unknown)."""
    if not screen_height or screen_height >= PRESENTATION_HEIGHT:
        return PRESENTATION_SCALE
    return max(SMALL_PRESENTATION_SCALE, PRESENTATION_SCALE * screen_height / PRESENTATION_HEIGHT)


@cache
def theme_colors(theme: str) -> dict[str, str]:
    """The ``@name: #colour`` pairs declared in ``resources/style/<theme>.qss``."""
    text = resource_path("style", f"{theme}.qss").read_text(encoding="utf-8")
    return dict(_VAR.findall(text))


@cache
def stylesheet(theme: str) -> str:
    """``app.qss`` with the theme's colours in place of ``@name`` (longest names first)."""
    colors = theme_colors(theme)
    text = resource_path("style", "app.qss").read_text(encoding="utf-8")
    for name in sorted(colors, key=len, reverse=True):
        text = text.replace("@" + name, colors[name])
    return text


def palette(theme: str) -> QPalette:
    """A Fusion palette matching the QSS, so widgets the stylesheet does not touch fit in."""
    c = {k: QColor(v) for k, v in theme_colors(theme).items()}
    p = QPalette()
    role = QPalette.ColorRole
    p.setColor(role.Window, c["window"])
    p.setColor(role.WindowText, c["text"])
    p.setColor(role.Base, c["panel"])
    p.setColor(role.AlternateBase, c["panel_alt"])
    p.setColor(role.Text, c["text"])
    p.setColor(role.Button, c["panel"])
    p.setColor(role.ButtonText, c["text"])
    p.setColor(role.Highlight, c["accent"])
    p.setColor(role.HighlightedText, c["accent_text"])
    p.setColor(role.ToolTipBase, c["panel"])
    p.setColor(role.ToolTipText, c["text"])
    p.setColor(role.PlaceholderText, c["faint"])
    p.setColor(role.Link, c["accent"])
    p.setColor(role.Mid, c["border"])
    p.setColor(role.Midlight, c["border"])
    p.setColor(role.Dark, c["border_strong"])
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, c["faint"])
    return p


def apply(app: QApplication, theme: str, presentation: bool = False, scale: float | None = None) -> None:
    """Style the whole application: Fusion, the theme palette and QSS, the font size
    (``scale`` times the base; default: PRESENTATION_SCALE in presentation mode, else 1)."""
    theme = theme if theme in THEMES else "light"
    # Each of these re-polishes every widget of the app: only touch what changes.
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    pal = palette(theme)
    if app.palette() != pal:
        app.setPalette(pal)
    if scale is None:
        scale = PRESENTATION_SCALE if presentation else 1.0
    points = BASE_POINTS * scale
    sheet = stylesheet(theme)
    if app.font().pointSizeF() != points:
        # With a style sheet set, widgets keep the font they were polished with: take the
        # sheet off, change the font, put the sheet back (which polishes every widget again).
        app.setStyleSheet("")
        font = QFont(app.font())
        font.setPointSizeF(points)
        app.setFont(font)
    if app.styleSheet() != sheet:
        app.setStyleSheet(sheet)
