"""Connected components: each one is drawn on its own, side by side in root order."""

from __future__ import annotations

import numpy as np

from gradviz.core.layout.drawing import Array
from gradviz.core.layout.graph import IntGraph


def components(g: IntGraph, top: Array, bottom: Array, loop: Array, owner: Array) -> Array:
    """Connected component of every item (a dummy's is its owner node's), in root order."""
    n = g.n
    comp = np.zeros(len(owner), dtype=np.int64)
    has_parent = np.zeros(n, dtype=bool)
    has_parent[bottom[~loop]] = True
    if np.count_nonzero(~has_parent) <= 1:  # one source reaches every node of a DAG
        return comp
    # Union-find over the nodes.
    parent = list(range(n))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for s, d in zip(top.tolist(), bottom.tolist(), strict=True):
        rs, rd = find(s), find(d)
        if rs != rd:
            parent[max(rs, rd)] = min(rs, rd)
    label: dict[int, int] = {}
    for v in root_order(g):
        label.setdefault(find(v), len(label))
    comp[:n] = [label[find(v)] for v in range(n)]
    comp[n:] = comp[owner[n:]]
    return comp


def root_order(g: IntGraph) -> list[int]:
    """Declared roots first, then the other nodes in graph order."""
    return list(dict.fromkeys(g.roots + list(range(g.n))))
