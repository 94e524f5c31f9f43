"""Local derivative rules: every op the issue names has a formula, torch node names map onto them."""

import pytest

from gradviz.core.rules import base_name, known_ops, rule_for

REQUIRED = {
    # torch backward node name -> words the formula must contain
    "AddBackward0": ("a + b", "∂L/∂a = g", "∂L/∂b = g"),
    "AddBackward1": ("a + b",),
    "SubBackward0": ("a − b", "∂L/∂b = −g"),
    "MulBackward0": ("a · b", "∂L/∂a = g · b", "∂L/∂b = g · a"),
    "DivBackward0": ("a / b", "∂L/∂b = −g · a / b²"),
    "PowBackward0": ("∂L/∂a = g · n · aⁿ⁻¹",),
    "MmBackward0": ("G @ Bᵀ", "Aᵀ @ G"),
    "AddmmBackward0": ("X @ W", "Xᵀ @ G", "Linear"),
    "DotBackward0": ("Σᵢ aᵢ · bᵢ", "∂L/∂a = g · b"),
    "SumBackward0": ("Σᵢ aᵢ", "= g"),
    "SumBackward1": ("Σᵢ aᵢ",),
    "MeanBackward0": ("1/N", "g / N"),
    "MeanBackward1": ("g / N",),
    "ReluBackward0": ("max(a, 0)", "[a > 0]"),
    "SigmoidBackward0": ("y · (1 − y)",),
    "TanhBackward0": ("1 − y²",),
    "ExpBackward0": ("eᵃ", "g · y"),
    "LogBackward0": ("ln a", "g / a"),
    "SinBackward0": ("g · cos a",),
    "CosBackward0": ("−g · sin a",),
    "SoftmaxBackward0": ("Σⱼ gⱼ · yⱼ",),
    "MseLossBackward0": ("(aᵢ − tᵢ)²", "2 · (a − t) / N"),
    "NllLossBackward0": ("cross_entropy", "softmax(a) − onehot(t)"),
    "LogSoftmaxBackward0": ("cross_entropy", "log Σⱼ eᵃʲ"),
    "torch::autograd::AccumulateGrad": ("x.grad ← x.grad + g",),
}


@pytest.mark.parametrize("op", sorted(REQUIRED))
def test_each_required_op_has_its_formula(op):
    rule = rule_for(op)
    assert rule is not None, op
    text = rule.text()
    for words in REQUIRED[op]:
        assert words in text, (op, words, text)


def test_base_name_strips_backward_and_overload():
    assert base_name("MulBackward0") == "Mul"
    assert base_name("LogSoftmaxBackward0") == "LogSoftmax"
    assert base_name("NativeLayerNormBackward0") == "NativeLayerNorm"
    assert base_name("torch::autograd::AccumulateGrad") == "AccumulateGrad"
    assert base_name("TBackward0") == "T"


def test_pow_writes_the_known_exponent_into_the_formula():
    assert rule_for("PowBackward0", {"exponent": "3"}).grads == ("∂L/∂a = g · 3 · a^2",)
    assert rule_for("PowBackward0", {"exponent": "2.0"}).grads == ("∂L/∂a = g · 2 · a",)
    assert rule_for("PowBackward0", {"exponent": "0.5"}).forward == "y = a^0.5"
    assert rule_for("PowBackward2").grads == ("∂L/∂a = g · cᵃ · ln c",)
    assert len(rule_for("PowBackward1").grads) == 2  # tensor exponent gets a gradient too


def test_unknown_op_has_no_rule_and_names_are_listed():
    assert rule_for("FrobnicateBackward0") is None
    assert rule_for("") is None
    assert {"Mul", "Add", "Mm", "Softmax", "MseLoss", "NllLoss"} <= set(known_ops())


def test_one_gradient_formula_per_input_for_binary_ops():
    for op in ("AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0", "MmBackward0", "DotBackward0"):
        assert len(rule_for(op).grads) == 2, op
    assert len(rule_for("AddmmBackward0").grads) == 3
