"""Layout benchmark: gradviz's layered layout against networkx (and grandalf/igraph when installed).

Run from the repository root: ``python benchmarks/bench_layout.py [--repeat N] [family ...]``.
Families: chain, mlp, cnn, transformer, random (about 5,000 nodes each). Every method runs on
the same GraphData, alternating run by run; the table shows medians of wall-clock and CPU time
(conversion from GraphData included; CPU time is what to compare on a machine shared with other
work) and crossings counted the same way for every drawing (``count_crossings``): between
consecutive layers, each edge read where it passes a layer's centre line (its dummy node).

Baselines: ``nx-generations`` is networkx ``topological_generations`` in the order it yields
them, each generation centred, edges straight (a straight edge through a layer is its dummy);
``nx-gen+dummies`` cuts long edges into dummy nodes first, so dummies take places in the
generations in networkx's order.

grandalf and igraph are optional, benchmark-only tools (never project dependencies): their
rows appear when they import. To get them without touching the project's environment, make a
separate venv that also sees the project's packages (torch builds the graphs)::

    python3 -m venv /work/bench-venv
    /work/bench-venv/bin/pip install grandalf igraph
    echo /work/venv/lib/python3.11/site-packages > /work/bench-venv/lib/python3.11/site-packages/project.pth
    /work/bench-venv/bin/python benchmarks/bench_layout.py [--grandalf]

grandalf takes 10-60 s a graph, so it runs once and only with ``--grandalf``. The repository
root is put on ``sys.path`` so ``gradviz`` imports from the checkout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import networkx as nx  # noqa: E402

from benchmarks import graphs as G  # noqa: E402
from gradviz.core.layout import DEFAULT_SIZE, Layout, count_crossings, layered_layout  # noqa: E402
from gradviz.core.result import GraphData  # noqa: E402

SPACING = DEFAULT_SIZE[0] + 30.0
LAYER_STEP = DEFAULT_SIZE[1] + 80.0


def gradviz_layout(graph: GraphData) -> Layout:
    return layered_layout(graph)


def networkx_generations(graph: GraphData) -> Layout:
    """topological_generations in their given order, layers centred, edges straight."""
    g = graph.to_networkx()
    positions, layers = {}, {}
    for li, gen in enumerate(nx.topological_generations(g)):
        for i, v in enumerate(gen):
            positions[v] = ((i - (len(gen) - 1) / 2) * SPACING, li * LAYER_STEP)
            layers[v] = li
    return Layout(positions, {}, layers, 0.0, 0.0)


def networkx_generations_dummies(graph: GraphData) -> Layout:
    """The same generations, with long edges cut into dummy nodes that take their place in the
    generations of the cut graph (in the order networkx yields them) instead of running straight."""
    g = graph.to_networkx()
    gen_of = {}
    for li, gen in enumerate(nx.topological_generations(g)):
        for v in gen:
            gen_of[v] = li
    cut = nx.MultiDiGraph()
    cut.add_nodes_from(g.nodes)
    chains = {}
    for e in graph.edges:
        prev, chain = e.src, []
        for li in range(gen_of[e.src] + 1, gen_of[e.dst]):
            dummy = ("dummy", e.src, e.dst, e.index, li)
            cut.add_edge(prev, dummy)
            prev = dummy
            chain.append(dummy)
        cut.add_edge(prev, e.dst)
        chains[(e.src, e.dst, e.index)] = chain
    pos = {}
    for li, gen in enumerate(nx.topological_generations(cut)):
        for i, v in enumerate(gen):
            pos[v] = ((i - (len(gen) - 1) / 2) * SPACING, li * LAYER_STEP)
    routes = {k: tuple(pos[d] for d in chain) for k, chain in chains.items()}
    return Layout({v: pos[v] for v in g.nodes}, routes, gen_of, 0.0, 0.0)


def igraph_sugiyama(graph: GraphData) -> Layout:
    """igraph's C Sugiyama layout (unit node spacing); its edge control points are the routes."""
    import igraph

    ids = [n.id for n in graph.nodes]
    index = {v: i for i, v in enumerate(ids)}
    edges = [(index[e.src], index[e.dst]) for e in graph.edges]
    g = igraph.Graph(n=len(ids), edges=edges, directed=True)
    lay = g.layout_sugiyama()
    coords = lay.coords
    positions = {v: (coords[i][0] * SPACING, coords[i][1] * LAYER_STEP) for i, v in enumerate(ids)}
    layers = {v: int(round(coords[i][1])) for i, v in enumerate(ids)}
    routes = {
        (e.src, e.dst, e.index): tuple((float(x) * SPACING, float(y) * LAYER_STEP) for x, y in points)
        for e, points in zip(graph.edges, lay.edge_routing, strict=True)
    }
    return Layout(positions, routes, layers, 0.0, 0.0)


def grandalf_sugiyama(graph: GraphData) -> Layout:
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class View:
        w, h = DEFAULT_SIZE

    vs = {n.id: Vertex(n.id) for n in graph.nodes}
    for v in vs.values():
        v.view = View()
    es = [Edge(vs[e.src], vs[e.dst]) for e in graph.edges if e.src != e.dst]
    g = Graph(list(vs.values()), es)
    positions, layers = {}, {}
    for comp in g.C:
        sug = SugiyamaLayout(comp)
        roots = [v for v in comp.sV if len(v.e_in()) == 0]
        sug.init_all(roots=roots)
        sug.draw(3)
        for v in comp.sV:
            positions[v.data] = tuple(v.view.xy)
            layers[v.data] = sug.grx[v].rank
    return Layout(positions, {}, layers, 0.0, 0.0)


def available_methods(with_grandalf: bool) -> dict[str, object]:
    methods = {"gradviz": gradviz_layout, "nx-generations": networkx_generations,
               "nx-gen+dummies": networkx_generations_dummies}
    try:
        import igraph  # noqa: F401

        methods["igraph-sugiyama"] = igraph_sugiyama
    except ImportError:
        pass
    if with_grandalf:
        try:
            import grandalf  # noqa: F401

            methods["grandalf"] = grandalf_sugiyama
        except ImportError:
            pass
    return methods


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*", default=list(G.BIG))
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per method (median)")
    parser.add_argument("--grandalf", action="store_true", help="also run grandalf (slow: tens of s)")
    args = parser.parse_args(argv)
    methods = available_methods(args.grandalf)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"python {sys.version.split()[0]}, networkx {nx.__version__}, {os.cpu_count()} cores, "
          f"load average {load}; methods: {', '.join(methods)}")
    header = (f"{'graph':12} {'nodes':>6} {'edges':>6} {'method':16} {'ms':>8} {'cpu ms':>8} "
              f"{'crossings':>10} {'ms / gradviz':>13}")
    print(header)
    print("-" * len(header))
    for family in args.families:
        graph = G.BIG[family]()
        times: dict[str, list[float]] = {m: [] for m in methods}
        cpu: dict[str, list[float]] = {m: [] for m in methods}
        layouts: dict[str, Layout] = {}
        for run in range(args.repeat):
            names = list(methods) if run % 2 == 0 else list(reversed(methods))
            for name in names:
                if name == "grandalf" and run > 0:
                    continue
                t0, c0 = time.perf_counter(), time.process_time()
                layouts[name] = methods[name](graph)
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        ours = statistics.median(times["gradviz"])
        for name in methods:
            ms = statistics.median(times[name]) * 1000
            cpu_ms = statistics.median(cpu[name]) * 1000
            crossings = count_crossings(layouts[name], graph)
            ratio = statistics.median(times[name]) / ours
            print(f"{family:12} {len(graph.nodes):6} {len(graph.edges):6} {name:16} {ms:8.1f} {cpu_ms:8.1f} "
                  f"{crossings:10} {ratio:13.2f}")
        sys.stdout.flush()

if __name__ == "__main__":
    main()
