"""Convert frozen dataclasses to JSON-safe plain data and back, checking types on the way in.

Converters are compiled once per type from its annotations: a 5,000-node RunResult has tens of
thousands of objects, and re-reading type hints for each would cost more than the JSON itself.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import lru_cache
from typing import Any, Callable, Union

#: How non-finite floats are spelled in plain data: JSON has no NaN or infinity.
NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def plain_float(value: float) -> float | str:
    """A float as JSON allows it: finite floats unchanged, others as "nan", "inf" or "-inf"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


# --- to plain -------------------------------------------------------------------------------------
def to_plain(obj: Any) -> Any:
    """Turn dataclasses, tuples and floats into dicts, lists and JSON-safe numbers."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _encoder(type(obj))(obj)
    return _generic_plain(obj)


def _generic_plain(obj: Any) -> Any:
    if isinstance(obj, float):
        return plain_float(obj)
    if isinstance(obj, (list, tuple)):
        return [_generic_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _generic_plain(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _encoder(type(obj))(obj)
    return obj


def _identity(value: Any) -> Any:
    return value


@lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_plain_scalar(tp: Any) -> bool:
    """int, str, bool, None and unions of them: already JSON."""
    if tp in (int, str, bool, type(None)):
        return True
    if typing.get_origin(tp) in (Union, types.UnionType):
        return all(_is_plain_scalar(a) for a in typing.get_args(tp))
    return False


@lru_cache(maxsize=None)
def _encoder(tp: Any) -> Callable[[Any], Any]:
    if tp is Any:
        return _identity  # Any fields hold plain data already (TensorValue.data)
    if _is_plain_scalar(tp):
        return _identity
    if tp is float:
        return plain_float
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) == 1:
            inner = _encoder(options[0])
            return lambda v: None if v is None else inner(v)
        return _generic_plain
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            if _encoder(args[0]) is _identity:
                return list
            inner = _encoder(args[0])
            return lambda v: [inner(x) for x in v]
        inners = [_encoder(a) for a in args]
        return lambda v: [f(x) for f, x in zip(inners, v)]
    if origin is dict:
        inner = _encoder(typing.get_args(tp)[1])
        return lambda v: {str(k): inner(x) for k, x in v.items()}
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        names = [f.name for f in dataclasses.fields(tp)]
        plain = [n for n in names if _encoder(hints[n]) is _identity]
        other = [(n, _encoder(hints[n])) for n in names if _encoder(hints[n]) is not _identity]

        def encode(obj):
            d = obj.__dict__
            out = {n: d[n] for n in plain}
            for n, f in other:
                out[n] = f(d[n])
            return out

        return encode
    return _generic_plain


# --- from plain -----------------------------------------------------------------------------------
def from_plain(cls: Any, data: Any, where: str = "$") -> Any:
    """Build ``cls`` (a dataclass or a typing form) from plain data; raise ValueError naming the bad path."""
    return _decoder(cls)(data, where)


def _fail(where: str, expected: str, data: Any):
    raise ValueError(f"{where}: expected {expected}, got {type(data).__name__}")


def _decode_any(data, where):
    return data


def _decode_int(data, where):
    if type(data) is int:
        return data
    _fail(where, "an integer", data)


def _decode_str(data, where):
    if type(data) is str:
        return data
    _fail(where, "str", data)


def _decode_bool(data, where):
    if type(data) is bool:
        return data
    _fail(where, "bool", data)


def _decode_float(data, where):
    t = type(data)
    if t is float:
        return data
    if t is int:
        return float(data)
    if t is str and data in NONFINITE:
        return NONFINITE[data]
    if t is bool:
        raise ValueError(f"{where}: expected a number, got a boolean")
    _fail(where, "a number", data)


def _decode_none(data, where):
    if data is None:
        return None
    _fail(where, "null", data)


@lru_cache(maxsize=None)
def _decoder(tp: Any) -> Callable[[Any, str], Any]:
    simple = {Any: _decode_any, int: _decode_int, str: _decode_str, bool: _decode_bool,
              float: _decode_float, type(None): _decode_none}
    if tp in simple:
        return simple[tp]
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        nullable = type(None) in options
        decoders = [_decoder(a) for a in options if a is not type(None)]

        def decode_union(data, where):
            if data is None and nullable:
                return None
            errors = []
            for dec in decoders:
                try:
                    return dec(data, where)
                except ValueError as exc:
                    errors.append(str(exc))
            raise ValueError(errors[0] if len(errors) == 1 else f"{where}: no type of {tp} fits")

        return decode_union
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            inner = _decoder(args[0])

            def decode_seq(data, where):
                if type(data) is not list:
                    _fail(where, "a list", data)
                return tuple(inner(v, where) for v in data)

            return decode_seq
        inners = [_decoder(a) for a in args]

        def decode_fixed(data, where):
            if type(data) is not list:
                _fail(where, "a list", data)
            if len(data) != len(inners):
                raise ValueError(f"{where}: expected {len(inners)} items, got {len(data)}")
            return tuple(f(v, f"{where}[{i}]") for i, (f, v) in enumerate(zip(inners, data)))

        return decode_fixed
    if origin is dict:
        inner = _decoder(typing.get_args(tp)[1])

        def decode_dict(data, where):
            if type(data) is not dict:
                _fail(where, "an object", data)
            return {str(k): inner(v, f"{where}.{k}") for k, v in data.items()}

        return decode_dict
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        fields = [(f.name, _decoder(hints[f.name]),
                   f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
                  for f in dataclasses.fields(tp)]
        name = tp.__name__

        def decode_dataclass(data, where):
            if type(data) is not dict:
                raise ValueError(f"{where}: expected an object for {name}, got {type(data).__name__}")
            kwargs = {}
            for fname, dec, required in fields:
                if fname in data:
                    kwargs[fname] = dec(data[fname], f"{where}.{fname}")
                elif required:
                    raise ValueError(f"{where}: missing field {fname!r}")
            return tp(**kwargs)

        return decode_dataclass
    raise TypeError(f"from_plain cannot build {tp!r}")
