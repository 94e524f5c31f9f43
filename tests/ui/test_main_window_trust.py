"""Where the system cannot contain the engine, a program from elsewhere runs only after the user trusts it."""

from __future__ import annotations

import pytest
from app_fixtures import FakeClient
from app_window import make_window, run_and_wait

from gradviz.core.resources import example_paths
from gradviz.core.session import Session, save_session
from gradviz.core.trust import TrustStore

FROM_ELSEWHERE = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * 3).sum().backward()\nprint(x.grad)\n"


@pytest.fixture
def uncontained(qtbot, tmp_path, dialog_log, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    window, client = make_window(qtbot, tmp_path, FakeClient(contained=False))
    path = tmp_path / "shared-lesson.gradviz"
    save_session(Session(program=FROM_ELSEWHERE, title="From a colleague"), path)
    return window, client, str(path)


def test_a_refused_program_from_elsewhere_does_not_run(qtbot, uncontained, dialog_log):
    window, client, path = uncontained
    dialog_log.trust_answer = False
    assert window.open_path(path, ask=False)
    qtbot.waitUntil(lambda: bool(dialog_log.named("ask_trust")), timeout=5000)
    (_, name, why), = dialog_log.named("ask_trust")
    assert name == "shared-lesson.gradviz" and "not contained" in why
    assert client.requests == [] and not window.trusted
    qtbot.waitUntil(lambda: window.message_bar.kind == "warning", timeout=5000)
    assert window.editor.toPlainText() == FROM_ELSEWHERE  # nothing the user sees is lost
    assert not TrustStore().is_trusted(FROM_ELSEWHERE)


def test_a_trusted_program_runs_and_is_remembered(qtbot, uncontained, dialog_log):
    window, client, path = uncontained
    dialog_log.trust_answer = True
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        window.open_path(path, ask=False)
    assert [r.program for r in client.requests] == [FROM_ELSEWHERE] and window.trusted
    assert TrustStore().is_trusted(FROM_ELSEWHERE)
    # Opened again later: no question.
    asked = len(dialog_log.named("ask_trust"))
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        window.open_path(path, ask=False)
    assert len(dialog_log.named("ask_trust")) == asked


def test_typed_programs_and_shipped_lessons_run_without_a_question(qtbot, uncontained, dialog_log):
    window, client, _ = uncontained
    assert window.trusted  # the window starts on its own example
    run_and_wait(qtbot, window)
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        window.open_example(str(example_paths()[0]))
    assert dialog_log.named("ask_trust") == [] and len(client.requests) == 2


def test_where_the_engine_is_contained_everything_runs(qtbot, tmp_path, dialog_log, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    window, client = make_window(qtbot, tmp_path, FakeClient(contained=True))
    path = tmp_path / "elsewhere.gradviz"
    save_session(Session(program=FROM_ELSEWHERE), path)
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        window.open_path(str(path), ask=False)
    assert not window.trusted and dialog_log.named("ask_trust") == []
    assert [r.program for r in client.requests] == [FROM_ELSEWHERE]


def test_the_about_box_says_how_the_engine_is_held(qtbot, uncontained, dialog_log):
    window, _, _ = uncontained
    run_and_wait(qtbot, window)
    window.actions["about"].trigger()
    (_, title, text, details), = dialog_log.named("show_about")
    assert "NOT contained" in text and "landlock" in text and "only once you trust it" in text
    assert details.startswith("NOT contained") and "[OFF] landlock: test" in details


def test_the_status_bar_says_when_the_engine_is_not_contained(qtbot, uncontained):
    window, _, _ = uncontained
    qtbot.waitUntil(lambda: window.runner.is_ready, timeout=5000)
    assert window.engine_label.text() == "● Engine ready · not contained"
    assert "NOT contained" in window.engine_label.toolTip()
