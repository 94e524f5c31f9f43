"""The Edit menu's clipboard commands and the Help menu's texts: the shortcuts list and the safety note."""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit

from gradviz.ui import dialogs
from gradviz.ui.language import plain_text

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from gradviz.ui.main_window import MainWindow

#: Keys of the editor that are no action of the window (so the shortcuts list can't learn them from one).
#: (English; the list shows them through translate("Keyboard", ...)).
EDITOR_KEYS = (
    (QT_TRANSLATE_NOOP("Keyboard", "Indent the line, or the selected lines"), "Tab"),
    (QT_TRANSLATE_NOOP("Keyboard", "Unindent the selected lines"), "Shift+Tab"),
    (QT_TRANSLATE_NOOP("Keyboard", "Move focus out of the editor"), QT_TRANSLATE_NOOP("Keyboard",
                                                                                      "Ctrl+Tab  ·  Esc then Tab")),
    (QT_TRANSLATE_NOOP("Keyboard", "Move focus out of the editor, backwards"),
     QT_TRANSLATE_NOOP("Keyboard", "Ctrl+Shift+Tab  ·  Esc then Shift+Tab")),
    (QT_TRANSLATE_NOOP("Keyboard", "Find: next / previous match (in the find bar)"), "Enter  ·  Shift+Enter"),
    (QT_TRANSLATE_NOOP("Keyboard", "Close the find bar"), "Esc"),
)

SAFETY_TITLE = QT_TRANSLATE_NOOP("Keyboard", "What runs, and how safely")


def text_target(w: MainWindow) -> QPlainTextEdit | QTextEdit | QLineEdit:
    """The text widget the Edit menu acts on: the focused one (editor, output, lesson notes, a field),
    else the program editor, as for Undo and Redo."""
    focused = QApplication.focusWidget()
    if isinstance(focused, (QPlainTextEdit, QTextEdit, QLineEdit)) and focused.window() is w:
        return focused
    return w.editor


def edit_command(w: MainWindow, name: str) -> None:
    """Cut, copy, paste or select all in the text widget the Edit menu acts on."""
    target = text_target(w)
    getattr(target, name)()
    if target is w.editor and not w.editor.hasFocus() and name != "copy":
        w.editor.setFocus()  # show where the paste or the selection went


def shortcut_text(action) -> str:
    return "  ·  ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())


def _menu_rows(menu: QMenu, seen: set) -> list[tuple[str, str]]:
    rows = []
    for action in menu.actions():
        if action.menu() is not None or action.isSeparator() or action in seen:
            continue
        keys = shortcut_text(action)
        if keys:
            seen.add(action)
            rows.append((plain_text(action.text()).rstrip("…."), keys))
    return rows


def shortcut_sections(w: MainWindow) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every action with a shortcut, by the menu it is in, then the editor's own keys.

    Read from the window's menus and actions, so the list follows any shortcut that changes.
    """
    seen: set = set()
    sections = []
    for menu_action in w.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        rows = _menu_rows(menu, seen)
        if rows:
            sections.append((plain_text(menu_action.text()), rows))
    others = [(plain_text(a.text()).rstrip("…."), shortcut_text(a)) for a in w.actions.values()
              if a not in seen and shortcut_text(a)]
    if others:
        sections.append((translate("Keyboard", "Other"), others))
    sections.append((translate("Keyboard", "Editor"),
                     [(translate("Keyboard", name), translate("Keyboard", keys)) for name, keys in EDITOR_KEYS]))
    return sections


def shortcuts_html(w: MainWindow) -> str:
    parts = ["<table cellspacing='0' cellpadding='3'>"]
    for title, rows in shortcut_sections(w):
        parts.append(f"<tr><td colspan='2'><br><b>{escape(title)}</b></td></tr>")
        for name, keys in rows:
            unbroken = escape(keys).replace(" ", "&nbsp;")
            parts.append(f"<tr><td>{escape(name)}</td><td nowrap>&nbsp;&nbsp;<tt>{unbroken}</tt></td></tr>")
    parts.append("</table>")
    return "".join(parts)


def show_shortcuts(w: MainWindow) -> None:
    """Help ▸ Keyboard Shortcuts."""
    dialogs.show_document(w, translate("Keyboard", "Keyboard shortcuts"), shortcuts_html(w), "html")


def safety_note() -> str:
    """The README's section "What runs, and how safely" (markdown), shipped as a resource; in the
    window's language where it has a translation (``safety.<lang>.md``)."""
    from gradviz.core import i18n
    from gradviz.core.resources import resource_path

    translated = resource_path("help", f"safety.{i18n.language()}.md")
    try:
        if i18n.language() != i18n.DEFAULT and translated.is_file():
            return translated.read_text(encoding="utf-8")
        return resource_path("help", "safety.md").read_text(encoding="utf-8")
    except OSError:
        return (f"## {translate('Keyboard', SAFETY_TITLE)}\n\n"
                + translate("Keyboard", "The note is missing from this installation; run `gradviz doctor` to see how "
                                        "the engine is contained."))


def show_safety(w: MainWindow) -> None:
    """Help ▸ What runs, and how safely."""
    dialogs.show_document(w, translate("Keyboard", SAFETY_TITLE), safety_note(), "markdown")


def readme_section(readme: str, title: str) -> str:
    """The text of the README section headed ``## title``, heading included, up to the next ``## ``."""
    match = re.search(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", readme, re.S | re.M)
    return match.group(0).rstrip() + "\n" if match else ""
