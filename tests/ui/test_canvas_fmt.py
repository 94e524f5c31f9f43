"""Compact text of numbers, shapes, values and op names on the canvas."""

import pytest

from gradviz.core.result import Stats, TensorValue
from gradviz.ui.canvas.fmt import add_values, fmt_number, fmt_shape, fmt_value, split_op


@pytest.mark.parametrize("x, text", [
    (2.0, "2"), (-0.5, "-0.5"), (3.14159265, "3.142"), (0.0012345, "0.001234"), (1.2e-4, "1.2e-4"),
    (123456.0, "123456"), (1.5e7, "1.5e7"), (0.0, "0"), (7, "7"), ("nan", "nan"), ("-inf", "-inf"),
    (float("inf"), "inf"),
])
def test_fmt_number(x, text):
    assert fmt_number(x) == text


def test_fmt_shape():
    assert fmt_shape(()) == "scalar" and fmt_shape((3, 64)) == "[3, 64]" and fmt_shape(None) == ""


def test_fmt_value_small_and_big():
    assert fmt_value(TensorValue((4,), "float32", [0.0, 2.0, 4.0, 6.0])) == "[0, 2, 4, 6]"
    assert fmt_value(TensorValue((2, 2), "float32", [[1.0, 2.5], [3.0, "nan"]])) == "[[1, 2.5], [3, nan]]"
    big = TensorValue((3, 64), "float32", None, Stats(-1.0, 1.0, 0.0, 0.0012))
    assert fmt_value(big) == "[3, 64] \u2016g\u2016=0.0012"
    tiny = TensorValue((3, 64), "float32", None, Stats(-1.0, 1.0, 0.0, 1.23e-5))
    assert fmt_value(tiny) == "[3, 64] \u2016g\u2016=1.2e-5"
    # Full data but too many elements: shape and the norm computed from the data.
    assert fmt_value(TensorValue((8,), "float32", [1.0] * 8)) == "[8] \u2016g\u2016=2.828"
    assert fmt_value(None) == "None"


def test_add_values_and_split_op():
    a = TensorValue((2,), "float32", [1.0, 2.0])
    assert add_values([a, a, None]).data == [2.0, 4.0]
    assert add_values([TensorValue((2,), "float32", None, Stats(0, 1, 0, 1))]) is None
    assert split_op("MulBackward0") == ("Mul", "Backward0")
    assert split_op("AccumulateGrad") == ("Accumulate", "Grad")
    assert split_op("torch::autograd::CopySlices") == ("CopySlices", "")
