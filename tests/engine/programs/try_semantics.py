def f():
    try:
        return "try"
    finally:
        print("cleanup")

def g():
    try:
        1 / 0
    finally:
        return "finally wins"

def h(x):
    try:
        if x:
            raise ValueError("bad")
    except (KeyError, ValueError) as e:
        print("caught", isinstance(e, ValueError), e)
        return "handled"
    else:
        return "no error"
    finally:
        print("always", x)

print(f(), g(), h(0), h(1))
for i in range(3):
    try:
        if i == 1:
            continue
        print("body", i)
    finally:
        print("fin", i)
try:
    try:
        {}["missing"]
    except KeyError:
        raise RuntimeError("wrapped")
except RuntimeError as err:
    print("outer", err)
try:
    raise
except RuntimeError as err:
    print(err)
class MyError(Exception):
    pass
try:
    raise MyError("mine")
except Exception as err:
    print(isinstance(err, MyError), err.args)
