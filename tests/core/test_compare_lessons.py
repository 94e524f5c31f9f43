"""The "with and without zero_grad" compare lesson: English (lesson 09, and its twin in the d2l pack)
and Chinese, the same programs, run by the engine with what the notes promise."""

from __future__ import annotations

import ast
import re

import pytest

from gradviz.core.compare import pair_runs
from gradviz.core.request import RunRequest
from gradviz.core.resources import resource_path
from gradviz.core.session import dumps_session, load_session
from gradviz.engine.run import run_request

HAN = re.compile(r"[\u4e00-\u9fff]")
CJK_ANY = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
ENGLISH = resource_path("examples", "09-zero-grad-compare.gradviz")
TWINS = {lang: resource_path("examples", "d2l", lang, "10-compare-zero-grad.gradviz") for lang in ("en", "zh_CN")}


def shape(program: str) -> str:
    """The program's AST with every string emptied (comments are not in it)."""
    tree = ast.parse(program)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def test_the_english_twin_is_lesson_9():
    assert TWINS["en"].read_bytes() == ENGLISH.read_bytes()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_twin_is_a_clean_compare_session_in_its_language(lang):
    path = TWINS[lang]
    session = load_session(path)
    assert dumps_session(session) == path.read_bytes()
    assert session.compare is not None and b'"version": 4' in path.read_bytes()
    words = (session.title, session.notes, session.compare.title, session.compare.title_a)
    comments = "".join(re.findall(r"#.*", session.program + session.compare.program))
    if lang == "zh_CN":
        assert all(HAN.search(text) for text in (*words, comments))
    else:
        assert not any(CJK_ANY.search(text) for text in (*words, session.program, session.compare.program))


def test_twins_run_the_same_programs():
    en, zh = (load_session(TWINS[lang]) for lang in ("en", "zh_CN"))
    assert shape(en.program) == shape(zh.program)
    assert shape(en.compare.program) == shape(zh.compare.program)
    assert "zero_grad()" in en.program and "zero_grad()" not in shape(en.compare.program)
    assert shape(en.program) != shape(en.compare.program)  # the one line that differs: zero_grad()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_one_grad_resets_the_other_climbs(lang):
    session = load_session(TWINS[lang])
    a = run_request(RunRequest(session.program, seed=session.seed))
    b = run_request(RunRequest(session.compared().program, seed=session.seed))
    assert a.ok and b.ok and len(a.backward_calls) == len(b.backward_calls) == 3

    def grads(result):
        return [next(lg.after.flat()[0] for lg in call.leaves if lg.name == "w") for call in result.backward_calls]

    assert grads(a) == pytest.approx([-10.0, -7.5, -5.625])  # reset, then a smaller gradient each step
    assert grads(b) == pytest.approx([-10.0, -17.5, -20.625])  # added to the old ones
    comparison = pair_runs(a, b).comparison
    assert comparison.only_a == comparison.only_b == ()  # the same graph, node for node
    assert [g.name for g in comparison.grads] == ["w"]
