import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 3
seen = []
handle = y.register_hook(lambda g: seen.append(g.clone()))
y.register_hook(print)
def double(g):
    return g * 2
x.register_hook(double)
z = (y ** 2).sum()
z.backward()
print(seen, x.grad)
handle.remove()
x.grad = None
(x * 3).pow(2).sum().backward()
print(len(seen), x.grad)
