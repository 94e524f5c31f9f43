"""What a layout produces (Layout), and the sizes and gaps that the stages share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy.typing as npt

#: (width, height) of a node when ``sizes`` does not give one.
DEFAULT_SIZE = (120.0, 44.0)
#: Horizontal distance between neighbouring routes of long edges (dummy nodes have no width).
EDGE_GAP = 16.0
#: Horizontal distance between parallel edges that join the same two nodes.
PARALLEL_GAP = 18.0

#: numpy arrays as the stages pass them around (item numbers, positions, coordinates).
Array = npt.NDArray[Any]

#: An edge's key: ``(src, dst, index)``.
EdgeKey = tuple[str, str, int]
Point = tuple[float, float]


@dataclass(frozen=True)
class Layout:
    """Where each node of a graph goes, and how each edge runs.

    Parameters
    ----------
    positions
        Node id -> centre ``(x, y)`` in scene units; y grows downward; every node box lies in
        ``[0, width] x [0, height]``.
    routes
        ``(src, dst, index)`` of every edge -> waypoints strictly between the endpoints. An edge
        that skips layers passes each skipped layer through a free slot: two points, where it
        enters and leaves the layer's band (one point where that band has no height), so the
        route runs vertically past the nodes of that layer; where it runs straight down past
        several layers only the two ends of that vertical run are kept. Parallel edges between
        two adjacent layers get one point each, set apart sideways. A node lower than its
        layer's band first runs vertically to the band's edge (one more point). Between
        consecutive points the edge either runs vertically through free slots or crosses an
        empty band between layers, so a curve with vertical tangents at the points never runs
        through a node. Many long edges into (or out of) one node share one trunk: their routes
        run together along it.
    layers
        Node id -> layer number, 0 for the root layer (the top, or the bottom with
        ``root_at="bottom"``).
    width, height
        Size of the drawing.
    """

    positions: dict[str, tuple[float, float]]
    routes: dict[tuple[str, str, int], tuple[tuple[float, float], ...]]
    layers: dict[str, int]
    width: float
    height: float
