import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

torch.manual_seed(42)
X = torch.randn(64, 2)
y = (X[:, 0] * X[:, 1] > 0).long()

class MLP(nn.Module):
    def __init__(self, d_in, d_hidden, d_out):
        super(MLP, self).__init__()
        self.layers = nn.Sequential(
            nn.Linear(d_in, d_hidden),
            nn.Tanh(),
            nn.Linear(d_hidden, d_out),
        )

    def forward(self, x):
        return self.layers(x)

model = MLP(2, 16, 2)
optimizer = optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.CrossEntropyLoss()
losses = []
for epoch in range(20):
    optimizer.zero_grad()
    logits = model(X)
    loss = criterion(logits, y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if epoch % 5 == 0:
        acc = (logits.argmax(dim=1) == y).float().mean()
        print(f"epoch {epoch:3d} loss {loss.item():.4f} acc {acc:.2%}")
print(optimizer)
print(model.state_dict()["layers.0.bias"])
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
total = 0
for name, param in model.named_parameters():
    total += param.numel()
    print(name, param.shape)
print(f"{total=}")
print(model.layers[0].weight.grad.norm() > 0)
