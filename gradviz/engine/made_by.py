"""Which grad_fn nodes a backward call with create_graph=True made, and the node whose backward made each.

torch knows: in anomaly mode every node created while the engine evaluates a node gets that node
as ``metadata["parent_"]`` (torch/csrc/autograd/function.cpp ``assign_parent``). So a call with
create_graph=True runs with anomaly mode on, without its NaN check, and afterwards the nodes it
made (found from what it returned and from the ``.grad`` it wrote) are stamped with the call and
their origin under MADE_BY_KEY, and torch's keys are taken off again.

What anomaly mode costs besides the parents is avoided: it records a Python stack for every node
(``torch.fx.traceback.format_stack``: 12x the plain backward on a 2,000-node graph; with no stack
it is ~1.5x, see benchmarks/bench_made_by.py); when a node fails it warns "Error detected in ...",
which the program never asked for (filtered out); and it words the hint of torch's "modified by
an inplace operation" error differently (put back as torch words it without anomaly mode).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.fx.traceback as fx_traceback

#: Key in ``Node.metadata``: (index of the backward call that made the node, the node whose backward
#: made it, that node's id in the call's recorded graph or None).
MADE_BY_KEY = "gradviz_made_by"
_PARENT = "parent_"  # torch's keys (python_anomaly_mode.h ANOMALY_PARENT_KEY, ANOMALY_TRACE_KEY)
_TRACE = "traceback_"
#: torch's hint at the end of "... modified by an inplace operation" in anomaly mode, and without it.
_ANOMALY_HINT = ("Hint: the backtrace further above shows the operation that failed to compute its gradient. "
                 "The variable in question was changed in there or anywhere later. Good luck!")
_PLAIN_HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
               "with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def _no_stack() -> list[str]:
    return []


def next_sequence_nr() -> int:
    """The sequence number the next autograd node made in this thread gets (one is spent to see it)."""
    with torch._C.DisableTorchFunction(), torch.enable_grad():
        node = torch.empty((), requires_grad=True).view(()).grad_fn
    return node._sequence_nr() + 1


def run_recording_parents(fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, bool, tuple[int, int]]:
    """Run the backward call ``fn(*args, **kwargs)`` with torch recording each new node's parent.

    Returns the call's result, whether gradviz switched anomaly mode on (then the keys torch
    added are gradviz's to remove; a program that turned anomaly mode on itself keeps them), and
    the range of sequence numbers of the nodes the call made (CPU backward runs in the calling
    thread, whose counter numbers them). Exceptions are the call's own, worded as without anomaly mode.
    """
    first = next_sequence_nr()
    if torch.is_anomaly_enabled():
        return fn(*args, **kwargs), False, (first, next_sequence_nr())
    check_nan = torch.is_anomaly_check_nan_enabled()
    format_stack = fx_traceback.format_stack
    shown = warnings.showwarning
    try:
        fx_traceback.format_stack = _no_stack  # type: ignore[assignment]
        # anomaly mode's own "Error detected in ..." is dropped; the program's warnings pass as they
        # would (catch_warnings would reset the once-per-place memory: a warning shown again each call)
        warnings.showwarning = _without_anomaly_notes(shown)
        torch.set_anomaly_enabled(True, False)
        return fn(*args, **kwargs), True, (first, next_sequence_nr())
    except RuntimeError as exc:
        if exc.args and isinstance(exc.args[0], str) and _ANOMALY_HINT in exc.args[0]:
            exc.args = (exc.args[0].replace(_ANOMALY_HINT, _PLAIN_HINT), *exc.args[1:])
        raise
    finally:
        torch.set_anomaly_enabled(False, check_nan)
        fx_traceback.format_stack = format_stack  # type: ignore[assignment]
        warnings.showwarning = shown


def _without_anomaly_notes(shown: Callable) -> Callable:
    def show(message, category, filename, lineno, file=None, line=None):
        if not str(message).startswith("Error detected in "):
            shown(message, category, filename, lineno, file, line)
    return show


def stamp_made(index: int, tensors: Iterable[torch.Tensor | None], ids: dict[Any, str], owned: bool,
               ranges: list[tuple[int, int, int]] | None = None) -> int:
    """Stamp the nodes call ``index`` made behind ``tensors`` with MADE_BY_KEY; how many.

    A node is stamped with the call whose range of sequence numbers (``ranges``: (call, first,
    end) of each create_graph call so far, this one last) holds its own: a node an earlier call
    made but left unstamped (it was reached neither from what that call returned nor from a
    leaf's .grad, e.g. a retain_grad() tensor's .grad) gets that call, not this one. The walk
    stops at nodes torch gave no parent or that are stamped already. ``ids`` maps this call's
    graph nodes to their ids; ``owned``: remove torch's keys.
    """
    ranges = ranges or []
    stack = [t.grad_fn for t in tensors if t is not None and t.grad_fn is not None]
    seen: set = set()
    stamped = 0
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        metadata = node.metadata
        parent = metadata.get(_PARENT)
        if parent is None or MADE_BY_KEY in metadata:  # made before this call (stamped by its own)
            continue
        seq = node._sequence_nr()
        maker = next((call for call, first, end in reversed(ranges) if first <= seq < end), index)
        metadata[MADE_BY_KEY] = (maker, parent, ids.get(parent) if maker == index else None)
        stamped += 1
        if owned:
            metadata.pop(_PARENT, None)
            metadata.pop(_TRACE, None)
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None and nxt not in seen)
    return stamped
