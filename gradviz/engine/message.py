"""What the worker puts on the wire: strict JSON lines, and a result bounded in size whatever the program did.

A program decides how big its result is (5,000 parameters of 10,000 elements made a 559 MB
result once). The worker sends at most ``Limits.max_result_mb``: past it, tensor values are
summarised (statistics instead of every element), then later backward calls lose their step by
step record, and a note says so; the client refuses anything bigger (``gradviz.engine.client``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

import orjson

from gradviz.core.plain import to_plain_shared
from gradviz.core.result import BackwardCall, GraphData, RunResult, Stats, TensorValue

#: JSON containers ("[" and "{") a message may hold. Each becomes a Python list or dict in the app
#: (~60 bytes for a 1-3 byte token): 33 MB of "[[0]]," decode to 1.2 GB, against ~0.35 M containers
#: in 11 MB for two 20,000-node graphs. The worker summarises a result past it as past the size
#: limit; the client refuses a line past it before decoding (``containers``).
MAX_CONTAINERS = 1_500_000
#: Elements kept whole per value on the way down when a result is too big.
_KEEP_STEPS = (1024, 64, 8, 0)
#: Numbers in a Stats: a value with no more elements is not made smaller by summarising it.
_STATS_SIZE = 4


def encode(message: dict) -> bytes:
    """One line of strict JSON; lone surrogates (``"\\ud800"`` printed by a program) become U+FFFD."""
    try:
        return orjson.dumps(message) + b"\n"
    except TypeError:  # an integer beyond 64 bits, or a string with a lone surrogate
        text = json.dumps(_clean(message), allow_nan=False, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8") + b"\n"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def containers(data: bytes) -> int:
    """How many lists and objects a JSON line decodes to (brackets inside strings count too: an upper bound)."""
    return data.count(b"[") + data.count(b"{")


def result_message(result: RunResult, sent_graphs: list[int], max_bytes: int, limit_mb: float) -> bytes:
    """The ``result`` message, at most ``max_bytes`` long and MAX_CONTAINERS deep in lists and objects:
    summarised step by step until it fits.

    ``limit_mb`` is the run's ``Limits.max_result_mb``, named in the note that says what was left out.
    """
    def message(r: RunResult) -> bytes:
        return encode({"type": "result", "result": to_plain_shared(r), "sent_graphs": sent_graphs})

    # Brackets the program printed are strings, not containers; the client allows for them.
    printed = sum(text.count("[") + text.count("{") for text in _printed(result))

    def fits(data: bytes) -> bool:
        return len(data) <= max_bytes and containers(data) - printed <= MAX_CONTAINERS

    data = message(result)
    if fits(data):
        return data
    over = f"The result was over the result limit ({limit_mb:g} MB)"
    smaller = result
    for keep in _KEEP_STEPS:
        kept = f"tensors with more than {keep:,} elements" if keep else "every tensor"
        before, smaller = smaller, summarised(smaller, keep)
        if smaller is before:  # no value that big: encoding the same result again would not help
            continue
        data = message(_note(smaller, f"{over}: {kept} shown by statistics."))
        if fits(data):
            return data
    calls = smaller.backward_calls
    detailed = len(calls)
    while detailed > 0:
        detailed //= 2
        outlined = {c.index for c in calls[detailed:]}
        fewer = dataclasses.replace(
            smaller,
            backward_calls=tuple(c if k < detailed else _outline(c) for k, c in enumerate(calls)),
            # A variable shown in an outlined call's graph is shown without a graph.
            variables=tuple(dataclasses.replace(v, node_id=None, graph_call=None) if v.graph_call in outlined else v
                            for v in smaller.variables))
        data = message(_note(fewer, f"{over}: every tensor shown by statistics, and only the first {detailed} "
                                    "backward calls recorded step by step."))
        if fits(data):
            return data
    bare = RunResult(stdout=result.stdout[:max_bytes // 8], stderr=result.stderr[:max_bytes // 16],
                     error=result.error, seed=result.seed, stopped_at=result.stopped_at, duration=result.duration,
                     notes=result.notes + (f"{over} even with every value summarised: only the output and the "
                                           "error are shown.",))
    return message(bare)


def _printed(result: RunResult):
    yield result.stdout
    yield result.stderr
    for record in result.statements:
        yield record.stdout


def _note(result: RunResult, note: str) -> RunResult:
    return dataclasses.replace(result, notes=result.notes + (note,))


def _outline(call: BackwardCall) -> BackwardCall:
    """A backward call without its graph and steps (its leaves' .grad stays in the history)."""
    return dataclasses.replace(call, graph=GraphData(), steps=(), leaves=(), freed=(), outputs=())


def summarised(result: RunResult, keep: int) -> RunResult:
    """``result`` with every tensor value of more than ``keep`` elements reduced to its statistics.

    A value shared by several places (a gradient sent along an edge is the one its target
    received) stays one shared object.
    """
    memo: dict[int, Any] = {}

    def value(v: TensorValue) -> TensorValue:
        if v.data is None or v.numel <= max(keep, _STATS_SIZE):  # statistics would be no smaller
            return v
        return TensorValue(v.shape, v.dtype, None, v.stats or _stats(v.flat()))

    return _map(result, value, memo)


def _map(obj: Any, fn: Callable[[TensorValue], TensorValue], memo: dict[int, Any]) -> Any:
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, TensorValue):
        out = fn(obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            old = getattr(obj, f.name)
            new = _map(old, fn, memo)
            if new is not old:
                changes[f.name] = new
        out = dataclasses.replace(obj, **changes) if changes else obj
    elif isinstance(obj, tuple):
        items = [_map(item, fn, memo) for item in obj]
        out = obj if all(a is b for a, b in zip(items, obj, strict=True)) else tuple(items)
    else:
        out = obj
    memo[key] = out
    return out


def _stats(flat: list[float]) -> Stats | None:
    finite = [x for x in flat if math.isfinite(x)]
    if not finite:
        return Stats(math.nan, math.nan, math.nan, math.nan) if flat else None
    return Stats(min(finite), max(finite), math.fsum(finite) / len(finite), math.sqrt(math.fsum(x * x for x in finite)))
