"""The `.gradviz` session file: a JSON lesson (program, title, notes, seed, view), loaded strictly, saved atomically.

A session file is UTF-8 JSON, one object::

    {
      "format": "gradviz-session",
      "version": 2,
      "title": "Two x squared",
      "notes": "What to look at ...",
      "seed": 0,
      "program": "import torch\\n...",
      "view": {"root_at": "top", "theme": "light", ...},
      "limits": {"max_seconds": 120, "max_memory_mb": 8192},
      "compare": {"title": "Without zero_grad", "program": "import torch\\n...", "seed": 0}
    }

Decisions (the file is untrusted: lessons are written by others):

- Only ``format``, ``version`` and ``program`` are required; ``title``, ``notes``, ``seed``,
  ``view`` (and every key inside ``view``) and ``limits`` default when missing.
- ``limits`` (version 3) sets the run's limits (``gradviz.core.request.LIMIT_RANGES``: known
  names, numbers in range); saving writes version 3 only for a session that has limits, so a
  lesson without them still opens in a gradviz that knows version 2.
- ``compare`` (version 4) is a second program shown beside the first in compare mode: an object
  with ``program`` (required), ``title``, ``seed`` (default: the session's) and ``title_a`` (the
  first program's side, default: the session's title), checked like the
  top-level keys of the same names; unknown keys inside it are refused. Saving writes version 4
  only for a session that has one, so every other lesson still opens in a gradviz that knows 3.
- Unknown keys are refused, at the top level and inside ``view``: a newer gradviz adds keys with
  a new version number, so an unknown key under a known version is a mistake, not the future.
- Version 1 (the first lesson format: format, version, title, notes, program) migrates on load to
  seed 0 and the default view. Versions newer than ``CURRENT_VERSION`` are refused.
- A UTF-8 byte order mark at the very start is accepted and ignored (Windows Notepad writes one;
  RFC 8259 allows ignoring it). Saving never writes one.
- Seeds are integers in ``0 .. 2**64 - 1``, the range ``torch.manual_seed`` maps one-to-one;
  negative seeds are refused because torch silently folds them onto large positive ones.
- Files over ``MAX_FILE_BYTES`` are refused before they are read whole. Duplicate keys, NaN and
  Infinity, lone surrogates, deep nesting, non-UTF-8 bytes and control characters in one-line
  fields are refused. Loading opens the file read-only and never writes it. JSON only.

Every refusal is a `SessionError` whose text is one line naming the problem.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradviz.core import i18n
from gradviz.core.i18n import t
from gradviz.core.request import LIMIT_RANGES, Limits, RunRequest, limits_with

FORMAT = "gradviz-session"
CURRENT_VERSION = 4
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_SEED = 2**64 - 1
MAX_TITLE_CHARS = 200
MAX_NOTES_CHARS = 20_000
MAX_NAME_CHARS = 200
#: Backward call and step indices end up in Qt sliders, which hold 32-bit ints.
MAX_INDEX = 2**31 - 1
ZOOM_RANGE = (0.01, 100.0)
ROOT_AT = ("top", "bottom")
THEMES = ("light", "dark")
SUFFIX = ".gradviz"

_BOM = b"\xef\xbb\xbf"
#: Bidirectional controls can make a title display as something other than what it says.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class SessionError(ValueError):
    """A session or script file that gradviz refuses; ``str(error)`` is one line naming the problem."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


@dataclass(frozen=True)
class ViewSettings:
    """How a lesson is shown: what a teacher wants the class to see when the file opens.

    Parameters
    ----------
    root_at
        Where the graph's root (the loss) sits: ``"top"`` or ``"bottom"``.
    theme
        ``"light"`` or ``"dark"``.
    presentation
        Large fonts for projectors.
    zoom
        Canvas zoom factor (1.0 = 100 %), within ``ZOOM_RANGE``.
    selected_variable
        The variable whose graph is shown; ``None`` shows the last backward call's graph.
    backward_call
        Index of the backward call to replay (0 = the first); ``None`` = the last one.
    step
        Animation step within that call (0 = before the first step); ``None`` = the end.
    """

    root_at: str = "top"
    theme: str = "light"
    presentation: bool = False
    zoom: float = 1.0
    selected_variable: str | None = None
    backward_call: int | None = None
    step: int | None = None


@dataclass(frozen=True)
class CompareSide:
    """The second program of a compare session (shown on the right, "B").

    ``seed`` None means the session's own seed; ``title_a`` names the first program's side when
    the session's title is the lesson's ("With and without zero_grad"), "" for the session's title.
    """

    program: str
    title: str = ""
    seed: int | None = None
    title_a: str = ""


@dataclass(frozen=True)
class Session:
    """One lesson: the program and everything needed to show it the way its author did.

    Parameters
    ----------
    program
        The PyTorch program text, run for real by the engine.
    title
        One line shown in the window title and the Examples menu.
    notes
        Teaching notes in plain words (may span lines).
    seed
        Passed to ``torch.manual_seed`` before the first statement.
    view
        Display settings.
    limits
        The run's limits when the lesson needs other than the defaults (None: the defaults).
    compare
        A second program to show beside this one in compare mode (None: a single program).
    """

    program: str = ""
    title: str = ""
    notes: str = ""
    seed: int = 0
    view: ViewSettings = field(default_factory=ViewSettings)
    limits: Limits | None = None
    compare: CompareSide | None = None

    def compared(self) -> Session | None:
        """The second program as a session of its own (same view and limits), or None."""
        side = self.compare
        if side is None:
            return None
        return Session(program=side.program, title=side.title, notes=self.notes,
                       seed=self.seed if side.seed is None else side.seed, view=self.view, limits=self.limits)

    def request(self, **options: Any) -> RunRequest:
        """The RunRequest that runs this session's program: its seed, its limits (or the defaults);
        ``options`` are RunRequest's others (``only_call``, ``detail_calls``...). The language is
        the current one (``gradviz.core.i18n.language()``), never the file's: a session is the
        same lesson in every language."""
        options.setdefault("language", i18n.language())
        return RunRequest(self.program, seed=self.seed, limits=self.limits or Limits(), **options)


# ---------------------------------------------------------------------------------------------
# Loading


def load_session(path: str | os.PathLike) -> Session:
    """Read a ``.gradviz`` file strictly; raise `SessionError` with a one-line reason if refused."""
    return parse_session(_read_bounded(Path(path)))


def load_program(path: str | os.PathLike) -> Session:
    """Read a plain ``.py`` script as a session: the text is the program, the title the file stem."""
    path = Path(path)
    text = _decode_utf8(_read_bounded(path))  # Python itself accepts a BOM in a source file
    if "\x00" in text:
        raise SessionError(t("the script contains NUL bytes; it is not a text file"))
    # Universal newlines, as Python reads a source file.
    program = text.replace("\r\n", "\n").replace("\r", "\n")
    return Session(program=program, title=_safe_title(path.stem))


def load_path(path: str | os.PathLike) -> Session:
    """Open either kind of file: ``.py`` scripts with `load_program`, anything else with `load_session`."""
    if Path(path).suffix.lower() == ".py":
        return load_program(path)
    return load_session(path)


def parse_session(data: bytes) -> Session:
    """Build a Session from the bytes of a ``.gradviz`` file; raise `SessionError` if refused."""
    if len(data) > MAX_FILE_BYTES:
        raise SessionError(_too_large(len(data)))
    text = _decode_utf8(data)
    try:
        document = json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
    except SessionError:
        raise
    except RecursionError:
        raise SessionError(t("not a gradviz session: the JSON is nested too deeply")) from None
    except json.JSONDecodeError as exc:
        ended = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = t(" (the file looks truncated)") if ended else ""
        raise SessionError(t("not valid JSON{hint}: {msg} (line {lineno}, column {colno})",
                             hint=hint, msg=exc.msg, lineno=exc.lineno, colno=exc.colno)) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise SessionError(t("not valid JSON: {reason}", reason=str(exc).split(';')[0])) from None
    return _session_from_document(document)


def _read_bounded(path: Path) -> bytes:
    """The file's bytes, refusing non-files and anything over the cap before reading it all.

    The checks use fstat on the opened descriptor, so the file cannot be swapped between check
    and read; O_NONBLOCK keeps the open of a FIFO from waiting for a writer.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise SessionError(t("{path}: no such file", path=path)) from None
    except IsADirectoryError:
        raise SessionError(t("{path} is a directory, not a file", path=path)) from None
    except OSError as exc:
        raise SessionError(t("cannot read {path}: {reason}", path=path, reason=_os_reason(exc))) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SessionError(t("{path} is a directory, not a file", path=path))
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block, /dev/zero never ends
            raise SessionError(t("{path} is not a regular file", path=path))
        if info.st_size > MAX_FILE_BYTES:
            raise SessionError(_too_large(info.st_size))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # the file may have grown since fstat
    except OSError as exc:
        raise SessionError(t("cannot read {path}: {reason}", path=path, reason=_os_reason(exc))) from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise SessionError(_too_large(len(data)))
    return data


def _too_large(size: int) -> str:
    return t("the file is too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes)",
             size=size, MAX_FILE_BYTES=MAX_FILE_BYTES)


def _os_reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _decode_utf8(data: bytes) -> str:
    """The text of UTF-8 bytes, without a leading byte order mark."""
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start  # counted in the file, BOM included
        raise SessionError(t("not UTF-8 text: invalid byte 0x{byte:02x} at offset {offset}",
                             byte=data[offset], offset=offset)) from None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise SessionError(t("duplicate key {key}", key=_quote(key)))
        result[key] = value
    return result


def _refuse_constant(token: str) -> Any:
    raise SessionError(t("{token} is not allowed in a session file (JSON has no {token})", token=token))


# ---------------------------------------------------------------------------------------------
# Validation and migration

_V1_KEYS = ("format", "version", "title", "notes", "program")
_V2_KEYS = ("format", "version", "title", "notes", "seed", "program", "view")
_V3_KEYS = (*_V2_KEYS, "limits")
_V4_KEYS = (*_V3_KEYS, "compare")
_COMPARE_KEYS = ("title", "program", "seed", "title_a")
#: The limits version 3 knew; version 4 added max_elements and max_steps. A file keeps version 3
#: while those two are at their defaults, so the gradviz before them still opens it.
_V3_LIMITS = ("max_seconds", "max_memory_mb", "max_output_chars", "max_result_mb")
_REQUIRED = ("format", "version", "program")


def _session_from_document(document: Any) -> Session:
    if not isinstance(document, dict):
        top = _json_type(document, article=True)
        raise SessionError(t("not a gradviz session: the top level is {top}, not an object", top=top))
    if "format" not in document:
        raise SessionError(t('not a gradviz session: missing "format"'))
    if document["format"] != FORMAT:
        raise SessionError(t('not a gradviz session: "format" is {value}, expected "{FORMAT}"',
                             value=_show(document["format"]), FORMAT=FORMAT))
    if "version" not in document:
        raise SessionError(t('missing "version"'))
    version = _check_int("version", document["version"])
    if version > CURRENT_VERSION:
        raise SessionError(
            t("session version {version} is newer than this gradviz ({CURRENT_VERSION}); update gradviz",
              version=version, CURRENT_VERSION=CURRENT_VERSION)
        )
    if version < 1:
        raise SessionError(t("unknown session version {version}", version=version))
    allowed = {1: _V1_KEYS, 2: _V2_KEYS, 3: _V3_KEYS}.get(version, _V4_KEYS)
    _check_keys(document, allowed, _REQUIRED, where=t("session (version {version})", version=version))
    if version == 1:
        document = _migrate_v1(document)
    return Session(
        program=_check_text("program", document["program"]),
        title=_check_line("title", document.get("title", ""), MAX_TITLE_CHARS),
        notes=_check_notes(document.get("notes", "")),
        seed=_check_seed(document.get("seed", 0)),
        view=_view_from_plain(document.get("view", {})),
        limits=_limits_from_plain(document.get("limits"), _V3_LIMITS if version == 3 else tuple(LIMIT_RANGES)),
        compare=_compare_from_plain(document.get("compare", _ABSENT)),
    )


_ABSENT = object()


def _compare_from_plain(compare: Any) -> CompareSide | None:
    if compare is _ABSENT:
        return None
    if not isinstance(compare, dict):  # null too: a file without a second program leaves the key out
        raise SessionError(t('"compare" must be an object, got {got}', got=_json_type(compare)))
    _check_keys(compare, _COMPARE_KEYS, ("program",), where='"compare"')
    return CompareSide(
        program=_check_text("compare.program", compare["program"]),
        title=_check_line("compare.title", compare.get("title", ""), MAX_TITLE_CHARS),
        seed=_check_seed(compare["seed"], "compare.seed") if "seed" in compare else None,
        title_a=_check_line("compare.title_a", compare.get("title_a", ""), MAX_TITLE_CHARS),
    )


def _limits_from_plain(limits: Any, known: tuple[str, ...]) -> Limits | None:
    if limits is None:
        return None
    if not isinstance(limits, dict):
        raise SessionError(t('"limits" must be an object, got {got}', got=_json_type(limits)))
    _check_keys(limits, known, (), where='"limits"')
    try:
        return limits_with(Limits(), limits)
    except ValueError as exc:
        raise SessionError(t('"limits": {exc}', exc=exc)) from None


def _migrate_v1(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no seed and no view: the run used seed 0 and the default view."""
    return {**document, "version": 2, "seed": 0, "view": {}}


def _check_keys(obj: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise SessionError(t("unknown key {key} in {where}", key=_quote(key), where=where))
    for key in required:
        if key not in obj:
            raise SessionError(t("missing {key} in {where}", key=_quote(key), where=where))


_VIEW_KEYS = tuple(ViewSettings.__dataclass_fields__)


def _view_from_plain(view: Any) -> ViewSettings:
    if not isinstance(view, dict):
        raise SessionError(t('"view" must be an object, got {got}', got=_json_type(view)))
    _check_keys(view, _VIEW_KEYS, (), where='"view"')
    default = ViewSettings()
    get = view.get
    return ViewSettings(
        root_at=_check_choice("view.root_at", get("root_at", default.root_at), ROOT_AT),
        theme=_check_choice("view.theme", get("theme", default.theme), THEMES),
        presentation=_check_bool("view.presentation", get("presentation", default.presentation)),
        zoom=_check_zoom(get("zoom", default.zoom)),
        selected_variable=_optional(_check_name, "view.selected_variable", get("selected_variable")),
        backward_call=_optional(_check_index, "view.backward_call", get("backward_call")),
        step=_optional(_check_index, "view.step", get("step")),
    )


def _optional(check, key: str, value: Any) -> Any:
    return None if value is None else check(key, value)


def _check_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):  # bool is an int subclass in Python
        got = _show(value) if isinstance(value, float) else _json_type(value)
        raise SessionError(t("{key} must be an integer, got {got}", key=_quote(key), got=got))
    return value


def _check_bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SessionError(t("{key} must be true or false, got {got}", key=_quote(key), got=_json_type(value)))
    return value


def _check_seed(value: Any, key: str = "seed") -> int:
    seed = _check_int(key, value)
    if not 0 <= seed <= MAX_SEED:
        raise SessionError(t("{key} must be between 0 and 2**64-1, got {value}", key=_quote(key), value=_show(seed)))
    return seed


def _check_index(key: str, value: Any) -> int:
    index = _check_int(key, value)
    if not 0 <= index <= MAX_INDEX:
        raise SessionError(t("{key} must be between 0 and {MAX_INDEX}, got {value}",
                             key=_quote(key), MAX_INDEX=MAX_INDEX, value=_show(index)))
    return index


def _check_zoom(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SessionError(t('"view.zoom" must be a number, got {got}', got=_json_type(value)))
    low, high = ZOOM_RANGE
    # 1e400 parses to inf without any NaN token: the range check catches it.
    if not (math.isfinite(value) and low <= value <= high):
        raise SessionError(t('"view.zoom" must be between {low} and {high}, got {value}',
                             low=low, high=high, value=_show(value)))
    return float(value)


def _check_choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices or not isinstance(value, str):
        options = " or ".join(f'"{c}"' for c in choices)
        raise SessionError(t("{key} must be {options}, got {value}",
                             key=_quote(key), options=options, value=_show(value)))
    return value


def _check_text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SessionError(t("{key} must be a string, got {got}", key=_quote(key), got=_json_type(value)))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # "\ud800" escapes decode to lone surrogates nobody can save
        raise SessionError(t("{key} contains an invalid \\u escape (a lone surrogate)", key=_quote(key))) from None
    return value


def _check_line(key: str, value: Any, limit: int) -> str:
    text = _check_text(key, value)
    if len(text) > limit:
        raise SessionError(t("{key} is too long ({length} characters; the limit is {limit})",
                             key=_quote(key), length=len(text), limit=limit))
    for ch in text:
        if _is_control(ch) or ch in "\n\r\t":
            raise SessionError(t("{key} contains the control character U+{code:04X}", key=_quote(key), code=ord(ch)))
    return text


def _check_name(key: str, value: Any) -> str:
    return _check_line(key, value, MAX_NAME_CHARS)


def _check_notes(value: Any) -> str:
    text = _check_text("notes", value)
    if len(text) > MAX_NOTES_CHARS:
        raise SessionError(t('"notes" is too long ({length} characters; the limit is {MAX_NOTES_CHARS})',
                             length=len(text), MAX_NOTES_CHARS=MAX_NOTES_CHARS))
    for ch in text:
        if ch not in "\n\t" and _is_control(ch):
            raise SessionError(t('"notes" contains the control character U+{code:04X}', code=ord(ch)))
    return text


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS


def _safe_title(text: str) -> str:
    """A file stem made fit for a title: control characters become spaces, long names are cut."""
    cleaned = "".join(" " if _is_control(ch) else ch for ch in text)
    cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from odd file names
    return " ".join(cleaned.split())[:MAX_TITLE_CHARS]


def _json_type(value: Any, article: bool = False) -> str:
    if value is None:
        name = "null"
    elif isinstance(value, bool):
        name = "boolean"
    elif isinstance(value, (int, float)):
        name = "number"
    elif isinstance(value, str):
        name = "string"
    elif isinstance(value, list):
        name = "list"
    elif isinstance(value, dict):
        name = "object"
    else:
        name = type(value).__name__
    if article and name != "null":
        return ("an " if name[0] in "aeiou" else "a ") + name
    return name


def _show(value: Any) -> str:
    """A short one-line rendering of a value for an error message."""
    if isinstance(value, (dict, list)):
        return _json_type(value, article=True)
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _quote(key: str) -> str:
    return _show(str(key))


# ---------------------------------------------------------------------------------------------
# Saving


def _version_of(session: Session) -> int:
    """The oldest version that holds the session: readers before it open what it writes."""
    defaults = Limits()
    new_limits = session.limits is not None and any(
        getattr(session.limits, name) != getattr(defaults, name) for name in LIMIT_RANGES if name not in _V3_LIMITS)
    if session.compare is not None or new_limits:
        return 4
    return 3 if session.limits is not None else 2


def session_to_plain(session: Session) -> dict[str, Any]:
    """The JSON object of a session, keys in the file's fixed order."""
    view = session.view
    plain = {
        "format": FORMAT,
        "version": _version_of(session),
        "title": session.title,
        "notes": session.notes,
        "seed": session.seed,
        "program": session.program,
        "view": {name: getattr(view, name) for name in _VIEW_KEYS},
    }
    if session.limits is not None:
        names = _V3_LIMITS if plain["version"] == 3 else tuple(LIMIT_RANGES)
        plain["limits"] = {name: getattr(session.limits, name) for name in names}
    if session.compare is not None:
        side = session.compare
        compare: dict[str, Any] = {"title": side.title, "program": side.program}
        if side.seed is not None:
            compare["seed"] = side.seed
        if side.title_a:
            compare["title_a"] = side.title_a
        plain["compare"] = compare
    return plain


def dumps_session(session: Session) -> bytes:
    """The file bytes: pretty UTF-8 JSON, fixed key order, trailing newline.

    Raises `SessionError` if the session could not be loaded back (a bad seed, a control
    character in the title, a program over the size cap...): gradviz never writes a file it
    would refuse to open.
    """
    try:
        # NaN is written as a token here so that the check below refuses it with a clear reason.
        text = json.dumps(session_to_plain(session), indent=2, ensure_ascii=False, allow_nan=True)
        data = (text + "\n").encode("utf-8")
    except TypeError as exc:  # a field holding something JSON cannot represent
        raise SessionError(t("cannot save: {exc}", exc=exc)) from None
    except UnicodeEncodeError:
        raise SessionError(t("cannot save: the session contains a lone surrogate character")) from None
    try:
        parse_session(data)
    except SessionError as exc:
        raise SessionError(t("cannot save: {exc}", exc=exc)) from None
    return data


def save_session(session: Session, path: str | os.PathLike) -> None:
    """Write ``session`` to ``path`` atomically: a temp file beside it, fsync, then os.replace.

    A reader sees either the old file or the new one, never a partial file; on any failure the
    temp file is removed and the old file is untouched. Saving through a symbolic link updates
    the file it points to. An OSError becomes a `SessionError`.
    """
    data = dumps_session(session)
    target = Path(os.path.realpath(path))
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o666  # the umask applies, as for any new file
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise
    except OSError as exc:
        raise SessionError(t("cannot save {path}: {reason}", path=path, reason=_os_reason(exc))) from None
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; best effort, since not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
