"""Round trips of RunResult through JSON, and the type checks of from_plain."""

import json
import math
import re

import pytest

from gradviz.core.plain import from_plain, from_plain_shared, to_plain, to_plain_shared
from gradviz.core.request import Limits, RunRequest
from gradviz.core.result import (
    ACCUMULATE,
    LEAF,
    OP,
    ROOT,
    BackwardCall,
    BackwardStep,
    GraphData,
    GraphEdge,
    GraphNode,
    RunResult,
    Stats,
    TensorValue,
)


def dot_graph() -> GraphData:
    return GraphData(
        nodes=(
            GraphNode("n0", ROOT, "Tensor", (), "float32", ("y",)),
            GraphNode("n1", OP, "MulBackward0", (), "float32", line=2),
            GraphNode("n2", OP, "DotBackward0", (), "float32", line=2),
            GraphNode("n3", ACCUMULATE, "AccumulateGrad", (4,), "float32"),
            GraphNode("n4", LEAF, "Tensor", (4,), "float32", ("x",)),
        ),
        edges=(
            GraphEdge("n0", "n1"), GraphEdge("n1", "n2"), GraphEdge("n2", "n3", 0),
            GraphEdge("n2", "n3", 1), GraphEdge("n3", "n4"),
        ),
        roots=("n0",),
    )


def test_run_result_round_trips_through_json_with_nonfinite_numbers():
    grad = TensorValue((2,), "float32", ["nan", 1.0], Stats(1.0, 1.0, 1.0, math.inf))
    call = BackwardCall(0, 3, "backward", dot_graph(),
                        steps=(BackwardStep(0, "n2", "DotBackward0", (grad,), (grad, None)),))
    result = RunResult(stdout="hi\n", backward_calls=(call,), graph=dot_graph())
    text = result.to_json()
    json.loads(text)  # strict JSON: no NaN tokens
    assert '"nan"' in text and '"inf"' in text
    back = RunResult.from_json(text)
    assert back.backward_calls[0].steps[0].grad_out[1] is None
    assert back.backward_calls[0].steps[0].grad_in[0].stats.norm == math.inf
    assert back.backward_calls[0].steps[0].grad_in[0].flat()[1] == 1.0
    assert math.isnan(back.backward_calls[0].steps[0].grad_in[0].flat()[0])
    assert back.graph == result.graph


def test_multigraph_keeps_both_dot_edges_and_reachable_subgraph():
    g = dot_graph()
    nxg = g.to_networkx()
    assert nxg.number_of_edges("n2", "n3") == 2
    assert list(nxg["n2"]["n3"]) == [0, 1]  # keyed by index
    assert [e.index for e in g.out_edges["n2"]] == [0, 1]
    sub = g.reachable("n2")
    assert {n.id for n in sub.nodes} == {"n2", "n3", "n4"} and sub.roots == ("n2",)


def test_incoming_lists_each_contribution_of_a_fan_in():
    g = dot_graph()
    v = TensorValue((4,), "float32", [0.0, 2.0, 4.0, 6.0])
    call = BackwardCall(0, 3, "backward", g, steps=(
        BackwardStep(0, "n2", "DotBackward0", grad_out=(v, v)),
        BackwardStep(1, "n3", "AccumulateGrad"),
    ))
    incoming = call.incoming("n3")
    assert [i.edge.index for i in incoming] == [0, 1]
    assert call.incoming("n3", upto=0) == []
    assert call.incoming("n3", upto=1) == incoming == call.incoming("n3", upto=99)
    assert call.incoming("n3", upto=-1) == incoming and call.incoming("n3", upto=-2) == []  # like steps[:upto]
    assert incoming[0].step is call.steps[0] and incoming[0].value is v
    assert call.incoming("n1") == [] and call.incoming("nope") == []
    assert call == BackwardCall(0, 3, "backward", g, steps=call.steps)  # the cached index is no field


@pytest.mark.parametrize("data, where", [
    ({"program": 3}, "$.program"),
    ({"program": "x", "seed": True}, "$.seed"),
    ({"program": "x", "limits": {"max_seconds": "many"}}, "$.limits.max_seconds"),
    ({"seed": 1}, "missing field 'program'"),
])
def test_from_plain_names_the_bad_field(data, where):
    with pytest.raises(ValueError, match=where.replace("$", r"\$")):
        from_plain(RunRequest, data)


def test_request_round_trip():
    req = RunRequest("x = 1", seed=3, limits=Limits(max_seconds=10), stop_after_line=1)
    assert RunRequest.from_json(req.to_json()) == req
    assert to_plain(req)["limits"]["max_seconds"] == 10


@pytest.mark.parametrize("data, where", [
    ({"id": "n1", "kind": "op", "op": "Mul", "shape": [2, True]}, r"\$.shape\[1\]: expected an integer"),
    ({"id": "n1", "kind": "op", "op": "Mul", "line": 2.0}, r"\$.line"),
    ({"id": "n1", "kind": 7, "op": "Mul"}, r"\$.kind: expected str"),
    ({"id": "n1", "kind": "op", "op": "Mul", "names": ["x", None]}, r"\$.names\[1\]"),
    ({"id": "n1", "kind": "op", "op": "Mul", "value": {"shape": [2], "dtype": "f", "stats": {"min": "x"}}},
     r"\$.value.stats.min: expected a number"),
])
def test_inline_checks_still_reject_and_locate_wrong_types(data, where):
    with pytest.raises(ValueError, match=where):
        from_plain(GraphNode, data)


def test_missing_fields_take_their_defaults_and_numbers_widen():
    node = from_plain(GraphNode, {"id": "n1", "kind": "op", "op": "Mul", "shape": [2, 3]})
    assert node == GraphNode("n1", OP, "Mul", (2, 3))
    assert node.saved == () and node.value is None and node.names == ()
    stats = from_plain(Stats, {"min": 1, "max": 2.5, "mean": "nan", "norm": 3})
    assert type(stats.min) is float and stats.min == 1.0 and math.isnan(stats.mean) and stats.norm == 3.0
    assert hash(node) == hash(GraphNode("n1", OP, "Mul", (2, 3)))  # a frozen dataclass all the same


def test_classes_with_post_init_are_built_through_init():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Checked:
        n: int
        tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)

        def __post_init__(self):
            if self.n < 0:
                raise ValueError("n must not be negative")

    assert from_plain(Checked, {"n": 2}) == Checked(2, ())
    with pytest.raises(ValueError, match="negative"):
        from_plain(Checked, {"n": -1})


def test_complete_objects_with_one_bad_field_name_it():
    value = TensorValue((2,), "float32", [1.0, 2.0], Stats(1.0, 2.0, 1.5, 2.2))
    node = GraphNode("n1", OP, "MulBackward0", (2,), "float32", ("y",), 3, value=value)
    plain = to_plain(node)
    assert set(plain) == set(GraphNode.__dataclass_fields__)  # every field there
    assert from_plain(GraphNode, plain) == node
    assert from_plain(GraphNode, {**plain, "unknown": 1}) == node  # extra keys are ignored
    for path, bad, where in [
        (("line",), "3", r"\$.line: expected an integer"),
        (("value", "stats", "norm"), [1], r"\$.value.stats.norm: expected a number"),
        (("value", "shape"), [2, "x"], r"\$.value.shape\[1\]: expected an integer"),
        (("names",), ["y", 1], r"\$.names\[1\]: expected str"),
    ]:
        broken = json.loads(json.dumps(plain))
        inner = broken
        for key in path[:-1]:
            inner = inner[key]
        inner[path[-1]] = bad
        with pytest.raises(ValueError, match=where):
            from_plain(GraphNode, broken)
    swapped = {**plain, "kind": plain["op"], "op": plain["kind"]}  # both str: no type error
    assert from_plain(GraphNode, swapped).op == OP


def test_encoders_spell_nonfinite_floats_at_any_depth():
    stats = Stats(-math.inf, math.inf, math.nan, 1.0)
    assert to_plain(stats) == {"min": "-inf", "max": "inf", "mean": "nan", "norm": 1.0}
    step = BackwardStep(0, "n2", "DotBackward0", (None, TensorValue((1,), "float32", [1.0], stats)), ())
    plain = to_plain(step)
    assert set(plain) == set(BackwardStep.__dataclass_fields__)
    assert plain["grad_in"][0] is None and plain["grad_in"][1]["stats"]["max"] == "inf"
    assert plain["grad_out"] == [] and plain["leaf_before"] is None


def shared_result() -> tuple[RunResult, TensorValue, TensorValue]:
    """A result in which one gradient is sent by n2 and received by n3 (one object, two places)."""
    grad = TensorValue((4,), "float32", [0.0, 2.0, "inf", 6.0], Stats(0.0, 6.0, 2.67, math.inf))
    other = TensorValue((), "float32", 1.0)
    steps = (
        BackwardStep(0, "n1", "MulBackward0", (other,), (other,)),
        BackwardStep(1, "n2", "DotBackward0", (other,), (grad, grad)),
        BackwardStep(2, "n3", "AccumulateGrad", (grad,), (), leaf_after=grad),
    )
    call = BackwardCall(0, 3, "backward", dot_graph(), steps=steps)
    return RunResult(backward_calls=(call,)), grad, other


def test_shared_documents_write_each_value_once_and_rebuild_one_object_per_value():
    result, grad, other = shared_result()
    document = to_plain_shared(result)
    assert document["shared"]["TensorValue"] == [to_plain(other), to_plain(grad)]
    steps = document["data"]["backward_calls"][0]["steps"]
    assert [s["grad_in"] for s in steps] == [[0], [0], [1]]
    assert steps[1]["grad_out"] == [1, 1] and steps[2]["leaf_after"] == 1
    text = json.dumps(document, allow_nan=False)  # still strict JSON
    back = from_plain_shared(RunResult, json.loads(text))
    assert back == result
    b = back.backward_calls[0].steps
    assert b[1].grad_out[0] is b[1].grad_out[1] is b[2].grad_in[0] is b[2].leaf_after
    assert b[2].leaf_after.flat()[2] == math.inf
    # Plain documents are untouched: no table, values written in full wherever they appear.
    assert to_plain(result)["backward_calls"][0]["steps"][2]["leaf_after"] == to_plain(grad)


def test_equal_values_that_are_different_objects_are_kept_apart():
    a, b = TensorValue((), "float32", 1.0), TensorValue((), "float32", 1.0)
    step = BackwardStep(0, "n1", "MulBackward0", (a,), (b, a))
    document = to_plain_shared(step)
    assert document["data"]["grad_in"] == [0] and document["data"]["grad_out"] == [1, 0]
    assert len(document["shared"]["TensorValue"]) == 2


@pytest.mark.parametrize("document, where", [
    ({"shared": {"TensorValue": []}, "data": {"order": 0, "node_id": "n", "op": "x", "grad_in": [0]}},
     "$.data.grad_in[0]: no shared TensorValue number 0"),
    ({"shared": {"TensorValue": [{"shape": [1], "dtype": 3}]}, "data": {}},
     "$.shared.TensorValue[0].dtype: expected str"),
    ({"shared": {"Stats": []}, "data": {}}, "$.shared.Stats: not a shared type"),
    ({"shared": [], "data": {}}, "$.shared: expected an object"),
    ({"data": {"order": 0, "node_id": "n", "op": "x", "grad_in": [-1]}}, "$.data.grad_in[0]: a reference"),
    ({"shared": {}}, "$: expected an object with 'shared' and 'data'"),
])
def test_broken_shared_documents_name_the_bad_place(document, where):
    with pytest.raises(ValueError, match=re.escape(where)):
        from_plain_shared(BackwardStep, document)


def test_an_index_outside_a_shared_document_is_refused():
    with pytest.raises(ValueError, match=r"\$\.grad_in\[0\]: a reference to a shared TensorValue"):
        from_plain(BackwardStep, {"order": 0, "node_id": "n", "op": "x", "grad_in": [0]})


def test_networkx_graph_has_the_fields_as_graphml_values():
    import io

    import networkx as nx

    nxg = dot_graph().to_networkx()
    assert list(nxg) == ["n0", "n1", "n2", "n3", "n4"]
    assert dict(nxg.nodes["n0"]) == {"kind": ROOT, "op": "Tensor", "label": "y", "shape": "[]", "dtype": "float32",
                                     "names": "y", "root": 0}
    assert dict(nxg.nodes["n1"]) == {"kind": OP, "op": "MulBackward0", "label": "MulBackward0", "shape": "[]",
                                     "dtype": "float32", "line": 2}
    assert nxg.nodes["n3"]["shape"] == "[4]"
    assert [(u, v, k, d) for u, v, k, d in nxg.edges(keys=True, data=True) if u == "n2"] == [
        ("n2", "n3", 0, {"index": 0, "output_nr": 0}), ("n2", "n3", 1, {"index": 1, "output_nr": 0})]
    # Only strings and integers: GraphML takes the graph as it is, and gives it back.
    for _, data in nxg.nodes(data=True):
        assert all(type(v) in (str, int) for v in data.values()), data
    out = io.BytesIO()
    nx.write_graphml(nxg, out)
    back = nx.read_graphml(io.BytesIO(out.getvalue()), force_multigraph=True)
    assert dict(back.nodes(data=True)) == dict(nxg.nodes(data=True))
    assert back.number_of_edges("n2", "n3") == 2


def test_networkx_graph_leaves_out_dangling_and_repeated_edges_and_keeps_root_order():
    nodes = tuple(GraphNode(v, OP, "Op") for v in "abc") + (GraphNode("a", LEAF, "Again"),)
    edges = (GraphEdge("a", "b"), GraphEdge("a", "ghost"), GraphEdge("b", "c", 0, 1), GraphEdge("b", "c", 0, 2))
    nxg = GraphData(nodes, edges, roots=("c", "ghost", "a", "c")).to_networkx()
    assert list(nxg) == ["a", "b", "c"] and nxg.nodes["a"]["op"] == "Op"  # a repeated id keeps its first node
    assert list(nxg.edges(keys=True, data="output_nr")) == [("a", "b", 0, 0), ("b", "c", 0, 1)]
    assert dict(nxg.nodes(data="root")) == {"a": 1, "b": None, "c": 0}
