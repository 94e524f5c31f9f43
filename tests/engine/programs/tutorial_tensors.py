import torch
# manual gradient descent
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
xs = torch.tensor([1.0, 2.0, 3.0, 4.0])
ys = 2 * xs + 1
lr = 0.01
for i in range(100):
    pred = w * xs + b
    loss = ((pred - ys) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
print(round(w.item(), 4), round(b.item(), 4))
a = torch.randn(3, 4)
print(a.shape[0], a.shape[-1], list(a.shape), a.size()[1:], a.mean(1, keepdim=True).shape)
print(torch.tensor([[1, 2], [3, 4]]).T.contiguous().view(-1))
x = torch.linspace(-2, 2, 5, requires_grad=True)
y = torch.sigmoid(x)
y.backward(torch.ones_like(y))
print(x.grad, y.grad_fn)
z = x.detach().numpy if False else x.detach().tolist()
print(z)
print(torch.zeros(2, 3, dtype=torch.float64), torch.ones(2, dtype=torch.int32))
print(torch.arange(10)[2:8:2], torch.arange(12).reshape(3, 4)[1:, ::2])
m = torch.tensor([[1., 2.], [3., 4.]])
print(torch.inverse(m), torch.det(m), m.pow(2), m.exp().log(), m.max(dim=0))
vals, idx = torch.sort(torch.tensor([3, 1, 2]))
print(vals, idx, torch.topk(torch.tensor([1., 5., 3.]), 2))
print(torch.cat((m, m), dim=1), torch.stack((m, m), dim=0).shape, torch.chunk(m, 2))
print(m.unbind(0), m.split(1, dim=1))
e = torch.empty(0)
print(e, e.shape, torch.tensor([]).numel())
print(torch.tensor(3.5).item(), int(torch.tensor(3)), float(torch.tensor(2.5)), bool(torch.tensor(1)))
print(torch.clamp(torch.tensor([-1., 0.5, 2.]), 0, 1), torch.abs(torch.tensor(-3)))
print(torch.nn.functional.one_hot(torch.tensor([0, 2]), 3))
print(m.sum().backward if False else 1, m.dtype == torch.float32, m.is_floating_point())
print(m[0][1], m[1, 0].item(), m[m > 2])
n = m.clone()
n[0, 0] = 10
n[:, 1] += 1
print(n)
print(torch.tensor([1, 2, 3]) * torch.tensor([[1], [2]]))
print(torch.randn(2, 3).mT.shape, torch.eye(3).diagonal())
