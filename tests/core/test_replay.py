"""Frames of a recorded backward call: lit node, edge gradients, fan-in, leaf .grad, freed tensors."""

from dataclasses import replace

from gradviz.core.replay import Replay, frame_at, frame_count
from gradviz.core.result import ErrorInfo, SavedRef

# The 2xᵀx call these tests replay is the engine's own (the ``two_x`` fixture, tests/conftest.py).


def test_frame_zero_is_before_the_engine_starts(two_x):
    f = frame_at(two_x.call, 0)
    assert f.current is None and f.edge_grads == {} and f.leaf_grads == {"n4": None}
    assert f.freed == frozenset() and f.error is None and not f.is_last


def test_each_step_lights_the_node_and_sends_its_gradient(two_x):
    call = two_x.call
    replay = Replay(call)
    assert len(replay) == frame_count(call) == 4
    f1 = replay.frame(1)
    assert f1.current == "n1"
    assert f1.edge_grads[("n0", "n1", 0)].data == 1.0  # the root's seed gradient
    assert f1.active_edges == {("n1", "n2", 0)} and f1.edge_grads[("n1", "n2", 0)].data == 2.0
    f2 = replay.frame(2)
    assert f2.done == {"n1"} and f2.current == "n2"
    assert f2.active_edges == {("n2", "n3", 0), ("n2", "n3", 1)}


def test_fan_in_shows_both_contributions_and_leaf_grad_after(two_x):
    """The engine's 2xᵀx call, given an error to show at its end (the engine's own call has none)."""
    f = Replay(replace(two_x.call, error=ErrorInfo("RuntimeError", "boom", 5))).frame(3)
    assert f.current == "n3"
    assert [i.edge.index for i in f.incoming] == [0, 1]
    assert [i.value.data for i in f.incoming] == [[0.0, 2.0, 4.0, 6.0]] * 2
    assert f.leaf_grads["n4"].data == [0.0, 4.0, 8.0, 12.0]
    assert f.edge_grads[("n3", "n4", 0)].data == [0.0, 4.0, 8.0, 12.0]
    assert f.is_last and SavedRef("n2", "self") in f.freed and f.error.message == "boom"


def test_step_is_clamped(two_x):
    call = two_x.call
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
