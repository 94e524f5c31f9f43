"""The console entry point: a headless command starts the engine first and ends with os._exit; the app exits
normally."""

from __future__ import annotations

import sys

import pytest

import gradviz.cli
import gradviz.engine.process
from gradviz import launch


class FakeWorker:
    def __init__(self):
        self.killed = False
        self.exited = False

    def poll(self):
        return 0 if self.killed or self.exited else None

    def kill(self):
        self.killed = True


class Exited(Exception):
    def __init__(self, code):
        self.code = code


@pytest.fixture
def entry(monkeypatch):
    """Run ``launch.run`` with ``argv``; what main was given, the exit code, how the process ended."""
    started, calls = [], []

    def fake_start(python=None):
        started.append(FakeWorker())
        return started[-1]

    def fake_os_exit(code):
        raise Exited(("os._exit", code))

    monkeypatch.setattr(gradviz.engine.process, "start_worker", fake_start)
    monkeypatch.setattr(launch.os, "_exit", fake_os_exit)

    def go(argv, code=0, uses_worker=False):
        def fake_main(args, exiting=False, worker=None):
            calls.append((args, exiting, worker))
            if uses_worker and worker is not None:
                worker.exited = True
            return code

        monkeypatch.setattr(gradviz.cli, "main", fake_main)
        monkeypatch.setattr(sys, "argv", ["gradviz", *argv])
        try:
            launch.run()
        except Exited as e:
            return calls[-1], e.code, started
        except SystemExit as e:
            return calls[-1], ("sys.exit", e.code), started
        raise AssertionError("launch.run returned instead of exiting")

    return go


def test_render_gets_a_worker_started_ahead_and_ends_with_os_exit(entry):
    (args, exiting, worker), ended, started = entry(["render", "x.py", "-o", "x.png"], code=1, uses_worker=True)
    assert args == ["render", "x.py", "-o", "x.png"] and exiting is True
    assert len(started) == 1 and worker is started[0]
    assert ended == ("os._exit", 1)
    assert not worker.killed  # it had finished


def test_an_unused_early_worker_is_killed(entry):
    (_, _, worker), ended, _ = entry(["inspect", "missing.py"], code=2)
    assert worker.killed and ended == ("os._exit", 2)


@pytest.mark.parametrize("argv", [["render", "--help"], ["inspect", "-h"]])
def test_help_starts_no_worker(entry, argv):
    (_, exiting, worker), _, started = entry(argv)
    assert worker is None and started == [] and exiting is True


def test_the_app_starts_no_early_worker_and_exits_normally(entry):
    (args, exiting, worker), ended, started = entry(["lesson.gradviz"], code=3)
    assert args == ["lesson.gradviz"] and exiting is False and worker is None and started == []
    assert ended == ("sys.exit", 3)
