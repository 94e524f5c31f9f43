import torch
import torch.nn as nn
import torch.nn.functional as F
import math
model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
print(torch, nn, F, math)
print(model.parameters(), torch.relu, F.relu, torch.optim.SGD, torch.randn, torch.float32)
print(opt)
print(opt.state_dict())
x = torch.ones(2, requires_grad=True)
y = (x * x).sum()
print(y.grad_fn.next_functions[0][0], x.device, x.shape, torch.no_grad)
print(model.state_dict())
print(list(model.children()), [n for n, _ in model.named_modules()])
print(torch.__version__ == torch.__version__, math.inf, -math.inf, math.nan)
print(torch.tensor([float("nan"), float("inf")]), torch.tensor(1e-10), torch.tensor([1e10, 1.0]))
print(torch.arange(2000.0))
print(torch.randn(3, 3).double(), torch.tensor([True, False]), torch.tensor([1, 2], dtype=torch.uint8))
