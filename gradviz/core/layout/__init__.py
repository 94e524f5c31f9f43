"""Layered (Sugiyama-style) layout of autograd graphs, one module per stage.

``layered_layout`` (pipeline) runs them in order:

- graph: the input as integers (node numbers, edge numbers, out-edges in ``index`` order);
- cycles, layering: a topological order with the edges that close cycles set aside, then
  longest-path layers with room for hanging leaves above merges;
- dummies, components: a dummy node per layer that an edge skips (long edges into or out of one
  node share a trunk), each item's connected component;
- ordering: crossing reduction (a depth-first start, barycenter passes, transpositions), with
  the counting that crossings shares with ``count_crossings``;
- coordinates: x of every item (Brandes-Koepf with dagre's compaction);
- routing: components side by side, layer bands, y, and the waypoints of every edge.
"""

from gradviz.core.layout.crossings import count_crossings
from gradviz.core.layout.drawing import DEFAULT_SIZE, EDGE_GAP, PARALLEL_GAP, Layout
from gradviz.core.layout.pipeline import layered_layout

__all__ = ["DEFAULT_SIZE", "EDGE_GAP", "PARALLEL_GAP", "Layout", "count_crossings", "layered_layout"]
