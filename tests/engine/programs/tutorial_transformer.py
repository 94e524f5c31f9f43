import torch
from torch import nn
class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.scale = d ** -0.5
    def forward(self, x, mask=None):
        q, k, v = self.q(x), self.k(x), self.v(x)
        att = (q @ k.transpose(-2, -1)) * self.scale
        if mask is not None:
            att = att.masked_fill(mask == 0, float("-inf"))
        return att.softmax(dim=-1) @ v
class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.att = Attention(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
    def forward(self, x, mask=None):
        x = x + self.att(self.ln1(x), mask=mask)
        return x + self.mlp(self.ln2(x))
blocks = nn.ModuleList([Block(8) for _ in range(2)])
x = torch.randn(1, 4, 8)
mask = torch.tril(torch.ones(4, 4))
for blk in blocks:
    x = blk(x, mask)
print(x.shape, blocks)
loss = x.pow(2).mean()
loss.backward()
print(blocks[0].att.q.weight.grad.shape)
emb = nn.Embedding(5, 3, padding_idx=0)
print(emb(torch.tensor([[0, 1], [2, 3]])).shape, emb.weight[0])
rnn = nn.GRU(3, 4, batch_first=True)
o, h = rnn(torch.randn(2, 5, 3))
print(o.shape, h.shape)
bn = nn.BatchNorm1d(3)
bn.train()
print(bn(torch.randn(4, 3)).shape, bn.running_mean.shape, bn.num_batches_tracked)
sched_opt = torch.optim.SGD(blocks.parameters(), lr=1.0)
sched = torch.optim.lr_scheduler.StepLR(sched_opt, step_size=2, gamma=0.5)
for i in range(4):
    sched_opt.step()
    sched.step()
    print(sched.get_last_lr())
for m in blocks.modules():
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
print(nn.utils.clip_grad_norm_(blocks.parameters(), 1.0) >= 0)
def init(m):
    if isinstance(m, nn.LayerNorm):
        m.weight.data.fill_(2.0)
blocks.apply(init)
print(blocks[1].ln1.weight)
