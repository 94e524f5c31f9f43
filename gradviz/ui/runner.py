"""Runs programs in the engine worker off the UI thread; tells the window what happened through signals."""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Signal

from gradviz.core.request import RunRequest
from gradviz.core.result import WORKER_CRASHED, ErrorInfo, RunResult

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

#: Seconds to wait for the worker to import torch and say it is ready.
READY_TIMEOUT = 120.0


def default_client():
    """The real engine client (imported lazily: the window shows before anything else loads)."""
    from gradviz.engine.client import EngineClient

    return EngineClient()


class Runner(QObject):
    """Owns the EngineClient; runs requests on a background thread, one at a time, latest first.

    Starting a run while another is going cancels the old one: only the newest request runs to
    the end. Every run gets a fresh worker process; a crashed or killed one is reported.

    Signals
    -------
    engine_starting()
        The worker process is being started (torch loads in it).
    engine_ready()
        The worker is ready to run programs.
    engine_failed(str)
        The worker could not be started; the message says why.
    run_started(int, object)
        Run ``id`` of a RunRequest began.
    run_progressed(int, object)
        Progress of run ``id``: a dict with ``statements_done`` and ``line``.
    run_finished(int, object)
        Run ``id`` ended with a RunResult (also for cancelled and crashed runs).
    engine_crashed(str)
        The worker died during a run (killed, out of memory...); the next run gets a new one.
    busy_changed(bool)
        A run started (True) or the last queued run ended (False).
    """

    engine_starting = Signal()
    engine_ready = Signal()
    engine_failed = Signal(str)
    run_started = Signal(int, object)
    run_progressed = Signal(int, object)
    run_finished = Signal(int, object)
    engine_crashed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, client_factory: Callable[[], Any] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._factory = client_factory or default_client
        self._client = None
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._latest = 0
        self._running: int | None = None
        self._ready = False
        self._busy = False
        self._closed = False
        self._killed = False
        self._thread = threading.Thread(target=self._loop, name="gradviz-runner", daemon=True)
        self._thread.start()

    # -- API used by the window (UI thread) ------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self._ready

    @property
    def is_busy(self) -> bool:
        return self._busy

    @property
    def latest_id(self) -> int:
        """The id of the newest requested run; results of older ones are stale."""
        return self._latest

    @property
    def client_factory(self) -> Callable[[], Any]:
        """What makes this runner's EngineClient (compare mode makes its own runner from it)."""
        return self._factory

    @property
    def client(self):
        return self._client

    def start(self) -> None:
        """Start the worker in the background (returns at once)."""
        self.engine_starting.emit()
        self._jobs.put(("start",))

    @property
    def containment(self):
        """How the operating system holds the engine (a ``Containment``), once a worker reported it."""
        return getattr(self._client, "containment", None)

    def run(self, request: RunRequest, trusted: bool = True) -> int:
        """Queue a run and return its id; a run still going is cancelled in favour of this one.

        ``trusted=False``: the program came from elsewhere; where the system cannot contain the
        engine it does not run (the result's error is ``NotContained``).
        """
        with self._lock:
            self._latest += 1
            run_id = self._latest
            running = self._running
        if not self._busy:
            self._set_busy(True)
        if running is not None and self._client is not None:
            self._client.cancel()
        self._jobs.put(("run", run_id, request, trusted))
        return run_id

    def cancel(self) -> None:
        """Stop the current run; its partial result still arrives through run_finished."""
        if self._running is not None and self._client is not None:
            self._client.cancel()

    def kill(self) -> None:
        """Kill the worker process (a run going on ends as crashed); it is started again."""
        self._killed = True
        if self._client is not None:
            self._client.kill()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread and the worker; called when the window closes."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(("stop",))
        client = self._client
        if client is not None:
            try:
                client.cancel()
            except Exception:  # noqa: BLE001 — closing must not fail on a half-dead client
                pass
        self._thread.join(timeout)
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._emit(self.busy_changed, busy)

    # -- the background thread -------------------------------------------------------------------

    def _emit(self, signal, *args) -> None:
        """Emit from the runner thread; after close (the window may be gone) say nothing."""
        if self._closed:
            return
        try:
            signal.emit(*args)
        except RuntimeError:  # the C++ object was deleted under us
            pass

    def _ensure_client(self):
        if self._client is None:
            self._client = self._factory()
        return self._client

    def _start_engine(self) -> bool:
        try:
            client = self._ensure_client()
            client.start()
            ok = client.wait_ready(READY_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 — reported to the user, never raised into Qt
            self._ready = False
            self._emit(self.engine_failed, f"{type(exc).__name__}: {exc}")
            return False
        self._ready = bool(ok)
        if ok:
            self._emit(self.engine_ready)
        else:
            self._emit(self.engine_failed, translate("Runner", "the engine did not start within {seconds} s").format(
                seconds=f"{READY_TIMEOUT:.0f}"))
        return self._ready

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job[0] == "stop" or self._closed:
                return
            if job[0] == "start":
                if not self._ready:
                    self._start_engine()
                continue
            _, run_id, request, trusted = job
            if run_id != self._latest:  # superseded while it waited in the queue
                self._maybe_idle()
                continue
            self._run_one(run_id, request, trusted)
            self._maybe_idle()

    def _maybe_idle(self) -> None:
        if self._jobs.empty() and self._busy and self._running is None and not self._closed:
            with self._lock:
                idle = self._running is None and self._jobs.empty()
            if idle:
                self._set_busy(False)

    def _run_one(self, run_id: int, request: RunRequest, trusted: bool) -> None:
        with self._lock:
            self._running = run_id
        self._killed = False
        self._emit(self.run_started, run_id, request)
        started = time.monotonic()
        try:
            client = self._ensure_client()
            if not self._ready:
                self._start_engine()

            def progress(info: dict) -> None:
                self._emit(self.run_progressed, run_id, dict(info))

            result = client.run(request, on_progress=progress, trusted=trusted)
        except Exception as exc:  # noqa: BLE001 — a client bug must not kill the thread
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            result = RunResult(error=ErrorInfo(WORKER_CRASHED,
                                               translate("Runner",
                                                         "the engine failed: {detail}").format(detail=detail)),
                               duration=time.monotonic() - started)
        with self._lock:
            self._running = None
        crashed = result.error is not None and result.error.type == WORKER_CRASHED
        if crashed:
            self._ready = False
            why = translate("Runner", "it was stopped") if self._killed else result.error.message
            self._emit(self.engine_crashed, why)
        if not crashed and not getattr(self._client, "alive", True):
            self._ready = False  # a cancelled run that ignored the signal: the worker was killed
        self._emit(self.run_finished, run_id, result)
        if not self._ready and not self._closed:
            # Start the next worker now, so the next run doesn't wait for torch to load.
            self._emit(self.engine_starting)
            self._start_engine()


class Background(QObject):
    """Runs plain-Python work (graph layout) on a worker thread; ``finished`` brings the answer back.

    Signals
    -------
    finished(object, object, object)
        (token, result, error): the token given to `submit`, fn's return value, the exception or None.
    """

    finished = Signal(object, object, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradviz-layout")

    def submit(self, token: Any, fn: Callable[..., Any], *args: Any) -> Future:
        future = self._pool.submit(fn, *args)

        def done(f: Future) -> None:
            if f.cancelled():
                return
            exc = f.exception()
            try:
                self.finished.emit(token, None if exc else f.result(), exc)
            except RuntimeError:  # the window (and this object) is already gone
                pass

        future.add_done_callback(done)
        return future

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
