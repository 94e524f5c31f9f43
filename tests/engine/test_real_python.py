"""The runner runs ordinary PyTorch teaching code exactly like Python does."""

from __future__ import annotations

import pytest
import torch
from runner_helpers import assert_same, normalise, run_gradviz, run_python

README = """
import torch
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
print(x.grad)
"""

SUM_VS_ONES = """
import torch
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * x
y.sum().backward(retain_graph=True)
g1 = x.grad.clone()
x.grad = None
y.backward(torch.ones_like(y))
g2 = x.grad.clone()
print(g1, g2, torch.equal(g1, g2))
"""

NONSCALAR_GRADIENT = """
import torch
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x ** 3
y.backward(gradient=torch.tensor([0.1, 1.0, 0.001]))
print(x.grad)
"""

RETAIN_GRAPH = """
import torch
a = torch.tensor(2.0, requires_grad=True)
b = a * a * 3
b.backward(retain_graph=True)
print(a.grad)
b.backward()
print(a.grad)
"""

ACCUMULATE = """
import torch
w = torch.tensor([1.0, -1.0], requires_grad=True)
for step in range(3):
    loss = (w * torch.tensor([2.0, 3.0])).sum()
    loss.backward()
    print(step, w.grad)
w.grad.zero_()
print(w.grad)
"""

DETACH_NO_GRAD = """
import torch
x = torch.ones(2, requires_grad=True)
y = x * 2
z = y.detach()
print(z.requires_grad, y.requires_grad, z.grad_fn)
with torch.no_grad():
    w = x * 3
print(w.requires_grad, w.grad_fn is None)
print(torch.is_grad_enabled())
with torch.enable_grad():
    print(torch.is_grad_enabled())
with torch.set_grad_enabled(False):
    v = x + 1
print(v.requires_grad)
"""

WHILE_IF = """
import torch
def f(x):
    y = x * 2
    while y.norm() < 100:
        y = y * 2
    if y.sum() > 0:
        return y
    else:
        return 100 * y
x = torch.tensor([0.5, 1.0, -0.25], requires_grad=True)
out = f(x)
out.backward(torch.ones(3))
print(out, x.grad)
"""

SEQUENTIAL = """
import torch
import torch.nn as nn
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
model.add_module("out", nn.Linear(4, 1))
print(model)
print(len(model), model[0], [m for m in model])
x = torch.randn(5, 3)
y = model(x).sum()
y.backward()
for name, p in model.named_parameters():
    print(name, tuple(p.shape), p.grad.shape)
"""

SGD_LOOP = """
import torch
import torch.nn as nn
import torch.optim as optim
model = nn.Linear(2, 1)
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]])
t = torch.tensor([[1.0], [2.0], [0.0]])
for epoch in range(5):
    opt.zero_grad()
    loss = nn.MSELoss()(model(x), t)
    loss.backward()
    opt.step()
    print(f"epoch {epoch}: loss={loss.item():.5f}")
print(model.weight, model.bias)
"""

SGD_NO_ZERO = """
import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
opt = torch.optim.SGD([w], lr=0.01)
for i in range(3):
    loss = (w ** 2).sum()
    loss.backward()
    opt.step()
    print(i, w.grad, w)
"""

SECOND_DERIVATIVE = """
import torch
x = torch.tensor(3.0, requires_grad=True)
y = x ** 3
g, = torch.autograd.grad(y, x, create_graph=True)
g2, = torch.autograd.grad(g, x)
print(g, g2)
"""

CLASS_NET = """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.fc1 = nn.Linear(4, hidden)
        self.fc2 = nn.Linear(hidden, 3)
        self.drop = nn.Dropout(0.0)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        return self.fc2(self.drop(h))

    def count(self):
        return sum(p.numel() for p in self.parameters())

net = Net(hidden=5)
print(net)
print(net.count())
x = torch.randn(2, 4)
target = torch.tensor([0, 2])
loss = F.cross_entropy(net(x), target)
loss.backward()
print(loss)
print(net.fc1.weight.grad.shape, net.training)
net.eval()
print(net.training, isinstance(net, nn.Module))
"""

FSTRINGS = """
import torch
x = torch.tensor([1.5, 2.25])
name = "x"
value = 3.14159
print(f"{name!r} has shape {tuple(x.shape)} and sum {x.sum():.2f}")
print(f"{value:>10.3f}|{value:<8.1e}|{42:05d}|{'hi':^6}|{255:#x}")
print("{} and {:.1f} and {name}".format(1, 2.0, name="n"))
print("%s=%.2f" % ("pi", value))
print(f"{x}")
print(f"{x!r:>30}")
"""

COMPREHENSIONS = """
import torch
xs = [torch.tensor(float(i)) for i in range(4) if i != 2]
squares = {i: i * i for i in range(5)}
evens = {i for i in range(10) if i % 2 == 0}
pairs = [(a, b) for a in range(3) for b in range(a)]
total = sum(x * x for x in xs)
print(xs, squares, sorted(evens), pairs, total)
print(list(map(lambda v: v * 2, [1, 2, 3])), list(filter(None, [0, 1, 2])))
print(any(x > 2 for x in xs), all(x >= 0 for x in xs), max(xs), min([3, 1, 2]))
print(list(enumerate("ab")), list(zip([1, 2], "xy")), list(reversed(range(3))))
"""

PRINT_GRAD_FN = """
import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * 3).exp().sum()
print(y.grad_fn)
print(y.grad_fn.name())
print(y.grad_fn.next_functions)
print(y.grad_fn.next_functions[0][0].next_functions)
print(x.is_leaf, y.is_leaf, x.grad_fn)
print(y.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0].variable is x)
"""

PYTHON_BASICS = """
a, *rest = [1, 2, 3, 4]
(b, c), d = (5, 6), 7
print(a, rest, b, c, d)
x = 10
x += 5
x //= 2
x **= 2
print(x, 7 % 3, -7 // 2, 2 ** 10, 1 < 2 < 3, 3 > 2 > 5, not True, 1 if x else 2)
s = "hello world"
print(s.upper(), s.split(), "-".join(["a", "b"]), s[::-1], s.title(), s.replace("l", "L"))
l = [3, 1, 2]
l.append(5)
l.extend([0])
l.sort()
print(l, l.pop(), l, len(l), l.index(2))
d = {"a": 1}
d["b"] = 2
for k, v in d.items():
    print(k, v, end="; ")
print()
print(list(d.keys()), list(d.values()), d.get("z", 0))
del d["a"]
print(d, isinstance(d, dict), abs(-3), round(2.567, 2), int("7"), float("1.5"), str(3), bool(0))
def outer():
    count = 0
    def inc(n=1):
        nonlocal count
        count += n
        return count
    inc()
    inc(5)
    return inc()
print(outer())
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)
print(fact(10))
def kw(a, b=2, *args, c, d=4, **extra):
    return (a, b, args, c, d, sorted(extra.items()))
print(kw(1, c=3), kw(1, 2, 3, 4, c=5, e=6, f=7))
for i in range(10):
    if i == 2:
        continue
    if i == 5:
        break
    print(i, end=" ")
else:
    print("never")
print()
n = 0
while n < 3:
    n += 1
else:
    print("done", n)
print(*[1, 2, 3], sep=", ", end="!\\n")
try:
    1 / 0
except ZeroDivisionError as e:
    print("caught", e)
finally:
    print("finally")
assert n == 3, "n should be 3"
print(sorted([3, 1, 2], reverse=True), sorted(["b", "A", "c"], key=str.lower) if False else 0)
"""

TENSOR_SURFACE = """
import torch
import math
a = torch.arange(6.0).reshape(2, 3)
print(a, a.shape, a.size(), a.size(1), a.dim(), a.numel(), a.dtype, a.T, a.t())
print(a.sum(), a.mean(dim=0), a.max(), a.argmax(), a.max(dim=1).values, a.std())
print(a[0], a[:, 1], a[..., -1], a[None].shape, a[a > 2], a[torch.tensor([1, 0])])
print(torch.zeros(2, 2), torch.ones(3), torch.eye(2), torch.full((2,), 7.0), torch.linspace(0, 1, 5))
print(torch.rand(2), torch.randn(2, 2), torch.randint(0, 10, (3,)))
print(torch.cat([a, a]).shape, torch.stack([a, a]).shape, a.view(-1), a.flatten(), a.unsqueeze(0).shape)
b = a.clone()
b.add_(1)
b.mul_(2)
print(b, b.tolist(), b[0, 0].item(), b.double().dtype, b.long(), b.float().dtype)
print(torch.equal(a, a.clone()), torch.allclose(a, a + 1e-9), torch.float32, torch.int64)
print(torch.matmul(a, a.T), a @ a.T, torch.exp(torch.tensor(0.0)), math.sqrt(16), math.pi)
print(a.expand(2, 2, 3).shape, a.repeat(2, 1).shape, torch.where(a > 2, a, -a))
print(torch.softmax(torch.tensor([1.0, 2.0]), dim=0), torch.tensor([1, 2]).dtype)
x = torch.tensor([1.0, 2.0], requires_grad=True)
x.requires_grad_(False)
print(x.requires_grad)
x.requires_grad = True
y = x * 2
y.retain_grad()
z = (y * y).sum()
z.backward()
print(y.grad, x.grad, x.data, x.detach())
with torch.no_grad():
    x -= 0.1 * x.grad
print(x)
x.data -= 0.1 * x.grad
w = torch.zeros(2)
w.data.copy_(torch.tensor([5.0, 6.0]))
print(x, w)
print(torch.finfo(torch.float32).eps, torch.tensor(True).dtype)
"""

MODULES_AND_LOSSES = """
import torch
import torch.nn as nn
import torch.nn.functional as F
conv = nn.Conv2d(1, 2, kernel_size=3, padding=1)
pool = nn.MaxPool2d(2)
bn = nn.BatchNorm2d(2)
img = torch.randn(1, 1, 4, 4)
out = nn.Flatten()(pool(F.relu(bn(conv(img)))))
print(out.shape, conv, pool, bn)
ln = nn.LayerNorm(4)
emb = nn.Embedding(10, 4)
idx = torch.tensor([1, 2, 3])
e = ln(emb(idx))
print(e.shape, emb, ln)
ml = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
h = e
for layer in ml:
    h = torch.tanh(layer(h))
print(h.shape, len(ml))
logits = torch.randn(3, 5)
target = torch.tensor([1, 0, 4])
print(nn.CrossEntropyLoss()(logits, target), F.nll_loss(F.log_softmax(logits, dim=1), target))
p = torch.sigmoid(torch.randn(4))
t = torch.tensor([1.0, 0.0, 1.0, 0.0])
print(nn.BCELoss()(p, t), nn.BCEWithLogitsLoss()(torch.randn(4), t), nn.L1Loss()(p, t))
print(F.mse_loss(p, t), nn.GELU()(t), nn.Softmax(dim=0)(t), nn.LogSoftmax(dim=0)(t), nn.Identity()(t))
lin = nn.Linear(2, 2)
nn.init.zeros_(lin.bias)
nn.init.ones_(lin.weight)
print(lin.weight, lin.bias, lin.in_features, [n for n, _ in lin.named_parameters()])
print(list(lin.state_dict().keys()), len(list(nn.Sequential(lin, nn.ReLU()).children())))
P = nn.Parameter(torch.ones(2))
print(P, isinstance(P, torch.Tensor))
opt = torch.optim.Adam([P], lr=0.1)
(P * 2).sum().backward()
opt.step()
opt.zero_grad(set_to_none=False)
print(P, P.grad)
opt2 = torch.optim.AdamW(lin.parameters(), lr=0.01)
print(opt2.param_groups[0]["lr"])
"""

PROGRAMS = {
    "readme": README,
    "sum_vs_ones": SUM_VS_ONES,
    "nonscalar_gradient": NONSCALAR_GRADIENT,
    "retain_graph": RETAIN_GRAPH,
    "accumulate": ACCUMULATE,
    "detach_no_grad": DETACH_NO_GRAD,
    "while_if": WHILE_IF,
    "sequential": SEQUENTIAL,
    "sgd_loop": SGD_LOOP,
    "sgd_no_zero": SGD_NO_ZERO,
    "second_derivative": SECOND_DERIVATIVE,
    "class_net": CLASS_NET,
    "fstrings": FSTRINGS,
    "comprehensions": COMPREHENSIONS,
    "print_grad_fn": PRINT_GRAD_FN,
    "python_basics": PYTHON_BASICS,
    "tensor_surface": TENSOR_SURFACE,
    "modules_and_losses": MODULES_AND_LOSSES,
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_real_python(name):
    assert_same(PROGRAMS[name])


def test_readme_values():
    out = assert_same(README)
    assert out.globals["x"].grad.tolist() == [0.0, 4.0, 8.0, 12.0]
    assert out.stdout == "tensor([ 0.,  4.,  8., 12.])\n"


def test_accumulation_values():
    out = assert_same(ACCUMULATE)
    assert out.globals["w"].grad.tolist() == [0.0, 0.0]
    assert "2 tensor([6., 9.])" in out.stdout


def test_sgd_without_zero_grad_accumulates():
    out = assert_same(SGD_NO_ZERO)
    # grad after three backward calls without zeroing is the sum of three gradients
    expected, ns = run_python(SGD_NO_ZERO)
    assert torch.equal(out.globals["w"].grad, ns["w"].grad)
    assert out.globals["w"].grad[0].item() == pytest.approx(2 * (1.0 + 0.98 + 0.98 - 0.02 * 2 * 0.98 * 1), rel=0.05)


def test_second_derivative_values():
    out = assert_same(SECOND_DERIVATIVE)
    assert out.globals["g"].item() == 27.0
    assert out.globals["g2"].item() == 18.0


def test_grad_fn_prints_like_torch():
    out = assert_same(PRINT_GRAD_FN)
    assert normalise(out.stdout).splitlines()[0] == "<SumBackward0 object at 0x…>"
    assert "True\n" in out.stdout.splitlines()[-1] + "\n"


def test_statements_keep_their_stdout():
    out = run_gradviz("print('a')\nx = 1\nprint('b', x)\nprint('c',\n  x)\n")
    assert [(s.line, s.end_line, s.stdout, s.ok) for s in out.statements] == [
        (1, 1, "a\n", True), (2, 2, "", True), (3, 3, "b 1\n", True), (4, 5, "c 1\n", True)]
    assert out.stdout == "a\nb 1\nc 1\n"


def test_stop_after_line_stops_after_the_statement_containing_it():
    src = "a = 1\nfor i in range(3):\n    print(i)\n\nb = 2\nprint('end')\n"
    out = run_gradviz(src, stop_after_line=3)
    assert [s.line for s in out.statements] == [1, 2]
    assert out.stdout == "0\n1\n2\n"
    assert out.stopped_at == 3
    assert "b" not in out.globals and out.globals["a"] == 1
    # a blank line between statements stops after the statement before it
    out = run_gradviz(src, stop_after_line=4)
    assert [s.line for s in out.statements] == [1, 2] and out.stopped_at == 3
    # above the first statement: nothing runs
    out = run_gradviz("\n\nx = 1\nprint(x)\n", stop_after_line=1)
    assert out.statements == [] and out.stdout == "" and out.stopped_at == 0 and out.error is None
    # past the end: the whole program runs, nothing stopped it early
    out = run_gradviz(src, stop_after_line=99)
    assert out.stdout.endswith("end\n") and out.stopped_at is None


def test_failing_statement_keeps_what_ran_before():
    out = run_gradviz("import torch\nx = torch.ones(2)\nprint('ok')\ny = x @ torch.ones(3)\nprint('never')\n")
    assert out.error is not None and out.error.line == 4 and out.error.type == "RuntimeError"
    assert out.stdout == "ok\n"
    assert torch.equal(out.globals["x"], torch.ones(2))
    assert [s.ok for s in out.statements] == [True, True, True, False]


def test_python_errors_keep_type_and_message():
    cases = {
        "1/0": ("ZeroDivisionError", "division by zero"),
        "[1][3]": ("IndexError", "list index out of range"),
        "{}['k']": ("KeyError", "'k'"),
        "undefined_name + 1": ("NameError", "name 'undefined_name' is not defined"),
        "int('x')": ("ValueError", "invalid literal for int() with base 10: 'x'"),
        "'a' + 1": ("TypeError", 'can only concatenate str (not "int") to str'),
        "def f(a): pass\nf()": ("TypeError", "f() missing 1 required positional argument: 'a'"),
        "def f(a): pass\nf(1, 2)": ("TypeError", "f() takes 1 positional argument but 2 were given"),
        "def f(a): pass\nf(b=1)": ("TypeError", "f() got an unexpected keyword argument 'b'"),
    }
    for src, (typ, msg) in cases.items():
        out = run_gradviz(src)
        assert (out.error.type, out.error.message) == (typ, msg), src
        try:
            run_python(src)
        except Exception as e:  # the same type and text in real Python
            assert (type(e).__name__, str(e) if typ != "KeyError" else repr(e.args[0])) == (typ, msg)


def test_error_line_is_innermost_user_statement():
    src = "import torch\ndef f(x):\n    y = x * 2\n    return y.backward()\n\nf(torch.ones(3, requires_grad=True))\n"
    out = run_gradviz(src)
    assert out.error.type == "RuntimeError" and out.error.line == 4
    assert "sum()" in out.error.hint


def test_recorder_sees_results_backward_and_grad_touches():
    from gradviz.engine.recorder import Recorder

    class Spy(Recorder):
        def __init__(self):
            self.results, self.backwards, self.touched, self.records, self.owners = [], [], [], [], []

        def on_result(self, value, line):
            self.results.append((type(value).__name__, line))

        def run_backward(self, kind, line, fn, args, kwargs):
            self.backwards.append((kind, line, self.scopes_names()))
            return fn(*args, **kwargs)

        def scopes_names(self):
            return [n for n, _ in self.scopes()]

        def on_grad_touched(self, line, owner=None):
            self.touched.append(line)
            self.owners.append(owner)

        def on_statement(self, record):
            self.records.append(record.line)

        def grad_ids(self):
            return {id(v.grad) for _, v in self.scopes() if isinstance(v, torch.Tensor) and v.grad is not None}

    src = """import torch
x = torch.ones(2, requires_grad=True)
def go(t):
    inner = (t * 3).sum()
    inner.backward()
go(x)
g, = torch.autograd.grad((x * x).sum(), x)
torch.autograd.backward([(x * 2).sum()])
x.grad.zero_()
x.grad = None
opt = torch.optim.SGD([x], lr=0.1)
opt.zero_grad()
opt.step()
(x * 2).sum().backward()
x.grad.data = torch.zeros(2)
x.grad *= 2
x.grad[0] = 1.0
x.grad.mul_(3)
x.data.add_(1)
"""
    spy = Spy()
    out = run_gradviz(src, recorder=spy)
    assert out.error is None, out.error
    assert [b[:2] for b in spy.backwards] == [
        ("backward", 5), ("autograd.grad", 7), ("autograd.backward", 8), ("backward", 14)]
    # inside go(): the innermost scope (t, inner) comes first, then the globals
    assert spy.backwards[0][2][:2] == ["t", "inner"] and "x" in spy.backwards[0][2]
    # x.grad.zero_() (9), x.grad = None (10), x.grad.data = … (15), x.grad *= 2 (16: the in-place
    # multiply, then the assignment), x.grad[0] = … (17), x.grad.mul_(3) (18). zero_grad() and step()
    # (12, 13) find x.grad None: nothing changes there.
    assert spy.touched == [9, 10, 15, 16, 16, 17, 18]
    # `x.grad = None` and `x.grad *= 2` assign x's .grad attribute: they name x. The others change
    # the grad tensor itself.
    assert [o is not None for o in spy.owners] == [False, True, False, False, True, False, False]
    assert spy.owners[1] is spy.owners[4] is out.globals["x"]
    # Results with a grad_fn, at the line that made them (the leaf of line 2 has none).
    assert ("Tensor", 4) in spy.results and ("Tensor", 14) in spy.results
    assert all(line != 2 for _, line in spy.results)
    assert spy.records == [1, 2, 3] + list(range(6, 20))


def test_user_function_objects_and_lambdas():
    assert_same("""
f = lambda a, b=2: a * b
def g(*args, **kw):
    return len(args), sorted(kw)
print(f(3), f(3, 3), g(1, 2, x=1), (lambda: 5)())
print(sorted([(2, 'b'), (1, 'a')], key=lambda p: p[0]))
""")


def test_class_with_plain_methods_and_inheritance():
    assert_same("""
class Counter:
    step = 2
    def __init__(self, start):
        self.value = start
    def bump(self):
        self.value += self.step
        return self
    def __repr__(self):
        return f"Counter({self.value})"
    def __len__(self):
        return self.value
class Double(Counter):
    def bump(self):
        super().bump()
        return super().bump()
c = Double(1).bump()
print(c, len(c), isinstance(c, Counter))
""")


def test_globals_hold_real_objects():
    out = run_gradviz("import torch\nimport torch.nn as nn\nm = nn.Linear(2, 3)\nt = torch.ones(2)\nn = 3\n")
    assert isinstance(out.globals["m"], torch.nn.Linear)
    assert isinstance(out.globals["t"], torch.Tensor)
    assert out.globals["n"] == 3


def test_five_thousand_node_graphs_run_inside_the_default_limits():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_runner.py"
    spec = importlib.util.spec_from_file_location("bench_runner", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for program in (bench.TRANSFORMER, bench.CHAIN):
        out = run_gradviz(program)
        assert out.error is None, out.error
        expected, namespace = run_python(program)
        assert out.stdout == expected
        assert torch.equal(out.globals["x"].grad, namespace["x"].grad)
        seen, stack = set(), [out.globals["loss"].grad_fn]
        while stack:
            node = stack.pop()
            if node is not None and node not in seen:
                seen.add(node)
                stack.extend(n for n, _ in node.next_functions)
        assert len(seen) > 3500


def test_every_call_runs_once_so_the_random_stream_is_real_torchs():
    """The old engine checked sizes by running torch.normal ahead (the stream moved) and printed
    through a dry run (a __repr__ ran twice); real Python runs each call once."""
    program = """
import random
import torch
import numpy as np
class Loud:
    count = 0
    def __repr__(self):
        Loud.count += 1
        return f"Loud({Loud.count})"
print(Loud())
a = torch.normal(torch.zeros(3), 1.0)
b = torch.randn(2)
c = torch.nn.functional.dropout(torch.ones(6), 0.5)
idx = torch.randperm(5)
print(Loud.count, a, b, c, idx)
print(random.random() >= 0, np.random.rand() >= 0)
"""
    out = assert_same(program, names=("a", "b", "c", "idx"))
    assert out.stdout.startswith("Loud(1)\n1 ")


def test_programs_that_need_the_main_module_work():
    """Pickling a class of the program (torch.save to bytes), __name__ == '__main__', __future__."""
    assert_same("""from __future__ import annotations
import io
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 1)
buffer = io.BytesIO()
torch.save(Net(), buffer)
buffer.seek(0)
net = torch.load(buffer, weights_only=False)
if __name__ == "__main__":
    print(type(net).__name__, net.__class__.__module__, sorted(net.state_dict()))
""")
