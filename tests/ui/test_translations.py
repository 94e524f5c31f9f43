"""The window in Chinese: the .ts and .qm (complete, fresh), the menus under zh_CN, --lang, View ▸ Language."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from app_window import make_window, type_text

from gradviz.core import i18n

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "resources" / "i18n" / "gradviz_zh_CN.ts"
QM = ROOT / "resources" / "i18n" / "gradviz_zh_CN.qm"
BIN = Path(sys.executable).parent
SOURCES = ["gradviz/ui", "gradviz/launch.py"]  # as the Makefile's TS_SOURCES
CHINESE_MENUS = ["文件(&F)", "编辑(&E)", "运行(&R)", "反向传播(&B)", "视图(&V)", "课程(&L)", "帮助(&H)"]


def messages(path: Path) -> dict[tuple[str, str], list[str]]:
    """(context, source) -> the translations (one per numerus form) of every message in a .ts;
    an unfinished or empty translation counts as none."""
    found = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name")
        for m in context.iter("message"):
            t = m.find("translation")
            done = t is not None and t.get("type") not in ("unfinished", "vanished", "obsolete")
            forms = [f.text or "" for f in t.iter("numerusform")] if m.get("numerus") == "yes" else [t.text or ""]
            found[(name, m.findtext("source"))] = [f for f in forms if f] if done else []
    return found


@pytest.fixture
def chinese(qapp):
    """The application in Simplified Chinese for one test (translators installed), English after."""
    from gradviz.ui import language

    language.install(qapp, "zh_CN")
    yield
    language.install(qapp, "en")


# -- the translation files -------------------------------------------------------------------------


def test_translation_is_at_least_95_percent_finished():
    found = messages(TS)
    finished = sum(1 for forms in found.values() if forms)
    assert len(found) > 250  # the whole window, not a handful of strings
    assert finished / len(found) >= 0.95, [k for k, v in found.items() if not v]


def test_translations_keep_placeholders_and_one_accelerator():
    for (context, source), forms in messages(TS).items():
        for text in forms:
            fields = sorted(re.findall(r"\{\w*\}|%n|%\d", source))
            assert sorted(re.findall(r"\{\w*\}|%n|%\d", text)) == fields, (context, source, text)
            if re.search(r"&\w", source):  # a menu accelerator: Chinese puts it in brackets, 文件(&F)
                assert len(re.findall(r"&\w", text)) == 1, (context, source, text)
            assert not re.search(r"[\u4e00-\u9fff]", source)
            assert re.search(r"[\u4e00-\u9fff]", text) or text == source or not re.search(r"[a-z]{3}", source), \
                (source, text)  # translated, not copied


@pytest.mark.skipif(not (BIN / "pyside6-lupdate").exists(), reason="pyside6-lupdate is not installed")
def test_ts_holds_every_text_of_the_sources(tmp_path):
    """A translate()/tr() text added to the UI without `make translations` fails here."""
    fresh = tmp_path / "fresh.ts"
    subprocess.run([str(BIN / "pyside6-lupdate"), "-silent", "-extensions", "py", "-locations", "none",
                    "-no-obsolete", *SOURCES, "-ts", str(fresh)], cwd=ROOT, check=True, timeout=120)
    assert set(messages(fresh)) == set(messages(TS)), (
        "resources/i18n/gradviz_zh_CN.ts is out of date with the sources: run `make translations` "
        f"(new: {sorted(set(messages(fresh)) - set(messages(TS)))[:5]}, "
        f"gone: {sorted(set(messages(TS)) - set(messages(fresh)))[:5]})")


@pytest.mark.skipif(not (BIN / "pyside6-lrelease").exists(), reason="pyside6-lrelease is not installed")
def test_qm_is_compiled_from_the_ts(tmp_path):
    """The .qm shipped is what pyside6-lrelease makes of the .ts now (a stale or missing one fails)."""
    assert QM.is_file(), "resources/i18n/gradviz_zh_CN.qm is missing: run `make translations`"
    fresh = tmp_path / "fresh.qm"
    subprocess.run([str(BIN / "pyside6-lrelease"), "-silent", str(TS), "-qm", str(fresh)], check=True, timeout=60)
    assert fresh.read_bytes() == QM.read_bytes(), "the .qm is out of date with the .ts: run `make translations`"


def test_freshness_check_notices_a_new_text(tmp_path):
    """The check above can fail: a source with one more translate() text gives another message set."""
    source = tmp_path / "extra.py"
    source.write_text('from PySide6.QtCore import QCoreApplication\n'
                      'QCoreApplication.translate("MainWindow", "A text nobody translated yet")\n')
    out = tmp_path / "extra.ts"
    shutil.copy(TS, out)
    subprocess.run([str(BIN / "pyside6-lupdate"), "-silent", "-locations", "none", str(source), "-ts", str(out)],
                   check=True, timeout=60)
    assert messages(out)[("MainWindow", "A text nobody translated yet")] == []


# -- the window in Chinese ------------------------------------------------------------------------


def menu_titles(window) -> list[str]:
    return [a.text() for a in window.menuBar().actions()]


def test_menus_docks_and_actions_in_chinese(qtbot, tmp_path, dialog_log, chinese):
    window, _ = make_window(qtbot, tmp_path)
    assert menu_titles(window) == CHINESE_MENUS
    docks = {name: dock.windowTitle() for name, dock in window.docks.items()}
    assert docks == {"programDock": "程序", "outputDock": "输出", "notesDock": "课程", "inspectorDock": "检查器",
                     "gradsDock": "梯度（.grad）", "historyDock": ".grad 历史"}
    run = window.actions["run"]
    assert run.text() == "运行(&R)" and run.iconText() == "运行"  # the toolbar button shows no "(R)"
    assert run.toolTip().startswith("运行整个程序")
    assert window.actions["open"].text() == "打开(&O)…"
    assert window.graph_title.text() == "计算图"
    assert window.player_bar.call_label.text() == "还没有 backward 调用：请运行一个调用 backward() 的程序"
    assert window.grads.empty.text() == "运行程序后，这里显示每个叶子节点的 .grad"
    assert window.language_actions["zh_CN"].isChecked() and not window.language_actions["en"].isChecked()
    # Qt's own words (standard buttons) come from the qtbase translation PySide6 ships.
    from PySide6.QtCore import QCoreApplication

    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    assert i18n.language() == "zh_CN"  # the engine, canvas and lessons follow


def test_menus_stay_english_under_en(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    assert menu_titles(window) == ["&File", "&Edit", "&Run", "&Backward", "&View", "&Lessons", "&Help"]
    assert window.docks["gradsDock"].windowTitle() == "Gradients (.grad)"
    assert window.actions["run"].text() == "&Run" and window.actions["run"].iconText() == "Run"
    assert window.actions["run"].toolTip() == "Run the whole program  (Ctrl+Return)"
    assert window.language_actions["en"].isChecked()


def test_status_and_plurals_in_both_languages(qtbot, tmp_path, dialog_log, qapp):
    """The numbers' words: English keeps "1 step" / "3 steps"; Chinese has one form."""
    from app_fixtures import accumulation_result

    from gradviz.ui import language

    window, _ = make_window(qtbot, tmp_path)
    window.show_result(accumulation_result())
    assert window.graph_subtitle.text() == "line 12 · 5 nodes · 3 steps"
    assert window.history.caption.text() == "6 backward calls · .grad reset 3×"
    language.install(qapp, "zh_CN")
    try:
        other, _ = make_window(qtbot, tmp_path, config="other")
        other.show_result(accumulation_result())
        assert other.graph_subtitle.text() == "第 12 行 · 5 个节点 · 3 步"
        assert other.graph_title.text() == "第 6 次 backward 调用"
        assert other.history.caption.text() == "6 次 backward 调用 · .grad 重置了 3 次"
    finally:
        language.install(qapp, "en")


# -- choosing the language ----------------------------------------------------------------------------


def test_lang_option_wins_then_the_remembered_choice_then_the_locale():
    from gradviz.ui.language import choose

    zh_env = {"LANG": "zh_CN.UTF-8"}
    assert choose(None, None, zh_env) == "zh_CN"
    assert choose(None, None, {"LANG": "de_DE.UTF-8"}) == "en"
    assert choose(None, "en", zh_env) == "en"  # the menu choice beats the locale
    assert choose("zh-CN", "en", {}) == "zh_CN"  # --lang beats both
    assert choose(None, "klingon", zh_env) == "zh_CN"  # a remembered value no longer spoken is passed over
    with pytest.raises(ValueError, match="choose one of en, zh_CN"):
        choose("fr", None, {})


def test_lang_option_on_the_command_line(capsys):
    from gradviz.cli import build_parser

    assert build_parser("app").parse_args(["--lang", "zh_CN"]).lang == "zh_CN"
    assert build_parser("app").parse_args(["--lang", "zh"]).lang == "zh_CN"
    assert build_parser("app").parse_args(["lesson.gradviz", "--lang", "en"]).lang == "en"
    assert build_parser("app").parse_args([]).lang is None
    with pytest.raises(SystemExit) as stop:
        build_parser("app").parse_args(["--lang", "fr"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "unknown language 'fr'" in err and "en, zh_CN" in err


def test_menu_choice_is_remembered_and_rebuilds_the_window_keeping_the_text(qtbot, tmp_path, dialog_log, qapp):
    from gradviz.ui import app as app_module
    from gradviz.ui import language
    from gradviz.ui.settings import Settings

    window, _ = make_window(qtbot, tmp_path)
    type_text(window, "import torch\nx = torch.ones(2, requires_grad=True)\n")
    window.notes_title.setText("我的课")
    assert window.dirty
    try:
        with qtbot.waitSignal(window.language_chosen):
            window.language_actions["zh_CN"].trigger()
        new = app_module._windows[-1]
        qtbot.addWidget(new)
        assert new is not window and not window.isVisible()
        assert menu_titles(new) == CHINESE_MENUS
        assert new.editor.toPlainText() == "import torch\nx = torch.ones(2, requires_grad=True)\n"
        assert new.notes_title.text() == "我的课" and new.dirty
        assert new.language_actions["zh_CN"].isChecked()
        assert Settings(tmp_path / "config").language == "zh_CN"
        assert language.choose(None, Settings(tmp_path / "config").language, {"LANG": "en_US.UTF-8"}) == "zh_CN"
        # and back: English again, the text still there
        with qtbot.waitSignal(new.language_chosen):
            new.language_actions["en"].trigger()
        back = app_module._windows[-1]
        qtbot.addWidget(back)
        assert menu_titles(back)[0] == "&File" and back.editor.toPlainText().startswith("import torch")
        assert Settings(tmp_path / "config").language == "en"
    finally:
        language.install(qapp, "en")
        app_module._windows.clear()


def test_choosing_the_language_shown_rebuilds_nothing(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    with qtbot.assertNotEmitted(window.language_chosen):
        window.language_actions["en"].trigger()
    assert window.isVisible() and window.settings.language == "en"


@pytest.mark.parametrize(("remembered", "lang", "first_menu"), [
    (None, "zh_CN", "文件(&F)"),  # --lang alone
    ("zh_CN", None, "文件(&F)"),  # the remembered menu choice
    ("zh_CN", "en", "&File"),  # --lang wins over it
    ("en", "zh", "文件(&F)"),
])
def test_run_app_opens_the_window_in_the_chosen_language(qtbot, tmp_path, dialog_log, qapp, monkeypatch,
                                                         remembered, lang, first_menu):
    """The whole app path: run_app installs the language before it builds the window, and tells
    gradviz.core.i18n (the engine's requests, the canvas and the lessons follow it)."""
    from app_fixtures import FakeClient
    from PySide6.QtCore import QTimer

    from gradviz.ui import app as app_module
    from gradviz.ui import language
    from gradviz.ui.settings import Settings

    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    settings = Settings(tmp_path / "config")
    settings.language = remembered
    settings.sync()
    seen = {}

    def look() -> None:
        window = app_module._windows[0]
        qtbot.addWidget(window)
        seen.update(menu=menu_titles(window)[0], language=i18n.language())
        window.close()  # the last window: the app's event loop ends, as when a user closes it

    QTimer.singleShot(300, look)
    try:
        code = app_module.run_app(settings_dir=str(tmp_path / "config"), client_factory=FakeClient, lang=lang)
    finally:
        language.install(qapp, "en")
    assert code == 0
    assert seen["menu"] == first_menu
    assert seen["language"] == ("en" if first_menu == "&File" else "zh_CN")


def test_chinese_safety_note_follows_the_english_one(qtbot, tmp_path, dialog_log, chinese):
    """Help ▸ 运行什么，有多安全 shows the Chinese note; it says what the English one says: the same
    numbers (attacks, hostile programs, nodes, kernel versions ...), code names and table rows, so
    an English note that changes fails here until the Chinese follows."""
    from gradviz.ui import keyboard

    window, _ = make_window(qtbot, tmp_path)
    window.actions["safety"].trigger()
    (_name, title, text, fmt), = dialog_log.named("show_document")
    assert title == "运行什么，有多安全" and fmt == "markdown" and text.startswith("## 运行什么，有多安全")
    english = (ROOT / "resources" / "help" / "safety.md").read_text(encoding="utf-8")

    def facts(note: str):
        numbers = sorted(re.findall(r"\d[\d,.]*\d|\d", note))
        code = sorted(re.findall(r"`[^`]+`", note))
        rows = [line.count("|") for line in note.splitlines() if line.startswith("|")]
        return numbers, code, rows

    assert facts(text) == facts(english)
    assert keyboard.safety_note() == text


def source_texts() -> set[tuple[str, str]]:
    """(context, text) of every translate("Context", "text", ...), QT_TRANSLATE_NOOP and
    self.tr("text") (context: the class it is written in, as pyside6-lupdate reads it) in the UI's
    sources, read with Python's own parser (pyside6-lupdate's skips a call it can't follow)."""
    import ast

    found = set()

    def visit(node, cls: str | None) -> None:
        if isinstance(node, ast.ClassDef):
            cls = node.name
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = node.args
            if name in ("translate", "QT_TRANSLATE_NOOP") and len(args) >= 2 \
                    and isinstance(args[0], ast.Constant) and isinstance(args[1], ast.Constant):
                found.add((args[0].value, args[1].value))
            elif name == "tr" and cls and args and isinstance(args[0], ast.Constant) \
                    and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "self":
                found.add((cls, args[0].value))
        for child in ast.iter_child_nodes(node):
            visit(child, cls)

    for path in [*sorted((ROOT / "gradviz" / "ui").rglob("*.py")), ROOT / "gradviz" / "launch.py"]:
        visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def test_every_translated_text_of_the_sources_is_in_the_ts():
    texts = source_texts()
    assert len(texts) == len(messages(TS))
    assert texts == set(messages(TS))


def test_switching_language_keeps_presentation_and_compare_mode_and_frees_the_old_window(
        qtbot, tmp_path, dialog_log, qapp, two_x_client):
    """Switched in presentation mode, the panels come back when it ends (the rebuilt window once
    took the hidden layout for the normal one); switched in compare mode, the new window compares
    the same pair and leaving it brings the panels back; the replaced window is deleted."""
    from app_window import run_and_wait
    from PySide6.QtCore import QCoreApplication, QEvent
    from shiboken6 import isValid

    from gradviz.ui import app as app_module

    window, _ = make_window(qtbot, tmp_path, two_x_client)
    run_and_wait(qtbot, window)
    window.actions["presentation"].trigger()
    assert not window.docks["programDock"].isVisible()
    try:
        with qtbot.waitSignal(window.language_chosen):
            window.language_actions["zh_CN"].trigger()
        new = app_module._windows[-1]
        qtbot.addWidget(new)
        qtbot.waitUntil(lambda: new.state.result is not None)
        assert new.state.presentation and not new.docks["programDock"].isVisible()
        new.actions["presentation"].trigger()
        assert new.docks["programDock"].isVisible() and new.docks["inspectorDock"].isVisible()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        assert not isValid(window)  # closed and deleted, not kept alive by its signal connections
        other = tmp_path / "b.py"
        other.write_text("import torch\n")
        dialog_log.open_answer = str(other)
        with qtbot.waitSignal(new.compare.pair_shown, timeout=10_000):
            new.actions["compare_with"].trigger()
        assert not new.docks["inspectorDock"].isVisible()
        with qtbot.waitSignal(new.language_chosen):
            new.language_actions["en"].trigger()
        back = app_module._windows[-1]
        qtbot.addWidget(back)
        qtbot.waitUntil(lambda: back.compare.active and back.compare.view.pair is not None, timeout=10_000)
        assert back.compare.view.panes["b"].title.text() == "b"
        back.compare.leave()
        assert back.docks["inspectorDock"].isVisible() and back.docks["programDock"].isVisible()
    finally:
        language_module_reset(qapp)
        app_module._windows.clear()


def language_module_reset(qapp) -> None:
    from gradviz.ui import language

    language.install(qapp, "en")


def test_the_window_opens_on_the_first_lesson_of_its_language():
    from gradviz.ui.main_window import default_session

    assert default_session().title == "The gradient of 2xᵀx"
    i18n.set_language("zh_CN")  # undone after the test (tests/conftest.py)
    session = default_session()
    assert session.title == "y = 2xᵀx 的梯度" and "torch.dot(x, x)" in session.program
