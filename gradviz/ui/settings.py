"""The app's remembered settings (QSettings): window layout, theme, language, recent files, autosave place.

Tests and demos pass their own directory (or set ``GRADVIZ_CONFIG_DIR``) so the user's real
configuration is never touched.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

#: Environment variable naming a directory that replaces the user's configuration directory.
CONFIG_ENV = "GRADVIZ_CONFIG_DIR"
MAX_RECENT = 10
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)


def default_config_dir() -> Path:
    """``$GRADVIZ_CONFIG_DIR`` if set, else the platform's configuration place for gradviz."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / "gradviz"


class Settings:
    """What gradviz remembers between runs, stored in an INI file in ``config_dir``.

    Parameters
    ----------
    config_dir
        Where ``gradviz.ini`` and the autosave recovery file live; defaults to
        `default_config_dir`.
    """

    def __init__(self, config_dir: str | os.PathLike | None = None):
        self.config_dir = Path(config_dir) if config_dir is not None else default_config_dir()
        self._qs = QSettings(str(self.config_dir / "gradviz.ini"), QSettings.Format.IniFormat)

    # -- plain values ------------------------------------------------------------------------

    def _get(self, key: str, default, kind=None):
        value = self._qs.value(key, default)
        if kind is bool:
            # INI files give strings back: "true" / "false".
            return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
        if kind is not None:
            try:
                return kind(value)
            except (TypeError, ValueError):
                return default
        return value

    @property
    def theme(self) -> str:
        value = self._get("view/theme", "light", str)
        return value if value in ("light", "dark") else "light"

    @theme.setter
    def theme(self, value: str) -> None:
        self._qs.setValue("view/theme", value)

    @property
    def presentation(self) -> bool:
        return self._get("view/presentation", False, bool)

    @presentation.setter
    def presentation(self, value: bool) -> None:
        self._qs.setValue("view/presentation", bool(value))

    @property
    def root_at(self) -> str:
        value = self._get("view/root_at", "top", str)
        return value if value in ("top", "bottom") else "top"

    @root_at.setter
    def root_at(self, value: str) -> None:
        self._qs.setValue("view/root_at", value)

    @property
    def language(self) -> str | None:
        """The language chosen in View ▸ Language (``en``, ``zh_CN``), or None: follow the system."""
        value = self._get("view/language", "", str)
        return value or None

    @language.setter
    def language(self, value: str | None) -> None:
        self._qs.setValue("view/language", value or "")

    @property
    def speed(self) -> float:
        value = self._get("player/speed", 1.0, float)
        return value if value in SPEEDS else 1.0

    @speed.setter
    def speed(self, value: float) -> None:
        self._qs.setValue("player/speed", float(value))

    # -- window layout -------------------------------------------------------------------------

    def geometry(self) -> QByteArray | None:
        value = self._qs.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self._qs.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def splitter_state(self, name: str) -> QByteArray | None:
        value = self._qs.value(f"window/splitter_{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_layout(self, geometry: QByteArray, state: QByteArray,
                    splitters: dict[str, QByteArray] | None = None) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)
        for name, value in (splitters or {}).items():
            self._qs.setValue(f"window/splitter_{name}", value)

    # -- recent files --------------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        value = self._qs.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [str(v) for v in (value or []) if v][:MAX_RECENT]

    def add_recent_file(self, path: str) -> list[str]:
        path = str(Path(path).resolve())
        files = [path] + [f for f in self.recent_files() if f != path]
        self._qs.setValue("files/recent", files[:MAX_RECENT])
        return files[:MAX_RECENT]

    def remove_recent_file(self, path: str) -> None:
        self._qs.setValue("files/recent", [f for f in self.recent_files() if f != path])

    def clear_recent_files(self) -> None:
        self._qs.setValue("files/recent", [])

    # -- autosave ------------------------------------------------------------------------------

    @property
    def recovery_path(self) -> Path:
        """The autosave file: written every few seconds while there are unsaved changes."""
        return self.config_dir / "recovery.gradviz"

    def sync(self) -> None:
        self._qs.sync()
