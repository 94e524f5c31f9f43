"""The find bar over the code editor: Ctrl+F opens it, Enter / Shift+Enter (F3 / Shift+F3) find on, Esc closes."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QToolButton, QWidget

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")


class FindBar(QFrame):
    """Finds text in ``editor``, case-insensitively, wrapping around the ends of the program.

    A match is selected in the editor; the search field keeps the focus while the bar is open, so
    Enter finds the next match and Shift+Enter the previous one.
    """

    def __init__(self, editor: QPlainTextEdit, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("findBar")
        self.editor = editor
        self.field = QLineEdit(self)
        self.field.setObjectName("findField")
        self.field.setPlaceholderText(translate("FindBar", "Find in the program"))
        self.field.setClearButtonEnabled(True)
        self.field.installEventFilter(self)
        editor.installEventFilter(self)  # Esc in the editor closes the bar too, as in most editors
        self.field.textEdited.connect(lambda _t: self.find(from_start_of_selection=True))
        self.status = QLabel("", self)
        self.status.setObjectName("findStatus")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 4, 4)
        row.setSpacing(4)
        row.addWidget(self.field, 1)
        row.addWidget(self.status)
        for name, text, tip, slot in (
            ("findPrevious", "↑", translate("FindBar", "Previous match  (Shift+Enter, Shift+F3)"),
             lambda: self.find(backward=True)),
            ("findNext", "↓", translate("FindBar", "Next match  (Enter, F3)"), lambda: self.find()),
            ("findClose", "✕", translate("FindBar", "Close  (Esc)"), self.close_bar),
        ):
            button = QToolButton(self)
            button.setObjectName(name)
            button.setText(text)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            row.addWidget(button)
        self.hide()

    def open_bar(self) -> None:
        """Show the bar with the editor's one-line selection (if any) as the text, ready to type."""
        selected = self.editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.field.setText(selected)
        self.show()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.status.setText("")
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def find_again(self, backward: bool = False) -> None:
        """F3 / Shift+F3: the next or previous match of the text last looked for; the bar if there is none."""
        if self.field.text():
            self.find(backward=backward)
        else:
            self.open_bar()

    def find(self, backward: bool = False, from_start_of_selection: bool = False) -> bool:
        """Select the next (or previous) match after the editor's cursor, wrapping around; False if none."""
        text = self.field.text()
        if not text:
            self.status.setText("")
            return False
        editor = self.editor
        cursor = editor.textCursor()
        if from_start_of_selection:  # typing refines the match in place rather than skipping it
            cursor.setPosition(cursor.selectionStart())
            editor.setTextCursor(cursor)
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        found = editor.find(text, flags)
        wrapped = False
        if not found:
            restart = QTextCursor(editor.document())
            restart.movePosition(QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start)
            editor.setTextCursor(restart)
            found = editor.find(text, flags)
            wrapped = found
            if not found:
                editor.setTextCursor(cursor)
        # "Wrapped" only when moving on from a match: a first match found by typing is no news.
        if not found:
            self.status.setText(translate("FindBar", "Not found"))
        else:
            self.status.setText(translate("FindBar", "Wrapped") if wrapped and not from_start_of_selection else "")
        return found

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt virtual)
        if watched is self.editor:
            if event.type() == event.Type.KeyPress and event.key() == Qt.Key.Key_Escape and self.isVisible():
                self.hide()  # and the editor still sees the Esc (it arms "the next Tab leaves")
            return False
        if watched is self.field and event.type() == event.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.find(backward=bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
                return True
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
        return super().eventFilter(watched, event)
