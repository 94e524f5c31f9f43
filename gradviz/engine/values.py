"""Torch tensors to TensorValue: whole values for small tensors, summary statistics for big ones."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch._utils import _flatten_dense_tensors

from gradviz.core.plain import plain_float
from gradviz.core.result import Stats, TensorValue

#: Variables keep every element up to this many (`inspect --json` reports them in full).
VARIABLE_LIMIT = 100_000
#: Elements kept whole over all variables together: past it, variables get their statistics. A
#: program with 5,000 variables of 10,000 elements once made a 559 MB result; 1,000,000 numbers are
#: about 10 MB of JSON.
VARIABLES_TOTAL = 1_000_000
#: Elements reduced at once when computing statistics (bounds the temporary copy: 16 MB of float32).
STATS_CHUNK = 1 << 22
#: Up to this many numbers are rounded in Python rather than with torch calls.
FEW = 64
#: Elements summed in the tensor's own dtype before the sums are added up in float64 (_blocked_sums).
SUM_BLOCK = 1024
_INFINITIES = (math.inf, -math.inf)
#: A leaf's .grad around a backward call and in the history keeps whole values up to this many.
LEAF_LIMIT = 256
#: Gradients on edges and tensor values on graph nodes keep whole values up to this many;
#: beyond, statistics (a 5,000-node record must stay a few MB).
EDGE_LIMIT = 64

_DTYPE_NAMES: dict[torch.dtype, str] = {}


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"``."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name


#: Float types with at most 7 significant decimal digits: their values travel rounded to 7
#: digits (0.1 instead of 0.10000000149011612), a third of the text and what torch prints anyway.
_SHORT_FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def _seven_digits(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float64, each value rounded to 7 significant digits (vectorised)."""
    x = t.to(torch.float64)
    finite = torch.isfinite(x) & (x != 0)
    exponent = torch.floor(torch.log10(torch.where(finite, x.abs(), 1.0)))
    digits = 6 - exponent  # decimal places that keep 7 significant digits
    up = torch.pow(10.0, digits.clamp(min=0))
    down = torch.pow(10.0, (-digits).clamp(min=0))
    # x * 10**k is rounded to an integer n; n / 10**k is then the double nearest the decimal.
    rounded = torch.round(x * up / down) * down / up
    return torch.where(finite, rounded, x)


_NUMERIC = {torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
            torch.int16, torch.int8, torch.uint8, torch.bool}


def _is_numeric(t: torch.Tensor) -> bool:
    """Real-valued dense tensors in memory (not complex, quantized, sparse or on the meta device,
    which has shapes and no numbers): the ones with numbers to show."""
    return t.dtype in _NUMERIC and t.layout is torch.strided and t.is_cpu


def _nest(flat: list, shape: tuple[int, ...]):
    """Row-major ``flat`` as nested lists of ``shape`` (a scalar for shape ())."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def tensor_value(t: torch.Tensor, limit: int = VARIABLE_LIMIT) -> TensorValue:
    """One tensor as a TensorValue; statistics only when the values are left out."""
    return tensor_values([t], limit)[0]


def tensor_values(tensors: Sequence[torch.Tensor | None], limit: int = EDGE_LIMIT,
                  total: int | None = None) -> list[TensorValue | None]:
    """Many tensors at once: the small ones whole, the big ones as statistics.

    ``total``: the most elements kept whole over all of them, in order; later ones past it get
    their statistics too. A TensorValue among them is taken as it is.

    Everything is batched (one ``tolist`` per dtype, one set of segment reductions for the
    statistics): a 5,000-step backward pass has tens of thousands of gradients to convert, and
    per-tensor torch calls would cost more than the backward pass itself.
    """
    out: list[TensorValue | None] = [None] * len(tensors)
    seen: dict[int, int] = {}
    small: dict[torch.dtype, list[tuple[int, torch.Tensor]]] = {}
    big: list[tuple[int, torch.Tensor]] = []
    for i, t in enumerate(tensors):
        if t is None:
            continue
        if type(t) is TensorValue:  # converted already (a big gradient, as the pass went on)
            out[i] = t
            continue
        if id(t) in seen:  # the same gradient often travels along several edges
            out[i] = seen[id(t)]
            continue
        seen[id(t)] = i
        if t.requires_grad:
            t = t.detach()
        n = t.numel()
        if not _is_numeric(t):
            out[i] = TensorValue(tuple(t.shape), dtype_name(t.dtype))
        elif n <= limit and (total is None or n <= total):
            small.setdefault(t.dtype, []).append((i, t))
            if total is not None:
                total -= n
        else:
            big.append((i, t))
    for dtype, items in small.items():
        joined = _flatten_dense_tensors([t for _, t in items]) if len(items) > 1 else items[0][1].reshape(-1)
        if joined.numel() <= FEW:
            # A handful of numbers (a training loop's scalar parameters, call after call): Python's
            # own rounding beats the seven torch calls of _seven_digits by ~20x.
            values = joined.tolist()
            if dtype in _SHORT_FLOATS:
                values = [float(f"{v:.7g}") if v == v and v not in _INFINITIES else v for v in values]
            bad = joined.is_floating_point() and any(v != v or v in _INFINITIES for v in values)
        else:
            values = (_seven_digits(joined) if dtype in _SHORT_FLOATS else joined).tolist()
            bad = joined.is_floating_point() and joined.numel() and not bool(torch.isfinite(joined).all())
        pos = 0
        name = dtype_name(dtype)
        for i, t in items:
            n = t.numel()
            chunk = values[pos:pos + n]
            pos += n
            if bad:
                chunk = [plain_float(v) for v in chunk]
            out[i] = TensorValue(tuple(t.shape), name, _nest(chunk, tuple(t.shape)))
    if big:
        for (i, t), stats in zip(big, batch_stats([t for _, t in big]), strict=True):
            out[i] = TensorValue(tuple(t.shape), dtype_name(t.dtype), None, stats)
    for i in range(len(tensors)):
        if isinstance(out[i], int):
            out[i] = out[out[i]]
    return out


def batch_stats(tensors: Sequence[torch.Tensor]) -> list[Stats]:
    """min, max, mean and norm of each tensor's finite elements.

    Tensors of equal size and dtype are stacked and reduced together, so thousands of gradients
    cost a handful of torch calls; sums keep 7 digits (_blocked_sums). A finite norm proves a row
    has no NaN or infinity; the rare other rows are redone with masked reductions.
    """
    out: list[Stats | None] = [None] * len(tensors)
    groups: dict[tuple[int, torch.dtype], list[int]] = {}
    copies = [1] * len(tensors)
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        tensors[i], copies[i] = _one_copy(t)
        groups.setdefault((tensors[i].numel(), t.dtype), []).append(i)
    chunks = []
    for (numel, _dtype), members in groups.items():
        per_chunk = max(1, STATS_CHUNK // max(numel, 1))
        chunks.extend((numel, members[k:k + per_chunk]) for k in range(0, len(members), per_chunk))
    for numel, members in chunks:
        # One C++ call joins the group (stacking reshaped views cost two Python calls per tensor).
        rows = _flatten_dense_tensors([tensors[i].detach() for i in members]).view(len(members), numel)
        if not rows.is_floating_point():
            rows = rows.to(torch.float64)
        elif rows.dtype in (torch.float16, torch.bfloat16):  # a block's sum would be rounded to 8-11 bits
            rows = rows.float()
        total, squares = _blocked_sums(rows)
        norm = squares.sqrt()
        fast = torch.isfinite(norm).tolist()
        table = _seven_digits(torch.stack([rows.amin(1).double(), rows.amax(1).double(), total / numel, norm], dim=1))
        for k, (i, ok, (lo, hi, mu, nr)) in enumerate(zip(members, fast, table.tolist(), strict=True)):
            stats = Stats(lo, hi, mu, nr) if ok else _masked_stats(rows[k])
            if copies[i] > 1:  # each element counted copies[i] times: the same min, max and mean
                stats = Stats(stats.min, stats.max, stats.mean, _r(stats.norm * math.sqrt(copies[i])))
            out[i] = stats
    return out


def _one_copy(t: torch.Tensor) -> tuple[torch.Tensor, int]:
    """A view expanded along dimensions of stride 0 (``x.expand(10**5, 10**5)``) repeats one copy of
    its data: (that copy, how many times), so its statistics never materialise the whole view."""
    if t.dim() == 0 or 0 not in t.stride():
        return t, 1
    copies = 1
    for dim, (size, stride) in enumerate(zip(t.shape, t.stride(), strict=True)):
        if stride == 0 and size > 1:
            t = t.narrow(dim, 0, 1)
            copies *= size
    return t, copies


def _blocked_sums(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's sum and sum of squares, in float64, from float32 sums of SUM_BLOCK elements.

    A float32 norm of 2,000,000 elements was off in the 5th digit; converting every row to float64
    first was exact but an order of magnitude slower on a big graph's gradients.
    Blocks of 1,024 summed in the rows' dtype and added up in float64 keep 7 digits at float32 speed.
    """
    n, m = rows.shape
    full = m - m % SUM_BLOCK
    total = torch.zeros(n, dtype=torch.float64)
    squares = torch.zeros(n, dtype=torch.float64)
    if full:
        blocks = rows[:, :full].reshape(n, -1, SUM_BLOCK)
        total += blocks.sum(2).double().sum(1)
        squares += torch.linalg.vector_norm(blocks, dim=2).double().square().sum(1)
    if full < m:
        rest = rows[:, full:]
        total += rest.sum(1).double()
        squares += torch.linalg.vector_norm(rest, dim=1).double().square()
    return total, squares


def _masked_stats(row: torch.Tensor) -> Stats:
    """Statistics over the finite elements of one row that holds NaN or infinity (or overflows)."""
    row = row.to(torch.float64)
    finite = row[torch.isfinite(row)]
    if finite.numel() == 0:
        return Stats(math.nan, math.nan, math.nan, math.nan)
    return Stats(_r(finite.min().item()), _r(finite.max().item()), _r(finite.mean().item()),
                 _r(torch.linalg.vector_norm(finite).item()))


def _r(x: float) -> float:
    """Seven significant digits: what float32 data supports, and a third of the JSON."""
    return float(f"{x:.7g}")
