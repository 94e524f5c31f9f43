"""The engine process: JSON requests in on stdin, JSON lines out (ready, progress, result).

Messages out, one JSON object per line on the original stdout:
``{"type": "ready", "torch": "2.13.0+cpu", "seconds": 1.2}`` once torch is loaded;
``{"type": "progress", "id": ..., "statement": {...StatementRecord}}`` after each top-level statement;
``{"type": "graph", "id": ..., "call": k, "graph": {...GraphData}}`` as backward call k starts, before
the backward pass runs (the client lays the graph out meanwhile);
``{"type": "result", "id": ..., "result": {...RunResult}, "sent_graphs": [k, ...]}`` at the end of each
run, where the calls listed in ``sent_graphs`` carry an empty graph: theirs came in a graph message;
``{"type": "error", "message": ...}`` for a request that could not be read.
Messages in: ``{"type": "run", "id": ..., "request": {...RunRequest}}`` and ``{"type": "exit"}``.
SIGINT cancels the current run (the partial result still comes back).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import resource
import signal
import sys
import time

import orjson

from gradviz.core.collector import collector_paused
from gradviz.core.plain import from_plain, to_plain
from gradviz.core.request import RunRequest
from gradviz.core.result import GraphData, RunResult


_cancel_requested = False


def _on_sigint(signum, frame) -> None:
    global _cancel_requested
    _cancel_requested = True


def _reset_cancel() -> None:
    global _cancel_requested
    _cancel_requested = False


def _cancelled() -> bool:
    """Polled by the interpreter between steps."""
    return _cancel_requested


def _vm_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_memory(extra_mb: int, base: int, original: tuple[int, int]) -> None:
    """Cap the address space at what the engine uses with torch loaded plus ``extra_mb``.

    An allocation past the cap fails inside torch with "can't allocate memory", which the
    interpreter reports as the memory limit, instead of the machine swapping or the OOM killer.
    """
    soft = base + extra_mb * 1024 * 1024
    hard = original[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def without_sent_graphs(result: RunResult, sent: set[int]) -> RunResult:
    """``result`` with an empty graph in the backward calls whose graph was sent ahead."""
    if not sent:
        return result
    calls = tuple(dataclasses.replace(c, graph=GraphData()) if c.index in sent else c
                  for c in result.backward_calls)
    return dataclasses.replace(result, backward_calls=calls)


def main() -> int:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # anything printed by accident goes to stderr, not into the protocol
    sys.stdout = sys.stderr

    def send(message: dict) -> None:
        # Plain data only (to_plain spells non-finite floats out), so orjson's output is strict JSON.
        try:
            text = orjson.dumps(message).decode("utf-8")
        except TypeError:  # e.g. an integer beyond 64 bits: the standard library writes it
            text = json.dumps(message, allow_nan=False, separators=(",", ":"))
        out.write(text + "\n")
        out.flush()

    started = time.perf_counter()
    import torch  # the slow part of start-up: the client shows "engine starting" meanwhile

    from gradviz.engine.run import run_request

    torch.set_num_threads(torch.get_num_threads())  # settle the thread pool (OMP_NUM_THREADS) before the memory cap
    torch.ones(2, 2, requires_grad=True).sum().backward()  # start autograd's thread state
    # torch's own objects never need scanning by the collector again. (No gc.collect first:
    # importing torch leaves next to no garbage, and the collection took 0.1 s of start-up.)
    gc.freeze()
    base_vm = _vm_bytes()
    original_limit = resource.getrlimit(resource.RLIMIT_AS)
    signal.signal(signal.SIGINT, _on_sigint)
    send({"type": "ready", "torch": torch.__version__, "seconds": round(time.perf_counter() - started, 3),
          "pid": os.getpid()})

    for line in sys.stdin:
        try:
            message = json.loads(line)
            kind = message.get("type")
        except (ValueError, AttributeError):
            send({"type": "error", "message": "unreadable message"})
            continue
        if kind == "exit":
            break
        if kind != "run":
            send({"type": "error", "message": f"unknown message type {kind!r}"})
            continue
        run_id = message.get("id")
        try:
            request = from_plain(RunRequest, message.get("request"))
        except ValueError as exc:
            send({"type": "error", "id": run_id, "message": f"bad request: {exc}"})
            continue
        _reset_cancel()
        _limit_memory(request.limits.max_memory_mb, base_vm, original_limit)
        sent: set[int] = set()

        def send_graph(index: int, graph: GraphData, run_id=run_id, sent=sent) -> None:
            with collector_paused():
                send({"type": "graph", "id": run_id, "call": index, "graph": to_plain(graph)})
            sent.add(index)

        result = run_request(
            request,
            on_statement=lambda record: send({"type": "progress", "id": run_id, "statement": to_plain(record)}),
            cancelled=_cancelled,
            on_graph=send_graph,
        )
        resource.setrlimit(resource.RLIMIT_AS, original_limit)
        with collector_paused():
            send({"type": "result", "id": run_id, "result": to_plain(without_sent_graphs(result, sent)),
                  "sent_graphs": sorted(sent)})
        gc.collect()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # skips the interpreter's teardown, which takes torch a tenth of a second or more
