# Source: https://pytorch.org/tutorials/beginner/blitz/autograd_tutorial.html
# "A Gentle Introduction to torch.autograd": a tiny conv net stands in for torchvision's pretrained resnet18 (not installed, no download); prints of the loss and of which parameters get gradients added.
import torch
from torch import nn as _nn


class ResNetStandIn(_nn.Module):
    """A tiny network with resnet18's layer names (conv1, bn1, relu, avgpool, fc), in place of the pretrained model."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = _nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = _nn.BatchNorm2d(8)
        self.relu = _nn.ReLU(inplace=True)
        self.avgpool = _nn.AdaptiveAvgPool2d((1, 1))
        self.fc = _nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def resnet18(weights=None):
    return ResNetStandIn()


model = resnet18(weights="DEFAULT")
data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 1000)

prediction = model(data)  # forward pass

loss = (prediction - labels).sum()
print(loss)
loss.backward()  # backward pass

optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

optim.step()  # gradient descent

# Differentiation in Autograd
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3*a**3 - b**2
print(Q)

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)
print(a.grad, b.grad)

# Exclusion from the DAG
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")

from torch import nn, optim

model = resnet18(weights="DEFAULT")

# Freeze all the parameters in the network
for param in model.parameters():
    param.requires_grad = False

model.fc = nn.Linear(8, 10)

# Optimize only the classifier
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

# (added) one step: only the new classifier gets gradients
out = model(data).sum()
out.backward()
optimizer.step()
for name, param in model.named_parameters():
    print(name, param.requires_grad, param.grad is not None)
