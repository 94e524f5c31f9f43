"""Training loops and memory: `gradviz inspect` of a program against plain Python running it, in one run.

Three cases of issue 14, each measured as a whole process (interpreter start, torch import, the
program, and for gradviz the engine worker and the result) in alternating rounds, medians:
- time: PyTorch's polynomial-fitting tutorial with 2,000 backward calls (4 scalar parameters),
  from tests/engine/corpus;
- memory: a program whose saved activations are ~1 GB (130 layers of an 800x800 map, one
  backward call); the peak resident memory of the whole process tree (sampled every 10 ms);
- a bounded result: 50 backward calls through one retained graph of 25,000 nodes (the first
  calls are recorded step by step up to tracer.MAX_DETAILED_NODES, the rest lightly).
The anchor is plain Python + torch with one intra-op thread and torch.manual_seed(0), as in the
engine.

Run: python benchmarks/bench_training.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: PyTorch's polynomial tutorial as the corpus transcribes it, with the tutorial's own 2,000 steps.
POLYNOMIAL = (ROOT / "tests/engine/corpus/pt_poly_autograd.py").read_text().replace("range(300)", "range(2000)")

ACTIVATIONS = """\
import torch
w = torch.randn(800, 800) * 0.03
x = torch.randn(800, 800, requires_grad=True)
h = x
for i in range(130):
    h = torch.tanh(h @ w) + h
loss = h.mean()
loss.backward()
print(round(loss.item(), 4), x.grad.norm().item() > 0)
"""

RETAINED = """\
import torch
x = torch.ones(4, requires_grad=True)
y = x
for i in range(25000):
    y = y * 1.0001
loss = y.sum()
for k in range(50):
    loss.backward(retain_graph=True)
print(x.grad)
"""

PLAIN = "import sys, torch\ntorch.manual_seed(0)\ntorch.set_num_threads(1)\nexec(open(sys.argv[1]).read())\n"


def _tree_rss(pid: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total


def measure(command: list[str]) -> tuple[float, int]:
    """(seconds, peak resident bytes of the process tree) of one run of ``command``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0,):
        raise RuntimeError(f"{' '.join(command)} failed: {proc.stderr.read().decode()[-1000:]}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gradviz-bench-training-"))
    plain = work / "plain.py"
    plain.write_text(PLAIN)
    gradviz = [str(Path(sys.executable).with_name("gradviz"))]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'case':<34}{'plain':>16}{'gradviz':>16}{'ratio':>8}")
    for name, program, what in (("2,000 backward calls (time)", POLYNOMIAL, "time"),
                                ("~1 GB saved activations (peak)", ACTIVATIONS, "memory"),
                                ("50 calls, 25,000-node graph (time)", RETAINED, "retained")):
        script = work / f"{what}.py"
        script.write_text(program)
        runs: dict[str, list[tuple[float, int]]] = {"plain": [], "gradviz": []}
        for r in range(args.rounds):
            for who in (("plain", "gradviz") if r % 2 == 0 else ("gradviz", "plain")):
                command = [sys.executable, str(plain), str(script)] if who == "plain" else \
                    [*gradviz, "inspect", str(script)]
                runs[who].append(measure(command))
        if what != "memory":
            p, g = (statistics.median(t for t, _ in runs[k]) for k in ("plain", "gradviz"))
            print(f"{name:<34}{p:>14.2f} s{g:>14.2f} s{g / p:>8.2f}")
        else:
            p, g = (statistics.median(m for _, m in runs[k]) / 2**20 for k in ("plain", "gradviz"))
            print(f"{name:<34}{p:>13.0f} MB{g:>13.0f} MB{g / p:>8.2f}")
        for who in ("plain", "gradviz"):
            times = [t for t, _ in runs[who]]
            peaks = [m / 2**20 for _, m in runs[who]]
            print(f"  {who:<8} time {min(times):.2f}-{max(times):.2f} s, peak {min(peaks):.0f}-{max(peaks):.0f} MB")


if __name__ == "__main__":
    main()
