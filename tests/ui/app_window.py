"""Shared set-up for main-window tests: a window on a fake engine, dialogs replaced, settings in tmp."""

from __future__ import annotations

import pytest
from app_fixtures import FakeClient

from gradviz.ui import dialogs


class DialogLog:
    """Replaces every dialog; records the calls and answers what the test says."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple] = []
        self.open_answer: str | None = None
        self.save_answer: str | None = None
        self.unsaved_answer = dialogs.DISCARD
        self.recover_answer = False
        self.trust_answer = False
        m = monkeypatch
        m.setattr(dialogs, "open_file", lambda parent, directory="": self._log("open_file") or self.open_answer)
        m.setattr(dialogs, "save_file", lambda parent, suggested="": self._log("save_file", suggested) or self.save_answer)
        m.setattr(dialogs, "ask_unsaved", lambda parent, name: self._log("ask_unsaved", name) or self.unsaved_answer)
        m.setattr(dialogs, "ask_recover", lambda parent, title, when: self._log("ask_recover", title) or self.recover_answer)
        m.setattr(dialogs, "show_error", lambda parent, title, text: self._log("show_error", title, text))
        m.setattr(dialogs, "show_info", lambda parent, title, text: self._log("show_info", title, text))
        m.setattr(dialogs, "show_about",
                  lambda parent, title, text, details="": self._log("show_about", title, text, details))
        m.setattr(dialogs, "ask_trust", lambda parent, name, why: self._log("ask_trust", name, why) or self.trust_answer)
        self.export_answer: dialogs.ExportChoice | None = None
        self.export_path_answer: str | None = None
        m.setattr(dialogs, "ask_export",
                  lambda parent, animation, last=None: self._log("ask_export", animation) or self.export_answer)
        m.setattr(dialogs, "export_path",
                  lambda parent, fmt, suggested: self._log("export_path", fmt, suggested) or self.export_path_answer)
        m.setattr(dialogs, "screenshot_path",
                  lambda parent, suggested: self._log("screenshot_path", suggested) or self.export_path_answer)

    def _log(self, *call):
        self.calls.append(call)
        return None

    def named(self, name: str) -> list[tuple]:
        return [c for c in self.calls if c[0] == name]


@pytest.fixture
def dialog_log(monkeypatch):
    return DialogLog(monkeypatch)


def make_window(qtbot, tmp_path, client: FakeClient | None = None, config: str = "config"):
    from gradviz.ui.app import create_window

    client = client or FakeClient()
    window = create_window(settings_dir=str(tmp_path / config), client_factory=lambda: client)
    qtbot.addWidget(window)
    window.show()
    window.ensure_panels()
    return window, client


def run_and_wait(qtbot, window, action: str = "run", timeout: int = 5000):
    with qtbot.waitSignal(window.result_shown, timeout=timeout) as blocker:
        window.actions[action].trigger()
    return blocker.args[0]


def type_text(window, text: str) -> None:
    """Replace the editor's text the way typing does (undoable, marks the session modified)."""
    from PySide6.QtGui import QTextCursor

    cursor = window.editor.textCursor()
    cursor.select(QTextCursor.SelectionType.Document)
    cursor.insertText(text)
    window.editor.setTextCursor(cursor)
