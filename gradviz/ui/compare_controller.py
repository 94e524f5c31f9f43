"""Compare mode in the main window: entering it (File > Compare With…, Run > Compare Backward Calls,
a session with a second program), running both programs, and leaving it with nothing lost.

The window's own panel (canvas, player) is taken out while compare mode shows and put back when
it ends; the program and lesson docks stay, the docks about one run (inspector, gradients, its
.grad history) step aside for the two graphs and come back as they were. Both programs run in a runner of compare mode's
own (the window's would cancel one run for the other), A then B.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction

from gradviz.core.compare import RunPair, pair_calls, pair_runs
from gradviz.core.session import Session, SessionError, load_path
from gradviz.core.trust import is_trusted
from gradviz.ui import dialogs, window_build
from gradviz.ui.compare_view import CompareView
from gradviz.ui.runner import Runner

#: The docks that show one run: compare mode hides them (its own plot has both runs' histories).
ONE_RUN_DOCKS = ("inspectorDock", "gradsDock", "historyDock")


class CompareController(QObject):
    """Compare mode of one main window.

    Signals
    -------
    entered()
        Compare mode took the middle of the window.
    pair_shown(object)
        Both runs finished and their RunPair is shown.
    left()
        The window's own panel is back.
    """

    entered = Signal()
    pair_shown = Signal(object)
    left = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view: CompareView | None = None
        self._saved_central = None
        self.saved_docks = None  # the window's dock layout before compare mode (QByteArray)
        self._runner: Runner | None = None
        self._pending: dict[int, str] = {}  # run id -> "a" / "b"
        self._results: dict[str, object] = {}
        self._sessions: dict[str, Session] = {}
        self._titles = ("A", "B")
        self._trusted_b = True
        self._calls: tuple[int, int] | None = None  # comparing two calls of the window's run

    @property
    def active(self) -> bool:
        return self.view is not None

    # -- wiring ----------------------------------------------------------------------------------
    def install(self) -> None:
        """Add the menu entries and follow the window (sessions opened, theme)."""
        w = self.window
        self.action_with = self._action("compare_with", self.tr("Compare &With…"), self.compare_with_file,
                                        self.tr("Run another session or script beside this one, differences marked"))
        self.action_calls = self._action("compare_calls", self.tr("Compare &Backward Calls…"), self.compare_calls,
                                         self.tr("Two backward calls of this run side by side (first and last, "
                                                 "or any two you pick)"))
        self.action_leave = self._action("leave_compare", self.tr("&Leave Compare"), self.leave,
                                         self.tr("Back to the single graph"))
        self.action_leave.setEnabled(False)
        file_menu = self._menu_holding(w.actions["save_as"])
        if file_menu is not None:
            file_menu.insertAction(w.actions["export"], self.action_with)
            file_menu.insertAction(w.actions["export"], self.action_leave)
            file_menu.insertSeparator(w.actions["export"])
        run_menu = self._menu_holding(w.actions["run"])
        if run_menu is not None:
            run_menu.insertAction(w.actions["limits"], self.action_calls)
            run_menu.insertSeparator(w.actions["limits"])
        w.session_loaded.connect(self._session_loaded)
        w.result_shown.connect(self._window_ran)
        w.state.subscribe("theme", self._theme_changed)
        w.state.subscribe("presentation", self._presentation_changed)

    def _action(self, name: str, text: str, slot, tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.actions[name] = action
        return action

    def _menu_holding(self, action: QAction):
        for top in self.window.menuBar().actions():
            menu = top.menu()
            if menu is not None and action in menu.actions():
                return menu
        return None

    def _session_loaded(self, path: str) -> None:
        w = self.window
        compare = w.state.compare
        if self.active:
            self.leave()
        if compare is not None:
            session = w.current_session()
            other = session.compared()
            title_a = compare.title_a or session.title or self.tr("A")
            self.start(session, other, title_a, other.title or self.tr("B"), trusted_b=w.state.trusted)

    def _theme_changed(self) -> None:
        if self.view is not None:
            self.view.set_theme(self.window.state.theme)

    def _presentation_changed(self) -> None:
        if self.view is not None:
            self.view.set_font_scale(window_build.look_scale(self.window))

    # -- entering --------------------------------------------------------------------------------
    def compare_with_file(self, path: str | None = None) -> bool:
        """Ask for a session or script (unless ``path``) and compare it with the program in the editor."""
        w = self.window
        path = path or dialogs.open_file(w)
        if not path:
            return False
        try:
            other = load_path(path)
        except SessionError as exc:
            dialogs.show_error(w, self.tr("Cannot compare"), f"{Path(path).name}: {exc}")
            return False
        session = w.current_session()
        title_a = session.title or self.tr("A")
        title_b = other.title or Path(path).stem
        self.start(session, other, title_a, title_b, trusted_b=is_trusted(path, other.program))
        return True

    def compare_calls(self) -> bool:
        """Two backward calls of the run shown, side by side (no new run): with two calls those two,
        with more the two the user picks (first and last to start with)."""
        w = self.window
        result = w.state.result
        calls = result.backward_calls if result is not None else ()
        recorded = [c for c in calls if c.recorded]
        if len(recorded) < 2:
            w.statusBar().showMessage(self.tr("Compare needs a run with two backward calls recorded step by step"),
                                      8000)
            return False
        first, second = 0, len(recorded) - 1
        if len(recorded) > 2:
            labels = [self.tr("#{n} · backward at line {line}").format(n=c.index + 1, line=c.line) for c in recorded]
            picked = dialogs.ask_two_calls(w, labels, first, second)
            if picked is None:
                return False
            first, second = picked
        self._calls = (recorded[first].index, recorded[second].index)
        self._sessions = {}
        self._enter()
        pair = pair_calls(result, *self._calls, w.notes_title.text())
        self.view.show_running(pair.title_a, pair.title_b)
        self._show(pair, [])
        return True

    def resume(self, other: CompareController) -> None:
        """Compare again what ``other`` (the controller of the window this one replaces) compared:
        the same two programs, or the same two calls once this window's run is back."""
        if other._sessions:
            a = self.window.current_session()
            self.start(a, other._sessions["b"], *other._titles, trusted_b=other._trusted_b)
        elif other._calls is not None:
            calls = other._calls

            def shown(result) -> None:
                self.window.result_shown.disconnect(shown)
                indexes = {c.index for c in result.backward_calls if c.recorded}
                if set(calls) <= indexes:
                    self._calls = calls
                    self._sessions = {}
                    self._enter()
                    self._show(pair_calls(result, *calls, self.window.notes_title.text()), [])

            self.window.result_shown.connect(shown)

    def _window_ran(self, result) -> None:
        """Run in compare mode runs the editor's program: it becomes the left side again (the right
        side's run is kept: its program did not change), or, comparing calls, the same calls of the new run."""
        if not self.active or self._pending:
            return
        if self._sessions:
            if "b" not in self._results:
                return
            self._results["a"] = result
            self._sessions["a"] = self.window.current_session()
            self._show(pair_runs(result, self._results["b"], *self._titles), self._failures())
        elif self._calls is not None:
            indexes = {c.index for c in result.backward_calls if c.recorded}
            if set(self._calls) <= indexes:
                self._show(pair_calls(result, *self._calls, self.window.notes_title.text()), [])

    def start(self, a: Session, b: Session, title_a: str, title_b: str, trusted_b: bool = True) -> None:
        """Enter compare mode and run ``a`` and ``b`` (one after the other); the pair shows when both are done."""
        self._enter()
        self._titles = (title_a, title_b)
        self._calls = None
        self._sessions = {"a": a, "b": b}
        self._results = {}
        self.view.show_running(title_a, title_b)
        runner = self._ensure_runner()
        self._pending = {runner.run(a.request(), trusted=self.window.state.trusted): "a"}
        self._trusted_b = trusted_b

    def _ensure_runner(self) -> Runner:
        if self._runner is None:
            self._runner = Runner(self.window.runner.client_factory, parent=self)
            self._runner.run_finished.connect(self._run_finished)
            self._runner.start()
        return self._runner

    def _run_finished(self, run_id: int, result) -> None:
        side = self._pending.pop(run_id, None)
        if side is None or not self.active:
            return
        self._results[side] = result
        if side == "a":
            b = self._sessions["b"]
            self._pending = {self._runner.run(b.request(), trusted=self._trusted_b): "b"}
            return
        pair = pair_runs(self._results["a"], self._results["b"], *self._titles)
        self._show(pair, self._failures())

    def _failures(self) -> list[str]:
        """One line for each side whose program failed."""
        failures = []
        for key, title in zip(("a", "b"), self._titles, strict=True):
            error = self._results[key].error
            if error is not None:
                where = self.tr(" (line {line})").format(line=error.line) if error.line else ""
                failures.append(self.tr("{side} failed{where}: {type}: {message}").format(
                    side=title, where=where, type=error.type, message=error.message))
        return failures

    def _show(self, pair: RunPair, failures: list[str]) -> None:
        self.view.show_pair(pair, failures)
        self.pair_shown.emit(pair)

    def _enter(self) -> None:
        w = self.window
        if self.view is None:
            w.player.pause()
            self.saved_docks = window_build.layout_outside_modes(w)
            for name in ONE_RUN_DOCKS:
                if name in w.docks:
                    w.docks[name].hide()
            self._saved_central = w.takeCentralWidget()
            self.view = CompareView(w.state.theme, w.state.root_at, w)
            self.view.leave_requested.connect(self.leave)
            self._presentation_changed()
            w.setCentralWidget(self.view)
            # The two graphs get the room the docks gave up (once the layout has taken the change).
            QTimer.singleShot(0, self._narrow_docks)
            self.action_leave.setEnabled(True)
            self.entered.emit()

    def _narrow_docks(self) -> None:
        w = self.window
        program = w.docks.get("programDock")
        if self.view is not None and program is not None and program.isVisible():
            w.resizeDocks([program], [max(340, w.width() * 3 // 10)], Qt.Orientation.Horizontal)
            for pane in self.view.panes.values():
                QTimer.singleShot(0, pane.view.fit_or_focus)

    # -- leaving ---------------------------------------------------------------------------------
    def leave(self) -> None:
        """Put the window's own panel back, as it was."""
        if self.view is None:
            return
        w = self.window
        view = self.view
        self.view = None
        self._pending = {}
        view.stop()
        w.takeCentralWidget()
        view.deleteLater()
        w.setCentralWidget(self._saved_central)
        self._saved_central.show()  # taken out, a widget is hidden: put back, it must be shown again
        self._saved_central = None
        if self.saved_docks is not None:
            w.restoreState(self.saved_docks)
            self.saved_docks = None
            if w.state.presentation:  # the docks stay aside, the layout outside it remembered again
                w.normal_layout = None
                window_build.docks_aside(w)
        self.action_leave.setEnabled(False)
        QTimer.singleShot(0, w.refit)  # the canvas had no size while it was out: place its graph again
        self.left.emit()

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
