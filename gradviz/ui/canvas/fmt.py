"""Compact text for numbers, shapes, tensor values and op names as the canvas draws them (no Qt)."""

from __future__ import annotations

import math
import re
from typing import Any

from gradviz.core.plain import NONFINITE
from gradviz.core.result import TensorValue
from gradviz.ui.numbers import data_norm, format_shape

#: Values with at most this many elements are written out in full on the canvas.
MAX_INLINE = 6

_OP_SPLIT = re.compile(r"^(.*?)((?:Backward\d*)|Grad)$")


def fmt_number(x: Any) -> str:
    """A number in at most about 7 characters: ``2``, ``-0.5``, ``3.142``, ``1.2e-3``, ``nan``."""
    if isinstance(x, str):
        return x if x in NONFINITE else str(x)
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x) if abs(x) < 10**7 else _short_exp(float(x))
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax == int(ax) and ax < 1e6:
        return str(int(x))
    if 1e-3 <= ax < 1e5:
        text = f"{x:.4g}"
        return text if "e" not in text else _short_exp(x)
    return _short_exp(x)


def _short_exp(x: float) -> str:
    mantissa, exp = f"{x:.1e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exp)}"


def fmt_shape(shape: tuple[int, ...] | None) -> str:
    """``[3, 64]``; a 0-d tensor is ``scalar``; unknown is empty (the canvas leaves it out)."""
    return format_shape(shape, unknown="")


def _nested(data: Any) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_nested(d) for d in data) + "]"
    return fmt_number(data)


def value_norm(value: TensorValue) -> float | None:
    """The 2-norm of a value: from ``stats`` when summarised, else computed from ``data``."""
    if value.stats is not None:
        return value.stats.norm
    return data_norm(value)


def fmt_value(value: TensorValue | None, max_inline: int = MAX_INLINE, symbol: str = "g") -> str:
    """A tensor value as an edge label: numbers when small, else shape and norm.

    ``2`` · ``[0, 2, 4, 6]`` · ``[[1, 2], [3, 4]]`` · ``[3, 64] ‖g‖=1.2e-3`` · ``None``.
    """
    if value is None:
        return "None"
    if value.data is not None and value.numel <= max_inline and len(value.shape) <= 2:
        return _nested(value.data)
    norm = value_norm(value)
    shape = fmt_shape(value.shape)
    if norm is None:
        return shape
    return f"{shape} \u2016{symbol}\u2016={fmt_number(norm)}"


def add_values(values: list[TensorValue | None]) -> TensorValue | None:
    """Elementwise sum of full values of one shape (None counts as zero); None when unknown."""
    present = [v for v in values if v is not None]
    if not present or any(v.data is None for v in present):
        return None
    shape = present[0].shape
    if any(v.shape != shape for v in present):
        return None
    total = [sum(col) for col in zip(*(v.flat() for v in present))]

    def rebuild(dims: tuple[int, ...], flat: list[float]) -> Any:
        if not dims:
            return flat[0]
        step = len(flat) // dims[0] if dims[0] else 0
        return [rebuild(dims[1:], flat[i * step:(i + 1) * step]) for i in range(dims[0])]

    return TensorValue(shape, present[0].dtype, rebuild(shape, total) if shape else total[0])


def split_op(op: str) -> tuple[str, str]:
    """``MulBackward0`` → (``Mul``, ``Backward0``); ``AccumulateGrad`` → (``Accumulate``, ``Grad``)."""
    op = op.rsplit("::", 1)[-1]
    m = _OP_SPLIT.match(op)
    if m and m.group(1):
        return m.group(1), m.group(2)
    return op, ""
