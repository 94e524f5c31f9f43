"""A RunResult from the engine is checked before the views index into it: a forged one is refused, not a crash."""

from __future__ import annotations

import dataclasses
import re

import pytest

from gradviz.core.checks import check_result, check_value
from gradviz.core.result import (
    ACCUMULATE,
    LEAF,
    OP,
    ROOT,
    BackwardCall,
    BackwardStep,
    GradEvent,
    GraphData,
    GraphEdge,
    GraphNode,
    LeafGrad,
    LeafHistory,
    RunResult,
    SavedRef,
    TensorInfo,
    TensorValue,
)


def good() -> RunResult:
    v = TensorValue((2,), "float32", [1.0, 2.0])
    nodes = (GraphNode("r", ROOT, "Tensor", ()), GraphNode("m", OP, "MulBackward0", (2,)),
             GraphNode("a", ACCUMULATE, "AccumulateGrad", (2,)), GraphNode("x", LEAF, "Tensor", (2,), names=("x",)))
    graph = GraphData(nodes, (GraphEdge("r", "m"), GraphEdge("m", "a"), GraphEdge("a", "x")), ("r",))
    call = BackwardCall(0, 3, "backward", graph, (BackwardStep(0, "m", "MulBackward0", (v,), (v,)),),
                        (LeafGrad("x", "x", None, v),), (SavedRef("m", "self"),))
    return RunResult(variables=(TensorInfo("x", (2,), "float32", True, True, v, v, node_id="x", graph_call=0),),
                     backward_calls=(call,), grad_history=(LeafHistory("x", (2,), (GradEvent("backward", 3, v, 0),)),))


def test_a_consistent_result_passes():
    check_result(good())


def _call(result: RunResult, **changes) -> RunResult:
    return dataclasses.replace(result, backward_calls=(dataclasses.replace(result.backward_calls[0], **changes),))


@pytest.mark.parametrize("forge, where", [
    (lambda r: _call(r, graph=dataclasses.replace(r.backward_calls[0].graph, edges=(GraphEdge("r", "nowhere"),))),
     "edges[0]"),
    (lambda r: _call(r, graph=dataclasses.replace(r.backward_calls[0].graph, roots=("ghost",))), "roots[0]"),
    (lambda r: _call(r, steps=(BackwardStep(0, "ghost", "X"),)), "steps[0]"),
    (lambda r: _call(r, leaves=(LeafGrad("x", "ghost", None, None),)), "leaves[0]"),
    (lambda r: _call(r, freed=(SavedRef("ghost", "self"),)), "freed[0]"),
    (lambda r: dataclasses.replace(r, backward_calls=r.backward_calls * 2), "used twice"),
    (lambda r: dataclasses.replace(r, variables=(dataclasses.replace(r.variables[0], graph_call=7),)), "call 7"),
    (lambda r: dataclasses.replace(r, variables=(dataclasses.replace(r.variables[0], node_id="ghost"),)), "ghost"),
    (lambda r: _call(r, graph=dataclasses.replace(r.backward_calls[0].graph,
                                                  nodes=r.backward_calls[0].graph.nodes * 2)),
     "used twice"),
    (lambda r: _call(r, graph=dataclasses.replace(
        r.backward_calls[0].graph, nodes=(dataclasses.replace(r.backward_calls[0].graph.nodes[0], kind="evil"),)
        + r.backward_calls[0].graph.nodes[1:])), "unknown kind"),
    (lambda r: dataclasses.replace(r, variables=(dataclasses.replace(
        r.variables[0], value=TensorValue((3,), "float32", [1.0, 2.0])),)), "shape"),
    (lambda r: dataclasses.replace(r, variables=(dataclasses.replace(
        r.variables[0], shape=(10**9, 10**9, 10**9)),)), "not a tensor shape"),
])
def test_a_forged_reference_or_value_is_refused_with_its_place(forge, where):
    with pytest.raises(ValueError, match=re.escape(where)):
        check_result(forge(good()))


@pytest.mark.parametrize("value, ok", [
    (TensorValue((), "float32", 1.5), True),
    (TensorValue((2, 2), "float32", [[1, 2], [3, "nan"]]), True),
    (TensorValue((2, 2), "float32", [[1, 2], [3]]), False),
    (TensorValue((2,), "float32", [[1], [2]]), False),
    (TensorValue((1,), "float32", ["rm -rf"]), False),
    (TensorValue((1,), "float32", [{"a": 1}]), False),
    (TensorValue((0, 3), "float32", []), True),
    (TensorValue((4,), "float32", None), True),
])
def test_values_must_nest_as_their_shape_says(value, ok):
    if ok:
        check_value(value, "v")
    else:
        with pytest.raises(ValueError):
            check_value(value, "v")


def test_the_bounds_are_above_what_the_engine_ever_sends():
    """The checks' bounds are the protocol's: the engine's own caps must stay under them."""
    import importlib

    from gradviz.core import checks

    capture = importlib.import_module("gradviz.engine.capture")
    tracer = importlib.import_module("gradviz.engine.tracer")
    values = importlib.import_module("gradviz.engine.values")
    assert capture.MAX_GRAPH_NODES + 1_000 <= checks.MAX_NODES
    assert tracer.MAX_LISTED_CALLS <= checks.MAX_CALLS and tracer.MAX_EVENTS_PER_LEAF <= checks.MAX_EVENTS
    assert max(values.LEAF_LIMIT, values.EDGE_LIMIT) <= checks.MAX_WHOLE_IN_CALLS
    assert values.VARIABLE_LIMIT <= checks.MAX_WHOLE_VARIABLE


def test_a_value_shared_a_million_times_or_kept_whole_past_the_bounds_is_refused():
    big = TensorValue((1000,), "float32", [0.0] * 1000)
    history = LeafHistory("x", (1000,), (GradEvent("backward", 1, big, 0),))
    with pytest.raises(ValueError, match="kept whole"):
        check_result(RunResult(grad_history=(history,)))
    many = LeafHistory("x", (2,), tuple(GradEvent("set", 1, None) for _ in range(6_000)))
    with pytest.raises(ValueError, match="events"):
        check_result(RunResult(grad_history=(many,)))
