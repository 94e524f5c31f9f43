"""Test set-up: Qt runs offscreen before anything imports it; the 2xᵀx run every layer's tests share."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from gradviz.core.request import RunRequest  # gradviz.core imports neither Qt nor torch
from gradviz.core.result import BackwardCall, RunResult

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# gradviz follows the locale: the tests (and the gradviz processes they start) speak English
# whatever the machine's locale is; the Chinese tests ask for Chinese themselves.
for _var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_var, None)
os.environ["LANG"] = "C.UTF-8"


@pytest.fixture(autouse=True)
def english_unless_asked(monkeypatch):
    """Each test starts in English; a test that switches the language is undone after it."""
    from gradviz.core import i18n

    monkeypatch.setattr(i18n, "_current", i18n.DEFAULT)

#: The README's program (the first lesson's, without its last check): y = 2xᵀx, x = [0, 1, 2, 3].
TWO_X_PROGRAM = """import torch

x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()

print(x.grad)
"""


@dataclass
class EngineRun:
    """A program run by the engine in this process: the RunResult the worker would send, not one made by hand.

    ``stopped_after(line)`` is the same program run as Step / Run to cursor stops it, once per line.
    """

    program: str
    result: RunResult
    _stops: dict[int, RunResult] = field(default_factory=dict, repr=False)

    @property
    def call(self) -> BackwardCall:
        """The program's (only) backward call."""
        (call,) = self.result.backward_calls
        return call

    def stopped_after(self, line: int) -> RunResult:
        if line not in self._stops:
            self._stops[line] = run_in_process(RunRequest(self.program, stop_after_line=line))
        return self._stops[line]


def run_in_process(request: RunRequest) -> RunResult:
    """The engine without its worker process (same RunResult; torch is imported here once)."""
    from gradviz.engine.run import run_request

    result = run_request(request)
    assert result.error is None, result.error
    return result


@pytest.fixture(scope="session")
def two_x() -> EngineRun:
    """y = 2 * torch.dot(x, x); y.backward() as the engine records it: x.grad = [0, 4, 8, 12]."""
    return EngineRun(TWO_X_PROGRAM, run_in_process(RunRequest(TWO_X_PROGRAM)))
