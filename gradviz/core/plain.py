"""Convert frozen dataclasses to JSON-safe plain data and back, checking types on the way in.

Converters are compiled once per type from its annotations: a 5,000-node RunResult has tens of
thousands of objects, and re-reading type hints for each would cost more than the JSON itself.

A dataclass with ``__plain_shared__ = True`` (TensorValue) can be written once per document:
``to_plain_shared`` puts each distinct instance (by identity) in a table and an index in its
places, ``from_plain_shared`` builds it once and puts the same object back in each place. A
gradient sent along one edge is also the one its target received, and a leaf's ``.grad`` appears
in the step that wrote it, the call's leaves and the history: a 5,000-node result holds each
value two to three times.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import types
import typing
from collections.abc import Callable
from functools import cache
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


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_plain_scalar(tp: Any) -> bool:
    """int, str, bool, None and unions of them: already JSON."""
    if tp in (int, str, bool, type(None)):
        return True
    if typing.get_origin(tp) in (Union, types.UnionType):
        return all(_is_plain_scalar(a) for a in typing.get_args(tp))
    return False


@cache
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
        return lambda v: [f(x) for f, x in zip(inners, v, strict=True)]
    if origin is dict:
        inner = _encoder(typing.get_args(tp)[1])
        return lambda v: {str(k): inner(x) for k, x in v.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
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

        if getattr(tp, "__plain_shared__", False):
            return _shared_encoder(tp.__name__, encode)
        return encode
    return _generic_plain


# --- shared objects -------------------------------------------------------------------------------
class _SharedOut:
    """The tables of one ``to_plain_shared`` document: class name -> plain items, and each object's index."""

    def __init__(self) -> None:
        self.tables: dict[str, list] = {}
        self.index: dict[int, int] = {}  # id(obj) -> its place in its class's table


class _Sharing(threading.local):
    out: _SharedOut | None = None  # encoding a shared document on this thread
    tables: dict[str, list] | None = None  # decoding one: class name -> built objects


_sharing = _Sharing()


def _shared_encoder(name: str, encode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def encode_shared(obj):
        out = _sharing.out
        if out is None:
            return encode(obj)
        k = out.index.get(id(obj))
        if k is None:
            table = out.tables.setdefault(name, [])
            k = out.index[id(obj)] = len(table)
            table.append(encode(obj))
        return k

    return encode_shared


def to_plain_shared(obj: Any) -> dict[str, Any]:
    """``{"shared": {class name: [plain item, ...]}, "data": plain obj}``: like ``to_plain``, but each
    instance of a shared class is written once, in the table, and by its index everywhere else."""
    out = _SharedOut()
    previous, _sharing.out = _sharing.out, out
    try:
        # The objects stay alive while ``obj`` holds them, so their ids cannot be reused meanwhile.
        data = to_plain(obj)
    finally:
        _sharing.out = previous
    return {"shared": out.tables, "data": data}


# --- from plain -----------------------------------------------------------------------------------
class _Mismatch(ValueError):
    """A value of the wrong type; ``path`` grows as the error passes up through the containers."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.message = message
        self.path = path

    def within(self, step: str) -> _Mismatch:
        return _Mismatch(self.message, step + self.path)


def from_plain(cls: Any, data: Any, where: str = "$") -> Any:
    """Build ``cls`` (a dataclass or a typing form) from plain data; raise ValueError naming the bad path."""
    try:
        return _decoder(cls)(data)
    except _Mismatch as exc:
        raise ValueError(f"{where}{exc.path}: {exc.message}") from None


def from_plain_shared(cls: Any, document: Any, where: str = "$") -> Any:
    """Build ``cls`` from a ``to_plain_shared`` document; each shared item is built once."""
    decode = _decoder(cls)  # also registers the shared classes ``cls`` contains
    if type(document) is not dict or "data" not in document:
        raise ValueError(f"{where}: expected an object with 'shared' and 'data'")
    shared = document.get("shared", {})
    if type(shared) is not dict:
        raise ValueError(f"{where}.shared: expected an object, got {type(shared).__name__}")
    tables: dict[str, list] = {}
    for name, items in shared.items():
        item_decoder = _SHARED_DECODERS.get(name)
        if item_decoder is None:
            raise ValueError(f"{where}.shared.{name}: not a shared type of {getattr(cls, '__name__', cls)}")
        if type(items) is not list:
            raise ValueError(f"{where}.shared.{name}: expected a list, got {type(items).__name__}")
        try:
            tables[name] = [item_decoder(item) for item in items]
        except _Mismatch as exc:
            index = next(i for i, item in enumerate(items) if _fails(item_decoder, item))
            raise ValueError(f"{where}.shared.{name}[{index}]{exc.path}: {exc.message}") from None
    previous, _sharing.tables = _sharing.tables, tables
    try:
        return decode(document["data"])
    except _Mismatch as exc:
        raise ValueError(f"{where}.data{exc.path}: {exc.message}") from None
    finally:
        _sharing.tables = previous


#: Class name -> the decoder of one full item, for the shared classes met so far.
_SHARED_DECODERS: dict[str, Callable[[Any], Any]] = {}


def _shared_decoder(name: str, decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    _SHARED_DECODERS[name] = decode

    def decode_shared(data):
        if type(data) is int:
            table = (_sharing.tables or {}).get(name)
            if table is None:
                raise _Mismatch(f"a reference to a shared {name} where there is no table of them")
            if 0 <= data < len(table):
                return table[data]
            raise _Mismatch(f"no shared {name} number {data} (the table has {len(table)})")
        return decode(data)

    return decode_shared


def _fail(expected: str, data: Any):
    raise _Mismatch(f"expected {expected}, got {type(data).__name__}")


def _decode_any(data):
    return data


def _decode_int(data):
    if type(data) is int:
        return data
    _fail("an integer", data)


def _decode_str(data):
    if type(data) is str:
        return data
    _fail("str", data)


def _decode_bool(data):
    if type(data) is bool:
        return data
    _fail("bool", data)


def _decode_float(data):
    t = type(data)
    if t is float:
        return data
    if t is int:
        return float(data)
    if t is str and data in NONFINITE:
        return NONFINITE[data]
    if t is bool:
        raise _Mismatch("expected a number, got a boolean")
    _fail("a number", data)


def _decode_none(data):
    if data is None:
        return None
    _fail("null", data)


_SIMPLE = {Any: _decode_any, int: _decode_int, str: _decode_str, bool: _decode_bool,
           float: _decode_float, type(None): _decode_none}


#: Types checked inline by the sequence and dataclass decoders: one ``type(v) is t``, no call.
_EXACT = {int: int, str: str, bool: bool, float: float}


@cache
def _decoder(tp: Any) -> Callable[[Any], Any]:
    if tp in _SIMPLE:
        return _SIMPLE[tp]
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        nullable = type(None) in options
        decoders = [_decoder(a) for a in options if a is not type(None)]
        if nullable and len(decoders) == 1:
            only = decoders[0]

            def decode_optional(data):
                return None if data is None else only(data)

            return decode_optional

        def decode_union(data):
            if data is None and nullable:
                return None
            errors = []
            for dec in decoders:
                try:
                    return dec(data)
                except _Mismatch as exc:
                    errors.append(exc)
            if len(errors) == 1:
                raise errors[0]
            raise _Mismatch(f"no type of {tp} fits")

        return decode_union
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            inner = _decoder(args[0])
            exact = _EXACT.get(args[0])

            def decode_seq(data):
                if type(data) is not list:
                    _fail("a list", data)
                if not data:  # most of a graph's tuples (saved, attrs, hooks) are empty
                    return ()
                if exact is not None:
                    for v in data:
                        if type(v) is not exact:
                            break
                    else:
                        return tuple(data)
                try:
                    return tuple([inner(v) for v in data])
                except _Mismatch as exc:
                    index = next(i for i, v in enumerate(data) if _fails(inner, v))
                    raise exc.within(f"[{index}]") from None

            return decode_seq
        inners = [_decoder(a) for a in args]

        def decode_fixed(data):
            if type(data) is not list:
                _fail("a list", data)
            if len(data) != len(inners):
                raise _Mismatch(f"expected {len(inners)} items, got {len(data)}")
            out = []
            for i, (f, v) in enumerate(zip(inners, data, strict=True)):
                try:
                    out.append(f(v))
                except _Mismatch as exc:
                    raise exc.within(f"[{i}]") from None
            return tuple(out)

        return decode_fixed
    if origin is dict:
        inner = _decoder(typing.get_args(tp)[1])

        def decode_dict(data):
            if type(data) is not dict:
                _fail("an object", data)
            out = {}
            for k, v in data.items():
                try:
                    out[str(k)] = inner(v)
                except _Mismatch as exc:
                    raise exc.within(f".{k}") from None
            return out

        return decode_dict
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    raise TypeError(f"from_plain cannot build {tp!r}")


def _dataclass_decoder(tp: type) -> Callable[[Any], Any]:
    """Decode a dict into ``tp``, every field checked by its type's decoder.

    Tens of thousands of these run per 5,000-node result, so the common cases are inlined: a
    field of type int, str, bool or float (or ``X | None`` holding None) is checked without a
    call, and the instance is filled directly (``__init__`` would only repeat the assignments;
    the defaults of missing fields are filled in here; classes with ``__post_init__`` or slots
    go through ``__init__``).
    """
    hints = _hints(tp)
    all_fields = dataclasses.fields(tp)
    plan = []
    for f in all_fields:
        hint = hints[f.name]
        nullable = typing.get_origin(hint) in (Union, types.UnionType) and type(None) in typing.get_args(hint)
        plan.append((f.name, _EXACT.get(hint), nullable, _decoder(hint)))
    defaults = {f.name: f.default for f in all_fields if f.default is not dataclasses.MISSING}
    factories = [(f.name, f.default_factory) for f in all_fields if f.default_factory is not dataclasses.MISSING]
    required = [f.name for f in all_fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    direct = not hasattr(tp, "__post_init__") and not hasattr(tp, "__slots__")
    name = tp.__name__
    new = object.__new__

    def decode_dataclass(data):
        if type(data) is not dict:
            raise _Mismatch(f"expected an object for {name}, got {type(data).__name__}")
        values = {}
        fname = ""
        try:
            for fname, exact, nullable, dec in plan:
                if fname in data:
                    v = data[fname]
                    if type(v) is exact or (v is None and nullable):
                        values[fname] = v
                    else:
                        values[fname] = dec(v)
        except _Mismatch as exc:
            raise exc.within(f".{fname}") from None
        if len(values) < len(plan):
            for fname in required:
                if fname not in values:
                    raise _Mismatch(f"missing field {fname!r}")
            if not direct:
                return tp(**values)
            for fname, make in factories:
                if fname not in values:
                    values[fname] = make()
            values = {**defaults, **values}
        elif not direct:
            return tp(**values)
        obj: Any = new(tp)
        obj.__dict__.update(values)
        return obj

    if getattr(tp, "__plain_shared__", False):
        return _shared_decoder(name, decode_dataclass)
    return decode_dataclass


def _fails(decode: Callable[[Any], Any], value: Any) -> bool:
    try:
        decode(value)
    except _Mismatch:
        return True
    return False
