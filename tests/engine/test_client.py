"""Engine workers through EngineClient: results, progress, a fresh process per run, cancel, kill, limits."""

import threading
import time

import pytest

from gradviz.core.request import Limits, RunRequest
from gradviz.engine.client import EngineClient

README = ("import torch\nx = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\ny.backward()\n"
          "print(x.grad)\n")
FOREVER = "import torch\nx = torch.ones(3)\nprint('started')\nwhile True:\n    x = x + 1\n"


@pytest.fixture(scope="module")
def client():
    c = EngineClient()
    c.start()
    yield c
    c.close()


def test_run_returns_the_recorded_result_and_reports_progress(client):
    progress = []
    result = client.run(RunRequest(README), on_progress=progress.append)
    assert result.error is None
    assert result.stdout == "tensor([ 0.,  4.,  8., 12.])\n"
    assert [s.op for s in result.backward_calls[0].steps] == ["MulBackward0", "DotBackward0", "AccumulateGrad"]
    assert [p["line"] for p in progress] == [1, 2, 3, 4, 5]
    assert client.torch_version.startswith("2.")


TWO_CALLS = ("import torch\nw = torch.ones(2, requires_grad=True)\nfor i in range(2):\n"
             "    loss = (w * (i + 2)).sum()\n    print('call', i)\n    loss.backward()\n")


def test_each_call_graph_comes_ahead_of_the_result_and_is_sent_once(client):
    seen = []

    def on_graph(index, graph):
        seen.append((index, graph, len(seen_progress)))

    seen_progress = []
    result = client.run(RunRequest(TWO_CALLS), on_progress=seen_progress.append, on_graph=on_graph)
    assert result.error is None and result.stdout == "call 0\ncall 1\n"
    assert [i for i, _, _ in seen] == [0, 1]
    # The graph of the second call arrived before the loop statement (lines 3-6) had finished.
    assert seen[1][2] == 2
    for (_index, graph, _), call in zip(seen, result.backward_calls, strict=True):
        assert call.graph is graph  # put back into the result, not sent a second time
        assert sorted(n.op for n in graph.nodes if n.kind in ("op", "accumulate")) == [
            "AccumulateGrad", "MulBackward0", "SumBackward0"]
    assert [st.op for st in result.backward_calls[1].steps] == ["SumBackward0", "MulBackward0", "AccumulateGrad"]
    assert result.backward_calls[1].leaves[0].after.flat() == [5.0, 5.0]  # 2 + 3 accumulated


def once_started(action):
    """An on_progress that calls ``action`` when FOREVER's third statement (the print) is done.

    The run is under way then (its worker is the client's current one) and the loop comes next:
    no timer that may fire before the worker exists, when kill() and cancel() have nothing to stop.
    """
    def progress(info):
        if info["line"] == 3:
            action()
    return progress


def test_cancel_returns_partial_result_and_the_next_run_works(client):
    result = client.run(RunRequest(FOREVER, limits=Limits(max_seconds=60)), on_progress=once_started(client.cancel))
    assert result.error.type == "Cancelled" and result.error.line in (4, 5)  # in the loop
    assert result.stdout == "started\n"
    assert client.run(RunRequest(README)).error is None


def test_kill_mid_run_reports_crash_and_next_run_works(client):
    result = client.run(RunRequest(FOREVER, limits=Limits(max_seconds=60)), on_progress=once_started(client.kill))
    assert result.error.type == "WorkerCrashed" and "stopped during the run" in result.error.message
    assert result.stdout == "started\n" and result.error.line == 4
    assert client.run(RunRequest(README)).error is None


def test_every_run_gets_a_fresh_process(client):
    """Nothing of one lesson reaches the next: not its process, its modules' state or its memory."""
    first = client.run(RunRequest("import os, torch\ntorch.Tensor.secret = 'kept'\nprint(os.getpid())\n"))
    second = client.run(RunRequest("import os, torch\nprint(os.getpid(), hasattr(torch.Tensor, 'secret'))\n"))
    pid1 = int(first.stdout)
    pid2, kept = second.stdout.split()
    assert int(pid2) != pid1 and kept == "False"


def test_deadline_is_enforced_inside_the_worker(client):
    start = time.monotonic()
    result = client.run(RunRequest(FOREVER, limits=Limits(max_seconds=1.0)))
    assert result.error.type == "LimitExceeded" and result.error.limit == "max_seconds"
    # The time is the behaviour here: FOREVER never ends by itself and the deadline must stop it.
    # The bound is generous (1 s deadline, the client's 2 s grace, a loaded machine); a run let go
    # on would miss it by far.
    assert time.monotonic() - start < 15


def test_memory_limit_is_a_clear_error_not_a_crash(client):
    program = "import torch\nkeep = []\nfor i in range(1000):\n    keep.append(torch.ones(5_000_000))\n"
    result = client.run(RunRequest(program, limits=Limits(max_memory_mb=300)))
    assert result.error.type == "LimitExceeded" and result.error.limit == "max_memory_mb"
    assert client.run(RunRequest(README)).error is None


def test_threads_do_not_count_as_memory(client):
    """Threads reserve address space they never touch (glibc's malloc arenas, 64 MB each): 16
    threads under a 300 MB limit use ~30 MB of memory and must run, not hit the memory limit."""
    program = (
        "import threading, torch\n"
        "torch.set_num_threads(2)\n"
        "out = []\n"
        "def work(i):\n"
        "    a = torch.full((200, 200), float(i), requires_grad=True)\n"
        "    (a * a).sum().backward()\n"
        "    out.append(float(a.grad[0, 0]))\n"
        "threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]\n"
        "for t in threads: t.start()\n"
        "for t in threads: t.join()\n"
        "print(sorted(out))\n"
    )
    result = client.run(RunRequest(program, limits=Limits(max_memory_mb=300)))
    assert result.error is None
    assert result.stdout == f"{[2.0 * i for i in range(16)]}\n"


def test_a_dead_worker_during_start_is_reported(tmp_path):
    broken = EngineClient(python=str(tmp_path / "no-such-python"))
    with pytest.raises(FileNotFoundError):
        broken.start()


def test_a_worker_started_ahead_is_the_one_used_and_a_dead_one_is_replaced():
    from gradviz.engine.process import start_worker

    early = start_worker()
    c = EngineClient(started=early, ahead=False)
    try:
        assert c.run(RunRequest(README)).stdout == "tensor([ 0.,  4.,  8., 12.])\n"
        assert c.pid == early.pid
    finally:
        c.close()
    assert early.exit_status(wait=5) is not None
    dead = start_worker()
    dead.kill()
    assert dead.exit_status(wait=5) is not None
    c = EngineClient(started=dead)
    try:
        result = c.run(RunRequest(README))
        assert result.error.type == "WorkerCrashed" and "could not start" in result.error.message
        assert c.run(RunRequest(README)).error is None and c.pid != dead.pid
    finally:
        c.close()


def test_a_chain_deeper_than_the_c_stack_is_freed_without_killing_the_engine(client):
    """Freeing 60,000 autograd nodes the tracer touched recurses once per node: the worker runs
    programs on a thread with a deep stack (on the main thread this was a segmentation fault)."""
    program = ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x\nfor i in range(60000):\n"
               "    y = y * 1.0001\ny.sum().backward()\nprint(x.grad)\n")
    result = client.run(RunRequest(program))
    assert result.error is None, result.error
    assert result.stdout.startswith("tensor([403.")
    assert "more than 20,000 autograd nodes" in result.notes[0]
    assert client.run(RunRequest(README)).error is None


def test_a_program_from_elsewhere_runs_only_where_the_engine_is_contained_or_once_trusted():
    from gradviz.core.containment import Containment, Layer

    class Uncontained(EngineClient):
        """The real engine, reporting what a system without an OS layer would."""

        def _note_ready(self, ready, worker):
            super()._note_ready(ready, worker)
            self.containment = Containment("win32", False, (Layer("os", False, "no OS layer on this system"),))

    c = Uncontained(ahead=False)
    try:
        refused = c.run(RunRequest(README))
        assert refused.error.type == "NotContained" and "no OS layer" in refused.error.message
        assert refused.stdout == "" and refused.statements == ()
        assert c.run(RunRequest(README), trusted=True).stdout == "tensor([ 0.,  4.,  8., 12.])\n"
    finally:
        c.close()


def test_doctor_reports_every_layer_and_says_contained(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "gradviz", "doctor"], capture_output=True, text=True, cwd=root,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("gradviz ") and "torch 2." in lines[0]
    assert lines[1].startswith("contained: Landlock ABI")
    for layer in ("landlock", "seccomp", "no_new_privs", "parent_death", "environment"):
        assert any(line.strip().startswith(f"[on ] {layer}:") for line in lines), layer
    assert "[blocked]" in done.stdout and "NOT BLOCKED" not in done.stdout


def test_optimizers_torch_func_and_meta_tensors_work_in_the_contained_engine(client):
    """torch.optim imports torch._dynamo, whose import asks for a temporary folder and makes a cache
    folder: in the contained engine every optimizer once failed with 'No usable temporary directory'."""
    program = """\
import tempfile
import torch
from torch.func import grad, jacrev
w = torch.ones(2, requires_grad=True)
opt = torch.optim.Adam([w], lr=0.1)
(w * w).sum().backward()
opt.step()
print(w.detach(), grad(lambda x: (x ** 3).sum())(torch.ones(2)), jacrev(torch.sin)(torch.zeros(1)))
meta = torch.empty(3, device="meta")
print(meta.shape, tempfile.gettempdir() != "")
"""
    result = client.run(RunRequest(program))
    assert result.error is None, result.error
    assert result.stdout == "tensor([0.9000, 0.9000]) tensor([3., 3.]) tensor([[1.]])\ntorch.Size([3]) True\n"
    assert result.variable("meta").value.data is None and result.variable("meta").shape == (3,)


def _read_lines(data: bytes, limit: int = 64 << 20) -> list:
    """What the protocol reader makes of ``data`` written by a worker: messages, then the end or an error."""
    import os

    from gradviz.engine.client import _Reader

    r, w = os.pipe()
    reader = _Reader(r, limit)
    threading.Thread(target=lambda: (os.write(w, data), os.close(w)), daemon=True).start()
    out = []
    while True:
        item = reader.messages.get(timeout=30)
        out.append(item)
        if not isinstance(item, dict):
            return out


def test_a_line_of_too_many_lists_is_refused_unread_and_a_dense_real_one_is_read():
    from gradviz.engine.client import ProtocolError
    from gradviz.engine.message import MAX_CONTAINERS

    # 18 MB that orjson would make ~700 MB of lists from.
    bomb = b'{"type":"result","result":[' + b"[[0]]," * (MAX_CONTAINERS // 2 + 1) + b"0]}\n"
    (error,) = _read_lines(bomb)
    assert isinstance(error, ProtocolError) and "lists and objects" in str(error)
    # A real value as dense: one list per number (a column), far under the bound.
    column = b'{"type":"result","result":[' + b"[1.0]," * 200_000 + b"[2.0]]}\n"
    message, end = _read_lines(column)
    assert len(message["result"]) == 200_001 and message["result"][-1] == [2.0] and not isinstance(end, dict)
