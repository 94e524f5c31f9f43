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
