"""Benchmark programs as ordinary PyTorch source text: the same text runs in gradviz and in plain Python."""

TRANSFORMER = '''\
import torch
import torch.nn.functional as F

torch.manual_seed(0)
d, seq, heads, hidden = DIMS
dh = d // heads


def param(*shape):
    return (torch.randn(*shape) * 0.1).requires_grad_()


x = torch.randn(seq, d, requires_grad=True)
h = x
for i in range(BLOCKS):
    ln1_w, ln1_b, ln2_w, ln2_b = param(d), param(d), param(d), param(d)
    wq, wk, wv, wo = param(d, d), param(d, d), param(d, d), param(d, d)
    bo = param(d)
    w1, b1, w2, b2 = param(d, hidden), param(hidden), param(hidden, d), param(d)
    a = F.layer_norm(h, (d,), ln1_w, ln1_b)
    q = (a @ wq).view(seq, heads, dh).transpose(0, 1)
    k = (a @ wk).view(seq, heads, dh).transpose(0, 1)
    v = (a @ wv).view(seq, heads, dh).transpose(0, 1)
    att = torch.softmax(q @ k.transpose(-2, -1) / dh ** 0.5, dim=-1)
    o = (att @ v).transpose(0, 1).reshape(seq, d)
    h = h + o @ wo + bo
    m = F.layer_norm(h, (d,), ln2_w, ln2_b)
    h = h + F.gelu(m @ w1 + b1) @ w2 + b2
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


def transformer(blocks: int = 82, d: int = 64, seq: int = 16, heads: int = 4, hidden: int = 256) -> str:
    """About 64 graph nodes per block (ops, AccumulateGrad and leaves): 82 blocks make ~5,250."""
    return TRANSFORMER.replace("BLOCKS", str(blocks)).replace("DIMS", f"{d}, {seq}, {heads}, {hidden}")


def chain(steps: int = 1666) -> str:
    """Three nodes per step: 1,666 steps make a ~5,000-node graph."""
    return CHAIN.replace("STEPS", str(steps))
