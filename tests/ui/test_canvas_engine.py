"""The canvas on real engine output: the 2xᵀx example and a fan-in, recorded by run_request."""

from __future__ import annotations

import pytest

from gradviz.core.replay import Replay
from gradviz.core.request import RunRequest
from gradviz.core.result import ACCUMULATE, LEAF, OP, ROOT
from gradviz.engine.run import run_request
from gradviz.ui.canvas import GraphView
from gradviz.ui.canvas.items import CURRENT, DONE


def run(program: str):
    """The engine in this process (the UI never imports torch; this test does, through the engine)."""
    result = run_request(RunRequest(program))
    assert result.error is None, result.error
    return result


@pytest.fixture
def view(qtbot):
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(900, 700)
    return v


def test_two_x_squared_from_the_engine(view, two_x):
    call = two_x.call
    view.show_graph(call.graph)
    scene = view.scene()
    kinds = sorted(item.node.kind for item in scene.node_items.values())
    assert kinds == sorted([ROOT, OP, OP, ACCUMULATE, LEAF])
    titles = {item.shape_.title for item in scene.node_items.values()}
    assert {"y", "Mul", "Dot", "Accumulate", "x"} <= titles
    replay = Replay(call)
    for k in range(len(replay)):
        view.show_frame(replay.frame(k), call)
        current = replay.frame(k).current
        if current is not None:
            assert scene.node_items[current].state == CURRENT
    dot = next(i for i in scene.node_items.values() if i.node.op == "DotBackward0")
    acc = next(i for i in scene.node_items.values() if i.node.kind == ACCUMULATE)
    parallel = [lab.text for (s, d, _), lab in scene.labels.items() if s == dot.node_id and d == acc.node_id]
    assert sorted(parallel) == ["#0  [0, 2, 4, 6]", "#1  [0, 2, 4, 6]"]
    assert scene.badge.equation() == "None + [0, 2, 4, 6] + [0, 2, 4, 6] = [0, 4, 8, 12]"
    assert dot.state == DONE and dot.freed  # saved tensors released by backward()
    leaf = next(i for i in scene.node_items.values() if i.node.kind == LEAF)
    assert scene.grad_tags[leaf.node_id].text == ".grad = [0, 4, 8, 12]"


def test_fan_in_sum_from_the_engine(view):
    result = run("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\nh = x * 3\n"
                 "z = (h.sin() + h.cos()).sum()\nz.backward()\n")
    (call,) = result.backward_calls
    view.show_graph(call.graph)
    replay = Replay(call)
    mul = next(n.id for n in call.graph.nodes if n.op == "MulBackward0")
    k = next(k for k in range(len(replay)) if replay.frame(k).current == mul)
    view.show_frame(replay.frame(k), call)
    badge = view.scene().badge
    assert badge.isVisible() and "2 gradients summed" in badge.title
    assert badge.equation().count("+") == 1 and " = [-1.131, 1.24]" in badge.equation()
