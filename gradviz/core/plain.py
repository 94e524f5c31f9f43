"""Convert frozen dataclasses to JSON-safe plain data and back, checking types on the way in."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import lru_cache
from typing import Any, Union

#: How non-finite floats are spelled in plain data: JSON has no NaN or infinity.
NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def plain_float(value: float) -> float | str:
    """A float as JSON allows it: finite floats unchanged, others as "nan", "inf" or "-inf"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def to_plain(obj: Any) -> Any:
    """Turn dataclasses, tuples and floats into dicts, lists and JSON-safe numbers."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, float):
        return plain_float(obj)
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    return obj


@lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_plain(cls: Any, data: Any, where: str = "$") -> Any:
    """Build ``cls`` (a dataclass or a typing form) from plain data; raise ValueError naming the bad path."""
    if cls is Any:
        return data
    origin = typing.get_origin(cls)
    if origin in (Union, types.UnionType):
        options = typing.get_args(cls)
        if data is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return from_plain(option, data, where)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if len(errors) == 1 else f"{where}: no type of {cls} fits")
    if origin is tuple:
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
        args = typing.get_args(cls)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise ValueError(f"{where}: expected {len(args)} items, got {len(data)}")
        return tuple(from_plain(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data)))
    if origin is dict:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        _, value_type = typing.get_args(cls)
        return {str(k): from_plain(value_type, v, f"{where}.{k}") for k, v in data.items()}
    if dataclasses.is_dataclass(cls):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object for {cls.__name__}, got {type(data).__name__}")
        hints = _hints(cls)
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                kwargs[f.name] = from_plain(hints[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{where}: missing field {f.name!r}")
        return cls(**kwargs)
    if cls is float:
        if isinstance(data, bool):
            raise ValueError(f"{where}: expected a number, got a boolean")
        if isinstance(data, (int, float)):
            return float(data)
        if isinstance(data, str) and data in NONFINITE:
            return NONFINITE[data]
        raise ValueError(f"{where}: expected a number, got {type(data).__name__}")
    if cls is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        raise ValueError(f"{where}: expected an integer, got {type(data).__name__}")
    if cls in (str, bool):
        if isinstance(data, cls):
            return data
        raise ValueError(f"{where}: expected {cls.__name__}, got {type(data).__name__}")
    raise TypeError(f"from_plain cannot build {cls!r}")
