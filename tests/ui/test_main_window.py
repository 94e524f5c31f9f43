"""The real main window driven offscreen on a fake engine: run, graph, animation, grads, files."""

import json

import pytest
from app_fixtures import ACCUM_PROGRAM, FakeClient, accumulation_result
from app_window import make_window, run_and_wait, type_text
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence
from PySide6.QtWidgets import QMenu

from gradviz.core.result import ErrorInfo, RunResult
from gradviz.core.session import Session, load_session, save_session
from gradviz.ui import dialogs
from gradviz.ui.main_window import default_session, top_level_statements
from gradviz.ui.session_controller import dropped_path


def labels_on_canvas(window) -> list[str]:
    """The titles drawn on the canvas's node items, in graph order."""
    items = window.view.scene().node_items
    return [items[n.id].shape_.title for n in window.view.graph.nodes] if window.view.graph else []


def lit_nodes(window) -> list[str]:
    """Ids of the node items drawn lit (the node the engine runs in this frame)."""
    from gradviz.ui.canvas.items import CURRENT

    return [nid for nid, item in window.view.scene().node_items.items() if item.state == CURRENT]


@pytest.fixture
def window(qtbot, tmp_path, dialog_log, two_x_client):
    """The main window on a fake engine that answers every run with the engine's 2xᵀx result."""
    w, _client = make_window(qtbot, tmp_path, two_x_client)
    return w


def test_new_clears_the_previous_programs_status(qtbot, window):
    run_and_wait(qtbot, window)
    assert window.run_label.text().startswith("Ran in")
    window.new_session()
    assert window.run_label.text() == "" and window.output.toPlainText() == ""


def test_starts_on_the_two_x_squared_example(window):
    assert window.editor.toPlainText() == default_session().program
    assert "y = 2 * torch.dot(x, x)\ny.backward()" in window.editor.toPlainText()
    assert "DotBackward0" in window.notes_text.toPlainText()  # the lesson's notes
    assert window.notes_title.text() == "The gradient of 2xᵀx"
    assert window.notes_title.cursorPosition() == 0  # a long title would show its start
    assert not window.dirty
    assert window.windowTitle().startswith("The gradient of 2xᵀx")


def test_run_draws_the_graph_and_fills_every_panel(qtbot, window):
    result = run_and_wait(qtbot, window)
    assert result.ok
    assert labels_on_canvas(window) == ["y", "Mul", "Dot", "Accumulate", "x"]
    items = window.view.scene().node_items
    assert items["n2"].shape_.subtitle == "Backward0" and items["n4"].shape_.subtitle == "leaf"
    assert lit_nodes(window) == ["n3"]
    assert window.graph_choices()[0] == ("backward at line 5", "call:0")
    assert ("var:y" in [d for _l, d in window.graph_choices()]) and ("var:x" in [d for _l, d in window.graph_choices()])
    assert window.output.toPlainText() == "tensor([ 0.,  4.,  8., 12.])\n"
    assert window.grads.grad_text("x") == "[0, 4, 8, 12]"
    assert window.player.step == 3 and window.inspector.node_id == "n3"
    assert window.graph_title.text() == "Backward pass"
    assert "5 nodes" in window.run_label.text() and "1 backward call" in window.run_label.text()
    assert window.editor.error_line is None and window.message_bar.isHidden()


def test_stepping_the_animation_lights_nodes_and_grad_follows(qtbot, window):
    run_and_wait(qtbot, window)
    window.actions["first"].trigger()
    assert window.view.frame.current is None and window.grads.grad_text("x") == "None"
    assert lit_nodes(window) == []
    window.actions["step_forward"].trigger()
    assert window.view.frame.current == "n1" and lit_nodes(window) == ["n1"]
    assert window.inspector.text().startswith("MulBackward0")
    window.actions["step_forward"].trigger()
    assert window.view.frame.current == "n2" and lit_nodes(window) == ["n2"]
    assert "→ x.grad [input 0]: [0, 2, 4, 6]" in window.inspector.text()
    # The gradient travels along both edges of the fan-in, labelled with its value.
    labels = window.view.scene().labels
    assert "[0, 2, 4, 6]" in labels[("n2", "n3", 0)].text and "[0, 2, 4, 6]" in labels[("n2", "n3", 1)].text
    assert window.grads.grad_text("x") == "None"
    window.actions["step_forward"].trigger()
    assert window.view.frame.current == "n3"
    assert window.grads.grad_text("x") == "[0, 4, 8, 12]"
    window.actions["step_back"].trigger()
    assert window.view.frame.current == "n2" and window.grads.grad_text("x") == "None"


def test_play_animates_to_the_end(qtbot, window):
    run_and_wait(qtbot, window)
    window.player.set_speed(4.0)
    window.actions["first"].trigger()
    with qtbot.waitSignal(window.player.playing_changed, timeout=5000, check_params_cb=lambda p: not p):
        window.actions["play"].trigger()
    assert window.view.frame.current == "n3" and window.player.step == 3


def test_clicked_node_is_inspected_and_stays_while_stepping(qtbot, window):
    run_and_wait(qtbot, window)
    window.view.node_clicked.emit("n2")
    assert window.inspector.node_id == "n2" and window.view.selected == "n2"
    window.actions["first"].trigger()
    assert window.inspector.node_id == "n2" and "Not run yet" in window.inspector.text()


def test_choosing_a_variable_shows_its_graph(qtbot, window):
    run_and_wait(qtbot, window)
    window.choose_graph("var:x")
    assert labels_on_canvas(window) == ["x"]
    assert window.graph_title.text() == "Graph of x"
    window.choose_graph("call:0")
    assert len(labels_on_canvas(window)) == 5


def stepping_client(two_x) -> FakeClient:
    """A fake engine answering what the engine records when Step / Run to cursor stops 2xᵀx."""
    return FakeClient(respond=lambda r: two_x.stopped_after(r.stop_after_line) if r.stop_after_line else two_x.result)


def test_step_runs_one_statement_at_a_time(qtbot, tmp_path, dialog_log, two_x):
    client = stepping_client(two_x)
    window, _ = make_window(qtbot, tmp_path, client)
    type_text(window, two_x.program)
    stops = []
    for _ in range(5):
        run_and_wait(qtbot, window, "step")
        stops.append(client.requests[-1].stop_after_line)
        if stops[-1] == 3:
            assert window.editor.step_line == 3 and window.editor._ran_lines == {1}
            # The engine records no graph for a leaf nothing has used yet: x has no node.
            assert window.graph_choices() == []
        if stops[-1] == 4:
            assert {"var:x", "var:y"} <= {data for _label, data in window.graph_choices()}
    assert stops == [1, 3, 4, 5, 7]
    assert window.editor.step_line == 7
    assert window.player.calls  # the backward call ran by now
    run_and_wait(qtbot, window, "step")  # past the end: starts over
    assert client.requests[-1].stop_after_line == 1
    run_and_wait(qtbot, window, "run")
    assert client.requests[-1].stop_after_line is None and window.editor.step_line is None


def test_run_to_cursor_stops_at_the_cursor_statement(qtbot, tmp_path, dialog_log, two_x):
    client = stepping_client(two_x)
    window, _ = make_window(qtbot, tmp_path, client)
    type_text(window, two_x.program)
    window.editor.go_to_line(4)
    run_and_wait(qtbot, window, "run_to_cursor")
    assert client.requests[-1].stop_after_line == 4
    assert window.editor.step_line == 4


def test_failed_line_is_marked_with_message_and_hint(qtbot, tmp_path, dialog_log):
    error = ErrorInfo("RuntimeError", "grad can be implicitly created only for scalar outputs", 5,
                      "y has 4 elements: call y.sum().backward() or pass gradient=torch.ones_like(y)")
    client = FakeClient(respond=lambda r: RunResult(stdout="before\n", error=error))
    window, _ = make_window(qtbot, tmp_path, client)
    text = window.editor.toPlainText()
    run_and_wait(qtbot, window)
    assert window.editor.error_line == 5
    assert window.message_bar.kind == "error"
    assert window.message_bar.title == "Line 5 · RuntimeError"
    assert window.message_bar.body == "grad can be implicitly created only for scalar outputs"
    assert window.message_bar.hint.startswith("Hint: y has 4 elements")
    assert "line 5: RuntimeError" in window.output.toPlainText() and "Hint:" in window.output.toPlainText()
    assert window.editor.toPlainText() == text  # a run never replaces the text
    assert window.graph_title.text() == "No autograd graph"


def test_zero_grad_lesson_history_plot(qtbot, tmp_path, dialog_log):
    client = FakeClient(respond=lambda r: accumulation_result())
    window, _ = make_window(qtbot, tmp_path, client)
    type_text(window, ACCUM_PROGRAM)
    run_and_wait(qtbot, window)
    xs, ys = window.history.curve_data("w")
    assert xs == [1.0, 2.0, 3.0] and ys == pytest.approx([20 ** 0.5 * k for k in (1, 2, 3)])
    xs, ys = window.history.curve_data("v")
    assert ys == pytest.approx([0.0, 20 ** 0.5] * 3)
    assert len(window.history.markers) == 3
    # The timeline picks a call; its graph and the grads follow.
    window.player.select_call(1)
    assert window.graph_combo.currentData() == "call:1"
    assert window.grads.grad_text("w") == "[4, 8]"
    assert window.history._current_call == 1


def test_save_and_reopen_a_session(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    run_and_wait(qtbot, window)
    type_text(window, "import torch\nz = torch.ones(3, requires_grad=True)\n")
    window.notes_title.setText("My lesson")
    window.notes_text.setPlainText("Look at z.")
    window.editor.undo()
    assert window.editor.toPlainText() == default_session().program  # typing is undoable
    window.editor.redo()
    assert window.dirty
    target = tmp_path / "lesson.gradviz"
    dialog_log.save_answer = str(target)
    window.actions["save"].trigger()
    assert dialog_log.named("save_file") and not window.dirty
    saved = load_session(target)
    assert saved.program.startswith("import torch\nz = torch.ones(3")
    assert saved.title == "My lesson" and saved.notes == "Look at z."
    assert window.windowTitle().startswith("lesson.gradviz")
    window.new_session()
    assert window.editor.toPlainText() == "import torch\n\n"
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        assert window.open_path(str(target))
    assert window.editor.toPlainText() == saved.program and window.notes_text.toPlainText() == "Look at z."
    assert window.path == str(target.resolve())
    assert window.settings.recent_files()[0] == str(target.resolve())
    assert window.recent_menu.actions()[0].text() == "lesson.gradviz"


def test_opening_a_malformed_file_shows_the_error_and_changes_nothing(qtbot, window, tmp_path, dialog_log):
    bad = tmp_path / "broken.gradviz"
    bad.write_text('{"format": "gradviz-session", "version": 2, "program": 5}', encoding="utf-8")
    before = window.editor.toPlainText()
    assert not window.open_path(str(bad))
    (title, text), = [c[1:] for c in dialog_log.named("show_error")]
    assert title == "Cannot open file" and text.startswith("broken.gradviz: ") and "program" in text
    assert window.editor.toPlainText() == before and window.path is None
    bad.write_bytes(b"\xff\xfe not json")
    assert not window.open_path(str(bad))
    assert "UTF-8" in dialog_log.named("show_error")[-1][2]


def test_open_a_python_script_never_overwrites_it(qtbot, window, tmp_path, dialog_log):
    script = tmp_path / "demo.py"
    script.write_text("import torch\na = torch.ones(2)\n", encoding="utf-8")
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        window.open_path(str(script))
    assert window.editor.toPlainText() == "import torch\na = torch.ones(2)\n"
    assert window.path is None and window.notes_title.text() == "demo"
    dialog_log.save_answer = None
    assert not window.save()  # asks where to save the session instead
    assert dialog_log.named("save_file")[-1][1] == "demo.gradviz"
    assert script.read_text(encoding="utf-8") == "import torch\na = torch.ones(2)\n"


def test_unsaved_changes_prompt(qtbot, window, tmp_path, dialog_log):
    type_text(window, "edited")
    dialog_log.unsaved_answer = dialogs.CANCEL
    window.new_session()
    assert window.editor.toPlainText() == "edited" and dialog_log.named("ask_unsaved")
    dialog_log.unsaved_answer = dialogs.SAVE
    dialog_log.save_answer = str(tmp_path / "kept.gradviz")
    window.new_session()
    assert load_session(tmp_path / "kept.gradviz").program == "edited"
    assert window.editor.toPlainText() == "import torch\n\n"


def test_autosave_and_recovery_after_a_crash(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    assert not window.autosave()  # nothing unsaved
    type_text(window, "import torch\nprecious = 1\n")
    assert window.autosave()
    recovery = window.settings.recovery_path
    assert load_session(recovery).program == "import torch\nprecious = 1\n"
    # Simulate a crash: a second window on the same settings finds the file and offers it.
    dialog_log.recover_answer = True
    second, second_client = make_window(qtbot, tmp_path)
    assert second.offer_recovery()
    assert dialog_log.named("ask_recover")
    assert second.editor.toPlainText() == "import torch\nprecious = 1\n" and second.dirty
    qtbot.wait(200)
    assert second_client.requests == []  # not run at once: it may be what stopped gradviz
    dialog_log.recover_answer = False
    third, _ = make_window(qtbot, tmp_path)
    assert not third.offer_recovery() and not recovery.exists()


def test_drop_a_session_file_opens_it(qtbot, window, tmp_path, dialog_log):
    path = tmp_path / "dropped.gradviz"
    save_session(Session(program="import torch\nd = 1\n", title="Dropped"), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.session_loaded, timeout=3000):
        window.dropEvent(event)
    assert window.editor.toPlainText() == "import torch\nd = 1\n"
    other = QMimeData()
    other.setUrls([QUrl.fromLocalFile(str(tmp_path / "x.txt"))])
    assert dropped_path(QDropEvent(QPointF(1, 1), Qt.DropAction.CopyAction, other, Qt.MouseButton.LeftButton,
                                           Qt.KeyboardModifier.NoModifier)) is None


def test_examples_menu_opens_lessons_with_notes(qtbot, window, dialog_log):
    classic = window.examples_menu.findChild(QMenu, "classicLessons")  # below the d2l pack
    actions = [a for a in classic.actions() if a.objectName().startswith("example:")]
    assert len(actions) >= 8
    accumulate = next(a for a in actions if "04-" in a.objectName())
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        accumulate.trigger()
    assert window.notes_title.text() == accumulate.text()
    assert "zero_grad" in window.notes_text.toPlainText()
    assert window.path is None and not window.dirty  # the shipped file is never the save target


def test_worker_killed_mid_run_is_reported_and_the_next_run_works(qtbot, tmp_path, dialog_log, two_x, two_x_client):
    window, client = make_window(qtbot, tmp_path, two_x_client)
    run_and_wait(qtbot, window)
    type_text(window, "while True:\n    pass\n")
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        window.actions["run"].trigger()
        assert client.running.wait(3)
        assert window.actions["cancel"].isEnabled()
        window.actions["restart_engine"].trigger()
    assert window.message_bar.kind == "warning" and window.message_bar.isVisible()
    assert "engine stopped while running" in window.message_bar.title
    # The graph on screen was another program's: it is gone, not passed off as this one's.
    assert window.result is None and window.view.graph is None and window.graph_title.text() == "Graph"
    qtbot.waitUntil(lambda: window.engine_label.text() == "● Engine ready", timeout=3000)
    assert client.starts == 2
    type_text(window, two_x.program)
    client.run_delay = 0.5
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        window.actions["run"].trigger()
        assert client.running.wait(3)
        qtbot.wait(50)
        assert not window.message_bar.isVisible()  # the engine's old message is over once a run starts
    assert window.result.ok and window.grads.grad_text("x") == "[0, 4, 8, 12]"


def test_cancel_stops_a_long_run(qtbot, tmp_path, dialog_log):
    window, client = make_window(qtbot, tmp_path)
    type_text(window, "while True:\n    pass\n")
    with qtbot.waitSignal(window.result_shown, timeout=5000) as blocker:
        window.actions["run"].trigger()
        assert client.running.wait(3)
        qtbot.waitUntil(lambda: window.progress.isVisible(), timeout=3000)
        window.actions["cancel"].trigger()
    assert blocker.args[0].error.type == "Cancelled"
    assert window.message_bar.kind == "info" and window.progress.isHidden()
    qtbot.waitUntil(lambda: not window.actions["cancel"].isEnabled(), timeout=3000)


def test_every_toolbar_action_has_a_shortcut_in_its_tooltip(window):
    for action in window.toolbar.actions():
        if action.isSeparator() or not action.objectName() or action.objectName() not in window.actions:
            continue
        seq = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert seq, action.objectName()
        assert seq in action.toolTip(), action.objectName()
    for name in ("first", "step_back", "play", "step_forward", "last"):
        assert window.actions[name].shortcut().toString()
    assert window.actions["run"].shortcut().toString() == "Ctrl+Return"


def test_dark_theme_and_presentation_mode_are_applied_and_remembered(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    base = window.editor.font().pointSizeF()
    window.actions["dark"].trigger()
    assert window.theme == "dark" and window.settings.theme == "dark"
    assert "#16181d" in window.window().styleSheet() or "#16181d" in qtbot_app_stylesheet()
    window.actions["presentation"].trigger()
    assert window.editor.font().pointSizeF() > base * 1.4
    window.close()
    again, _ = make_window(qtbot, tmp_path)
    assert again.theme == "dark" and again.presentation and again.actions["dark"].isChecked()
    again.actions["dark"].trigger()
    again.actions["presentation"].trigger()
    assert again.theme == "light" and not again.presentation


def qtbot_app_stylesheet() -> str:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance().styleSheet()


def test_window_layout_is_remembered(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    window.resize(1100, 700)
    window.docks["historyDock"].hide()
    window.close()
    again, _ = make_window(qtbot, tmp_path)
    # (offscreen screens are small: restoreGeometry clamps the width, not the height)
    assert again.size().height() == 700 and again.docks["historyDock"].isHidden()


def test_top_level_statements(two_x):
    assert top_level_statements(two_x.program) == [(1, 1), (3, 3), (4, 4), (5, 5), (7, 7)]
    assert top_level_statements("for i in range(2):\n    a = i\nb = 1\n") == [(1, 2), (3, 3)]
    assert top_level_statements("def f(:\n") is None


def test_session_round_trip_keeps_view_choices(qtbot, window, tmp_path, dialog_log):
    run_and_wait(qtbot, window)
    window.choose_graph("var:x")
    window.player.seek(1)
    session = window.current_session()
    assert session.view.selected_variable == "x" and session.view.step == 1 and session.view.backward_call == 0
    path = tmp_path / "v.gradviz"
    save_session(session, path)
    assert json.loads(path.read_text())["view"]["selected_variable"] == "x"
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        window.open_path(str(path))
    assert window.graph_combo.currentData() == "var:x" and window.player.step == 1


def test_a_big_graph_is_prepared_off_the_ui_thread(qtbot, tmp_path, dialog_log):
    from app_fixtures import chain_result

    big = chain_result(400)
    window, _ = make_window(qtbot, tmp_path, FakeClient(respond=lambda r: big))
    with qtbot.waitSignal(window.graph_shown, timeout=20_000):
        window.actions["run"].trigger()
    assert len(window.view.scene().node_items) == 403
    assert window.player.step == 401 and lit_nodes(window) == ["acc"]
    assert window.grads.grad_text("x") == "[0.5, 0.5, 0.5, 0.5]"
    window.actions["first"].trigger()
    assert lit_nodes(window) == [] and window.grads.grad_text("x") == "None"


def test_discarding_on_close_leaves_nothing_to_recover(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    type_text(window, "import torch\nthrowaway = 1\n")
    assert window.autosave() and window.settings.recovery_path.exists()
    dialog_log.unsaved_answer = dialogs.DISCARD
    window.close()
    assert not window.settings.recovery_path.exists()


def test_cancel_on_close_keeps_the_window(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    type_text(window, "import torch\nkeep = 1\n")
    dialog_log.unsaved_answer = dialogs.CANCEL
    assert not window.close()
    assert window.isVisible() and window.editor.toPlainText() == "import torch\nkeep = 1\n"
    dialog_log.unsaved_answer = dialogs.DISCARD


def test_presentation_mode_off_gives_the_normal_fonts_back(qtbot, tmp_path, dialog_log):
    window, _ = make_window(qtbot, tmp_path)
    normal = window.graph_title.font().pointSizeF()
    window.actions["presentation"].trigger()
    assert window.graph_title.font().pointSizeF() > normal * 1.4
    window.actions["presentation"].trigger()
    assert window.graph_title.font().pointSizeF() == normal


def test_root_at_the_bottom(qtbot, window):
    run_and_wait(qtbot, window)
    items = window.view.scene().node_items
    assert items["n0"].pos().y() < items["n4"].pos().y()  # root at the top by default
    window.actions["root_bottom"].trigger()
    items = window.view.scene().node_items
    assert items["n0"].pos().y() > items["n4"].pos().y()
    assert window.settings.root_at == "bottom" and window.current_session().view.root_at == "bottom"


def test_notes_of_a_run_are_shown_and_leave_with_the_next_run(qtbot, window):
    note = ("Backward call 1 went through more than 20,000 autograd nodes: the first 20,000 found from its output "
            "are drawn and animated, the rest ran unrecorded.")
    window.show_result(RunResult(stdout="", notes=(note,)))
    assert window.message_bar.kind == "info" and window.message_bar.isVisible()
    assert window.message_bar.title == "Not all of this run is recorded."
    assert "more than 20,000 autograd nodes" in (window.message_bar.body or window.message_bar._body.toolTip())
    window.show_result(RunResult(stdout=""))
    assert window.message_bar.isHidden()


def test_the_window_follows_its_state(qtbot, window, tmp_path):
    from gradviz.ui.window_state import IDLE, STEP

    state = window.state
    run_and_wait(qtbot, window)
    assert state.result is window.result and state.graph_choice == "call:0" and state.graph_call is not None
    window.choose_graph("var:x")
    # x's graph is part of the call being replayed (the engine's variables point at it): it animates over it.
    assert state.chosen_variable == "x" and state.graph is window.view.graph and state.graph_call is window.player.call
    state.root_at = "bottom"
    assert window.actions["root_bottom"].isChecked() and window.current_session().view.root_at == "bottom"
    state.update(path=str(tmp_path / "named.gradviz"), dirty=True)
    assert window.windowTitle() == "named.gradviz[*] — gradviz" and window.isWindowModified() and window.dirty
    state.run_mode = STEP
    assert window.actions["cancel"].isEnabled()
    state.run_mode = IDLE
    assert not window.actions["cancel"].isEnabled() and window.progress.isHidden()


def test_limits_are_set_in_the_app_sent_with_runs_and_saved(qtbot, tmp_path, dialog_log, monkeypatch):
    """Run → Limits… sets the session's limits: every run (and a fetch) asks for them, the file
    keeps them, opening it brings them back."""
    from gradviz.core.request import Limits

    window, client = make_window(qtbot, tmp_path)
    asked = []
    monkeypatch.setattr(dialogs, "ask_limits", lambda parent, current: asked.append(current) or
                        Limits(max_seconds=5.0, max_memory_mb=8192))
    window.actions["limits"].trigger()
    assert asked == [Limits()] and window.dirty
    assert window.state.limits == Limits(max_seconds=5.0, max_memory_mb=8192)
    run_and_wait(qtbot, window)
    assert client.requests[-1].limits == Limits(max_seconds=5.0, max_memory_mb=8192)
    target = tmp_path / "limited.gradviz"
    dialog_log.save_answer = str(target)
    window.actions["save"].trigger()
    assert json.loads(target.read_text())["limits"]["max_memory_mb"] == 8192
    window.new_session()
    assert window.state.limits is None
    run_and_wait(qtbot, window)
    assert client.requests[-1].limits == Limits()
    with qtbot.waitSignal(window.result_shown, timeout=5000):
        assert window.open_path(str(target))
    assert window.state.limits.max_seconds == 5.0 and client.requests[-1].limits.max_seconds == 5.0
    # The defaults chosen again: nothing to save.
    monkeypatch.setattr(dialogs, "ask_limits", lambda parent, current: Limits())
    window.actions["limits"].trigger()
    assert window.state.limits is None


def test_the_last_lines_value_shows_in_the_output(qtbot, tmp_path, dialog_log):
    from gradviz.core.result import StatementRecord

    window, client = make_window(qtbot, tmp_path)
    client.respond = lambda request: RunResult(stdout="hi\n", statements=(
        StatementRecord(1, 1, True, "hi\n"), StatementRecord(2, 2, True, "", None, "tensor([ 0.,  4.,  8., 12.])")))
    run_and_wait(qtbot, window)
    assert window.output.toPlainText() == "hi\nline 2 → tensor([ 0.,  4.,  8., 12.])\n"


@pytest.mark.parametrize("target", ["editor", "graph"])
def test_a_file_dropped_on_the_editor_or_the_graph_opens_it(qtbot, window, tmp_path, target):
    """Not a pasted file:// URL in the editor, not ignored by the graph: the lesson opens."""
    from PySide6.QtGui import QDragEnterEvent
    from PySide6.QtWidgets import QApplication

    path = tmp_path / "dropped.gradviz"
    save_session(Session(program="import torch\ndropped = 1\n", title="Dropped"), path)
    widget = (window.editor if target == "editor" else window.view).viewport()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(widget.rect().center(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(widget.rect().center()), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.session_loaded, timeout=3000):
        QApplication.sendEvent(widget, drop)
    assert window.editor.toPlainText() == "import torch\ndropped = 1\n"
    assert "file://" not in window.editor.toPlainText()
