"""Cost of recording a backward pass at ~5,000 nodes: hooks on every node vs the same backward without.

Run: python benchmarks/bench_engine.py [--repeats N]
Prints medians of alternating runs and their ratios; the graph is rebuilt for every run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import programs  # noqa: E402

from gradviz.engine.tracer import Tracer  # noqa: E402


def build(source: str) -> dict:
    """Run a benchmark program up to (not including) its backward call."""
    forward = source.split("loss.backward()")[0]
    namespace: dict = {}
    exec(forward, namespace)  # benchmark harness: plain Python on our own program text
    return namespace


def plain_backward(source: str) -> float:
    ns = build(source)
    start = time.perf_counter()
    ns["loss"].backward()
    return time.perf_counter() - start


def traced_backward(source: str) -> tuple[float, float, int]:
    """(seconds of the hooked backward alone, seconds of the whole recording, steps)."""
    ns = build(source)
    tracer = Tracer()
    tracer.bind(lambda: list(ns.items()))
    start = time.perf_counter()
    tracer.run_backward("backward", 1, torch.Tensor.backward, (ns["loss"],), {})
    total = time.perf_counter() - start
    return tracer.hook_seconds, total, len(tracer.calls[0].steps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    gc.set_threshold(100_000, 50, 100)  # as the engine does during a run
    torch.set_num_threads(1)  # as the engine worker runs (engine/client.py)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'graph':<14}{'steps':>7}{'plain ms':>10}{'hooked ms':>11}{'ratio':>7}{'record ms':>11}{'ratio':>7}")
    for name, source in (("transformer", programs.transformer(82)), ("chain", programs.chain(1666))):
        plain, hooked, whole = [], [], []
        steps = 0
        for _ in range(args.repeats):
            plain.append(plain_backward(source))
            h, w, steps = traced_backward(source)
            hooked.append(h)
            whole.append(w)
        p, h, w = (statistics.median(v) * 1000 for v in (plain, hooked, whole))
        print(f"{name:<14}{steps:>7}{p:>10.1f}{h:>11.1f}{h / p:>7.2f}{w:>11.1f}{w / p:>7.2f}")


if __name__ == "__main__":
    main()
