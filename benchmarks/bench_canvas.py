"""Canvas benchmark: scene build and one animation step's repaint on a ~5,000-node graph.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_canvas.py [--nodes 5000] [--repeat 5]

Prints medians (ms, wall clock unless marked CPU; the machine is shared, so CPU time is the
steadier figure): measuring the node texts, planning the geometry (the app does it on a worker
thread), building the items, the layout (for reference), the incremental build the app uses
(the longest event-loop turn while items are made in slices, and while the scene shown before
is deleted in slices: both happen in the same turns), and one animation step (``show_frame``
of frame k+1 after frame k, then the event loop paints
what changed) at 1:1 zoom and at fit-all zoom, plus a full viewport repaint at both zooms and
an export of the whole graph to PNG.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40, help="animation steps timed per zoom")
    parser.add_argument("--size", default="1280x800", help="viewport size WxH")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from gradviz.core.replay import Replay
    from gradviz.ui import export, png
    from gradviz.ui.canvas import GraphView
    from gradviz.ui.canvas.plan import compute_layout, node_sizes
    from tests.ui.canvas_data import big_call

    call = big_call(args.nodes)
    graph = call.graph
    # The app freezes a big result as it arrives (ResultController.receive): collections during
    # planning and building then skip its objects. The same here, or the timings below would
    # include full collections over the whole test call the app never makes.
    gc.freeze()
    w, h = (int(v) for v in args.size.split("x"))
    view = GraphView()
    view.resize(w, h)
    view.show()
    app.processEvents()
    scene = view.scene()

    def ms(t0: float) -> float:
        return (time.perf_counter() - t0) * 1000

    def cpu_ms(c0: float) -> float:
        return (time.process_time() - c0) * 1000

    from gradviz.ui.canvas.plan import plan_scene
    from gradviz.ui.canvas.scene import GraphScene

    measure, plan_ms, build, layout_ms, clear = [], [], [], [], []
    cpu_measure, cpu_build = [], []
    for _ in range(args.repeat):
        fresh = GraphScene()
        t0, c0 = time.perf_counter(), time.process_time()
        shapes = fresh.measure(graph)
        measure.append(ms(t0))
        cpu_measure.append(cpu_ms(c0))
        t0 = time.perf_counter()
        layout = compute_layout(graph, node_sizes(shapes), "top")
        layout_ms.append(ms(t0))
        t0 = time.perf_counter()
        plan = plan_scene(graph, layout, shapes, fresh.look)
        plan_ms.append(ms(t0))
        t0, c0 = time.perf_counter(), time.process_time()
        fresh.begin_build(plan)
        fresh.finish_build()
        build.append(ms(t0))
        cpu_build.append(cpu_ms(c0))
        t0 = time.perf_counter()
        fresh.clear_graph()
        clear.append(ms(t0))

    def longest_turn(until) -> tuple[float, int]:
        """Run the event loop until ``until()``; the longest single turn (ms) and the number of turns."""
        worst, turns = 0.0, 0
        while not until():
            t0 = time.perf_counter()
            app.processEvents()
            worst = max(worst, ms(t0))
            turns += 1
        return worst, turns

    # What the app does: the plan comes from a worker thread, the items are made in slices,
    # the scene shown before is deleted in slices.
    incremental = []
    for _ in range(args.repeat):
        plan = plan_scene(graph, layout, shapes, view.scene().look)
        # As the app does once a big result is prepared (result_controller.prepare_result): its objects
        # live on and make no cycles, so no full collection should scan them in the middle of a
        # build slice (here one did: 84 ms of a 110 ms turn).
        gc.freeze()
        t0 = time.perf_counter()
        view.show_graph(graph, layout, plan=plan, incremental=True)
        first = ms(t0)
        worst, turns = longest_turn(lambda: not view.building and view._disposer.pending == 0)
        incremental.append((first, worst, turns))
    view.show_graph(graph, layout)
    app.processEvents()
    scene = view.scene()

    replay = Replay(call)
    total = len(replay) - 1
    first = max(1, total // 2 - args.steps // 2)
    ks = list(range(first, min(total, first + args.steps)))
    frames = {k: replay.frame(k) for k in ks + [ks[-1] + 1]}
    t0 = time.perf_counter()
    for k in ks:
        replay.frame(k)
    frame_ms = ms(t0) / len(ks)

    cpu: dict[str, list[float]] = {}

    def step_times(center_on_current: bool, name: str) -> list[float]:
        out, out_cpu = [], []
        view.show_frame(frames[ks[0]], call)
        app.processEvents()
        for k in ks:
            if center_on_current:
                view.center_on_node(frames[k + 1].current)
                app.processEvents()
            t0, c0 = time.perf_counter(), time.process_time()
            view.show_frame(frames[k + 1], call)
            app.processEvents()
            out.append(ms(t0))
            out_cpu.append(cpu_ms(c0))
        cpu[name] = out_cpu
        return out

    def full_repaint(n: int = 5) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            view.viewport().repaint()
            out.append(ms(t0))
        return out

    results = {}
    view.reset_zoom()
    app.processEvents()
    results["step @1:1"] = step_times(True, "step @1:1 (CPU)")
    results["full repaint @1:1"] = full_repaint()
    view.fit_all()
    app.processEvents()
    results["step @fit-all"] = step_times(False, "step @fit-all (CPU)")
    results["full repaint @fit-all"] = full_repaint()
    scale_fit = view.scale_factor()
    t0 = time.perf_counter()
    png_data = export.png_bytes(scene, scale=1.0)
    export_ms = ms(t0)
    from PySide6.QtGui import QImage
    image = QImage.fromData(png_data, "PNG")
    t0 = time.perf_counter()
    drawn = export.render_image(scene, scale=1.0)
    render_ms = ms(t0)
    t0 = time.perf_counter()
    png.encode(drawn)
    encode_ms = ms(t0)

    print(f"graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {total} steps; "
          f"viewport {w}x{h}, fit-all scale {scale_fit:.3f}")
    print(f"{'what':28s} {'median ms':>10s} {'max ms':>8s}")
    rows = [("measure node texts", measure), ("plan geometry", plan_ms), ("build items", build),
            ("measure + plan + build", [a + b + c for a, b, c in zip(measure, plan_ms, build, strict=True)]),
            ("measure + build (CPU)", [a + b for a, b in zip(cpu_measure, cpu_build, strict=True)]),
            ("clear a built scene", clear),
            ("layout (reference)", layout_ms),
            ("incremental: show_graph", [x[0] for x in incremental]),
            ("incremental: longest turn", [x[1] for x in incremental])]
    rows += list(results.items()) + list(cpu.items())
    for name, values in rows:
        print(f"{name:28s} {statistics.median(values):10.1f} {max(values):8.1f}")
    print(f"{'Replay.frame(k)':28s} {frame_ms:10.2f}")
    print(f"{'incremental: turns':28s} {statistics.median([x[2] for x in incremental]):10.0f}")
    overview = export.uses_overview(scene, image.width() / max(export.export_rect(scene).width(), 1))
    print(f"{'export PNG 1x':28s} {export_ms:10.1f}   ({len(png_data) / 1e6:.1f} MB, "
          f"{image.width()}x{image.height()} px{', overview' if overview else ''})")
    print(f"{'  of which drawing':28s} {render_ms:10.1f}")
    print(f"{'  of which PNG encoding':28s} {encode_ms:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
