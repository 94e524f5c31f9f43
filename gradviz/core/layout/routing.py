"""Final coordinates and routes: components side by side, layer bands, the waypoints of every edge."""

from __future__ import annotations

import numpy as np

from gradviz.core.layout.drawing import PARALLEL_GAP, Array, Layout, Point
from gradviz.core.layout.dummies import Items
from gradviz.core.layout.graph import IntGraph


def place_and_route(g: IntGraph, items: Items, xs: Array, heights: Array, root_at: str,
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
    positions = dict(zip(g.ids, zip(xl[:n], y_item[:n].tolist(), strict=True), strict=True))
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
    points = list(zip(px.tolist(), py.tolist(), strict=True))
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
        for i, j, p, q in zip(a.tolist(), b.tolist(), ka, kb, strict=True)
    ]
    _special_routes(g, items, routes_list, xl, heights, band, centre, height if flip else None)
    routes = dict(zip(g.keys, routes_list, strict=True))
    layers = dict(zip(g.ids, layer[:n].tolist(), strict=True))
    return Layout(positions, routes, layers, width, height)


def _special_routes(g: IntGraph, items: Items, routes: list[tuple[Point, ...]], xl: list[float], heights: Array,
                    band: Array, centre: Array, flip_height: float | None) -> None:
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

