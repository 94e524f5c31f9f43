"""Turn torch and Python errors into a plain message and, for common autograd mistakes, a hint."""

from __future__ import annotations

import difflib
import re

from gradviz.core.i18n import _N, t
from gradviz.engine.refusals import explain_refusal

# Each rule: (pattern searched in the error text, hint). The first match wins; the hint is
# translated when it is given (the run's language is set after this module is imported).
_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"grad can be implicitly created only for scalar outputs"),
     _N("backward() needs a single number to start from. Reduce the tensor first, e.g. "
        "y.sum().backward(), or say which gradient flows in: y.backward(gradient=torch.ones_like(y)).")),
    (re.compile(r"element 0 of tensors does not require grad and does not have a grad_fn"),
     _N("Nothing in this computation requires a gradient, so there is no graph to go back through. "
        "Create the input with requires_grad=True (e.g. torch.tensor([1.0], requires_grad=True)) "
        "and check that the computation did not run under torch.no_grad() or use .detach().")),
    (re.compile(r"a leaf Variable that requires grad is being used in an in-place operation"),
     _N("A leaf tensor that requires grad can't be changed in place while autograd watches it. "
        "Update it inside a \"with torch.no_grad():\" block (as optimizers do), or change its .data.")),
    (re.compile(r"Only Tensors of floating point and complex dtype can require gradients"),
     _N("Gradients need floating-point numbers. Write 1.0 instead of 1, or pass dtype=torch.float32 "
        "(e.g. torch.tensor([1.0, 2.0], requires_grad=True) or torch.arange(4.0)).")),
    (re.compile(r"one of the variables needed for gradient computation has been modified by an "
                r"inplace operation"),
     _N("A tensor that backward() needs was changed in place after it was used. Use the out-of-place "
        "version (x = x + 1 instead of x += 1, relu instead of relu_) or .clone() it first.")),
    (re.compile(r"mat1 and mat2 shapes cannot be multiplied|size mismatch|shapes cannot be multiplied"),
     _N("For a @ b the last dimension of a must equal the first dimension of b (for 2-D tensors: "
        "(n, k) @ (k, m)). Print a.shape and b.shape; .T or .transpose(0, 1) swaps the two dimensions.")),
    (re.compile(r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\)"),
     _N("The two tensors' shapes don't broadcast: each dimension, counted from the right, must be "
        "equal or 1. Print both .shape values; .unsqueeze() or .view() can add a dimension of size 1.")),
    (re.compile(r"expected scalar type \w+ but found \w+|expected .*dtype.* but got|"
                r"expected m1 and m2 to have the same dtype"),
     _N("The tensors have different dtypes. Convert one with .float() (or .double(), .long()), or "
        "create both with the same dtype=.")),
    (re.compile(r"'Tensor' object is not callable"),
     _N("A tensor was called like a function. Index it with square brackets (x[0], not x(0)), or "
        "check that a name such as loss or model wasn't reused for a tensor.")),
    (re.compile(r"Expected input batch_size \(\d+\) to match target batch_size \(\d+\)"),
     _N("The model's output and the targets need the same number of rows (the batch). Print "
        "output.shape and target.shape.")),
    (re.compile(r"Can't call numpy\(\) on Tensor that requires grad"),
     _N("Use .detach() first, or better stay in torch: .tolist() or .item() give Python numbers.")),
    (re.compile(r"a Tensor with \d+ elements cannot be converted to Scalar|"
                r"only one element tensors can be converted to Python scalars"),
     _N(".item() (and float(), int()) work only on a tensor with exactly one element. Reduce it first "
        "(e.g. .sum() or .mean()) or use .tolist() for all the numbers.")),
    (re.compile(r"the derivative for .* is not implemented"),
     _N("This operation has no gradient. Look for a differentiable alternative.")),
    (re.compile(r"does not require grad|One of the differentiated Tensors does not require grad"),
     _N("torch.autograd.grad can only differentiate with respect to tensors created with "
        "requires_grad=True that the output was computed from.")),
    (re.compile(r"One of the differentiated Tensors appears to not have been used in the graph"),
     _N("One of the inputs you asked a gradient for did not take part in computing the output. "
        "Pass allow_unused=True to get None for it, or remove it from the inputs.")),
    (re.compile(r"can't convert np\.ndarray of type"),
     _N("torch.tensor needs an array of numbers (float, int or bool), not of Python objects: convert "
        "it first, e.g. np.array(values, dtype=np.float32).")),
    (re.compile(r"view size is not compatible with input tensor's size and stride"),
     _N("The tensor isn't contiguous in memory (e.g. after .t() or .transpose()). Use .reshape(…) "
        "instead of .view(…), or call .contiguous() first.")),
    (re.compile(r"shape '\[.*\]' is invalid for input of size \d+"),
     _N("The new shape must have as many elements as the tensor (multiply the sizes). Use -1 for one "
        "dimension to let torch work it out, e.g. x.view(-1, 4).")),
    (re.compile(r"Dimension out of range"),
     _N("The tensor has fewer dimensions than the dim you passed. Print x.shape (or x.dim()); "
        "dims count from 0, and -1 is the last one.")),
]

SECOND_TIME = re.compile(r"Trying to backward through the graph a second time")
#: Set by the tracer on a "backward a second time" error: the line of the backward() that freed
#: the saved values this one needed (the hint names it).
FREED_AT = "_gradviz_freed_at"

_GRAD_NONE = re.compile(r"'NoneType' object has no attribute '(\w+)'")
_NUMBER_ATTR = re.compile(r"'(float|int)' object has no attribute '(\w+)'")
_NONE_ATTR = re.compile(r"'NoneType' object has no attribute '(\w+)'")
_METHOD_ATTR = re.compile(r"'(builtin_function_or_method|method)' object has no attribute '(\w+)'")


def explain(exc: BaseException, source_line: str | None) -> tuple[str, str | None]:
    """(plain message, teaching hint or None) for an exception raised by a user program."""
    refusal = explain_refusal(exc)
    if refusal is not None:
        return refusal
    text = str(exc)
    if isinstance(exc, KeyError):
        text = repr(exc.args[0]) if exc.args else ""
    message = _first_lines(text) or type(exc).__name__
    src = source_line or ""
    if isinstance(exc, AttributeError):
        m = _GRAD_NONE.search(text)
        if m and ".grad" in src:
            return message, t(
                ".grad is None here, so it has no '{name}'. A tensor's .grad stays None "
                "until a backward() reaches it: was backward() called? does the tensor have "
                "requires_grad=True? is it a leaf (created by you, not computed)? zero_grad() "
                "also sets .grad to None. Check with \"if x.grad is not None:\".", name=m.group(1)
            )
        m = _NUMBER_ATTR.search(text)
        if m and m.group(2) in ("backward", "grad", "requires_grad", "item", "shape"):
            return message, t(
                "This is a plain Python {kind}, not a tensor: .item() and float() turn a "
                "tensor into a number, which autograd can't follow. Keep the tensor (e.g. "
                "loss.backward(), then print(loss.item())).", kind=m.group(1)
            )
        if _NONE_ATTR.search(text) and m is None:
            name = _NONE_ATTR.search(text).group(1)
            return message, t(
                "The value is None, so it has no '{name}'. Did a function forget its return, or "
                "did an in-place method (like list.sort() or .append()) return None?", name=name
            )
        m = _METHOD_ATTR.search(text)
        if m:
            return message, t(
                "Something is a method, not its result: add parentheses before .{name}, "
                "e.g. y.sum().backward() instead of y.sum.backward().", name=m.group(2)
            )
    if isinstance(exc, TypeError) and "unexpected keyword argument 'requires_grad'" in text:
        if "np." in src or "numpy" in src:
            return message, t("numpy arrays don't track gradients: only torch tensors take requires_grad. "
                              "Use torch instead, e.g. torch.arange(4.0, requires_grad=True).")
        return message, t("Only torch tensors take requires_grad, e.g. torch.tensor([1.0, 2.0], requires_grad=True).")
    if isinstance(exc, EOFError):
        return message, t("gradviz runs programs without a keyboard, so input() has nothing to read. Put the "
                          "value in the program instead (e.g. n = 5).")
    if isinstance(exc, RecursionError):
        return message, t("A function kept calling itself (about 1,000 calls deep). Check the case that "
                          "should stop the recursion, or use a loop.")
    if isinstance(exc, NameError):
        name = _name_of(text)
        if name in ("np", "numpy"):
            return message, t("Add \"import numpy as np\" at the top of the program (or stay in torch: "
                              "torch.tensor, torch.zeros, torch.exp … work like numpy's).")
        if name in ("nn", "F", "optim"):
            full = {"nn": "import torch.nn as nn", "F": "import torch.nn.functional as F",
                    "optim": "import torch.optim as optim"}[name]
            return message, t("Add \"{statement}\" at the top of the program.", statement=full)
        if name == "torch":
            return message, t("Add \"{statement}\" at the top of the program.", statement="import torch")
    if SECOND_TIME.search(text):
        return message, _freed_hint(getattr(exc, FREED_AT, None))
    if "'Tensor' object is not callable" in text and re.search(r"\.grad\s*\(", src):
        return message, t(".grad is an attribute, not a method: write x.grad, not x.grad(). "
                          "(It holds the gradient once backward() has run.)")
    for pattern, hint in _RULES:
        if pattern.search(text):
            return message, t(hint)
    return message, None


def _freed_hint(line: int | None) -> str:
    """The "backward a second time" hint, naming the call that freed the saved values if known."""
    where = t("The backward() at line {line}", line=line) if line else t("An earlier backward()")
    return t("{where} freed the values the graph saved (it ran without retain_graph=True). Pass "
             "retain_graph=True to that call if you want to run backward through this graph again, "
             "or rebuild the graph (run the forward computation again) before this backward().", where=where)


def did_you_mean(name: str, known: list[str]) -> str | None:
    """'Did you mean …?' for a NameError, from the names the program can see."""
    close = difflib.get_close_matches(name, [k for k in known if not k.startswith("_")], n=1, cutoff=0.75)
    if close:
        return t("Did you mean '{name}'?", name=close[0])
    return None


def _name_of(text: str) -> str | None:
    m = re.match(r"name '(\w+)' is not defined", text)
    return m.group(1) if m else None


def _first_lines(text: str, limit: int = 1200) -> str:
    """Torch errors can carry long C++ traces; keep the readable head."""
    text = text.strip()
    cut = text.find("\nException raised from")
    if cut >= 0:
        text = text[:cut].rstrip()
    if len(text) > limit:
        text = text[:limit].rstrip() + " …"
    return text
