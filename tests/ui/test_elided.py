"""ElidedLabel: the whole text stays readable through text() and the tooltip; the drawn text fits."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QWidget

from gradviz.ui.elided import ElidedLabel

TEXT = "line 5 · 5,253 nodes · 5,253 steps"


def shown_label(qtbot, width: int, text: str = TEXT, min_width: int = 40) -> tuple[QWidget, ElidedLabel]:
    """A label alone in a row of a window ``width`` pixels wide, on screen."""
    host = QWidget()
    qtbot.addWidget(host)
    row = QHBoxLayout(host)
    label = ElidedLabel(text, host, min_width=min_width)
    row.addWidget(label)
    host.resize(width, 40)
    host.show()
    qtbot.waitExposed(host)
    return host, label


def test_fits_whole_when_there_is_room_and_ends_in_an_ellipsis_when_not(qtbot):
    host, label = shown_label(qtbot, 600)
    assert label.shown_text() == TEXT and label.toolTip() == ""
    host.resize(120, 40)
    qtbot.waitUntil(lambda: label.width() <= 120)
    shown = label.shown_text()
    assert shown.endswith("…") and TEXT.startswith(shown[:-1]) and len(shown) > 3
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.text() == TEXT and label.toolTip() == TEXT
    label.setText("x")  # a new text is fitted too
    assert label.shown_text() == "x" and label.toolTip() == ""
    host.resize(600, 40)
    label.setText(TEXT)
    qtbot.waitUntil(lambda: label.shown_text() == TEXT)


def test_never_widens_its_layout(qtbot):
    host, _ = shown_label(qtbot, 80, "x" * 400, min_width=30)
    assert host.minimumSizeHint().width() < 100


def test_bigger_fonts_elide_again(qtbot):
    _, label = shown_label(qtbot, 260)
    before = label.shown_text()
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    label.setFont(font)
    assert len(label.shown_text()) < len(before) and label.shown_text().endswith("…")
