"""The engine process: contains itself, then runs one program and sends what autograd did as JSON lines.

Every run gets a fresh process (forked by ``gradviz.engine.zygote`` on Linux, started as
``python -m gradviz.engine.worker`` elsewhere), so nothing of one lesson reaches the next. The
process contains itself (``gradviz.engine.sandbox.contain``) after torch and numpy are imported
and before it reads the program; from then on the program is real Python and can do only what the
operating system still allows.

File descriptors: 0 carries the one request in (then /dev/null); 1 and 2 go to a pipe the client
drains and bounds (what C code or ``os.write`` prints); the protocol has its own descriptor, so a
program that writes to fd 1 or replaces ``sys.stdout`` cannot corrupt it. The client treats every
message as untrusted input anyway: the program controls this process.

Messages out, one JSON object per line:
``{"type": "ready", "torch": "2.13.0+cpu", "seconds": 0.03, "pid": ..., "containment": {...}}`` once
contained; ``{"type": "progress", "statement": {...StatementRecord}}`` after each top-level statement;
``{"type": "graph", "call": k, "graph": {...GraphData}}`` as backward call k starts, before its
backward pass runs (the client lays the graph out meanwhile); ``{"type": "result", "result":
{"shared": ..., "data": {...RunResult}}, "sent_graphs": [k, ...]}`` at the end, where the calls in
``sent_graphs`` carry an empty graph (theirs came ahead); ``{"type": "error", "message": ...}`` for a
request that could not be read. In: one line ``{"type": "run", "request": {...RunRequest}}``.
SIGINT cancels the run (the partial result still comes back).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import resource
import signal
import sys
import tempfile
import threading
import time

from gradviz.core import i18n
from gradviz.core.collector import collector_paused
from gradviz.core.plain import from_plain, to_plain
from gradviz.core.request import RunRequest
from gradviz.core.result import GraphData
from gradviz.engine.limits import ADDRESS_MARGIN, held_off, memory_bytes
from gradviz.engine.message import encode, result_message

#: How far the main thread's stack may grow; programs run on the main thread (as under ``python
#: file.py``: ``signal.signal`` works only there). Freeing an autograd graph whose nodes Python has
#: touched (the tracer tags each with its line) recurses in C once per node: a chain of 50,000 nodes
#: overflowed the default 8 MB and killed the worker (a segmentation fault, in plain torch too).
#: Raised at run time, the limit lets the stack grow (only what is used becomes memory) while
#: threads keep glibc's default stacks, which are read from the limit at start-up: a chain of a
#: million nodes was freed here.
RUN_STACK_BYTES = 1024 * 1024 * 1024
#: Longest request line read (the program is at most runner.MAX_SOURCE_CHARS characters).
MAX_REQUEST_BYTES = 8 * 1024 * 1024
#: The descriptor the protocol is written to in a forked worker.
PROTOCOL_FD = 3

_cancel_requested = False


def _on_sigint(signum, frame) -> None:
    global _cancel_requested
    _cancel_requested = True


def _cancelled() -> bool:
    """Polled by the run's watchdog (SIGINT only sets a flag: the program may be in a C call)."""
    return _cancel_requested


class Channel:
    """The protocol descriptor: one JSON object per line, counting what was sent."""

    def __init__(self, fd: int):
        self._fd = fd
        self.sent_bytes = 0

    def send(self, message: dict) -> None:
        self.write(encode(message))

    def write(self, data: bytes) -> None:
        """The whole line: sends happen inside the program's calls, where the watchdog is held off."""
        with held_off():
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        self.sent_bytes += len(data)


def _read_request(fd: int) -> bytes:
    """The one request line from ``fd`` (at most MAX_REQUEST_BYTES)."""
    chunks, size = [], 0
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > MAX_REQUEST_BYTES:
            break
    return b"".join(chunks).split(b"\n", 1)[0][:MAX_REQUEST_BYTES]


#: Address space allowed past the memory limit, for gradviz's own work once the program is done
#: (the result): the program may raise its soft limit only this far (the hard limit is this).
RESULT_MARGIN = 512 * 1024 * 1024
#: Address space a program may reserve past its memory limit without using it: each thread it
#: starts maps a stack (8 MB), and each of those that runs torch may start its own OpenMP team.
#: 16 threads under a 300 MB limit reserved up to 257 MB and, on a loaded machine, once reached
#: the cap and crashed (a failed mapping inside torch is a SIGSEGV, not an error). Memory itself
#: stays bounded by the watchdog, which counts resident memory.
THREAD_RESERVE = 512 * 1024 * 1024


#: glibc's mallopt parameter for the number of malloc arenas.
_M_ARENA_MAX = -8
#: Malloc arenas a run may have: glibc otherwise gives each new thread its own, up to 8 per core,
#: each reserving 64-128 MB of address space it never touches (16 threads: +1 GB of address
#: space for 26 MB of memory), and the address-space cap below would count that as memory.
MALLOC_ARENAS = 2


def _cap_malloc_arenas() -> None:
    """Keep threads from reserving address space per thread (glibc only; elsewhere nothing)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def _limit_resources(limits) -> None:
    """Address space and CPU time of the run, as hard limits the program cannot lift.

    RLIMIT_AS: what the engine uses now plus ``max_memory_mb``, THREAD_RESERVE and the watchdog's
    margin (soft: the watchdog stops the program once its address space reaches the soft limit
    less the margin, or its resident memory has grown by ``max_memory_mb``), and
    RESULT_MARGIN more (hard), raised to after the program for the result. RLIMIT_CPU: the
    deadline on every core and half a minute: a worker whose parent is gone and that ignores
    everything still ends.
    """
    _cap_malloc_arenas()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = memory_bytes()[0] + int(limits.max_memory_mb) * 1024 * 1024 + THREAD_RESERVE + ADDRESS_MARGIN
    ceiling = cap + RESULT_MARGIN if hard == resource.RLIM_INFINITY else min(cap + RESULT_MARGIN, hard)
    resource.setrlimit(resource.RLIMIT_AS, (min(cap, ceiling), ceiling))
    cpu = int(float(limits.max_seconds) * max(1, os.cpu_count() or 1)) + 30
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _release_margin() -> None:
    """The program is done: gradviz's own work may use the margin below the hard address-space limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def deepen_stack() -> None:
    """Let the main thread's stack grow to RUN_STACK_BYTES (or the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    want = RUN_STACK_BYTES if hard == resource.RLIM_INFINITY else min(hard, RUN_STACK_BYTES)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_STACK, (want, hard))


def _watch_parent(parent_pid: int) -> None:
    """Exit when the parent is gone: the only way where the kernel has no parent-death signal (macOS),
    and a second one on Linux."""
    def loop() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=loop, name="gradviz-parent", daemon=True).start()


def serve(protocol_fd: int, parent_pid: int, workdir: str | None, started: float) -> None:
    """Contain this process, say ready, run the one request, send the result, and exit."""
    import torch

    from gradviz.engine import sandbox
    from gradviz.engine.run import run_request

    channel = Channel(protocol_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)  # stdin once the request is read (opened while we still can)
    for code in i18n.LANGUAGES:  # the catalogs are read now: the walls may not let the folder be read later
        i18n.catalog(code)
    read_paths = sandbox.default_read_paths() + ([workdir] if workdir else [])
    containment = sandbox.contain(read_paths, workdir=workdir, parent_pid=parent_pid)
    use_private_folder(workdir)
    signal.signal(signal.SIGINT, _on_sigint)
    channel.send({"type": "ready", "torch": torch.__version__, "seconds": round(time.perf_counter() - started, 3),
                  "pid": os.getpid(), "containment": to_plain(containment)})
    line = _read_request(0)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        message = json.loads(line)
        if type(message) is not dict or message.get("type") != "run":
            raise ValueError("expected a run request")
        request = from_plain(RunRequest, message.get("request"))
    except (ValueError, UnicodeDecodeError) as exc:
        channel.send({"type": "error", "message": f"bad request: {exc}"})
        return
    _watch_parent(parent_pid)
    sent: set[int] = set()
    budget = request.limits.max_result_mb * 1024 * 1024

    def send_graph(index: int, graph: GraphData) -> None:
        # Graphs go ahead while they take at most half the budget; later ones travel in the result,
        # which is summarised to fit what is left.
        with collector_paused():
            data = encode({"type": "graph", "call": index, "graph": to_plain(graph)})
        if channel.sent_bytes + len(data) <= budget // 2:
            channel.write(data)
            sent.add(index)

    _limit_resources(request.limits)
    result = run_request(
        request,
        on_statement=lambda record: channel.send({"type": "progress", "statement": to_plain(record)}),
        cancelled=_cancelled,
        on_graph=send_graph,
    )
    _release_margin()
    with collector_paused():
        channel.write(result_message(result.with_call_graphs(dict.fromkeys(sent, GraphData())), sorted(sent),
                                     max(budget - channel.sent_bytes, budget // 2), request.limits.max_result_mb))


def use_private_folder(workdir: str | None) -> None:
    """Point the temporary folder and torch's compile cache at the (existing, empty) private folder.

    ``torch.optim`` imports ``torch._dynamo``, whose import asks ``tempfile.gettempdir()`` (which
    probes folders by writing a file) and makes its cache folder: in a contained process both
    failed, so every optimizer did. With a folder that exists, nothing is written; what a program
    really writes there is refused.
    """
    if workdir:
        tempfile.tempdir = workdir
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = workdir


def warm_up() -> None:
    """Import what every run needs and settle torch's lazy state, before any fork or containment."""
    import numpy  # noqa: F401 - programs use it; imported before the process is contained
    import torch

    import gradviz.engine.run  # noqa: F401
    import gradviz.engine.sandbox  # noqa: F401

    deepen_stack()
    torch.set_num_threads(torch.get_num_threads())  # settle the thread pool (OMP_NUM_THREADS)
    torch.ones(2, 2, requires_grad=True).sum().backward()  # autograd's lazy state
    # torch's own objects never need scanning by the collector again.
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    """``python -m gradviz.engine.worker``: a worker started on its own (where there is no zygote)."""
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="gradviz.engine.worker")
    parser.add_argument("--protocol-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--workdir")
    args = parser.parse_args(argv)
    warm_up()
    serve(args.protocol_fd, args.parent, args.workdir, started)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # skips the interpreter's teardown, which takes torch a tenth of a second or more
