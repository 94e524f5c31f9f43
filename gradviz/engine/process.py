"""Engine processes as the client sees them: a worker's pipes and signals, and the two ways to get a worker.

On Linux a zygote (``gradviz.engine.zygote``) imports torch once and forks a fresh worker per run
at once; elsewhere each worker is a new ``python -m gradviz.engine.worker`` (importing torch takes
long, hidden by starting the next one ahead). Either way the worker starts with a minimal
environment (no user variables), in an empty private folder, and contains itself before it reads
the program. Standard library only: a command starts its first worker before importing the rest.

The kernel's parent-death signal fires when the *thread* that started a process ends, so processes
are started from one long-lived thread (``_on_spawner``) or the main thread, never from a worker
thread that may finish.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

#: Bytes of a worker's own output (fd 1 and 2: C libraries, ``os.write``) kept for error messages.
OUTPUT_TAIL_BYTES = 16 * 1024
#: Exit statuses of forked workers remembered (the newest ones: a run asks for its own right after).
MAX_STATUSES = 1000


def package_root() -> str:
    """The folder that holds the ``gradviz`` package (a checkout's root, or site-packages)."""
    return str(Path(__file__).resolve().parents[2])


def worker_environment() -> dict[str, str]:
    """The environment an engine process starts with: nothing of the user's (see sandbox.worker_environment).

    One intra-op thread: teaching programs are made of small tensors, where a second thread only
    adds spinning, and the app's own thread keeps a core to itself. Under load, two threads made
    a 5,000-node program many times slower.
    """
    from gradviz.engine.sandbox import worker_environment as minimal

    threads = os.environ.get("GRADVIZ_THREADS", "1")
    return minimal({"PYTHONPATH": package_root(), "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})


def private_folder() -> str:
    """An empty folder only this user can enter: the engine's working folder (it can write nothing there).

    One per user, kept between runs (``gradviz-engine-<uid>`` in the temporary folder), so no run
    leaves one behind, not even when the app is killed. Another user could have made that name
    first: it is taken only if it is a real folder of ours, private and empty; else a new one is made.
    """
    path = os.path.join(tempfile.gettempdir(), f"gradviz-engine-{os.getuid() if hasattr(os, 'getuid') else 0}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return tempfile.mkdtemp(prefix="gradviz-engine-")
    try:
        st = os.lstat(path)
        ours = (stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
                and (not hasattr(os, "getuid") or st.st_uid == os.getuid()) and not os.listdir(path))
    except OSError:
        ours = False
    return path if ours else tempfile.mkdtemp(prefix="gradviz-engine-")


_spawner_jobs: queue.Queue = queue.Queue()
_spawner_lock = threading.Lock()
_spawner: threading.Thread | None = None


def _spawner_loop() -> None:
    while True:
        job, answer = _spawner_jobs.get()
        try:
            answer.put((True, job()))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            answer.put((False, exc))


def _on_spawner(job: Callable):
    """``job()`` on the process-long spawner thread (or here, on the main thread)."""
    global _spawner
    if threading.current_thread() is threading.main_thread():
        return job()
    with _spawner_lock:
        if _spawner is None:
            _spawner = threading.Thread(target=_spawner_loop, name="gradviz-spawner", daemon=True)
            _spawner.start()
    answer: queue.Queue = queue.Queue()
    _spawner_jobs.put((job, answer))
    ok, value = answer.get()
    if ok:
        return value
    raise value


class WorkerProcess:
    """One worker for one run: where to write the request, read the protocol, and how to signal it.

    ``output_tail()`` is the end of what the process wrote to its fd 1 and 2 (drained all along,
    so a program that floods them neither blocks nor fills the app's memory).
    """

    def __init__(self, pid: int, request_w: int, protocol_r: int, output_r: int,
                 popen: subprocess.Popen | None = None, pidfd: int | None = None,
                 exit_status: Callable[[], int | None] | None = None):
        self.pid = pid
        self.request_w = request_w
        self.protocol_r = protocol_r
        self._popen = popen
        self._pidfd = pidfd
        self._status = exit_status
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._tail_lock = threading.Lock()
        self._signal_lock = threading.Lock()  # signal() from another thread never meets a closed pidfd
        self._output_done = threading.Event()
        threading.Thread(target=self._drain, args=(output_r,), name="gradviz-worker-output", daemon=True).start()

    def _drain(self, fd: int) -> None:
        try:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                with self._tail_lock:
                    self._tail.append(chunk)
                    self._tail_size += len(chunk)
                    while self._tail_size > OUTPUT_TAIL_BYTES and len(self._tail) > 1:
                        self._tail_size -= len(self._tail.popleft())
        finally:
            os.close(fd)
            self._output_done.set()

    def output_tail(self, wait: float = 0.0) -> str:
        """The last OUTPUT_TAIL_BYTES the process wrote to fd 1 and 2 (``wait``: for its end, at most)."""
        if wait:
            self._output_done.wait(wait)
        with self._tail_lock:
            data = b"".join(self._tail)[-OUTPUT_TAIL_BYTES:]
        return data.decode("utf-8", "replace")

    def signal(self, sig: int) -> None:
        """Send ``sig``; nothing if the process is already gone."""
        with self._signal_lock:
            self._signal(sig)

    def _signal(self, sig: int) -> None:
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, sig)
            elif self._popen is not None:
                self._popen.send_signal(sig)
            else:
                os.kill(self.pid, sig)
        except (ProcessLookupError, OSError):
            pass

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def exit_status(self, wait: float = 0.0) -> int | None:
        """The wait status once the process has ended (``os.waitstatus_to_exitcode`` reads it), else None."""
        if self._popen is not None:
            try:
                self._popen.wait(wait) if wait else self._popen.poll()
            except subprocess.TimeoutExpired:
                return None
            code = self._popen.returncode
            return None if code is None else (code << 8 if code >= 0 else -code)
        return self._status(wait) if self._status is not None else None

    def poll(self) -> int | None:
        """None while the process runs (``subprocess.Popen.poll``'s convention)."""
        return self.exit_status()

    def close(self) -> None:
        """Kill the process if it still runs and let go of everything held for it.

        ``protocol_r`` is left to whoever reads it (it sees the end of the stream, then closes it).
        """
        with self._signal_lock:
            self._signal(signal.SIGKILL)
            for fd in (self.request_w, self._pidfd):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self.request_w = self._pidfd = None
        if self._popen is not None:
            threading.Thread(target=self._popen.wait, daemon=True).start()  # reaped, never a zombie


def _pipes() -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(request, protocol, output) pipes; the parent's ends are not inherited by any child."""
    return os.pipe(), os.pipe(), os.pipe()


def start_worker(python: str | None = None, workdir: str | None = None) -> WorkerProcess:
    """A worker as a process of its own (``python -m gradviz.engine.worker``); it imports torch itself."""
    python = python or sys.executable
    workdir = workdir or private_folder()

    def start() -> WorkerProcess:
        (req_r, req_w), (proto_r, proto_w), (out_r, out_w) = _pipes()
        try:
            popen = subprocess.Popen(
                [python, "-m", "gradviz.engine.worker", "--protocol-fd", str(proto_w),
                 "--parent", str(os.getpid()), "--workdir", workdir],
                stdin=req_r, stdout=out_w, stderr=out_w, pass_fds=(proto_w,), env=worker_environment(),
                cwd=workdir, start_new_session=True,
            )
        except BaseException:
            for fd in (req_r, req_w, proto_r, proto_w, out_r, out_w):
                os.close(fd)
            raise
        for fd in (req_r, proto_w, out_w):
            os.close(fd)
        return WorkerProcess(popen.pid, req_w, proto_r, out_r, popen=popen)

    return _on_spawner(start)


class ForkServer:
    """The client's side of the zygote: start it, ask it for workers, learn how they ended."""

    def __init__(self, python: str | None = None, workdir: str | None = None):
        self.python = python or sys.executable
        self.workdir = workdir or private_folder()
        self._replies: queue.Queue = queue.Queue()
        self._statuses: dict[int, int] = {}
        self._status_changed = threading.Condition()
        self._lock = threading.Lock()
        self._stderr: deque[str] = deque(maxlen=20)
        self._asked = 0  # spawn requests sent (the zygote echoes the number in its answer)
        self.ready = threading.Event()
        self.failed: str | None = None
        self.pid: int | None = None
        self._conn, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._popen = _on_spawner(lambda: subprocess.Popen(
                [self.python, "-m", "gradviz.engine.zygote", "--control-fd", str(child.fileno()),
                 "--parent", str(os.getpid()), "--workdir", self.workdir],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                pass_fds=(child.fileno(),), env=worker_environment(), cwd=self.workdir, start_new_session=True,
            ))
        finally:
            child.close()
        self.pid = self._popen.pid
        threading.Thread(target=self._read, name="gradviz-zygote", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="gradviz-zygote-stderr", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self._popen.poll() is None

    def _read_stderr(self) -> None:
        for line in self._popen.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip("\n"))

    def last_error(self) -> str:
        return self._stderr[-1] if self._stderr else ""

    def _read(self) -> None:
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(self._conn, 65536, 1)
            except OSError:
                data, fds = b"", []
            if not data:
                self.failed = self.failed or (self.last_error() or "the zygote exited")
                self.ready.set()
                self._replies.put(None)
                with self._status_changed:
                    self._status_changed.notify_all()
                return
            try:
                message = json.loads(data)
                kind = message["type"]
            except (ValueError, KeyError, TypeError):
                for fd in fds:
                    os.close(fd)
                continue
            if kind == "ready":
                self.ready.set()
            elif kind == "spawned":
                self._replies.put((message.get("n"), int(message["pid"]), fds[0] if fds else None))
            elif kind == "exited":
                with self._status_changed:
                    self._statuses[int(message["pid"])] = int(message["status"])
                    while len(self._statuses) > MAX_STATUSES:
                        del self._statuses[next(iter(self._statuses))]
                    self._status_changed.notify_all()

    def _status_of(self, pid: int, wait: float) -> int | None:
        with self._status_changed:
            if pid not in self._statuses and wait and self.alive:
                self._status_changed.wait_for(lambda: pid in self._statuses or not self.alive, wait)
            return self._statuses.get(pid)

    def spawn(self, timeout: float = 120.0) -> WorkerProcess:
        """A new worker, forked from the zygote; it contains itself and says ready on its protocol pipe."""
        if not self.ready.wait(timeout) or self.failed:
            raise OSError(f"the engine could not start: {self.failed or 'it did not become ready'}")
        with self._lock:
            self._asked += 1
            number = self._asked
            (req_r, req_w), (proto_r, proto_w), (out_r, out_w) = _pipes()
            try:
                socket.send_fds(self._conn, [json.dumps({"type": "spawn", "workdir": self.workdir,
                                                         "n": number}).encode()], [req_r, proto_w, out_w])
                sent = None
            except OSError as exc:
                sent = exc
            for fd in (req_r, proto_w, out_w):  # the child's ends: the zygote has its own copies now
                os.close(fd)
            reply = None if sent is not None else self._reply(number, timeout)
        if reply is None:
            for fd in (req_w, proto_r, out_r):
                os.close(fd)
            why = sent or self.failed or f"no worker within {timeout:.0f} s"
            raise OSError(f"the engine could not start a worker: {why}")
        pid, pidfd = reply
        return WorkerProcess(pid, req_w, proto_r, out_r, pidfd=pidfd,
                             exit_status=lambda wait=0.0, pid=pid: self._status_of(pid, wait))

    def _reply(self, number: int, timeout: float) -> tuple[int, int | None] | None:
        """The zygote's answer to spawn request ``number`` (a late answer to an earlier one is let go)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if reply is None:
                return None
            answered, pid, pidfd = reply
            if answered == number:
                return pid, pidfd
            if pidfd is not None:  # a worker nobody waits for any more: it goes
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                os.close(pidfd)

    def close(self) -> None:
        """Stop the zygote (its workers die with it)."""
        try:
            self._conn.close()
        except OSError:
            pass
        if self._popen.poll() is None:
            self._popen.kill()
        self._popen.wait()


def fork_server_supported() -> bool:
    """Linux forks workers from a zygote; other systems start each worker on its own."""
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds") and hasattr(os, "pidfd_open")
