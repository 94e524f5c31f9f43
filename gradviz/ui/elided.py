"""A one-line label that gives way: short of room it ends its text with "…" and shows all of it as a tooltip.

Status texts in narrow places (the canvas header, the player bar, the .grad panels) must never
widen their dock or window, least of all in presentation mode with its bigger fonts; a plain
QLabel squeezed there cuts its text off mid-letter ("lir" for "line 5 · 6 nodes").
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """``text()`` is the whole text; what is drawn is as much of it as fits, then "…"."""

    def __init__(self, text: str = "", parent: QWidget | None = None, min_width: int = 40,
                 prefer_whole: bool = False):
        """``prefer_whole``: ask the layout for room for the whole text (it still gives way, down to
        ``min_width``, when there is none); otherwise the label takes what its stretch gives it."""
        super().__init__(parent)
        self._full = ""
        self._prefer_whole = prefer_whole
        policy = QSizePolicy.Policy.Preferred if prefer_whole else QSizePolicy.Policy.Ignored
        self.setSizePolicy(policy, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(min_width)
        # No implicit indent: with a style sheet's padding Qt adds half an "x" before the text,
        # which the room measured below doesn't know ("step 3/3 · AccumulateGrac" in presentation mode).
        self.setIndent(0)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = text
        self._elide()
        if self._prefer_whole:
            self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        if not self._prefer_whole:
            return hint
        m = self.contentsMargins()  # the style sheet's padding and the frame, around the text's room
        whole = self.fontMetrics().horizontalAdvance(self._full) + m.left() + m.right() + 2 * self.margin() + 2
        return QSize(max(whole, self.minimumWidth()), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(self.minimumWidth(), super().minimumSizeHint().height())

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        """What is drawn: the text, or its start and "…"."""
        return super().text()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._elide()
            if self._prefer_whole:
                self.updateGeometry()

    def _elide(self) -> None:
        room = self.contentsRect().width() - 2 * self.margin()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(room, 0))
        if shown != super().text():
            super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")
