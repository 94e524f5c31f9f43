"""Counting crossings: of a finished drawing (count_crossings), and the counting steps that
crossing reduction shares."""

from __future__ import annotations

import numpy as np

from gradviz.core.layout.drawing import Array, Layout
from gradviz.core.result import GraphData


def pairs_by_group(groups: Array, limit: int) -> tuple[Array, Array, list[tuple[int, int]]]:
    """All index pairs i < j within runs of equal ``groups`` (runs longer than ``limit`` apart)."""
    m = len(groups)
    if m == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, []
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], m]
    sizes = ends - starts
    big = [(int(s), int(e)) for s, e, z in zip(starts, ends, sizes, strict=True) if z > limit]
    idx = np.arange(m)
    counts = np.repeat(ends, sizes) - idx - 1
    counts[np.repeat(sizes > limit, sizes)] = 0
    total = int(counts.sum())
    pi = np.repeat(idx, counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    pj = pi + 1 + offsets
    return pi, pj, big


def inversions(values: Array) -> int:
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
        shared.update(zip(range(la, lb), x_at[:-1], x_at[1:], strict=True))
    if shared:
        sg, sa, sb = zip(*shared, strict=True)
        gaps.extend(sg)
        xa.extend(sa)
        xb.extend(sb)
    if not gaps:
        return 0
    return _crossings_of_pieces(np.asarray(gaps), np.asarray(xa), np.asarray(xb))


def _crossings_of_pieces(gaps: Array, xa: Array, xb: Array) -> int:
    """Pairs of pieces in the same gap whose x order flips (strictly) from top to bottom."""
    order = np.lexsort((xb, xa, gaps))
    gaps, xa, xb = gaps[order], xa[order], xb[order]
    total = 0
    pi, pj, big = pairs_by_group(gaps, 2000)
    if len(pi):
        total += int(np.count_nonzero((xa[pi] - xa[pj]) * (xb[pi] - xb[pj]) < 0))
    for lo, hi in big:
        # Ties in xa (a shared top end) are sorted by xb, so they never count as inversions;
        # ties in xb (a shared bottom end) are equal values, which never count either.
        total += inversions(xb[lo:hi])
    return total
