"""Numbers, shapes, tensor values and op names as text: compact on the canvas, fuller in the panels (no Qt).

One rule writes every number (``format_number``); a ``NumberStyle`` holds what differs between
the canvas's labels (``CANVAS``: a few characters wide) and the panels' text (``PANEL``).
"""

from __future__ import annotations

import math
import re
import sys
import weakref
from dataclasses import dataclass

from gradviz.core import i18n
from gradviz.core.result import TensorValue


@dataclass(frozen=True)
class NumberStyle:
    """Where a number's text switches between integer, fixed and exponent notation.

    ``int_below``: ints are written whole below this magnitude, else like floats.
    ``whole_below``: integral floats below this magnitude are written as integers.
    ``fixed``: magnitudes in [low, high) are written with ``digits`` significant digits.
    ``compact``: exponents as ``1.2e-4`` (two significant digits, unpadded), also where those
    digits would need one; else Python's ``1.20e-04`` (``digits`` - 1 significant digits).
    """

    int_below: float
    whole_below: float
    fixed: tuple[float, float]
    compact: bool


#: Edge labels, ``.grad`` tags, badges and tooltips on the canvas: at most about 7 characters.
CANVAS = NumberStyle(int_below=1e7, whole_below=1e6, fixed=(1e-3, 1e5), compact=True)
#: The inspector and the gradients panel.
PANEL = NumberStyle(int_below=math.inf, whole_below=1e7, fixed=(1e-4, 1e6), compact=False)

#: Values with at most this many elements are written out in full on the canvas.
MAX_INLINE = 6

_OP_SPLIT = re.compile(r"^(.*?)((?:Backward\d*)|Grad)$")


def format_number(x: float | int | str, digits: int = 4, style: NumberStyle = PANEL) -> str:
    """A number in at most ``digits`` significant digits; integers stay integers; nan/inf spelled out.

    Strings (the ``"nan"``/``"inf"`` a result carries for non-finite elements) are kept as they are.
    CANVAS: ``2``, ``-0.5``, ``3.142``, ``1.2e-3``, ``1.5e7``; PANEL: ``0.0001234``, ``1.23e-05``.
    """
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) and abs(x) < style.int_below:
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"
    ax = abs(x)
    if ax == int(ax) and ax < style.whole_below:
        return str(int(x))
    low, high = style.fixed
    if low <= ax < high:
        text = f"{x:.{digits}g}"
        if not style.compact or "e" not in text:
            return text
    if style.compact:
        mantissa, exp = f"{x:.1e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exp)}"
    return f"{x:.{max(1, digits - 2)}e}"


def format_shape(shape: tuple[int, ...] | None, unknown: str = "?") -> str:
    """``[3, 64]`` as torch lists sizes (the canvas, inspector and panels all write it so);
    a 0-d tensor is ``scalar`` (in the current language); ``unknown`` when there is no shape (the
    canvas leaves it out)."""
    if shape is None:
        return unknown
    if len(shape) == 0:
        return i18n.t("scalar")
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _nested(data, digits: int, style: NumberStyle) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_nested(d, digits, style) for d in data) + "]"
    return format_number(data, digits, style)


def compact_value(value: TensorValue | None, max_inline: int = MAX_INLINE, symbol: str = "g") -> str:
    """A tensor value as the canvas labels it: the numbers when small, else shape and norm.

    ``2`` · ``[0, 2, 4, 6]`` · ``[[1, 2], [3, 4]]`` · ``[3, 64] ‖g‖=1.2e-3`` · ``None``.
    """
    if value is None:
        return "None"
    if value.data is not None and value.numel <= max_inline and len(value.shape) <= 2:
        return _nested(value.data, 4, CANVAS)
    norm = value_norm(value)
    shape = format_shape(value.shape, unknown="")
    if norm is None:
        return shape
    return f"{shape} \u2016{symbol}\u2016={format_number(norm, style=CANVAS)}"


def format_value(value: TensorValue | None, max_chars: int = 80, digits: int = 4) -> str:
    """One line for the panels: the numbers when short enough, else shape and norm."""
    if value is None:
        return "None"
    # Cheap test first: a tensor with more elements than characters allowed can't fit.
    if value.data is not None and value.numel * 2 <= max_chars:
        text = _nested(value.data, digits, PANEL)
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
    cells = [[format_number(x, digits) for x in row[:max_cols]] + (["…"] if len(row) > max_cols else [])
             for row in rows]
    width = max((len(c) for row in cells for c in row), default=1)
    lines = ["[" + "  ".join(c.rjust(width) for c in row) + "]" for row in cells]
    if len(data) > max_rows:
        lines.append(" …")
    return "\n".join(lines)


def split_op(op: str) -> tuple[str, str]:
    """``MulBackward0`` → (``Mul``, ``Backward0``); ``AccumulateGrad`` → (``Accumulate``, ``Grad``)."""
    op = op.rsplit("::", 1)[-1]
    m = _OP_SPLIT.match(op)
    if m and m.group(1):
        return m.group(1), m.group(2)
    return op, ""


#: Norms worked out, by value (``id`` and a weak reference): a result often shares one value between
#: many places (and a forged one could share one a million times).
_NORMS: dict[int, tuple[weakref.ref, float]] = {}


def norm(value: TensorValue | None) -> float | None:
    """The panels' norm of a value: over its finite elements, 0 when there are none (None for None)."""
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


def value_norm(value: TensorValue) -> float | None:
    """The canvas's norm of a value: from ``stats`` when summarised, else over all its data, so that
    NaN and inf show (None without data or elements)."""
    if value.stats is not None:
        return value.stats.norm
    return data_norm(value)


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


def nice_step(at_least: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … that is at least ``at_least``."""
    base = 1
    while True:
        for k in (1, 2, 5):
            if base * k >= at_least:
                return base * k
        base *= 10
