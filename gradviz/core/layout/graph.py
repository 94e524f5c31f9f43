"""The graph the layout runs on: a networkx MultiDiGraph, and the same nodes and edges as integers
for the stages that work on arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from gradviz.core.layout.drawing import DEFAULT_SIZE, Array, EdgeKey
from gradviz.core.result import GraphData


def as_networkx(graph: GraphData | nx.MultiDiGraph[str]) -> nx.MultiDiGraph[str]:
    """``graph`` as the MultiDiGraph the layout runs on (see GraphData.to_networkx)."""
    return graph.to_networkx() if isinstance(graph, GraphData) else graph


@dataclass
class IntGraph:
    """The layout's MultiDiGraph with its nodes numbered in the graph's order, and its edges
    numbered in the order networkx yields them (node by node, parallel edges as they were added)."""

    graph: nx.MultiDiGraph[str]
    ids: list[str]
    index: dict[str, int]
    roots: list[int]
    # Every edge: src, dst, key (src id, dst id, index).
    src: list[int]
    dst: list[int]
    keys: list[EdgeKey]
    # Out-edges of each node as edge numbers, in ``index`` order.
    out: list[list[int]]
    # Edges that close a cycle: ignored for layering, drawn against the flow (see cycles).
    back: set[int] = field(default_factory=set)
    # Height of the hanging subtree below each node (0: the node does not hang), see
    # layering.assign_layers, and of the one-child chain above it (0: not such a chain).
    hang: list[int] = field(default_factory=list)
    hang_up: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, graph: nx.MultiDiGraph[str]) -> IntGraph:
        """Number the nodes and edges of ``graph``: edge keys are the edges' ``index``, and the
        nodes with a ``root`` attribute are the roots, in its order."""
        ids: list[str] = list(graph)
        index = {v: i for i, v in enumerate(ids)}
        keys: list[EdgeKey] = list(graph.edges(keys=True))
        src = [index[k[0]] for k in keys]
        dst = [index[k[1]] for k in keys]
        out: list[list[int]] = [[] for _ in ids]
        for k in sorted(range(len(keys)), key=lambda k: keys[k][2]):
            out[src[k]].append(k)
        ranked = sorted((rank, index[v]) for v, rank in graph.nodes(data="root") if rank is not None)
        roots = [i for _, i in ranked]
        return cls(graph, ids, index, roots, src, dst, keys, out)


def node_sizes(ids: list[str], sizes: Mapping[str, tuple[float, float]] | None) -> tuple[Array, Array]:
    """Widths and heights of the nodes ``ids`` (DEFAULT_SIZE where ``sizes`` has none)."""
    if not sizes:
        return np.full(len(ids), DEFAULT_SIZE[0]), np.full(len(ids), DEFAULT_SIZE[1])
    wh = np.asarray([sizes.get(nid, DEFAULT_SIZE) for nid in ids], dtype=float).reshape(len(ids), 2)
    wh = np.maximum(wh, 0.0)
    return wh[:, 0].copy(), wh[:, 1].copy()
