"""Layered (Sugiyama-style) layout of autograd graphs: layers, dummy nodes, crossing reduction, coordinates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gradviz.core.result import GraphData

#: (width, height) of a node when ``sizes`` does not give one.
DEFAULT_SIZE = (120.0, 44.0)
#: Horizontal distance between neighbouring routes of long edges (dummy nodes have no width).
EDGE_GAP = 16.0
#: Horizontal distance between parallel edges that join the same two nodes.
PARALLEL_GAP = 18.0
#: Barycenter sweeps of crossing reduction (down and up count separately).
SWEEPS = 8


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
        route runs vertically past the nodes of that layer. Parallel edges between two
        adjacent layers get one point each, set apart sideways. Between consecutive points, and
        from a node's bottom (top when the root is at the bottom) to the first point, the edge
        crosses an empty band between layers, so a curve with vertical tangents there never
        runs through a node.
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


def layered_layout(
    graph: GraphData,
    sizes: Mapping[str, tuple[float, float]] | None = None,
    root_at: str = "top",
    layer_gap: float = 80.0,
    node_gap: float = 30.0,
) -> Layout:
    """Lay ``graph`` out in layers so that every edge points away from the roots.

    Roots sit in layer 0; a node sits one layer below its deepest parent (sources without a
    declared root role move down next to their first child). Edges that span several layers
    get dummy nodes; a few barycenter sweeps, started from a depth-first order (which draws
    trees without crossings), order each layer; Brandes-Koepf coordinate assignment keeps
    chains straight and parents centred over their children. Deterministic: ties are broken
    by the order of ``graph.nodes`` and edge ``index``.

    Parameters
    ----------
    graph
        The graph; edges point from a node towards the leaves.
    sizes
        Node id -> ``(width, height)``; missing nodes get DEFAULT_SIZE.
    root_at
        ``"top"`` (edges run downward) or ``"bottom"`` (edges run upward).
    layer_gap, node_gap
        Free space between layers and between neighbouring nodes of a layer.
    """
    if root_at not in ("top", "bottom"):
        raise ValueError(f"root_at must be 'top' or 'bottom', not {root_at!r}")
    g = _Graph.build(graph)
    if g.n == 0:
        return Layout({}, {}, {}, 0.0, 0.0)
    widths, heights = _sizes(g.ids, sizes)
    layer = _layering(g)
    items = _Items.build(g, layer, widths)
    _order(items, g)
    xs = _coordinates(items, node_gap)
    return _finish(g, items, xs, heights, root_at, layer_gap, node_gap)


# --------------------------------------------------------------------------------------------
# graph in integer form
# --------------------------------------------------------------------------------------------


@dataclass
class _Graph:
    ids: list[str]
    index: dict[str, int]
    roots: list[int]
    # Edges with known endpoints, in graph order: src, dst, key (src id, dst id, index).
    src: list[int]
    dst: list[int]
    keys: list[tuple[str, str, int]]
    # Out-edges of each node as edge numbers, in ``index`` order.
    out: list[list[int]]
    # Edges that close a cycle: ignored for layering, drawn against the flow.
    back: set[int] = field(default_factory=set)

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, graph: GraphData) -> _Graph:
        ids: list[str] = []
        index: dict[str, int] = {}
        for node in graph.nodes:
            if node.id not in index:
                index[node.id] = len(ids)
                ids.append(node.id)
        src: list[int] = []
        dst: list[int] = []
        keys: list[tuple[str, str, int]] = []
        order: list[int] = []
        seen_keys = set()
        for e in graph.edges:
            s = index.get(e.src)
            d = index.get(e.dst)
            key = (e.src, e.dst, e.index)
            if s is None or d is None or key in seen_keys:
                continue
            seen_keys.add(key)
            src.append(s)
            dst.append(d)
            keys.append(key)
            order.append(e.index)
        out: list[list[int]] = [[] for _ in ids]
        for k in sorted(range(len(src)), key=order.__getitem__):
            out[src[k]].append(k)
        roots = [index[r] for r in dict.fromkeys(graph.roots) if r in index]
        return cls(ids, index, roots, src, dst, keys, out)


def _sizes(ids: list[str], sizes: Mapping[str, tuple[float, float]] | None) -> tuple[list[float], list[float]]:
    if not sizes:
        return [DEFAULT_SIZE[0]] * len(ids), [DEFAULT_SIZE[1]] * len(ids)
    ws, hs = [], []
    for nid in ids:
        w, h = sizes.get(nid, DEFAULT_SIZE)
        ws.append(max(0.0, float(w)))
        hs.append(max(0.0, float(h)))
    return ws, hs


# --------------------------------------------------------------------------------------------
# layering
# --------------------------------------------------------------------------------------------


def _layering(g: _Graph) -> list[int]:
    """Longest-path layers from the sources; edges that close a cycle are ignored."""
    n = g.n
    indeg = [0] * n
    for k, (s, d) in enumerate(zip(g.src, g.dst)):
        if s != d:
            indeg[d] += 1
    # Autograd graphs have no cycles, but GraphData may come from anywhere.
    ready = [v for v in range(n) if indeg[v] == 0]
    layer = [0] * n
    done = 0
    remaining = indeg[:]
    stack = ready[::-1]
    order = []
    while True:
        while stack:
            v = stack.pop()
            order.append(v)
            lv = layer[v] + 1
            for k in g.out[v]:
                d = g.dst[k]
                if d == v or k in g.back:
                    continue
                if layer[d] < lv:
                    layer[d] = lv
                remaining[d] -= 1
                if remaining[d] == 0:
                    stack.append(d)
        done = len(order)
        if done == n:
            break
        _break_cycles(g, order, remaining)
        placed = set(order)
        stack = [v for v in range(n) if remaining[v] == 0 and v not in placed][::-1]
    # Sources that are not declared roots move down to just above their highest child.
    roots = set(g.roots)
    for v in reversed(order):
        if indeg[v] == 0 and v not in roots and g.out[v]:
            below = [layer[g.dst[k]] for k in g.out[v] if g.dst[k] != v and k not in g.back]
            if below:
                layer[v] = min(below) - 1
    return layer


def _break_cycles(g: _Graph, done: list[int], remaining: list[int]) -> None:
    """Mark edges that close cycles among the nodes Kahn's algorithm could not reach."""
    finished = set(done)
    state: dict[int, int] = {}  # 1 = on the DFS stack, 2 = finished
    for start in range(g.n):
        if start in finished or start in state:
            continue
        state[start] = 1
        stack = [(start, iter(g.out[start]))]
        while stack:
            v, it = stack[-1]
            for k in it:
                d = g.dst[k]
                if d in finished or k in g.back or d == v:
                    continue
                st = state.get(d)
                if st == 1:
                    g.back.add(k)
                    remaining[d] -= 1
                elif st is None:
                    state[d] = 1
                    stack.append((d, iter(g.out[d])))
                    break
            else:
                state[v] = 2
                stack.pop()


# --------------------------------------------------------------------------------------------
# dummy nodes and layers
# --------------------------------------------------------------------------------------------


@dataclass
class _Items:
    """Real nodes (0..n-1) and dummy nodes (n..) with their layers and neighbours."""

    n: int
    layer: list[int]
    width: list[float]
    up: list[list[int]]
    down: list[list[int]]
    chains: list[list[int]]  # per edge: items from its upper end to its lower end
    layers: list[list[int]]  # items of each layer, in order
    pos: list[int]  # index of each item in its layer
    comp: list[int]  # connected component of each item

    @classmethod
    def build(cls, g: _Graph, layer: list[int], widths: list[float]) -> _Items:
        n = g.n
        item_layer = list(layer)
        width = list(widths)
        up: list[list[int]] = [[] for _ in range(n)]
        down: list[list[int]] = [[] for _ in range(n)]
        chains: list[list[int]] = []
        back = g.back
        for k in range(len(g.src)):
            s, d = g.src[k], g.dst[k]
            if k in back:
                s, d = d, s
            if s == d:
                chains.append([s])
                continue
            chain = [s]
            prev = s
            for lv in range(layer[s] + 1, layer[d]):
                dummy = len(item_layer)
                item_layer.append(lv)
                width.append(0.0)
                up.append([prev])
                down.append([])
                down[prev].append(dummy)
                chain.append(dummy)
                prev = dummy
            down[prev].append(d)
            up[d].append(prev)
            chain.append(d)
            chains.append(chain)
        count = len(item_layer)
        # Connected components, so that each one keeps to its own stretch of every layer.
        comp = [-1] * count
        c = 0
        for start in _root_order(g):
            if comp[start] >= 0:
                continue
            comp[start] = c
            stack = [start]
            while stack:
                v = stack.pop()
                for w in up[v]:
                    if comp[w] < 0:
                        comp[w] = c
                        stack.append(w)
                for w in down[v]:
                    if comp[w] < 0:
                        comp[w] = c
                        stack.append(w)
            c += 1
        nlayers = max(item_layer) + 1
        layers: list[list[int]] = [[] for _ in range(nlayers)]
        pos = [0] * count
        return cls(n, item_layer, width, up, down, chains, layers, pos, comp)


def _root_order(g: _Graph) -> list[int]:
    """Declared roots first, then the other nodes in graph order."""
    return list(dict.fromkeys(g.roots + list(range(g.n))))


# --------------------------------------------------------------------------------------------
# crossing reduction
# --------------------------------------------------------------------------------------------


def _order(items: _Items, g: _Graph) -> None:
    """Order every layer: depth-first start, then barycenter sweeps; keep the best seen."""
    # Depth-first preorder from the roots: every subtree of a tree gets a contiguous stretch of
    # each layer, so trees come out without crossings before any sweep.
    layers = items.layers
    seen = [False] * len(items.layer)
    for start in _root_order(g):
        if seen[start]:
            continue
        seen[start] = True
        stack = [start]
        while stack:
            v = stack.pop()
            layers[items.layer[v]].append(v)
            for w in reversed(items.down[v]):
                if not seen[w]:
                    seen[w] = True
                    stack.append(w)
    # Components stay contiguous and in root order.
    comp = items.comp
    for lay in layers:
        lay.sort(key=comp.__getitem__)
    pos = items.pos
    for lay in layers:
        for i, v in enumerate(lay):
            pos[v] = i
    counter = _CrossingCounter(items)
    best = counter.count(pos)
    best_layers = [lay[:] for lay in layers]
    if best == 0:
        return
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        rng = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        nbrs = items.up if downward else items.down
        for li in rng:
            lay = layers[li]
            if len(lay) > 1:
                _sort_layer(lay, nbrs, pos, comp)
        crossings = counter.count(pos)
        if crossings < best:
            best = crossings
            best_layers = [lay[:] for lay in layers]
            if best == 0:
                break
    items.layers = best_layers
    for lay in best_layers:
        for i, v in enumerate(lay):
            pos[v] = i


def _sort_layer(lay: list[int], nbrs: list[list[int]], pos: list[int], comp: list[int]) -> None:
    """Sort one layer by the barycenter of each item's neighbours in the fixed layer.

    Items without such neighbours keep their place; ties keep the current order.
    """
    keyed = []
    fixed = []
    for i, v in enumerate(lay):
        ns = nbrs[v]
        if ns:
            total = 0
            for u in ns:
                total += pos[u]
            keyed.append((comp[v], total / len(ns), i, v))
        else:
            fixed.append(i)
    keyed.sort()
    if fixed:
        out = [-1] * len(lay)
        for i in fixed:
            out[i] = lay[i]
        it = iter(keyed)
        for i in range(len(out)):
            if out[i] < 0:
                out[i] = next(it)[3]
        lay[:] = out
    else:
        lay[:] = [k[3] for k in keyed]
    for i, v in enumerate(lay):
        pos[v] = i


class _CrossingCounter:
    """Counts crossings between consecutive layers for changing orders of fixed segments."""

    # Layer gaps with more segments than this are counted by sorting instead of by pairs.
    PAIR_LIMIT = 400

    def __init__(self, items: _Items):
        upper, lower, gaps = [], [], []
        for v, ds in enumerate(items.down):
            for w in ds:
                upper.append(v)
                lower.append(w)
                gaps.append(items.layer[v])
        self.upper = np.asarray(upper, dtype=np.int64)
        self.lower = np.asarray(lower, dtype=np.int64)
        gaps_arr = np.asarray(gaps, dtype=np.int64)
        order = np.argsort(gaps_arr, kind="stable")
        self.upper = self.upper[order]
        self.lower = self.lower[order]
        gaps_arr = gaps_arr[order]
        self.pairs_i, self.pairs_j, self.big = _pairs_by_group(gaps_arr, self.PAIR_LIMIT)

    def count(self, pos: list[int]) -> int:
        p = np.asarray(pos, dtype=np.int64)
        a = p[self.upper]
        b = p[self.lower]
        i, j = self.pairs_i, self.pairs_j
        total = int(np.count_nonzero((a[i] - a[j]) * (b[i] - b[j]) < 0))
        for lo, hi in self.big:
            total += _count_inversions(a[lo:hi], b[lo:hi])
        return total


def _pairs_by_group(groups: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """All index pairs i < j within runs of equal ``groups`` (runs longer than ``limit`` apart)."""
    m = len(groups)
    if m == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, []
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], m]
    sizes = ends - starts
    big = [(int(s), int(e)) for s, e, z in zip(starts, ends, sizes) if z > limit]
    idx = np.arange(m)
    counts = np.repeat(ends, sizes) - idx - 1
    counts[np.repeat(sizes > limit, sizes)] = 0
    total = int(counts.sum())
    pi = np.repeat(idx, counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    pj = pi + 1 + offsets
    return pi, pj, big


def _count_inversions(a: np.ndarray, b: np.ndarray) -> int:
    """Pairs of segments (a_i, b_i), (a_j, b_j) with a_i < a_j and b_i > b_j."""
    order = np.lexsort((b, a))
    seq = b[order]
    return _merge_count(seq.tolist())[1]


def _merge_count(seq: list) -> tuple[list, int]:
    if len(seq) <= 1:
        return seq, 0
    mid = len(seq) // 2
    left, x = _merge_count(seq[:mid])
    right, y = _merge_count(seq[mid:])
    merged = []
    count = x + y
    i = j = 0
    while i < len(left) and j < len(right):
        if right[j] < left[i]:
            merged.append(right[j])
            count += len(left) - i
            j += 1
        else:
            merged.append(left[i])
            i += 1
    merged.extend(left[i:])
    merged.extend(right[j:])
    return merged, count


# --------------------------------------------------------------------------------------------
# coordinates (Brandes-Koepf, with dagre's two-pass block compaction)
# --------------------------------------------------------------------------------------------


def _coordinates(items: _Items, node_gap: float) -> list[float]:
    """x of every item: the balanced median of the four Brandes-Koepf alignments."""
    count = len(items.layer)
    n = items.n
    width = items.width
    comp = items.comp

    def sep(u: int, v: int) -> float:
        gap = node_gap if (u < n or v < n) else EDGE_GAP
        return (width[u] + width[v]) / 2 + gap

    conflicts = _type1_conflicts(items)
    results = []
    for vertical in ("down", "up"):
        for horizontal in ("left", "right"):
            layers = items.layers if vertical == "down" else items.layers[::-1]
            nbrs = items.up if vertical == "down" else items.down
            if horizontal == "right":
                layers = [lay[::-1] for lay in layers]
            pos = [0] * count
            for lay in layers:
                for i, v in enumerate(lay):
                    pos[v] = i
            root, align = _vertical_alignment(layers, nbrs, pos, conflicts, count)
            xs = _horizontal_compaction(layers, root, align, sep, comp, count)
            if horizontal == "right":
                xs = [-x for x in xs]
            results.append(xs)
    # Align the four to the narrowest one, then take the mean of the two middle values.
    spans = [(max(xs) - min(xs), i) for i, xs in enumerate(results)]
    _, narrow = min(spans)
    lo, hi = min(results[narrow]), max(results[narrow])
    arr = np.asarray(results)
    for i in range(4):
        if i % 2 == 0:
            arr[i] += lo - arr[i].min()
        else:
            arr[i] += hi - arr[i].max()
    arr.sort(axis=0)
    return ((arr[1] + arr[2]) / 2).tolist()


def _type1_conflicts(items: _Items) -> set[tuple[int, int]]:
    """Segments that cross an inner segment (dummy to dummy); those are never aligned."""
    n = items.n
    marked: set[tuple[int, int]] = set()
    layers = items.layers
    pos = items.pos
    up = items.up
    for li in range(1, len(layers)):
        upper, lower = layers[li - 1], layers[li]
        if len(upper) < 2 and len(lower) < 2:
            continue
        k0 = 0
        scan = 0
        last = len(lower) - 1
        for l1, v in enumerate(lower):
            inner = v >= n and up[v] and up[v][0] >= n
            if l1 == last or inner:
                k1 = pos[up[v][0]] if inner else len(upper) - 1
                while scan <= l1:
                    w = lower[scan]
                    for u in up[w]:
                        k = pos[u]
                        if k < k0 or k > k1:
                            if not (w >= n and u >= n):
                                marked.add((u, w))
                    scan += 1
                k0 = k1
    return marked


def _vertical_alignment(layers, nbrs, pos, conflicts, count):
    root = list(range(count))
    align = list(range(count))
    for li in range(1, len(layers)):
        r = -1
        for v in layers[li]:
            ns = nbrs[v]
            if not ns:
                continue
            if len(ns) > 1:
                ns = sorted(ns, key=pos.__getitem__)
            d = len(ns)
            lo = (d - 1) // 2
            for m in (lo, d // 2) if d % 2 == 0 else (lo,):
                if align[v] != v:
                    break
                u = ns[m]
                if r < pos[u] and (u, v) not in conflicts and (v, u) not in conflicts:
                    align[u] = v
                    root[v] = root[u]
                    align[v] = root[v]
                    r = pos[u]
    return root, align


def _horizontal_compaction(layers, root, align, sep, comp, count):
    """Blocks as far left as separation allows, then pulled right into unused space."""
    # Block graph: an edge from the block of each item to the block of its right neighbour.
    succ: dict[int, dict[int, float]] = {}
    pred: dict[int, dict[int, float]] = {}
    for lay in layers:
        for a, b in zip(lay, lay[1:]):
            if comp[a] != comp[b]:
                continue
            ra, rb = root[a], root[b]
            s = sep(a, b)
            edges = succ.setdefault(ra, {})
            if edges.get(rb, -1.0) < s:
                edges[rb] = s
                pred.setdefault(rb, {})[ra] = s
    blocks = [v for v in range(count) if root[v] == v]
    # Topological order of the block graph (acyclic: alignments between two layers never cross).
    indeg = {b: len(pred.get(b, ())) for b in blocks}
    stack = [b for b in reversed(blocks) if indeg[b] == 0]
    topo = []
    while stack:
        b = stack.pop()
        topo.append(b)
        for c in succ.get(b, ()):
            indeg[c] -= 1
            if indeg[c] == 0:
                stack.append(c)
    xs_block: dict[int, float] = {}
    for b in topo:
        x = 0.0
        for a, s in pred.get(b, {}).items():
            x = max(x, xs_block[a] + s)
        xs_block[b] = x
    for b in reversed(topo):
        nxt = succ.get(b)
        if nxt:
            x = min(xs_block[c] - s for c, s in nxt.items())
            if x > xs_block[b]:
                xs_block[b] = x
    return [xs_block[root[v]] for v in range(count)]


# --------------------------------------------------------------------------------------------
# final coordinates and routes
# --------------------------------------------------------------------------------------------


def _finish(g, items, xs, heights, root_at, layer_gap, node_gap) -> Layout:
    n = g.n
    comp = items.comp
    layer = items.layer
    count = len(xs)
    # Components side by side: each moves right of the ones before it.
    ncomp = max(comp) + 1
    lo = [float("inf")] * ncomp
    hi = [float("-inf")] * ncomp
    w_of = items.width
    for v in range(count):
        c = comp[v]
        left = xs[v] - w_of[v] / 2
        right = xs[v] + w_of[v] / 2
        if left < lo[c]:
            lo[c] = left
        if right > hi[c]:
            hi[c] = right
    shift = [0.0] * ncomp
    cursor = 0.0
    gap = 2 * node_gap
    for c in range(ncomp):
        shift[c] = cursor - lo[c]
        cursor += hi[c] - lo[c] + gap
    width = max(0.0, cursor - gap)
    xs = [xs[v] + shift[comp[v]] for v in range(count)]
    # Layer bands: each as tall as its tallest node.
    nlayers = len(items.layers)
    band = [0.0] * nlayers
    for v in range(n):
        if heights[v] > band[layer[v]]:
            band[layer[v]] = heights[v]
    ys = [0.0] * nlayers
    y = 0.0
    for li in range(nlayers):
        ys[li] = y + band[li] / 2
        y += band[li] + layer_gap
    height = y - layer_gap
    flip = root_at == "bottom"

    def fy(v: float) -> float:
        return height - v if flip else v

    positions = {g.ids[v]: (xs[v], fy(ys[layer[v]])) for v in range(n)}
    routes: dict[tuple[str, str, int], tuple[tuple[float, float], ...]] = {}
    # Parallel edges between adjacent layers: each gets a point of its own in the gap between.
    parallel: dict[tuple[int, int], list[int]] = {}
    for k, chain in enumerate(items.chains):
        if len(chain) == 2:
            parallel.setdefault((chain[0], chain[1]), []).append(k)
    spread: dict[int, float] = {}
    for ks in parallel.values():
        if len(ks) > 1:
            for i, k in enumerate(ks):
                spread[k] = (i - (len(ks) - 1) / 2) * PARALLEL_GAP
    for k, chain in enumerate(items.chains):
        if len(chain) < 2:  # a self-loop
            routes[g.keys[k]] = ()
            continue
        s, d = chain[0], chain[-1]
        ls, ld = layer[s], layer[d]
        points: list[tuple[float, float]] = []
        # A node lower than its layer's band first runs down (up) to the band's edge, so the
        # edge never cuts through a taller neighbour.
        if heights[s] < band[ls]:
            points.append((xs[s], fy(ys[ls] + band[ls] / 2)))
        if k in spread:
            mid_y = (ys[ls] + band[ls] / 2 + ys[ld] - band[ld] / 2) / 2
            points.append(((xs[s] + xs[d]) / 2 + spread[k], fy(mid_y)))
        for v in chain[1:-1]:
            li = layer[v]
            half = band[li] / 2
            if half > 0:
                points.append((xs[v], fy(ys[li] - half)))
                points.append((xs[v], fy(ys[li] + half)))
            else:
                points.append((xs[v], fy(ys[li])))
        if heights[d] < band[ld]:
            points.append((xs[d], fy(ys[ld] - band[ld] / 2)))
        if k in g.back:
            points.reverse()
        routes[g.keys[k]] = tuple(points)
    layers = {g.ids[v]: layer[v] for v in range(n)}
    return Layout(positions, routes, layers, width, max(0.0, height))


# --------------------------------------------------------------------------------------------
# measuring a drawing
# --------------------------------------------------------------------------------------------


def count_crossings(layout: Layout, graph: GraphData) -> int:
    """Edge crossings of a drawing, counted between consecutive layers.

    Every edge is followed as the polyline source, route points, destination, and its x is read
    where it passes the centre line of each layer in between (for a layered drawing: its dummy
    nodes; for straight edges: the straight line). Two edge pieces between the same two layers
    cross when their x order flips strictly, so pieces that share an end never count. Works for
    any Layout, also one made another way, as long as ``layers`` and ``positions`` are filled.
    """
    pos = layout.positions
    lay = layout.layers
    if not lay:
        return 0
    centre: dict[int, float] = {}
    for nid, li in lay.items():
        centre.setdefault(li, pos[nid][1])
    gaps: list[int] = []
    xa: list[float] = []
    xb: list[float] = []
    for e in graph.edges:
        if e.src not in pos or e.dst not in pos:
            continue
        la, lb = lay[e.src], lay[e.dst]
        pts = [pos[e.src], *layout.routes.get((e.src, e.dst, e.index), ()), pos[e.dst]]
        if la == lb:
            continue
        if la > lb:
            la, lb = lb, la
            pts.reverse()
        if lb - la == 1:
            gaps.append(la)
            xa.append(pts[0][0])
            xb.append(pts[-1][0])
            continue
        py = np.asarray([p[1] for p in pts], dtype=float)
        px = np.asarray([p[0] for p in pts], dtype=float)
        if all(li in centre for li in range(la, lb + 1)):
            cy = np.asarray([centre[li] for li in range(la, lb + 1)], dtype=float)
        else:  # a layer without nodes: space the centre lines evenly
            cy = np.linspace(py[0], py[-1], lb - la + 1)
        if py[-1] < py[0]:
            py, cy = -py, -cy
        x_at = np.interp(cy, py, px)
        gaps.extend(range(la, lb))
        xa.extend(x_at[:-1].tolist())
        xb.extend(x_at[1:].tolist())
    if not gaps:
        return 0
    return _crossings_of_pieces(np.asarray(gaps), np.asarray(xa), np.asarray(xb))


def _crossings_of_pieces(gaps: np.ndarray, xa: np.ndarray, xb: np.ndarray) -> int:
    """Pairs of pieces in the same gap whose x order flips (strictly) from top to bottom."""
    order = np.lexsort((xb, xa, gaps))
    gaps, xa, xb = gaps[order], xa[order], xb[order]
    total = 0
    pi, pj, big = _pairs_by_group(gaps, 2000)
    if len(pi):
        total += int(np.count_nonzero((xa[pi] - xa[pj]) * (xb[pi] - xb[pj]) < 0))
    for lo, hi in big:
        # Ties in xa (a shared top end) are sorted by xb, so they never count as inversions;
        # ties in xb (a shared bottom end) are equal values, which merge counting skips.
        total += _merge_count(xb[lo:hi].tolist())[1]
    return total
