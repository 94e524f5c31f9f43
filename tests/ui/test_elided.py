"""ElidedLabel: the whole text stays readable through text() and the tooltip; the drawn text fits."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QWidget

from gradviz.ui.elided import ElidedLabel

TEXT = "line 5 · 5,253 nodes · 5,253 steps"


def test_fits_whole_when_there_is_room_and_ends_in_an_ellipsis_when_not(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    row = QHBoxLayout(host)
    label = ElidedLabel(TEXT, host)
    row.addWidget(label)
    host.resize(600, 40)
    host.show()
    qtbot.waitExposed(host)
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
    host = QWidget()
    qtbot.addWidget(host)
    row = QHBoxLayout(host)
    label = ElidedLabel("x" * 400, host, min_width=30)
    row.addWidget(label)
    assert host.minimumSizeHint().width() < 100


def test_bigger_fonts_elide_again(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    row = QHBoxLayout(host)
    label = ElidedLabel(TEXT, host)
    row.addWidget(label)
    host.resize(260, 40)
    host.show()
    qtbot.waitExposed(host)
    before = label.shown_text()
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    label.setFont(font)
    assert len(label.shown_text()) < len(before) and label.shown_text().endswith("…")
