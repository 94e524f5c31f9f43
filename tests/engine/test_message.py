"""Worker messages: strict JSON lines, and a result bounded in size with a note saying what was left out."""

from __future__ import annotations

import json

import orjson

from gradviz.core.checks import check_result
from gradviz.core.plain import from_plain_shared
from gradviz.core.result import BackwardCall, GraphData, GraphNode, RunResult, TensorInfo, TensorValue
from gradviz.engine.message import encode, result_message, summarised


def test_a_lone_surrogate_becomes_a_replacement_character_and_big_integers_survive():
    line = encode({"type": "progress", "text": "a\ud800b", "n": 2**70})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"type": "progress", "text": "a\ufffdb", "n": 2**70}


def big_result(variables: int = 40, elements: int = 5000) -> RunResult:
    values = [TensorValue((elements,), "float32", [float(i % 7) for i in range(elements)]) for _ in range(variables)]
    graph = GraphData((GraphNode("x0", "leaf", "Tensor", (elements,), names=("x0",)),))
    infos = tuple(TensorInfo(f"x{k}", (elements,), "float32", True, True, v, v,
                             node_id="x0" if k == 0 else None, graph_call=0 if k == 0 else None)
                  for k, v in enumerate(values))
    calls = tuple(BackwardCall(k, 3, "backward", graph) for k in range(4))
    return RunResult(stdout="hello\n", variables=infos, backward_calls=calls)


def decode(data: bytes) -> RunResult:
    message = orjson.loads(data)
    result = from_plain_shared(RunResult, message["result"])
    check_result(result)
    return result


def test_a_result_under_the_bound_travels_whole():
    result = big_result(2, 10)
    data = result_message(result, [], 1 << 20, 1)
    assert decode(data) == result


def test_a_result_over_the_bound_is_summarised_until_it_fits():
    result = big_result()
    whole = result_message(result, [], 1 << 30, 1024)
    data = result_message(result, [], 200_000, 0.2)
    assert len(whole) > 800_000 and len(data) <= 200_000
    shrunk = decode(data)
    assert shrunk.stdout == "hello\n"
    x = shrunk.variable("x3")
    assert x.value.data is None and x.value.stats.max == 6.0 and x.value.stats.min == 0.0
    assert shrunk.notes[-1].startswith("The result was over the result limit (0.2 MB)")


def test_when_values_are_not_enough_later_calls_lose_their_detail_and_references_stay_whole():
    graph = GraphData(tuple(GraphNode(f"n{i}", "op", "MulBackward0", (3,), line=i) for i in range(3000)))
    calls = tuple(BackwardCall(k, 3, "backward", graph) for k in range(8))
    info = TensorInfo("y", (3,), "float32", True, False, TensorValue((3,), "float32", [1, 2, 3]),
                      node_id="n1", graph_call=7)
    data = result_message(RunResult(variables=(info,), backward_calls=calls), [], 600_000, 0.6)
    shrunk = decode(data)
    assert len(data) <= 600_000
    detailed = [c for c in shrunk.backward_calls if c.graph.nodes]
    assert 0 < len(detailed) < 8
    assert shrunk.variable("y").graph_call is None  # its call was outlined: no dangling reference
    assert "backward calls recorded step by step" in shrunk.notes[-1]


def test_a_result_of_too_many_lists_is_summarised_but_printed_brackets_do_not_count(monkeypatch):
    """Lists cost the app ~60 bytes each whatever their bytes: the bound counts them too."""
    from gradviz.engine import message

    monkeypatch.setattr(message, "MAX_CONTAINERS", 5_000)
    column = TensorValue((3000, 1), "float32", [[float(i)] for i in range(3000)])  # 3,001 lists
    printed = "[" * 20_000
    result = RunResult(stdout=printed, variables=tuple(
        TensorInfo(f"c{k}", (3000, 1), "float32", False, True, column if k == 0 else
                   TensorValue((3000, 1), "float32", [[float(i + k)] for i in range(3000)])) for k in range(3)))
    data = result_message(result, [], 1 << 30, 1024)  # far under the size limit
    assert message.containers(data) - printed.count("[") <= 5_000
    shrunk = decode(data)
    assert shrunk.stdout == printed and "shown by statistics" in shrunk.notes[-1]
    assert all(v.value.data is None and v.value.stats.max >= 2999.0 for v in shrunk.variables)
    one = RunResult(stdout=printed, variables=result.variables[:1])
    assert decode(result_message(one, [], 1 << 30, 1024)) == one  # 3,001 lists and the printed ones: whole


def test_summarising_keeps_shared_values_shared():
    v = TensorValue((100,), "float32", [1.0] * 100)
    result = RunResult(variables=(TensorInfo("a", (100,), "float32", True, True, v, v),))
    out = summarised(result, 10)
    assert out.variables[0].value is out.variables[0].grad and out.variables[0].value.data is None
