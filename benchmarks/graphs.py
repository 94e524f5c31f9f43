"""Graphs for layout tests and benchmarks: real torch autograd graphs and plain GraphData builders."""

from __future__ import annotations

import random
from collections.abc import Callable

from gradviz.core.result import ACCUMULATE, LEAF, OP, PARAM, ROOT, GraphData, GraphEdge, GraphNode

# --------------------------------------------------------------------------------------------
# Plain GraphData builders (no torch)
# --------------------------------------------------------------------------------------------


def plain_graph(edges: list[tuple[str, str]], nodes: list[str] | None = None, roots=None) -> GraphData:
    """GraphData from ``(src, dst)`` pairs; repeated pairs become parallel edges (index 0, 1, ...)."""
    order: list[str] = list(nodes or [])
    seen = set(order)
    for s, d in edges:
        for v in (s, d):
            if v not in seen:
                seen.add(v)
                order.append(v)
    counts: dict[str, int] = {}
    graph_edges = []
    for s, d in edges:
        index = counts.get(s, 0)
        counts[s] = index + 1
        graph_edges.append(GraphEdge(s, d, index))
    has_in = {d for _, d in edges}
    if roots is None:
        roots = [v for v in order if v not in has_in]
    return GraphData(
        nodes=tuple(GraphNode(v, OP, "Op") for v in order),
        edges=tuple(graph_edges),
        roots=tuple(roots),
    )


def chain_graph(n: int) -> GraphData:
    """n nodes in a line."""
    return plain_graph([(f"c{i}", f"c{i + 1}") for i in range(n - 1)], nodes=[f"c{i}" for i in range(n)])


def tree_graph(depth: int, branching: int) -> GraphData:
    """A complete tree."""
    edges = []
    frontier = ["t"]
    for _ in range(depth):
        nxt = []
        for v in frontier:
            for k in range(branching):
                c = f"{v}.{k}"
                edges.append((v, c))
                nxt.append(c)
        frontier = nxt
    return plain_graph(edges, nodes=["t"])


def diamond_graph() -> GraphData:
    return plain_graph([("y", "a"), ("y", "b"), ("a", "x"), ("b", "x")])


def fan_in_graph(k: int) -> GraphData:
    """One root with k children that all point at one shared node (a variable used k times)."""
    edges = [("sum", f"m{i}") for i in range(k)] + [(f"m{i}", "x") for i in range(k)]
    return plain_graph(edges)


def wide_graph(k: int) -> GraphData:
    """One root with k leaf children: a single very wide layer."""
    return plain_graph([("r", f"w{i}") for i in range(k)])


def random_dag(n: int, seed: int = 0, extra: float = 0.6, span: int = 12) -> GraphData:
    """A connected random DAG on n nodes: a random spanning tree plus about ``extra * n`` edges.

    Edges go from lower to higher node numbers, mostly between nearby numbers (``span``), like
    the local structure of real programs.
    """
    rng = random.Random(seed)
    edges = []
    for v in range(1, n):
        edges.append((rng.randrange(max(0, v - span), v), v))
    for _ in range(int(extra * n)):
        v = rng.randrange(1, n)
        edges.append((rng.randrange(max(0, v - span), v), v))
    edges = [(f"r{a}", f"r{b}") for a, b in sorted(set(edges))]
    return plain_graph(edges, nodes=[f"r{i}" for i in range(n)])


def disconnected_graph() -> GraphData:
    """Three components: a chain, a diamond and an isolated node."""
    edges = [("a0", "a1"), ("a1", "a2"), ("b0", "b1"), ("b0", "b2"), ("b1", "b3"), ("b2", "b3")]
    return plain_graph(edges, nodes=["a0", "b0", "lonely"])


# --------------------------------------------------------------------------------------------
# Real autograd graphs (torch imported lazily: the package core never imports it)
# --------------------------------------------------------------------------------------------


def autograd_graph(*outputs) -> GraphData:
    """GraphData of the autograd graph behind ``outputs``.

    ROOT tensor node -> grad_fn op nodes -> AccumulateGrad -> LEAF/PARAM, edge ``index`` = the
    position in ``next_functions``. Nodes come in the order of an iterative depth-first walk, as
    gradviz's engine capture does. A stand-in for ``gradviz.engine.capture`` in tests.
    """
    import torch

    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    ids: dict[object, str] = {}
    roots: list[str] = []

    def new(kind: str, op: str) -> str:
        nid = f"n{len(nodes)}"
        nodes.append(GraphNode(nid, kind, op))
        return nid

    for out in outputs:
        rid = new(ROOT, "Tensor")
        roots.append(rid)
        order = []
        stack = [out.grad_fn]
        while stack:
            fn = stack.pop()
            if fn in ids:
                continue
            name = type(fn).__name__
            if name == "AccumulateGrad":
                acc = new(ACCUMULATE, name)
                var = fn.variable
                is_param = isinstance(var, torch.nn.Parameter)
                leaf = new(PARAM if is_param else LEAF, "Parameter" if is_param else "Tensor")
                edges.append(GraphEdge(acc, leaf))
                ids[fn] = acc
                continue
            ids[fn] = new(OP, name)
            order.append(fn)
            for nxt, _ in reversed(fn.next_functions):
                if nxt is not None and nxt not in ids:
                    stack.append(nxt)
        edges.append(GraphEdge(rid, ids[out.grad_fn], 0))
        for fn in order:
            for index, (nxt, _) in enumerate(fn.next_functions):
                if nxt is not None:
                    edges.append(GraphEdge(ids[fn], ids[nxt], index))
    return GraphData(tuple(nodes), tuple(edges), tuple(roots))


def torch_chain(steps: int = 1666) -> GraphData:
    """An elementwise chain, three ops a step: ``x = torch.sin(x * 1.01 + 0.1)``."""
    import torch

    x0 = torch.ones(3, requires_grad=True)
    x = x0
    for _ in range(steps):
        x = torch.sin(x * 1.01 + 0.1)
    return autograd_graph(x.sum())


def torch_mlp(depth: int = 3, width: int = 8) -> GraphData:
    """A Linear+ReLU stack with an MSE loss; parameters are leaves."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(width, 1))
    x = torch.randn(4, width)
    loss = nn.functional.mse_loss(model(x), torch.zeros(4, 1))
    return autograd_graph(loss)


def torch_cnn(blocks: int = 2, channels: int = 4) -> GraphData:
    """A small CNN: (conv2d, relu, maxpool) blocks, flatten, linear, cross-entropy."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(0)
    convs = [nn.Conv2d(1 if i == 0 else channels, channels, 3, padding=1) for i in range(blocks)]
    side = 2 ** (blocks + 1)
    head = nn.Linear(channels * 4, 3)
    h = torch.randn(2, 1, side, side)
    for conv in convs:
        h = F.max_pool2d(F.relu(conv(h)), 2)
    logits = head(h.flatten(1))
    loss = F.cross_entropy(logits, torch.tensor([0, 2]))
    return autograd_graph(loss)


def torch_deep_cnn(blocks: int = 1000, channels: int = 2) -> GraphData:
    """Many conv+relu blocks (padding keeps the size) ending in a pool, linear and a loss."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(0)
    h = torch.randn(1, channels, 4, 4)
    for _ in range(blocks):
        conv = nn.Conv2d(channels, channels, 3, padding=1)
        h = F.relu(conv(h))
    h = F.max_pool2d(h, 2)
    head = nn.Linear(channels * 4, 2)
    return autograd_graph(F.cross_entropy(head(h.flatten(1)), torch.tensor([1])))


def torch_transformer(blocks: int = 82, d: int = 8, seq: int = 4, heads: int = 2, hidden: int = 16) -> GraphData:
    """Stacked hand-written pre-norm transformer blocks: the program of the render benchmark
    (``benchmarks/programs.py``) at small sizes. About 64 nodes a block."""
    from benchmarks import programs

    source = programs.transformer(blocks, d, seq, heads, hidden).split("loss.backward()")[0]
    namespace: dict = {}
    exec(source, namespace)  # benchmark helper: our own program text, run as plain Python
    return autograd_graph(namespace["loss"])


def torch_dot() -> GraphData:
    """``2 * torch.dot(x, x)``: DotBackward0 has two edges to the same AccumulateGrad."""
    import torch

    x = torch.arange(3.0, requires_grad=True)
    return autograd_graph(2 * torch.dot(x, x))


def torch_diamond() -> GraphData:
    import torch

    x = torch.ones(2, requires_grad=True)
    return autograd_graph((x * 2 + x * 3).sum())


#: The ~5,000-node benchmark graphs, by family name.
BIG: dict[str, Callable[[], GraphData]] = {
    "chain": lambda: torch_chain(1666),
    "mlp": lambda: torch_mlp(depth=714, width=4),
    "cnn": lambda: torch_deep_cnn(blocks=833),
    "transformer": lambda: torch_transformer(82),
    "random": lambda: random_dag(5000, seed=1),
}
