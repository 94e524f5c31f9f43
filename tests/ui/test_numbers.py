"""Text of numbers, shapes, values and op names: compact on the canvas, fuller in the panels."""

import pytest

from gradviz.core.result import Stats, TensorValue
from gradviz.ui.canvas.callouts import add_values
from gradviz.ui.numbers import (
    CANVAS,
    compact_value,
    format_block,
    format_number,
    format_shape,
    format_value,
    split_op,
)


@pytest.mark.parametrize("x, text", [
    (2.0, "2"), (-0.5, "-0.5"), (3.14159265, "3.142"), (0.0012345, "0.001234"), (1.2e-4, "1.2e-4"),
    (123456.0, "123456"), (1.5e7, "1.5e7"), (0.0, "0"), (7, "7"), ("nan", "nan"), ("-inf", "-inf"),
    (float("inf"), "inf"),
])
def test_canvas_number(x, text):
    assert format_number(x, style=CANVAS) == text


@pytest.mark.parametrize("x, canvas, panel, panel3", [
    # The same rule: integers stay integers, non-finite spelled out, strings kept.
    (2.0, "2", "2", "2"), (-0.5, "-0.5", "-0.5", "-0.5"), (True, "True", "True", "True"),
    (float("nan"), "nan", "nan", "nan"), ("-inf", "-inf", "-inf", "-inf"), (123456.0, "123456", "123456", "123456"),
    (3.14159, "3.142", "3.142", "3.14"),
    # What differs: where the exponent starts, and how it is written.
    (0.00012345, "1.2e-4", "0.0001234", "0.000123"), (12345.6, "1.2e4", "1.235e+04", "1.23e+04"),
    (1.2e-5, "1.2e-5", "1.20e-05", "1.2e-05"), (5_000_000.0, "5e6", "5000000", "5000000"),
    (20_000_000, "2e7", "20000000", "20000000"),
])
def test_canvas_and_panel_numbers(x, canvas, panel, panel3):
    assert format_number(x, style=CANVAS) == canvas
    assert format_number(x) == panel and format_number(x, 3) == panel3


def test_format_shape():
    assert format_shape(()) == "scalar" and format_shape((3, 64)) == "[3, 64]"
    assert format_shape(None) == "?" and format_shape(None, unknown="") == ""


def test_compact_value_small_and_big():
    assert compact_value(TensorValue((4,), "float32", [0.0, 2.0, 4.0, 6.0])) == "[0, 2, 4, 6]"
    assert compact_value(TensorValue((2, 2), "float32", [[1.0, 2.5], [3.0, "nan"]])) == "[[1, 2.5], [3, nan]]"
    big = TensorValue((3, 64), "float32", None, Stats(-1.0, 1.0, 0.0, 0.0012))
    assert compact_value(big) == "[3, 64] \u2016g\u2016=0.0012"
    tiny = TensorValue((3, 64), "float32", None, Stats(-1.0, 1.0, 0.0, 1.23e-5))
    assert compact_value(tiny) == "[3, 64] \u2016g\u2016=1.2e-5"
    # Full data but too many elements: shape and the norm computed from the data.
    assert compact_value(TensorValue((8,), "float32", [1.0] * 8)) == "[8] \u2016g\u2016=2.828"
    assert compact_value(None) == "None"


def test_panel_value_and_block():
    big = TensorValue((3, 64), "float32", None, Stats(-1.0, 1.0, 0.0, 0.0012))
    assert format_value(big) == "[3, 64] · ‖·‖ 0.0012 · min -1 · max 1"
    ones = TensorValue((8,), "float32", [1.0] * 8)
    # The panels write out what fits in their characters; the canvas stops at a few elements.
    assert format_value(ones) == "[1, 1, 1, 1, 1, 1, 1, 1]" and format_value(ones, 10) == "[8] · ‖·‖ 2.83"
    assert format_block(TensorValue((2, 2), "float32", [[1.0, 2.5], [30.0, "nan"]])) == "[  1  2.5]\n[ 30  nan]"
    assert format_value(None) == "None" and format_block(None) == "None"


def test_add_values_and_split_op():
    a = TensorValue((2,), "float32", [1.0, 2.0])
    assert add_values([a, a, None]).data == [2.0, 4.0]
    assert add_values([TensorValue((2,), "float32", None, Stats(0, 1, 0, 1))]) is None
    assert split_op("MulBackward0") == ("Mul", "Backward0")
    assert split_op("AccumulateGrad") == ("Accumulate", "Grad")
    assert split_op("torch::autograd::CopySlices") == ("CopySlices", "")
