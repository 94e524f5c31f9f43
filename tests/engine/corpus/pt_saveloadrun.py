# Source: https://pytorch.org/tutorials/beginner/basics/saveloadrun_tutorial.html
# "Save and Load the Model" (Learn the Basics): a small VGG-like net stands in for torchvision's vgg16 (not installed, no download); io.BytesIO buffers instead of .pth files; prints of the outputs added.
import io
import torch
from torch import nn


class VGG(nn.Module):
    """A small network shaped like torchvision's VGG (features, avgpool, classifier with dropout)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, kernel_size=3, padding=1), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(kernel_size=2, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(4 * 2 * 2, 16), nn.ReLU(True), nn.Dropout(p=0.5),
                                        nn.Linear(16, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x


class models:
    @staticmethod
    def vgg16(weights=None):
        return VGG()


data = torch.rand(2, 3, 8, 8)

model = models.vgg16(weights='IMAGENET1K_V1')
model.eval()
before = model(data)
print(before)
model_weights_pth = io.BytesIO()
torch.save(model.state_dict(), model_weights_pth)

model = models.vgg16() # we do not specify ``weights``, i.e. create untrained model
model_weights_pth.seek(0)
model.load_state_dict(torch.load(model_weights_pth, weights_only=True))
model.eval()
after = model(data)
print(after)
print(torch.equal(before, after))

model_pth = io.BytesIO()
torch.save(model, model_pth)

model_pth.seek(0)
model = torch.load(model_pth, weights_only=False)
print(model)
print(type(model).__name__, model.training)
print(torch.equal(model(data), before))
