"""GraphScene: builds the items of a graph from its layout and shows animation frames by diffing them."""

from __future__ import annotations

import html
import math
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from PySide6.QtCore import QLineF, QPointF, QRectF, Signal
from PySide6.QtGui import QPainter, QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsScene, QToolTip

from gradviz.core.collector import collector_paused
from gradviz.core.layout import Layout, layered_layout
from gradviz.core.replay import EdgeKey, Frame, edge_key
from gradviz.core.result import ACCUMULATE, LEAF, OP, PARAM, ROOT, BackwardCall, GraphData, GraphNode
from gradviz.ui.canvas.fmt import add_values, fmt_shape, fmt_value, split_op
from gradviz.ui.canvas.grid import DotGrid
from gradviz.ui.canvas.items import (
    CURRENT, DONE, EDGE_ACTIVE, EDGE_CARRIED, EDGE_IDLE, IDLE, LABEL_ACTIVE, LABEL_GRAD, LABEL_INDEX,
    LABEL_QUIET, Z_EDGE, Z_LABEL, BadgeItem, BadgeRow, BannerItem, EdgeItem, LabelItem, Look, NodeItem,
    NodeShape, OverviewItem, curve_through, measure_node,
)
from gradviz.ui.theme import Theme

#: Room around everything drawn in the scene rect (scene units). The scene rect starts around the
#: nodes and edges and grows to hold labels, badges and the banner as frames show them; fit-all
#: shows all of it, so a graph that fits the view needs no scroll bars.
FIT_MARGIN = 32.0
#: Half the width of an edge's active halo: how far an edge item paints beyond its path.
EDGE_HALO = 4.5
#: How the nodes of big graphs are cached between paints.
NODE_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
#: Items made between two looks at the clock while building.
BUILD_BATCH = 64
#: A frame that changes more nodes and edges than this repaints the whole overview at once.
OVERVIEW_FULL_UPDATE = 400
PORT_SPACING = 14.0
PARALLEL_BULGE = 40.0
ARROW_LEN = 8.0
ARROW_HALF = 4.5
#: From this many nodes on, label items are made only where the view looks (``realize``).
LAZY_LABEL_NODES = 300


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
            edge_lines[g.key] = [QLineF(a[0], a[1], b[0], b[1]) for a, b in zip(pts, pts[1:])]
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
                spans = [abs(q[1] - p[1]) for p, q in zip(pts, pts[1:])]
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


class GraphScene(QGraphicsScene):
    """The items of one autograd graph and the state of one animation frame.

    ``build(graph, layout, shapes)`` creates one NodeItem per node and one EdgeItem per edge
    (parallel edges kept apart); ``apply_frame(frame, call)`` lights the current node, labels
    the edges that carried gradient and shows fan-in, ``.grad`` updates, freed tensors and
    errors, touching only the items whose state changed since the previous frame.

    Big graphs are built in slices: ``begin_build(plan)`` shows the plan at once (bounds, the
    overview, frames, labels and badges all work from the plan's geometry), ``build_some``
    makes the next items within a time budget and ``finish_build`` makes all that are left.
    Items made late take the state of the frame shown, so the scene is consistent at every
    moment of a build.

    Signals
    -------
    build_finished()
        The last item of the graph was made (``building`` is False from now on).

    ``node_items``, ``edge_items`` and ``labels`` map node ids and edge keys to their items.
    """

    build_finished = Signal()

    def __init__(self, theme: Theme | None = None, parent=None, look: Look | None = None):
        super().__init__(parent)
        self.look = look or Look(theme or Theme())
        if theme is not None and look is not None and look.theme is not theme:
            self.look.set_theme(theme)
        self.graph = GraphData()
        self.layout = None
        self.plan: ScenePlan | None = None
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[EdgeKey, EdgeItem] = {}
        self.labels: dict[EdgeKey, LabelItem] = {}
        self.grad_tags: dict[str, LabelItem] = {}
        self.badge: BadgeItem | None = None
        self.banner: BannerItem | None = None
        self.overview: OverviewItem | None = None  # the graph, for tiny zoom levels
        self.overview_state: OverviewItem | None = None  # the frame on top of it
        # Node and edge items live under one layer, labels under another: switching between
        # items and the overview is then two setVisible calls, not thousands.
        self.item_layer: QGraphicsRectItem | None = None
        self.label_layer: QGraphicsRectItem | None = None
        # Labels the frame wants (key -> (value, style); value None for an input index). On big
        # graphs items are made only for the part someone looks at: see ``realize``.
        self._label_want: dict[EdgeKey, tuple[object, str]] = {}
        self.lazy = False
        self._realized = QRectF()
        self.frame: Frame | None = None
        self.call: BackwardCall | None = None
        self.detail = True
        self.show_grid = True
        self.transparent = False
        self.parallel: dict[EdgeKey, tuple[int, int]] = {}  # key -> (position, group size)
        self._done: set[str] = set()
        self._current: str | None = None
        self._carried: set[EdgeKey] = set()
        self._active: frozenset[EdgeKey] = frozenset()
        self._leaf_edges: set[EdgeKey] = set()  # AccumulateGrad -> leaf edges
        self._root_ids: list[str] = []
        self._tag_values: dict[str, object] = {}
        self._freed: dict[str, frozenset[str]] = {}
        self._label_text: dict[EdgeKey, tuple[object, str]] = {}
        self._bounds = QRectF()
        self._next_node = 0
        self._next_edge = 0
        self._grid = DotGrid()  # the background dots
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)

    # ----------------------------------------------------------------------------- building
    @property
    def theme(self) -> Theme:
        return self.look.theme

    def measure(self, graph: GraphData) -> dict[str, NodeShape]:
        return node_shapes(graph, self.look)

    def build(self, graph: GraphData, layout: Layout, shapes: dict[str, NodeShape] | None = None) -> None:
        """Replace the scene's items with those of ``graph`` placed by ``layout`` (all of them, now)."""
        shapes = shapes or self.measure(graph)
        self.begin_build(plan_scene(graph, layout, shapes, self.look))
        self.finish_build()

    def begin_build(self, plan: ScenePlan) -> None:
        """Show ``plan``: from now on bounds, overview and frames work; items come with ``build_some``."""
        self.clear_graph()
        self.plan = plan
        self.graph = plan.graph
        self.layout = plan.layout
        self._bounds = QRectF(plan.bounds)
        # A fixed scene rect spares the index from growing with every item.
        self.setSceneRect(plan.edges_rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN))
        self.parallel = plan.parallel
        self._leaf_edges = plan.leaf_edges
        self._root_ids = plan.root_ids
        self.lazy = len(plan.graph.nodes) >= LAZY_LABEL_NODES
        for layer, z in (("item_layer", Z_EDGE), ("label_layer", Z_LABEL)):
            item = QGraphicsRectItem()
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
            item.setZValue(z)
            self.addItem(item)
            setattr(self, layer, item)
        self._next_node = self._next_edge = 0
        if self.lazy:
            self._build_overview()  # big graphs show it while their items are being made
        self._edges_changed([(key, EDGE_IDLE, None) for key in plan.parallel])  # their "#k" labels

    @property
    def building(self) -> bool:
        """True while items of the planned graph are still to be made."""
        plan = self.plan
        return plan is not None and (self._next_node < len(plan.graph.nodes) or self._next_edge < len(plan.edges))

    def build_progress(self) -> tuple[int, int]:
        """(items made, items planned)."""
        plan = self.plan
        return (self._next_node + self._next_edge, plan.size) if plan is not None else (0, 0)

    def build_some(self, budget: float = 0.02) -> bool:
        """Make items for about ``budget`` seconds; True when the graph is complete."""
        if not self.building:
            return True
        with collector_paused():  # thousands of items: no full collections in the middle of a slice
            self._make_items(time.perf_counter() + budget)
        return self._check_built()

    def _make_items(self, deadline: float) -> None:
        plan = self.plan
        nodes, edges = plan.graph.nodes, plan.edges
        while self._next_node < len(nodes):
            end = min(self._next_node + BUILD_BATCH, len(nodes))
            for node in nodes[self._next_node:end]:
                self._make_node(node)
            self._next_node = end
            if time.perf_counter() > deadline:
                return
        while self._next_edge < len(edges):
            end = min(self._next_edge + BUILD_BATCH, len(edges))
            for geometry in edges[self._next_edge:end]:
                self._make_edge(geometry)
            self._next_edge = end
            if time.perf_counter() > deadline:
                return

    def finish_build(self) -> None:
        """Make every item still missing (export and headless rendering need the whole scene)."""
        while not self.build_some(3600.0):
            pass

    def _check_built(self) -> bool:
        if self.building:
            return False
        self.build_finished.emit()
        return True

    def _make_node(self, node: GraphNode) -> None:
        nid = node.id
        plan = self.plan
        item = NodeItem(node, plan.shapes[nid], self.look, self.item_layer)
        item.order = plan.node_order[nid]
        x, y = plan.layout.positions[nid]
        item.setPos(x, y)
        # The state of the frame already shown.
        if nid == self._current:
            item.state = CURRENT
        elif nid in self._done:
            item.state = DONE
        freed = self._freed.get(nid)
        if freed:
            item.freed = freed
        if self.lazy:
            # Big graphs: while the view follows the lit node it scrolls nearly every step and
            # repaints what it shows; cached node pictures make that a blit (Qt's pixmap cache
            # bounds the memory). Exports paint the nodes directly (see export._Prepared).
            item.setCacheMode(NODE_CACHE)
        self.node_items[nid] = item

    def _make_edge(self, g: EdgeGeometry) -> None:
        item = EdgeItem(g.key, g.curve, g.arrow, self.look, g.anchor, g.align, g.dot_t, g.outline, self.item_layer)
        item.points = g.points
        item.order = g.order
        key = g.key
        if key in self._active:
            item.set_state(EDGE_ACTIVE)
        elif key in self._carried:
            item.set_state(EDGE_CARRIED)
        self.edge_items[key] = item

    def clear_graph(self) -> None:
        self.clear()
        self.plan = None
        self.item_layer = self.label_layer = None
        self._next_node = self._next_edge = 0
        self.node_items, self.edge_items, self.labels, self.grad_tags = {}, {}, {}, {}
        self.badge = self.banner = self.overview = self.overview_state = None
        self.frame = self.call = None
        self.detail = True
        self._done, self._current, self._carried, self._active = set(), None, set(), frozenset()
        self._leaf_edges, self._root_ids = set(), []
        self.parallel = {}
        self._tag_values, self._freed = {}, {}
        self._label_text = {}
        self._label_want = {}
        self.lazy = False
        self._realized = QRectF()
        self._bounds = QRectF()
        self.graph = GraphData()

    def node_rect(self, node_id: str) -> QRectF | None:
        """The box of a node in scene coordinates (from the plan: also before its item exists)."""
        plan = self.plan
        rect = plan.node_rects.get(node_id) if plan is not None else None
        return QRectF(rect) if rect is not None else None

    def has_graph(self) -> bool:
        """True when a graph with at least one node is shown (or being built)."""
        return self.plan is not None and bool(self.plan.graph.nodes)

    # ----------------------------------------------------------------------------- looks
    def set_theme(self, theme: Theme) -> None:
        """Repaint with ``theme``; a different font scale needs ``build`` again (sizes change)."""
        self.look.set_theme(theme)
        if self.overview is not None:
            self.overview.update()
            self.overview_state.update()
        for label in list(self.labels.values()) + list(self.grad_tags.values()):
            label.relayout()
        self.update()

    def graph_rect(self, overview: bool = False) -> QRectF:
        """The bounding rect of what is drawn: nodes, edges, labels, badge and banner.

        ``overview``: of what the overview draws, the graph and the banner (labels, ``.grad``
        tags and the badge are hidden there, and their size depends on the numbers they show).
        """
        plan = self.plan
        rect = QRectF(plan.edges_rect) if plan is not None else QRectF(self._bounds)
        if not overview:
            for group in (self.labels.values(), self.grad_tags.values()):
                for item in group:
                    if item.wanted:
                        rect = rect.united(item.sceneBoundingRect())
            if self.badge is not None and self._badge_wanted:
                rect = rect.united(self.badge.sceneBoundingRect())
        if self.banner is not None and self.banner.isVisible():
            rect = rect.united(self.banner.sceneBoundingRect())
        return rect

    def fit_rect(self) -> QRectF:
        """What fit-all shows: the scene rect, grown to hold everything drawn (with a margin).

        It only grows: a callout drawn at one step and gone at the next still counts, so
        stepping through a fitted animation does not zoom in and out.
        """
        self._grow_scene_rect(self.graph_rect(), FIT_MARGIN)
        return self.sceneRect()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        if self.transparent:
            return
        look = self.look
        painter.fillRect(rect, look.brush("background"))
        if not self.show_grid:
            return
        scale = painter.worldTransform().m11()
        self._grid.draw(painter, rect, self.look.pen("grid", max(1.5, 2.0 * scale), cosmetic=True))

    # ----------------------------------------------------------------------------- detail
    def set_detail(self, on: bool) -> None:
        """Items (True) or the batched overview (False) for zoom levels where nodes are dots."""
        if on == self.detail or self.plan is None or not self.plan.graph.nodes:
            return
        self.detail = on
        self.ensure_overview()
        self.item_layer.setVisible(on)
        self.label_layer.setVisible(on)
        if self.badge is not None:
            self.badge.setVisible(on and self._badge_wanted)
        self.overview.setVisible(not on)
        self.overview_state.setVisible(not on)

    def ensure_overview(self) -> OverviewItem:
        """The batched overview of the graph (built on first use; hidden while items are shown)."""
        if self.overview is None:
            self._build_overview()
        return self.overview

    def _build_overview(self) -> None:
        plan = self.plan
        bounds = (plan.bounds if plan is not None else self._bounds).adjusted(-20, -20, 20, 20)
        base = OverviewItem(self.look, bounds, "base")
        state = OverviewItem(self.look, bounds, "state")
        if plan is not None:
            base.node_rects, base.node_kinds, base.edge_polylines = plan.node_rects, plan.node_kinds, plan.edge_lines
            base.node_radii, base.edge_curves = plan.node_radii, plan.edge_curves
        # The state layer reads the same geometry.
        state.node_rects, state.node_kinds, state.edge_polylines = (
            base.node_rects, base.node_kinds, base.edge_polylines)
        state.node_radii, state.edge_curves = base.node_radii, base.edge_curves
        for ov in (base, state):
            ov.setVisible(not self.detail)
            self.addItem(ov)
        self.overview, self.overview_state = base, state
        state.set_state(self._done, self._current, self._active, self._carried)

    # ----------------------------------------------------------------------------- frames
    def apply_frame(self, frame: Frame | None, call: BackwardCall | None = None) -> None:
        """Show ``frame`` (None: the plain graph). ``call`` adds ``.grad`` before to AccumulateGrad badges.

        Only items whose state differs from the previous frame are touched; the differences
        are set operations, so a step of a 5,000-node graph costs well under a millisecond here.
        Items not made yet (a build in progress) take the state when they are made.
        """
        self.frame, self.call = frame, call
        planned = self.plan.node_rects if self.plan is not None else {}
        if frame is None:
            grads: dict = {}
            done: set[str] = set()
            current = None
            carried: set[EdgeKey] = set()
            active: frozenset[EdgeKey] = frozenset()
        else:
            grads = frame.edge_grads
            carried = set(grads)
            active = frame.active_edges & carried
            done = set(frame.done)
            # Leaves count as done once their AccumulateGrad has written them, the root once
            # the engine started.
            done.update(k[1] for k in self._leaf_edges.intersection(carried))
            if frame.step >= 1:
                done.update(self._root_ids)
            current = frame.current if frame.current in planned else None
            done.discard(current)
        ov = self.overview
        changed_nodes: list[str] = []
        old_done, old_current = self._done, self._current
        node = self.node_items.get
        for nid in old_done - done:
            item = node(nid)
            if item is not None:
                item.set_state(IDLE)
                changed_nodes.append(nid)
        for nid in done - old_done:
            item = node(nid)
            if item is not None:
                item.set_state(DONE)
                changed_nodes.append(nid)
        if old_current != current:
            if old_current is not None and old_current not in done:
                item = node(old_current)
                if item is not None:
                    item.set_state(IDLE)
                changed_nodes.append(old_current)
            if current is not None:
                item = node(current)
                if item is not None:
                    item.set_state(CURRENT)
                changed_nodes.append(current)
        self._done, self._current = done, current
        # Edges (and their labels) whose state changed.
        old_carried, old_active = self._carried, self._active
        changes: list[tuple[EdgeKey, int, object]] = [(key, EDGE_IDLE, None) for key in old_carried - carried]
        changes.extend((key, EDGE_CARRIED, grads[key]) for key in (carried - old_carried) - active)
        changes.extend((key, EDGE_CARRIED, grads[key]) for key in (old_active - active) & carried)
        for key in active:
            cached = self._label_text.get(key)
            if key not in old_active or cached is None or cached[0] is not grads[key]:
                changes.append((key, EDGE_ACTIVE, grads[key]))
        self._edges_changed(changes)
        changed_edges = [change[0] for change in changes]
        self._carried, self._active = carried, active
        if ov is not None:
            self.overview_state.set_state(done, current, active, carried)
            if not self.detail:
                self._update_overview(changed_nodes, changed_edges)
        self._apply_leaf_grads(frame)
        self._apply_freed(frame)
        self._apply_badge(frame, call)
        self._apply_banner(frame)

    def _update_overview(self, nodes: list[str], edges: list[EdgeKey]) -> None:
        """Repaint only the parts of the overview that changed."""
        ov = self.overview_state
        plan = self.plan
        if len(nodes) + len(edges) > OVERVIEW_FULL_UPDATE:
            ov.update()  # a jump across the pass: one update beats thousands of small ones
            return
        for nid in nodes:
            rect = ov.node_rects.get(nid)
            if rect is None:
                continue
            # The current node's ring has a fixed size on screen: leave room for it.
            m = max(rect.width(), rect.height()) * 3 + 60
            ov.update(rect.adjusted(-m, -m, m, m))
        for key in edges:
            g = plan.edge_by_key.get(key)
            if g is not None:
                ov.update(g.rect)

    def _edges_changed(self, changes: list[tuple[EdgeKey, int, object]]) -> None:
        """Give each changed edge its state and say what its label should show (value None: no
        value). Labels are updated where they exist or would be seen; the others are made when
        they come into view. A jump across a 5,000-step pass changes thousands of edges at once,
        so this is one loop with the visible anchors found once (by bisection), not a call each.
        """
        plan = self.plan
        if not changes:
            return
        items, want, labels = self.edge_items, self._label_want, self.labels
        by_key = plan.edge_by_key if plan is not None else {}
        parallel, lazy = self.parallel, self.lazy and plan is not None
        seen = self._anchors_in(self._realized) if lazy else None
        sync = []
        for key, state, value in changes:
            item = items.get(key)
            if item is not None:
                item.set_state(state)
            elif key not in by_key:
                continue
            if value is not None:
                want[key] = (value, LABEL_ACTIVE if state == EDGE_ACTIVE else LABEL_QUIET)
            elif key in parallel:
                want[key] = (None, LABEL_INDEX)
            else:
                want.pop(key, None)
            if not lazy or key in labels or key in seen:
                sync.append(key)
        for key in sync:
            self._sync_label(key)

    def _anchors_in(self, rect: QRectF) -> set[EdgeKey]:
        """Edges whose label anchor lies in ``rect``."""
        if rect.isEmpty():
            return set()
        plan = self.plan
        left, right = rect.left(), rect.right()
        lo, hi = bisect_left(plan.label_ys, rect.top()), bisect_right(plan.label_ys, rect.bottom())
        return {key for _y, x, key in plan.label_rows[lo:hi] if left <= x <= right}

    def _label_text_of(self, key: EdgeKey, value) -> str:
        if value is None:
            return f"#{key[2]}"
        cached = self._label_text.get(key)
        if cached is not None and cached[0] is value:
            return cached[1]
        text = fmt_value(value)
        if key in self.parallel:
            text = f"#{key[2]}  {text}"
        self._label_text[key] = (value, text)
        return text

    def _sync_label(self, key: EdgeKey) -> None:
        want = self._label_want.get(key)
        label = self.labels.get(key)
        if want is None:
            if label is not None:
                label.set_wanted(False)
            return
        if label is None:
            g = self.plan.edge_by_key[key]
            label = LabelItem(g.anchor, g.align, self.look, g.order, self.label_layer)
            self.labels[key] = label
        label.set_content(self._label_text_of(key, want[0]), want[1])
        label.set_wanted(True)
        if not self.lazy:
            self._grow_scene_rect(label.sceneBoundingRect(), FIT_MARGIN)

    def realize(self, rect: QRectF) -> None:
        """Make the label items of a big graph that fall inside ``rect`` (scene coordinates).

        The view calls this for what it shows, export for what it exports; small graphs get
        all their labels as frames come, so this has nothing left to do there.
        """
        if not self.lazy or rect == self._realized or self.plan is None:
            return  # labels wanted inside the realized rect are made as frames come
        self._realized = QRectF(rect)
        plan = self.plan
        left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
        # Only the anchors inside the rect are looked at (bisection on y): scrolling a
        # 5,000-node graph costs what is on screen, not what is in the graph.
        labels, want = self.labels, self._label_want
        lo, hi = bisect_left(plan.label_ys, top), bisect_right(plan.label_ys, bottom)
        for _y, x, key in plan.label_rows[lo:hi]:
            if left <= x <= right and key in want and key not in labels:
                self._sync_label(key)
        tags, values = self.grad_tags, self._tag_values
        lo, hi = bisect_left(plan.tag_ys, top), bisect_right(plan.tag_ys, bottom)
        for _y, x, nid in plan.tag_rows[lo:hi]:
            if left <= x <= right and nid in values and nid not in tags:
                self._sync_tag(nid)

    def _tag_anchor(self, nid: str) -> tuple[float, float]:
        return self.plan.tag_anchors[nid]

    def _sync_tag(self, nid: str) -> None:
        value = self._tag_values.get(nid)
        tag = self.grad_tags.get(nid)
        if value is None:
            if tag is not None:
                tag.set_wanted(False)
            return
        if tag is None:
            tag = LabelItem(self._tag_anchor(nid), 0, self.look, self.plan.node_order.get(nid, 0), self.label_layer)
            self.grad_tags[nid] = tag
        tag.set_content(f".grad = {fmt_value(value)}", LABEL_GRAD)
        tag.set_wanted(True)
        if not self.lazy:
            self._grow_scene_rect(tag.sceneBoundingRect(), FIT_MARGIN)

    def _apply_leaf_grads(self, frame: Frame | None) -> None:
        planned = self.plan.node_rects if self.plan is not None else {}
        wanted = {} if frame is None else {
            k: v for k, v in frame.leaf_grads.items() if v is not None and k in planned}
        old = self._tag_values
        self._tag_values = wanted
        for nid in old.keys() - wanted.keys():
            self._sync_tag(nid)
        for nid, value in wanted.items():
            if old.get(nid) is value:
                continue
            if not self.lazy or nid in self.grad_tags or self._realized.contains(*self._tag_anchor(nid)):
                self._sync_tag(nid)

    def _apply_freed(self, frame: Frame | None) -> None:
        wanted: dict[str, set[str]] = defaultdict(set)
        if frame is not None:
            for ref in frame.freed:
                wanted[ref.node_id].add(ref.name)
        items = self.node_items
        for nid in self._freed.keys() - wanted.keys():
            if nid in items:
                items[nid].set_freed(frozenset())
        new = {k: frozenset(v) for k, v in wanted.items()}
        for nid, names in new.items():
            if nid in items:
                items[nid].set_freed(names)
        self._freed = new

    _badge_wanted = False

    def _apply_badge(self, frame: Frame | None, call: BackwardCall | None) -> None:
        content = None if frame is None or frame.current is None else self._badge_content(frame, call)
        box = self.node_rect(frame.current) if content is not None else None
        self._badge_wanted = box is not None
        if box is None:
            if self.badge is not None:
                self.badge.setVisible(False)
            return
        if self.badge is None:
            self.badge = BadgeItem(self.look)
            self.addItem(self.badge)
        title, rows = content
        # Beside the node on the side with more room inside the graph (right when equal).
        side = 1 if self._bounds.right() - box.right() >= box.left() - self._bounds.left() - 1 else -1
        self.badge.set_content(title, rows, box, side)
        self.badge.setVisible(self.detail)
        self._grow_scene_rect(self.badge.sceneBoundingRect(), FIT_MARGIN)

    def _grow_scene_rect(self, rect: QRectF, margin: float) -> None:
        """Make room in the scene rect (the scroll range) for what is drawn near the graph's edge."""
        wanted = rect.adjusted(-margin, -margin, margin, margin)
        if not self.sceneRect().contains(wanted):
            self.setSceneRect(self.sceneRect().united(wanted))

    def node_bounds(self) -> QRectF:
        """The rect around all node boxes (without labels and callouts)."""
        return QRectF(self._bounds)

    def _badge_content(self, frame: Frame, call: BackwardCall | None):
        """Title and rows of the badge of the current node, or None when it needs none."""
        graph = self.graph
        nid = frame.current
        node = graph.by_id.get(nid)
        if node is None:
            return None
        step = call.steps[frame.step - 1] if call is not None and 0 < frame.step <= len(call.steps) else None
        if step is not None and step.node_id != nid:
            step = None
        incoming = list(frame.incoming)

        def source(inc) -> str:
            name = split_op(graph.node(inc.edge.src).op)[0] if inc.edge.src in graph.by_id else inc.edge.src
            # A repeated edge (torch.dot(x, x)) names which input it is.
            return f"from {name} #{inc.edge.index}" if edge_key(inc.edge) in self.parallel else f"from {name}"

        if node.kind == ACCUMULATE:
            leaf_id = next((e.dst for e in graph.out_edges.get(nid, ())), None)
            leaf = graph.by_id.get(leaf_id)
            name = leaf.names[0] if leaf is not None and leaf.names else "leaf"
            after = frame.leaf_grads.get(leaf_id) if leaf_id else None
            if step is not None and step.leaf_after is not None:
                after = step.leaf_after
            # Without the call, .grad before is the leaf's .grad in the call's graph, which was
            # captured as the call started (an AccumulateGrad node runs once per call).
            before = step.leaf_before if step is not None else (leaf.grad if leaf is not None else None)
            rows = [BadgeRow("", ".grad before", fmt_value(before))]
            if len(incoming) > 1:
                for inc in incoming:
                    rows.append(BadgeRow("+", source(inc), fmt_value(inc.value)))
            else:
                if step is not None and step.grad_in:
                    value = step.grad_in[0]
                elif incoming:
                    value = incoming[0].value
                else:  # straight from the root (x.backward() on a leaf's own graph)
                    value = next((frame.edge_grads[edge_key(e)] for e in graph.in_edges.get(nid, ())
                                  if edge_key(e) in frame.edge_grads), None)
                rows.append(BadgeRow("+", "incoming", fmt_value(value)))
            rows.append(BadgeRow("=", ".grad after", fmt_value(after)))
            title = f"{name}.grad \u2190 AccumulateGrad" + (" \u00b7 \u03a3 fan-in" if len(incoming) > 1 else "")
            return title, tuple(rows)
        if len(incoming) > 1:
            rows = [BadgeRow("" if i == 0 else "+", source(inc), fmt_value(inc.value))
                    for i, inc in enumerate(incoming)]
            total = step.grad_in[0] if step is not None and step.grad_in else add_values([i.value for i in incoming])
            rows.append(BadgeRow("=", "summed", fmt_value(total) if total is not None else "?"))
            return f"\u03a3  fan-in: {len(incoming)} gradients summed", tuple(rows)
        return None

    def _apply_banner(self, frame: Frame | None) -> None:
        error = frame.error if frame is not None else None
        if error is None:
            if self.banner is not None:
                self.banner.setVisible(False)
            return
        if self.banner is None:
            self.banner = BannerItem(self.look)
            self.addItem(self.banner)
        root = next((r for r in self.graph.roots if self.node_rect(r) is not None), None)
        if root is not None:
            box = self.node_rect(root)
            above = box.center().y() <= self._bounds.center().y()
            anchor = QPointF(box.center().x(), box.top() - 18 if above else box.bottom() + 18)
        else:
            above, anchor = True, QPointF(self._bounds.center().x(), self._bounds.top() - 18)
        title = error.type + (f" (line {error.line})" if error.line else "")
        self.banner.set_content(title, error.message, error.hint or "", anchor, above)
        self.banner.setVisible(True)
        self._grow_scene_rect(self.banner.sceneBoundingRect(), FIT_MARGIN)

    # ----------------------------------------------------------------------------- queries
    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def tooltip(self, node_id: str) -> str:
        """Rich text describing a node: full op, shape, dtype, names, line, saved tensors."""
        node = self.graph.by_id.get(node_id)
        if node is None:
            return ""
        return node_tooltip(node, self.node_items[node_id].freed if node_id in self.node_items else frozenset())

    def helpEvent(self, event) -> None:
        item = self.node_at(event.scenePos())
        if item is None:
            QToolTip.hideText()
            event.ignore()
            return
        QToolTip.showText(event.screenPos(), self.tooltip(item.node_id), event.widget())
        event.accept()


def node_tooltip(node: GraphNode, freed: frozenset[str] = frozenset()) -> str:
    kind_words = {ROOT: "root tensor", OP: "grad_fn node", ACCUMULATE: "AccumulateGrad (writes .grad)",
                  LEAF: "leaf tensor", PARAM: "parameter"}
    esc = html.escape
    lines = [f"<b>{esc(node.op)}</b> <span style='color:gray'>{kind_words.get(node.kind, node.kind)}</span>"]
    if node.shape is not None:
        lines.append(f"shape {esc(fmt_shape(node.shape))}" + (f" · {esc(node.dtype)}" if node.dtype else ""))
    if node.names:
        lines.append("names: " + esc(", ".join(node.names)))
    if node.line is not None:
        lines.append(f"line {node.line}")
    if node.saved:
        parts = []
        for s in node.saved:
            text = f"{esc(s.name)} {esc(fmt_shape(s.shape))} {esc(s.dtype)}"
            parts.append(f"<s>{text}</s> (freed)" if s.freed or s.name in freed else text)
        lines.append("saved: " + "; ".join(parts))
    if node.attrs:
        lines.append(esc(", ".join(f"{k}={v}" for k, v in node.attrs)))
    lines.extend(esc(h.text) for h in node.hooks)
    if node.value is not None and node.value.data is not None and node.value.numel <= 6:
        lines.append("value " + esc(fmt_value(node.value)))
    if node.grad is not None:
        lines.append(".grad " + esc(fmt_value(node.grad)))
    return "<br>".join(lines)
