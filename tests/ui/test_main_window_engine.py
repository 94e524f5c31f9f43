"""The real main window on the real engine (a worker process shared by these tests)."""

import math

import pytest
from app_window import make_window, run_and_wait, type_text

from gradviz.core.resources import resource_path
from gradviz.engine.client import EngineClient

DOT = """import torch

x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
print(x.grad)
"""


class SharedClient:
    """One EngineClient for the whole module; windows may kill it (it restarts) but not close it."""

    def __init__(self, client: EngineClient):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def engine():
    client = EngineClient()
    client.start()
    yield SharedClient(client)
    client.close()


@pytest.fixture
def window(qtbot, tmp_path, dialog_log, engine):
    w, _ = make_window(qtbot, tmp_path, engine)
    qtbot.waitUntil(lambda: w.runner.is_ready, timeout=120_000)
    return w


def lit(window):
    from gradviz.ui.canvas.items import CURRENT

    return [nid for nid, item in window.view.scene().node_items.items() if item.state == CURRENT]


def titles(window):
    items = window.view.scene().node_items
    return sorted(item.shape_.title for item in items.values())


def test_type_run_see_the_graph_step_and_grad(qtbot, window):
    type_text(window, DOT)
    result = run_and_wait(qtbot, window, timeout=60_000)
    assert result.ok and result.stdout == "tensor([ 0.,  4.,  8., 12.])\n"
    assert titles(window) == ["Accumulate", "Dot", "Mul", "x", "y"]
    call = result.backward_calls[0]
    assert [s.op for s in call.steps] == ["MulBackward0", "DotBackward0", "AccumulateGrad"]
    # Walk the animation from the start: the engine's order lights up, .grad appears at the end.
    window.actions["first"].trigger()
    assert lit(window) == [] and window.grads.grad_text("x") == "None"
    seen = []
    for _ in call.steps:
        window.actions["step_forward"].trigger()
        seen.append(window.view.scene().node_items[lit(window)[0]].node.op)
    assert seen == ["MulBackward0", "DotBackward0", "AccumulateGrad"]
    assert window.grads.grad_text("x") == "[0, 4, 8, 12]"
    assert "fan-in: 2 gradients arrive and are summed" in window.inspector.text()


def test_the_zero_grad_lesson_plots_climbing_and_resetting_history(qtbot, window):
    with qtbot.waitSignal(window.result_shown, timeout=60_000):
        window.open_example(str(resource_path("examples", "04-accumulation-and-zero-grad.gradviz")))
    w_x, w_y = window.history.curve_data("w")
    base = math.sqrt(2.0 ** 2 + 4.0 ** 2)  # w = [1, 2]: one backward gives 2w
    assert w_y == pytest.approx([base, 2 * base, 3 * base], rel=1e-5)
    assert w_x == [1.0, 2.0, 3.0]
    v_x, v_y = window.history.curve_data("v")
    assert [y for y in v_y if y > 0] == pytest.approx([base] * 3, rel=1e-5)
    assert v_y.count(0.0) >= 2 and window.history.markers
    assert window.grads.grad_text("w") == "[6, 12]" and window.grads.grad_text("v") == "[2, 4]"


def test_error_line_and_hint_from_the_engine(qtbot, window):
    type_text(window, "import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\n")
    result = run_and_wait(qtbot, window, timeout=60_000)
    assert result.error is not None and result.error.line == 4
    assert window.editor.error_line == 4
    assert window.message_bar.kind == "error" and window.message_bar.title.startswith("Line 4")
    assert window.message_bar.hint.startswith("Hint:")


def test_step_follows_the_program_statement_by_statement(qtbot, window):
    type_text(window, DOT)
    run_and_wait(qtbot, window, "step", timeout=60_000)
    assert window.editor.step_line == 1 and window.result.stopped_at == 1
    run_and_wait(qtbot, window, "step", timeout=60_000)
    assert window.editor.step_line == 3
    assert [v.name for v in window.result.variables] == ["x"]
    run_and_wait(qtbot, window, "step", timeout=60_000)
    assert window.graph_choices() and not window.player.calls  # y exists, no backward yet
    run_and_wait(qtbot, window, "step", timeout=60_000)
    assert window.player.calls and window.grads.grad_text("x") == "[0, 4, 8, 12]"


def test_killing_the_worker_mid_run_recovers(qtbot, window, engine):
    type_text(window, "print('looping')\nwhile True:\n    pass\n")
    with qtbot.waitSignal(window.result_shown, timeout=60_000) as blocker:
        # Once line 1 is reported the run's worker exists and the loop is next (a pause instead
        # could end before the worker started, leaving restart nothing to kill).
        with qtbot.waitSignal(window.runner.run_progressed, timeout=60_000):
            window.actions["run"].trigger()
        window.actions["restart_engine"].trigger()
    assert blocker.args[0].error.type == "WorkerCrashed"
    assert window.message_bar.kind == "warning"
    qtbot.waitUntil(lambda: window.engine_label.text() == "● Engine ready", timeout=120_000)
    type_text(window, DOT)
    result = run_and_wait(qtbot, window, timeout=60_000)
    assert result.ok and window.grads.grad_text("x") == "[0, 4, 8, 12]"


LONG_LOOP = """import torch
w = torch.tensor([1.0, -1.0], requires_grad=True)
for step in range(230):
    loss = ((w * (step + 1)) ** 2).sum()
    loss.backward()
    with torch.no_grad():
        w -= 1e-7 * w.grad
"""


def test_every_call_of_a_long_loop_is_on_the_timeline_and_any_is_recorded_when_picked(qtbot, window):
    type_text(window, LONG_LOOP)
    run_and_wait(qtbot, window, timeout=60_000)
    calls = window.player.calls
    assert len(calls) == 230 and not calls[210].recorded
    # The call shown first, the last, was recorded lightly: it is fetched by itself.
    qtbot.waitUntil(lambda: window.result.backward_calls[229].recorded, timeout=60_000)
    assert window.player.call_index == 229 and len(window.player.call.steps) == 4  # Sum, Pow, Mul, Accumulate
    assert titles(window) == ["Accumulate", "Mul", "Pow", "Sum", "loss", "w"]
    # Picking another light call records it in its turn.
    window.player.select_call(210)
    qtbot.waitUntil(lambda: window.result.backward_calls[210].recorded, timeout=60_000)
    assert window.player.call_index == 210 and window.graph_title.text() == "Backward call 211"
    assert window.history.curve_data("w")[0][-1] == 230.0  # the history has every call
    # Run again: the last call is asked for up front this time (the program made 230 last time).
    run_and_wait(qtbot, window, timeout=60_000)
    assert window.result.backward_calls[229].recorded and not window.runner.is_busy


NO_BACKWARD = """import torch
w = torch.ones(2, requires_grad=True)
leafy = (w * 3).sum()
h = torch.tanh(w)
z = torch.zeros(2, requires_grad=True)
"""


def test_app_inspect_and_render_show_the_same_default_graph(qtbot, window, tmp_path):
    """One rule (RunResult.default_graph): without a backward call, the last variable with a
    grad_fn, whatever its name holds ("leafy" used to be skipped for its "leaf")."""
    from gradviz import cli

    type_text(window, NO_BACKWARD)
    result = run_and_wait(qtbot, window, timeout=60_000)
    assert result.default_graph() == ("var", "h")
    assert window.graph_combo.currentData() == "var:h"
    assert "TanhBackward0" in [n.op for n in result.default_graph_data().nodes]
    assert "SumBackward0" not in [n.op for n in result.default_graph_data().nodes]
    assert "TanhBackward0" in [node["op"] for node in cli.inspect_json(result)["graph"]["nodes"]]
    type_text(window, NO_BACKWARD.replace("h = torch.tanh(w)\n", ""))
    result = run_and_wait(qtbot, window, timeout=60_000)
    assert result.default_graph() == ("var", "leafy") and window.graph_combo.currentData() == "var:leafy"
