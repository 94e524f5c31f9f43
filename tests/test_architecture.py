"""The import rules of DESIGN.md, and the bans that keep program text out of Python's evaluator outside the engine."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gradviz"

# package part -> top-level modules it must never import
FORBIDDEN = {
    "core": {"torch", "PySide6", "pyqtgraph", "shiboken6"},
    "engine": {"PySide6", "pyqtgraph", "shiboken6"},
    "ui": {"torch"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def python_files(part: str) -> list[Path]:
    return sorted((PACKAGE / part).rglob("*.py"))


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_package_part_respects_import_rules(part):
    files = python_files(part)
    assert files, f"gradviz/{part} has no modules"
    bad = {str(f.relative_to(PACKAGE)): sorted(imported_modules(f) & FORBIDDEN[part]) for f in files}
    assert {k: v for k, v in bad.items() if v} == {}


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
