"""Connected components (networkx's weakly connected components): each one is drawn on its own,
side by side in root order."""

from __future__ import annotations

import networkx as nx
import numpy as np

from gradviz.core.layout.drawing import Array
from gradviz.core.layout.graph import IntGraph


def components(g: IntGraph, bottom: Array, loop: Array, owner: Array) -> Array:
    """Connected component of every item (a dummy's is its owner node's), numbered in root order.

    ``bottom``/``loop``: each edge's lower end once cycles are broken, and whether it is a
    self-loop; a graph with one node that no edge enters is one component (its only source
    reaches every node) and needs no search.
    """
    n = g.n
    comp = np.zeros(len(owner), dtype=np.int64)
    has_parent = np.zeros(n, dtype=bool)
    has_parent[bottom[~loop]] = True
    if np.count_nonzero(~has_parent) <= 1:
        return comp
    found = np.zeros(n, dtype=np.int64)
    index = g.index
    for c, nodes in enumerate(nx.weakly_connected_components(g.graph)):
        found[[index[v] for v in nodes]] = c
    label: dict[int, int] = {}
    for v in root_order(g):
        label.setdefault(int(found[v]), len(label))
    relabel = np.asarray([label[c] for c in range(len(label))], dtype=np.int64)
    comp[:n] = relabel[found]
    comp[n:] = comp[owner[n:]]
    return comp


def root_order(g: IntGraph) -> list[int]:
    """Declared roots first, then the other nodes in graph order."""
    return list(dict.fromkeys(g.roots + list(range(g.n))))
