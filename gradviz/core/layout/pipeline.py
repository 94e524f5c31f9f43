"""layered_layout: the stages one after another."""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from gradviz.core.collector import collector_paused
from gradviz.core.layout.coordinates import assign_x
from gradviz.core.layout.drawing import Layout
from gradviz.core.layout.dummies import Items
from gradviz.core.layout.graph import IntGraph, as_networkx, node_sizes
from gradviz.core.layout.layering import assign_layers
from gradviz.core.layout.ordering import order_layers
from gradviz.core.layout.routing import place_and_route
from gradviz.core.result import GraphData


def layered_layout(
    graph: GraphData | nx.MultiDiGraph[str],
    sizes: Mapping[str, tuple[float, float]] | None = None,
    root_at: str = "top",
    layer_gap: float = 80.0,
    node_gap: float = 30.0,
) -> Layout:
    """Lay ``graph`` out in layers so that every edge points away from the roots.

    A node sits one layer below its deepest parent (and where three or more parents meet,
    below the leaves hanging off them); a root sits just above its highest child, so the roots
    of separate graphs share layer 0. Edges that span several layers get dummy nodes (many
    long edges into or out of one node share one trunk). Barycenter passes and transpositions,
    started from a depth-first order (which draws trees without crossings), order each layer;
    Brandes-Koepf coordinate assignment keeps chains and long edges straight and parents
    centred over their children. Deterministic: ties are broken by the order of the roots, of
    the nodes and of edge ``index``.

    The layout runs on a networkx MultiDiGraph (``GraphData.to_networkx``): networkx finds the
    topological order, the edges that close cycles and the connected components; layering,
    crossing reduction, coordinates and routing are gradviz's own.

    Parameters
    ----------
    graph
        The graph; edges point from a node towards the leaves. A GraphData, or a MultiDiGraph
        made the way ``GraphData.to_networkx`` makes one: edge keys are the edges' ``index``,
        roots have the node attribute ``root`` (their order); other attributes are not read.
    sizes
        Node id -> ``(width, height)``; missing nodes get DEFAULT_SIZE.
    root_at
        ``"top"`` (edges run downward) or ``"bottom"`` (edges run upward).
    layer_gap, node_gap
        Free space between layers and between neighbouring nodes of a layer.
    """
    if root_at not in ("top", "bottom"):
        raise ValueError(f"root_at must be 'top' or 'bottom', not {root_at!r}")
    with collector_paused():  # tens of thousands of small lists, no cycles
        return _layout(as_networkx(graph), sizes, root_at, layer_gap, node_gap)


def _layout(graph: nx.MultiDiGraph[str], sizes: Mapping[str, tuple[float, float]] | None, root_at: str,
            layer_gap: float, node_gap: float) -> Layout:
    g = IntGraph.build(graph)
    if g.n == 0:
        return Layout({}, {}, {}, 0.0, 0.0)
    widths, heights = node_sizes(g.ids, sizes)
    layer = assign_layers(g)
    items = Items.build(g, layer, widths)
    order_layers(items, g)
    xs = assign_x(items, g.hang, g.hang_up, node_gap)
    return place_and_route(g, items, xs, heights, root_at, layer_gap, node_gap)
