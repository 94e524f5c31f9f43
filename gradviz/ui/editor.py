"""The code editor: Python highlighting, line numbers, the failed line marked, the step line shown."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")


@dataclass(frozen=True)
class EditorPalette:
    """Colours of the editor for one theme."""

    background: str
    text: str
    gutter: str
    gutter_text: str
    gutter_current: str
    current_line: str
    error_line: str
    error_marker: str
    step_line: str
    step_marker: str
    ran_marker: str
    keyword: str
    builtin: str
    torch: str
    string: str
    number: str
    comment: str
    decorator: str
    definition: str
    selection: str


PALETTES = {
    "light": EditorPalette(
        background="#ffffff", text="#1f2328", gutter="#f6f8fa", gutter_text="#8c959f",
        gutter_current="#1f2328", current_line="#f3f6fb", error_line="#ffe4e4", error_marker="#d1242f",
        step_line="#e6f4ea", step_marker="#1a7f37", ran_marker="#b7dfc3", keyword="#cf222e",
        builtin="#8250df", torch="#0550ae", string="#0a3069", number="#0550ae", comment="#6e7781",
        decorator="#953800", definition="#8250df", selection="#b6d7ff",
    ),
    "dark": EditorPalette(
        background="#1e2127", text="#d7dae0", gutter="#1a1d22", gutter_text="#5c6370",
        gutter_current="#d7dae0", current_line="#262a31", error_line="#4a2428", error_marker="#ff6b6b",
        step_line="#1f3a2b", step_marker="#4ec77f", ran_marker="#2f5c41", keyword="#c678dd",
        builtin="#56b6c2", torch="#61afef", string="#98c379", number="#d19a66", comment="#7f848e",
        decorator="#e5c07b", definition="#e5c07b", selection="#3e4c63",
    ),
}

_BUILTINS = (
    "print len range enumerate zip min max sum abs round tuple list dict float int str bool isinstance "
    "sorted reversed map filter any all set type super object"
).split()
_TORCH_NAMES = ("torch", "nn", "F", "optim", "math")


class PythonHighlighter(QSyntaxHighlighter):
    """Python syntax colours, with torch / nn / F stressed; triple-quoted strings may span lines."""

    _IN_TRIPLE_SINGLE = 1
    _IN_TRIPLE_DOUBLE = 2

    def __init__(self, document: QTextDocument, theme: str = "light"):
        super().__init__(document)
        self._rules: list[tuple[re.Pattern, QTextCharFormat, int]] = []
        self.set_theme(theme)

    def set_theme(self, theme: str) -> None:
        pal = PALETTES.get(theme, PALETTES["light"])

        def fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            if bold:
                f.setFontWeight(QFont.Weight.DemiBold)
            f.setFontItalic(italic)
            return f

        kw = "|".join(keyword.kwlist + ["self"])
        self._string = fmt(pal.string)
        self._comment = fmt(pal.comment, italic=True)
        # (pattern, format, capture group); later rules win, strings and comments are done apart.
        self._rules = [
            (re.compile(rf"\b({kw})\b"), fmt(pal.keyword, bold=True), 1),
            (re.compile(rf"\b({'|'.join(_BUILTINS)})\b(?=\s*\()"), fmt(pal.builtin), 1),
            (re.compile(rf"\b({'|'.join(_TORCH_NAMES)})\b"), fmt(pal.torch, bold=True), 1),
            (re.compile(r"\b(?:def|class)\s+([A-Za-z_]\w*)"), fmt(pal.definition, bold=True), 1),
            (re.compile(r"(?<![\w.])(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)j?\b"), fmt(pal.number), 1),
            (re.compile(r"^\s*(@[\w.]+)"), fmt(pal.decorator), 1),
        ]
        self.rehighlight()

    # A string or comment start: the first of these that occurs decides the rest of the line.
    _TOKEN = re.compile(r"(?P<comment>#)|(?P<triple>[rRbBfFuU]{0,2}(?:'''|\"\"\"))|(?P<single>[rRbBfFuU]{0,2}['\"])")

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt virtual)
        for pattern, fmt, group in self._rules:
            for m in pattern.finditer(text):
                self.setFormat(m.start(group), m.end(group) - m.start(group), fmt)
        self.setCurrentBlockState(0)
        pos = 0
        state = self.previousBlockState()
        if state in (self._IN_TRIPLE_SINGLE, self._IN_TRIPLE_DOUBLE):
            quote = "'''" if state == self._IN_TRIPLE_SINGLE else '"""'
            end = text.find(quote)
            if end < 0:
                self.setFormat(0, len(text), self._string)
                self.setCurrentBlockState(state)
                return
            self.setFormat(0, end + 3, self._string)
            pos = end + 3
        while pos < len(text):
            m = self._TOKEN.search(text, pos)
            if not m:
                break
            if m.group("comment"):
                self.setFormat(m.start(), len(text) - m.start(), self._comment)
                return
            if m.group("triple"):
                quote = m.group("triple")[-3:]
                end = text.find(quote, m.end())
                if end < 0:
                    self.setFormat(m.start(), len(text) - m.start(), self._string)
                    self.setCurrentBlockState(self._IN_TRIPLE_SINGLE if quote == "'''" else self._IN_TRIPLE_DOUBLE)
                    return
                self.setFormat(m.start(), end + 3 - m.start(), self._string)
                pos = end + 3
                continue
            quote = m.group("single")[-1]
            i = m.end()
            while i < len(text) and text[i] != quote:
                i += 2 if text[i] == "\\" else 1
            self.setFormat(m.start(), min(i + 1, len(text)) - m.start(), self._string)
            pos = i + 1


class _Gutter(QWidget):
    """The line-number area; paints through the editor, which knows the block geometry."""

    def __init__(self, editor: CodeEditor):
        super().__init__(editor)
        self._editor = editor
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event) -> None:  # noqa: N802
        self._editor.paint_gutter(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._editor.gutter_clicked(event.position().y())


class CodeEditor(QPlainTextEdit):
    """A Python editor for the program: line numbers, highlighting, error and step markers.

    Runs never replace the text: markers are extra selections and gutter paint, so undo history
    and typed text stay untouched.

    Signals
    -------
    error_line_clicked(int)
        The gutter marker of the failed line was clicked.
    """

    error_line_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, theme: str = "light"):
        super().__init__(parent)
        self.setObjectName("codeEditor")
        self._theme = theme
        self._palette = PALETTES[theme]
        self._error_line: int | None = None
        self._error_tip = ""
        self._step_line: int | None = None
        self._ran_lines: frozenset[int] = frozenset()
        self._tab_leaves = False  # armed by Esc: the next Tab moves focus on instead of indenting
        self._gutter = _Gutter(self)
        self._highlighter = PythonHighlighter(self.document(), theme)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabChangesFocus(False)
        self.set_font_size(11)
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        self.cursorPositionChanged.connect(self._refresh_selections)
        self._update_gutter_width()
        self._apply_palette()

    # -- appearance ----------------------------------------------------------------------------

    def set_font_size(self, points: float) -> None:
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(points)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)
        self._gutter.setFont(font)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self._update_gutter_width()

    def set_theme(self, theme: str) -> None:
        self._theme = theme if theme in PALETTES else "light"
        self._palette = PALETTES[self._theme]
        self._highlighter.set_theme(self._theme)
        self._apply_palette()

    def _apply_palette(self) -> None:
        p = self._palette
        self.setStyleSheet(
            f"QPlainTextEdit#codeEditor {{ background: {p.background}; color: {p.text};"
            f" selection-background-color: {p.selection}; border: none; }}"
        )
        self._refresh_selections()
        self._gutter.update()

    # -- markers -------------------------------------------------------------------------------

    @property
    def error_line(self) -> int | None:
        return self._error_line

    @property
    def step_line(self) -> int | None:
        return self._step_line

    def set_error(self, line: int | None, message: str = "", hint: str | None = None) -> None:
        """Mark ``line`` (1-based) as the failed line, with its message and hint as tooltip."""
        if line is not None and not 1 <= line <= self.blockCount():
            line = None
        self._error_line = line
        self._error_tip = message + ("\n\n" + translate("Editor", "Hint: {hint}").format(hint=hint) if hint else "")
        self._refresh_selections()
        self._gutter.update()

    def clear_error(self) -> None:
        self.set_error(None)

    def set_step_line(self, line: int | None, ran: frozenset[int] | set[int] = frozenset()) -> None:
        """Mark the statement a Step stopped after (``line``) and the lines that ran before it."""
        self._step_line = line
        self._ran_lines = frozenset(ran)
        self._refresh_selections()
        self._gutter.update()

    def go_to_line(self, line: int) -> None:
        block = self.document().findBlockByNumber(max(0, line - 1))
        cursor = QTextCursor(block)
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus()

    def cursor_line(self) -> int:
        """The 1-based line the cursor is on."""
        return self.textCursor().blockNumber() + 1

    def _line_selection(self, line: int, color: str) -> QTextEdit.ExtraSelection:
        sel = QTextEdit.ExtraSelection()
        sel.format.setBackground(QColor(color))
        sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        sel.cursor = QTextCursor(self.document().findBlockByNumber(line - 1))
        sel.cursor.clearSelection()
        return sel

    def _refresh_selections(self) -> None:
        p = self._palette
        selections = []
        if not self.isReadOnly():
            selections.append(self._line_selection(self.cursor_line(), p.current_line))
        if self._step_line is not None:
            selections.append(self._line_selection(self._step_line, p.step_line))
        if self._error_line is not None:
            selections.append(self._line_selection(self._error_line, p.error_line))
        self.setExtraSelections(selections)

    # -- gutter --------------------------------------------------------------------------------

    def gutter_width(self) -> int:
        digits = max(2, len(str(self.blockCount())))
        return 22 + self.fontMetrics().horizontalAdvance("9") * digits + 10

    def _update_gutter_width(self, *_args) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        cr = self.contentsRect()
        self._gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, event) -> None:
        p = self._palette
        painter = QPainter(self._gutter)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(event.rect(), QColor(p.gutter))
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        current = self.cursor_line()
        width = self._gutter.width()
        fm = self.fontMetrics()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                line = number + 1
                h = bottom - top
                if line in self._ran_lines:
                    painter.fillRect(QRect(width - 4, top, 3, h), QColor(p.ran_marker))
                if line == self._step_line:
                    painter.fillRect(QRect(width - 4, top, 3, h), QColor(p.step_marker))
                    self._paint_arrow(painter, 4, top + h / 2, min(h, 14), QColor(p.step_marker))
                if line == self._error_line:
                    d = min(h - 4, 12)
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(QColor(p.error_marker))
                    painter.drawEllipse(4, int(top + (h - d) / 2), d, d)
                    painter.setPen(QColor("#ffffff"))
                    bold = QFont(self.font())
                    bold.setBold(True)
                    bold.setPointSizeF(max(6.0, self.font().pointSizeF() * 0.7))
                    painter.setFont(bold)
                    painter.drawText(QRect(4, int(top + (h - d) / 2), d, d), Qt.AlignmentFlag.AlignCenter, "!")
                    painter.setFont(self.font())
                painter.setPen(QColor(p.gutter_current if line == current else p.gutter_text))
                painter.drawText(0, top, width - 10, fm.height(), Qt.AlignmentFlag.AlignRight, str(line))
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()

    @staticmethod
    def _paint_arrow(painter: QPainter, x: float, cy: float, size: float, color: QColor) -> None:
        path = QPainterPath()
        path.moveTo(x, cy - size / 2.5)
        path.lineTo(x + size * 0.8, cy)
        path.lineTo(x, cy + size / 2.5)
        path.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPath(path)

    def gutter_clicked(self, y: float) -> None:
        block = self.cursorForPosition(self.viewport().mapFrom(self, self._gutter.mapTo(self, _point(0, y)))).block()
        line = block.blockNumber() + 1
        if line == self._error_line:
            self.error_line_clicked.emit(line)
        self.go_to_line(line)

    # -- typing --------------------------------------------------------------------------------

    def event(self, event) -> bool:
        # Tooltip over the failed line: its message and hint.
        if event.type() == event.Type.ToolTip and self._error_line is not None:
            pos = self.viewport().mapFromGlobal(event.globalPos())
            line = self.cursorForPosition(pos).blockNumber() + 1
            if line == self._error_line:
                from PySide6.QtWidgets import QToolTip

                QToolTip.showText(event.globalPos(), self._error_tip, self)
                return True
        return super().event(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self._tab_leaves = False
        super().focusOutEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        cursor = self.textCursor()
        # Tab indents, so focus leaves by Ctrl+Tab / Ctrl+Shift+Tab (Qt's own convention for text
        # edits that keep Tab), or by Esc then Tab / Shift+Tab (as in VS Code's "Tab moves focus").
        armed, self._tab_leaves = self._tab_leaves, False
        tab = key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
        if tab and (armed or event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            backward = key == Qt.Key.Key_Backtab or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            # QPlainTextEdit's own focusNextPrevChild refuses while Tab indents: ask QWidget's.
            QWidget.focusNextPrevChild(self, not backward)
            return
        if key == Qt.Key.Key_Escape and not event.modifiers():
            self._tab_leaves = True
            event.ignore()  # Esc still reaches whatever else listens for it
            return
        if key == Qt.Key.Key_Tab and not cursor.hasSelection():
            cursor.insertText("    ")
            return
        if key == Qt.Key.Key_Backtab or (key == Qt.Key.Key_Tab and cursor.hasSelection()):
            self._indent_selection(dedent=key == Qt.Key.Key_Backtab)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            # Keep the indentation, and add a level after a colon.
            text = cursor.block().text()[: cursor.positionInBlock()]
            indent = text[: len(text) - len(text.lstrip(" "))]
            if text.rstrip().endswith(":"):
                indent += "    "
            cursor.insertText("\n" + indent)
            self.ensureCursorVisible()
            return
        if key == Qt.Key.Key_Backspace and not cursor.hasSelection():
            text = cursor.block().text()[: cursor.positionInBlock()]
            if text and not text.strip(" ") and len(text) % 4 == 0:
                cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, 4)
                cursor.removeSelectedText()
                return
        super().keyPressEvent(event)

    def _indent_selection(self, dedent: bool) -> None:
        cursor = self.textCursor()
        doc = self.document()
        first = doc.findBlock(cursor.selectionStart()).blockNumber()
        last = doc.findBlock(cursor.selectionEnd()).blockNumber()
        cursor.beginEditBlock()
        for n in range(first, last + 1):
            block = doc.findBlockByNumber(n)
            c = QTextCursor(block)
            if dedent:
                spaces = len(block.text()) - len(block.text().lstrip(" "))
                c.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor, min(4, spaces))
                c.removeSelectedText()
            else:
                c.insertText("    ")
        cursor.endEditBlock()

    def toggle_comment(self) -> None:
        """Comment or uncomment the selected lines (Ctrl+/)."""
        cursor = self.textCursor()
        doc = self.document()
        first = doc.findBlock(cursor.selectionStart()).blockNumber()
        last = doc.findBlock(cursor.selectionEnd()).blockNumber()
        blocks = [doc.findBlockByNumber(n) for n in range(first, last + 1)]
        commented = all(b.text().lstrip().startswith("#") for b in blocks if b.text().strip())
        cursor.beginEditBlock()
        for block in blocks:
            text = block.text()
            if not text.strip():
                continue
            c = QTextCursor(block)
            col = len(text) - len(text.lstrip())
            c.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.MoveAnchor, col)
            if commented:
                n = 2 if text[col:].startswith("# ") else 1
                c.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor, n)
                c.removeSelectedText()
            else:
                c.insertText("# ")
        cursor.endEditBlock()


def _point(x: float, y: float):
    from PySide6.QtCore import QPoint

    return QPoint(int(x), int(y))


def _shorten(text: str, limit: int = 160) -> str:
    """Torch messages can run to a paragraph: keep whole sentences up to ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > 40 else text[: limit - 1].rstrip() + "…"


class MessageBar(QFrame):
    """A bar under the editor: the error of the last run with its hint, or a note; closable.

    Signals
    -------
    line_clicked(int)
        "Go to line" was clicked.
    """

    line_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("messageBar")
        self._line: int | None = None
        self._icon = QLabel(self)
        self._icon.setObjectName("messageIcon")
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self._icon.setFixedWidth(22)
        self._title = QLabel(self)
        self._title.setObjectName("messageTitle")
        self._title.setWordWrap(True)
        self._title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._body = QLabel(self)
        self._body.setObjectName("messageBody")
        self._body.setWordWrap(True)
        self._body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._hint = QLabel(self)
        self._hint.setObjectName("messageHint")
        self._hint.setWordWrap(True)
        self._hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._goto = QToolButton(self)
        self._goto.setObjectName("messageGoto")
        self._goto.setText(translate("Editor", "Go to line"))
        self._goto.setCursor(Qt.CursorShape.PointingHandCursor)
        self._goto.clicked.connect(lambda: self._line is not None and self.line_clicked.emit(self._line))
        close = QToolButton(self)
        close.setObjectName("messageClose")
        close.setText("✕")
        close.setToolTip(translate("Editor", "Hide this message"))
        close.setCursor(Qt.CursorShape.PointingHandCursor)
        close.clicked.connect(self.hide)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self._title)
        texts.addWidget(self._body)
        texts.addWidget(self._hint)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 8, 8, 8)
        row.setSpacing(8)
        row.addWidget(self._icon)
        row.addLayout(texts, 1)
        row.addWidget(self._goto, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def title(self) -> str:
        return self._title.text()

    @property
    def body(self) -> str:
        return self._body.text()

    @property
    def hint(self) -> str:
        return self._hint.text()

    @property
    def kind(self) -> str:
        return self.property("kind") or ""

    def show_message(self, kind: str, title: str, hint: str | None = None, line: int | None = None,
                     body: str | None = None) -> None:
        """Show a message; ``kind`` is "error", "warning" or "info" (the stylesheet colours it)."""
        self.setProperty("kind", kind)
        self._icon.setText({"error": "⨯", "warning": "!", "info": "i"}.get(kind, "i"))
        self._title.setText(title)
        short = _shorten(body or "")
        self._body.setText(short)
        self._body.setToolTip(body if body and short != body else "")
        self._body.setVisible(bool(body))
        self._hint.setText(hint or "")
        self._hint.setVisible(bool(hint))
        self._line = line
        self._goto.setVisible(line is not None)
        if line is not None:
            self._goto.setText(translate("Editor", "Go to line {line}").format(line=line))
        # Re-polish so the [kind="..."] stylesheet selectors apply.
        for w in (self, self._icon, self._title, self._body, self._hint):
            w.style().unpolish(w)
            w.style().polish(w)
        self.show()

    def show_error(self, error_type: str, message: str, hint: str | None, line: int | None) -> None:
        """An error of the program: "Line 5 · RuntimeError" over the plain message and the hint."""
        where = translate("Editor", "Line {line}").format(line=line) if line is not None else ""
        title = " · ".join(p for p in (where, error_type) if p)
        self.show_message("error", title, translate("Editor", "Hint: {hint}").format(hint=hint) if hint else None,
                          line, body=message)

    def clear(self) -> None:
        self._line = None
        self.hide()
