"""Layering: longest-path layers from the sources, with room for hanging leaves above merges."""

from __future__ import annotations

from gradviz.core.layout.cycles import topological_order
from gradviz.core.layout.graph import IntGraph


def assign_layers(g: IntGraph) -> list[int]:
    """Longest-path layers from the sources, with room for hanging leaves above merges.

    A node sits one layer below its deepest parent, except that a node where three or more
    parents meet also sits below every *hanging* subtree of those parents (a subtree whose nodes
    each have one parent, such as AccumulateGrad -> parameter): a parent in the middle of the
    merge would otherwise trap its leaves between the edges that meet, and some edge would have
    to cross them (a q/k/v merge into one layer_norm costs a crossing per transformer block).
    Fills ``g.back`` (see cycles), ``g.hang`` and ``g.hang_up``.
    """
    n = g.n
    order = topological_order(g)
    back = g.back
    kids: list[list[int]] = [[] for _ in range(n)]
    parents: list[set[int]] = [set() for _ in range(n)]
    for k, (s, d) in enumerate(zip(g.src, g.dst, strict=True)):
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
