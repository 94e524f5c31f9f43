"""Panels with big results: reused heatmap labels, tables measured once, one inspector render per step."""

from __future__ import annotations

import math

import pytest
from app_fixtures import matrix_result
from PySide6.QtWidgets import QHeaderView

from gradviz.core.replay import Replay
from gradviz.core.result import RunResult, TensorInfo, TensorValue
from gradviz.ui.grads import MEASURE_ONCE_ROWS, GradsPanel
from gradviz.ui.inspector import Inspector
from gradviz.ui.numbers import norm, value_norm


@pytest.fixture
def panel(qtbot):
    p = GradsPanel()
    qtbot.addWidget(p)
    p.resize(500, 500)
    p.show()
    return p


def square_result(n: int) -> RunResult:
    data = [[float(r * n + c) for c in range(n)] for r in range(n)]
    g = TensorValue((n, n), "float32", data)
    return RunResult(variables=(TensorInfo("w", (n, n), "float32", True, True, g, g, is_param=True),))


def test_heatmap_labels_are_reused_and_the_spare_ones_hidden(panel):
    panel.set_result(matrix_result())
    first = list(panel._cell_labels)
    assert len(first) == 12
    panel.set_result(square_result(2))
    assert sorted(label.toPlainText() for label in panel._cell_labels) == ["0", "1", "2", "3"]
    assert panel._cell_labels == first[:4]  # the same items, new texts
    assert all(label.isVisible() for label in panel._cell_labels)
    assert not any(label.isVisible() for label in first[4:])
    panel.set_result(matrix_result())
    assert len(panel._cell_labels) == 12 and all(label.isVisible() for label in panel._cell_labels)
    assert sorted(label.toPlainText() for label in panel._cell_labels)[:2] == ["-1", "-2"]


def many_params(n: int) -> RunResult:
    infos = []
    for i in range(n):
        g = TensorValue((2,), "float32", [float(i), 1.0])
        infos.append(TensorInfo(f"layer{i}.weight_with_a_long_name", (2,), "float32", True, True, g, g,
                                is_param=True))
    return RunResult(variables=tuple(infos))


def test_a_big_table_sizes_its_columns_once(panel, two_x):
    panel.set_result(many_params(MEASURE_ONCE_ROWS + 5))
    header = panel.table.header()
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Interactive
    longest = panel.table.fontMetrics().horizontalAdvance(f"layer{MEASURE_ONCE_ROWS}.weight_with_a_long_name")
    assert header.sectionSize(0) >= longest
    panel.set_result(two_x.result)  # a small table measures its contents as before
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.ResizeToContents


def test_inspector_state_at_once_matches_one_call_at_a_time(qtbot, two_x):
    result = two_x.result
    call = result.backward_calls[0]
    replay = Replay(call)
    one, step = Inspector(), Inspector()
    qtbot.addWidget(one)
    qtbot.addWidget(step)
    for w in (one, step):
        w.set_graph(call.graph, call)
    for k in range(len(replay)):
        frame = replay.frame(k)
        node = frame.current or "n4"
        one.set_state(call, frame, node)
        step.set_call(call)
        step.set_frame(frame)
        step.show_node(node)
        assert one.text() == step.text() and one.node_id == step.node_id


def test_norms_read_nested_data_and_non_finite_strings():
    v = TensorValue((2, 2), "float32", [[3.0, "nan"], ["inf", 4.0]])
    assert norm(v) == pytest.approx(5.0)  # finite elements only
    assert math.isnan(value_norm(v))  # the canvas shows that something is not finite
    w = TensorValue((3,), "float32", [1.0, 2.0, 2.0])
    assert norm(w) == pytest.approx(3.0) and value_norm(w) == pytest.approx(3.0)
    assert value_norm(TensorValue((0,), "float32", [])) is None and norm(TensorValue((0,), "float32", [])) == 0.0
