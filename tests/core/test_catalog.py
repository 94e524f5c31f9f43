"""The Chinese catalog of gradviz's own words matches the code: every ``t("...")`` text has its
translation, no translation is left that no code asks for, and each keeps the English fields."""

import ast
import json
import string
from pathlib import Path

import pytest

from gradviz.core import i18n
from gradviz.core.resources import resource_path

PACKAGE = Path(i18n.__file__).resolve().parent.parent
#: The functions whose first argument is an English text of the catalog: ``t`` (``i18n.t``) and the
#: markers of texts kept in tables and translated where they are used.
LOOKUPS = {"t", "_N"}


def texts_in_code() -> dict[str, str]:
    """Every literal text passed to a lookup in gradviz's source -> the first file:line using it."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if isinstance(func, ast.Attribute) and not (isinstance(func.value, ast.Name) and func.value.id == "i18n"):
                continue
            first = node.args[0]
            if name in LOOKUPS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def fields(text: str) -> list[str]:
    """The names of the ``{fields}`` of a format string, sorted (format specs aside)."""
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


@pytest.fixture(scope="module")
def catalog() -> dict[str, str]:
    return json.loads(resource_path("i18n", "messages.zh_CN.json").read_text(encoding="utf-8"))


def test_the_scan_finds_the_words_of_each_part():
    texts = texts_in_code()
    # One from each kind of place: a hint table (marked), an f-string turned template, the report,
    # the canvas (i18n.t), a caption.
    for text in ("backward() needs a single number to start from. Reduce the tensor first, e.g. "
                 "y.sum().backward(), or say which gradient flows in: y.backward(gradient=torch.ones_like(y)).",
                 "{where} freed the values the graph saved (it ran without retain_graph=True). Pass "
                 "retain_graph=True to that call if you want to run backward through this graph again, "
                 "or rebuild the graph (run the forward computation again) before this backward().",
                 "The program ran without errors.", "hook {name}", "step {step} / {count} \u00b7 {op}"):
        assert text in texts
    assert len(texts) > 100


def test_every_text_of_the_code_is_translated(catalog):
    missing = {text: where for text, where in texts_in_code().items() if text not in catalog}
    assert missing == {}


def test_no_translation_is_left_that_no_code_uses(catalog):
    used = texts_in_code()
    assert sorted(key for key in catalog if key not in used and not key.startswith("//")) == []


def test_translations_keep_the_fields_of_the_english(catalog):
    wrong = {key: value for key, value in catalog.items() if fields(key) != fields(value)}
    assert wrong == {}
    for key, value in catalog.items():  # and each really is Chinese (or a deliberate copy)
        assert value.strip(), key


def test_the_catalog_is_sorted_by_key(catalog):
    assert list(catalog) == sorted(catalog)
