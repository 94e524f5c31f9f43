"""The reference runs of the tutorial corpus: each program as `python file.py` would run it, seeded as gradviz seeds.

Run as a script: ``python corpus_reference.py FILE...`` prints one JSON object per line, one per
file: what it printed, and the value and .grad of each top-level tensor and module parameter.
torch (and numpy) are imported once; each program runs in a forked child, so nothing of one
reaches the next, after ``torch.manual_seed(0)``, ``random.seed(0)``, ``numpy.random.seed(0)`` and
with one intra-op thread, as in gradviz's engine. Test code only: the package never runs a program
outside its contained engine.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import runpy
import sys
import traceback

import numpy as np
import torch

#: Elements of a value written whole; beyond, its statistics (as gradviz's VARIABLE_LIMIT).
WHOLE = 100_000


def value(t: torch.Tensor) -> dict:
    t = t.detach()
    if t.dtype not in (torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                       torch.int16, torch.int8, torch.uint8, torch.bool) or t.layout is not torch.strided \
            or t.device.type != "cpu":
        return {"shape": list(t.shape), "dtype": str(t.dtype)}
    flat = t.reshape(-1).double()
    out = {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
    if t.numel() <= WHOLE:
        out["data"] = flat.tolist()
    finite = flat[torch.isfinite(flat)]
    if finite.numel():
        out["stats"] = [finite.min().item(), finite.max().item(), finite.mean().item(),
                        torch.linalg.vector_norm(finite).item()]
    return out


def tensors(namespace: dict) -> dict:
    """Top-level tensors and the parameters of top-level modules, named as gradviz names them."""
    found = {}
    for name, v in namespace.items():
        if name.startswith("__"):
            continue
        if isinstance(v, torch.Tensor):
            found[name] = v
        elif isinstance(v, torch.nn.Module):
            found.update((f"{name}.{p}", t) for p, t in v.named_parameters())
    out = {}
    for name, t in found.items():
        grad = t.grad if (t.is_leaf or t.retains_grad) else None
        out[name] = {"value": value(t), "grad": value(grad) if grad is not None else None}
    return out


def run_one(path: str) -> dict:
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    out = io.StringIO()
    sys.argv = [path]  # as `python file.py` has it (run_path only replaces argv[0])
    try:
        with contextlib.redirect_stdout(out):
            namespace = runpy.run_path(path, run_name="__main__")
        error = None
    except SystemExit as exc:
        namespace, error = {}, None if exc.code in (None, 0) else f"SystemExit: {exc.code}"
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        namespace = {}
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"stdout": out.getvalue(), "error": error, "tensors": tensors(namespace)}


def main(paths: list[str]) -> None:
    torch.set_num_threads(1)
    for path in paths:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                data = json.dumps(run_one(path)).encode()
            except BaseException as exc:  # noqa: BLE001
                data = json.dumps({"stdout": "", "error": f"reference failed: {exc!r}", "tensors": {}}).encode()
            with os.fdopen(write, "wb") as fh:
                fh.write(data)
            os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as fh:
            data = fh.read()
        os.waitpid(pid, 0)
        sys.stdout.write(json.dumps({"path": path, **json.loads(data or b'{"stdout": "", "error": "no output",'
                                                                       b' "tensors": {}}')}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
