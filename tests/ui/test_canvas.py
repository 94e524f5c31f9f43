"""The graph canvas: items per kind, labels, positions, frames (lit node, edge labels, fan-in, freed, errors)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from gradviz.core.replay import Replay
from gradviz.core.result import ACCUMULATE, LEAF, OP, ROOT
from gradviz.ui.canvas import GraphView
from gradviz.ui.canvas.items import (
    CURRENT,
    DONE,
    EDGE_ACTIVE,
    EDGE_CARRIED,
    EDGE_IDLE,
    IDLE,
    LABEL_ACTIVE,
    LABEL_INDEX,
    LABEL_QUIET,
)
from gradviz.ui.theme import palette
from tests.ui.canvas_data import big_call, fan_in_call, mlp_call, second_backward_call


def shown(view, call):
    view.show_graph(call.graph)
    return view.scene()


def kinds(scene):
    out = {}
    for item in scene.node_items.values():
        out[item.node.kind] = out.get(item.node.kind, 0) + 1
    return out


def test_dot_graph_has_one_item_per_node_and_edge(view, two_x):
    scene = shown(view, two_x.call)
    assert kinds(scene) == {ROOT: 1, OP: 2, ACCUMULATE: 1, LEAF: 1}
    assert len(scene.edge_items) == 5
    assert set(scene.edge_items) == {("n0", "n1", 0), ("n1", "n2", 0), ("n2", "n3", 0), ("n2", "n3", 1),
                                     ("n3", "n4", 0)}


def test_node_texts_show_op_shape_and_names(view, two_x):
    scene = shown(view, two_x.call)
    mul = scene.node_items["n1"].shape_
    assert (mul.title, mul.subtitle, mul.names, mul.detail) == ("Mul", "Backward0", "y", "scalar")
    acc = scene.node_items["n3"].shape_
    assert (acc.title, acc.subtitle, acc.detail) == ("Accumulate", "Grad", "[4]")
    x = scene.node_items["n4"].shape_
    assert (x.title, x.subtitle, x.detail) == ("x", "leaf", "[4]")
    dot = scene.node_items["n2"].shape_
    assert [c.text for c in dot.chips] == ["self [4]", "tensor [4]"]
    mlp = shown(view, mlp_call())
    assert mlp.node_items["p:model.0.weight"].shape_.title == "model.0.weight"
    assert mlp.node_items["p:model.0.weight"].shape_.subtitle == "param"


def test_items_sit_where_the_layout_puts_them(view):
    call = mlp_call()
    scene = shown(view, call)
    layout = scene.layout
    for nid, (x, y) in layout.positions.items():
        pos = scene.node_items[nid].pos()
        assert (pos.x(), pos.y()) == pytest.approx((x, y))
    # Root on top: the gradient flows down, every edge points down.
    for src, dst, _ in scene.edge_items:
        assert scene.node_items[dst].pos().y() > scene.node_items[src].pos().y()


def test_root_at_bottom_flips_the_graph(view, two_x):
    scene = shown(view, two_x.call)
    assert scene.node_items["n0"].pos().y() < scene.node_items["n4"].pos().y()
    view.set_root_at("bottom")
    assert view.scene().node_items["n0"].pos().y() > view.scene().node_items["n4"].pos().y()
    with pytest.raises(ValueError):
        view.set_root_at("left")


def sample_curve(item, n=40):
    return [item.curve.pointAtPercent(i / n) for i in range(1, n)]


@pytest.mark.parametrize("make", [lambda two_x: two_x.call, lambda _: fan_in_call(), lambda _: mlp_call(),
                                  lambda _: big_call(400)], ids=["two_x", "fan_in", "mlp", "big"])
def test_edges_do_not_run_through_nodes(view, make, two_x):
    scene = shown(view, make(two_x))
    boxes = {nid: item.box.translated(item.pos()).adjusted(2, 2, -2, -2) for nid, item in scene.node_items.items()}
    bad = []
    for (src, dst, idx), item in scene.edge_items.items():
        for p in sample_curve(item):
            for nid, box in boxes.items():
                if nid not in (src, dst) and box.contains(p):
                    bad.append(((src, dst, idx), nid))
                    break
    assert bad == []


def test_parallel_edges_are_drawn_apart_and_both_labelled(view, two_x):
    scene = shown(view, two_x.call)
    a, b = scene.edge_items[("n2", "n3", 0)], scene.edge_items[("n2", "n3", 1)]
    pa, pb = a.curve.pointAtPercent(0.5), b.curve.pointAtPercent(0.5)
    assert abs(pa.x() - pb.x()) >= 30
    la, lb = scene.labels[("n2", "n3", 0)], scene.labels[("n2", "n3", 1)]
    assert (la.text, lb.text) == ("#0", "#1") and la.style == lb.style == LABEL_INDEX
    assert la.isVisible() and lb.isVisible()
    assert not la.sceneBoundingRect().intersects(lb.sceneBoundingRect())


def states(scene):
    return {nid: item.state for nid, item in scene.node_items.items()}


def test_frames_light_the_node_the_engine_ran(view, two_x):
    call = two_x.call
    scene = shown(view, call)
    replay = Replay(call)
    view.show_frame(replay.frame(0))
    assert set(states(scene).values()) == {IDLE}
    view.show_frame(replay.frame(1))
    assert states(scene) == {"n0": DONE, "n1": CURRENT, "n2": IDLE, "n3": IDLE, "n4": IDLE}
    edge = scene.edge_items
    assert edge[("n1", "n2", 0)].state == EDGE_ACTIVE and edge[("n0", "n1", 0)].state == EDGE_CARRIED
    assert (scene.labels[("n1", "n2", 0)].text, scene.labels[("n1", "n2", 0)].style) == ("2", LABEL_ACTIVE)
    assert (scene.labels[("n0", "n1", 0)].text, scene.labels[("n0", "n1", 0)].style) == ("1", LABEL_QUIET)
    view.show_frame(replay.frame(2))
    assert states(scene)["n1"] == DONE and states(scene)["n2"] == CURRENT
    assert scene.labels[("n2", "n3", 0)].text == "#0  [0, 2, 4, 6]"
    assert scene.labels[("n2", "n3", 1)].text == "#1  [0, 2, 4, 6]"
    assert scene.labels[("n2", "n3", 1)].style == LABEL_ACTIVE
    assert scene.labels[("n1", "n2", 0)].style == LABEL_QUIET


def test_accumulate_grad_shows_before_plus_incoming_equals_after(view, two_x):
    call = two_x.call
    scene = shown(view, call)
    view.show_frame(Replay(call).frame(3), call)
    assert states(scene)["n3"] == CURRENT and states(scene)["n4"] == DONE
    badge = scene.badge
    assert badge.isVisible()
    assert badge.text().splitlines() == [
        "x.grad \u2190 AccumulateGrad \u00b7 \u03a3 fan-in",
        ".grad before: None",
        "+ from Dot \u00b7 line 4 #0: [0, 2, 4, 6]",
        "+ from Dot \u00b7 line 4 #1: [0, 2, 4, 6]",
        "= .grad after: [0, 4, 8, 12]",
    ]
    assert badge.equation() == "None + [0, 2, 4, 6] + [0, 2, 4, 6] = [0, 4, 8, 12]"
    # The badge sits beside the lit node, not on it.
    node_box = scene.node_items["n3"].box.translated(scene.node_items["n3"].pos())
    assert not badge.card().intersects(node_box)
    tag = scene.grad_tags["n4"]
    assert tag.isVisible() and tag.text == ".grad = [0, 4, 8, 12]"
    assert scene.labels[("n3", "n4", 0)].text == "[0, 4, 8, 12]"


def test_accumulate_badge_without_the_call_takes_before_from_the_graph(view, two_x):
    call = two_x.call
    scene = shown(view, call)
    view.show_frame(Replay(call).frame(3))
    assert scene.badge.equation() == "None + [0, 2, 4, 6] + [0, 2, 4, 6] = [0, 4, 8, 12]"


def test_fan_in_is_a_visible_sum(view):
    call = fan_in_call()
    scene = shown(view, call)
    frame = Replay(call).frame(5)
    assert frame.current == "mul" and len(frame.incoming) == 2
    for with_call in (None, call):
        view.show_frame(frame, with_call)
        badge = scene.badge
        assert badge.isVisible() and "\u03a3" in badge.title and "2 gradients" in badge.title
        assert badge.equation() == "[-0.1411, 0.2794] + [-0.99, 0.9602] = [-1.131, 1.24]"
    view.show_frame(Replay(call).frame(4))  # Sin: one incoming gradient, no badge
    assert not scene.badge.isVisible()


def test_freed_saved_tensors_are_greyed_on_the_last_frame(view, two_x):
    call = two_x.call
    scene = shown(view, call)
    replay = Replay(call)
    view.show_frame(replay.frame(2))
    assert scene.node_items["n2"].freed == frozenset()
    view.show_frame(replay.frame(3))
    dot = scene.node_items["n2"]
    assert dot.freed == {"self", "tensor"}
    assert all(dot.chip_freed(c) for c in dot.shape_.chips)
    assert scene.node_items["n1"].freed == {"other"}
    assert "<s>self [4] float32</s> (freed)" in scene.tooltip("n2")


def test_second_backward_error_is_shown_with_its_hint_near_the_root(view, two_x):
    call = second_backward_call(two_x.call)
    scene = shown(view, call)
    # The graph's saved tensors were already freed by the first call.
    assert all(c.freed for c in scene.node_items["n2"].shape_.chips)
    view.show_frame(Replay(call).frame(0), call)
    banner = scene.banner
    assert banner is not None and banner.isVisible()
    text = banner.text()
    assert text.startswith("RuntimeError (line 6)")
    assert "second time" in text and "retain_graph=True" in text
    root = scene.node_items["n0"]
    assert banner.sceneBoundingRect().bottom() <= root.box.translated(root.pos()).top()
    assert scene.sceneRect().contains(banner.sceneBoundingRect())
    view.show_frame(None)
    assert not banner.isVisible()


def test_stepping_back_and_plain_graph_undo_every_change(view, two_x):
    call = two_x.call
    scene = shown(view, call)
    replay = Replay(call)
    view.show_frame(replay.frame(3), call)
    view.show_frame(replay.frame(1), call)
    assert states(scene) == {"n0": DONE, "n1": CURRENT, "n2": IDLE, "n3": IDLE, "n4": IDLE}
    assert scene.labels[("n2", "n3", 0)].text == "#0" and scene.edge_items[("n2", "n3", 0)].state == EDGE_IDLE
    assert not scene.labels[("n3", "n4", 0)].isVisible()
    assert not scene.grad_tags["n4"].isVisible() and not scene.badge.isVisible()
    assert scene.node_items["n2"].freed == frozenset()
    view.show_frame(None)
    assert set(states(scene).values()) == {IDLE}
    assert {k for k, lab in scene.labels.items() if lab.isVisible()} == {("n2", "n3", 0), ("n2", "n3", 1)}
    assert all(e.state == EDGE_IDLE for e in scene.edge_items.values())


def test_frames_match_a_fresh_scene_after_any_path(view, qtbot):
    """Diffing must give the same state as showing the frame on a fresh scene."""
    call = mlp_call()
    replay = Replay(call)
    scene = shown(view, call)
    for k in [5, 2, 9, 10, 0, 7, 3]:
        view.show_frame(replay.frame(k), call)
    fresh = GraphView()
    qtbot.addWidget(fresh)
    fresh.show_graph(call.graph, scene.layout)
    fresh.show_frame(replay.frame(3), call)
    other = fresh.scene()
    assert states(scene) == states(other)
    assert {k: e.state for k, e in scene.edge_items.items()} == {k: e.state for k, e in other.edge_items.items()}
    visible = lambda s: {k: (lab.text, lab.style) for k, lab in s.labels.items() if lab.isVisible()}  # noqa: E731
    assert visible(scene) == visible(other)


def test_tooltip_tells_op_shape_dtype_names_line_saved(view, two_x):
    scene = shown(view, two_x.call)
    tip = scene.tooltip("n2")
    assert "<b>DotBackward0</b>" in tip and "shape scalar · float32" in tip and "line 4" in tip
    assert "saved: self [4] float32; tensor [4] float32" in tip
    assert "names: x" in scene.tooltip("n4")


def test_theme_and_presentation_scale(view, two_x):
    scene = shown(view, two_x.call)
    w = scene.node_items["n1"].box.width()
    view.set_theme("dark")
    assert scene.look.color("background") == QColor(palette("dark").background)
    view.set_font_scale(1.6)
    assert view.font_scale == 1.6
    assert view.scene().node_items["n1"].box.width() == pytest.approx(w * 1.6, rel=0.12)
    with pytest.raises(ValueError):
        view.set_theme("pink")


def test_zoom_keys_and_fit(view, qtbot):
    shown(view, mlp_call())
    view.reset_zoom()
    assert view.scale_factor() == pytest.approx(1.0)
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.scale_factor() == pytest.approx(1.2)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.scale_factor() == pytest.approx(1 / 1.2)
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.scale_factor() == pytest.approx(1.0)
    view.fit_all()
    rect = view.mapFromScene(view.scene().graph_rect()).boundingRect()
    assert view.viewport().rect().adjusted(-2, -2, 2, 2).contains(rect)
    assert not view.minimap.isVisible()


def test_wheel_zooms_around_the_pointer(view):
    from PySide6.QtGui import QWheelEvent

    shown(view, mlp_call())
    view.reset_zoom()
    at = QPointF(200, 150)
    before = view.mapToScene(at.toPoint())
    ev = QWheelEvent(at, view.viewport().mapToGlobal(at), QPoint(0, 0), QPoint(0, 240),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(ev)
    assert view.scale_factor() == pytest.approx(1.44)
    after = view.mapToScene(at.toPoint())
    assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2


def node_point(view, nid) -> QPoint:
    return view.mapFromScene(view.scene().node_items[nid].pos())


def test_click_selects_and_hover_highlights(view, qtbot, two_x):
    scene = shown(view, two_x.call)
    with qtbot.waitSignal(view.node_clicked) as got:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(view, "n2"))
    assert got.args == ["n2"]
    assert view.selected == "n2" and scene.node_items["n2"].selected
    with qtbot.waitSignal(view.node_hovered) as hov:
        qtbot.mouseMove(view.viewport(), node_point(view, "n4"))
    assert hov.args == ["n4"] and scene.node_items["n4"].hovered
    view.select_node(None)
    assert not scene.node_items["n2"].selected


def render(view, frame=None, call=None, size=(600, 700)) -> QImage:
    scene = view.scene()
    view.show_frame(frame, call)
    image = QImage(*size, QImage.Format.Format_ARGB32)
    image.fill(0)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    rect = scene.graph_rect()
    scene.render(p, QRectF(0, 0, *size), rect, Qt.AspectRatioMode.IgnoreAspectRatio)
    p.end()
    return image


def near(c1: QColor, c2: QColor, tol=40) -> bool:
    return abs(c1.red() - c2.red()) + abs(c1.green() - c2.green()) + abs(c1.blue() - c2.blue()) <= tol


def test_pixels_lit_node_border_and_background(view, two_x):
    call = two_x.call
    scene = shown(view, call)
    image = render(view, Replay(call).frame(1), call)
    rect = scene.graph_rect()
    sx, sy = 600 / rect.width(), 700 / rect.height()
    mul = scene.node_items["n1"]
    box = mul.box.translated(mul.pos())

    def px(x, y):
        return QColor(image.pixel(round((x - rect.left()) * sx), round((y - rect.top()) * sy)))

    flow = QColor(palette("light").flow)
    # The right border of the lit node is drawn in the flow colour; the card inside is white.
    assert near(px(box.right() - 0.5, box.center().y()), flow, 90)
    assert near(px(box.center().x() + box.width() * 0.35, box.bottom() - 3), QColor("#ffffff"), 30)
    # A node that has not run has a neutral border.
    acc = scene.node_items["n3"]
    abox = acc.box.translated(acc.pos())
    assert not near(px(abox.right() - 0.5, abox.center().y()), flow, 150)
    assert near(QColor(image.pixel(3, 3)), QColor(palette("light").background), 6)


def test_big_graph_uses_the_overview_when_zoomed_out(view):
    call = big_call(1500)
    scene = shown(view, call)
    view.fit_all()
    assert view.scale_factor() < 0.2
    assert scene.detail is False and scene.overview.isVisible()
    assert not any(item.isVisible() for item in list(scene.node_items.values())[:50])
    assert not view.minimap.isVisible()  # the whole graph is in view
    replay = Replay(call)
    view.show_frame(replay.frame(30), call)
    assert scene.overview_state.current == replay.frame(30).current
    view.reset_zoom()
    assert scene.detail is True and not scene.overview.isVisible()
    assert scene.node_items[replay.frame(30).current].isVisible()
    assert scene.node_items[replay.frame(30).current].state == CURRENT
    assert view.minimap.isVisible()


def test_minimap_click_moves_the_view(view, qtbot):
    shown(view, big_call(800))
    view.reset_zoom()
    mini = view.minimap
    assert mini.isVisible()
    before = view.mapToScene(view.viewport().rect().center())
    qtbot.mouseClick(mini, Qt.MouseButton.LeftButton, pos=QPoint(mini.width() // 2, mini.height() - 6))
    after = view.mapToScene(view.viewport().rect().center())
    assert after.y() > before.y() + 200


def test_empty_graph_and_clear(view):
    from gradviz.core.result import GraphData

    view.show_graph(GraphData())
    assert view.scene().node_items == {}
    view.fit_all()
    view.show_frame(None)


def test_frame_of_another_graph_does_not_break_the_scene(view, two_x):
    """A frame may name nodes the shown graph lacks (the app shows a variable's graph)."""
    call = two_x.call
    view.show_graph(fan_in_call().graph)
    for k in range(4):
        view.show_frame(Replay(call).frame(k), call)
    view.show_frame(None)
    assert set(states(view.scene()).values()) == {IDLE}


def test_node_sizes_can_be_measured_on_a_worker_thread(view):
    import threading

    graph = mlp_call().graph
    expected = view.node_sizes(graph)
    got = {}
    t = threading.Thread(target=lambda: got.update(view.node_sizes(graph)))
    t.start()
    t.join(30)
    assert got.keys() == expected.keys()
    for k, (w, h) in expected.items():
        assert got[k] == pytest.approx((w, h), abs=0.01)


def test_big_graph_makes_label_items_only_where_the_view_looks(view):
    call = big_call(600)
    scene = shown(view, call)
    assert scene.lazy
    replay = Replay(call)
    last = replay.frame(len(replay) - 1)
    view.reset_zoom()
    view.center_on_node(last.current)
    view.show_frame(last, call)
    wanted = len(last.edge_grads)
    made = len(scene.labels)
    assert 0 < made < wanted / 3
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for key, edge in scene.edge_items.items():
        if key in last.edge_grads and visible.contains(*edge.label_anchor):
            assert scene.labels[key].isVisible()
    # Scrolling to the top of the graph makes the labels there.
    view.center_on_node(call.graph.roots[0])
    assert len(scene.labels) > made
    root_edge = next(k for k in scene.edge_items if k[0] == call.graph.roots[0])
    assert scene.labels[root_edge].text and scene.labels[root_edge].isVisible()
    # A jump back to the start: every value label made so far goes, index labels stay.
    view.show_frame(replay.frame(0), call)
    shown_labels = [k for k, label in scene.labels.items() if label.isVisible()]
    assert all(k in scene.parallel for k in shown_labels)
    assert all(scene.edge_items[k].state == EDGE_IDLE for k in scene.edge_items)


def test_export_of_a_big_graph_gets_every_label(view):
    import xml.etree.ElementTree as ET

    from gradviz.ui import export

    call = big_call(400)
    scene = shown(view, call)
    replay = Replay(call)
    view.reset_zoom()
    view.show_frame(replay.frame(len(replay) - 1), call)
    svg = export.svg_bytes(scene)
    n_labels = sum(1 for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
                   if "\u2016g\u2016" in (t.text or ""))
    assert n_labels >= len(replay.frame(len(replay) - 1).edge_grads)


def test_trackpad_pinch_zooms(view):
    from PySide6.QtGui import QNativeGestureEvent, QPointingDevice

    shown(view, mlp_call())
    view.reset_zoom()
    at = QPointF(300, 200)
    ev = QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(), 2,
                             at, at, view.viewport().mapToGlobal(at), 0.5, QPointF(0, 0), 1)
    assert view.viewportEvent(ev)
    assert view.scale_factor() == pytest.approx(1.5)


def test_a_graph_readable_when_fitted_is_fitted(view, two_x):
    shown(view, two_x.call)
    view.fit_or_focus()
    assert view.fitted and view.scale_factor() >= view.readable_scale()


def test_a_graph_too_big_to_read_fitted_opens_readable_on_its_root(view):
    call = big_call(3000)
    shown(view, call)
    assert view.fit_scale() < view.readable_scale()  # fitted, it would be a strip of specks
    view.fit_or_focus()
    assert not view.fitted and view.scale_factor() == pytest.approx(view.readable_scale())
    root = view.scene().node_rect(call.graph.roots[0])
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(root) and root.top() - visible.top() < visible.height() / 3
    assert view.minimap.isVisible()
    view.fit_all()  # F / Ctrl+0 still show everything
    assert view.fitted and view.scale_factor() < view.readable_scale()
