"""Second derivatives on the canvas, in the inspector, the window and renders: nodes a backward made stand apart."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PySide6.QtCore import QRectF, QUrl
from PySide6.QtGui import QColor, QImage, QPainter

from gradviz import render
from gradviz.core.request import RunRequest
from gradviz.core.result import RunResult
from gradviz.engine.run import run_request
from gradviz.ui.canvas.made_by import MadeLegendItem, MadeMarkItem, OriginLinkItem
from gradviz.ui.inspector import Inspector
from gradviz.ui.theme import palette
from tests.ui.app_fixtures import FakeClient
from tests.ui.app_window import make_window, run_and_wait

PROGRAM = """\
import torch
x = torch.tensor(1.0, requires_grad=True)
y = torch.sin(x) * x
(g,) = torch.autograd.grad(y, x, create_graph=True)
g.backward()
"""


@pytest.fixture(scope="module")
def result() -> RunResult:
    """The engine in this process (the UI never imports torch; this test does, through the engine)."""
    done = run_request(RunRequest(PROGRAM))
    assert done.error is None, done.error
    return done


def marked_ids(graph) -> set[str]:
    return {n.id for n in graph.nodes if n.made_by is not None}


def test_the_scene_marks_exactly_the_made_nodes_links_their_origin_and_has_a_legend(view, result):
    graph = result.backward_calls[1].graph
    view.show_graph(graph)
    scene = view.scene()
    marks = {item.parentItem().node_id for item in scene.items() if isinstance(item, MadeMarkItem)}
    assert marks == marked_ids(graph) and len(marks) == 5
    sin = next(n.id for n in graph.nodes if n.op == "SinBackward0")
    links = {(i.made_id, i.origin_id) for i in scene.items() if isinstance(i, OriginLinkItem)}
    assert links == {(n.id, sin) for n in graph.nodes if n.made_by is not None and n.made_by.op == "SinBackward0"}
    assert len(links) == 3  # MulBackward0's made nodes have their origin in call 1's graph only
    for item in scene.items():
        if isinstance(item, OriginLinkItem):  # the link runs from the made node's box to the origin's
            path = item.path()
            assert scene.node_rect(item.made_id).adjusted(-1, -1, 1, 1).contains(path.pointAtPercent(0))
            assert scene.node_rect(sin).adjusted(-1, -1, 1, 1).contains(path.pointAtPercent(1))
    legend = [i for i in scene.items() if isinstance(i, MadeLegendItem)]
    assert len(legend) == 1 and legend[0].entries == ["made by a backward pass (create_graph=True)",
                                                      "the node whose backward made it"]
    assert scene.graph_rect().contains(legend[0].sceneBoundingRect())
    assert not scene.node_bounds().intersects(legend[0].sceneBoundingRect())  # above the graph, on no node
    # The first call's graph: nothing made by a backward, no mark, no legend.
    view.show_graph(result.backward_calls[0].graph)
    assert not [i for i in view.scene().items() if isinstance(i, (MadeMarkItem, MadeLegendItem, OriginLinkItem))]


def _render(view, graph, theme: str) -> tuple[QImage, object]:
    view.set_theme(theme)
    view.show_graph(graph)
    scene = view.scene()
    rect = scene.graph_rect()
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    image.fill(QColor(palette(theme).background))
    painter = QPainter(image)
    scene.render(painter, QRectF(image.rect()), rect)
    painter.end()
    return image, rect


def _made_pixels(image: QImage, box: QRectF, rect: QRectF, color: str) -> int:
    want = QColor(color)
    found = 0
    for y in range(int(box.top() - rect.top()) - 10, int(box.bottom() - rect.top()) + 4):
        for x in range(int(box.left() - rect.left()) - 10, int(box.right() - rect.left()) + 4):
            if 0 <= x < image.width() and 0 <= y < image.height():
                c = image.pixelColor(x, y)
                if abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 30:
                    found += 1
    return found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_mark_is_drawn_in_both_themes_around_made_nodes_only(view, result, theme):
    graph = result.backward_calls[1].graph
    image, rect = _render(view, graph, theme)
    scene = view.scene()
    color = palette(theme).made
    for node in graph.nodes:
        if node.kind not in ("op", "accumulate"):
            continue
        count = _made_pixels(image, scene.node_rect(node.id), rect, color)
        if node.made_by is not None:
            assert count > 150, (node.op, count)  # outline and the ∂ badge
        elif node.op == "AccumulateGrad":
            assert count == 0, (node.op, count)  # no link reaches it
    # The ∂ badge: the made colour fills a disc at the top-left corner of a made node.
    add = next(n for n in graph.nodes if n.op == "AddBackward0")
    item = next(i for i in scene.items() if isinstance(i, MadeMarkItem) and i.parentItem().node_id == add.id)
    centre = item.mapToScene(item.badge.center()) - rect.topLeft()
    pixel = image.pixelColor(int(centre.x()) - 4, int(centre.y()) + 3)
    assert abs(pixel.red() - QColor(color).red()) < 30 and abs(pixel.blue() - QColor(color).blue()) < 30


def test_tooltip_and_inspector_say_where_a_node_comes_from(qtbot, view, result):
    call = result.backward_calls[1]
    cos = next(n for n in call.graph.nodes if n.op == "CosBackward0")
    view.show_graph(call.graph)
    assert "made by the backward of SinBackward0 (line 3), call 1" in view.scene().tooltip(cos.id)
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.set_graph(call.graph, call)
    inspector.show_node(cos.id)
    text = inspector.text()
    assert "Made by a backward pass" in text and "∂ made by the backward of SinBackward0 (line 3), call 1" in text
    origin = cos.made_by.node
    assert result.backward_calls[0].graph.node(origin).op == "SinBackward0"
    assert f"origin:0/{origin}" in inspector.browser.toHtml()
    with qtbot.waitSignal(inspector.origin_clicked) as blocker:
        inspector._anchor(QUrl(f"origin:0/{origin}"))
    assert blocker.args == [0, origin]
    sin_here = next(n for n in call.graph.nodes if n.op == "SinBackward0")
    inspector.show_node(sin_here.id)  # a node of the first graph: no such section
    assert "Made by a backward pass" not in inspector.text()


def test_the_window_follows_the_origin_link_to_the_first_call(qtbot, tmp_path, result, dialog_log):
    window, _client = make_window(qtbot, tmp_path, FakeClient(respond=lambda request: result))
    run_and_wait(qtbot, window)
    assert window.graph_combo.currentData() == "call:1"
    cos = next(n for n in result.backward_calls[1].graph.nodes if n.op == "CosBackward0")
    window.view.node_clicked.emit(cos.id)
    assert "made by the backward of SinBackward0" in window.inspector.text()
    window.inspector.origin_clicked.emit(0, cos.made_by.node)
    assert window.graph_combo.currentData() == "call:0" and window.player.call_index == 0
    assert window.inspector.node_id == cos.made_by.node and window.view.selected == cos.made_by.node
    assert window.inspector.text().startswith("SinBackward0")
    window.close()


def test_the_player_walks_the_second_call_over_its_made_nodes(qtbot, tmp_path, result, dialog_log):
    window, _client = make_window(qtbot, tmp_path, FakeClient(respond=lambda request: result))
    run_and_wait(qtbot, window)
    call = result.backward_calls[1]
    lit = []
    for step in range(1, len(call.steps) + 1):
        window.player.seek(step)
        lit.append(window.player.frame.current)
    assert lit == [s.node_id for s in call.steps]
    assert marked_ids(call.graph) <= set(lit)  # every made node runs in the second backward
    window.close()


def test_render_png_and_gif_of_the_second_call(qtbot, tmp_path, result):
    script = tmp_path / "second.py"
    script.write_text(PROGRAM)
    parser = __import__("argparse").ArgumentParser()
    render.add_render_arguments(parser)
    for name in ("d2.png", "d2.gif"):
        out = tmp_path / name
        code = render.run_render(parser.parse_args([str(script), "-o", str(out), "--call", "2"]), lambda s: result)
        assert code == 0
    gif = Image.open(io.BytesIO((tmp_path / "d2.gif").read_bytes()))
    assert gif.n_frames == len(result.backward_calls[1].steps) + 1
    png = QImage(str(tmp_path / "d2.png"))
    made = QColor(palette("light").made)
    hits = sum(1 for y in range(0, png.height(), 2) for x in range(0, png.width(), 2)
               if abs(png.pixelColor(x, y).red() - made.red()) + abs(png.pixelColor(x, y).green() - made.green())
               + abs(png.pixelColor(x, y).blue() - made.blue()) < 30)
    assert hits > 100
    out = tmp_path / "first.png"  # the first call's graph has none of it
    assert render.run_render(parser.parse_args([str(script), "-o", str(out), "--call", "1"]), lambda s: result) == 0
    first = QImage(str(out))
    assert not any(abs(first.pixelColor(x, y).red() - made.red()) + abs(first.pixelColor(x, y).green() - made.green())
                   + abs(first.pixelColor(x, y).blue() - made.blue()) < 30
                   for y in range(0, first.height(), 2) for x in range(0, first.width(), 2))


def test_the_legend_speaks_the_language_of_gradviz_words(view, result):
    from gradviz.core import i18n

    before = i18n.language()
    i18n.set_language("zh_CN")
    try:
        view.show_graph(result.backward_calls[1].graph)
        legend = next(i for i in view.scene().items() if isinstance(i, MadeLegendItem))
        assert legend.entries == ["由反向传播创建（create_graph=True）", "其反向计算创建了它的节点"]
    finally:
        i18n.set_language(before)
