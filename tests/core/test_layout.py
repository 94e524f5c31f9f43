"""Layered layout: one-way edges, no overlaps, few crossings, routes that avoid nodes, determinism."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pytest

from benchmarks import graphs as G
from gradviz.core.layout import DEFAULT_SIZE, Layout, count_crossings, layered_layout
from gradviz.core.result import GraphData, GraphEdge, GraphNode

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def size_of(sizes, nid):
    return (sizes or {}).get(nid, DEFAULT_SIZE)


def check_one_way(graph: GraphData, layout: Layout, root_at: str = "top") -> None:
    """Every edge, through its route, moves strictly away from the root side."""
    sign = 1 if root_at == "top" else -1
    for e in graph.edges:
        if e.src == e.dst:
            continue
        ys = [layout.positions[e.src][1]]
        ys += [p[1] for p in layout.routes[(e.src, e.dst, e.index)]]
        ys.append(layout.positions[e.dst][1])
        assert layout.layers[e.dst] > layout.layers[e.src], e
        # Route points may share a y where a route runs vertically past a layer; never backwards.
        steps = [sign * (b - a) for a, b in pairwise(ys)]
        assert all(s >= 0 for s in steps), (e, ys)
        assert sign * (ys[-1] - ys[0]) > 0, (e, ys)


def boxes(layout: Layout, sizes=None):
    for nid, (x, y) in layout.positions.items():
        w, h = size_of(sizes, nid)
        yield nid, (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def check_no_overlap(layout: Layout, sizes=None, gap: float = 30.0) -> None:
    """No two node boxes overlap, and nodes of one layer keep at least ``gap`` apart."""
    rows: dict[float, list[tuple[float, float, str]]] = {}
    for nid, (x0, y0, x1, y1) in boxes(layout, sizes):
        rows.setdefault(layout.layers[nid], []).append((x0, x1, nid))
        assert x0 >= -1e-6 and y0 >= -1e-6, nid
        assert x1 <= layout.width + 1e-6 and y1 <= layout.height + 1e-6, nid
    for row in rows.values():
        row.sort()
        for (_a0, a1, a), (b0, _b1, b) in pairwise(row):
            assert b0 - a1 >= gap - 1e-6, (a, b)
    # Layers are horizontal bands that never overlap each other.
    bands = {}
    for nid, (_x0, y0, _x1, y1) in boxes(layout, sizes):
        lo, hi = bands.get(layout.layers[nid], (y0, y1))
        bands[layout.layers[nid]] = (min(lo, y0), max(hi, y1))
    spans = sorted(bands.values())
    for (a0, a1), (b0, b1) in pairwise(spans):
        assert b0 > a1, (a0, a1, b0, b1)


def segment_hits_box(p, q, box, pad=0.5) -> bool:
    """Whether the segment p-q passes through the inside of box (shrunk by ``pad``)."""
    x0, y0, x1, y1 = box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, start in ((dx, x0, x1, p[0]), (dy, y0, y1, p[1])):
        if abs(d) < 1e-12:
            if start <= lo or start >= hi:
                return False
            continue
        a, b = (lo - start) / d, (hi - start) / d
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 >= t1:
            return False
    return True


def check_routes_avoid_nodes(graph: GraphData, layout: Layout, sizes=None, root_at="top") -> None:
    """Drawn from the bottom of its source through its waypoints to the top of its target (top
    and bottom swap with the root at the bottom), no edge runs through a node box."""
    sign = 1 if root_at == "top" else -1
    all_boxes = list(boxes(layout, sizes))
    for e in graph.edges:
        (sx, sy), (dx, dy) = layout.positions[e.src], layout.positions[e.dst]
        start = (sx, sy + sign * size_of(sizes, e.src)[1] / 2)
        end = (dx, dy - sign * size_of(sizes, e.dst)[1] / 2)
        pts = [start, *layout.routes[(e.src, e.dst, e.index)], end]
        for p, q in pairwise(pts):
            for nid, box in all_boxes:
                assert not segment_hits_box(p, q, box), (e, nid, p, q)


def baseline_layout(graph: GraphData, spacing: float = 150.0, layer_gap: float = 124.0) -> Layout:
    """networkx topological_generations in their given order, each layer centred, edges straight."""
    positions, layers = {}, {}
    for li, gen in enumerate(nx.topological_generations(graph.to_networkx())):
        for i, v in enumerate(gen):
            positions[v] = ((i - (len(gen) - 1) / 2) * spacing, li * layer_gap)
            layers[v] = li
    return Layout(positions, {}, layers, 0.0, 0.0)


# --------------------------------------------------------------------------------------------
# graphs
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def families() -> dict[str, GraphData]:
    return {
        "chain": G.torch_chain(40),
        "mlp": G.torch_mlp(depth=4),
        "cnn": G.torch_cnn(blocks=3),
        "transformer": G.torch_transformer(3),
        "diamond": G.torch_diamond(),
        "dot": G.torch_dot(),
        "random": G.random_dag(300, seed=3),
        "tree": G.tree_graph(4, 3),
        "fan_in": G.fan_in_graph(100),
        "disconnected": G.disconnected_graph(),
    }


FAMILIES = ["chain", "mlp", "cnn", "transformer", "diamond", "dot", "random", "tree", "fan_in", "disconnected"]


# --------------------------------------------------------------------------------------------
# structure of the drawing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("root_at", ["top", "bottom"])
def test_edges_flow_one_way_and_nodes_never_overlap(families, name, root_at):
    graph = families[name]
    layout = layered_layout(graph, root_at=root_at)
    assert set(layout.positions) == {n.id for n in graph.nodes}
    assert set(layout.routes) == {(e.src, e.dst, e.index) for e in graph.edges}
    check_one_way(graph, layout, root_at)
    check_no_overlap(layout)


@pytest.mark.parametrize("name", ["mlp", "transformer", "random", "dot", "fan_in"])
@pytest.mark.parametrize("root_at", ["top", "bottom"])
def test_routes_never_run_through_nodes(families, name, root_at):
    graph = families[name]
    layout = layered_layout(graph, root_at=root_at)
    check_routes_avoid_nodes(graph, layout, root_at=root_at)


def test_long_edges_get_waypoints_in_every_layer_they_skip():
    # y -> x directly, and y -> a -> b -> x: the direct edge skips two layers.
    graph = G.plain_graph([("y", "x"), ("y", "a"), ("a", "b"), ("b", "x")])
    layout = layered_layout(graph)
    assert layout.layers == {"y": 0, "a": 1, "b": 2, "x": 3}
    route = layout.routes[("y", "x", 0)]
    ya, yb = layout.positions["a"][1], layout.positions["b"][1]
    h = DEFAULT_SIZE[1]
    # It runs straight down past both layers: the two ends of that vertical run, where it
    # enters a's layer band and leaves b's.
    assert len(route) == 2
    assert route[0][0] == route[1][0]
    assert [p[1] for p in route] == [ya - h / 2, yb + h / 2]
    # The skipped layers' nodes are beside the route, not under it.
    for node in ("a", "b"):
        assert abs(layout.positions[node][0] - route[0][0]) >= DEFAULT_SIZE[0] / 2


def test_root_at_bottom_mirrors_top(families):
    graph = families["transformer"]
    top = layered_layout(graph)
    bottom = layered_layout(graph, root_at="bottom")
    assert top.layers == bottom.layers
    assert (top.width, top.height) == (bottom.width, bottom.height)
    for nid, (x, y) in top.positions.items():
        assert bottom.positions[nid] == pytest.approx((x, top.height - y))
    root = graph.roots[0]
    assert bottom.positions[root][1] == max(y for _, y in bottom.positions.values())


def test_sizes_are_respected():
    graph = G.random_dag(120, seed=5)
    sizes = {n.id: (40.0 + (i * 37) % 200, 20.0 + (i * 11) % 70) for i, n in enumerate(graph.nodes)}
    layout = layered_layout(graph, sizes=sizes, node_gap=12.0, layer_gap=50.0)
    check_no_overlap(layout, sizes, gap=12.0)
    check_one_way(graph, layout)
    check_routes_avoid_nodes(graph, layout, sizes)


def test_layer_gap_and_node_gap_set_the_spacing():
    graph = G.plain_graph([("r", "a"), ("r", "b")])
    layout = layered_layout(graph, layer_gap=50.0, node_gap=10.0)
    (ax, ay), (bx, by) = layout.positions["a"], layout.positions["b"]
    assert ay == by == layout.positions["r"][1] + DEFAULT_SIZE[1] + 50.0
    assert abs(bx - ax) == DEFAULT_SIZE[0] + 10.0
    assert layout.positions["r"][0] == pytest.approx((ax + bx) / 2)
    assert (layout.width, layout.height) == (2 * DEFAULT_SIZE[0] + 10.0, 2 * DEFAULT_SIZE[1] + 50.0)


def test_bad_root_at_is_refused():
    with pytest.raises(ValueError, match="root_at"):
        layered_layout(G.diamond_graph(), root_at="left")


# --------------------------------------------------------------------------------------------
# shapes that must look right
# --------------------------------------------------------------------------------------------


def test_chain_is_a_straight_vertical_line(families):
    graph = families["chain"]
    layout = layered_layout(graph)
    assert len({x for x, _ in layout.positions.values()}) == 1
    assert sorted(layout.layers.values()) == list(range(len(graph.nodes)))


def test_a_tree_is_drawn_as_a_tree():
    graph = G.tree_graph(3, 3)
    layout = layered_layout(graph)
    assert count_crossings(layout, graph) == 0
    for node in graph.nodes:
        kids = [e.dst for e in graph.edges if e.src == node.id]
        if kids:
            xs = [layout.positions[k][0] for k in kids]
            # Parents centred over their children, children left to right in edge order.
            assert layout.positions[node.id][0] == pytest.approx(sum(xs) / len(xs))
            assert xs == sorted(xs)


def test_mlp_spine_is_straight(families):
    graph = families["mlp"]
    layout = layered_layout(graph)
    spine = [n.id for n in graph.nodes if n.op in ("AddmmBackward0", "ReluBackward0")]
    assert len(spine) == 9
    assert len({layout.positions[v][0] for v in spine}) == 1


@pytest.mark.parametrize("name", ["chain", "mlp", "cnn", "tree", "diamond", "dot", "fan_in", "disconnected"])
def test_no_crossings_where_none_are_needed(families, name):
    graph = families[name]
    assert count_crossings(layered_layout(graph), graph) == 0


def test_big_mlp_and_cnn_have_no_crossings():
    for graph in (G.torch_mlp(depth=60, width=4), G.torch_deep_cnn(blocks=60)):
        assert count_crossings(layered_layout(graph), graph) == 0


def test_transformer_has_five_times_fewer_crossings_than_topological_generations():
    graph = G.torch_transformer(82)
    assert len(graph.nodes) > 5000
    ours = count_crossings(layered_layout(graph), graph)
    baseline = count_crossings(baseline_layout(graph), graph)
    # Taken in their given order (a depth-first capture), the generations cross once a block.
    assert baseline >= 82
    assert ours * 5 <= baseline, (ours, baseline)


def test_spines_and_residual_streams_are_straight():
    cnn = G.torch_deep_cnn(blocks=5)
    layout = layered_layout(cnn)
    spine = [n.id for n in cnn.nodes if n.op in ("ConvolutionBackward0", "ReluBackward0")]
    assert len(spine) == 10 and len({layout.positions[v][0] for v in spine}) == 1
    transformer = G.torch_transformer(4)
    layout = layered_layout(transformer)
    # Every block's residual adds, and the long edges between them, form one vertical line.
    adds = [n.id for n in transformer.nodes if n.op == "AddBackward0"]
    residual = {n.id for n in transformer.nodes if n.op == "AddBackward0"
                and any(layout.layers[e.dst] - layout.layers[n.id] > 1 for e in transformer.out_edges[n.id])}
    assert len(residual) == 8
    xs = {layout.positions[v][0] for v in residual}
    assert len(xs) == 1
    for v in residual:
        for e in transformer.out_edges[v]:
            route = layout.routes[(e.src, e.dst, e.index)]
            if route:
                assert {p[0] for p in route} == xs
    assert len(adds) == 20


@pytest.mark.parametrize("graph", [
    G.torch_mlp(depth=80, width=4), G.torch_deep_cnn(blocks=80), G.torch_transformer(12),
], ids=["mlp", "cnn", "transformer"])
def test_deep_models_do_not_drift_sideways(graph):
    # Repeated blocks are drawn the same way each time: the width does not grow with depth.
    layout = layered_layout(graph)
    assert layout.width <= 6 * (DEFAULT_SIZE[0] + 30.0)


# --------------------------------------------------------------------------------------------
# awkward inputs
# --------------------------------------------------------------------------------------------


def test_empty_graph():
    layout = layered_layout(GraphData())
    assert layout == Layout({}, {}, {}, 0.0, 0.0)


def test_single_node():
    graph = GraphData(nodes=(GraphNode("x", "leaf", "Tensor"),), roots=("x",))
    layout = layered_layout(graph, sizes={"x": (50.0, 20.0)})
    assert layout.positions == {"x": (25.0, 10.0)}
    assert layout.layers == {"x": 0}
    assert (layout.width, layout.height) == (50.0, 20.0)


def test_parallel_edges_both_get_routes_drawn_apart(families):
    graph = families["dot"]
    dot = next(n.id for n in graph.nodes if n.op == "DotBackward0")
    acc = next(n.id for n in graph.nodes if n.op == "AccumulateGrad")
    layout = layered_layout(graph)
    a, b = layout.routes[(dot, acc, 0)], layout.routes[(dot, acc, 1)]
    assert len(a) == len(b) == 1
    (ax, ay), (bx, by) = a[0], b[0]
    assert ay == by
    assert layout.positions[dot][1] < ay < layout.positions[acc][1]
    assert bx - ax >= 10.0
    # Around the straight line between the two nodes, one on each side.
    mid = (layout.positions[dot][0] + layout.positions[acc][0]) / 2
    assert ax < mid < bx


def test_long_parallel_edges_run_side_by_side():
    graph = G.plain_graph([("y", "x"), ("y", "x"), ("y", "a"), ("a", "b"), ("b", "x")])
    layout = layered_layout(graph)
    a, b = layout.routes[("y", "x", 0)], layout.routes[("y", "x", 1)]
    assert len(a) == len(b) == 2  # each straight down past layers 1 and 2
    assert [p[1] for p in a] == [p[1] for p in b]
    assert all(abs(p[0] - q[0]) >= 10.0 for p, q in zip(a, b, strict=True))
    check_routes_avoid_nodes(graph, layout)


def test_disconnected_components_sit_side_by_side(families):
    graph = families["disconnected"]
    layout = layered_layout(graph)
    comps = [["a0", "a1", "a2"], ["b0", "b1", "b2", "b3"], ["lonely"]]
    spans = []
    for comp in comps:
        xs = [layout.positions[v][0] for v in comp]
        spans.append((min(xs) - DEFAULT_SIZE[0] / 2, max(xs) + DEFAULT_SIZE[0] / 2))
        assert layout.layers[comp[0]] == 0
    # In the order of the graph's roots, left to right, without sharing any column.
    assert spans[0][1] < spans[1][0] and spans[1][1] < spans[2][0]


def test_fan_in_of_a_hundred(families):
    graph = families["fan_in"]
    layout = layered_layout(graph)
    assert layout.layers["x"] == 2
    xs = [layout.positions[f"m{i}"][0] for i in range(100)]
    assert xs == sorted(xs)
    assert min(xs) < layout.positions["x"][0] < max(xs)


def test_five_thousand_step_chain():
    graph = G.chain_graph(5000)
    layout = layered_layout(graph)
    assert layout.layers["c4999"] == 4999
    assert len({x for x, _ in layout.positions.values()}) == 1
    assert layout.height == pytest.approx(5000 * DEFAULT_SIZE[1] + 4999 * 80.0)


def test_very_wide_layer():
    graph = G.wide_graph(3000)
    layout = layered_layout(graph)
    check_no_overlap(layout)
    assert layout.width == pytest.approx(3000 * DEFAULT_SIZE[0] + 2999 * 30.0)
    assert layout.positions["r"][0] == pytest.approx(layout.width / 2)
    assert count_crossings(layout, graph) == 0


def test_roots_go_first_even_when_listed_late():
    # "late" is a declared root; "extra" is an undeclared source, moved down next to its child.
    graph = G.plain_graph([("late", "a"), ("a", "b"), ("b", "c"), ("extra", "c")], roots=["late"])
    layout = layered_layout(graph)
    assert layout.layers == {"late": 0, "a": 1, "b": 2, "c": 3, "extra": 2}


def test_cycles_and_dangling_edges_do_not_break_it():
    nodes = tuple(GraphNode(v, "op", "Op") for v in "abcd")
    edges = (
        GraphEdge("a", "b"), GraphEdge("b", "c"), GraphEdge("c", "a"),  # a cycle
        GraphEdge("c", "d"), GraphEdge("d", "d"),  # a self-loop
        GraphEdge("a", "ghost"),  # to a node that does not exist
    )
    layout = layered_layout(GraphData(nodes, edges, ("a",)))
    assert set(layout.positions) == set("abcd")
    assert layout.layers["a"] < layout.layers["b"] < layout.layers["c"] < layout.layers["d"]
    assert ("c", "a", 0) in layout.routes and ("a", "ghost", 0) not in layout.routes
    # The edge that closes the cycle runs upward, from c past b's layer to a.
    route = layout.routes[("c", "a", 0)]
    ys = [layout.positions["c"][1], *(p[1] for p in route), layout.positions["a"][1]]
    assert len(route) == 2 and ys == sorted(ys, reverse=True)
    check_no_overlap(layout)


def test_the_layout_runs_on_the_networkx_graph(families):
    # GraphData is converted to a MultiDiGraph (GraphData.to_networkx); handing that graph over
    # gives the same layout, parallel edges (torch.dot) included.
    for name in ("dot", "transformer", "disconnected"):
        graph = families[name]
        nxg = graph.to_networkx()
        assert isinstance(nxg, nx.MultiDiGraph)
        assert layered_layout(nxg) == layered_layout(graph)
    # Only the keys (edge index) and the root attribute are read: a graph made by hand works.
    hand = nx.MultiDiGraph()
    hand.add_edges_from([("late", "a"), ("a", "b"), ("b", "c"), ("extra", "c"), ("a", "b")])
    hand.nodes["late"]["root"] = 0
    layout = layered_layout(hand)
    assert layout.layers == {"late": 0, "a": 1, "b": 2, "c": 3, "extra": 2}
    assert set(layout.routes) == {("late", "a", 0), ("a", "b", 0), ("a", "b", 1), ("b", "c", 0), ("extra", "c", 0)}


def test_cycles_are_found_by_depth_first_search():
    from gradviz.core.layout.cycles import back_edges
    from gradviz.core.layout.graph import IntGraph

    # Two cycles sharing b, a self-loop and a parallel pair that closes a cycle.
    graph = G.plain_graph([("a", "b"), ("b", "c"), ("c", "a"), ("b", "d"), ("d", "b"), ("d", "b"), ("d", "d"),
                           ("d", "e")])
    g = IntGraph.build(graph.to_networkx())
    back = {g.keys[k] for k in back_edges(g)}
    assert back == {("c", "a", 0), ("d", "b", 0), ("d", "b", 1)}
    layout = layered_layout(graph)
    check_no_overlap(layout)
    forward = GraphData(graph.nodes, tuple(e for e in graph.edges if (e.src, e.dst, e.index) not in back
                                           and e.src != e.dst), graph.roots)
    check_one_way(forward, layout)


def test_same_graph_same_layout(families):
    for name in ("transformer", "random", "mlp"):
        graph = families[name]
        assert layered_layout(graph) == layered_layout(graph)
    # A copy built again from scratch gives the very same numbers.
    again = G.random_dag(300, seed=3)
    assert layered_layout(again) == layered_layout(families["random"])


# --------------------------------------------------------------------------------------------
# the crossing counter
# --------------------------------------------------------------------------------------------


def test_count_crossings_counts_straight_segment_crossings():
    graph = G.plain_graph([("a", "d"), ("b", "c")])
    crossed = Layout({"a": (0, 0), "b": (100, 0), "c": (0, 100), "d": (100, 100)}, {},
                     {"a": 0, "b": 0, "c": 1, "d": 1}, 100, 100)
    straight = Layout({"a": (0, 0), "b": (100, 0), "c": (100, 100), "d": (0, 100)}, {},
                      {"a": 0, "b": 0, "c": 1, "d": 1}, 100, 100)
    assert count_crossings(crossed, graph) == 1
    assert count_crossings(straight, graph) == 0


def test_count_crossings_follows_routes_through_skipped_layers():
    # a -> z skips layer 1; its straight line passes between m and n, its route passes left of m.
    graph = G.plain_graph([("a", "z"), ("a", "m"), ("b", "n"), ("m", "y"), ("n", "y2")])
    positions = {"a": (100, 0), "b": (300, 0), "m": (0, 100), "n": (200, 100),
                 "z": (100, 200), "y": (0, 200), "y2": (200, 200)}
    layers = {"a": 0, "b": 0, "m": 1, "n": 1, "z": 2, "y": 2, "y2": 2}
    straight = Layout(positions, {}, layers, 300, 200)
    assert count_crossings(straight, graph) == 0
    around = Layout(positions, {("a", "z", 0): ((-50, 100),)}, layers, 300, 200)
    # Now a-z runs left of m: below layer 1 it crosses m-y (above it, it shares its end with a-m).
    assert count_crossings(around, graph) == 1
    beyond = Layout(positions, {("a", "z", 0): ((400, 100),)}, layers, 300, 200)
    # Right of n it crosses b-n above layer 1 and n-y2 below it.
    assert count_crossings(beyond, graph) == 2


def test_crossings_of_many_segments_between_two_layers():
    # A complete reversal of k edges has k*(k-1)/2 crossings; big enough for the sorting path.
    k = 2500
    edges = [(f"u{i}", f"v{i}") for i in range(k)]
    graph = G.plain_graph(edges)
    positions = {f"u{i}": (float(i), 0.0) for i in range(k)} | {f"v{i}": (float(k - i), 1.0) for i in range(k)}
    layers = {f"u{i}": 0 for i in range(k)} | {f"v{i}": 1 for i in range(k)}
    assert count_crossings(Layout(positions, {}, layers, k, 1), graph) == k * (k - 1) // 2


# --------------------------------------------------------------------------------------------
# internals that have two ways of doing the same thing
# --------------------------------------------------------------------------------------------


def test_inversion_count_matches_brute_force():
    import random

    from gradviz.core.layout.crossings import inversions

    rng = random.Random(11)
    for size in (0, 1, 2, 7, 64, 300):
        values = [rng.randrange(0, 40) for _ in range(size)]
        brute = sum(1 for i in range(size) for j in range(i + 1, size) if values[i] > values[j])
        assert inversions(np.asarray(values)) == brute


def test_shallow_and_deep_compaction_agree(families, monkeypatch):
    from gradviz.core.layout import coordinates

    for name in ("transformer", "mlp", "random", "disconnected"):
        graph = families[name]
        rounds = layered_layout(graph)
        monkeypatch.setattr(coordinates, "COMPACTION_ROUNDS", 0)  # always block by block
        sequential = layered_layout(graph)
        monkeypatch.undo()
        assert rounds == sequential, name


def test_routes_of_short_nodes_and_upward_edges_stay_clear():
    # Node heights differ within layers, and an edge closes a cycle (drawn upward).
    graph = G.plain_graph([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("e", "b"),
                           ("a", "e"), ("a", "e")])
    sizes = {"a": (60.0, 20.0), "b": (200.0, 90.0), "c": (40.0, 20.0), "d": (80.0, 30.0), "e": (50.0, 60.0)}
    layout = layered_layout(graph, sizes=sizes)
    check_no_overlap(layout, sizes)
    # Every edge but the upward one flows down; all of them avoid the boxes.
    upward = ("e", "b", 0)
    rest = GraphData(graph.nodes, tuple(e for e in graph.edges if (e.src, e.dst, e.index) != upward), graph.roots)
    check_one_way(rest, layout)
    check_routes_avoid_nodes(rest, layout, sizes)
    ys = [layout.positions["e"][1], *(p[1] for p in layout.routes[upward]), layout.positions["b"][1]]
    assert ys == sorted(ys, reverse=True)


def test_many_long_edges_into_one_node_share_a_trunk():
    # An unrolled RNN: one weight used by every step. Apart, its edges would need 1,000,000
    # dummies and 1,000 parallel lines; together they run down one trunk.
    edges = []
    for i in range(1000):
        edges += [(f"t{i}", f"m{i}"), (f"m{i}", f"t{i + 1}"), (f"m{i}", "accW")]
    edges.append(("accW", "W"))
    graph = G.plain_graph(edges)
    layout = layered_layout(graph)
    assert layout.layers["accW"] == 2001  # below the last step and its hanging output
    assert layout.width <= 4 * (DEFAULT_SIZE[0] + 30.0)
    routes = [layout.routes[(f"m{i}", "accW", 1)] for i in range(1000)]
    trunk_x = {p[0] for r in routes for p in r}
    assert len(trunk_x) == 1
    # Each route: where it joins the trunk, and the trunk's lower end, the same for all.
    assert all(len(r) == 2 and r[-1] == routes[0][-1] for r in routes[:-1])
    small = G.plain_graph(edges[:60] + [("accW", "W")])
    small_layout = layered_layout(small)
    check_one_way(small, small_layout)
    check_no_overlap(small_layout)
    check_routes_avoid_nodes(small, small_layout)
    assert count_crossings(small_layout, small) == 0


def test_a_few_long_edges_into_one_node_keep_their_own_routes():
    edges = []
    for i in range(4):
        edges += [(f"t{i}", f"m{i}"), (f"m{i}", f"t{i + 1}"), (f"m{i}", "accW")]
    graph = G.plain_graph(edges)
    layout = layered_layout(graph)
    xs = [layout.routes[(f"m{i}", "accW", 1)][0][0] for i in range(3)]
    assert len(set(xs)) == 3


def test_roots_that_point_into_a_chain_sit_beside_it():
    # Variables that hold intermediates of a long chain: each root sits next to its node, and
    # the chain stays one straight line past them.
    edges = [(f"k{i}", f"k{i + 1}") for i in range(3000)] + [(f"s{i}", f"k{i * 10}") for i in range(300)]
    graph = G.plain_graph(edges)
    layout = layered_layout(graph)
    assert all(layout.layers[f"s{i}"] == layout.layers[f"k{i * 10}"] - 1 for i in range(300))
    assert len({layout.positions[f"k{i}"][0] for i in range(3001)}) == 1
    assert layout.width <= 3 * (DEFAULT_SIZE[0] + 30.0)
    assert count_crossings(layout, graph) == 0


def test_a_trunk_shared_by_many_edges_counts_as_one_line():
    graph = G.plain_graph([("a", "t"), ("b", "t"), ("c", "x"), ("d", "e")])
    positions = {"a": (0, 0), "b": (0, 100), "c": (-100, 100), "x": (100, 200), "d": (-100, 200),
                 "t": (0, 300), "e": (100, 300)}
    layers = {"a": 0, "b": 1, "c": 1, "x": 2, "d": 2, "t": 3, "e": 3}
    # a and b run down one trunk at x=50 (b joins it at layer 2) into t.
    routes = {("a", "t", 0): ((50, 100), (50, 200)), ("b", "t", 0): ((50, 200),)}
    layout = Layout(positions, routes, layers, 200, 300)
    # Layers 1-2: c -> x crosses a's trunk piece and b's piece into the trunk (2). Layers 2-3:
    # d -> e crosses the trunk's last piece, which a and b share: one line, one crossing.
    assert count_crossings(layout, graph) == 3
