"""The code editor: highlighting, line numbers, error and step markers, typing helpers, message bar."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor

from gradviz.ui.editor import PALETTES, CodeEditor, MessageBar


def make_editor(qtbot, text="import torch\nx = torch.ones(2, requires_grad=True)\ny = (x * x).sum()\n"):
    editor = CodeEditor()
    qtbot.addWidget(editor)
    editor.setPlainText(text)
    editor.resize(500, 300)
    editor.show()
    return editor


def color_at(editor, line, col):
    """The text colour the highlighter gave the character at (line, col)."""
    block = editor.document().findBlockByNumber(line - 1)
    for r in block.layout().formats():
        if r.start <= col < r.start + r.length:
            return QColor(r.format.foreground().color())
    return None


def test_keywords_strings_comments_and_torch_are_coloured(qtbot):
    editor = make_editor(qtbot, 'import torch\ns = "text"  # note\nfor i in range(3):\n    pass\n')
    pal = PALETTES["light"]
    assert color_at(editor, 1, 0) == QColor(pal.keyword)  # import
    assert color_at(editor, 1, 8) == QColor(pal.torch)  # torch
    assert color_at(editor, 2, 5) == QColor(pal.string)
    assert color_at(editor, 2, 13) == QColor(pal.comment)
    assert color_at(editor, 3, 9) == QColor(pal.builtin)  # range(


def test_triple_quoted_string_spans_lines(qtbot):
    editor = make_editor(qtbot, 'a = """one\ntwo\nthree"""\nb = 1\n')
    pal = PALETTES["light"]
    assert color_at(editor, 2, 1) == QColor(pal.string)
    assert color_at(editor, 4, 4) == QColor(pal.number)


def test_error_marker_highlights_the_line_and_keeps_the_text(qtbot):
    editor = make_editor(qtbot)
    before = editor.toPlainText()
    editor.set_error(3, "grad can be implicitly created only for scalar outputs", "call .sum() first")
    assert editor.error_line == 3
    lines = [s.cursor.blockNumber() + 1 for s in editor.extraSelections()]
    assert 3 in lines
    error_sel = [s for s in editor.extraSelections() if s.cursor.blockNumber() == 2][-1]
    assert error_sel.format.background().color() == QColor(PALETTES["light"].error_line)
    assert "Hint: call .sum() first" in editor._error_tip
    assert editor.toPlainText() == before
    editor.set_error(99, "out of range")
    assert editor.error_line is None


def test_step_marker_and_ran_lines(qtbot):
    editor = make_editor(qtbot)
    editor.set_step_line(2, {1})
    assert editor.step_line == 2
    step_colour = QColor(PALETTES["light"].step_line)
    step_sel = [s for s in editor.extraSelections() if s.format.background().color() == step_colour]
    assert [s.cursor.blockNumber() + 1 for s in step_sel] == [2]
    editor.set_step_line(None)
    assert editor.step_line is None


def test_gutter_is_wide_enough_for_line_numbers(qtbot):
    editor = make_editor(qtbot, "\n" * 120)
    width_3_digits = editor.gutter_width()
    editor.setPlainText("a\n")
    assert editor.gutter_width() < width_3_digits


def test_enter_keeps_indentation_and_indents_after_colon(qtbot):
    editor = make_editor(qtbot, "")
    qtbot.keyClicks(editor, "for i in range(3):")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "y = i")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "z = 1")
    assert editor.toPlainText() == "for i in range(3):\n    y = i\n    z = 1"


def test_tab_inserts_spaces_and_backspace_removes_an_indent(qtbot):
    editor = make_editor(qtbot, "")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == "    "
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert editor.toPlainText() == ""


def test_typing_is_undoable_and_markers_do_not_touch_undo(qtbot):
    editor = make_editor(qtbot, "")
    qtbot.keyClicks(editor, "x = 1")
    editor.set_error(1, "boom")
    editor.set_step_line(1)
    editor.undo()
    assert editor.toPlainText() == ""
    editor.redo()
    assert editor.toPlainText() == "x = 1"


def test_toggle_comment(qtbot):
    editor = make_editor(qtbot, "a = 1\n    b = 2\n")
    cursor = editor.textCursor()
    cursor.setPosition(0)
    cursor.movePosition(QTextCursor.MoveOperation.Down, QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    editor.toggle_comment()
    assert editor.toPlainText() == "# a = 1\n    # b = 2\n"
    editor.toggle_comment()
    assert editor.toPlainText() == "a = 1\n    b = 2\n"


def test_dark_theme_changes_colours(qtbot):
    editor = make_editor(qtbot)
    editor.set_theme("dark")
    assert color_at(editor, 1, 0) == QColor(PALETTES["dark"].keyword)
    assert PALETTES["dark"].background in editor.styleSheet()


def test_go_to_line_and_cursor_line(qtbot):
    editor = make_editor(qtbot)
    editor.go_to_line(3)
    assert editor.cursor_line() == 3


def test_message_bar_shows_error_with_hint_and_line(qtbot):
    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.show_error("RuntimeError", "Trying to backward through the graph a second time", "pass retain_graph=True", 7)
    assert not bar.isHidden()
    assert bar.kind == "error"
    assert bar.title == "Line 7 · RuntimeError"
    assert bar.body == "Trying to backward through the graph a second time"
    assert bar.hint == "Hint: pass retain_graph=True"
    with qtbot.waitSignal(bar.line_clicked) as blocker:
        bar._goto.click()
    assert blocker.args == [7]
    bar.clear()
    assert bar.isHidden()


def test_message_bar_keeps_long_messages_short(qtbot):
    bar = MessageBar()
    qtbot.addWidget(bar)
    long = "First sentence says what went wrong. " + "More detail follows here. " * 20
    bar.show_error("RuntimeError", long, None, None)
    assert bar.title == "RuntimeError"
    assert len(bar.body) <= 160 and bar.body.endswith(".")
    assert bar._body.toolTip() == long
