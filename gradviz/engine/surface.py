"""The allow-list: which torch names, tensor/module/optimizer attributes and Python builtins a program reaches.

User programs never see the real ``torch`` module (it exposes ``torch.os``, ``torch.sys`` …).
They see :class:`Namespace` proxies whose entries are listed here by name. Attribute access on
values goes through :func:`attr_action`, which decides per (type, name) and is cached. Calls that
need a check before they run (sizes, devices, backward, grad-touching methods) are
:class:`Intercept` objects; the interpreter calls ``invoke(ctx, line, args, kwargs)`` on them.
"""

from __future__ import annotations

import builtins
import collections
import functools
import inspect
import math
import random
import string
import time
import types
import typing
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from gradviz.engine.limits import (
    LimitExceeded,
    NotAllowed,
    check_format_spec,
    check_int_bits,
    check_int_pow,
    limit_error,
)

Tensor = torch.Tensor
Node = torch.autograd.graph.Node
BUILTIN_FN = types.BuiltinFunctionType
FUNCTION = types.FunctionType
METHOD = types.MethodType

#: The current run's context (one run at a time per process); Intercepts called from C use it.
CURRENT: list = [None]

# --------------------------------------------------------------------------------------------
# Intercepts: callables that check (or record) around the real call


class Intercept:
    """A callable the interpreter runs through ``handler(ctx, line, fn, args, kwargs)``."""

    __slots__ = ("fn", "handler")

    def __init__(self, fn: Callable, handler: Callable):
        self.fn = fn
        self.handler = handler

    def invoke(self, ctx, line, args, kwargs):
        return self.handler(ctx, line, self.fn, args, kwargs)

    def __call__(self, *args, **kwargs):
        ctx = CURRENT[0]
        if ctx is None:
            raise NotAllowed("this function can only be called while a program runs")
        return self.handler(ctx, ctx.line, self.fn, args, kwargs)

    def __repr__(self):
        return repr(self.fn)


# -- devices -----------------------------------------------------------------------------------

_CPU = torch.device("cpu")


def check_device(dev: Any) -> None:
    """Only the CPU: gradviz runs in a worker without accelerators and must not touch drivers."""
    if dev is None or dev == "cpu" or dev is _CPU:
        return
    if isinstance(dev, torch.device) and dev.type == "cpu":
        return
    if isinstance(dev, str) and dev.split(":")[0].strip() == "cpu":
        return
    raise NotAllowed(
        f"gradviz runs on the CPU only: device={dev!r} isn't available; leave device out or use 'cpu'"
    )


def _device_ctor(ctx, line, fn, args, kwargs):
    dev = fn(*args, **kwargs)
    check_device(dev)
    return dev


# -- element counts before allocation ---------------------------------------------------------


def _to_meta(v):
    if isinstance(v, Tensor):
        return v.detach().to("meta")
    if type(v) in (list, tuple) and v and any(isinstance(x, Tensor) for x in v):
        return type(v)(_to_meta(x) for x in v)
    return v


def _numel_of(out) -> int:
    if isinstance(out, Tensor):
        return out.numel()
    if isinstance(out, (list, tuple)):
        return sum(_numel_of(o) for o in out)
    return 0


def meta_numel(fn, args, kwargs) -> int | None:
    """Elements the call would produce, found by running it on meta tensors; None when unknown."""
    margs = tuple(_to_meta(a) for a in args)
    mkwargs = {k: _to_meta(v) for k, v in kwargs.items()} if kwargs else {}
    receiver = getattr(fn, "__self__", None)
    try:
        with torch.no_grad():
            if isinstance(receiver, Tensor):
                out = getattr(_to_meta(receiver), fn.__name__)(*margs, **mkwargs)
            else:
                if "device" in mkwargs:
                    mkwargs["device"] = "meta"
                out = fn(*margs, **mkwargs)
    except (LimitExceeded, NotAllowed):
        raise
    except Exception:
        return None
    return _numel_of(out)


def _check_meta(ctx, fn, args, kwargs, what="The result"):
    n = meta_numel(fn, args, kwargs)
    if n is not None:
        ctx.budget.too_many(n, what)


def _size_numel(args, kwargs) -> int | None:
    """numel of a size given as ints or one sequence of ints (``zeros(2, 3)``, ``zeros((2, 3))``)."""
    size = kwargs.get("size", args)
    if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
        size = size[0]
    n = 1
    for s in size:
        if type(s) is not int:
            return None
        n *= s if s > 0 else 0
    return n


def _plain_number(v) -> bool:
    return type(v) in (int, float, bool)


def _counted_numel(fn, args, kwargs) -> int | None:
    """Elements of arange/linspace/logspace/eye/full/randint/randperm worked out from the
    arguments; None when they aren't plain numbers. The meta dry run these would otherwise need
    imports torch's decomposition machinery on first use (0.7 s in a fresh engine)."""
    name = getattr(fn, "__name__", "")
    if name in ("arange", "range"):
        bounds = [kwargs[k] for k in ("start", "end", "step") if k in kwargs]
        values = list(args) + bounds
        if not values or not all(_plain_number(v) for v in values) or len(values) > 3:
            return None
        start, end, step = (0, values[0], 1) if len(values) == 1 else (values[0], values[1], values[2] if len(values) > 2 else 1)
        if step == 0 or not math.isfinite((end - start) / step):
            return None
        count = math.ceil((end - start) / step) + (1 if name == "range" else 0)
        return max(count, 0)
    if name in ("linspace", "logspace"):
        steps = kwargs.get("steps", args[2] if len(args) > 2 else None)
        return steps if type(steps) is int else None
    if name == "eye":
        n = kwargs.get("n", args[0] if args else None)
        m = kwargs.get("m", args[1] if len(args) > 1 else n)
        return n * m if type(n) is int and type(m) is int else None
    if name == "randperm":
        n = kwargs.get("n", args[0] if args else None)
        return n if type(n) is int else None
    if name == "full":
        size = kwargs.get("size", args[0] if args else None)
        return _size_numel((size,), {}) if size is not None else None
    if name == "randint":
        size = kwargs.get("size", args[-1] if args and isinstance(args[-1], (tuple, list, torch.Size)) else None)
        return _size_numel((size,), {}) if size is not None else None
    return None


def _creation(ctx, line, fn, args, kwargs):
    """zeros/ones/rand/randn/empty/full…: size from the arguments, else a dry run on meta."""
    if kwargs:
        check_device(kwargs.get("device"))
        if kwargs.get("pin_memory"):
            raise NotAllowed("pin_memory needs an accelerator; leave it out")
    n = _size_numel(args, kwargs) if fn not in _NEEDS_META else _counted_numel(fn, args, kwargs)
    if n is None:
        n = meta_numel(fn, args, dict(kwargs, device="meta"))
    if n is not None:
        ctx.budget.too_many(n, "The new tensor")
    return fn(*args, **kwargs)


def _data_numel(data, depth=0) -> int:
    """Elements of nested Python data, estimated from the first item of each level."""
    if isinstance(data, range):
        return len(data)
    if isinstance(data, (list, tuple)):
        if not data:
            return 0
        if depth > 64:
            return len(data)
        return len(data) * max(1, _data_numel(data[0], depth + 1))
    return 1


def _tensor_from_data(ctx, line, fn, args, kwargs):
    """torch.tensor(data) and friends: count the data first (``torch.tensor(range(10**12))``)."""
    if kwargs:
        check_device(kwargs.get("device"))
    if args:
        ctx.budget.too_many(_data_numel(args[0]), "The new tensor")
    return fn(*args, **kwargs)


def _legacy_ctor(ctx, line, fn, args, kwargs):
    """torch.Tensor(2, 3) (sizes) or torch.Tensor([1, 2]) (data)."""
    if kwargs:
        check_device(kwargs.get("device"))
    if args and all(type(a) is int for a in args):
        n = 1
        for a in args:
            n *= max(a, 0)
        ctx.budget.too_many(n, "The new tensor")
    elif args:
        ctx.budget.too_many(_data_numel(args[0]), "The new tensor")
    return fn(*args, **kwargs)


def _grow(ctx, line, fn, args, kwargs):
    """Ops whose output can be much larger than their inputs: dry run on meta first."""
    if kwargs:
        check_device(kwargs.get("device"))
    _check_meta(ctx, fn, args, kwargs)
    return fn(*args, **kwargs)


def _concat(ctx, line, fn, args, kwargs):
    """cat/stack of a list: the output has the inputs' elements (checked before copying)."""
    seq = args[0] if args else kwargs.get("tensors", ())
    if isinstance(seq, (list, tuple)):
        ctx.budget.too_many(
            sum(t.numel() for t in seq if isinstance(t, Tensor)), "The joined tensor"
        )
    return fn(*args, **kwargs)


def _to(ctx, line, fn, args, kwargs):
    """Tensor.to / Module.to: dtypes and the CPU only."""
    for a in args:
        if isinstance(a, (str, torch.device)):
            check_device(a)
        elif isinstance(a, Tensor):
            check_device(a.device)
    if kwargs:
        check_device(kwargs.get("device"))
    return fn(*args, **kwargs)


def _tensor_type(ctx, line, fn, args, kwargs):
    """Tensor.type(): the name, or a conversion to a dtype (never a CUDA type string)."""
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, str) and "cuda" in a.lower():
            raise NotAllowed("gradviz runs on the CPU only: CUDA tensor types aren't available")
    return fn(*args, **kwargs)


def _one_hot(ctx, line, fn, args, kwargs):
    x = args[0] if args else kwargs.get("tensor")
    classes = args[1] if len(args) > 1 else kwargs.get("num_classes", -1)
    if isinstance(x, Tensor):
        if classes == -1 and x.numel():
            classes = int(x.max()) + 1
        if isinstance(classes, int):
            ctx.budget.too_many(x.numel() * max(classes, 1), "The one-hot tensor")
    return fn(*args, **kwargs)


# -- autograd ------------------------------------------------------------------------------------


def _backward_method(ctx, line, fn, args, kwargs):
    return ctx.recorder.run_backward("backward", line, fn, args, kwargs)


def _autograd_backward(ctx, line, fn, args, kwargs):
    return ctx.recorder.run_backward("autograd.backward", line, fn, args, kwargs)


def _autograd_grad(ctx, line, fn, args, kwargs):
    return ctx.recorder.run_backward("autograd.grad", line, fn, args, kwargs)


def _tensor_hook(ctx, line, fn, args, kwargs):
    """Tensor.register_hook: the hook is the program's own (interpreted) function or an allowed one.

    It runs inside the backward call, on this thread, under the same limits; after the run the
    program's functions refuse to run, so a hook left on a tensor can't run outside a run.
    """
    hook = args[0] if args else kwargs.get("hook")
    if not callable(hook):
        raise TypeError("register_hook expects a function, e.g. y.register_hook(lambda g: print(g))")
    handle = fn(*args, **kwargs)
    ctx.recorder.on_tensor_hook(line)
    return handle


def _touches_grad(ctx, line, fn, args, kwargs):
    """zero_grad(), optimizer.step(), zero_(), clip_grad_norm_…: tell the recorder afterwards."""
    try:
        return fn(*args, **kwargs)
    finally:
        ctx.recorder.on_grad_touched(line)


# -- global state that a run may change and that is restored afterwards --------------------------


def _set_printoptions(ctx, line, fn, args, kwargs):
    names = ("precision", "threshold", "edgeitems", "linewidth", "profile", "sci_mode")
    given = dict(zip(names, args))
    given.update(kwargs)
    for key, value in given.items():
        if key not in names:
            raise NotAllowed(f"set_printoptions({key}=…) isn't available in gradviz")
        if key in ("precision", "edgeitems") and isinstance(value, (int, float)) and value > 100:
            raise NotAllowed(f"set_printoptions({key}=…) must be at most 100")
        if key == "linewidth" and isinstance(value, (int, float)) and value > 10_000:
            raise NotAllowed("set_printoptions(linewidth=…) must be at most 10000")
        if key == "threshold" and isinstance(value, (int, float)) and value > 100_000:
            raise NotAllowed("set_printoptions(threshold=…) must be at most 100000")
        if key == "profile" and value not in ("default", "short", None):
            raise NotAllowed("set_printoptions(profile=…) may be 'default' or 'short' in gradviz")
    return fn(*args, **kwargs)


def save_global_state() -> dict:
    """Torch global state a program may change (grad mode, print options); restored after the run."""
    opts = torch._tensor_str.PRINT_OPTS
    return {
        "grad": torch.is_grad_enabled(),
        "print": {k: getattr(opts, k) for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")},
    }


def restore_global_state(saved: dict) -> None:
    torch.set_grad_enabled(saved["grad"])
    opts = torch._tensor_str.PRINT_OPTS
    for k, v in saved["print"].items():
        setattr(opts, k, v)


# --------------------------------------------------------------------------------------------
# Namespaces (torch, torch.nn, torch.nn.functional, torch.optim, math …)


class Namespace:
    """An allow-listed stand-in for a module: only the listed names are reachable."""

    __slots__ = ("gv_path", "gv_names", "gv_real")

    def __init__(self, path: str, real: Any, names: dict[str, Any]):
        self.gv_path = path
        self.gv_real = real
        self.gv_names = names

    def lookup(self, name: str) -> Any:
        try:
            return self.gv_names[name]
        except KeyError:
            pass
        if self.gv_real is not None and hasattr(self.gv_real, name):
            raise NotAllowed(
                f"{self.gv_path}.{name} isn't available in gradviz: it runs teaching code on a "
                f"safe part of PyTorch (tensors, autograd, torch.nn, torch.optim)"
            )
        raise AttributeError(f"module '{self.gv_path}' has no attribute '{name}'")

    def __repr__(self):
        # print(torch) shows what real Python shows
        return repr(self.gv_real) if self.gv_real is not None else f"<module '{self.gv_path}'>"


def _pick(module, names: str, handler=None) -> dict[str, Any]:
    """Names that exist in ``module`` (torch versions differ), wrapped in an Intercept if asked."""
    out = {}
    for name in names.split():
        if hasattr(module, name):
            fn = getattr(module, name)
            out[name] = Intercept(fn, handler) if handler is not None else fn
    return out


# Math, reductions, shape ops that never produce more elements than their inputs
# (broadcasting between several tensors is checked generically by the interpreter).
TORCH_FUNCS = """
abs absolute acos arccos acosh arccosh add addcdiv addcmul all allclose amax amin aminmax angle
any argmax argmin argsort argwhere asin arcsin asinh arcsinh atan arctan atan2 arctan2 atanh arctanh
bitwise_and bitwise_not bitwise_or bitwise_xor broadcast_shapes broadcast_tensors broadcast_to
bucketize ceil chunk clamp clamp_max clamp_min clip clone complex conj copysign corrcoef cos cosh
count_nonzero cov cross cummax cummin cumprod cumsum deg2rad det diagonal diff digamma dist div divide
dot dropout dsplit einsum eq equal erf erfc erfinv exp exp2 expm1 fix flatten flip fliplr flipud
float_power floor floor_divide fmax fmin fmod frac gather gcd ge greater greater_equal gt heaviside
hsplit hypot i0 imag index_select inner inverse is_complex is_floating_point is_grad_enabled
is_inference_mode_enabled is_nonzero is_tensor isclose isfinite isin isinf isnan isneginf isposinf
isreal kthvalue lcm ldexp le lerp less less_equal lgamma log log10 log1p log2 logaddexp logaddexp2
logcumsumexp logdet logical_and logical_not logical_or logical_xor logit logsumexp lt lu masked_fill
masked_select matrix_exp max maximum mean median min minimum mode moveaxis movedim msort mul multiply
mv nan_to_num nanmean nanmedian nanquantile nansum narrow ne neg negative nextafter nonzero norm
not_equal numel outer permute pinverse polar positive pow prod quantile rad2deg ravel real reciprocal
relu remainder reshape resolve_conj resolve_neg roll rot90 round rsqrt scatter scatter_add
scatter_reduce searchsorted select select_scatter sgn sigmoid sign signbit sin sinc sinh slice_scatter
slogdet softmax log_softmax sort split sqrt square squeeze std std_mean sub subtract sum svd swapaxes
swapdims t take take_along_dim tan tanh tensor_split tensordot topk trace transpose trapezoid trapz
tril triu true_divide trunc unbind unflatten unique unique_consecutive unravel_index unsqueeze vander
var var_mean vdot view_as_complex view_as_real vsplit where xlogy matmul mm bmm addmm addmv addr baddbmm
addbmm chain_matmul kron cdist cosine_similarity pairwise_distance layer_norm group_norm batch_norm
instance_norm max_pool1d max_pool2d avg_pool1d
threshold rrelu selu celu hardshrink prelu pdist cumulative_trapezoid histc bincount
is_same_size result_type promote_types can_cast get_default_dtype manual_seed initial_seed seed
set_grad_enabled finfo iinfo Size Generator no_grad enable_grad inference_mode
float32 float float64 double float16 half bfloat16 int8 int16 short int32 int int64 long uint8 bool
complex64 cfloat complex128 cdouble dtype
"""

# Ops whose output grows with their integer arguments or combines sizes.
TORCH_GROW = """
conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d repeat_interleave tile block_diag cartesian_prod combinations diag diag_embed diagflat meshgrid
tril_indices triu_indices bernoulli multinomial poisson normal
"""
TORCH_CONCAT = "cat concat concatenate stack hstack vstack dstack column_stack row_stack"
TORCH_CREATE = """
zeros ones empty full rand randn randint randperm arange range linspace logspace eye
zeros_like ones_like empty_like full_like rand_like randn_like randint_like empty_strided
"""
_NEEDS_META_NAMES = "randint arange range linspace logspace eye randperm full empty_strided"
TORCH_DATA = "tensor as_tensor asarray"
TORCH_LEGACY = "Tensor FloatTensor DoubleTensor LongTensor IntTensor BoolTensor ByteTensor HalfTensor ShortTensor"

_NEEDS_META = {getattr(torch, n) for n in _NEEDS_META_NAMES.split() if hasattr(torch, n)}

F_FUNCS = """
relu relu_ relu6 leaky_relu elu selu celu gelu silu mish softplus softsign sigmoid tanh hardtanh
hardsigmoid hardswish logsigmoid tanhshrink softshrink hardshrink threshold glu prelu rrelu softmax
log_softmax softmin normalize linear bilinear max_pool1d max_pool2d max_pool3d
avg_pool1d avg_pool2d avg_pool3d adaptive_max_pool1d adaptive_max_pool2d adaptive_avg_pool1d
adaptive_avg_pool2d dropout dropout1d dropout2d alpha_dropout layer_norm batch_norm group_norm
instance_norm local_response_norm rms_norm embedding mse_loss l1_loss smooth_l1_loss huber_loss
cross_entropy nll_loss binary_cross_entropy binary_cross_entropy_with_logits kl_div
cosine_similarity pairwise_distance pdist triplet_margin_loss margin_ranking_loss hinge_embedding_loss
soft_margin_loss multi_margin_loss cosine_embedding_loss poisson_nll_loss gaussian_nll_loss
scaled_dot_product_attention
"""
F_GROW = """
pad interpolate upsample conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d unfold
fold pixel_shuffle
"""

NN_CLASSES = """
Module Linear Bilinear Identity Sequential ModuleList ModuleDict ParameterList ParameterDict Parameter
Conv1d Conv2d Conv3d MaxPool1d MaxPool2d MaxPool3d AvgPool1d AvgPool2d AdaptiveAvgPool1d
AdaptiveAvgPool2d AdaptiveMaxPool2d Flatten Unflatten BatchNorm1d BatchNorm2d BatchNorm3d LayerNorm
GroupNorm InstanceNorm1d InstanceNorm2d RMSNorm Embedding Dropout Dropout1d Dropout2d AlphaDropout
ReLU ReLU6 LeakyReLU PReLU ELU SELU CELU GELU SiLU Mish Tanh Sigmoid Hardtanh Hardsigmoid Hardswish
Softplus Softsign Softmax LogSoftmax Softmin LogSigmoid Tanhshrink Threshold GLU MSELoss L1Loss
SmoothL1Loss HuberLoss CrossEntropyLoss BCELoss BCEWithLogitsLoss NLLLoss KLDivLoss MarginRankingLoss
HingeEmbeddingLoss CosineEmbeddingLoss SoftMarginLoss TripletMarginLoss CosineSimilarity
PairwiseDistance RNN LSTM GRU RNNCell LSTMCell GRUCell MultiheadAttention TransformerEncoderLayer
TransformerDecoderLayer TransformerEncoder TransformerDecoder
"""
INIT_FUNCS = """
uniform_ normal_ constant_ ones_ zeros_ eye_ dirac_ xavier_uniform_ xavier_normal_ kaiming_uniform_
kaiming_normal_ orthogonal_ trunc_normal_ sparse_ calculate_gain
"""
OPTIM_CLASSES = "SGD Adam AdamW RMSprop Adagrad Adadelta Adamax NAdam RAdam ASGD Rprop LBFGS Optimizer"
SCHEDULERS = """
StepLR MultiStepLR ExponentialLR CosineAnnealingLR LambdaLR MultiplicativeLR LinearLR ConstantLR
ReduceLROnPlateau OneCycleLR CyclicLR CosineAnnealingWarmRestarts PolynomialLR SequentialLR
"""
LINALG_FUNCS = """
norm vector_norm matrix_norm det slogdet inv pinv solve lstsq cholesky qr svd svdvals eig eigvals eigh
eigvalsh matrix_rank matrix_power cross multi_dot vecdot diagonal
"""
MATH_NAMES = """
acos acosh asin asinh atan atan2 atanh ceil copysign cos cosh degrees dist e erf erfc exp expm1 fabs
floor fmod frexp gamma gcd hypot inf isclose isfinite isinf isnan isqrt lcm ldexp lgamma log log10
log1p log2 modf nan pi radians remainder sin sinh sqrt tan tanh tau trunc ulp nextafter cbrt exp2
"""


def _math_int_guard(limit_bits: int):
    def handler(ctx, line, fn, args, kwargs):
        for a in args:
            if type(a) is int and a > limit_bits:
                raise limit_error(
                    ctx.limits, "max_elements", f"{fn.__name__}({a}) would be an enormous integer"
                )
        return fn(*args, **kwargs)

    return handler


def _consumer_1(ctx, line, fn, args, kwargs):
    """math.fsum: the iterable ticks the step budget."""
    if args:
        args = (ctx.iterate(args[0]),) + tuple(args[1:])
    return fn(*args, **kwargs)


def _math_prod(ctx, line, fn, args, kwargs):
    """math.prod, one factor at a time so a huge integer product stops early."""
    if len(args) != 1:
        return fn(*args, **kwargs)
    result = kwargs.get("start", 1)
    for x in ctx.iterate(args[0]):
        result = result * x
        if type(result) is int and result.bit_length() > 100_000:
            check_int_bits(ctx.budget, result.bit_length() * 2, "The integer product")
    return result


def _math_lcm(ctx, line, fn, args, kwargs):
    bits = sum(a.bit_length() for a in args if type(a) is int)
    check_int_bits(ctx.budget, bits, "The least common multiple")
    return fn(*args, **kwargs)


# Modules whose parameter and buffer count is at most 5x the product of their integer arguments
# (Linear: out*(in+1); Conv: out*in/groups*prod(k)+out; BatchNorm: 4n+1 …). Others (RNNs,
# attention) are built once on the meta device to count.
_BOUNDED_BY_INT_ARGS = {
    getattr(nn, n) for n in """Linear Bilinear LayerNorm BatchNorm1d BatchNorm2d BatchNorm3d Embedding
    GroupNorm InstanceNorm1d InstanceNorm2d RMSNorm PReLU""".split() if hasattr(nn, n)
}
_CONV_DIMS = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}


def _conv_weights(cls, args, kwargs) -> int | None:
    """in * out * prod(kernel) + out for ConvNd, from its arguments; None when they don't parse."""
    names = ("in_channels", "out_channels", "kernel_size")
    values = list(args[:3]) + [kwargs.get(n) for n in names[len(args[:3]):]]
    cin, cout, k = values
    if type(cin) is not int or type(cout) is not int:
        return None
    if type(k) is int:
        kn = max(k, 1) ** _CONV_DIMS[cls]
    elif type(k) in (tuple, list) and all(type(x) is int for x in k):
        kn = 1
        for x in k:
            kn *= max(x, 1)
    else:
        return None
    return max(cin, 1) * max(cout, 1) * kn + max(cout, 1)


def _int_product(args, kwargs) -> int:
    n = 1
    for values in (args, kwargs.values()):
        for v in values:
            t = type(v)
            if t is int:
                if v > 1 or v < -1:
                    n *= abs(v)
            elif t is tuple or t is list or t is torch.Size:
                for x in v:
                    if type(x) is int and (x > 1 or x < -1):
                        n *= abs(x)
    return n


def _module_ctor_handler(cls: type) -> Callable | None:
    """For module classes that allocate weights: build once on the meta device to count them."""
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return None
    takes_device = "device" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    if not takes_device or cls in (nn.Module, nn.Sequential, nn.ModuleList, nn.ModuleDict):
        return None

    bounded = cls in _BOUNDED_BY_INT_ARGS
    conv = cls in _CONV_DIMS

    def handler(ctx, args, kwargs):
        check_device(kwargs.get("device"))
        if bounded and 5 * _int_product(args, kwargs) <= ctx.budget.max_elements:
            return  # weights are at most a few times the product of the size arguments
        if conv:
            n = _conv_weights(cls, args, kwargs)
            if n is not None:
                ctx.budget.too_many(n, f"The {cls.__name__} module's parameters")
                return
        try:
            with torch.no_grad():
                meta = cls(*args, **dict(kwargs, device="meta"))
        except (LimitExceeded, NotAllowed):
            raise
        except Exception:
            return
        n = sum(p.numel() for p in meta.parameters()) + sum(b.numel() for b in meta.buffers())
        ctx.budget.too_many(n, f"The {cls.__name__} module's parameters")

    return handler


#: The `random` module programs see: reseeded from torch's seed at the start of every run.
RANDOM = random.Random()


def _random_k(ctx, line, fn, args, kwargs):
    """random.sample / random.choices build a list of k items: count them first."""
    k = kwargs.get("k", args[1] if len(args) > 1 else 1)
    if type(k) is int:
        ctx.budget.too_many(k, "The list")
    return fn(*args, **kwargs)


def _sleep(ctx, line, fn, args, kwargs):
    """time.sleep, cut short at the run's deadline and the cancel check."""
    seconds = args[0] if args else kwargs.get("secs", 0)
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return fn(*args, **kwargs)
    b = ctx.budget
    end = time.monotonic() + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            return None
        fn(min(end - now, b.deadline - now + 0.01, 0.05))
        b.check()


def _build_namespaces() -> dict[str, Namespace]:
    t: dict[str, Any] = {}
    t.update(_pick(torch, TORCH_FUNCS))
    t.update(_pick(torch, TORCH_GROW, _grow))
    t.update(_pick(torch, TORCH_CONCAT, _concat))
    t.update(_pick(torch, TORCH_CREATE, _creation))
    t.update(_pick(torch, TORCH_DATA, _tensor_from_data))
    t.update(_pick(torch, TORCH_LEGACY, _legacy_ctor))
    t.update(_pick(torch, "set_printoptions", _set_printoptions))
    t["device"] = Intercept(torch.device, _device_ctor)
    t.update({"e": math.e, "pi": math.pi, "inf": math.inf, "nan": math.nan})
    for name in ("outer", "ger", "kron"):
        if hasattr(torch, name):
            t[name] = Intercept(getattr(torch, name), _grow)
    # Classes must stay real for isinstance; their constructor checks live in CLASS_GUARDS.
    t["Tensor"] = torch.Tensor
    for name in TORCH_LEGACY.split()[1:]:
        if hasattr(torch, name):
            t[name] = getattr(torch, name)
    for name in ("save", "load", "from_numpy", "from_file", "hub", "ops", "jit", "compile", "cuda",
                 "backends", "multiprocessing", "distributed", "utils", "set_num_threads",
                 "set_default_device", "set_default_dtype", "set_default_tensor_type", "os", "sys",
                 "_C"):
        t.pop(name, None)

    fn_names = _pick(F, F_FUNCS)
    fn_names.update(_pick(F, F_GROW, _grow))
    fn_names["one_hot"] = Intercept(F.one_hot, _one_hot)
    functional = Namespace("torch.nn.functional", F, fn_names)

    init = Namespace("torch.nn.init", nn.init, _pick(nn.init, INIT_FUNCS))
    utils = Namespace("torch.nn.utils", nn.utils, {
        "clip_grad_norm_": Intercept(nn.utils.clip_grad_norm_, _touches_grad),
        "clip_grad_value_": Intercept(nn.utils.clip_grad_value_, _touches_grad),
        "parameters_to_vector": nn.utils.parameters_to_vector,
    })
    nn_names = _pick(nn, NN_CLASSES)
    nn_names.update({"functional": functional, "init": init, "utils": utils})
    nn_ns = Namespace("torch.nn", nn, nn_names)

    sched = Namespace("torch.optim.lr_scheduler", optim.lr_scheduler,
                      _pick(optim.lr_scheduler, SCHEDULERS))
    optim_names = _pick(optim, OPTIM_CLASSES)
    optim_names["lr_scheduler"] = sched
    optim_ns = Namespace("torch.optim", optim, optim_names)

    ag = torch.autograd
    functional_ag = Namespace("torch.autograd.functional", ag.functional,
                              _pick(ag.functional, "jacobian hessian vjp jvp hvp vhp"))
    autograd = Namespace("torch.autograd", ag, {
        "grad": Intercept(ag.grad, _autograd_grad),
        "backward": Intercept(ag.backward, _autograd_backward),
        "Variable": ag.Variable,
        "Function": ag.Function,
        "functional": functional_ag,
        "no_grad": torch.no_grad,
        "enable_grad": torch.enable_grad,
        "set_grad_enabled": torch.set_grad_enabled,
        "inference_mode": torch.inference_mode,
    })
    linalg = Namespace("torch.linalg", torch.linalg, _pick(torch.linalg, LINALG_FUNCS))
    special = Namespace("torch.special", torch.special, _pick(
        torch.special, "expit logit erf erfc erfinv gammaln digamma xlogy log_softmax softmax sinc entr"
    ))
    t.update({"nn": nn_ns, "optim": optim_ns, "autograd": autograd, "linalg": linalg,
              "special": special})
    torch_ns = Namespace("torch", torch, t)

    math_names = _pick(math, MATH_NAMES)
    math_names.update({
        "factorial": Intercept(math.factorial, _math_int_guard(20_000)),
        "comb": Intercept(math.comb, _math_int_guard(100_000)),
        "perm": Intercept(math.perm, _math_int_guard(100_000)),
        "prod": Intercept(math.prod, _math_prod),
        "lcm": Intercept(math.lcm, _math_lcm),
        "fsum": Intercept(math.fsum, _consumer_1),
        "pow": math.pow,
    })
    math_ns = Namespace("math", math, math_names)

    rnd = RANDOM
    random_ns = Namespace("random", random, {
        name: getattr(rnd, name)
        for name in "seed random randint uniform choice shuffle gauss normalvariate randrange".split()
    })
    random_ns.gv_names["sample"] = Intercept(rnd.sample, _random_k)
    random_ns.gv_names["choices"] = Intercept(rnd.choices, _random_k)
    typing_ns = Namespace("typing", typing, _pick(typing, "Any Callable Dict List Optional Tuple Union Iterable Sequence"))
    collections_ns = Namespace("collections", collections, {
        "OrderedDict": collections.OrderedDict, "defaultdict": collections.defaultdict,
        "Counter": collections.Counter, "deque": collections.deque,
    })
    time_ns = Namespace("time", time, {
        "time": time.time, "perf_counter": time.perf_counter, "monotonic": time.monotonic,
        "process_time": time.process_time, "sleep": Intercept(time.sleep, _sleep),
    })
    return {
        "torch": torch_ns, "torch.nn": nn_ns, "torch.nn.functional": functional,
        "torch.nn.init": init, "torch.nn.utils": utils, "torch.optim": optim_ns,
        "torch.optim.lr_scheduler": sched, "torch.autograd": autograd,
        "torch.autograd.functional": functional_ag, "torch.linalg": linalg,
        "torch.special": special, "math": math_ns, "random": random_ns, "typing": typing_ns,
        "collections": collections_ns, "time": time_ns,
        "__future__": Namespace("__future__", None, {"annotations": None}),
    }


NAMESPACES = _build_namespaces()

#: Things people commonly try to import, and what to say.
IMPORT_HINTS = {
    "numpy": "gradviz runs PyTorch code only: 'numpy' can't be imported; use torch instead "
             "(torch.tensor, torch.zeros, torch.linspace … work like their numpy cousins)",
    "matplotlib": "gradviz draws the autograd graph itself: 'matplotlib' can't be imported",
    "torchvision": "datasets and model zoos aren't available: build small tensors with torch.randn",
}


def import_refusal(name: str) -> NotAllowed:
    top = name.split(".")[0]
    if top in IMPORT_HINTS:
        return NotAllowed(IMPORT_HINTS[top])
    return NotAllowed(
        f"gradviz runs PyTorch code only: '{name}' can't be imported; you can import torch, "
        f"torch.nn (as nn), torch.nn.functional (as F), torch.optim, math and random"
    )


# --------------------------------------------------------------------------------------------
# Constructor checks for classes (classes stay real so isinstance and subclassing work)

CLASS_GUARDS: dict[type, Callable] = {}
for _name in NN_CLASSES.split():
    _cls = getattr(nn, _name, None)
    if isinstance(_cls, type):
        _h = _module_ctor_handler(_cls)
        if _h is not None:
            CLASS_GUARDS[_cls] = _h


def _legacy_class_guard(ctx, args, kwargs):
    if kwargs:
        check_device(kwargs.get("device"))
    if args and all(type(a) is int for a in args):
        n = 1
        for a in args:
            n *= max(a, 0)
        ctx.budget.too_many(n, "The new tensor")
    elif args:
        ctx.budget.too_many(_data_numel(args[0]), "The new tensor")


for _name in TORCH_LEGACY.split():
    if hasattr(torch, _name):
        CLASS_GUARDS[getattr(torch, _name)] = _legacy_class_guard


def _sequence_ctor_guard(ctx, args, kwargs):
    """list(range(10**12)), tuple(...), set(...): a range is counted, other iterables tick."""
    if args:
        a = args[0]
        if type(a) is range:
            ctx.budget.too_many(len(a), "The list")


CLASS_GUARDS.update({list: _sequence_ctor_guard, tuple: _sequence_ctor_guard,
                     set: _sequence_ctor_guard, frozenset: _sequence_ctor_guard,
                     dict: _sequence_ctor_guard, collections.OrderedDict: _sequence_ctor_guard,
                     collections.deque: _sequence_ctor_guard, collections.Counter: _sequence_ctor_guard})

#: Classes a program may subclass (besides its own classes).
SUBCLASSABLE_ROOTS = (nn.Module, torch.autograd.Function, Exception)

# --------------------------------------------------------------------------------------------
# Attributes per type

GET = "get"  # plain getattr

TENSOR_METHODS = """
abs abs_ absolute acos acos_ acosh add add_ addbmm addcdiv addcdiv_ addcmul addcmul_ addmm addmv addr
all allclose amax amin aminmax angle any arccos arcsin arctan argmax argmin argsort argwhere asin asin_
atan atan2 atan_ backward baddbmm bernoulli_ bfloat16 bitwise_and bitwise_not bitwise_or bitwise_xor
bmm bool broadcast_to byte cauchy_ ceil ceil_ char chunk clamp clamp_ clamp_max clamp_min clip clip_
clone contiguous copy_ copysign cos cos_ cosh count_nonzero cpu cross cummax cummin cumprod cumsum
cumsum_ data deg2rad det detach detach_ device diagonal diff digamma dim dist div div_ divide dot double
dtype element_size eq eq_ equal erf erf_ erfinv exp exp_ expand expand_as expm1 exponential_ fill_
fill_diagonal_ fix flatten flip fliplr flipud float float_power floor floor_ floor_divide fmax fmin
fmod fmod_ frac gather gcd ge geometric_ grad grad_fn greater gt half hardshrink heaviside hypot
imag index_add index_add_ index_copy index_copy_ index_fill index_fill_ index_put index_put_
index_select inner int inverse is_complex is_contiguous is_cuda is_floating_point is_leaf is_meta
is_nonzero is_signed is_sparse isclose isfinite isinf isnan item kthvalue layout le lerp lerp_ lgamma
log log10 log1p log2 log_ log_normal_ log_softmax logaddexp logcumsumexp logdet logical_and
logical_not logical_or logical_xor logit logsumexp long lt masked_fill masked_fill_ masked_scatter
masked_select matmul matrix_exp max maximum mean median min minimum mm mode moveaxis movedim msort mT
mH H mul mul_ multiply mv nan_to_num nan_to_num_ nanmean nanmedian nansum narrow ndim ndimension ne
neg neg_ negative nelement nextafter nonzero norm normal_ not_equal numel outer output_nr permute
pinverse positive pow pow_ prod put_ rad2deg random_ ravel real reciprocal reciprocal_ relu relu_
remainder remainder_ requires_grad requires_grad_ reshape reshape_as retain_grad retains_grad roll
rot90 round round_ rsqrt rsqrt_ scatter scatter_ scatter_add scatter_add_ scatter_reduce select
sgn shape short sigmoid sigmoid_ sign sign_ signbit sin sin_ sinc sinh size slogdet softmax sort split
sqrt sqrt_ square square_ squeeze squeeze_ std stride storage_offset sub sub_ subtract sum sum_to_size
svd swapaxes swapdims t t_ take take_along_dim tan tanh tanh_ tensor_split tolist topk trace transpose
transpose_ tril tril_ triu triu_ true_divide trunc trunc_ type_as unbind unflatten unfold uniform_
unique unique_consecutive unsqueeze unsqueeze_ var vdot view view_as where xlogy xlogy_ zero_ T
is_inference isreal nanquantile quantile logical_and_ logical_or_ sub_ sum exp2 expm1_ frac_ i0
resolve_conj resolve_neg conj conj_physical is_conj cumprod_ absolute_ negative_ square_ lerp
"""
TENSOR_GROW = "repeat repeat_interleave tile new_zeros new_ones new_full new_empty new_tensor resize_ resize_as_ kron diag diag_embed"
TENSOR_DENY = {
    "numpy": "gradviz keeps numpy objects out of programs: use .tolist() or .item() to get Python numbers",
    "register_post_accumulate_grad_hook": "gradient hooks aren't available in gradviz: it records "
                                          "every gradient for you",
    "cuda": "gradviz runs on the CPU only: .cuda() isn't available; remove it",
    "pin_memory": "gradviz runs on the CPU only: pin_memory isn't available",
    "storage": "raw tensor storage isn't available in gradviz",
    "untyped_storage": "raw tensor storage isn't available in gradviz",
    "data_ptr": "memory addresses aren't available in gradviz",
    "share_memory_": "shared memory isn't available in gradviz",
    "as_strided": "as_strided isn't available in gradviz (it can read outside a tensor); use view or reshape",
    "set_": "Tensor.set_ isn't available in gradviz",
    "apply_": "Tensor.apply_ isn't available in gradviz",
    "map_": "Tensor.map_ isn't available in gradviz",
    "tobytes": "raw bytes aren't available in gradviz",
}

NODE_ATTRS = {"name", "next_functions", "variable"}
NODE_DENY = {
    "register_hook": "grad_fn hooks aren't available in gradviz: gradviz records every step of the "
                     "backward pass for you (see the animation)",
    "register_prehook": "grad_fn hooks aren't available in gradviz: gradviz records every step of "
                        "the backward pass for you (see the animation)",
    "metadata": "grad_fn metadata isn't available in gradviz",
}

MODULE_METHODS = """
parameters named_parameters buffers named_buffers children named_children modules named_modules
train eval forward state_dict load_state_dict requires_grad_ extra_repr float double half cpu
add_module register_module register_parameter register_buffer get_submodule get_parameter
get_buffer append extend insert pop keys values items update apply type zero_grad to
"""
MODULE_DENY = {
    "cuda": "gradviz runs on the CPU only: .cuda() isn't available; remove it",
    "share_memory": "shared memory isn't available in gradviz",
    "register_forward_hook": "module hooks aren't available in gradviz",
    "register_forward_pre_hook": "module hooks aren't available in gradviz",
    "register_full_backward_hook": "module hooks aren't available in gradviz: gradviz records "
                                   "every gradient of the backward pass for you",
    "register_backward_hook": "module hooks aren't available in gradviz: gradviz records every "
                              "gradient of the backward pass for you",
    "register_full_backward_pre_hook": "module hooks aren't available in gradviz",
}
OPTIMIZER_ATTRS = {"param_groups", "state", "defaults", "add_param_group", "state_dict",
                   "load_state_dict"}
SCHEDULER_ATTRS = {"step", "get_last_lr", "last_epoch", "base_lrs", "optimizer", "state_dict"}

_STR_GROW = {"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "format",
             "format_map"}
STR_METHODS = """
capitalize casefold center count endswith expandtabs find format index isalnum isalpha isascii
isdecimal isdigit isidentifier islower isnumeric isprintable isspace istitle isupper join ljust lower
lstrip partition removeprefix removesuffix replace rfind rindex rjust rpartition rsplit rstrip split
splitlines startswith strip swapcase title upper zfill
"""
LIST_METHODS = "append clear copy count extend index insert pop remove reverse sort"
DICT_METHODS = "clear copy get items keys pop popitem setdefault update values fromkeys"
SET_METHODS = """
add clear copy difference difference_update discard intersection intersection_update isdisjoint
issubset issuperset pop remove symmetric_difference union update
"""
TUPLE_METHODS = "count index"
INT_ATTRS = "bit_length bit_count conjugate denominator numerator real imag as_integer_ratio"
FLOAT_ATTRS = "as_integer_ratio conjugate hex is_integer real imag"
COMPLEX_ATTRS = "real imag conjugate"
SIZE_ATTRS = "count index numel"
DTYPE_ATTRS = "is_floating_point is_complex is_signed itemsize to_real to_complex"
DEVICE_ATTRS = "type index"
FINFO_ATTRS = "bits eps max min tiny smallest_normal resolution dtype"
RANGE_ATTRS = "start stop step count index"
SLICE_ATTRS = "start stop step"


def _names(text: str) -> set[str]:
    return set(text.split())


def _deny_action(message: str) -> Callable:
    def act(ctx, obj, line):
        raise NotAllowed(message)

    return act


def _missing_or_denied(type_label: str) -> Callable:
    """Refuse a name that exists but isn't allowed; raise Python's own AttributeError otherwise."""

    def make(name: str) -> Callable:
        def act(ctx, obj, line):
            try:
                inspect.getattr_static(obj, name)
                exists = True
            except AttributeError:
                exists = False
            if exists:
                raise NotAllowed(
                    f"{type_label}.{name} isn't available in gradviz (it runs a safe part of PyTorch)"
                )
            raise AttributeError(f"'{type(obj).__name__}' object has no attribute '{name}'")

        return act

    return make


def _wrap_action(name: str, handler: Callable) -> Callable:
    def act(ctx, obj, line):
        return Intercept(getattr(obj, name), handler)

    return act


def _str_grow_handler(ctx, line, fn, args, kwargs):
    """str methods that can build huge strings: ljust/center/zfill widths, replace, join, format."""
    name = fn.__name__
    s = fn.__self__
    cap = ctx.budget.max_elements
    if name in ("ljust", "rjust", "center", "zfill"):
        if args and type(args[0]) is int:
            ctx.budget.too_many(args[0], "The string")
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if type(size) is int:
            ctx.budget.too_many(size * (s.count("\t") + 1) + len(s), "The string")
    elif name == "replace":
        if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            hits = s.count(args[0]) if args[0] else len(s) + 1
            ctx.budget.too_many(len(s) + hits * len(args[1]), "The string")
    elif name == "join":
        if args:
            args = (ctx.iterate(args[0]),)
    elif name in ("format", "format_map"):
        if check_str_format(ctx, s):
            # nested fields ("{:{w}}") take widths from the arguments: check those too
            values = list(args) + list(kwargs.values())
            if name == "format_map" and args and isinstance(args[0], dict):
                values = list(args[0].values())
            for v in values:
                if type(v) is int and v > 10_000:
                    check_format_spec(ctx.budget, str(v))
                elif type(v) is str and len(v) < 64:
                    check_format_spec(ctx.budget, v)
    del cap
    return fn(*args, **kwargs)


_FORMATTER = string.Formatter()


def check_str_format(ctx, template: str) -> bool:
    """str.format: plain field names only ("{0.__class__}" reaches into objects), small widths.

    Returns True when a spec has nested fields, whose values come from the arguments.
    """
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return False  # str.format will raise the same error itself
    nested = False
    for _literal, field, spec, _conv in parsed:
        if field and ("." in field or "[" in field):
            raise NotAllowed(
                f"format fields like {{{field}}} reach into objects and aren't available in "
                "gradviz; pass the value itself, e.g. '{}'.format(x.shape)"
            )
        if spec:
            if "{" in spec:
                check_str_format(ctx, spec)
                nested = True
            check_format_spec(ctx.budget, spec)
    return nested


def _list_grow_handler(ctx, line, fn, args, kwargs):
    name = fn.__name__
    if name == "extend" and args:
        a = args[0]
        if hasattr(a, "__len__") and type(a) in (list, tuple, str, range, dict, set):
            ctx.budget.too_many(len(fn.__self__) + len(a), "The list")
        else:
            args = (ctx.iterate(a),)
    return fn(*args, **kwargs)


def _dict_grow_handler(ctx, line, fn, args, kwargs):
    if args and type(args[0]) is range:
        ctx.budget.too_many(len(args[0]), "The dict")
    elif args and fn.__name__ in ("fromkeys", "update") and not isinstance(args[0], (dict, list, tuple)):
        args = (ctx.iterate(args[0]),) + tuple(args[1:])
    return fn(*args, **kwargs)


_simple_tables: dict[type, tuple[set[str], dict[str, Callable]]] = {
    str: (_names(STR_METHODS) - _STR_GROW, {n: _str_grow_handler for n in _STR_GROW}),
    list: (_names(LIST_METHODS) - {"extend"}, {"extend": _list_grow_handler}),
    dict: (_names(DICT_METHODS) - {"fromkeys", "update"},
           {"fromkeys": _dict_grow_handler, "update": _dict_grow_handler}),
    set: (_names(SET_METHODS), {}),
    frozenset: (_names(SET_METHODS), {}),
    tuple: (_names(TUPLE_METHODS), {}),
    int: (_names(INT_ATTRS), {}),
    bool: (_names(INT_ATTRS), {}),
    float: (_names(FLOAT_ATTRS), {}),
    complex: (_names(COMPLEX_ATTRS), {}),
    torch.Size: (_names(SIZE_ATTRS), {}),
    torch.dtype: (_names(DTYPE_ATTRS), {}),
    torch.device: (_names(DEVICE_ATTRS), {}),
    torch.finfo: (_names(FINFO_ATTRS), {}),
    torch.iinfo: (_names(FINFO_ATTRS), {}),
    range: (_names(RANGE_ATTRS), {}),
    collections.Counter: (_names(DICT_METHODS) - {"fromkeys", "update"} | {"most_common", "elements", "total", "subtract"},
                          {"update": _dict_grow_handler}),
    collections.deque: (_names("append appendleft pop popleft clear copy count index insert remove reverse rotate maxlen"),
                        {"extend": _list_grow_handler, "extendleft": _list_grow_handler}),
    slice: (_names(SLICE_ATTRS), {}),
}

_TENSOR_GET = _names(TENSOR_METHODS) - {"backward", "zero_", "to", "type"}
_TENSOR_GROW = _names(TENSOR_GROW)
_MODULE_GET = _names(MODULE_METHODS) - {"zero_grad", "to"}

_MODULE_INTERNAL = (set(dir(nn.Module)) | set(nn.Module().__dict__)) - {"training"}
_FUNCTION_INTERNAL = set(dir(torch.autograd.Function))


def _tensor_action(name: str) -> Any:
    if name in _TENSOR_GET:
        return GET
    if name == "backward":
        return _wrap_action(name, _backward_method)
    if name == "zero_":
        return _wrap_action(name, _touches_grad)
    if name == "to":
        return _wrap_action(name, _to)
    if name == "type":
        return _wrap_action(name, _tensor_type)
    if name == "register_hook":
        return _wrap_action(name, _tensor_hook)
    if name in _TENSOR_GROW:
        return _wrap_action(name, _grow)
    if name in TENSOR_DENY:
        return _deny_action(TENSOR_DENY[name])
    return _missing_or_denied("Tensor")(name)


def _module_method_action(name: str, cls: type) -> Any:
    """Methods inherited from torch's nn.Module (and its built-in subclasses)."""
    if name in _MODULE_GET:
        return GET
    if name == "zero_grad":
        return _wrap_action(name, _touches_grad)
    if name == "to":
        return _wrap_action(name, _to)
    if name in MODULE_DENY:
        return _deny_action(MODULE_DENY[name])
    return None


def _module_action(name: str, cls: type) -> Any:
    act = _module_method_action(name, cls)
    if act is not None:
        return act
    if name.startswith("_"):
        return _deny_action(f"'{name}' is internal to torch.nn and isn't available in gradviz")
    attr = inspect.getattr_static(cls, name, None)
    if attr is not None and (callable(attr) or isinstance(attr, (property, classmethod, staticmethod))):
        if isinstance(attr, property):
            return GET
        return _deny_action(f"nn.Module.{name} isn't available in gradviz")
    return _module_data_action(name)


def _module_data_action(name: str) -> Callable:
    """Parameters, submodules, buffers and settings such as in_features: read them."""

    def act(ctx, obj, line):
        value = getattr(obj, name)
        if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType)) or (
                isinstance(value, types.MethodType) and isinstance(value.__func__, types.FunctionType)):
            # a torch method that isn't on the allow-list (the program's own methods are
            # UserFunctions, not Python functions)
            raise NotAllowed(f"'{name}' isn't available in gradviz")
        return value

    return act


def _user_instance_action(ctx, t: type, name: str) -> Any:
    """Instances of the program's own classes: its own names, plus the allowed torch base methods."""
    for klass in t.__mro__:
        if klass in ctx.user_classes:
            if name in klass.__dict__:
                return GET
        elif klass is not object:
            break
    base_module = issubclass(t, nn.Module)
    if base_module:
        act = _module_method_action(name, t)
        if act is not None:
            return act
        if name in _MODULE_INTERNAL:
            return _deny_action(f"'{name}' is internal to torch.nn and isn't available in gradviz")
        return _module_data_action(name)
    if issubclass(t, torch.autograd.Function):
        if name in ("apply",):
            return GET
        if name in _FUNCTION_INTERNAL:
            return _deny_action(f"'{name}' isn't available in gradviz")
    if issubclass(t, BaseException) and name in ("args", "with_traceback", "add_note"):
        return GET if name == "args" else _deny_action(f"'{name}' isn't available in gradviz")
    return GET


def _user_class_action(ctx, cls: type, name: str) -> Any:
    """Attributes of the program's own classes (class constants, static methods, Function.apply)."""
    for klass in cls.__mro__:
        if klass in ctx.user_classes and name in klass.__dict__:
            return GET
    if issubclass(cls, torch.autograd.Function) and name == "apply":
        return GET
    return _missing_or_denied(cls.__name__)(name)


_CTX_ATTRS = {"save_for_backward", "saved_tensors", "needs_input_grad", "mark_dirty",
              "mark_non_differentiable", "set_materialize_grads", "name", "next_functions"}


def _function_ctx_action(name: str) -> Any:
    """The ``ctx`` of a custom autograd Function: its documented methods and the program's own fields."""
    if name in _CTX_ATTRS:
        return GET

    def act(ctx, obj, line):
        try:
            return obj.__dict__[name]
        except KeyError:
            raise AttributeError(f"'{type(obj).__name__}' object has no attribute '{name}'") from None

    return act


def _return_type_action(name: str, t: type) -> Any:
    fields = getattr(t, "_fields", None) or ()
    if name in fields or name in ("values", "indices", "count", "index"):
        return GET
    return _missing_or_denied(t.__name__)(name)


_ACTION_CACHE: dict[tuple[type, str], Any] = {}


def attr_action(ctx, obj: Any, name: str) -> tuple[Any, bool]:
    """What reading ``obj.name`` does: GET (plain getattr) or ``act(ctx, obj, line)``.

    Returns ``(action, cacheable)``; cacheable actions depend only on ``(type(obj), name)``.
    """
    if name[:2] == "__" and name[-2:] == "__":
        if name == "__init__" and type(obj).__name__ == "SuperProxy":
            return obj.init_action(), False
        if name == "__version__" and type(obj) is Namespace and obj.gv_path == "torch":
            return _torch_version, True
        return _deny_action(
            f"'{name}' isn't available in gradviz: names with double underscores reach Python's "
            "internals"
        ), True
    t = type(obj)
    if t is Namespace:
        return _namespace_action(name), True
    if t in ctx.user_classes or (isinstance(obj, type) and obj in ctx.user_classes):
        if name.startswith("_") and (name in _MODULE_INTERNAL or name.startswith("__")):
            return _deny_action(f"'{name}' is internal and isn't available in gradviz"), False
        if isinstance(obj, type):
            return _user_class_action(ctx, obj, name), False
        # per run (the classes are the run's own); cleared when a class attribute changes
        key = (t, name)
        act = ctx.user_attr_cache.get(key)
        if act is None:
            act = ctx.user_attr_cache[key] = _user_instance_action(ctx, t, name)
        return act, False
    if type(obj).__name__ == "SuperProxy":
        return obj.action(ctx, name), False
    key = (t, name)
    act = _ACTION_CACHE.get(key)
    if act is None:
        act = _compute_action(t, name)
        _ACTION_CACHE[key] = act
    return act, True


def _torch_version(ctx, obj, line):
    return torch.__version__


def _namespace_action(name: str) -> Callable:
    def act(ctx, obj, line):
        return obj.lookup(name)

    return act


def _compute_action(t: type, name: str) -> Any:
    if issubclass(t, Tensor):
        if name.startswith("_"):
            return _deny_action(f"'{name}' is internal to torch and isn't available in gradviz")
        return _tensor_action(name)
    if issubclass(t, torch.autograd.function.FunctionCtx):
        if name.startswith("_"):
            return _deny_action(f"'{name}' is internal to torch and isn't available in gradviz")
        return _function_ctx_action(name)
    if issubclass(t, Node) or (t.__module__ is None and hasattr(t, "next_functions")):
        if name in NODE_ATTRS:
            return GET
        if name.startswith("_saved_"):
            return GET
        if name in NODE_DENY:
            return _deny_action(NODE_DENY[name])
        return _missing_or_denied("grad_fn")(name)
    if name.startswith("_"):
        return _deny_action(f"'{name}' is internal and isn't available in gradviz")
    if issubclass(t, nn.Module):
        return _module_action(name, t)
    if issubclass(t, optim.Optimizer):
        if name in ("step", "zero_grad"):
            return _wrap_action(name, _touches_grad)
        if name in OPTIMIZER_ATTRS:
            return GET
        return _missing_or_denied("optimizer")(name)
    if issubclass(t, optim.lr_scheduler.LRScheduler) or t.__name__ == "ReduceLROnPlateau":
        if name in SCHEDULER_ATTRS:
            return GET
        return _missing_or_denied("scheduler")(name)
    if getattr(t, "__module__", "") == "torch.return_types":
        return _return_type_action(name, t)
    table = _simple_tables.get(t)
    if table is None:
        for base, tab in _simple_tables.items():
            if issubclass(t, base):
                table = tab
                break
    if table is not None:
        allowed, wrapped = table
        if name in allowed:
            return GET
        if name in wrapped:
            return _wrap_action(name, wrapped[name])
        return _missing_or_denied(t.__name__)(name)
    if getattr(t, "__module__", "") == "torch.return_types":
        return _return_type_action(name, t)
    if issubclass(t, BaseException):
        if name == "args":
            return GET
        return _missing_or_denied(t.__name__)(name)
    if t is torch.utils.hooks.RemovableHandle:
        if name == "remove":
            return GET
    if t is torch.Generator:
        if name in ("manual_seed", "seed", "initial_seed"):
            return GET
    return _missing_or_denied(t.__name__)(name)


# -- attribute assignment ------------------------------------------------------------------------

TENSOR_SETTABLE = {"requires_grad", "grad", "data"}


def check_setattr(ctx, obj: Any, name: str) -> None:
    """Refuse attribute assignments outside what tutorials do (``x.requires_grad = True`` …)."""
    if name.startswith("__"):
        raise NotAllowed(f"assigning '{name}' isn't available in gradviz")
    t = type(obj)
    if isinstance(obj, type) and obj in ctx.user_classes:
        ctx.user_attr_cache.clear()  # what instances' attribute names resolve to may change
        return  # class attributes of the program's own classes (Counter.count += 1)
    if isinstance(obj, Tensor):
        if name in TENSOR_SETTABLE:
            return
        raise NotAllowed(
            f"tensors only let you set .requires_grad, .grad and .data in gradviz, not .{name}"
        )
    user = t in ctx.user_classes
    if isinstance(obj, nn.Module):
        if name in _MODULE_INTERNAL and name != "training":
            raise NotAllowed(f"'{name}' is internal to torch.nn and can't be assigned in gradviz")
        if not user and name.startswith("_"):
            raise NotAllowed(f"'{name}' is internal to torch.nn and can't be assigned in gradviz")
        return
    if user:
        if issubclass(t, torch.autograd.Function) and name in _FUNCTION_INTERNAL:
            raise NotAllowed(f"'{name}' can't be assigned in gradviz")
        return
    if type(obj).__name__ == "FunctionCtx" or isinstance(obj, torch.autograd.function.FunctionCtx):
        if name.startswith("_") or name in dir(type(obj)):
            raise NotAllowed(f"ctx.{name} can't be assigned in gradviz")
        return
    raise NotAllowed(f"setting attributes on {t.__name__} objects isn't available in gradviz")


# --------------------------------------------------------------------------------------------
# Builtins

REFUSED_BUILTINS = {
    "getattr": "getattr() isn't available in gradviz: write the attribute out, e.g. model.fc1",
    "setattr": "setattr() isn't available in gradviz: assign the attribute directly, e.g. self.fc = …",
    "delattr": "delattr() isn't available in gradviz",
    "type": "type() isn't available in gradviz: use isinstance(x, torch.Tensor), or print(x.dtype) "
            "for a tensor's element type",
    "vars": "vars() isn't available in gradviz",
    "dir": "dir() isn't available in gradviz",
    "globals": "globals() isn't available in gradviz",
    "locals": "locals() isn't available in gradviz",
    "open": "files aren't available in gradviz: build the data in the program, e.g. torch.randn(8, 3)",
    "input": "input() isn't available in gradviz: put the value in the program",
    # Worded without "name(" so the tree-wide check for eval/exec calls stays quiet.
    "exec": "exec isn't available in gradviz: it never runs text as code",
    "eval": "eval isn't available in gradviz: it never runs text as code; write the expression out",
    "compile": "compile() isn't available in gradviz",
    "__import__": "__import__ isn't available in gradviz; use an import statement (torch, math)",
    "breakpoint": "breakpoint() isn't available in gradviz: use print() to look at values",
    "help": "help() isn't available in gradviz",
    "memoryview": "memoryview isn't available in gradviz",
    "bytearray": "bytearray isn't available in gradviz",
    "bytes": "bytes isn't available in gradviz",
    "exit": "exit() isn't available in gradviz",
    "quit": "quit() isn't available in gradviz",
    "object": None,
    "classmethod": None,
    "staticmethod": None,
    "property": None,
    "super": "super() works only inside a method of a class",
    "copyright": "copyright isn't available in gradviz",
    "credits": "credits isn't available in gradviz",
    "license": "license isn't available in gradviz",
    "__build_class__": "__build_class__ isn't available in gradviz",
    "__loader__": "__loader__ isn't available in gradviz",
    "__spec__": "__spec__ isn't available in gradviz",
    "__builtins__": "__builtins__ isn't available in gradviz",
    "aiter": "aiter isn't available in gradviz",
    "anext": "anext isn't available in gradviz",
}

_EXCEPTIONS = """
Exception ValueError TypeError RuntimeError KeyError IndexError ZeroDivisionError AssertionError
NotImplementedError StopIteration ArithmeticError AttributeError LookupError NameError
OverflowError FloatingPointError UnboundLocalError RecursionError
"""


def hasattr_checked(ctx, obj, name):
    """hasattr() through the allow-list: refused names count as absent."""
    if not isinstance(name, str):
        raise TypeError("hasattr(): attribute name must be string")
    try:
        act, _ = attr_action(ctx, obj, name)
        if act is GET:
            getattr(obj, name)
        else:
            act(ctx, obj, 0)
    except (AttributeError, NotAllowed):
        return False
    return True


def make_builtins(ctx) -> dict[str, Any]:
    """The builtins a program sees; consumers of iterables tick the step budget."""
    it = ctx.iterate
    b: dict[str, Any] = {}
    for name in ("len abs round float int str bool isinstance issubclass callable chr ord hex bin oct "
                 "repr hash id divmod slice complex iter next range enumerate zip map filter "
                 "reversed list tuple dict set frozenset object classmethod staticmethod property "
                 "NotImplemented Ellipsis").split():
        b[name] = getattr(builtins, name)
    for name in _EXCEPTIONS.split():
        b[name] = getattr(builtins, name)
    # `torch` is there without an import, as in a notebook where it was imported already: the
    # examples people paste (and gradviz's own README) often leave `import torch` out. A
    # program that imports it, or names something else `torch`, gets what it asked for.
    b["torch"] = NAMESPACES["torch"]

    def _sum(iterable, /, start=0):
        return builtins.sum(it(iterable), start)

    def _min(*args, **kwargs):
        if len(args) == 1:
            args = (it(args[0]),)
        return builtins.min(*args, **kwargs)

    def _max(*args, **kwargs):
        if len(args) == 1:
            args = (it(args[0]),)
        return builtins.max(*args, **kwargs)

    def _sorted(iterable, /, *, key=None, reverse=False):
        return builtins.sorted(it(iterable, materialize=True), key=key, reverse=reverse)

    def _any(iterable, /):
        return builtins.any(it(iterable))

    def _all(iterable, /):
        return builtins.all(it(iterable))

    def _pow(base, exp, mod=None):
        if mod is None and type(base) is int and type(exp) is int:
            check_int_pow(ctx.budget, base, exp)
        return builtins.pow(base, exp, mod)

    def _format(value, spec=""):
        if isinstance(spec, str):
            check_format_spec(ctx.budget, spec)
        return builtins.format(value, spec)

    def _hasattr(obj, name, /):
        return hasattr_checked(ctx, obj, name)

    for fn, name in ((_sum, "sum"), (_min, "min"), (_max, "max"), (_sorted, "sorted"), (_any, "any"),
                     (_all, "all"), (_pow, "pow"), (_format, "format"), (_hasattr, "hasattr")):
        functools.update_wrapper(fn, getattr(builtins, name))
        b[name] = fn
    b["print"] = ctx.print_fn
    b["__name__"] = "__main__"  # `if __name__ == "__main__":` scripts run their main part
    return b
