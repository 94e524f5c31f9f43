"""The interface through which the interpreter tells the tracer what a program does to autograd."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from gradviz.core.result import StatementRecord

#: Kinds of backward call passed to Recorder.run_backward.
BACKWARD_KINDS = ("backward", "autograd.backward", "autograd.grad")


class Recorder:
    """Receives events from the interpreter; this base records nothing and just runs the calls.

    The interpreter calls, in program order:

    - ``bind(scopes)`` once, before the first statement: ``scopes()`` lists the user's visible
      bindings as ``(name, value)`` pairs, innermost scope first;
    - ``on_result(value, line)`` with the result of every call, operator and subscript the
      program evaluates (this is how grad_fn nodes learn the line that created them);
    - ``run_backward(kind, line, fn, args, kwargs)`` instead of calling ``fn`` for
      ``Tensor.backward`` ("backward"), ``torch.autograd.backward`` and ``torch.autograd.grad``;
      it must return what ``fn`` returns and let its exception propagate;
    - ``on_grad_touched(line, owner)`` after anything that may have changed a leaf's ``.grad``
      without a backward: ``zero_grad()``, ``Tensor.zero_()``, an assignment to ``.grad``,
      ``optimizer.step()``; ``owner`` is the tensor whose ``.grad`` attribute the statement
      assigned or deleted (``x`` of ``x.grad = …``), else None;
    - ``on_statement(record)`` after each top-level statement;
    - ``on_tensor_hook(line)`` after ``Tensor.register_hook``: from then on a gradient may change
      between the node that sends it and the node that receives it;
    - ``on_bind(name, tensor)`` when a leaf tensor that requires grad is bound to a plain name
      (so leaves made in a loop can still be named after the variable that held them).
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
