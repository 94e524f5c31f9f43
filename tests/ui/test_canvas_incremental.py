"""Big graphs on the canvas: incremental builds, plans made off the UI thread, old scenes deleted in
slices, fit-all over everything drawn, and exports that draw the overview when text is unreadable."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from gradviz.core.replay import Replay
from gradviz.ui import export
from gradviz.ui.canvas import GraphView
from gradviz.ui.canvas.items import CURRENT, DONE, EDGE_CARRIED, IDLE
from gradviz.ui.canvas.plan import compute_layout, node_sizes, plan_scene
from gradviz.ui.canvas.scene import GraphScene
from gradviz.ui.canvas.view import INCREMENTAL_MIN_ITEMS
from gradviz.ui.theme import Theme, palette
from tests.ui.canvas_data import big_call, fan_in_call, mlp_call


def node_states(scene):
    return {nid: item.state for nid, item in scene.node_items.items()}


def edge_states(scene):
    return {k: item.state for k, item in scene.edge_items.items()}


def shown_labels(scene):
    return {k: (lab.text, lab.style) for k, lab in scene.labels.items() if lab.wanted}


def test_an_incremental_build_finishes_with_every_item(view, qtbot):
    call = big_call(600)
    graph = call.graph
    assert len(graph.nodes) + len(graph.edges) > INCREMENTAL_MIN_ITEMS
    with qtbot.waitSignal(view.build_finished, timeout=20_000):
        view.show_graph(graph, incremental=True)
        assert view.building  # the items come later, a slice per event-loop turn
        assert len(view.scene().node_items) < len(graph.nodes)
    scene = view.scene()
    assert not view.building
    assert set(scene.node_items) == {n.id for n in graph.nodes}
    assert len(scene.edge_items) == len(graph.edges)
    assert all(item.scene() is scene for item in scene.node_items.values())


def test_a_build_in_progress_is_consistent_and_ends_as_a_fresh_build(view, qtbot):
    """Items made before and after frames were shown end in the state a one-go build gives."""
    call = big_call(600)
    replay = Replay(call)
    view.show_graph(call.graph, incremental=True)
    scene = view.scene()
    scene.build_some(0.0)  # one batch
    made = list(scene.node_items)
    assert 0 < len(made) < len(call.graph.nodes)
    assert made == [n.id for n in call.graph.nodes][:len(made)]  # graph order, no gaps
    mid = replay.frame(len(replay) // 2)
    view.show_frame(mid, call)
    # The items made so far already show the frame; the overview (drawn from the plan) too.
    for nid, item in scene.node_items.items():
        want = CURRENT if nid == mid.current else (DONE if nid in scene.frame_state.done else IDLE)
        assert item.state == want
    assert scene.overview_state.current == mid.current
    last = replay.frame(len(replay) - 1)
    view.show_frame(last, call)
    with qtbot.waitSignal(view.build_finished, timeout=20_000):
        pass
    fresh = GraphView()
    qtbot.addWidget(fresh)
    fresh.resize(900, 700)
    fresh.show_graph(call.graph, scene.layout)
    fresh.show_frame(last, call)
    other = fresh.scene()
    assert node_states(scene) == node_states(other)
    assert edge_states(scene) == edge_states(other)
    assert any(s == EDGE_CARRIED for s in edge_states(scene).values())
    assert {nid: item.freed for nid, item in scene.node_items.items()} == {
        nid: item.freed for nid, item in other.node_items.items()}


def test_export_in_the_middle_of_a_build_finishes_it(view, two_x):
    call = two_x.call
    graph = big_call(600).graph
    view.show_graph(graph, incremental=True)
    assert view.building
    export.svg_bytes(view.scene())
    assert not view.building and len(view.scene().node_items) == len(graph.nodes)
    view.show_graph(call.graph)  # small graphs are built at once
    assert not view.building and len(view.scene().node_items) == 5


def test_the_old_scene_is_deleted_in_slices(view, qtbot, two_x):
    view.show_graph(big_call(1500).graph)
    old = view.scene()
    items = list(old.node_items.values())
    view.show_graph(two_x.call.graph)
    assert view.scene() is not old and len(view.scene().node_items) == 5
    assert view._disposer.pending > 0  # not all at once: that would hold the UI thread
    qtbot.waitUntil(lambda: view._disposer.pending == 0, timeout=20_000)
    assert not any(shiboken6.isValid(item) for item in items)


def test_a_plan_made_on_a_worker_thread_draws_the_same_scene(view):
    call = mlp_call()
    plans = {}
    t = threading.Thread(target=lambda: plans.update(worker=view.plan(call.graph)))
    t.start()
    t.join(30)
    view.show_graph(call.graph, plan=plans["worker"])
    scene = view.scene()
    ref = GraphScene()
    ref.build(call.graph, plans["worker"].layout)
    for nid, item in ref.node_items.items():
        assert scene.node_items[nid].pos() == item.pos()
        assert scene.node_items[nid].box == item.box
    for key, item in ref.edge_items.items():
        assert scene.edge_items[key].path() == item.path()
        assert scene.edge_items[key].label_anchor == pytest.approx(item.label_anchor)


def test_zoomed_out_big_graph_makes_no_labels(view):
    """At fit-all a big graph is the overview: no label items for a frame nobody can read."""
    call = big_call(1500)
    view.show_graph(call.graph)
    assert view.scene().detail is False
    replay = Replay(call)
    view.show_frame(replay.frame(len(replay) - 1), call)
    assert view.scene().labels == {} and view.scene().grad_tags == {}


@pytest.mark.parametrize("make", [lambda two_x: two_x.call, lambda _: fan_in_call(), lambda _: mlp_call()],
                         ids=["two_x", "fan_in", "mlp"])
def test_fit_all_shows_callouts_and_labels_without_scroll_bars(view, qtbot, make, two_x):
    call = make(two_x)
    replay = Replay(call)
    view.show_graph(call.graph)
    vp = QRectF(view.viewport().rect())
    for k in list(range(len(replay))) + [len(replay) - 1, 1]:
        view.show_frame(replay.frame(k), call)
        qtbot.wait(1)  # a refit is queued when a callout grows the picture
        scene = view.scene()
        assert view.fitted
        assert not view.horizontalScrollBar().isVisible() and not view.verticalScrollBar().isVisible()
        assert not view.minimap.isVisible()
        drawn = [item for item in (scene.badge, scene.banner) if item is not None and item.isVisible()]
        drawn += [lab for lab in list(scene.labels.values()) + list(scene.grad_tags.values()) if lab.wanted]
        for item in drawn:
            on_screen = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
            assert vp.adjusted(-1, -1, 1, 1).contains(QRectF(on_screen)), (k, item)


def test_fit_all_includes_the_badge_and_the_grad_tag(view, two_x):
    call = two_x.call
    view.show_graph(call.graph)
    view.show_frame(Replay(call).frame(3), call)
    view.fit_all()
    scene = view.scene()
    assert scene.badge.isVisible() and scene.grad_tags["n4"].isVisible()
    vp = QRectF(view.viewport().rect())
    for item in (scene.badge, scene.grad_tags["n4"]):
        assert vp.contains(QRectF(view.mapFromScene(item.sceneBoundingRect()).boundingRect()))


def test_zooming_in_gives_room_to_pan_again(view):
    call = mlp_call()
    view.show_graph(call.graph)
    view.zoom_by(3.0)
    assert not view.fitted
    assert view.sceneRect().width() > view.scene().sceneRect().width()  # scroll room around the graph
    view.fit_all()
    assert view.fitted and view.sceneRect() == view.scene().sceneRect()


def test_big_exports_at_unreadable_scales_draw_the_overview_without_items(qapp):
    call = big_call(1500)
    scene = GraphScene(Theme())
    shapes = scene.measure(call.graph)
    scene.begin_build(plan_scene(call.graph, compute_layout(call.graph, node_sizes(shapes)), shapes, scene.look))
    replay = Replay(call)
    scene.apply_frame(replay.frame(len(replay) - 1), call)
    # What the overview draws: without the callout, which may stand out beside the graph.
    rect = export.export_rect(scene, overview=True)
    scale = 0.25
    assert export.uses_overview(scene, scale)
    # Overview exports stop at OVERVIEW_MAX_PIXELS: ask for a scale that fits, then check it is kept.
    scale = export.fit_scale(rect.width(), rect.height(), scale, export.OVERVIEW_MAX_PIXELS)
    image = export.render_image(scene, scale)
    assert image.width() * image.height() <= export.OVERVIEW_MAX_PIXELS * 1.01
    assert scene.node_items == {}  # nothing made: the overview is drawn from the plan
    assert image.width() == pytest.approx(rect.width() * scale, abs=2)
    # The graph is drawn: a good share of the picture is not background, and the lit node glows
    # in the "flow" colour (orange: far more red than blue) where it is.
    background = QColor(palette("light").background).rgb()
    samples = [QColor(image.pixel(x, y)) for y in range(0, image.height(), 5) for x in range(0, image.width(), 2)]
    drawn = sum(1 for c in samples if c.rgb() != background)
    assert drawn > len(samples) * 0.05
    lit = scene.node_rect(scene.frame.current).translated(-rect.left(), -rect.top())
    x0, y0 = int(lit.left() * scale) - 3, int(lit.top() * scale) - 3
    around = [QColor(image.pixel(x, y))
              for y in range(max(0, y0), min(image.height(), y0 + int(lit.height() * scale) + 6))
              for x in range(max(0, x0), min(image.width(), x0 + int(lit.width() * scale) + 6))]
    assert any(c.red() - c.blue() > 80 for c in around)
    # At a readable scale the same scene makes its items and draws them.
    assert not export.uses_overview(scene, 1.0)
    export.render_image(scene, 1.0, rect=QRectF(rect.left(), rect.top(), 400, 300))
    assert len(scene.node_items) == len(call.graph.nodes)


def test_small_graphs_never_use_the_overview(qapp):
    call = mlp_call()
    scene = GraphScene(Theme())
    scene.build(call.graph, compute_layout(call.graph, node_sizes(scene.measure(call.graph))))
    assert not export.uses_overview(scene, 0.1)


def test_overview_exports_are_capped_below_full_exports(qapp):
    call = big_call(1500)
    scene = GraphScene(Theme())
    shapes = scene.measure(call.graph)
    scene.begin_build(plan_scene(call.graph, compute_layout(call.graph, node_sizes(shapes)), shapes, scene.look))
    rect = export.export_rect(scene)
    scale = 0.3  # unreadable, and the whole graph would be more than OVERVIEW_MAX_PIXELS
    assert export.uses_overview(scene, scale) and rect.width() * rect.height() * scale ** 2 > export.OVERVIEW_MAX_PIXELS
    image = export.render_image(scene, scale)
    assert export.OVERVIEW_MAX_PIXELS * 0.97 <= image.width() * image.height() <= export.OVERVIEW_MAX_PIXELS * 1.01
