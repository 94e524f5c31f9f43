"""The main window with big results: the canvas builds in slices, the panels fill in turns of their
own, and the signals come once everything is in place."""

from __future__ import annotations

from app_fixtures import FakeClient, chain_result
from app_window import make_window

from gradviz.ui.canvas.items import CURRENT


def test_a_big_result_is_built_in_slices_and_announced_when_complete(qtbot, tmp_path, dialog_log):
    big = chain_result(400)
    window, _ = make_window(qtbot, tmp_path, FakeClient(respond=lambda r: big))
    view = window.view
    calls = []
    original = view.show_graph

    def spy(*args, **kwargs):
        original(*args, **kwargs)
        calls.append((kwargs.get("incremental"), view.building, len(view.scene().node_items)))

    view.show_graph = spy
    announced = []
    window.result_shown.connect(lambda r: announced.append(
        ("result", window.grads.grad_text("x"), len(view.scene().node_items))))
    window.graph_shown.connect(lambda g: announced.append(
        ("graph", window.grads.grad_text("x"), len(view.scene().node_items))))
    with qtbot.waitSignal(window.graph_shown, timeout=20_000):
        window.actions["run"].trigger()
    incremental, building, made = calls[-1]
    assert incremental and building and made < 403  # the items came after show_graph returned
    # Both signals come once the canvas has every item and the gradients panel is filled.
    assert [a[0] for a in announced] == ["result", "graph"]
    assert all(a[1] == "[0.5, 0.5, 0.5, 0.5]" and a[2] == 403 for a in announced)
    items = view.scene().node_items
    assert [nid for nid, item in items.items() if item.state == CURRENT] == ["acc"]
    # A 400-step chain fitted would be too small to read: it opens readable on its root instead.
    assert view.fit_scale() < view.readable_scale() and not view.fitted
    root = view.scene().node_rect(window.player.call.graph.roots[0])
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(root)


def test_a_new_result_during_a_build_shows_only_the_new_one(qtbot, tmp_path, dialog_log, monkeypatch, two_x):
    from PySide6.QtCore import QTimer

    import gradviz.ui.canvas.view as canvas_view

    monkeypatch.setattr(canvas_view, "BUILD_SLICE", 0.0)  # one batch of items per turn
    big = chain_result(400)
    window, _ = make_window(qtbot, tmp_path, FakeClient(respond=lambda r: big))
    view = window.view
    original = view.show_graph
    seen = []

    def spy(*args, **kwargs):
        original(*args, **kwargs)
        if view.building and not seen:
            seen.append(len(view.scene().node_items))
            # The next result arrives while the big graph is still being built.
            QTimer.singleShot(0, lambda: window.show_result(two_x.result))

    view.show_graph = spy
    shown = []
    window.graph_shown.connect(lambda g: shown.append(len(g.nodes)))
    with qtbot.waitSignal(window.result_shown, timeout=20_000,
                          check_params_cb=lambda r: len(r.backward_calls[-1].graph.nodes) == 5):
        window.actions["run"].trigger()
    assert seen and seen[0] < 403
    qtbot.waitUntil(lambda: view._disposer.pending == 0 and not view.building, timeout=20_000)
    qtbot.wait(50)
    assert len(view.scene().node_items) == 5
    assert shown == [5]  # the unfinished big graph was never announced
    assert window.grads.grad_text("x") == "[0, 4, 8, 12]"
