"""What the main window is showing, as plain Python: the session, the result, the chosen graph, the run mode.

No Qt here: the window's controllers change this state and the widgets that depend on it follow
it through `WindowState.subscribe`, so the rules (what counts as a change, which graph a choice
names, what a run mode may be) are testable without a display.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: Run modes: nothing running, a whole run, a run to the cursor, one more statement (Step), and a
#: rerun that records one backward call step by step ("fetch"). The strings are those that
#: ``MainWindow.show_result`` takes as its ``mode``.
IDLE, RUN, TO_CURSOR, STEP, FETCH = "idle", "run", "cursor", "step", "fetch"
RUN_MODES = (IDLE, RUN, TO_CURSOR, STEP, FETCH)
ROOT_PLACES = ("top", "bottom")

#: Every field and its value in a new window.
DEFAULTS: dict[str, Any] = {
    # The session: where it is saved (None: not yet, or a script), its seed, its run limits (None:
    # the defaults; a core.request.Limits once set in the session file or the Limits dialog), whether its program
    # may run where the engine cannot be contained (typed here, a shipped lesson, or trusted by
    # the user), unsaved changes, and its view settings waiting for the first result.
    "path": None,
    "seed": 0,
    "limits": None,
    "trusted": True,
    "dirty": False,
    "pending_view": None,
    # The session's second program, shown beside the first in compare mode (a core.session
    # CompareSide), kept so that saving writes it back.
    "compare": None,
    # The result shown; the graph chosen ("call:<index>" or "var:<name>", None for none); the
    # GraphData on the canvas and the BackwardCall animated over it; a node the user clicked.
    "result": None,
    "graph_choice": None,
    "graph": None,
    "graph_call": None,
    "pinned_node": None,
    # Running: the mode of the newest run while the engine is busy (IDLE otherwise), and the
    # last line of the statement Step ran last (None: Step starts from the first statement).
    "run_mode": IDLE,
    "step_after": None,
    # The look, and whether the window is closing (late answers are then dropped).
    "theme": "light",
    "presentation": False,
    "root_at": "top",
    "closing": False,
}

_PLAIN = (str, int, float, bool, type(None))


def _same(old: Any, new: Any) -> bool:
    """Plain values compare by value; results, graphs and calls by identity (a deep comparison of a
    5,000-node result would cost more than the change it guards)."""
    if old is new:
        return True
    return isinstance(old, _PLAIN) and isinstance(new, _PLAIN) and type(old) is type(new) and old == new


class WindowState:
    """The main window's state, and a list of who follows which part of it.

    Set fields one at a time (``state.dirty = True``) or several at once (``state.update(...)``):
    each follower whose fields changed is called once, after every field of the update is set,
    in the order the followers subscribed. Setting a field to the value it has calls no one.

    Attributes
    ----------
    path, seed, limits, trusted, dirty, pending_view, compare
        The session (see `DEFAULTS`).
    result, graph_choice, graph, graph_call, pinned_node
        The result shown and the graph chosen from it.
    run_mode, step_after
        Running (`RUN_MODES`) and stepping.
    theme, presentation, root_at, closing
        The look, and the window closing.
    """

    def __init__(self, **values: Any):
        object.__setattr__(self, "_followers", [])
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"WindowState has no field {', '.join(sorted(unknown))}")
        fields = {**DEFAULTS, **values}
        self._check(fields)
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    # -- following ---------------------------------------------------------------------------------

    def subscribe(self, fields: Iterable[str] | str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` whenever one of ``fields`` changes; returns a function that stops it."""
        names = frozenset([fields] if isinstance(fields, str) else fields)
        unknown = names - set(DEFAULTS)
        if unknown or not names:
            raise ValueError(f"cannot follow {sorted(unknown) or 'no field'}")
        entry = (names, callback)
        self._followers.append(entry)

        def unsubscribe() -> None:
            if entry in self._followers:
                self._followers.remove(entry)

        return unsubscribe

    def update(self, **changes: Any) -> frozenset[str]:
        """Set several fields, then tell their followers; returns the names of the fields that changed."""
        unknown = set(changes) - set(DEFAULTS)
        if unknown:
            raise AttributeError(f"WindowState has no field {', '.join(sorted(unknown))}")
        self._check(changes)
        changed = frozenset(k for k, v in changes.items() if not _same(getattr(self, k), v))
        for name in changed:
            object.__setattr__(self, name, changes[name])
        if changed:
            for names, callback in list(self._followers):
                if names & changed:
                    callback()
        return changed

    def __setattr__(self, name: str, value: Any) -> None:
        self.update(**{name: value})

    @staticmethod
    def _check(fields: dict[str, Any]) -> None:
        mode = fields.get("run_mode", IDLE)
        if mode not in RUN_MODES:
            raise ValueError(f"run mode {mode!r} is not one of {', '.join(RUN_MODES)}")
        root = fields.get("root_at", "top")
        if root not in ROOT_PLACES:
            raise ValueError(f"root_at {root!r} is not 'top' or 'bottom'")
        choice = fields.get("graph_choice")
        if choice is not None:
            kind, _, key = choice.partition(":") if isinstance(choice, str) else ("", "", "")
            if not key or kind not in ("call", "var") or (kind == "call" and not key.isdigit()):
                raise ValueError(f"graph choice {choice!r} is not 'call:<index>' or 'var:<name>'")

    # -- what follows from the fields --------------------------------------------------------------

    @property
    def running(self) -> bool:
        """A run is going (the engine is busy with the newest request)."""
        return self.run_mode != IDLE

    @property
    def chosen_call(self) -> int | None:
        """The index of the backward call whose graph is chosen, if a call's graph is."""
        kind, _, key = (self.graph_choice or "").partition(":")
        return int(key) if kind == "call" else None

    @property
    def chosen_variable(self) -> str | None:
        """The name of the variable whose graph is chosen, if a variable's graph is."""
        kind, _, key = (self.graph_choice or "").partition(":")
        return key if kind == "var" else None

    def display_name(self, title: str) -> str:
        """What the window calls the session: its file's name, else the lesson ``title``, else Untitled."""
        if self.path:
            return Path(self.path).name
        from PySide6.QtCore import QCoreApplication

        return title or QCoreApplication.translate("MainWindow", "Untitled")
