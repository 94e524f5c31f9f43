"""Two runs compared (gradviz.core.compare) on real engine results: matched nodes, nodes on one
side only, .grads that differ, and the pairing of animation steps."""

from __future__ import annotations

import pytest

from gradviz.core.compare import compare_calls, node_keys, pair_calls, pair_runs
from gradviz.core.request import RunRequest
from tests.conftest import run_in_process

SQUARE = """import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * x).sum()
y.backward()
"""

# One more multiplication: a second MulBackward0 and a .grad three times as large.
SQUARE_TIMES_3 = SQUARE.replace("(x * x).sum()", "(x * x * 3).sum()")

# The same product scaled by a hair: the gradient moves by about 2e-6, well inside the tolerance.
SQUARE_TIMES_ALMOST_1 = SQUARE.replace("(x * x).sum()", "(x * x * 1.000001).sum()")

THREE_CALLS = """import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
for step in range(3):
    loss = (w * w).sum()
    loss.backward()
"""


@pytest.fixture(scope="module")
def runs():
    return {name: run_in_process(RunRequest(program)) for name, program in
            {"square": SQUARE, "times3": SQUARE_TIMES_3, "almost": SQUARE_TIMES_ALMOST_1,
             "three": THREE_CALLS}.items()}


def test_identical_runs_have_no_differences(runs):
    again = run_in_process(RunRequest(SQUARE))
    pair = pair_runs(runs["square"], again)
    c = pair.comparison
    assert c.identical and c.only_a == () and c.only_b == () and c.grads == ()
    assert len(c.matched) == len(runs["square"].backward_calls[0].graph.nodes) == 5
    assert c.differing_nodes("a") == {} and c.differing_nodes("b") == {}


def test_a_node_only_one_side_has_and_a_grad_that_differs(runs):
    a, b = runs["square"].backward_calls[-1], runs["times3"].backward_calls[-1]
    c = compare_calls(a, b)
    assert c.only_a == ()
    (extra,) = c.only_b
    assert b.graph.node(extra).op == "MulBackward0"
    # The matched nodes are the same things on both sides, by what the user sees.
    labels = sorted((a.graph.node(i).label, b.graph.node(j).label) for i, j in c.matched)
    assert labels == sorted([("y", "y"), ("SumBackward0", "SumBackward0"), ("MulBackward0", "MulBackward0"),
                             ("AccumulateGrad", "AccumulateGrad"), ("x", "x")])
    (grad,) = c.grads
    assert grad.name == "x"
    assert grad.a.flat() == [2.0, 4.0] and grad.b.flat() == [6.0, 12.0]
    assert grad.max_abs == pytest.approx(8.0)
    assert a.graph.node(grad.node_a).names == ("x",) and b.graph.node(grad.node_b).names == ("x",)
    assert c.differing_nodes("b") == {extra: "only", grad.node_b: "grad"}
    assert c.differing_nodes("a") == {grad.node_a: "grad"}
    assert not c.identical


def test_a_difference_inside_the_tolerance_is_no_difference(runs):
    c = pair_runs(runs["square"], runs["almost"]).comparison
    assert c.grads == ()  # 2.000002 vs 2.0: within torch.allclose's tolerance
    assert len(c.only_b) == 1  # the extra multiplication is still there
    tight = compare_calls(runs["square"].backward_calls[0], runs["almost"].backward_calls[0], rtol=0.0, atol=0.0)
    assert [g.name for g in tight.grads] == ["x"] and 0 < tight.grads[0].max_abs < 1e-5


def test_steps_pair_by_number_and_the_shorter_call_holds_its_last(runs):
    c = pair_runs(runs["square"], runs["times3"]).comparison
    assert (c.steps_a, c.steps_b) == (3, 4)  # Sum, Mul, AccumulateGrad vs Sum, Mul, Mul, AccumulateGrad
    assert c.frames == 5
    assert c.pairs() == [(0, 0), (1, 1), (2, 2), (3, 3), (3, 4)]
    assert c.pair(99) == (3, 4) and c.pair(-1) == (0, 0)


def test_two_calls_of_one_run_compare_their_grads(runs):
    result = runs["three"]
    pair = pair_calls(result, 0, 2, "loop")
    c = pair.comparison
    assert pair.title_a == "loop \u00b7 #1" and pair.title_b == "loop \u00b7 #3"
    assert c.only_a == c.only_b == ()
    (grad,) = c.grads  # w.grad accumulates: 2w after the first call, 6w after the third
    assert grad.a.flat() == [2.0, 4.0] and grad.b.flat() == [6.0, 12.0]
    assert pair.histories[0] is pair.histories[1] is result.grad_history


def test_node_keys_count_repeats_in_walk_order(runs):
    graph = runs["times3"].backward_calls[0].graph
    keys = node_keys(graph)
    muls = sorted(k for k in keys.values() if k[1] == "MulBackward0")
    assert muls == [("op", "MulBackward0", (), 0), ("op", "MulBackward0", (), 1)]
    accumulate = next(k for k in keys.values() if k[0] == "accumulate")
    assert accumulate == ("accumulate", "AccumulateGrad", ("x",), 0)  # named by the leaf it writes
    outer = next(n.id for n in graph.nodes if n.op == "SumBackward0")
    first_mul = graph.out_edges[outer][0].dst  # the walk meets the outer multiplication first
    assert keys[first_mul][3] == 0


def test_a_run_without_backward_has_nothing_to_compare(runs):
    plain = run_in_process(RunRequest("import torch\nx = torch.ones(2, requires_grad=True)\ny = x * 2\n"))
    pair = pair_runs(runs["square"], plain)
    assert pair.comparison is None and pair.call_b is None and pair.call_a == 0


def test_infinities_differ_unless_equal_whichever_side_they_are_on():
    """|x - y| <= atol + rtol * |y| holds whenever y is infinite: 1 against inf, and inf against
    -inf, were "the same" one way round. As torch.allclose: an infinity only equals itself."""
    def run(k: str):
        program = ("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                   f"(x * torch.tensor([{k}, 1.0])).sum().backward()\n")
        return run_in_process(RunRequest(program))

    one, inf, minus = run("1.0"), run("float('inf')"), run("float('-inf')")
    for a, b in [(one, inf), (inf, one), (inf, minus), (minus, inf)]:
        (grad,) = pair_runs(a, b).comparison.grads
        assert grad.name == "x"
    assert pair_runs(inf, inf).comparison.grads == ()
