"""Checks that a RunResult from the engine holds together: every id it uses exists, every value fits its shape.

``from_plain`` already checks the types of every field. The engine process runs the program and
may therefore say anything; what the views then index by (node ids, call numbers, shapes) must be
consistent, or a forged result would crash the app instead of being refused with a message.
"""

from __future__ import annotations

import math

from gradviz.core.result import NODE_KINDS, GraphData, RunResult, TensorValue

#: Most dimensions a tensor value may have, and most elements a shape may claim.
MAX_DIMS = 64
MAX_ELEMENTS = 1 << 50
# What the engine ever sends (its own caps are below these: capture.MAX_GRAPH_NODES, tracer's
# MAX_LISTED_CALLS and MAX_EVENTS_PER_LEAF, values' VARIABLE_LIMIT and LEAF_LIMIT). A result past
# them was not written by the engine; refused, it cannot make the views do hours of work.
MAX_NODES = 25_000
MAX_EDGES = 250_000
MAX_CALLS = 100_000
MAX_EVENTS = 5_000
MAX_WHOLE_IN_CALLS = 256  # elements of a value kept whole inside a call, the graph or the history
MAX_WHOLE_VARIABLE = 100_000
_NONFINITE = {"nan", "inf", "-inf"}


def check_graph(graph: GraphData, where: str = "graph", seen: set[int] | None = None) -> None:
    """Node ids unique, edges and roots between existing nodes, kinds known; ValueError otherwise.

    ``seen``: ids of values already checked (a result shares them between places).
    """
    seen = set() if seen is None else seen
    if len(graph.nodes) > MAX_NODES or len(graph.edges) > MAX_EDGES:
        raise ValueError(f"{where}: {len(graph.nodes):,} nodes and {len(graph.edges):,} edges, more than the engine "
                         "records")
    ids = set()
    for k, node in enumerate(graph.nodes):
        if node.id in ids:
            raise ValueError(f"{where}.nodes[{k}]: the id {node.id!r} is used twice")
        if node.kind not in NODE_KINDS:
            raise ValueError(f"{where}.nodes[{k}]: unknown kind {node.kind!r}")
        ids.add(node.id)
        _check_shape(node.shape, f"{where}.nodes[{k}].shape")
        for name, v in (("value", node.value), ("grad", node.grad)):
            check_value(v, f"{where}.nodes[{k}].{name}", seen, MAX_WHOLE_IN_CALLS)
        for s, saved in enumerate(node.saved):
            _check_shape(saved.shape, f"{where}.nodes[{k}].saved[{s}].shape")
            check_value(saved.value, f"{where}.nodes[{k}].saved[{s}].value", seen, MAX_WHOLE_IN_CALLS)
    for k, node in enumerate(graph.nodes):
        if node.made_by is not None and node.made_by.here is not None and node.made_by.here not in ids:
            raise ValueError(f"{where}.nodes[{k}].made_by: {node.made_by.here!r} is not in the graph")
    for k, edge in enumerate(graph.edges):
        if edge.src not in ids or edge.dst not in ids:
            raise ValueError(f"{where}.edges[{k}]: joins a node that is not in the graph")
        if not (0 <= edge.index < 1 << 20 and 0 <= edge.output_nr < 1 << 20):
            raise ValueError(f"{where}.edges[{k}]: index out of range")
    for k, root in enumerate(graph.roots):
        if root not in ids:
            raise ValueError(f"{where}.roots[{k}]: {root!r} is not in the graph")


def check_result(result: RunResult) -> None:
    """Every reference inside ``result`` resolves and every value fits its shape; ValueError otherwise."""
    seen: set[int] = set()
    check_graph(result.graph, "graph", seen)
    if len(result.backward_calls) > MAX_CALLS:
        raise ValueError(f"backward_calls: {len(result.backward_calls):,}, more than the engine lists")
    indices = set()
    for c, call in enumerate(result.backward_calls):
        where = f"backward_calls[{c}]"
        if call.index in indices or call.index < 0:
            raise ValueError(f"{where}: call number {call.index} is used twice or negative")
        indices.add(call.index)
        check_graph(call.graph, f"{where}.graph", seen)
        ids = call.graph.by_id
        for s, step in enumerate(call.steps):
            if step.node_id not in ids:
                raise ValueError(f"{where}.steps[{s}]: node {step.node_id!r} is not in the call's graph")
            for value in (*step.grad_in, *step.grad_out, step.leaf_before, step.leaf_after):
                check_value(value, f"{where}.steps[{s}]", seen, MAX_WHOLE_IN_CALLS)
        for k, leaf in enumerate(call.leaves):
            if leaf.node_id not in ids:
                raise ValueError(f"{where}.leaves[{k}]: node {leaf.node_id!r} is not in the call's graph")
            check_value(leaf.before, f"{where}.leaves[{k}].before", seen, MAX_WHOLE_IN_CALLS)
            check_value(leaf.after, f"{where}.leaves[{k}].after", seen, MAX_WHOLE_IN_CALLS)
        for k, ref in enumerate(call.freed):
            if ref.node_id not in ids:
                raise ValueError(f"{where}.freed[{k}]: node {ref.node_id!r} is not in the call's graph")
        for k, value in enumerate(call.outputs):
            check_value(value, f"{where}.outputs[{k}]", seen, MAX_WHOLE_IN_CALLS)
    for k, info in enumerate(result.variables):
        where = f"variables[{k}]"
        _check_shape(info.shape, f"{where}.shape")
        check_value(info.value, f"{where}.value", seen, MAX_WHOLE_VARIABLE)
        check_value(info.grad, f"{where}.grad", seen, MAX_WHOLE_VARIABLE)
        if info.graph_call is not None and info.graph_call not in indices:
            raise ValueError(f"{where}: backward call {info.graph_call} does not exist")
        if info.node_id is not None and result.graph_holding(info) is None:
            raise ValueError(f"{where}: node {info.node_id!r} is not in its graph")
    for h, history in enumerate(result.grad_history):
        _check_shape(history.shape, f"grad_history[{h}].shape")
        if len(history.events) > MAX_EVENTS:
            raise ValueError(f"grad_history[{h}]: {len(history.events):,} events, more than the engine keeps")
        for e, event in enumerate(history.events):
            check_value(event.value, f"grad_history[{h}].events[{e}].value", seen, MAX_WHOLE_IN_CALLS)
            if event.call is not None and event.call < 0:
                raise ValueError(f"grad_history[{h}].events[{e}]: call {event.call} does not exist")


def _check_shape(shape, where: str) -> None:
    if shape is None:
        return
    if len(shape) > MAX_DIMS or any(d < 0 for d in shape) or math.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"{where}: {list(shape)[:8]} is not a tensor shape")


def check_value(value: TensorValue | None, where: str, seen: set[int] | None = None,
                max_whole: int = MAX_WHOLE_VARIABLE) -> None:
    """``value.data`` nests as ``value.shape`` says, with numbers (or "nan"/"inf"/"-inf") inside, and
    holds at most ``max_whole`` elements."""
    if value is None:
        return
    if seen is not None:  # a value shared by several places is checked where it first comes
        if id(value) in seen:
            return
        seen.add(id(value))
    _check_shape(value.shape, f"{where}.shape")
    data = value.data
    if data is None:
        return
    if math.prod(value.shape) > max_whole:
        raise ValueError(f"{where}: {math.prod(value.shape):,} elements kept whole, more than the engine keeps there")
    level = [data]
    for depth, size in enumerate(value.shape):
        following = []
        for item in level:
            if type(item) is not list or len(item) != size:
                raise ValueError(f"{where}.data: does not have the shape {list(value.shape)} (dimension {depth})")
            following.extend(item)
        level = following
    for item in level:
        if type(item) is list or (type(item) is str and item not in _NONFINITE) or \
                type(item) not in (int, float, bool, str):
            raise ValueError(f"{where}.data: holds {type(item).__name__} where a number belongs")
