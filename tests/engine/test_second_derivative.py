"""Second derivatives: the nodes a create_graph backward made are marked with their origin, values are torch's."""

import math

import orjson
import pytest
import torch
from runner_helpers import run_python

from gradviz.core.request import RunRequest
from gradviz.core.result import RunResult
from gradviz.engine.run import run_request

GRAD_THEN_BACKWARD = """\
import torch
x = torch.tensor(1.0, requires_grad=True)
y = torch.sin(x) * x
(g,) = torch.autograd.grad(y, x, create_graph=True)
g.backward()
"""

BACKWARD_TWICE = """\
import torch
x = torch.tensor(1.0, requires_grad=True)
y = torch.sin(x) * x
y.backward(create_graph=True)
x.grad.backward()
"""

VECTOR = """\
import torch
x = torch.linspace(0.0, 3.0, 4, requires_grad=True)
y = torch.sin(x)
(g,) = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y), create_graph=True)
g.sum().backward()
"""


def run(program: str, **kwargs) -> RunResult:
    result = run_request(RunRequest(program, **kwargs))
    assert result.error is None, result.error
    return result


def made(graph) -> dict[str, tuple]:
    """Node id -> (op, the op that made it, the call) for every marked node of ``graph``."""
    return {n.id: (n.op, n.made_by.op, n.made_by.call) for n in graph.nodes if n.made_by is not None}


def test_the_gradient_graph_marks_exactly_the_nodes_the_first_backward_made():
    result = run(GRAD_THEN_BACKWARD)
    first, second = result.backward_calls
    assert made(first.graph) == {}  # the forward graph: nothing in it was made by a backward
    graph = second.graph
    marked = made(graph)
    # What torch builds for d(sin(x) * x)/dx: the engine ran MulBackward0 (made grad * x and
    # grad * sin(x)), then SinBackward0 (made cos(x) and the product with it) and, adding the two
    # contributions into x's gradient, the AddBackward0 that is g.
    assert sorted(marked.values()) == [
        ("AddBackward0", "SinBackward0", 0), ("CosBackward0", "SinBackward0", 0),
        ("MulBackward0", "MulBackward0", 0), ("MulBackward0", "MulBackward0", 0),
        ("MulBackward0", "SinBackward0", 0),
    ]
    unmarked = sorted(n.op for n in graph.nodes if n.made_by is None)
    assert unmarked == ["AccumulateGrad", "SinBackward0", "Tensor", "Tensor"]  # sin(x), x's leaf, root g
    root = graph.node(graph.out_edges[graph.roots[0]][0].dst)
    assert root.op == "AddBackward0" and root.names == ("g",) and root.made_by.line == 3
    # The origin: its id in the first call's graph, and in this graph where it is here too.
    first_ids = {n.op: n.id for n in first.graph.nodes if n.kind == "op"}
    sin_here = next(n.id for n in graph.nodes if n.op == "SinBackward0")
    for n in graph.nodes:
        if n.made_by is not None:
            assert n.made_by.node == first_ids[n.made_by.op]
            assert n.made_by.here == (sin_here if n.made_by.op == "SinBackward0" else None)
            assert n.line == 4  # the backward call's line: made there
    # The second backward walks that graph: every node of it ran, the marked ones included.
    assert {s.node_id for s in second.steps} == {n.id for n in graph.nodes if n.kind in ("op", "accumulate")}
    assert second.leaves[0].after.data == pytest.approx(2 * math.cos(1.0) - math.sin(1.0), rel=1e-6)


def test_values_are_torchs_own():
    for program in (GRAD_THEN_BACKWARD, BACKWARD_TWICE, VECTOR):
        result = run(program)
        _, namespace = run_python(program)
        assert result.variable("x").grad.data == pytest.approx(namespace["x"].grad.tolist(), rel=1e-6)
    x = torch.tensor(1.0)
    d2 = 2 * torch.cos(x) - x * torch.sin(x)
    # d2y/dx2 = 2cos x - x sin x
    assert run(GRAD_THEN_BACKWARD).variable("x").grad.data == pytest.approx(d2.item(), rel=1e-6)
    # backward(create_graph=True) then x.grad.backward(): the second pass adds d2y/dx2 into the
    # .grad that holds dy/dx, as torch does (sin 1 + cos 1 + 2 cos 1 - sin 1).
    twice = run(BACKWARD_TWICE)
    assert twice.backward_calls[1].leaves[0].before.data == pytest.approx((torch.sin(x) + x * torch.cos(x)).item())
    assert twice.variable("x").grad.data == pytest.approx(run_python(BACKWARD_TWICE)[1]["x"].grad.item(), rel=1e-6)
    assert twice.variable("x").grad.data == pytest.approx((torch.sin(x) + torch.cos(x) + d2).item(), rel=1e-6)


def test_a_gradient_held_in_dot_grad_is_marked_too():
    result = run(BACKWARD_TWICE)
    graph = result.backward_calls[1].graph
    # x.grad is a copy AccumulateGrad made of the summed gradient; the sum came from SinBackward0.
    assert sorted(made(graph).values()) == [
        ("AddBackward0", "SinBackward0", 0), ("CopyBackwards", "AccumulateGrad", 0),
        ("CosBackward0", "SinBackward0", 0), ("MulBackward0", "MulBackward0", 0),
        ("MulBackward0", "MulBackward0", 0), ("MulBackward0", "SinBackward0", 0),
    ]


def test_a_vector_x_marks_cos_and_gives_minus_sin():
    result = run(VECTOR)
    graph = result.backward_calls[1].graph
    assert sorted(made(graph).values()) == [("CosBackward0", "SinBackward0", 0), ("MulBackward0", "SinBackward0", 0)]
    expected = (-torch.sin(torch.linspace(0.0, 3.0, 4))).tolist()
    assert result.variable("x").grad.data == pytest.approx(expected, rel=1e-6)


def test_a_plain_backward_marks_nothing_and_anomaly_mode_is_left_off():
    program = ("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x.sin() * x).sum()\n"
               "y.backward(retain_graph=True)\n(g,) = torch.autograd.grad(y, x)\n"
               "(h,) = torch.autograd.grad((x * x).sum(), x, create_graph=True)\n"
               "print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())\n")
    result = run(program)
    assert all(n.made_by is None for c in result.backward_calls[:2] for n in c.graph.nodes)
    assert result.stdout == run_python(program)[0] == "False True\n"
    assert result.stderr == ""


def test_errors_nan_and_warnings_stay_as_torch_gives_them():
    inplace = ("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x * 2\nz = y.sin()\n"
               "y.add_(1)\ng = torch.autograd.grad(z.sum(), x, create_graph=True)\n")
    result = run_request(RunRequest(inplace))
    try:
        run_python(inplace)
    except RuntimeError as exc:
        expected = str(exc)
    assert result.error.message == expected  # anomaly mode words its hint otherwise ("... Good luck!")
    assert "Hint: enable anomaly detection" in expected
    assert result.stderr == ""  # no "Error detected in SinBackward0" warning
    nan = ("import torch\nx = torch.tensor([0.0], requires_grad=True)\nz = (x.sqrt() * 0).sum()\n"
           "(g,) = torch.autograd.grad(z, x, create_graph=True)\nprint(g)\n")
    result = run(nan)
    assert result.stdout == run_python(nan)[0] and "nan" in result.stdout


def test_made_by_round_trips_through_json_and_older_json_loads():
    result = run(GRAD_THEN_BACKWARD)
    again = RunResult.from_json(result.to_json())
    assert again.backward_calls[1].graph.nodes == result.backward_calls[1].graph.nodes
    plain = orjson.loads(result.to_json())
    for call in plain["backward_calls"]:
        for node in call["graph"]["nodes"]:
            node.pop("made_by")
    older = RunResult.from_json(orjson.dumps(plain))
    assert all(n.made_by is None for c in older.backward_calls for n in c.graph.nodes)


def test_a_fetched_call_and_a_light_call_still_know_their_origin():
    fetched = run_request(RunRequest(GRAD_THEN_BACKWARD, only_call=1)).backward_calls[0]
    marked = {n.op: n.made_by for n in fetched.graph.nodes if n.made_by is not None}
    assert marked["CosBackward0"].op == "SinBackward0" and marked["CosBackward0"].call == 0
    assert marked["CosBackward0"].node is None  # call 0 ran unrecorded in the fetch


def test_the_contained_engine_marks_them_too(engine):
    result = engine.run(RunRequest(GRAD_THEN_BACKWARD))
    assert result.error is None and result.stderr == ""
    graph = result.backward_calls[1].graph
    assert sorted(made(graph).values())[0] == ("AddBackward0", "SinBackward0", 0)
    assert len(made(graph)) == 5


def test_a_program_in_anomaly_mode_keeps_it_and_its_nodes_are_marked_too():
    program = ("import torch\nx = torch.tensor([0.0], requires_grad=True)\n"
               "with torch.autograd.detect_anomaly():\n"
               "    (g,) = torch.autograd.grad((x.sin() * x).sum(), x, create_graph=True)\n"
               "    print(sorted(k for k in g.grad_fn.metadata if not k.startswith('gradviz')))\n"
               "    g.sum().backward()\n"
               "    print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())\n")
    result = run(program)
    assert result.stdout == run_python(program)[0] == "['parent_', 'traceback_']\nTrue True\n"
    assert {n.op for n in result.backward_calls[1].graph.nodes if n.made_by is not None} >= {"CosBackward0"}
    nan = ("import torch\nx = torch.tensor([0.0], requires_grad=True)\n"
           "with torch.autograd.detect_anomaly():\n"
           "    (g,) = torch.autograd.grad((x.sqrt() * 0).sum(), x, create_graph=True)\n")
    failed = run_request(RunRequest(nan))
    assert failed.error is not None and "returned nan values" in failed.error.message  # the program asked for it


def test_each_node_keeps_the_call_that_made_it_over_several_create_graph_calls():
    program = ("import torch\nx = torch.tensor(1.0, requires_grad=True)\n"
               "torch.autograd.set_detect_anomaly(True, check_nan=False)\n"
               "y = torch.sin(x) * x\ny.backward(create_graph=True)\ny.backward(create_graph=True)\n"
               "x.grad.backward()\n")
    result = run(program)
    calls = {n.made_by.call for n in result.backward_calls[2].graph.nodes if n.made_by is not None}
    assert calls == {0, 1}  # x.grad = (dy/dx of call 1) + (dy/dx of call 2): each part made by its call
    assert result.variable("x").grad.data == pytest.approx(run_python(program)[1]["x"].grad.item(), rel=1e-6)


RETAINED = """\
import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
h = x * x
h.retain_grad()
(h ** 3).sum().backward(create_graph=True)
hg = h.grad
g2, = torch.autograd.grad((hg * hg).sum(), x, create_graph=True)
g2.sum().backward()
print(sorted(hg.grad_fn.metadata))
"""


def test_a_node_is_credited_to_the_call_that_made_it_even_when_found_later():
    """h.grad (a retain_grad tensor) is made by the first call but reached only from the second:
    it was credited to the second; the call is the one whose sequence numbers hold the node's."""
    torch.set_anomaly_enabled(False)  # as in a fresh worker (an earlier program here may have left it on)
    result = run(RETAINED)
    assert result.error is None
    graph = result.backward_calls[-1].graph  # g2.sum().backward(): the graph of the gradient of the gradient
    (node,) = [n for n in graph.nodes if n.names == ("hg",)]
    assert node.op == "CloneBackward0" and node.made_by.call == 0
    second = [n for n in graph.nodes if n.made_by is not None and n.made_by.call == 1]
    assert second and all(n.made_by.line in (3, 5, 7) for n in second)
    assert "parent_" not in result.stdout and "traceback_" not in result.stdout  # torch's anomaly keys: off


def test_the_programs_own_warnings_show_once_as_in_python():
    """In a fresh process (pytest records warnings itself): shown once, as plain Python shows it."""
    import subprocess
    import sys

    program = ("import torch, warnings\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
               "for i in range(5):\n    warnings.warn('careful')\n"
               "    g, = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)\n")
    code = ("import sys\nfrom gradviz.core.request import RunRequest\nfrom gradviz.engine.run import run_request\n"
            "r = run_request(RunRequest(sys.argv[1]))\nprint(r.error, r.stderr.count('UserWarning: careful'))\n")
    out = subprocess.run([sys.executable, "-c", code, program], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["None", "1"], out.stderr
