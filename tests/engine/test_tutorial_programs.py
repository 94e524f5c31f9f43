"""Whole tutorial-style programs (tests/engine/programs/*.py) print exactly what real Python prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_helpers import assert_same

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.py"))


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_tutorial_program_matches_real_python(path):
    out = assert_same(path.read_text())
    assert out.stdout  # every program prints something
    assert all(s.ok for s in out.statements)


def test_there_are_tutorial_programs():
    assert len(PROGRAMS) >= 5
