"""The runner: runs off the UI thread, newest run wins, cancel, kill and recover."""

import threading

import pytest
from app_fixtures import FakeClient

from gradviz.core.request import RunRequest
from gradviz.ui.runner import Background, Runner


@pytest.fixture
def runner_and_client(qtbot, two_x):
    client = FakeClient(respond=lambda request: two_x.result)
    runner = Runner(lambda: client)
    yield runner, client
    runner.close()


def test_start_reports_ready(qtbot, runner_and_client):
    runner, client = runner_and_client
    with qtbot.waitSignal(runner.engine_ready, timeout=3000):
        runner.start()
    assert runner.is_ready and client.starts == 1


def test_run_finishes_on_the_ui_thread_with_the_result(qtbot, runner_and_client, two_x):
    runner, client = runner_and_client
    seen_threads = []
    runner.run_finished.connect(lambda *_a: seen_threads.append(threading.current_thread()))
    with qtbot.waitSignal(runner.run_finished, timeout=3000) as blocker:
        run_id = runner.run(RunRequest("x = 1"))
    assert blocker.args[0] == run_id == runner.latest_id
    assert blocker.args[1].stdout == two_x.result.stdout
    assert seen_threads == [threading.main_thread()]
    assert client.requests[-1].program == "x = 1"
    qtbot.waitUntil(lambda: not runner.is_busy)


def test_newer_run_cancels_the_older(qtbot, runner_and_client):
    runner, client = runner_and_client
    finished = []
    runner.run_finished.connect(lambda rid, res: finished.append((rid, res)))
    first = runner.run(RunRequest("while True: pass"))
    assert client.running.wait(3)
    second = runner.run(RunRequest("y = 2"))
    qtbot.waitUntil(lambda: any(rid == second for rid, _r in finished), timeout=3000)
    by_id = dict(finished)
    assert by_id[first].error.type == "Cancelled"
    assert by_id[second].ok
    qtbot.waitUntil(lambda: not runner.is_busy)


def test_cancel_gives_the_partial_result(qtbot, runner_and_client):
    runner, client = runner_and_client
    with qtbot.waitSignal(runner.run_finished, timeout=3000) as blocker:
        runner.run(RunRequest("while True: pass"))
        assert client.running.wait(3)
        runner.cancel()
    assert blocker.args[1].error.type == "Cancelled"


def test_kill_reports_the_crash_restarts_and_the_next_run_works(qtbot, runner_and_client):
    runner, client = runner_and_client
    crashed = []
    runner.engine_crashed.connect(crashed.append)
    with qtbot.waitSignal(runner.engine_ready, timeout=3000):
        runner.start()
    with qtbot.waitSignals([runner.engine_crashed, runner.run_finished, runner.engine_ready], order="strict",
                           timeout=3000):
        runner.run(RunRequest("while True: pass"))
        assert client.running.wait(3)
        runner.kill()
    assert crashed == ["it was stopped"]
    assert client.starts >= 2
    with qtbot.waitSignal(runner.run_finished, timeout=3000) as blocker:
        runner.run(RunRequest("z = 3"))
    assert blocker.args[1].ok


def test_progress_is_forwarded(qtbot, runner_and_client):
    runner, client = runner_and_client
    client.run_delay = 0.1
    with qtbot.waitSignal(runner.run_progressed, timeout=3000) as blocker:
        runner.run(RunRequest("a = 1"))
    assert blocker.args[1] == {"statements_done": 1, "line": 1}
    qtbot.waitUntil(lambda: not runner.is_busy)


def test_a_client_that_raises_becomes_a_crash_result(qtbot):
    class Broken(FakeClient):
        def run(self, request, on_progress=None, trusted=False):
            raise OSError("pipe closed")

    runner = Runner(lambda: Broken())
    try:
        with qtbot.waitSignal(runner.run_finished, timeout=3000) as blocker:
            runner.run(RunRequest("a = 1"))
        assert blocker.args[1].error.type == "WorkerCrashed"
        assert "pipe closed" in blocker.args[1].error.message
    finally:
        runner.close()


def test_a_client_that_cannot_start_reports_failure(qtbot):
    class NoStart(FakeClient):
        def wait_ready(self, timeout):
            return False

    runner = Runner(lambda: NoStart())
    try:
        with qtbot.waitSignal(runner.engine_failed, timeout=3000) as blocker:
            runner.start()
        assert "did not start" in blocker.args[0]
    finally:
        runner.close()


def test_background_brings_the_answer_back(qtbot):
    bg = Background()
    try:
        with qtbot.waitSignal(bg.finished, timeout=3000) as blocker:
            bg.submit("token", lambda a, b: a + b, 2, 3)
        assert blocker.args == ["token", 5, None]
        with qtbot.waitSignal(bg.finished, timeout=3000) as blocker:
            bg.submit("bad", lambda: 1 / 0)
        assert isinstance(blocker.args[2], ZeroDivisionError)
    finally:
        bg.close()
