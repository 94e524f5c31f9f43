"""The AST interpreter: runs a person's PyTorch program on the allow-listed surface, within limits.

The program text is untrusted. It is parsed with ``ast.parse`` and each node is turned once into a
small Python closure ("closure compilation"); running the program calls those closures. Nothing is
ever passed to eval/exec/compile. Names resolve through the program's own scopes, then the
allow-listed builtins (surface.make_builtins); imports bind surface.Namespace proxies, never real
modules; every attribute read goes through surface.attr_action (cached per node and type).

Statements return None, or BREAK / CONTINUE / RETURN so loops and calls unwind without exceptions.
"""

from __future__ import annotations

import ast
import builtins
import collections
import operator
import sys
import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn as nn

from gradviz.core.request import Limits
from gradviz.core.result import ErrorInfo, StatementRecord
from gradviz.engine import surface
from gradviz.engine.hints import explain, did_you_mean
from gradviz.engine.limits import (
    MAX_SOURCE_CHARS,
    MAX_SOURCE_NESTING,
    Budget,
    Cancelled,
    LimitExceeded,
    NotAllowed,
    check_format_spec,
    check_int_bits,
    check_int_pow,
    check_percent_format,
    limit_error,
)
from gradviz.engine.recorder import Recorder
from gradviz.engine.surface import GET, Intercept, Namespace, attr_action, check_device, check_setattr

Tensor = torch.Tensor
TT = frozenset({torch.Tensor, nn.Parameter})  # exact tensor types on the fast paths
DIRECT = frozenset({types.BuiltinFunctionType, types.FunctionType, types.MethodType,
                    types.BuiltinMethodType, types.MethodWrapperType})
CM_TYPES = (torch.no_grad, torch.enable_grad, torch.set_grad_enabled, torch.inference_mode)
SEQ = frozenset({list, tuple, str})
# Results that can't hold a tensor: the recorder isn't told about them (saves a call per op).
NO_RECORD = frozenset({type(None), bool, int, float, str, complex})
BASIC_ITERABLES = frozenset({list, tuple, str, dict, set, frozenset, torch.Size})

_UNSET = object()
RETURN = "return"
BREAK = "break"
CONTINUE = "continue"

# Dunder methods a program's own class may define (Python calls them; they run interpreted).
CLASS_DUNDERS = frozenset("""
__init__ __repr__ __str__ __len__ __getitem__ __setitem__ __iter__ __next__ __call__ __eq__ __ne__
__lt__ __le__ __gt__ __ge__ __add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__
__rtruediv__ __matmul__ __neg__ __pos__ __abs__ __contains__ __bool__ __hash__ __module__
__qualname__ __doc__
""".split())

INTERNAL = (LimitExceeded, NotAllowed, Cancelled)


def _note_binding(on_bind, name: str, t) -> None:
    """Tell the recorder that a leaf tensor requiring grad was bound to ``name``."""
    if t.is_leaf and t.requires_grad:  # is_leaf first: reading grad_fn makes a Python object
        on_bind(name, t)


@dataclass
class Outcome:
    """What running a program did (see TEAM.md): statements, output, first error, final bindings."""

    statements: list[StatementRecord]
    stdout: str
    error: ErrorInfo | None
    globals: dict[str, Any]
    stopped_at: int | None
    warnings: list[str] = field(default_factory=list)


class Frame:
    """One scope at run time: its variables, the enclosing frame, and call bookkeeping."""

    __slots__ = ("vars", "parent", "ret", "func", "is_class", "cell")

    def __init__(self, vars, parent, func=None, is_class=False):
        self.vars = vars
        self.parent = parent
        self.ret = None
        self.func = func
        self.is_class = is_class
        self.cell = None


class UserFunction:
    """A function (or lambda) the program defined; calling it interprets its body.

    It is a descriptor like a Python function, so it becomes a method when it sits in a class:
    nn.Module.__call__ reaches ``forward`` through the normal attribute lookup.
    """

    __slots__ = ("name", "qualname", "ctx", "body", "env", "pos", "nposonly", "defaults",
                 "vararg", "kwonly", "kwdefaults", "kwarg", "simple", "npos", "is_lambda",
                 "class_cell", "__weakref__")

    def __call__(self, *args, **kwargs):
        return self.invoke(args, kwargs)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return types.MethodType(self, obj)

    def __repr__(self):
        return f"<function {self.qualname} at {hex(id(self))}>"

    def invoke(self, args, kwargs):
        ctx = self.ctx
        if ctx.closed:
            raise NotAllowed("this function belongs to a program that has finished running")
        b = ctx.budget
        b.depth += 1
        if b.depth > b.max_depth:
            b.depth -= 1
            raise limit_error(b.limits, "max_depth", "Function calls are nested too deeply")
        try:
            if self.simple and not kwargs and len(args) == self.npos:
                vars = dict(zip(self.pos, args))
            else:
                vars = self.bind(args, kwargs)
            frame = Frame(vars, self.env, self)
            ctx.frames.append(frame)
            try:
                if self.is_lambda:
                    # a lambda has no statements to tick: count its call (sorted(key=…) over a big list)
                    b.steps += 1
                    if b.steps >= b.next_check:
                        b.check()
                    return self.body(frame)
                if self.body(frame) is RETURN:
                    return frame.ret
                return None
            finally:
                ctx.frames.pop()
        finally:
            b.depth -= 1

    def bind(self, args, kwargs) -> dict:
        """Python's argument binding, with Python's error messages."""
        name = self.name
        pos = self.pos
        npos = len(pos)
        vars: dict[str, Any] = {}
        if len(args) > npos:
            if self.vararg is None:
                given = len(args)
                takes = f"{npos} positional argument{'s' if npos != 1 else ''}"
                if self.defaults:
                    takes = f"from {npos - len(self.defaults)} to {npos} positional arguments"
                raise TypeError(f"{name}() takes {takes} but {given} {'were' if given != 1 else 'was'} given")
            vars[self.vararg] = tuple(args[npos:])
        elif self.vararg is not None:
            vars[self.vararg] = ()
        for pname, value in zip(pos, args):
            vars[pname] = value
        extra = {}
        if kwargs:
            for key, value in kwargs.items():
                if key in vars and key in pos:
                    raise TypeError(f"{name}() got multiple values for argument '{key}'")
                if key in pos[:self.nposonly]:
                    if self.kwarg is None:
                        raise TypeError(
                            f"{name}() got some positional-only arguments passed as keyword arguments: '{key}'"
                        )
                    extra[key] = value
                elif key in pos or key in self.kwonly:
                    vars[key] = value
                elif self.kwarg is not None:
                    extra[key] = value
                else:
                    raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")
        if len(vars) < npos + len(self.kwonly) + (self.vararg is not None):
            ndef = len(self.defaults)
            missing = []
            for i, pname in enumerate(pos):
                if pname not in vars:
                    j = i - (npos - ndef)
                    if j >= 0:
                        vars[pname] = self.defaults[j]
                    else:
                        missing.append(pname)
            if missing:
                raise TypeError(_missing_message(name, missing, "positional"))
            kmissing = []
            for pname in self.kwonly:
                if pname not in vars:
                    if pname in self.kwdefaults:
                        vars[pname] = self.kwdefaults[pname]
                    else:
                        kmissing.append(pname)
            if kmissing:
                raise TypeError(_missing_message(name, kmissing, "keyword-only"))
        if self.kwarg is not None:
            vars[self.kwarg] = extra
        return vars


def _missing_message(name, missing, kind):
    quoted = [f"'{m}'" for m in missing]
    if len(quoted) == 1:
        listed = quoted[0]
    else:
        listed = ", ".join(quoted[:-1]) + (", and " if len(quoted) > 2 else " and ") + quoted[-1]
    n = len(missing)
    return f"{name}() missing {n} required {kind} argument{'s' if n != 1 else ''}: {listed}"


class SuperProxy:
    """``super()`` inside a method: only ``__init__`` and allowed methods of the base are reachable."""

    __slots__ = ("cls", "obj")

    def __init__(self, cls, obj):
        self.cls = cls
        self.obj = obj

    def _next_class(self):
        mro = type(self.obj).__mro__
        i = mro.index(self.cls)
        return mro[i + 1] if i + 1 < len(mro) else object

    def init_action(self):
        proxy = self

        def act(ctx, obj, line):
            guard = surface.CLASS_GUARDS.get(proxy._next_class())

            def handler(ctx, line, fn, args, kwargs):
                if guard is not None:
                    guard(ctx, args, kwargs)
                return fn(*args, **kwargs)

            return Intercept(super(proxy.cls, proxy.obj).__init__, handler)

        return act

    def action(self, ctx, name):
        if name.startswith("_"):
            return surface._deny_action(f"super().{name} isn't available in gradviz")
        base_act, _ = attr_action(ctx, self.obj, name)
        proxy = self

        def act(ctx, obj, line):
            value = getattr(super(proxy.cls, proxy.obj), name)
            if base_act is GET:
                return value
            # wrapped methods (zero_grad, to …): apply the same wrapper to the base's method
            wrapped = base_act(ctx, proxy.obj, line)
            if isinstance(wrapped, Intercept):
                return Intercept(value, wrapped.handler)
            return value

        return act

    def __repr__(self):
        return f"<super: <class '{self.cls.__name__}'>, <{type(self.obj).__name__} object>>"


class RunContext:
    """Everything one run shares: budget, recorder, globals, output, frames, the program's classes."""

    def __init__(self, limits: Limits, recorder: Recorder, cancelled, source_lines):
        self.limits = limits
        self.budget = Budget(limits, cancelled)
        self.recorder = recorder
        self.on_result = recorder.on_result
        self.globals: dict[str, Any] = {}
        self.out: list[str] = []
        self.frames: list[Frame] = []
        self.user_classes: set[type] = set()
        self.user_attr_cache: dict[tuple[type, str], Any] = {}
        self.line = 0
        self.closed = False
        self.source_lines = source_lines
        self.builtins = surface.make_builtins(self)

    # -- output ------------------------------------------------------------------------------

    def print_fn(self, *args, sep=" ", end="\n", file=None, flush=False):
        if file is not None:
            raise NotAllowed("print(file=…) isn't available in gradviz: output goes to the Output panel")
        if sep is None:
            sep = " "
        if end is None:
            end = "\n"
        if not isinstance(sep, str):
            raise TypeError(f"sep must be None or a string, not {type(sep).__name__}")
        if not isinstance(end, str):
            raise TypeError(f"end must be None or a string, not {type(end).__name__}")
        if len(sep) * len(args) + len(end) > self.budget.max_output:
            self.budget.output(len(sep) * len(args) + len(end))
        text = sep.join([str(a) for a in args]) + end
        self.budget.output(len(text))
        self.out.append(text)

    # -- iteration that ticks the step budget ----------------------------------------------------

    def iterate(self, it, materialize=False):
        t = type(it)
        if t in BASIC_ITERABLES or isinstance(it, _SIZED_CONTAINERS):
            return it  # already built, so already within the limits
        if t is range:
            try:
                n = len(it)
            except OverflowError:
                raise limit_error(self.limits, "max_elements", "The range is too long") from None
            if materialize:
                self.budget.too_many(n, "The list")
            else:
                self.budget.tick(n)
            return it
        return self._ticking(it)

    def _ticking(self, it):
        b = self.budget
        for x in it:
            b.steps += 1
            if b.steps >= b.next_check:
                b.check()
            yield x

    def scopes(self):
        """The program's visible bindings, innermost scope first (for the recorder)."""
        out = []
        for frame in reversed(self.frames):
            out.extend(list(frame.vars.items()))
        return out


# --------------------------------------------------------------------------------------------
# Scope analysis (which names a function binds locally), done once per function at compile time


class Scope:
    __slots__ = ("kind", "parent", "locals", "globals", "nonlocals", "name")

    def __init__(self, kind, parent, name=""):
        self.kind = kind  # "module" | "function" | "class" | "comp"
        self.parent = parent
        self.locals: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.name = name


def _collect(nodes, scope: Scope, comp=False) -> None:
    """Record the names bound by ``nodes`` in ``scope`` without entering nested scopes."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, (ast.Store, ast.Del)) and not comp:
                scope.locals.add(node.id)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if not comp:
                scope.locals.add(node.name)
            stack.extend(node.decorator_list)
            if not isinstance(node, ast.ClassDef):
                stack.extend(node.args.defaults)
                stack.extend(d for d in node.args.kw_defaults if d is not None)
            else:
                stack.extend(node.bases)
            continue
        if isinstance(node, ast.Lambda):
            stack.extend(node.args.defaults)
            continue
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            # Only walrus targets inside a comprehension bind in the enclosing scope.
            for sub in ast.walk(node):
                if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name):
                    scope.locals.add(sub.target.id)
            continue
        if isinstance(node, ast.NamedExpr):
            if isinstance(node.target, ast.Name):
                scope.locals.add(node.target.id)
            stack.append(node.value)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    scope.locals.add(alias.asname or alias.name.split(".")[0])
            continue
        if isinstance(node, ast.Global):
            scope.globals.update(node.names)
            continue
        if isinstance(node, ast.Nonlocal):
            scope.nonlocals.update(node.names)
            continue
        if isinstance(node, ast.ExceptHandler) and node.name:
            scope.locals.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    scope.locals -= scope.globals
    scope.locals -= scope.nonlocals


def _resolve(scope: Scope, name: str):
    """('global',) | ('local',) | ('class',) | ('free', hops)."""
    if scope.kind == "module":
        return ("global",)
    if name in scope.globals:
        return ("global",)
    if name in scope.locals:
        return ("class",) if scope.kind == "class" else ("local",)
    hops = 0
    p = scope.parent
    while p is not None:
        if p.kind == "class":
            p = p.parent
            continue
        hops += 1
        if p.kind == "module":
            return ("global",)
        if name in p.globals:
            return ("global",)
        if name in p.locals:
            return ("free", hops)
        p = p.parent
    return ("global",)


def _nesting_depth(tree: ast.AST) -> int:
    """Deepest nesting of the tree, walked without recursion."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_SOURCE_NESTING:
                return deepest
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1))
    return deepest


class CompileError(Exception):
    """A construct gradviz refuses or Python would reject, found before the program runs."""

    def __init__(self, kind, message, line, col=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.col = col


# --------------------------------------------------------------------------------------------
# Binary operators


_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
}
_INPLACE = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul,
    ast.Div: operator.itruediv, ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod,
    ast.Pow: operator.ipow, ast.MatMult: operator.imatmul, ast.LShift: operator.ilshift,
    ast.RShift: operator.irshift, ast.BitOr: operator.ior, ast.BitXor: operator.ixor,
    ast.BitAnd: operator.iand,
}
_PRE_TYPES = frozenset({int, bool, str, list, tuple})
_CMPOPS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}


def _pre_add(ctx, a, b):
    ta, tb = type(a), type(b)
    if ta in SEQ and tb in SEQ:
        ctx.budget.too_many(len(a) + len(b), "The result")


def _pre_mul(ctx, a, b):
    ta, tb = type(a), type(b)
    if ta in SEQ and (tb is int or tb is bool):
        ctx.budget.too_many(len(a) * max(b, 0), "The result")
    elif tb in SEQ and (ta is int or ta is bool):
        ctx.budget.too_many(len(b) * max(a, 0), "The result")
    elif ta is int and tb is int:
        bits = a.bit_length() + b.bit_length()
        if bits > 100_000:
            check_int_bits(ctx.budget, bits, "The integer product")


def _pre_pow(ctx, a, b):
    if type(a) in (int, bool) and type(b) in (int, bool):
        check_int_pow(ctx.budget, int(a), int(b))


def _pre_lshift(ctx, a, b):
    if type(a) in (int, bool) and type(b) in (int, bool) and b > 0:
        check_int_bits(ctx.budget, a.bit_length() + b, "The shifted integer")


def _pre_mod(ctx, a, b):
    if type(a) is str:
        check_percent_format(ctx.budget, a)


_PRECHECKS = {ast.Add: _pre_add, ast.Mult: _pre_mul, ast.Pow: _pre_pow, ast.LShift: _pre_lshift,
              ast.Mod: _pre_mod}


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _tensor_pair_check(ctx, fn, a, b):
    """Before a broadcasting or matmul op between two tensors that could be large."""
    if fn is operator.matmul or fn is operator.imatmul:
        sa, sb = a.shape, b.shape
        if len(sa) >= 1 and len(sb) >= 1:
            rows = _prod(sa[:-1])
            cols = _prod(sb[:-2]) * sb[-1] if len(sb) >= 2 else 1
            if rows * cols <= ctx.budget.max_elements:
                return
        n = surface.meta_numel(fn, (a, b), None)
        if n is not None:
            ctx.budget.too_many(n, "The matrix product")
        return
    try:
        shape = torch.broadcast_shapes(a.shape, b.shape)
    except RuntimeError:
        return  # the real op raises the same error
    ctx.budget.too_many(_prod(shape), "The broadcast result")


def _call_scan(ctx, fn, args):
    """Several tensor inputs whose sizes multiply past the cap: find the real output size first."""
    cnt = 0
    big = 1
    zero = False
    for a in args:
        if type(a) in TT:
            cnt += 1
            m = a.numel()
            if m:
                big *= m
            else:
                zero = True
    if not cnt:
        return
    recv = getattr(fn, "__self__", None)
    if type(recv) in TT:
        cnt += 1
        m = recv.numel()
        if m:
            big *= m
        else:
            zero = True
    if cnt >= 2 and (zero or big > ctx.budget.max_elements):
        n = surface.meta_numel(fn, args, None)
        if n is not None:
            ctx.budget.too_many(n, "The result")


def _index_check(ctx, obj, idx):
    """Advanced indexing (``x[idx]`` with tensors or lists) can make more elements than ``x``."""
    t = type(idx)
    if t is int or t is slice or idx is None or idx is Ellipsis:
        return
    n = 0
    parts = idx if t is tuple else (idx,)
    for p in parts:
        if isinstance(p, Tensor):
            if p.dtype is torch.bool:
                continue
            n = max(n, p.numel())
        elif type(p) is list:
            n = max(n, len(p))
    if n and obj.numel() * n > ctx.budget.max_elements:
        try:
            with torch.no_grad():
                out = surface._to_meta(obj)[tuple(surface._to_meta(p) for p in parts) if t is tuple else surface._to_meta(idx)]
            ctx.budget.too_many(out.numel(), "The indexed result")
        except (LimitExceeded, NotAllowed):
            raise
        except Exception:
            pass


# --------------------------------------------------------------------------------------------
# The compiler: AST node -> closure


class Compiler:
    """Turns AST nodes into closures ``ev(frame)``; one instance per run."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self.scope = Scope("module", None)
        self.loop_depth = 0
        self.func_depth = 0
        self.qual: list[str] = []

    # -- helpers -----------------------------------------------------------------------------

    def fail(self, node, message, kind="NotAllowed"):
        raise CompileError(kind, message, getattr(node, "lineno", None), getattr(node, "col_offset", None))

    def block(self, stmts):
        """A statement list: ticks the step budget once per statement, tags errors with the line."""
        runs = tuple(self.stmt(s) for s in stmts)
        n = len(runs)
        budget = self.ctx.budget
        if n == 1:
            only = runs[0]

            def run1(f):
                budget.steps += 1
                if budget.steps >= budget.next_check:
                    budget.check()
                try:
                    return only(f)
                except BaseException as e:
                    _tag(e, only)
                    raise

            return run1

        def run(f):
            budget.steps += n
            if budget.steps >= budget.next_check:
                budget.check()
            s = None
            try:
                for s in runs:
                    r = s(f)
                    if r is not None:
                        return r
            except BaseException as e:
                _tag(e, s)
                raise
            return None

        return run

    def stmt(self, node):
        method = getattr(self, "s_" + type(node).__name__, None)
        if method is None:
            self.fail(node, f"{_describe(node)} isn't available in gradviz")
        run = method(node)
        try:
            run.gv_line = node.lineno
        except AttributeError:  # a shared closure already tagged
            pass
        return run

    def expr(self, node):
        method = getattr(self, "e_" + type(node).__name__, None)
        if method is None:
            self.fail(node, f"{_describe(node)} isn't available in gradviz")
        return method(node)

    # -- names -------------------------------------------------------------------------------

    def load_name(self, name, node):
        ctx = self.ctx
        G = ctx.globals
        B = ctx.builtins
        kind = _resolve(self.scope, name)

        def missing():
            if name in surface.REFUSED_BUILTINS and surface.REFUSED_BUILTINS[name]:
                return NotAllowed(surface.REFUSED_BUILTINS[name])
            if name in ("np", "numpy"):
                return NameError(f"name '{name}' is not defined")
            return NameError(f"name '{name}' is not defined")

        if name == "super" and kind == ("global",):
            def ev_super(f):
                raise NotAllowed("super() works only inside a method of a class, called as super().name(…)")
            return ev_super

        if kind[0] == "global":
            def ev(f):
                try:
                    return G[name]
                except KeyError:
                    try:
                        return B[name]
                    except KeyError:
                        raise missing() from None
            return ev
        if kind[0] == "local":
            def ev_local(f):
                try:
                    return f.vars[name]
                except KeyError:
                    raise UnboundLocalError(
                        f"cannot access local variable '{name}' where it is not associated with a value"
                    ) from None
            return ev_local
        if kind[0] == "class":
            def ev_class(f):
                try:
                    return f.vars[name]
                except KeyError:
                    try:
                        return G[name]
                    except KeyError:
                        try:
                            return B[name]
                        except KeyError:
                            raise missing() from None
            return ev_class
        hops = kind[1]

        def ev_free(f):
            fr = f
            for _ in range(hops):
                fr = fr.parent
            try:
                return fr.vars[name]
            except KeyError:
                raise NameError(
                    f"cannot access free variable '{name}' where it is not associated with a value in enclosing scope"
                ) from None

        return ev_free

    def store_name(self, name):
        """A closure ``store(f, value)``; the recorder hears of leaves that require grad bound to ``name``."""
        G = self.ctx.globals
        on_bind = self.ctx.recorder.on_bind
        kind = _resolve(self.scope, name)
        if kind[0] == "global":
            def st(f, v):
                if v.__class__ in TT:
                    _note_binding(on_bind, name, v)
                G[name] = v
            return st
        if kind[0] in ("local", "class"):
            def st_local(f, v):
                if v.__class__ in TT:
                    _note_binding(on_bind, name, v)
                f.vars[name] = v
            return st_local
        hops = kind[1]

        def st_free(f, v):
            if v.__class__ in TT:
                _note_binding(on_bind, name, v)
            fr = f
            for _ in range(hops):
                fr = fr.parent
            fr.vars[name] = v

        return st_free

    def del_name(self, name):
        G = self.ctx.globals
        kind = _resolve(self.scope, name)

        def d(f):
            if kind[0] == "global":
                target = G
            elif kind[0] in ("local", "class"):
                target = f.vars
            else:
                target = f
                for _ in range(kind[1]):
                    target = target.parent
                target = target.vars
            try:
                del target[name]
            except KeyError:
                raise NameError(f"name '{name}' is not defined") from None

        return d

    # -- targets (assignment) --------------------------------------------------------------------

    def target(self, node):
        """A closure ``store(f, value)`` for an assignment target."""
        if isinstance(node, ast.Name):
            return self.store_name(node.id)
        if isinstance(node, ast.Attribute):
            return self.store_attr(node)
        if isinstance(node, ast.Subscript):
            obj = self.expr(node.value)
            idx = self.expr(node.slice)
            ctx = self.ctx
            touched = _mentions_grad(node.value)
            line = node.lineno

            def st_sub(f, v):
                o = obj(f)
                o[idx(f)] = v
                if touched:
                    ctx.recorder.on_grad_touched(line)

            return st_sub
        if isinstance(node, (ast.Tuple, ast.List)):
            return self.unpack_target(node)
        if isinstance(node, ast.Starred):
            self.fail(node, "starred assignment target must be in a list or tuple", "SyntaxError")
        self.fail(node, f"can't assign to {_describe(node)}", "SyntaxError")

    def unpack_target(self, node):
        elts = node.elts
        star = [i for i, e in enumerate(elts) if isinstance(e, ast.Starred)]
        if len(star) > 1:
            self.fail(node, "multiple starred expressions in assignment", "SyntaxError")
        stores = [self.target(e.value if isinstance(e, ast.Starred) else e) for e in elts]
        n = len(elts)
        ctx = self.ctx
        if not star:
            def st_unpack(f, v):
                t = type(v)
                if t is not tuple and t is not list:
                    v = list(ctx.iterate(v)) if t not in TT else list(v)
                if len(v) != n:
                    if len(v) > n:
                        raise ValueError(f"too many values to unpack (expected {n})")
                    raise ValueError(f"not enough values to unpack (expected {n}, got {len(v)})")
                for s, x in zip(stores, v):
                    s(f, x)
            return st_unpack
        k = star[0]
        after = n - k - 1

        def st_star(f, v):
            v = list(ctx.iterate(v)) if type(v) not in TT else list(v)
            if len(v) < n - 1:
                raise ValueError(f"not enough values to unpack (expected at least {n - 1}, got {len(v)})")
            for i in range(k):
                stores[i](f, v[i])
            stores[k](f, v[k:len(v) - after])
            for j in range(after):
                stores[k + 1 + j](f, v[len(v) - after + j])

        return st_star

    def store_attr(self, node):
        obj = self.expr(node.value)
        name = node.attr
        ctx = self.ctx
        line = node.lineno
        is_grad = name == "grad" or _mentions_grad(node.value)  # x.grad = …, x.grad.data = …

        def st_attr(f, v):
            o = obj(f)
            check_setattr(ctx, o, name)
            setattr(o, name, v)
            if is_grad:
                ctx.recorder.on_grad_touched(line, o if name == "grad" else None)

        return st_attr

    # -- statements --------------------------------------------------------------------------

    def s_Expr(self, node):
        ev = self.expr(node.value)

        def run(f):
            ev(f)

        return run

    def s_Pass(self, node):
        def run(f):
            return None

        return run

    def s_Assign(self, node):
        value = self.expr(node.value)
        if len(node.targets) == 1:
            t = node.targets[0]
            on_bind = self.ctx.recorder.on_bind
            if isinstance(t, ast.Name) and _resolve(self.scope, t.id)[0] == "global":
                G = self.ctx.globals
                name = t.id

                def run_g(f):
                    v = value(f)
                    if v.__class__ in TT:
                        _note_binding(on_bind, name, v)
                    G[name] = v

                return run_g
            if isinstance(t, ast.Name) and _resolve(self.scope, t.id)[0] == "local":
                name = t.id

                def run_l(f):
                    v = value(f)
                    if v.__class__ in TT:
                        _note_binding(on_bind, name, v)
                    f.vars[name] = v

                return run_l
            store = self.target(t)

            def run1(f):
                store(f, value(f))

            return run1
        stores = [self.target(t) for t in node.targets]

        def run(f):
            v = value(f)
            for s in stores:
                s(f, v)

        return run

    def s_AnnAssign(self, node):
        if node.value is None:
            return self.s_Pass(node)
        value = self.expr(node.value)
        store = self.target(node.target)

        def run(f):
            store(f, value(f))

        return run

    def s_AugAssign(self, node):
        op = type(node.op)
        fn = _INPLACE[op]
        pre = _PRECHECKS.get(op)
        value = self.expr(node.value)
        ctx = self.ctx
        line = node.lineno
        cap_check = self._binop_core(fn, pre, line)
        t = node.target
        if isinstance(t, ast.Name):
            load = self.load_name(t.id, t)
            store = self.store_name(t.id)

            def run_name(f):
                store(f, cap_check(load(f), value(f)))

            return run_name
        if isinstance(t, ast.Attribute):
            obj = self.expr(t.value)
            name = t.attr
            getter = self._attr_getter(name, line)
            touched = name == "grad" or _mentions_grad(t.value)

            def run_attr(f):
                o = obj(f)
                cur = getter(o)
                new = cap_check(cur, value(f))
                check_setattr(ctx, o, name)
                setattr(o, name, new)
                if touched:
                    ctx.recorder.on_grad_touched(line, o if name == "grad" else None)

            return run_attr
        if isinstance(t, ast.Subscript):
            obj = self.expr(t.value)
            idx = self.expr(t.slice)
            touched = _mentions_grad(t.value)

            def run_sub(f):
                o = obj(f)
                i = idx(f)
                new = cap_check(o[i], value(f))
                o[i] = new
                if touched:
                    ctx.recorder.on_grad_touched(line)

            return run_sub
        self.fail(node, "illegal expression for augmented assignment", "SyntaxError")

    def s_Delete(self, node):
        dels = []
        ctx = self.ctx
        for t in node.targets:
            if isinstance(t, ast.Name):
                dels.append(self.del_name(t.id))
            elif isinstance(t, ast.Subscript):
                obj = self.expr(t.value)
                idx = self.expr(t.slice)

                def d_sub(f, obj=obj, idx=idx):
                    del obj(f)[idx(f)]

                dels.append(d_sub)
            elif isinstance(t, ast.Attribute):
                obj = self.expr(t.value)
                name = t.attr
                line = t.lineno

                def d_attr(f, obj=obj, name=name, line=line):
                    o = obj(f)
                    check_setattr(ctx, o, name)
                    delattr(o, name)
                    if name == "grad":
                        ctx.recorder.on_grad_touched(line, o)

                dels.append(d_attr)
            elif isinstance(t, (ast.Tuple, ast.List)):
                for e in t.elts:
                    dels.extend(self.s_Delete(ast.Delete(targets=[e], lineno=node.lineno)).gv_dels)
            else:
                self.fail(t, "can't delete this", "SyntaxError")

        def run(f):
            for d in dels:
                d(f)

        run.gv_dels = dels
        return run

    def s_If(self, node):
        test = self.expr(node.test)
        body = self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse else None

        if orelse is None:
            def run(f):
                if test(f):
                    return body(f)
            return run

        def run_else(f):
            if test(f):
                return body(f)
            return orelse(f)

        return run_else

    def s_While(self, node):
        test = self.expr(node.test)
        self.loop_depth += 1
        body = self.block(node.body)
        self.loop_depth -= 1
        orelse = self.block(node.orelse) if node.orelse else None
        budget = self.ctx.budget

        def run(f):
            while True:
                budget.steps += 1
                if budget.steps >= budget.next_check:
                    budget.check()
                if not test(f):
                    break
                r = body(f)
                if r is not None:
                    if r is BREAK:
                        return None
                    if r is RETURN:
                        return r
            if orelse is not None:
                return orelse(f)
            return None

        return run

    def s_For(self, node):
        it = self.expr(node.iter)
        t = node.target
        fast_global = isinstance(t, ast.Name) and _resolve(self.scope, t.id)[0] == "global"
        store = self.target(t)
        self.loop_depth += 1
        body = self.block(node.body)
        self.loop_depth -= 1
        orelse = self.block(node.orelse) if node.orelse else None
        G = self.ctx.globals
        name = t.id if isinstance(t, ast.Name) else None

        def run(f):
            for x in it(f):
                if fast_global:
                    G[name] = x
                else:
                    store(f, x)
                r = body(f)
                if r is not None:
                    if r is BREAK:
                        return None
                    if r is RETURN:
                        return r
            if orelse is not None:
                return orelse(f)
            return None

        return run

    def s_Break(self, node):
        if not self.loop_depth:
            self.fail(node, "'break' outside loop", "SyntaxError")

        def run(f):
            return BREAK

        return run

    def s_Continue(self, node):
        if not self.loop_depth:
            self.fail(node, "'continue' not properly in loop", "SyntaxError")

        def run(f):
            return CONTINUE

        return run

    def s_Return(self, node):
        if not self.func_depth:
            self.fail(node, "'return' outside function", "SyntaxError")
        value = self.expr(node.value) if node.value is not None else None

        def run(f):
            f.ret = value(f) if value is not None else None
            return RETURN

        return run

    def s_Global(self, node):
        if self.scope.kind == "module":
            return self.s_Pass(node)
        return self.s_Pass(node)

    s_Nonlocal = s_Global

    def s_Assert(self, node):
        test = self.expr(node.test)
        msg = self.expr(node.msg) if node.msg is not None else None

        def run(f):
            if not test(f):
                if msg is None:
                    raise AssertionError()
                raise AssertionError(msg(f))

        return run

    def s_Raise(self, node):
        exc = self.expr(node.exc) if node.exc is not None else None
        cause = self.expr(node.cause) if node.cause is not None else None

        def run(f):
            if exc is None:
                current = sys.exc_info()[1]
                if current is None or isinstance(current, INTERNAL):
                    raise RuntimeError("No active exception to reraise")
                raise current
            e = exc(f)
            if isinstance(e, type):
                if not issubclass(e, Exception):
                    raise TypeError("exceptions must derive from BaseException")
                e = e()
            if not isinstance(e, Exception):
                raise TypeError("exceptions must derive from BaseException")
            if cause is not None:
                raise e from cause(f)
            raise e

        return run

    def s_Try(self, node):
        body = self.block(node.body)
        handlers = []
        for h in node.handlers:
            typ = self.expr(h.type) if h.type is not None else None
            store = self.store_name(h.name) if h.name else None
            unbind = self.del_name(h.name) if h.name else None
            handlers.append((typ, store, unbind, self.block(h.body)))
        orelse = self.block(node.orelse) if node.orelse else None
        final = self.block(node.finalbody) if node.finalbody else None

        def run(f):
            try:
                try:
                    r = body(f)
                except INTERNAL:
                    raise
                except (RecursionError, MemoryError):
                    raise
                except BaseException as e:
                    for typ, store, unbind, hbody in handlers:
                        if typ is not None:
                            t = typ(f)
                            if not _valid_except(t):
                                raise TypeError(
                                    "catching classes that do not inherit from BaseException is not allowed"
                                ) from None
                            if not isinstance(e, t):
                                continue
                        if store is not None:
                            store(f, e)
                        try:
                            result = hbody(f)
                        finally:
                            if unbind is not None:
                                try:
                                    unbind(f)
                                except NameError:
                                    pass
                        break
                    else:
                        raise
                else:
                    if r is not None:
                        result = r
                    elif orelse is not None:
                        result = orelse(f)
                    else:
                        result = None
            except (*INTERNAL, RecursionError, MemoryError):
                # A limit, a refusal or a cancel: finally runs, but its return/break can't swallow it.
                if final is not None:
                    final(f)
                raise
            except BaseException:
                if final is not None:
                    fr = final(f)
                    if fr is not None:
                        return fr  # Python's own semantics: finally's return wins over the error
                raise
            else:
                if final is not None:
                    fr = final(f)
                    if fr is not None:
                        return fr
                return result

        return run

    def s_TryStar(self, node):
        self.fail(node, "except* isn't available in gradviz")

    def s_With(self, node):
        items = [(self.expr(i.context_expr),
                  self.target(i.optional_vars) if i.optional_vars is not None else None)
                 for i in node.items]
        body = self.block(node.body)

        def run(f):
            return _with(f, items, 0, body)

        return run

    def s_FunctionDef(self, node):
        make = self._function(node, node.name, node.args, node.body, is_lambda=False)
        decorators = [self.expr(d) for d in node.decorator_list]
        store = self.store_name(node.name)
        call = self.ctx.call
        line = node.lineno

        def run(f):
            fn = make(f)
            for d in reversed(decorators):
                fn = call(d(f), (fn,), None, line)
            store(f, fn)

        return run

    def s_AsyncFunctionDef(self, node):
        self.fail(node, "async functions aren't available in gradviz")

    def s_ClassDef(self, node):
        ctx = self.ctx
        if node.keywords:
            self.fail(node, "class keywords (metaclass=…) aren't available in gradviz")
        bases = [self.expr(b) for b in node.bases]
        decorators = [self.expr(d) for d in node.decorator_list]
        scope = Scope("class", self.scope, node.name)
        _collect(node.body, scope)
        outer = self.scope
        self.scope = scope
        self.qual.append(node.name)
        saved = self.func_depth, self.loop_depth
        self.func_depth, self.loop_depth = 0, 0
        body = self.block(node.body)
        self.func_depth, self.loop_depth = saved
        self.qual.pop()
        self.scope = outer
        qualname = ".".join(self.qual + [node.name])
        store = self.store_name(node.name)
        name = node.name
        line = node.lineno
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.Assign)):
                names = [stmt.name] if isinstance(stmt, ast.FunctionDef) else [
                    t.id for t in stmt.targets if isinstance(t, ast.Name)]
                for n in names:
                    if n.startswith("__") and n.endswith("__") and n not in CLASS_DUNDERS:
                        self.fail(stmt, f"defining '{n}' isn't available in gradviz")

        def run(f):
            base_values = tuple(b(f) for b in bases)
            for b in base_values:
                if not isinstance(b, type):
                    raise TypeError("bases must be types")
                if not (b in ctx.user_classes or b is object or
                        (issubclass(b, surface.SUBCLASSABLE_ROOTS)
                         and (b in _ALLOWED_CLASSES or b in _BUILTIN_CLASSES))):
                    raise NotAllowed(
                        f"subclassing {b.__name__} isn't available in gradviz; subclass nn.Module "
                        "(or one of your own classes)"
                    )
            ns = {"__module__": "__main__", "__qualname__": qualname}
            cframe = Frame(ns, f.parent if f.is_class else f, is_class=True)
            cframe.cell = [None]
            body(cframe)
            for key in ns:
                if key[:2] == "__" and key[-2:] == "__" and key not in CLASS_DUNDERS:
                    raise NotAllowed(f"defining '{key}' isn't available in gradviz")
            cls = type(name, base_values or (object,), ns)
            cframe.cell[0] = cls
            ctx.user_classes.add(cls)
            for d in reversed(decorators):
                cls = ctx.call(d(f), (cls,), None, line)
            store(f, cls)

        return run

    def s_Import(self, node):
        stores = []
        for alias in node.names:
            full = alias.name
            if alias.asname:
                stores.append((full, full, self.store_name(alias.asname)))
            else:
                top = full.split(".")[0]
                stores.append((full, top, self.store_name(top)))

        def run(f):
            for full, bind, store in stores:
                if full not in surface.NAMESPACES:
                    raise surface.import_refusal(full)
                store(f, surface.NAMESPACES[bind])

        return run

    def s_ImportFrom(self, node):
        if node.level:
            self.fail(node, "relative imports aren't available in gradviz")
        module = node.module or ""
        names = [(a.name, self.store_name(a.asname or a.name) if a.name != "*" else None)
                 for a in node.names]
        ctx = self.ctx

        def run(f):
            ns = surface.NAMESPACES.get(module)
            if ns is None:
                raise surface.import_refusal(module)
            for name, store in names:
                if name == "*":
                    for key, value in ns.gv_names.items():
                        if not key.startswith("_"):
                            ctx.globals[key] = value
                    continue
                full = f"{module}.{name}"
                if full in surface.NAMESPACES:
                    store(f, surface.NAMESPACES[full])
                    continue
                try:
                    store(f, ns.lookup(name))
                except AttributeError:
                    raise ImportError(f"cannot import name '{name}' from '{module}'") from None

        return run

    def s_Match(self, node):
        self.fail(node, "match statements aren't available in gradviz; use if/elif")

    # -- expressions -------------------------------------------------------------------------

    def e_Constant(self, node):
        v = node.value
        if isinstance(v, bytes):
            self.fail(node, "bytes literals aren't available in gradviz")

        def ev(f):
            return v

        return ev

    def e_Name(self, node):
        return self.load_name(node.id, node)

    def _attr_getter(self, name, line):
        """``get(obj)`` for one attribute site, with a one-type inline cache of the decision."""
        ctx = self.ctx
        cache_t = None
        cache_a = None
        ns_obj = _UNSET  # namespaces never change: remember the last one's value
        ns_val = None

        def get(o):
            nonlocal cache_t, cache_a, ns_obj, ns_val
            if o is ns_obj:
                return ns_val
            t = type(o)
            if t is cache_t:
                act = cache_a
            else:
                act, cacheable = attr_action(ctx, o, name)
                if cacheable:
                    cache_t, cache_a = t, act
            if act is GET:
                return getattr(o, name)
            v = act(ctx, o, line)
            if t is Namespace:
                ns_obj, ns_val = o, v
            return v

        return get

    def e_Attribute(self, node):
        obj = self.expr(node.value)
        get = self._attr_getter(node.attr, node.lineno)

        def ev(f):
            return get(obj(f))

        return ev

    def e_Subscript(self, node):
        obj = self.expr(node.value)
        idx = self.expr(node.slice)
        ctx = self.ctx
        on_result = ctx.on_result
        line = node.lineno
        cap = ctx.budget.max_elements

        def ev(f):
            o = obj(f)
            i = idx(f)
            if type(o) in TT:
                ti = type(i)
                if ti is not int and ti is not slice and ti is not tuple:
                    _index_check(ctx, o, i)
                elif ti is tuple:
                    _index_check(ctx, o, i)
                r = o[i]
                if r.numel() > cap:
                    ctx.budget.too_many(r.numel())
            else:
                r = o[i]
                if type(r) in NO_RECORD:
                    return r
            on_result(r, line)
            return r

        return ev

    def e_Slice(self, node):
        lo = self.expr(node.lower) if node.lower is not None else None
        hi = self.expr(node.upper) if node.upper is not None else None
        st = self.expr(node.step) if node.step is not None else None

        def ev(f):
            return slice(lo(f) if lo is not None else None,
                         hi(f) if hi is not None else None,
                         st(f) if st is not None else None)

        return ev

    def _binop_core(self, fn, pre, line):
        """``apply(a, b)``: size checks before, element cap after, then the recorder."""
        ctx = self.ctx
        cap = ctx.budget.max_elements
        on_result = ctx.on_result

        def apply(a, b):
            ta = type(a)
            tb = type(b)
            if ta in TT and tb in TT:
                na = a.numel()
                nb = b.numel()
                if na * nb > cap or not na or not nb:
                    _tensor_pair_check(ctx, fn, a, b)
            elif pre is not None and (ta in _PRE_TYPES or tb in _PRE_TYPES):
                pre(ctx, a, b)
            r = fn(a, b)
            tr = type(r)
            if tr in TT:
                if r.numel() > cap:
                    ctx.budget.too_many(r.numel())
            elif tr in NO_RECORD:
                return r
            on_result(r, line)
            return r

        return apply

    def e_BinOp(self, node):
        op = type(node.op)
        fn = _BINOPS[op]
        pre = _PRECHECKS.get(op)
        left = self.expr(node.left)
        right = self.expr(node.right)
        ctx = self.ctx
        cap = ctx.budget.max_elements
        on_result = ctx.on_result
        line = node.lineno

        def ev(f):  # _binop_core, inlined: this is the hottest path of tensor programs
            a = left(f)
            b = right(f)
            ta = type(a)
            tb = type(b)
            if ta in TT and tb in TT:
                na = a.numel()
                nb = b.numel()
                if na * nb > cap or not na or not nb:
                    _tensor_pair_check(ctx, fn, a, b)
            elif pre is not None and (ta in _PRE_TYPES or tb in _PRE_TYPES):
                pre(ctx, a, b)
            r = fn(a, b)
            tr = type(r)
            if tr in TT:
                if r.numel() > cap:
                    ctx.budget.too_many(r.numel())
            elif tr in NO_RECORD:
                return r
            on_result(r, line)
            return r

        return ev

    def e_UnaryOp(self, node):
        operand = self.expr(node.operand)
        on_result = self.ctx.on_result
        line = node.lineno
        op = type(node.op)
        if op is ast.Not:
            def ev_not(f):
                return not operand(f)
            return ev_not
        fn = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}[op]

        def ev(f):
            r = fn(operand(f))
            if type(r) not in NO_RECORD:
                on_result(r, line)
            return r

        return ev

    def e_BoolOp(self, node):
        values = [self.expr(v) for v in node.values]
        if isinstance(node.op, ast.And):
            def ev_and(f):
                v = None
                for e in values:
                    v = e(f)
                    if not v:
                        return v
                return v
            return ev_and

        def ev_or(f):
            v = None
            for e in values:
                v = e(f)
                if v:
                    return v
            return v

        return ev_or

    def e_Compare(self, node):
        left = self.expr(node.left)
        ops = []
        ctx = self.ctx
        for op, comp in zip(node.ops, node.comparators):
            c = self.expr(comp)
            t = type(op)
            if t in (ast.In, ast.NotIn):
                neg = t is ast.NotIn

                def fn(a, b, neg=neg):
                    tb = type(b)
                    if tb is range and type(a) is not int:
                        b = ctx.iterate(b)
                    elif tb not in BASIC_ITERABLES and tb is not range and tb not in TT \
                            and tb not in ctx.user_classes and not isinstance(b, (dict, set, nn.Module)):
                        if hasattr(b, "__next__") or type(b).__name__ in ("map", "filter", "zip", "enumerate", "reversed", "generator"):
                            b = ctx.iterate(b)
                    r = a in b
                    return not r if neg else r

                ops.append((fn, c))
            else:
                ops.append((_CMPOPS[t], c))
        if len(ops) == 1:
            fn0, c0 = ops[0]

            def ev1(f):
                return fn0(left(f), c0(f))

            return ev1

        def ev(f):
            a = left(f)
            r = True
            for fn, c in ops:
                b = c(f)
                r = fn(a, b)
                if not r:
                    return r
                a = b
            return r

        return ev

    def e_IfExp(self, node):
        test = self.expr(node.test)
        body = self.expr(node.body)
        orelse = self.expr(node.orelse)

        def ev(f):
            return body(f) if test(f) else orelse(f)

        return ev

    def _elements(self, elts):
        """A closure building a list from elements, expanding ``*starred`` ones."""
        ctx = self.ctx
        if not any(isinstance(e, ast.Starred) for e in elts):
            evs = tuple(self.expr(e) for e in elts)

            def build(f):
                return [e(f) for e in evs]

            return build
        parts = [(isinstance(e, ast.Starred), self.expr(e.value if isinstance(e, ast.Starred) else e))
                 for e in elts]

        def build_star(f):
            out = []
            for star, e in parts:
                if star:
                    out.extend(ctx.iterate(e(f)))
                    ctx.budget.too_many(len(out), "The list")
                else:
                    out.append(e(f))
            return out

        return build_star

    def e_List(self, node):
        return self._elements(node.elts)

    def e_Tuple(self, node):
        build = self._elements(node.elts)

        def ev(f):
            return tuple(build(f))

        return ev

    def e_Set(self, node):
        build = self._elements(node.elts)

        def ev(f):
            return set(build(f))

        return ev

    def e_Dict(self, node):
        parts = [(self.expr(k) if k is not None else None, self.expr(v))
                 for k, v in zip(node.keys, node.values)]

        def ev(f):
            d = {}
            for k, v in parts:
                if k is None:
                    d.update(v(f))
                else:
                    d[k(f)] = v(f)
            return d

        return ev

    def e_Starred(self, node):
        self.fail(node, "can't use starred expression here", "SyntaxError")

    def e_NamedExpr(self, node):
        value = self.expr(node.value)
        store = self.store_name(node.target.id)

        def ev(f):
            v = value(f)
            store(f, v)
            return v

        return ev

    def e_JoinedStr(self, node):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append((True, v.value))
            else:
                parts.append((False, self.e_FormattedValue(v)))
        ctx = self.ctx

        def ev(f):
            out = []
            for const, p in parts:
                out.append(p if const else p(f))
            s = "".join(out)
            ctx.budget.too_many(len(s), "The string")
            return s

        return ev

    def e_FormattedValue(self, node):
        value = self.expr(node.value)
        conv = node.conversion
        spec = self.expr(node.format_spec) if node.format_spec is not None else None
        ctx = self.ctx

        def ev(f):
            v = value(f)
            if conv == 114:
                v = repr(v)
            elif conv == 115:
                v = str(v)
            elif conv == 97:
                v = ascii(v)
            if spec is None:
                return format(v, "")
            s = spec(f)
            check_format_spec(ctx.budget, s)
            return format(v, s)

        return ev

    def e_Lambda(self, node):
        make = self._function(node, "<lambda>", node.args, node.body, is_lambda=True)
        return make

    def e_Call(self, node):
        ctx = self.ctx
        line = node.lineno
        if isinstance(node.func, ast.Name) and node.func.id == "super" \
                and _resolve(self.scope, "super") == ("global",):
            return self._super(node)
        if isinstance(node.func, ast.Attribute):
            # obj.method(...): fetch the attribute inline, one closure call fewer per call
            owner = self.expr(node.func.value)
            get = self._attr_getter(node.func.attr, node.func.lineno)

            def func(f):
                return get(owner(f))
        else:
            func = self.expr(node.func)
        call = ctx.call
        simple = not any(isinstance(a, ast.Starred) for a in node.args) and \
            all(k.arg is not None for k in node.keywords)
        touched = isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_") \
            and node.func.attr != "zero_" and _mentions_grad(node.func.value)
        if simple and not node.keywords and not touched:
            args = tuple(self.expr(a) for a in node.args)
            if not args:
                def ev0(f):
                    return call(func(f), (), None, line)
                return ev0
            if len(args) == 1:
                a0 = args[0]

                def ev1(f):
                    return call(func(f), (a0(f),), None, line)
                return ev1
            if len(args) == 2:
                a0, a1 = args

                def ev2(f):
                    return call(func(f), (a0(f), a1(f)), None, line)
                return ev2

            def evn(f):
                fn = func(f)
                return call(fn, tuple([a(f) for a in args]), None, line)
            return evn
        pos = [(isinstance(a, ast.Starred), self.expr(a.value if isinstance(a, ast.Starred) else a))
               for a in node.args]
        kws = [(k.arg, self.expr(k.value)) for k in node.keywords]
        recorder = ctx.recorder

        def ev(f):
            fn = func(f)
            args = []
            for star, e in pos:
                if star:
                    args.extend(ctx.iterate(e(f)))
                else:
                    args.append(e(f))
            kwargs = {}
            for k, e in kws:
                if k is None:
                    m = e(f)
                    if not hasattr(m, "keys"):
                        raise TypeError("argument after ** must be a mapping, not " + type(m).__name__)
                    for key in m.keys():
                        if key in kwargs:
                            raise TypeError(f"got multiple values for keyword argument '{key}'")
                        kwargs[key] = m[key]
                else:
                    kwargs[k] = e(f)
            r = call(fn, tuple(args), kwargs or None, line)
            if touched:
                recorder.on_grad_touched(line)
            return r

        return ev

    def _super(self, node):
        args = [self.expr(a) for a in node.args]
        if node.keywords or len(args) not in (0, 2):
            self.fail(node, "use super() or super(Class, self) in gradviz")
        ctx = self.ctx

        def ev(f):
            if args:
                cls, obj = args[0](f), args[1](f)
                if cls not in ctx.user_classes or not isinstance(obj, cls):
                    raise NotAllowed("super(Class, obj) needs one of your classes and an instance of it")
                return SuperProxy(cls, obj)
            fr = f
            while fr is not None:
                fn = fr.func
                if fn is not None and fn.class_cell is not None and fn.pos and fn.pos[0] in fr.vars:
                    cls = fn.class_cell[0]
                    obj = fr.vars[fn.pos[0]]
                    if cls is None or not isinstance(obj, cls):
                        raise RuntimeError("super(): no arguments")
                    return SuperProxy(cls, obj)
                fr = fr.parent
            raise NotAllowed("super() works only inside a method of a class")

        return ev

    # -- comprehensions ------------------------------------------------------------------------

    def _comprehension(self, node, make_elt):
        """Compile generators; returns (first_iter, run(frame, emit)) with a fresh scope."""
        scope = Scope("comp", self.scope)
        for g in node.generators:
            if g.is_async:
                self.fail(node, "async comprehensions aren't available in gradviz")
            _collect([g.target], scope)
        outer = self.scope
        first_iter = self.expr(node.generators[0].iter)
        self.scope = scope
        gens = []
        for i, g in enumerate(node.generators):
            it = first_iter if i == 0 else self.expr(g.iter)
            gens.append((it, self.target(g.target), tuple(self.expr(c) for c in g.ifs)))
        elt = make_elt()
        self.scope = outer
        return gens, elt

    def _comp_runner(self, gens, emit_factory):
        ctx = self.ctx
        budget = ctx.budget

        def loop(f, level, emit, first):
            it, store, ifs = gens[level]
            source = first if level == 0 else it(f)
            last = level == len(gens) - 1
            for x in source:
                budget.steps += 1
                if budget.steps >= budget.next_check:
                    budget.check()
                store(f, x)
                ok = True
                for c in ifs:
                    if not c(f):
                        ok = False
                        break
                if not ok:
                    continue
                if last:
                    emit(f)
                else:
                    loop(f, level + 1, emit, None)

        return loop

    def _comp_frame(self, f):
        return Frame({}, f.parent if f.is_class else f, f.func)

    def e_ListComp(self, node):
        gens, elt = self._comprehension(node, lambda: self.expr(node.elt))
        loop = self._comp_runner(gens, None)
        first_iter = gens[0][0]
        cap = self.ctx.budget

        if len(gens) == 1 and not gens[0][2]:
            _, store, _ = gens[0]
            budget = self.ctx.budget

            def ev_fast(f):
                source = first_iter(f)
                cf = Frame({}, f.parent if f.is_class else f, f.func)
                out = []
                append = out.append
                for x in source:
                    budget.steps += 1
                    if budget.steps >= budget.next_check:
                        budget.check()
                    store(cf, x)
                    append(elt(cf))
                return out

            return ev_fast

        def ev(f):
            source = first_iter(f)
            cf = Frame({}, f.parent if f.is_class else f, f.func)
            out = []
            loop(cf, 0, lambda fr: out.append(elt(fr)), source)
            cap.too_many(len(out), "The list")
            return out

        return ev

    def e_SetComp(self, node):
        gens, elt = self._comprehension(node, lambda: self.expr(node.elt))
        loop = self._comp_runner(gens, None)
        first_iter = gens[0][0]

        def ev(f):
            source = first_iter(f)
            cf = Frame({}, f.parent if f.is_class else f, f.func)
            out = set()
            loop(cf, 0, lambda fr: out.add(elt(fr)), source)
            return out

        return ev

    def e_DictComp(self, node):
        gens, kv = self._comprehension(
            node, lambda: (self.expr(node.key), self.expr(node.value)))
        key, value = kv
        loop = self._comp_runner(gens, None)
        first_iter = gens[0][0]

        def ev(f):
            source = first_iter(f)
            cf = Frame({}, f.parent if f.is_class else f, f.func)
            out = {}

            def emit(fr):
                out[key(fr)] = value(fr)

            loop(cf, 0, emit, source)
            return out

        return ev

    def e_GeneratorExp(self, node):
        gens, elt = self._comprehension(node, lambda: self.expr(node.elt))
        first_iter = gens[0][0]
        budget = self.ctx.budget
        depth = len(gens)

        def gen(cf, level, source):
            it, store, ifs = gens[level]
            if source is None:
                source = it(cf)
            for x in source:
                budget.steps += 1
                if budget.steps >= budget.next_check:
                    budget.check()
                store(cf, x)
                if ifs and not all(c(cf) for c in ifs):
                    continue
                if level == depth - 1:
                    yield elt(cf)
                else:
                    yield from gen(cf, level + 1, None)

        def ev(f):
            source = iter(first_iter(f))
            cf = Frame({}, f.parent if f.is_class else f, f.func)
            return gen(cf, 0, source)

        return ev

    def e_Await(self, node):
        self.fail(node, "await isn't available in gradviz")

    def e_Yield(self, node):
        self.fail(node, "generators (yield) aren't available in gradviz; build a list and return it")

    e_YieldFrom = e_Yield

    # -- functions -----------------------------------------------------------------------------

    def _function(self, node, name, args: ast.arguments, body, is_lambda):
        ctx = self.ctx
        defaults = [self.expr(d) for d in args.defaults]
        kwdefaults = [(a.arg, self.expr(d)) for a, d in zip(args.kwonlyargs, args.kw_defaults)
                      if d is not None]
        scope = Scope("function", self.scope, name)
        params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        if args.vararg:
            params.append(args.vararg.arg)
        if args.kwarg:
            params.append(args.kwarg.arg)
        if len(set(params)) != len(params):
            self.fail(node, "duplicate argument in function definition", "SyntaxError")
        scope.locals.update(params)
        if is_lambda:
            _collect([body], scope)
        else:
            for sub in ast.walk(ast.Module(body=body, type_ignores=[])):
                if isinstance(sub, (ast.Yield, ast.YieldFrom)):
                    self.fail(sub, "generators (yield) aren't available in gradviz; build a list and return it")
            _collect(body, scope)
        in_class = self.scope.kind == "class"
        outer = self.scope
        self.scope = scope
        saved = self.func_depth, self.loop_depth
        self.func_depth, self.loop_depth = self.func_depth + 1, 0
        self.qual.append(name)
        qualname = ".".join(self.qual) if not in_class else ".".join(self.qual)
        compiled = self.expr(body) if is_lambda else self.block(body)
        self.qual.pop()
        self.func_depth, self.loop_depth = saved
        self.scope = outer
        pos = tuple(a.arg for a in args.posonlyargs + args.args)
        nposonly = len(args.posonlyargs)
        kwonly = tuple(a.arg for a in args.kwonlyargs)
        vararg = args.vararg.arg if args.vararg else None
        kwarg = args.kwarg.arg if args.kwarg else None
        simple = not kwonly and vararg is None and kwarg is None

        def make(f):
            fn = UserFunction()
            fn.name = name
            fn.qualname = qualname
            fn.ctx = ctx
            fn.body = compiled
            fn.env = f.parent if f.is_class else f
            fn.pos = pos
            fn.npos = len(pos)
            fn.nposonly = nposonly
            fn.defaults = tuple(d(f) for d in defaults)
            fn.vararg = vararg
            fn.kwonly = kwonly
            fn.kwdefaults = {k: d(f) for k, d in kwdefaults}
            fn.kwarg = kwarg
            fn.simple = simple
            fn.is_lambda = is_lambda
            fn.class_cell = f.cell if f.is_class else None
            return fn

        return make


_ALLOWED_CLASSES: set[type] = set()


def _collect_allowed_classes():
    seen = set()

    def walk(ns):
        if id(ns) in seen:
            return
        seen.add(id(ns))
        for v in ns.gv_names.values():
            if isinstance(v, type):
                _ALLOWED_CLASSES.add(v)
            elif isinstance(v, Namespace):
                walk(v)

    for ns in surface.NAMESPACES.values():
        walk(ns)


_collect_allowed_classes()


def _valid_except(t) -> bool:
    if isinstance(t, tuple):
        return all(_valid_except(x) for x in t)
    return isinstance(t, type) and issubclass(t, BaseException)


def _with(f, items, i, body):
    if i == len(items):
        return body(f)
    expr, store = items[i]
    cm = expr(f)
    if not isinstance(cm, CM_TYPES):
        raise NotAllowed(
            "gradviz's with-statements accept torch.no_grad(), torch.enable_grad(), "
            "torch.set_grad_enabled(flag) and torch.inference_mode()"
        )
    value = cm.__enter__()
    if store is not None:
        store(f, value)
    try:
        r = _with(f, items, i + 1, body)
    except BaseException:
        cm.__exit__(*sys.exc_info())
        raise
    cm.__exit__(None, None, None)
    return r


def _tag(e: BaseException, stmt) -> None:
    """Remember the innermost statement line an exception passed through."""
    if getattr(e, "gv_line", None) is None and stmt is not None:
        try:
            e.gv_line = stmt.gv_line
        except (AttributeError, TypeError):
            pass


def _mentions_grad(node) -> bool:
    """``x.grad``, ``x.grad.data`` …: the target of an in-place op is a gradient."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute) and node.attr == "grad":
            return True
        node = node.value
    return False


def _describe(node) -> str:
    names = {
        "AsyncFunctionDef": "async def", "AsyncFor": "async for", "AsyncWith": "async with",
        "Await": "await", "Yield": "yield", "YieldFrom": "yield from", "Match": "match",
        "Global": "global", "Nonlocal": "nonlocal", "TryStar": "except*",
    }
    return names.get(type(node).__name__, type(node).__name__)


# --------------------------------------------------------------------------------------------
# The call dispatcher


def _make_call(ctx: RunContext) -> Callable:
    budget = ctx.budget
    cap = budget.max_elements
    on_result = ctx.on_result
    user_classes = ctx.user_classes
    guards = surface.CLASS_GUARDS
    uf = UserFunction
    icpt = Intercept

    def call_other(fn, args, kwargs):
        if isinstance(fn, type):
            if fn in user_classes:
                return fn(*args, **kwargs) if kwargs else fn(*args)
            if fn in _ALLOWED_CLASSES or fn in _BUILTIN_CLASSES:
                guard = guards.get(fn)
                if guard is not None:
                    guard(ctx, args, kwargs or {})
                if fn in _CONSUMER_CLASSES and args:
                    args = (ctx.iterate(args[0]),) + tuple(args[1:])
                if kwargs:
                    if fn not in _BUILTIN_CLASSES:
                        check_device(kwargs.get("device"))
                    return fn(*args, **kwargs)
                return fn(*args)
            raise NotAllowed(f"creating {fn.__name__} objects isn't available in gradviz")
        if isinstance(fn, nn.Module):
            if type(fn) not in user_classes:
                _module_call_check(ctx, fn, args)
            return fn(*args, **kwargs) if kwargs else fn(*args)
        t = type(fn)
        if t in user_classes or isinstance(fn, CM_TYPES) or t in (staticmethod, classmethod):
            return fn(*args, **kwargs) if kwargs else fn(*args)
        if isinstance(fn, surface.Node):
            raise NotAllowed("grad_fn nodes can't be called in gradviz; call .backward() on a tensor")
        if not callable(fn):
            raise TypeError(f"'{t.__name__}' object is not callable")
        raise NotAllowed(f"calling {t.__name__} objects isn't available in gradviz")

    def call(fn, args, kwargs, line):
        t = type(fn)
        if t is uf:
            r = fn.invoke(args, kwargs or {})
        elif t is icpt:
            r = fn.handler(ctx, line, fn.fn, args, kwargs or {})
        elif t in DIRECT:
            if args and (len(args) > 1 or type(args[0]) in TT):
                _call_scan(ctx, fn, args)
            if kwargs:
                if "device" in kwargs:
                    check_device(kwargs["device"])
                r = fn(*args, **kwargs)
            else:
                r = fn(*args)
        else:
            r = call_other(fn, args, kwargs)
        tr = type(r)
        if tr in TT:
            if r.numel() > cap:
                budget.too_many(r.numel())
        elif tr is tuple or tr is list:
            for x in r[:8]:
                if type(x) in TT and x.numel() > cap:
                    budget.too_many(x.numel())
        elif tr in NO_RECORD:
            return r
        on_result(r, line)
        return r

    return call


# Python classes a program may call (the builtins it sees, and the exceptions it may raise).
_BUILTIN_CLASSES = {list, tuple, dict, set, frozenset, int, float, str, bool, complex, range, slice,
                    enumerate, zip, map, filter, reversed, object, staticmethod, classmethod,
                    property}
_BUILTIN_CLASSES.update(getattr(builtins, k) for k in surface._EXCEPTIONS.split())
_SIZED_CONTAINERS = (list, tuple, str, dict, set, frozenset, collections.deque)
_CONSUMER_CLASSES = {list, tuple, set, frozenset, dict, collections.OrderedDict, collections.deque,
                     collections.Counter}


def _module_call_check(ctx, module, args):
    """Built-in modules with weights (Linear, Embedding, Conv …): bound the output before running."""
    if not args or type(args[0]) not in TT:
        return
    w = module.__dict__.get("_parameters", {}).get("weight")
    if w is None:
        return
    x = args[0]
    # Convolutions grow with padding and stride, not only with their weights: always dry-run them.
    if x.numel() * max(1, w.numel()) <= ctx.budget.max_elements \
            and not isinstance(module, nn.modules.conv._ConvNd):
        return
    try:
        from torch.func import functional_call

        params = {k: v.detach().to("meta") for k, v in module.named_parameters()}
        params.update({k: v.to("meta") for k, v in module.named_buffers()})
        with torch.no_grad():
            out = functional_call(module, params, tuple(surface._to_meta(a) for a in args))
        ctx.budget.too_many(surface._numel_of(out), "The module's output")
    except (LimitExceeded, NotAllowed):
        raise
    except Exception:
        pass


# --------------------------------------------------------------------------------------------
# Running a program


def _error_info(ctx: RunContext | None, e: BaseException, line: int | None, lines: list[str]) -> ErrorInfo:
    line = getattr(e, "gv_line", None) or line
    if isinstance(e, LimitExceeded):
        return ErrorInfo("LimitExceeded", e.message, line, limit=e.limit)
    if isinstance(e, NotAllowed):
        return ErrorInfo("NotAllowed", e.message, line)
    if isinstance(e, Cancelled):
        return ErrorInfo("Cancelled", "The run was cancelled.", line)
    limits = ctx.limits if ctx is not None else Limits()
    if isinstance(e, RecursionError):
        le = limit_error(limits, "max_depth", "Calls are nested too deeply")
        return ErrorInfo("LimitExceeded", le.message, line, limit="max_depth")
    if isinstance(e, MemoryError) or (isinstance(e, RuntimeError) and (
            "can't allocate memory" in str(e) or "DefaultCPUAllocator" in str(e))):
        le = limit_error(limits, "max_memory_mb", "The program ran out of memory")
        return ErrorInfo("LimitExceeded", le.message, line, limit="max_memory_mb")
    source_line = lines[line - 1] if line and 0 < line <= len(lines) else None
    message, hint = explain(e, source_line)
    if isinstance(e, NameError) and hint is None and ctx is not None:
        hint = _name_hint(ctx, e)
    return ErrorInfo(type(e).__name__, message, line, hint=hint)


def _name_hint(ctx: RunContext, e: NameError) -> str | None:
    name = getattr(e, "name", None)
    if name is None:
        text = str(e)
        if text.startswith("name '") and "'" in text[6:]:
            name = text[6:text.index("'", 6)]
    if not name:
        return None
    known = set(ctx.globals) | set(ctx.builtins)
    for fr in ctx.frames:
        known |= set(fr.vars)
    return did_you_mean(name, sorted(known))


def _syntax_error(e: SyntaxError) -> ErrorInfo:
    msg = e.msg or "invalid syntax"
    return ErrorInfo("SyntaxError", msg, e.lineno, col=e.offset)


def _release(ctx: RunContext) -> None:
    """Break the run's reference cycles so its tensors are freed at once, not by a later full GC.

    The Outcome keeps a copy of the globals; the closures of user functions still point at the
    context, which after this holds nothing big (and refuses to run: ``closed``).
    """
    ctx.closed = True
    ctx.frames.clear()
    ctx.globals.clear()
    ctx.builtins.clear()
    ctx.user_attr_cache.clear()
    ctx.call = None
    ctx.recorder = None
    ctx.on_result = None
    ctx.out = []


def run_program(source: str, limits: Limits, recorder: Recorder,
                stop_after_line: int | None = None,
                cancelled: Callable[[], bool] | None = None) -> Outcome:
    """Run ``source`` statement by statement; never raises (bugs become "InternalError")."""
    statements: list[StatementRecord] = []
    ctx: RunContext | None = None
    saved_state = None
    old_limit = sys.getrecursionlimit()
    caught: list[str] = []
    try:
        if not isinstance(source, str):
            return Outcome([], "", ErrorInfo("TypeError", "the program must be text"), {}, None)
        if len(source) > MAX_SOURCE_CHARS:
            le = limit_error(limits, "max_elements", "The program text is too long")
            msg = (f"The program is {len(source):,} characters long; gradviz runs programs of up to "
                   f"{MAX_SOURCE_CHARS:,} characters.")
            return Outcome([], "", ErrorInfo("LimitExceeded", msg, None, limit="program_size"), {}, None)
        lines = source.splitlines()
        try:
            tree = ast.parse(source, mode="exec")
        except SyntaxError as e:
            return Outcome([], "", _syntax_error(e), {}, None)
        except (RecursionError, MemoryError, ValueError) as e:
            msg = ("The program is nested too deeply for gradviz to read (too many brackets or "
                   "operators inside each other)." if not isinstance(e, ValueError) else str(e))
            return Outcome([], "", ErrorInfo("SyntaxError", msg, None), {}, None)
        if _nesting_depth(tree) > MAX_SOURCE_NESTING:
            return Outcome([], "", ErrorInfo(
                "LimitExceeded",
                f"The program is nested more than {MAX_SOURCE_NESTING} levels deep (brackets, "
                "operators or blocks inside each other); gradviz reads programs up to that depth.",
                None, limit="program_size"), {}, None)

        ctx = RunContext(limits, recorder, cancelled, lines)
        ctx.call = _make_call(ctx)
        compiler = Compiler(ctx)
        _collect(tree.body, compiler.scope)
        # Each user call nests ~20-60 Python frames of closures; AST nesting needs ~3 per level.
        sys.setrecursionlimit(max(old_limit, 3 * MAX_SOURCE_NESTING + 2000,
                                  min(60 * ctx.budget.max_depth + 2000, 30_000)))
        try:
            compiled = [(s, compiler.block([s])) for s in tree.body]
        except CompileError as e:
            return Outcome([], "", ErrorInfo(e.kind, e.message, e.line, col=e.col), {}, None)
        except RecursionError:
            return Outcome([], "", ErrorInfo(
                "SyntaxError", "The program is nested too deeply for gradviz to read.", None), {}, None)

        module_frame = Frame(ctx.globals, None)
        ctx.frames.append(module_frame)
        saved_state = surface.save_global_state()
        surface.RANDOM.seed(torch.initial_seed())  # `import random` is as repeatable as torch
        surface.CURRENT[0] = ctx
        recorder.bind(ctx.scopes)
        error = None
        stopped_at = None
        if stop_after_line is not None and compiled and compiled[0][0].lineno > stop_after_line:
            compiled = []  # the cursor is above the first statement: nothing runs
            stopped_at = 0
        with warnings.catch_warnings(record=True) as caught_w:
            warnings.simplefilter("always")
            for index, (node, run) in enumerate(compiled):
                ctx.line = node.lineno
                out_before = len(ctx.out)
                end_line = getattr(node, "end_lineno", node.lineno) or node.lineno
                ok = True
                err = None
                try:
                    run(module_frame)
                except BaseException as e:  # noqa: BLE001 - every failure becomes an ErrorInfo
                    if isinstance(e, (KeyboardInterrupt, SystemExit)) and not isinstance(e, INTERNAL):
                        err = ErrorInfo("Cancelled", "The run was interrupted.", node.lineno)
                    else:
                        err = _error_info(ctx, e, node.lineno, lines)
                    ok = False
                text = "".join(ctx.out[out_before:])
                record = StatementRecord(node.lineno, end_line, ok, text, err)
                statements.append(record)
                try:
                    recorder.on_statement(record)
                except BaseException as e:  # noqa: BLE001
                    err = err or _error_info(ctx, e, node.lineno, lines)
                    ok = False
                if not ok:
                    error = err
                    break
                if stop_after_line is not None and node.lineno <= stop_after_line:
                    nxt = tree.body[index + 1].lineno if index + 1 < len(tree.body) else None
                    if nxt is None or nxt > stop_after_line:
                        if nxt is not None:
                            stopped_at = end_line
                        break
            caught.extend(f"{w.category.__name__}: {w.message}" for w in caught_w[:50])
        return Outcome(statements, "".join(ctx.out), error, dict(ctx.globals), stopped_at, caught)
    except BaseException as e:  # noqa: BLE001 - run_program never raises
        out = "".join(ctx.out) if ctx is not None else ""
        glob = dict(ctx.globals) if ctx is not None else {}
        if isinstance(e, INTERNAL) or isinstance(e, (RecursionError, MemoryError)):
            info = _error_info(ctx, e, None, source.splitlines() if isinstance(source, str) else [])
        else:
            info = ErrorInfo("InternalError", f"gradviz failed while running the program: "
                             f"{type(e).__name__}: {e}", None)
        return Outcome(statements, out, info, glob, None, caught)
    finally:
        if ctx is not None:
            _release(ctx)
        surface.CURRENT[0] = None
        if saved_state is not None:
            surface.restore_global_state(saved_state)
        sys.setrecursionlimit(old_limit)
