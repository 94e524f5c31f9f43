"""The autograd graph behind tensors, as GraphData: grad_fn nodes, leaves, saved tensors, names, lines."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.autograd.graph import get_gradient_edge

from gradviz.core.result import (
    ACCUMULATE,
    LEAF,
    OP,
    PARAM,
    ROOT,
    GraphData,
    GraphEdge,
    GraphNode,
    HookRef,
    MadeBy,
    SavedTensor,
    TensorValue,
)
from gradviz.engine.made_by import MADE_BY_KEY
from gradviz.engine.values import EDGE_LIMIT, dtype_name, tensor_values

#: Key in ``Node.metadata`` holding the source line that created the node.
LINE_KEY = "gradviz_line"
#: Key in ``Node.metadata`` holding the program's hooks that run at the node (HookRef list).
HOOKS_KEY = "gradviz_hooks"
#: Saved tensors keep whole values up to this many elements (shape and dtype always).
SAVED_LIMIT = 16
#: Containers are searched this deep for tensors to name (``layers[0].weight``).
NAME_DEPTH = 3
#: Nodes recorded per graph. A program that grows a graph in a long loop (a million nodes) is
#: recorded from its output down to this many: converting, sending, laying out and drawing all
#: of it would take minutes and gigabytes, where 5,000 nodes take a fraction of a second.
MAX_GRAPH_NODES = 20_000


def tag_hook(node, hook: HookRef) -> None:
    """Note on an autograd node that ``hook`` of the program runs there (once per hook)."""
    hooks = node.metadata.setdefault(HOOKS_KEY, [])
    if hook not in hooks and len(hooks) < 16:
        hooks.append(hook)


def leaf_hooks(leaf: torch.Tensor) -> tuple[HookRef, ...]:
    """The tensor hooks registered on a leaf (they run where its AccumulateGrad receives the gradient)."""
    hooks = getattr(leaf, "_backward_hooks", None) or {}
    return tuple(HookRef("tensor hook", hook_name(fn)) for fn in list(hooks.values())[:16])


def hook_name(fn: Any) -> str:
    """The name a hook is shown by: its function's (``lambda`` for a lambda)."""
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return "lambda" if name == "<lambda>" else name


def tag_lines(value: Any, line: int) -> None:
    """Give every grad_fn node behind ``value`` that has no line yet the line ``line``.

    Called with each result the program computes; the walk stops at nodes already tagged, so
    each node is visited about once over the whole run.
    """
    if isinstance(value, torch.Tensor):
        node = value.grad_fn
        if node is None or LINE_KEY in node.metadata:
            return
        node.metadata[LINE_KEY] = line
        stack = [node]
        while stack:
            for nxt, _ in stack.pop().next_functions:
                if nxt is not None and LINE_KEY not in nxt.metadata:
                    nxt.metadata[LINE_KEY] = line
                    stack.append(nxt)
    elif isinstance(value, (tuple, list)) and len(value) <= 64:
        for v in value:
            if isinstance(v, torch.Tensor):
                tag_lines(v, line)


def reachable_leaves(roots: Iterable[torch.Tensor], max_nodes: int) -> tuple[dict[int, torch.Tensor], bool]:
    """The leaves (by ``id``) a backward call from ``roots`` reaches, without recording the graph;
    True when the walk stopped at ``max_nodes`` nodes (the graph goes on)."""
    leaves: dict[int, torch.Tensor] = {}
    seen: set = set()
    stack = []
    for t in roots:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            leaves[id(t)] = t
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        if len(seen) >= max_nodes:
            return leaves, True
        seen.add(node)
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves[id(variable)] = variable
            continue
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None and nxt not in seen)
    return leaves, False


class FormerNames:
    """The names leaf tensors were bound to, for leaves that no name holds any more.

    A loop that makes a parameter per pass (``w = torch.randn(3, requires_grad=True)``) leaves
    only the last one bound; the earlier ones are "w #1", "w #2", ... (the k-th tensor bound
    to ``w``), or plain "w" when ``w`` only ever held one.

    A leaf keeps the name it was first shown with (``remember``): a later backward call, or the
    history, must not call the same tensor "w" once and "w #1" after a second ``w`` came along.
    """

    LIMIT = 100_000  # tensors remembered per run

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[weakref.ref, str, int]] = {}
        self._counts: dict[str, int] = {}
        self._shown: dict[int, tuple[weakref.ref, tuple[str, ...]]] = {}

    def remember(self, t: torch.Tensor, names: tuple[str, ...]) -> None:
        """``t`` was shown as ``names``: an unbound ``t`` keeps them (the first ones win)."""
        known = self._shown.get(id(t))
        if (known is None or known[0]() is not t) and len(self._shown) < self.LIMIT:
            self._shown[id(t)] = (weakref.ref(t), names)

    def shown_as(self, t: torch.Tensor) -> tuple[str, ...]:
        """The names ``t`` was first shown with, else its former name (then remembered), else ()."""
        known = self._shown.get(id(t))
        if known is not None and known[0]() is t:
            return known[1]
        former = self.name_of(t)
        names = (former,) if former else ()
        if names:
            self.remember(t, names)
        return names

    def bound(self, name: str, t: torch.Tensor) -> None:
        known = self._by_id.get(id(t))
        if known is not None and known[0]() is t:
            return  # a tensor keeps the first name it had
        if len(self._by_id) >= self.LIMIT:
            return
        count = self._counts.get(name, 0) + 1
        self._counts[name] = count
        self._by_id[id(t)] = (weakref.ref(t), name, count)

    def name_of(self, t: torch.Tensor) -> str | None:
        known = self._by_id.get(id(t))
        if known is None or known[0]() is not t:
            return None
        _, name, k = known
        return f"{name} #{k}" if self._counts[name] > 1 else name


def _own_attributes(obj: Any) -> list[tuple[str, Any]]:
    """The public attributes in ``obj``'s own ``__dict__`` (at most 1,000): read directly, so no
    property or ``__getattr__`` of the program's runs while names are looked up."""
    try:
        own = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return []
    if type(own) is not dict:
        return []
    return [(k, v) for k, v in list(own.items())[:1000] if type(k) is str and not k.startswith("_")]


@dataclass
class NameIndex:
    """Which user names hold which tensors: leaves by tensor identity, others by grad_fn node.

    ``former`` names leaves that no binding holds any more (see FormerNames).
    """

    leaves: dict[int, list[str]] = field(default_factory=dict)
    nodes: dict[Any, list[str]] = field(default_factory=dict)
    params: dict[int, str] = field(default_factory=dict)
    tensors: list[tuple[str, torch.Tensor]] = field(default_factory=list)
    former: FormerNames | None = None

    @classmethod
    def from_bindings(cls, bindings: Iterable[tuple[str, Any]], former: FormerNames | None = None) -> NameIndex:
        index = cls(former=former)
        seen_names: set[str] = set()
        for name, value in bindings:
            if name in seen_names:  # an inner scope shadows an outer one
                continue
            seen_names.add(name)
            index._add(name, value, NAME_DEPTH, set())
        return index

    def _add(self, name: str, value: Any, depth: int, visiting: set[int]) -> None:
        if isinstance(value, torch.Tensor):
            self.tensors.append((name, value))
            if value.grad_fn is not None:
                self.nodes.setdefault(value.grad_fn, []).append(name)
            else:
                self.leaves.setdefault(id(value), []).append(name)
            return
        if depth <= 0 or id(value) in visiting:
            return
        visiting = visiting | {id(value)}
        if isinstance(value, torch.nn.Module):
            for pname, p in value.named_parameters():
                qualified = f"{name}.{pname}"
                self.params.setdefault(id(p), qualified)
                self.leaves.setdefault(id(p), []).append(qualified)
            for attr, v in _own_attributes(value):  # plain tensors a module holds (self.w = torch.ones(...))
                if isinstance(v, torch.Tensor):
                    self._add(f"{name}.{attr}", v, depth - 1, visiting)
        elif type(value).__module__ == "__main__":  # an object of a class the program defined (a Neuron)
            for attr, v in _own_attributes(value):
                self._add(f"{name}.{attr}", v, depth - 1, visiting)
        elif isinstance(value, (list, tuple)) and len(value) <= 1000:
            for i, v in enumerate(value):
                self._add(f"{name}[{i}]", v, depth - 1, visiting)
        elif isinstance(value, dict) and len(value) <= 1000:
            for k, v in value.items():
                if isinstance(k, (str, int)):
                    self._add(f"{name}[{k!r}]", v, depth - 1, visiting)

    def names_of(self, t: torch.Tensor) -> tuple[str, ...]:
        if t.grad_fn is None:
            return self.leaf_names(t)
        return tuple(self.nodes.get(t.grad_fn, ()))

    def leaf_names(self, t: torch.Tensor) -> tuple[str, ...]:
        """The names holding leaf ``t`` now, else the names it was shown with before, else the
        name it once had (if the program bound it)."""
        names = self.leaves.get(id(t))
        if names:
            names = tuple(names)
            if self.former is not None:
                self.former.remember(t, names)
            return names
        return self.former.shown_as(t) if self.former is not None else ()


_SAVED_ATTRS: dict[type, tuple[str, ...]] = {}


def _saved_attrs(node) -> tuple[str, ...]:
    """The ``_saved_*`` attribute names of a node type (``dir`` is slow: once per type)."""
    kind = type(node)
    names = _SAVED_ATTRS.get(kind)
    if names is None:
        names = tuple(a for a in dir(node) if a.startswith("_saved_"))
        _SAVED_ATTRS[kind] = names
    return names


def saved_tensor(op: str, sequence_nr: int | None, name: str, t: torch.Tensor | None,
                 value: TensorValue | None) -> SavedTensor:
    """The SavedTensor of a node's ``name``: as seen now (and remembered), or, once its pass freed
    it (``t`` None), with the shape and dtype it had when last seen."""
    key = (op, -1 if sequence_nr is None else sequence_nr)
    if t is None:
        shape, dtype = _saved_meta.get(key, {}).get(name, ((), ""))
        return SavedTensor(name, shape, dtype, None, freed=True)
    shape, dtype = tuple(t.shape), dtype_name(t.dtype)
    if len(_saved_meta) > MAX_SAVED_META:
        _saved_meta.clear()
    _saved_meta.setdefault(key, {})[name] = (shape, dtype)
    return SavedTensor(name, shape, dtype, value)


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: Shape and dtype of every saved tensor seen so far, by (op, sequence number) of its node and its
#: name: once a backward pass frees a saved tensor, torch keeps nothing of it, yet the graph drawn
#: after (the failed second backward, a variable's graph) should still say what was saved. Every
#: pass that frees a graph was captured before it ran, so the shapes were seen then.
_saved_meta: dict[tuple[str, int], dict[str, tuple[tuple[int, ...], str]]] = {}
#: Beyond this many nodes the table starts again (an engine process runs one program).
MAX_SAVED_META = 200_000


def saved_of(node) -> tuple[list[tuple[str, torch.Tensor | None]], tuple[tuple[str, str], ...]]:
    """Saved tensors (None once freed) and other saved values of one node."""
    saved: list[tuple[str, torch.Tensor | None]] = []
    attrs: list[tuple[str, str]] = []
    for attr in _saved_attrs(node):
        name = attr.removeprefix("_saved_")
        try:
            value = getattr(node, attr)
        except RuntimeError:  # "Trying to backward through the graph a second time ..."
            saved.append((name, None))
            continue
        if isinstance(value, torch.Tensor):
            saved.append((name, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, torch.Tensor) for v in value):
            saved.extend((f"{name}[{i}]", v) for i, v in enumerate(value))
        elif value is not None and not name.endswith(("sym_sizes", "sym_strides")):
            attrs.append((name, _short_repr(value)))
    return saved, tuple(attrs)


class GraphCapture:
    """Builds one GraphData from root tensors, remembering which node id each autograd node got.

    ``node_ids`` maps autograd Node objects to GraphData ids; ``leaf_ids`` maps ``id(leaf)`` to
    the LEAF/PARAM node id and ``acc_ids`` to its AccumulateGrad node id; ``root_ids`` maps
    ``id(root tensor)`` to its ROOT node; ``leaves`` keeps the leaf tensors themselves (by ``id``).
    Tensor values are converted in one batch in ``graph()``.
    """

    def __init__(self, names: NameIndex, max_nodes: int | None = None):
        self.names = names
        self.max_nodes = MAX_GRAPH_NODES if max_nodes is None else max_nodes
        self.truncated = False  # True once a node was left out for want of room (see MAX_GRAPH_NODES)
        self._nodes: list[dict] = []
        self.edges: list[GraphEdge] = []
        self.roots: list[str] = []
        self.node_ids: dict[Any, str] = {}
        self.leaf_ids: dict[int, str] = {}
        self.acc_ids: dict[int, str] = {}
        self.root_ids: dict[int, str] = {}
        self.leaves: dict[int, torch.Tensor] = {}

    def _new(self, **fields) -> str:
        nid = f"n{len(self._nodes)}"
        fields["id"] = nid
        self._nodes.append(fields)
        return nid

    def add_root(self, t: torch.Tensor, names: tuple[str, ...] | None = None) -> str | None:
        """Add a ROOT tensor node for ``t`` pointing at its grad_fn (or its AccumulateGrad)."""
        if not t.requires_grad:
            return None
        names = names if names is not None else self.names.names_of(t)
        rid = self._new(kind=ROOT, op="Tensor", shape=tuple(t.shape), dtype=dtype_name(t.dtype),
                        names=names, value=t)
        self.roots.append(rid)
        self.root_ids[id(t)] = rid
        target = self.add_node(t.grad_fn if t.grad_fn is not None else get_gradient_edge(t).node)
        if target is not None:
            self.edges.append(GraphEdge(rid, target, 0, t.output_nr if t.grad_fn is not None else 0))
        return rid

    def _add_leaf(self, leaf: torch.Tensor) -> str:
        """AccumulateGrad node and LEAF/PARAM node of a leaf tensor; returns the AccumulateGrad id."""
        key = id(leaf)
        if key in self.acc_ids:
            return self.acc_ids[key]
        self.leaves[key] = leaf
        shape, dtype = tuple(leaf.shape), dtype_name(leaf.dtype)
        acc_id = self._new(kind=ACCUMULATE, op="AccumulateGrad", shape=shape, dtype=dtype, hooks=leaf_hooks(leaf))
        is_param = isinstance(leaf, torch.nn.Parameter)
        leaf_id = self._new(kind=PARAM if is_param else LEAF, op="Parameter" if is_param else "Tensor",
                            shape=shape, dtype=dtype, names=self.names.names_of(leaf),
                            value=leaf, grad=leaf.grad)
        self.edges.append(GraphEdge(acc_id, leaf_id))
        self.acc_ids[key] = acc_id
        self.leaf_ids[key] = leaf_id
        return acc_id

    def add_node(self, root_node) -> str | None:
        """Add ``root_node`` and what is reachable from it, up to ``max_nodes`` in all; its id
        (None when there was no room left for it)."""
        node_ids = self.node_ids
        if root_node in node_ids:
            return node_ids[root_node]
        names = self.names.nodes
        # Iterative DFS: graphs of thousands of nodes must not hit Python's recursion limit.
        order = []
        stack = [root_node]
        while stack:
            node = stack.pop()
            if node in node_ids:
                continue
            if len(self._nodes) + 2 > self.max_nodes:  # room for a leaf's two nodes at most
                self.truncated = True
                continue
            if type(node).__name__ == "AccumulateGrad":
                node_ids[node] = self._add_leaf(node.variable)
                continue
            meta = node._input_metadata
            saved, attrs = saved_of(node)
            node_ids[node] = self._new(
                kind=OP, op=type(node).__name__,
                shape=tuple(meta[0].shape) if meta else None,
                dtype=dtype_name(meta[0].dtype) if meta else None,
                names=tuple(names.get(node, ())), line=node.metadata.get(LINE_KEY),
                saved=saved, attrs=attrs, sequence_nr=node._sequence_nr(),
                hooks=tuple(node.metadata.get(HOOKS_KEY, ())), made_by=node.metadata.get(MADE_BY_KEY),
            )
            order.append(node)
            for nxt, _ in reversed(node.next_functions):
                if nxt is not None and nxt not in node_ids:
                    stack.append(nxt)
        for node in order:
            nid = node_ids[node]
            for index, (nxt, output_nr) in enumerate(node.next_functions):
                target = node_ids.get(nxt) if nxt is not None else None
                if target is not None:
                    self.edges.append(GraphEdge(nid, target, index, output_nr))
        return node_ids.get(root_node)

    def release_tensors(self) -> None:
        """Drop the tensors held for ``graph()`` (values, grads, saved tensors) once it has run."""
        for f in self._nodes:
            for key in ("value", "grad", "saved"):
                f.pop(key, None)

    def _made_by(self, stamp: tuple | None) -> MadeBy | None:
        """The MadeBy of a node stamped by made_by.stamp_made: (call, origin node, its id there)."""
        if stamp is None:
            return None
        call, origin, node = stamp
        return MadeBy(call, type(origin).__name__, origin.metadata.get(LINE_KEY), node, self.node_ids.get(origin))

    def graph(self) -> GraphData:
        """The GraphData, with every tensor value converted in one batch."""
        tensors = [f.get(key) for f in self._nodes for key in ("value", "grad")]
        values = iter(tensor_values(tensors, EDGE_LIMIT))
        small_saved = [t if t is not None and t.numel() <= SAVED_LIMIT else None
                       for f in self._nodes for _, t in f.get("saved", ())]
        saved_values = iter(tensor_values(small_saved, SAVED_LIMIT))
        nodes = []
        for f in self._nodes:
            value, grad = next(values), next(values)
            saved = tuple(saved_tensor(f["op"], f.get("sequence_nr"), name, t, next(saved_values))
                          for name, t in f.get("saved", ()))
            nodes.append(GraphNode(
                f["id"], f["kind"], f["op"], f.get("shape"), f.get("dtype"), tuple(f.get("names", ())),
                f.get("line"), saved, f.get("attrs", ()), value, grad, f.get("sequence_nr"), f.get("hooks", ()),
                self._made_by(f.get("made_by")),
            ))
        return GraphData(tuple(nodes), tuple(self.edges), tuple(self.roots))
