"""Frames of a recorded backward call: lit node, edge gradients, fan-in, leaf .grad, freed tensors."""

from gradviz.core.replay import Replay, frame_at, frame_count
from gradviz.core.result import (
    ACCUMULATE, LEAF, OP, ROOT, BackwardCall, BackwardStep, ErrorInfo, GraphData, GraphEdge,
    GraphNode, LeafGrad, SavedRef, TensorValue,
)


def tv(*values):
    return TensorValue((len(values),), "float32", list(values)) if len(values) != 1 else TensorValue((), "float32", values[0])


def dot_call() -> BackwardCall:
    """y = 2 * torch.dot(x, x) with x = arange(4), as the tracer records it."""
    graph = GraphData(
        nodes=(
            GraphNode("n0", ROOT, "Tensor", (), "float32", ("y",)),
            GraphNode("n1", OP, "MulBackward0", ()),
            GraphNode("n2", OP, "DotBackward0", ()),
            GraphNode("n3", ACCUMULATE, "AccumulateGrad", (4,)),
            GraphNode("n4", LEAF, "Tensor", (4,), "float32", ("x",)),
        ),
        edges=(GraphEdge("n0", "n1"), GraphEdge("n1", "n2"), GraphEdge("n2", "n3", 0),
               GraphEdge("n2", "n3", 1), GraphEdge("n3", "n4")),
        roots=("n0",),
    )
    half = tv(0.0, 2.0, 4.0, 6.0)
    full = tv(0.0, 4.0, 8.0, 12.0)
    steps = (
        BackwardStep(0, "n1", "MulBackward0", (tv(1.0),), (tv(2.0), None)),
        BackwardStep(1, "n2", "DotBackward0", (tv(2.0),), (half, half)),
        BackwardStep(2, "n3", "AccumulateGrad", (full,), (), leaf_before=None, leaf_after=full),
    )
    return BackwardCall(0, 3, "backward", graph, steps,
                        leaves=(LeafGrad("x", "n4", None, full),),
                        freed=(SavedRef("n2", "self"), SavedRef("n2", "tensor")),
                        error=ErrorInfo("RuntimeError", "boom", 3))


def test_frame_zero_is_before_the_engine_starts():
    f = frame_at(dot_call(), 0)
    assert f.current is None and f.edge_grads == {} and f.leaf_grads == {"n4": None}
    assert f.freed == frozenset() and f.error is None and not f.is_last


def test_each_step_lights_the_node_and_sends_its_gradient():
    call = dot_call()
    replay = Replay(call)
    assert len(replay) == frame_count(call) == 4
    f1 = replay.frame(1)
    assert f1.current == "n1"
    assert f1.edge_grads[("n0", "n1", 0)].data == 1.0  # the root's seed gradient
    assert f1.active_edges == {("n1", "n2", 0)} and f1.edge_grads[("n1", "n2", 0)].data == 2.0
    f2 = replay.frame(2)
    assert f2.done == {"n1"} and f2.current == "n2"
    assert f2.active_edges == {("n2", "n3", 0), ("n2", "n3", 1)}


def test_fan_in_shows_both_contributions_and_leaf_grad_after():
    f = Replay(dot_call()).frame(3)
    assert f.current == "n3"
    assert [i.edge.index for i in f.incoming] == [0, 1]
    assert [i.value.data for i in f.incoming] == [[0.0, 2.0, 4.0, 6.0]] * 2
    assert f.leaf_grads["n4"].data == [0.0, 4.0, 8.0, 12.0]
    assert f.edge_grads[("n3", "n4", 0)].data == [0.0, 4.0, 8.0, 12.0]
    assert f.is_last and SavedRef("n2", "self") in f.freed and f.error.message == "boom"


def test_step_is_clamped():
    call = dot_call()
    assert frame_at(call, 99).step == 3 and frame_at(call, -5).step == 0


def test_frames_made_from_the_previous_one_equal_frames_made_fresh():
    from tests.ui.canvas_data import big_call

    call = big_call(300)
    fresh = [Replay(call).frame(k) for k in range(len(call.steps) + 1)]
    stepping = Replay(call)
    order = list(range(len(call.steps) + 1)) + [5, 4, 4, 9, 10, 11, 0, 1, 2]  # forward, jumps, back, repeats
    for k in order:
        assert stepping.frame(k) == fresh[k], k
    assert stepping.frame(10**6) == fresh[-1] and stepping.frame(-3) == fresh[0]
