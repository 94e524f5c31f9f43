"""The main window: editor, graph canvas, backward-pass player, inspector, gradients and history.

The window builds its parts (`window_build`) and connects them to one `WindowState` and five
controllers, each with one job: sessions and files (`session_controller`), runs and the engine
(`run_controller`), showing a result (`result_controller`), the player's wiring
(`player_controller`) and exports (`export_controller`).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from gradviz.core.result import BackwardCall, RunResult
from gradviz.core.session import Session, SessionError, load_session
from gradviz.ui import style, window_build
from gradviz.ui.compare_controller import CompareController
from gradviz.ui.export_controller import ExportController
from gradviz.ui.player_controller import PlayerController
from gradviz.ui.result_controller import Prepared, ResultController
from gradviz.ui.run_controller import RunController, top_level_statements  # noqa: F401 (imported from here too)
from gradviz.ui.runner import Runner
from gradviz.ui.session_controller import SessionController
from gradviz.ui.settings import Settings
from gradviz.ui.window_state import RUN, WindowState

#: The program shown when gradviz starts without a file (the 2xᵀx example).
DEFAULT_PROGRAM = """import torch

x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()

print(x.grad)
"""
DEFAULT_TITLE = "The gradient of 2xᵀx"
DEFAULT_EXAMPLE = "01-two-x-squared.gradviz"


def default_session() -> Session:
    """The 2xᵀx lesson: the d2l pack's first in the window's language where it has one (its
    notes included), else the classic one shipped in resources/examples, or a built-in copy."""
    from gradviz.core.i18n import DEFAULT, language
    from gradviz.core.resources import lesson_pack_paths, resource_path

    try:
        if language() != DEFAULT:
            pack = lesson_pack_paths(language())
            if pack:
                return load_session(pack[0])
        return load_session(resource_path("examples", DEFAULT_EXAMPLE))
    except (SessionError, FileNotFoundError, ValueError):
        return Session(program=DEFAULT_PROGRAM, title=DEFAULT_TITLE)


class MainWindow(QMainWindow):
    """The gradviz window around one session (program, title, notes, seed, view settings).

    Parameters
    ----------
    settings
        Remembered layout, theme and recent files (tests pass one in a temporary directory).
    runner
        Runs programs in the engine; one is made with the real EngineClient when omitted.

    Attributes
    ----------
    state
        The `WindowState`: session, result shown, graph chosen, run mode, look.
    sessions, runs, results, playback, exports, compare
        The controllers (`SessionController`, `RunController`, `ResultController`, `PlayerController`,
        `ExportController`, `CompareController`).

    Signals
    -------
    result_shown(object)
        A run's RunResult has been shown in every panel.
    session_loaded(str)
        A session or script was opened (its path, or "" for an example or a new session).
    graph_shown(object)
        The canvas now shows this GraphData.
    language_chosen(str)
        View ▸ Language chose another language (its code); `gradviz.ui.app` rebuilds the window in it.
    """

    result_shown = Signal(object)
    session_loaded = Signal(str)
    graph_shown = Signal(object)
    language_chosen = Signal(str)

    def __init__(self, settings: Settings | None = None, runner: Runner | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.settings = settings or Settings()
        self.runner = runner or Runner(parent=self)
        if self.runner.parent() is None:
            self.runner.setParent(self)
        self.state = WindowState(theme=self.settings.theme, presentation=self.settings.presentation,
                                 root_at=self.settings.root_at)
        self.grads = None  # the pyqtgraph panels, made by ensure_panels
        self.history = None
        self._sized = False
        self.normal_layout = None  # the dock layout to come back to after presentation mode (QByteArray)
        self.replaced = False  # a window in another language took this one's place: close without asking

        # Controllers first (they only keep the window), then the parts whose actions call them.
        self.sessions = SessionController(self)
        self.runs = RunController(self)
        self.results = ResultController(self)
        self.playback = PlayerController(self)
        self.exports = ExportController(self)

        self.setWindowTitle("gradviz")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.resize(1440, 900)
        self.setMinimumSize(QSize(900, 600))
        window_build.build(self)
        self.compare = CompareController(self)  # compare mode: its menu entries, following sessions
        self.compare.install()
        self._connect()
        window_build.apply_look(self)
        window_build.restore_layout(self)
        self.sessions.set_session(default_session(), path=None, run=False)

    def _connect(self) -> None:
        self.results.connect()
        self.playback.connect()
        self.runs.connect()
        self.sessions.connect()
        window_build.follow_look(self)
        self.player_bar.speed.currentIndexChanged.connect(
            lambda i: setattr(self.settings, "speed", self.player_bar.speed.itemData(i))
        )
        self.inspector.line_clicked.connect(self.editor.go_to_line)
        self.inspector.origin_clicked.connect(self.playback.go_to_origin)
        self.message_bar.line_clicked.connect(self.editor.go_to_line)
        self.editor.error_line_clicked.connect(lambda _l: self.message_bar.show())
        doc = self.editor.document()
        doc.undoAvailable.connect(self.actions["undo"].setEnabled)
        doc.redoAvailable.connect(self.actions["redo"].setEnabled)
        self.actions["undo"].setEnabled(False)
        self.actions["redo"].setEnabled(False)

    def ensure_panels(self) -> None:
        """Build the pyqtgraph panels (gradients and history) if they are not built yet.

        run_app calls it before the window shows, while the engine imports torch in its own
        process. pyqtgraph must be imported on the GUI thread: importing it on a worker thread
        while the GUI thread painted crashed the app (a segmentation fault in shiboken's lazy
        type set-up, about one launch in ten).
        """
        if self.grads is not None:
            return
        window_build.build_panels(self)
        if self.state.result is not None:
            self.results.show_grads(self.state.result)
            self.playback.refresh_frame()

    # =============================================================================================
    # What the window shows: read from the state

    @property
    def result(self) -> RunResult | None:
        """The RunResult shown."""
        return self.state.result

    @property
    def path(self) -> str | None:
        """Where the session is saved (None: not yet, or it came from a script or an example)."""
        return self.state.path

    @property
    def seed(self) -> int:
        return self.state.seed

    @property
    def trusted(self) -> bool:
        """The program may run where the system cannot contain the engine: typed here, a shipped
        lesson, or a file the user trusted (gradviz.core.trust)."""
        return self.state.trusted

    @property
    def dirty(self) -> bool:
        """The session has unsaved changes."""
        return self.state.dirty

    @property
    def theme(self) -> str:
        return self.state.theme

    @property
    def presentation(self) -> bool:
        return self.state.presentation

    @property
    def root_at(self) -> str:
        return self.state.root_at

    # =============================================================================================
    # Sessions and files (SessionController)

    def current_session(self) -> Session:
        """The session as it is now in the window (text, title, notes, seed, view)."""
        return self.sessions.current_session()

    def set_session(self, session: Session, path: str | None, run: bool = True, dirty: bool = False,
                    trusted: bool = True) -> None:
        """Show a session: its text in the editor (undoable from here), notes, seed and view."""
        self.sessions.set_session(session, path, run, dirty, trusted)

    def new_session(self) -> None:
        self.sessions.new_session()

    def open_path(self, path: str, ask: bool = True) -> bool:
        """Open a ``.gradviz`` session or a ``.py`` script; a refused file is reported, nothing changes."""
        return self.sessions.open_path(path, ask)

    def open_example(self, path: str) -> bool:
        """Open a shipped lesson as a new, untitled copy (the shipped file is never overwritten)."""
        return self.sessions.open_example(path)

    def save(self) -> bool:
        return self.sessions.save()

    def autosave(self) -> bool:
        """Write the unsaved session to the recovery file (only when there are unsaved changes)."""
        return self.sessions.autosave()

    def offer_recovery(self) -> bool:
        """If an autosave survived the last session, offer to restore it. True when restored."""
        return self.sessions.offer_recovery()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        self.sessions.drag_entered(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self.sessions.dropped(event)

    # =============================================================================================
    # Running (RunController) and results (ResultController)

    def run_all(self) -> int:
        """Run the whole program (Ctrl+Enter)."""
        return self.runs.run_all()

    def show_result(self, result: RunResult, mode: str = RUN, stop_after: int | None = None,
                    prepared: Prepared | None = None) -> None:
        """Show a RunResult in every panel (also used by tests with hand-made results)."""
        self.results.show_result(result, mode, stop_after, prepared)

    def graph_choices(self) -> list[tuple[str, object]]:
        """(label, data) of every entry of the graph combo (for tests)."""
        return self.results.graph_choices()

    def choose_graph(self, data: str) -> None:
        """Show the graph of ``"call:<index>"`` or ``"var:<name>"``."""
        self.results.choose_graph(data)

    def leaf_names(self, call: BackwardCall | None) -> dict[str, str]:
        """Graph node id → leaf name, for the leaves and parameters a call touches."""
        return self.playback.leaf_names(call)

    # =============================================================================================
    # Export (ExportController)

    def export_graph(self) -> bool:
        """Ask how and where, then write the graph (or its backward pass) as PNG, SVG, GIF, APNG or frames."""
        return self.exports.export_graph()

    def copy_graph_image(self) -> bool:
        """Put the graph, as shown now, on the clipboard (2× for sharp slides)."""
        return self.exports.copy_graph_image()

    def save_screenshot(self) -> bool:
        return self.exports.save_screenshot()

    # =============================================================================================
    # Look and window layout

    def apply_theme(self, theme: str, presentation: bool | None = None) -> None:
        """Switch light/dark and presentation mode everywhere: QSS, editor, canvas, plots, icons."""
        changes = {"theme": theme if theme in style.THEMES else "light"}
        if presentation is not None:
            changes["presentation"] = presentation
        self.state.update(**changes)
        window_build.apply_look(self)

    def dark_toggled(self, on: bool) -> None:
        self.apply_theme("dark" if on else "light")
        self.settings.theme = self.state.theme

    def presentation_toggled(self, on: bool) -> None:
        """The graph for the room: big fonts, the docks aside (View → Panels brings any back).

        Off, the docks come back as they were.
        """
        if on:
            window_build.docks_aside(self)
        self.apply_theme(self.state.theme, on)
        if not on:
            window_build.docks_back(self)
        self.settings.presentation = on
        if self.state.graph is not None:
            # Once the canvas has its new size: the whole graph if it is readable so, else readable on its root.
            QTimer.singleShot(0, self.view.fit_or_focus)

    def choose_language(self, code: str) -> None:
        """View ▸ Language: remember the choice (it wins over the system's locale from now on) and,
        when it is not the language shown, ask for the window in it (``language_chosen``)."""
        from gradviz.core import i18n

        self.settings.language = code
        self.settings.sync()
        for other, action in self.language_actions.items():
            window_build.set_checked(action, other == i18n.language())
        if code != i18n.language():
            self.language_chosen.emit(code)

    def fullscreen_toggled(self, on: bool) -> None:
        self.showFullScreen() if on else self.showNormal()

    def root_toggled(self, on: bool) -> None:
        self.state.root_at = "bottom" if on else "top"
        self.settings.root_at = self.state.root_at
        self.view.set_root_at(self.state.root_at)
        if self.compare.active:
            self.compare.view.set_root_at(self.state.root_at)

    def refit(self) -> None:
        """Place the graph in view again as it was placed, unless the user zoomed since."""
        graph = self.state.graph
        if graph is not None and graph.nodes and not self.state.closing:
            self.view.refit()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            if self.settings.window_state() is None:
                window_build.initial_dock_sizes(self)
            if self.state.presentation:
                window_build.docks_aside(self)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        old, new = event.oldSize().width(), event.size().width()
        if self._sized and old > 0 and new != old and not self.state.presentation:
            window_build.keep_dock_shares(self, old, new)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        # While the user has not zoomed since the graph was placed, place it again as the canvas
        # changes size (docks resized, window maximised, presentation mode).
        if watched is self.view and event.type() == QEvent.Type.Resize and self.view.placement is not None:
            QTimer.singleShot(0, self.refit)
        return super().eventFilter(watched, event)

    def shown_player(self):
        """The player the Backward menu and its keys drive: compare mode's while it shows."""
        compare = self.compare
        return compare.view.player if compare.active else self.player

    def shown_views(self) -> list:
        """The canvases zoom and fit act on: compare mode's two while it shows, else the window's."""
        compare = self.compare
        return [pane.view for pane in compare.view.panes.values()] if compare.active else [self.view]

    def save_layout(self) -> None:
        window_build.save_layout(self)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.replaced and not self.sessions.maybe_keep_changes():
            event.ignore()
            return
        self.state.closing = True
        self.save_layout()
        self.sessions.stop()
        self.player.pause()
        self.compare.close()
        self.runner.close()
        self.results.background.close()
        event.accept()
