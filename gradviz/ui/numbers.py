"""Tensor values as short, readable text for the inspector and the gradients panel."""

from __future__ import annotations

import math
import weakref
import sys

from gradviz.core.result import TensorValue


def format_number(x: float | int | str, digits: int = 4) -> str:
    """A number in at most ``digits`` significant digits; integers stay integers; nan/inf spelled out."""
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"
    if x == int(x) and abs(x) < 1e7:
        return str(int(x))
    if 1e-4 <= abs(x) < 1e6:
        text = f"{x:.{digits}g}"
    else:
        text = f"{x:.{max(1, digits - 2)}e}"
    return text


def format_shape(shape: tuple[int, ...] | None, unknown: str = "?") -> str:
    """``[3, 64]`` as torch lists sizes (the canvas, inspector and panels all write it so);
    a 0-d tensor is ``scalar``."""
    if shape is None:
        return unknown
    if len(shape) == 0:
        return "scalar"
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _nested(data, digits: int) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_nested(d, digits) for d in data) + "]"
    return format_number(data, digits)


def format_value(value: TensorValue | None, max_chars: int = 80, digits: int = 4) -> str:
    """One line: the numbers when short enough, else shape and norm."""
    if value is None:
        return "None"
    # Cheap test first: a tensor with more elements than characters allowed can't fit.
    if value.data is not None and value.numel * 2 <= max_chars:
        text = _nested(value.data, digits)
        if len(text) <= max_chars:
            return text
    return summary(value)


def summary(value: TensorValue) -> str:
    """Shape with norm, min and max: for tensors too big to show."""
    parts = [format_shape(value.shape)]
    if value.stats is not None:
        s = value.stats
        parts.append(f"‖·‖ {format_number(s.norm, 3)}")
        parts.append(f"min {format_number(s.min, 3)}")
        parts.append(f"max {format_number(s.max, 3)}")
    elif value.data is not None:
        n = data_norm(value, finite_only=True)
        if n is not None:
            parts.append(f"‖·‖ {format_number(n, 3)}")
    return " · ".join(parts)


def format_block(value: TensorValue | None, digits: int = 4, max_rows: int = 12, max_cols: int = 8) -> str:
    """Several lines: a matrix as aligned rows (cut with … when large), else `format_value`."""
    if value is None:
        return "None"
    data = value.data
    if data is None:
        return summary(value)
    if len(value.shape) != 2:
        return format_value(value, max_chars=400, digits=digits)
    rows = data[:max_rows]
    cells = [[format_number(x, digits) for x in row[:max_cols]] + (["…"] if len(row) > max_cols else []) for row in rows]
    width = max((len(c) for row in cells for c in row), default=1)
    lines = ["[" + "  ".join(c.rjust(width) for c in row) + "]" for row in cells]
    if len(data) > max_rows:
        lines.append(" …")
    return "\n".join(lines)


#: Norms worked out, by value (``id`` and a weak reference): a result often shares one value between
#: many places (and a forged one could share one a million times).
_NORMS: dict[int, tuple[weakref.ref, float]] = {}


def norm(value: TensorValue | None) -> float | None:
    """The Frobenius norm of a value (None for None)."""
    if value is None:
        return None
    if value.stats is not None:
        return value.stats.norm
    known = _NORMS.get(id(value))
    if known is not None and known[0]() is value:
        return known[1]
    n = data_norm(value, finite_only=True)
    n = 0.0 if n is None else n
    if len(_NORMS) > 100_000:
        _NORMS.clear()
    _NORMS[id(value)] = (weakref.ref(value), n)
    return n


def data_norm(value: TensorValue, finite_only: bool = False) -> float | None:
    """The 2-norm of a whole value's elements (NaN and inf carry through unless ``finite_only``,
    which leaves them out); None when it has no data or no elements to norm."""
    if value.data is None:
        return None
    np = sys.modules.get("numpy")
    if np is None:  # not loaded yet (the window starts without it): plain Python
        xs = value.flat()
        if finite_only:
            xs = [f for f in xs if math.isfinite(f)]
        return math.sqrt(sum(f * f for f in xs)) if xs else None
    # numpy reads the nested lists (and the "nan"/"inf" strings) in one call: a thousand
    # parameters' gradients are normed when a big result is shown.
    arr = np.asarray(value.data, dtype=float).ravel()
    if finite_only:
        arr = arr[np.isfinite(arr)]
    if not arr.size:
        return None
    return float(math.sqrt(float(np.dot(arr, arr))))
