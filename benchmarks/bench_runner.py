"""Runner overhead: the same ~5,000-node programs run by plain exec, by the runner alone and by a whole traced run.

Run: python benchmarks/bench_runner.py  (alternating runs, medians, ratios per program).
"runner" is ``run_program`` with a Recorder that records nothing: the cost of the torch function
mode, the patched backward functions and the statement-by-statement execution; "traced" is
``run_request``: everything the engine records and summarises, in this process (no worker).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from gradviz.core.request import (
    Limits,  # noqa: E402
    RunRequest,  # noqa: E402
)
from gradviz.engine.recorder import Recorder  # noqa: E402
from gradviz.engine.run import run_request  # noqa: E402
from gradviz.engine.runner import run_program  # noqa: E402

TRANSFORMER = """
import torch
import torch.nn.functional as F
import math
torch.manual_seed(0)
T, D, H = 8, 16, 4
x = torch.randn(T, D, requires_grad=True)
blocks = []
for i in range(82):
    blocks.append({name: torch.randn(D, D, requires_grad=True) for name in ("wq", "wk", "wv", "wo")})
    blocks[-1].update({"w1": torch.randn(D, 4 * D, requires_grad=True),
                       "w2": torch.randn(4 * D, D, requires_grad=True),
                       "b1": torch.zeros(4 * D, requires_grad=True),
                       "g1": torch.ones(D, requires_grad=True), "g2": torch.ones(D, requires_grad=True)})
h = x
for b in blocks:
    a = F.layer_norm(h, (D,), weight=b["g1"])
    q = (a @ b["wq"]).view(T, H, D // H).transpose(0, 1)
    k = (a @ b["wk"]).view(T, H, D // H).transpose(0, 1)
    v = (a @ b["wv"]).view(T, H, D // H).transpose(0, 1)
    att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D // H), dim=-1)
    y = (att @ v).transpose(0, 1).reshape(T, D)
    h = h + y @ b["wo"] * 0.1
    m = F.layer_norm(h, (D,), weight=b["g2"])
    h = h + F.gelu(m @ b["w1"] + b["b1"]) @ b["w2"] * 0.1
loss = h.pow(2).mean()
loss.backward()
print(loss.item() > 0, x.grad.shape)
"""

MODULES = """
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
T, D, H = 8, 16, 4

class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (z.view(t, self.heads, d // self.heads).transpose(0, 1) for z in (q, k, v))
        att = F.softmax(q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5, dim=-1)
        x = x + self.proj((att @ v).transpose(0, 1).reshape(t, d))
        return x + self.mlp(self.ln2(x))

model = nn.Sequential(*[Block(D, H) for _ in range(60)])
x = torch.randn(T, D, requires_grad=True)
loss = model(x).pow(2).mean()
loss.backward()
print(loss.item() > 0, x.grad.shape)
"""

CHAIN = """
import torch
torch.manual_seed(0)
x = torch.randn(16, requires_grad=True)
y = x
for i in range(1666):
    y = y * 1.001
    y = y + 0.01
    y = torch.tanh(y)
loss = y.sum()
loss.backward()
print(round(loss.item(), 3), x.grad.shape)
"""


# CPU time of this process: on a shared machine other processes inflate wall time at random.
CLOCK = time.process_time


def time_plain(program: str) -> float:
    ns: dict = {"__name__": "__main__"}
    t0 = CLOCK()
    exec(program, ns)  # noqa: S102 - the benchmark's anchor: plain Python running the program
    return CLOCK() - t0


def time_runner(program: str) -> float:
    t0 = CLOCK()
    out = run_program(program, Limits(), Recorder())
    elapsed = CLOCK() - t0
    assert out.error is None, out.error
    return elapsed


def time_traced(program: str) -> float:
    t0 = CLOCK()
    result = run_request(RunRequest(program))
    elapsed = CLOCK() - t0
    assert result.error is None, result.error
    return elapsed


def main(rounds: int = 11) -> None:
    import contextlib
    import io

    # One intra-op thread: on a shared 2-core machine OpenMP spinning otherwise swamps the numbers.
    torch.set_num_threads(1)

    print("CPU time (process_time), medians of alternating runs, torch on one thread")
    print(f"{'program':<14}{'plain ms':>10}{'runner ms':>11}{'traced ms':>11}{'runner/plain':>14}{'traced/plain':>14}")
    for name, program in (("transformer", TRANSFORMER), ("modules", MODULES), ("chain", CHAIN)):
        plain, runner, traced = [], [], []
        with contextlib.redirect_stdout(io.StringIO()):
            time_plain(program)
            time_runner(program)
            time_traced(program)  # warm all three
            for _ in range(rounds):
                plain.append(time_plain(program))
                runner.append(time_runner(program))
                traced.append(time_traced(program))
        p, r, t = (statistics.median(x) for x in (plain, runner, traced))
        print(f"{name:<14}{p * 1000:>10.1f}{r * 1000:>11.1f}{t * 1000:>11.1f}{r / p:>14.2f}{t / p:>14.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 11)
