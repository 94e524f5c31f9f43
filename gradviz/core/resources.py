"""Find the `resources/` folder (examples, icons, styles) from a source checkout or an installed wheel."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # .../gradviz


@lru_cache(maxsize=1)
def resources_root() -> Path:
    """The resources folder: ``gradviz/resources`` in a wheel, ``<checkout>/resources`` in a checkout.

    The wheel copy comes first (pyproject force-includes ``resources`` there). The checkout copy
    is only taken beside a ``pyproject.toml``, so an unrelated ``site-packages/resources`` folder
    left by some other package is never mistaken for ours.
    """
    installed = _PACKAGE / "resources"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "resources").is_dir():
        return checkout / "resources"
    raise FileNotFoundError(f"gradviz resources not found (looked in {installed} and {checkout / 'resources'})")


def resource_path(*parts: str) -> Path:
    """The path of a resource, e.g. ``resource_path("examples", "01-two-x-squared.gradviz")``.

    The path is returned whether or not the file exists; parts may not climb out of the folder.
    """
    for part in parts:
        if Path(part).is_absolute() or ".." in Path(part).parts:
            raise ValueError(f"resource path parts must be relative and stay inside resources/: {part!r}")
    return resources_root().joinpath(*parts)


def example_paths() -> list[Path]:
    """The shipped lesson files, in menu order (their names start with a number)."""
    folder = resource_path("examples")
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.gradviz") if p.is_file())


#: Where the d2l-zh §2.5 lesson pack lives: one folder per language, the same lessons in each.
LESSON_PACK = ("examples", "d2l")
#: The pack shown for a language that has none of its own.
LESSON_PACK_FALLBACK = "en"


def lesson_pack_languages() -> list[str]:
    """The languages the d2l lesson pack is written in (its folders' names), sorted."""
    folder = resource_path(*LESSON_PACK)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def lesson_pack_paths(language: str) -> list[Path]:
    """The d2l lesson pack in ``language`` (a code of ``gradviz.core.i18n.LANGUAGES``), in menu
    order; the English pack for a language the pack isn't written in."""
    for code in (language, LESSON_PACK_FALLBACK):
        if code not in lesson_pack_languages():
            continue
        folder = resource_path(*LESSON_PACK, code)
        return sorted(p for p in folder.glob("*.gradviz") if p.is_file())
    return []


def shipped_lesson_paths() -> list[Path]:
    """Every lesson file that comes with gradviz: the classic lessons and the pack in every language."""
    paths = example_paths()
    for code in lesson_pack_languages():
        paths += sorted(p for p in resource_path(*LESSON_PACK, code).glob("*.gradviz") if p.is_file())
    return paths
