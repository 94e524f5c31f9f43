"""What marking the nodes a create_graph backward made costs: the plain call against gradviz's.

Run from the checkout root:  python benchmarks/bench_made_by.py [--nodes 2000] [--runs 7]

A chain of sin and mul nodes (``--nodes`` in the first graph; its create_graph backward makes
about as many again); the best of ``--runs`` for: the plain ``autograd.grad(create_graph=True)``,
gradviz's (anomaly mode with no stacks, then stamp_made over the nodes it made) and torch's own
anomaly mode with its per-node Python stacks, which gradviz avoids. Reports seconds and ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from gradviz.engine.made_by import run_recording_parents, stamp_made  # noqa: E402


def chain(nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    x = torch.randn(16, requires_grad=True)
    h = x
    for _ in range(nodes // 2):
        h = torch.sin(h) * 1.01
    return x, h.sum()


def plain(x, y):
    return torch.autograd.grad(y, x, create_graph=True)


def gradviz_marked(x, y):
    result, owned = run_recording_parents(torch.autograd.grad, (y, x), {"create_graph": True})
    stamp_made(0, result, {}, owned)
    return result


def anomaly_with_stacks(x, y):
    with torch.autograd.set_detect_anomaly(True, check_nan=False):
        return torch.autograd.grad(y, x, create_graph=True)


def best(fn, nodes: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        x, y = chain(nodes)
        start = time.perf_counter()
        fn(x, y)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the engine runs
    base = best(plain, args.nodes, args.runs)
    marked = best(gradviz_marked, args.nodes, args.runs)
    stacks = best(anomaly_with_stacks, args.nodes, args.runs)
    print(f"create_graph backward of a {args.nodes:,}-node graph, best of {args.runs}")
    print(f"  plain                      {base * 1000:8.2f} ms")
    print(f"  gradviz (parents marked)   {marked * 1000:8.2f} ms  {marked / base:5.2f}x")
    print(f"  torch anomaly with stacks  {stacks * 1000:8.2f} ms  {stacks / base:5.2f}x")


if __name__ == "__main__":
    main()
