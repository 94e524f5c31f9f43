"""Common autograd mistakes get the real error plus a hint that teaches the fix."""

from __future__ import annotations

import pytest
from runner_helpers import run_gradviz, run_python

from gradviz.core.resources import resource_path
from gradviz.core.session import load_session
from gradviz.engine.hints import did_you_mean, explain

# (program, error type, text in the message, text in the hint, line)
MISTAKES = [
    ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\n",
     "RuntimeError", "grad can be implicitly created only for scalar outputs", "y.sum().backward()", 4),
    ("import torch\nx = torch.ones(3, requires_grad=True)\ny = (x * x).sum()\ny.backward()\ny.backward()\n",
     "RuntimeError", "second time", "retain_graph=True", 5),
    ("import torch\nx = torch.ones(3, requires_grad=True)\nx.grad.zero_()\n",
     "AttributeError", "'NoneType' object has no attribute 'zero_'", "backward", 3),
    ("import torch\nx = torch.ones(3, requires_grad=True)\nprint(x.grad.shape)\n",
     "AttributeError", "NoneType", "requires_grad=True", 3),
    ("import torch\nx = np.ones(3)\n", "NameError", "name 'np' is not defined", "torch.", 2),
    ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x.sum\ny.backward()\n",
     "AttributeError", "'builtin_function_or_method' object has no attribute 'backward'",
     "y.sum().backward()", 4),
    ("import torch\nx = torch.ones(3, requires_grad=True)\nx.add_(1)\n",
     "RuntimeError", "leaf Variable that requires grad", "torch.no_grad()", 3),
    ("import torch\nx = torch.tensor([1, 2, 3], requires_grad=True)\n",
     "RuntimeError", "floating point", "1.0", 2),
    ("import torch\nx = torch.ones(3)\ny = (x * 2).sum()\ny.backward()\n",
     "RuntimeError", "does not require grad", "requires_grad=True", 4),
    ("import torch\na = torch.ones(2, 3)\nb = torch.ones(2, 3)\nc = a @ b\n",
     "RuntimeError", "cannot be multiplied", "shape", 4),
    ("import torch\nweights = torch.ones(3)\nprint(weigths)\n", "NameError",
     "name 'weigths' is not defined", "Did you mean 'weights'?", 3),
    ("x = 1\nnn.Linear(2, 2)\n", "NameError", "name 'nn' is not defined", "import torch.nn as nn", 2),
    ("import torch\nx = torch.ones(2, requires_grad=True)\ny = x.sigmoid()\ny.mul_(2)\ny.sum().backward()\n",
     "RuntimeError", "modified by an inplace operation", "out-of-place", 5),
    ("import torch\nx = torch.ones(3)\nprint(x.item())\n", "RuntimeError",
     "a Tensor with 3 elements cannot be converted to Scalar", ".item()", 3),
    ("import torch\nx = torch.ones(6)\nx.view(4, 2)\n", "RuntimeError", "invalid for input of size 6", "-1", 3),
    ("import torch\nx = torch.ones(2, requires_grad=True)\nloss = (x * 2).sum().item()\nloss.backward()\n",
     "AttributeError", "'float' object has no attribute 'backward'", ".item()", 4),
    ("import torch\ndef f(x):\n    y = x * 2\nout = f(torch.ones(2, requires_grad=True))\nout.backward()\n",
     "AttributeError", "'NoneType' object has no attribute 'backward'", "return", 5),
    ("import torch\nx = torch.ones(3)\nprint(x(0))\n", "TypeError", "not callable", "x[0]", 3),
    ("import torch\nimport torch.nn.functional as F\nF.cross_entropy(torch.randn(3, 4), torch.tensor([0, 1]))\n",
     "ValueError", "batch_size", "rows", 3),
]


@pytest.mark.parametrize("program,typ,msg,hint,line", MISTAKES)
def test_mistake_gets_message_and_hint(program, typ, msg, hint, line):
    assert msg and hint, "an empty expected text is found in every message"
    out = run_gradviz(program)
    assert out.error is not None
    assert out.error.type == typ
    assert msg in out.error.message
    assert out.error.hint is not None and hint in out.error.hint, out.error.hint
    assert out.error.line == line
    # the same program fails in real Python with the same type
    with pytest.raises(Exception) as info:
        run_python(program)
    assert type(info.value).__name__ == typ


def test_numpy_runs_and_its_requires_grad_mistake_gets_a_hint():
    """The blog's own mistake: numpy arrays take no requires_grad; torch tensors do."""
    out = run_gradviz("import numpy as np\nprint(np.arange(3) * 2)\nx = np.arange(4.0, requires_grad=True)\n")
    assert out.stdout == "[0 2 4]\n"
    assert out.error.type == "TypeError" and "requires_grad" in out.error.message and out.error.line == 3
    assert "torch.arange(4.0, requires_grad=True)" in out.error.hint


def test_input_and_runaway_recursion_get_hints():
    out = run_gradviz("n = int(input('how many? '))\n")
    assert out.error.type == "EOFError" and "input()" in out.error.hint and out.stdout == "how many? "
    out = run_gradviz("def f(n):\n    return f(n + 1)\nf(0)\n")
    assert out.error.type == "RecursionError" and out.error.line == 2 and "stop the recursion" in out.error.hint


def test_explain_keeps_the_readable_head_of_long_torch_errors():
    message, hint = explain(RuntimeError("bad thing\nException raised from foo at bar.cpp:12\nframe #0"), None)
    assert message == "bad thing" and hint is None


def test_did_you_mean_needs_a_close_name():
    assert did_you_mean("lables", ["labels", "x"]) == "Did you mean 'labels'?"
    assert did_you_mean("zzz", ["labels", "x"]) is None


def test_plain_python_errors_get_no_autograd_hint():
    out = run_gradviz("x = [1, 2]\nx[5]\n")
    assert (out.error.type, out.error.message, out.error.hint) == ("IndexError", "list index out of range", None)


def recorded(program: str):
    """The whole engine in this process: the tracer records every backward call."""
    from gradviz.core.request import RunRequest
    from gradviz.engine.run import run_request

    return run_request(RunRequest(program))


def test_backward_a_second_time_names_the_call_that_freed_the_graph():
    """Not "the first backward()": the call that freed this graph's saved values, by its line."""
    lesson = load_session(resource_path("examples", "05-retain-graph.gradviz"))
    error = recorded(lesson.program).error
    assert error.line == 12 and error.hint.startswith("The backward() at line 9 freed")
    # Two graphs: b's later calls are not the ones that freed a's values.
    program = ("import torch\nx = torch.ones(3, requires_grad=True)\na = (x * x).sum()\nb = (x * 3).sum()\n"
               "a.backward()\nb.backward(retain_graph=True)\nb.backward()\na.backward()\n")
    error = recorded(program).error
    assert error.line == 8 and error.hint.startswith("The backward() at line 5 freed")


def test_a_second_time_past_the_detailed_calls_names_the_last_freeing_call():
    program = ("import torch\nx = torch.ones(3, requires_grad=True)\nfor i in range(60):\n"
               "    (x * x).sum().backward()\ny = (x * 2).sum()\ny.backward()\ny.backward()\n")
    error = recorded(program).error
    assert error.line == 7 and error.hint.startswith("The backward() at line 6 freed")


def test_calling_grad_gets_the_attribute_hint():
    program = "import torch\nx = torch.ones(3, requires_grad=True)\nx.sum().backward()\nprint(x.grad())\n"
    error = run_gradviz(program).error
    assert error.type == "TypeError" and error.line == 4
    assert error.hint.startswith(".grad is an attribute, not a method: write x.grad, not x.grad()")


@pytest.mark.parametrize("program", [p for p, *_ in MISTAKES])
def test_hints_are_plain_text_without_markdown(program):
    hint = run_gradviz(program).error.hint
    assert hint and "`" not in hint
