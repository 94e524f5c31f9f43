"""Which programs may run where the operating system cannot contain the engine: trusted once, remembered.

Where the engine is contained (``Containment.contained``) every program runs. Where it is not
(Windows, older kernels), a program that came from elsewhere runs only after the user trusts it,
as editors and notebooks do: the lessons shipped with gradviz are trusted, and so is a program the
user trusted before (remembered by a SHA-256 of its text in ``trusted.json`` in gradviz's
configuration folder, which the app and the command line share).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from gradviz.core.resources import shipped_lesson_paths

#: Programs remembered at most (the oldest are forgotten first).
MAX_REMEMBERED = 10_000


def config_folder() -> Path:
    """gradviz's configuration folder (``$XDG_CONFIG_HOME/gradviz``, ``~/Library/Application Support``,
    ``%APPDATA%``)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "gradviz"


def fingerprint(program: str) -> str:
    return hashlib.sha256(program.encode("utf-8", "surrogatepass")).hexdigest()


def is_shipped_lesson(path: str | os.PathLike | None) -> bool:
    """True for the lesson files that come with gradviz (``resources/examples``, the d2l pack included)."""
    if path is None:
        return False
    try:
        target = Path(path).resolve()
        return any(target == p.resolve() for p in shipped_lesson_paths())
    except (OSError, FileNotFoundError, ValueError):
        return False


class TrustStore:
    """The programs the user trusted, by fingerprint, in one small JSON file (written atomically)."""

    def __init__(self, path: Path | None = None):
        self.path = path or config_folder() / "trusted.json"

    def _load(self) -> list[str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if type(data) is not list:
            return []
        return [item for item in data if type(item) is str and len(item) == 64][-MAX_REMEMBERED:]

    def is_trusted(self, program: str) -> bool:
        return fingerprint(program) in self._load()

    def trust(self, program: str) -> None:
        """Remember ``program`` as trusted (raises OSError when the file cannot be written)."""
        items = [item for item in self._load() if item != fingerprint(program)] + [fingerprint(program)]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".trusted-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(items[-MAX_REMEMBERED:], fh)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def is_trusted(path: str | os.PathLike | None, program: str, told: bool = False) -> bool:
    """May ``program`` (read from ``path``) run in an engine the system does not contain?

    ``told``: the user said so for this run (``--trust`` on the command line).
    """
    return told or is_shipped_lesson(path) or TrustStore().is_trusted(program)
