"""The .gradviz session format: round trips, atomic saves, v1 migration, strict refusals, .py scripts."""

from __future__ import annotations

import json
import os
import stat

import pytest

from gradviz.core import session as session_module
from gradviz.core.session import (
    CURRENT_VERSION,
    MAX_FILE_BYTES,
    Session,
    SessionError,
    ViewSettings,
    dumps_session,
    load_path,
    load_program,
    load_session,
    parse_session,
    save_session,
)

RICH = Session(
    program="import torch\nx = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\n",
    title="Zwei x² — ∂y/∂x",
    notes="Line one.\n\tIndented line two with \"quotes\" and \\ backslash.",
    seed=2**64 - 1,
    view=ViewSettings(
        root_at="bottom",
        theme="dark",
        presentation=True,
        zoom=1.5,
        selected_variable="lin.weight",
        backward_call=2,
        step=7,
    ),
)


def v2(**fields) -> bytes:
    """A valid version-2 document with some fields replaced (a value of ... removes the key)."""
    doc = {"format": "gradviz-session", "version": 2, "title": "t", "notes": "n", "seed": 0,
           "program": "import torch\n", "view": {}}
    for key, value in fields.items():
        if value is ...:
            doc.pop(key)
        else:
            doc[key] = value
    return json.dumps(doc).encode("utf-8")


def view(**fields) -> bytes:
    return v2(view=fields)


def listing(directory) -> list[str]:
    return sorted(os.listdir(directory))


# ------------------------------------------------------------------------------------------ round trip


def test_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "lesson.gradviz"
    save_session(RICH, path)
    assert load_session(path) == RICH
    assert listing(tmp_path) == ["lesson.gradviz"]


def test_default_session_round_trips_with_seed_zero(tmp_path):
    path = tmp_path / "empty.gradviz"
    save_session(Session(), path)
    loaded = load_session(path)
    assert loaded == Session()
    assert loaded.seed == 0
    assert loaded.view == ViewSettings(root_at="top", theme="light", presentation=False, zoom=1.0)


def test_dumps_is_stable_pretty_utf8_with_trailing_newline():
    data = dumps_session(RICH)
    assert data == dumps_session(RICH)
    assert data.endswith(b"}\n") and not data.endswith(b"\n\n")
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    assert "Zwei x² — ∂y/∂x" in text  # written as UTF-8, not \u escapes
    assert text.startswith('{\n  "format": "gradviz-session",\n  "version": 2,\n')
    doc = json.loads(text)
    assert list(doc) == ["format", "version", "title", "notes", "seed", "program", "view"]
    assert list(doc["view"]) == ["root_at", "theme", "presentation", "zoom", "selected_variable",
                                 "backward_call", "step"]
    assert doc["seed"] == 18446744073709551615


def test_parse_session_reads_the_bytes_dumps_writes():
    assert parse_session(dumps_session(RICH)) == RICH


def test_missing_optional_keys_take_defaults():
    loaded = parse_session(b'{"format": "gradviz-session", "version": 2, "program": "print(1)"}')
    assert loaded == Session(program="print(1)")


def test_view_keys_default_one_by_one():
    loaded = parse_session(view(theme="dark"))
    assert loaded.view == ViewSettings(theme="dark")


def test_integer_zoom_is_accepted_as_float():
    loaded = parse_session(view(zoom=2))
    assert loaded.view.zoom == 2.0 and isinstance(loaded.view.zoom, float)


def test_utf8_bom_is_accepted_and_never_written(tmp_path):
    path = tmp_path / "notepad.gradviz"
    path.write_bytes(b"\xef\xbb\xbf" + dumps_session(RICH))
    assert load_session(path) == RICH
    save_session(RICH, path)
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")


# ------------------------------------------------------------------------------------------ saving


def test_save_replaces_existing_file(tmp_path):
    path = tmp_path / "lesson.gradviz"
    save_session(Session(program="old"), path)
    save_session(Session(program="new"), path)
    assert load_session(path).program == "new"
    assert listing(tmp_path) == ["lesson.gradviz"]


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
def test_failed_save_leaves_old_file_intact_and_no_temp_file(tmp_path, monkeypatch, failing):
    path = tmp_path / "lesson.gradviz"
    save_session(Session(program="old", title="Old"), path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":
        monkeypatch.setattr(session_module.os, "fdopen", lambda fd, mode: _FailingWriter(fd))
    else:
        monkeypatch.setattr(session_module.os, failing, boom)
    with pytest.raises(SessionError) as info:
        save_session(Session(program="new", title="New"), path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["lesson.gradviz"]


class _FailingWriter:
    """Stands in for the temp file: writes half the data, then the disk fills up."""

    def __init__(self, fd):
        self._file = open(fd, "wb")  # noqa: SIM115 - closed in __exit__

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()

    def write(self, data):
        self._file.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")


def test_interrupted_save_propagates_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "lesson.gradviz"
    save_session(Session(program="old"), path)
    before = path.read_bytes()

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(session_module.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_session(Session(program="new"), path)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["lesson.gradviz"]


def test_failed_serialisation_writes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "lesson.gradviz"
    save_session(Session(program="old"), path)
    before = path.read_bytes()

    def broken_dumps(*args, **kwargs):
        raise TypeError("Object of type Tensor is not JSON serializable")

    monkeypatch.setattr(session_module.json, "dumps", broken_dumps)
    with pytest.raises(SessionError, match="cannot save"):
        save_session(Session(program="new"), path)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["lesson.gradviz"]


@pytest.mark.parametrize(
    ("session", "reason"),
    [
        (Session(title="two\nlines"), "control character U+000A"),
        (Session(seed=-1), "between 0 and 2**64-1"),
        (Session(seed=True), "must be an integer, got boolean"),
        (Session(view=ViewSettings(zoom=float("nan"))), "NaN is not allowed"),
        (Session(view=ViewSettings(theme="blue")), '"view.theme" must be "light" or "dark"'),
        (Session(program="\ud800"), "lone surrogate"),
        (Session(program="x" * (MAX_FILE_BYTES + 1)), "too large"),
    ],
)
def test_save_refuses_what_load_would_refuse(tmp_path, session, reason):
    path = tmp_path / "bad.gradviz"
    with pytest.raises(SessionError, match="cannot save") as info:
        save_session(session, path)
    assert reason in str(info.value)
    assert listing(tmp_path) == []


def test_save_keeps_the_mode_of_an_existing_file(tmp_path):
    path = tmp_path / "lesson.gradviz"
    save_session(Session(), path)
    os.chmod(path, 0o640)
    save_session(Session(program="again"), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_new_file_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save_session(Session(), tmp_path / "new.gradviz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.gradviz").st_mode) == 0o644


def test_save_through_a_symlink_updates_the_target(tmp_path):
    target = tmp_path / "real.gradviz"
    link = tmp_path / "link.gradviz"
    save_session(Session(program="old"), target)
    link.symlink_to(target)
    save_session(Session(program="new"), link)
    assert link.is_symlink()
    assert load_session(target).program == "new"


def test_save_into_a_missing_directory_is_a_one_line_error(tmp_path):
    with pytest.raises(SessionError, match="no such file or directory") as info:
        save_session(Session(), tmp_path / "nowhere" / "lesson.gradviz")
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------ migration

V1 = json.dumps({
    "format": "gradviz-session",
    "version": 1,
    "title": "Old lesson",
    "notes": "From the first release.",
    "program": "import torch\nx = torch.ones(2, requires_grad=True)\n",
}, indent=2).encode("utf-8")


def test_version_1_migrates_with_seed_zero_and_default_view(tmp_path):
    path = tmp_path / "old.gradviz"
    path.write_bytes(V1)
    loaded = load_session(path)
    assert loaded == Session(
        program="import torch\nx = torch.ones(2, requires_grad=True)\n",
        title="Old lesson",
        notes="From the first release.",
        seed=0,
        view=ViewSettings(),
    )
    assert path.read_bytes() == V1  # loading never rewrites the file


def test_version_1_saved_again_becomes_version_2(tmp_path):
    """Version 2 is what a session without limits is written as (a gradviz that knows version 2
    opens it); version 3 adds "limits"."""
    path = tmp_path / "old.gradviz"
    path.write_bytes(V1)
    save_session(load_session(path), path)
    assert json.loads(path.read_bytes())["version"] == 2 and CURRENT_VERSION == 4


def test_limits_are_kept_and_checked(tmp_path):
    from gradviz.core.request import Limits

    path = tmp_path / "big.gradviz"
    session = Session(program="import torch\n", limits=Limits(max_seconds=120.0, max_memory_mb=8192))
    save_session(session, path)
    doc = json.loads(path.read_bytes())
    # max_elements/max_steps at their defaults: version 3, which the gradviz before them opens
    assert doc["version"] == 3 and doc["limits"] == {"max_seconds": 120.0, "max_memory_mb": 8192,
                                                      "max_output_chars": 1_000_000, "max_result_mb": 32}
    assert load_session(path) == session
    doc["limits"] = {"max_seconds": 90}
    path.write_text(json.dumps(doc))
    assert load_session(path).limits == Limits(max_seconds=90)
    doc["limits"] = {"max_steps": 5000}
    path.write_text(json.dumps(doc))
    with pytest.raises(SessionError, match='unknown key "max_steps" in "limits"'):
        load_session(path)  # version 3 did not have it
    save_session(Session(program="import torch\n", limits=Limits(max_steps=5000, max_elements=1000)), path)
    four = json.loads(path.read_bytes())
    assert four["version"] == 4 and four["limits"]["max_steps"] == 5000 and four["limits"]["max_elements"] == 1000
    assert load_session(path).limits == Limits(max_steps=5000, max_elements=1000)
    doc["version"] = 4
    for limits, message in [
        ({"max_depth": 5}, 'unknown key "max_depth" in "limits"'),
        ({"max_steps": 0}, '"limits": max_steps must be between 1 and 2,000,000,000, got 0'),
        ({"max_elements": 2.5}, '"limits": max_elements must be an integer, got 2.5'),
        ({"max_memory_mb": 1.5}, '"limits": max_memory_mb must be an integer, got 1.5'),
        ({"max_memory_mb": 10}, '"limits": max_memory_mb must be between 64 and 1,048,576, got 10'),
        ({"max_seconds": True}, '"limits": max_seconds must be a number, got True'),
        ({"max_result_mb": 100_000}, '"limits": max_result_mb must be between 1 and 256, got 100000'),
        ([1], '"limits" must be an object, got list'),
    ]:
        doc["limits"] = limits
        path.write_text(json.dumps(doc))
        with pytest.raises(SessionError) as info:
            load_session(path)
        assert str(info.value) == message
    doc["version"] = 2
    doc["limits"] = {"max_seconds": 90}
    path.write_text(json.dumps(doc))
    with pytest.raises(SessionError, match=r'unknown key "limits" in session \(version 2\)'):
        load_session(path)


def test_version_1_refuses_keys_it_never_had():
    doc = json.loads(V1)
    doc["seed"] = 3
    with pytest.raises(SessionError, match=r'unknown key "seed" in session \(version 1\)'):
        parse_session(json.dumps(doc).encode())


# ------------------------------------------------------------------------------------------ refusals

DEEP = b'{"format": "gradviz-session", "version": 2, "program": "", "view": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

MALFORMED = {
    "missing format": (b'{"version": 2, "program": ""}', 'not a gradviz session: missing "format"'),
    "other format": (v2(format="jupyter"), 'not a gradviz session: "format" is "jupyter"'),
    "newer version": (v2(version=7), "session version 7 is newer than this gradviz (4); update gradviz"),
    "version zero": (v2(version=0), "unknown session version 0"),
    "version as string": (v2(version="2"), '"version" must be an integer, got string'),
    "version as bool": (v2(version=True), '"version" must be an integer, got boolean'),
    "version as float": (v2(version=2.0), '"version" must be an integer, got 2.0'),
    "missing version": (v2(version=...), 'missing "version"'),
    "missing program": (v2(program=...), 'missing "program" in session (version 2)'),
    "program not a string": (v2(program=["import torch"]), '"program" must be a string, got list'),
    "program null": (v2(program=None), '"program" must be a string, got null'),
    "seed as string": (v2(seed="0"), '"seed" must be an integer, got string'),
    "seed as bool": (v2(seed=False), '"seed" must be an integer, got boolean'),
    "seed as float": (v2(seed=1.5), '"seed" must be an integer, got 1.5'),
    "negative seed": (v2(seed=-1), '"seed" must be between 0 and 2**64-1, got -1'),
    "seed too big": (v2(seed=2**64), '"seed" must be between 0 and 2**64-1, got 18446744073709551616'),
    "unknown top-level key": (v2(colour="red"), 'unknown key "colour" in session (version 2)'),
    "unknown view key": (view(fullscreen=True), 'unknown key "fullscreen" in "view"'),
    "view not an object": (v2(view="dark"), '"view" must be an object, got string'),
    "unknown theme": (view(theme="blue"), '"view.theme" must be "light" or "dark", got "blue"'),
    "root_at sideways": (view(root_at="left"), '"view.root_at" must be "top" or "bottom", got "left"'),
    "presentation as int": (view(presentation=1), '"view.presentation" must be true or false, got number'),
    "zoom as string": (view(zoom="2x"), '"view.zoom" must be a number, got string'),
    "zoom zero": (view(zoom=0), '"view.zoom" must be between 0.01 and 100.0, got 0'),
    "zoom overflows to inf": (v2().replace(b'"view": {}', b'"view": {"zoom": 1e400}'),
                              '"view.zoom" must be between 0.01 and 100.0, got Infinity'),
    "negative backward call": (view(backward_call=-1), '"view.backward_call" must be between 0 and'),
    "step as bool": (view(step=True), '"view.step" must be an integer, got boolean'),
    "duplicate key": (b'{"format": "gradviz-session", "version": 2, "program": "a", "program": "b"}',
                      'duplicate key "program"'),
    "duplicate key in view": (v2().replace(b'"view": {}', b'"view": {"zoom": 1, "zoom": 2}'),
                              'duplicate key "zoom"'),
    "NaN": (v2().replace(b'"view": {}', b'"view": {"zoom": NaN}'), "NaN is not allowed in a session file"),
    "Infinity": (v2().replace(b'"seed": 0', b'"seed": Infinity'), "Infinity is not allowed"),
    "-Infinity": (v2().replace(b'"seed": 0', b'"seed": -Infinity'), "-Infinity is not allowed"),
    "truncated in a string": (v2()[:-20], "not valid JSON (the file looks truncated): Unterminated string"),
    "truncated after a value": (v2()[:-1], "not valid JSON (the file looks truncated): Expecting ',' delimiter"),
    "empty file": (b"", "not valid JSON (the file looks truncated): Expecting value (line 1, column 1)"),
    "trailing garbage": (v2() + b" {}", "not valid JSON: Extra data"),
    "not UTF-8": (v2().replace(b'"t"', b'"caf\xe9"'), "not UTF-8 text: invalid byte 0xe9 at offset"),
    "UTF-16": (v2().decode().encode("utf-16"), "not UTF-8 text: invalid byte 0xff at offset 0"),
    "top-level list": (b'[{"format": "gradviz-session"}]', "not a gradviz session: the top level is a list"),
    "top-level string": (b'"gradviz-session"', "not a gradviz session: the top level is a string"),
    "top-level null": (b"null", "not a gradviz session: the top level is null, not an object"),
    "nested 100,000 deep": (DEEP, "not a gradviz session: the JSON is nested too deeply"),
    "huge integer": (v2().replace(b'"seed": 0', b'"seed": ' + b"9" * 5000),
                     "not valid JSON: Exceeds the limit (4300 digits) for integer string conversion: "
                     "value has 5000 digits"),
    "bell in title": (v2(title="ding\x07"), '"title" contains the control character U+0007'),
    "newline in title": (v2(title="two\nlines"), '"title" contains the control character U+000A'),
    "bidi override in title": (v2(title="abc\u202edcba"), '"title" contains the control character U+202E'),
    "escape in notes": (v2(notes="\x1b[31mred"), '"notes" contains the control character U+001B'),
    "title too long": (v2(title="t" * 201), '"title" is too long (201 characters; the limit is 200)'),
    "lone surrogate": (v2().replace(b'"n"', b'"\\ud800"'), '"notes" contains an invalid \\u escape'),
    "oversized": (v2(program="#" * MAX_FILE_BYTES), "bytes; the limit is 2,097,152 bytes)"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_is_refused_with_one_line_and_left_unchanged(tmp_path, name):
    data, reason = MALFORMED[name]
    path = tmp_path / "bad.gradviz"
    path.write_bytes(data)
    before = os.stat(path)
    with pytest.raises(SessionError) as info:
        load_session(path)
    message = str(info.value)
    assert reason in message
    assert "\n" not in message and len(message) < 200
    assert path.read_bytes() == data
    after = os.stat(path)
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    assert listing(tmp_path) == ["bad.gradviz"]


def test_session_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_session(b"[]")


def test_oversized_file_is_refused_from_its_size_without_reading_it(tmp_path):
    path = tmp_path / "big.gradviz"
    with open(path, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: costs no disk
    # The size in the message is the file's, not the 2 MB + 1 a bounded read would have seen.
    with pytest.raises(SessionError, match=r"too large \(52,428,800 bytes; the limit is 2,097,152 bytes\)"):
        load_session(path)


def test_file_that_grows_after_the_size_check_is_refused_by_the_bounded_read(tmp_path, monkeypatch):
    path = tmp_path / "growing.gradviz"
    path.write_bytes(v2() + b" " * (MAX_FILE_BYTES + 10))
    real_fstat = os.fstat

    def small_fstat(fd):
        result = real_fstat(fd)
        return os.stat_result((*result[:6], 10, *result[7:]))  # st_size says 10 bytes

    monkeypatch.setattr(session_module.os, "fstat", small_fstat)
    with pytest.raises(SessionError, match=r"too large \(2,097,\d{3} bytes"):
        load_session(path)


def test_missing_file(tmp_path):
    with pytest.raises(SessionError, match=r"nope\.gradviz: no such file$"):
        load_session(tmp_path / "nope.gradviz")


def test_directory_instead_of_a_file(tmp_path):
    folder = tmp_path / "lesson.gradviz"
    folder.mkdir()
    with pytest.raises(SessionError, match="is a directory, not a file"):
        load_session(folder)
    with pytest.raises(SessionError, match="is a directory, not a file"):
        load_program(folder)


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.gradviz"
    os.mkfifo(fifo)
    with pytest.raises(SessionError, match="is not a regular file"):
        load_session(fifo)


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.gradviz"
    path.write_bytes(v2())
    os.chmod(path, 0)
    if os.geteuid() == 0:  # root reads anything: make open() fail the way it does for a user

        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(session_module.os, "open", denied)
    with pytest.raises(SessionError, match=r"cannot read .*locked\.gradviz: permission denied$"):
        load_session(path)


# ------------------------------------------------------------------------------------------ .py scripts


def test_python_script_becomes_a_session(tmp_path):
    path = tmp_path / "my_first_graph.py"
    path.write_text("import torch\nx = torch.ones(3, requires_grad=True)\nprint(x)\n", encoding="utf-8")
    assert load_program(path) == Session(
        program="import torch\nx = torch.ones(3, requires_grad=True)\nprint(x)\n",
        title="my_first_graph",
        seed=0,
    )


def test_python_script_newlines_and_bom_are_read_as_python_reads_them(tmp_path):
    path = tmp_path / "windows.py"
    path.write_bytes(b"\xef\xbb\xbfimport torch\r\nprint('\xc3\xa9')\r\n")
    assert load_program(path).program == "import torch\nprint('é')\n"


def test_python_script_title_is_cleaned_of_control_characters(tmp_path):
    path = tmp_path / "odd\nname.py"
    path.write_text("print(1)\n", encoding="utf-8")
    session = load_program(path)
    assert session.title == "odd name"
    save_session(session, tmp_path / "odd.gradviz")  # the title is one a session may hold
    assert load_session(tmp_path / "odd.gradviz").title == "odd name"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"print('caf\xe9')\n", "not UTF-8 text: invalid byte 0xe9 at offset 10"),
        (b"\xef\xbb\xbfprint('caf\xe9')\n", "not UTF-8 text: invalid byte 0xe9 at offset 13"),
        (b"print(1)\x00\n", "contains NUL bytes"),
        (b"#" * (MAX_FILE_BYTES + 1), "too large"),
    ],
)
def test_bad_python_script_is_refused(tmp_path, data, reason):
    path = tmp_path / "bad.py"
    path.write_bytes(data)
    with pytest.raises(SessionError) as info:
        load_program(path)
    assert reason in str(info.value)
    assert path.read_bytes() == data


def test_load_path_picks_the_reader_by_suffix(tmp_path):
    script = tmp_path / "demo.PY"
    script.write_text("print(2)\n", encoding="utf-8")
    lesson = tmp_path / "demo.gradviz"
    save_session(RICH, lesson)
    assert load_path(script).program == "print(2)\n"
    assert load_path(lesson) == RICH
    other = tmp_path / "demo.txt"
    other.write_text("print(2)\n", encoding="utf-8")
    with pytest.raises(SessionError, match="not valid JSON"):
        load_path(other)


def test_a_refused_file_is_explained_in_the_language_of_the_window():
    from gradviz.core import i18n

    data = json.dumps({"format": "gradviz-session", "version": 2, "program": "", "colour": 1}).encode()
    with pytest.raises(SessionError, match=r'^unknown key "colour" in session \(version 2\)$'):
        parse_session(data)
    i18n.set_language("zh_CN")  # undone after the test (tests/conftest.py)
    with pytest.raises(SessionError, match=r'^课程文件（版本 2）里有未知的键 "colour"$'):
        parse_session(data)
    with pytest.raises(SessionError, match=r"^不是有效的 JSON（文件看起来被截断了）："):
        parse_session(b'{"format": "gradviz-session"')
