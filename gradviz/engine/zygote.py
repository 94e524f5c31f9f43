"""The zygote: a process that imports torch once and forks a fresh, self-containing worker for every run.

Importing torch takes long; forking a process that already has it is quick. Step
(F10) and Run to cursor start a run from the top each time, so on Linux the client keeps one
zygote and asks it for a worker per run. The zygote itself never reads a program: it holds torch,
numpy and gradviz's engine, stays single-threaded (so each child can contain itself, which needs a
single thread), and talks only to the client over a socket pair that its children close first
thing. It dies with the client (parent-death signal) and its children die with it.

Control messages (SOCK_SEQPACKET, one JSON object each):
client -> zygote ``{"type": "spawn", "workdir": ..., "n": k}`` with three descriptors (the child's
request, protocol and output pipe ends); zygote -> client ``{"type": "ready", "pid": ..., "seconds":
...}`` once, ``{"type": "spawned", "pid": ..., "n": k}`` with a pidfd of the child (race-free signals), and
``{"type": "exited", "pid": ..., "status": ...}`` when a child ends (its wait status).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import select
import signal
import socket
import sys
import time

from gradviz.engine.worker import PROTOCOL_FD, serve, use_private_folder, warm_up

#: Largest control message accepted from the client.
MAX_CONTROL_BYTES = 65536


def _child(conn: socket.socket, fds: list[int], workdir: str | None, zygote_pid: int, started: float) -> None:
    """In the forked child: the run's descriptors at 0, 1, 2 and PROTOCOL_FD, then serve one run."""
    try:
        conn.close()
        request_r, protocol_w, output_w = fds
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        os.dup2(request_r, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        os.dup2(protocol_w, PROTOCOL_FD)
        for fd in {request_r, protocol_w, output_w} - {0, 1, 2, PROTOCOL_FD}:
            os.close(fd)
        os.closerange(PROTOCOL_FD + 1, 1 << 16)  # nothing of the zygote's (its wakeup pipe) stays open
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        serve(PROTOCOL_FD, zygote_pid, workdir, started)
        code = 0
    except BaseException:  # noqa: BLE001 - the child never returns into the zygote's loop
        import traceback

        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _spawn(conn: socket.socket) -> bool:
    """Handle one control message; False when the client has gone."""
    try:
        data, fds, _flags, _addr = socket.recv_fds(conn, MAX_CONTROL_BYTES, 3)
    except OSError:
        return False
    if not data:
        return False
    try:
        message = json.loads(data)
        if message.get("type") != "spawn" or len(fds) != 3:
            raise ValueError(f"unexpected control message {message!r:.80}")
        workdir = message.get("workdir")
        if workdir is not None and not isinstance(workdir, str):
            raise ValueError("workdir must be text")
        number = message.get("n")
    except ValueError as exc:
        for fd in fds:
            os.close(fd)
        print(f"gradviz zygote: {exc}", file=sys.stderr)
        return True
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child(conn, fds, workdir, os.getppid(), started)
    for fd in fds:
        os.close(fd)
    pidfd = None
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # kernels before 5.3: the client signals by pid
        pass
    reply = json.dumps({"type": "spawned", "pid": pid, "n": number}).encode()
    try:
        socket.send_fds(conn, [reply], [pidfd] if pidfd is not None else [])
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return True


def _reap(conn: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        try:
            conn.send(json.dumps({"type": "exited", "pid": pid, "status": status}).encode())
        except OSError:
            return


def warm_up_later() -> None:
    """Import what only some programs need, after the zygote said ready: every worker forked from then
    on has it. ``torch.optim`` imports ``torch._dynamo`` (slow to import): most lessons train."""
    import torch._dynamo  # noqa: F401

    # Frozen like warm_up's imports: unfrozen, its objects are scanned by every full collection
    # in every worker, which slows big runs.
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="gradviz.engine.zygote")
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--workdir")
    args = parser.parse_args(argv)
    from gradviz.engine.sandbox import die_with_parent

    die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the client decides; a terminal's Ctrl+C is its
    conn = socket.socket(fileno=args.control_fd)
    use_private_folder(args.workdir)
    warm_up()
    if len(os.listdir("/proc/self/task")) != 1:
        print("gradviz zygote: torch started threads; children could not contain themselves", file=sys.stderr)
        return 1
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    conn.send(json.dumps({"type": "ready", "pid": os.getpid(),
                          "seconds": round(time.perf_counter() - started, 3)}).encode())
    later = True  # torch._dynamo, once the first worker is forked and nothing waits
    while True:
        readable, _, _ = select.select([conn, wake_r], [], [], 0.2 if later else None)
        if not readable and later:
            warm_up_later()
            later = False
            continue
        if wake_r in readable:
            os.read(wake_r, 4096)
            _reap(conn)
        if conn in readable and not _spawn(conn):
            return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)
