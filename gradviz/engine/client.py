"""EngineClient: a fresh engine worker for every run, its messages read as untrusted input; imports no torch.

The worker runs the program, so whatever it sends may have been written by the program: every
line is bounded in size, every message is checked against what may come next, and the result
is checked for consistency (``gradviz.core.checks``) before anything else sees it. A run that
breaks the protocol ends with a clear error and the worker is killed. A run past its deadline is
killed too, even inside one native call.
"""

from __future__ import annotations

import ast
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import orjson

from gradviz.core.checks import check_graph, check_result
from gradviz.core.collector import collector_paused
from gradviz.core.containment import Containment
from gradviz.core.i18n import t
from gradviz.core.plain import from_plain, from_plain_shared, to_plain
from gradviz.core.request import RunRequest, how_to_raise
from gradviz.core.result import NOT_CONTAINED, WORKER_CRASHED, ErrorInfo, GraphData, RunResult, StatementRecord
from gradviz.engine.message import MAX_CONTAINERS, containers
from gradviz.engine.process import ForkServer, WorkerProcess, fork_server_supported, start_worker

#: Seconds past ``limits.max_seconds`` before a worker that did not stop by itself is killed.
GRACE_SECONDS = 2.0
#: Seconds a cancelled run may take to come back before the worker is killed.
CANCEL_SECONDS = 3.0
#: Seconds allowed for a worker to import torch, contain itself and say it is ready.
START_SECONDS = 120.0
#: Longest "ready" message, and the most call numbers a run may send graphs for.
MAX_READY_BYTES = 64 * 1024
#: Longest message of a kind that is never long (ready, error).
SMALL_MESSAGE = 64 * 1024
MAX_GRAPH_MESSAGES = 10_000


_EOF = object()


class ProtocolError(ValueError):
    """The worker sent something it may not send."""


class _Reader:
    """Reads a worker's protocol descriptor on its own thread: bounded lines, parsed JSON objects.

    ``limit`` bounds one line, ``budget`` all lines together; past either the reader reports a
    ProtocolError and stops (the client then kills the worker). It closes the descriptor when the
    worker's end closes (the worker is always killed at the end of a run).
    """

    def __init__(self, fd: int, limit: int):
        self.fd = fd
        self.limit = limit
        self.budget = limit
        self.max_containers = MAX_CONTAINERS  # per line (see message.MAX_CONTAINERS)
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._loop, name="gradviz-protocol", daemon=True).start()

    def _loop(self) -> None:
        try:
            self._read_all()
        finally:
            # This thread owns the descriptor: closed elsewhere while a read is due, its number
            # could be reused by another file and read from here.
            os.close(self.fd)

    def _read_all(self) -> None:
        pending = bytearray()
        total = 0
        try:
            while True:
                try:
                    chunk = os.read(self.fd, 1 << 20)
                except OSError:
                    break
                if not chunk:
                    break
                total += len(chunk)
                if total > self.budget:
                    raise ProtocolError(f"the engine sent more than {self.budget / 2**20:.0f} MB")
                pending += chunk
                while True:
                    end = pending.find(b"\n")
                    if end < 0:
                        break
                    line = bytes(pending[:end])
                    del pending[:end + 1]
                    self._parse(line)
                if len(pending) > self.limit:
                    raise ProtocolError(f"a message longer than {self.limit / 2**20:.0f} MB")
        except ProtocolError as exc:
            self.messages.put(exc)
            return
        self.messages.put(_EOF)

    def _parse(self, line: bytes) -> None:
        if len(line) > self.limit:
            raise ProtocolError(f"a message longer than {self.limit / 2**20:.0f} MB")
        # Only a result may be long: anything else is refused before parsing past SMALL_MESSAGE.
        if len(line) > SMALL_MESSAGE and not line.startswith((b'{"type":"result"', b'{"type":"graph"',
                                                               b'{"type":"progress"')):
            raise ProtocolError("a long message of a kind that is never long")
        # Containers cost Python objects many times their bytes (a few MB of "[[0]]," decode to GBs):
        # the worker keeps its messages within MAX_CONTAINERS, so a line past it is refused unread.
        if containers(line) > self.max_containers:
            raise ProtocolError(f"a message of more than {self.max_containers:,} lists and objects")
        try:
            with collector_paused():
                message = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"a message that is not JSON ({exc})") from None
        if type(message) is not dict or type(message.get("type")) is not str:
            raise ProtocolError("a message that is not an object with a type")
        self.messages.put(message)


class _Spare:
    """A worker on its way to being ready (contained, waiting for its request)."""

    def __init__(self, make: Callable[[], WorkerProcess]):
        self.worker: WorkerProcess | None = None
        self.reader: _Reader | None = None
        self.ready: dict | None = None
        self.error: BaseException | str | None = None
        self.done = threading.Event()
        threading.Thread(target=self._prepare, args=(make,), name="gradviz-spare", daemon=True).start()

    def _prepare(self, make: Callable[[], WorkerProcess]) -> None:
        try:
            self.worker = make()
            self.reader = _Reader(self.worker.protocol_r, MAX_READY_BYTES)
            message = self.reader.messages.get(timeout=START_SECONDS)
            if message is _EOF or isinstance(message, ProtocolError) or message.get("type") != "ready":
                detail = self.worker.output_tail(wait=1.0).strip().splitlines()
                self.error = detail[-1] if detail else "it exited before it was ready"
            else:
                self.ready = message
        except queue.Empty:
            self.error = f"it was not ready within {START_SECONDS:.0f} s"
        except BaseException as exc:  # noqa: BLE001 - reported to whoever takes this spare
            self.error = exc
        finally:
            self.done.set()

    def discard(self) -> None:
        threading.Thread(target=self._discard, daemon=True).start()

    def _discard(self) -> None:
        self.done.wait()
        if self.worker is not None:
            self.worker.close()


class EngineClient:
    """Runs programs in engine workers: one fresh, contained process per run, the next one started ahead.

    ``run`` blocks until the result arrives; call it from a worker thread in a GUI. ``cancel`` and
    ``kill`` may be called from any thread while a run is under way. ``containment`` says how the
    last worker was held by the operating system (``Containment.contained`` False: no OS layer here;
    such a worker runs a program only with ``trusted=True``).
    """

    def __init__(self, python: str | None = None, started: WorkerProcess | None = None,
                 fork: bool | None = None, ahead: bool = True):
        """``started``: a worker already started with ``start_worker`` (a command starts one first thing);
        ``fork``: fork workers from a zygote (default: where the system allows it); ``ahead``: start
        the next run's worker as a run begins (a one-shot command runs once and needs none)."""
        self.python = python or sys.executable
        self._ahead = ahead
        self._fork = fork_server_supported() if fork is None else fork
        self._server: ForkServer | None = None
        self._spare: _Spare | None = _Spare(lambda: started) if started is not None else None
        self._current: WorkerProcess | None = None
        self._lock = threading.RLock()
        self._cancel_at: float | None = None
        self._killed = False
        self._closed = False
        self.torch_version: str | None = None
        self.start_seconds: float | None = None
        self.containment: Containment | None = None
        self.pid: int | None = None

    # --- workers --------------------------------------------------------------------------------
    def _make_worker(self) -> WorkerProcess:
        if self._closed:
            raise OSError("the engine client is closed")
        if self._fork:
            if self._server is None or not self._server.alive:
                if self._server is not None:
                    self._server.close()
                self._server = ForkServer(self.python)
            return self._server.spawn(START_SECONDS)
        return start_worker(self.python)

    @property
    def alive(self) -> bool:
        """The client can run programs (it was not closed); a dead worker is simply replaced."""
        return not self._closed

    def start(self) -> None:
        """Have a worker started ahead (returns at once; torch loads or the zygote forks meanwhile)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the engine client is closed")
            if self._spare is None:
                if self._fork and self._server is None:
                    self._server = ForkServer(self.python)  # raises at once when python cannot start
                elif not self._fork and not os.path.exists(self.python):
                    raise FileNotFoundError(self.python)
                self._spare = _Spare(self._make_worker)

    def wait_ready(self, timeout: float = START_SECONDS) -> bool:
        """Start a worker ahead if there is none and wait until it is contained and ready."""
        self.start()
        spare = self._spare
        if not spare.done.wait(timeout):
            return False
        if spare.ready is None:
            with self._lock:
                if self._spare is spare:
                    self._spare = None
            spare.discard()
            return False
        self._note_ready(spare.ready, spare.worker)
        return True

    def _note_ready(self, ready: dict, worker: WorkerProcess) -> None:
        self.torch_version = ready.get("torch") if isinstance(ready.get("torch"), str) else None
        seconds = ready.get("seconds")
        self.start_seconds = float(seconds) if isinstance(seconds, (int, float)) else None
        self.pid = worker.pid
        try:
            self.containment = from_plain(Containment, ready.get("containment"))
        except ValueError:
            self.containment = None

    def _take(self) -> _Spare:
        with self._lock:
            spare = self._spare
            if spare is None:
                self.start()
                spare = self._spare
            self._spare = None
        spare.done.wait(START_SECONDS)
        with self._lock:
            if self._ahead and not self._closed:
                self._spare = _Spare(self._make_worker)  # the next run's worker, started ahead
        return spare

    def kill(self) -> None:
        """Kill the worker of the run under way at once (the run ends as crashed)."""
        worker = self._current
        if worker is not None:
            self._killed = True
            worker.kill()

    def cancel(self) -> None:
        """Ask the run under way to stop; it returns what ran so far. Killed if it doesn't listen."""
        worker = self._current
        if worker is not None:
            self._cancel_at = time.monotonic()
            worker.signal(signal.SIGINT)

    def close(self, wait: bool = True) -> None:
        """Kill every worker and stop the zygote."""
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if self._current is not None:
            self._current.kill()
        if spare is not None:
            if wait:
                spare.done.wait(START_SECONDS)
                if spare.worker is not None:
                    spare.worker.close()
            else:
                spare.discard()
        if self._server is not None:
            self._server.close()
            self._server = None

    # --- running ------------------------------------------------------------------------------
    def run(self, request: RunRequest, on_progress: Callable[[dict], None] | None = None,
            on_graph: Callable[[int, GraphData], None] | None = None, trusted: bool = False) -> RunResult:
        """Run one request in a fresh worker; never raises for program errors.

        ``on_progress`` hears of each statement done; ``on_graph(index, graph)`` gets the graph of
        each backward call as the call starts, while the engine still runs it (time to lay it out).
        Both are called on this thread. ``trusted=False``: run only if the operating system
        contains the worker.
        """
        started = time.monotonic()
        spare = self._take()
        if spare.ready is None:
            spare.discard()
            error = spare.error
            detail = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else error
            error_info = ErrorInfo(WORKER_CRASHED, t("The engine could not start: {detail}", detail=detail))
            return RunResult(error=error_info, seed=request.seed)
        worker, reader = spare.worker, spare.reader
        self._note_ready(spare.ready, worker)
        try:
            if not trusted and not (self.containment is not None and self.containment.contained):
                return RunResult(error=ErrorInfo(NOT_CONTAINED, t(
                    "This program comes from elsewhere and this system cannot contain the engine "
                    "({report}): trust it before it runs.",
                    report=self.containment.summary() if self.containment else t("no report"))), seed=request.seed)
            self._current = worker
            self._cancel_at = None
            self._killed = False
            return self._converse(request, worker, reader, started, on_progress, on_graph)
        finally:
            self._current = None
            worker.close()

    def _converse(self, request, worker: WorkerProcess, reader: _Reader, started, on_progress, on_graph) -> RunResult:
        statements: list[StatementRecord] = []
        graphs: dict[int, GraphData] = {}
        limits = request.limits
        result_bytes = int(limits.max_result_mb * 1024 * 1024)
        reader.limit = result_bytes + (1 << 20)
        reader.budget = result_bytes * 2 + 8 * int(limits.max_output_chars) + (4 << 20)
        # What the program printed may be all brackets: it is in the result twice (the run's output
        # and each statement's), and the worker does not count it (message.result_message).
        reader.max_containers = MAX_CONTAINERS + 3 * int(limits.max_output_chars)
        try:
            view = memoryview(orjson.dumps({"type": "run", "request": to_plain(request)}) + b"\n")
            while view:
                view = view[os.write(worker.request_w, view):]
            os.close(worker.request_w)
            worker.request_w = None
        except (OSError, TypeError, ValueError):
            return self._crashed(request, worker, statements, started)
        expected = _statement_lines(request.program)
        done = 0  # statements reported so far (they come in program order)
        deadline = time.monotonic() + float(limits.max_seconds) + GRACE_SECONDS
        while True:
            # The deadline and a cancel are looked at between any two messages: a program that keeps
            # the channel busy with valid messages does not keep the run alive.
            now = time.monotonic()
            if now > deadline:
                worker.kill()
                return self._partial(request, statements, started, ErrorInfo(
                    "LimitExceeded",
                    t("The program ran longer than the time limit ({seconds:g} seconds) and was "
                      "stopped. If it is meant to run this long, {how}.",
                      seconds=limits.max_seconds, how=how_to_raise("max_seconds")),
                    limit="max_seconds"))
            if self._cancel_at is not None and now - self._cancel_at > CANCEL_SECONDS:
                worker.kill()
                return self._partial(request, statements, started, ErrorInfo(
                    "Cancelled", t("The run was cancelled; the engine was stopped.")))
            try:
                message = reader.messages.get(timeout=min(0.1, max(0.001, deadline - now)))
            except queue.Empty:
                continue
            if message is _EOF:
                if self._cancel_at is not None and not self._killed:
                    return self._partial(request, statements, started, ErrorInfo(
                        "Cancelled", t("The run was cancelled; the engine was stopped.")))
                return self._crashed(request, worker, statements, started)
            try:
                if isinstance(message, ProtocolError):
                    raise message
                kind = message["type"]
                if kind == "progress":
                    record = from_plain(StatementRecord, message.get("statement"))
                    if done >= len(expected) or record.line != expected[done]:
                        raise ProtocolError(f"a statement on line {record.line} out of order")
                    record = _as_program_errors(record)
                    done += 1
                    statements.append(record)
                    if on_progress is not None:
                        on_progress({"statements_done": len(statements), "line": record.line})
                elif kind == "graph":
                    index = message.get("call")
                    if type(index) is not int or not 0 <= index < MAX_GRAPH_MESSAGES or index in graphs:
                        raise ProtocolError(f"a graph for call {index!r}")
                    with collector_paused():
                        graph = from_plain(GraphData, message.get("graph"))
                    check_graph(graph, f"call {index}")
                    graphs[index] = graph
                    if on_graph is not None:
                        on_graph(index, graph)
                elif kind == "result":
                    with collector_paused():
                        result = from_plain_shared(RunResult, message.get("result"))
                        result = _with_sent_graphs(result, graphs, message.get("sent_graphs"))
                        check_result(result)
                    return _as_program_errors(result)
                elif kind == "error":
                    text = message.get("message")
                    return self._partial(request, statements, started, ErrorInfo(
                        "InternalError", str(text)[:500] if text is not None else "the engine failed"))
                else:
                    raise ProtocolError(f"a message of unknown type {kind[:40]!r}")
            except (ValueError, TypeError) as exc:  # ProtocolError too
                worker.kill()
                return self._partial(request, statements, started, ErrorInfo(
                    "InternalError", "The engine sent something gradviz could not read, so the run was "
                    f"stopped (the program may have written into the engine's channel): {str(exc)[:300]}"))

    def _crashed(self, request, worker: WorkerProcess, statements, started) -> RunResult:
        if self._killed:
            message = t("The engine was stopped during the run; a new one runs the next program.")
        else:
            message = t("The engine stopped unexpectedly{how}. A new one runs the next program.",
                        how=_how_it_ended(worker, request))
        return self._partial(request, statements, started, ErrorInfo(WORKER_CRASHED, message))

    def _partial(self, request, statements, started, error: ErrorInfo) -> RunResult:
        """What ran before the run ended early: the statements the worker reported, with the error."""
        if error.line is None:
            error = ErrorInfo(error.type, error.message, _running_line(request.program, statements),
                              error.hint, error.limit)
        return RunResult(
            stdout="".join(s.stdout for s in statements), error=error, statements=tuple(statements),
            seed=request.seed, duration=time.monotonic() - started,
        )


def _how_it_ended(worker: WorkerProcess, request: RunRequest) -> str:
    """``": killed by SIGSEGV (…)"``: the worker's exit as words, with the last thing it printed."""
    status = worker.exit_status(wait=1.0)
    words = ""
    if status is not None:
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            words = f" (killed by {name}"
            if sig in (signal.SIGSEGV, signal.SIGKILL, signal.SIGBUS):
                words += (": a crash in native code, or memory running out (the limit is "
                          f"{request.limits.max_memory_mb:,} MB)")
            words += ")"
        elif os.WIFEXITED(status):
            words = f" (it exited with status {os.WEXITSTATUS(status)})"
    tail = [line for line in worker.output_tail(wait=0.5).splitlines() if line.strip()]
    if tail:
        words += f": {tail[-1][:300]}"
    return words


def _as_program_errors(record):
    """``record`` (a RunResult or StatementRecord) with errors of the kinds only the app states (not
    contained, the engine crashed) named as the program's: a program may define an exception called
    WorkerCrashed, and a worker that writes one into the channel must not pass it off as the app's
    verdict (a fake "cannot be contained" would get a program trusted)."""
    def own(error: ErrorInfo | None) -> ErrorInfo | None:
        if error is not None and error.type in (NOT_CONTAINED, WORKER_CRASHED):
            return replace(error, type=f"__main__.{error.type}")
        return error

    changes = {"error": own(record.error)} if own(record.error) is not record.error else {}
    if isinstance(record, RunResult) and any(own(s.error) is not s.error for s in record.statements):
        changes["statements"] = tuple(replace(s, error=own(s.error)) for s in record.statements)
    return replace(record, **changes) if changes else record


def _with_sent_graphs(result: RunResult, graphs: dict[int, GraphData], sent) -> RunResult:
    """``result`` with the graphs that came ahead of it put back into their backward calls."""
    if type(sent) is not list or any(type(k) is not int for k in sent):
        raise ProtocolError("the result's list of graphs sent ahead is not a list of call numbers")
    missing = set(sent) - graphs.keys()
    if missing:
        raise ProtocolError(f"the graph of backward call {min(missing)} never arrived")
    return result.with_call_graphs({k: graphs[k] for k in sent})


def _statement_lines(program: str) -> list[int]:
    """The first line of each top-level statement: the order progress messages must come in."""
    try:
        return [stmt.lineno for stmt in ast.parse(program).body]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []


def _running_line(program: str, statements: list[StatementRecord]) -> int | None:
    """The line of the top-level statement after the last one the worker reported."""
    done = statements[-1].end_line if statements else 0
    return next((line for line in _statement_lines(program) if line > done), None)
