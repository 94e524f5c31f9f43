"""Replay of a recorded backward call: what the graph shows at animation step k (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gradviz.core.result import (
    ACCUMULATE,
    LEAF,
    PARAM,
    ROOT,
    BackwardCall,
    ErrorInfo,
    Incoming,
    SavedRef,
    TensorValue,
)

EdgeKey = tuple[str, str, int]  # (src, dst, index)


def edge_key(edge) -> EdgeKey:
    return (edge.src, edge.dst, edge.index)


@dataclass(frozen=True)
class Frame:
    """The state of one backward call after ``step`` of its steps ran.

    Frame 0 is the moment before the engine starts; frame k (1 ≤ k ≤ len(steps)) has
    ``steps[k-1]`` as the ``current`` node, lit, with its gradient travelling along
    ``active_edges``. ``edge_grads`` holds every gradient that has flowed so far;
    ``incoming`` lists the contributions summed into the current node (more than one is a
    fan-in); ``leaf_grads`` maps leaf and parameter node ids to their ``.grad`` at this point.
    The last frame also carries the saved tensors the call ``freed`` and its ``error``.
    """

    call_index: int
    step: int
    total: int
    current: str | None = None
    done: frozenset[str] = frozenset()
    active_edges: frozenset[EdgeKey] = frozenset()
    edge_grads: dict[EdgeKey, TensorValue] = field(default_factory=dict)
    incoming: tuple[Incoming, ...] = ()
    leaf_grads: dict[str, TensorValue | None] = field(default_factory=dict)
    freed: frozenset[SavedRef] = frozenset()
    error: ErrorInfo | None = None

    @property
    def is_last(self) -> bool:
        return self.step >= self.total


def frame_count(call: BackwardCall) -> int:
    """Number of frames of a call: one before the first step, then one per step."""
    return len(call.steps) + 1


class Replay:
    """Frames of one backward call; the gradient flow of every step is worked out once.

    ``frame(k)`` then costs one pass over the edges that carried gradient, so scrubbing a
    5,000-step call stays cheap; the frame after the last one asked for (playing, stepping)
    is made from it, which costs a copy of its dicts.
    """

    def __init__(self, call: BackwardCall):
        self.call = call
        graph = call.graph
        by_id = graph.by_id
        self._leaf_of_acc = {e.src: e.dst for e in graph.edges if by_id[e.src].kind == ACCUMULATE}
        # The root tensor hands its gradient to its grad_fn as that node starts.
        from_root: dict[str, list[EdgeKey]] = {}
        for r in graph.roots:
            if by_id[r].kind == ROOT:
                for e in graph.out_edges.get(r, ()):
                    from_root.setdefault(e.dst, []).append(edge_key(e))
        out_edges = graph.out_edges
        self._flows: list[list[tuple[EdgeKey, TensorValue]]] = []
        self._active: list[frozenset[EdgeKey]] = []
        for st in call.steps:
            nid = st.node_id
            flows: list[tuple[EdgeKey, TensorValue]] = []
            if nid in from_root and st.grad_in and st.grad_in[0] is not None:
                flows.extend((key, st.grad_in[0]) for key in from_root[nid])
            active = []
            if nid in self._leaf_of_acc:
                value = st.leaf_after if st.leaf_after is not None else (st.grad_in[0] if st.grad_in else None)
                for e in out_edges.get(nid, ()):
                    if value is not None:
                        key = (nid, e.dst, e.index)
                        flows.append((key, value))
                        active.append(key)
            else:
                grad_out = st.grad_out
                for e in out_edges.get(nid, ()):
                    if e.index < len(grad_out):
                        value = grad_out[e.index]
                        if value is not None:
                            key = (nid, e.dst, e.index)
                            flows.append((key, value))
                            active.append(key)
            self._flows.append(flows)
            self._active.append(frozenset(active))
        self._last: Frame | None = None

    def __len__(self) -> int:
        return len(self.call.steps) + 1

    def frame(self, step: int) -> Frame:
        """The frame after ``step`` steps (clamped to the valid range)."""
        call = self.call
        total = len(call.steps)
        step = max(0, min(step, total))
        last = self._last
        if last is not None and last.step == step:
            return last
        if last is not None and last.step == step - 1:
            edge_grads = dict(last.edge_grads)
            edge_grads.update(self._flows[step - 1])
            leaf_grads = dict(last.leaf_grads)
            self._write_leaf(leaf_grads, call.steps[step - 1])
            done = last.done | {call.steps[step - 2].node_id} if step >= 2 else last.done
        else:
            edge_grads = {}
            for flows in self._flows[:step]:
                edge_grads.update(flows)
            leaf_grads = {lg.node_id: lg.before for lg in call.leaves}
            for st in call.steps[:step]:
                self._write_leaf(leaf_grads, st)
            done = frozenset(st.node_id for st in call.steps[: max(0, step - 1)])
        current = call.steps[step - 1].node_id if step else None
        is_last = step >= total
        self._last = Frame(
            call_index=call.index,
            step=step,
            total=total,
            current=current,
            done=done,
            active_edges=self._active[step - 1] if step else frozenset(),
            edge_grads=edge_grads,
            incoming=tuple(call.incoming(current, step - 1)) if current else (),
            leaf_grads=leaf_grads,
            freed=frozenset(call.freed) if is_last else frozenset(),
            error=call.error if is_last else None,
        )
        return self._last

    def _write_leaf(self, leaf_grads: dict[str, TensorValue | None], st) -> None:
        """``.grad`` of the leaf an AccumulateGrad step wrote, as it was after the step."""
        leaf = self._leaf_of_acc.get(st.node_id)
        if leaf is not None and st.leaf_after is not None:
            leaf_grads[leaf] = st.leaf_after


def frame_at(call: BackwardCall, step: int) -> Frame:
    """The frame after ``step`` steps of ``call``; build a Replay to ask for many frames."""
    return Replay(call).frame(step)


def is_tensor_node(kind: str) -> bool:
    """Nodes that stand for a tensor rather than an operation."""
    return kind in (ROOT, LEAF, PARAM)
