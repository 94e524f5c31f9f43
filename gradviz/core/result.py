"""RunResult and its parts: what one run of a program did, as plain data (no torch objects)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import orjson

from gradviz.core.collector import collector_paused
from gradviz.core.plain import NONFINITE, from_plain, to_plain

if TYPE_CHECKING:  # networkx loads on first use (imports the engine worker never needs)
    import networkx as nx

_edge_index = attrgetter("index")

# Node kinds of GraphData.
ROOT = "root"  # the tensor a backward call (or the view) starts from
OP = "op"  # a grad_fn node such as MulBackward0
ACCUMULATE = "accumulate"  # AccumulateGrad: where a leaf's .grad is written
LEAF = "leaf"  # a leaf tensor with requires_grad
PARAM = "param"  # an nn.Parameter
NODE_KINDS = (ROOT, OP, ACCUMULATE, LEAF, PARAM)

# Kinds of GradEvent.
BACKWARD = "backward"  # a backward call wrote the grad
ZEROED = "zero"  # .grad filled with zeros (zero_grad(set_to_none=False), grad.zero_())
SET_NONE = "none"  # .grad set to None (zero_grad() by default, x.grad = None)
SET = "set"  # .grad changed some other way (assignment, in-place arithmetic)
GRAD_EVENT_KINDS = (BACKWARD, ZEROED, SET_NONE, SET)


@dataclass(frozen=True)
class Stats:
    """Summary numbers of a tensor, computed over its finite elements."""

    min: float
    max: float
    mean: float
    norm: float


@dataclass(frozen=True)
class TensorValue:
    """A tensor's numbers as plain data.

    Parameters
    ----------
    shape, dtype
        As torch reports them (dtype without the ``torch.`` prefix, e.g. ``"float32"``).
    data
        Nested lists of numbers when the tensor is small enough to keep whole, else None.
        Non-finite floats are the strings ``"nan"``, ``"inf"`` and ``"-inf"``.
    stats
        min, max, mean and norm; None for empty or non-numeric tensors.
    """

    __plain_shared__ = True  # the worker sends each value once (see plain.to_plain_shared)

    shape: tuple[int, ...]
    dtype: str
    data: Any = None
    stats: Stats | None = None

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def is_full(self) -> bool:
        """True when ``data`` holds every element."""
        return self.data is not None

    def flat(self) -> list[float]:
        """All elements in row-major order as floats (NaN and infinities restored); [] when summarised."""
        if self.data is None:
            return []
        out: list[float] = []
        stack = [self.data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, str):
                out.append(NONFINITE.get(item, math.nan))
            else:
                out.append(float(item))
        return out


# gradviz's own kinds of ErrorInfo (the others are Python exception names).
LIMIT_EXCEEDED = "LimitExceeded"  # ``ErrorInfo.limit`` names which limit
CANCELLED = "Cancelled"
WORKER_CRASHED = "WorkerCrashed"  # the engine process died or broke the protocol
NOT_CONTAINED = "NotContained"  # not run: it came from elsewhere and the engine is not contained here


@dataclass(frozen=True)
class ErrorInfo:
    """Why a program (or one backward call) failed, in plain words.

    ``type`` is the Python exception name (``RuntimeError``) or one of gradviz's own:
    LIMIT_EXCEEDED (``limit`` names which), CANCELLED, WORKER_CRASHED, NOT_CONTAINED.
    """

    type: str
    message: str
    line: int | None = None
    hint: str | None = None
    limit: str | None = None
    col: int | None = None


@dataclass(frozen=True)
class StatementRecord:
    """One top-level statement that ran: where it is, whether it worked, what it printed, and for
    a bare expression (``x.grad`` on a line of its own) the repr of its value as a notebook shows it
    (None for a value of None, or any other statement); not part of stdout."""

    line: int
    end_line: int
    ok: bool
    stdout: str = ""
    error: ErrorInfo | None = None
    value: str | None = None


@dataclass(frozen=True)
class SavedTensor:
    """A tensor an op node saved for backward (``_saved_self`` is named ``self``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    value: TensorValue | None = None
    freed: bool = False


@dataclass(frozen=True)
class HookRef:
    """A hook of the program that runs at a node: ``kind`` is "forward hook" (a module's, after its
    forward made this node), "backward hook" (a module's full backward hook, run where this node
    passes the gradient on to the module's inputs) or "tensor hook"; ``name`` is the hook function's
    name; ``line`` the line that registered it, where known."""

    kind: str
    name: str
    line: int | None = None

    @property
    def text(self) -> str:
        return f"{self.kind} {self.name}" + (f" (registered on line {self.line})" if self.line else "")


@dataclass(frozen=True)
class MadeBy:
    """Where a node made by a backward pass (``create_graph=True``) comes from.

    ``call`` is the index of the backward call that made it; ``op`` and ``line`` name the node
    whose backward made it (the node the engine was running then, as torch's anomaly mode records
    it); ``node`` is that node's id in ``backward_calls[call].graph`` (None when that call was not
    recorded step by step), ``here`` its id in the graph holding this node (None when not in it).
    """

    call: int
    op: str
    line: int | None = None
    node: str | None = None
    here: str | None = None


@dataclass(frozen=True)
class GraphNode:
    """One node of an autograd graph.

    ``kind`` is one of ROOT, OP, ACCUMULATE, LEAF, PARAM. ``names`` are the user's variable
    names that hold this node's tensor (qualified for parameters: ``lin.weight``); ``line``
    is the source line that created it; ``attrs`` are non-tensor saved values such as
    ``("exponent", "2")``; ``hooks`` are the program's hooks that run at this node;
    ``made_by`` is set on a node a backward call with ``create_graph=True`` made (see MadeBy).
    """

    id: str
    kind: str
    op: str
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    names: tuple[str, ...] = ()
    line: int | None = None
    saved: tuple[SavedTensor, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()
    value: TensorValue | None = None
    grad: TensorValue | None = None
    sequence_nr: int | None = None
    hooks: tuple[HookRef, ...] = ()
    made_by: MadeBy | None = None

    @property
    def label(self) -> str:
        """The short text drawn on the node: variable names for tensors, the op for grad_fns."""
        if self.kind in (ROOT, LEAF, PARAM) and self.names:
            return ", ".join(self.names)
        return self.op


@dataclass(frozen=True)
class GraphEdge:
    """An edge in the direction gradients flow: from ``src`` to the node that produced its input.

    ``index`` is the position in ``src.next_functions`` (duplicates are kept: ``torch.dot(x, x)``
    has edges 0 and 1 to the same AccumulateGrad); ``output_nr`` selects the output of ``dst``.
    """

    src: str
    dst: str
    index: int = 0
    output_nr: int = 0


@dataclass(frozen=True)
class GraphData:
    """An autograd graph as plain data; ``roots`` are where gradients enter."""

    nodes: tuple[GraphNode, ...] = ()
    edges: tuple[GraphEdge, ...] = ()
    roots: tuple[str, ...] = ()

    @cached_property
    def by_id(self) -> dict[str, GraphNode]:
        return {n.id: n for n in self.nodes}

    def node(self, node_id: str) -> GraphNode:
        return self.by_id[node_id]

    @cached_property
    def out_edges(self) -> dict[str, tuple[GraphEdge, ...]]:
        """Edges leaving each node, in ``index`` order."""
        found: dict[str, list[GraphEdge]] = {n.id: [] for n in self.nodes}
        for e in self.edges:
            found[e.src].append(e)
        return {k: tuple(v) if len(v) < 2 else tuple(sorted(v, key=_edge_index)) for k, v in found.items()}

    @cached_property
    def in_edges(self) -> dict[str, tuple[GraphEdge, ...]]:
        """Edges arriving at each node, in graph order."""
        found: dict[str, list[GraphEdge]] = {n.id: [] for n in self.nodes}
        for e in self.edges:
            found[e.dst].append(e)
        return {k: tuple(v) for k, v in found.items()}

    def reachable(self, start: str) -> GraphData:
        """The part of the graph reachable from ``start`` following edges, with ``start`` as root."""
        seen = {start}
        stack = [start]
        while stack:
            for e in self.out_edges.get(stack.pop(), ()):
                if e.dst not in seen:
                    seen.add(e.dst)
                    stack.append(e.dst)
        return GraphData(
            nodes=tuple(n for n in self.nodes if n.id in seen),
            edges=tuple(e for e in self.edges if e.src in seen),
            roots=(start,),
        )

    def to_networkx(self) -> nx.MultiDiGraph[str]:
        """This graph as a networkx MultiDiGraph: the graph the layout runs on, and what
        ``gradviz inspect --graphml`` writes.

        Nodes in ``nodes`` order (a repeated id keeps its first node), with the attributes
        ``kind``, ``op`` and ``label`` and, where known, ``shape`` (``"[4, 3]"``, ``"[]"`` for a
        scalar), ``dtype``, ``names`` (comma-separated) and ``line``; each of ``roots`` also has
        ``root``, its place among them (0 for the first). Edges added in ``edges`` order (networkx
        yields them node by node), parallel edges kept: the key is the edge's ``index``, and the
        attributes are ``index`` and ``output_nr``; an edge to or from an id that is not a node is left out, a repeated
        ``(src, dst, index)`` keeps its first edge. Every attribute is a string or an integer,
        so ``networkx.write_graphml`` takes the graph as it is.
        """
        import networkx as nx

        g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        nodes: dict[str, dict[str, Any]] = {}
        for n in self.nodes:
            if n.id in nodes:
                continue
            attrs: dict[str, Any] = {"kind": n.kind, "op": n.op, "label": n.label}
            if n.shape is not None:
                attrs["shape"] = f"[{', '.join(map(str, n.shape))}]"
            if n.dtype is not None:
                attrs["dtype"] = n.dtype
            if n.names:
                attrs["names"] = ", ".join(n.names)
            if n.line is not None:
                attrs["line"] = n.line
            nodes[n.id] = attrs
        for rank, root in enumerate(r for r in dict.fromkeys(self.roots) if r in nodes):
            nodes[root]["root"] = rank
        g.add_nodes_from(nodes.items())
        edges = [(e.src, e.dst, e.index, e.output_nr) for e in self.edges if e.src in nodes and e.dst in nodes]
        if len({e[:3] for e in edges}) != len(edges):  # the same edge twice: keep the first
            first: dict[tuple[str, str, int], tuple[str, str, int, int]] = {}
            for e in edges:
                first.setdefault(e[:3], e)
            edges = list(first.values())
        add_edge = g.add_edge
        for s, d, i, o in edges:
            add_edge(s, d, key=i, index=i, output_nr=o)
        return g


@dataclass(frozen=True)
class BackwardStep:
    """One node the engine executed during a backward call, in execution order.

    ``grad_in`` are the gradients with respect to the node's outputs as the engine handed them
    to it (contributions from several consumers already summed: see ``BackwardCall.incoming``);
    ``grad_out`` has one entry per out-edge ``index`` (None where no gradient flows). For an
    AccumulateGrad node ``leaf_before``/``leaf_after`` are the leaf's ``.grad`` around the write.
    """

    order: int
    node_id: str
    op: str
    grad_in: tuple[TensorValue | None, ...] = ()
    grad_out: tuple[TensorValue | None, ...] = ()
    leaf_before: TensorValue | None = None
    leaf_after: TensorValue | None = None


@dataclass(frozen=True)
class LeafGrad:
    """A leaf's ``.grad`` before and after one backward call (None means ``.grad is None``)."""

    name: str
    node_id: str
    before: TensorValue | None
    after: TensorValue | None


@dataclass(frozen=True)
class SavedRef:
    """Names one saved tensor of one node."""

    node_id: str
    name: str


@dataclass(frozen=True)
class Incoming:
    """One gradient contribution arriving at a node: from which step, along which edge."""

    step: BackwardStep
    edge: GraphEdge
    value: TensorValue | None


@dataclass(frozen=True)
class BackwardCall:
    """One ``backward()``, ``torch.autograd.backward`` or ``torch.autograd.grad`` call, run for real.

    ``graph`` is the graph as it was when the call started; ``steps`` are the nodes in the order
    the engine ran them; ``freed`` are the saved tensors the call released (no ``retain_graph``);
    ``outputs`` are the gradients ``autograd.grad`` returned. A call not ``recorded`` step by step
    (past the first ones of a long training loop) has only its index, line and kind: fetch it
    with ``RunRequest.only_call``.
    """

    index: int
    line: int
    kind: str
    graph: GraphData
    steps: tuple[BackwardStep, ...] = ()
    leaves: tuple[LeafGrad, ...] = ()
    freed: tuple[SavedRef, ...] = ()
    retain_graph: bool = False
    create_graph: bool = False
    outputs: tuple[TensorValue | None, ...] = ()
    error: ErrorInfo | None = None
    recorded: bool = True

    def incoming(self, node_id: str, upto: int | None = None) -> list[Incoming]:
        """Contributions that reached ``node_id`` from steps before ``upto`` (all steps by default).

        More than one entry is a fan-in: the engine summed them into the node's ``grad_in``.
        Worked out per node from the edges into it (the inspector and the animation ask for one
        node at each step; indexing every node of a long call first would cost more than that).
        """
        n = len(self.steps)
        limit = n if upto is None else (min(upto, n) if upto >= 0 else max(0, n + upto))
        positions = self._positions
        found: list[tuple[int, int, Incoming]] = []
        for edge in self.graph.in_edges.get(node_id, ()):
            for s in positions.get(edge.src, ()):
                if s < limit:
                    step = self.steps[s]
                    if edge.index < len(step.grad_out):
                        value = step.grad_out[edge.index]
                        if value is not None:
                            found.append((s, edge.index, Incoming(step, edge, value)))
        found.sort(key=lambda item: item[:2])  # step order, then the sender's edge order
        return [item[2] for item in found]

    @cached_property
    def _positions(self) -> dict[str, list[int]]:
        """Node id -> the positions in ``steps`` where it ran."""
        found: dict[str, list[int]] = {}
        for s, step in enumerate(self.steps):
            found.setdefault(step.node_id, []).append(s)
        return found


@dataclass(frozen=True)
class GradEvent:
    """A change of one leaf's ``.grad``: kind is BACKWARD, ZEROED, SET_NONE or SET.

    ``call`` is the BackwardCall index for BACKWARD events; ``value`` is ``.grad`` afterwards.
    """

    kind: str
    line: int
    value: TensorValue | None = None
    call: int | None = None


@dataclass(frozen=True)
class LeafHistory:
    """How one leaf's ``.grad`` changed over the whole run."""

    name: str
    shape: tuple[int, ...]
    events: tuple[GradEvent, ...] = ()


@dataclass(frozen=True)
class TensorInfo:
    """A top-level tensor (or module parameter, under its qualified name) at the end of the run.

    ``node_id`` is the tensor's node (its ROOT or grad_fn node, or its leaf node) in
    ``backward_calls[graph_call].graph`` when ``graph_call`` is set (the tensor took part in the
    last backward call: its graph is not recorded twice), else in ``RunResult.graph``.
    Use ``RunResult.graph_of``.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    requires_grad: bool
    is_leaf: bool
    value: TensorValue
    grad: TensorValue | None = None
    grad_fn: str | None = None
    is_param: bool = False
    node_id: str | None = None
    graph_call: int | None = None


@dataclass(frozen=True)
class RunResult:
    """Everything one run recorded; the engine's only output, shared by the app and the CLI.

    ``graph`` joins the graphs of the tensors in ``variables`` that have a grad_fn and are not
    in the last backward call's graph (``graph_of`` finds either);
    ``stopped_at`` is the last line run when the run was asked to stop early (run to cursor);
    ``stderr`` is what the program wrote to ``sys.stderr`` (warnings, progress bars).
    """

    stdout: str = ""
    error: ErrorInfo | None = None
    statements: tuple[StatementRecord, ...] = ()
    variables: tuple[TensorInfo, ...] = ()
    graph: GraphData = field(default_factory=GraphData)
    backward_calls: tuple[BackwardCall, ...] = ()
    grad_history: tuple[LeafHistory, ...] = ()
    seed: int = 0
    stopped_at: int | None = None
    duration: float = 0.0
    notes: tuple[str, ...] = ()
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def last_value(self) -> StatementRecord | None:
        """The last statement that ran when it is a bare expression with a value: what a notebook
        shows under the cell (the app's output panel and the readable report show it)."""
        last = self.statements[-1] if self.statements else None
        return last if last is not None and last.value is not None else None

    def variable(self, name: str) -> TensorInfo | None:
        return next((v for v in self.variables if v.name == name), None)

    def graph_holding(self, info: TensorInfo) -> GraphData | None:
        """The whole graph that holds ``info.node_id`` (a backward call's, or ``graph``)."""
        if info.node_id is None:
            return None
        if info.graph_call is not None:
            call = next((c for c in self.backward_calls if c.index == info.graph_call), None)
            graph = call.graph if call is not None else None
        else:
            graph = self.graph
        return graph if graph is not None and info.node_id in graph.by_id else None

    def graph_of(self, info: TensorInfo) -> GraphData | None:
        """The autograd graph behind one tensor: its node and everything reachable from it."""
        graph = self.graph_holding(info)
        return graph.reachable(info.node_id) if graph is not None and info.node_id is not None else None

    def default_graph(self) -> tuple[str, int | str] | None:
        """Which graph every view shows first: ``("call", k)``, the last backward call, or else
        ``("var", name)``, the last tensor variable with a grad_fn whose graph was recorded; None
        when the program built no graph. The app, ``inspect`` and ``render`` all follow this."""
        if self.backward_calls:
            return ("call", len(self.backward_calls) - 1)
        for info in reversed(self.variables):
            if info.grad_fn is not None and self.graph_holding(info) is not None:
                return ("var", info.name)
        return None

    def default_graph_data(self) -> GraphData | None:
        """The graph ``default_graph`` names (a variable's: its node and all it reaches)."""
        choice = self.default_graph()
        if choice is None:
            return None
        kind, key = choice
        if kind == "call":
            return self.backward_calls[int(key)].graph
        info = next(v for v in reversed(self.variables) if v.name == key)
        return self.graph_of(info)

    def with_call_graphs(self, graphs: dict[int, GraphData]) -> RunResult:
        """This result with ``graphs[k]`` as the graph of backward call k (the worker sends the
        graphs ahead of the result, which then carries empty ones for those calls)."""
        if not graphs:
            return self
        calls = tuple(replace(c, graph=graphs[c.index]) if c.index in graphs else c for c in self.backward_calls)
        return replace(self, backward_calls=calls)

    def to_json(self) -> str:
        with collector_paused():
            return orjson.dumps(to_plain(self)).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> RunResult:
        with collector_paused():
            return from_plain(cls, orjson.loads(text))
