"""Callouts and edge labels cover nothing on real engine output: lesson 8's AccumulateGrad of a
weight, a while/if program (d2l's ``f(a)``) and ten terms summed into one leaf (issue 16, item 9)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF

from gradviz.core.replay import Replay
from gradviz.core.request import RunRequest
from gradviz.core.resources import example_paths
from gradviz.core.result import ACCUMULATE, PARAM
from gradviz.core.session import load_session
from gradviz.engine.run import run_request
from gradviz.ui.canvas import GraphView

WHILE_IF = """import torch

def f(a):
    b = a * 2
    while b.norm() < 100:
        b = b * 2
    if b.sum() > 0:
        c = b * a
    else:
        c = 100 * b
    return c + a.sin() * b

a = torch.tensor(0.7, requires_grad=True)
d = f(a)
d.backward()
"""

TRUNK = """import torch
x = torch.tensor(1.5, requires_grad=True)
terms = [x * (i + 1) for i in range(10)]
y = sum(terms)
y.backward()
"""


def run(request: RunRequest):
    result = run_request(request)
    assert result.error is None, result.error
    return result.backward_calls[-1]


@pytest.fixture
def view(qtbot):
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(900, 700)
    return v


def shown_labels(scene) -> list[QRectF]:
    return [lab.sceneBoundingRect() for group in (scene.labels, scene.grad_tags)
            for lab in group.values() if lab.isVisible()]


def assert_callout_covers_nothing(scene) -> None:
    card = scene.badge.card()
    assert scene.badge.isVisible()
    hidden = [nid for nid, rect in scene.plan.node_rects.items() if rect.intersects(card)]
    assert hidden == [], f"the callout covers nodes {hidden}"
    labels = [r for r in shown_labels(scene) if r.intersects(card)]
    assert labels == [], f"the callout covers labels {labels}"


def accumulate_frames(call, view, wanted=lambda leaf: True):
    """Show each frame whose current node is an AccumulateGrad (of a leaf ``wanted`` accepts)."""
    graph = call.graph
    replay = Replay(call)
    for k in range(len(replay)):
        frame = replay.frame(k)
        node = graph.by_id.get(frame.current)
        if node is None or node.kind != ACCUMULATE:
            continue
        leaf = graph.by_id[next(e.dst for e in graph.out_edges[node.id])]
        if wanted(leaf):
            view.show_frame(frame, call)
            yield frame


def test_lesson_8_weight_callout_covers_no_node_and_no_label(view):
    session = load_session(next(p for p in example_paths() if p.stem == "08-mlp-training-loop"))
    call = run(session.request())
    view.show_graph(call.graph)
    seen = 0
    for _frame in accumulate_frames(call, view, lambda leaf: leaf.kind == PARAM and "weight" in leaf.names[0]):
        assert_callout_covers_nothing(view.scene())
        seen += 1
    assert seen == 2


def test_while_if_program_callout_names_its_sources(view):
    call = run(RunRequest(WHILE_IF))
    view.show_graph(call.graph)
    frames = list(accumulate_frames(call, view))
    assert len(frames) == 1
    scene = view.scene()
    assert_callout_covers_nothing(scene)
    sources = [r.caption for r in scene.badge.rows if r.caption.startswith("from ")]
    assert len(sources) == 3 and len(set(sources)) == 3, sources
    assert any("line 4" in s for s in sources) and any("line 8" in s for s in sources), sources


def test_ten_edges_down_one_trunk_keep_their_labels_apart(view):
    call = run(RunRequest(TRUNK))
    view.show_graph(call.graph)
    (frame,) = accumulate_frames(call, view)
    scene = view.scene()
    assert_callout_covers_nothing(scene)
    sources = [r.caption for r in scene.badge.rows if r.caption.startswith("from ")]
    assert len(sources) == 10 and len(set(sources)) == 10, sources
    assert all("terms[" in s for s in sources)
    rects = shown_labels(scene)
    assert len(rects) >= 10
    overlapping = [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:] if a.intersects(b)]
    assert overlapping == []
    # Each term's label sits on its own stretch: no two of the ten at one x (the trunk).
    acc = frame.current
    xs = [scene.labels[k].sceneBoundingRect().center().x() for k in scene.labels
          if k[1] == acc and scene.labels[k].isVisible()]
    assert len(xs) == 10 and len({round(x) for x in xs}) == 10, xs
