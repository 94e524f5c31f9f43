"""The engine process contains itself: Landlock, seccomp and the rest on Linux, Seatbelt on macOS."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from gradviz.core.containment import Containment, Layer
from gradviz.core.plain import from_plain


class SandboxError(RuntimeError):
    """``contain()`` cannot hold this process (it has a second thread)."""


#: The environment variables a contained process keeps (``worker_environment`` makes them).
ALLOWED_ENVIRONMENT = frozenset({
    "PATH", "LANG", "LC_ALL", "PYTHONHASHSEED", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE",
    "PYTHONPATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
})

# Folders whose contents belong to someone: nothing beneath them is readable unless it is the Python
# installation or a package folder.
_PRIVATE_ROOTS = ("/home", "/root", "/tmp", "/var/tmp", "/Users", "/private/tmp", "/private/var/folders")
# System files Python, glibc and torch read after the engine is contained: shared libraries
# (dlopen of a not-yet-loaded extension), the loader cache, time zones, the CPU description
# (torch's cpuinfo), and the two devices everyone opens.
_LINUX_SYSTEM_PATHS = (
    "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/usr/share/zoneinfo",
    "/etc/ld.so.cache", "/etc/localtime", "/proc/cpuinfo", "/sys/devices/system/cpu",
    "/dev/null", "/dev/urandom",
)
_MACOS_SYSTEM_PATHS = ("/System", "/usr/lib", "/usr/share", "/private/etc/localtime", "/dev/null", "/dev/urandom")

# prctl options (linux/prctl.h), clone flags (linux/sched.h), capability ABI (linux/capability.h).
PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2
PR_GET_SECCOMP = 21
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
NOFILE_LIMIT = 1024


# --- public API ---------------------------------------------------------------------------------
def contain(read_paths: Sequence[str] | None = None, workdir: str | None = None,
            parent_pid: int | None = None, cpu_seconds: int | None = None) -> Containment:
    """Contain the calling process, irreversibly, and check that it holds.

    Called by the engine worker after importing torch and numpy and before reading any program.
    On Linux: death with the parent, rlimits, a scrubbed environment, an empty working folder,
    a network namespace where allowed, no new privileges, no capabilities, Landlock (read-only
    access to ``read_paths``, nothing else) and a seccomp filter (no exec, no new processes, no
    sockets, no ptrace, signals only to itself); then probes try to break out. On macOS: a
    Seatbelt profile. Elsewhere nothing can be done and the result says so.

    Parameters
    ----------
    read_paths
        Files and folders the process may read afterwards; ``default_read_paths()`` if None.
    workdir
        An empty private folder to work in (the caller made it); the write probe tries it.
    parent_pid
        The pid of the process that started this one: if it has died already, exit at once.
    cpu_seconds
        A CPU-time limit (RLIMIT_CPU), if given.

    Returns
    -------
    Containment
        The layers put on and the probes run; ``contained`` only if all required layers are in
        force and every probe was blocked.

    Raises
    ------
    SandboxError
        On Linux, if the process has more than one thread: Landlock's restrict_self only holds
        the calling thread, so a thread started earlier would stay free.
    """
    if sys.platform.startswith("linux"):
        return _contain_linux(read_paths, workdir, parent_pid, cpu_seconds)
    if sys.platform == "darwin":
        return _contain_macos(read_paths, workdir, parent_pid, cpu_seconds)
    return _no_os_layer()


def default_read_paths() -> list[str]:
    """What the engine may read: the Python installation, its packages and the system's libraries.

    Each existing ``sys.prefix``-like folder and ``sys.path`` entry, except ``/``, the home folder
    or any ancestor of it, and the current folder; an entry that is the root of a gradviz source
    checkout contributes only its ``gradviz`` package; an entry under a private folder (/home,
    /root, /tmp, the home folder) counts only if it is a package folder (site-packages, or inside
    the installation), and otherwise contributes just the modules already imported from it. Then
    the system libraries and the few files of /etc, /proc, /sys and /dev that Python and torch
    read; ``/proc/self`` as ``/proc/<pid>``.

    Returns
    -------
    list of str
        Real paths that exist, without duplicates or paths beneath another one in the list.
    """
    home = os.path.realpath(os.path.expanduser("~"))
    cwd = os.path.realpath(os.getcwd())
    private = [os.path.realpath(p) for p in _PRIVATE_ROOTS] + [home]

    def forbidden(path: str) -> bool:  # the root, the home folder or an ancestor of it
        return path == "/" or _beneath(home, path)

    installs = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        path = os.path.realpath(prefix)
        if not forbidden(path):
            installs.append(path)
    candidates = list(installs)
    for entry in sys.path:
        path = os.path.realpath(entry or os.curdir)
        package_folder = (os.path.basename(path) in ("site-packages", "dist-packages")
                          or any(_beneath(path, install) for install in installs))
        if not package_folder and os.path.isfile(os.path.join(path, "gradviz", "__init__.py")):
            candidates.append(os.path.join(path, "gradviz"))  # a checkout: its package, not its tests or notes
        elif forbidden(path) or path == cwd:
            continue
        elif package_folder or not any(_beneath(path, root) for root in private):
            candidates.append(path)
        else:
            candidates.extend(_imported_from(path))
    system = _MACOS_SYSTEM_PATHS if sys.platform == "darwin" else _LINUX_SYSTEM_PATHS
    candidates += [os.path.realpath(p) for p in system]
    if os.path.isdir("/proc/self"):
        candidates.append(f"/proc/{os.getpid()}")  # /proc/self is a link a rule cannot name
    unique = list(dict.fromkeys(p for p in candidates if os.path.exists(p)))
    return [p for p in unique if not any(q != p and _beneath(p, q) for q in unique)]


def worker_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The minimal environment an engine worker is started with.

    Nothing of ``os.environ`` (no HOME, USER, tokens or proxies): a fixed PATH, a UTF-8 C locale,
    fixed hashing, no bytecode writes, one BLAS/OpenMP thread unless ``extra`` says otherwise
    (numpy's OpenBLAS starts its threads at import, and ``contain()`` refuses a process with a
    second thread), and PYTHONPATH only from ``extra``.

    Parameters
    ----------
    extra
        More variables, which win over the defaults. Those not in ``ALLOWED_ENVIRONMENT`` last
        only until ``contain()``.

    Returns
    -------
    dict
        The environment, for ``subprocess.Popen(env=...)``.
    """
    extra = dict(extra or {})
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    if sys.platform == "win32" and "SYSTEMROOT" in os.environ:
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]  # Windows Python cannot start without it
    for key, value in extra.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"environment entries must be strings: {key!r}={value!r}")
        env[key] = value
    return env


def die_with_parent(parent_pid: int | None = None) -> bool:
    """Have the kernel SIGKILL this process when its parent ends; exit now if it already has.

    Step one of ``contain()``, also for processes that are not contained (the zygote that forks
    workers). The kernel watches the parent *thread* that started this process: start it from a
    thread that lives as long as the parent does.

    Parameters
    ----------
    parent_pid
        The pid of the process that started this one. If ``os.getppid()`` is no longer it, the
        parent died before the signal was set (it would never come): ``os._exit(1)``.

    Returns
    -------
    bool
        Whether the parent-death signal is set (False where the platform has none).
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            armed = True
        except OSError:
            pass  # contain() reports it (_parent_death_layer)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)
    return armed


def probe_platform(timeout: float = 60.0) -> Containment:
    """What this machine offers, without containing the calling process (for ``gradviz doctor``).

    Queries the kernel (Landlock ABI, seccomp, user namespaces), then tries ``contain()`` for real
    in a short-lived child Python and reports that child's layers and probes.

    Parameters
    ----------
    timeout
        Seconds the child may take.

    Returns
    -------
    Containment
        ``contained`` means ``contain()`` held in the child on this machine. If the child could
        not run, the kernel's answers with ``contained=False`` and the reason.
    """
    if not (sys.platform.startswith("linux") or sys.platform == "darwin"):
        return _no_os_layer()
    static = _static_layers()
    package_root = str(Path(__file__).resolve().parents[2])
    code = ("import dataclasses, json, sys; from gradviz.engine.sandbox import contain; "
            "c = contain(workdir=sys.argv[1]); sys.stdout.write(json.dumps(dataclasses.asdict(c)))")
    with tempfile.TemporaryDirectory(prefix="gradviz-probe-") as workdir:
        try:
            done = subprocess.run([sys.executable, "-s", "-c", code, workdir], capture_output=True,
                                  env=worker_environment({"PYTHONPATH": package_root}), cwd=workdir,
                                  timeout=timeout, text=True)
            return from_plain(Containment, json.loads(done.stdout))
        except (OSError, ValueError, TypeError, subprocess.SubprocessError) as exc:
            why = f"could not try contain() in a child process: {exc}"
            return Containment(sys.platform, False, static + (Layer("trial", False, why),))


# --- Linux --------------------------------------------------------------------------------------
def _contain_linux(read_paths, workdir, parent_pid, cpu_seconds) -> Containment:
    threads = _thread_count()
    if threads > 1:
        raise SandboxError(f"contain() needs a single-threaded process, this one has {threads} threads: "
                           "Landlock would hold only the calling thread. Start threads (torch's included) "
                           "after contain(), or start the process with OMP_NUM_THREADS=1.")
    # Worked out before anything is restricted: the paths come from sys.path and the current folder,
    # and tempfile.gettempdir() itself creates a test file to find a usable folder.
    paths = list(read_paths) if read_paths is not None else default_read_paths()
    probe_dir = workdir or tempfile.gettempdir()

    die_with_parent(parent_pid)
    layers = [
        _rlimits(cpu_seconds),
        _environment(),
        _workdir(workdir),
        _network_namespace(),  # before seccomp, which refuses unshare()
        _no_new_privs(),  # Landlock and seccomp need it from an unprivileged process
        _capabilities(),  # after unshare(): the new user namespace's capabilities go too
        _landlock(paths),
        _seccomp(),
    ]
    layers.insert(0, _parent_death_layer())  # checked last, listed first
    checks = _self_checks(probe_dir, paths)
    return _verdict(layers, checks)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _prctl(option: int, *args: int) -> int:
    """``prctl(option, *args)``; raises OSError on -1."""
    padded = [ctypes.c_ulong(a) for a in args] + [ctypes.c_ulong(0)] * (4 - len(args))
    result = _libc().prctl(ctypes.c_int(option), *padded)
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading
        return threading.active_count()


def _parent_death_layer() -> Layer:
    """Confirm the parent-death signal at the end: a change of credentials clears it."""
    sig = ctypes.c_int(0)
    _libc().prctl(ctypes.c_int(PR_GET_PDEATHSIG), ctypes.byref(sig), ctypes.c_ulong(0), ctypes.c_ulong(0),
                  ctypes.c_ulong(0))
    if sig.value != signal.SIGKILL:
        try:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError as exc:
            return Layer("parent_death", False, f"prctl(PR_SET_PDEATHSIG) failed: {exc.strerror}")
    # The kernel watches the parent *thread* that started this process, not the whole process.
    return Layer("parent_death", True, f"killed (SIGKILL) as soon as its parent (pid {os.getppid()}) ends")


def _rlimits(cpu_seconds: int | None) -> Layer:
    import resource  # not on Windows

    def capped(current: int, value: int) -> int:  # RLIM_INFINITY is -1 here: min() would keep it
        return value if current == resource.RLIM_INFINITY else min(current, value)

    def lower(limit: int, value: int) -> int:
        soft, hard = resource.getrlimit(limit)
        new_hard = capped(hard, value)  # the hard limit too: the program cannot raise it back
        resource.setrlimit(limit, (min(capped(soft, value), new_hard), new_hard))
        return new_hard

    try:
        done = [f"core files {lower(resource.RLIMIT_CORE, 0)} bytes",
                f"written files {lower(resource.RLIMIT_FSIZE, 0)} bytes",
                f"open files {lower(resource.RLIMIT_NOFILE, NOFILE_LIMIT)}"]
        if cpu_seconds is not None:
            done.append(f"CPU {lower(resource.RLIMIT_CPU, int(cpu_seconds))} s")
    except (OSError, ValueError) as exc:
        return Layer("rlimits", False, f"setrlimit failed: {exc}")
    # RLIMIT_FSIZE also holds for files opened before: output redirected to a file now fails (EFBIG).
    to_files = [str(fd) for fd in (1, 2) if _is_regular_file(fd)]
    warning = f" (fd {', '.join(to_files)} is a regular file: writes to it now fail)" if to_files else ""
    return Layer("rlimits", True, "limits: " + ", ".join(done) + warning)


def _is_regular_file(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False


def _environment() -> Layer:
    removed = [key for key in os.environ if key not in ALLOWED_ENVIRONMENT]
    for key in removed:
        del os.environ[key]  # unsetenv() too, so C code's getenv() no longer sees it
    scrubbed = _scrub_initial_environment()
    try:
        with open("/proc/self/environ", "rb") as f:
            left = {e.split(b"=", 1)[0].decode("utf-8", "replace") for e in f.read().split(b"\0") if e}
    except OSError:
        left = set()
    extra = sorted((set(os.environ) | left) - ALLOWED_ENVIRONMENT)
    if extra:
        return Layer("environment", False, f"still set: {', '.join(extra)}")
    note = f"; {scrubbed} left in the start-up block erased" if scrubbed else ""
    return Layer("environment", True,
                 f"only {', '.join(sorted(os.environ)) or 'nothing'} kept; {len(removed)} removed{note}")


def _scrub_initial_environment() -> int:
    """Zero the entries not allowed in the environment block the process started with.

    /proc/self/environ shows that block (the original stack), not the current environment, and
    the contained program may read its own /proc/self. The caller should start the process with
    ``worker_environment()``; this catches what it did not. Returns the number of entries erased.
    """
    try:
        with open("/proc/self/stat", "rb") as f:
            data = f.read()
        fields = data[data.rindex(b")") + 2:].split()
        start, end = int(fields[50 - 3]), int(fields[51 - 3])  # env_start, env_end (proc(5))
    except (OSError, ValueError, IndexError):
        return 0
    if not start or end <= start:
        return 0
    block = ctypes.string_at(start, end - start)
    erased, offset = 0, 0
    for entry in block.split(b"\0"):
        key = entry.split(b"=", 1)[0].decode("utf-8", "replace")
        if entry and key not in ALLOWED_ENVIRONMENT:
            ctypes.memset(start + offset, 0, len(entry))
            erased += 1
        offset += len(entry) + 1
    return erased


def _workdir(workdir: str | None) -> Layer:
    if workdir is None:
        return Layer("workdir", False, f"no private folder given: stays in {os.getcwd()}", required=False)
    try:
        os.chdir(workdir)
    except OSError as exc:
        return Layer("workdir", False, f"cannot enter {workdir}: {exc.strerror}")
    return Layer("workdir", True, f"works in {workdir}")


def _network_namespace() -> Layer:
    def namespace() -> str:
        try:
            return os.readlink("/proc/self/ns/net")
        except OSError:
            return "?"

    before = namespace()
    libc = _libc()
    # Root may make a network namespace outright. Others need a user namespace around it; its
    # uid map stays unwritten, so the process keeps its real uid for files but holds no
    # capability over any of them.
    # IPC too: System V and POSIX IPC objects of the user's other programs stay out of reach (seccomp
    # refuses those calls anyway; this holds where a kernel's numbers are missing from the table).
    shared = CLONE_NEWNET | CLONE_NEWIPC
    attempts = [shared, CLONE_NEWUSER | shared] if os.geteuid() == 0 else [CLONE_NEWUSER | shared]
    failures = []
    for flags in attempts:
        if libc.unshare(ctypes.c_int(flags)) == 0:
            after = namespace()
            inside = " inside an unmapped user namespace" if flags & CLONE_NEWUSER else ""
            return Layer("network_namespace", after != before,
                         f"own network and IPC namespaces {after}{inside}: no interface but a loopback that "
                         "is down, no shared memory or queues of other programs", required=False)
        err = ctypes.get_errno()
        failures.append(f"unshare({'CLONE_NEWUSER|' if flags & CLONE_NEWUSER else ''}CLONE_NEWNET|CLONE_NEWIPC): "
                        f"{errno.errorcode.get(err, err)}")
    return Layer("network_namespace", False,
                 "; ".join(failures) + " (user namespaces disabled or not permitted here; sockets are "
                 "refused by seccomp anyway)", required=False)


def _no_new_privs() -> Layer:
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        on = _prctl(PR_GET_NO_NEW_PRIVS) == 1
    except OSError as exc:
        return Layer("no_new_privs", False, f"prctl(PR_SET_NO_NEW_PRIVS) failed: {exc.strerror}")
    return Layer("no_new_privs", on, "no exec can ever grant privileges (setuid, file capabilities)")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _capabilities() -> Layer:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except (OSError, ValueError):
        last = 40
    bounding_errors = set()
    for cap in range(last + 1):
        try:
            _prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:  # EPERM without CAP_SETPCAP: then nothing could be gained by exec anyway
            bounding_errors.add(_errno_name(exc))
    try:
        _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError:
        pass  # kernels before 4.3 have no ambient set
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()  # v3: two 32-bit words of each set, all zero
    failed = ""
    if _libc().capset(ctypes.byref(header), ctypes.byref(data)) != 0:
        failed = f"; capset failed: {os.strerror(ctypes.get_errno())}"
    sets = _status_fields("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd")
    held = {k: v for k, v in sets.items() if k != "CapBnd" and int(v or "1", 16)}
    bounding = ("bounding set emptied" if int(sets.get("CapBnd") or "1", 16) == 0
                else f"bounding set kept ({', '.join(sorted(bounding_errors))}; no exec can use it)")
    if held:
        return Layer("capabilities", False, f"still held: {held}{failed}")
    return Layer("capabilities", True, f"no capabilities (effective, permitted, inheritable, ambient); {bounding}")


def _status_fields(*names: str) -> dict[str, str]:
    found = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in names:
                    found[key] = value.strip()
    except OSError:
        pass
    return found


def _landlock(paths: list[str]) -> Layer:
    from gradviz.engine import _landlock as landlock
    try:
        done = landlock.restrict(paths)
    except OSError as exc:
        why = {errno.ENOSYS: "kernel has no Landlock (ENOSYS)",
               errno.EOPNOTSUPP: "Landlock is built in but disabled at boot (EOPNOTSUPP; add landlock to lsm=)",
               errno.EPERM: "not permitted (EPERM: no_new_privs missing?)"}.get(exc.errno)
        return Layer("landlock", False, why or f"Landlock failed: {exc.strerror} ({_errno_name(exc)})")
    extra = []
    if done.handled_net:
        extra.append("no TCP bind or connect")
    if done.scoped:
        extra.append("no signals or abstract UNIX sockets outside the sandbox")
    if done.abi < 3:
        extra.append("truncation not covered before ABI 3 (seccomp refuses truncate and O_TRUNC)")
    skipped = f"; could not grant {'; '.join(done.skipped)}" if done.skipped else ""
    return Layer("landlock", True,
                 f"Landlock ABI {done.abi}: no writes, no execution; reads only {', '.join(done.readable)}"
                 + (f"; {', '.join(extra)}" if extra else "") + skipped)


def _seccomp() -> Layer:
    from gradviz.engine import _seccomp as seccomp
    arch = seccomp.native_arch()
    if arch is None:
        return Layer("seccomp", False, f"no syscall table for {os.uname().machine}")
    program = seccomp.build_filter(arch, os.getpid())
    try:
        how = seccomp.install(program, arch)
    except OSError as exc:
        why = "kernel has no seccomp filters" if exc.errno == errno.EINVAL else exc.strerror
        return Layer("seccomp", False, f"seccomp failed: {why} ({_errno_name(exc)})")
    mode = _status_fields("Seccomp").get("Seccomp")
    return Layer("seccomp", mode == "2",
                 f"{len(program)}-instruction filter via {how}: no exec, fork, sockets, ptrace, mounts, "
                 "namespaces, keyrings, io_uring, bpf, chmod/chown/xattr/utime; signals, limits, priority and "
                 "CPU affinity only for itself")


def _self_checks(probe_dir: str, read_paths: Sequence[str]) -> tuple[Layer, ...]:
    """Try what the layers must stop; each check is ``active`` when the attempt was blocked."""
    checks = []
    token = f"{os.getpid()}-{os.urandom(4).hex()}"

    path = os.path.join(probe_dir, f".gradviz-probe-{token}")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        checks.append(Layer("write a file", True, f"creating a file in {probe_dir}: {exc.strerror}"))
    else:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass
        checks.append(Layer("write a file", False, f"created {path}"))

    secret = next((p for p in ("/etc/passwd", "/etc/hosts", "/etc/hostname")
                   if os.path.isfile(p) and not any(_beneath(os.path.realpath(p), r) for r in read_paths)), None)
    if secret:
        try:
            with open(secret, "rb") as f:
                f.read(1)
        except OSError as exc:
            checks.append(Layer("read a file outside the allowed paths", True, f"{secret}: {exc.strerror}"))
        else:
            checks.append(Layer("read a file outside the allowed paths", False, f"read {secret}"))

    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:
        checks.append(Layer("open a socket", True, f"socket(): {exc.strerror}"))
    else:
        sock.close()
        checks.append(Layer("open a socket", False, "socket() succeeded"))

    # Executing a path that does not exist: ENOENT means the kernel went looking (exec allowed),
    # EPERM or EACCES means it was refused first. Nothing can run either way.
    try:
        os.execv(os.path.join(probe_dir, f"no-such-program-{token}"), ["probe"])
    except OSError as exc:
        refused = exc.errno in (errno.EPERM, errno.EACCES)
        how = "" if refused else ": the kernel looked the path up, exec is not refused outright"
        checks.append(Layer("run a program", refused, f"execve(): {exc.strerror}{how}"))

    try:
        pid = os.fork()
    except OSError as exc:
        checks.append(Layer("start a process", True, f"fork(): {exc.strerror}"))
    else:
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        checks.append(Layer("start a process", False, f"fork() made process {pid}"))

    try:  # System V shared memory: other programs' segments, and ones that outlive this process
        libc = _libc()
        shm = libc.shmget(0, 4096, 0o1000 | 0o600)  # IPC_PRIVATE, IPC_CREAT | 0600
        if shm == -1:
            checks.append(Layer("share memory with other programs", True,
                                f"shmget(): {os.strerror(ctypes.get_errno())}"))
        else:
            libc.shmctl(shm, 0, None)  # IPC_RMID
            checks.append(Layer("share memory with other programs", False, f"shmget() made segment {shm}"))
    except (OSError, AttributeError) as exc:
        checks.append(Layer("share memory with other programs", True, f"shmget() unavailable: {exc}"))

    if sys.platform.startswith("linux"):
        try:  # the parent-death signal cleared would let this process outlive the app
            _prctl(PR_SET_PDEATHSIG, 0)
        except OSError as exc:
            checks.append(Layer("outlive the app", True, f"prctl(PR_SET_PDEATHSIG, 0): {exc.strerror}"))
        else:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            checks.append(Layer("outlive the app", False, "prctl(PR_SET_PDEATHSIG, 0) succeeded"))

    parent = os.getppid()
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        pass  # no parent left to signal: nothing to learn
    except OSError as exc:
        checks.append(Layer("signal the parent", True, f"kill({parent}, 0): {exc.strerror}"))
    else:
        checks.append(Layer("signal the parent", False, f"kill({parent}, 0) succeeded"))
    return tuple(checks)


def _verdict(layers: Sequence[Layer], checks: Sequence[Layer]) -> Containment:
    required = all(layer.active for layer in layers if layer.required)
    contained = bool(checks) and required and all(c.active for c in checks)
    return Containment(sys.platform, contained, tuple(layers), tuple(checks))


def _static_layers() -> tuple[Layer, ...]:
    """The kernel's answers, without restricting anything."""
    if sys.platform == "darwin":
        try:
            _ = ctypes.CDLL("/usr/lib/libSystem.B.dylib").sandbox_init
            return (Layer("seatbelt", True, "sandbox_init is available"),)
        except (OSError, AttributeError) as exc:
            return (Layer("seatbelt", False, f"sandbox_init unavailable: {exc}"),)
    from gradviz.engine import _landlock as landlock
    from gradviz.engine import _seccomp as seccomp
    layers = []
    try:
        abi = landlock.abi_version()
        layers.append(Layer("landlock", True, f"Landlock ABI {abi} available"))
    except OSError as exc:
        layers.append(Layer("landlock", False, f"kernel has no usable Landlock ({_errno_name(exc)})"))
    try:
        _prctl(PR_GET_SECCOMP)
        arch = seccomp.native_arch()
        layers.append(Layer("seccomp", arch is not None,
                            f"seccomp filters available on {arch}" if arch else "no syscall table here"))
    except OSError as exc:
        layers.append(Layer("seccomp", False, f"kernel has no seccomp ({_errno_name(exc)})"))
    try:
        _prctl(PR_GET_NO_NEW_PRIVS)
        layers.append(Layer("no_new_privs", True, "available"))
    except OSError as exc:
        layers.append(Layer("no_new_privs", False, f"unavailable ({_errno_name(exc)})"))
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            count = int(f.read())
        layers.append(Layer("network_namespace", count > 0 or os.geteuid() == 0,
                            f"user namespaces allowed: {count}", required=False))
    except (OSError, ValueError):
        layers.append(Layer("network_namespace", os.geteuid() == 0, "user namespaces unknown", required=False))
    return tuple(layers)


# --- macOS --------------------------------------------------------------------------------------
# Untested here (gradviz is developed on Linux): kept small. sandbox_init() with a profile string
# applies to the whole process, threads included, so no single-thread check is needed.
def _contain_macos(read_paths, workdir, parent_pid, cpu_seconds) -> Containment:
    paths = list(read_paths) if read_paths is not None else default_read_paths()
    probe_dir = workdir or tempfile.gettempdir()
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)
    layers = [
        Layer("parent_death", False, "macOS has no parent-death signal: the engine exits when its pipes close",
              required=False),
        _rlimits(cpu_seconds),
        _environment(),
        _workdir(workdir),
        _seatbelt(paths),
        # Defence in depth until it is tested: gradviz's attack tests run on Linux only, so a macOS
        # engine is not called contained and programs from elsewhere ask to be trusted first.
        Layer("tested", False, "gradviz's containment is tested on Linux only: on macOS the Seatbelt "
                               "profile is applied, but programs from elsewhere ask to be trusted"),
    ]
    return _verdict(layers, _self_checks(probe_dir, paths))


def _seatbelt_profile(paths: Sequence[str]) -> str:
    def quoted(path: str) -> str:
        return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'

    readable = " ".join(f"(subpath {quoted(p)})" if os.path.isdir(p) else f"(literal {quoted(p)})" for p in paths)
    # Later rules win over earlier ones. (allow default) keeps Mach services reachable; the one
    # that launches applications is closed explicitly.
    return "\n".join([
        "(version 1)",
        "(allow default)",
        "(deny file-write*)",
        "(deny network*)",
        "(deny process-exec*)",
        "(deny process-fork)",
        "(deny ipc-posix*)",
        "(deny ipc-sysv*)",
        "(deny signal (target others))",
        '(deny mach-lookup (global-name "com.apple.coreservices.launchservicesd"))',
        "(deny file-read*)",
        "(allow file-read-metadata)",  # stat() along any path, as path lookups need
        # An allow rule without a filter would allow everything: none at all when nothing is readable.
        f"(allow file-read* {readable})" if readable else "",
    ])


def _seatbelt(paths: Sequence[str]) -> Layer:
    try:
        libsystem = ctypes.CDLL("/usr/lib/libSystem.B.dylib")
        sandbox_init = libsystem.sandbox_init
    except (OSError, AttributeError) as exc:
        return Layer("seatbelt", False, f"sandbox_init unavailable: {exc}")
    sandbox_init.argtypes = [ctypes.c_char_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_char_p)]
    sandbox_init.restype = ctypes.c_int
    error = ctypes.c_char_p()
    if sandbox_init(_seatbelt_profile(paths).encode(), 0, ctypes.byref(error)) != 0:
        return Layer("seatbelt", False, f"sandbox_init refused the profile: {(error.value or b'').decode()}")
    return Layer("seatbelt", True, f"Seatbelt profile: no writes, network, exec or fork; reads only {', '.join(paths)}")


# --- elsewhere ----------------------------------------------------------------------------------
def _no_os_layer() -> Containment:
    return Containment(sys.platform, False, (Layer(
        "os_sandbox", False,
        f"{sys.platform} has no OS sandbox gradviz can use: programs run with the user's full rights"),))


def _beneath(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (both real, absolute paths)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def _imported_from(folder: str) -> list[str]:
    """Folders (or files) of the top-level modules already imported from ``folder``."""
    found = []
    for name, module in list(sys.modules.items()):
        if "." in name or module is None:
            continue
        locations = list(getattr(module, "__path__", None) or [])
        if not locations and getattr(module, "__file__", None):
            locations = [module.__file__]
        for location in locations:
            real = os.path.realpath(location)
            if os.path.dirname(real) == folder:
                found.append(real)
    return found
