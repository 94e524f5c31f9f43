"""The backward-pass player: frames, stepping, playing to the end, call timeline, scrub slider."""

from app_fixtures import accumulation_result

from gradviz.ui.player import Player, PlayerBar


def make_player(qtbot, calls):
    player = Player()
    bar = PlayerBar(player)
    qtbot.addWidget(bar)
    player.set_calls(calls)
    return player, bar


def test_loading_shows_the_last_call_at_its_end(qtbot, two_x):
    player, bar = make_player(qtbot, two_x.result.backward_calls)
    assert player.call_index == 0 and player.step == 3 and player.frame.current == "n3"
    assert bar.slider.maximum() == 3 and bar.slider.value() == 3
    assert bar.step_label.text() == "step 3/3 · AccumulateGrad"
    assert bar.call_label.text() == "backward at line 5"


def test_step_forward_and_back_light_the_engine_order(qtbot, two_x):
    player, bar = make_player(qtbot, two_x.result.backward_calls)
    player.to_start()
    assert player.frame.current is None and bar.step_label.text() == "start · 3 steps"
    lit = []
    for _ in range(3):
        with qtbot.waitSignal(player.frame_changed) as blocker:
            player.step_forward()
        lit.append(blocker.args[0].current)
    assert lit == ["n1", "n2", "n3"]
    player.step_forward()  # clamped at the end
    assert player.step == 3
    player.step_back()
    assert player.frame.current == "n2" and bar.slider.value() == 2


def test_play_runs_to_the_end_and_stops(qtbot, two_x):
    player, _bar = make_player(qtbot, two_x.result.backward_calls)
    player.set_speed(4.0)
    player.to_start()
    with qtbot.waitSignal(player.playing_changed, timeout=5000, check_params_cb=lambda playing: not playing):
        player.play()
    assert player.step == 3 and not player.is_playing


def test_play_at_the_end_starts_over(qtbot, two_x):
    player, _bar = make_player(qtbot, two_x.result.backward_calls)
    with qtbot.waitSignal(player.frame_changed) as blocker:
        player.play()
    assert blocker.args[0].step == 0
    player.pause()
    assert not player.is_playing


def test_slider_scrubs(qtbot, two_x):
    player, bar = make_player(qtbot, two_x.result.backward_calls)
    bar.slider.setValue(1)
    assert player.step == 1 and player.frame.current == "n1"


def test_timeline_of_several_calls_picks_the_call(qtbot):
    result = accumulation_result()
    player, bar = make_player(qtbot, result.backward_calls)
    assert player.call_index == 5 and bar.timeline.isVisibleTo(bar)
    assert bar.call_label.text() == "Call 6 of 6: backward at line 12"
    with qtbot.waitSignal(player.call_changed) as blocker:
        bar.timeline.call_clicked.emit(1)
    assert blocker.args == [1] and player.call.index == 1
    # Call 2 of w: .grad before was the first call's, after is twice that.
    assert player.frame.leaf_grads["c1_leaf"].data == [4.0, 8.0]
    player.previous_call()
    assert player.call_index == 0
    player.previous_call()
    assert player.call_index == 0


def test_no_calls_clears_and_disables(qtbot, two_x):
    player, bar = make_player(qtbot, two_x.result.backward_calls)
    with qtbot.waitSignal(player.frame_changed) as blocker:
        player.clear()
    assert blocker.args == [None] and player.call is None and not bar.isEnabled()


def test_speed_sets_the_timer(qtbot, two_x):
    player, bar = make_player(qtbot, two_x.result.backward_calls)
    bar.speed.setCurrentIndex(bar.speed.findData(2.0))
    assert player.speed == 2.0 and player._timer.interval() == 400


def test_the_step_label_is_whole_when_the_bar_has_room(qtbot, two_x):
    """"step 3/3 · AccumulateGrad" was cut to "step 3/3 · Accu…" in a 590 px bar: the slider now
    gives way first; a narrow bar still elides and never widens."""
    player, bar = make_player(qtbot, two_x.result.backward_calls)
    bar.resize(420, 70)  # no transport buttons here: 420 px leaves what a 590 px bar of the window does
    bar.show()
    qtbot.waitExposed(bar)
    qtbot.waitUntil(lambda: bar.step_label.shown_text() == "step 3/3 · AccumulateGrad")
    assert bar.slider.width() >= bar.slider.minimumWidth()
    bar.resize(290, 70)
    qtbot.waitUntil(lambda: bar.step_label.shown_text().endswith("…"))
    assert bar.minimumSizeHint().width() <= 290
