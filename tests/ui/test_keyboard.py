"""The keyboard in the main window: focus leaves the editor, the Edit menu's clipboard and find, the Help menu."""

from pathlib import Path

import pytest
from app_window import make_window, type_text
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QTextCursor
from PySide6.QtWidgets import QApplication, QMenu

from gradviz.ui import keyboard

PROGRAM = "x = torch.ones(3, requires_grad=True)\ny = (x * x).sum()\ny.backward()\n"


@pytest.fixture
def window(qtbot, tmp_path, dialog_log):
    w, _client = make_window(qtbot, tmp_path)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    return w


def focus_editor(qtbot, window):
    window.editor.setFocus()
    qtbot.waitUntil(window.editor.hasFocus)


# -- focus escape --------------------------------------------------------------------------------

def test_tab_in_the_editor_still_indents(qtbot, window):
    type_text(window, "")
    focus_editor(qtbot, window)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.toPlainText() == "    "
    assert window.editor.hasFocus()


@pytest.mark.parametrize("shift", [False, True])
def test_ctrl_tab_moves_focus_out_of_the_editor(qtbot, window, shift):
    type_text(window, PROGRAM)
    focus_editor(qtbot, window)
    if shift:
        qtbot.keyClick(window.editor, Qt.Key.Key_Backtab,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    else:
        qtbot.keyClick(window.editor, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.editor.hasFocus())
    assert window.editor.toPlainText() == PROGRAM  # nothing typed on the way out


def test_esc_then_tab_moves_focus_out_once(qtbot, window):
    type_text(window, PROGRAM)
    focus_editor(qtbot, window)
    qtbot.keyClick(window.editor, Qt.Key.Key_Escape)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not window.editor.hasFocus())
    assert window.editor.toPlainText() == PROGRAM
    # Back in the editor, Esc is forgotten once another key came: Tab indents again.
    focus_editor(qtbot, window)
    qtbot.keyClick(window.editor, Qt.Key.Key_Escape)
    qtbot.keyClick(window.editor, Qt.Key.Key_Right)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)
    assert window.editor.hasFocus()
    assert window.editor.toPlainText() != PROGRAM


def test_tab_goes_round_the_panels_after_the_editor(qtbot, window):
    focus_editor(qtbot, window)
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    seen = []
    for _ in range(4):
        seen.append(QApplication.focusWidget())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert window.notes_text in seen
    assert QApplication.focusWidget() is not window.notes_text  # the notes let Tab move on
    assert "\t" not in window.notes_text.toPlainText()


# -- Edit menu: clipboard ------------------------------------------------------------------------

def test_copy_cut_paste_select_all_through_the_actions(qtbot, window):
    clipboard = QApplication.clipboard()
    type_text(window, "alpha beta")
    focus_editor(qtbot, window)
    window.actions["select_all"].trigger()
    assert window.editor.textCursor().selectedText() == "alpha beta"
    window.actions["copy"].trigger()
    assert clipboard.text() == "alpha beta"
    cursor = window.editor.textCursor()
    cursor.setPosition(0)
    cursor.setPosition(5, QTextCursor.MoveMode.KeepAnchor)
    window.editor.setTextCursor(cursor)
    window.actions["cut"].trigger()
    assert clipboard.text() == "alpha"
    assert window.editor.toPlainText() == " beta"
    cursor = window.editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    window.editor.setTextCursor(cursor)
    window.actions["paste"].trigger()
    assert window.editor.toPlainText() == " betaalpha"


def test_clipboard_actions_follow_the_focused_text_widget(qtbot, window):
    window.notes_text.setPlainText("notes here")
    type_text(window, "code")
    window.notes_text.setFocus()
    qtbot.waitUntil(window.notes_text.hasFocus)
    window.actions["select_all"].trigger()
    window.actions["copy"].trigger()
    assert QApplication.clipboard().text() == "notes here"
    assert not window.editor.textCursor().hasSelection() or window.editor.textCursor().selectedText() != "notes here"


def test_clipboard_keys_stay_with_the_focused_widget(qtbot, window):
    # Ctrl+A in the notes selects the notes (the window's Select All doesn't take the key), and on
    # the canvas it leaves the program alone.
    type_text(window, "code")
    window.notes_text.setPlainText("notes here")
    window.notes_text.setFocus()
    qtbot.waitUntil(window.notes_text.hasFocus)
    qtbot.keyClick(window.notes_text, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert window.notes_text.textCursor().selectedText() == "notes here"
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    cursor = window.editor.textCursor()
    cursor.clearSelection()
    window.editor.setTextCursor(cursor)
    qtbot.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert not window.editor.textCursor().hasSelection()
    assert window.view.hasFocus()


def test_edit_menu_lists_the_clipboard_and_find_commands(window):
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    names = [a.objectName() for a in edit.actions() if not a.isSeparator()]
    for name in ("undo", "redo", "cut", "copy", "paste", "select_all", "find", "find_next", "find_previous"):
        assert name in names
    assert window.actions["copy"].shortcut() == QKeySequence(QKeySequence.StandardKey.Copy)
    assert window.actions["find"].shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    assert window.actions["find_next"].shortcut().toString() == "F3"


# -- find ----------------------------------------------------------------------------------------

def selection(window):
    c = window.editor.textCursor()
    return c.selectedText(), c.selectionStart()


def test_find_selects_the_next_match_and_wraps(qtbot, window):
    type_text(window, "a = 1\nb = a\nc = a\n")
    cursor = window.editor.textCursor()
    cursor.setPosition(0)
    window.editor.setTextCursor(cursor)
    window.actions["find"].trigger()
    bar = window.find_bar
    assert bar.isVisible()
    qtbot.waitUntil(bar.field.hasFocus)
    qtbot.keyClicks(bar.field, "a")
    assert selection(window) == ("a", 0)  # typing finds the first match
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    assert selection(window) == ("a", 10)
    window.actions["find_next"].trigger()
    assert selection(window) == ("a", 16)
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    assert selection(window) == ("a", 0)  # wrapped round to the top
    assert bar.status.text() == "Wrapped"
    qtbot.keyClick(bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert selection(window) == ("a", 16)  # and backwards round the top to the end
    window.actions["find_previous"].trigger()
    assert selection(window) == ("a", 10)
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible()
    qtbot.waitUntil(window.editor.hasFocus)
    assert selection(window) == ("a", 10)  # the match stays selected for typing over


def test_esc_in_the_editor_closes_the_find_bar(qtbot, window):
    type_text(window, "x = 1\n")
    window.actions["find"].trigger()
    focus_editor(qtbot, window)
    assert window.find_bar.isVisible()
    qtbot.keyClick(window.editor, Qt.Key.Key_Escape)
    assert not window.find_bar.isVisible()
    qtbot.keyClick(window.editor, Qt.Key.Key_Tab)  # and Esc still arms the way out
    qtbot.waitUntil(lambda: not window.editor.hasFocus())


def test_find_says_when_nothing_matches(qtbot, window):
    type_text(window, "x = 1\n")
    window.actions["find"].trigger()
    qtbot.keyClicks(window.find_bar.field, "zzz")
    assert window.find_bar.status.text() == "Not found"
    assert window.editor.toPlainText() == "x = 1\n"


# -- Help menu -----------------------------------------------------------------------------------

def help_menu(window):
    return next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")


def test_help_menu_has_shortcuts_lessons_safety_and_about(window):
    entries = [a.text().replace("&", "") for a in help_menu(window).actions() if not a.isSeparator()]
    assert entries[0] == "Keyboard Shortcuts"
    assert "Lessons" in entries and "What Runs, and How Safely" in entries and "About gradviz" in entries
    lessons = next(a.menu() for a in help_menu(window).actions() if a.menu() is not None)
    assert lessons is window.lessons_menu
    assert len([a for a in lessons.actions() if a.objectName().startswith("lesson:")]) >= 9  # the d2l pack
    classic = lessons.findChild(QMenu, "classicLessons")
    assert len([a for a in classic.actions() if a.objectName().startswith("example:")]) >= 8


def test_shortcuts_dialog_lists_real_actions_with_their_keys(window, dialog_log):
    window.actions["shortcuts"].trigger()
    (_name, title, text, fmt), = dialog_log.named("show_document")
    assert title == "Keyboard shortcuts" and fmt == "html"
    native = QKeySequence.SequenceFormat.NativeText
    for name in ("run", "step", "play", "copy", "find", "fit", "shortcuts"):
        action = window.actions[name]
        keys = action.shortcut().toString(native)
        row = f"<td>{action.text().replace('&', '').rstrip('…')}</td><td nowrap>&nbsp;&nbsp;<tt>{keys}"
        assert row in text, (name, keys)
    assert "Ctrl+Tab" in text and "Esc&nbsp;then&nbsp;Tab" in text  # the editor's own keys too


def test_shortcuts_list_follows_a_changed_shortcut(window):
    window.actions["step"].setShortcut(QKeySequence("F11"))
    rows = dict(r for _title, rows in keyboard.shortcut_sections(window) for r in rows)
    assert rows["Step"] == "F11"


def test_safety_note_is_the_readme_section_and_opens(window, dialog_log):
    window.actions["safety"].trigger()
    (_name, title, text, fmt), = dialog_log.named("show_document")
    assert title == "What runs, and how safely" and fmt == "markdown"
    assert "gradviz doctor" in text and "Landlock" in text
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert text == keyboard.readme_section(readme, "What runs, and how safely"), \
        "resources/help/safety.md differs from the README's section: copy the section over"


def test_show_document_renders_markdown(qtbot, monkeypatch):
    from PySide6.QtWidgets import QDialog, QTextBrowser

    from gradviz.ui import dialogs

    shown = {}

    def fake_exec(dialog):
        shown["plain"] = dialog.findChild(QTextBrowser, "documentText").toPlainText()
        return 0

    monkeypatch.setattr(QDialog, "exec", fake_exec)
    dialogs.show_document(None, "Note", "## Title\n\nSome **bold** text.", "markdown")
    assert "Title" in shown["plain"] and "bold" in shown["plain"] and "**" not in shown["plain"]
