"""Presentation mode and the default zoom: how much of the window the graph gets and how big its text is on screen.

Sizes are measured the way a person sees them: a font's pixel size times the view's scale, the
canvas's share of the window's area, the history plot's axis title against the room it has.
"""

from __future__ import annotations

from app_fixtures import FakeClient, accumulation_result
from app_window import make_window, run_and_wait

from gradviz.core.result import RunResult
from tests.ui.canvas_data import mlp_call


def mlp_result() -> RunResult:
    """A 15-node MLP's backward call (the size of lesson 08's graph), with a .grad history to plot."""
    call = mlp_call()
    return RunResult(graph=call.graph, backward_calls=(call,), grad_history=accumulation_result().grad_history)


def text_px(window, role: str) -> float:
    """How tall the canvas's ``role`` text ("title": node names, "label": gradients on edges) is on screen."""
    view = window.view
    item = next(iter(view.scene().node_items.values()))
    scale = item.deviceTransform(view.viewportTransform()).m22()
    return view.scene().look.theme.font(role).pixelSize() * scale


def canvas_share(window) -> float:
    """The canvas's part of the window's area."""
    view = window.view
    return view.width() * view.height() / (window.width() * window.height())


def shown_docks(window) -> set[str]:
    return {name for name, dock in window.docks.items() if dock.isVisible()}


def settle(qtbot, window) -> None:
    """Let the layout take the docks' changes and the canvas place the graph again."""
    for _ in range(3):
        qtbot.wait(20)


def window_on_mlp(qtbot, tmp_path, width: int = 1440, height: int = 900):
    window, _ = make_window(qtbot, tmp_path, FakeClient(respond=lambda r: mlp_result()))
    window.resize(width, height)
    run_and_wait(qtbot, window)
    settle(qtbot, window)
    return window


def axis_title_fits(plot) -> bool:
    """The history plot's left axis title (written upwards) is as long as the axis or shorter."""
    axis = plot.getAxis("left")
    return axis.label.boundingRect().width() <= axis.geometry().height() + 1


def test_presentation_mode_gives_the_graph_most_of_the_screen_in_text_read_from_the_back(
        qtbot, tmp_path, dialog_log):
    window = window_on_mlp(qtbot, tmp_path)
    before = shown_docks(window)
    assert canvas_share(window) < 0.4  # beside the editor and the panels
    window.actions["presentation"].trigger()
    settle(qtbot, window)
    view = window.view
    assert shown_docks(window) == set()
    assert canvas_share(window) > 0.65
    # Node names at least 18 px high, the gradients on the edges at least 12 px.
    assert text_px(window, "title") >= 18 and text_px(window, "label") >= 12
    assert view.placement == "auto" and not view.fitted and view.minimap.isVisible()
    root = view.mapFromScene(view.scene().node_rect("root")).boundingRect()
    assert view.viewport().rect().contains(root) and root.top() < view.viewport().height() / 3
    # Off again: the docks as they were, the normal fonts, still readable.
    window.actions["presentation"].trigger()
    settle(qtbot, window)
    assert shown_docks(window) == before
    assert canvas_share(window) < 0.4
    assert 8 <= text_px(window, "label") < 12


def test_the_default_view_keeps_edge_labels_readable_with_the_minimap_for_the_rest(qtbot, tmp_path, dialog_log):
    window = window_on_mlp(qtbot, tmp_path)
    view = window.view
    # Fitted whole beside the editor, the labels would be 6 px: the view opens at a readable zoom.
    label = view.scene().look.theme.font("label").pixelSize()
    assert label * view.fit_scale() < 7
    assert text_px(window, "label") >= 8 and text_px(window, "title") >= 10.5
    # The rest is a scroll away (with the minimap when the graph is much bigger than the canvas).
    whole = view.mapFromScene(view.scene().graph_rect()).boundingRect()
    assert view.placement == "auto" and whole.height() > view.viewport().height()
    assert view.verticalScrollBar().maximum() > 0
    # It stays so as the canvas changes size, until the user zooms.
    window.resize(1300, 860)
    settle(qtbot, window)
    assert text_px(window, "label") >= 8
    window.actions["zoom_out"].trigger()
    zoomed = view.scale_factor()
    window.resize(1440, 900)
    settle(qtbot, window)
    assert view.placement is None and view.scale_factor() == zoomed
    # Fit shows the whole graph however small, and keeps it whole as the canvas changes size.
    window.actions["fit"].trigger()
    assert view.placement == "fit" and view.fitted
    whole = view.mapFromScene(view.scene().graph_rect()).boundingRect()
    assert view.viewport().rect().adjusted(-2, -2, 2, 2).contains(whole)


def test_docks_shown_in_presentation_mode_are_tabs_with_room_to_read(qtbot, tmp_path, dialog_log):
    window = window_on_mlp(qtbot, tmp_path, 1024, 640)
    window.actions["presentation"].trigger()
    settle(qtbot, window)
    history, grads = window.docks["historyDock"], window.docks["gradsDock"]
    window.docks["inspectorDock"].show()
    grads.show()
    history.show()
    history.raise_()
    settle(qtbot, window)
    assert grads in window.tabifiedDockWidgets(history)
    # One panel at a time has the whole height of the side, not a third of it.
    assert history.height() > window.height() * 0.6
    plot = window.history.plot
    assert plot.height() >= plot.minimumHeight() > 100 and axis_title_fits(plot)
    assert canvas_share(window) > 0.3 and text_px(window, "title") >= 18


def test_the_history_plot_keeps_room_for_its_axis_title_beside_the_editor(qtbot, tmp_path, dialog_log):
    window = window_on_mlp(qtbot, tmp_path, 1024, 640)
    plot = window.history.plot
    assert window.docks["historyDock"].isVisible() and plot.height() >= plot.minimumHeight()
    assert axis_title_fits(plot)


def test_closed_in_presentation_mode_the_window_keeps_its_normal_layout(qtbot, tmp_path, dialog_log):
    window = window_on_mlp(qtbot, tmp_path)
    window.docks["outputDock"].raise_()
    window.docks["historyDock"].hide()
    before = shown_docks(window)
    window.actions["presentation"].trigger()
    settle(qtbot, window)
    window.close()
    again, _ = make_window(qtbot, tmp_path)
    settle(qtbot, again)
    assert again.presentation and shown_docks(again) == set()
    again.actions["presentation"].trigger()
    settle(qtbot, again)
    assert shown_docks(again) == before and "historyDock" not in before


def test_an_error_banner_above_the_root_stays_in_view(qtbot, tmp_path, dialog_log):
    """A graph opened at the readable zoom with its root at the top: the failed call's banner,
    drawn above the root, is in view (it was scrolled off the top)."""
    from app_fixtures import FakeClient
    from app_window import make_window, run_and_wait
    from PySide6.QtCore import QRectF

    from gradviz.core.request import RunRequest
    from gradviz.core.resources import resource_path
    from gradviz.core.session import load_session
    from gradviz.engine.run import run_request

    lesson = load_session(resource_path("examples", "05-retain-graph.gradviz"))
    result = run_request(RunRequest(lesson.program))
    window, _ = make_window(qtbot, tmp_path, FakeClient(respond=lambda request: result))
    window.resize(1440, 900)
    window.editor.setPlainText(lesson.program)
    run_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: window.view.scene().banner is not None and window.view.scene().banner.isVisible())
    view = window.view
    banner = view.mapFromScene(view.scene().banner.sceneBoundingRect()).boundingRect()
    assert QRectF(view.viewport().rect()).intersects(QRectF(banner))
    assert banner.top() >= 0


def test_a_window_never_opens_bigger_than_its_screen(qtbot, tmp_path, dialog_log):
    """A 1024x640 projector: the 1440x900 default (or a size saved on a bigger screen) would put
    the panels and half the graph off the screen."""
    from conftest import REAL_FIT_TO_SCREEN

    window, _ = make_window(qtbot, tmp_path)
    window.resize(1440, 900)
    room = window.screen().availableGeometry()
    assert window.width() > room.width()  # offscreen: an 800x800 screen
    REAL_FIT_TO_SCREEN(window)
    assert window.height() <= room.height()
    assert window.width() == max(room.width(), window.minimumWidth())  # never below its minimum
    assert window.pos() == room.topLeft()


def test_side_panels_keep_their_share_when_the_window_grows(qtbot, tmp_path, dialog_log):
    """Made at 1024 px and resized to 1440: the panels grow with the window (Qt gave all of it to
    the graph, leaving panels sized for 1024 px)."""
    window, _ = make_window(qtbot, tmp_path)
    window.resize(1024, 640)
    settle(qtbot, window)
    program, inspector = window.docks["programDock"], window.docks["inspectorDock"]
    before = (program.width() / window.width(), inspector.width() / window.width())
    window.resize(1440, 900)
    settle(qtbot, window)
    after = (program.width() / window.width(), inspector.width() / window.width())
    assert abs(after[0] - before[0]) < 0.03 and abs(after[1] - before[1]) < 0.03, (before, after)
    assert program.width() > 1440 * 0.2


def test_a_small_lesson_in_presentation_mode_is_whole_with_names_read_from_the_back(
        qtbot, tmp_path, dialog_log, two_x_client):
    """Lesson 1's five nodes at 1440x900: all of the graph in view (the leaf x and its .grad were
    cut off at the bottom), names still 18 px; the player's row that repeated the one call's name
    gives its height to the graph."""
    window, _ = make_window(qtbot, tmp_path, two_x_client)
    window.resize(1440, 900)
    run_and_wait(qtbot, window)
    window.actions["presentation"].trigger()
    settle(qtbot, window)
    view = window.view
    drawn = view.mapFromScene(view.scene().itemsBoundingRect()).boundingRect()
    assert view.viewport().rect().contains(drawn)
    assert text_px(window, "title") >= 18
    assert not window.player_bar.call_label.isVisible()
    assert window.player_bar.step_label.shown_text() == "step 3/3 · AccumulateGrad"
    window.actions["presentation"].trigger()  # the app's font is shared with the tests that follow


def test_the_step_label_draws_inside_its_room_in_presentation_mode(qtbot, two_x):
    """The text ends inside the label: Qt's implicit indent (half an "x" where the style sheet
    frames and pads a label) once pushed it past the edge ("step 3/3 · AccumulateGrac")."""
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from gradviz.ui import style
    from gradviz.ui.player import Player, PlayerBar

    app = QApplication.instance()
    style.apply(app, "light")
    player = Player()
    bar = PlayerBar(player)
    qtbot.addWidget(bar)
    player.set_calls(two_x.result.backward_calls)
    bar.resize(1440, 60)
    bar.show()
    qtbot.waitExposed(bar)
    style.apply(app, "light", presentation=True)  # as the window turns it on: the bar polished again
    try:
        qtbot.wait(10)
        label = bar.step_label
        assert label.shown_text() == "step 3/3 · AccumulateGrad"
        image = label.grab().toImage()
        background = QColor(image.pixel(image.width() - 1, 0)).lightness()
        inked = [x for x in range(image.width()) for y in range(image.height())
                 if abs(QColor(image.pixel(x, y)).lightness() - background) > 60]
        room = label.contentsRect()
        # The text starts where its room starts and is drawn whole (not cut at the room's end).
        assert inked and min(inked) <= room.left() + 2
        assert max(inked) - min(inked) >= label.fontMetrics().horizontalAdvance(label.text()) - 4
    finally:
        style.apply(app, "light", presentation=False)


def test_on_a_small_projector_screen_presentation_text_keeps_its_share_of_the_picture(
        qtbot, tmp_path, dialog_log, monkeypatch):
    """A 1024x640 screen is projected as big as a 1440x900 one: the scale follows the screen's
    height (1.6 there would leave the graph 42% of the height under the menus, toolbar and player)."""
    from PySide6.QtWidgets import QApplication

    from gradviz.ui import style, window_build

    monkeypatch.setattr(window_build, "screen_height", lambda w: 640)
    window = window_on_mlp(qtbot, tmp_path, 1024, 640)
    window.actions["presentation"].trigger()
    settle(qtbot, window)
    try:
        assert QApplication.instance().font().pointSizeF() == style.BASE_POINTS * 1.15
        assert window.view.height() / window.height() > 0.65
        # Node names as big a share of the picture as 18 px of 900.
        assert text_px(window, "title") >= 18 * 640 / 900
    finally:
        window.actions["presentation"].trigger()
    assert style.presentation_scale(900) == style.presentation_scale(2160) == 1.6
    assert style.presentation_scale(768) == 1.6 * 768 / 900
    assert style.presentation_scale(480) == style.SMALL_PRESENTATION_SCALE
