"""One run, in process: seed, run the program with the tracer, then summarise everything into a RunResult."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import torch

from gradviz.core import i18n
from gradviz.core.request import RunRequest
from gradviz.core.result import ErrorInfo, GraphData, RunResult, StatementRecord, TensorInfo
from gradviz.engine import capture as capture_module
from gradviz.engine.capture import GraphCapture, NameIndex
from gradviz.engine.hints import explain
from gradviz.engine.limits import limit_error
from gradviz.engine.runner import run_program
from gradviz.engine.tracer import MAX_LISTED_CALLS, Tracer
from gradviz.engine.values import VARIABLE_LIMIT, VARIABLES_TOTAL, dtype_name, tensor_values


def _explain(exc: BaseException) -> tuple[str, str | None]:
    return explain(exc, None)


def run_request(
    request: RunRequest,
    on_statement: Callable[[StatementRecord], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_graph: Callable[[int, GraphData], None] | None = None,
) -> RunResult:
    """Run ``request.program`` for real and record what autograd did.

    ``torch.manual_seed(request.seed)`` comes first, so a script gives the same numbers as
    ``torch.manual_seed(seed)`` followed by the script in plain Python (``random`` and
    ``numpy.random`` are seeded with it too: every run of a program repeats the last).
    ``on_statement`` hears of each top-level statement as it ends, ``on_graph(index, graph)`` of
    each backward call's graph before that call runs.
    """
    start = time.perf_counter()
    i18n.set_language(request.language)  # hints and limit messages in the language asked for
    torch.manual_seed(request.seed)
    _seed_numpy(request.seed)
    torch.set_grad_enabled(True)
    tracer = Tracer(explain=_explain, detail_calls=request.detail_calls, only_call=request.only_call)
    tracer.on_progress = on_statement
    tracer.on_graph = on_graph
    # Full garbage collections over torch's many objects cost more than the tracing itself
    # on big graphs; autograd graphs hold no reference cycles, so collect rarely during a run.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    outcome = None
    try:
        outcome = run_program(request.program, request.limits, tracer, request.stop_after_line, cancelled)
        if request.only_call is not None:  # a fetch of one call: nothing else is wanted
            return RunResult(stdout=outcome.stdout, stderr=outcome.stderr, error=outcome.error,
                             statements=tuple(outcome.statements), backward_calls=tuple(tracer.calls),
                             seed=request.seed, duration=time.perf_counter() - start)
        last_line = outcome.statements[-1].line if outcome.statements else 1
        names = NameIndex.from_bindings(outcome.globals.items(), tracer.former_names)
        tracer.track_named_leaves(names)
        tracer.check_grads(last_line)
        variables, graph, cut = summarise(outcome.globals, names, tracer.last_capture)
        labels = tracer.final_labels(names)
    except Exception as exc:  # a bug of ours must still come back as a result, not a dead worker
        if isinstance(exc, MemoryError) or "allocate" in str(exc):
            error = ErrorInfo("LimitExceeded", limit_error(request.limits, "max_memory_mb", i18n.t(
                "Recording this run needed more memory than was left")).message, limit="max_memory_mb")
        else:
            error = ErrorInfo("InternalError", f"gradviz failed while recording this run: {exc!r}")
        ran = outcome.statements if outcome is not None else ()
        return RunResult(stdout=outcome.stdout if outcome is not None else "", error=error, statements=tuple(ran),
                         seed=request.seed, duration=time.perf_counter() - start)
    finally:
        gc.set_threshold(*thresholds)
        torch.set_grad_enabled(True)
    notes = []
    limit = capture_module.MAX_GRAPH_NODES
    for index in tracer.truncated_calls:
        notes.append(i18n.t(
            "Backward call {number} went through more than {limit:,} autograd nodes: the first "
            "{limit:,} found from its output are drawn and animated, the rest ran unrecorded.",
            number=index + 1, limit=limit))
    if cut:
        notes.append(i18n.t("The graphs behind the variables have more than {limit:,} nodes: the first "
                            "{limit:,} found from them are drawn.", limit=limit))
    if tracer.calls_seen > MAX_LISTED_CALLS:
        notes.append(i18n.t("The program made {calls:,} backward calls; the first {listed:,} are "
                            "listed, the gradient history covers all of them.",
                            calls=tracer.calls_seen, listed=MAX_LISTED_CALLS))
    return RunResult(
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        error=outcome.error,
        statements=tuple(outcome.statements),
        variables=variables,
        graph=graph,
        backward_calls=tracer.labelled_calls(labels),
        grad_history=tracer.leaf_histories(labels),
        seed=request.seed,
        stopped_at=outcome.stopped_at,
        duration=time.perf_counter() - start,
        notes=tuple(notes),
    )


def _seed_numpy(seed: int) -> None:
    """``numpy.random``'s global generator from the run's seed, where numpy is installed."""
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy comes with the project
        return
    numpy.random.seed(seed % 2**32)


def summarise(bindings: dict[str, Any], names: NameIndex, last: tuple[int, GraphCapture] | None = None,
              ) -> tuple[tuple[TensorInfo, ...], GraphData, bool]:
    """Every top-level tensor and module parameter, and the graph of those with a grad_fn.

    A tensor whose node is in the last backward call's graph points there (``graph_call``), so
    the common case — the loss and its inputs — is not recorded twice; the returned graph joins
    the graphs of the other tensors. The flag: that graph was cut at capture.MAX_GRAPH_NODES.
    """
    named: list[tuple[str, torch.Tensor, bool]] = []
    for name, value in bindings.items():
        if isinstance(value, torch.Tensor):
            named.append((name, value, isinstance(value, torch.nn.Parameter)))
        elif isinstance(value, torch.nn.Module):
            named.extend((f"{name}.{p}", t, True) for p, t in value.named_parameters())

    located: dict[str, tuple[int | None, str]] = {}
    if last is not None:
        index, seen = last
        for name, t, _ in named:
            nid = seen.root_ids.get(id(t)) or (
                seen.node_ids.get(t.grad_fn) if t.grad_fn is not None else seen.leaf_ids.get(id(t)))
            if nid is not None:
                located[name] = (index, nid)

    capture = GraphCapture(names)
    node_of: dict[str, str] = {}
    for name, t, _ in named:
        if t.grad_fn is not None and name not in located:
            nid = capture.add_node(t.grad_fn)
            if nid is not None:
                node_of[name] = nid
    # Variables whose node nothing else in the graph points at are the roots of what is shown.
    targets = {e.dst for e in capture.edges}
    seen_roots: dict[str, str] = {}
    for name, t, _ in named:
        nid = node_of.get(name)
        if nid is not None and nid not in targets:
            if nid not in seen_roots:
                seen_roots[nid] = capture.add_root(t)
            node_of[name] = seen_roots[nid]
    for name, t, _ in named:
        if name not in located and t.grad_fn is None and id(t) in capture.leaf_ids:
            node_of[name] = capture.leaf_ids[id(t)]
    for name, nid in node_of.items():
        located[name] = (None, nid)
    graph = capture.graph()

    values = tensor_values([v for _, t, _ in named for v in (t, _grad(t))], VARIABLE_LIMIT, VARIABLES_TOTAL)
    infos = []
    for k, (name, t, is_param) in enumerate(named):
        call, nid = located.get(name, (None, None))
        infos.append(TensorInfo(
            name=name, shape=tuple(t.shape), dtype=dtype_name(t.dtype),
            requires_grad=t.requires_grad, is_leaf=t.is_leaf, value=values[2 * k],
            grad=values[2 * k + 1], grad_fn=type(t.grad_fn).__name__ if t.grad_fn is not None else None,
            is_param=is_param, node_id=nid, graph_call=call,
        ))
    return tuple(infos), graph, capture.truncated


def _grad(t: torch.Tensor) -> torch.Tensor | None:
    """``t.grad`` without torch's warning about reading the grad of a non-leaf."""
    return t.grad if t.is_leaf or t.retains_grad else None
