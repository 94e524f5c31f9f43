"""RunRequest and Limits: what the app or the CLI asks the engine to run, as plain data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

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
    """

    max_seconds: float = 60.0
    max_memory_mb: int = 4096
    max_output_chars: int = 1_000_000
    max_result_mb: int = 32


@dataclass(frozen=True)
class RunRequest:
    """One program to run: its text, the seed set before the first statement, the limits.

    ``stop_after_line`` ends the run after the top-level statement that contains that line
    (run to cursor, step). Backward calls are recorded step by step up to a number
    (``tracer.MAX_DETAILED_CALLS``) and beyond it only lightly (their leaves' .grad);
    ``detail_calls`` asks for more of them step by step. ``only_call`` fetches one call: the
    program runs again only until backward call ``only_call`` (0 = the first) has run, recorded
    step by step, and nothing else is recorded (runs are seeded: it is the same call).
    """

    program: str
    seed: int = 0
    limits: Limits = field(default_factory=Limits)
    stop_after_line: int | None = None
    detail_calls: tuple[int, ...] = ()
    only_call: int | None = None

    def to_json(self) -> str:
        return json.dumps(to_plain(self), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> RunRequest:
        return from_plain(cls, json.loads(text))
