from collections import OrderedDict, defaultdict, Counter, deque
import time
import random
import torch
import torch.nn as nn
start = time.time()
model = nn.Sequential(OrderedDict([
    ("fc1", nn.Linear(4, 8)),
    ("act", nn.ReLU()),
    ("fc2", nn.Linear(8, 1)),
]))
print(model)
print(model.fc1, model[2].out_features)
counts = Counter("mississippi")
print(counts.most_common(2), counts["s"])
groups = defaultdict(list)
for word in ["apple", "avocado", "banana"]:
    groups[word[0]].append(word)
print(dict(groups))
window = deque(maxlen=3)
for i in range(5):
    window.append(i)
print(window, list(window), window.maxlen)
elapsed = time.time() - start
print(elapsed >= 0, elapsed < 60)
t0 = time.perf_counter()
time.sleep(0.01)
print(time.perf_counter() - t0 >= 0.009)
random.seed(3)
print(random.random(), random.randint(1, 6), random.choice("abc"))
del start, elapsed, t0  # wall-clock values differ between the two runs
