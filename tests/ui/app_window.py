"""Helpers for main-window tests: a window on a fake engine with its settings in tmp, runs, typing.

The dialogs are replaced by the ``dialog_log`` fixture (tests/ui/conftest.py)."""

from __future__ import annotations

from app_fixtures import FakeClient


def make_window(qtbot, tmp_path, client: FakeClient | None = None, config: str = "config"):
    """A shown main window on ``client`` (default: a FakeClient whose runs record nothing)."""
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
