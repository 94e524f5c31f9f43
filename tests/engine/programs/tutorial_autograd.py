import torch
import math

def sigmoid(z):
    return 1 / (1 + torch.exp(-z))

def numerical_grad(f, x, eps=1e-4):
    grads = []
    for i in range(len(x)):
        xp = x.clone(); xp[i] += eps
        xm = x.clone(); xm[i] -= eps
        grads.append(((f(xp) - f(xm)) / (2 * eps)).item())
    return torch.tensor(grads)

x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
f = lambda t: sigmoid(t).sum()
f(x).backward()
print(x.grad)
print(numerical_grad(f, x.detach()))
print(torch.allclose(x.grad, numerical_grad(f, x.detach()), atol=1e-2))

# chain rule by hand
a = torch.tensor(2.0, requires_grad=True)
b = a ** 2
c = torch.sin(b)
c.backward()
print(a.grad, 2 * 2.0 * math.cos(4.0))

# graph inspection
d = a * 3 + b
node = d.grad_fn
while node is not None:
    print(node.name(), len(node.next_functions))
    nxt = [f for f, _ in node.next_functions if f is not None]
    node = nxt[0] if nxt else None

q = torch.ones(2, 2, requires_grad=True)
r = q.sum(dim=0)
r.backward(torch.tensor([1.0, 2.0]))
print(q.grad)
out = torch.autograd.grad(outputs=(q * q).sum(), inputs=[q], retain_graph=False)
print(out)
s = torch.tensor([1.0, 2.0], requires_grad=True)
t = s * 2
t.retain_grad()
u = t.pow(2).sum()
u.backward(inputs=[s])
print(s.grad, t.grad)
jac = torch.autograd.functional.jacobian(lambda v: v ** 2, torch.tensor([1.0, 2.0]))
print(jac)
print(torch.autograd.grad(u.detach().requires_grad_() * 2, u.detach().requires_grad_(), allow_unused=True))
