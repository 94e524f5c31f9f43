"""App responsiveness: launch to window and to first graph, and how long the UI thread blocks on big graphs.

Run from the checkout root:  QT_QPA_PLATFORM=offscreen python benchmarks/bench_app.py [--runs 5]

1. Launch: ``python -m gradviz`` (the real command) is started N times; the app reports the
   wall-clock moment its window was shown and the moment the first graph was drawn
   (GRADVIZ_TIMING=quit). Beside it, the anchor: ``python -c "import torch"`` in the same runs.
2. UI thread: the main window shows the RunResult of a ~5,000-node program (the engine runs it
   once, in-process, before the window is made); a 5 ms QTimer records every gap in the event
   loop while the result is shown and while the animation steps. Reports the largest gaps and
   the time one animation step takes to repaint.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def launch_times(runs: int) -> dict[str, list[float]]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"), GRADVIZ_TIMING="quit")
    out: dict[str, list[float]] = {"window": [], "graph": [], "import torch": []}
    for _ in range(runs):
        # Alternate the app and the anchor so load on the machine hits both alike.
        with tempfile.TemporaryDirectory() as cfg:
            env["GRADVIZ_CONFIG_DIR"] = cfg
            t0 = time.time()
            proc = subprocess.run([sys.executable, "-m", "gradviz"], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=180)
        marks = dict(line.split()[1:3] for line in proc.stderr.splitlines() if line.startswith("gradviz-timing"))
        if "shown" in marks:
            out["window"].append(float(marks["shown"]) - t0)
        if "graph" in marks:
            out["graph"].append(float(marks["graph"]) - t0)
        t0 = time.time()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        out["import torch"].append(time.time() - t0)
    return out


def ui_blocking(program_name: str, steps: int = 6) -> dict[str, object]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.programs import chain, transformer
    from gradviz.core.request import RunRequest
    from gradviz.engine.run import run_request

    program = {"chain": chain, "transformer": transformer}[program_name]()
    result = run_request(RunRequest(program))
    app = QApplication.instance() or QApplication([])
    from gradviz.ui.app import create_window

    class Canned:
        def start(self): pass
        def wait_ready(self, timeout): return True
        def run(self, request, on_progress=None): return result
        def cancel(self): pass
        def kill(self): pass
        def close(self): pass

    window = create_window(settings_dir=tempfile.mkdtemp(), client_factory=Canned)
    window.show()
    window.ensure_panels()
    gaps: list[tuple[float, str]] = []
    phase = ["idle"]
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0], phase[0]))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()

    def pump(seconds: float, until=None) -> None:
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.001)
            if until is not None and until():
                return

    shown = []
    window.graph_shown.connect(shown.append)
    phase[0] = "show result"
    last[0] = t0 = time.perf_counter()
    window.run_all()
    pump(120, lambda: shown)
    to_graph = time.perf_counter() - t0
    pump(0.2)
    phase[0] = "animation"
    step_ms = []
    total = window.player.total
    for k in [1, 2, 3, total // 2, total // 2 + 1, total - 1][:steps]:
        t = time.perf_counter()
        window.player.seek(k)
        window.view.viewport().repaint()
        step_ms.append((time.perf_counter() - t) * 1000)
        pump(0.05)
    window.close()
    by_phase: dict[str, float] = {}
    for gap, name in gaps:
        by_phase[name] = max(by_phase.get(name, 0.0), gap)
    nodes = len(result.backward_calls[-1].graph.nodes) if result.backward_calls else len(result.graph.nodes)
    return {"nodes": nodes, "steps": total, "run to graph s": to_graph,
            "largest gap ms": {k: round(v * 1000) for k, v in by_phase.items()},
            "step repaint ms": [round(x, 1) for x in step_ms]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-launch", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not args.skip_launch:
        times = launch_times(args.runs)
        print(f"launch, median of {args.runs} (s):")
        for name, values in times.items():
            print(f"  {name:<14} {statistics.median(values):6.3f}   (min {min(values):.3f}, max {max(values):.3f})"
                  if values else f"  {name:<14} n/a")
        if times["graph"] and times["import torch"]:
            extra = statistics.median(times["graph"]) - statistics.median(times["import torch"])
            print(f"  first graph - import torch = {extra:+.3f} s")
    for name in ("chain", "transformer"):
        print(name, ui_blocking(name))


if __name__ == "__main__":
    main()
