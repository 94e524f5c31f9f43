"""`gradviz render A B --compare`: both graphs side by side in PNG/SVG/GIF, marks, steps, errors.

The programs run in the engine in this process (real RunResults); the drawing is the real one.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage

from gradviz import render
from gradviz.core.request import RunRequest
from gradviz.ui.canvas.compare_marks import GRAD, MARK_COLORS, ONLY

SQUARE = """import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = (x * x).sum()
y.backward()
"""
TIMES_3 = SQUARE.replace("(x * x).sum()", "(x * x * 3).sum()")
FAILING = TIMES_3 + "raise ValueError('after the backward call')\n"

LEGEND_PX = 48  # the legend strip at the top of a compare picture (scale 1)

_cache: dict[str, object] = {}


def engine(session):
    """The engine run in this process (once per program)."""
    engine.seen.append(session.program)
    if session.program not in _cache:
        from gradviz.engine.run import run_request

        _cache[session.program] = run_request(RunRequest(session.program, seed=session.seed))
    return _cache[session.program]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    render.add_render_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def files(tmp_path):
    engine.seen = []
    paths = {}
    for name, program in {"a": SQUARE, "b": TIMES_3, "bad": FAILING}.items():
        paths[name] = tmp_path / f"{name}.py"
        paths[name].write_text(program)
    return paths


def go(tmp_path, *argv, out="pair.png"):
    path = tmp_path / out
    return render.run_render(parse(*map(str, argv), "-o", str(path)), engine), path


def svg_texts(data: bytes) -> set[str]:
    return {(t.text or "").strip() for t in ET.fromstring(data).iter("{http://www.w3.org/2000/svg}text")}


def count_color(image: QImage, color: str, x0: int, x1: int, tolerance: int = 24) -> int:
    """Pixels near ``color`` between x0 and x1, below the legend (whose swatches use the mark colours)."""
    want = QColor(color)
    found = 0
    for y in range(LEGEND_PX, image.height(), 2):
        for x in range(x0, x1, 2):
            c = image.pixelColor(x, y)
            if (abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue())) < tolerance:
                found += 1
    return found


def test_png_has_both_graphs_side_by_side_with_their_marks(qtbot, tmp_path, files):
    code, single_a = go(tmp_path, files["a"], out="a.png")
    code_b, single_b = go(tmp_path, files["b"], out="b.png")
    assert code == code_b == 0
    code, out = go(tmp_path, files["a"], files["b"], "--compare")
    assert code == 0 and engine.seen[-2:] == [SQUARE, TIMES_3]
    pair, a, b = QImage(str(out)), QImage(str(single_a)), QImage(str(single_b))
    # Two pictures (each a little wider for its title and step text) and a gap, above them a legend.
    assert pair.width() >= a.width() + b.width() and pair.height() > max(a.height(), b.height())
    half = pair.width() // 2
    only = MARK_COLORS["light"][ONLY]
    assert count_color(pair, only, 0, half) == 0  # A has every node B has but one: no ring on the left
    assert count_color(pair, only, half, pair.width()) > 20  # the extra MulBackward0 of B is ringed
    grad = MARK_COLORS["light"][GRAD]
    assert count_color(pair, grad, 0, half) > 20 and count_color(pair, grad, half, pair.width()) > 20  # x on both
    again = go(tmp_path, files["a"], files["b"], "--compare", out="again.png")[1]
    assert again.read_bytes() == out.read_bytes()  # same input, same bytes
    code, big = go(tmp_path, files["a"], files["b"], "--compare", "--scale", "2", out="big.png")
    big = QImage(str(big))
    assert code == 0 and abs(big.width() - 2 * pair.width()) <= 4 and abs(big.height() - 2 * pair.height()) <= 4


def test_svg_names_both_runs_the_legend_and_the_paired_step(qtbot, tmp_path, files):
    code, out = go(tmp_path, files["a"], files["b"], "--compare", "--step", "2", "--caption", out="pair.svg")
    assert code == 0
    texts = svg_texts(out.read_bytes())
    assert {"a", "b", "y.backward()"} <= texts  # the titles (the scripts' names) and the statement
    assert {"step 2 / 3 \u00b7 MulBackward0", "step 2 / 4 \u00b7 MulBackward0"} <= texts
    assert {"node only one run has (0 in A, 1 in B)", ".grad differs: x"} <= texts


def test_gif_steps_both_together_for_the_longer_pass(qtbot, tmp_path, files):
    code, out = go(tmp_path, files["a"], files["b"], "--compare", out="pair.gif")
    assert code == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 5  # max(3, 4) steps + the frame before the first
        size = gif.size
    code, single = go(tmp_path, files["b"], out="b.gif")
    with Image.open(single) as gif:
        assert gif.n_frames == 5 and size[0] > 2 * gif.size[0] * 0.9
    code, apng = go(tmp_path, files["a"], files["b"], "--compare", out="pair.apng")
    with Image.open(apng) as im:
        assert code == 0 and im.n_frames == 5


def test_a_compare_session_alone_renders_both(qtbot, tmp_path, files):
    lesson = tmp_path / "pair.gradviz"
    lesson.write_text(json.dumps({"format": "gradviz-session", "version": 4, "title": "Lesson", "program": SQUARE,
                                  "compare": {"title": "Times three", "program": TIMES_3, "title_a": "Plain"}}))
    code, out = go(tmp_path, lesson, out="lesson.svg")
    assert code == 0 and engine.seen == [SQUARE, TIMES_3]
    assert {"Plain", "Times three"} <= svg_texts(out.read_bytes())
    code, out = go(tmp_path, lesson, "--compare", out="lesson2.svg")
    assert code == 0 and {"Plain", "Times three"} <= svg_texts(out.read_bytes())
    code, out = go(tmp_path, lesson, files["a"], "--compare", out="lesson3.svg")  # B given: it wins
    texts = svg_texts(out.read_bytes())
    assert code == 0 and {"Lesson", "a", "No differences: the same nodes and the same .grad values"} <= texts


@pytest.mark.parametrize("argv, message", [
    (("{a}", "{missing}", "--compare"), "B: {missing}: no such file"),
    (("{a}", "{b}"), "a second file ('{b}') is drawn only with --compare"),
    (("{a}", "--compare"), "--compare needs a second file B"),
    (("{a}", "{b}", "--compare", "--step", "9"), "--step 9: the longer backward call has 4 steps (0 to 4)"),
    (("{a}", "{b}", "--compare", "--call", "2"), "--call 2: A made 1 backward call(s)"),
])
def test_unusable_arguments_exit_2_with_one_line(qtbot, tmp_path, files, capsys, argv, message):
    names = {k: str(v) for k, v in files.items()} | {"missing": str(tmp_path / "missing.py")}
    code, out = go(tmp_path, *(a.format(**names) for a in argv))
    err = capsys.readouterr().err
    assert code == 2 and message.format(**names) in err and err.count("\n") == 1 and not out.exists()


def test_bad_extension_exits_2(qtbot, tmp_path, files, capsys):
    code, _ = go(tmp_path, files["a"], files["b"], "--compare", out="pair.bmp")
    assert code == 2 and "cannot tell the format" in capsys.readouterr().err


def test_a_failing_side_is_named_and_the_pair_still_drawn(qtbot, tmp_path, files, capsys):
    code, out = go(tmp_path, files["a"], files["bad"], "--compare")
    err = capsys.readouterr().err
    assert code == 1 and out.exists()
    assert "B (bad): the program failed: line 5: ValueError: after the backward call" in err


def test_real_engine_worker_renders_the_zero_grad_lesson(qtbot, tmp_path):
    """The shipped lesson through the real engine worker (no stand-in): both runs, both titles."""
    from gradviz.core.resources import example_paths

    lesson = next(p for p in example_paths() if p.stem == "09-zero-grad-compare")
    out = tmp_path / "lesson.svg"
    assert render.run_render(parse(str(lesson), "-o", str(out))) == 0
    texts = svg_texts(out.read_bytes())
    assert {"With zero_grad", "Without zero_grad", ".grad differs: w"} <= texts
    assert ".grad = [-5.625]" in texts and ".grad = [-20.62]" in texts  # one reset, one climbed


def test_the_legend_speaks_the_language_of_gradviz_words(qtbot, tmp_path, files):
    from gradviz.core import i18n

    i18n.set_language("zh_CN")
    try:
        code, out = go(tmp_path, files["a"], files["b"], "--compare", out="zh.svg")
    finally:
        i18n.set_language("en")
    # Qt writes a run of text per font (CJK from a CJK font): join them in document order.
    drawn = "".join((t.text or "") for t in ET.fromstring(out.read_bytes()).iter("{http://www.w3.org/2000/svg}text"))
    assert code == 0 and "只有一边有的节点（A 中 0 个，B 中 1 个）" in drawn and ".grad 不同：x" in drawn


def test_the_command_takes_b_after_the_options(qtbot, tmp_path, files):
    """`gradviz render A -o OUT B --compare`, through the real engine worker."""
    from gradviz import cli

    out = tmp_path / "cli.svg"
    assert cli.main(["render", str(files["a"]), "-o", str(out), str(files["b"]), "--compare"]) == 0
    assert {"a", "b", ".grad differs: x"} <= svg_texts(out.read_bytes())
