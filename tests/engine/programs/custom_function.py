import torch
class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k=2.0):
        ctx.save_for_backward(x)
        ctx.k = k
        return x.clamp(min=0) * k
    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (x > 0).float() * ctx.k, None
x = torch.tensor([-1.0, 2.0], requires_grad=True)
y = MyReLU.apply(x, 3.0)
y.sum().backward()
print(y, x.grad, y.grad_fn.name())
class MyError(ValueError):
    def __init__(self, msg):
        super().__init__("custom: " + msg)
try:
    raise MyError("boom")
except ValueError as e:
    print(e, e.args)
class A:
    K = 3
    @staticmethod
    def s(): return 5
    @property
    def p(self): return self.K * 2
print(A.K, A.s(), A().p)
with torch.inference_mode():
    inf = torch.ones(2) * 2
print(inf, inf.requires_grad)
torch.set_printoptions(precision=2)
print(torch.tensor([1.23456]))
torch.set_printoptions(precision=4)
