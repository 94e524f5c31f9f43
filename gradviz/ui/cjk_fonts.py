"""Whether Chinese text can be drawn: a CJK font among the system's fonts, and the one notice when none is.

The canvas lists a CJK family (``gradviz.ui.theme.CJK_SANS``) after its Latin ones, and Qt falls
back to any font with the glyphs; without a CJK font installed, Chinese draws as boxes. Rather
than drawing them silently, the command line says so in one line and the app in one status
message (``notice_once``).
"""

from __future__ import annotations

import re
from functools import cache

from PySide6.QtGui import QFontDatabase

from gradviz.core import i18n

_CJK = re.compile("[\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")

#: The app's notice. Said in English on purpose: it appears exactly when Chinese text cannot be
#: drawn, so a Chinese notice would itself be boxes.
APP_NOTICE = ("No CJK font is installed, so Chinese text shows as boxes. Install one, e.g. "
              "sudo apt-get install fonts-noto-cjk (Debian/Ubuntu), then restart gradviz.")


def has_cjk(*texts: str | None) -> bool:
    """Whether any of ``texts`` holds a CJK character (Chinese, Japanese, full-width marks)."""
    return any(text and _CJK.search(text) for text in texts)


@cache
def cjk_font_available() -> bool:
    """Whether the system has a font that draws Simplified Chinese (needs the QGuiApplication)."""
    return bool(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def cjk_wanted(*texts: str | None) -> bool:
    """Whether CJK text is to be drawn: gradviz speaks Chinese, or one of ``texts`` (a program, a
    title) holds CJK characters."""
    return i18n.language() == "zh_CN" or has_cjk(*texts)


def notice_once(window, *texts: str | None) -> bool:
    """Show APP_NOTICE in ``window``'s status bar the first time CJK text is wanted and no CJK font
    is there; True when it was shown now."""
    if getattr(window, "_cjk_notice_shown", False) or not cjk_wanted(*texts) or cjk_font_available():
        return False
    window._cjk_notice_shown = True
    window.statusBar().showMessage(APP_NOTICE, 20000)
    return True
