"""Layered (Sugiyama-style) layout of autograd graphs: layers, dummy nodes, crossing reduction, coordinates."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gradviz.core.collector import collector_paused
from gradviz.core.result import GraphData

#: (width, height) of a node when ``sizes`` does not give one.
DEFAULT_SIZE = (120.0, 44.0)
#: Horizontal distance between neighbouring routes of long edges (dummy nodes have no width).
EDGE_GAP = 16.0
#: Horizontal distance between parallel edges that join the same two nodes.
PARALLEL_GAP = 18.0
#: Crossing reduction: after how many pairs of barycenter passes (a pass moves the odd or the
#: even layers) the crossings are counted; it stops at the first count that is no better.
ORDER_CHECKS = (1, 2, 3, 4, 6, 8, 11, 14, 18, 24)


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


def layered_layout(
    graph: GraphData,
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
    centred over their children. Deterministic: ties are broken by the order of ``graph.roots``,
    ``graph.nodes`` and edge ``index``.

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
    with collector_paused():  # tens of thousands of small lists, no cycles
        return _layout(graph, sizes, root_at, layer_gap, node_gap)


def _layout(graph, sizes, root_at, layer_gap, node_gap) -> Layout:
    g = _Graph.build(graph)
    if g.n == 0:
        return Layout({}, {}, {}, 0.0, 0.0)
    widths, heights = _sizes(g.ids, sizes)
    layer = _layering(g)
    items = _Items.build(g, layer, widths)
    _order(items, g)
    xs = _coordinates(items, g.hang, g.hang_up, node_gap)
    return _finish(g, items, xs, heights, root_at, layer_gap, node_gap)


# --------------------------------------------------------------------------------------------
# graph in integer form
# --------------------------------------------------------------------------------------------


@dataclass
class _Graph:
    ids: list[str]
    roots: list[int]
    # Edges with known endpoints, in graph order: src, dst, key (src id, dst id, index).
    src: list[int]
    dst: list[int]
    keys: list[tuple[str, str, int]]
    # Out-edges of each node as edge numbers, in ``index`` order.
    out: list[list[int]]
    # Edges that close a cycle: ignored for layering, drawn against the flow.
    back: set[int] = field(default_factory=set)
    # Height of the hanging subtree below each node (0: the node does not hang), see _layering,
    # and of the one-child chain above it (0: not such a chain).
    hang: list[int] = field(default_factory=list)
    hang_up: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, graph: GraphData) -> _Graph:
        index: dict[str, int] = {}
        for node in graph.nodes:
            index.setdefault(node.id, len(index))
        ids = list(index)
        keys = [(e.src, e.dst, e.index) for e in graph.edges]
        if len(set(keys)) != len(keys):  # the same edge twice: keep the first
            keys = list(dict.fromkeys(keys))
        get = index.get
        src_all = [get(k[0]) for k in keys]
        dst_all = [get(k[1]) for k in keys]
        if None in src_all or None in dst_all:  # edges to nodes that are not in the graph
            kept = [i for i, (s, d) in enumerate(zip(src_all, dst_all)) if s is not None and d is not None]
            keys = [keys[i] for i in kept]
            src_all = [src_all[i] for i in kept]
            dst_all = [dst_all[i] for i in kept]
        out: list[list[int]] = [[] for _ in ids]
        for k in sorted(range(len(keys)), key=lambda k: keys[k][2]):
            out[src_all[k]].append(k)
        roots = [index[r] for r in dict.fromkeys(graph.roots) if r in index]
        return cls(ids, roots, src_all, dst_all, keys, out)


def _sizes(ids: list[str], sizes: Mapping[str, tuple[float, float]] | None) -> tuple[np.ndarray, np.ndarray]:
    if not sizes:
        return np.full(len(ids), DEFAULT_SIZE[0]), np.full(len(ids), DEFAULT_SIZE[1])
    wh = np.asarray([sizes.get(nid, DEFAULT_SIZE) for nid in ids], dtype=float).reshape(len(ids), 2)
    wh = np.maximum(wh, 0.0)
    return wh[:, 0].copy(), wh[:, 1].copy()


# --------------------------------------------------------------------------------------------
# layering
# --------------------------------------------------------------------------------------------


def _layering(g: _Graph) -> list[int]:
    """Longest-path layers from the sources, with room for hanging leaves above merges.

    A node sits one layer below its deepest parent, except that a node where three or more
    parents meet also sits below every *hanging* subtree of those parents (a subtree whose nodes
    each have one parent, such as AccumulateGrad -> parameter): a parent in the middle of the
    merge would otherwise trap its leaves between the edges that meet, and some edge would have
    to cross them (a q/k/v merge into one layer_norm costs a crossing per transformer block).
    """
    n = g.n
    order = _topological_order(g)
    back = g.back
    kids: list[list[int]] = [[] for _ in range(n)]
    parents: list[set[int]] = [set() for _ in range(n)]
    for k, (s, d) in enumerate(zip(g.src, g.dst)):
        if s == d:
            continue
        if k in back:
            s, d = d, s
        kids[s].append(d)
        parents[d].add(s)
    nparents = [len(p) for p in parents]
    # Height of the hanging subtree below each node (0: the node does not hang).
    hang = [0] * n
    for v in reversed(order):
        if nparents[v] == 1:
            h = 1
            for d in kids[v]:
                if hang[d] == 0:
                    h = 0
                    break
                if hang[d] >= h:
                    h = hang[d] + 1
            hang[v] = h
    g.hang = hang
    # The same upward: nodes with one child whose ancestors all have one child (a root tensor
    # above its grad_fn), with the height of that chain.
    nkids = [len(set(k)) for k in kids]
    hang_up = [0] * n
    for v in order:
        if nkids[v] == 1:
            h = 1
            for p in parents[v]:
                if hang_up[p] == 0:
                    h = 0
                    break
                if hang_up[p] >= h:
                    h = hang_up[p] + 1
            hang_up[v] = h
    g.hang_up = hang_up
    layer = [0] * n
    for v in order:
        lv = layer[v] + 1
        merge_gap = -1
        for d in kids[v]:
            need = lv
            if nparents[d] >= 3:
                if merge_gap < 0:
                    merge_gap = max([hang[c] for c in kids[v]])
                need += merge_gap
            if layer[d] < need:
                layer[d] = need
    # Sources (roots among them) move down to just above their highest child: a root whose
    # tensor is an intermediate of another root's graph sits next to its grad_fn, not at the
    # top with a long edge (hundreds of such roots made hundreds of thousands of dummies).
    for v in order:
        if nparents[v] == 0 and kids[v]:
            layer[v] = min([layer[d] for d in kids[v]]) - 1
    return layer


def _topological_order(g: _Graph) -> list[int]:
    """Kahn's order, depth first; edges that close a cycle go into ``g.back`` and are skipped."""
    n = g.n
    remaining = [0] * n
    for s, d in zip(g.src, g.dst):
        if s != d:
            remaining[d] += 1
    stack = [v for v in range(n) if remaining[v] == 0][::-1]
    order: list[int] = []
    while True:
        while stack:
            v = stack.pop()
            order.append(v)
            for k in g.out[v]:
                d = g.dst[k]
                if d == v or k in g.back:
                    continue
                remaining[d] -= 1
                if remaining[d] == 0:
                    stack.append(d)
        if len(order) == n:
            return order
        # Autograd graphs have no cycles, but GraphData may come from anywhere.
        _break_cycles(g, order, remaining)
        placed = set(order)
        stack = [v for v in range(n) if remaining[v] == 0 and v not in placed][::-1]


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
# dummy nodes
# --------------------------------------------------------------------------------------------


@dataclass
class _Items:
    """Real nodes (0..n-1) and dummy nodes (n..count-1), as numpy arrays.

    Each edge runs from its upper end ``top`` through its dummies ``first .. first+ndum-1`` (one
    per skipped layer) to its lower end ``bottom``; an edge that closes a cycle runs upside down
    and a self-loop has no segments. ``upper``/``lower`` are the segments between consecutive
    layers (edge after edge, so parallel edges repeat); ``child``/``child_start`` list the lower
    ends of each item's segments in edge ``index`` order.
    """

    n: int
    count: int
    layer: np.ndarray
    width: np.ndarray
    comp: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    first: np.ndarray
    ndum: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    child: list[int]
    child_start: list[int]
    chain_of: np.ndarray  # for each dummy (n..), which edge or trunk it belongs to
    # Filled by _order: items sorted by layer and position, each item's position, layer starts.
    seq: np.ndarray | None = None
    pos: np.ndarray | None = None
    sizes: np.ndarray | None = None
    starts: np.ndarray | None = None

    @classmethod
    def build(cls, g: _Graph, layer: list[int], widths: np.ndarray) -> _Items:
        n = g.n
        m = len(g.src)
        top = np.asarray(g.src, dtype=np.int64)
        bottom = np.asarray(g.dst, dtype=np.int64)
        if g.back:
            flip = np.asarray(sorted(g.back), dtype=np.int64)
            top[flip], bottom[flip] = bottom[flip].copy(), top[flip].copy()
        node_layer = np.asarray(layer, dtype=np.int64)
        loop = top == bottom
        span = np.where(loop, 0, node_layer[bottom] - node_layer[top])
        bundles = _bundles(top, bottom, span, node_layer)
        bundled = np.zeros(m, dtype=bool)
        for _, _, members in bundles:
            bundled[members] = True
        # Dummies of the edges that run on their own, edge after edge ...
        ndum = np.where(bundled, 0, np.maximum(span - 1, 0))
        first = n + np.cumsum(ndum) - ndum
        total = int(ndum.sum())
        edge_of = np.repeat(np.arange(m), ndum)
        offset = np.arange(total) - (np.repeat(first, ndum) - n)
        dummy_layer = [node_layer[top][edge_of] + 1 + offset]
        dummy_owner = [top[edge_of]]
        dummy_chain = [edge_of]
        # ... and each chain's segments: top, its dummies, bottom.
        clen = np.where(loop | bundled, 0, ndum + 2)
        e = np.repeat(np.arange(m), clen)
        j = np.arange(len(e)) - np.repeat(np.cumsum(clen) - clen, clen)
        chain = np.where(j == 0, top[e], np.where(j == clen[e] - 1, bottom[e], first[e] + j - 1))
        same = e[:-1] == e[1:]
        uppers, lowers, seg_edges = [chain[:-1][same]], [chain[1:][same]], [e[:-1][same]]
        # Bundles: one trunk of dummies shared by their edges (see _bundles).
        next_id = n + total
        first = first.copy()
        for side, node, members in bundles:
            tl, bl = node_layer[top[members]], node_layer[bottom[members]]
            lo = int(tl.min()) + 1 if side == "in" else int(node_layer[node]) + 1
            hi = int(node_layer[node]) - 1 if side == "in" else int(bl.max()) - 1
            trunk = np.arange(next_id, next_id + hi - lo + 1)
            next_id += len(trunk)
            dummy_layer.append(np.arange(lo, hi + 1))
            dummy_owner.append(np.full(len(trunk), node))
            dummy_chain.append(np.full(len(trunk), m + len(dummy_chain)))
            if side == "in":  # each edge joins the trunk below its upper end
                first[members] = trunk[0] + (tl + 1 - lo)
                ndum[members] = hi - tl
                uppers += [top[members], trunk[:-1], trunk[-1:]]
                lowers += [first[members], trunk[1:], [node]]
                seg_edges += [members, np.full(len(trunk) - 1, members[0]), members[:1]]
            else:  # each edge leaves the trunk above its lower end
                first[members] = trunk[0]
                ndum[members] = bl - 1 - lo + 1
                leave = trunk[0] + (bl - 1 - lo)
                uppers += [[node], trunk[:-1], leave]
                lowers += [trunk[:1], trunk[1:], bottom[members]]
                seg_edges += [members[:1], np.full(len(trunk) - 1, members[0]), members]
        count = next_id
        upper = np.concatenate(uppers).astype(np.int64)
        lower = np.concatenate(lowers).astype(np.int64)
        seg_edge = np.concatenate(seg_edges).astype(np.int64)
        item_layer = np.concatenate([node_layer, *dummy_layer]).astype(np.int64)
        width = np.concatenate([np.asarray(widths, dtype=float), np.zeros(count - n)])
        # Children in edge ``index`` order (g.out), for the depth-first start of ordering.
        rank = np.empty(m, dtype=np.int64)
        rank[list(itertools.chain.from_iterable(g.out))] = np.arange(m)
        order = np.lexsort((rank[seg_edge], upper))
        child = lower[order]
        child_start = np.searchsorted(upper[order], np.arange(count + 1))
        owner = np.concatenate([np.arange(n), *dummy_owner]).astype(np.int64)
        comp = _components(g, top, bottom, loop, owner)
        chain_of = np.concatenate(dummy_chain).astype(np.int64)
        return cls(n, count, item_layer, width, comp, top, bottom, first, ndum, upper, lower,
                   child.tolist(), child_start.tolist(), chain_of)


#: A node whose long edges on one side (into it, or out of it) are at least this many, and
#: would need more dummies apart than together, gets one trunk of dummies for all of them.
BUNDLE_MIN = 6


def _bundles(top, bottom, span, node_layer) -> list[tuple[str, int, np.ndarray]]:
    """Edges to draw as one trunk: ``(side, node, edges)``, side "in" or "out" of ``node``.

    Apart, k long edges into one node need a column of dummies each: a weight shared by the
    1,000 steps of an unrolled RNN would need half a million, and the drawing a thousand
    parallel lines. Together they need one column, the trunk, which each edge joins below its
    upper end (or, out of one node, leaves above its lower end): the drawing shows one line
    collecting all the uses, like a bus. Only for nodes with BUNDLE_MIN long edges or more, so
    a few long edges keep their own routes (and their place in a crossing-free order).
    """
    long = np.flatnonzero(span > 1)
    if len(long) < BUNDLE_MIN:
        return []
    candidates = []
    for side, ends in (("in", bottom), ("out", top)):
        nodes, counts = np.unique(ends[long], return_counts=True)
        for node in nodes[counts >= BUNDLE_MIN].tolist():
            candidates.append((side, node, long[ends[long] == node]))

    def saving(side: str, node: int, members: np.ndarray) -> int:
        apart = int((span[members] - 1).sum())
        if side == "in":
            together = int(node_layer[node] - node_layer[top[members]].min() - 1)
        else:
            together = int(node_layer[bottom[members]].max() - node_layer[node] - 1)
        return apart - together

    candidates.sort(key=lambda c: (-saving(*c), c[0], c[1]))
    taken = np.zeros(len(span), dtype=bool)
    bundles = []
    for side, node, members in candidates:
        members = members[~taken[members]]
        if len(members) >= BUNDLE_MIN and saving(side, node, members) > 0:
            taken[members] = True
            bundles.append((side, node, members))
    return bundles


def _components(g: _Graph, top, bottom, loop, owner) -> np.ndarray:
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

    for s, d in zip(top.tolist(), bottom.tolist()):
        rs, rd = find(s), find(d)
        if rs != rd:
            parent[max(rs, rd)] = min(rs, rd)
    label: dict[int, int] = {}
    for v in _root_order(g):
        label.setdefault(find(v), len(label))
    comp[:n] = [label[find(v)] for v in range(n)]
    comp[n:] = comp[owner[n:]]
    return comp


def _root_order(g: _Graph) -> list[int]:
    """Declared roots first, then the other nodes in graph order."""
    return list(dict.fromkeys(g.roots + list(range(g.n))))


# --------------------------------------------------------------------------------------------
# crossing reduction
# --------------------------------------------------------------------------------------------


def _order(items: _Items, g: _Graph) -> None:
    """Order every layer: a depth-first start, then barycenter passes; keep the best seen."""
    count = items.count
    layer = items.layer
    comp = items.comp
    # Depth-first from the roots, taking a node when the last of its parents has been taken:
    # every subtree of a tree gets a contiguous stretch of each layer (no crossings before any
    # pass), and a node where branches meet comes after all of them, not inside the first.
    child, start = items.child, items.child_start
    waiting = np.bincount(items.lower, minlength=count).tolist()
    stack = [v for v in reversed(_root_order(g)) if waiting[v] == 0]
    visit = []
    while stack:
        v = stack.pop()
        visit.append(v)
        for i in range(start[v + 1] - 1, start[v] - 1, -1):
            w = child[i]
            waiting[w] -= 1
            if waiting[w] == 0:
                stack.append(w)
    visit = np.asarray(visit, dtype=np.int64)
    # Layer by layer, components kept together in root order, else in visiting order.
    ncomp = int(comp.max()) + 1
    group = layer * ncomp + comp
    seq = visit[np.argsort(group[visit], kind="stable")]
    sizes = np.bincount(layer)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    ranks = np.arange(count)
    pos = np.empty(count, dtype=np.int64)
    pos[seq] = ranks - starts[layer[seq]]
    items.sizes, items.starts = sizes, starts
    upper, lower = items.upper, items.lower
    counter = _CrossingCounter(upper, lower, layer)
    best = counter.count(pos)
    best_seq, best_pos = seq, pos
    if best > 0:
        # Barycenter passes over all layers at once, odd layers then even layers (so each pass
        # sees its neighbours' latest order), each item moving to the mean position of its
        # neighbours above and below. Positions are taken relative to the layer's length so
        # layers compare; items with no neighbours stay; ties keep the current order (a stable
        # sort on layer and component plus the barycenter, which lies in [0, 1)).
        size = sizes[layer].astype(float)
        degree = np.bincount(upper, minlength=count) + np.bincount(lower, minlength=count)
        has_nbrs = degree > 0
        degree = np.maximum(degree, 1)
        odd = layer % 2 == 1
        key_base = group.astype(float)
        # Counting costs a pass over every pair of segments of a layer gap: for graphs with
        # crowded gaps count half as often.
        checks = set(ORDER_CHECKS if len(counter.pairs_i) < 200_000 else ORDER_CHECKS[1::2])
        for step in range(2 * ORDER_CHECKS[-1]):
            norm = (pos + 0.5) / size
            total = np.bincount(lower, weights=norm[upper], minlength=count)
            total += np.bincount(upper, weights=norm[lower], minlength=count)
            moving = (odd if step % 2 == 0 else ~odd) & has_nbrs
            key = key_base + np.where(moving, total / degree, norm)
            seq = seq[np.argsort(key[seq], kind="stable")]
            pos = np.empty(count, dtype=np.int64)
            pos[seq] = ranks - starts[layer[seq]]
            if step % 2 == 1 and (step + 1) // 2 in checks:
                crossings = counter.count(pos)
                if crossings >= best:
                    break
                best, best_seq, best_pos = crossings, seq, pos
                if best == 0:
                    break
    if best > 0:
        best_seq, best_pos = _transpose(items, best_seq, best_pos, starts)
    items.seq, items.pos = best_seq, best_pos


#: Transposition: most rounds over all four (layer parity, pair offset) classes.
TRANSPOSE_CYCLES = 20
#: Pairs whose two items have more segment combinations than this on one side are left alone.
TRANSPOSE_WORK = 4096


def _transpose(items: _Items, seq: np.ndarray, pos: np.ndarray, starts: np.ndarray):
    """Swap neighbouring items wherever that removes crossings, many swaps at once.

    A round looks at disjoint pairs of neighbours (every other pair) in every other layer, so
    the layers around them stay put and each swap's effect is exact: it changes only the
    crossings between the two items' own segments. Each accepted swap removes crossings.
    """
    count = items.count
    layer, comp = items.layer, items.comp
    sides = []
    for keys, values in ((items.lower, items.upper), (items.upper, items.lower)):
        order = np.argsort(keys, kind="stable")
        start = np.searchsorted(keys[order], np.arange(count + 1))
        sides.append((values[order], start, np.diff(start)))
    seq, pos = seq.copy(), pos.copy()
    parity = layer % 2
    for _ in range(TRANSPOSE_CYCLES):
        swapped = False
        for want_parity in (0, 1):
            for offset in (0, 1):
                a, b = seq[:-1], seq[1:]
                ok = (layer[a] == layer[b]) & (parity[a] == want_parity) & (pos[a] % 2 == offset)
                ok &= comp[a] == comp[b]
                u, v = a[ok], b[ok]
                if len(u) == 0:
                    continue
                gain = np.zeros(len(u))
                for flat, start, degree in sides:
                    du, dv = degree[u], degree[v]
                    work = du * dv
                    work[work > TRANSPOSE_WORK] = 0
                    total = int(work.sum())
                    if total == 0:
                        continue
                    pair = np.repeat(np.arange(len(u)), work)
                    t = np.arange(total) - np.repeat(np.cumsum(work) - work, work)
                    dvp = dv[pair]
                    px = pos[flat[start[u][pair] + t // dvp]]
                    py = pos[flat[start[v][pair] + t % dvp]]
                    # Crossings now (x right of y) minus crossings after the swap (x left of y).
                    gain += np.bincount(pair, weights=(px > py).astype(float) - (px < py), minlength=len(u))
                better = gain > 0
                if not better.any():
                    continue
                swapped = True
                su, sv = u[better], v[better]
                at = pos[su].copy()
                pos[su], pos[sv] = at + 1, at
                base = starts[layer[su]] + at
                seq[base], seq[base + 1] = sv, su
        if not swapped:
            break
    return seq, pos


class _CrossingCounter:
    """Counts crossings between consecutive layers for changing orders of fixed segments."""

    # Layer gaps with more segments than this are counted by sorting instead of by pairs.
    PAIR_LIMIT = 300

    def __init__(self, upper: np.ndarray, lower: np.ndarray, layer: np.ndarray):
        gaps = layer[upper]
        order = np.argsort(gaps, kind="stable")
        self.upper = upper[order]
        self.lower = lower[order]
        self.pairs_i, self.pairs_j, self.big = _pairs_by_group(gaps[order], self.PAIR_LIMIT)

    def count(self, pos: np.ndarray) -> int:
        a = pos[self.upper]
        b = pos[self.lower]
        i, j = self.pairs_i, self.pairs_j
        total = int(np.count_nonzero((a[i] - a[j]) * (b[i] - b[j]) < 0))
        for lo, hi in self.big:
            aa, bb = a[lo:hi], b[lo:hi]
            total += _inversions(bb[np.lexsort((bb, aa))])
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


def _inversions(values: np.ndarray) -> int:
    """Pairs i < j with values[i] > values[j], in O(n log n) numpy steps.

    For each bit, from the lowest: among values that agree on all higher bits, every value with
    the bit clear is passed by the earlier ones with the bit set.
    """
    n = len(values)
    if n < 2:
        return 0
    _, v = np.unique(values, return_inverse=True)
    v = v.ravel().astype(np.int64)
    total = 0
    for t in range(int(v.max()).bit_length()):
        group = v >> (t + 1)
        bit = (v >> t) & 1
        order = np.argsort(group, kind="stable")
        g, b = group[order], bit[order]
        ones_before = np.cumsum(b) - b
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        base = np.repeat(ones_before[starts], np.diff(np.r_[starts, n]))
        total += int((ones_before - base)[b == 0].sum())
    return total


# --------------------------------------------------------------------------------------------
# coordinates (Brandes-Koepf, with dagre's two-pass block compaction)
# --------------------------------------------------------------------------------------------


def _coordinates(items: _Items, hang: list[int], hang_up: list[int], node_gap: float) -> np.ndarray:
    """x of every item: the balanced median of four Brandes-Koepf alignments, in numpy.

    Changes to the published method, all for the shapes of autograd graphs. A sink that is
    the only child of its parent (a parameter below its AccumulateGrad) is never part of a
    block: rigid columns of leaves otherwise push each other sideways layer after layer (a
    700-layer MLP drifted 100,000 units to the side); such sinks are put back under their
    parent afterwards wherever there is room. Medians, and the winner among several items that
    want the same neighbour, are taken among the neighbours that reach furthest (long edges,
    then nodes that do not hang, then the deepest hanging subtrees, see _layering; upward the
    same with one-child chains such as root tensors), the middle one of those: an MLP's or a
    CNN's spine, not its weights, continues straight, a residual stream stays one vertical line
    past its branches, and a chain stays straight past the roots that point into it.
    """
    count, n = items.count, items.n
    layer, pos, width, comp = items.layer, items.pos, items.width, items.comp
    upper, lower = items.upper, items.lower
    real = np.arange(count) < n
    reach_down = np.full(count, count + 2, dtype=np.int64)
    hang_arr = np.asarray(hang, dtype=np.int64)
    reach_down[:n] = np.where(hang_arr > 0, hang_arr, count + 1)
    reach_up = np.full(count, count + 2, dtype=np.int64)
    hang_arr = np.asarray(hang_up, dtype=np.int64)
    reach_up[:n] = np.where(hang_arr > 0, hang_arr, count + 1)
    # Sinks that are their parent's only child.
    children = np.bincount(upper, minlength=count)
    parents = np.bincount(lower, minlength=count)
    loose = np.zeros(count, dtype=bool)
    single = (parents[lower] == 1) & (children[lower] == 0) & real[lower] & (children[upper] == 1)
    loose[lower[single]] = True

    allowed = ~_type1_conflicts(upper, lower, layer, pos, n) & ~loose[lower]
    results = []
    for downward in (True, False):
        v_of, u_of = (lower, upper) if downward else (upper, lower)
        for leftward in (True, False):
            p = pos if leftward else items.sizes[layer] - 1 - pos
            reach_u, reach_v = (reach_up, reach_down) if downward else (reach_down, reach_up)
            root = _vertical_alignment(v_of, u_of, allowed, p, layer, reach_u, reach_v, count)
            xs = _horizontal_compaction(root, p, layer, comp, width, real, node_gap, count)
            results.append(xs if leftward else -xs)
    # Per component: align the four to the narrowest one, then take the mean of the two
    # middle values.
    arr = np.vstack(results)
    ncomp = int(comp.max()) + 1
    lo = np.full((4, ncomp), np.inf)
    hi = np.full((4, ncomp), -np.inf)
    for i in range(4):
        np.minimum.at(lo[i], comp, arr[i])
        np.maximum.at(hi[i], comp, arr[i])
    narrow = np.argmin(hi - lo, axis=0)
    cols = np.arange(ncomp)
    for i in range(4):
        shift = (lo[narrow, cols] - lo[i]) if i % 2 == 0 else (hi[narrow, cols] - hi[i])
        arr[i] += shift[comp]
    arr.sort(axis=0)
    xs = (arr[1] + arr[2]) / 2
    _place_loose_sinks(items, xs, loose, node_gap)
    return xs


def _separation(a, b, width, real, node_gap):
    """Least distance between the centres of neighbours a and b (numpy arrays of items)."""
    gap = np.where(real[a] | real[b], node_gap, EDGE_GAP)
    return (width[a] + width[b]) / 2 + gap


def _type1_conflicts(upper, lower, layer, pos, n) -> np.ndarray:
    """Segments that cross an inner segment (dummy to dummy): those are never aligned.

    Inner segments do not cross each other (barycenter ordering keeps long edges apart), so a
    segment crosses one exactly when the inner segments left of its upper end are not the
    inner segments left of its lower end.
    """
    marked = np.zeros(len(upper), dtype=bool)
    inner = (upper >= n) & (lower >= n)
    if not inner.any():
        return marked
    big = int(pos.max()) + 2
    gap = layer[upper]
    key_u = np.sort(gap[inner] * big + pos[upper[inner]])
    key_l = np.sort(gap[inner] * big + pos[lower[inner]])
    base = gap * big
    left_u = np.searchsorted(key_u, base + pos[upper]) - np.searchsorted(key_u, base)
    left_l = np.searchsorted(key_l, base + pos[lower]) - np.searchsorted(key_l, base)
    marked = (left_u != left_l) & ~inner
    return marked


def _vertical_alignment(v_of, u_of, allowed, p, layer, reach_u, reach_v, count) -> np.ndarray:
    """Block root of every item: each item aligns with its median neighbour in the layer before.

    ``v_of``/``u_of`` are the segments seen from the sweep's side (v in the later layer);
    ``p`` is the position in the sweep's horizontal direction. Medians are taken among the
    neighbours of greatest ``reach_u``, and of several items that want the same neighbour the
    middle one of greatest ``reach_v`` gets it.
    """
    root = np.arange(count)
    if len(v_of) == 0:
        return root
    order = np.lexsort((p[u_of], -reach_u[u_of], v_of))
    vs, us, ok = v_of[order], u_of[order], allowed[order]
    med = _middles(vs, reach_u[us])
    med = med[ok[med]]
    cv, cu = vs[med], us[med]
    if len(cv) == 0:
        return root
    # Several items may want the same neighbour: the middle one of them gets it.
    order = np.lexsort((p[cv], -reach_v[cv], cu))
    cv, cu = cv[order], cu[order]
    mid = _middles(cu, reach_v[cv])
    cv, cu = cv[mid], cu[mid]
    # Alignments between two layers must not cross: left to right, keep each one whose
    # neighbour lies right of every neighbour taken before it.
    order = np.lexsort((p[cv], layer[cv]))
    cv, cu = cv[order], cu[order]
    big = int(p.max()) + 2
    key = layer[cv] * big + p[cu]
    before = np.r_[-1, np.maximum.accumulate(key)[:-1]]
    keep = key > before
    cv, cu = cv[keep], cu[keep]
    link = np.arange(count)
    link[cv] = cu
    # Follow the links to the top of each block (pointer doubling).
    root = link
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def _middles(groups: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Index of the (lower) middle element of each run of equal ``groups``, counted among the
    run's leading elements of greatest ``reach`` (runs are sorted by decreasing reach)."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    top = np.repeat(reach[starts], np.diff(np.r_[starts, len(groups)]))
    counts = np.add.reduceat((reach == top).astype(np.int64), starts)
    return starts + (counts - 1) // 2


def _horizontal_compaction(root, p, layer, comp, width, real, node_gap, count) -> np.ndarray:
    """Blocks as far left as separation allows, then pulled right into unused space.

    This is dagre's variant of the compaction step: a graph with an edge from the block of each
    item to the block of its right neighbour, a longest-path pass and a pull-back pass.
    """
    seq = np.lexsort((p, layer))
    a, b = seq[:-1], seq[1:]
    same = (layer[a] == layer[b]) & (comp[a] == comp[b])
    a, b = a[same], b[same]
    src, dst = root[a], root[b]
    sep = _separation(a, b, width, real, node_gap)
    # One edge per pair of blocks, with the largest separation.
    if len(src):
        key = src * count + dst
        order = np.lexsort((-sep, key))
        key, src, dst, sep = key[order], src[order], dst[order], sep[order]
        first = np.r_[True, key[1:] != key[:-1]]
        src, dst, sep = src[first], dst[first], sep[first]
    x = np.zeros(count)
    if len(src) == 0:
        return x[root]
    # The block graph is shallow for most drawings (a few blocks side by side), so relax all
    # edges at once, round after round; a deep one (many blocks in a row) goes block by block.
    xs = _compact_rounds(src, dst, sep, count)
    if xs is None:
        xs = _compact_sequential(src, dst, sep, root, count)
    return xs[root]


#: Rounds of whole-graph relaxation before compaction goes block by block.
COMPACTION_ROUNDS = 16


def _compact_rounds(src, dst, sep, count) -> np.ndarray | None:
    """Both compaction passes as repeated relaxation of all edges; None if it takes too long."""
    by_dst = np.argsort(dst, kind="stable")
    d_src, d_dst, d_sep = src[by_dst], dst[by_dst], sep[by_dst]
    d_start = np.flatnonzero(np.r_[True, d_dst[1:] != d_dst[:-1]])
    d_node = d_dst[d_start]
    x = np.zeros(count)
    for _ in range(COMPACTION_ROUNDS):
        new = np.maximum.reduceat(x[d_src] + d_sep, d_start)
        if np.array_equal(new, x[d_node]):
            break
        x[d_node] = new
    else:
        return None
    # Pull blocks right, up to their right neighbours, from the right end back.
    by_src = np.argsort(src, kind="stable")
    s_src, s_dst, s_sep = src[by_src], dst[by_src], sep[by_src]
    s_start = np.flatnonzero(np.r_[True, s_src[1:] != s_src[:-1]])
    s_node = s_src[s_start]
    base = x[s_node]
    for _ in range(COMPACTION_ROUNDS):
        new = np.maximum(base, np.minimum.reduceat(x[s_dst] - s_sep, s_start))
        if np.array_equal(new, x[s_node]):
            return x
        x[s_node] = new
    return None


def _compact_sequential(src, dst, sep, root, count) -> np.ndarray:
    """Both compaction passes block by block, in topological order of the block graph."""
    blocks = np.flatnonzero(root == np.arange(count))
    indeg = np.bincount(dst, minlength=count)
    out_order = np.argsort(src, kind="stable")
    out_start = np.searchsorted(src[out_order], np.arange(count + 1))
    dst_l = dst[out_order].tolist()
    sep_l = sep[out_order].tolist()
    start_l = out_start.tolist()
    indeg_l = indeg.tolist()
    stack = blocks[indeg[blocks] == 0][::-1].tolist()
    topo = []
    xs = [0.0] * count
    while stack:
        v = stack.pop()
        topo.append(v)
        xv = xs[v]
        for i in range(start_l[v], start_l[v + 1]):
            w = dst_l[i]
            nx_ = xv + sep_l[i]
            if nx_ > xs[w]:
                xs[w] = nx_
            indeg_l[w] -= 1
            if indeg_l[w] == 0:
                stack.append(w)
    for v in reversed(topo):
        lo, hi = start_l[v], start_l[v + 1]
        if lo < hi:
            m = min([xs[dst_l[i]] - sep_l[i] for i in range(lo, hi)])
            if m > xs[v]:
                xs[v] = m
    return np.asarray(xs)


def _place_loose_sinks(items: _Items, xs: np.ndarray, loose: np.ndarray, node_gap: float) -> None:
    """Move each loose sink as close to the spot under its parent as its neighbours allow."""
    sinks = np.flatnonzero(loose)
    if len(sinks) == 0:
        return
    parent = np.zeros(items.count, dtype=np.int64)
    parent[items.lower] = items.upper
    layer, pos, seq, comp = items.layer, items.pos, items.seq, items.comp
    real = np.arange(items.count) < items.n
    w = items.width
    # Left to right within each layer, so a moved sink's new place bounds the next one.
    sinks = sinks[np.lexsort((pos[sinks], layer[sinks]))]
    first = items.starts[layer[sinks]]
    last = first + items.sizes[layer[sinks]] - 1
    at = first + pos[sinks]
    left = seq[np.maximum(at - 1, first)]
    right = seq[np.minimum(at + 1, last)]
    has_left = (at > first) & (comp[left] == comp[sinks])
    has_right = (at < last) & (comp[right] == comp[sinks])
    gap_l = (w[left] + w[sinks]) / 2 + np.where(real[left], node_gap, EDGE_GAP)
    gap_r = (w[right] + w[sinks]) / 2 + np.where(real[right], node_gap, EDGE_GAP)
    x = xs.tolist()
    for v, u_l, u_r, hl, hr, gl, gr, par in zip(
        sinks.tolist(), left.tolist(), right.tolist(), has_left.tolist(), has_right.tolist(),
        gap_l.tolist(), gap_r.tolist(), parent[sinks].tolist(),
    ):
        target = x[par]
        if hl and target < x[u_l] + gl:
            target = x[u_l] + gl
        if hr and target > x[u_r] - gr:
            target = x[u_r] - gr
        x[v] = target
    xs[sinks] = np.asarray(x)[sinks]


# --------------------------------------------------------------------------------------------
# final coordinates and routes
# --------------------------------------------------------------------------------------------


def _finish(g: _Graph, items: _Items, xs: np.ndarray, heights: np.ndarray, root_at: str,
            layer_gap: float, node_gap: float) -> Layout:
    n, count = g.n, items.count
    layer, comp, w = items.layer, items.comp, items.width
    # Components side by side, in root order.
    ncomp = int(comp.max()) + 1
    if ncomp > 1:
        lo = np.full(ncomp, np.inf)
        hi = np.full(ncomp, -np.inf)
        np.minimum.at(lo, comp, xs - w / 2)
        np.maximum.at(hi, comp, xs + w / 2)
        extent = hi - lo + 2 * node_gap
        left = np.r_[0.0, np.cumsum(extent)[:-1]]
        xs = xs + (left - lo)[comp]
        width = float(left[-1] + extent[-1] - 2 * node_gap)
    else:
        left_edge = float((xs - w / 2).min())
        xs = xs - left_edge
        width = float((xs + w / 2).max())
    # Layer bands, each as tall as its tallest node.
    nlayers = len(items.sizes)
    band = np.zeros(nlayers)
    np.maximum.at(band, layer[:n], heights)
    centre = np.cumsum(band + layer_gap) - layer_gap - band / 2
    height = float(band.sum() + layer_gap * (nlayers - 1))
    flip = root_at == "bottom"
    y_item = centre[layer]
    if flip:
        y_item = height - y_item
    xl = xs.tolist()
    positions = dict(zip(g.ids, zip(xl[:n], y_item[:n].tolist())))
    # Route points of the dummies: where each enters and leaves its layer's band.
    half = band[layer[n:]] / 2
    two = half > 0
    npts = np.where(two, 2, 1)
    pstart = np.r_[0, np.cumsum(npts)]
    second = np.zeros(int(pstart[-1]), dtype=bool)
    second[pstart[:-1][two] + 1] = True
    owner = np.repeat(np.arange(count - n), npts)
    py = centre[layer[n:]][owner] + np.where(second, half[owner], -half[owner])
    if flip:
        py = height - py
    px = xs[n:][owner]
    points = list(zip(px.tolist(), py.tolist()))
    # Inside a vertical run of one chain, points between the run's two ends say nothing (the
    # edge goes straight down there): routes keep the run's ends only. That keeps a trunk's
    # routes short: each edge of a bundle has its join and the trunk's end, not every layer.
    run = items.chain_of[owner]
    same = (px[1:] == px[:-1]) & (run[1:] == run[:-1])
    inner = np.zeros(len(px), dtype=bool)
    inner[1:-1] = same[:-1] & same[1:]
    kept_idx = np.flatnonzero(~inner)
    kept = [points[i] for i in kept_idx.tolist()]
    kept_before = np.r_[0, np.cumsum(~inner)]
    a = pstart[items.first - n]
    b = pstart[items.first - n + items.ndum]
    ka = kept_before[np.minimum(a + 1, len(px))].tolist()
    kb = kept_before[np.maximum(b - 1, 0)].tolist()
    routes_list = [
        tuple(points[i:j]) if j - i <= 2 else (points[i], *kept[p:q], points[j - 1])
        for i, j, p, q in zip(a.tolist(), b.tolist(), ka, kb)
    ]
    _special_routes(g, items, routes_list, xl, heights, band, centre, height if flip else None)
    routes = dict(zip(g.keys, routes_list))
    layers = dict(zip(g.ids, layer[:n].tolist()))
    return Layout(positions, routes, layers, width, height)


def _special_routes(g, items, routes, xl, heights, band, centre, flip_height) -> None:
    """Stubs for nodes lower than their band, points for parallel edges, cycle edges reversed."""
    n = g.n
    top, bottom, layer = items.top, items.bottom, items.layer

    def fy(y: float) -> float:
        return flip_height - y if flip_height is not None else y

    lt, lb = layer[top], layer[bottom]
    short_top = heights[top] < band[lt]
    short_bottom = heights[bottom] < band[lb]
    # Parallel edges between adjacent layers (same two ends, no dummies).
    plain = (items.ndum == 0) & (top != bottom)
    key = top * n + bottom
    parallel = np.zeros(len(top), dtype=bool)
    if plain.any():
        _, inverse, counts = np.unique(key[plain], return_inverse=True, return_counts=True)
        parallel[np.flatnonzero(plain)] = counts[inverse] > 1
    special = short_top | short_bottom | parallel
    if g.back:
        special[list(g.back)] = True
    spread: dict[int, float] = {}
    if parallel.any():
        groups: dict[int, list[int]] = {}
        for k in np.flatnonzero(parallel).tolist():
            groups.setdefault(int(key[k]), []).append(k)
        for ks in groups.values():
            for i, k in enumerate(ks):
                spread[k] = (i - (len(ks) - 1) / 2) * PARALLEL_GAP
    for k in np.flatnonzero(special).tolist():
        s, d = int(top[k]), int(bottom[k])
        if s == d:
            continue
        ls, ld = int(lt[k]), int(lb[k])
        points = list(routes[k])  # top-down; an edge that closes a cycle is reversed below
        if short_top[k]:
            points.insert(0, (xl[s], fy(centre[ls] + band[ls] / 2)))
        if k in spread:
            mid = (centre[ls] + band[ls] / 2 + centre[ld] - band[ld] / 2) / 2
            points.insert(1 if short_top[k] else 0, ((xl[s] + xl[d]) / 2 + spread[k], fy(mid)))
        if short_bottom[k]:
            points.append((xl[d], fy(centre[ld] - band[ld] / 2)))
        if k in g.back:
            points.reverse()
        routes[k] = tuple(points)


# --------------------------------------------------------------------------------------------
# measuring a drawing
# --------------------------------------------------------------------------------------------


def count_crossings(layout: Layout, graph: GraphData) -> int:
    """Edge crossings of a drawing, counted between consecutive layers.

    Every edge is followed as the polyline source, route points, destination, and its x is read
    where it passes the centre line of each layer in between (for a layered drawing: its dummy
    nodes; for straight edges: the straight line). Two edge pieces between the same two layers
    cross when their x order flips strictly, so pieces that share an end never count; a piece
    that several long edges share (a trunk) counts once. Works for any Layout, also one made
    another way, as long as ``layers`` and ``positions`` are filled.
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
    # Pieces of long edges are drawn once where edges share them (a trunk), so they count once.
    shared: set[tuple[int, float, float]] = set()
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
        x_at = np.interp(cy, py, px).tolist()
        shared.update(zip(range(la, lb), x_at[:-1], x_at[1:]))
    if shared:
        sg, sa, sb = zip(*shared)
        gaps.extend(sg)
        xa.extend(sa)
        xb.extend(sb)
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
        # ties in xb (a shared bottom end) are equal values, which never count either.
        total += _inversions(xb[lo:hi])
    return total
