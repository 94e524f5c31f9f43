"""The Lessons menu (and File > Examples) shows the d2l pack of the current language first, and
the classic lessons in a submenu of their own, in every language."""

from __future__ import annotations

import pytest
from app_window import make_window
from PySide6.QtWidgets import QMenu

from gradviz.core import i18n
from gradviz.core.resources import example_paths, lesson_pack_paths
from gradviz.core.session import load_session


@pytest.fixture
def language():
    """Set gradviz's language for one test (as the app does at start), English again after it."""
    yield i18n.set_language
    i18n.set_language("en")


def pack_actions(menu):
    return [a for a in menu.actions() if a.objectName().startswith("lesson:")]


def titles(paths):
    return [load_session(p).title for p in paths]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_lessons_menu_lists_the_pack_of_the_language_then_the_classic_lessons(qtbot, tmp_path, language, lang):
    language(lang)
    window, _client = make_window(qtbot, tmp_path)
    for menu in (window.lessons_menu, window.examples_menu):
        entries = [a for a in menu.actions() if not a.isSeparator()]
        expected = titles(lesson_pack_paths(lang))
        assert [a.text() for a in entries[: len(expected)]] == expected  # the pack comes first
        assert [a.objectName() for a in pack_actions(menu)][0] == f"lesson:{lang}/01-dot-product.gradviz"
        classic = menu.findChild(QMenu, "classicLessons")
        assert entries[-1].menu() is classic  # last: the classic lessons' submenu
        assert [a.text() for a in classic.actions()] == titles(example_paths())
    chinese = any("\u4e00" <= ch <= "\u9fff" for a in pack_actions(window.lessons_menu) for ch in a.text())
    assert chinese == (lang == "zh_CN")


def test_a_chinese_lesson_opens_with_its_notes_in_the_lesson_panel(qtbot, tmp_path, language):
    language("zh_CN")
    window, _client = make_window(qtbot, tmp_path)
    action = next(a for a in pack_actions(window.lessons_menu) if a.objectName().endswith("04-detach.gradviz"))
    session = load_session(lesson_pack_paths("zh_CN")[3])
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        action.trigger()
    assert window.notes_title.text() == session.title == action.text() == "分离计算：detach()"
    assert window.notes_text.toPlainText() == session.notes and "u = y.detach()" in session.notes
    assert window.editor.toPlainText() == session.program
    assert window.path is None and not window.dirty  # the shipped file is never the save target


def test_the_menu_follows_a_change_of_language(qtbot, tmp_path, language):
    language("zh_CN")
    window, _client = make_window(qtbot, tmp_path)
    language("en")
    window.sessions.fill_examples()
    assert [a.text() for a in pack_actions(window.lessons_menu)] == titles(lesson_pack_paths("en"))
    qtbot.waitUntil(lambda: len(window.lessons_menu.findChildren(QMenu, "classicLessons")) == 1)
    assert len(window.lessons_menu.actions()) == len(lesson_pack_paths("en")) + 2  # + separator, submenu
