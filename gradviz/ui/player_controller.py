"""The backward-pass player's wiring: its actions, and the canvas, inspector and gradients following its frame."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

from gradviz.core.replay import Frame
from gradviz.core.result import ACCUMULATE, LEAF, PARAM, BackwardCall
from gradviz.ui import style
from gradviz.ui.icons import icon
from gradviz.ui.language import plain_text

translate = QCoreApplication.translate  # pyside6-lupdate reads translate("Context", "literal")

if TYPE_CHECKING:
    from gradviz.ui.main_window import MainWindow

#: The actions that need backward calls to play.
PLAYER_ACTIONS = ("play", "step_forward", "step_back", "first", "last", "previous_call", "next_call")


def leaf_names(call: BackwardCall) -> dict[str, str]:
    """Graph node id → leaf name, for the leaves and parameters ``call`` touches."""
    names: dict[str, str] = {}
    for lg in call.leaves:
        names[lg.node_id] = lg.name
    for node in call.graph.nodes:
        if node.kind in (LEAF, PARAM) and node.names and node.id not in names:
            names[node.id] = node.names[0]
    # An AccumulateGrad node stands for its leaf: lighting it changes that leaf's .grad.
    for edge in call.graph.edges:
        src = call.graph.by_id.get(edge.src)
        if src is not None and src.kind == ACCUMULATE and edge.dst in names:
            names.setdefault(edge.src, names[edge.dst])
    return names


class PlayerController:
    """Keeps the panels on the player's frame, and the graph shown on the player's backward call.

    The canvas lights the frame only while it shows the graph of the call being played (the
    state's ``graph_call``); the inspector follows the lit node unless the user clicked one
    (the state's ``pinned_node``).
    """

    def __init__(self, window: MainWindow):
        self.window = window
        self.state = window.state
        self._muted = False
        self._leaf_names_cache: dict = {}

    def connect(self) -> None:
        w = self.window
        w.player.frame_changed.connect(self._frame_changed)
        w.player.call_changed.connect(self._call_changed)
        w.player.playing_changed.connect(self.playing_changed)
        w.view.node_clicked.connect(self._node_clicked)
        self.update_player_actions()

    # -- the player's actions ----------------------------------------------------------------------

    def toggle_play(self) -> None:
        self.window.shown_player().toggle()

    def player_step(self, delta: int) -> None:
        player = self.window.shown_player()
        player.pause()
        player.seek(player.step + delta)

    def playing_changed(self, playing: bool) -> None:
        a = self.window.actions["play"]
        text = translate("MainWindow", "&Pause") if playing else translate("MainWindow", "&Play")
        a.setText(text)
        if "(&" in text:  # as window_build.add_action: the button shows no "(P)"
            a.setIconText(plain_text(text))
        colors = style.theme_colors(self.state.theme)
        a.setIcon(icon("pause" if playing else "play", colors["text"], colors["faint"]))

    def update_player_actions(self) -> None:
        has = bool(self.window.player.calls)
        for n in PLAYER_ACTIONS:
            self.window.actions[n].setEnabled(has)

    def _call_changed(self, index: int) -> None:
        w = self.window
        self.update_player_actions()
        if self.state.result is None or index < 0:
            return
        data = w.graph_combo.currentData()
        if isinstance(data, str) and data.startswith("call:") and data != f"call:{index}":
            w.results.choose_graph(f"call:{index}")
        if w.history is not None:
            w.history.set_current_call(index)

    # -- following the frame -------------------------------------------------------------------------

    @contextmanager
    def frames_muted(self) -> Iterator[None]:
        """The panels ignore the player's frames meanwhile (a new result's graph is not on the canvas yet)."""
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    def leaf_names(self, call: BackwardCall | None) -> dict[str, str]:
        """Graph node id → leaf name, for the leaves and parameters a call touches (the last call's kept)."""
        if call is None:
            return {}
        cached = self._leaf_names_cache.get(id(call))
        if cached is not None and cached[0] is call:
            return cached[1]
        names = leaf_names(call)
        self._leaf_names_cache = {id(call): (call, names)}
        return names

    def _frame_changed(self, frame: Frame | None) -> None:
        if self._muted:
            return
        w, graph_call = self.window, self.state.graph_call
        call = w.player.call
        on_call_graph = call is not None and graph_call is call
        w.view.show_frame(frame if on_call_graph else None, call if on_call_graph else None)
        # The inspector follows the lit node unless the user picked a node by clicking it; one
        # render per step (its HTML costs milliseconds).
        node = w.inspector.node_id
        if frame is not None and frame.current is not None and on_call_graph and self.state.pinned_node is None:
            node = frame.current
        w.inspector.set_state(call if graph_call is call else None, frame, node)
        if w.grads is not None and not w.results.filling_grads:
            self.grads_follow(frame)
            w.history.set_current_call(call.index if call else None)

    def refresh_frame(self) -> None:
        """Show the player's frame again (a new graph on the canvas, or the panels built since)."""
        self._frame_changed(self.window.player.frame)

    def grads_follow(self, frame: Frame | None) -> None:
        """The gradients panel on ``frame``: the leaf whose .grad is being written is the one to look at."""
        w = self.window
        w.grads.set_frame(frame, self.leaf_names(w.player.call), follow=self.state.pinned_node is None)

    def go_to_origin(self, call: int, node_id: str) -> None:
        """Show backward call ``call`` with ``node_id`` selected: where a node a backward pass made
        comes from (the inspector's link; ``node_id`` "" when that call's graph was not recorded)."""
        w, result = self.window, self.state.result
        if result is None or not 0 <= call < len(result.backward_calls):
            return
        w.results.choose_graph(f"call:{call}")
        if node_id and node_id in result.backward_calls[call].graph.by_id:
            self._node_clicked(node_id)
            w.view.center_on_node(node_id)

    def _node_clicked(self, node_id: str) -> None:
        w = self.window
        self.state.pinned_node = node_id or None
        w.inspector.show_node(node_id)
        w.view.select_node(node_id)
        if w.grads is not None:
            w.grads.select_node(node_id)
            names = self.leaf_names(self.state.graph_call)
            if node_id in names:
                w.grads.select_leaf(names[node_id])
