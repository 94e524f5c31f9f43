"""Crossing reduction: a depth-first start, barycenter passes and transpositions order each layer."""

from __future__ import annotations

import numpy as np

from gradviz.core.layout.components import root_order
from gradviz.core.layout.crossings import inversions, pairs_by_group
from gradviz.core.layout.drawing import Array
from gradviz.core.layout.dummies import Items
from gradviz.core.layout.graph import IntGraph

#: Crossing reduction: after how many pairs of barycenter passes (a pass moves the odd or the
#: even layers) the crossings are counted; it stops at the first count that is no better.
ORDER_CHECKS = (1, 2, 3, 4, 6, 8, 11, 14, 18, 24)


def order_layers(items: Items, g: IntGraph) -> None:
    """Order every layer: a depth-first start, then barycenter passes; keep the best seen."""
    count = items.count
    layer = items.layer
    comp = items.comp
    # Depth-first from the roots, taking a node when the last of its parents has been taken:
    # every subtree of a tree gets a contiguous stretch of each layer (no crossings before any
    # pass), and a node where branches meet comes after all of them, not inside the first.
    child, start = items.child, items.child_start
    waiting = np.bincount(items.lower, minlength=count).tolist()
    stack = [v for v in reversed(root_order(g)) if waiting[v] == 0]
    visited: list[int] = []
    while stack:
        v = stack.pop()
        visited.append(v)
        for i in range(start[v + 1] - 1, start[v] - 1, -1):
            w = child[i]
            waiting[w] -= 1
            if waiting[w] == 0:
                stack.append(w)
    visit = np.asarray(visited, dtype=np.int64)
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
    counter = CrossingCounter(upper, lower, layer)
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
        best_seq, best_pos = transpose(items, best_seq, best_pos, starts)
    items.seq, items.pos = best_seq, best_pos


#: Transposition: most rounds over all four (layer parity, pair offset) classes.
TRANSPOSE_CYCLES = 20
#: Pairs whose two items have more segment combinations than this on one side are left alone.
TRANSPOSE_WORK = 4096


def transpose(items: Items, seq: Array, pos: Array, starts: Array) -> tuple[Array, Array]:
    """Swap neighbouring items wherever that removes crossings, many swaps at once.

    A round looks at disjoint pairs of neighbours (every other pair) in every other layer, so
    the layers around them stay put and each swap's effect is exact: it changes only the
    crossings between the two items' own segments. Each accepted swap removes crossings.
    """
    count = items.count
    layer, comp = items.layer, items.comp
    sides: list[tuple[Array, Array, Array]] = []
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


class CrossingCounter:
    """Counts crossings between consecutive layers for changing orders of fixed segments."""

    # Layer gaps with more segments than this are counted by sorting instead of by pairs.
    PAIR_LIMIT = 300

    def __init__(self, upper: Array, lower: Array, layer: Array) -> None:
        gaps = layer[upper]
        order = np.argsort(gaps, kind="stable")
        self.upper = upper[order]
        self.lower = lower[order]
        self.pairs_i, self.pairs_j, self.big = pairs_by_group(gaps[order], self.PAIR_LIMIT)

    def count(self, pos: Array) -> int:
        a = pos[self.upper]
        b = pos[self.lower]
        i, j = self.pairs_i, self.pairs_j
        total = int(np.count_nonzero((a[i] - a[j]) * (b[i] - b[j]) < 0))
        for lo, hi in self.big:
            aa, bb = a[lo:hi], b[lo:hi]
            total += inversions(bb[np.lexsort((bb, aa))])
        return total

