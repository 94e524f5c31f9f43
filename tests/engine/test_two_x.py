"""The 2xᵀx run the UI, core and CLI tests share (tests/conftest.py) holds what torch computes."""

import torch


def test_the_shared_two_x_run_is_what_torch_computes(two_x):
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    result, call = two_x.result, two_x.call
    assert result.error is None and result.stdout == f"{x.grad}\n"
    assert result.variable("x").grad.data == x.grad.tolist() == [0.0, 4.0, 8.0, 12.0]
    assert result.variable("y").value.data == y.item() == 28.0
    assert [step.op for step in call.steps] == ["MulBackward0", "DotBackward0", "AccumulateGrad"]
    mul, dot, acc = call.steps
    assert mul.grad_in[0].data == 1.0 and mul.grad_out[0].data == 2.0
    assert [g.data for g in dot.grad_out] == [[0.0, 2.0, 4.0, 6.0]] * 2  # both edges into x's AccumulateGrad
    assert acc.leaf_before is None and acc.leaf_after.data == x.grad.tolist()
    assert call.line == 5 and [s.line for s in result.statements] == [1, 3, 4, 5, 7]


def test_a_step_run_stops_after_its_statement(two_x):
    stopped = two_x.stopped_after(4)
    assert stopped.stopped_at == 4 and stopped.backward_calls == ()
    assert [v.name for v in stopped.variables] == ["x", "y"] and stopped.variable("x").grad is None
