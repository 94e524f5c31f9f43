"""Dummy nodes: every edge that skips layers gets one per skipped layer (long edges into or out
of one node share a trunk), and every edge becomes segments between consecutive layers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from gradviz.core.layout.components import components
from gradviz.core.layout.drawing import Array
from gradviz.core.layout.graph import IntGraph


def _no_items() -> Array:
    return np.zeros(0, dtype=np.int64)


@dataclass
class Items:
    """Real nodes (0..n-1) and dummy nodes (n..count-1), as numpy arrays.

    Each edge runs from its upper end ``top`` through its dummies ``first .. first+ndum-1`` (one
    per skipped layer) to its lower end ``bottom``; an edge that closes a cycle runs upside down
    and a self-loop has no segments. ``upper``/``lower`` are the segments between consecutive
    layers (edge after edge, so parallel edges repeat); ``child``/``child_start`` list the lower
    ends of each item's segments in edge ``index`` order.
    """

    n: int
    count: int
    layer: Array
    width: Array
    comp: Array
    top: Array
    bottom: Array
    first: Array
    ndum: Array
    upper: Array
    lower: Array
    child: list[int]
    child_start: list[int]
    chain_of: Array  # for each dummy (n..), which edge or trunk it belongs to
    # Filled by ordering.order_layers: items sorted by layer and position, each item's position,
    # the length of each layer and where it starts in ``seq``.
    seq: Array = field(default_factory=_no_items)
    pos: Array = field(default_factory=_no_items)
    sizes: Array = field(default_factory=_no_items)
    starts: Array = field(default_factory=_no_items)

    @classmethod
    def build(cls, g: IntGraph, layer: list[int], widths: Array) -> Items:
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
        bundles = find_bundles(top, bottom, span, node_layer)
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
        # Bundles: one trunk of dummies shared by their edges (see find_bundles).
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
        comp = components(g, bottom, loop, owner)
        chain_of = np.concatenate(dummy_chain).astype(np.int64)
        return cls(n, count, item_layer, width, comp, top, bottom, first, ndum, upper, lower,
                   child.tolist(), child_start.tolist(), chain_of)


#: A node whose long edges on one side (into it, or out of it) are at least this many, and
#: would need more dummies apart than together, gets one trunk of dummies for all of them.
BUNDLE_MIN = 6


def find_bundles(top: Array, bottom: Array, span: Array, node_layer: Array) -> list[tuple[str, int, Array]]:
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

    def saving(side: str, node: int, members: Array) -> int:
        apart = int((span[members] - 1).sum())
        if side == "in":
            together = int(node_layer[node] - node_layer[top[members]].min() - 1)
        else:
            together = int(node_layer[bottom[members]].max() - node_layer[node] - 1)
        return apart - together

    candidates.sort(key=lambda c: (-saving(*c), c[0], c[1]))
    taken = np.zeros(len(span), dtype=bool)
    bundles: list[tuple[str, int, Array]] = []
    for side, node, members in candidates:
        members = members[~taken[members]]
        if len(members) >= BUNDLE_MIN and saving(side, node, members) > 0:
            taken[members] = True
            bundles.append((side, node, members))
    return bundles

