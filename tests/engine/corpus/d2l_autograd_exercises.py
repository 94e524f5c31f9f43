# Source: https://d2l.ai/chapter_preliminaries/autograd.html
# d2l 2.5 Automatic Differentiation, exercises 1-7 made concrete on the section's own code: second derivative (create_graph=True), backward twice (error, then retain_graph=True), a vector/matrix `a` in f(a), d sin(x)/dx without cos (plot left out), f(x) = log(x^2) sin x + 1/x by the chain rule, backward and forward (torch.autograd.forward_ad) differentiation.
import math

import torch


# Exercise 1: the second derivative costs a second pass through a graph built during the first
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
(dy_dx,) = torch.autograd.grad(y, x, create_graph=True)
print('dy/dx:', dy_dx)
print(dy_dx.grad_fn)
d2y = torch.autograd.grad(dy_dx.sum(), x)[0]
print('d2y/dx2 (row sums of the Hessian):', d2y)

# Exercise 2: after running y.backward(), immediately run it again
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
try:
    y.backward()
except RuntimeError as e:
    print('RuntimeError:', str(e).split('.')[0])

x.grad.zero_()
y = 2 * torch.dot(x, x)
y.backward(retain_graph=True)
y.backward()
print(x.grad, x.grad == 8 * x)


# Exercise 3: a random vector or matrix in the control flow example
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


a = torch.randn(size=(3,), requires_grad=True)
d = f(a)
print(d.shape)
try:
    d.backward()
except RuntimeError as e:
    print('RuntimeError:', e)
d.sum().backward()
print(a.grad == d / a)

A = torch.randn(size=(2, 2), requires_grad=True)
D = f(A)
D.backward(torch.ones_like(D))
print(A.grad)
print(A.grad == D / A)


# Exercise 4: f(x) = sin(x) and its derivative, without exploiting f'(x) = cos(x)
xs = torch.linspace(-math.pi, math.pi, 9, requires_grad=True)
ys = torch.sin(xs)
ys.sum().backward()
print(xs.grad)
print(torch.allclose(xs.grad, torch.cos(xs.detach())))


# Exercises 5-6: f(x) = ((log x^2) * sin x) + x^-1, its dependency graph and df/dx by the chain rule
def f5(x):
    u = x ** 2
    v = torch.log(u)
    w = torch.sin(x)
    p = v * w
    q = x ** -1
    return p + q


x5 = torch.tensor([0.5, 1.0, 2.0, 3.0], requires_grad=True)
y5 = f5(x5)
print(y5.grad_fn, [fn[0].__class__.__name__ for fn in y5.grad_fn.next_functions])
y5.backward(torch.ones_like(y5))
xd = x5.detach()
chain = (2 * xd / xd ** 2) * torch.sin(xd) + torch.log(xd ** 2) * torch.cos(xd) - xd ** -2
print(x5.grad)
print(chain)
print(torch.allclose(x5.grad, chain))

# Exercise 7: once from f back to x (backward), once from x to f (forward)
import torch.autograd.forward_ad as fwAD

with fwAD.dual_level():
    dual_x = fwAD.make_dual(xd, torch.ones_like(xd))
    tangent = fwAD.unpack_dual(f5(dual_x)).tangent
print(tangent)
print(torch.allclose(tangent, x5.grad))
