"""Helpers for the runner tests: run a program through gradviz (in this process) and through real Python."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import types

import torch

from gradviz.core.request import Limits
from gradviz.engine.recorder import Recorder
from gradviz.engine.runner import Outcome, run_program

ADDRESS = re.compile(r"0x[0-9a-fA-F]+")

#: Small limits so runaway programs fail fast.
SMALL = Limits(max_seconds=5.0, max_memory_mb=512, max_output_chars=20_000)


def normalise(text: str) -> str:
    return ADDRESS.sub("0x…", text)


def run_gradviz(source: str, limits: Limits | None = None, recorder: Recorder | None = None,
                **kwargs) -> Outcome:
    torch.manual_seed(0)
    return run_program(source, limits or Limits(), recorder or Recorder(), **kwargs)


def run_python(source: str) -> tuple[str, dict]:
    """The same program in plain Python, the reference (a trusted test program, in this process)."""
    torch.manual_seed(0)
    main = types.ModuleType("__main__")  # as under `python file.py`: pickle finds the program's classes
    namespace = main.__dict__
    buf = io.StringIO()
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = main
    try:
        with contextlib.redirect_stdout(buf):
            exec(source, namespace)  # noqa: S102 - the reference run of a trusted test program
    finally:
        sys.modules["__main__"] = saved
    namespace.pop("__builtins__", None)
    return buf.getvalue(), dict(namespace)


def same_value(a, b) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if not torch.equal(a.detach(), b.detach()):
            return False
        if not (a.is_leaf and b.is_leaf):
            return True
        if (a.grad is None) != (b.grad is None):
            return False
        return a.grad is None or torch.equal(a.grad, b.grad)
    if isinstance(a, torch.nn.Module) and isinstance(b, torch.nn.Module):
        pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
        return pa.keys() == pb.keys() and all(same_value(pa[k], pb[k]) for k in pa)
    if isinstance(a, (int, float, str, bool)) and isinstance(b, type(a)):
        return a == b or (a != a and b != b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return True  # functions, classes …: compared through printed output


def assert_same(source: str, names: tuple[str, ...] | None = None) -> Outcome:
    """Run both ways; printed output and the values/grads of top-level tensors must match."""
    expected, namespace = run_python(source)
    out = run_gradviz(source)
    assert out.error is None, out.error
    assert normalise(out.stdout) == normalise(expected)
    keys = names if names is not None else [
        k for k, v in namespace.items() if isinstance(v, (torch.Tensor, torch.nn.Module, int, float, list))
    ]
    for key in keys:
        assert key in out.globals, key
        assert same_value(out.globals[key], namespace[key]), key
    return out
