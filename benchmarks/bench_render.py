"""`gradviz render` of ~5,000-node programs against its anchors, measured side by side in one run.

Anchors: the floor (plain Python + torch running the same program) and torchviz (make_dot on the
same program, then graphviz `dot -Tpng`). Each round runs all three once, in alternating order;
the table shows medians and ratios. torchviz and graphviz are benchmark-only: `make bench` installs
torchviz (the `bench` extra) and graphviz's `dot` (Debian package graphviz).

Run: python benchmarks/bench_render.py [--rounds N] [--skip-torchviz] [--torchviz-python PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import programs  # noqa: E402

TORCHVIZ_TAIL = """
import sys
sys.setrecursionlimit(100_000)  # make_dot recurses once per node; give it room instead of failing
from torchviz import make_dot
with open(sys.argv[1], "w") as f:
    f.write(make_dot(loss).source)
"""


def timed(cmd: list[str], timeout: float = 1800) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-torchviz", action="store_true")
    parser.add_argument("--torchviz-python", default=sys.executable,
                        help="a Python with torch and torchviz (default: this one; `make bench` installs torchviz)")
    args = parser.parse_args()
    python = sys.executable
    have_torchviz = not args.skip_torchviz and Path(args.torchviz_python).exists() and shutil.which("dot")
    work = Path(tempfile.mkdtemp(prefix="gradviz-bench-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    rows = []
    for name, source in (("transformer x82", programs.transformer(82)), ("chain x1666", programs.chain(1666))):
        script = work / f"{name.split()[0]}.py"
        script.write_text(source)
        tv_script = work / f"{name.split()[0]}_torchviz.py"
        tv_script.write_text(source.split("loss.backward()")[0] + TORCHVIZ_TAIL)
        times: dict[str, list[float]] = {"plain": [], "gradviz": [], "torchviz": []}
        for r in range(args.rounds):
            order = ["plain", "gradviz", "torchviz"] if r % 2 == 0 else ["torchviz", "gradviz", "plain"]
            for what in order:
                if what == "plain":
                    times[what].append(timed([python, str(script)]))
                elif what == "gradviz":
                    command = [python, "-m", "gradviz", "render", str(script), "-o", str(work / "g.png")]
                    times[what].append(timed(command))
                elif have_torchviz:
                    t = timed([args.torchviz_python, str(tv_script), str(work / "t.dot")])
                    t += timed(["dot", "-Tpng", str(work / "t.dot"), "-o", str(work / "t.png")])
                    times[what].append(t)
        rows.append((name, {k: v for k, v in times.items() if v}))
    # torchviz/plain is the most any tool that runs the program could reach in this run.
    print(f"\n{'program':<18}{'plain s':>9}{'gradviz s':>11}{'torchviz+dot s':>16}{'gv/plain':>10}{'torchviz/gv':>13}"
          f"{'torchviz/plain':>16}")
    for name, runs in rows:
        med = {k: statistics.median(v) for k, v in runs.items()}
        plain, gv, tv = med["plain"], med["gradviz"], med.get("torchviz")
        tv_text = f"{tv:.2f}" if tv else "n/a"
        speedup = f"{tv / gv:.1f}" if tv else "n/a"
        bound = f"{tv / plain:.1f}" if tv else "n/a"
        print(f"{name:<18}{plain:>9.2f}{gv:>11.2f}{tv_text:>16}{gv / plain:>10.2f}{speedup:>13}{bound:>16}")
    # Single runs vary: dot took 15 s in some runs of the transformer and 30 s in others here.
    print(f"\n{'range of runs':<18}" + "".join(f"{k:>18}" for k in ("plain s", "gradviz s", "torchviz+dot s")))
    for name, runs in rows:
        cells = [f"{min(runs[k]):.2f}-{max(runs[k]):.2f}" if k in runs else "n/a"
                 for k in ("plain", "gradviz", "torchviz")]
        print(f"{name:<18}" + "".join(f"{c:>18}" for c in cells))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
