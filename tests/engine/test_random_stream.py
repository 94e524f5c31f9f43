"""Every random function consumes its generator exactly as real torch, Python and numpy do.

gradviz must never run a program's call twice or ahead of time (the allow-list engine once
checked sizes by running torch.normal ahead, and the stream moved). The program below draws from
every source a lesson uses, then prints where each stream stands; through the real engine it must
print exactly what plain Python prints, seeded as gradviz seeds (torch, random and numpy.random
from the session's seed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gradviz.core.request import RunRequest
from gradviz.engine.client import EngineClient

HERE = Path(__file__).resolve().parent

EVERY_RANDOM_FUNCTION = """\
import random
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

a = torch.rand(3)
b = torch.randn(2, 2)
c = torch.randint(0, 10, (4,))
d = torch.randperm(6)
e = torch.normal(torch.zeros(3), torch.ones(3))
e2 = torch.normal(2.0, 3.0, size=(2,))
f = torch.bernoulli(torch.full((5,), 0.5))
g = torch.multinomial(torch.tensor([0.1, 0.2, 0.7]), 4, replacement=True)
h = F.dropout(torch.ones(8), 0.5)
drop = nn.Dropout(0.3)(torch.ones(6))
u = torch.empty(3).uniform_(-1, 1)
ex = torch.empty(2).exponential_()
lin = nn.Linear(3, 2)
nn.init.xavier_uniform_(lin.weight)
nn.init.normal_(lin.bias)
w = torch.empty(3, 4)
nn.init.kaiming_normal_(w)
nn.init.kaiming_uniform_(w)
nn.init.trunc_normal_(w)
nn.init.orthogonal_(w)
nn.init.uniform_(w, -0.1, 0.1)
loader = DataLoader(TensorDataset(torch.arange(10.0)), batch_size=3, shuffle=True)
order = [batch[0].tolist() for batch in loader]
again = [batch[0].tolist() for batch in loader]
r = [random.random(), random.randint(0, 100), random.choice("abcdef"), random.gauss(0, 1)]
items = list(range(6))
random.shuffle(items)
sample = random.sample(range(100), 3)
n = np.random.rand(2)
m = np.random.randint(0, 5, 3)
arr = np.arange(5)
np.random.shuffle(arr)
rng = np.random.default_rng(7)
k = rng.normal(size=2)
gen = torch.Generator().manual_seed(42)
p = torch.rand(2, generator=gen)
print(a, b, c, d, e, e2, f, g, h, drop, u, ex, sep="\\n")
print(lin.weight, lin.bias, w, sep="\\n")
print(order, again, r, items, sample, n, m, arr, k, p, sep="\\n")
print("streams after:", torch.rand(2), random.random(), np.random.rand())
"""


def test_every_random_function_draws_as_plain_python_does(tmp_path):
    path = tmp_path / "every_random_function.py"
    path.write_text(EVERY_RANDOM_FUNCTION)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONPATH": str(HERE.parents[1])}
    done = subprocess.run([sys.executable, str(HERE / "corpus_reference.py"), str(path)], capture_output=True,
                          text=True, timeout=300, env=env)
    reference = json.loads(done.stdout.splitlines()[-1])
    assert reference["error"] is None, reference["error"]
    client = EngineClient(ahead=False)
    try:
        result = client.run(RunRequest(EVERY_RANDOM_FUNCTION), trusted=True)
    finally:
        client.close()
    assert result.error is None, result.error
    assert result.stdout == reference["stdout"]
    assert "streams after:" in result.stdout and len(result.stdout.splitlines()) > 20
