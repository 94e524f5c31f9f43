"""The window's language: which one (``--lang``, the remembered menu choice, the locale) and Qt's translators.

The window's words are translated by Qt: ``resources/i18n/gradviz_<lang>.ts`` (made by
``make translations`` with pyside6-lupdate, filled in by translators) compiled to ``.qm`` by
pyside6-lrelease. English is the source language and needs no file. Qt's own words (the buttons
of standard dialogs) come from the ``qtbase_<lang>.qm`` PySide6 ships. The words of gradviz outside
Qt (the engine's hints, the canvas, renders) follow `gradviz.core.i18n.set_language`, set here too.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

from gradviz.core import i18n
from gradviz.core.resources import resource_path

#: The translators installed on the application now (kept: Qt does not own them).
_installed: list[QTranslator] = []


def qm_path(code: str) -> Path:
    """The compiled translation of the window for language ``code`` (there is none for English)."""
    return resource_path("i18n", f"gradviz_{code}.qm")


def choose(cli: str | None, remembered: str | None, environ=None) -> str:
    """The language the window opens in: ``--lang`` wins, then the View ▸ Language choice
    remembered in the settings, then the system's locale (`gradviz.core.i18n.system_language`).

    ``cli`` is normalized (``zh``, ``zh-CN`` -> ``zh_CN``); ValueError names the choices when
    gradviz doesn't speak it. A remembered value gradviz no longer speaks is passed over."""
    if cli:
        found = i18n.normalize(cli)
        if found is None:
            raise ValueError(f"unknown language {cli!r}: choose one of {', '.join(i18n.LANGUAGES)}")
        return found
    if remembered:
        found = i18n.normalize(remembered)
        if found is not None:
            return found
    return i18n.system_language(environ)


def install(app: QApplication, code: str) -> str:
    """Make ``code`` the language of the window and of gradviz's own words; returns it normalized.

    Removes the translators of a language installed before. A language without a ``.qm`` (English)
    installs none: the sources are English. Widgets made afterwards show the new language."""
    code = i18n.set_language(code)
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    # Numbers in spin boxes and Qt's dialogs: Chinese conventions in Chinese, else the system's as before.
    QLocale.setDefault(QLocale(code) if code != i18n.DEFAULT else QLocale.system())
    if code == i18n.DEFAULT:
        return code
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qtbase = QTranslator(app)
    if qtbase.load(f"qtbase_{code}", qt_dir):
        app.installTranslator(qtbase)
        _installed.append(qtbase)
    own = QTranslator(app)
    if own.load(str(qm_path(code))):
        app.installTranslator(own)
        _installed.append(own)
    return code


def plain_text(text: str) -> str:
    """A menu or action text without its accelerator: "&Open…" -> "Open…", "打开(&O)…" -> "打开…",
    "Fish && Chips" -> "Fish & Chips"."""
    text = re.sub(r"\(&[^&\s]\)", "", text)
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")
