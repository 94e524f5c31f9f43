"""What one animation frame lights on the canvas, worked out from a Frame, and what changed since the last (no Qt)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from gradviz.core.replay import EdgeKey, Frame
from gradviz.core.result import TensorValue

# Node states during an animation frame.
IDLE, CURRENT, DONE = 0, 1, 2
# Edge states.
EDGE_IDLE, EDGE_CARRIED, EDGE_ACTIVE = 0, 1, 2


@dataclass(frozen=True)
class FrameState:
    """The state of every node, edge, ``.grad`` tag and saved tensor in one frame (the empty one: no frame).

    The scene keeps the state of the frame it shows and diffs the next one against it, so that a
    step touches only the items whose state changed; items made later take their state from it.
    """

    done: set[str] = field(default_factory=set)  # nodes that ran (leaves once written, the root once started)
    current: str | None = None  # the node running now (lit)
    carried: set[EdgeKey] = field(default_factory=set)  # edges a gradient has flowed along so far
    active: frozenset[EdgeKey] = frozenset()  # edges whose gradient is travelling now
    grads: Mapping[EdgeKey, TensorValue] = field(default_factory=dict)  # the gradient each carried edge holds
    tags: dict[str, TensorValue] = field(default_factory=dict)  # leaf id -> its ``.grad`` (not None)
    freed: dict[str, frozenset[str]] = field(default_factory=dict)  # node id -> names of its freed saved tensors


def state_of(frame: Frame | None, planned: Collection[str], leaf_edges: set[EdgeKey],
                root_ids: list[str]) -> FrameState:
    """What ``frame`` lights among the ``planned`` nodes (None: the plain graph).

    Leaves count as done once their AccumulateGrad has written them (``leaf_edges``: the
    AccumulateGrad -> leaf edges), the roots (``root_ids``) once the engine started.
    """
    if frame is None:
        return FrameState()
    grads = frame.edge_grads
    carried = set(grads)
    active = frame.active_edges & carried
    done = set(frame.done)
    done.update(k[1] for k in leaf_edges.intersection(carried))
    if frame.step >= 1:
        done.update(root_ids)
    current = frame.current if frame.current in planned else None
    done.discard(current)
    tags = {k: v for k, v in frame.leaf_grads.items() if v is not None and k in planned}
    freed: dict[str, set[str]] = defaultdict(set)
    for ref in frame.freed:
        freed[ref.node_id].add(ref.name)
    return FrameState(done, current, carried, active, grads, tags, {k: frozenset(v) for k, v in freed.items()})


def done_changes(old: FrameState, new: FrameState) -> list[tuple[str, int]]:
    """Nodes that stopped or started being done, with their new state (IDLE or DONE)."""
    changes = [(nid, IDLE) for nid in old.done - new.done]
    changes.extend((nid, DONE) for nid in new.done - old.done)
    return changes


def current_changes(old: FrameState, new: FrameState) -> list[tuple[str, int]]:
    """The node no longer lit (back to IDLE unless it is done now) and the node lit now (CURRENT)."""
    if old.current == new.current:
        return []
    changes = []
    if old.current is not None and old.current not in new.done:
        changes.append((old.current, IDLE))
    if new.current is not None:
        changes.append((new.current, CURRENT))
    return changes


def edge_changes(old: FrameState, new: FrameState,
                 shown: Mapping[EdgeKey, tuple[object, str]]) -> list[tuple[EdgeKey, int, object]]:
    """Edges whose state or label changed: (key, new state, the gradient its label shows or None).

    An edge active in both frames counts again when its gradient is another value than the one
    its label text was made for (``shown``: key -> (value, text)).
    """
    carried, active, grads = new.carried, new.active, new.grads
    old_carried, old_active = old.carried, old.active
    changes: list[tuple[EdgeKey, int, object]] = [(key, EDGE_IDLE, None) for key in old_carried - carried]
    changes.extend((key, EDGE_CARRIED, grads[key]) for key in (carried - old_carried) - active)
    changes.extend((key, EDGE_CARRIED, grads[key]) for key in (old_active - active) & carried)
    for key in active:
        cached = shown.get(key)
        if key not in old_active or cached is None or cached[0] is not grads[key]:
            changes.append((key, EDGE_ACTIVE, grads[key]))
    return changes
