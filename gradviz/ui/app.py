"""Start the desktop app: check for a display, set up QApplication and its language, show the window, start
the engine."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gradviz.core.i18n import _N

_X11_SOCKETS = "/tmp/.X11-unix"
#: The windows open now: a window rebuilt in another language replaces its predecessor here.
_windows: list = []

#: What to do instead when there is no display; printed rather than letting Qt abort.
HEADLESS_MESSAGE = _N("""\
gradviz: no display found (DISPLAY and WAYLAND_DISPLAY are not set, or the X server is gone),
so the window cannot open.

Run gradviz without a window instead:
  gradviz inspect FILE [--json]       run a lesson or script, print what autograd did
  gradviz render FILE -o graph.png    draw its autograd graph to an image

or give Qt a screen of its own:
  xvfb-run gradviz [FILE]                     a virtual X server (apt install xvfb)
  QT_QPA_PLATFORM=offscreen gradviz [FILE]    runs without showing anything
""")


def has_display(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """True when Qt can open a window: a display is set, Qt was told a platform, or not Linux/BSD."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if env.get("QT_QPA_PLATFORM"):
        return True
    if platform.startswith(("win", "darwin", "cygwin")):
        return True
    if env.get("WAYLAND_DISPLAY"):
        return True
    display = env.get("DISPLAY", "")
    if not display:
        return False
    # A local display (":1", "unix:1.0") whose X socket is gone would make Qt abort: look first.
    host, _, number = display.rpartition(":")
    if host in ("", "unix") and number.split(".")[0].isdigit() and Path(_X11_SOCKETS).is_dir():
        return (Path(_X11_SOCKETS) / f"X{number.split('.')[0]}").exists()
    return True


def create_window(settings_dir: str | None = None, client_factory: Callable | None = None):
    """Build the main window on a QApplication that already exists (what tests drive).

    The engine worker is started before the window is built, so torch loads in parallel.
    """
    from PySide6.QtWidgets import QApplication

    from gradviz.ui import style
    from gradviz.ui.main_window import MainWindow
    from gradviz.ui.runner import Runner
    from gradviz.ui.settings import Settings

    runner = Runner(client_factory)
    runner.start()
    settings = Settings(settings_dir)
    # Fonts and style first: widgets made afterwards start with the right ones.
    style.apply(QApplication.instance(), settings.theme, settings.presentation)
    window = MainWindow(settings, runner)
    window.language_chosen.connect(
        lambda code: switch_language(window, code, settings_dir=settings_dir, client_factory=client_factory))
    return window


def switch_language(old, code: str, settings_dir: str | None = None, client_factory: Callable | None = None):
    """View ▸ Language: the window again, in language ``code``, with nothing lost; returns the new window.

    Qt shows a new language in widgets made after its translator is installed, so the window is
    rebuilt rather than every text set again by hand (a second list of every string, that would
    drift from the first): the new window takes the old one's place and size, its session (text,
    file, notes, unsaved state, the graph and step shown) and runs the program again if it had
    been run, so the graph and gradients are back as they were. Only the editor's undo history
    stays behind. The old window closes without asking: its text lives on in the new one.
    """
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    from gradviz.core import i18n
    from gradviz.ui import language, window_build

    session = old.current_session()
    state = old.state
    path, dirty, trusted, had_result = state.path, state.dirty, state.trusted, state.result is not None
    old.save_layout()  # the new window opens with the old one's docks and size
    language.install(QApplication.instance(), code)
    new = create_window(settings_dir, client_factory)
    new.ensure_panels()
    new.setGeometry(old.geometry())
    new.restoreState(window_build.layout_outside_modes(old))  # presentation mode hides them again when shown
    new.set_session(session, path, run=had_result, dirty=dirty, trusted=trusted)
    if old.compare.active and not new.compare.active:  # a compare the session file does not carry
        new.compare.resume(old.compare)
    cursor = old.editor.textCursor()
    moved = new.editor.textCursor()
    moved.setPosition(min(cursor.position(), len(new.editor.toPlainText())))
    new.editor.setTextCursor(moved)
    if old.isMaximized():
        new.showMaximized()
    else:
        new.show()
    old.replaced = True
    old.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # closures hold it: without this it stays
    old.close()
    if old in _windows:
        _windows.remove(old)
    _windows.append(new)
    new.statusBar().showMessage(QCoreApplication.translate("MainWindow", "The window now speaks {language}.").format(
        language=i18n.LANGUAGES.get(i18n.language(), code)), 5000)
    return new


def run_app(path: str | None = None, argv: list[str] | None = None, settings_dir: str | None = None,
            client_factory: Callable | None = None, lang: str | None = None) -> int:
    """Open the gradviz window on ``path`` (a ``.gradviz`` session or ``.py`` script) or the 2xᵀx example.

    ``lang`` (``gradviz --lang``) wins over the language remembered from View ▸ Language, which
    wins over the system's locale. Returns the exit code: 0 when the window was closed, 2 when
    there is no display.
    """
    if not has_display():
        # No Qt yet (it would abort): said in the language of gradviz's own words.
        from gradviz.core import i18n
        from gradviz.ui.language import choose

        i18n.set_language(choose(lang, None))
        sys.stderr.write(i18n.t(HEADLESS_MESSAGE))
        return 2
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "gradviz", *(argv or [])])
    app.setApplicationName("gradviz")
    app.setApplicationDisplayName("gradviz")
    app.setOrganizationName("gradviz")
    app.setDesktopFileName("gradviz")
    from gradviz.ui import language
    from gradviz.ui.settings import Settings

    language.install(app, language.choose(lang, Settings(settings_dir).language))
    window = create_window(settings_dir, client_factory)  # the engine starts importing torch
    _windows.append(window)
    window.ensure_panels()  # meanwhile pyqtgraph, on this (the GUI) thread, before anything paints
    window.show()
    timing = os.environ.get("GRADVIZ_TIMING")
    if timing:
        # For benchmarks/bench_app.py: wall-clock moments the window and the first graph appeared;
        # with GRADVIZ_TIMING=quit the app closes once the first graph is drawn.
        QTimer.singleShot(0, lambda: sys.stderr.write(f"gradviz-timing shown {time.time():.4f}\n"))

        def first_graph(graph) -> None:
            if graph.nodes and not getattr(window, "_timed", False):
                window._timed = True
                sys.stderr.write(f"gradviz-timing graph {time.time():.4f}\n")
                if timing == "quit":
                    QTimer.singleShot(0, app.quit)

        window.graph_shown.connect(first_graph)

    def after_show() -> None:
        if window.offer_recovery():
            return
        if path:
            if not window.open_path(path, ask=False):
                window.run_all()
        else:
            window.run_all()

    QTimer.singleShot(0, after_show)
    code = app.exec()
    for shown in dict.fromkeys([window, *_windows]):
        shown.runner.close()  # also when the app quit without closing the window
    _windows.clear()
    return code
