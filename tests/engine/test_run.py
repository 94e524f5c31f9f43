"""Whole runs through gradviz compared with the same programs in real Python + torch."""

import contextlib
import io
import math

import pytest
import torch

from gradviz.core.request import Limits, RunRequest
from gradviz.core.result import ACCUMULATE, BACKWARD, LEAF, PARAM, ROOT, SET, SET_NONE, ZEROED
from gradviz.engine.run import run_request

README = """\
import torch
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
print(x.grad)
"""

PROGRAMS = {
    "readme": README,
    "sum_vs_ones_like": """\
import torch
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * x
y.sum().backward()
g1 = x.grad.clone()
x.grad = None
y = x * x
y.backward(torch.ones_like(y))
g2 = x.grad.clone()
print(g1, g2, torch.equal(g1, g2))
""",
    "non_scalar_gradient": """\
import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x ** 2
y.backward(gradient=torch.tensor([1.0, 0.5]))
print(x.grad)
""",
    "retain_graph": """\
import torch
x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
y.backward(retain_graph=True)
print(x.grad)
y.backward()
print(x.grad)
""",
    "accumulate_then_zero": """\
import torch
w = torch.tensor([1.0, -2.0], requires_grad=True)
for i in range(3):
    loss = (w * w).sum()
    loss.backward()
    print(i, w.grad)
w.grad.zero_()
print(w.grad)
""",
    "detach_no_grad": """\
import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
c = (x * 3).detach()
with torch.no_grad():
    z = x * 5
y = (x * c).sum() + z.sum()
y.backward()
print(x.grad, c.requires_grad, z.requires_grad)
""",
    "function_while_if": """\
import torch
def f(x):
    y = x
    n = 0
    while y.norm() < 10:
        if n % 2 == 0:
            y = y * 2
        else:
            y = y + 1
        n += 1
    return y.sum(), n
x = torch.tensor([0.5, 1.0], requires_grad=True)
s, n = f(x)
s.backward()
print(n, s.item(), x.grad)
""",
    "sequential_add_module": """\
import torch
import torch.nn as nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4))
model.add_module("act", nn.Tanh())
model.add_module("out", nn.Linear(4, 1))
x = torch.randn(5, 3)
loss = model(x).pow(2).mean()
loss.backward()
print(model)
print(round(loss.item(), 5))
""",
    "sgd_with_zero_grad": """\
import torch
import torch.nn as nn
torch.manual_seed(0)
model = nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
t = torch.tensor([[1.0], [2.0]])
for epoch in range(3):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), t)
    loss.backward()
    opt.step()
    print(epoch, round(loss.item(), 5))
""",
    "sgd_without_zero_grad": """\
import torch
import torch.nn as nn
torch.manual_seed(0)
model = nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
t = torch.tensor([[1.0], [2.0]])
for epoch in range(3):
    loss = nn.functional.mse_loss(model(x), t)
    loss.backward()
    opt.step()
    print(epoch, round(loss.item(), 5), model.weight.grad)
""",
    "grad_create_graph": """\
import torch
x = torch.tensor(3.0, requires_grad=True)
y = x ** 3
dy, = torch.autograd.grad(y, x, create_graph=True)
d2y, = torch.autograd.grad(dy, x)
print(dy, d2y)
""",
}


def run_real(program: str):
    """The program in plain Python after torch.manual_seed(0): printed text and namespace."""
    torch.manual_seed(0)
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(program, namespace)  # the test's reference run; the package never execs user code
    return out.getvalue(), namespace


def assert_same_tensors(result, namespace):
    for info in result.variables:
        if "." in info.name:
            module, _, rest = info.name.partition(".")
            real = dict(namespace[module].named_parameters())[rest]
        else:
            real = namespace[info.name]
        assert info.shape == tuple(real.shape), info.name
        assert torch.allclose(torch.tensor(info.value.data, dtype=torch.float64),
                              real.detach().double(), atol=1e-6), info.name
        grad = real.grad if real.is_leaf else None
        if grad is None:
            assert info.grad is None, info.name
        else:
            assert torch.allclose(torch.tensor(info.grad.data, dtype=torch.float64), grad.double(), atol=1e-6)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_gradviz_matches_real_torch(name):
    program = PROGRAMS[name]
    result = run_request(RunRequest(program))
    assert result.error is None, result.error
    expected_out, namespace = run_real(program)
    assert result.stdout == expected_out
    assert_same_tensors(result, namespace)


def test_readme_example_records_the_whole_backward_pass():
    result = run_request(RunRequest(README))
    assert result.stdout == "tensor([ 0.,  4.,  8., 12.])\n"
    (call,) = result.backward_calls
    assert call.line == 4 and call.kind == "backward"
    assert [s.op for s in call.steps] == ["MulBackward0", "DotBackward0", "AccumulateGrad"]
    root = call.graph.node(call.graph.roots[0])
    assert root.kind == ROOT and root.names == ("y",)
    dot = next(n for n in call.graph.nodes if n.op == "DotBackward0")
    assert dot.line == 3
    acc = next(n for n in call.graph.nodes if n.kind == ACCUMULATE)
    assert len(call.incoming(acc.id)) == 2
    assert call.leaves[0].after.data == [0.0, 4.0, 8.0, 12.0]
    x = result.variable("x")
    assert x.grad.data == [0.0, 4.0, 8.0, 12.0] and x.is_leaf and x.node_id is not None
    # Both live in the backward call's graph, which is not recorded a second time.
    assert x.graph_call == 0 and call.graph.node(x.node_id).kind == LEAF
    y = result.variable("y")
    assert y.grad_fn == "MulBackward0" and y.graph_call == 0 and call.graph.node(y.node_id).kind == ROOT
    assert result.graph.nodes == ()
    assert [n.op for n in result.graph_of(y).nodes if n.kind == "op"] == ["MulBackward0", "DotBackward0"]


def test_tensors_outside_the_last_backward_get_their_own_graph():
    program = README + "z = x.sin() * 3\nw = z.sum()\n"
    result = run_request(RunRequest(program))
    z, w, y = result.variable("z"), result.variable("w"), result.variable("y")
    assert y.graph_call == 0 and z.graph_call is None and w.graph_call is None
    assert result.graph.node(w.node_id).kind == ROOT and result.graph.node(z.node_id).op == "MulBackward0"
    ops = sorted(n.op for n in result.graph_of(w).nodes if n.kind == "op")
    assert ops == ["MulBackward0", "SinBackward0", "SumBackward0"]
    assert result.graph_of(z).roots == (z.node_id,)


def test_history_of_sgd_without_zero_grad_climbs_and_with_zero_grad_resets():
    climbing = run_request(RunRequest(PROGRAMS["sgd_without_zero_grad"]))
    hist = {h.name: h for h in climbing.grad_history}
    events = hist["model.weight"].events
    assert [e.kind for e in events] == [BACKWARD] * 3
    norms = [math.hypot(*e.value.flat()) for e in events]
    assert norms[0] < norms[1] < norms[2]

    resetting = run_request(RunRequest(PROGRAMS["sgd_with_zero_grad"]))
    events = {h.name: h for h in resetting.grad_history}["model.weight"].events
    assert [e.kind for e in events] == [BACKWARD, SET_NONE, BACKWARD, SET_NONE, BACKWARD]
    assert all(e.line == 9 for e in events if e.kind == SET_NONE)
    assert {n.kind for n in resetting.backward_calls[0].graph.nodes if n.names} >= {PARAM}


def test_history_marks_zero_():
    result = run_request(RunRequest(PROGRAMS["accumulate_then_zero"]))
    (hist,) = result.grad_history
    assert [e.kind for e in hist.events] == [BACKWARD, BACKWARD, BACKWARD, ZEROED]
    assert [e.value.data for e in hist.events] == [[2.0, -4.0], [4.0, -8.0], [6.0, -12.0], [0.0, 0.0]]
    assert hist.events[-1].line == 7


def test_second_backward_error_keeps_what_ran_before():
    program = ("import torch\nx = torch.tensor(2.0, requires_grad=True)\ny = x ** 3\ny.backward()\nprint(x.grad)\n"
               "y.backward()\nprint('never')\n")
    result = run_request(RunRequest(program))
    assert result.stdout == "tensor(12.)\n"
    assert result.error.line == 6 and "second time" in result.error.message and result.error.hint
    assert [s.ok for s in result.statements] == [True, True, True, True, True, False]
    assert len(result.backward_calls) == 2 and result.backward_calls[1].error is not None
    assert result.backward_calls[0].freed and result.variable("x").grad.data == 12.0


def test_stop_after_line_stops_early():
    result = run_request(RunRequest(README, stop_after_line=3))
    assert result.stopped_at == 3 and result.backward_calls == ()
    y = result.variable("y")
    assert y.grad_fn == "MulBackward0" and result.variable("x").grad is None
    assert y.graph_call is None and result.graph.node(y.node_id).kind == ROOT


def test_seed_gives_the_same_numbers_as_manual_seed():
    program = "import torch\nw = torch.randn(3)\nprint(w)\n"
    torch.manual_seed(7)
    expected = f"{torch.randn(3)}\n"
    assert run_request(RunRequest(program, seed=7)).stdout == expected


def test_limits_are_passed_to_the_runner():
    result = run_request(RunRequest("import torch\nwhile True:\n    pass\n", limits=Limits(max_seconds=0.5)))
    assert result.error.type == "LimitExceeded" and result.error.limit == "max_seconds"
    assert result.error.line in (2, 3)  # `while True: pass` is one loop of line 2 and 3


def test_tensor_size_and_operation_limits():
    """max_elements refuses a factory before it allocates and any other tensor as it comes back
    (views allocate nothing and pass); max_steps counts the program's torch calls."""
    import resource
    limits = Limits(max_elements=1_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for program, line, elements in [
        ("import torch\nok = torch.ones(1000, 1000)\nbig = torch.zeros(10**5, 10**5)\n", 3, 10**10),
        ("import torch\nbig = torch.full((2000, 2000), 1.0)\n", 2, 4_000_000),
        ("import torch\nx = torch.ones(5)\nbig = x.new_empty(1001, 1000)\n", 3, 1_001_000),
        ("import torch\na = torch.ones(1001, 1)\nb = torch.ones(1, 1000)\nc = a @ b\n", 4, 1_001_000),
    ]:
        result = run_request(RunRequest(program, limits=limits))
        assert result.error is not None and result.error.limit == "max_elements", program
        assert result.error.line == line
        assert result.error.message.startswith(f"The program made a tensor of {elements:,} elements")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # 10**10 floats: 40 GB
    view = run_request(RunRequest("import torch\nv = torch.ones(1, 1).expand(10**5, 10**5)\n"
                                  "d = v.detach()\ne = v.data\n", limits=limits))
    assert view.error is None  # a view and its aliases allocate nothing
    sized = run_request(RunRequest("import torch, numpy as np\nz = torch.zeros(np.int64(10**5), np.int64(10**5))\n",
                                   limits=limits))
    assert sized.error.limit == "max_elements" and "10,000,000,000 elements" in sized.error.message
    assert view.variable("v").value.stats.norm == 1e5 and view.variable("v").value.stats.mean == 1.0
    loop = "import torch\nx = torch.ones(3, requires_grad=True)\nfor i in range(10_000):\n    y = (x * 2).sum()\n"
    result = run_request(RunRequest(loop, limits=Limits(max_steps=1000)))
    assert result.error.limit == "max_steps" and result.error.line == 4
    assert "over the operation limit (1,000 torch operations)" in result.error.message
    assert run_request(RunRequest(loop, limits=Limits(max_steps=20_001))).error is None


def test_the_product_example_runs_without_import_torch():
    """The example people see first leaves `import torch` out; gradviz binds it like a builtin."""
    program = "x = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\ny.backward()\nx.grad\n"
    result = run_request(RunRequest(program))
    assert result.error is None and result.stdout == ""
    assert result.variable("x").grad.data == [0.0, 4.0, 8.0, 12.0]
    shadowed = run_request(RunRequest("torch = 3\nprint(torch + 1)\n"))
    assert shadowed.stdout == "4\n"


def test_first_run_in_a_fresh_engine_needs_no_lazy_torch_machinery():
    """Sizes of arange/linspace/eye… are computed, not found by a meta dry run (which imports
    torch._dynamo on first use: 0.7 s before the first graph)."""
    import subprocess
    import sys
    from pathlib import Path
    code = (
        "import sys, torch\n"
        "from gradviz.core.request import RunRequest\n"
        "from gradviz.engine.run import run_request\n"
        "r = run_request(RunRequest('x = torch.arange(4.0)\\ny = torch.linspace(0, 1, 5)\\n"
        "z = torch.eye(3)\\nw = torch.full((2, 2), 1.0)\\nv = torch.randint(0, 3, (2,))\\n'))\n"
        "print(r.error, 'torch._dynamo' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120)
    assert proc.stdout.split() == ["None", "False"], proc.stderr


def test_a_tensor_hook_that_changes_a_gradient_shows_both_sides_of_the_edge():
    program = """\
import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 3
y.register_hook(lambda g: g * 10)
y.sum().backward()
"""
    result = run_request(RunRequest(program))
    assert result.error is None
    call = result.backward_calls[0]
    sum_step = next(s for s in call.steps if s.op == "SumBackward0")
    mul_step = next(s for s in call.steps if s.op == "MulBackward0")
    assert sum_step.grad_out[0].flat() == [1.0, 1.0]  # what SumBackward0 sent
    assert mul_step.grad_in[0].flat() == [10.0, 10.0]  # what MulBackward0 got after the hook
    assert result.grad_history[0].events[-1].value.flat() == [30.0, 30.0]


LONG_CHAIN = """import torch
x = torch.ones(3, requires_grad=True)
y = x
for i in range(N):
    y = y * 1.5
z = y * 1.0
y.sum().backward()
"""


def test_a_graph_past_the_node_cap_is_cut_from_the_output_and_says_so(monkeypatch):
    import gradviz.engine.capture as capture

    monkeypatch.setattr(capture, "MAX_GRAPH_NODES", 40)
    result = run_request(RunRequest(LONG_CHAIN.replace("N", "100")))
    assert result.error is None
    call = result.backward_calls[0]
    ids = {n.id for n in call.graph.nodes}
    assert len(ids) <= 40 and call.graph.roots[0] in ids
    assert all(e.src in ids and e.dst in ids for e in call.graph.edges)
    ops = [n.op for n in call.graph.nodes]
    assert ops.count("MulBackward0") >= 30 and "AccumulateGrad" not in ops  # the far end (the leaf) is cut
    assert [st.node_id for st in call.steps][:3] == [n.id for n in call.graph.nodes if n.kind != ROOT][:3]
    assert all(st.node_id in ids for st in call.steps)
    # The pass itself ran whole: x.grad is the real one.
    x = result.variable("x")
    assert x.grad.data == pytest.approx([1.5 ** 100] * 3, rel=1e-5)
    history = {h.name: h for h in result.grad_history}  # x is beyond the cut, its .grad history is not
    assert [e.kind for e in history["x"].events] == [BACKWARD]
    assert history["x"].events[0].value.data == pytest.approx([1.5 ** 100] * 3, rel=1e-5)
    assert result.notes[0].startswith("Backward call 1 went through more than 40 autograd nodes")
    assert any(n.startswith("The graphs behind the variables have more than 40 nodes") for n in result.notes)


def test_graphs_under_the_cap_carry_no_note():
    result = run_request(RunRequest(LONG_CHAIN.replace("N", "100")))
    assert result.notes == () and len(result.backward_calls[0].graph.nodes) == 104


def test_leaves_made_in_a_loop_keep_the_name_they_were_bound_to():
    program = """\
import torch
total = 0
for i in range(3):
    w = torch.full((2,), float(i + 1), requires_grad=True)
    b, scale = torch.zeros(2, requires_grad=True), 2.0
    total = total + (w * scale + b).sum()

def make():
    inner = torch.ones(2, requires_grad=True)
    return inner

once = make() * 3
total = total + once.sum()
total.backward()
"""
    result = run_request(RunRequest(program))
    assert result.error is None
    # The last w and b are still bound; earlier ones are the k-th tensor each name held.
    names = [h.name for h in result.grad_history]
    assert names == ["w #1", "b #1", "w #2", "b #2", "w", "b", "inner"]
    graph = result.backward_calls[0].graph
    leaf_names = sorted(n.names for n in graph.nodes if n.kind == LEAF)
    assert leaf_names == [("b",), ("b #1",), ("b #2",), ("inner",), ("w",), ("w #1",), ("w #2",)]
    grads = {h.name: h.events[-1].value.flat() for h in result.grad_history}
    assert grads["w #1"] == grads["w"] == [2.0, 2.0] and grads["inner"] == [3.0, 3.0]


def test_a_leaf_keeps_its_name_across_backward_calls_and_in_the_history():
    program = """\
import torch
def layer(x):
    w = torch.ones(2, requires_grad=True)
    return x * w
y = layer(torch.ones(2))
y.sum().backward(retain_graph=True)
y = layer(y)
y.sum().backward()
"""
    result = run_request(RunRequest(program))
    assert result.error is None
    assert [h.name for h in result.grad_history] == ["w", "w #2"]  # the first was alone when first shown
    first, second = result.backward_calls
    assert [lg.name for lg in first.leaves] == ["w"]
    assert sorted(lg.name for lg in second.leaves) == ["w", "w #2"]  # not "w #1" now that there are two
    leaves = {n.names for n in second.graph.nodes if n.kind == LEAF}
    assert leaves == {("w",), ("w #2",)}
    w_history = result.grad_history[0]
    assert [e.value.flat() for e in w_history.events] == [[1.0, 1.0], [2.0, 2.0]]  # both calls wrote it


def test_a_new_leaf_bound_to_x_before_each_call_gets_its_own_label():
    program = """\
import torch
for v in [1.0, 2.0, 3.0]:
    x = torch.tensor(v, requires_grad=True)
    y = x ** 2
    y.backward()
"""
    result = run_request(RunRequest(program))
    assert result.error is None
    # The one x holds at the end keeps "x"; the earlier ones are numbered in the order they came.
    assert [h.name for h in result.grad_history] == ["x #1", "x #2", "x"]
    assert [[lg.name for lg in call.leaves] for call in result.backward_calls] == [["x #1"], ["x #2"], ["x"]]
    assert [h.events[-1].value.flat() for h in result.grad_history] == [[2.0], [4.0], [6.0]]
    assert [v.name for v in result.variables if v.is_leaf and v.requires_grad] == ["x"]


@pytest.mark.parametrize("tail, history, calls", [
    # A second name for the last x: it still keeps "x" (the table lists it once, as x).
    ("z = x\n", ["x #1", "w", "x"], [["w", "x #1"], ["w", "x"]]),
    # Names swapped at the end: each label is the variable that holds the tensor then.
    ("x, w = w, x\n", ["x #1", "x", "w"], [["x", "x #1"], ["w", "x"]]),
    ("del x\n", ["x #1", "w", "x #2"], [["w", "x #1"], ["w", "x #2"]]),
])
def test_history_labels_follow_the_variables_that_hold_the_leaves_at_the_end(tail, history, calls):
    program = """\
import torch
w = torch.ones(2, requires_grad=True)
for v in [1.0, 2.0]:
    x = torch.tensor(v, requires_grad=True)
    (x ** 2 + w.sum()).backward()
""" + tail
    result = run_request(RunRequest(program))
    assert result.error is None
    assert [h.name for h in result.grad_history] == history
    assert [sorted(lg.name for lg in call.leaves) for call in result.backward_calls] == calls


def test_grad_set_by_hand_before_any_backward_call_is_in_the_history():
    program = """\
import torch
x = torch.ones(3, requires_grad=True)
x.grad = torch.full((3,), 2.0)
x.grad.zero_()
x.grad += 5
y = (x * x).sum()
y.backward()
"""
    result = run_request(RunRequest(program))
    assert result.error is None
    (history,) = result.grad_history
    assert history.name == "x"
    assert [(e.kind, e.line) for e in history.events] == [(SET, 3), (ZEROED, 4), (SET, 5), (BACKWARD, 7)]
    assert [e.value.flat() for e in history.events] == [[2.0] * 3, [0.0] * 3, [5.0] * 3, [7.0] * 3]
    assert result.backward_calls[0].leaves[0].before.flat() == [5.0] * 3


def test_a_grad_set_on_a_leaf_that_never_reaches_a_backward_call_is_followed_too():
    program = "import torch\nw = torch.zeros(2, requires_grad=True)\nw.grad = torch.ones(2)\ndel w.grad\n"
    result = run_request(RunRequest(program))
    (history,) = result.grad_history
    assert history.name == "w" and [(e.kind, e.line) for e in history.events] == [(SET, 3), (SET_NONE, 4)]


def test_tensors_held_by_the_programs_own_objects_are_named_by_their_attribute():
    program = """\
import torch
import torch.nn as nn

class Neuron:
    def __init__(self):
        self.w = torch.ones(2, requires_grad=True)
        self._hidden = torch.ones(1, requires_grad=True)

    def fire(self, x):
        loss = (self.w * x).sum() + self._hidden.sum()
        loss.backward()

class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.tensor(3.0, requires_grad=True)  # a plain tensor, not a Parameter

layer = [Neuron()]
layer[0].fire(torch.tensor([1.0, 2.0]))
s = Scaled()
(s.scale * 2).backward()
"""
    result = run_request(RunRequest(program))
    assert result.error is None
    first, second = result.backward_calls
    # Inside fire(), the same tensor is self.w and layer[0].w: the graph shows both names; the
    # history and the call's leaves use the one that still holds it at the end. Private attributes
    # (self._hidden) are not looked into.
    assert sorted(n.names for n in first.graph.nodes if n.kind == LEAF) == [(), ("self.w", "layer[0].w")]
    assert [lg.name for lg in first.leaves] == ["layer[0].w", "unnamed leaf 2"]
    assert [h.name for h in result.grad_history] == ["layer[0].w", "unnamed leaf 2", "s.scale"]
    assert {n.names for n in second.graph.nodes if n.kind == LEAF} == {("s.scale",)}
    grads = {h.name: h.events[-1].value.flat() for h in result.grad_history}
    assert grads["layer[0].w"] == [1.0, 2.0] and grads["s.scale"] == [2.0]


def test_naming_looks_into_objects_that_hold_themselves():
    program = """\
import torch
class Node:
    pass
a = Node()
a.me = a
a.peer = Node()
a.peer.back = a
a.peer.w = torch.ones(2, requires_grad=True)
(a.peer.w * 2).sum().backward()
"""
    result = run_request(RunRequest(program))
    assert result.error is None
    assert [h.name for h in result.grad_history] == ["a.peer.w"]
    assert [n.names for n in result.backward_calls[0].graph.nodes if n.kind == LEAF] == [("a.peer.w",)]


HOOKS = """\
import torch
import torch.nn as nn

lin = nn.Linear(3, 2)
act = nn.Tanh()

def show(module, inputs, output):
    print("forward", tuple(output.shape))

def grads(module, grad_input, grad_output):
    print("backward", [tuple(g.shape) for g in grad_output])

lin.register_forward_hook(show)
act.register_full_backward_hook(grads)
x = torch.ones(1, 3, requires_grad=True)
h = act(lin(x))
h.register_hook(lambda g: g * 2)
x.register_hook(lambda g: g + 1)
loss = h.sum()
loss.backward()
"""


def test_module_and_tensor_hooks_are_marked_on_the_nodes_where_they_run():
    result = run_request(RunRequest(HOOKS))
    assert result.error is None and result.stdout == "forward (1, 2)\nbackward [(1, 2)]\n"
    expected, namespace = run_real(HOOKS)
    assert result.stdout == expected
    assert_same_tensors(result, namespace)
    hooked = {(n.op, h.kind, h.name, h.line) for n in result.backward_calls[0].graph.nodes for h in n.hooks}
    assert hooked == {
        ("AddmmBackward0", "forward hook", "show", 13),  # the Linear's output, where its forward hook ran
        ("BackwardHookFunctionBackward", "backward hook", "grads", 14),  # the Tanh's inputs side
        ("BackwardHookFunctionBackward", "tensor hook", "lambda", 17),  # h's node
        ("AccumulateGrad", "tensor hook", "lambda", None),  # x is a leaf: its hook runs at its AccumulateGrad
    }


def test_forward_mode_dual_tensors_do_not_disturb_the_recording():
    program = """\
import torch
import torch.autograd.forward_ad as fwAD
x = torch.tensor([1.0, 2.0], requires_grad=True)
with fwAD.dual_level():
    dual = fwAD.make_dual(x, torch.ones(2))
    y = (dual * dual).sin()
    primal, tangent = fwAD.unpack_dual(y)
    print(tangent)
    primal.sum().backward()
print(x.grad)
"""
    result = run_request(RunRequest(program))
    assert result.error is None, result.error
    expected, namespace = run_real(program)
    assert result.stdout == expected
    assert result.variable("x").grad.flat() == pytest.approx(namespace["x"].grad.tolist())
    assert [s.op for s in result.backward_calls[0].steps][-1] == "AccumulateGrad"


LONG_LOOP = """\
import torch
w = torch.tensor([1.0, -1.0], requires_grad=True)
for step in range(230):
    loss = ((w * (step + 1)) ** 2).sum()
    loss.backward()
    if step % 100 == 0:
        print(step, w.grad)
    with torch.no_grad():
        w -= 1e-7 * w.grad
print("done")
"""


def test_a_long_loop_lists_every_call_and_records_any_of_them_when_fetched():
    from gradviz.engine.tracer import MAX_DETAILED_CALLS

    result = run_request(RunRequest(LONG_LOOP))
    assert result.error is None and result.stdout.endswith("done\n")
    calls = result.backward_calls
    assert [c.index for c in calls] == list(range(230))
    assert all(c.recorded for c in calls[:MAX_DETAILED_CALLS])
    assert not any(c.recorded for c in calls[MAX_DETAILED_CALLS:])
    light = calls[220]
    assert light.line == 5 and light.steps == () and light.graph.nodes == ()
    (history,) = result.grad_history
    assert len(history.events) == 230 and history.events[220].call == 220  # the history covers every call
    # Asked for up front, or fetched afterwards: the same record, because runs are seeded.
    asked = run_request(RunRequest(LONG_LOOP, detail_calls=(220,))).backward_calls[220]
    fetched = run_request(RunRequest(LONG_LOOP, only_call=220))
    (call,) = fetched.backward_calls
    assert call.recorded and call.index == 220 and asked.recorded
    assert [(s.op, s.grad_in) for s in call.steps] == [(s.op, s.grad_in) for s in asked.steps]
    assert call.leaves[0].after == history.events[220].value
    assert "done" not in fetched.stdout and fetched.variables == ()  # it stopped right after that call


def test_calls_through_a_huge_retained_graph_stop_being_captured_once_the_node_budget_is_spent(monkeypatch):
    from gradviz.engine import tracer

    monkeypatch.setattr(tracer, "MAX_DETAILED_NODES", 250)
    program = """import torch
x = torch.ones(3, requires_grad=True)
y = x
for i in range(100):
    y = y * 1.5
loss = y.sum()
for k in range(6):
    loss.backward(retain_graph=True)
"""
    result = run_request(RunRequest(program, detail_calls=(5,)))
    calls = result.backward_calls
    assert result.error is None and len(calls) == 6
    # 102 autograd nodes a call: two fit in 250, the third would not, and the asked-for last one always does.
    assert [c.recorded for c in calls] == [True, True, False, False, False, True]
    assert len(calls[1].graph.nodes) == len(calls[5].graph.nodes) == 104  # with the root and the leaf
    (history,) = result.grad_history
    expected = 1.5 ** 100
    assert [e.call for e in history.events] == list(range(6))  # light calls still write the history
    assert history.events[3].value.data[0] == pytest.approx(4 * expected, rel=1e-5)


# --- a bare expression's value, as a notebook shows it --------------------------------------------
def test_a_bare_expression_keeps_its_value_beside_the_output():
    program = ("import torch\nx = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\n"
               "y.backward()\nx.grad\nNone\nprint('done')\n")
    result = run_request(RunRequest(program))
    assert result.stdout == "done\n"  # what python file.py prints: values are not output
    values = {s.line: s.value for s in result.statements}
    assert values == {1: None, 2: None, 3: None, 4: None, 5: "tensor([ 0.,  4.,  8., 12.])", 6: None, 7: None}


def test_bare_expression_values_are_bounded_by_the_output_limit():
    from gradviz.engine.runner import MAX_VALUE_CHARS

    result = run_request(RunRequest("'a' * 10_000\n'b' * 10\n"))
    first, second = (s.value for s in result.statements)
    assert first == "'" + "a" * (MAX_VALUE_CHARS - 1) + "…" and second == "'bbbbbbbbbb'"
    lines = "".join(f"{i}\n" for i in range(3000))
    result = run_request(RunRequest(lines, limits=Limits(max_output_chars=1000)))
    kept = [s.value for s in result.statements if s.value is not None]
    assert sum(len(v) for v in kept) <= 1001 and kept[:3] == ["0", "1", "2"] and result.error is None


def test_a_failing_repr_is_the_programs_error():
    program = "class A:\n    def __repr__(self):\n        raise ValueError('no repr')\nA()\n"
    result = run_request(RunRequest(program))
    assert result.error.type == "ValueError" and result.error.message == "no repr"
