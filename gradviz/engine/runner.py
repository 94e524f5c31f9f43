"""Runs a program with CPython itself, one top-level statement at a time, telling a Recorder what autograd does.

The program is real Python: each top-level statement is compiled (with the program's own
``__future__`` flags) and executed in a fresh ``__main__`` module, so Step and Run to cursor stop
between statements. Safety does not come from here: the engine process has contained itself
(``gradviz.engine.sandbox``) before it reads a program, and limits come from outside the program
(``gradviz.engine.limits``). What this module adds is bookkeeping on the real objects:

- a ``TorchFunctionMode`` sees every torch call the program makes; it tags each new grad_fn node
  with the program line that made it, notices leaves that require grad (to name them after the
  variable that holds them) and tells the recorder when a leaf's ``.grad`` may have changed;
- ``Tensor.backward``, ``torch.autograd.backward`` and ``torch.autograd.grad`` called from the
  program's own code go through ``Recorder.run_backward``, which runs them with hooks;
- ``print`` and ``sys.stdout``/``sys.stderr`` writes are captured per statement, bounded.

What the bookkeeping itself changes in the process (``sys.stdout``, ``sys.modules['__main__']``,
torch's grad mode and print options, the patched functions) is put back afterwards, so tests can
run trusted programs in their own process too. What a program changes beyond that stays changed:
the engine runs each program in a fresh process that ends with it.
"""

from __future__ import annotations

import ast
import builtins
import functools
import io
import linecache
import operator
import random
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from gradviz.core.i18n import t
from gradviz.core.request import Limits
from gradviz.core.result import ErrorInfo, HookRef, StatementRecord
from gradviz.engine.capture import LINE_KEY, hook_name
from gradviz.engine.hints import did_you_mean, explain
from gradviz.engine.limits import Cancelled, LimitExceeded, Watchdog, limit_error
from gradviz.engine.recorder import Recorder, StopRun

#: The file name the program's code objects carry: how frames of the program are told apart from
#: torch's and gradviz's own. Its source is registered with ``linecache`` for tracebacks.
PROGRAM_FILE = "<gradviz>"
#: Longest program text accepted, in characters (a lesson is a few hundred lines).
MAX_SOURCE_CHARS = 1_000_000

_GRAD = torch._C.TensorBase.grad  # the getset descriptor behind ``x.grad``: its __set__/__delete__
_NO_TORCH_FUNCTION = torch._C.DisableTorchFunction
_DATA = torch._C.TensorBase.data
_REGISTER_HOOKS = frozenset({"register_hook", "register_post_accumulate_grad_hook"})
#: Leaves that require grad seen but not yet found under a name: how many, and for how many looks.
_PENDING_MAX = 256
_PENDING_LOOKS = 3


@dataclass
class Outcome:
    """What running a program did: statements, output, the first error, the final bindings."""

    statements: list[StatementRecord]
    stdout: str
    error: ErrorInfo | None
    globals: dict[str, Any]
    stopped_at: int | None
    stderr: str = ""


# --- output -----------------------------------------------------------------------------------


class _Bytes(io.RawIOBase):
    """``sys.stdout.buffer``: bytes written there join the text stream (UTF-8, errors replaced)."""

    def __init__(self, text: _Output):
        self._text = text

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        data = bytes(b)
        self._text.write(data.decode("utf-8", "replace"))
        return len(data)


class _Output(io.TextIOBase):
    """A bounded text stream: what the program prints, kept in pieces so each statement gets its own."""

    def __init__(self, shared: _OutputBudget, name: str):
        self.pieces: list[str] = []
        self._budget = shared
        self._name = name
        self._buffer = _Bytes(self)

    @property
    def buffer(self):
        return self._buffer

    @property
    def encoding(self) -> str:
        return "utf-8"

    @property
    def name(self) -> str:
        return self._name

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self._budget.spend(len(s))
        self.pieces.append(s)
        return len(s)

    def text(self, start: int = 0) -> str:
        return "".join(self.pieces[start:])


class _OutputBudget:
    """Characters both streams may still take; past it, the run stops with the output limit."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.left = int(limits.max_output_chars)

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            self.left = 0
            raise limit_error(self.limits, "max_output_chars", t("The program printed too much"))


# --- the program's frames -----------------------------------------------------------------------


def program_frame(frame: types.FrameType | None = None) -> types.FrameType | None:
    """The innermost frame of the program's own code, from ``frame`` (default: the caller) outwards."""
    f = frame if frame is not None else sys._getframe(1)
    while f is not None and f.f_code.co_filename != PROGRAM_FILE:
        f = f.f_back
    return f


def program_scopes() -> Iterator[tuple[str, Any]]:
    """The program's visible bindings, innermost function scope first, then its globals."""
    f = program_frame(sys._getframe(1))
    module_globals = None
    while f is not None:
        if f.f_code.co_filename == PROGRAM_FILE:
            if f.f_locals is f.f_globals:
                module_globals = f.f_globals
            else:
                yield from ((k, v) for k, v in f.f_locals.items() if not k.startswith("__"))
                module_globals = f.f_globals
        f = f.f_back
    if module_globals is not None:
        yield from ((k, v) for k, v in list(module_globals.items()) if not k.startswith("__"))


# --- recording through torch's own machinery --------------------------------------------------


class _PendingLeaves:
    """Leaves that require grad, made in some frame of the program, not yet seen under a name.

    The program binds a new leaf right after the call that made it; the next look (at the next
    torch call, backward call or statement end) finds the name in the frame that made it, so
    leaves made in a loop can be named after the variable that held them (``w #2``).
    """

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.items: list[list] = []  # [tensor, frame, looks left]

    def add(self, t: torch.Tensor, frame: types.FrameType) -> None:
        if len(self.items) >= _PENDING_MAX:
            del self.items[0]
        self.items.append([t, frame, _PENDING_LOOKS])

    def look(self) -> None:
        if not self.items:
            return
        keep = []
        for item in self.items:
            t, frame, looks = item
            name = next((k for k, v in frame.f_locals.items() if v is t and not k.startswith("__")), None)
            if name is not None:
                self.recorder.on_bind(name, t)
            elif looks > 1:
                item[2] = looks - 1
                keep.append(item)
        self.items = keep


#: Factories whose size arguments say how many elements they will allocate: their size is checked
#: against Limits.max_elements before they allocate (``torch.zeros(10**6, 10**6)`` is refused at
#: once rather than after filling memory). Other tensors are checked as they come back.
_FACTORIES = {f: f.__name__ for f in (torch.zeros, torch.ones, torch.empty, torch.rand, torch.randn, torch.full,
                                       torch.Tensor.new_zeros, torch.Tensor.new_ones, torch.Tensor.new_empty,
                                       torch.Tensor.new_full)}


def _requested_elements(func, args, kwargs) -> int | None:
    """How many elements a factory call asks for, when its size is plain ints; else None."""
    name = _FACTORIES.get(func)
    if name is None:
        return None
    size = kwargs.get("size") if kwargs else None
    if size is None:
        rest = args[1:] if name.startswith("new_") else args
        if name.endswith("full"):
            rest = rest[:1]
        size = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list, torch.Size)) else rest
    count = 1
    for n in size:
        if isinstance(n, bool):
            return None
        try:
            count *= max(operator.index(n), 0)  # ints, numpy ints
        except TypeError:
            return None
    return count


class _StepBudget:
    """Limits.max_steps and max_elements, counted on the program's torch calls."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.left = int(limits.max_steps)
        self.max_elements = int(limits.max_elements)

    def step(self, func, args, kwargs) -> None:
        self.left -= 1
        if self.left < 0:
            raise limit_error(self.limits, "max_steps", t("The program called too many torch operations"))
        wanted = _requested_elements(func, args, kwargs)
        if wanted is not None and wanted > self.max_elements:
            self.too_big(wanted)

    def check(self, out) -> None:
        if isinstance(out, torch.Tensor) and out._base is None and out.numel() > self.max_elements:
            # What was allocated: an alias of an expanded view (.detach(), .data) has its elements
            # but not its storage.
            held = out.untyped_storage().nbytes() // max(out.element_size(), 1)
            if held > self.max_elements:
                self.too_big(held)

    def too_big(self, elements: int) -> None:
        raise limit_error(self.limits, "max_elements", t("The program made a tensor of {n:,} elements", n=elements))


class _Recording(TorchFunctionMode):
    """Sees each torch call of the program: tags new nodes with their line, follows leaves and .grad,
    and counts the calls and the sizes they make against the limits."""

    def __init__(self, recorder: Recorder, limits: Limits | None = None):
        super().__init__()
        self.recorder = recorder
        self.pending = _PendingLeaves(recorder)
        self.grad_ids: Callable[[], set[int]] = getattr(recorder, "grad_ids", lambda: set())
        self.budget = _StepBudget(limits or Limits())

    def __torch_function__(self, func, types, args=(), kwargs=None):
        budget = self.budget
        budget.step(func, args, kwargs)
        out = func(*args, **kwargs) if kwargs else func(*args)
        budget.check(out)
        try:
            # gradviz's own torch calls (value conversions) pass no mode of the program's
            # (torch.set_default_device pushes one) and none of ours.
            with _NO_TORCH_FUNCTION():
                self._after(func, args, out)
        except Exception:  # noqa: BLE001 - bookkeeping must never change what the program computes
            # (LimitExceeded and Cancelled are BaseExceptions: a limit still ends the run from here)
            pass
        return out

    def _after(self, func, args, out) -> None:
        pending = self.pending
        if pending.items:
            pending.look()
        if isinstance(out, torch.Tensor):
            in_place = bool(args) and out is args[0]
            if out.requires_grad:
                if not out.is_leaf:
                    node = out.grad_fn
                    if node is not None and LINE_KEY not in node.metadata:
                        self.recorder.on_result(out, _line(program_frame(sys._getframe(2))))
                elif not in_place:  # a new leaf (w -= ... returns one already bound)
                    frame = program_frame(sys._getframe(2))
                    if frame is not None:
                        pending.add(out, frame)
            if not in_place:
                return  # the common case: a new tensor, nothing changed in place
        elif isinstance(out, (tuple, list)):
            if out and isinstance(out[0], torch.Tensor):
                self.recorder.on_result(out, _line(program_frame(sys._getframe(2))))
            return
        self._changes(func, args)

    def _changes(self, func, args) -> None:
        """A call that changed something in place, set an attribute or registered a hook: .grad?"""
        recorder = self.recorder
        owner = getattr(func, "__self__", None)
        name = getattr(func, "__name__", "")
        if owner is _GRAD and name in ("__set__", "__delete__"):
            recorder.on_grad_touched(_line(program_frame(sys._getframe(3))), args[0] if args else None)
        elif name in _REGISTER_HOOKS:
            line = _line(program_frame(sys._getframe(3))) or None
            recorder.on_tensor_hook(line or 0)
            if len(args) > 1 and isinstance(args[0], torch.Tensor) and args[0].grad_fn is not None:
                recorder.on_hook(HookRef("tensor hook", hook_name(args[1]), line), args[0])
        elif args and (name.endswith("_") and not name.endswith("__") or name in _INPLACE_DUNDERS
                       or owner is _DATA and name == "__set__"):
            target = args[0]
            ids = self.grad_ids()
            if ids and (id(target) in ids or isinstance(target, (list, tuple))
                        and any(id(t) in ids for t in target)):
                recorder.on_grad_touched(_line(program_frame(sys._getframe(3))), None)


def _line(frame: types.FrameType | None) -> int:
    return frame.f_lineno if frame is not None else 0


_INPLACE_DUNDERS = frozenset({
    "__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
    "__ipow__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__imatmul__",
})


class _BackwardPatches:
    """``Tensor.backward``, ``torch.autograd.backward`` and ``torch.autograd.grad`` through the recorder.

    Only calls made by the program's own code are recorded (``torch.autograd.gradcheck`` calling
    ``autograd.grad`` hundreds of times inside torch is not a backward call of the lesson). A
    recorded call runs without ``__torch_function__`` handling: tensor subclasses' own handling is
    not applied inside the program's hooks while it runs.
    """

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.saved = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
        self.depth = 0

    def _wrap(self, kind: str, original: Callable) -> Callable:
        recorder = self.recorder

        def recorded(*args, **kwargs):
            caller = sys._getframe(1)
            if self.depth or caller.f_code.co_filename != PROGRAM_FILE:
                return original(*args, **kwargs)
            self.depth += 1
            try:
                # The tracer's own torch calls (tens of thousands for a big graph: capture, values)
                # must not go through the program's torch-function handling, the recording mode
                # included: through it, they made a big graph's run much slower.
                with _NO_TORCH_FUNCTION():
                    return recorder.run_backward(kind, caller.f_lineno, original, args, kwargs)
            finally:
                self.depth -= 1

        recorded.__name__ = original.__name__
        recorded.__qualname__ = original.__qualname__
        recorded.__doc__ = original.__doc__
        recorded.__wrapped__ = original
        return recorded

    def __enter__(self) -> _BackwardPatches:
        backward, autograd_backward, grad = self.saved
        torch.Tensor.backward = self._wrap("backward", backward)
        torch.autograd.backward = self._wrap("autograd.backward", autograd_backward)
        torch.autograd.grad = self._wrap("autograd.grad", grad)
        return self

    def __exit__(self, *exc) -> None:
        torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = self.saved


class _HookPatches:
    """Module hooks the program registers, followed to the nodes where they run (``Recorder.on_hook``).

    A forward hook runs after the module's forward: it is noted on the node of the output (the
    hook's return value where it replaces it). A full backward hook runs where the node torch puts
    on the module's inputs (``BackwardHookFunctionBackward``) passes the gradient on: noted there,
    through ``torch.utils.hooks.BackwardHook.setup_input_hook`` (torch's own helper; if a torch
    version lacks it, backward hooks simply go unmarked).
    """

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.lines: dict[int, int | None] = {}  # id(hook function) -> line that registered it
        self.module = torch.nn.Module
        self.saved = (self.module.register_forward_hook, self.module.register_full_backward_hook)
        self.backward_hook = getattr(getattr(torch.utils, "hooks", None), "BackwardHook", None)
        self.setup_input = getattr(self.backward_hook, "setup_input_hook", None)

    def _line(self) -> int | None:
        frame = program_frame(sys._getframe(2))
        return frame.f_lineno if frame is not None else None

    def __enter__(self) -> _HookPatches:
        register_forward, register_backward = self.saved
        recorder, lines, patches = self.recorder, self.lines, self

        def register_forward_hook(module, hook, *args, **kwargs):
            ref = HookRef("forward hook", hook_name(hook), patches._line())

            def forward_hook(*hook_args, **hook_kwargs):
                out = hook(*hook_args, **hook_kwargs)
                try:
                    recorder.on_hook(ref, out if out is not None else hook_args[-1])
                except Exception:  # noqa: BLE001 - bookkeeping never changes what the program does
                    pass
                return out

            functools.update_wrapper(forward_hook, hook)
            return register_forward(module, forward_hook, *args, **kwargs)

        def register_full_backward_hook(module, hook, *args, **kwargs):
            lines[id(hook)] = patches._line()
            return register_backward(module, hook, *args, **kwargs)

        self.module.register_forward_hook = register_forward_hook
        self.module.register_full_backward_hook = register_full_backward_hook
        if self.setup_input is not None:
            setup_input = self.setup_input

            def setup_input_hook(backward_hook, args):
                result = setup_input(backward_hook, args)
                try:
                    for hook in getattr(backward_hook, "user_hooks", ()) or ():
                        recorder.on_hook(HookRef("backward hook", hook_name(hook), lines.get(id(hook))), result)
                except Exception:  # noqa: BLE001
                    pass
                return result

            self.backward_hook.setup_input_hook = setup_input_hook
        return self

    def __exit__(self, *exc) -> None:
        self.module.register_forward_hook, self.module.register_full_backward_hook = self.saved
        if self.setup_input is not None:
            self.backward_hook.setup_input_hook = self.setup_input


class _ProcessState:
    """What a run changes in the process, saved and put back (tests run trusted programs in-process)."""

    def __enter__(self) -> _ProcessState:
        opts = torch._tensor_str.PRINT_OPTS
        names = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")
        self.print_options = {k: getattr(opts, k) for k in names}
        self.grad = torch.is_grad_enabled()
        self.dtype = torch.get_default_dtype()
        self.anomaly = torch.is_anomaly_enabled()
        self.streams = (sys.stdout, sys.stderr, sys.stdin, sys.__stdout__, sys.__stderr__, sys.__stdin__)
        self.main = sys.modules.get("__main__")
        self.argv = sys.argv
        self.had_torch = hasattr(builtins, "torch")
        self.builtin_torch = getattr(builtins, "torch", None)
        self.recursion = sys.getrecursionlimit()
        self.random = random.getstate()
        return self

    def __exit__(self, *exc) -> None:
        (sys.stdout, sys.stderr, sys.stdin, sys.__stdout__, sys.__stderr__, sys.__stdin__) = self.streams
        if self.main is not None:
            sys.modules["__main__"] = self.main
        sys.argv = self.argv
        if self.had_torch:
            builtins.torch = self.builtin_torch
        elif hasattr(builtins, "torch"):
            del builtins.torch
        sys.setrecursionlimit(self.recursion)
        random.setstate(self.random)
        torch.set_grad_enabled(self.grad)
        torch.set_default_dtype(self.dtype)
        torch.set_anomaly_enabled(self.anomaly)
        torch.set_printoptions(**self.print_options)
        linecache.cache.pop(PROGRAM_FILE, None)


# --- compiling ----------------------------------------------------------------------------------


def _future_flags(body: list[ast.stmt]) -> int:
    """Compiler flags of the program's ``from __future__ import ...`` lines (they head the module)."""
    import __future__

    flags = 0
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                feature = getattr(__future__, alias.name, None)
                if feature is not None:
                    flags |= feature.compiler_flag
        elif not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            break  # a docstring may come first; anything else ends the __future__ block
    return flags


def _compile_statement(stmt: ast.stmt, flags: int) -> types.CodeType:
    """A statement's code; a bare expression's in "eval" mode, so running it gives its value."""
    if isinstance(stmt, ast.Expr):
        return compile(ast.Expression(stmt.value), PROGRAM_FILE, "eval", flags=flags, dont_inherit=True)
    return compile(ast.Module([stmt], []), PROGRAM_FILE, "exec", flags=flags, dont_inherit=True)


def compile_program(source: str) -> tuple[list[tuple[ast.stmt, types.CodeType]], ErrorInfo | None]:
    """Each top-level statement with its code, or the error that stops the program from running at all.

    As Python does, the whole program is compiled before the first statement runs: a syntax
    error anywhere means nothing runs.
    """
    if not isinstance(source, str):
        return [], ErrorInfo("TypeError", "the program must be text")
    if len(source) > MAX_SOURCE_CHARS:
        return [], ErrorInfo("LimitExceeded", t("The program is {length:,} characters long; gradviz runs "
                                                     "programs of up to {most:,} characters.",
                                                     length=len(source), most=MAX_SOURCE_CHARS),
                             None, limit="program_size")
    try:
        tree = ast.parse(source, PROGRAM_FILE, "exec")
        flags = _future_flags(tree.body)
        compiled = [(stmt, _compile_statement(stmt, flags)) for stmt in tree.body]
    except SyntaxError as e:
        return [], ErrorInfo(type(e).__name__, e.msg or "invalid syntax", e.lineno, col=e.offset)
    except (RecursionError, MemoryError):
        return [], ErrorInfo("SyntaxError", t("The program is nested too deeply for Python to read (too many "
                                                   "brackets or operators inside each other)."))
    except ValueError as e:  # e.g. "source code string cannot contain null bytes"
        return [], ErrorInfo("SyntaxError", str(e))
    return compiled, None


# --- errors -------------------------------------------------------------------------------------


def _program_line_of(exc: BaseException, default: int) -> int:
    """The line of the innermost frame of the program's own code that the exception came through."""
    line = default
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == PROGRAM_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def error_info(exc: BaseException, line: int, lines: list[str], limits: Limits,
               known: Callable[[], list[str]] = list) -> ErrorInfo:
    """The ErrorInfo of an exception raised by the program: where, what, and a hint that teaches."""
    line = _program_line_of(exc, line)
    if isinstance(exc, LimitExceeded):
        return ErrorInfo("LimitExceeded", exc.message, line, limit=exc.limit)
    if isinstance(exc, Cancelled):
        return ErrorInfo("Cancelled", t("The run was cancelled."), line)
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and (
            "can't allocate memory" in str(exc) or "DefaultCPUAllocator" in str(exc))):
        le = limit_error(limits, "max_memory_mb", t("The program ran out of memory"))
        return ErrorInfo("LimitExceeded", le.message, line, limit="max_memory_mb")
    source_line = lines[line - 1] if 0 < line <= len(lines) else None
    message, hint = explain(exc, source_line)
    if isinstance(exc, NameError) and hint is None:
        name = getattr(exc, "name", None)
        if name:
            hint = did_you_mean(name, known())
    return ErrorInfo(type(exc).__name__, message, line, hint=hint)


def _exit_error(exc: SystemExit, line: int) -> ErrorInfo | None:
    """``sys.exit()``/``exit()`` end the program; a non-zero code is reported like Python's exit status."""
    code = exc.code
    if code is None or code == 0:
        return None
    if isinstance(code, int):
        return ErrorInfo("SystemExit", t("The program called exit({code}).", code=code), line)
    return ErrorInfo("SystemExit", str(code), line)


# --- running ------------------------------------------------------------------------------------


def run_program(source: str, limits: Limits, recorder: Recorder, stop_after_line: int | None = None,
                cancelled: Callable[[], bool] | None = None) -> Outcome:
    """Run ``source`` statement by statement in a fresh ``__main__``; never raises.

    Bugs of gradviz become an ``InternalError``; everything the program does wrong is its error,
    with the line of its innermost own frame.
    """
    compiled, error = compile_program(source)
    if error is not None:
        return Outcome([], "", error, {}, None)
    lines = source.splitlines()
    budget = _OutputBudget(limits)
    out, err = _Output(budget, "<stdout>"), _Output(budget, "<stderr>")
    main = types.ModuleType("__main__")
    main.__file__ = PROGRAM_FILE
    namespace = main.__dict__
    statements: list[StatementRecord] = []
    stopped_at = None
    if stop_after_line is not None and compiled and compiled[0][0].lineno > stop_after_line:
        compiled = []  # the cursor is above the first statement: nothing runs
        stopped_at = 0

    def known() -> list[str]:
        return sorted(set(namespace) | set(dir(builtins)))

    values = _ValueBudget(limits.max_output_chars)

    with _ProcessState():
        linecache.cache[PROGRAM_FILE] = (len(source), None, [line + "\n" for line in lines], PROGRAM_FILE)
        sys.modules["__main__"] = main
        sys.argv = [PROGRAM_FILE]
        builtins.torch = torch  # the product's first example leaves `import torch` out
        sys.stdout = sys.__stdout__ = out
        sys.stderr = sys.__stderr__ = err
        sys.stdin = sys.__stdin__ = io.StringIO("")  # input() meets the end of its input, as under `< /dev/null`
        random.seed(torch.initial_seed())  # `random` repeats from run to run, like torch
        recording = _Recording(recorder, limits)
        recorder.bind(program_scopes)
        with _BackwardPatches(recorder), _HookPatches(recorder), recording, Watchdog(limits, cancelled) as watchdog:
            try:
                for index, (stmt, code) in enumerate(compiled):
                    end_line = getattr(stmt, "end_lineno", None) or stmt.lineno
                    start_out = len(out.pieces)
                    error, finished, value = _run_statement(code, stmt, namespace, recording, watchdog, lines, limits,
                                                            known, values)
                    record = StatementRecord(stmt.lineno, end_line, error is None, out.text(start_out), error, value)
                    statements.append(record)
                    recorder.on_statement(record)
                    if error is not None or finished:
                        break
                    if stop_after_line is not None and stmt.lineno <= stop_after_line:
                        following = compiled[index + 1][0].lineno if index + 1 < len(compiled) else None
                        if following is None or following > stop_after_line:
                            if following is not None:
                                stopped_at = end_line
                            break
            except BaseException as exc:  # noqa: BLE001 - a failure of the bookkeeping between statements
                watchdog.disarm()
                line = statements[-1].line if statements else 1
                error = error or error_info(watchdog.reason(exc), line, lines, limits, known)
            recorder.bind(lambda: list(_public(namespace)))
    return Outcome(statements, out.text(), error, dict(_public(namespace)), stopped_at, err.text())


#: Characters of a bare expression's value kept (the rest elided), as a notebook's output would be
#: scrolled: the value is there to be read next to its line, not to be stored.
MAX_VALUE_CHARS = 2_000


class _ValueBudget:
    """The values of bare expressions share the output limit: a program of a million expression
    lines must not make a result of a million values."""

    def __init__(self, chars: int):
        self.left = max(0, int(chars))

    def text(self, value: Any) -> str | None:
        """repr(value) as a notebook shows it (None shows nothing), bounded; run as the program's code."""
        if value is None or self.left <= 0:
            return None
        text = repr(value)  # lone surrogates are replaced where messages are written (message.encode)
        keep = min(MAX_VALUE_CHARS, self.left)
        text = text if len(text) <= keep else text[:keep] + "…"
        self.left -= len(text)
        return text


def _run_statement(code, stmt, namespace, recording, watchdog, lines, limits, known,
                   values: _ValueBudget) -> tuple[ErrorInfo | None, bool, str | None]:
    """Execute one top-level statement: (its error or None, whether the program ended with it, the
    value of a bare expression as a notebook shows it)."""
    value = None
    try:
        watchdog.arm()
        if isinstance(stmt, ast.Expr):
            value = values.text(eval(code, namespace))  # noqa: S307 - the program itself, contained
        else:
            exec(code, namespace)  # noqa: S102 - the program itself, in the contained engine process
        recording.pending.look()
        watchdog.disarm()
    except SystemExit as exc:
        watchdog.disarm()
        return _exit_error(exc, _program_line_of(exc, stmt.lineno)), True, None
    except StopRun:
        watchdog.disarm()
        return None, True, None
    except BaseException as exc:  # noqa: BLE001 - every failure of the program is reported
        watchdog.disarm()
        return error_info(watchdog.reason(exc), stmt.lineno, lines, limits, known), False, None
    return None, False, value


def _public(namespace: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    return ((k, v) for k, v in namespace.items() if not k.startswith("__"))

