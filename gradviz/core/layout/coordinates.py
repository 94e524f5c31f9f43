"""Coordinates: x of every node and dummy (Brandes-Koepf, with dagre's two-pass block compaction)."""

from __future__ import annotations

import numpy as np

from gradviz.core.layout.drawing import EDGE_GAP, Array
from gradviz.core.layout.dummies import Items


def assign_x(items: Items, hang: list[int], hang_up: list[int], node_gap: float) -> Array:
    """x of every item: the balanced median of four Brandes-Koepf alignments, in numpy.

    Changes to the published method, all for the shapes of autograd graphs. A sink that is
    the only child of its parent (a parameter below its AccumulateGrad) is never part of a
    block: rigid columns of leaves otherwise push each other sideways layer after layer (a
    700-layer MLP drifted 100,000 units to the side); such sinks are put back under their
    parent afterwards wherever there is room. Medians, and the winner among several items that
    want the same neighbour, are taken among the neighbours that reach furthest (long edges,
    then nodes that do not hang, then the deepest hanging subtrees, see assign_layers; upward the
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
    middle: Array = (arr[1] + arr[2]) / 2
    _place_loose_sinks(items, middle, loose, node_gap)
    return middle


def _separation(a: Array, b: Array, width: Array, real: Array, node_gap: float) -> Array:
    """Least distance between the centres of neighbours a and b (numpy arrays of items)."""
    gap = np.where(real[a] | real[b], node_gap, EDGE_GAP)
    return (width[a] + width[b]) / 2 + gap


def _type1_conflicts(upper: Array, lower: Array, layer: Array, pos: Array, n: int) -> Array:
    """Segments that cross an inner segment (dummy to dummy): those are never aligned.

    Inner segments do not cross each other (barycenter ordering keeps long edges apart), so a
    segment crosses one exactly when the inner segments left of its upper end are not the
    inner segments left of its lower end.
    """
    marked: Array = np.zeros(len(upper), dtype=bool)
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


def _vertical_alignment(v_of: Array, u_of: Array, allowed: Array, p: Array, layer: Array, reach_u: Array,
                        reach_v: Array, count: int) -> Array:
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


def _middles(groups: Array, reach: Array) -> Array:
    """Index of the (lower) middle element of each run of equal ``groups``, counted among the
    run's leading elements of greatest ``reach`` (runs are sorted by decreasing reach)."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    top = np.repeat(reach[starts], np.diff(np.r_[starts, len(groups)]))
    counts = np.add.reduceat((reach == top).astype(np.int64), starts)
    middle: Array = starts + (counts - 1) // 2
    return middle


def _horizontal_compaction(root: Array, p: Array, layer: Array, comp: Array, width: Array, real: Array,
                           node_gap: float, count: int) -> Array:
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


def _compact_rounds(src: Array, dst: Array, sep: Array, count: int) -> Array | None:
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


def _compact_sequential(src: Array, dst: Array, sep: Array, root: Array, count: int) -> Array:
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


def _place_loose_sinks(items: Items, xs: Array, loose: Array, node_gap: float) -> None:
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
        gap_l.tolist(), gap_r.tolist(), parent[sinks].tolist(), strict=True,
    ):
        target = x[par]
        if hl and target < x[u_l] + gl:
            target = x[u_l] + gl
        if hr and target > x[u_r] - gr:
            target = x[u_r] - gr
        x[v] = target
    xs[sinks] = np.asarray(x)[sinks]

