"""The d2l-zh §2.5 lesson pack: Chinese lessons with English twins, run through the real engine.

Every lesson loads, says what it teaches in its own language, runs in gradviz exactly as in plain
Python + torch, and gives the values d2l promises (x.grad == 4x, ones, 2x, u, d / a, cos and -sin).
The lessons that fail on purpose fail with the hint their notes promise, on the line they name, and
doing exactly what the notes say leads, one fix at a time, to a clean run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gradviz.core.request import RunRequest
from gradviz.core.resources import lesson_pack_languages, lesson_pack_paths
from gradviz.core.session import dumps_session, load_session
from gradviz.engine.run import run_request

CHECKOUT = Path(__file__).resolve().parents[2]
LANGS = ("zh_CN", "en")
STEMS = ["01-dot-product", "02-zero-then-sum", "03-non-scalar", "04-detach", "05-control-flow",
         "06-backward-twice", "07-second-derivative", "08-vector-control-flow", "09-blog-mistakes"]
CASES = [(lang, stem) for lang in LANGS for stem in STEMS]
IDS = [f"{lang}-{stem}" for lang, stem in CASES]

HAN = re.compile(r"[\u4e00-\u9fff]")  # Chinese characters
CJK_ANY = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")  # and CJK punctuation, full-width forms


def lesson(lang: str, stem: str):
    path = next(p for p in lesson_pack_paths(lang) if p.stem == stem)
    return path, load_session(path)


def engine(program: str, seed: int = 0):
    return run_request(RunRequest(program=program, seed=seed))


def leaf_after(call, name: str) -> list[float]:
    leaf = next(grad for grad in call.leaves if grad.name == name)
    data = leaf.after.data
    return data if isinstance(data, list) else [data]


def follow(lang: str, notes: str) -> list[tuple[int, str, str]]:
    """The edits the notes tell the reader to make, in order: (line, text there, text after)."""
    if lang == "en":
        change = r'[Oo]n line (\d+), change "([^"]+)" to "([^"]+)"'
        uncomment = r"delete the # at the start of line (\d+), (#[^,]+),"
    else:
        change = r"把第 (\d+) 行的 “([^”]+)” 改成 “([^”]+)”"
        uncomment = r"删掉第 (\d+) 行 (#\S+) 行首的 #"
    edits = [(m.start(), int(m[1]), m[2], m[3]) for m in re.finditer(change, notes)]
    edits += [(m.start(), int(m[1]), m[2], m[2].replace("#", "", 1)) for m in re.finditer(uncomment, notes)]
    return [edit[1:] for edit in sorted(edits)]


def apply(program: str, line: int, old: str, new: str) -> str:
    lines = program.split("\n")
    assert old in lines[line - 1], (line, old, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines)


def run_for_real(program: str, seed: int) -> tuple[str, BaseException | None]:
    """Plain Python + torch (tests only: the package never execs user code)."""
    torch.manual_seed(seed)
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out):
        try:
            exec(program, {"__name__": "__lesson__"})  # noqa: S102 - trusted, shipped lesson text
        except Exception as exc:  # noqa: BLE001 - recorded and checked by the caller
            error = exc
    return out.getvalue(), error


# -- the pack ------------------------------------------------------------------------------------------

def test_the_pack_has_the_same_lessons_in_chinese_and_english():
    """The nine d2l lessons, and compare mode's "with and without zero_grad" (tests/core/test_compare_lessons.py)."""
    assert lesson_pack_languages() == ["en", "zh_CN"]
    for lang in LANGS:
        assert [p.stem for p in lesson_pack_paths(lang)] == [*STEMS, "10-compare-zero-grad"]


def test_a_language_without_a_pack_gets_the_english_one():
    assert lesson_pack_paths("fr") == lesson_pack_paths("en")
    assert lesson_pack_paths("../../..") == lesson_pack_paths("en")  # a folder name, never a path


@pytest.mark.parametrize(("lang", "stem"), CASES, ids=IDS)
def test_lesson_is_a_clean_session_written_in_its_language(lang, stem):
    path, session = lesson(lang, stem)
    assert dumps_session(session) == path.read_bytes()  # stored exactly as gradviz saves it
    assert session.limits is None and session.seed == 0 and "import torch" in session.program
    assert 5 <= len(session.title) <= 60 and len(session.notes) >= 150
    comments = "".join(tok for line in session.program.splitlines() for tok in re.findall(r"#.*", line))
    if lang == "zh_CN":
        for text in (session.title, session.notes, comments):
            assert HAN.search(text), text
    else:
        for text in (session.title, session.notes, session.program):
            assert not CJK_ANY.search(text), CJK_ANY.findall(text)


def _shape(program: str) -> str:
    """The program's AST with every string emptied (comments are not in it)."""
    tree = ast.parse(program)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


@pytest.mark.parametrize("stem", STEMS)
def test_chinese_lesson_and_its_english_twin_run_the_same_program(stem):
    (_, zh), (_, en) = lesson("zh_CN", stem), lesson("en", stem)
    assert _shape(zh.program) == _shape(en.program)
    assert zh.program.count("\n") == en.program.count("\n")  # the line numbers in the notes agree
    assert zh.program != en.program and zh.title != en.title  # each in its own language


@pytest.mark.parametrize(("lang", "stem"), CASES, ids=IDS)
def test_lesson_runs_through_gradviz_as_in_real_torch(lang, stem):
    _, session = lesson(lang, stem)
    real_stdout, real_error = run_for_real(session.program, session.seed)
    result = engine(session.program, session.seed)
    assert result.stdout == real_stdout
    if real_error is None:
        assert result.error is None, result.error
    else:
        assert result.error.type == type(real_error).__name__


# -- the values d2l promises ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_2xtx_has_the_gradient_4x(lang):
    result = engine(lesson(lang, "01-dot-product")[1].program)
    (call,) = result.backward_calls
    assert leaf_after(call, "x") == [0.0, 4.0, 8.0, 12.0]
    lines = result.stdout.splitlines()
    assert lines[0].endswith("None") and lines[-1].endswith("tensor([True, True, True, True])")


@pytest.mark.parametrize("lang", LANGS)
def test_sum_after_zeroing_gives_ones_and_without_zeroing_they_add_up(lang):
    calls = engine(lesson(lang, "02-zero-then-sum")[1].program).backward_calls
    assert [leaf_after(c, "x") for c in calls] == [[0.0, 4.0, 8.0, 12.0], [1.0] * 4, [2.0] * 4]


@pytest.mark.parametrize("lang", LANGS)
def test_non_scalar_y_summed_gives_2x_and_the_commented_line_teaches_why(lang):
    _, session = lesson(lang, "03-non-scalar")
    (call,) = engine(session.program).backward_calls
    assert leaf_after(call, "x") == [0.0, 2.0, 4.0, 6.0]
    ((line, old, new),) = follow(lang, session.notes)  # "delete the # at the start of line 6"
    assert (line, old) == (6, "#y.backward()")
    failed = engine(apply(session.program, line, old, new))
    assert failed.error.type == "RuntimeError" and failed.error.line == 6
    assert "scalar outputs" in failed.error.message and "y.sum().backward()" in failed.error.hint


@pytest.mark.parametrize("lang", LANGS)
def test_detach_makes_u_a_constant_and_keeps_ys_graph(lang):
    result = engine(lesson(lang, "04-detach")[1].program)
    first, second = result.backward_calls
    assert leaf_after(first, "x") == [0.0, 1.0, 4.0, 9.0]  # u = x * x, not 3x²
    assert leaf_after(second, "x") == [0.0, 2.0, 4.0, 6.0]
    # u is not in the graph of z: z's MulBackward0 has one edge, to x's AccumulateGrad
    mul = next(n for n in first.graph.nodes if n.op == "MulBackward0")
    assert [first.graph.node(e.dst).op for e in first.graph.out_edges.get(mul.id, ())] == ["AccumulateGrad"]


@pytest.mark.parametrize("lang", LANGS)
def test_control_flow_gradient_is_d_over_a(lang):
    result = engine(lesson(lang, "05-control-flow")[1].program)
    torch.manual_seed(0)
    a = torch.randn(size=()).item()
    (call,) = result.backward_calls
    # seed 0: a = 1.541 > 0, the loop doubles until |b| >= 1000: b = a * 2**10, the if branch
    assert a * 2**9 < 1000 <= a * 2**10
    assert leaf_after(call, "a") == [1024.0]
    assert result.stdout.splitlines()[-1].endswith("tensor(True)")
    loop = [n for n in call.graph.nodes if n.op == "MulBackward0"]
    assert len(loop) == 10  # a * 2, then nine turns of the while loop


@pytest.mark.parametrize("lang", LANGS)
def test_control_flow_with_the_negative_a_the_notes_suggest_takes_the_else_branch(lang):
    _, session = lesson(lang, "05-control-flow")
    ((line, old, new),) = follow(lang, session.notes)
    result = engine(apply(session.program, line, old, new))
    assert result.error is None
    (call,) = result.backward_calls
    # a = -1: b = -2 doubles to -1024 (2**10 * a), and c = 100 * b
    assert leaf_after(call, "a") == [102400.0] and "102400" in session.notes
    assert result.stdout.splitlines()[-1].endswith("tensor(True)")
    assert len([n for n in call.graph.nodes if n.op == "MulBackward0"]) == 11  # one more: 100 * b


@pytest.mark.parametrize("lang", LANGS)
def test_backward_twice_fails_on_line_7_and_the_notes_fix_accumulates_8x(lang):
    _, session = lesson(lang, "06-backward-twice")
    result = engine(session.program)
    assert result.error.type == "RuntimeError" and result.error.line == 7
    assert "second time" in result.error.message
    assert "line 5" in result.error.hint and "retain_graph=True" in result.error.hint
    ((line, old, new),) = follow(lang, session.notes)
    assert (line, old, new) == (5, "y.backward()", "y.backward(retain_graph=True)")
    fixed = engine(apply(session.program, line, old, new))
    assert fixed.error is None
    assert [leaf_after(c, "x") for c in fixed.backward_calls] == [[0.0, 4.0, 8.0, 12.0], [0.0, 8.0, 16.0, 24.0]]
    assert "[0, 8, 16, 24]" in session.notes


@pytest.mark.parametrize("lang", LANGS)
def test_second_derivative_of_sin_is_minus_sin(lang):
    first, second = engine(lesson(lang, "07-second-derivative")[1].program).backward_calls
    assert first.kind == "autograd.grad" and first.create_graph
    assert first.outputs[0].data == pytest.approx([math.cos(v) for v in range(4)], abs=1e-6)
    assert leaf_after(second, "x") == pytest.approx([-math.sin(v) for v in range(4)], abs=1e-6)
    # the second backward walks the graph the first one built: through CosBackward0 (d cos = -sin)
    assert "CosBackward0" in {step.op for step in second.steps}


@pytest.mark.parametrize("lang", LANGS)
def test_vector_a_needs_sum_and_d_over_a_holds_elementwise(lang):
    _, session = lesson(lang, "08-vector-control-flow")
    result = engine(session.program)
    torch.manual_seed(0)
    a = torch.randn(3).tolist()
    # one decision for the whole vector: the sum of a is negative (else branch), |b| reaches 1000 at 2**9
    assert sum(a) < 0 and math.hypot(*a) * 2**8 < 1000 <= math.hypot(*a) * 2**9
    (call,) = result.backward_calls
    assert leaf_after(call, "a") == [51200.0] * 3 and "51200" in session.notes
    assert result.stdout.splitlines()[-1].endswith("tensor([True, True, True])")
    ((line, old, new),) = follow(lang, session.notes)
    assert (line, old) == (18, "#d.backward()")
    failed = engine(apply(session.program, line, old, new))
    assert failed.error.type == "RuntimeError" and failed.error.line == 18
    assert "scalar outputs" in failed.error.message and "sum().backward()" in failed.error.hint


@pytest.mark.parametrize("lang", LANGS)
def test_blog_mistakes_fixed_as_the_notes_say_lead_to_a_clean_run(lang):
    """Run, read the hint, make the change the notes name, run again: three mistakes, then 4x."""
    _, session = lesson(lang, "09-blog-mistakes")
    expected = [  # (line, error type, part of the message, part of the hint)
        (4, "TypeError", "unexpected keyword argument 'requires_grad'", "torch.arange(4.0, requires_grad=True)"),
        (6, "AttributeError", "has no attribute 'backward'", "y.sum().backward()"),
        (7, "TypeError", "'Tensor' object is not callable", "write x.grad, not x.grad()"),
    ]
    edits = follow(lang, session.notes)
    assert [e[0] for e in edits] == [4, 6, 7]
    program = session.program
    for (line, kind, message, hint), (edit_line, old, new) in zip(expected, edits, strict=True):
        result = engine(program)
        assert (result.error.type, result.error.line) == (kind, line), result.error
        assert message in result.error.message and hint in result.error.hint
        assert edit_line == line and new in result.error.hint  # the notes say what the hint says
        program = apply(program, edit_line, old, new)
    result = engine(program)
    assert result.error is None
    (call,) = result.backward_calls
    assert leaf_after(call, "x") == [0.0, 4.0, 8.0, 12.0]
    assert result.stdout == run_for_real(program, 0)[0]
    assert result.stdout.rstrip().endswith("tensor([ 0.,  4.,  8., 12.])")


# -- renders -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "stem"), [("zh_CN", "07-second-derivative"), ("en", "05-control-flow")])
def test_gradviz_render_draws_a_lesson(tmp_path, lang, stem):
    from PIL import Image

    path, _ = lesson(lang, stem)
    out = tmp_path / f"{stem}.png"
    proc = subprocess.run([sys.executable, "-m", "gradviz", "render", str(path), "-o", str(out), "--caption"],
                          capture_output=True, text=True, cwd=CHECKOUT, timeout=180)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as image:
        assert image.width > 200 and image.height > 400
