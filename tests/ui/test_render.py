"""`gradviz render`: formats, steps, scale, same bytes twice, exit codes (program run by a stand-in engine)."""

from __future__ import annotations

import argparse
import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from PySide6.QtGui import QImage

from gradviz import render
from gradviz.core.result import ErrorInfo, RunResult
from tests.ui.canvas_data import mlp_call, second_backward_call


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    render.add_render_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def script(tmp_path, two_x):
    """The 2xᵀx program as a script file."""
    path = tmp_path / "two_x.py"
    path.write_text(two_x.program)
    return path


@pytest.fixture
def recorded(two_x):
    """A stand-in engine answering the engine's own 2xᵀx result (run once per session)."""
    seen = []

    def run(session):
        seen.append(session.program)
        return two_x.result

    run.seen = seen
    return run


def fake_runner(*calls, error=None):
    seen = []

    def run(session):
        seen.append(session.program)
        return RunResult(backward_calls=tuple(calls), error=error)

    run.seen = seen
    return run


def go(tmp_path, script, out_name, *extra, runner):
    out = tmp_path / out_name
    code = render.run_render(parse(str(script), "-o", str(out), *extra), runner)
    return code, out


def test_png_of_the_finished_pass_and_its_scale(qtbot, tmp_path, script, two_x, recorded):
    code, out = go(tmp_path, script, "a.png", runner=recorded)
    assert code == 0 and recorded.seen == [two_x.program]
    one = QImage(str(out))
    code, out2 = go(tmp_path, script, "b.png", "--scale", "2", runner=recorded)
    two = QImage(str(out2))
    assert code == 0 and abs(two.width() - 2 * one.width()) <= 2 and abs(two.height() - 2 * one.height()) <= 2
    code, out3 = go(tmp_path, script, "c.png", runner=recorded)
    assert out3.read_bytes() == out.read_bytes()  # same input, same bytes


def test_svg_at_a_step_holds_its_labels(qtbot, tmp_path, script, two_x, recorded):
    code, out = go(tmp_path, script, "s.svg", "--step", "2", "--caption", runner=recorded)
    assert code == 0
    texts = {(t.text or "").strip() for t in ET.fromstring(out.read_bytes()).iter("{http://www.w3.org/2000/svg}text")}
    assert {"Dot", "Backward0", "#0  [0, 2, 4, 6]", "two_x", "y.backward()"} <= texts
    assert "step 2 / 3 \u00b7 DotBackward0" in texts
    assert ".grad = [0, 4, 8, 12]" not in texts  # step 2: x.grad not written yet


def test_gif_and_apng_hold_the_whole_pass(qtbot, tmp_path, script, two_x, recorded):
    code, out = go(tmp_path, script, "a.gif", runner=recorded)
    assert code == 0
    assert Image.open(io.BytesIO(out.read_bytes())).n_frames == len(two_x.call.steps) + 1
    first = out.read_bytes()
    go(tmp_path, script, "a.gif", runner=recorded)
    assert out.read_bytes() == first
    code, out = go(tmp_path, script, "a.apng", "--theme", "dark", "--transparent", runner=recorded)
    assert code == 0
    apng = Image.open(io.BytesIO(out.read_bytes()))
    assert apng.n_frames == 4 and apng.mode == "RGBA"


def test_which_call_and_theme(qtbot, tmp_path, script, two_x, recorded):
    runner = fake_runner(two_x.call, mlp_call())
    code, out = go(tmp_path, script, "last.svg", runner=runner)
    assert code == 0 and b"model.0.weight" in out.read_bytes()
    code, out = go(tmp_path, script, "first.svg", "--call", "1", runner=runner)
    assert code == 0 and b"model.0.weight" not in out.read_bytes() and b"Dot" in out.read_bytes()
    code, dark = go(tmp_path, script, "d.png", "--theme", "dark", runner=recorded)
    assert code == 0 and QImage(str(dark)).pixelColor(2, 2).lightness() < 40


def test_graphs_sent_ahead_are_planned_once_and_only_the_wanted_call(qtbot, tmp_path, script, monkeypatch, two_x):
    """The engine's early graphs: the drawing lays out the call it will show, and reuses that plan."""
    from gradviz.core.session import load_path
    from gradviz.ui.canvas import plan as plan_module

    planned = []
    real_plan = plan_module.plan_scene
    monkeypatch.setattr(plan_module, "plan_scene",
                        lambda graph, *rest, **kw: planned.append(graph) or real_plan(graph, *rest, **kw))
    first, second = two_x.call, mlp_call()
    session = load_path(str(script))
    drawing = render.Drawing(session, parse(str(script), "-o", str(tmp_path / "x.png"), "--call", "1"))
    drawing.offer(0, first.graph)
    drawing.offer(1, second.graph)  # not the call asked for: not laid out
    data = drawing.render(RunResult(backward_calls=(first, second)), "png")
    assert planned == [first.graph] and drawing.scene.plan.graph is first.graph
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    planned.clear()
    last = render.Drawing(session, parse(str(script), "-o", str(tmp_path / "y.png")))
    last.offer(0, first.graph)
    last.offer(1, second.graph)  # by default the last call is drawn: each new one is laid out
    last.render(RunResult(backward_calls=(first, second)), "png")
    assert planned == [first.graph, second.graph] and last.scene.plan.graph is second.graph


@pytest.mark.parametrize("extra, message", [
    (("--scale", "0"), "--scale"),
    (("--scale", "100"), "--scale"),
    (("--call", "0"), "--call counts from 1"),
    (("--call", "3"), "made 1 backward call"),
    (("--step", "9"), "has 3 steps"),
    (("--step", "-1"), "--step"),
])
def test_unusable_arguments_exit_2_with_one_line(qtbot, tmp_path, script, capsys, extra, message, recorded):
    code, out = go(tmp_path, script, "x.png", *extra, runner=recorded)
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_unusable_files_exit_2(qtbot, tmp_path, script, capsys, recorded):
    code, _ = go(tmp_path, script, "x.jpeg", runner=recorded)
    assert code == 2 and "use .png, .svg, .gif or .apng" in capsys.readouterr().err
    code, _ = go(tmp_path, tmp_path / "missing.gradviz", "x.png", runner=recorded)
    assert code == 2 and capsys.readouterr().err.startswith("gradviz render: ")
    bad = tmp_path / "bad.gradviz"
    bad.write_text("{not json")
    code, _ = go(tmp_path, bad, "x.png", runner=recorded)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    code, _ = go(tmp_path, script, "no/such/dir/x.png", runner=recorded)
    assert code == 2 and "does not exist" in capsys.readouterr().err
    code, _ = go(tmp_path, script, "x.gif", "--step", "1", runner=recorded)
    assert code == 2 and "whole pass" in capsys.readouterr().err


def test_failing_program_exits_1_with_a_clear_message(qtbot, tmp_path, script, capsys, two_x):
    err = ErrorInfo("RuntimeError", "Trying to backward through the graph a second time.", 5,
                    "Pass retain_graph=True to the first backward().")
    runner = fake_runner(two_x.call, second_backward_call(two_x.call), error=err)
    code, out = go(tmp_path, script, "e.png", runner=runner)
    text = capsys.readouterr().err
    assert code == 1
    assert "the program failed: line 5: RuntimeError: Trying to backward" in text and "retain_graph=True" in text
    assert out.exists()  # the graph with the error banner is still written
    runner = fake_runner(error=ErrorInfo("NameError", "name 'q' is not defined", 2))
    code, out = go(tmp_path, script, "e2.png", runner=runner)
    assert code == 1 and "line 2: NameError" in capsys.readouterr().err and not out.exists()


def test_no_backward_call_draws_the_variable_graph_but_cannot_animate(qtbot, tmp_path, script, capsys, two_x):
    from gradviz.core.result import TensorInfo, TensorValue

    graph = two_x.call.graph
    info = TensorInfo("y", (), "float32", True, False, TensorValue((), "float32", 28.0), grad_fn="MulBackward0",
                      node_id="n1")

    def runner(session):
        return RunResult(variables=(info,), graph=graph)

    code, out = go(tmp_path, script, "v.svg", runner=runner)
    assert code == 0 and b"Mul" in out.read_bytes()
    code, _ = go(tmp_path, script, "v.gif", runner=runner)
    assert code == 2 and "no backward call" in capsys.readouterr().err


def test_main_parses_and_refuses_bad_choices(tmp_path, script):
    with pytest.raises(SystemExit) as exc:
        render.main([str(script), "-o", str(tmp_path / "a.png"), "--theme", "pink"])
    assert exc.value.code == 2


# ------------------------------------------------------------------------------- the real engine
def engine_runner(session):
    """The engine in-process (same RunResult as the worker, without a second torch import)."""
    from gradviz.core.request import RunRequest
    from gradviz.engine.run import run_request

    return run_request(RunRequest(session.program, seed=session.seed))


def test_real_program_png_svg_gif(qtbot, tmp_path, script):
    code, png1 = go(tmp_path, script, "r1.png", runner=engine_runner)
    assert code == 0
    code, png2 = go(tmp_path, script, "r2.png", "--scale", "2", runner=engine_runner)
    a, b = QImage(str(png1)), QImage(str(png2))
    assert abs(b.width() - 2 * a.width()) <= 2 and abs(b.height() - 2 * a.height()) <= 2
    code, again = go(tmp_path, script, "r3.png", runner=engine_runner)
    assert again.read_bytes() == png1.read_bytes()
    code, svg = go(tmp_path, script, "r.svg", runner=engine_runner)
    texts = {(t.text or "").strip() for t in ET.fromstring(svg.read_bytes()).iter("{http://www.w3.org/2000/svg}text")}
    assert {"Mul", "Dot", "Accumulate", "x", "y", "[0, 4, 8, 12]", ".grad = [0, 4, 8, 12]"} <= texts
    code, gif = go(tmp_path, script, "r.gif", runner=engine_runner)
    assert code == 0 and Image.open(io.BytesIO(gif.read_bytes())).n_frames == 4  # start + 3 steps


def test_the_gradviz_render_command(tmp_path, script):
    """The whole path: `python -m gradviz render`, the engine in its worker process, offscreen Qt."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def gradviz(*args):
        return subprocess.run([sys.executable, "-m", "gradviz", "render", *args], capture_output=True,
                              text=True, cwd=root, timeout=180)

    out = tmp_path / "cli.png"
    proc = gradviz(str(script), "-o", str(out), "--step", "2")
    assert proc.returncode == 0, proc.stderr
    assert QImage(str(out)).width() > 100
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\n")
    proc = gradviz(str(bad), "-o", str(tmp_path / "bad.png"))
    assert proc.returncode == 1
    assert "line 4" in proc.stderr and "Traceback" not in proc.stderr
    proc = gradviz(str(script), "-o", str(tmp_path / "x.bmp"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_a_call_beyond_those_recorded_says_how_many_were(qtbot, tmp_path, script, capsys, two_x):
    note = "The program made 300 backward calls; the first 200 are recorded step by step."

    def runner(session):
        return RunResult(backward_calls=(two_x.call,), notes=(note,))

    code, _ = go(tmp_path, script, "x.png", "--call", "201", runner=runner)
    err = capsys.readouterr().err
    assert code == 2 and err == f"gradviz render: --call 201: {note}\n"


def test_notes_of_the_run_are_told_after_writing(qtbot, tmp_path, script, capsys, two_x):
    note = "Backward call 1 went through more than 20,000 autograd nodes: the first 20,000 are drawn."

    def runner(session):
        return RunResult(backward_calls=(two_x.call,), notes=(note,))

    code, out = go(tmp_path, script, "n.png", runner=runner)
    assert code == 0 and out.exists()
    assert capsys.readouterr().err == f"gradviz render: note: {note}\n"


BIG = ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x\nfor i in range(160):\n"
       "    y = y * 1.01 + 0.1\ny.sum().backward()\n")


def test_an_overview_is_cropped_to_the_graph_at_every_step(qtbot, tmp_path):
    """The overview hides badges and labels: their room (sized by the numbers they hold) is not kept.

    Before, the last frame of this 325-node chain at scale 0.4 was 170 px wide and the others 72:
    the AccumulateGrad badge, hidden, still widened the crop."""
    script = tmp_path / "big.py"
    script.write_text(BIG)
    sizes = set()
    for step in ("0", "2", "322"):
        code, out = go(tmp_path, script, f"s{step}.png", "--scale", "0.4", "--step", step, runner=engine_runner)
        assert code == 0
        sizes.add(Image.open(out).size)
    assert len(sizes) == 1 and next(iter(sizes))[0] < 100
