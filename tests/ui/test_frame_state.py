"""What a frame lights (FrameState) and what changed between two frames, without Qt or items."""

from gradviz.core.replay import Frame
from gradviz.core.result import SavedRef, TensorValue
from gradviz.ui.canvas.frame_state import (
    CURRENT,
    DONE,
    EDGE_ACTIVE,
    EDGE_CARRIED,
    EDGE_IDLE,
    IDLE,
    FrameState,
    current_changes,
    done_changes,
    edge_changes,
    state_of,
)

G1, G2 = TensorValue((), "float32", 1.0), TensorValue((), "float32", 2.0)
MUL, ACC = ("loss", "mul", 0), ("mul", "acc", 0)
LEAF = ("acc", "w", 0)
PLANNED = {"loss", "mul", "acc", "w"}


def test_no_frame_lights_nothing():
    assert state_of(None, PLANNED, {LEAF}, ["loss"]) == FrameState()


def test_frame_state_counts_written_leaves_and_started_roots_as_done():
    frame = Frame(0, 2, 3, current="acc", done=frozenset({"mul", "acc"}), active_edges=frozenset({ACC, MUL}),
                  edge_grads={MUL: G1, ACC: G2, LEAF: G2}, leaf_grads={"w": G2, "b": G1, "x": None},
                  freed=frozenset({SavedRef("mul", "self"), SavedRef("mul", "other")}))
    state = state_of(frame, PLANNED, {LEAF}, ["loss"])
    # The current node is lit, not done; the leaf counts as written, the root as started.
    assert state.current == "acc" and state.done == {"mul", "w", "loss"}
    assert state.carried == {MUL, ACC, LEAF} and state.active == {MUL, ACC}
    assert state.tags == {"w": G2}  # "b" is not in the plan, "x" has no .grad
    assert state.freed == {"mul": frozenset({"self", "other"})}
    # A current node outside the plan lights nothing; frame 0 has not started the root.
    assert state_of(Frame(0, 0, 3, current="elsewhere"), PLANNED, {LEAF}, ["loss"]).current is None
    assert state_of(Frame(0, 0, 3), PLANNED, {LEAF}, ["loss"]).done == set()


def test_changes_between_two_frames():
    old = FrameState(done={"loss", "mul"}, current="acc", carried={MUL, ACC}, active=frozenset({ACC}),
                     grads={MUL: G1, ACC: G1})
    new = FrameState(done={"loss", "acc"}, current="w", carried={MUL, ACC, LEAF}, active=frozenset({LEAF}),
                     grads={MUL: G1, ACC: G1, LEAF: G2})
    assert sorted(done_changes(old, new)) == [("acc", DONE), ("mul", IDLE)]
    assert current_changes(old, new) == [("w", CURRENT)]  # the old current is done now, not idle
    assert current_changes(new, new) == []
    assert current_changes(new, FrameState(current="mul")) == [("w", IDLE), ("mul", CURRENT)]
    assert sorted(edge_changes(old, new, {})) == sorted([(ACC, EDGE_CARRIED, G1), (LEAF, EDGE_ACTIVE, G2)])
    assert sorted(edge_changes(new, FrameState(), {})) == sorted([(MUL, EDGE_IDLE, None), (ACC, EDGE_IDLE, None),
                                                                  (LEAF, EDGE_IDLE, None)])


def test_an_edge_active_twice_counts_again_only_for_another_value():
    old = FrameState(carried={MUL}, active=frozenset({MUL}), grads={MUL: G1})
    again = FrameState(carried={MUL}, active=frozenset({MUL}), grads={MUL: G1})
    other = FrameState(carried={MUL}, active=frozenset({MUL}), grads={MUL: G2})
    assert edge_changes(old, again, {MUL: (G1, "1")}) == []
    assert edge_changes(old, again, {}) == [(MUL, EDGE_ACTIVE, G1)]  # no label text made for it yet
    assert edge_changes(old, other, {MUL: (G1, "1")}) == [(MUL, EDGE_ACTIVE, G2)]
