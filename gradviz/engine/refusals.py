"""What the contained engine cannot do, said plainly: files, the network, downloads, other programs, compilers, CUDA.

The operating system refuses these (``gradviz.engine.sandbox``), and the program sees the raw
error: ``PermissionError: [Errno 1] Operation not permitted``, or one wrapped by urllib or torch.
This turns such an error into one line naming what the program tried, and a hint saying what to
do instead. Anything else is left to ``gradviz.engine.hints``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator

from gradviz.core.i18n import _N, t

#: Packages people import that the engine's environment does not have, and what to do instead.
_MISSING = {
    "torchvision": (_N("torchvision is not installed with gradviz (no build of it matches gradviz's CPU torch)."),
                    _N("Build the model with torch.nn (a few Conv2d/Linear layers), and use random tensors of the "
                       "images' shape, e.g. torch.randn(64, 1, 28, 28), instead of a dataset.")),
    "matplotlib": (_N("matplotlib is not installed with gradviz: plots are not drawn here."),
                   _N("Leave the plotting lines out; gradviz draws the graph, and the .grad history panel plots "
                      "the gradients across backward calls.")),
}
_DATA = _N("Make the data inside the program (torch.randn, torch.randint, torch.utils.data.TensorDataset), "
           "and use io.BytesIO with torch.save / torch.load instead of a file.")
_REFUSED = (errno.EPERM, errno.EACCES)


def explain_refusal(exc: BaseException) -> tuple[str, str] | None:
    """(one-line message, hint) when ``exc`` is the engine's walls refusing something, else None."""
    files = set(_files(exc))
    chain = list(_chain(exc))
    missing = next((e.name for e in chain if isinstance(e, ModuleNotFoundError) and e.name), None)
    if missing:
        top = missing.split(".")[0]
        if top in _MISSING:
            message, hint = _MISSING[top]
            return t(message), t(hint)
        return (t("The module '{name}' is not installed in gradviz's engine.", name=missing),
                t("gradviz's engine has torch, numpy, tqdm and Python's standard library; install the module "
                  "into gradviz's environment to use it."))
    if any("torch/_inductor" in f or "torch/_dynamo" in f for f in files) and _os_error(chain):
        return (t("torch.compile needs a C++ compiler and a folder to write to, which gradviz's engine does not have."),
                t("Leave torch.compile out: the model computes the same without it, and gradviz can show its graph."))
    if any("torch/utils/cpp_extension" in f for f in files):
        return (t("Building a C++ extension needs a compiler and a folder to write to, which gradviz's engine "
                  "does not have."),
                t("Write the operation in Python with torch functions (or a torch.autograd.Function)."))
    if any(_endswith(f, "torch/hub.py") for f in files):
        return (t("The program tried to download with torch.hub; gradviz's engine has no network and no files."),
                t("Build the model with torch.nn and start from its random weights, or from weights made in the "
                  "program."))
    if any(_endswith(f, "multiprocessing") or "multiprocessing/" in f for f in files) and _refused(chain):
        return (t("The program tried to start worker processes (multiprocessing, or a DataLoader with "
                  "num_workers > 0); gradviz's engine runs one process."),
                t("Use num_workers=0 (the default): the data is the same, loaded in this process."))
    if any(_endswith(f, "subprocess.py") or _endswith(f, "pty.py") for f in files) or _forked(chain):
        return (t("The program tried to start another program; gradviz's engine cannot run programs."),
                t("Do that part outside gradviz, or in Python inside this program."))
    if any(_endswith(f, "socket.py") or "urllib/" in f or "http/" in f for f in files) and _os_error(chain):
        return (t("The program tried to use the network (a download?); gradviz's engine has no network."),
                t("Instead of downloading a dataset, make one of the same shape inside the program (torch.randn, "
                  "torch.randint, torch.utils.data.TensorDataset)."))
    for e in chain:
        if isinstance(e, OSError) and e.filename is not None and e.errno in _REFUSED:
            return (t("The program tried to use the file {name}; gradviz's engine cannot read or write your files.",
                      name=repr(str(e.filename))), t(_DATA))
        if isinstance(e, FileNotFoundError):
            what = (t("the file {name}", name=repr(str(e.filename))) if e.filename is not None
                    else t("a file ({error})", error=str(e)[:120]))
            return (t("The program looked for {what}; gradviz runs programs in an empty folder of their own, "
                      "without your files.", what=what), t(_DATA))
        if isinstance(e, RuntimeError) and "open file failed" in str(e) and any(
                _endswith(f, "torch/serialization.py") for f in files):
            return (t("The program tried to save or load a file with torch.save / torch.load; gradviz's engine "
                      "cannot read or write your files."), t(_DATA))
    for e in chain:
        text = str(e)
        if "not compiled with CUDA" in text or "no NVIDIA driver" in text or "CUDA driver" in text:
            return (t("{error} (gradviz's engine runs torch on the CPU).", error=text.splitlines()[0]),
                    t("Write device = 'cuda' if torch.cuda.is_available() else 'cpu' and move tensors and models "
                      "with .to(device): the program then runs on the CPU here."))
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, what caused it, and what urllib wraps (``URLError.reason``), each once."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen or len(seen) > 32:
            continue
        seen.add(id(e))
        yield e
        reason = getattr(e, "reason", None)
        stack.extend(x for x in (e.__cause__, e.__context__, reason) if isinstance(x, BaseException))


def _files(exc: BaseException) -> Iterator[str]:
    """The source files of every frame the exception (and its chain) went through."""
    for e in _chain(exc):
        tb = e.__traceback__
        while tb is not None:
            yield tb.tb_frame.f_code.co_filename.replace(os.sep, "/")
            tb = tb.tb_next


def _refused(chain: list[BaseException]) -> bool:
    return any(isinstance(e, OSError) and e.errno in _REFUSED for e in chain)


def _os_error(chain: list[BaseException]) -> bool:
    """Any error of the operating system: refused, a name that cannot be resolved, no temporary folder."""
    return any(isinstance(e, OSError) for e in chain)


def _forked(chain: list[BaseException]) -> bool:
    """os.fork / os.posix_spawn / os.exec* refused (they raise without a file name)."""
    return any(isinstance(e, PermissionError) and e.filename is None and e.__traceback__ is not None
               and _raised_by(e) in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve")
               for e in chain)


def _raised_by(e: BaseException) -> str:
    """The name of the code the exception left from last (a C function leaves no frame: its caller's line)."""
    import linecache

    tb = e.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
    for name in ("forkpty", "fork", "posix_spawnp", "posix_spawn", "execve", "execv"):
        if f"{name}(" in line:
            return name
    return ""


def _endswith(path: str, tail: str) -> bool:
    return path.endswith("/" + tail) or path == tail
