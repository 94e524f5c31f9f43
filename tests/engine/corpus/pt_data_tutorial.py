# Source: https://pytorch.org/tutorials/beginner/basics/data_tutorial.html
# "Datasets & DataLoaders" (Learn the Basics): the tutorial's CustomImageDataset over in-memory stand-ins (a list of rows for labels.csv, uint8 tensors for the image files; pandas/torchvision not installed), used in place of FashionMNIST; plots replaced by prints of the titles; a loop over all batches added.
import os
import torch
from torch.utils.data import Dataset

# Stand-ins for the files on disk: the rows of labels.csv, and read_image over in-memory uint8 images
annotations = [(f"item{i}.png", i % 10) for i in range(100)]
disk = {os.path.join("img_dir", name): torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8) for name, _ in annotations}


def read_image(path):
    return disk[path]


def ToTensor():
    return lambda image: image.float() / 255


class CustomImageDataset(Dataset):
    def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
        self.img_labels = annotations_file
        self.img_dir = img_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        img_path = os.path.join(self.img_dir, self.img_labels[idx][0])
        image = read_image(img_path)
        label = self.img_labels[idx][1]
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


training_data = CustomImageDataset(annotations[:80], "img_dir", transform=ToTensor())

test_data = CustomImageDataset(annotations[80:], "img_dir", transform=ToTensor(),
                               target_transform=lambda y: torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1))

labels_map = {
    0: "T-Shirt",
    1: "Trouser",
    2: "Pullover",
    3: "Dress",
    4: "Coat",
    5: "Sandal",
    6: "Shirt",
    7: "Sneaker",
    8: "Bag",
    9: "Ankle Boot",
}
cols, rows = 3, 3
for i in range(1, cols * rows + 1):
    sample_idx = torch.randint(len(training_data), size=(1,)).item()
    img, label = training_data[sample_idx]
    print(i, sample_idx, labels_map[label], img.squeeze().shape)

from torch.utils.data import DataLoader

train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=64, shuffle=True)

# Display image and label.
train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")
img = train_features[0].squeeze()
label = train_labels[0]
print(f"Label: {label}")

for batch, (X, y) in enumerate(test_dataloader):
    print(batch, X.shape, X.mean().item(), y.argmax(1))
