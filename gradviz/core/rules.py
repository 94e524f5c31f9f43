"""Local derivative rules of autograd ops, written as plain-text formulas for the inspector."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

#: What every formula calls the gradient arriving at the node from above.
UPSTREAM = "g = ∂L/∂y, the gradient arriving at this node"


@dataclass(frozen=True)
class Rule:
    """The local derivative rule of one op.

    Parameters
    ----------
    name
        The op as a person writes it (``mul``, ``matmul``, ``mse_loss``).
    forward
        What the op computes, e.g. ``y = a · b``.
    grads
        One formula per input, e.g. ``∂L/∂a = g · b``.
    note
        A short remark (broadcasting, saved tensors, what the engine does), or "".
    """

    name: str
    forward: str
    grads: tuple[str, ...]
    note: str = ""

    def text(self) -> str:
        """The rule as a few lines of text: forward, then one line per input gradient."""
        lines = [self.forward, *self.grads]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


_BROADCAST = "Where an input was broadcast, its gradient is summed back to the input's shape."

# Keyed by the torch node name without "Backward" and the trailing overload number.
_RULES: dict[str, Rule] = {
    "Add": Rule("add", "y = a + b", ("∂L/∂a = g", "∂L/∂b = g"), _BROADCAST),
    "Sub": Rule("sub", "y = a − b", ("∂L/∂a = g", "∂L/∂b = −g"), _BROADCAST),
    "Rsub": Rule("rsub", "y = b − a", ("∂L/∂a = −g", "∂L/∂b = g"), _BROADCAST),
    "Neg": Rule("neg", "y = −a", ("∂L/∂a = −g",)),
    "Mul": Rule("mul", "y = a · b", ("∂L/∂a = g · b", "∂L/∂b = g · a"), _BROADCAST),
    "Div": Rule("div", "y = a / b", ("∂L/∂a = g / b", "∂L/∂b = −g · a / b²"), _BROADCAST),
    "Pow": Rule("pow", "y = aⁿ", ("∂L/∂a = g · n · aⁿ⁻¹", "∂L/∂n = g · aⁿ · ln a"),
                "a ** n with a tensor exponent also sends a gradient to n."),
    "Sqrt": Rule("sqrt", "y = √a", ("∂L/∂a = g / (2 · √a)",)),
    "Rsqrt": Rule("rsqrt", "y = 1 / √a", ("∂L/∂a = −g / (2 · a^(3/2))",)),
    "Abs": Rule("abs", "y = |a|", ("∂L/∂a = g · sign(a)",)),
    "Reciprocal": Rule("reciprocal", "y = 1 / a", ("∂L/∂a = −g / a²",)),
    "Mm": Rule("mm", "Y = A @ B", ("∂L/∂A = G @ Bᵀ", "∂L/∂B = Aᵀ @ G")),
    "Matmul": Rule("matmul", "Y = A @ B", ("∂L/∂A = G @ Bᵀ", "∂L/∂B = Aᵀ @ G")),
    "Bmm": Rule("bmm", "Yᵢ = Aᵢ @ Bᵢ (per batch i)", ("∂L/∂Aᵢ = Gᵢ @ Bᵢᵀ", "∂L/∂Bᵢ = Aᵢᵀ @ Gᵢ")),
    "Mv": Rule("mv", "y = A @ v", ("∂L/∂A = g ⊗ v  (outer product)", "∂L/∂v = Aᵀ @ g")),
    "Addmm": Rule("addmm (Linear)", "Y = b + X @ W",
                  ("∂L/∂b = Σ_rows G", "∂L/∂X = G @ Wᵀ", "∂L/∂W = Xᵀ @ G"),
                  "nn.Linear computes x @ weightᵀ + bias through addmm."),
    "Dot": Rule("dot", "y = Σᵢ aᵢ · bᵢ", ("∂L/∂a = g · b", "∂L/∂b = g · a"),
                "torch.dot(x, x) sends both gradients to x: they are summed (fan-in)."),
    "Sum": Rule("sum", "y = Σᵢ aᵢ", ("∂L/∂aᵢ = g  (g copied to every element)",)),
    "Mean": Rule("mean", "y = (1/N) · Σᵢ aᵢ", ("∂L/∂aᵢ = g / N",), "N is the number of elements averaged."),
    "Relu": Rule("relu", "y = max(a, 0)", ("∂L/∂a = g · [a > 0]",),
                 "The gradient passes where the input was positive."),
    "LeakyRelu": Rule("leaky_relu", "y = a if a > 0 else α · a", ("∂L/∂a = g · (1 if a > 0 else α)",)),
    "Sigmoid": Rule("sigmoid", "y = σ(a) = 1 / (1 + e⁻ᵃ)", ("∂L/∂a = g · y · (1 − y)",),
                    "Uses the saved output y."),
    "Tanh": Rule("tanh", "y = tanh(a)", ("∂L/∂a = g · (1 − y²)",), "Uses the saved output y."),
    "Gelu": Rule("gelu", "y = a · Φ(a)", ("∂L/∂a = g · (Φ(a) + a · φ(a))",)),
    "Exp": Rule("exp", "y = eᵃ", ("∂L/∂a = g · y",), "Uses the saved output y = eᵃ."),
    "Log": Rule("log", "y = ln a", ("∂L/∂a = g / a",)),
    "Sin": Rule("sin", "y = sin a", ("∂L/∂a = g · cos a",)),
    "Cos": Rule("cos", "y = cos a", ("∂L/∂a = −g · sin a",)),
    "Softmax": Rule("softmax", "yᵢ = eᵃⁱ / Σⱼ eᵃʲ", ("∂L/∂aᵢ = yᵢ · (gᵢ − Σⱼ gⱼ · yⱼ)",),
                    "Along the softmax dimension; uses the saved output y."),
    "LogSoftmax": Rule("log_softmax", "yᵢ = aᵢ − log Σⱼ eᵃʲ", ("∂L/∂aᵢ = gᵢ − softmax(a)ᵢ · Σⱼ gⱼ",),
                       "cross_entropy = nll_loss(log_softmax(a)): this is its first half."),
    "NllLoss": Rule("nll_loss", "L = −(1/N) · Σₙ y[n, tₙ]", ("∂L/∂y[n, tₙ] = −g / N,  0 elsewhere",),
                    "cross_entropy = nll_loss(log_softmax(a)): together ∂L/∂a = (softmax(a) − onehot(t)) / N."),
    "CrossEntropy": Rule("cross_entropy", "L = −(1/N) · Σₙ log softmax(aₙ)[tₙ]",
                         ("∂L/∂a = g · (softmax(a) − onehot(t)) / N",)),
    "MseLoss": Rule("mse_loss", "L = (1/N) · Σᵢ (aᵢ − tᵢ)²",
                    ("∂L/∂a = g · 2 · (a − t) / N", "∂L/∂t = −g · 2 · (a − t) / N"),
                    "With reduction='sum' there is no 1/N."),
    "BinaryCrossEntropyWithLogits": Rule(
        "binary_cross_entropy_with_logits", "L = −(1/N) · Σ [t · log σ(a) + (1 − t) · log(1 − σ(a))]",
        ("∂L/∂a = g · (σ(a) − t) / N",)),
    "T": Rule("t", "Y = Aᵀ", ("∂L/∂A = Gᵀ",)),
    "Transpose": Rule("transpose", "Y = A with two dims swapped", ("∂L/∂A = G with the same dims swapped back",)),
    "Permute": Rule("permute", "Y = A with dims reordered", ("∂L/∂A = G with the inverse order",)),
    "View": Rule("view", "Y = A seen with another shape", ("∂L/∂A = G reshaped to A's shape",)),
    "Reshape": Rule("reshape", "Y = A with another shape", ("∂L/∂A = G reshaped to A's shape",)),
    "ReshapeAlias": Rule("reshape", "Y = A with another shape", ("∂L/∂A = G reshaped to A's shape",)),
    "UnsafeView": Rule("view", "Y = A seen with another shape", ("∂L/∂A = G reshaped to A's shape",)),
    "Unsqueeze": Rule("unsqueeze", "Y = A with a new dim of size 1", ("∂L/∂A = G with that dim removed",)),
    "Squeeze": Rule("squeeze", "Y = A without dims of size 1", ("∂L/∂A = G with those dims put back",)),
    "Expand": Rule("expand", "Y = A repeated along broadcast dims", ("∂L/∂A = G summed over the expanded dims",)),
    "Clone": Rule("clone", "Y = A (a copy)", ("∂L/∂A = G",)),
    "Select": Rule("select / index", "y = a[i]", ("∂L/∂a = zeros with g at position i",)),
    "Index": Rule("index", "y = a[idx]", ("∂L/∂a = zeros with g scattered back to idx",)),
    "Slice": Rule("slice", "y = a[i:j]", ("∂L/∂a = zeros with g placed in i:j",)),
    "Max": Rule("max", "y = max(a)", ("∂L/∂a = g at the arg-max, 0 elsewhere",)),
    "Min": Rule("min", "y = min(a)", ("∂L/∂a = g at the arg-min, 0 elsewhere",)),
    "Cat": Rule("cat", "Y = [A; B; …]", ("∂L/∂A, ∂L/∂B, … = the matching slices of G",)),
    "Stack": Rule("stack", "Y = stack(A, B, …)", ("∂L/∂A, ∂L/∂B, … = the matching slices of G",)),
    "Clamp": Rule("clamp", "y = min(max(a, lo), hi)", ("∂L/∂a = g · [lo ≤ a ≤ hi]",)),
    "NativeLayerNorm": Rule("layer_norm", "y = (a − μ) / √(σ² + ε) · γ + β",
                            ("∂L/∂β = Σ g", "∂L/∂γ = Σ g · â", "∂L/∂a = (γ/σ) · (g − mean(g) − â · mean(g · â))"),
                            "â is the normalised input; means are over the normalised dims."),
    "Embedding": Rule("embedding", "Y = W[idx]", ("∂L/∂W = zeros with G's rows added at idx",)),
    "AccumulateGrad": Rule("AccumulateGrad", "x.grad ← x.grad + g",
                           ("x.grad after = x.grad before + g  (x.grad None counts as 0)",),
                           "This is where a leaf's .grad is written. It adds: without zero_grad it keeps growing."),
}

_NAME = re.compile(r"^(?:torch::autograd::)?(?P<base>[A-Za-z]+?)(?:Backward)?\d*$")


def base_name(op: str) -> str:
    """``MulBackward0`` → ``Mul``; ``torch::autograd::AccumulateGrad`` → ``AccumulateGrad``."""
    op = op.strip().rsplit("::", 1)[-1]
    m = _NAME.match(op)
    return m.group("base") if m else op


def rule_for(op: str, attrs: Mapping[str, str] | None = None) -> Rule | None:
    """The rule of a torch backward node (``MulBackward0``, ``AddmmBackward0`` …), or None if unknown.

    ``attrs`` are the node's non-tensor saved values; a known exponent of ``PowBackward0``
    is written into the formula.
    """
    base = base_name(op)
    rule = _RULES.get(base)
    if rule is None:
        return None
    if base == "Pow":
        overload = op.strip()[-1:]
        if overload == "2":  # a number raised to a tensor power: c ** a
            return Rule("pow", "y = cᵃ", ("∂L/∂a = g · cᵃ · ln c",))
        if overload == "0":  # tensor ** number: the exponent is a saved constant
            if attrs and "exponent" in attrs:
                n, m = _short(attrs["exponent"]), _minus_one(attrs["exponent"])
                power = {"0": "1", "1": "a"}.get(m, f"a^{m}")
                return Rule("pow", f"y = a^{n}", (f"∂L/∂a = g · {n} · {power}",))
            return Rule("pow", "y = aⁿ", ("∂L/∂a = g · n · aⁿ⁻¹",))
    return rule


def known_ops() -> list[str]:
    """Names of the ops that have a rule (without ``Backward`` and the overload number)."""
    return sorted(_RULES)


def _short(value: str) -> str:
    try:
        f = float(value)
    except ValueError:
        return value
    return str(int(f)) if f.is_integer() else f"{f:g}"


def _minus_one(value: str) -> str:
    try:
        f = float(value) - 1
    except ValueError:
        return f"({value} − 1)"
    return str(int(f)) if f.is_integer() else f"{f:g}"
