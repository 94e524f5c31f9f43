"""The allow-listed surface: what it holds, and what it never holds."""

from __future__ import annotations

import types

import pytest
import torch

from gradviz.engine import surface
from gradviz.engine.limits import NotAllowed
from gradviz.engine.surface import GET, NAMESPACES, Intercept, Namespace

BRIEF_TORCH = """tensor arange ones zeros ones_like zeros_like rand randn randint randn_like rand_like eye
linspace full full_like empty Tensor FloatTensor stack cat manual_seed equal allclose float32 float64
int64 no_grad enable_grad set_grad_enabled inference_mode dot matmul exp log sum mean tanh sigmoid relu
softmax where clamp autograd nn optim""".split()
BRIEF_NN = """Linear Sequential Conv2d MaxPool2d Flatten BatchNorm1d BatchNorm2d LayerNorm Embedding Dropout
ReLU Tanh Sigmoid GELU Softmax LogSoftmax Identity ModuleList Parameter MSELoss CrossEntropyLoss
BCEWithLogitsLoss BCELoss NLLLoss L1Loss Module init functional""".split()
BRIEF_F = """relu sigmoid tanh gelu softmax log_softmax mse_loss cross_entropy nll_loss binary_cross_entropy
binary_cross_entropy_with_logits linear conv2d dropout layer_norm pad""".split()


def _walk(ns: Namespace, seen=None):
    seen = seen if seen is not None else set()
    if id(ns) in seen:
        return
    seen.add(id(ns))
    for name, value in ns.gv_names.items():
        yield ns.gv_path, name, value
        if isinstance(value, Namespace):
            yield from _walk(value, seen)


def test_brief_names_are_reachable():
    torch_ns, nn_ns, f_ns = NAMESPACES["torch"], NAMESPACES["torch.nn"], NAMESPACES["torch.nn.functional"]
    assert [n for n in BRIEF_TORCH if n not in torch_ns.gv_names] == []
    assert [n for n in BRIEF_NN if n not in nn_ns.gv_names] == []
    assert [n for n in BRIEF_F if n not in f_ns.gv_names] == []
    assert {"SGD", "Adam", "AdamW"} <= set(NAMESPACES["torch.optim"].gv_names)
    assert {"grad", "backward"} <= set(NAMESPACES["torch.autograd"].gv_names)
    assert {"sqrt", "pi", "exp", "log"} <= set(NAMESPACES["math"].gv_names)


def test_no_namespace_holds_a_real_module_or_a_dangerous_name():
    dangerous = {"os", "sys", "builtins", "importlib", "subprocess", "load", "save", "from_file", "hub",
                 "ops", "_C", "utils", "jit", "compile", "cuda", "backends", "multiprocessing",
                 "distributed", "set_num_threads", "set_default_device", "set_default_dtype",
                 "from_numpy", "classes", "library", "package"}
    for path, name, value in _walk(NAMESPACES["torch"]):
        assert not isinstance(value, types.ModuleType), f"{path}.{name} is a real module"
        if path == "torch":
            assert name not in dangerous, f"torch.{name}"
        assert not name.startswith("_"), f"{path}.{name}"
    for ns in NAMESPACES.values():
        for path, name, value in _walk(ns):
            assert not isinstance(value, types.ModuleType), f"{path}.{name}"


def test_namespace_refuses_real_but_unlisted_names_and_reports_missing_ones():
    torch_ns = NAMESPACES["torch"]
    with pytest.raises(NotAllowed, match="torch.load"):
        torch_ns.lookup("load")
    with pytest.raises(AttributeError, match="module 'torch' has no attribute 'nonexistent_thing'"):
        torch_ns.lookup("nonexistent_thing")


def test_listed_tensor_methods_exist_on_tensor():
    listed = surface._names(surface.TENSOR_METHODS) | surface._names(surface.TENSOR_GROW)
    missing = sorted(n for n in listed if not hasattr(torch.Tensor, n))
    assert missing == []


def test_dangerous_tensor_methods_are_not_plain_gets():
    for name in ("register_hook", "numpy", "storage", "untyped_storage", "data_ptr", "cuda",
                 "share_memory_", "as_strided", "set_", "apply_", "map_", "pin_memory",
                 "_backward_hooks", "__reduce_ex__", "new", "to_sparse", "__setstate__"):
        act, _ = surface.attr_action(_Ctx(), torch.ones(1), name)
        assert act is not GET, name


def test_growing_and_recording_methods_are_intercepted():
    ctx = _Ctx()
    for name in ("backward", "zero_", "to", "repeat", "new_zeros", "repeat_interleave", "tile"):
        act, _ = surface.attr_action(ctx, torch.ones(1), name)
        assert isinstance(act(ctx, torch.ones(1), 1), Intercept), name


def test_grad_fn_nodes_expose_only_read_only_views():
    x = torch.ones(2, requires_grad=True)
    node = (x * x).grad_fn
    ctx = _Ctx()
    for name in ("name", "next_functions", "_saved_self"):
        assert surface.attr_action(ctx, node, name)[0] is GET
    for name in ("register_hook", "register_prehook", "metadata", "_raw_saved_self", "__call__"):
        act, _ = surface.attr_action(ctx, node, name)
        with pytest.raises(NotAllowed):
            act(ctx, node, 1)


def test_every_nn_class_with_weights_has_a_size_guard():
    for name in ("Linear", "Conv2d", "Embedding", "BatchNorm1d", "LayerNorm", "Bilinear", "GRU", "LSTM"):
        cls = NAMESPACES["torch.nn"].gv_names[name]
        assert cls in surface.CLASS_GUARDS, name


def test_global_state_is_saved_and_restored():
    saved = surface.save_global_state()
    torch.set_printoptions(precision=1)
    torch.set_grad_enabled(False)
    surface.restore_global_state(saved)
    assert torch.is_grad_enabled() and torch._tensor_str.PRINT_OPTS.precision == saved["print"]["precision"]


class _Ctx:
    """The parts of a run context that attr_action looks at."""

    user_classes: set = set()
    user_attr_cache: dict = {}


def test_program_classes_expose_their_own_names_and_allowed_module_methods():
    from interp_helpers import run_gradviz

    src = """import torch.nn as nn
class Net(nn.Module):
    scale = 2
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self._cache = 5
    def forward(self, x):
        return self.fc(x) * self.scale
net = Net()
print(net._cache, Net.scale, net.scale, len(list(net.parameters())), net.training)
"""
    out = run_gradviz(src)
    assert out.error is None and out.stdout == "5 2 2 2 True\n"
    for attr, word in (("_parameters", "_parameters"), ("_modules", "_modules"),
                       ("register_forward_hook", "hooks"), ("__dict__", "__dict__"),
                       ("share_memory", "shared memory"), ("to_empty", "to_empty")):
        bad = run_gradviz(src + f"net.{attr}\n")
        assert bad.error.type == "NotAllowed" and word in bad.error.message, (attr, bad.error)
        assert bad.error.line == 12


def test_assignments_are_limited_to_what_tutorials_do():
    from interp_helpers import run_gradviz

    ok = run_gradviz("import torch\nx = torch.ones(2)\nx.requires_grad = True\nx.grad = torch.ones(2)\n"
                     "x.data = torch.zeros(2)\nclass A:\n    pass\na = A()\na.value = 3\nA.count = 1\n"
                     "print(x, x.grad, a.value, A.count)\n")
    assert ok.error is None and ok.stdout == "tensor([0., 0.], requires_grad=True) tensor([1., 1.]) 3 1\n"
    for stmt in ("import torch\ntorch.pi = 3", "import math\nmath.sqrt = abs", "x = [1]\nx.append = 1",
                 "import torch.nn as nn\nm = nn.Linear(1, 1)\nm._parameters = {}",
                 "import torch.nn as nn\nm = nn.Linear(1, 1)\nm.forward = print"):
        out = run_gradviz(stmt)
        assert out.error is not None and out.error.type == "NotAllowed", stmt


def test_warnings_are_collected_not_printed():
    from interp_helpers import run_gradviz

    out = run_gradviz("import torch\nx = torch.ones(2, requires_grad=True)\ny = x * 2\nprint(y.grad)\n")
    assert out.stdout == "None\n"
    assert any("not a leaf" in w for w in out.warnings)


def test_changing_a_class_attribute_is_seen_by_instances():
    from interp_helpers import run_gradviz

    src = """import torch.nn as nn
class L(nn.Linear):
    def extra(self):
        return 1
m = L(1, 1)
print(m.extra())
del L.extra
m.extra()
"""
    out = run_gradviz(src)
    assert out.stdout == "1\n"
    assert out.error.type == "AttributeError" and out.error.line == 8
