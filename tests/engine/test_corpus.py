"""Real tutorial programs (tests/engine/corpus) give in gradviz exactly what `python file.py` gives.

Each program is transcribed from a course or book (its source is named at its top; synthetic
tensors stand in for downloads). It runs through the real contained engine, and through plain
Python + torch seeded as gradviz seeds (``corpus_reference.py``); the printed output must be the
same text and every top-level tensor and module parameter the same value and ``.grad``.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradviz.core.request import Limits, RunRequest
from gradviz.core.result import TensorValue

HERE = Path(__file__).resolve().parent
CORPUS = sorted((HERE / "corpus").glob("*.py"))
REFERENCE = HERE / "corpus_reference.py"
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
#: gradviz keeps float32 values to 7 significant digits.
RTOL, ATOL = 2e-6, 1e-6
LIMITS = Limits(max_seconds=120, max_memory_mb=4096)


def normalise(text: str) -> str:
    return ADDRESS.sub("0x…", text)


@pytest.fixture(scope="module")
def references() -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONPATH": str(HERE.parents[1])}
    done = subprocess.run([sys.executable, str(REFERENCE), *map(str, CORPUS)], capture_output=True, text=True,
                          timeout=900, env=env, cwd=HERE)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {Path(run["path"]).name: run for run in runs}


def close(got: float | str, want: float) -> bool:
    got = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(got, got) if isinstance(got, str) else got
    if math.isnan(want):
        return math.isnan(got)
    return math.isclose(float(got), want, rel_tol=RTOL, abs_tol=ATOL)


def same_value(got: TensorValue | None, want: dict | None, what: str) -> None:
    if want is None:
        assert got is None, f"{what}: gradviz has a value where plain torch has None"
        return
    assert got is not None, f"{what}: gradviz has None"
    assert list(got.shape) == want["shape"], what
    if "data" in want and got.data is not None:
        flat = got.flat()
        assert len(flat) == len(want["data"]), what
        bad = [(i, g, w) for i, (g, w) in enumerate(zip(flat, want["data"], strict=True)) if not close(g, w)]
        assert not bad, f"{what}: first differences (index, gradviz, torch) {bad[:5]}"
    elif "stats" in want and got.stats is not None:
        s = got.stats
        names = ("min", "max", "mean", "norm")
        for g, w, name in zip((s.min, s.max, s.mean, s.norm), want["stats"], names, strict=True):
            assert math.isclose(g, w, rel_tol=1e-5, abs_tol=1e-6), f"{what}: {name} {g} != {w}"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_a_tutorial_gives_what_real_torch_gives(path, references, engine):
    reference = references[path.name]
    assert reference["error"] is None, f"the program fails in plain Python too: {reference['error']}"
    result = engine.run(RunRequest(path.read_text(encoding="utf-8"), limits=LIMITS), trusted=True)
    assert result.error is None, result.error
    assert normalise(result.stdout) == normalise(reference["stdout"])
    for name, want in reference["tensors"].items():
        info = result.variable(name)
        assert info is not None, f"gradviz has no variable {name}"
        same_value(info.value, want["value"], f"{name}")
        same_value(info.grad, want["grad"], f"{name}.grad")


def test_the_corpus_is_real_tutorials_from_several_sources():
    assert len(CORPUS) >= 30
    sources = set()
    for path in CORPUS:
        head = path.read_text(encoding="utf-8").splitlines()[:6]
        line = next((h for h in head if h.startswith("# Source:")), None)
        assert line is not None, f"{path.name} names no source"
        url = line.split("Source:", 1)[1].strip().split()[0]
        parts = url.split("/")
        # A course or book: its site, or its owner on GitHub (karpathy, pytorch, d2l-ai...).
        sources.add("/".join(parts[2:4]) if "github.com" in url else parts[2] if "://" in url else url)
    assert len(sources) >= 4, sources
