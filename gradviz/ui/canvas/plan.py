"""The geometry plan of a graph's scene: node boxes, edge curves, ports, label anchors, worked out
from the laid-out graph before any item exists (Qt value types only, so it may run on a worker thread)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPolygonF

from gradviz.core.collector import collector_paused
from gradviz.core.layout import Layout, layered_layout
from gradviz.core.replay import EdgeKey, edge_key
from gradviz.core.result import LEAF, PARAM, ROOT, GraphData
from gradviz.ui.canvas.items import Look, NodeShape, curve_through, measure_node

#: Half the width of an edge's active halo: how far an edge item paints beyond its path.
EDGE_HALO = 4.5
PORT_SPACING = 14.0
PARALLEL_BULGE = 40.0
ARROW_LEN = 8.0
ARROW_HALF = 4.5


def node_shapes(graph: GraphData, look: Look) -> dict[str, NodeShape]:
    """Measure every node (the sizes the layout needs).

    Nodes that would show the same texts share one NodeShape (read-only once made): a big
    graph repeats a few ops and shapes thousands of times.
    """
    shapes: dict[str, NodeShape] = {}
    seen: dict[tuple, NodeShape] = {}
    for n in graph.nodes:
        key = (n.kind, n.op, n.shape, n.names,
               tuple((s.name, s.shape, s.freed) for s in n.saved) if n.saved else ())
        shape = seen.get(key)
        if shape is None:
            shape = seen[key] = measure_node(n, look)
        shapes[n.id] = shape
    return shapes


def node_sizes(shapes: dict[str, NodeShape]) -> dict[str, tuple[float, float]]:
    """Every node's (width, height), as the layout takes them."""
    return {k: (s.w, s.h) for k, s in shapes.items()}


def compute_layout(graph: GraphData, sizes: dict[str, tuple[float, float]], root_at: str = "top"):
    """The layered layout of ``graph`` (gradviz.core.layout) for nodes of ``sizes``."""
    return layered_layout(graph, sizes, root_at=root_at)


def _bezier_point(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    """Point at parameter ``t`` of the vertical-tangent cubic from ``a`` to ``b`` (see curve_through)."""
    u = 1 - t
    w0, w1, w2, w3 = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    dy = (b[1] - a[1]) * 0.5
    return ((w0 + w1) * a[0] + (w2 + w3) * b[0],
            w0 * a[1] + w1 * (a[1] + dy) + w2 * (b[1] - dy) + w3 * b[1])


def _label_point(a: tuple[float, float], b: tuple[float, float], t: float, h: float) -> tuple[float, float]:
    """The point at ``t`` of the curve from ``a`` to ``b``, moved along it so that a label ``h``
    high centred there stays clear of both ends (the node boxes and the arrowhead)."""
    x, y = _bezier_point(a, b, t)
    lo, hi = min(a[1], b[1]), max(a[1], b[1])
    room = h / 2 + 4
    if hi - lo <= 2 * room:
        target = (lo + hi) / 2
    elif y < lo + room:
        target = lo + room
    elif y > hi - room:
        target = hi - room
    else:
        return x, y
    # y(t) is monotonic on these curves: bisect for the parameter of the wanted height.
    t0, t1 = 0.0, 1.0
    rising = b[1] >= a[1]
    for _ in range(24):
        tm = (t0 + t1) / 2
        if (_bezier_point(a, b, tm)[1] < target) == rising:
            t0 = tm
        else:
            t1 = tm
    return _bezier_point(a, b, (t0 + t1) / 2)


def _shared_stretches(routes: Mapping[EdgeKey, list[tuple[float, float]]]) -> set[tuple[EdgeKey, int]]:
    """(edge, i) for every segment i of an edge's route that runs down one trunk with another edge's.

    The layout bundles long edges into a shared vertical trunk: a label on a shared stretch could
    be any of those edges' (ten terms summed into one leaf stacked ten labels on one line that
    no reader could match to their edges), so labels go on a stretch of the edge's own.
    """
    columns: dict[float, list[tuple[float, float, EdgeKey, int]]] = defaultdict(list)
    for key, route in routes.items():
        for i in range(len(route) - 1):
            (x0, y0), (x1, y1) = route[i], route[i + 1]
            if abs(x1 - x0) < 0.5:
                columns[round(x0, 1)].append((min(y0, y1), max(y0, y1), key, i))
    out: set[tuple[EdgeKey, int]] = set()
    for spans in columns.values():
        if len(spans) < 2:
            continue
        spans.sort()
        reach = -math.inf  # the lowest end of the stretches above
        for j, (lo, hi, key, i) in enumerate(spans):
            if reach > lo + 1.0 or (j + 1 < len(spans) and spans[j + 1][0] < hi - 1.0):
                out.add((key, i))
            reach = max(reach, hi)
    return out


@dataclass
class EdgeGeometry:
    """Where one edge is drawn: its curve, arrowhead, label anchor and the polyline the overview draws.

    The Qt paths are made on first use: a big graph exported or shown as an overview draws the
    polylines only, and making thousands of paths up front cost most of the planning time.
    """

    key: EdgeKey
    order: int
    anchor: tuple[float, float]
    align: int
    dot_t: float
    points: list[tuple[float, float]]  # start, waypoints, end of the curve (before the arrowhead)
    rect: QRectF  # what the edge item covers, halo included
    # An arc's cubic (x0, y0, c1x, c1y, c2x, c2y, x1, y1), else None: the curve runs through ``points``.
    arc: tuple[float, ...] | None
    arrow_points: tuple[tuple[float, float], ...]  # tip first

    @cached_property
    def curve(self) -> QPainterPath:
        if self.arc is None:
            return curve_through(self.points)
        x0, y0, c1x, c1y, c2x, c2y, x1, y1 = self.arc
        path = QPainterPath(QPointF(x0, y0))
        path.cubicTo(c1x, c1y, c2x, c2y, x1, y1)
        return path

    @cached_property
    def arrow(self) -> QPolygonF:
        return QPolygonF([QPointF(x, y) for x, y in self.arrow_points])

    @cached_property
    def outline(self) -> QPainterPath:
        """Curve and arrowhead: the edge item's own path."""
        path = QPainterPath(self.curve)
        path.addPolygon(self.arrow)
        return path


class _Curves(Mapping):
    """Edge key -> (curve, arrowhead), made when the overview first draws shapes."""

    def __init__(self, by_key: dict[EdgeKey, EdgeGeometry]):
        self._by_key = by_key

    def __getitem__(self, key: EdgeKey) -> tuple[QPainterPath, QPolygonF]:
        g = self._by_key[key]
        return g.curve, g.arrow

    def __iter__(self):
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)


@dataclass
class ScenePlan:
    """Everything a GraphScene needs to show a graph, worked out before any item exists.

    Plain data and Qt value types only (QPainterPath, QRectF, QLineF are reentrant), so
    ``plan_scene`` may run on a worker thread with a Look of its own; the UI thread then only
    makes items from it. The overview, badges, labels and frames all read their geometry from
    the plan, so a scene can show frames while its items are still being made.
    """

    graph: GraphData
    layout: Layout
    shapes: dict[str, NodeShape]
    bounds: QRectF  # around all node boxes
    node_rects: dict[str, QRectF]  # node box in scene coordinates
    node_kinds: dict[str, str]
    node_order: dict[str, int]  # position in the graph's node list
    edges: list[EdgeGeometry]
    edge_by_key: dict[EdgeKey, EdgeGeometry]
    edge_lines: dict[EdgeKey, list[QLineF]]
    edge_curves: Mapping[EdgeKey, tuple[QPainterPath, QPolygonF]]  # what the overview draws at shape scales
    node_radii: dict[str, float]
    edges_rect: QRectF  # around all edges
    parallel: dict[EdgeKey, tuple[int, int]]  # key -> (position, group size)
    leaf_edges: set[EdgeKey]  # AccumulateGrad -> leaf edges
    root_ids: list[str]
    tag_anchors: dict[str, tuple[float, float]]  # where a node's ``.grad`` tag goes
    # Label and tag anchors sorted by y (and their ys): ``realize`` finds those in a rect by bisection.
    label_rows: list[tuple[float, float, EdgeKey]]
    label_ys: list[float]
    tag_rows: list[tuple[float, float, str]]
    tag_ys: list[float]

    @property
    def size(self) -> int:
        """How many items the graph needs (one per node and per edge)."""
        return len(self.graph.nodes) + len(self.edges)


def plan_scene(graph: GraphData, layout: Layout, shapes: dict[str, NodeShape], look: Look,
               paths: bool = True) -> ScenePlan:
    """The geometry of every node and edge of ``graph`` placed by ``layout`` (no items made).

    Safe on a worker thread when ``look`` is not one a scene paints with (see GraphView.plan).
    ``paths``: make the edges' Qt paths now, as the app does on its worker thread so that the
    UI thread only makes items (False leaves them to first use: an overview export needs none).
    """
    with collector_paused():  # tens of thousands of small objects, no reference cycles
        return _plan_scene(graph, layout, shapes, look, paths)


def plan_graph(graph: GraphData, look: Look, root_at: str = "top", layout: Layout | None = None,
               paths: bool = True) -> ScenePlan:
    """Measure ``graph``'s nodes, lay it out (unless ``layout`` is given) and plan its scene."""
    shapes = node_shapes(graph, look)
    if layout is None:
        layout = compute_layout(graph, node_sizes(shapes), root_at)
    return plan_scene(graph, layout, shapes, look, paths)


def _plan_scene(graph: GraphData, layout: Layout, shapes: dict[str, NodeShape], look: Look,
                paths: bool) -> ScenePlan:
    positions = layout.positions
    node_rects: dict[str, QRectF] = {}
    left = top = float("inf")
    right = bottom = float("-inf")
    tag_anchors: dict[str, tuple[float, float]] = {}  # where a node's ``.grad`` tag goes
    below = look.theme.px(13)
    for node in graph.nodes:
        nid = node.id
        x, y = positions[nid]
        s = shapes[nid]
        w, h = s.w, s.h
        x0, y0 = x - w / 2, y - h / 2
        node_rects[nid] = QRectF(x0, y0, w, h)
        tag_anchors[nid] = (x0 + w / 2, y0 + h + below)
        if x0 < left:
            left = x0
        if x0 + w > right:
            right = x0 + w
        if y0 < top:
            top = y0
        if y0 + h > bottom:
            bottom = y0 + h
    if left == float("inf"):
        left = top = right = bottom = 0.0
    bounds = QRectF(left, top, right - left, bottom - top)
    edges, parallel, box = _edge_geometry(graph, layout, shapes, look)
    edges_rect = QRectF(bounds)
    if edges:
        edges_rect = edges_rect.united(QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]))
    edge_lines: dict[EdgeKey, list[QLineF]] = {}
    for g in edges:
        pts = g.points
        if len(pts) == 2:
            (ax, ay), (bx, by) = pts
            edge_lines[g.key] = [QLineF(ax, ay, bx, by)]
        else:
            edge_lines[g.key] = [QLineF(a[0], a[1], b[0], b[1]) for a, b in zip(pts, pts[1:], strict=False)]
    kinds = {n.id: n.kind for n in graph.nodes}
    by_key = {g.key: g for g in edges}
    if paths:
        for g in edges:
            g.outline  # noqa: B018 -- made now, with the curve and the arrowhead
        curves = {g.key: (g.curve, g.arrow) for g in edges}  # the overview reads it on every paint
    else:
        curves = _Curves(by_key)
    label_rows = sorted((g.anchor[1], g.anchor[0], g.key) for g in edges)
    tag_rows = sorted((y, x, nid) for nid, (x, y) in tag_anchors.items())
    return ScenePlan(
        graph=graph, layout=layout, shapes=shapes, bounds=bounds, node_rects=node_rects, node_kinds=kinds,
        node_order={n.id: i for i, n in enumerate(graph.nodes)}, edges=edges,
        edge_by_key=by_key, edge_lines=edge_lines, edge_curves=curves,
        node_radii={nid: s.radius for nid, s in shapes.items()}, edges_rect=edges_rect,
        parallel=parallel,
        leaf_edges={edge_key(e) for e in graph.edges if kinds.get(e.dst) in (LEAF, PARAM)},
        root_ids=[r for r in graph.roots if kinds.get(r) == ROOT], tag_anchors=tag_anchors,
        label_rows=label_rows, label_ys=[r[0] for r in label_rows],
        tag_rows=tag_rows, tag_ys=[r[0] for r in tag_rows])


def _edge_geometry(graph: GraphData, layout: Layout, shapes: dict[str, NodeShape], look: Look):
    positions = layout.positions
    routes = layout.routes
    # Ports: the edges leaving a node spread along its bottom, those arriving along its top,
    # ordered by where the other end is so that they don't cross at the node. Parallel edges
    # (same src and dst) are grouped too: they bow apart and carry their input index.
    groups: dict[tuple[str, str], list] = defaultdict(list)
    out_port: dict[EdgeKey, float] = {}
    in_port: dict[EdgeKey, float] = {}
    out_lists: dict[str, list] = defaultdict(list)
    in_lists: dict[str, list] = defaultdict(list)
    for e in graph.edges:
        src, dst, index = e.src, e.dst, e.index
        key = (src, dst, index)
        groups[(src, dst)].append(index)
        route = routes.get(key)
        if route:
            out_lists[src].append((route[0][0], index, key))
            in_lists[dst].append((route[-1][0], index, key))
        else:
            out_lists[src].append((positions[dst][0], index, key))
            in_lists[dst].append((positions[src][0], index, key))
    parallel = {}
    for (src, dst), indices in groups.items():
        if len(indices) > 1:
            indices.sort()
            for i, index in enumerate(indices):
                parallel[(src, dst, index)] = (i, len(indices))
    for ports, lists in ((out_port, out_lists), (in_port, in_lists)):
        for nid, lst in lists.items():
            if len(lst) == 1:
                ports[lst[0][2]] = 0.0
                continue
            lst.sort()
            w = shapes[nid].w
            spacing = min(PORT_SPACING, (w - 24) / (len(lst) - 1)) if w > 24 else 0.0
            mid = (len(lst) - 1) / 2
            for i, (_, _, key) in enumerate(lst):
                ports[key] = (i - mid) * spacing
    label_h = look.height("label_bold") + look.theme.px(5)
    shared = _shared_stretches(routes)
    n_out = {k: len(v) for k, v in out_lists.items()}
    n_in = {k: len(v) for k, v in in_lists.items()}
    out: list[EdgeGeometry] = []
    # Plain floats here: thousands of edges, and every QPointF built costs a Python->C++ call.
    # ``box`` grows around every edge's drawing, less its halo (the plan's edges_rect).
    box = [math.inf, math.inf, -math.inf, -math.inf]
    halo = EDGE_HALO
    for e in graph.edges:
        key = (e.src, e.dst, e.index)
        sx, sy = positions[e.src]
        dx, dy = positions[e.dst]
        down = 1.0 if dy >= sy else -1.0
        x0, y0 = sx + out_port[key], sy + down * shapes[e.src].h / 2
        tx, ty = dx + in_port[key], dy - down * (shapes[e.dst].h / 2 + 1.0)
        ex, ey = tx, ty - down * ARROW_LEN
        route = routes.get(key, ())
        pos = parallel.get(key)
        bulge = 0.0
        if pos:
            # Parallel edges between adjacent layers: one arc each, bowing out as far as
            # the layout set their waypoint apart (at least PARALLEL_BULGE between arcs).
            bulge = (pos[0] - (pos[1] - 1) / 2) * PARALLEL_BULGE
            if len(route) == 1:
                offset = route[0][0] - (x0 + tx) / 2
                if abs(offset) > abs(bulge):
                    bulge = offset
                route = ()
        fan_out = n_out[e.src] > 1
        fan_in = n_in[e.dst] > 1
        t = 0.64 if fan_out and not fan_in else (0.36 if fan_in and not fan_out else 0.5)
        dot_t = 0.3 if t > 0.5 else 0.82
        if not bulge and not route:
            # Most edges: one curve between adjacent layers, the arrowhead straight down (or up).
            arc = None
            a, b = (x0, y0), (ex, ey)
            pts = [a, b]
            arrow = ((tx, ty), (ex - ARROW_HALF, ey), (ex + ARROW_HALF, ey))
            anchor = _label_point(a, b, t, label_h)
            # A curve through the points with vertical tangents stays in the box around them.
            left = (x0 if x0 < ex - ARROW_HALF else ex - ARROW_HALF) - halo
            right = (x0 if x0 > ex + ARROW_HALF else ex + ARROW_HALF) + halo
            lo, hi = (y0, ty) if y0 < ty else (ty, y0)
            top, bottom = lo - halo, hi + halo
            align = 0
        else:
            if bulge and not route:
                # One arc bowing out by ``bulge`` at its middle: a cubic whose control points sit
                # 4/3 of it to the side; the arrow follows the arc's end tangent.
                k = bulge / 0.75
                third = (ey - y0) / 3
                ux, uy = -k, third
                n = (ux * ux + uy * uy) ** 0.5 or 1.0
                ux, uy = ux / n, uy / n
                ex, ey = tx - ux * ARROW_LEN, ty - uy * ARROW_LEN
                third = (ey - y0) / 3
                arc = (x0, y0, x0 + k, y0 + third, ex + k, ey - third, ex, ey)
                arrow = ((tx, ty), (ex - uy * ARROW_HALF, ey + ux * ARROW_HALF),
                         (ex + uy * ARROW_HALF, ey - ux * ARROW_HALF))
                # The arc's middle: with the ends, the box around these is the box around the arc.
                pts = [(x0, y0), ((x0 + ex) / 2 + bulge, (y0 + ey) / 2), (ex, ey)]
            else:
                arc = None
                pts = [(x0, y0)]
                if route:
                    pts.extend((x + bulge, y) for x, y in route)  # long parallel edges keep apart
                pts.append((ex, ey))
                arrow = ((tx, ty), (ex - ARROW_HALF, ey), (ex + ARROW_HALF, ey))
            # Where the label goes: in a gap between layers (never on a layer's band, where the
            # nodes are), where this edge is farthest from its siblings. Edges fanning out of a
            # node are apart near their targets, edges fanning in near their sources.
            if len(pts) == 2:
                a, b = pts
            else:
                # The gaps between layers are the tallest segments (the others run through a
                # layer's band beside its nodes); take the last gap of a fan-out, else the first.
                spans = [0.0 if (key, i - 1) in shared else abs(q[1] - p[1])
                         for i, (p, q) in enumerate(zip(pts, pts[1:], strict=False))]
                if not any(spans):
                    spans = [abs(q[1] - p[1]) for p, q in zip(pts, pts[1:], strict=False)]
                tallest = max(spans)
                gaps = [i for i, d in enumerate(spans) if d >= tallest - 1.0]
                i = gaps[-1] if fan_out and not fan_in else gaps[0]
                a, b = pts[i], pts[i + 1]
            anchor = _label_point(a, b, t, label_h)
            align = 0
            if pos:  # parallel edges: the label on the outer side of the arc
                align = -1 if bulge < 0 else (1 if bulge > 0 else 0)
                anchor = (anchor[0] + align * 4.0, anchor[1])
            # A curve through the points with vertical tangents stays in the box around them.
            xs = [p[0] for p in pts] + [p[0] for p in arrow]
            ys = [p[1] for p in pts] + [p[1] for p in arrow]
            left, top = min(xs) - halo, min(ys) - halo
            right, bottom = max(xs) + halo, max(ys) + halo
        rect = QRectF(left, top, right - left, bottom - top)
        out.append(EdgeGeometry(key, len(out), anchor, align, dot_t, pts, rect, arc, arrow))
        if left + 4 < box[0]:
            box[0] = left + 4
        if top + 4 < box[1]:
            box[1] = top + 4
        if right - 4 > box[2]:
            box[2] = right - 4
        if bottom - 4 > box[3]:
            box[3] = bottom - 4
    return out, parallel, box
