"""Records what autograd really does: each backward call step by step, and every leaf's .grad over the run."""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from gradviz.core.result import (
    BACKWARD,
    SET,
    SET_NONE,
    ZEROED,
    BackwardCall,
    BackwardStep,
    ErrorInfo,
    GradEvent,
    GraphData,
    HookRef,
    LeafGrad,
    LeafHistory,
    SavedRef,
    StatementRecord,
    TensorValue,
)
from gradviz.engine import capture as capture_module
from gradviz.engine.capture import FormerNames, GraphCapture, NameIndex, reachable_leaves, tag_hook, tag_lines
from gradviz.engine.hints import FREED_AT, SECOND_TIME
from gradviz.engine.made_by import run_recording_parents, stamp_made
from gradviz.engine.recorder import Recorder, StopRun
from gradviz.engine.values import EDGE_LIMIT, LEAF_LIMIT, tensor_value, tensor_values

#: Backward calls recorded step by step; later calls are recorded lightly (the gradient history and
#: their place in the timeline) and fetched step by step when picked (RunRequest.only_call).
MAX_DETAILED_CALLS = 50
#: Graph nodes of all calls recorded step by step: a call that would go past it is recorded lightly,
#: so a loop over a huge retained graph (50 calls of 20,000 nodes) stays within the result limit
#: (~560 bytes a node: 30,000 nodes are ~17 MB of the 32 MB, room left for the call the app asks
#: for by detail_calls) instead of being cut down after. The first call is always recorded.
MAX_DETAILED_NODES = 30_000
#: Backward calls listed at all (a light call is ~100 bytes of result).
MAX_LISTED_CALLS = 100_000
#: Events kept per leaf in the gradient history.
MAX_EVENTS_PER_LEAF = 5_000
#: Elements of gradient tensors a recorded backward call holds before converting them at once (_Keeper).
HOLD_ELEMENTS = 16_000_000


def _as_tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, torch.Tensor)]
    return []


def _root_tensors(kind: str, fn: Callable, args: tuple, kwargs: dict) -> tuple[list[torch.Tensor], bool, bool]:
    """The tensors a backward call starts from, and its retain_graph / create_graph flags.

    ``fn`` is ``y.backward`` (bound: ``y`` is the root), ``torch.Tensor.backward`` (the root is the
    first argument), ``torch.autograd.backward`` or ``torch.autograd.grad``.
    """
    if kind == "backward":
        bound = getattr(fn, "__self__", None)
        if isinstance(bound, torch.Tensor):
            roots, rest = [bound], args
        else:
            roots, rest = _as_tensors(args[0]) if args else [], args[1:]
        retain_pos, create_pos = 1, 2  # backward(gradient, retain_graph, create_graph, inputs)
    else:
        first = args[0] if args else kwargs.get("tensors", kwargs.get("outputs"))
        roots, rest = _as_tensors(first), args[1:]
        # autograd.backward(tensors, grad_tensors, retain_graph, create_graph, ...)
        # autograd.grad(outputs, inputs, grad_outputs, retain_graph, create_graph, ...)
        retain_pos, create_pos = (1, 2) if kind == "autograd.backward" else (2, 3)
    create = bool(kwargs.get("create_graph", rest[create_pos] if len(rest) > create_pos else False))
    retain = kwargs.get("retain_graph", rest[retain_pos] if len(rest) > retain_pos else None)
    retain = create if retain is None else bool(retain)
    return roots, retain, create


def _may_prune(kind: str, fn: Callable, args: tuple, kwargs: dict) -> bool:
    """True when the engine may skip nodes of the graph: autograd.grad, or a backward with ``inputs``.

    Then a node's targets may never run, so every node keeps what it sent.
    """
    if kind == "autograd.grad":
        return True
    if kind == "backward":  # (gradient, retain_graph, create_graph, inputs) after the tensor
        bound = isinstance(getattr(fn, "__self__", None), torch.Tensor)
        position = 3 if bound else 4
    else:  # autograd.backward(tensors, grad_tensors, retain_graph, create_graph, grad_variables, inputs)
        position = 5
    return kwargs.get("inputs") is not None or (len(args) > position and args[position] is not None)


def _fan_in_senders(graph: GraphData) -> set[str]:
    """Nodes with an edge into an input that other edges feed too (whose gradients are summed)."""
    feeds: dict[tuple[str, int], list[str]] = {}
    for e in graph.edges:
        feeds.setdefault((e.dst, e.output_nr), []).append(e.src)
    return {src for sources in feeds.values() if len(sources) > 1 for src in sources}


def _gradient_elements(graph: GraphData, senders: set[str] | None) -> int | None:
    """Elements of the gradients a pass's hooks hold if they keep them all (``senders``: the nodes
    that keep what they send too, None for every node); None when a shape is not known.

    A node receives a gradient of its own shape and sends each target one of the target's shape.
    """
    size = {}
    for n in graph.nodes:
        if n.shape is None:
            return None
        size[n.id] = math.prod(n.shape)
    total = sum(size.values())
    for e in graph.edges:
        if senders is None or e.src in senders:
            total += size.get(e.dst, 0)
    return total


def _hold(grads: tuple) -> tuple:
    """What the hooks keep of a pass that cannot reach HOLD_ELEMENTS: the gradients themselves."""
    return grads


class _Keeper:
    """What the hooks keep of a gradient a node received or sent.

    The tensor itself while the tensors kept add up to at most HOLD_ELEMENTS (small ones always):
    converted together at the end, thousands of small gradients cost a handful of torch calls, and
    a tensor held is one the engine does not add later contributions into in place. Past that,
    a big gradient is reduced to its value at once and let go, so a pass through big maps holds
    little more than plain torch does (100 layers of 800x800 held every gradient: 1.95 GB at the
    peak against 0.89 GB plain; now 1.0 GB). A gradient met again unchanged (same object, same
    version: the engine adds into a buffer in place once nobody else holds it) is reduced once.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.held = 0
        self.known: dict[tuple[int, int], tuple[weakref.ref, TensorValue]] = {}

    def __call__(self, grads: tuple) -> tuple:
        if self.held <= HOLD_ELEMENTS:  # the common case, with nothing big: keep them all
            self.held += sum(g.numel() for g in grads if g is not None)
            return grads
        return tuple(g if g is None or g.numel() <= self.limit else self._value(g) for g in grads)

    def _value(self, g: torch.Tensor) -> TensorValue:
        key = (id(g), g._version)
        known = self.known.get(key)
        if known is not None and known[0]() is g:
            return known[1]
        value = tensor_values([g], self.limit)[0]
        self.known[key] = (weakref.ref(g), value)
        return value


@dataclass
class _TrackedLeaf:
    tensor: torch.Tensor
    name: str
    state: tuple[int, int] | None  # (id(grad), grad._version), None when .grad is None
    events: list[GradEvent] = field(default_factory=list)


def _grad_state(t: torch.Tensor) -> tuple[int, int] | None:
    g = t.grad
    return None if g is None else (id(g), g._version)


def _variable_name(names: list[str]) -> str:
    """The name the variables list gives a tensor held by ``names``: a top-level name or a module
    parameter's path before an element of a list or dict (``ws[0]``), which is no variable."""
    return next((n for n in names if "[" not in n), names[0])


class Tracer(Recorder):
    """The Recorder the engine runs programs with.

    Tags grad_fn nodes with the line that created them, runs every backward call with a hook on
    each reachable node (the order the hooks fire is the order the engine executed the nodes),
    and follows each leaf's ``.grad`` across the run: backward writes, zeroing, set to None.
    """

    def __init__(self, explain: Callable[[BaseException], tuple[str, str | None]] | None = None,
                 detail_calls: Iterable[int] = (), only_call: int | None = None):
        """``detail_calls``: calls past MAX_DETAILED_CALLS to record step by step too; ``only_call``:
        record that one call step by step, nothing else, and end the run after it (StopRun)."""
        self.detail_calls = frozenset(detail_calls)
        self.only_call = only_call
        #: (call index, first, last + 1) sequence numbers of the nodes each create_graph call made.
        self.made_ranges: list[tuple[int, int, int]] = []
        self.calls: list[BackwardCall] = []
        self.history: dict[int, _TrackedLeaf] = {}
        self.statements: list[StatementRecord] = []
        self.hook_seconds = 0.0
        self.explain = explain
        self.calls_seen = 0
        self.truncated_calls: list[int] = []  # calls whose graph was cut at MAX_GRAPH_NODES
        self.scopes: Callable[[], Any] = lambda: ()
        #: (index, capture) of the last call recorded step by step: the end-of-run summary
        #: points variables into its graph instead of capturing it again.
        self.last_capture: tuple[int, GraphCapture] | None = None
        self.on_progress: Callable[[StatementRecord], None] | None = None
        self.former_names = FormerNames()
        #: Call index -> {leaf node id: history key}: the end of the run gives the leaves of each
        #: call the labels their histories end up with (see labelled_calls).
        self._leaf_keys: dict[int, dict[str, int]] = {}
        self.tensor_hooks = False  # the program put a hook on a tensor (see run_backward)
        #: Called with (call index, graph) as a call recorded step by step starts, before the
        #: backward pass runs: the worker sends the graph ahead so the app can lay it out meanwhile.
        self.on_graph: Callable[[int, GraphData], None] | None = None
        self._grad_ids: set[int] | None = None  # see grad_ids
        self._last_walk: tuple[tuple, tuple[dict[int, torch.Tensor], bool]] | None = None  # see _reachable
        self.detailed_nodes = 0  # graph nodes of the calls recorded step by step (MAX_DETAILED_NODES)

    # --- Recorder interface -------------------------------------------------------------
    def grad_ids(self) -> set[int]:
        """``id`` of every followed leaf's current ``.grad``: an in-place change to one of these
        (``x.grad.zero_()``, ``_foreach_zero_``) is a change of that leaf's ``.grad``."""
        if self._grad_ids is None:
            self._grad_ids = {t.state[0] for t in self.history.values() if t.state is not None}
        return self._grad_ids

    def on_result(self, value: Any, line: int) -> None:
        tag_lines(value, line)

    def on_statement(self, record: StatementRecord) -> None:
        self.statements.append(record)
        if self.on_progress is not None:
            self.on_progress(record)

    def on_grad_touched(self, line: int, owner: Any = None) -> None:
        if (isinstance(owner, torch.Tensor) and owner.is_leaf and owner.requires_grad
                and id(owner) not in self.history):
            # A leaf's .grad set by hand before any backward call reached it: followed from here,
            # from None (its first .grad comes from a backward call, which tracks it, or from
            # a statement like this one), so the history starts with this change.
            self._follow(id(owner), owner, NameIndex.from_bindings(self.scopes(), self.former_names), None)
        self.check_grads(line)

    def on_tensor_hook(self, line: int) -> None:
        self.tensor_hooks = True

    def on_hook(self, hook: HookRef, tensors: Any) -> None:
        for t in _as_tensors(tensors):
            if t.grad_fn is not None:
                tag_hook(t.grad_fn, hook)

    def on_bind(self, name: str, tensor: Any) -> None:
        self.former_names.bound(name, tensor)

    def run_backward(self, kind: str, line: int, fn: Callable, args: tuple, kwargs: dict) -> Any:
        roots, retain, create = _root_tensors(kind, fn, args, kwargs)
        self.check_grads(line)
        index = self.calls_seen
        self.calls_seen += 1
        if self.only_call is not None:
            if index != self.only_call:
                if not create:
                    return fn(*args, **kwargs)
                leaves = {} if kind == "autograd.grad" else reachable_leaves(roots, capture_module.MAX_GRAPH_NODES)[0]
                return self._call(index, create, fn, args, kwargs, leaves.values())
            self._run_detailed(kind, line, fn, args, kwargs, roots, retain, create, index)
            raise StopRun()  # the fetched call is recorded: nothing after it is needed
        light = index >= MAX_DETAILED_CALLS or self.detailed_nodes >= MAX_DETAILED_NODES  # see _run_detailed
        if light and index not in self.detail_calls:
            return self._run_lightly(index, line, kind, roots, retain, create, fn, args, kwargs)
        return self._run_detailed(kind, line, fn, args, kwargs, roots, retain, create, index)

    def _run_detailed(self, kind: str, line: int, fn: Callable, args: tuple, kwargs: dict,
                      roots: list[torch.Tensor], retain: bool, create: bool, index: int) -> Any:
        """The call run with a hook on every node: its graph, steps, edge gradients and leaves."""
        names = NameIndex.from_bindings(self.scopes(), self.former_names)
        capture = GraphCapture(names)
        for t in roots:
            capture.add_root(t)
        if (self.detailed_nodes and self.detailed_nodes + len(capture.node_ids) > MAX_DETAILED_NODES
                and self.only_call is None and index not in self.detail_calls):
            capture.release_tensors()
            self.detailed_nodes = MAX_DETAILED_NODES  # the budget is spent: later calls are not captured
            return self._run_lightly(index, line, kind, roots, retain, create, fn, args, kwargs)
        self._track_leaves(capture.leaves, names)
        if capture.truncated:
            # Leaves beyond the cut are not in the record, but their .grad history still counts.
            self.track_named_leaves(names)

        self.last_capture = (index, capture)
        if capture.truncated:
            self.truncated_calls.append(index)
        leaf_before = {key: (leaf.grad.detach().clone() if leaf.grad is not None else None)
                       for key, leaf in capture.leaves.items()}
        # The graph as the call finds it, converted now: holding thousands of unpacked saved
        # tensors through the backward pass kept them from being released and made the hooked
        # pass 1.5x the plain one instead of 1.3x.
        graph = capture.graph()
        capture.release_tensors()
        self.detailed_nodes += len(capture.node_ids)
        if self.on_graph is not None:
            self.on_graph(index, graph)
        # The hooks keep what each node received. What a node sent is what its targets received,
        # except where several edges feed one input of a node (a fan-in): only those senders
        # keep what they sent. Holding every sent gradient stopped the engine from reusing
        # them (AccumulateGrad copies a gradient someone else holds instead of taking it),
        # and made the hooked pass 1.35x the plain one instead of 1.1x.
        # Where a node may not run — pruned by ``inputs``, or failing on a freed saved tensor —
        # its senders' gradients are only known if they keep them; so too where the program's
        # tensor hooks may change a gradient between the node that sends it and its target.
        keep_all = (self.tensor_hooks or _may_prune(kind, fn, args, kwargs)
                    or any(s.freed for n in graph.nodes for s in n.saved))
        senders = set() if keep_all else _fan_in_senders(graph)
        fired: list[tuple[str, tuple, tuple | None]] = []
        handles = []
        slots: dict[str, int] = {}
        held = _gradient_elements(graph, None if keep_all else senders)
        keep = _hold if held is not None and held <= HOLD_ELEMENTS else _Keeper(EDGE_LIMIT)
        for node, nid in capture.node_ids.items():
            slots[nid] = len(node.next_functions)
            if keep_all or nid in senders:
                def hook(grad_inputs, grad_outputs, nid=nid):
                    fired.append((nid, keep(grad_outputs), keep(grad_inputs)))
            else:
                def hook(grad_inputs, grad_outputs, nid=nid):
                    fired.append((nid, keep(grad_outputs), None))
            handles.append(node.register_hook(hook))
        error: ErrorInfo | None = None
        start = time.perf_counter()
        try:
            result = self._call(index, create, fn, args, kwargs, capture.leaves.values(), capture.node_ids)
            if create:
                # The backward pass built a graph of its own: its nodes come from this line.
                tag_lines(result, line)
                for leaf in capture.leaves.values():
                    tag_lines(leaf.grad, line)
            return result
        except Exception as exc:  # recorded here, raised on to the program, whose error it becomes
            self._note_freed_by(exc, graph)
            message, hint = self.explain(exc) if self.explain else (str(exc), None)
            error = ErrorInfo(type(exc).__name__, message, line, hint)
            result = None
            raise
        finally:
            self.hook_seconds += time.perf_counter() - start
            for h in handles:
                h.remove()
            self.calls.append(self._build_call(
                index, line, kind, capture, graph, fired, slots, leaf_before, retain, create, error,
                result if kind == "autograd.grad" else None,
            ))

    def _run_lightly(self, index: int, line: int, kind: str, roots: list[torch.Tensor], retain: bool, create: bool,
                     fn: Callable, args: tuple, kwargs: dict) -> Any:
        """A call past MAX_DETAILED_CALLS or MAX_DETAILED_NODES: what its leaves' .grad became (the
        history) and its place."""
        leaves, cut = self._reachable(roots, retain)
        history = self.history
        if cut or any(key not in history or history[key].tensor is not t for key, t in leaves.items()):
            names = NameIndex.from_bindings(self.scopes(), self.former_names)  # only for new leaves
            self._track_leaves(leaves, names)
            if cut:
                self.track_named_leaves(names)
        error = None
        try:
            return self._call(index, create, fn, args, kwargs, leaves.values())
        except Exception as exc:
            self._note_freed_by(exc, None)
            message, hint = self.explain(exc) if self.explain else (str(exc), None)
            error = ErrorInfo(type(exc).__name__, message, line, hint)
            raise
        finally:
            self._record_backward_events(list(leaves), cut, index, line)
            if len(self.calls) < MAX_LISTED_CALLS:
                self.calls.append(BackwardCall(index, line, kind, GraphData(), retain_graph=retain,
                                               create_graph=create, error=error, recorded=False))

    def _call(self, index: int, create: bool, fn: Callable, args: tuple, kwargs: dict,
              leaves: Iterable[torch.Tensor], ids: dict[Any, str] | None = None) -> Any:
        """The backward call run; with create_graph, the nodes it made (behind what it returned and
        the ``.grad`` of ``leaves``) stamped with it and their origin (``ids``: the call's graph)."""
        if not create:
            return fn(*args, **kwargs)
        result, owned, (first, end) = run_recording_parents(fn, args, kwargs)
        self.made_ranges.append((index, first, end))
        made_from = _as_tensors(result) + [leaf.grad for leaf in leaves if leaf.grad is not None]
        stamp_made(index, made_from, ids or {}, owned, self.made_ranges)
        return result

    def _note_freed_by(self, exc: Exception, graph: GraphData | None) -> None:
        """On a "backward a second time" error, tell the hint which earlier call freed the values:
        the last one that freed a saved tensor of a node of this graph, else the last call made
        without retain_graph (a call recorded lightly has no graph to compare)."""
        if not SECOND_TIME.search(str(exc)):
            return
        needed = {n.sequence_nr for n in graph.nodes if any(s.freed for s in n.saved)} if graph else set()
        earlier = [c for c in reversed(self.calls) if c.error is None and not c.retain_graph]
        line = next((c.line for c in earlier
                     if needed & {c.graph.node(ref.node_id).sequence_nr for ref in c.freed}), None)
        if line is None and earlier:
            line = earlier[0].line
        try:
            setattr(exc, FREED_AT, line)
        except AttributeError:  # an exception type without a __dict__
            pass

    def _reachable(self, roots: list[torch.Tensor], retain: bool) -> tuple[dict[int, torch.Tensor], bool]:
        """reachable_leaves, walked once for a retained graph that later calls go through again
        (a graph never changes once built: 50 calls through 20,000 nodes walked it 50 times, 1.4 s).
        Only a retained graph is kept: a graph freed by its backward call cannot be run again."""
        key = tuple(t.grad_fn if t.grad_fn is not None else t for t in roots)
        last = self._last_walk
        if last is not None and len(last[0]) == len(key) and all(a is b for a, b in zip(last[0], key, strict=True)):
            return last[1]
        walked = reachable_leaves(roots, capture_module.MAX_GRAPH_NODES)
        self._last_walk = (key, walked) if retain else None
        return walked

    # --- building the record --------------------------------------------------------------
    def _build_call(self, index, line, kind, capture: GraphCapture, graph: GraphData, fired, slots, leaf_before,
                    retain, create, error, outputs) -> BackwardCall:
        # Every tensor of the record converted in one batch: statistics of the big ones come
        # from one set of reductions instead of several small torch calls per tensor.
        keys = list(capture.leaf_ids)
        leaf_values = tensor_values([leaf_before[k] for k in keys] + [capture.leaves[k].grad for k in keys],
                                    LEAF_LIMIT)
        before = dict(zip(keys, leaf_values[: len(keys)], strict=True))
        after = dict(zip(keys, leaf_values[len(keys):], strict=True))
        flat: list[torch.Tensor | None] = []
        for _, received, sent in fired:
            flat.extend(received)
            if sent is not None:
                flat.extend(sent)
        if isinstance(outputs, (tuple, list)):
            flat.extend(outputs)
        rest = iter(tensor_values(flat, EDGE_LIMIT))
        got: dict[str, tuple] = {}
        kept: dict[str, tuple] = {}
        for nid, received, sent in fired:
            got[nid] = tuple(next(rest) for _ in received)
            if sent is not None:
                kept[nid] = tuple(next(rest) for _ in sent)
        out_edges = graph.out_edges
        acc_leaf = {acc: key for key, acc in capture.acc_ids.items()}
        steps = []
        for order, (nid, _, _) in enumerate(fired):
            grad_out = kept.get(nid)
            if grad_out is None:
                # What this node sent along each edge is what the edge's target received there.
                sent = [None] * slots[nid]
                for e in out_edges.get(nid, ()):
                    received = got.get(e.dst)
                    if e.index < len(sent) and received is not None and e.output_nr < len(received):
                        sent[e.index] = received[e.output_nr]
                grad_out = tuple(sent)
            key = acc_leaf.get(nid)
            steps.append(BackwardStep(
                order, nid, graph.node(nid).op, got[nid], grad_out,
                before[key] if key is not None else None, after[key] if key is not None else None,
            ))
        leaves = tuple(
            LeafGrad(", ".join(graph.node(leaf_id).names) or f"leaf {leaf_id}", leaf_id, before[key], after[key])
            for key, leaf_id in capture.leaf_ids.items()
        )
        self._leaf_keys[index] = {leaf_id: key for key, leaf_id in capture.leaf_ids.items()}
        # Without retain_graph the engine releases the saved tensors of every node it runs
        # (tests check this against the real "backward a second time" error).
        freed = [] if retain else [
            SavedRef(st.node_id, saved.name) for st in steps for saved in graph.node(st.node_id).saved
            if not saved.freed
        ]
        self._record_backward_events(list(capture.leaves), capture.truncated, index, line, after)
        return BackwardCall(index, line, kind, graph, tuple(steps), leaves, tuple(freed),
                            retain, create, tuple(rest), error)

    # --- gradient history -------------------------------------------------------------------
    def _track_leaves(self, leaves: dict[int, torch.Tensor], names: NameIndex) -> None:
        for key, leaf in leaves.items():
            if key not in self.history or self.history[key].tensor is not leaf:
                self._follow(key, leaf, names, _grad_state(leaf))

    def _follow(self, key: int, leaf: torch.Tensor, names: NameIndex, state: tuple[int, int] | None) -> None:
        """Follow ``leaf``'s .grad from ``state`` on, labelled by the names it has now (or had)."""
        label = ", ".join(names.leaf_names(leaf)) or f"unnamed leaf {len(self.history) + 1}"
        self.history[key] = _TrackedLeaf(leaf, label, state)
        self._grad_ids = None

    def track_named_leaves(self, names: NameIndex) -> None:
        """Follow leaves that require grad but never took part in a backward call."""
        for name, t in names.tensors:
            if t.requires_grad and t.is_leaf and id(t) not in self.history:
                self.history[id(t)] = _TrackedLeaf(t, name, _grad_state(t))
                self._grad_ids = None

    def _record_backward_events(self, keys: list[int], truncated: bool, index: int, line: int, after=None) -> None:
        """A BACKWARD event for each leaf (history key) whose .grad the call changed (``after``: values
        if known; the others converted together). With a graph cut at MAX_GRAPH_NODES, every
        tracked leaf counts (those beyond the cut too)."""
        if truncated:
            keys = keys + [key for key in self.history if key not in set(keys)]
        changed = []
        for key in keys:
            tracked = self.history.get(key)
            if tracked is None:
                continue
            state = _grad_state(tracked.tensor)
            if state != tracked.state:
                tracked.state = state
                self._grad_ids = None
                changed.append((key, tracked))
        missing = [tracked.tensor.grad for key, tracked in changed if after is None or key not in after]
        values = iter(tensor_values(missing, LEAF_LIMIT))
        for key, tracked in changed:
            value = after[key] if after is not None and key in after else next(values)
            self._add_event(tracked, GradEvent(BACKWARD, line, value, index))

    def check_grads(self, line: int) -> None:
        """Record .grad changes that happened outside backward calls since the last check."""
        if self.only_call is not None:
            return  # a fetch of one call: its history is the first run's
        for tracked in self.history.values():
            state = _grad_state(tracked.tensor)
            if state == tracked.state:
                continue
            tracked.state = state
            self._grad_ids = None
            g = tracked.tensor.grad
            if g is None:
                kind = SET_NONE
            elif not bool(torch.count_nonzero(g)):
                kind = ZEROED
            else:
                kind = SET
            self._add_event(tracked, GradEvent(kind, line, self._grad_value(tracked.tensor)))

    @staticmethod
    def _grad_value(t: torch.Tensor):
        return tensor_value(t.grad, LEAF_LIMIT) if t.grad is not None else None

    @staticmethod
    def _add_event(tracked: _TrackedLeaf, event: GradEvent) -> None:
        if len(tracked.events) < MAX_EVENTS_PER_LEAF:
            tracked.events.append(event)

    def leaf_histories(self, labels: dict[int, str] | None = None) -> tuple[LeafHistory, ...]:
        """Each tracked leaf's .grad history, named by ``labels`` (history key -> label) if given."""
        labels = labels or {}
        return tuple(
            LeafHistory(labels.get(key, t.name), tuple(t.tensor.shape), tuple(t.events))
            for key, t in self.history.items()
        )

    def final_labels(self, names: NameIndex) -> dict[int, str]:
        """One label per tracked leaf, distinct and matching the gradients table: key -> label.

        A leaf that a variable holds at the end is labelled by that variable's name (the table
        lists variables by name). The others keep the label they were first seen with, unless a
        leaf held at the end or another leaf has it too: then "x #1", "x #2", ... in the order they
        were first seen. A program that binds a new leaf to ``x`` before each backward call (the
        gradient at several points) gives "x #1", "x #2" and "x".
        """
        end = {key: _variable_name(names.leaves[key]) for key in self.history if names.leaves.get(key)}
        labels = {key: end.get(key, t.name) for key, t in self.history.items()}
        held = set(end.values())
        groups: dict[str, list[int]] = {}
        for key, label in labels.items():
            groups.setdefault(label, []).append(key)
        used = set(labels.values())
        for label, keys in groups.items():
            owner = next((key for key in keys if end.get(key) == label), None)
            if len(keys) < 2 and (owner is not None or label not in held):
                continue
            n = 0
            for key in keys:
                if key == owner:
                    continue
                n += 1
                while f"{label} #{n}" in used:
                    n += 1
                labels[key] = f"{label} #{n}"
                used.add(labels[key])
        return labels

    def labelled_calls(self, labels: dict[int, str]) -> tuple[BackwardCall, ...]:
        """The recorded calls with each leaf named by its history's label (the panel's row)."""
        calls = []
        for call in self.calls:
            if not call.leaves:
                calls.append(call)
                continue
            keys = self._leaf_keys[call.index]  # every leaf of a recorded call is tracked
            names = [labels[keys[lg.node_id]] for lg in call.leaves]
            if names == [lg.name for lg in call.leaves]:
                calls.append(call)
            else:
                leaves = tuple(replace(lg, name=name) for lg, name in zip(call.leaves, names, strict=True))
                calls.append(replace(call, leaves=leaves))
        return tuple(calls)
