"""Fixtures the UI tests share: a canvas view, the dialogs replaced, a fake engine answering 2xᵀx."""

from __future__ import annotations

import pytest
from app_fixtures import FakeClient

from gradviz.ui import dialogs, window_build
from gradviz.ui.canvas import GraphView

#: window_build.fit_to_screen as the app has it (tests of it call this one).
REAL_FIT_TO_SCREEN = window_build.fit_to_screen


@pytest.fixture(autouse=True)
def windows_keep_their_size(monkeypatch):
    """The offscreen platform reports an 800x800 screen: windows would shrink to it when made, and
    the tests (written for the 1440x900 the app opens at) size them themselves, on a screen as
    tall as that (presentation mode's scale follows the screen's height)."""
    monkeypatch.setattr(window_build, "fit_to_screen", lambda w: None)
    monkeypatch.setattr(window_build, "screen_height", lambda w: 900)


@pytest.fixture
def view(qtbot):
    """A shown 900x700 GraphView (modules that need another size or a hidden view define their own)."""
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    return v


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
        m.setattr(dialogs, "save_file",
                  lambda parent, suggested="": self._log("save_file", suggested) or self.save_answer)
        m.setattr(dialogs, "ask_unsaved", lambda parent, name: self._log("ask_unsaved", name) or self.unsaved_answer)
        m.setattr(dialogs, "ask_recover",
                  lambda parent, title, when: self._log("ask_recover", title) or self.recover_answer)
        m.setattr(dialogs, "show_error", lambda parent, title, text: self._log("show_error", title, text))
        m.setattr(dialogs, "show_info", lambda parent, title, text: self._log("show_info", title, text))
        m.setattr(dialogs, "show_about",
                  lambda parent, title, text, details="": self._log("show_about", title, text, details))
        m.setattr(dialogs, "show_document",
                  lambda parent, title, text, fmt="markdown": self._log("show_document", title, text, fmt))
        m.setattr(dialogs, "ask_trust",
                  lambda parent, name, why: self._log("ask_trust", name, why) or self.trust_answer)
        self.export_answer: dialogs.ExportChoice | None = None
        self.export_path_answer: str | None = None
        m.setattr(dialogs, "ask_export",
                  lambda parent, animation, last=None, frames=True: self._log("ask_export", animation, frames)
                  or self.export_answer)
        m.setattr(dialogs, "export_path",
                  lambda parent, fmt, suggested: self._log("export_path", fmt, suggested) or self.export_path_answer)
        self.two_calls_answer: tuple[int, int] | None = None  # None: the calls the dialog proposes
        m.setattr(dialogs, "ask_two_calls",
                  lambda parent, labels, first, second: self._log("ask_two_calls", labels, first, second)
                  or self.two_calls_answer or (first, second))
        m.setattr(dialogs, "screenshot_path",
                  lambda parent, suggested: self._log("screenshot_path", suggested) or self.export_path_answer)

    def _log(self, *call):
        self.calls.append(call)
        return None

    def named(self, name: str) -> list[tuple]:
        return [c for c in self.calls if c[0] == name]


@pytest.fixture
def dialog_log(monkeypatch):
    """Every dialog replaced by a recorder (see DialogLog)."""
    return DialogLog(monkeypatch)


@pytest.fixture
def two_x_client(two_x):
    """A fake engine whose every run answers the engine's own 2xᵀx result (tests/conftest.py)."""
    return FakeClient(respond=lambda request: two_x.result)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """pytest-qt closes the windows a test made; one the app deleted itself (the window replaced
    by its rebuild in another language) is gone already and is left out."""
    from shiboken6 import isValid

    widgets = getattr(item, "qt_widgets", None)
    if widgets:
        item.qt_widgets = [(ref, close) for ref, close in widgets if ref() is None or isValid(ref())]
    return (yield)
