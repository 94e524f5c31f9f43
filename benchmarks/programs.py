"""Benchmark programs as ordinary PyTorch source text: the same text runs in gradviz and in plain Python."""

TRANSFORMER = '''\
import torch
import torch.nn.functional as F

torch.manual_seed(0)
d, seq, hidden = 32, 8, 64
x = torch.randn(seq, d, requires_grad=True)
h = x
for i in range(BLOCKS):
    wq = torch.randn(d, d, requires_grad=True)
    wk = torch.randn(d, d, requires_grad=True)
    wv = torch.randn(d, d, requires_grad=True)
    wo = torch.randn(d, d, requires_grad=True)
    w1 = torch.randn(d, hidden, requires_grad=True)
    w2 = torch.randn(hidden, d, requires_grad=True)
    a = F.layer_norm(h, (d,))
    q = a @ wq
    k = a @ wk
    v = a @ wv
    att = torch.softmax(q @ k.T / d ** 0.5, dim=-1)
    h = h + (att @ v) @ wo * 0.1
    m = F.layer_norm(h, (d,))
    h = h + F.gelu(m @ w1) @ w2 * 0.1
loss = h.pow(2).mean()
loss.backward()
print(round(loss.item(), 4))
'''

CHAIN = '''\
import torch

x = torch.ones(16, requires_grad=True)
y = x
for i in range(STEPS):
    y = (y * 1.001 + 0.01).sin()
loss = y.sum()
loss.backward()
print(round(loss.item(), 4))
'''


def transformer(blocks: int = 82) -> str:
    """About 61 autograd nodes per block: 82 blocks make a ~5,000-node graph."""
    return TRANSFORMER.replace("BLOCKS", str(blocks))


def chain(steps: int = 1666) -> str:
    """Three nodes per step: 1,666 steps make a ~5,000-node graph."""
    return CHAIN.replace("STEPS", str(steps))
