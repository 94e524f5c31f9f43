"""Every shipped lesson loads, has a title and notes, and runs in real PyTorch with the output it promises."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
import torch

from gradviz.core.request import RunRequest
from gradviz.core.resources import example_paths
from gradviz.core.session import dumps_session, load_session
from gradviz.engine.run import run_request

# Exact printed output in real torch, per lesson (the MLP's losses are checked by shape instead).
EXPECTED_STDOUT = {
    "01-two-x-squared": "tensor([ 0.,  4.,  8., 12.])\ntensor([True, True, True, True])\n",
    "02-sum-vs-ones-like": "tensor([0., 2., 4., 6.])\ntensor([0., 2., 4., 6.])\n",
    "03-non-scalar-backward": "fix 1: tensor([2., 4., 6.])\nfix 2: tensor([2., 4., 6.])\n",
    "04-accumulation-and-zero-grad": (
        "without zero_grad: tensor([2., 4.])\n"
        "without zero_grad: tensor([4., 8.])\n"
        "without zero_grad: tensor([ 6., 12.])\n"
        "with zero_grad:    tensor([2., 4.])\n"
        "with zero_grad:    tensor([2., 4.])\n"
        "with zero_grad:    tensor([2., 4.])\n"
    ),
    "05-retain-graph": "tensor([2., 4., 6.])\ntensor([ 4.,  8., 12.])\n",
    "06-detach-and-no-grad": "tensor([0., 1., 4., 9.])\ntensor([True, True, True, True])\nFalse None\n",
    "07-fan-in": "tensor(10., grad_fn=<AddBackward0>)\ntensor(7.)\n",
    "09-zero-grad-compare": "step 0 w.grad = tensor([-10.])\nstep 1 w.grad = tensor([-7.5000])\n"
                            "step 2 w.grad = tensor([-5.6250])\n",
}

# The second program of a compare lesson (shown on the right): without zero_grad, w.grad climbs.
EXPECTED_COMPARE_STDOUT = {
    "09-zero-grad-compare": "step 0 w.grad = tensor([-10.])\nstep 1 w.grad = tensor([-17.5000])\n"
                            "step 2 w.grad = tensor([-20.6250])\n",
}

# Lessons that end in an error on purpose (their notes say so): lesson -> (type, message part).
EXPECTED_ERROR = {
    "05-retain-graph": (RuntimeError, "Trying to backward through the graph a second time"),
}

EXAMPLES = example_paths()


def run_for_real(program: str, seed: int) -> tuple[str, BaseException | None]:
    """Run a lesson as plain Python + torch would (tests only: the package never execs user code)."""
    torch.manual_seed(seed)
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out):
        try:
            exec(program, {"__name__": "__lesson__"})  # noqa: S102 - trusted, shipped lesson text
        except Exception as exc:  # noqa: BLE001 - recorded and checked below
            error = exc
    return out.getvalue(), error


def test_there_are_at_least_eight_lessons():
    assert len(EXAMPLES) >= 8
    assert {p.stem for p in EXAMPLES} >= set(EXPECTED_STDOUT) | {"08-mlp-training-loop"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_lesson_is_a_clean_current_session(path):
    data = path.read_bytes()
    session = load_session(path)
    assert dumps_session(session) == data  # stored exactly as gradviz saves it
    # No limits: opens in older gradviz too; a compare lesson needs version 4 (and says so).
    version = b'"version": 4' if session.compare is not None else b'"version": 2'
    assert session.limits is None and version in data
    assert (session.compare is not None) == (path.stem in EXPECTED_COMPARE_STDOUT)
    assert 5 <= len(session.title) <= 60
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", session.notes.strip()) if s]
    assert 2 <= len(sentences) <= 5, sentences
    assert "import torch" in session.program


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_lesson_runs_in_real_torch(path):
    session = load_session(path)
    stdout, error = run_for_real(session.program, session.seed)
    if path.stem in EXPECTED_ERROR:
        kind, part = EXPECTED_ERROR[path.stem]
        assert isinstance(error, kind) and part in str(error)
        assert "on purpose" in session.notes
        # the error comes from the last statement: everything before it ran
        assert session.program.rstrip().splitlines()[-1].startswith("y.backward()")
    else:
        assert error is None, f"{type(error).__name__}: {error}"
    if path.stem in EXPECTED_STDOUT:
        assert stdout == EXPECTED_STDOUT[path.stem]
    if session.compare is not None:
        other = session.compared()
        stdout, error = run_for_real(other.program, other.seed)
        assert error is None and stdout == EXPECTED_COMPARE_STDOUT[path.stem]


def test_mlp_lesson_loss_falls():
    session = load_session(next(p for p in EXAMPLES if p.stem == "08-mlp-training-loop"))
    stdout, error = run_for_real(session.program, session.seed)
    assert error is None
    losses = [float(x) for x in re.findall(r"loss (\d+\.\d+)", stdout)]
    assert len(losses) == 7
    assert losses == sorted(losses, reverse=True)
    assert losses[-1] < losses[0] / 10


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_lesson_runs_the_same_through_gradviz(path):
    """gradviz runs lessons for real: its output must be what plain Python + torch printed."""
    session = load_session(path)
    real_stdout, real_error = run_for_real(session.program, session.seed)
    result = run_request(RunRequest(program=session.program, seed=session.seed))
    assert result.stdout == real_stdout
    if real_error is None:
        assert result.error is None, result.error
    else:
        assert result.error is not None and result.error.type == type(real_error).__name__
        assert result.error.line == len(session.program.rstrip().splitlines())


def test_lesson_3s_instruction_followed_literally_shows_the_error_and_its_hint():
    """"Delete the # at the start of the line #y.backward()": done literally (the first # of that
    line removed), the program runs to that line and fails there with the scalar-outputs hint."""
    session = load_session(next(p for p in EXAMPLES if p.stem == "03-non-scalar-backward"))
    assert "Delete the # at the start of the line #y.backward()" in session.notes
    lines = session.program.split("\n")
    k = next(i for i, line in enumerate(lines) if line.startswith("#y.backward()"))
    lines[k] = lines[k].replace("#", "", 1)
    result = run_request(RunRequest(program="\n".join(lines), seed=session.seed))
    assert result.error.type == "RuntimeError" and result.error.line == k + 1
    assert "scalar outputs" in result.error.message and "y.sum().backward()" in result.error.hint
