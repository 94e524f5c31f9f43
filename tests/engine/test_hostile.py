"""Hostile and resource-exhausting programs: each is refused with a clear error, nothing escapes."""

from __future__ import annotations

import os
import resource

import pytest

from interp_helpers import SMALL, run_gradviz

NOT_ALLOWED = "NotAllowed"
LIMIT = "LimitExceeded"

# (id, program, expected type, expected limit or None, a word the message must contain)
ESCAPES = [
    ("dunder_class", "x = (1).__class__", NOT_ALLOWED, None, "__class__"),
    ("dunder_chain", "().__class__.__bases__[0].__subclasses__()", NOT_ALLOWED, None, "__class__"),
    ("dunder_globals", "def f(): pass\nf.__globals__", NOT_ALLOWED, None, "__globals__"),
    ("dunder_code", "def f(): pass\nf.__code__", NOT_ALLOWED, None, "__code__"),
    ("dunder_builtins", "print(__builtins__)", NOT_ALLOWED, None, "__builtins__"),
    ("dunder_import", "__import__('os')", NOT_ALLOWED, None, "import"),
    ("getattr", "getattr(1, '__class__')", NOT_ALLOWED, None, "getattr"),
    ("setattr", "import torch\nsetattr(torch, 'x', 1)", NOT_ALLOWED, None, "setattr"),
    ("type_builtin", "type(1)", NOT_ALLOWED, None, "type()"),
    ("type_three_args", "type('X', (), {})", NOT_ALLOWED, None, "type()"),
    ("vars", "vars()", NOT_ALLOWED, None, "vars"),
    ("dir", "dir()", NOT_ALLOWED, None, "dir"),
    ("globals", "globals()['x'] = 1", NOT_ALLOWED, None, "globals"),
    ("locals", "locals()", NOT_ALLOWED, None, "locals"),
    ("open_read", "open('/etc/passwd').read()", NOT_ALLOWED, None, "files"),
    ("open_write", "open('pwned.txt', 'w').write('x')", NOT_ALLOWED, None, "files"),
    ("exec", "exec('import os')", NOT_ALLOWED, None, "exec"),
    ("eval", "eval('1+1')", NOT_ALLOWED, None, "eval"),
    ("compile", "compile('1', 'f', 'eval')", NOT_ALLOWED, None, "compile"),
    ("breakpoint", "breakpoint()", NOT_ALLOWED, None, "breakpoint"),
    ("input", "input()", NOT_ALLOWED, None, "input"),
    ("import_os", "import os\nos.system('touch pwned')", NOT_ALLOWED, None, "'os'"),
    ("import_sys", "import sys", NOT_ALLOWED, None, "'sys'"),
    ("import_subprocess", "import subprocess", NOT_ALLOWED, None, "'subprocess'"),
    ("import_builtins", "import builtins", NOT_ALLOWED, None, "'builtins'"),
    ("import_importlib", "import importlib\nimportlib.import_module('os')", NOT_ALLOWED, None, "importlib"),
    ("from_os", "from os import system", NOT_ALLOWED, None, "'os'"),
    ("import_numpy", "import numpy as np", NOT_ALLOWED, None, "torch"),
    ("import_torch_utils", "import torch.utils.data", NOT_ALLOWED, None, "torch.utils"),
    ("from_torch_import_os", "from torch import os", NOT_ALLOWED, None, "torch.os"),
    ("torch_os", "import torch\ntorch.os.system('id')", NOT_ALLOWED, None, "torch.os"),
    ("torch_sys", "import torch\ntorch.sys.modules", NOT_ALLOWED, None, "torch.sys"),
    ("torch_C", "import torch\ntorch._C", NOT_ALLOWED, None, "_C"),
    ("torch_utils", "import torch\ntorch.utils.data", NOT_ALLOWED, None, "torch.utils"),
    ("torch_load", "import torch\ntorch.load('x.pt')", NOT_ALLOWED, None, "torch.load"),
    ("torch_save", "import torch\ntorch.save(torch.ones(1), 'x.pt')", NOT_ALLOWED, None, "torch.save"),
    ("torch_hub", "import torch\ntorch.hub.load('a', 'b')", NOT_ALLOWED, None, "torch.hub"),
    ("torch_ops", "import torch\ntorch.ops.aten", NOT_ALLOWED, None, "torch.ops"),
    ("torch_jit", "import torch\ntorch.jit.script", NOT_ALLOWED, None, "torch.jit"),
    ("torch_from_file", "import torch\ntorch.from_file('/etc/passwd')", NOT_ALLOWED, None, "from_file"),
    ("torch_from_numpy", "import torch\ntorch.from_numpy", NOT_ALLOWED, None, "from_numpy"),
    ("set_num_threads", "import torch\ntorch.set_num_threads(1)", NOT_ALLOWED, None, "set_num_threads"),
    ("set_default_dtype", "import torch\ntorch.set_default_dtype(torch.float64)", NOT_ALLOWED, None, "set_default_dtype"),
    ("device_cuda", "import torch\ntorch.ones(2, device='cuda')", NOT_ALLOWED, None, "CPU"),
    ("to_cuda", "import torch\ntorch.ones(2).to('cuda')", NOT_ALLOWED, None, "CPU"),
    ("dot_cuda", "import torch\ntorch.ones(2).cuda()", NOT_ALLOWED, None, "CPU"),
    ("linear_cuda", "import torch.nn as nn\nnn.Linear(2, 2, device='cuda:0')", NOT_ALLOWED, None, "CPU"),
    ("numpy_method", "import torch\ntorch.ones(2).numpy()", NOT_ALLOWED, None, "numpy"),
    ("tensor_storage", "import torch\ntorch.ones(2).untyped_storage()", NOT_ALLOWED, None, "storage"),
    ("tensor_private", "import torch\ntorch.ones(2)._cdata", NOT_ALLOWED, None, "_cdata"),
    ("tensor_hook_escape", "import torch\nx = torch.ones(1, requires_grad=True)\nx.register_hook(lambda g: g.__class__)\nx.sum().backward()", NOT_ALLOWED, None, "__class__"),
    ("tensor_hook_loop", "import torch\nx = torch.ones(1, requires_grad=True)\ndef h(g):\n    while True:\n        pass\nx.register_hook(h)\n(x * 2).sum().backward()", LIMIT, "max_steps", "steps"),
    ("node_hook", "import torch\nx = torch.ones(1, requires_grad=True)\n(x * 2).grad_fn.register_hook(print)", NOT_ALLOWED, None, "hooks"),
    ("node_call", "import torch\nx = torch.ones(1, requires_grad=True)\n(x * 2).grad_fn(torch.ones(1))", NOT_ALLOWED, None, "grad_fn"),
    ("node_metadata", "import torch\nx = torch.ones(1, requires_grad=True)\n(x * 2).grad_fn.metadata", NOT_ALLOWED, None, "metadata"),
    ("node_raw_saved", "import torch\nx = torch.ones(1, requires_grad=True)\n(x * x).grad_fn._raw_saved_self", NOT_ALLOWED, None, "_raw_saved_self"),
    ("module_hook", "import torch.nn as nn\nnn.Linear(1, 1).register_forward_hook(print)", NOT_ALLOWED, None, "hooks"),
    ("module_internals", "import torch.nn as nn\nnn.Linear(1, 1)._parameters", NOT_ALLOWED, None, "_parameters"),
    ("module_dict", "import torch.nn as nn\nnn.Linear(1, 1).__dict__", NOT_ALLOWED, None, "__dict__"),
    ("format_attr", "import torch\n'{0.__class__}'.format(1)", NOT_ALLOWED, None, "format"),
    ("format_index", "'{0[0]}'.format([1])", NOT_ALLOWED, None, "format"),
    ("format_map_attr", "'{x.real}'.format_map({'x': 1})", NOT_ALLOWED, None, "format"),
    ("lambda_globals", "f = lambda: 0\nf.__globals__", NOT_ALLOWED, None, "__globals__"),
    ("class_dunder_def", "class A:\n    def __getattribute__(self, n):\n        return 1", NOT_ALLOWED, None, "__getattribute__"),
    ("class_del", "class A:\n    def __del__(self):\n        pass", NOT_ALLOWED, None, "__del__"),
    ("class_metaclass", "class A(metaclass=object):\n    pass", NOT_ALLOWED, None, "metaclass"),
    ("subclass_int", "class A(int):\n    pass\nA()", NOT_ALLOWED, None, "subclass"),
    ("class_mro", "class A:\n    pass\nA.__mro__", NOT_ALLOWED, None, "__mro__"),
    ("class_subclasses", "class A:\n    pass\nA.__subclasses__()", NOT_ALLOWED, None, "__subclasses__"),
    ("subclass_tensor", "import torch\nclass T(torch.Tensor):\n    pass", NOT_ALLOWED, None, "subclass"),
    ("subclass_namespace_value", "import torch\nclass T(torch.nn.functional.relu):\n    pass", "TypeError", None, "bases"),
    ("class_init_dunder", "import torch.nn as nn\nclass A(nn.Module):\n    pass\nA.__init__", NOT_ALLOWED, None, "__init__"),
    ("module_init_call", "import torch.nn as nn\nnn.Module.__init__", NOT_ALLOWED, None, "__init__"),
    ("node_internal", "import torch\nx = torch.ones(1, requires_grad=True)\n(x * 2).grad_fn._register_hook_dict", NOT_ALLOWED, None, "_register_hook_dict"),
    ("node_class", "import torch\nx = torch.ones(1, requires_grad=True)\n(x * 2).grad_fn.next_functions[0][0].__class__", NOT_ALLOWED, None, "__class__"),
    ("lambda_omega", "(lambda f: f(f))(lambda f: f(f))", LIMIT, "max_depth", "nested"),
    ("lambda_defaults", "f = lambda a=1: a\nf.__defaults__", NOT_ALLOWED, None, "__defaults__"),
    ("device_object_cuda", "import torch\ntorch.zeros(2, device=torch.device('cuda'))", NOT_ALLOWED, None, "CPU"),
    ("device_meta", "import torch\ntorch.tensor([1.0], device='meta')", NOT_ALLOWED, None, "CPU"),
    ("to_device_kw", "import torch\ntorch.ones(2).to(device='cuda')", NOT_ALLOWED, None, "CPU"),
    ("printoptions_full", "import torch\ntorch.set_printoptions(profile='full')", NOT_ALLOWED, None, "profile"),
    ("subclass_torch_method", "import torch.nn as nn\nclass L(nn.Linear):\n    pass\nL(2, 2).reset_parameters()", NOT_ALLOWED, None, "reset_parameters"),
    ("printoptions_huge", "import torch\ntorch.set_printoptions(threshold=10**9)", NOT_ALLOWED, None, "threshold"),
    ("torch_version_module", "import torch\ntorch.version.git_version", NOT_ALLOWED, None, "torch.version"),
    ("super_outside", "super()", NOT_ALLOWED, None, "super"),
    ("exception_traceback", "try:\n    1/0\nexcept Exception as e:\n    e.__traceback__.tb_frame", NOT_ALLOWED, None, "__traceback__"),
    ("generator_frame", "g = (i for i in range(3))\ng.gi_frame", NOT_ALLOWED, None, "gi_frame"),
    ("str_maketrans_class", "str.maketrans", NOT_ALLOWED, None, "maketrans"),
    ("method_self", "import torch\ntorch.ones(1).add.__self__", NOT_ALLOWED, None, "__self__"),
    ("torch_func_module", "import torch\ntorch.tensor.__module__", NOT_ALLOWED, None, "__module__"),
    ("namespace_private", "import torch\ntorch._tensor_str", NOT_ALLOWED, None, "_tensor_str"),
    ("nn_private", "import torch.nn as nn\nnn.modules.module", NOT_ALLOWED, None, "modules"),
    ("optim_private", "import torch\nopt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=1)\nopt._zero_grad_profile_name", NOT_ALLOWED, None, "_zero_grad"),
    ("with_open", "with open('x') as f:\n    pass", NOT_ALLOWED, None, "files"),
    ("with_custom", "import torch\nwith torch.ones(1):\n    pass", NOT_ALLOWED, None, "no_grad"),
    ("async_def", "async def f():\n    pass", NOT_ALLOWED, None, "async"),
    ("yield", "def f():\n    yield 1", NOT_ALLOWED, None, "yield"),
    ("bytes", "bytes(10)", NOT_ALLOWED, None, "bytes"),
    ("relative_import", "from . import x", NOT_ALLOWED, None, "relative"),
    ("print_file", "print('x', file=None or 1)", NOT_ALLOWED, None, "file"),
    ("hasattr_dunder", "print(hasattr(1, '__class__'))", None, None, None),
    ("set_tensor_attr", "import torch\nx = torch.ones(1)\nx.foo = 1", NOT_ALLOWED, None, "requires_grad"),
    ("module_cuda", "import torch.nn as nn\nnn.Linear(1, 1).cuda()", NOT_ALLOWED, None, "CPU"),
    ("module_to_cuda", "import torch.nn as nn\nnn.Linear(1, 1).to('cuda')", NOT_ALLOWED, None, "CPU"),
    ("tensor_type_cuda", "import torch\ntorch.ones(1).type('torch.cuda.FloatTensor')", NOT_ALLOWED, None, "CPU"),
    ("as_strided", "import torch\ntorch.ones(4).as_strided((100,), (1,))", NOT_ALLOWED, None, "as_strided"),
]

EXHAUSTION = [
    ("infinite_while", "while True:\n    pass", LIMIT, "max_steps", "steps"),
    ("infinite_for_growth", "l = [0]\nfor x in l:\n    l.append(x)", LIMIT, None, "limit"),
    ("huge_tensor", "import torch\ntorch.zeros(100000, 100000)", LIMIT, "max_elements", "elements"),
    ("huge_randn_tuple", "import torch\ntorch.randn((50000, 50000))", LIMIT, "max_elements", "elements"),
    ("huge_arange", "import torch\ntorch.arange(0, 1e12)", LIMIT, "max_elements", "elements"),
    ("huge_linspace", "import torch\ntorch.linspace(0, 1, 10**10)", LIMIT, "max_elements", "elements"),
    ("huge_expand_sum", "import torch\ntorch.ones(1).expand(10**6, 10**6).sum()", LIMIT, "max_elements", "elements"),
    ("huge_broadcast", "import torch\na = torch.ones(10**5, 1)\nb = torch.ones(1, 10**5)\nc = a + b", LIMIT, "max_elements", "broadcast"),
    ("huge_broadcast_fn", "import torch\na = torch.ones(10**5, 1)\ntorch.mul(a, torch.ones(1, 10**5))", LIMIT, "max_elements", "elements"),
    ("huge_matmul", "import torch\na = torch.ones(10**5, 1)\nb = torch.ones(1, 10**5)\nc = a @ b", LIMIT, "max_elements", "elements"),
    ("huge_matmul_empty", "import torch\ntorch.zeros(10**5, 0) @ torch.zeros(0, 10**5)", LIMIT, "max_elements", "elements"),
    ("huge_outer", "import torch\ntorch.outer(torch.ones(10**5), torch.ones(10**5))", LIMIT, "max_elements", "elements"),
    ("huge_repeat", "import torch\ntorch.ones(10).repeat(10**5, 10**5)", LIMIT, "max_elements", "elements"),
    ("huge_repeat_interleave", "import torch\ntorch.ones(10).repeat_interleave(10**9)", LIMIT, "max_elements", "elements"),
    ("huge_new_zeros", "import torch\ntorch.ones(1).new_zeros(10**5, 10**5)", LIMIT, "max_elements", "elements"),
    ("huge_tensor_ctor", "import torch\ntorch.Tensor(10**5, 10**5)", LIMIT, "max_elements", "elements"),
    ("huge_tensor_range", "import torch\ntorch.tensor(range(10**12))", LIMIT, "max_elements", "elements"),
    ("huge_cat", "import torch\nx = torch.ones(1000, 1000)\ntorch.cat([x] * 1000)", LIMIT, "max_elements", "elements"),
    ("huge_index", "import torch\nx = torch.ones(1, 100000)\nx[torch.zeros(10000, dtype=torch.long)]", LIMIT, "max_elements", "elements"),
    ("huge_linear", "import torch.nn as nn\nnn.Linear(100000, 100000)", LIMIT, "max_elements", "Linear"),
    ("huge_conv_kernel", "import torch.nn as nn\nnn.Conv2d(200, 200, 100)", LIMIT, "max_elements", "Conv2d"),
    ("huge_conv3d", "import torch.nn as nn\nnn.Conv3d(100, 100, kernel_size=20)", LIMIT, "max_elements", "Conv3d"),
    ("huge_layernorm", "import torch.nn as nn\nnn.LayerNorm((3000, 3000))", LIMIT, "max_elements", "LayerNorm"),
    ("huge_gru", "import torch.nn as nn\nnn.GRU(1, 3000)", LIMIT, "max_elements", "GRU"),
    ("huge_embedding", "import torch.nn as nn\nnn.Embedding(10**7, 1000)", LIMIT, "max_elements", "Embedding"),
    ("huge_one_hot", "import torch\nimport torch.nn.functional as F\nF.one_hot(torch.tensor([0]), 10**9)", LIMIT, "max_elements", "elements"),
    ("huge_pad", "import torch\nimport torch.nn.functional as F\nF.pad(torch.ones(1, 1), (10**5, 10**5, 10**5, 10**5))", LIMIT, "max_elements", "elements"),
    ("huge_diag", "import torch\ntorch.diag(torch.ones(10**5))", LIMIT, "max_elements", "elements"),
    ("huge_list_mult", "[0] * 10**9", LIMIT, "max_elements", "elements"),
    ("huge_str_mult", "'a' * 10**10", LIMIT, "max_elements", "elements"),
    ("string_doubling", "s = 'ab'\nfor i in range(64):\n    s = s + s", LIMIT, "max_elements", "elements"),
    ("huge_int_pow", "10 ** 10 ** 10", LIMIT, "max_elements", "digits"),
    ("huge_builtin_pow", "pow(7, 10**9)", LIMIT, "max_elements", "digits"),
    ("huge_shift", "1 << 10**10", LIMIT, "max_elements", "digits"),
    ("int_squaring", "x = 3\nwhile True:\n    x = x * x", LIMIT, "max_elements", "digits"),
    ("huge_list_range", "list(range(10**12))", LIMIT, "max_elements", "elements"),
    ("huge_sum_range", "sum(range(10**12))", LIMIT, "max_steps", "steps"),
    ("huge_sum_map", "sum(map(abs, range(10**12)))", LIMIT, "max_steps", "steps"),
    ("huge_join", "''.join(map(str, range(10**12)))", LIMIT, "max_steps", "steps"),
    ("huge_sorted", "sorted(range(10**12))", LIMIT, "max_elements", "elements"),
    ("huge_in_range", "'a' in range(10**12)", LIMIT, "max_steps", "steps"),
    ("huge_ljust", "'a'.ljust(10**10)", LIMIT, "max_elements", "elements"),
    ("huge_fstring_width", "f'{1:>999999999}'", LIMIT, "max_output_chars", "width"),
    ("huge_fstring_nested", "w = 10**9\nf'{1:>{w}}'", LIMIT, "max_output_chars", "width"),
    ("huge_format_width", "'{:>999999999}'.format(1)", LIMIT, "max_output_chars", "width"),
    ("huge_format_nested", "'{:{}}'.format(1, 10**9)", LIMIT, "max_output_chars", "width"),
    ("huge_format_nested_kw", "'{:>{w}}'.format(1, w=10**9)", LIMIT, "max_output_chars", "width"),
    ("huge_format_nested_str", "'{:{s}}'.format(1, s='>999999999')", LIMIT, "max_output_chars", "width"),
    ("huge_percent_width", "'%999999999d' % 1", LIMIT, "max_output_chars", "width"),
    ("huge_format_builtin", "format(1, '>999999999')", LIMIT, "max_output_chars", "width"),
    ("huge_factorial", "import math\nmath.factorial(10**7)", LIMIT, "max_elements", "integer"),
    ("huge_math_prod", "import math\nmath.prod(range(1, 10**5))", LIMIT, "max_elements", "digits"),
    ("huge_math_lcm", "import math\nmath.lcm(*range(1, 10**5))", LIMIT, None, "limit"),
    ("finally_return_swallow", "def f():\n    try:\n        while True:\n            pass\n    finally:\n        return 1\nwhile True:\n    f()", LIMIT, "max_steps", "steps"),
    ("finally_break_swallow", "for i in range(3):\n    try:\n        import os\n    finally:\n        break\nprint('escaped')", NOT_ALLOWED, None, "'os'"),
    ("finally_recursion_bomb", "def f():\n    try:\n        return f()\n    finally:\n        return f()\nf()", LIMIT, None, "limit"),
    ("huge_random_choices", "import random\nrandom.choices([1], k=10**9)", LIMIT, "max_elements", "elements"),
    ("huge_random_sample", "import random\nrandom.sample(range(10**12), 10**9)", LIMIT, "max_elements", "elements"),
    ("deep_recursion", "def f(n):\n    return f(n + 1)\nf(0)", LIMIT, "max_depth", "nested"),
    ("mutual_recursion", "def a(n):\n    return b(n)\ndef b(n):\n    return a(n)\na(1)", LIMIT, "max_depth", "nested"),
    ("lambda_recursion", "f = lambda n: f(n)\nf(1)", LIMIT, "max_depth", "nested"),
    ("module_recursion", "import torch.nn as nn\nclass M(nn.Module):\n    def forward(self, x):\n        return self(x)\nM()(1)", LIMIT, "max_depth", "nested"),
    ("print_flood", "while True:\n    print('x' * 1000)", LIMIT, "max_output_chars", "printed"),
    ("print_big_once", "print('x' * 1000000)", LIMIT, "max_output_chars", "printed"),
    ("comprehension_bomb", "x = [[i for i in range(10**6)] for j in range(10**6)]", LIMIT, "max_steps", "steps"),
    ("recursive_list_growth", "x = [1]\nwhile True:\n    x = x + x", LIMIT, "max_elements", "elements"),
    ("extend_growth", "x = [1]\nwhile True:\n    x.extend(x)", LIMIT, "max_elements", "elements"),
    ("tensor_loop_growth", "import torch\nx = torch.ones(1)\nwhile True:\n    x = torch.cat([x, x])", LIMIT, "max_elements", "elements"),
]


def _slow_deadline():
    from gradviz.core.request import Limits

    return Limits(max_elements=2_000_000, max_steps=10**9, max_seconds=0.5, max_memory_mb=512,
                  max_depth=60, max_output_chars=20_000)


CASES = ESCAPES + EXHAUSTION


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_program_is_refused(case, tmp_path, monkeypatch):
    name, source, typ, limit, word = case
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tmp_path))
    out = run_gradviz(source, SMALL)
    assert set(os.listdir(tmp_path)) == before  # nothing written
    if typ is None:
        assert out.error is None and out.stdout == "False\n"
        return
    assert out.error is not None, f"{name} ran without an error"
    assert out.error.type == typ, out.error
    assert out.error.line is not None and out.error.line >= 1
    assert word.lower() in out.error.message.lower(), out.error.message
    if limit is not None:
        assert out.error.limit == limit
        assert f"Limits.{limit}" in out.error.message
    assert len(out.stdout) <= SMALL.max_output_chars


def test_there_are_at_least_sixty_hostile_programs():
    assert len(CASES) >= 60


@pytest.mark.timeout(30)
@pytest.mark.parametrize("source", [
    "while True:\n    x = 1",
    "import torch\nwhile True:\n    x = torch.ones(100) * 2",
    "def f():\n    for i in range(10**9):\n        pass\nf()",
])
def test_deadline_stops_slow_loops(source):
    import time

    t0 = time.monotonic()
    out = run_gradviz(source, _slow_deadline())
    assert out.error.type == LIMIT and out.error.limit == "max_seconds"
    assert "time limit" in out.error.message
    assert time.monotonic() - t0 < 3.0


@pytest.mark.timeout(30)
def test_memory_limit_stops_growing_lists():
    from gradviz.core.request import Limits

    limits = Limits(max_elements=10**9, max_steps=10**9, max_seconds=20, max_memory_mb=100,
                    max_depth=50, max_output_chars=1000)
    out = run_gradviz("import torch\nkeep = []\nwhile True:\n    keep.append(torch.ones(1_000_000))", limits)
    assert out.error.type == LIMIT and out.error.limit == "max_memory_mb"
    del out
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert rss < 4000  # MB: bounded, far below the machine


@pytest.mark.timeout(30)
def test_cancel_stops_the_run():
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    from gradviz.core.request import Limits

    out = run_gradviz("while True:\n    pass", Limits(max_seconds=20), cancelled=cancelled)
    assert out.error.type == "Cancelled" and out.error.line in (1, 2)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("source", [
    "x = " + "(" * 5000 + "1" + ")" * 5000,
    "x = " + "-" * 100000 + "1",
    "x = 1" + " + 1" * 100000,
    "x = " + "[" * 3000 + "]" * 3000,
    "if True:\n" + "".join("    " * i + "if True:\n" for i in range(1, 120)) + "    " * 120 + "pass\n",
    "x = 'a'\n" * 30000,
])
def test_deep_or_huge_source_is_a_clear_error(source):
    out = run_gradviz(source, SMALL)
    assert out.error is not None
    assert out.error.type in ("SyntaxError", LIMIT)
    assert out.error.message


def test_limit_errors_cannot_be_caught_by_user_code():
    out = run_gradviz("try:\n    while True:\n        pass\nexcept:\n    print('caught')\n", SMALL)
    assert out.error.type == LIMIT and out.stdout == ""
    out = run_gradviz("try:\n    import os\nexcept Exception:\n    print('caught')\n", SMALL)
    assert out.error.type == NOT_ALLOWED and out.stdout == ""


def test_refused_program_leaves_torch_state_alone():
    import torch

    before = torch.is_grad_enabled(), torch._tensor_str.PRINT_OPTS.precision
    out = run_gradviz("import torch\ntorch.set_grad_enabled(False)\ntorch.set_printoptions(precision=2)\n"
                      "print(torch.tensor([1.23456]))\nimport os\n", SMALL)
    assert out.stdout == "tensor([1.23])\n" and out.error.type == NOT_ALLOWED
    assert (torch.is_grad_enabled(), torch._tensor_str.PRINT_OPTS.precision) == before


def test_functions_of_a_finished_run_cannot_run_again():
    out = run_gradviz("def f():\n    return 1\n", SMALL)
    from gradviz.engine.limits import NotAllowed

    with pytest.raises(NotAllowed):
        out.globals["f"]()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("source", [
    "import torch\nimport torch.nn.functional as F\nF.conv2d(torch.ones(1, 1, 1, 1), torch.ones(1, 1, 1, 1), padding=10**5)",
    "import torch\nimport torch.nn.functional as F\nF.conv_transpose2d(torch.ones(1, 1, 100, 100), torch.ones(1, 1, 1, 1), stride=1000)",
    "import torch\ntorch.conv2d(torch.ones(1, 1, 1, 1), torch.ones(1, 1, 1, 1), padding=10**5)",
    "import torch\nimport torch.nn as nn\nconv = nn.Conv2d(1, 1, 1, padding=10**5)\nconv(torch.ones(1, 1, 1, 1))",
    "import torch\nx = torch.ones(1, 10**4)\nx.index_select(0, torch.zeros(10**6, dtype=torch.long))",
    "print(*[1] * 100, sep='x' * 10**6)",
])
def test_growth_through_arguments_is_caught_before_allocation(source):
    out = run_gradviz(source, SMALL)
    assert out.error is not None and out.error.type == LIMIT, out.error
    assert out.error.limit in ("max_elements", "max_output_chars")


@pytest.mark.timeout(30)
def test_sleep_stops_at_the_deadline():
    import time

    t0 = time.monotonic()
    out = run_gradviz("import time\ntime.sleep(1000)", _slow_deadline())
    assert out.error.type == LIMIT and out.error.limit == "max_seconds"
    assert time.monotonic() - t0 < 3


@pytest.mark.timeout(30)
@pytest.mark.parametrize("source", [
    "from collections import deque\ndeque(range(10**12))",
    "from collections import Counter\nCounter(range(10**12))",
    "from collections import OrderedDict\nOrderedDict.fromkeys(range(10**12))",
])
def test_collections_are_bounded(source):
    out = run_gradviz(source, SMALL)
    assert out.error is not None and out.error.type in (LIMIT, NOT_ALLOWED)


@pytest.mark.timeout(30)
def test_lambdas_called_from_builtins_count_against_the_deadline():
    import time

    t0 = time.monotonic()
    out = run_gradviz("xs = list(range(1_000_000))\nfor i in range(100):\n    xs = sorted(xs, key=lambda v: -v)",
                      _slow_deadline())
    assert out.error.type == LIMIT and out.error.limit == "max_seconds"
    assert time.monotonic() - t0 < 5


@pytest.mark.timeout(30)
def test_memory_limit_stops_before_the_address_space_cap(monkeypatch):
    """The worker caps the address space; allocations past it can crash torch outright, so the
    budget stops a growing program while there is still a margin below that cap."""
    from gradviz.core.request import Limits
    from gradviz.engine import limits as budget_limits

    address, _ = budget_limits._memory_bytes()
    cap = address + 64 * 1024 * 1024
    monkeypatch.setattr(budget_limits, "_address_cap", lambda: cap - budget_limits.ADDRESS_MARGIN)
    limits = Limits(max_elements=10**9, max_steps=10**9, max_seconds=20, max_memory_mb=100_000,
                    max_depth=50, max_output_chars=1000)
    out = run_gradviz("import torch\nkeep = []\nwhile True:\n    keep.append(torch.ones(1_000_000))", limits)
    assert out.error.type == LIMIT and out.error.limit == "max_memory_mb"
    assert "memory limit" in out.error.message
