"""The bans that keep program text out of Python's evaluator outside the engine (the import rules of
DESIGN.md are import-linter contracts in pyproject.toml, checked by `make lint`)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gradviz"

#: The one module that hands program text to Python: the runner, inside the contained engine process.
RUNS_PROGRAMS = PACKAGE / "engine" / "runner.py"


def test_only_the_runner_executes_program_text_and_nothing_uses_pickle():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in {"eval", "exec", "compile", "__import__"} and path != RUNS_PROGRAMS:
                    offenders.append(f"{path.name}:{node.lineno} {node.func.id}()")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if getattr(node, "module", None) else [])
                if any(n and n.split(".")[0] in {"pickle", "marshal", "shelve", "dill"} for n in names):
                    offenders.append(f"{path.name}:{node.lineno} imports a pickle module")
    assert offenders == []
