"""A topological order of the graph (networkx's), and the edges that close cycles: found by a
depth-first search (networkx's), they are drawn against the flow."""

from __future__ import annotations

import networkx as nx

from gradviz.core.layout.graph import IntGraph


def topological_order(g: IntGraph) -> list[int]:
    """The nodes in an order where every edge points forward, self-loops aside.

    Autograd graphs have no cycles, but a graph may come from anywhere: where it has one, the
    edges that close cycles go into ``g.back`` first, and the order is that of the graph with
    those edges reversed.
    """
    index = g.index
    try:
        return [index[v] for v in nx.topological_sort(g.graph)]
    except nx.NetworkXUnfeasible:  # a cycle, perhaps only a self-loop
        pass
    g.back = back_edges(g)
    dag: nx.DiGraph[int] = nx.DiGraph()
    dag.add_nodes_from(range(g.n))
    dag.add_edges_from((d, s) if k in g.back else (s, d)
                       for k, (s, d) in enumerate(zip(g.src, g.dst, strict=True)) if s != d)
    order: list[int] = list(nx.topological_sort(dag))
    return order


def back_edges(g: IntGraph) -> set[int]:
    """Edges that close a cycle: those a depth-first search follows to a node still on its stack
    (each parallel edge of such a pair; never a self-loop). Reversed, they leave no cycle."""
    on_stack: set[str] = set()
    closing: set[tuple[str, str]] = set()
    for u, v, kind in nx.dfs_labeled_edges(g.graph):
        if kind == "forward":
            on_stack.add(v)
        elif kind == "reverse":
            on_stack.discard(v)
        elif kind == "nontree" and u != v and v in on_stack:
            closing.add((u, v))
    return {k for k, key in enumerate(g.keys) if key[:2] in closing}
