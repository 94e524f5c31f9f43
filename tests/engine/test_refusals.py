"""What the contained engine cannot do is said in one line, with what to do instead (not a raw traceback)."""

from __future__ import annotations

import sys

import pytest

from gradviz.core.request import Limits, RunRequest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the contained engine is Linux's here")

# (id, program, error type, words of the message, words of the hint)
CASES = [
    ("open_for_writing", "open('/tmp/x.txt', 'w')", "PermissionError", ["'/tmp/x.txt'", "cannot read or write"],
     ["io.BytesIO"]),
    ("read_a_user_file", "open('/etc/passwd').read()", "PermissionError", ["'/etc/passwd'"], ["torch.randn"]),
    ("torch_save_to_a_path", "import torch\ntorch.save(torch.ones(2), 'w.pt')", "RuntimeError", ["torch.save"],
     ["io.BytesIO"]),
    ("read_a_relative_file", "import numpy as np\nnp.loadtxt('data.csv')", "FileNotFoundError",
     ["data.csv", "empty folder"], ["TensorDataset"]),
    ("urllib_download", "import urllib.request\nurllib.request.urlopen('http://example.com/mnist.gz')", "URLError",
     ["network"], ["same shape"]),
    ("socket", "import socket\nsocket.create_connection(('127.0.0.1', 80))", "PermissionError", ["network"],
     ["randn"]),
    # The first wall torch.hub.load meets depends on the user: making its cache folder (PermissionError)
    # or, as root, the download (RuntimeError). The message is the same.
    ("torch_hub_load", "import torch\ntorch.hub.load('pytorch/vision', 'resnet18')", None, ["torch.hub"],
     ["torch.nn"]),
    ("torch_hub_url", "import torch\ntorch.hub.load_state_dict_from_url('https://example.com/w.pt')", "PermissionError",
     ["torch.hub"], ["torch.nn"]),
    ("subprocess", "import subprocess\nsubprocess.run(['ls'])", "PermissionError", ["another program"], ["outside"]),
    ("fork", "import os\nos.fork()", "PermissionError", ["another program"], ["outside"]),
    ("dataloader_workers", "import torch\nfrom torch.utils.data import DataLoader, TensorDataset\n"
     "for b in DataLoader(TensorDataset(torch.ones(8, 2)), batch_size=2, num_workers=2):\n    print(b)",
     "PermissionError", ["num_workers"], ["num_workers=0"]),
    ("cpp_extension", "from torch.utils.cpp_extension import load_inline\n"
     "load_inline(name='e', cpp_sources='int f(){return 1;}', functions=['f'])", None, ["C++ extension"],
     ["torch functions"]),
    ("cuda", "import torch\nx = torch.ones(2).cuda()", "AssertionError", ["CUDA", "CPU"],
     ["torch.cuda.is_available()"]),
    ("cuda_device", "import torch\nx = torch.zeros(2, device='cuda')", "AssertionError", ["CUDA"], [".to(device)"]),
    ("torchvision", "import torchvision\nm = torchvision.models.resnet18(weights=None)", "ModuleNotFoundError",
     ["torchvision is not installed"], ["torch.nn"]),
    ("matplotlib", "import matplotlib.pyplot as plt", "ModuleNotFoundError", ["plots"], ["history panel"]),
    ("other_package", "import pandas as pd", "ModuleNotFoundError", ["'pandas' is not installed"], ["environment"]),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, program, typ, message, hint", CASES, ids=[c[0] for c in CASES])
def test_a_refusal_is_one_plain_line_with_what_to_do_instead(engine, name, program, typ, message, hint):
    result = engine.run(RunRequest(program, limits=Limits(max_seconds=60)), trusted=True)
    error = result.error
    assert error is not None and error.line is not None
    if typ is not None:
        assert error.type == typ
    assert "\n" not in error.message and "Errno" not in error.message, error.message
    for word in message:
        assert word in error.message, (word, error.message)
    for word in hint:
        assert error.hint is not None and word in error.hint, (word, error.hint)
