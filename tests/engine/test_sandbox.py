"""The engine's OS containment (gradviz.engine.sandbox): raw attacks after contain() must have no effect."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from gradviz.core.containment import Containment, Layer
from gradviz.core.plain import from_plain, to_plain
from gradviz.engine import _landlock, _seccomp
from gradviz.engine.sandbox import ALLOWED_ENVIRONMENT, probe_platform, worker_environment

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("sandbox_attacks.py")
NOBODY = 65534
LINUX = sys.platform.startswith("linux")


def _landlock_abi() -> int | None:
    if not LINUX:
        return None
    try:
        return _landlock.abi_version()
    except OSError:
        return None


ABI = _landlock_abi()
needs_linux = pytest.mark.skipif(not LINUX, reason="these layers are Linux's (Landlock, seccomp)")
needs_landlock = pytest.mark.skipif(ABI is None, reason="this kernel has no usable Landlock")
needs_root = pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="needs root to set up and switch users")
needs_setpriv = pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is not installed")

# Markers an attack prints only if a process it started really ran.
RAN_MARKERS = ("SUBPROCESS-RAN", "SYSTEM-RAN", "SPAWN-RAN", "FORK-CHILD-RAN", "EXECV-RAN")
META_KEYS = {"contained", "contained_ok", "report", "torch", "torch_ok"}
# Attacks a kernel setting may refuse even uncontained (io_uring_disabled, user namespaces, Yama's
# ptrace_scope); everything else must succeed in the control runs.
MAY_BE_REFUSED_BY_THE_MACHINE = {"io_uring_setup", "unshare_user_namespace", "mount_tmpfs", "ptrace_parent",
                                 "process_vm_readv_parent", "read_parent_environ"}


# --- set-up ---------------------------------------------------------------------------------------
@dataclass
class Arena:
    """What the attacks aim at: files, listeners and a victim process standing in for the app."""

    base: Path
    target: Path
    workdir: Path
    secret: Path
    secret_text: str
    victim_secret: str
    victim: subprocess.Popen
    tcp: socket.socket
    unix: socket.socket
    unix_path: Path
    abstract: socket.socket
    abstract_name: str
    times: int
    affinity: set[int]

    def accepted(self) -> list[str]:
        """Listeners that accepted a connection (each is non-blocking)."""
        got = []
        for name, listener in (("tcp", self.tcp), ("unix", self.unix), ("abstract", self.abstract)):
            try:
                conn, _ = listener.accept()
                conn.close()
                got.append(name)
            except BlockingIOError:
                pass
        return got


def _libm() -> str:
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if re.search(r"/libm\.so", path):
                return path
    pytest.skip("no libm loaded to copy")


def _make_arena(owner: int | None) -> Arena:
    """Files and listeners in a fresh folder under /tmp; chowned to ``owner`` so that, without
    containment, that user could do every attack."""
    base = Path(tempfile.mkdtemp(prefix="gradviz-sandbox-", dir="/tmp"))
    base.chmod(0o755)
    target, workdir = base / "target", base / "work"
    target.mkdir(mode=0o755)
    workdir.mkdir(mode=0o700)
    for name in ("existing.txt", "remove-me.txt", "rename-me.txt", "chmod-me.txt"):
        (target / name).write_text("original")
    for name in ("truncate-me.txt", "otrunc-me.txt"):
        (target / name).write_text("x" * 100)
    os.chmod(target / "chmod-me.txt", 0o644)
    times = 1_000_000_000
    os.utime(target / "existing.txt", (times, times))
    shutil.copy(_libm(), target / "libcopy.so")
    secret_text = "SECRET-FILE-" + os.urandom(8).hex()
    secret = base / "secret.txt"
    secret.write_text(secret_text)
    secret.chmod(0o600)
    if owner is not None:
        for path in [target, workdir, secret, *target.iterdir()]:
            os.chown(path, owner, owner)

    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(4)
    unix_path = base / "listen.sock"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(unix_path))
    unix.listen(4)
    unix_path.chmod(0o777)  # connecting needs write permission on the socket file
    abstract_name = "gradviz-test-" + os.urandom(6).hex()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + abstract_name)
    abstract.listen(4)
    for listener in (tcp, unix, abstract):
        listener.setblocking(False)

    victim_secret = "VICTIM-SECRET-" + os.urandom(8).hex()
    command = ["sleep", "300"]
    if owner is not None:
        command = ["setpriv", f"--reuid={owner}", f"--regid={owner}", "--clear-groups", *command]
    victim = subprocess.Popen(command, env={"PATH": "/usr/bin:/bin", "SECRET_TOKEN": victim_secret})
    return Arena(base, target, workdir, secret, secret_text, victim_secret, victim, tcp, unix, unix_path,
                 abstract, abstract_name, times, os.sched_getaffinity(victim.pid))


@pytest.fixture
def make_arena():
    made = []

    def make(owner: int | None = None) -> Arena:
        made.append(_make_arena(owner))
        return made[-1]

    yield make
    for arena in made:
        arena.victim.kill()
        arena.victim.wait()
        for listener in (arena.tcp, arena.unix, arena.abstract):
            listener.close()
        shutil.rmtree(arena.base, ignore_errors=True)


def run_attacks(arena: Arena, contain: bool, user: int | None = None, only: str = "", skip: str = "",
                env: dict | None = None) -> tuple[dict | None, subprocess.CompletedProcess]:
    """Run sandbox_attacks.py; its JSON report (None if it printed none) and the finished process."""
    command = [sys.executable, str(SCRIPT), "--contain" if contain else "--no-contain",
               "--target-dir", str(arena.target), "--secret-file", str(arena.secret),
               "--tcp-port", str(arena.tcp.getsockname()[1]), "--unix-socket", str(arena.unix_path),
               "--abstract-socket", arena.abstract_name, "--parent-pid", str(arena.victim.pid),
               "--workdir", str(arena.workdir)]
    if only:
        command += ["--only", only]
    if skip:
        command += ["--skip", skip]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    if env is None:
        # Contained runs start the way the engine does, with worker_environment(); the control run
        # inherits everything, SECRET_TOKEN included.
        env = (worker_environment({"PYTHONPATH": str(ROOT)}) if contain
               else {**os.environ, "PYTHONPATH": str(ROOT), "SECRET_TOKEN": "ENV-SECRET"})
    done = subprocess.run(command, capture_output=True, text=True, timeout=110, cwd=arena.base, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else None), done


def attacks_of(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in META_KEYS}


def assert_nothing_happened(arena: Arena, report: dict | None, done: subprocess.CompletedProcess) -> None:
    """Every attack blocked, judged by its effects as well as by the report."""
    assert report is not None, f"no report (was the process replaced by execv?)\n{done.stdout}\n{done.stderr}"
    assert report["contained_ok"], report.get("report")
    unblocked = {k: v for k, v in attacks_of(report).items() if v["blocked"] is False}
    assert unblocked == {}
    assert report["execv"]["blocked"] is True
    assert report["torch_ok"], report["torch"]
    assert report["torch"]["os_threads_after_matmul"] >= 2  # threads (clone with CLONE_THREAD) still work

    t = arena.target
    for name in ("new.txt", "newdir", "renamed.txt", "symlink", "hardlink", "fork-marker"):
        assert not os.path.lexists(t / name), name
    assert not (arena.workdir / "new.txt").exists()
    assert os.listdir(arena.workdir) == []
    assert (t / "existing.txt").read_text() == "original"
    assert (t / "remove-me.txt").exists() and (t / "rename-me.txt").exists()
    assert (t / "truncate-me.txt").stat().st_size == 100
    assert (t / "otrunc-me.txt").stat().st_size == 100
    assert stat.S_IMODE((t / "chmod-me.txt").stat().st_mode) == 0o644
    assert (t / "existing.txt").stat().st_mtime == arena.times
    assert not [p for p in os.listdir("/dev/shm") if p.startswith("gradviz-attack-")]

    assert arena.secret_text not in done.stdout + done.stderr
    assert arena.victim_secret not in done.stdout + done.stderr
    assert "ENV-SECRET" not in done.stdout + done.stderr
    for marker in RAN_MARKERS:
        assert marker not in done.stdout, marker
    assert arena.accepted() == []
    assert arena.victim.poll() is None, "the victim was killed"
    assert os.sched_getaffinity(arena.victim.pid) == arena.affinity, "the victim was pinned"
    assert os.getpriority(os.PRIO_PROCESS, arena.victim.pid) == 0, "the victim was reniced"


# --- the attacks ----------------------------------------------------------------------------------
@needs_landlock
@pytest.mark.timeout(120)
def test_every_attack_fails_as_root(make_arena):
    # As whoever runs the tests: root here, where dropping capabilities matters most.
    arena = make_arena()
    report, done = run_attacks(arena, contain=True)
    assert_nothing_happened(arena, report, done)
    assert "Landlock ABI" in report["contained"] and "seccomp" in report["contained"]


@needs_landlock
@needs_root
@needs_setpriv
@pytest.mark.timeout(120)
def test_every_attack_fails_as_an_unprivileged_user(make_arena):
    arena = make_arena(owner=NOBODY)
    # Started with a leftover secret, as if the caller forgot: contain() must scrub it from
    # os.environ and from the start-up block that /proc/self/environ shows.
    env = {**worker_environment({"PYTHONPATH": str(ROOT)}), "SECRET_TOKEN": "ENV-SECRET"}
    report, done = run_attacks(arena, contain=True, user=NOBODY, env=env)
    assert_nothing_happened(arena, report, done)
    assert report["environment_secret"]["blocked"] and report["proc_self_environ_secret"]["blocked"]


@needs_linux
@needs_root
@pytest.mark.timeout(120)
def test_control_run_without_containment_does_succeed(make_arena):
    # The same attack code, uncontained, really writes, reads, runs programs and connects:
    # so the contained runs above pass because of the sandbox, not because the attacks are broken.
    arena = make_arena()
    report, done = run_attacks(arena, contain=False, skip="execv")
    assert report is not None, done.stderr
    effects = attacks_of(report)
    assert (arena.target / "new.txt").read_text() == "pwned"
    assert arena.secret_text in done.stdout
    assert "SUBPROCESS-RAN" in done.stdout and "FORK-CHILD-RAN" in done.stdout
    assert "tcp" in arena.accepted()
    assert arena.victim_secret in done.stdout  # read from /proc/<victim>/environ
    # Root, uncontained, can do every one of them (the victim's SIGTERM included), but for those a
    # kernel setting may refuse to anyone.
    refused = {k: v for k, v in effects.items() if v["blocked"] is not False}
    assert set(refused) <= MAY_BE_REFUSED_BY_THE_MACHINE, refused
    assert report["torch_ok"], report["torch"]

    _, done = run_attacks(arena, contain=False, only="execv")
    assert "EXECV-RAN" in done.stdout and "{" not in done.stdout


@needs_linux
@needs_root
@needs_setpriv
@pytest.mark.timeout(120)
def test_control_run_unprivileged_user_could_do_it_all(make_arena):
    # Proves the set-up of the unprivileged variant: files, victim and sockets are that user's.
    arena = make_arena(owner=NOBODY)
    report, done = run_attacks(arena, contain=False, user=NOBODY, skip="execv")
    assert report is not None, done.stderr
    refused = {k: v for k, v in attacks_of(report).items() if v["blocked"] is True}
    assert set(refused) <= MAY_BE_REFUSED_BY_THE_MACHINE, refused
    assert (arena.target / "new.txt").exists() and arena.secret_text in done.stdout
    assert "tcp" in arena.accepted()


# --- properties of contain() and its helpers ------------------------------------------------------
def _run_python(code: str, *args: str, env: dict | None = None, timeout: float = 60, cwd: str | None = None):
    env = env if env is not None else worker_environment({"PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=cwd)


def _private(path: str, home: str) -> bool:
    return any(path == root or path.startswith(root + "/") for root in ("/tmp", "/root", "/home", home))


def _allowed_private(path: str, installs: list[str]) -> bool:
    return (any(path == i or path.startswith(i + "/") for i in installs)
            or os.path.basename(path) in ("site-packages", "dist-packages", "gradviz"))


@needs_linux
def test_default_read_paths_hold_nothing_private_here(tmp_path):
    """Worked out in a process started as the engine is (this test process's sys.path holds the
    test folders, which pytest put there: wherever the checkout is, /tmp included)."""
    code = ("import json, os, sys; from gradviz.engine.sandbox import default_read_paths; "
            "print(json.dumps([default_read_paths(), os.getpid(), [sys.prefix, sys.base_prefix, sys.exec_prefix, "
            "sys.base_exec_prefix], os.path.realpath(os.path.expanduser('~'))]))")
    done = _run_python(code, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    paths, pid, prefixes, home = json.loads(done.stdout)
    installs = [os.path.realpath(p) for p in prefixes]
    assert "/" not in paths and home not in paths and os.path.realpath(str(tmp_path)) not in paths
    assert [p for p in paths if _private(p, home) and not _allowed_private(p, installs)] == []
    assert f"/proc/{pid}" in paths and "/proc/self" not in paths
    assert all(os.path.exists(p) for p in paths if not p.startswith("/proc/")) and len(set(paths)) == len(paths)


@needs_linux
@pytest.mark.timeout(60)
def test_default_read_paths_leave_out_private_sys_path_entries(tmp_path):
    # A process whose sys.path holds the home folder, /tmp folders, "/" and a checkout under /tmp.
    project = Path(tempfile.mkdtemp(dir="/tmp"))
    checkout = project / "checkout"
    (checkout / "gradviz").mkdir(parents=True)
    (checkout / "gradviz" / "__init__.py").write_text("")
    (checkout / "notes.txt").write_text("private")
    stray = project / "stray"
    stray.mkdir()
    (stray / "strayed_mod.py").write_text("")
    site = project / "site-packages"
    (site / "gradviz").mkdir(parents=True)  # gradviz installed there: the whole folder still counts
    (site / "gradviz" / "__init__.py").write_text("")
    code = ("import json, os, sys; sys.path += sys.argv[1:] + [os.path.expanduser('~'), '/', '/tmp', '/home'];"
            "import strayed_mod; from gradviz.engine.sandbox import default_read_paths;"
            "print(json.dumps(default_read_paths()))")
    try:
        done = _run_python(code, str(checkout), str(stray), str(site), cwd=str(project))
        assert done.returncode == 0, done.stderr
        paths = json.loads(done.stdout)
    finally:
        shutil.rmtree(project)
    home = os.path.realpath(os.path.expanduser("~"))
    for forbidden in ("/", "/tmp", "/home", home, str(project), str(checkout), str(stray)):
        assert forbidden not in paths
    assert str(checkout / "gradviz") in paths  # a checkout contributes its package only
    assert str(site) in paths  # a package folder itself
    imported = str(stray / "strayed_mod.py")
    assert imported in paths  # a private folder: only what was imported from it
    installs = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)]
    assert [p for p in paths if _private(p, home) and not _allowed_private(p, installs) and p != imported] == []


@needs_landlock
@pytest.mark.timeout(60)
def test_contain_refuses_a_second_thread(tmp_path):
    code = ("import threading, time, sys\n"
            "threading.Thread(target=time.sleep, args=(10,), daemon=True).start()\n"
            "from gradviz.engine.sandbox import contain, SandboxError\n"
            "try:\n    contain()\nexcept SandboxError as exc:\n    print('refused:', exc)\n"
            "open(sys.argv[1], 'w').write('still free')\n")
    done = _run_python(code, str(tmp_path / "after.txt"))
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "2 threads" in done.stdout
    assert (tmp_path / "after.txt").read_text() == "still free"  # nothing was restricted


_CHILD = ("import os, sys, time\n"
          "from gradviz.engine.sandbox import contain\n"
          "c = contain(parent_pid=int(sys.argv[1]))\n"
          "print('contained', os.getpid(), c.contained, flush=True)\n"
          "time.sleep(60)\n")
_MIDDLE = ("import os, subprocess, sys, time\n"  # argv: the child's code, then a command prefix (setpriv ...)
           "subprocess.Popen(sys.argv[2:] + [sys.executable, '-c', sys.argv[1], str(os.getpid())])\n"
           "time.sleep(60)\n")


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie awaiting its reaper
    except FileNotFoundError:
        return True


@needs_landlock
@pytest.mark.timeout(60)
@pytest.mark.parametrize("user", [None, NOBODY], ids=["as-is", "unprivileged"])
def test_contained_process_dies_with_its_parent(user):
    command = [sys.executable, "-c", _MIDDLE, _CHILD]
    if user is not None:
        if os.geteuid() != 0 or shutil.which("setpriv") is None:
            pytest.skip("needs root and setpriv to switch users")
        # Unprivileged, contain() enters a user namespace: the parent-death signal must survive it.
        # setpriv execs the child in place, so the middle process stays its parent.
        command += ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    middle = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd="/",
                              env=worker_environment({"PYTHONPATH": str(ROOT)}))
    try:
        words = middle.stdout.readline().split()
        assert words[:1] == ["contained"] and words[2] == "True", words
        child = int(words[1])
        assert not _gone(child)
        uids = Path(f"/proc/{child}/status").read_text().split("Uid:")[1].split()
        assert uids[0] == str(user if user is not None else os.getuid())
        middle.send_signal(signal.SIGKILL)
        middle.wait()
        # Two seconds is the behaviour's bound (the child dies with its parent, at once), loose
        # for that and tight for a child left alive.
        deadline = time.monotonic() + 2
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _gone(child), "the contained child outlived its parent"
    finally:
        middle.kill()
        middle.wait()


@needs_landlock
@pytest.mark.timeout(60)
def test_contain_exits_when_the_parent_already_died():
    done = _run_python(_CHILD, "1")  # pid 1 is not this child's parent: it "already died"
    assert done.returncode == 1 and "contained" not in done.stdout


_ENV_CHILD = ("import os, sys, time\n"
              "from gradviz.engine.sandbox import contain\n"
              "c = contain()\n"
              "print('ready', c.contained, 'SECRET_TOKEN' in os.environ, flush=True)\n"
              "sys.stdin.read()\n")


def _environ_of(extra: dict) -> tuple[list[str], bytes]:
    child = subprocess.Popen([sys.executable, "-c", _ENV_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, env=worker_environment({"PYTHONPATH": str(ROOT), **extra}))
    try:
        words = child.stdout.readline().split()
        with open(f"/proc/{child.pid}/environ", "rb") as f:
            return words, f.read()
    finally:
        child.stdin.close()
        child.wait(10)


@needs_landlock
@pytest.mark.timeout(60)
def test_worker_environ_has_no_secret(monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "IN-THE-APP-ENV")
    env = worker_environment({"PYTHONPATH": str(ROOT)})
    assert "SECRET_TOKEN" not in env and "HOME" not in env and "USER" not in env
    assert set(env) <= ALLOWED_ENVIRONMENT
    words, environ = _environ_of({})
    assert words == ["ready", "True", "False"]
    assert b"SECRET_TOKEN" not in environ and b"IN-THE-APP-ENV" not in environ
    # A leftover (started with it by mistake) is scrubbed by contain(): from os.environ and even
    # from the start-up block that /proc/PID/environ shows.
    words, environ = _environ_of({"SECRET_TOKEN": "LEFTOVER"})
    assert words == ["ready", "True", "False"]
    assert b"SECRET_TOKEN" not in environ and b"LEFTOVER" not in environ
    assert b"PATH=/usr/bin:/bin" in environ


_OTHER_ABI = ("import ctypes, mmap, sys\n"
              "from gradviz.engine.sandbox import contain\n"
              "print('contained', contain().contained, flush=True)\n"
              "libc = ctypes.CDLL(None, use_errno=True)\n"
              "libc.syscall.restype = ctypes.c_long\n"
              "r = libc.syscall(ctypes.c_long(0x40000000 | 39))\n"  # getpid through the x32 ABI
              "print('x32', r, ctypes.get_errno(), flush=True)\n"
              "code = bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3])\n"  # mov eax, 20 (i386 getpid); int 0x80; ret
              "buf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
              "buf.write(code)\n"
              "f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))\n"
              "print('i386', f(), flush=True)\n")


@needs_landlock
@pytest.mark.timeout(60)
def test_other_syscall_abis_cannot_slip_past_the_filter():
    # x86_64 also takes x32 syscalls (numbers | 0x40000000) and i386 ones (int 0x80), numbered
    # differently: the filter refuses the first and kills the process on the second.
    if os.uname().machine != "x86_64":
        pytest.skip("x32 and int 0x80 are x86_64's")
    done = _run_python(_OTHER_ABI)
    lines = done.stdout.splitlines()
    assert lines[:2] == ["contained True", "x32 -1 1"], done.stdout + done.stderr  # EPERM
    assert done.returncode == -signal.SIGSYS and len(lines) == 2


# --- pieces ---------------------------------------------------------------------------------------
def test_no_os_layer_is_said_plainly(monkeypatch):
    from gradviz.engine import sandbox
    monkeypatch.setattr(sys, "platform", "win32")
    for result in (sandbox.contain(), sandbox.probe_platform()):
        assert not result.contained and result.checks == ()
        assert result.summary().startswith("NOT contained: os_sandbox: win32 has no OS sandbox")


def test_worker_environment_keeps_extra_and_nothing_else(monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone")
    env = worker_environment({"OMP_NUM_THREADS": "2", "PYTHONPATH": "/x"})
    assert env["OMP_NUM_THREADS"] == "2" and env["MKL_NUM_THREADS"] == "1" and env["PYTHONPATH"] == "/x"
    assert env["PATH"] == "/usr/bin:/bin" and env["LC_ALL"] == "C.UTF-8" and "HOME" not in env
    assert "PYTHONPATH" not in worker_environment()


def _header_table(path: str) -> dict[str, int]:
    text = Path(path).read_text()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"#define __NR(?:3264)?_(\w+)\s+(\d+)", text)}


@pytest.mark.parametrize("arch, header", [
    ("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    ("aarch64", "/usr/include/asm-generic/unistd.h"),
])
def test_syscall_tables_match_the_kernel_headers(arch, header):
    if not os.path.exists(header):
        pytest.skip(f"{header} is not installed")
    known = _header_table(header)
    table = _seccomp.SYSCALLS[arch]
    # Headers older than a syscall lack it; every number they do know must agree.
    assert {n: v for n, v in table.items() if n in known and known[n] != v} == {}
    missing = [n for n in _seccomp.DENIED if n not in table and n in known]
    assert missing == []


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_filter_assembles_for_both_architectures(arch):
    program = _seccomp.build_filter(arch, 12345)
    assert 50 < len(program) < 4096  # BPF_MAXINSNS
    assert program[0] == (_seccomp.BPF_LD_W_ABS, 0, 0, 4)  # the architecture is checked first
    assert program[1][3] == _seccomp.AUDIT_ARCH[arch]
    rets = {insn[3] for insn in program if insn[0] == _seccomp.BPF_RET_K}
    assert rets == {_seccomp.RET_ALLOW, _seccomp.RET_ERRNO | 1, _seccomp.RET_ERRNO | 38, _seccomp.RET_KILL_PROCESS}
    assert any(insn[3] == 12345 for insn in program)  # the own pid is baked in


def test_landlock_structures_match_the_kernel_abi():
    import ctypes
    assert ctypes.sizeof(_landlock.PathBeneathAttr) == 12  # packed
    assert [_landlock.ruleset_attr_size(abi) for abi in range(1, 8)] == [8, 8, 8, 16, 16, 24, 24]
    assert _landlock.handled_fs(1) == (1 << 13) - 1
    assert _landlock.handled_fs(3) == (1 << 15) - 1
    assert _landlock.handled_fs(7) == (1 << 16) - 1


def test_containment_is_plain_data_with_a_summary():
    c = Containment("linux", True, (Layer("landlock", True, "Landlock ABI 7: reads only /usr"),
                                    Layer("seccomp", True, "filter"),
                                    Layer("network_namespace", False, "EPERM", required=False)),
                    (Layer("write a file", True, "Permission denied"),))
    assert from_plain(Containment, json.loads(json.dumps(to_plain(c)))) == c
    assert c.summary() == "contained: Landlock ABI 7, seccomp"
    assert len(c.report().splitlines()) == 2 + 3 + 2
    broken = Containment("linux", False, c.layers[:1] + (Layer("seccomp", False, "kernel has no seccomp"),),
                         (Layer("open a socket", False, "socket() succeeded"),))
    assert broken.summary() == ("NOT contained: seccomp: kernel has no seccomp; "
                                "open a socket was not blocked (socket() succeeded)")


@needs_landlock
@pytest.mark.timeout(60)
def test_probe_platform_tries_contain_in_a_child_only():
    def held() -> list[str]:
        status = Path("/proc/self/status").read_text()
        return re.findall(r"^(?:Seccomp|NoNewPrivs|CapEff):.*$", status, re.M)

    before = held()
    result = probe_platform()
    assert result.contained, result.report()
    assert {layer.name for layer in result.layers} >= {"landlock", "seccomp", "no_new_privs"}
    assert all(check.active for check in result.checks) and len(result.checks) >= 5
    assert held() == before  # the calling process is as free as it was
