"""The language of gradviz's own words outside Qt: hints, limit messages, the report, captions.

The window translates itself with Qt's machinery (``resources/i18n/gradviz_*.ts`` -> ``.qm``);
the engine, the command line and the renders can't use Qt (the engine never loads it), so their
words go through :func:`t`: the English text is the key, and ``resources/i18n/messages.<lang>.json``
holds its translation. A text without a translation stays English, so nothing is ever lost.
Torch's own messages are never translated (they are what the user would search for).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache

from gradviz.core.resources import resource_path

#: The languages gradviz speaks, by code, each named in its own language (for menus).
LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
DEFAULT = "en"

_current = DEFAULT


def normalize(code: str | None) -> str | None:
    """The supported language a locale or language code means (``zh``, ``zh-CN``, ``zh_CN.UTF-8``,
    ``zh_Hans_CN`` -> ``zh_CN``; ``en_GB`` -> ``en``), or None when gradviz doesn't speak it."""
    if not code:
        return None
    base = code.split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    lang = base.split("_", 1)[0].lower()
    if lang == "zh":
        # Traditional Chinese (zh_TW, zh_HK, zh_Hant) is not Simplified Chinese: leave it to English.
        rest = base.lower().split("_")[1:]
        return None if any(part in ("tw", "hk", "mo", "hant") for part in rest) else "zh_CN"
    if lang in ("en", "c", "posix"):
        return "en"
    return None


def system_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the system's locale asks for, as gettext reads it (LANGUAGE, LC_ALL,
    LC_MESSAGES, LANG), or English."""
    env = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        for code in value.split(":"):  # LANGUAGE may list several, best first
            found = normalize(code)
            if found is not None:
                return found
        if value and var != "LANGUAGE":
            return DEFAULT  # the first set locale variable decides, as in gettext
    return DEFAULT


def set_language(code: str) -> str:
    """Make ``code`` the language of :func:`t`; returns the normalized code.

    Raises ValueError for a language gradviz doesn't speak (with the ones it does)."""
    global _current
    found = normalize(code)
    if found is None:
        raise ValueError(f"unknown language {code!r}: choose one of {', '.join(LANGUAGES)}")
    _current = found
    return found


def language() -> str:
    """The current language code."""
    return _current


@cache
def catalog(code: str) -> dict[str, str]:
    """English text -> translation for ``code`` (empty for English or a missing file)."""
    if code == DEFAULT:
        return {}
    path = resource_path("i18n", f"messages.{code}.json")
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items() if not str(k).startswith("//")}


def _N(text: str) -> str:  # noqa: N802 (gettext's name for it)
    """Marks ``text`` for the catalog (``tests/core/test_catalog.py`` finds it) where it is kept
    in a table or a constant; it is translated where it is used, in the language of that moment."""
    return text


def t(text: str, /, **fields: object) -> str:
    """``text`` in the current language, with ``{name}`` fields filled from ``fields``."""
    out = catalog(_current).get(text, text)
    return out.format(**fields) if fields else out
