"""Gradients panel and .grad history plot: values at a step, heatmap, climbing and resetting history."""

import math

import pytest
from app_fixtures import accumulation_result, matrix_result, tv

from gradviz.core.replay import Replay
from gradviz.core.result import BACKWARD, SET_NONE, ZEROED, GradEvent, LeafHistory
from gradviz.ui.grads import CELL_LABEL_MIN_PX, GradsPanel, HistoryPlot, history_points


def test_history_points_place_calls_and_resets():
    w, v = accumulation_result().grad_history
    pw = history_points(w)
    assert [p.x for p in pw] == [1.0, 2.0, 3.0]
    assert [round(p.y, 4) for p in pw] == [round(math.sqrt(20) * k, 4) for k in (1, 2, 3)]
    pv = history_points(v)
    # v's resets happen after w's three calls: just before v's own calls 4, 5, 6.
    assert [(p.x, p.kind) for p in pv] == [(3.5, SET_NONE), (4.0, BACKWARD), (4.5, SET_NONE), (5.0, BACKWARD),
                                          (5.5, SET_NONE), (6.0, BACKWARD)]
    assert [p.y for p in pv if p.kind == SET_NONE] == [0.0, 0.0, 0.0]


def test_history_points_of_one_element():
    w, _v = accumulation_result().grad_history
    assert [p.y for p in history_points(w, element=1)] == [4.0, 8.0, 12.0]


def test_trailing_zeroing_sits_after_the_last_call():
    h = LeafHistory("p", (1,), (GradEvent(BACKWARD, 3, tv(1.0, shape=(1,)), 0),
                                GradEvent(ZEROED, 4, tv(0.0, shape=(1,)))))
    assert [p.x for p in history_points(h)] == [1.0, 1.5]


@pytest.fixture
def history(qtbot):
    plot = HistoryPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 300)
    return plot


def test_plot_climbs_without_zero_grad_and_resets_with_it(history):
    history.set_histories(accumulation_result().grad_history)
    xs, ys = history.curve_data("w")
    assert xs == [1.0, 2.0, 3.0]
    assert ys[0] < ys[1] < ys[2]
    assert ys[2] == pytest.approx(3 * ys[0])
    xs, ys = history.curve_data("v")
    assert ys == pytest.approx([0.0, math.sqrt(20), 0.0, math.sqrt(20), 0.0, math.sqrt(20)])
    assert sorted(history.markers) == [(3.5, SET_NONE), (4.5, SET_NONE), (5.5, SET_NONE)]
    assert history.caption.text() == "6 backward calls · .grad reset 3×"


def test_plot_elements_of_one_small_leaf(history):
    history.set_histories(accumulation_result().grad_history)
    history.set_leaf("w")
    history.set_mode("elements")
    assert set(history.curves) == {"w[0]", "w[1]"}
    assert history.curve_data("w[0]")[1] == [2.0, 4.0, 6.0]
    assert history.curve_data("w[1]")[1] == [4.0, 8.0, 12.0]
    assert history.caption.text() == "3 backward calls · never reset: .grad accumulates"


def test_empty_history_says_so(history):
    history.set_histories(())
    assert history.stack.currentWidget() is history.empty and history.curves == {}


def test_dark_theme_redraws(history):
    """The curves drawn in light colours are drawn again in the dark series colours, same data."""
    from gradviz.ui.grads import SERIES_COLORS, SERIES_COLORS_DARK, THEMES

    def pens():
        return {name: curve.opts["pen"].color().name() for name, curve in history.curves.items()}

    history.set_histories(accumulation_result().grad_history)
    assert pens() == {"w": SERIES_COLORS[0], "v": SERIES_COLORS[1]}
    light_w = history.curve_data("w")
    history.set_theme("dark")
    assert pens() == {"w": SERIES_COLORS_DARK[0], "v": SERIES_COLORS_DARK[1]}
    legend = [colour for colour, _mark, name in history.legend_entries if name in ("w", "v")]
    assert legend == list(SERIES_COLORS_DARK[:2])
    assert history.plot.backgroundBrush().color().name() == THEMES["dark"]["bg"]
    assert history.curve_data("w") == light_w


@pytest.fixture
def panel(qtbot):
    panel = GradsPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 400)
    return panel


def test_panel_lists_leaves_with_final_grad(panel, two_x):
    panel.set_result(two_x.result)
    assert panel.leaf_names() == ["x"]
    assert panel.grad_text("x") == "[0, 4, 8, 12]"
    assert panel.selected_leaf() == "x"
    assert "[0, 4, 8, 12]" in panel.numbers.text()


def test_panel_follows_the_animation(panel, two_x):
    result = two_x.result
    panel.set_result(result)
    replay = Replay(result.backward_calls[0])
    names = {"n4": "x", "n3": "x"}
    panel.set_frame(replay.frame(0), names)
    assert panel.grad_text("x") == "None"
    assert panel.numbers.text().startswith("None")
    panel.set_frame(replay.frame(2), names)
    assert panel.grad_text("x") == "None"
    panel.set_frame(replay.frame(3), names)
    assert panel.grad_text("x") == "[0, 4, 8, 12]"
    assert panel.table.topLevelItem(0).font(0).bold()  # AccumulateGrad of x is lit


def test_matrix_grad_is_a_heatmap(panel):
    panel.set_result(matrix_result())
    assert panel.is_heatmap_shown()
    image = panel.image.image
    assert image.shape == (3, 4)
    assert image[0, 0] == -5.0 and image[2, 3] == 6.0
    assert panel.image.levels is not None and tuple(panel.image.levels) == (-6.0, 6.0)


def test_no_result_clears(panel, two_x):
    panel.set_result(two_x.result)
    panel.set_result(None)
    assert panel.leaf_names() == [] and panel.detail.currentWidget() is panel.empty


def test_small_matrix_heatmap_writes_values_in_cells(panel, qtbot):
    panel.resize(300, 120)
    panel.set_result(matrix_result())
    panel.show()
    qtbot.waitExposed(panel)
    assert panel._cell_labels == [] or not any(label.isVisible() for label in panel._cell_labels)  # cells too small
    panel.resize(500, 700)  # the dock grows: the values appear
    qtbot.waitUntil(lambda: len(panel._cell_labels) == 12)
    texts = sorted(label.toPlainText() for label in panel._cell_labels)
    assert "-5" in texts and "6" in texts and all(label.isVisible() for label in panel._cell_labels)


def test_a_long_vector_strip_has_no_unreadable_cell_labels(panel, qtbot):
    from gradviz.core.result import RunResult

    history = LeafHistory("b", (64,), (GradEvent(BACKWARD, 3, tv(*[float(i) for i in range(64)], shape=(64,)), 0),))
    panel.resize(400, 500)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_result(RunResult(grad_history=(history,)))
    assert panel.is_heatmap_shown() and panel.image.image.shape == (1, 64)
    assert panel._cell_labels == []  # 64 cells in 400 pixels: 6 pixels each


def test_short_vector_is_numbers_not_heatmap(panel, two_x):
    panel.set_result(two_x.result)
    assert not panel.is_heatmap_shown()


def test_many_leaves_plot_only_the_largest(history):
    from gradviz.ui.grads import MAX_SERIES

    histories = [LeafHistory(f"p{i}", (1,), (GradEvent(BACKWARD, 3, tv(float(i), shape=(1,)), 0),)) for i in range(30)]
    history.set_histories(histories)
    assert set(history.curves) == {f"p{i}" for i in range(30 - MAX_SERIES, 30)}
    assert history.caption.text().startswith(f"largest {MAX_SERIES} of 30 leaves")


def test_current_call_moves_the_shade_without_redrawing(history):
    history.set_histories(accumulation_result().grad_history)
    curve = history.curves["w"]
    history.set_current_call(2)
    assert history._region.isVisible() and history._region.getRegion() == pytest.approx((2.8, 3.2))
    assert history.curves["w"] is curve
    history.set_current_call(None)
    assert not history._region.isVisible()


def _shown_history(qtbot, width: int, height: int) -> HistoryPlot:
    plot = HistoryPlot()
    qtbot.addWidget(plot)
    plot.resize(width, height)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def _many_leaves(n: int) -> tuple[LeafHistory, ...]:
    return tuple(
        LeafHistory(f"unnamed leaf {k + 1}", (1,), (GradEvent(BACKWARD, 3, tv(float(k + 1), shape=(1,)), 0),))
        for k in range(n)
    )


def test_legend_keeps_whole_entries_on_two_lines_and_counts_the_rest(qtbot):
    plot = _shown_history(qtbot, 330, 260)
    plot.set_histories(_many_leaves(20))  # the 8 largest are plotted
    text = plot.legend_label.text()
    assert text.count("<br>") == 1  # two lines, however many entries
    assert "unnamed&nbsp;leaf&nbsp;20" in text  # the largest first, its name never split
    hidden = 8 - text.count("━●")
    assert hidden > 0 and f"+{hidden} more" in text
    assert plot.legend_label.toolTip().count("\n") == 7  # every plotted leaf in the tooltip
    assert plot.legend_label.sizeHint().width() <= plot.legend_label.contentsRect().width() + 1
    assert plot.stack.height() > 120  # the plot keeps its room

    plot.resize(2400, 260)  # wide enough for all: one line, no count, no tooltip
    qtbot.waitUntil(lambda: "more" not in plot.legend_label.text())
    assert plot.legend_label.text().count("━●") == 8 and "<br>" not in plot.legend_label.text()
    assert plot.legend_label.toolTip() == ""


def test_legend_of_one_leaf_and_markers_fits_without_a_count(history, qtbot):
    history.show()
    qtbot.waitExposed(history)
    history.set_histories(accumulation_result().grad_history)
    text = history.legend_label.text()
    assert "more" not in text and "━●" in text and ".grad&nbsp;=&nbsp;None" in text


def test_a_jump_that_changes_hundreds_of_rows_writes_those_in_view_first(qtbot):
    from gradviz.core.replay import Frame
    from gradviz.core.result import RunResult
    from gradviz.ui.grads import FORMAT_AT_ONCE_ROWS
    from gradviz.ui.numbers import format_value

    n = 300
    histories = tuple(LeafHistory(f"p{i}", (1,), (GradEvent(BACKWARD, 3, tv(1.0, shape=(1,)), 0),)) for i in range(n))
    panel = GradsPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 500)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_result(RunResult(grad_history=histories))
    names = {f"n{i}": f"p{i}" for i in range(n)}
    new = {f"n{i}": tv(float(i + 2), shape=(1,)) for i in range(n)}
    panel.set_frame(Frame(0, 1, 1, leaf_grads=new), names)
    row = panel.table.topLevelItem
    old = format_value(tv(1.0, shape=(1,)), 60)
    first_new, last_new = format_value(new["n0"], 60), format_value(new[f"n{n - 1}"], 60)
    assert n > FORMAT_AT_ONCE_ROWS and old != first_new
    assert row(0).text(2) == first_new  # in view: written at once
    assert row(n - 1).text(2) == old  # out of view: not yet
    assert panel.grad_text(f"p{n - 2}") == format_value(new[f"n{n - 2}"], 60)  # asked for: written
    panel.table.scrollToBottom()
    assert row(n - 1).text(2) == last_new  # scrolled into view: written
    panel.set_frame(Frame(0, 0, 1), names)  # back to the final values: every row is right again
    panel.table.scrollToTop()
    assert row(0).text(2) == old and panel.grad_text(f"p{n - 1}") == old


def test_following_selects_the_leaf_being_written_unless_asked_not_to(panel):
    from gradviz.core.replay import Frame

    panel.set_result(accumulation_result())
    panel.select_leaf("v")
    selected = []
    panel.leaf_selected.connect(selected.append)
    names = {"acc_w": "w", "w_node": "w"}
    panel.set_frame(Frame(0, 1, 2, current="acc_w"), names)  # not following: the choice stays
    assert panel.selected_leaf() == "v"
    panel.set_frame(Frame(0, 1, 2, current="acc_w"), names, follow=True)
    assert panel.selected_leaf() == "w" and selected == ["w"]
    assert panel.title.text().startswith("w.grad")  # the detail shows the followed leaf


def test_legend_keeps_the_marker_explanations_when_series_must_make_room(qtbot):
    histories = tuple(
        LeafHistory(f"layer{k}.weight", (1,), (
            GradEvent(BACKWARD, 3, tv(float(k + 1), shape=(1,)), 0),
            GradEvent(SET_NONE, 4, None),
            GradEvent(BACKWARD, 3, tv(float(k + 1), shape=(1,)), 1),
        ))
        for k in range(6)
    )
    plot = _shown_history(qtbot, 360, 260)
    plot.set_histories(histories)
    text = plot.legend_label.text()
    assert ".grad&nbsp;=&nbsp;None" in text  # the ✕ markers stay explained
    shown = text.count("━●")
    assert 0 < shown < 6 and f"+{6 - shown} more" in text and text.count("<br>") <= 1
    assert "layer0.weight" in text and "layer5.weight" not in text  # the last series make room


def test_heatmap_is_fitted_and_cannot_be_zoomed_away(panel, qtbot):
    panel.resize(500, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_result(matrix_result())
    box = panel._heat_plot.getViewBox()
    assert box.state["mouseEnabled"] == [False, False]
    (x0, x1), (y0, y1) = box.viewRange()
    assert x0 <= 0 and x1 >= 4 and y0 <= 0 and y1 >= 3  # the whole 3x4 matrix in view


def test_legend_refits_when_the_font_grows(qtbot):
    plot = _shown_history(qtbot, 420, 260)
    plot.set_histories(_many_leaves(8))
    before = plot.legend_label.text().count("━●")
    plot.legend_label.setStyleSheet("font-size: 26pt")  # wins over any application style sheet
    qtbot.waitUntil(lambda: plot.legend_label.text().count("━●") < before)
    assert plot.legend_label.sizeHint().width() <= plot.legend_label.contentsRect().width() + 1


def test_two_names_for_one_tensor_make_one_row(two_x):
    from dataclasses import replace

    from gradviz.ui.grads import leaf_rows

    result = two_x.result
    x = next(v for v in result.variables if v.name == "x")
    aliased = replace(result, variables=result.variables + (replace(x, name="z"),))
    assert [row[0] for row in leaf_rows(aliased)] == [row[0] for row in leaf_rows(result)]


def _matrix(rows: int, cols: int):
    from gradviz.core.result import RunResult, TensorInfo, TensorValue

    data = [[math.sin(r * cols + c + 1.0) for c in range(cols)] for r in range(rows)]
    g = TensorValue((rows, cols), "float32", data)
    return RunResult(variables=(TensorInfo("w", (rows, cols), "float32", True, True, g, g),))


def _label_values(axis, length: float) -> list[float]:
    """The values an axis writes a label at: its set ticks, or the major ones it picks itself."""
    if axis._tickLevels is not None:
        return sorted(v for v, _text in axis._tickLevels[0])
    low, high = sorted(axis.range)
    return sorted(axis.tickValues(low, high, length)[0][1])


def _spacing_px(values: list[float], span: float, length: float) -> float:
    gaps = [b - a for a, b in zip(values, values[1:], strict=False)]
    return min(gaps) / span * length if gaps else math.inf


def test_a_small_matrix_reads_as_numbers_in_a_short_dock_and_as_cells_in_a_tall_one(panel, qtbot):
    panel.resize(260, 150)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_result(_matrix(4, 3))
    assert not panel.is_heatmap_shown()
    assert panel.detail.currentWidget() is panel.numbers_view  # scrolls rather than cut rows off
    assert len(panel.numbers.text().splitlines()) == 4 and format(math.sin(12.0), ".4g") in panel.numbers.text()
    panel.resize(420, 700)
    qtbot.waitUntil(panel.is_heatmap_shown)
    qtbot.waitUntil(lambda: len(panel._cell_labels) == 12)
    box = panel._heat_plot.getViewBox().sceneBoundingRect()
    assert box.height() / 4 >= CELL_LABEL_MIN_PX[1] and box.width() / 3 >= CELL_LABEL_MIN_PX[0]
    panel.resize(260, 150)  # and back
    qtbot.waitUntil(lambda: not panel.is_heatmap_shown())


@pytest.mark.parametrize("size", [(260, 260), (300, 420), (700, 800)])
def test_heatmap_row_and_colour_bar_labels_never_overlap(panel, qtbot, size):
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_result(_matrix(40, 30))
    assert panel.is_heatmap_shown()
    qtbot.wait(50)
    line = panel.fontMetrics().height()
    box = panel._heat_plot.getViewBox()
    rect = box.sceneBoundingRect()
    rows = _label_values(panel._heat_plot.getAxis("left"), rect.height())
    assert rows and _spacing_px(rows, 40 / (1 + 2 * 0.02), rect.height()) >= line
    cols = _label_values(panel._heat_plot.getAxis("bottom"), rect.width())
    assert cols and _spacing_px(cols, 30 / (1 + 2 * 0.02), rect.width()) >= panel.fontMetrics().horizontalAdvance("29")
    bar = panel._colorbar.axis
    top = max(abs(v) for v in bar.range)
    values = _label_values(bar, bar.geometry().height())
    assert _spacing_px(values, 2 * top, bar.geometry().height()) >= line


def test_legend_counts_no_entry_that_has_room(qtbot):
    """Five entries on two lines, in a legend just wide enough for them as drawn: none counted."""
    from PySide6.QtGui import QTextDocument

    names = ("model.2.bias", "model.0.bias", "model.0.weight", "model.2.weight")
    histories = tuple(LeafHistory(name, (1,), (GradEvent(SET_NONE, 2, None, None),
                                               GradEvent(BACKWARD, 3, tv(float(k + 1), shape=(1,)), 0)))
                      for k, name in enumerate(names))
    plot = _shown_history(qtbot, 2400, 260)
    plot.set_histories(histories)
    parts = plot.legend_label.text().split("&nbsp;&nbsp;&nbsp;")
    assert len(parts) == 5 and "more" not in plot.legend_label.text()
    document = QTextDocument()
    document.setDefaultFont(plot.legend_label.font())
    document.setDocumentMargin(0)
    document.setHtml("&nbsp;&nbsp;&nbsp;".join(parts[:3]))
    first_line = math.ceil(document.idealWidth()) + 1
    width = 200
    plot.resize(width, 260)
    while plot.legend_label.contentsRect().width() < first_line:
        width += 1
        plot.resize(width, 260)
    text = plot.legend_label.text()
    assert "more" not in text and text.count("━●") == 4 and text.count("<br>") == 1
