"""The graph every stage works on: nodes and edges as integers, node sizes as arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gradviz.core.layout.drawing import DEFAULT_SIZE, Array, EdgeKey
from gradviz.core.result import GraphData


@dataclass
class IntGraph:
    ids: list[str]
    roots: list[int]
    # Edges with known endpoints, in graph order: src, dst, key (src id, dst id, index).
    src: list[int]
    dst: list[int]
    keys: list[EdgeKey]
    # Out-edges of each node as edge numbers, in ``index`` order.
    out: list[list[int]]
    # Edges that close a cycle: ignored for layering, drawn against the flow.
    back: set[int] = field(default_factory=set)
    # Height of the hanging subtree below each node (0: the node does not hang), see
    # layering.assign_layers, and of the one-child chain above it (0: not such a chain).
    hang: list[int] = field(default_factory=list)
    hang_up: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, graph: GraphData) -> IntGraph:
        index: dict[str, int] = {}
        for node in graph.nodes:
            index.setdefault(node.id, len(index))
        ids = list(index)
        keys = [(e.src, e.dst, e.index) for e in graph.edges]
        if len(set(keys)) != len(keys):  # the same edge twice: keep the first
            keys = list(dict.fromkeys(keys))
        get = index.get
        src_found = [get(k[0]) for k in keys]
        dst_found = [get(k[1]) for k in keys]
        if None in src_found or None in dst_found:  # edges to nodes that are not in the graph
            pairs = enumerate(zip(src_found, dst_found, strict=True))
            kept = [i for i, (s, d) in pairs if s is not None and d is not None]
            keys = [keys[i] for i in kept]
            src_found = [src_found[i] for i in kept]
            dst_found = [dst_found[i] for i in kept]
        src_all: list[int] = src_found  # type: ignore[assignment]  # no None left
        dst_all: list[int] = dst_found  # type: ignore[assignment]
        out: list[list[int]] = [[] for _ in ids]
        for k in sorted(range(len(keys)), key=lambda k: keys[k][2]):
            out[src_all[k]].append(k)
        roots = [index[r] for r in dict.fromkeys(graph.roots) if r in index]
        return cls(ids, roots, src_all, dst_all, keys, out)


def node_sizes(ids: list[str], sizes: Mapping[str, tuple[float, float]] | None) -> tuple[Array, Array]:
    """Widths and heights of the nodes ``ids`` (DEFAULT_SIZE where ``sizes`` has none)."""
    if not sizes:
        return np.full(len(ids), DEFAULT_SIZE[0]), np.full(len(ids), DEFAULT_SIZE[1])
    wh = np.asarray([sizes.get(nid, DEFAULT_SIZE) for nid in ids], dtype=float).reshape(len(ids), 2)
    wh = np.maximum(wh, 0.0)
    return wh[:, 0].copy(), wh[:, 1].copy()
