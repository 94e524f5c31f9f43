"""The interface through which the runner tells the tracer what a program does to autograd."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gradviz.core.result import StatementRecord


class StopRun(BaseException):
    """Raised by a recorder that has what it came for (one fetched backward call): the run ends there."""


class Recorder:
    """Receives events from the runner; this base records nothing and just runs the calls.

    The runner calls, in program order:

    - ``bind(scopes)`` before the first statement: ``scopes()`` lists the program's visible
      bindings as ``(name, value)`` pairs, innermost scope first (read from its live frames);
    - ``on_result(value, line)`` with a new tensor (or sequence of tensors) with a grad_fn that a
      torch call of the program returned (this is how grad_fn nodes learn the line that created them);
    - ``run_backward(kind, line, fn, args, kwargs)`` instead of calling ``fn`` when the program's own
      code calls ``Tensor.backward`` ("backward"), ``torch.autograd.backward`` or
      ``torch.autograd.grad``; it must return what ``fn`` returns and let its exception propagate;
    - ``on_grad_touched(line, owner)`` when a ``.grad`` may have changed without a backward call:
      ``owner.grad`` was assigned or deleted (``x.grad = None``, ``zero_grad()``), or an in-place
      torch call changed one of the tensors ``grad_ids()`` lists (``x.grad.zero_()``; owner None);
    - ``on_statement(record)`` after each top-level statement;
    - ``on_tensor_hook(line)`` after ``Tensor.register_hook``: from then on a gradient may change
      between the node that sends it and the node that receives it;
    - ``on_hook(hook, tensors)``: ``hook`` (a HookRef) of the program runs at the nodes behind
      ``tensors`` (a module's forward hook at its output's node, a full backward hook at the node
      torch puts on the module's inputs, a tensor hook at the tensor's node);
    - ``on_bind(name, tensor)`` when a new leaf tensor that requires grad is found bound to a
      plain name (so leaves made in a loop can still be named after the variable that held them).
    """

    def bind(self, scopes: Callable[[], Iterable[tuple[str, Any]]]) -> None:
        self.scopes = scopes

    def on_result(self, value: Any, line: int) -> None:
        pass

    def run_backward(self, kind: str, line: int, fn: Callable, args: tuple, kwargs: dict) -> Any:
        return fn(*args, **kwargs)

    def on_grad_touched(self, line: int, owner: Any = None) -> None:
        pass

    def on_statement(self, record: StatementRecord) -> None:
        pass

    def on_tensor_hook(self, line: int) -> None:
        pass

    def on_bind(self, name: str, tensor: Any) -> None:
        pass

    def on_hook(self, hook: Any, tensors: Any) -> None:
        pass

    def grad_ids(self) -> set[int]:
        """``id`` of the ``.grad`` tensors whose in-place changes ``on_grad_touched`` should hear of."""
        return set()
