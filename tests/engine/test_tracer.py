"""The tracer against real torch: execution order, edge gradients, fan-in, freed tensors, .grad history."""

import pytest
import torch

from gradviz.core.replay import Replay
from gradviz.core.result import ACCUMULATE, BACKWARD, LEAF, OP, PARAM, ROOT, SET, SET_NONE, ZEROED
from gradviz.engine.capture import GraphCapture, NameIndex
from gradviz.engine.tracer import Tracer


def traced(bindings, root, line=1, **kwargs):
    """Run root.backward(**kwargs) under a Tracer bound to ``bindings`` (a dict, read live)."""
    tracer = Tracer()
    tracer.bind(lambda: list(bindings.items()))
    tracer.run_backward("backward", line, torch.Tensor.backward, (root,), kwargs)
    return tracer


def engine_order(root, **kwargs):
    """The order the engine runs nodes, seen through the test's own pre-hooks on a twin graph."""
    seen, stack, order = set(), [root.grad_fn], []
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        node.register_prehook(lambda grads, node=node: order.append(type(node).__name__))
        stack.extend(n for n, _ in node.next_functions)
    root.backward(**kwargs)
    return list(order)  # the hooks stay on the graph: copy before the traced run adds more


def diamond():
    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    a = x * 2
    b = a.sin()
    c = a.cos()
    d = b + c
    return x, d.sum()


def test_step_order_is_the_engines_order_on_a_diamond():
    x, loss = diamond()
    expected = engine_order(loss, retain_graph=True)
    x.grad = None
    tracer = traced({"x": x, "loss": loss}, loss)
    ops = [s.op for s in tracer.calls[0].steps]
    assert ops == expected
    # The scheduler prefers the higher sequence number: cos (created last) runs before sin.
    assert ops == ["SumBackward0", "AddBackward0", "CosBackward0", "SinBackward0", "MulBackward0", "AccumulateGrad"]


def test_step_order_is_the_engines_order_on_a_fan_in_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x + 3 * x).sum()
    expected = engine_order(y, retain_graph=True)
    x.grad = None
    tracer = traced({"x": x, "y": y}, y)
    call = tracer.calls[0]
    assert [s.op for s in call.steps] == expected
    acc = next(n.id for n in call.graph.nodes if n.kind == ACCUMULATE)
    # x*x sends two contributions and 3*x one: three edges into x's AccumulateGrad.
    incoming = call.incoming(acc)
    assert len(incoming) == 3
    total = torch.tensor([0.0, 0.0])
    for i in incoming:
        total += torch.tensor(i.value.data)
    assert total.tolist() == (2 * x.detach() + 3).tolist() == x.grad.tolist()
    acc_step = next(s for s in call.steps if s.node_id == acc)
    assert acc_step.grad_in[0].data == [5.0, 7.0] and acc_step.leaf_before is None
    assert acc_step.leaf_after.data == [5.0, 7.0]


def test_dot_graph_keeps_both_edges_names_lines_and_saved_tensors():
    x = torch.arange(4.0, requires_grad=True)
    tracer = Tracer()
    scope = {"x": x}
    tracer.bind(lambda: list(scope.items()))
    y = 2 * torch.dot(x, x)
    tracer.on_result(y, 2)
    scope["y"] = y
    tracer.run_backward("backward", 3, torch.Tensor.backward, (y,), {})
    call = tracer.calls[0]
    g = call.graph
    kinds = sorted(n.kind for n in g.nodes)
    assert kinds == sorted([ROOT, OP, OP, ACCUMULATE, LEAF])
    root = g.node(g.roots[0])
    assert root.names == ("y",) and root.value.data == 28.0
    dot = next(n for n in g.nodes if n.op == "DotBackward0")
    assert dot.line == 2 and dot.shape == ()
    assert [(s.name, s.shape, s.value.data) for s in dot.saved] == [
        ("self", (4,), [0.0, 1.0, 2.0, 3.0]), ("tensor", (4,), [0.0, 1.0, 2.0, 3.0])]
    acc = next(n for n in g.nodes if n.kind == ACCUMULATE)
    assert [e.index for e in g.out_edges[dot.id] if e.dst == acc.id] == [0, 1]
    leaf = next(n for n in g.nodes if n.kind == LEAF)
    assert leaf.names == ("x",) and leaf.value.data == [0.0, 1.0, 2.0, 3.0]
    steps = {s.op: s for s in call.steps}
    assert steps["MulBackward0"].grad_in[0].data == 1.0
    assert steps["MulBackward0"].grad_out[0].data == 2.0
    assert steps["DotBackward0"].grad_out[0].data == [0.0, 2.0, 4.0, 6.0]
    assert steps["AccumulateGrad"].leaf_after.data == [0.0, 4.0, 8.0, 12.0]
    assert call.leaves[0].name == "x" and call.leaves[0].before is None
    # Frames of the replay agree with the record.
    last = Replay(call).frame(len(call.steps))
    assert last.leaf_grads[leaf.id].data == [0.0, 4.0, 8.0, 12.0]


def test_freed_saved_tensors_match_torch_and_second_backward_error_is_recorded():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    tracer = traced({"x": x, "y": y}, y)
    freed = {(ref.node_id, ref.name) for ref in tracer.calls[0].freed}
    dot = next(n for n in tracer.calls[0].graph.nodes if n.op == "DotBackward0")
    assert {(dot.id, "self"), (dot.id, "tensor")} <= freed
    with pytest.raises(RuntimeError, match="second time"):
        dot_node = y.grad_fn.next_functions[0][0]
        _ = dot_node._saved_self  # torch agrees: released
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        tracer.run_backward("backward", 4, torch.Tensor.backward, (y,), {})
    second = tracer.calls[1]
    assert second.error is not None and second.error.type == "RuntimeError" and second.error.line == 4
    assert all(s.freed for n in second.graph.nodes for s in n.saved)
    # Freed, they keep the shape and dtype they had (torch keeps nothing of them).
    saved = {s.name: (s.shape, s.dtype) for n in second.graph.nodes if n.op == "DotBackward0" for s in n.saved}
    assert saved == {"self": ((4,), "float32"), "tensor": ((4,), "float32")}


def test_retain_graph_frees_nothing_and_grads_accumulate():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    tracer = traced({"x": x, "y": y}, y, retain_graph=True)
    assert tracer.calls[0].freed == () and tracer.calls[0].retain_graph
    tracer.run_backward("backward", 2, torch.Tensor.backward, (y,), {})
    assert tracer.calls[1].leaves[0].before.data == [0.0, 4.0, 8.0, 12.0]
    assert tracer.calls[1].leaves[0].after.data == [0.0, 8.0, 16.0, 24.0]


def test_gradient_history_follows_accumulation_zeroing_and_none():
    x = torch.tensor([1.0, -1.0], requires_grad=True)
    scope = {"x": x}
    tracer = Tracer()
    tracer.bind(lambda: list(scope.items()))
    for line in (2, 3, 4):
        y = (x * x).sum()
        tracer.run_backward("backward", line, torch.Tensor.backward, (y,), {})
    x.grad.zero_()
    tracer.on_grad_touched(5)
    y = (x * 3).sum()
    tracer.run_backward("backward", 6, torch.Tensor.backward, (y,), {})
    x.grad = None
    tracer.on_grad_touched(7)
    x.grad = torch.tensor([9.0, 9.0])
    tracer.check_grads(8)
    (hist,) = tracer.leaf_histories()
    assert hist.name == "x"
    assert [(e.kind, e.line, e.value.data if e.value else None) for e in hist.events] == [
        (BACKWARD, 2, [2.0, -2.0]), (BACKWARD, 3, [4.0, -4.0]), (BACKWARD, 4, [6.0, -6.0]),
        (ZEROED, 5, [0.0, 0.0]), (BACKWARD, 6, [3.0, 3.0]), (SET_NONE, 7, None), (SET, 8, [9.0, 9.0]),
    ]
    assert [e.call for e in hist.events if e.kind == BACKWARD] == [0, 1, 2, 3]


def test_parameters_get_qualified_names_and_param_kind():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    out = lin(torch.ones(1, 3)).sum()
    tracer = traced({"lin": lin, "out": out}, out)
    g = tracer.calls[0].graph
    params = sorted(n.names for n in g.nodes if n.kind == PARAM)
    assert params == [("lin.bias",), ("lin.weight",)]
    assert sorted(lg.name for lg in tracer.calls[0].leaves) == ["lin.bias", "lin.weight"]
    assert next(lg for lg in tracer.calls[0].leaves if lg.name == "lin.weight").after.data == [[1.0] * 3] * 2


def test_autograd_grad_records_outputs_and_leaves_dot_grad_alone():
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 3
    tracer = Tracer()
    tracer.bind(lambda: [("x", x), ("y", y)])
    (g,) = tracer.run_backward("autograd.grad", 1, torch.autograd.grad, (y, x), {"create_graph": True})
    call = tracer.calls[0]
    assert g.item() == 27.0 and call.outputs[0].data == 27.0 and call.create_graph
    assert x.grad is None and tracer.leaf_histories()[0].events == ()
    assert [s.op for s in call.steps] == ["PowBackward0"]


def test_big_gradients_are_summarised_with_exact_statistics():
    x = torch.linspace(-1, 1, 1000, requires_grad=True)
    y = (x * x).sum()
    tracer = traced({"x": x, "y": y}, y)
    after = tracer.calls[0].leaves[0].after
    assert after.data is None and after.shape == (1000,)
    expected = 2 * x.detach()
    assert after.stats.min == pytest.approx(expected.min().item())
    assert after.stats.max == pytest.approx(expected.max().item())
    assert after.stats.norm == pytest.approx(expected.norm().item(), rel=1e-6)
    assert after.stats.mean == pytest.approx(0.0, abs=1e-6)


def test_capture_of_a_5000_node_chain_is_iterative():
    x = torch.ones(2, requires_grad=True)
    y = x
    for _ in range(2500):
        y = y * 1.0 + 0.0
    cap = GraphCapture(NameIndex.from_bindings([("x", x), ("y", y)]))
    cap.add_root(y)
    g = cap.graph()
    assert len(g.nodes) == 1 + 5000 + 2 and len(g.edges) == len(g.nodes) - 1


@pytest.mark.parametrize("kind, call", [
    ("backward", lambda x, y: (y.backward, (None, True), {})),
    ("backward", lambda x, y: (torch.Tensor.backward, (y,), {"retain_graph": True})),
    ("autograd.backward", lambda x, y: (torch.autograd.backward, ([y], None, True), {})),
    ("autograd.grad", lambda x, y: (torch.autograd.grad, (y, [x], None, True), {})),
])
def test_roots_and_flags_are_read_from_every_call_form(kind, call):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    tracer = Tracer()
    tracer.bind(lambda: [("x", x), ("y", y)])
    fn, args, kwargs = call(x, y)
    tracer.run_backward(kind, 1, fn, args, kwargs)
    rec = tracer.calls[0]
    assert rec.retain_graph and rec.freed == ()
    root = rec.graph.node(rec.graph.roots[0])
    assert root.kind == ROOT and root.names == ("y",)
    assert [s.op for s in rec.steps][0] == "SumBackward0"


def _sent(call, op):
    step = next(s for s in call.steps if s.op == op)
    return [v.data if v is not None else None for v in step.grad_out]


def test_what_each_node_sent_matches_what_torch_computes_without_holding_it():
    """Sends are read from what the targets received, except where edges into one input are summed."""
    torch.manual_seed(0)
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    x = torch.tensor([3.0, 4.0])
    h = w * x          # MulBackward0 sends x to w's AccumulateGrad
    y = (h * h + h).sum()  # h feeds two nodes: their contributions are summed into h's node
    tracer = traced({"w": w, "x": x, "y": y}, y)
    call = tracer.calls[0]
    assert _sent(call, "SumBackward0") == [[1.0, 1.0]]
    assert _sent(call, "AddBackward0") == [[1.0, 1.0], [1.0, 1.0]]
    # d(h*h)/dh = 2h along both parallel edges (each sends h), d(h)/dh = 1 along the other.
    hv = (w * x).detach()
    mul_hh = next(s for s in call.steps if s.op == "MulBackward0" and len(s.grad_out) == 2
                  and s.grad_out[0].data == hv.tolist())
    assert [v.data for v in mul_hh.grad_out] == [hv.tolist(), hv.tolist()]
    received = next(s for s in call.steps if s.op == "MulBackward0" and s is not mul_hh).grad_in[0].data
    assert received == (2 * hv + 1).tolist()
    assert w.grad.tolist() == ((2 * hv + 1) * x).tolist()
    acc = next(s for s in call.steps if s.op == "AccumulateGrad")
    assert acc.grad_in[0].data == w.grad.tolist() == acc.leaf_after.data


def test_a_failing_call_still_shows_what_reached_the_failing_node():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    tracer = traced({"x": x, "y": y}, y)
    with pytest.raises(RuntimeError, match="second time"):
        tracer.run_backward("backward", 3, torch.Tensor.backward, (y,), {})
    second = tracer.calls[1]
    assert [s.op for s in second.steps] == ["SumBackward0"]  # MulBackward0 failed
    assert _sent(second, "SumBackward0") == [[1.0, 1.0]]


def test_sends_into_nodes_that_never_run_are_kept():
    """autograd.grad captures the gradient at x's edge without running its AccumulateGrad."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 5.0], requires_grad=True)
    tracer = Tracer()
    tracer.bind(lambda: [("x", x), ("w", w)])
    (g,) = tracer.run_backward("autograd.grad", 1, torch.autograd.grad, ((x * w).sum(), x), {})
    call = tracer.calls[0]
    assert [s.op for s in call.steps] == ["SumBackward0", "MulBackward0"]
    assert _sent(call, "MulBackward0") == [[3.0, 5.0], None] and g.tolist() == [3.0, 5.0]
    # backward(inputs=[w]): torch computes only w's side; w's AccumulateGrad runs.
    y = (x * w).sum()
    tracer = traced({"x": x, "w": w, "y": y}, y, inputs=[w])
    call = tracer.calls[0]
    assert x.grad is None and w.grad.tolist() == [1.0, 2.0]
    assert [s.op for s in call.steps] == ["SumBackward0", "MulBackward0", "AccumulateGrad"]
    assert _sent(call, "MulBackward0") == [None, [1.0, 2.0]]



def test_a_freed_saved_tensor_remembers_its_shape_for_sequence_number_0_too():
    """0 is a sequence number like any other (it was taken for "unknown", and its shape lost)."""
    from gradviz.engine.capture import saved_tensor

    seen = saved_tensor("DotBackward0", 0, "self", torch.ones(4), None)
    freed = saved_tensor("DotBackward0", 0, "self", None, None)
    assert (seen.shape, seen.freed) == ((4,), False)
    assert (freed.shape, freed.dtype, freed.freed) == ((4,), "float32", True)
    assert saved_tensor("DotBackward0", None, "self", None, None).shape == ()  # never seen: unknown
