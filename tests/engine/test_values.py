"""Tensor to TensorValue conversion: whole small values, exact statistics for big ones, odd dtypes."""

import math

import pytest
import torch

from gradviz.core.result import TensorValue
from gradviz.engine.values import batch_stats, tensor_value, tensor_values


def test_small_values_are_nested_lists_with_nonfinite_spelled_out():
    v = tensor_value(torch.tensor([[1.0, float("nan")], [float("inf"), -float("inf")]]))
    assert v.shape == (2, 2) and v.dtype == "float32"
    assert v.data == [[1.0, "nan"], ["inf", "-inf"]] and v.stats is None
    flat = v.flat()
    assert flat[0] == 1.0 and math.isnan(flat[1]) and flat[2] == math.inf


def test_scalars_ints_bools_and_empty():
    assert tensor_value(torch.tensor(3.5)).data == 3.5
    assert tensor_value(torch.tensor([1, 2], dtype=torch.int64)).data == [1, 2]
    assert tensor_value(torch.tensor([True, False])).data == [True, False]
    empty = tensor_value(torch.zeros(0, 3))
    assert empty.shape == (0, 3) and empty.data == []
    complex_value = tensor_value(torch.tensor([1 + 2j]))
    assert complex_value.dtype == "complex64" and complex_value.data is None


def test_big_tensors_get_statistics_of_their_finite_elements():
    t = torch.arange(20000, dtype=torch.float32)
    t[5] = float("nan")
    t[6] = float("inf")
    v = tensor_value(t, limit=10_000)
    finite = torch.cat([t[:5], t[7:]]).double()
    assert v.data is None and v.shape == (20000,)
    assert v.stats.min == 0.0 and v.stats.max == 19999.0
    assert v.stats.mean == pytest.approx(finite.mean().item())
    assert v.stats.norm == pytest.approx(finite.norm().item())


def test_batch_matches_one_by_one_and_shares_repeated_tensors():
    torch.manual_seed(0)
    ts = [torch.randn(300), torch.randn(40, 40), None, torch.randn(300)]
    ts.append(ts[0])
    values = tensor_values(ts, limit=256)
    assert values[2] is None and values[4] is values[0]
    for t, v in zip(ts, values, strict=True):
        if t is None:
            continue
        assert v.stats.norm == pytest.approx(t.norm().item(), rel=1e-5)
        assert v.stats.min == pytest.approx(t.min().item())
        assert v.stats.mean == pytest.approx(t.mean().item(), abs=1e-6)


def test_all_nonfinite_row_has_nan_statistics():
    (stats,) = batch_stats([torch.full((500,), float("nan"))])
    assert all(math.isnan(x) for x in (stats.min, stats.max, stats.mean, stats.norm))


def test_values_survive_json():
    from gradviz.core.plain import from_plain, to_plain
    v = tensor_value(torch.tensor([float("-inf"), 2.0]))
    assert from_plain(TensorValue, to_plain(v)) == v


def test_statistics_keep_seven_digits_for_millions_of_elements_in_any_dtype():
    """Sums in blocks, added up in float64: a plain float32 norm of 2,000,000 elements is off in the
    5th digit; float16/bfloat16/int rows are widened first."""
    torch.manual_seed(0)
    tensors = [torch.randn(2_000_000) + 0.25, *(torch.randn(5_000) * 3 for _ in range(40)),
               torch.randn(3_000).to(torch.bfloat16), torch.randn(3_000).half(),
               torch.randint(-1000, 1000, (70_001,)), torch.rand(1_023) + 1]
    for t, stats in zip(tensors, batch_stats(tensors), strict=True):
        exact = t.double()
        want = (exact.min().item(), exact.max().item(), exact.mean().item(), exact.norm().item())
        got = (stats.min, stats.max, stats.mean, stats.norm)
        scale = exact.abs().max().item()  # the mean near zero is judged against the values' size
        for g, w in zip(got, want, strict=True):
            assert abs(g - w) <= 1e-6 * max(abs(w), 1e-3 * scale), (t.dtype, t.numel(), got, want)
