"""Two runs side by side as plain data: which nodes match, which only one has, which .grads differ.

What is compared is two backward calls: the last one of two programs (A and B), or two calls of
one program. Node ids are ``id()`` numbers of the engine's objects, different in every run, so
the nodes of the two graphs are matched by an identity built from what the user sees:

    (kind, op, names, k)

``kind`` and ``op`` as drawn (``op``, ``MulBackward0``); ``names`` the variable names that hold
the node's tensor (for an AccumulateGrad node, the names of the leaf whose ``.grad`` it writes,
since it holds none itself); ``k`` counts the nodes with the same first three parts in the order
a depth-first walk from the roots meets them, following each node's edges in ``next_functions``
order. So "x" matches "x", and the second ``MulBackward0`` met from the loss matches the second
one of the other run, whatever their ids; the walk order depends only on the graph's shape, not
on the order the engine happened to list the nodes in. Line numbers are left out on purpose: the
same statement one line lower in program B is the same node.

A leaf's ``.grad`` differs when the two runs' values after the call differ in shape, when one is
None and the other is not, or when some element differs by more than ``atol + rtol * |b|``
(``torch.allclose``'s rule and defaults). The animation steps are paired by number: frame i of
both calls; the call with fewer steps holds its last frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gradviz.core.result import ACCUMULATE, BackwardCall, GraphData, LeafHistory, RunResult, TensorValue

#: torch.allclose's defaults.
RTOL = 1e-5
ATOL = 1e-8

NodeKey = tuple[str, str, tuple[str, ...], int]


@dataclass(frozen=True)
class GradDifference:
    """A leaf whose ``.grad`` after the call differs between the runs.

    ``a``/``b`` are the values (None: ``.grad`` is None there); ``max_abs`` the largest element
    difference (None when the shapes differ or one side is None); ``node_a``/``node_b`` the leaf's
    node id in each graph (None where that graph lacks it).
    """

    name: str
    a: TensorValue | None
    b: TensorValue | None
    max_abs: float | None
    node_a: str | None = None
    node_b: str | None = None


@dataclass(frozen=True)
class Comparison:
    """What differs between backward call ``call_a`` of run A and ``call_b`` of run B.

    Parameters
    ----------
    matched
        Pairs of node ids (A's, B's) that are the same node by the identity of the module docstring.
    only_a, only_b
        Node ids that only one side's graph has.
    grads
        Leaves whose ``.grad`` differs (every leaf of either call, by name).
    steps_a, steps_b
        The number of steps of each call (frames: one more).
    """

    matched: tuple[tuple[str, str], ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    grads: tuple[GradDifference, ...]
    steps_a: int
    steps_b: int
    rtol: float = RTOL
    atol: float = ATOL

    @property
    def identical(self) -> bool:
        """True when no node is on one side only and no ``.grad`` differs."""
        return not (self.only_a or self.only_b or self.grads)

    @property
    def frames(self) -> int:
        """Frames of the paired animation: the longer call's (before the first step, then one per step)."""
        return max(self.steps_a, self.steps_b) + 1

    def pair(self, frame: int) -> tuple[int, int]:
        """The frame of A and of B shown at paired ``frame``: the shorter call holds its last one."""
        frame = max(0, min(frame, self.frames - 1))
        return min(frame, self.steps_a), min(frame, self.steps_b)

    def pairs(self) -> list[tuple[int, int]]:
        return [self.pair(i) for i in range(self.frames)]

    def differing_nodes(self, side: str) -> dict[str, str]:
        """Node id -> why it is marked on ``side`` ("a" or "b"): ``"only"`` (this side alone has
        it) or ``"grad"`` (a leaf, or its AccumulateGrad, whose ``.grad`` differs)."""
        only = self.only_a if side == "a" else self.only_b
        marks = {nid: "only" for nid in only}
        for g in self.grads:
            nid = g.node_a if side == "a" else g.node_b
            if nid is not None and nid not in marks:
                marks[nid] = "grad"
        return marks


def node_keys(graph: GraphData) -> dict[str, NodeKey]:
    """Node id -> its identity across runs (see the module docstring)."""
    by_id = graph.by_id
    out_edges = graph.out_edges
    order: list[str] = []
    seen: set[str] = set()
    for root in (*graph.roots, *(n.id for n in graph.nodes)):  # unreachable nodes last, in list order
        if root in seen or root not in by_id:
            continue
        seen.add(root)
        stack = [root]
        while stack:
            nid = stack.pop()
            order.append(nid)
            for e in reversed(out_edges.get(nid, ())):  # pushed reversed: visited in index order
                if e.dst not in seen and e.dst in by_id:
                    seen.add(e.dst)
                    stack.append(e.dst)
    counts: dict[tuple[str, str, tuple[str, ...]], int] = {}
    keys: dict[str, NodeKey] = {}
    for nid in order:
        node = by_id[nid]
        names = node.names
        if node.kind == ACCUMULATE and not names:
            names = tuple(n for e in out_edges.get(nid, ()) if e.dst in by_id for n in by_id[e.dst].names)
        base = (node.kind, node.op, tuple(names))
        k = counts.get(base, 0)
        counts[base] = k + 1
        keys[nid] = (*base, k)
    return keys


def _max_abs(a: TensorValue, b: TensorValue) -> float | None:
    fa, fb = a.flat(), b.flat()
    if not a.is_full or not b.is_full:  # summarised: compare what is known, the statistics
        if a.stats is None or b.stats is None:
            return None
        fa = [a.stats.min, a.stats.max, a.stats.mean, a.stats.norm]
        fb = [b.stats.min, b.stats.max, b.stats.mean, b.stats.norm]
    worst = 0.0
    for x, y in zip(fa, fb, strict=True):
        if math.isnan(x) and math.isnan(y) or x == y:
            continue
        d = abs(x - y)
        worst = math.inf if math.isnan(d) else max(worst, d)
    return worst


def _grads_differ(a: TensorValue | None, b: TensorValue | None, rtol: float, atol: float) -> tuple[bool, float | None]:
    if a is None or b is None:
        return (a is not None or b is not None), None
    if tuple(a.shape) != tuple(b.shape):
        return True, None
    if a.is_full and b.is_full:
        fa, fb = a.flat(), b.flat()
        worst = _max_abs(a, b)
        differs = any(not _close(x, y, rtol, atol) for x, y in zip(fa, fb, strict=True))
        return differs, worst
    worst = _max_abs(a, b)
    if worst is None:
        return False, None
    if a.stats and b.stats:
        pairs = [(getattr(a.stats, f), getattr(b.stats, f)) for f in ("min", "max", "mean", "norm")]
        if any(not (math.isfinite(x) and math.isfinite(y)) for x, y in pairs):  # infinities or NaN
            return any(not _close(x, y, rtol, atol) for x, y in pairs), worst
    scale = max(abs(a.stats.norm), abs(b.stats.norm)) if a.stats and b.stats else 0.0
    return worst > atol + rtol * scale, worst


def _close(x: float, y: float, rtol: float, atol: float) -> bool:
    """torch.allclose's rule for two numbers: NaN only equals NaN, an infinity only itself."""
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= atol + rtol * abs(y)


def compare_calls(a: BackwardCall, b: BackwardCall, rtol: float = RTOL, atol: float = ATOL) -> Comparison:
    """Compare two recorded backward calls (of two runs, or of one)."""
    keys_a, keys_b = node_keys(a.graph), node_keys(b.graph)
    by_key_b = {key: nid for nid, key in keys_b.items()}
    matched: list[tuple[str, str]] = []
    only_a: list[str] = []
    for nid, key in keys_a.items():
        other = by_key_b.get(key)
        if other is None:
            only_a.append(nid)
        else:
            matched.append((nid, other))
    in_a = {key for key in keys_a.values()}
    only_b = [nid for nid, key in keys_b.items() if key not in in_a]
    leaves_a = {lg.name: lg for lg in a.leaves}
    leaves_b = {lg.name: lg for lg in b.leaves}
    grads: list[GradDifference] = []
    for name in (*leaves_a, *(n for n in leaves_b if n not in leaves_a)):
        la, lb = leaves_a.get(name), leaves_b.get(name)
        va = la.after if la is not None else None
        vb = lb.after if lb is not None else None
        differs, worst = _grads_differ(va, vb, rtol, atol)
        if differs:
            grads.append(GradDifference(name, va, vb, worst,
                                        _leaf_node(a.graph, la.node_id) if la else None,
                                        _leaf_node(b.graph, lb.node_id) if lb else None))
    return Comparison(tuple(matched), tuple(only_a), tuple(only_b), tuple(grads),
                      len(a.steps), len(b.steps), rtol, atol)


def _leaf_node(graph: GraphData, node_id: str) -> str | None:
    """The leaf's node when this call's graph holds it (the one to ring), else None."""
    return node_id if node_id in graph.by_id else None


@dataclass(frozen=True)
class RunPair:
    """Two runs and the backward calls compared, with the comparison (what compare mode shows).

    ``title_a``/``title_b`` name the sides; ``call_a``/``call_b`` index ``backward_calls``
    (None when that run made no backward call: there is nothing to compare then).
    """

    a: RunResult
    b: RunResult
    title_a: str
    title_b: str
    call_a: int | None
    call_b: int | None
    comparison: Comparison | None

    @property
    def histories(self) -> tuple[tuple[LeafHistory, ...], tuple[LeafHistory, ...]]:
        """Both runs' ``.grad`` histories (one plot shows them, a series per run and leaf)."""
        return self.a.grad_history, self.b.grad_history

    def backward_a(self) -> BackwardCall | None:
        return self.a.backward_calls[self.call_a] if self.call_a is not None else None

    def backward_b(self) -> BackwardCall | None:
        return self.b.backward_calls[self.call_b] if self.call_b is not None else None


def _recorded_index(result: RunResult, index: int | None) -> int | None:
    calls = result.backward_calls
    if not calls:
        return None
    if index is None:
        index = len(calls) - 1
    return index if 0 <= index < len(calls) else None


def pair_runs(a: RunResult, b: RunResult, title_a: str = "A", title_b: str = "B",
              call_a: int | None = None, call_b: int | None = None) -> RunPair:
    """Compare run ``a``'s backward call ``call_a`` with ``b``'s ``call_b`` (default: each run's last)."""
    ia, ib = _recorded_index(a, call_a), _recorded_index(b, call_b)
    comparison = None
    if ia is not None and ib is not None:
        comparison = compare_calls(a.backward_calls[ia], b.backward_calls[ib])
    return RunPair(a, b, title_a, title_b, ia, ib, comparison)


def pair_calls(result: RunResult, first: int, second: int, title: str = "") -> RunPair:
    """Two backward calls of one run side by side (``first`` and ``second`` index its calls)."""
    label = f"{title} \u00b7 " if title else ""
    return pair_runs(result, result, f"{label}#{first + 1}", f"{label}#{second + 1}", first, second)
