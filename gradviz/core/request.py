"""RunRequest and Limits: what the app or the CLI asks the engine to run, as plain data."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field, replace
from typing import Any

from gradviz.core.i18n import LANGUAGES, t
from gradviz.core.plain import from_plain, to_plain


@dataclass(frozen=True)
class Limits:
    """Bounds on one run, enforced from outside the program; each exceeded limit is an error that names it.

    Defaults are generous for teaching programs: a loop that builds a 5,000-node graph runs
    well inside them.

    Parameters
    ----------
    max_seconds
        Wall-clock time of the whole run; the engine process is stopped at it even inside one
        long native call.
    max_memory_mb
        Memory the run may add on top of the engine's own (torch loaded).
    max_output_chars
        Characters the program may print (stdout and stderr together).
    max_result_mb
        Size of the result the engine sends back; past it, values are summarised. 32 MB of JSON
        are ~300 MB of objects in the app, which stays under 1 GB with a result on screen.
    max_elements
        Elements in any one tensor the program makes (checked before a factory such as
        ``torch.zeros`` allocates, else as the tensor comes back): a clear "this tensor is too
        big" before the memory limit is reached. Views (``expand``) allocate nothing and are not counted.
    max_steps
        Torch operations the program may call (each call of a torch function or tensor method
        from the program's code): a loop that would run for hours stops with a count instead
        of a timeout. At the default the time limit comes first for any ordinary program.
        Both are counted in the program's main thread (torch's function modes are per thread);
        a thread the program starts is bounded by the time and memory limits.
    """

    max_seconds: float = 60.0
    max_memory_mb: int = 4096
    max_output_chars: int = 1_000_000
    max_result_mb: int = 32
    max_elements: int = 250_000_000
    max_steps: int = 20_000_000


#: What a user may set each limit to (session files, the command line, the app's preferences):
#: (smallest, largest, integer only). A result past 256 MB would take the app past 1 GB.
LIMIT_RANGES: dict[str, tuple[float, float, bool]] = {
    "max_seconds": (0.1, 24 * 3600.0, False),
    "max_memory_mb": (64, 1 << 20, True),
    "max_elements": (1, 2_000_000_000, True),
    "max_steps": (1, 2_000_000_000, True),
    "max_output_chars": (1, 100_000_000, True),
    "max_result_mb": (1, 256, True),
}
#: How each limit is called where people set it: the command line's option, and in words.
LIMIT_OPTIONS = {name: "--" + name.replace("_", "-") for name in LIMIT_RANGES}
LIMIT_WORDS = {"max_seconds": "time limit in seconds", "max_memory_mb": "memory limit in MB",
               "max_elements": "most elements in one tensor",
               "max_steps": "most torch operations the program may call",
               "max_output_chars": "most characters the program may print",
               "max_result_mb": "largest result in MB (past it values are summarised)"}


def how_to_raise(name: str) -> str:
    """Where a user raises limit ``name``: said in every message about a run that reached it."""
    return t("raise it under Run → Limits… (saved with the session), or with {option} for gradviz inspect/render",
             option=LIMIT_OPTIONS.get(name, name))


def check_limit(name: str, value: object) -> float | int:
    """``value`` for limit ``name`` if it is a number in its range; else ValueError in one line."""
    if name not in LIMIT_RANGES:
        raise ValueError(t("unknown limit {name} (known: {known})", name=repr(name), known=", ".join(LIMIT_RANGES)))
    low, high, integer = LIMIT_RANGES[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ValueError(t("{name} must be an integer, got {value}", name=name, value=repr(value)) if integer
                         else t("{name} must be a number, got {value}", name=name, value=repr(value)))
    if not low <= value <= high:  # NaN fails this too
        raise ValueError(t("{name} must be between {low} and {high}, got {value}", name=name, low=_number(low),
                           high=_number(high), value=repr(value)))
    return value


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """The command line's options for the run's limits (``--max-seconds S`` ...), default None."""
    defaults = Limits()
    for name, (_low, _high, integer) in LIMIT_RANGES.items():
        parser.add_argument(LIMIT_OPTIONS[name], type=int if integer else float, default=None,
                            metavar="N" if integer else "S",
                            help=f"{LIMIT_WORDS[name]} (default: the session's, else "
                                 f"{_number(getattr(defaults, name))})")


def limits_from_options(options: argparse.Namespace, base: Limits | None) -> Limits:
    """``base`` (a session's limits, or the defaults) with the command line's options set;
    ValueError in one line, naming the option, for a value out of range."""
    values = {name: getattr(options, name) for name in LIMIT_RANGES if getattr(options, name, None) is not None}
    try:
        return limits_with(base or Limits(), values)
    except ValueError as exc:
        message = str(exc)
        for name, option in LIMIT_OPTIONS.items():
            message = message.replace(name, option)
        raise ValueError(message) from None


def limits_with(base: Limits, values: dict[str, object]) -> Limits:
    """``base`` with the limits in ``values`` set, each checked (ValueError names the first bad one)."""
    checked: dict[str, Any] = {name: check_limit(name, value) for name, value in values.items()}
    return replace(base, **checked)


@dataclass(frozen=True)
class RunRequest:
    """One program to run: its text, the seed set before the first statement, the limits.

    ``stop_after_line`` ends the run after the top-level statement that contains that line
    (run to cursor, step). Backward calls are recorded step by step up to a number
    (``tracer.MAX_DETAILED_CALLS``) and beyond it only lightly (their leaves' .grad);
    ``detail_calls`` asks for more of them step by step. ``only_call`` fetches one call: the
    program runs again only until backward call ``only_call`` (0 = the first) has run, recorded
    step by step, and nothing else is recorded (runs are seeded: it is the same call).
    ``language`` is the language of gradviz's own words in the result (hints, limit messages;
    a code of ``gradviz.core.i18n.LANGUAGES``); torch's messages stay as torch prints them.
    """

    program: str
    seed: int = 0
    limits: Limits = field(default_factory=Limits)
    stop_after_line: int | None = None
    detail_calls: tuple[int, ...] = ()
    only_call: int | None = None
    language: str = "en"

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}: choose one of {', '.join(LANGUAGES)}")

    def to_json(self) -> str:
        return json.dumps(to_plain(self), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> RunRequest:
        return from_plain(cls, json.loads(text))
