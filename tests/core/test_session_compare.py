"""The "compare" object of a session (version 4): a second program shown beside the first."""

from __future__ import annotations

import json

import pytest

from gradviz.core.request import Limits
from gradviz.core.session import (
    CompareSide,
    Session,
    SessionError,
    ViewSettings,
    dumps_session,
    load_session,
    parse_session,
    save_session,
)


def v4(**compare) -> bytes:
    doc = {"format": "gradviz-session", "version": 4, "title": "A", "program": "import torch\n",
           "compare": {"title": "B", "program": "import torch\nx = 1\n", **compare}}
    for key, value in list(doc["compare"].items()):
        if value is ...:
            del doc["compare"][key]
    return json.dumps(doc).encode("utf-8")


def test_compare_session_round_trips_as_version_4(tmp_path):
    session = Session(program="a = 1\n", title="With zero_grad", notes="n", seed=3,
                      view=ViewSettings(theme="dark"), limits=Limits(max_seconds=30.0),
                      compare=CompareSide(program="b = 2\n", title="Without zero_grad", seed=7,
                                          title_a="With zero_grad"))
    path = tmp_path / "pair.gradviz"
    save_session(session, path)
    doc = json.loads(path.read_bytes())
    assert doc["version"] == 4
    assert doc["compare"] == {"title": "Without zero_grad", "program": "b = 2\n", "seed": 7,
                              "title_a": "With zero_grad"}
    assert load_session(path) == session


def test_the_second_program_runs_as_a_session_of_its_own():
    session = parse_session(v4())
    other = session.compared()
    assert other is not None and other.program == "import torch\nx = 1\n" and other.title == "B"
    assert other.seed == session.seed == 0 and other.compare is None
    assert parse_session(v4(seed=5)).compared().seed == 5
    assert Session(program="").compared() is None


def test_sessions_without_compare_keep_their_old_version():
    assert json.loads(dumps_session(Session(program="x\n")))["version"] == 2
    assert json.loads(dumps_session(Session(program="x\n", limits=Limits())))["version"] == 3
    seedless = json.loads(dumps_session(Session(program="x\n", compare=CompareSide("y\n"))))
    assert seedless["compare"] == {"title": "", "program": "y\n"}  # no seed: the session's


@pytest.mark.parametrize("data, reason", [
    (v4(program=...), r'missing "program" in "compare"'),
    (v4(colour="red"), r'unknown key "colour" in "compare"'),
    (v4(program=3), r'"compare.program" must be a string, got number'),
    (v4(title="a\nb"), r'"compare.title" contains the control character U\+000A'),
    (v4(seed=-1), r'"compare.seed" must be between 0 and 2\*\*64-1, got -1'),
    (v4(seed="1"), r'"compare.seed" must be an integer, got string'),
    (v4(seed=None), r'"compare.seed" must be an integer, got null'),
    (v4(title_a=["A"]), r'"compare.title_a" must be a string, got list'),
    (json.dumps({"format": "gradviz-session", "version": 4, "program": "", "compare": [1]}).encode(),
     r'"compare" must be an object, got list'),
    (json.dumps({"format": "gradviz-session", "version": 4, "program": "", "compare": None}).encode(),
     r'"compare" must be an object, got null'),
    (json.dumps({"format": "gradviz-session", "version": 3, "program": "",
                 "compare": {"program": ""}}).encode(), r'unknown key "compare" in session \(version 3\)'),
])
def test_bad_compare_objects_are_refused(data, reason):
    with pytest.raises(SessionError, match=reason):
        parse_session(data)
