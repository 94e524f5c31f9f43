"""Compare mode in the main window, on RunResults the engine made: opening it (lesson, File > Compare
With…, Run > Compare Backward Calls), one player moving both canvases, the plot of both histories,
the marks, and leaving with nothing lost."""

from __future__ import annotations

import pytest
from app_fixtures import FakeClient
from app_window import make_window, run_and_wait, type_text

from gradviz.core.request import RunRequest
from gradviz.core.resources import example_paths
from gradviz.core.session import load_session
from gradviz.ui.canvas.compare_marks import GRAD, MARK_COLORS, ONLY
from gradviz.ui.compare_view import CompareView
from tests.conftest import run_in_process

SQUARE = """import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * x).sum()
y.backward()
"""
TIMES_3 = SQUARE.replace("(x * x).sum()", "(x * x * 3).sum()")
TWICE = SQUARE.replace("y.backward()", "y.backward(retain_graph=True)\ny.backward()")
THREE_CALLS = """import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
for step in range(3):
    loss = (w * w).sum()
    loss.backward()
"""

LESSON = next(p for p in example_paths() if p.stem == "09-zero-grad-compare")


@pytest.fixture(scope="module")
def engine_results():
    """The engine's own results of every program these tests run (made once, in this process)."""
    lesson = load_session(LESSON)
    programs = [SQUARE, TIMES_3, TWICE, THREE_CALLS, lesson.program, lesson.compare.program]
    return {p: run_in_process(RunRequest(p)) for p in programs}


@pytest.fixture
def window(qtbot, tmp_path, dialog_log, engine_results):
    client = FakeClient(respond=lambda request: engine_results[request.program])
    w, _ = make_window(qtbot, tmp_path, client)
    w.resize(1440, 900)
    return w


def open_lesson(qtbot, window):
    with qtbot.waitSignal(window.compare.pair_shown, timeout=10_000) as blocker:
        window.open_example(str(LESSON))
    return blocker.args[0]


def test_the_lesson_opens_compare_mode_with_both_histories_and_the_mark(qtbot, window):
    central = window.centralWidget()
    pair = open_lesson(qtbot, window)
    view = window.compare.view
    assert isinstance(window.centralWidget(), CompareView) and window.centralWidget() is view
    assert view.panes["a"].title.text() == "With zero_grad" and view.panes["b"].title.text() == "Without zero_grad"
    assert central.isHidden() or central.parent() is None or not central.isVisibleTo(window)
    # One plot, one series per run: A resets to 0 at each zero_grad, B only climbs.
    assert set(view.plot.series) == {("a", "w"), ("b", "w")}
    _, ya = view.plot.series[("a", "w")].getData()
    _, yb = view.plot.series[("b", "w")].getData()
    assert list(ya) == pytest.approx([10.0, 0.0, 7.5, 0.0, 5.625])
    assert list(yb) == pytest.approx([10.0, 17.5, 20.625]) and list(yb) == sorted(yb)
    # The same graph on both sides; w's .grad differs: a ring around w on each canvas, no other.
    c = pair.comparison
    assert c.only_a == c.only_b == () and [g.name for g in c.grads] == ["w"]
    for side in "ab":
        (mark,) = view.panes[side].marks
        assert mark.kind == GRAD and mark.scene() is view.panes[side].view.scene()
        assert view.panes[side].view.scene().graph.node(mark.node_id).names == ("w",)
    assert "w.grad differs by up to 15" in view.summary.text()
    assert view.steps() == (5, 5)  # both passes shown finished
    assert window.current_session().compare == load_session(LESSON).compare  # saving keeps the pair


def test_one_player_moves_both_canvases_and_the_shorter_holds(qtbot, window, dialog_log, tmp_path):
    b = tmp_path / "times3.py"
    b.write_text(TIMES_3)
    type_text(window, SQUARE)
    dialog_log.open_answer = str(b)
    with qtbot.waitSignal(window.compare.pair_shown, timeout=10_000):
        window.actions["compare_with"].trigger()
    view = window.compare.view
    assert view.panes["a"].title.text() and view.panes["b"].title.text() == "times3"
    player = view.player
    assert player.total == 4  # the longer call (B) is the one played
    player.to_start()
    assert view.steps() == (0, 0)
    player.step_forward()
    player.step_forward()
    assert view.steps() == (2, 2)
    view.player_bar.slider.setValue(4)  # scrubbing: A has 3 steps and holds its last
    assert view.steps() == (3, 4)
    view.actions["step-back"].trigger()
    assert view.steps() == (3, 3)
    lit = [view.panes[s].view.frame.current for s in "ab"]
    ops = [view.panes[s].view.scene().graph.node(n).op for s, n in zip("ab", lit, strict=True)]
    assert ops == ["AccumulateGrad", "MulBackward0"]  # each canvas lights its own call's node
    # Marks: B's extra multiplication ringed as "only", x ringed on both for its .grad.
    kinds_b = sorted(m.kind for m in view.panes["b"].marks)
    kinds_a = [m.kind for m in view.panes["a"].marks]
    assert kinds_b == [GRAD, ONLY] and kinds_a == [GRAD]


def test_marks_follow_the_theme(qtbot, window):
    open_lesson(qtbot, window)
    mark = window.compare.view.panes["a"].marks[0]
    assert mark.pen().color().name() == MARK_COLORS["light"][GRAD]
    window.apply_theme("dark")
    assert mark.pen().color().name() == MARK_COLORS["dark"][GRAD]


def test_presentation_mode_enlarges_both_canvases_and_keeps_the_marks(qtbot, window):
    open_lesson(qtbot, window)
    view = window.compare.view
    window.actions["presentation"].setChecked(True)
    qtbot.waitUntil(lambda: all(not p.view.building for p in view.panes.values()))
    for pane in view.panes.values():
        assert pane.view.font_scale > 1.0
        (mark,) = pane.marks
        assert mark.scene() is pane.view.scene()  # the canvas was laid out again, the ring made again
    window.actions["presentation"].setChecked(False)


def test_leaving_restores_the_window(qtbot, window):
    run_and_wait(qtbot, window)  # the default lesson, shown in the window's own panel
    central = window.centralWidget()
    docks = {name: dock.isVisible() for name, dock in window.docks.items()}
    text = window.editor.toPlainText()
    graph = window.state.graph
    window.compare.start(window.current_session(), load_session(LESSON).compared(), "A", "B")
    qtbot.waitUntil(lambda: window.compare.view is not None and window.compare.view.pair is not None, timeout=10_000)
    assert not window.docks["inspectorDock"].isVisible()
    with qtbot.waitSignal(window.compare.left):
        window.compare.view.leave_button.click()
    assert window.centralWidget() is central and central.isVisible()
    assert {name: dock.isVisible() for name, dock in window.docks.items()} == docks
    assert window.editor.toPlainText() == text and window.state.graph is graph
    assert not window.compare.active and not window.actions["leave_compare"].isEnabled()


def test_compare_backward_calls_of_one_run(qtbot, window):
    type_text(window, THREE_CALLS)
    run_and_wait(qtbot, window)
    with qtbot.waitSignal(window.compare.pair_shown) as blocker:
        window.actions["compare_calls"].trigger()
    pair = blocker.args[0]
    assert (pair.call_a, pair.call_b) == (0, 2)
    (grad,) = pair.comparison.grads
    assert grad.a.flat() == [2.0, 4.0] and grad.b.flat() == [6.0, 12.0]
    assert window.compare.view.panes["b"].title.text().endswith("#3")


def test_compare_backward_calls_asks_which_two_when_there_are_more(qtbot, window, dialog_log):
    type_text(window, THREE_CALLS)
    run_and_wait(qtbot, window)
    dialog_log.two_calls_answer = (0, 1)
    with qtbot.waitSignal(window.compare.pair_shown) as blocker:
        window.actions["compare_calls"].trigger()
    (_name, labels, first, second), = dialog_log.named("ask_two_calls")
    assert labels == ["#1 · backward at line 5", "#2 · backward at line 5", "#3 · backward at line 5"]
    assert (first, second) == (0, 2)  # proposed: the first and the last
    pair = blocker.args[0]
    assert (pair.call_a, pair.call_b) == (0, 1)
    (grad,) = pair.comparison.grads
    assert grad.a.flat() == [2.0, 4.0] and grad.b.flat() == [4.0, 8.0]
    dialog_log.two_calls_answer = None
    dialog_log.calls.clear()
    window.compare.leave()
    type_text(window, TWICE)
    run_and_wait(qtbot, window)
    with qtbot.waitSignal(window.compare.pair_shown):
        window.actions["compare_calls"].trigger()
    assert dialog_log.named("ask_two_calls") == []  # two calls: nothing to choose


def test_run_in_compare_mode_runs_the_left_side_again(qtbot, window, dialog_log, tmp_path):
    """The editor's program is the left side: changed and run, the pair shows the new run beside the
    same right side (whose program did not change) and the differences are marked again."""
    b = tmp_path / "times3.py"
    b.write_text(TIMES_3)
    type_text(window, SQUARE)
    dialog_log.open_answer = str(b)
    with qtbot.waitSignal(window.compare.pair_shown, timeout=10_000) as blocker:
        window.actions["compare_with"].trigger()
    assert blocker.args[0].comparison.only_b
    type_text(window, TIMES_3)
    with qtbot.waitSignal(window.compare.pair_shown, timeout=10_000) as blocker:
        window.actions["run"].trigger()
    c = blocker.args[0].comparison
    assert c.only_a == c.only_b == () and c.grads == ()
    assert "No differences" in window.compare.view.summary.text()
    assert window.compare.active and window.compare.view.panes["b"].title.text() == "times3"


def test_compare_calls_needs_two_calls(qtbot, window):
    type_text(window, SQUARE)
    run_and_wait(qtbot, window)
    assert window.compare.compare_calls() is False and not window.compare.active
    assert "two backward calls" in window.statusBar().currentMessage()


def test_the_menus_hold_the_compare_entries(window):
    texts = {a.objectName() for top in window.menuBar().actions() if top.menu() for a in top.menu().actions()}
    assert {"compare_with", "compare_calls", "leave_compare"} <= texts


@pytest.mark.parametrize("fmt, name", [("svg", "pair.svg"), ("gif", "pair.gif")])
def test_export_in_compare_mode_writes_the_pair(qtbot, window, dialog_log, tmp_path, fmt, name):
    import xml.etree.ElementTree as ET

    from PIL import Image

    from gradviz.ui.dialogs import ExportChoice

    open_lesson(qtbot, window)
    window.compare.view.player.seek(2)
    dialog_log.export_answer = ExportChoice(fmt, 1.0, False, True)
    dialog_log.export_path_answer = str(tmp_path / name)
    assert window.actions["export"].trigger() is None and (tmp_path / name).exists()
    if fmt == "svg":
        svg = ET.fromstring((tmp_path / name).read_bytes())
        texts = [(t.text or "").strip() for t in svg.iter("{http://www.w3.org/2000/svg}text")]
        assert {"With zero_grad", "Without zero_grad", ".grad differs: w"} <= set(texts)
        assert texts.count("step 2 / 5 \u00b7 PowBackward0") == 2  # both sides at step 2
    else:
        with Image.open(tmp_path / name) as gif:
            assert gif.n_frames == 6  # 5 steps + the frame before the first
    assert window.compare.view.steps() == (2, 2)  # the canvases show what they showed before


def test_the_window_keys_and_menus_act_on_compare_mode(qtbot, window, dialog_log, tmp_path):
    """The Backward menu and its keys step the pair, zoom and fit act on both canvases, Root at the
    Bottom turns both, Copy Graph Image copies the pair, and Export offers no PNG frames; closed in
    compare mode, the window saves the panels it had outside it."""
    from PySide6.QtWidgets import QApplication

    open_lesson(qtbot, window)
    view = window.compare.view
    window.actions["first"].trigger()
    assert view.steps() == (0, 0)
    window.actions["step_forward"].trigger()
    window.actions["step_forward"].trigger()
    assert view.steps() == (2, 2) and window.player.step != 2
    window.actions["last"].trigger()
    assert view.steps() == (5, 5)
    scales = [p.view.scale_factor() for p in view.panes.values()]
    window.actions["zoom_in"].trigger()
    assert all(p.view.scale_factor() > s for p, s in zip(view.panes.values(), scales, strict=True))
    window.actions["root_bottom"].trigger()
    qtbot.waitUntil(lambda: all(not p.view.building for p in view.panes.values()))
    assert {p.view.root_at for p in view.panes.values()} == {"bottom"}
    assert all(p.marks and p.marks[0].scene() is p.view.scene() for p in view.panes.values())
    window.actions["root_bottom"].trigger()
    qtbot.waitUntil(lambda: all(not p.view.building for p in view.panes.values()))
    QApplication.clipboard().clear()
    window.actions["copy_image"].trigger()
    image = QApplication.clipboard().image()
    from gradviz.ui import export

    one = export.render_image(view.panes["a"].view.scene(), 2.0, False)
    assert not image.isNull() and image.width() > 1.9 * one.width()  # both graphs side by side
    assert "both graphs" in window.statusBar().currentMessage()
    window.actions["export"].trigger()
    assert dialog_log.named("ask_export")[-1] == ("ask_export", True, False)
    window.save_layout()
    again, _ = make_window(qtbot, tmp_path, FakeClient())
    assert again.docks["inspectorDock"].isVisible() and again.docks["historyDock"].isVisible()
