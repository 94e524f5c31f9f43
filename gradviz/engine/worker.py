"""The engine process: JSON requests in on stdin, JSON lines out (ready, progress, result).

Messages out, one JSON object per line on the original stdout:
``{"type": "ready", "torch": "2.13.0+cpu", "seconds": 1.2}`` once torch is loaded;
``{"type": "progress", "id": ..., "statement": {...StatementRecord}}`` after each top-level statement;
``{"type": "graph", "id": ..., "call": k, "graph": {...GraphData}}`` as backward call k starts, before
the backward pass runs (the client lays the graph out meanwhile);
``{"type": "result", "id": ..., "result": {"shared": ..., "data": {...RunResult}}, "sent_graphs": [k, ...]}``
at the end of each run (``plain.to_plain_shared``: each tensor value once), where the calls listed in
``sent_graphs`` carry an empty graph: theirs came in a graph message;
``{"type": "error", "message": ...}`` for a request that could not be read.
Messages in: ``{"type": "run", "id": ..., "request": {...RunRequest}}`` and ``{"type": "exit"}``.
SIGINT cancels the current run (the partial result still comes back).
"""

from __future__ import annotations

import gc
import json
import os
import queue
import resource
import signal
import sys
import threading
import time

import orjson

from gradviz.core.collector import collector_paused
from gradviz.core.plain import from_plain, to_plain, to_plain_shared
from gradviz.core.request import RunRequest
from gradviz.core.result import GraphData


_cancel_requested = False

#: Stack of the thread that runs programs. Freeing an autograd graph whose nodes Python has touched
#: (the tracer tags each with its line) recurses in C once per node: a chain of 50,000 nodes
#: overflowed the main thread's 8 MB stack and killed the worker (a segmentation fault, in plain
#: torch too). 1 GB of address space, of which only what is used becomes memory, frees chains of
#: millions of nodes (256 MB freed a million here).
RUN_STACK_BYTES = 1024 * 1024 * 1024


class _RunThread:
    """One long-lived thread with a deep stack: programs run, and their objects are freed, there."""

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._done: queue.Queue = queue.Queue()
        previous = threading.stack_size(RUN_STACK_BYTES)
        try:
            threading.Thread(target=self._loop, name="gradviz-run", daemon=True).start()
        finally:
            threading.stack_size(previous)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                self._done.put((True, job()))
            except BaseException as exc:  # handed to the caller, as if it had run there
                self._done.put((False, exc))

    def call(self, job):
        """``job()`` on the run thread; its result, or its exception raised here."""
        self._jobs.put(job)
        ok, value = self._done.get()
        if ok:
            return value
        raise value


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
    runner = _RunThread()  # its stack is reserved before the memory baseline below
    runner.call(lambda: torch.ones(2, 2, requires_grad=True).sum().backward())  # autograd's thread state
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

        result = runner.call(lambda request=request, run_id=run_id, send_graph=send_graph: run_request(
            request,
            on_statement=lambda record: send({"type": "progress", "id": run_id, "statement": to_plain(record)}),
            cancelled=_cancelled,
            on_graph=send_graph,
        ))
        resource.setrlimit(resource.RLIMIT_AS, original_limit)
        with collector_paused():
            send({"type": "result", "id": run_id, "result": to_plain_shared(result.with_call_graphs(dict.fromkeys(sent, GraphData()))),
                  "sent_graphs": sorted(sent)})
        runner.call(gc.collect)  # what the program left in cycles is freed on the deep stack too
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # skips the interpreter's teardown, which takes torch a tenth of a second or more
