"""The window's runs: Run, Run to cursor, Step, Stop, the engine's state, and the trust prompt."""

from __future__ import annotations

import ast
import time
from dataclasses import replace
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QTimer

from gradviz.core import i18n
from gradviz.core.request import Limits, RunRequest
from gradviz.core.result import NOT_CONTAINED, WORKER_CRASHED, RunResult
from gradviz.core.trust import TrustStore
from gradviz.ui import dialogs
from gradviz.ui.window_state import FETCH, IDLE, RUN, STEP, TO_CURSOR

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

if TYPE_CHECKING:
    from gradviz.ui.main_window import MainWindow

#: A run longer than this (ms) shows the progress bar.
PROGRESS_DELAY_MS = 300
#: The status bar while a run of each mode is going.
#: (English; the status bar shows them through translate("Runs", ...)).
RUNNING_TEXT = {RUN: QT_TRANSLATE_NOOP("Runs", "Running"), TO_CURSOR: QT_TRANSLATE_NOOP("Runs",
                                                                                        "Running to the cursor"),
                STEP: QT_TRANSLATE_NOOP("Runs", "Stepping"), FETCH: QT_TRANSLATE_NOOP("Runs",
                                                                                      "Recording the backward call")}


def top_level_statements(source: str) -> list[tuple[int, int]] | None:
    """(first line, last line) of each top-level statement; None when the text does not parse.

    Only parses (``ast.parse``): nothing is compiled or run here; the engine runs the program.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    spans = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        spans.append((start, node.end_lineno or node.lineno))
    return spans


class RunController:
    """Sends the editor's program to the runner and hands what comes back to the result controller.

    The state's ``run_mode`` is the mode of the newest run while the runner is busy; the Stop
    action and the progress bar follow it.
    """

    def __init__(self, window: MainWindow):
        self.window = window
        self.state = window.state
        self._modes: dict[int, tuple[str, int | None]] = {}
        self._requests: dict[int, RunRequest] = {}
        self._shown_request: RunRequest | None = None  # the run whose result is shown (fetches rerun it)
        self._calls_made: dict[tuple[str, int], int] = {}  # (program, seed) -> its backward calls last time
        self._run_started_at = 0.0
        self.progress_timer = QTimer(window)
        self.progress_timer.setSingleShot(True)
        self.progress_timer.setInterval(PROGRESS_DELAY_MS)

    @property
    def run_started_at(self) -> float:
        """time.monotonic() when the newest run started (its duration when the result has none)."""
        return self._run_started_at

    def connect(self) -> None:
        r = self.window.runner
        r.engine_starting.connect(lambda: self._engine_state(
            "starting", translate("Runs", "● Engine starting…  (loading PyTorch)")))
        r.engine_ready.connect(self._engine_ready)
        r.engine_failed.connect(self._engine_failed)
        r.engine_crashed.connect(self._engine_crashed)
        r.run_started.connect(self._run_started)
        r.run_progressed.connect(self._run_progressed)
        r.run_finished.connect(self._run_finished)
        r.busy_changed.connect(self._busy_changed)
        self.progress_timer.timeout.connect(self._show_progress)
        self.state.subscribe("run_mode", self._follow_run_mode)
        # The engine may have become ready before these connections existed.
        if r.is_ready:
            self._engine_ready()
        self.window.actions["cancel"].setEnabled(False)

    # -- asking for runs ---------------------------------------------------------------------------

    def _request(self, stop_after: int | None) -> RunRequest:
        program = self.window.editor.toPlainText()
        # The last backward call is the one shown: if the same program made N calls last time, ask for
        # call N-1 step by step from the start (past the first ones, calls are recorded lightly).
        calls = self._calls_made.get((program, self.state.seed))
        return RunRequest(program=program, seed=self.state.seed, limits=self.state.limits or Limits(),
                          stop_after_line=stop_after, detail_calls=(calls - 1,) if calls else (),
                          language=i18n.language())

    def _send(self, request: RunRequest, mode: str, key: int | None) -> int:
        runner = self.window.runner
        run_id = runner.run(request, trusted=self.state.trusted)
        self._modes[run_id] = (mode, key)
        self._requests[run_id] = request
        if runner.is_busy:
            self.state.run_mode = mode
        return run_id

    def _submit(self, mode: str, stop_after: int | None) -> int:
        return self._send(self._request(stop_after), mode, stop_after)

    def fetch_call(self, index: int) -> int | None:
        """Record backward call ``index`` step by step (it was recorded lightly): the program runs again,
        up to that call only. None when the program was changed since (run it again instead)."""
        w = self.window
        shown = self._shown_request
        if shown is None or shown.program != w.editor.toPlainText():
            w.graph_subtitle.setText(translate("Runs",
                                               "The program changed since this run: run it again to see this call"))
            return None
        run_id = self._send(replace(shown, stop_after_line=None, detail_calls=(), only_call=index), FETCH, index)
        w.graph_subtitle.setText(translate("Runs",
                                           "recording backward call {index} step by step…").format(index=index + 1))
        return run_id

    def run_all(self) -> int:
        """Run the whole program (Ctrl+Enter)."""
        return self._submit(RUN, None)

    def run_to_cursor(self) -> int:
        """Run up to and including the top-level statement at the cursor."""
        editor = self.window.editor
        line = editor.cursor_line()
        spans = top_level_statements(editor.toPlainText())
        if spans:
            # A cursor on a blank line between statements stops after the statement before it.
            before = [s for s in spans if s[0] <= line]
            if not before:
                line = spans[0][0]
        return self._submit(TO_CURSOR, line)

    def step(self) -> int | None:
        """Run one more top-level statement (the program re-runs from the start up to it)."""
        spans = top_level_statements(self.window.editor.toPlainText())
        if spans is None:  # a syntax error: the engine reports it with its line
            return self._submit(RUN, None)
        if not spans:
            return None
        after = self.state.step_after
        nxt = next((s for s in spans if after is None or s[0] > after), None)
        if nxt is None:  # past the last statement: start again
            nxt = spans[0]
        return self._submit(STEP, nxt[0])

    def cancel_run(self) -> None:
        self.window.runner.cancel()
        self.window.statusBar().showMessage(translate("Runs", "Stopping the program…"), 3000)

    def edit_limits(self) -> None:
        """Run → Limits…: the limits of this session's runs (saved with it); None keeps the defaults."""
        current = self.state.limits or Limits()
        chosen = dialogs.ask_limits(self.window, current)
        if chosen is None or chosen == current:
            return
        self.state.update(limits=None if chosen == Limits() else chosen, dirty=True)
        self.window.statusBar().showMessage(translate("Runs", "The new limits apply from the next run."), 5000)

    def restart_engine(self) -> None:
        runner = self.window.runner
        runner.kill()
        if not runner.is_busy:
            runner.start()

    # -- runs going and ending ---------------------------------------------------------------------

    def _run_started(self, run_id: int, request: RunRequest) -> None:
        if run_id != self.window.runner.latest_id:
            return
        self._run_started_at = time.monotonic()
        mode = self._modes.get(run_id, (RUN, None))[0]
        self.window.run_label.setText(translate("Runs", RUNNING_TEXT[mode]) + "…")
        self.window.message_bar.clear()  # the last run's message (an engine that stopped...) is over
        self.progress_timer.start()

    def _run_progressed(self, run_id: int, info: dict) -> None:
        if run_id != self.window.runner.latest_id:
            return
        line = info.get("line")
        done = info.get("statements_done")
        text = translate("Runs", "Running line {line}").format(line=line) if line else translate("Runs", "Running")
        if done:
            text += translate("Runs", " · {count} statements").format(count=done)
        self.window.run_label.setText(text + "…")

    def _show_progress(self) -> None:
        w = self.window
        if w.runner.is_busy:
            w.progress.show()
            w.statusBar().showMessage(translate("Runs", "Running… press Shift+F5 to stop"), 3000)

    def _busy_changed(self, busy: bool) -> None:
        if not busy:
            self.state.run_mode = IDLE

    def _follow_run_mode(self) -> None:
        running = self.state.running
        self.window.actions["cancel"].setEnabled(running)
        if not running:
            self.progress_timer.stop()
            self.window.progress.hide()

    def _run_finished(self, run_id: int, result: RunResult) -> None:
        w = self.window
        mode, stop_after = self._modes.pop(run_id, (RUN, None))
        request = self._requests.pop(run_id, None)
        if run_id != w.runner.latest_id or self.state.closing:
            return  # superseded by a newer run
        self.progress_timer.stop()
        w.progress.hide()
        w.statusBar().clearMessage()
        if result.error is not None and result.error.type == NOT_CONTAINED:
            self._ask_trust(mode, stop_after, result.error.message)
            return
        if mode == FETCH:
            w.run_label.setText(translate("Runs", "Recorded backward call {index} in {time} s").format(
                index=stop_after + 1, time=f"{result.duration:.2f}"))
            w.results.merge_call(stop_after, result)
            return
        crashed = result.error is not None and result.error.type == WORKER_CRASHED
        if crashed and request is not None and (
                self._shown_request is None or self._shown_request.program != request.program):
            # What is on screen belongs to another program: it would pass for this one's.
            w.results.clear()
            self._shown_request = None
        elif request is not None and not crashed:  # a crashed run shows nothing to fetch from
            self._shown_request = request
            if mode == RUN and result.error is None:
                self._calls_made[(request.program, request.seed)] = len(result.backward_calls)
        w.results.receive(run_id, result, mode, stop_after)

    def _ask_trust(self, mode: str, stop_after: int | None, why: str) -> None:
        """The engine cannot be contained here and the program came from elsewhere: ask, then run or not."""
        w = self.window
        w.run_label.setText(translate("Runs", "Not run"))
        if not dialogs.ask_trust(w, w.sessions.display_name(), why):
            w.message_bar.show_message(
                "warning", translate("Runs", "Not run: this program came from elsewhere."),
                translate("Runs", "This system cannot contain the engine (Help ▸ About gradviz says why). "
                                  "Run it again to trust it."))
            return
        self.state.trusted = True
        try:
            TrustStore().trust(w.editor.toPlainText())
        except OSError:
            pass  # trusted for as long as it is open here
        self._submit(mode, stop_after)

    # -- the engine --------------------------------------------------------------------------------

    def _engine_state(self, state: str, text: str) -> None:
        label = self.window.engine_label
        label.setText(text)
        label.setProperty("state", state)
        label.style().unpolish(label)
        label.style().polish(label)

    def _engine_ready(self) -> None:
        """Ready, and how the system holds the engine: a warning colour where it is not contained."""
        containment = self.window.runner.containment
        if containment is not None and not containment.contained:
            self._engine_state("starting", translate("Runs", "● Engine ready · not contained"))
        else:
            self._engine_state("ready", translate("Runs", "● Engine ready"))
        if containment is not None:
            self.window.engine_label.setToolTip(translate(
                "Runs", "The engine runs each program in a fresh process; {summary} (Help ▸ About gradviz)").format(
                summary=containment.summary()))

    def engine_hint(self) -> None:
        if not self.window.runner.is_ready:
            self.window.statusBar().showMessage(
                translate("Runs", "The engine is starting (PyTorch loads once); your run starts when it is ready"),
                5000)

    def _engine_failed(self, message: str) -> None:
        self._engine_state("failed", translate("Runs", "● Engine failed"))
        self.window.engine_label.setToolTip(message)
        self.window.message_bar.show_message("error", translate("Runs", "The engine could not start."), message)

    def _engine_crashed(self, why: str) -> None:
        self._engine_state("starting", translate("Runs", "● Engine restarting…"))
        self.window.message_bar.show_message(
            "warning", translate("Runs", "The engine stopped while running your program ({why}).").format(why=why),
            translate("Runs", "It is starting again; run the program once it is ready. Your text is safe."),
        )

    def show_about(self) -> None:
        """Help ▸ About: the version, and how the operating system holds the engine."""
        from gradviz import __version__

        containment = self.window.runner.containment
        if containment is None:
            held = "<p>{}</p>".format(escape(translate("Runs",
                                                  "The engine has not started yet; its walls are shown once it has.")))
            details = ""
        else:
            marks = " · ".join(f"{'✔' if layer.active else '✘'} {escape(layer.name.replace('_', ' '))}"
                               for layer in containment.layers)
            where = (translate("Runs", "Every program runs inside these walls.") if containment.contained else
                     translate("Runs", "A program from elsewhere runs only once you trust it."))
            engine = escape(translate("Runs", "Engine:"))
            below = escape(translate("Runs", "Details below, or run {command}.")).format(
                command="<tt>gradviz doctor</tt>")
            held = (f"<p><b>{engine}</b> {escape(containment.summary())}.<br>{escape(where)}</p>"
                    f"<p style='color:gray'>{marks}</p><p>{below}</p>")
            details = containment.report()
        dialogs.show_about(
            self.window, translate("Runs", "About gradviz"),
            f"<b>gradviz {__version__}</b><p>" + escape(translate(
                "Runs", "Make PyTorch autograd visible: run real code, draw the graph, animate the backward pass, "
                "watch .grad accumulate.")) + f"</p>{held}",
            details,
        )
