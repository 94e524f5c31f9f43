"""Showing a run's result in the window: editor marks, output, the graph chosen, the player and the panels."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QTimer

from gradviz.core.collector import collector_paused
from gradviz.core.result import WORKER_CRASHED, BackwardCall, GraphData, RunResult
from gradviz.ui import cjk_fonts
from gradviz.ui.run_controller import top_level_statements
from gradviz.ui.runner import Background
from gradviz.ui.window_state import RUN, STEP, TO_CURSOR

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

if TYPE_CHECKING:
    from gradviz.ui.main_window import MainWindow

#: Graphs with more nodes than this are laid out on a worker thread before they are shown.
BACKGROUND_LAYOUT_NODES = 300
#: Delay (ms) between the pieces of work that fill the panels with a big result.
PANEL_TURN_MS = 15


@dataclass
class Prepared:
    """What a big result needs before it is shown, worked out on a worker thread."""

    result: RunResult
    replays: dict
    graph: GraphData | None = None
    layout: object = None  # a ScenePlan: node sizes, layout and the geometry of every item


def prepare_result(result: RunResult, view, root_at: str) -> Prepared:
    """The Replay and the scene plan of the last backward call (runs on a worker thread)."""
    from gradviz.core.replay import Replay

    with collector_paused():  # tens of thousands of small objects, no cycles
        call = result.backward_calls[-1]
        prepared = Prepared(result, {len(result.backward_calls) - 1: Replay(call)})
        if call.graph.nodes:
            prepared.graph = call.graph
            prepared.layout = layout_in_background(view, call.graph, root_at)
        gc.freeze()  # the replay and the plan live as long as the result: no collection need scan them
    return prepared


def layout_in_background(view, graph: GraphData, root_at: str):
    """Measure node sizes, lay ``graph`` out and work out where every item goes (a ScenePlan).

    Plain Python and Qt value types only: meant for a worker thread, so the UI thread is left
    with making the items (in slices, see GraphView.show_graph).
    """
    return view.plan(graph, None, root_at)


def statement_at(spans: list[tuple[int, int]], line: int | None) -> tuple[int, int] | None:
    """The top-level statement (first line, last line) that holds ``line``, if one does."""
    return next((s for s in spans if line is not None and s[0] <= line <= s[1]), None)


def lines_before(spans: list[tuple[int, int]], span: tuple[int, int] | None) -> set[int]:
    """The lines of the statements before ``span``: they ran before a run stopped there."""
    return {ln for s in spans if span and s[1] < span[0] for ln in range(s[0], s[1] + 1)}


class ResultController:
    """Puts a RunResult into every panel and keeps them following the graph chosen and the player.

    Big results come in pieces: their replay and layout are prepared on a worker thread, the
    canvas makes its items in slices, and the gradients panels fill in event-loop turns of their
    own; the window's ``result_shown`` and ``graph_shown`` come once everything is in place.
    The graph combo is where the graph is chosen; the state's ``graph_choice``, ``graph`` and
    ``graph_call`` say what the canvas shows (the player's wiring, a saved session and the
    exports read them there).
    """

    def __init__(self, window: MainWindow):
        self.window = window
        self.state = window.state
        self.background = Background(window)
        self._graph_key: object = None
        self._layout_token = 0
        self._prepared: Prepared | None = None
        self._shown_pending: GraphData | None = None  # graph_shown waits for the canvas to finish
        self._grads_pending: RunResult | None = None  # a big result's gradients, filled a turn later
        self._grads_started: RunResult | None = None
        self._announce: GraphData | None = None  # graph_shown, once the gradients are filled

    @property
    def filling_grads(self) -> bool:
        """A big result's gradients panels are being filled, a turn at a time: they follow no frame yet."""
        return self._grads_pending is not None

    def connect(self) -> None:
        w = self.window
        self.background.finished.connect(self._layout_done)
        w.graph_combo.activated.connect(self._graph_choice_activated)
        w.view.build_finished.connect(self._view_built)

    # -- a result arrives ----------------------------------------------------------------------------

    def receive(self, run_id: int, result: RunResult, mode: str, stop_after: int | None) -> None:
        """A run's result: shown now, or (a big one) once its replay and layout are prepared."""
        w = self.window
        last = result.backward_calls[-1] if result.backward_calls else None
        if last is not None and len(last.graph.nodes) + len(last.steps) > BACKGROUND_LAYOUT_NODES:
            # A big result: its replay and layout are worked out on a worker thread first.
            # The result's objects (hundreds of thousands, no cycles) are frozen first: every
            # young collection would scan them again, each a visible stall with all threads held.
            gc.freeze()
            w.run_label.setText(translate("Results", "Preparing {count} nodes…").format(count=len(last.graph.nodes)))
            self.background.submit(("prepared", run_id, mode, stop_after, result), prepare_result, result,
                                   w.view, self.state.root_at)
            return
        self.show_result(result, mode, stop_after)

    def clear(self) -> None:
        """No result: empty canvas, player, inspector, output and panels."""
        w = self.window
        self.state.update(result=None, graph_choice=None, graph=None, graph_call=None)
        w.graph_combo.clear()
        self._graph_key = None
        w.player.clear()
        w.inspector.set_graph(None)
        w.output.clear()
        if w.grads is not None:
            w.grads.set_result(None)
            w.history.set_histories(())
        w.view.clear()
        w.run_label.setText("")  # the previous program's numbers say nothing about this one
        w.graph_title.setText(translate("MainWindow", "Graph"))
        w.graph_subtitle.setText("")

    def merge_call(self, index: int, fetched: RunResult) -> None:
        """Put a fetched call into the result shown, and show it."""
        call = next((c for c in fetched.backward_calls if c.index == index and c.recorded), None)
        result = self.state.result
        if call is None or result is None or not 0 <= index < len(result.backward_calls):
            why = fetched.error.message if fetched.error else translate("Results", "the run did not reach it")
            self.window.graph_subtitle.setText(
                translate("Results", "backward call {index} could not be recorded: {why}").format(index=index + 1,
                                                                                                  why=why))
            return
        calls = list(result.backward_calls)
        calls[index] = call
        self.state.result = replace(result, backward_calls=tuple(calls))
        self._graph_key = None
        self.window.player.set_calls(self.state.result.backward_calls, index)
        self.choose_graph(f"call:{index}")

    def show_result(self, result: RunResult, mode: str = RUN, stop_after: int | None = None,
                    prepared: Prepared | None = None) -> None:
        """Show a RunResult in every panel (also used by tests with hand-made results)."""
        # Filling the panels of a big result allocates a lot and makes no cycles: no full
        # collection (which would hold the UI thread for 0.1 s and more) in the middle of it.
        with collector_paused():
            self._show_result(result, mode, stop_after, prepared)

    def _show_result(self, result: RunResult, mode: str, stop_after: int | None,
                     prepared: Prepared | None) -> None:
        w = self.window
        w.ensure_panels()
        self._prepared = prepared
        error = result.error
        if error is not None and error.type == WORKER_CRASHED:
            # Keep what was shown: the crash is the engine's problem, not the program's.
            w.run_label.setText(translate("Results", "The engine stopped; the next run gets a new one"))
            w.result_shown.emit(result)
            return
        self.state.result = result
        self._mark_editor(result, mode, stop_after)
        self._show_output(result)
        cjk_fonts.notice_once(w, w.editor.toPlainText())  # once, where Chinese would draw as boxes
        # Graph choices, player, panels.
        view = self.state.pending_view
        self.state.pending_view = None
        self._fill_graph_combo(result)
        call = view.backward_call if view else None
        step = view.step if view else None
        # The views follow the frame once the new graph is on the canvas, not before.
        with w.playback.frames_muted():
            w.player.set_calls(result.backward_calls, call, step, prepared.replays if prepared else None)
        choice = f"var:{view.selected_variable}" if view and view.selected_variable else None
        if choice is not None and w.graph_combo.findData(choice) >= 0:
            w.graph_combo.setCurrentIndex(w.graph_combo.findData(choice))
        self._announce = None
        if prepared is not None and w.grads is not None:
            # A big result: the canvas first (its items in slices), then the gradients table and
            # the history plot (a thousand rows each), each in an event-loop turn of its own, so
            # that no turn holds the UI thread for long. result_shown (and graph_shown) come
            # when they are filled.
            self._grads_pending = result
        else:
            self._grads_pending = None
            self.show_grads(result)
        self._graph_choice_activated(w.graph_combo.currentIndex())
        self._prepared = None
        w.run_label.setText(self._summary(result, mode))
        w.playback.update_player_actions()
        if self._grads_pending is None:
            w.result_shown.emit(result)
        elif not w.view.building:
            self._start_grads()  # else when the canvas has made its items (_view_built)

    def _mark_editor(self, result: RunResult, mode: str, stop_after: int | None) -> None:
        """The error line and message, and where a Step or Run to cursor stopped."""
        w, error = self.window, result.error
        if error is not None and error.type != "Cancelled":
            w.editor.set_error(error.line, error.message, error.hint)
            w.message_bar.show_error(error.type, error.message, error.hint, error.line)
        else:
            w.editor.clear_error()
            if error is not None:  # cancelled
                stopped = (translate("Results", "Stopped at line {line}.").format(line=error.line) if error.line
                           else translate("Results", "Stopped."))
                w.message_bar.show_message("info", stopped, translate("Results", "What ran before is shown."),
                                           error.line)
            elif result.notes:  # e.g. a graph too big to record whole
                w.message_bar.show_message("info", translate("Results", "Not all of this run is recorded."), None, None,
                                           body=" ".join(result.notes))
            elif w.message_bar.kind != "warning" or w.runner.is_ready:
                w.message_bar.clear()
        if mode not in (STEP, TO_CURSOR):
            self.state.step_after = None
            w.editor.set_step_line(None)
            return
        spans = top_level_statements(w.editor.toPlainText()) or []
        if mode == STEP:
            stopped = result.stopped_at if result.stopped_at is not None else stop_after
            span = statement_at(spans, stopped)
            self.state.step_after = span[1] if span else stopped
            if error is not None and error.line is not None:
                span = statement_at(spans, error.line) or span
        else:
            self.state.step_after = result.stopped_at
            span = statement_at(spans, result.stopped_at)
        w.editor.set_step_line(span[0] if span else None, lines_before(spans, span))

    def _show_output(self, result: RunResult) -> None:
        out, error = result.stdout + result.stderr, result.error
        last = result.last_value()
        if last is not None:
            # A bare expression on the last line that ran: its value, as a notebook shows it.
            value = last.value if "\n" not in last.value else "\n" + last.value
            out += ("" if not out or out.endswith("\n") else "\n") + translate(
                "Results", "line {line} → {value}").format(line=last.line, value=value) + "\n"
        if error is not None:
            where = translate("Results", "line {line}: ").format(line=error.line) if error.line else ""
            out += ("" if not out or out.endswith("\n") else "\n") + f"{where}{error.type}: {error.message}\n"
            if error.hint:
                out += translate("Editor", "Hint: {hint}").format(hint=error.hint) + "\n"
        self.window.output.setPlainText(out)

    def _summary(self, result: RunResult, mode: str) -> str:
        """The status bar after a run: how it ended, how long it took, what it made."""
        error = result.error
        calls = len(result.backward_calls)
        took = (f"{result.duration:.2f} s" if result.duration else
                f"{time.monotonic() - self.window.runs.run_started_at:.2f} s")
        if error is not None and error.type != "Cancelled":
            state = translate("Results", "Failed in {time}")
        else:
            state = translate("Results", "Stopped in {time}") if error else translate("Results", "Ran in {time}")
        if mode in (STEP, TO_CURSOR) and result.stopped_at:
            state = translate("Results", "Stopped after line {line} in {time}")
        nodes = len(result.backward_calls[-1].graph.nodes) if calls else len(result.graph.nodes)
        made = (translate("Results", " · {nodes} nodes · %n backward call", None, calls) if calls == 1
                else translate("Results", " · {nodes} nodes · %n backward calls", None, calls))
        return state.format(time=took, line=result.stopped_at) + made.format(nodes=nodes)

    # -- the gradients panels --------------------------------------------------------------------------

    def show_grads(self, result: RunResult) -> None:
        w = self.window
        if w.grads is None:
            return
        w.grads.set_result(result)
        w.history.set_histories(result.grad_history)

    def _start_grads(self) -> None:
        result = self._grads_pending
        if result is None or self._grads_started is result:
            return
        self._grads_started = result
        # A short delay, not 0: the turn that made the canvas's last items may have been long,
        # and input and paint events get their turn before the next piece of work.
        QTimer.singleShot(PANEL_TURN_MS, lambda: self._fill_grads_later(result, 0))

    def _fill_grads_later(self, result: RunResult, stage: int) -> None:
        w = self.window
        if result is not self._grads_pending or self.state.closing:
            return  # a newer result took over
        with collector_paused():
            if stage == 0:
                w.grads.set_result(result)
                w.playback.grads_follow(w.player.frame)
                QTimer.singleShot(PANEL_TURN_MS, lambda: self._fill_grads_later(result, 1))
                return
            w.history.set_histories(result.grad_history)
            call = w.player.call
            w.history.set_current_call(call.index if call else None)
        self._grads_pending = None
        w.result_shown.emit(result)
        graph, self._announce = self._announce, None
        if graph is not None and graph is self.state.graph:
            w.graph_shown.emit(graph)

    # -- the graph chosen ------------------------------------------------------------------------------

    def _fill_graph_combo(self, result: RunResult) -> None:
        combo = self.window.graph_combo
        combo.blockSignals(True)
        combo.clear()
        n = len(result.backward_calls)
        for call in result.backward_calls:
            if n > 1:
                label = translate("Results", "backward call {index} · line {line}").format(index=call.index + 1,
                                                                                            line=call.line)
            else:
                label = translate("Results", "backward at line {line}").format(line=call.line)
            if call.error:
                label += translate("Results", "  (failed)")
            combo.addItem(label, f"call:{call.index}")
        if n:
            combo.insertSeparator(combo.count())
        for v in result.variables:
            if result.graph_holding(v) is not None and (v.grad_fn or v.requires_grad):
                shape = "×".join(str(s) for s in v.shape) or translate("Results", "scalar")
                made_by = v.grad_fn or translate("Results", "leaf")
                combo.addItem(f"{v.name}  ({made_by}, {shape})", f"var:{v.name}")
        choice = result.default_graph()
        if choice is not None:
            combo.setCurrentIndex(combo.findData(f"{choice[0]}:{choice[1]}"))
        elif combo.count():
            combo.setCurrentIndex(next(i for i in reversed(range(combo.count())) if combo.itemData(i) is not None))
        combo.setEnabled(combo.count() > 0)
        combo.blockSignals(False)

    def graph_choices(self) -> list[tuple[str, object]]:
        """(label, data) of every entry of the graph combo."""
        c = self.window.graph_combo
        return [(c.itemText(i), c.itemData(i)) for i in range(c.count()) if c.itemData(i) is not None]

    def choose_graph(self, data: str) -> None:
        """Show the graph of ``"call:<index>"`` or ``"var:<name>"``."""
        i = self.window.graph_combo.findData(data)
        if i >= 0:
            self.window.graph_combo.setCurrentIndex(i)
            self._graph_choice_activated(i)

    def _graph_choice_activated(self, index: int) -> None:
        w, result = self.window, self.state.result
        if result is None:
            return
        data = w.graph_combo.itemData(index) if index >= 0 else None
        if not isinstance(data, str):
            self.state.graph_choice = None
            self._show_graph(("none",), GraphData(), None)
            w.graph_title.setText(translate("Results", "No autograd graph"))
            w.graph_subtitle.setText(translate("Results", "Make a tensor with requires_grad=True and compute with it"))
            return
        self.state.graph_choice = data
        kind, key = data.split(":", 1)
        root_at = self.state.root_at
        if kind == "call":
            key = int(key)
            if w.player.call_index != key:
                w.player.select_call(key)
            call = result.backward_calls[key]
            self._show_graph(("call", id(result), key, root_at), call.graph, call)
            w.graph_title.setText(translate("Results", "Backward call {index}").format(index=key + 1)
                                  if len(result.backward_calls) > 1 else translate("Results", "Backward pass"))
            count = len(call.steps)
            steps = (translate("Results", "%n step", None, count) if count == 1
                     else translate("Results", "%n steps", None, count))
            w.graph_subtitle.setText(translate("Results", "line {line} · {nodes} nodes · {steps}").format(
                line=call.line, nodes=len(call.graph.nodes), steps=steps))
            if not call.recorded:
                w.runs.fetch_call(key)
        else:
            v = result.variable(key)
            graph = (result.graph_of(v) if v else None) or GraphData()
            # Animate over the variable's graph when it is part of the call being replayed.
            player_call = w.player.call
            call = player_call if v and player_call and v.graph_call == player_call.index else None
            self._show_graph(("var", id(result), key, root_at), graph, call)
            w.graph_title.setText(translate("Results", "Graph of {name}").format(name=key))
            w.graph_subtitle.setText(translate("Results", "{count} nodes").format(count=len(graph.nodes)))

    # -- the canvas ------------------------------------------------------------------------------------

    def _show_graph(self, key, graph: GraphData, call: BackwardCall | None) -> None:
        w, state = self.window, self.state
        if key == self._graph_key:
            return
        self._graph_key = key
        state.update(graph=graph, graph_call=call)
        if state.pinned_node not in graph.by_id:
            state.pinned_node = None
        w.inspector.set_graph(graph, w.player.call)
        self._layout_token += 1
        if w.view.root_at != state.root_at:
            w.view.set_root_at(state.root_at)
        prepared = self._prepared
        if prepared is not None and prepared.graph is graph and prepared.layout is not None:
            self._put_graph(graph, prepared.layout)
            return
        if len(graph.nodes) > BACKGROUND_LAYOUT_NODES:
            w.view.clear()
            w.playback.refresh_frame()
            # Layout is pure Python: on a worker thread the window keeps painting meanwhile
            # (the canvas measures node sizes with fonts of its own there).
            w.run_label.setText(translate("Results", "Laying out {count} nodes…").format(count=len(graph.nodes)))
            self.background.submit((self._layout_token, key), layout_in_background, w.view, graph, state.root_at)
            return
        self._put_graph(graph, None)

    def _layout_done(self, token, layout, error) -> None:
        if token[0] == "prepared":
            _tag, run_id, mode, stop_after, result = token
            if run_id == self.window.runner.latest_id and not self.state.closing:
                # If preparing failed, the result is shown the plain way.
                self.show_result(result, mode, stop_after, layout if error is None else None)
            return
        number, _key = token
        if number != self._layout_token or self.state.closing:
            return
        self._put_graph(self.state.graph, None if error else layout)

    def _put_graph(self, graph: GraphData, plan) -> None:
        view = self.window.view
        self._shown_pending = None
        if graph.nodes:
            # Big graphs: the overview, frames and fit work at once, items come a slice per
            # event-loop turn so the window never freezes; graph_shown waits for the last one.
            view.show_graph(graph, plan=plan, incremental=True)
        else:
            view.clear()
        self.window.playback.refresh_frame()
        if graph.nodes:
            # Again, now that the frame's labels and callouts are drawn; a graph too big to
            # read fitted opens at a readable zoom on its root instead.
            view.fit_or_focus()
        if view.building:
            self._shown_pending = graph
        else:
            self._graph_complete(graph)

    def _view_built(self) -> None:
        graph, self._shown_pending = self._shown_pending, None
        if graph is not None and graph is self.state.graph:
            self._graph_complete(graph)
        self._start_grads()

    def _graph_complete(self, graph: GraphData) -> None:
        if len(graph.nodes) > BACKGROUND_LAYOUT_NODES:
            # A big result and its items are a million long-lived objects that make no reference
            # cycles: a full collection would scan them all (0.1-0.2 s, with every thread held)
            # at some later moment, in the middle of an animation. Frozen, collections skip them;
            # they are still freed as usual when nothing refers to them any more.
            gc.freeze()
        if self._grads_pending is not None:
            self._announce = graph  # once the gradients panels are filled too
            self._start_grads()
        else:
            self.window.graph_shown.emit(graph)
