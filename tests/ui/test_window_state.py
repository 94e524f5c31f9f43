"""WindowState without Qt: who is told about which change, and what the state refuses."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradviz.core.result import RunResult
from gradviz.ui.window_state import FETCH, IDLE, RUN, STEP, TO_CURSOR, WindowState

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_state_is_an_idle_untitled_trusted_session():
    state = WindowState()
    assert state.run_mode == IDLE and not state.running
    assert state.result is None and state.graph_choice is None and state.graph is None
    assert state.path is None and state.seed == 0 and state.trusted and not state.dirty
    assert state.root_at == "top" and state.theme == "light" and not state.presentation
    assert WindowState(theme="dark", root_at="bottom").root_at == "bottom"


def test_followers_are_told_once_per_update_after_every_field_is_set():
    state = WindowState()
    seen = []
    state.subscribe(("path", "dirty"), lambda: seen.append((state.path, state.dirty)))
    changed = state.update(path="/tmp/a.gradviz", dirty=True)
    assert changed == {"path", "dirty"}
    assert seen == [("/tmp/a.gradviz", True)]  # one call, both fields already new
    state.dirty = False
    assert seen[-1] == ("/tmp/a.gradviz", False) and len(seen) == 2


def test_no_change_tells_no_one_and_other_fields_tell_other_followers():
    state = WindowState(path="/tmp/a.gradviz")
    title, mode = [], []
    state.subscribe(("path", "dirty"), lambda: title.append(state.path))
    state.subscribe("run_mode", lambda: mode.append(state.run_mode))
    assert state.update(path="/tmp/a.gradviz", dirty=False) == frozenset()
    state.run_mode = STEP
    state.run_mode = STEP
    assert title == [] and mode == [STEP]


def test_followers_are_told_in_the_order_they_subscribed_and_can_stop():
    state = WindowState()
    order = []
    stop_first = state.subscribe("seed", lambda: order.append("first"))
    state.subscribe("seed", lambda: order.append("second"))
    state.seed = 3
    stop_first()
    stop_first()  # twice is harmless
    state.seed = 4
    assert order == ["first", "second", "second"]


def test_a_follower_may_change_the_state_and_its_followers_are_told():
    state = WindowState()
    idle_seen = []
    # As the run controller does: the engine idle again means no run mode.
    state.subscribe("run_mode", lambda: idle_seen.append(state.running))
    state.subscribe("closing", lambda: state.update(run_mode=IDLE))
    state.run_mode = RUN
    state.closing = True
    assert idle_seen == [True, False] and state.run_mode == IDLE


def test_results_compare_by_identity_not_by_value():
    state = WindowState()
    told = []
    state.subscribe("result", lambda: told.append(state.result))
    first, equal = RunResult(stdout="a"), RunResult(stdout="a")
    assert first == equal
    state.result = first
    state.result = first  # the same object: no change
    state.result = equal  # a new result, even if equal: shown again
    assert told == [first, equal] and told[1] is equal


def test_plain_values_compare_by_value_and_type():
    state = WindowState()
    told = []
    state.subscribe("seed", lambda: told.append(state.seed))
    state.seed = 0  # the value it has
    state.seed = False  # equal to 0, but not the same kind of value
    assert told == [False]


def test_unknown_fields_and_bad_values_are_refused_and_change_nothing():
    state = WindowState()
    with pytest.raises(TypeError):
        WindowState(colour="red")
    with pytest.raises(AttributeError):
        state.update(colour="red")
    with pytest.raises(AttributeError):
        state.colour = "red"
    with pytest.raises(ValueError):
        state.update(run_mode="sprinting", dirty=True)
    assert state.run_mode == IDLE and not state.dirty  # nothing of a refused update is set
    for bad in ("graph:1", "call:one", "var:", "call", 3):
        with pytest.raises(ValueError):
            state.graph_choice = bad
    with pytest.raises(ValueError):
        state.root_at = "left"
    with pytest.raises(ValueError):
        state.subscribe("colour", lambda: None)
    with pytest.raises(ValueError):
        state.subscribe((), lambda: None)


def test_run_modes():
    state = WindowState()
    for mode in (RUN, TO_CURSOR, STEP, FETCH):
        state.run_mode = mode
        assert state.running
    state.run_mode = IDLE
    assert not state.running


def test_the_graph_choice_names_a_call_or_a_variable():
    state = WindowState()
    assert state.chosen_call is None and state.chosen_variable is None
    state.graph_choice = "call:12"
    assert state.chosen_call == 12 and state.chosen_variable is None
    state.graph_choice = "var:model.weight"
    assert state.chosen_variable == "model.weight" and state.chosen_call is None
    state.graph_choice = "var:a:b"  # only the first colon separates
    assert state.chosen_variable == "a:b"


def test_display_name_prefers_the_file_then_the_title():
    state = WindowState()
    assert state.display_name("") == "Untitled"
    assert state.display_name("My lesson") == "My lesson"
    state.path = "/lessons/zero-grad.gradviz"
    assert state.display_name("My lesson") == "zero-grad.gradviz"


def test_the_state_imports_neither_qt_nor_torch():
    code = (
        "import sys, gradviz.ui.window_state;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'shiboken6', 'pyqtgraph', 'torch'}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
