"""The inspector: op, shape, saved tensors (greyed when freed), gradients at the current step, rule."""

import pytest

from gradviz.core.replay import Replay
from gradviz.ui.inspector import Inspector


@pytest.fixture
def inspector(qtbot, two_x):
    widget = Inspector()
    qtbot.addWidget(widget)
    result = two_x.result
    call = result.backward_calls[0]
    widget.set_graph(call.graph, call)
    return widget, Replay(call)


def test_empty_states(qtbot, two_x):
    widget = Inspector()
    qtbot.addWidget(widget)
    assert "Run a program" in widget.text()
    widget.set_graph(two_x.result.default_graph_data())
    assert "Click a node" in widget.text()


def test_op_node_before_during_and_after_its_step(inspector):
    widget, replay = inspector
    widget.show_node("n2")
    widget.set_frame(replay.frame(1))
    text = widget.text()
    assert text.startswith("DotBackward0")
    assert "Not run yet: the engine runs it at step 2." in text
    assert "y = Σᵢ aᵢ · bᵢ" in text and "∂L/∂a = g · b" in text  # the rule
    widget.set_frame(replay.frame(2))
    text = widget.text()
    assert "running now" in text
    assert "gradient in (∂L/∂output)\n2" in text
    assert "→ x.grad [input 0]: [0, 2, 4, 6]" in text and "→ x.grad [input 1]: [0, 2, 4, 6]" in text


def test_saved_tensors_are_greyed_once_freed(inspector):
    widget, replay = inspector
    widget.show_node("n2")
    widget.set_frame(replay.frame(2))
    assert "(freed)" not in widget.text()
    assert "self" in widget.text() and "[0, 1, 2, 3]" in widget.text()
    widget.set_frame(replay.frame(3))  # the last frame carries the freed tensors
    text = widget.text()
    assert text.count("(freed)") == 2
    assert "retain_graph=True" in text
    assert "faded" in widget.browser.toHtml() or "#aeb6bf" in widget.browser.toHtml()


def test_accumulate_grad_shows_before_plus_incoming(inspector):
    widget, replay = inspector
    widget.show_node("n3")
    widget.set_frame(replay.frame(3))
    text = widget.text()
    assert "fan-in: 2 gradients arrive and are summed" in text
    assert "[0, 2, 4, 6] + [0, 2, 4, 6]" in text
    assert "None\n+ [0, 4, 8, 12]\n= [0, 4, 8, 12]" in text
    assert "x.grad ← x.grad + g" in text


def test_leaf_shows_grad_at_the_step(inspector):
    widget, replay = inspector
    widget.show_node("n4")
    widget.set_frame(replay.frame(1))
    assert ".grad now\nNone" in widget.text()
    widget.set_frame(replay.frame(3))
    assert ".grad now\n[0, 4, 8, 12]" in widget.text()
    assert "[4]" in widget.text()  # sizes are written as torch lists them, as on the canvas


def test_mul_node_shows_shape_dtype_line_and_attrs(inspector):
    widget, replay = inspector
    widget.show_node("n1")
    widget.set_frame(replay.frame(3))
    text = widget.text()
    assert "MulBackward0" in text and "float32" in text and "line 4" in text and "scalar" in text
    assert "other" in text  # a non-tensor saved value


def test_line_link_emits(inspector, qtbot):
    widget, _replay = inspector
    widget.show_node("n1")
    from PySide6.QtCore import QUrl

    with qtbot.waitSignal(widget.line_clicked) as blocker:
        widget.browser.anchorClicked.emit(QUrl("line:4"))
    assert blocker.args == [4]


def test_unknown_node_is_ignored(inspector):
    widget, _replay = inspector
    widget.show_node("nope")
    assert widget.node_id is None


def test_dark_theme(inspector):
    widget, _replay = inspector
    widget.show_node("n2")
    widget.set_theme("dark")
    assert "#d7dae0" in widget.browser.document().defaultStyleSheet()


def test_hooks_of_the_program_are_listed_with_where_they_run(qtbot, two_x):
    import dataclasses

    from gradviz.core.result import GraphData, HookRef

    widget = Inspector()
    qtbot.addWidget(widget)
    result = two_x.result
    graph = result.backward_calls[0].graph
    dot = dataclasses.replace(graph.node("n2"), hooks=(HookRef("forward hook", "show", 7),
                                                       HookRef("tensor hook", "lambda")))
    widget.set_graph(GraphData(tuple(dot if n.id == "n2" else n for n in graph.nodes), graph.edges, graph.roots))
    widget.show_node("n2")
    text = widget.text()
    assert "Hooks" in text
    assert "Hooks\nshow\nforward hook line 7\nran after the module's forward made this node\n" in text
    assert "lambda\ntensor hook\nruns on the gradient arriving here (and may change it)" in text


def test_a_hooked_node_carries_a_hook_chip(qtbot):
    from gradviz.core.result import OP, GraphNode, HookRef
    from gradviz.ui.canvas.items import Look, measure_node
    from gradviz.ui.theme import Theme

    look = Look(Theme())
    plain = measure_node(GraphNode("n", OP, "AddmmBackward0", (1, 2)), look)
    hooked = measure_node(GraphNode("n", OP, "AddmmBackward0", (1, 2), hooks=(HookRef("forward hook", "show"),)), look)
    assert plain.chips == [] and [(c.text, c.hook) for c in hooked.chips] == [("hook show", True)]
    assert hooked.h > plain.h


def _fan_in_call(n: int):
    """(w * w).sum() into an n-vector w: MulBackward0 sends two gradients into w's AccumulateGrad."""
    from gradviz.core.result import (
        ACCUMULATE,
        LEAF,
        OP,
        ROOT,
        BackwardCall,
        BackwardStep,
        GraphData,
        GraphEdge,
        GraphNode,
        LeafGrad,
        TensorValue,
    )

    def vec(k: float):
        return TensorValue((n,), "float32", [k * (i + 0.123456) for i in range(n)])

    graph = GraphData(
        nodes=(GraphNode("r", ROOT, "Tensor", (), "float32", ("loss",)),
               GraphNode("sum", OP, "SumBackward0", (), "float32", ("loss",), 4),
               GraphNode("mul", OP, "MulBackward0", (n,), "float32", (), 4),
               GraphNode("acc", ACCUMULATE, "AccumulateGrad", (n,), "float32"),
               GraphNode("leaf", LEAF, "Tensor", (n,), "float32", ("w",), 2)),
        edges=(GraphEdge("r", "sum"), GraphEdge("sum", "mul"), GraphEdge("mul", "acc", 0),
               GraphEdge("mul", "acc", 1), GraphEdge("acc", "leaf")),
        roots=("r",))
    steps = (BackwardStep(0, "sum", "SumBackward0", (TensorValue((), "float32", 1.0),), (vec(0) ,)),
             BackwardStep(1, "mul", "MulBackward0", (vec(1),), (vec(1), vec(1))),
             BackwardStep(2, "acc", "AccumulateGrad", (vec(2),), (), vec(2), vec(4)))
    return BackwardCall(1, 5, "backward", graph, steps, leaves=(LeafGrad("w", "leaf", vec(2), vec(4)),))


def test_the_accumulate_step_wraps_in_a_narrow_dock_rather_than_cut_off(qtbot):
    call = _fan_in_call(6)
    ins = Inspector()
    qtbot.addWidget(ins)
    ins.resize(260, 900)
    ins.show()
    qtbot.waitExposed(ins)
    ins.set_graph(call.graph, call)
    ins.set_state(call, Replay(call).frame(3), "acc")
    text = ins.text()
    assert ".grad before + incoming = after" in text and "\n= [" in text and "\n+ [" in text
    document = ins.browser.document()
    width = ins.browser.viewport().width()
    block = document.begin()
    widest = 0.0
    while block.isValid():
        layout = block.layout()
        for i in range(layout.lineCount()):
            widest = max(widest, layout.lineAt(i).naturalTextWidth())
        block = block.next()
    assert widest <= width  # every line of the step, the fan-in sum included, is in view
