"""Raw attacks from inside a (contained or not) engine-like process; prints one JSON object of what was blocked.

Run by tests/engine/test_sandbox.py:
    python sandbox_attacks.py --contain|--no-contain --target-dir D --secret-file F --tcp-port P
        --unix-socket S --parent-pid N [--abstract-socket NAME] [--workdir W] [--only A,B] [--skip A,B]
``--parent-pid`` names the process to attack in the app's place (the test starts a victim holding a
secret in its environment). Each attack reports ``{"blocked": bool, "detail": str}`` (``blocked`` is
null for an attack that does not apply here). ``execv`` runs last: if it is not blocked this
process turns into ``/bin/echo EXECV-RAN`` and no JSON is printed at all. The test checks the
effects itself (files, listeners, markers in the output, the victim), not only this report.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import fcntl
import importlib
import json
import os
import pwd
import resource
import signal
import socket
import subprocess
import sys
import threading

import numpy  # noqa: F401 - imported before containing, as the engine does
import torch

SYS = {"x86_64": {"ptrace": 101, "process_vm_readv": 310, "io_uring_setup": 425, "ioprio_set": 251},
       "aarch64": {"ptrace": 117, "process_vm_readv": 270, "io_uring_setup": 425, "ioprio_set": 30}}[os.uname().machine]
PTRACE_SEIZE = 0x4206
IOPRIO_WHO_USER, IOPRIO_CLASS_BE_4 = 3, (2 << 13) | 4
UNUSED_UID = 54321  # no process runs as it
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class Blocked(Exception):
    """The attack was refused (raised by attacks that must tell a refusal from other errors)."""


class NotApplicable(Exception):
    """The attack cannot be tried here (its target does not exist)."""


def check(result: int, what: str) -> int:
    if result == -1:
        err = ctypes.get_errno()
        raise Blocked(f"{what}: {errno.errorcode.get(err, err)} {os.strerror(err)}")
    return result


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def victim_address(pid: int) -> int:
    """The start of the victim's first readable mapping (read before containing: setup, not attack)."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                span, perms = line.split()[:2]
                if perms.startswith("r"):
                    return int(span.split("-")[0], 16)
    except OSError:
        pass
    return 0x10000


def attacks(args, home: str, victim_at: int) -> list:
    """The attacks, in order: those that change this process's state (namespaces) come last."""
    target = args.target_dir
    t = lambda name: os.path.join(target, name)  # noqa: E731
    victim = args.parent_pid
    found = []

    def attack(fn):
        found.append((fn.__name__, fn))
        return fn

    @attack
    def write_new_file():
        with open(t("new.txt"), "w") as f:
            f.write("pwned")

    @attack
    def append_existing():
        with open(t("existing.txt"), "a") as f:
            f.write("pwned")

    @attack
    def make_directory():
        os.mkdir(t("newdir"))

    @attack
    def remove_file():
        os.remove(t("remove-me.txt"))

    @attack
    def rename_file():
        os.rename(t("rename-me.txt"), t("renamed.txt"))

    @attack
    def truncate_file():
        os.truncate(t("truncate-me.txt"), 0)

    @attack
    def open_with_o_trunc():
        os.close(os.open(t("otrunc-me.txt"), os.O_RDONLY | os.O_TRUNC))

    @attack
    def chmod_file():
        os.chmod(t("chmod-me.txt"), 0o777)

    @attack
    def set_file_times():
        os.utime(t("existing.txt"), (0, 0))

    @attack
    def make_symlink():
        os.symlink(args.secret_file, t("symlink"))

    @attack
    def make_hardlink():
        os.link(t("existing.txt"), t("hardlink"))

    @attack
    def write_dev_shm():
        with open(f"/dev/shm/gradviz-attack-{os.getpid()}", "w") as f:
            f.write("pwned")
        os.remove(f.name)

    @attack
    def write_workdir():
        if not args.workdir:
            raise NotApplicable("no --workdir")
        with open(os.path.join(args.workdir, "new.txt"), "w") as f:
            f.write("pwned")

    @attack
    def read_secret_file():
        with open(args.secret_file) as f:
            return f.read()

    @attack
    def read_secret_through_proc_root():
        with open(f"/proc/self/root{args.secret_file}") as f:
            return f.read()

    @attack
    def list_target_parent():
        return os.listdir(os.path.dirname(target))

    @attack
    def list_home():
        if not os.path.isdir(home):
            raise NotApplicable(f"home folder {home} does not exist")
        return os.listdir(home)

    @attack
    def list_root_folder():
        return os.listdir("/")

    @attack
    def read_parent_environ():
        with open(f"/proc/{victim}/environ", "rb") as f:
            return f.read()

    @attack
    def read_parent_cmdline():
        with open(f"/proc/{victim}/cmdline", "rb") as f:
            return f.read()

    @attack
    def environment_secret():
        value = os.environ.get("SECRET_TOKEN")
        if value is None:
            raise Blocked("SECRET_TOKEN is not in os.environ")
        return value

    @attack
    def proc_self_environ_secret():
        with open("/proc/self/environ", "rb") as f:
            data = f.read()
        if b"SECRET_TOKEN" not in data:
            raise Blocked("SECRET_TOKEN is not in /proc/self/environ")
        return data

    @attack
    def subprocess_run():
        sys.stdout.flush()
        return subprocess.run(["/bin/echo", "SUBPROCESS-RAN"]).returncode

    @attack
    def os_system():
        sys.stdout.flush()
        status = os.system("echo SYSTEM-RAN")
        if status != 0:
            raise Blocked(f"os.system returned {status}")
        return status

    @attack
    def os_posix_spawn():
        sys.stdout.flush()
        pid = os.posix_spawn("/bin/echo", ["echo", "SPAWN-RAN"], {})
        return os.waitpid(pid, 0)

    @attack
    def os_fork():
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.write(1, b"FORK-CHILD-RAN\n")
            try:
                with open(t("fork-marker"), "w") as f:
                    f.write("child")
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        return pid

    @attack
    def tcp_connect():
        with socket.create_connection(("127.0.0.1", args.tcp_port), timeout=3):
            return "connected"

    @attack
    def unix_connect():
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            s.connect(args.unix_socket)
            return "connected"

    @attack
    def abstract_unix_connect():
        if not args.abstract_socket:
            raise NotApplicable("no --abstract-socket")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            s.connect("\0" + args.abstract_socket)
            return "connected"

    @attack
    def socket_pair():
        a, b = socket.socketpair()
        a.close()
        b.close()

    @attack
    def load_copied_library():
        return ctypes.CDLL(t("libcopy.so"))

    @attack
    def write_proc_self_mem():
        buffer = ctypes.create_string_buffer(b"A" * 16)
        with open("/proc/self/mem", "r+b", buffering=0) as f:
            f.seek(ctypes.addressof(buffer))
            f.write(b"B" * 16)
        return buffer.raw

    @attack
    def ptrace_parent():
        # SEIZE does not stop the victim; the kernel detaches when this process exits.
        return check(libc.syscall(ctypes.c_long(SYS["ptrace"]), ctypes.c_long(PTRACE_SEIZE),
                                  ctypes.c_long(victim), ctypes.c_long(0), ctypes.c_long(0)), "ptrace")

    @attack
    def process_vm_readv_parent():
        buffer = ctypes.create_string_buffer(8)
        local = IoVec(ctypes.addressof(buffer), 8)
        remote = IoVec(victim_at, 8)
        result = libc.syscall(ctypes.c_long(SYS["process_vm_readv"]), ctypes.c_long(victim), ctypes.byref(local),
                              ctypes.c_ulong(1), ctypes.byref(remote), ctypes.c_ulong(1), ctypes.c_ulong(0))
        if result == -1 and ctypes.get_errno() == errno.EFAULT:
            return "EFAULT: the permission check passed"
        return check(result, "process_vm_readv")

    @attack
    def signal_0_to_parent():
        os.kill(victim, 0)

    @attack
    def fcntl_setown_parent():
        r, w = os.pipe()  # no O_ASYNC: even where allowed, nothing is ever sent
        try:
            return fcntl.fcntl(r, fcntl.F_SETOWN, victim)
        finally:
            os.close(r)
            os.close(w)

    @attack
    def prlimit_parent():
        current = resource.prlimit(victim, resource.RLIMIT_CORE)
        return resource.prlimit(victim, resource.RLIMIT_CORE, current)  # sets it to what it was

    @attack
    def pin_parent_to_one_cpu():
        return os.sched_setaffinity(victim, {min(os.sched_getaffinity(victim))})

    @attack
    def renice_parent():
        return os.setpriority(os.PRIO_PROCESS, victim, 5)

    @attack
    def renice_all_of_a_user():
        # A uid with no process: harmless where allowed (ESRCH: the kernel went looking).
        try:
            return os.setpriority(os.PRIO_USER, UNUSED_UID, 5)
        except ProcessLookupError:
            return "ESRCH: the call reached the process search"

    @attack
    def io_priority_of_a_user():
        result = libc.syscall(ctypes.c_long(SYS["ioprio_set"]), ctypes.c_int(IOPRIO_WHO_USER),
                              ctypes.c_int(UNUSED_UID), ctypes.c_int(IOPRIO_CLASS_BE_4))
        if result == -1 and ctypes.get_errno() == errno.ESRCH:
            return "ESRCH: the call reached the process search"
        return check(result, "ioprio_set")

    @attack
    def io_uring_setup():
        params = (ctypes.c_char * 120)()
        fd = check(libc.syscall(ctypes.c_long(SYS["io_uring_setup"]), ctypes.c_uint(1), params), "io_uring_setup")
        os.close(fd)
        return fd

    @attack
    def system_v_shared_memory():
        # IPC_PRIVATE with IPC_CREAT: a segment that would outlive this process, or reach others'.
        shm = check(libc.shmget(0, 4096, 0o1000 | 0o600), "shmget")
        libc.shmctl(shm, 0, None)
        return shm

    @attack
    def system_v_semaphores():
        sem = check(libc.semget(0, 1, 0o1000 | 0o600), "semget")
        libc.semctl(sem, 0, 0)
        return sem

    @attack
    def posix_message_queue():
        librt = ctypes.CDLL("librt.so.1", use_errno=True)
        mq = check(librt.mq_open(b"/gradviz-attack", os.O_CREAT | os.O_RDWR, 0o600, None), "mq_open")
        librt.mq_unlink(b"/gradviz-attack")
        return mq

    @attack
    def clear_parent_death_signal():
        return check(libc.prctl(ctypes.c_int(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0),
                                ctypes.c_ulong(0)), "prctl(PR_SET_PDEATHSIG, 0)")

    @attack
    def sigterm_parent():
        os.kill(victim, signal.SIGTERM)

    @attack
    def unshare_user_namespace():
        return check(libc.unshare(ctypes.c_int(CLONE_NEWUSER | CLONE_NEWNS)), "unshare")

    @attack
    def mount_tmpfs():
        return check(libc.mount(b"none", target.encode(), b"tmpfs", ctypes.c_ulong(0), None), "mount")

    return found


def torch_checks() -> dict:
    """Does torch still work: an MLP's backward, two intra-op threads, autograd on a Python thread, imports."""
    report = {}
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    loss = model(torch.randn(32, 8)).pow(2).mean()
    loss.backward()
    report["mlp_grads_finite"] = all(bool(torch.isfinite(p.grad).all()) for p in model.parameters())

    torch.set_num_threads(2)
    a = torch.randn(1024, 1024)
    report["matmul_finite"] = bool(torch.isfinite(a @ a).all())
    report["torch_threads"] = torch.get_num_threads()
    report["os_threads_after_matmul"] = len(os.listdir("/proc/self/task"))

    out = {}

    def on_thread():
        x = torch.randn(5, requires_grad=True)
        (x * x).sum().backward()
        out["ok"] = bool(torch.allclose(x.grad, 2 * x))

    thread = threading.Thread(target=on_thread)
    thread.start()
    thread.join(30)
    report["autograd_on_thread"] = out.get("ok", False)

    for name in ("graphlib", "colorsys", "numpy.polynomial"):
        if name in sys.modules:
            report[f"import {name}"] = "already imported"
            continue
        importlib.import_module(name)
        report[f"import {name}"] = "imported"
    report["ok"] = (report["mlp_grads_finite"] and report["matmul_finite"] and report["torch_threads"] == 2
                    and report["autograd_on_thread"]
                    and all(v == "imported" for k, v in report.items() if k.startswith("import ")))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--contain", dest="contain", action="store_true")
    mode.add_argument("--no-contain", dest="contain", action="store_false")
    parser.add_argument("--target-dir", required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--tcp-port", type=int, required=True)
    parser.add_argument("--unix-socket", required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--abstract-socket", default="")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--only", default="", help="comma-separated attacks to run (execv included)")
    parser.add_argument("--skip", default="", help="comma-separated attacks to leave out")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    skip = set(filter(None, args.skip.split(",")))

    # Set-up that is not an attack, done while still free.
    home = pwd.getpwuid(os.getuid()).pw_dir
    victim_at = victim_address(args.parent_pid)

    results: dict = {}
    if args.contain:
        from gradviz.engine.sandbox import contain, default_read_paths
        containment = contain(default_read_paths(), workdir=args.workdir, parent_pid=os.getppid())
        results["contained"] = containment.summary()
        results["contained_ok"] = containment.contained
        results["report"] = containment.report()
    else:
        results["contained"] = "not contained (control run)"
        results["contained_ok"] = False

    for name, fn in attacks(args, home, victim_at):
        if (only and name not in only) or name in skip:
            continue
        try:
            value = fn()
        except NotApplicable as exc:
            results[name] = {"blocked": None, "detail": f"not applicable: {exc}"}
        except Exception as exc:  # any refusal: PermissionError, OSError, Blocked ...
            results[name] = {"blocked": True, "detail": f"{type(exc).__name__}: {exc}"}
        else:
            results[name] = {"blocked": False, "detail": repr(value)[:300]}

    if not only or "torch" in only:
        try:
            results["torch"] = torch_checks()
            results["torch_ok"] = results["torch"]["ok"]
        except Exception as exc:
            results["torch"] = {"error": f"{type(exc).__name__}: {exc}"}
            results["torch_ok"] = False

    if (not only or "execv" in only) and "execv" not in skip:
        sys.stdout.flush()
        try:
            os.execv("/bin/echo", ["echo", "EXECV-RAN"])
        except OSError as exc:
            results["execv"] = {"blocked": True, "detail": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
