"""A topological order of the graph, and the edges that close cycles (drawn against the flow)."""

from __future__ import annotations

from collections.abc import Iterator

from gradviz.core.layout.graph import IntGraph


def topological_order(g: IntGraph) -> list[int]:
    """Kahn's order, depth first; edges that close a cycle go into ``g.back`` and are skipped."""
    n = g.n
    remaining = [0] * n
    for s, d in zip(g.src, g.dst, strict=True):
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
        break_cycles(g, order, remaining)
        placed = set(order)
        stack = [v for v in range(n) if remaining[v] == 0 and v not in placed][::-1]


def break_cycles(g: IntGraph, done: list[int], remaining: list[int]) -> None:
    """Mark edges that close cycles among the nodes Kahn's algorithm could not reach."""
    finished = set(done)
    state: dict[int, int] = {}  # 1 = on the DFS stack, 2 = finished
    for start in range(g.n):
        if start in finished or start in state:
            continue
        state[start] = 1
        stack: list[tuple[int, Iterator[int]]] = [(start, iter(g.out[start]))]
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
