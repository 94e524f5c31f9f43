"""App responsiveness: launch to window and to first graph, and how long the UI thread blocks on big graphs.

Run from the checkout root:  QT_QPA_PLATFORM=offscreen python benchmarks/bench_app.py [--runs 5]

1. Launch: ``python -m gradviz`` (the real command) is started N times; the app reports the
   wall-clock moment its window was shown and the moment the first graph was drawn
   (GRADVIZ_TIMING=quit). Beside it, the anchor: ``python -c "import torch"`` in the same runs.
2. UI thread: the real main window on the real engine (a worker process) runs the 2xᵀx
   example, then a ~5,000-node program; a 10 ms QTimer records the longest gap in the event
   loop in each phase (showing the result, stepping at fit-all and 1:1, scrubbing, playing).
   Reports those stalls, the time one animation step takes (``step_forward`` plus the event
   loop painting what changed in every panel) and the UI process's resident memory.
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


class StallMonitor:
    """A 10 ms QTimer on the UI thread: the longest gap between two ticks is the longest stall.

    Gaps are filed under the phase that was current when the gap ended (``phase``).
    """

    INTERVAL_MS = 10

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.phase = "idle"
        self.worst: dict[str, float] = {}
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000
        self.worst[self.phase] = max(self.worst.get(self.phase, 0.0), gap)
        self._last = now

    def enter(self, phase: str) -> None:
        self._tick()
        self.phase = phase

    def stop(self) -> None:
        self._tick()
        self._timer.stop()


def rss_mb() -> tuple[float, float]:
    """(resident now, peak resident) of this process in MB, from /proc/self/status."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(rest.split()[0]) / 1024
    return fields.get("VmRSS", float("nan")), fields.get("VmHWM", float("nan"))


def app_session(program_name: str, steps: int = 40, size: tuple[int, int] = (1440, 900)) -> dict[str, object]:
    """The real main window on the real engine (a worker process, as the app runs it).

    Runs the 2xᵀx example, then a ~5,000-node program; records the longest UI-thread stall in
    each phase (showing the result, stepping at fit-all and at 1:1, scrubbing, playing), the
    time one animation step takes (``step_forward`` and the event loop painting what changed:
    canvas, slider, inspector, gradients panel, plot), and the UI process's resident memory.
    """
    from PySide6.QtWidgets import QApplication

    from benchmarks.programs import chain, transformer
    from gradviz.ui.app import create_window

    app = QApplication.instance() or QApplication([])
    window = create_window(settings_dir=tempfile.mkdtemp())
    window.resize(*size)
    window.ensure_panels()  # as run_app does: pyqtgraph loads before the window shows
    window.show()
    monitor = StallMonitor()
    shown: list = []
    window.graph_shown.connect(shown.append)

    def pump(seconds: float, until=None) -> bool:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
            if until is not None and until():
                return True
        return False

    monitor.enter("start + 2xTx")
    window.run_all()
    if not pump(120, lambda: bool(shown)):
        raise RuntimeError("the first graph never came")
    pump(0.3)
    rss_small = rss_mb()[0]
    program = {"chain": chain, "transformer": transformer}[program_name]()
    window.editor.setPlainText(program)
    shown.clear()
    monitor.enter("show result")
    t0 = time.perf_counter()
    window.run_all()
    if not pump(300, lambda: bool(shown) and len(shown[-1].nodes) > 100):
        raise RuntimeError("the big graph never came")
    to_graph = time.perf_counter() - t0
    monitor.enter("after shown")
    pump(1.0)
    view, player = window.view, window.player
    total = player.total

    def step_run(name: str, start: int, follow: bool) -> list[float]:
        player.pause()
        player.seek(start)
        pump(0.2)
        monitor.enter(name)
        out = []
        for _ in range(steps):
            t = time.perf_counter()
            player.step_forward()
            app.processEvents()
            out.append((time.perf_counter() - t) * 1000)
            time.sleep(0.002)
            app.processEvents()
        return out

    results: dict[str, object] = {}
    view.fit_all()
    results["step @fit-all"] = step_run("steps @fit-all", total // 2 - steps // 2, False)
    view.reset_zoom()
    view.center_on_node(player.frame.current)
    pump(0.2)
    results["step @1:1"] = step_run("steps @1:1", total // 3, True)
    monitor.enter("repaint @1:1")
    reps = []
    for _ in range(5):
        t = time.perf_counter()
        view.viewport().repaint()
        reps.append((time.perf_counter() - t) * 1000)
    results["full repaint @1:1"] = reps
    monitor.enter("scrub @1:1")
    scrub = []
    for k in (1, total // 4, total // 2, total - 1, 3 * total // 4, 2, total):
        t = time.perf_counter()
        player.seek(k)
        app.processEvents()
        scrub.append((time.perf_counter() - t) * 1000)
    results["scrub jump"] = scrub
    view.fit_all()
    player.seek(0)
    pump(0.2)
    monitor.enter("play 4x @fit-all")
    player.set_speed(4.0)
    s0 = player.step
    player.play()
    pump(3.0)
    player.pause()
    played = player.step - s0
    monitor.enter("end")
    rss, peak = rss_mb()
    monitor.stop()
    nodes = len(shown[-1].nodes)
    window.close()
    window.runner.close()
    out = {"nodes": nodes, "steps": total, "run to graph s": round(to_graph, 2),
           "largest stall ms": {k: round(v) for k, v in monitor.worst.items()},
           "played steps in 3 s at 4x": played,
           "RSS MB (2xTx, now, peak)": (round(rss_small), round(rss), round(peak))}
    for name, values in results.items():
        out[f"{name} ms (median, max)"] = (round(statistics.median(values), 1), round(max(values), 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-launch", action="store_true")
    parser.add_argument("--steps", type=int, default=40, help="animation steps timed at each zoom")
    parser.add_argument("programs", nargs="*", default=["transformer", "chain"],
                        help="benchmarks/programs.py programs to show (default: transformer chain)")
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
    for name in args.programs:
        print(name)
        for key, value in app_session(name, steps=args.steps).items():
            print(f"  {key:<32} {value}")


if __name__ == "__main__":
    main()
