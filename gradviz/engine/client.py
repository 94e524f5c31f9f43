"""EngineClient: starts the engine worker process and talks JSON lines to it; imports no torch."""

from __future__ import annotations

import ast
import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Callable

import orjson

from gradviz.core.collector import collector_paused
from gradviz.core.plain import from_plain, from_plain_shared, to_plain
from gradviz.core.request import RunRequest
from gradviz.core.result import ErrorInfo, GraphData, RunResult, StatementRecord
from gradviz.engine.process import start_worker

#: Seconds past ``limits.max_seconds`` before a run that ignores its deadline is killed.
GRACE_SECONDS = 10.0
#: Seconds a cancelled run may take to come back before the worker is killed.
CANCEL_SECONDS = 3.0
#: Seconds allowed for the worker to import torch and say it is ready.
START_SECONDS = 120.0

_EOF = object()


class EngineClient:
    """One engine worker process, started on demand and restarted after a crash.

    ``run`` blocks until the result arrives; call it from a worker thread in a GUI.
    ``cancel`` and ``kill`` may be called from any thread while a run is under way.
    """

    def __init__(self, python: str | None = None, started: subprocess.Popen | None = None):
        """``started``: a worker already started with ``start_worker``, used by the first ``start``."""
        self.python = python or sys.executable
        self._started = started
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=40)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._run_id = 0
        self._cancel_at: float | None = None
        self._killed = False
        self.torch_version: str | None = None
        self.start_seconds: float | None = None

    # --- process management -----------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Spawn the worker now if it isn't running; torch loads there in the background."""
        with self._lock:
            if self.alive:
                return
            self._ready.clear()
            self._lines = queue.Queue()
            started, self._started = self._started, None
            self._proc = started if started is not None and started.poll() is None else start_worker(self.python)
            threading.Thread(target=self._read_stdout, args=(self._proc, self._lines), daemon=True).start()
            threading.Thread(target=self._read_stderr, args=(self._proc,), daemon=True).start()

    def _read_stdout(self, proc: subprocess.Popen, lines: queue.Queue) -> None:
        for line in proc.stdout:
            try:
                with collector_paused():
                    message = orjson.loads(line)
            except ValueError:
                continue
            if message.get("type") == "ready":
                self.torch_version = message.get("torch")
                self.start_seconds = message.get("seconds")
                self._ready.set()
            else:
                lines.put(message)
        lines.put(_EOF)

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            self._stderr.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = START_SECONDS) -> bool:
        """Start the worker if needed and wait until torch is loaded in it."""
        self.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if not self.alive or time.monotonic() > deadline:
                return False
        return True

    def kill(self) -> None:
        """Kill the worker at once; the next run starts a new one."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._killed = True
            proc.kill()

    def cancel(self) -> None:
        """Ask the current run to stop; it returns what ran so far. Killed if it doesn't listen."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._cancel_at = time.monotonic()
            try:
                proc.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass

    def close(self, wait: bool = True) -> None:
        """Ask the worker to exit and wait for it (killed after 2 s).

        ``wait=False`` only asks: for a process about to exit itself, which needn't wait for the
        worker's own exit.
        """
        proc = self._proc
        if proc is None:
            return
        if not wait:
            self._proc = None
            try:
                proc.stdin.write('{"type":"exit"}\n')
                proc.stdin.close()
            except (OSError, ValueError):
                proc.kill()
            return
        if proc.poll() is None:
            try:
                proc.stdin.write('{"type":"exit"}\n')
                proc.stdin.flush()
                proc.wait(2)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        self._proc = None

    # --- running ------------------------------------------------------------------------------
    def run(self, request: RunRequest, on_progress: Callable[[dict], None] | None = None,
            on_graph: Callable[[int, GraphData], None] | None = None) -> RunResult:
        """Run one request; never raises for program errors. A dead worker gives a WorkerCrashed result.

        ``on_progress`` hears of each statement done; ``on_graph(index, graph)`` gets the graph of
        each backward call as the call starts, while the engine still runs it (time to lay it out).
        Both are called on this thread.
        """
        started = time.monotonic()
        if not self.wait_ready():
            detail = self._stderr[-1] if self._stderr else "it exited before loading torch"
            self.kill()
            return RunResult(error=ErrorInfo("WorkerCrashed", f"The engine could not start: {detail}"),
                             seed=request.seed)
        self._run_id += 1
        run_id = self._run_id
        self._cancel_at = None
        self._killed = False
        statements: list[StatementRecord] = []
        graphs: dict[int, GraphData] = {}
        try:
            self._proc.stdin.write(json.dumps({"type": "run", "id": run_id, "request": to_plain(request)},
                                              allow_nan=False) + "\n")
            self._proc.stdin.flush()
        except (OSError, ValueError):
            return self._crashed(request, statements, started)
        hard_deadline = time.monotonic() + request.limits.max_seconds + GRACE_SECONDS
        while True:
            try:
                message = self._lines.get(timeout=0.1)
            except queue.Empty:
                now = time.monotonic()
                if now > hard_deadline:
                    self.kill()
                    return self._partial(request, statements, started, ErrorInfo(
                        "LimitExceeded",
                        f"The program ran longer than {request.limits.max_seconds:g} seconds and did not stop; "
                        "the engine was restarted. Raise the time limit if the program needs longer.",
                        limit="max_seconds"))
                if self._cancel_at is not None and now - self._cancel_at > CANCEL_SECONDS:
                    self.kill()
                    return self._partial(request, statements, started, ErrorInfo(
                        "Cancelled", "The run was cancelled; the engine was restarted."))
                continue
            if message is _EOF:
                if self._cancel_at is not None:
                    return self._partial(request, statements, started, ErrorInfo(
                        "Cancelled", "The run was cancelled; the engine was restarted."))
                return self._crashed(request, statements, started)
            if message.get("id") != run_id:
                continue
            kind = message.get("type")
            if kind == "progress":
                try:
                    statements.append(from_plain(StatementRecord, message.get("statement")))
                except ValueError:
                    continue
                if on_progress is not None:
                    on_progress({"statements_done": len(statements), "line": statements[-1].line})
            elif kind == "graph":
                try:
                    with collector_paused():
                        graph = from_plain(GraphData, message.get("graph"))
                    index = message["call"]
                except (ValueError, KeyError):
                    continue
                graphs[index] = graph
                if on_graph is not None:
                    on_graph(index, graph)
            elif kind == "result":
                try:
                    with collector_paused():
                        result = from_plain_shared(RunResult, message.get("result"))
                    return _with_sent_graphs(result, graphs, message.get("sent_graphs") or ())
                except (ValueError, TypeError) as exc:
                    return self._partial(request, statements, started, ErrorInfo(
                        "InternalError", f"The engine sent a result gradviz could not read: {exc}"))
            elif kind == "error":
                return self._partial(request, statements, started, ErrorInfo(
                    "InternalError", str(message.get("message"))))

    def _crashed(self, request, statements, started) -> RunResult:
        if self._killed:
            message = "The engine was stopped during the run and has been restarted."
        else:
            last = next((line for line in reversed(self._stderr) if line.strip()), "")
            message = "The engine stopped unexpectedly" + (f": {last}" if last else "") + \
                ". It will be restarted for the next run."
        self.close()
        return self._partial(request, statements, started, ErrorInfo("WorkerCrashed", message))

    def _partial(self, request, statements, started, error: ErrorInfo) -> RunResult:
        """What ran before the worker was lost: the statements it reported, with the error."""
        if error.line is None:
            error = ErrorInfo(error.type, error.message, _running_line(request.program, statements),
                              error.hint, error.limit)
        if not self.alive:
            self.close()
        return RunResult(
            stdout="".join(s.stdout for s in statements), error=error, statements=tuple(statements),
            seed=request.seed, duration=time.monotonic() - started,
        )


def _with_sent_graphs(result: RunResult, graphs: dict[int, GraphData], sent) -> RunResult:
    """``result`` with the graphs that came ahead of it put back into their backward calls."""
    missing = set(sent) - graphs.keys()
    if missing:
        raise ValueError(f"the graph of backward call {min(missing)} never arrived")
    return result.with_call_graphs({k: graphs[k] for k in sent})


def _running_line(program: str, statements: list[StatementRecord]) -> int | None:
    """The line of the top-level statement after the last one the worker reported."""
    done = statements[-1].end_line if statements else 0
    try:
        body = ast.parse(program).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return next((stmt.lineno for stmt in body if stmt.lineno > done), None)
