# Source: https://pytorch.org/docs/stable/generated/torch.nn.modules.lazy.LazyModuleMixin.html
# The LazyModuleMixin docs example (LazyMLP of nn.LazyLinear): dry run to materialise, state_dict of uninitialized and loaded lazy modules; on CPU (the .cuda() calls left out); a few SGD steps on random data added.
import torch


class LazyMLP(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.LazyLinear(10)
        self.relu1 = torch.nn.ReLU()
        self.fc2 = torch.nn.LazyLinear(1)
        self.relu2 = torch.nn.ReLU()

    def forward(self, input):
        x = self.relu1(self.fc1(input))
        y = self.relu2(self.fc2(x))
        return y


# constructs a network with lazy modules
lazy_mlp = LazyMLP()
print(lazy_mlp)
# performs a dry run to initialize the network's lazy modules
print(lazy_mlp(torch.ones(10, 10)).shape)
# after initialization, LazyLinear modules become regular Linear modules
print(lazy_mlp)
# attaches an optimizer, since parameters can now be used as usual
optim = torch.optim.SGD(lazy_mlp.parameters(), lr=0.01)

# (added) a few training steps
inputs = torch.randn(32, 10)
targets = torch.rand(32, 1)
for step in range(5):
    optim.zero_grad()
    loss = torch.nn.functional.mse_loss(lazy_mlp(inputs), targets)
    loss.backward()
    optim.step()
    print(step, loss.item())

# Lazy modules can be serialized with a state dict like other modules
lazy_mlp = LazyMLP()
# The state dict shows the uninitialized parameters
print(lazy_mlp.state_dict())

full_mlp = LazyMLP()
# Dry run to initialize another module
full_mlp.forward(torch.ones(10, 1))
# Load an initialized state into a lazy module
lazy_mlp.load_state_dict(full_mlp.state_dict())
# The state dict now holds valid values
print(lazy_mlp.state_dict())
print(lazy_mlp)
out = lazy_mlp(torch.ones(3, 1))
print(out)
out.sum().backward()
print(lazy_mlp.fc1.weight.grad.T)
