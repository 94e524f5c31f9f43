fs = [lambda: i for i in range(3)]
print([f() for f in fs])
gs = [lambda i=i: i for i in range(3)]
print([g() for g in gs])
def app(x, acc=[]):
    acc.append(x)
    return acc
print(app(1), app(2))
class C:
    count = 0
    def __init__(self):
        C.count += 1
        self.items = []
a, b = C(), C()
a.items.append(1)
print(C.count, a.items, b.items)
matrix = [[1, 2, 3], [4, 5, 6]]
print([[row[i] for row in matrix] for i in range(3)], list(zip(*matrix)))
print([x * y for x in range(3) for y in range(x) if (x + y) % 2])
def f():
    try:
        return "try"
    finally:
        print("finally runs")
print(f())
def g():
    for i in range(5):
        try:
            if i == 2:
                break
        finally:
            print("f", i)
    return i
print(g())
for i in range(3):
    if i == 10:
        break
else:
    print("no break")
try:
    try:
        raise ValueError("inner")
    except ValueError as e:
        raise KeyError("outer") from e
except KeyError as e:
    print(repr(e), repr(e.__cause__) if False else "cause hidden")
s = "Hello, World"
print(s.lower().count("l"), s.find("W"), s[-5:], s[::2], s.startswith("He"), s.center(20, "*"))
print("{:,}".format(1234567), f"{3.14159:08.3f}", f"{-1:+d}", f"{0.25:.0%}", "{0:>5}|{1:<5}|".format("a", "b"))
print(round(2.5), round(3.5), round(-0.5), divmod(17, 5), 7 / 2, 7 // -2, -7 % 3, 2 ** -1, 1e300 * 10)
print(max([3, 1, 2], key=lambda v: -v), min([], default=None), sum([1, 2], 10), any([]), all([]))
l = list(range(10))
l[1:3] = [99]
del l[::3]
print(l, l[::-1], l[-2:], l[100:])
m = [[0] * 2 for _ in range(2)]
m[0][1] = 5
d = {"k": 1}
d["k"] += 1
d.setdefault("z", []).append(3)
print(m, d, sorted(d.items(), key=lambda kv: kv[0], reverse=True))
print(dict(zip("abc", range(3))), list(enumerate("xy", start=1)), list(range(10, 0, -3)))
print(isinstance(1.0, (int, float)), 1 if None is None else 0, 3 not in [1, 2], "a" in {"a": 1})
x = 5
print(1 < x <= 5 != 6, x == 5 or undefined_name, (x > 1) and "yes")
def counter():
    n = 0
    def inc():
        nonlocal n
        n += 1
        return n
    return inc
c = counter()
c(); c()
print(c())
total = 0
def add(v):
    global total
    total += v
add(3); add(4)
print(total)
print({1, 2, 3} & {2, 3, 4}, {1, 2} | {3}, frozenset([1]), set(), (), (1,), [], {})
print(str(1.0), repr("a'b"), str(None), 10 / 4, 1_000_000, 0x1F, 0o17, 0b101, 1e-5, 1.5e10, float("inf"))
print(print is None, callable(print), len({"a": 1, "b": 2}), abs(-2.5), int(3.9), int(-3.9), bool([]), chr(65), ord("a"))
a, b = b, a
(p, q), r = [1, 2], 3
first, *middle, last = range(6)
print(p, q, r, first, middle, last)
for i, (u, v) in enumerate([(1, 2), (3, 4)]):
    print(i, u + v, end=" | ")
print()
print(*[1, 2, 3], sep="-")
print("a", "b", sep="")
print()
n = 0
while True:
    n += 1
    if n > 3:
        break
print(n, [i for i in range(3)], i)
y = [v for v in range(5) if (w := v * 2) > 4]
print(y, w)
