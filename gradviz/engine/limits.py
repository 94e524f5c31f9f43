"""Budgets of one run (steps, time, memory, depth, output, elements) and the errors they raise."""

from __future__ import annotations

import math
import os
import re
import resource
import time
from typing import Callable

from gradviz.core.request import Limits

#: Interpreter steps between two looks at the clock (and the cancel flag).
CHECK_EVERY = 256
#: Seconds between two looks at the resident memory (reading /proc costs ~10 µs).
MEMORY_EVERY = 0.05
#: Address space kept free below the worker's hard cap (RLIMIT_AS): a program that grows step by
#: step (an autograd graph made in a loop) is stopped with a clear message before then, because
#: torch does not survive every failed allocation: building autograd nodes past the cap
#: crashed the worker (a segmentation fault at 4.3 GB) instead of raising an error.
ADDRESS_MARGIN = 256 * 1024 * 1024
#: Longest program text accepted, in characters.
MAX_SOURCE_CHARS = 200_000
#: Deepest AST nesting accepted (Python's own parser gives up far later, our tree walk must not).
MAX_SOURCE_NESTING = 1000
#: Largest width or precision in a format spec ("{:>999999999}").
MAX_FORMAT_WIDTH = 10_000
#: Largest integer result, in bits (10**10**10 would take forever and all memory).
MAX_INT_BITS = 1_000_000

# How each limit is named and how to raise it, in plain words.
_LIMIT_WORDS = {
    "max_elements": ("the element limit", "{value:,} elements"),
    "max_steps": ("the step limit", "{value:,} interpreter steps"),
    "max_seconds": ("the time limit", "{value:g} seconds"),
    "max_memory_mb": ("the memory limit", "{value:,} MB"),
    "max_depth": ("the recursion limit", "{value:,} nested calls"),
    "max_output_chars": ("the output limit", "{value:,} printed characters"),
}


class LimitExceeded(BaseException):
    """A run went over one of its Limits; ``limit`` is the Limits field name.

    Derives from BaseException so that no ``except Exception`` in user code (or in torch) can
    swallow it.
    """

    def __init__(self, limit: str, message: str):
        super().__init__(message)
        self.limit = limit
        self.message = message


class NotAllowed(BaseException):
    """The program asked for something outside the safe surface."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Cancelled(BaseException):
    """The caller cancelled the run."""


def limit_error(limits: Limits, name: str, what: str) -> LimitExceeded:
    """A LimitExceeded for Limits field ``name``: what happened, the limit, and how to raise it."""
    words, unit = _LIMIT_WORDS.get(name, (name, "{value}"))
    value = getattr(limits, name, None)
    bound = unit.format(value=value) if value is not None else "?"
    message = (
        f"{what}: this run is over {words} ({bound}). If the program is meant to do this much, "
        f"raise Limits.{name}."
    )
    return LimitExceeded(name, message)


def _memory_bytes() -> tuple[int, int]:
    """(address space, resident memory) of this process, from /proc ((0, 0) where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            fields = fh.read().split()
        return int(fields[0]) * _PAGE, int(fields[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0, 0


def _address_cap() -> int | None:
    """The address space this run may reach before its allocations fail (None: no cap)."""
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft == resource.RLIM_INFINITY else soft - ADDRESS_MARGIN


try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
    _PAGE = 4096


class Budget:
    """Counts the steps of one run and checks time, memory and cancellation every few steps.

    ``tick()`` is on the hot path: one add and one compare until a check is due.
    """

    __slots__ = (
        "limits", "steps", "next_check", "max_steps", "deadline", "start", "mem_base",
        "mem_cap", "address_cap", "next_mem", "cancelled", "depth", "max_depth", "max_elements",
        "out_chars", "max_output",
    )

    def __init__(self, limits: Limits, cancelled: Callable[[], bool] | None = None):
        self.limits = limits
        self.steps = 0
        self.max_steps = int(limits.max_steps)
        self.next_check = min(CHECK_EVERY, self.max_steps)
        self.start = time.monotonic()
        self.deadline = self.start + float(limits.max_seconds)
        self.mem_base = _memory_bytes()[1]
        self.mem_cap = self.mem_base + int(limits.max_memory_mb) * 1024 * 1024
        self.address_cap = _address_cap()  # the worker's hard cap, less a margin
        self.next_mem = self.start
        self.cancelled = cancelled
        self.depth = 0
        self.max_depth = int(limits.max_depth)
        self.max_elements = int(limits.max_elements)
        self.out_chars = 0
        self.max_output = int(limits.max_output_chars)

    def tick(self, n: int = 1) -> None:
        self.steps += n
        if self.steps >= self.next_check:
            self.check()

    def check(self) -> None:
        """The periodic look at steps, clock, cancel flag and memory."""
        if self.steps >= self.max_steps:
            raise limit_error(self.limits, "max_steps", "The program ran too many steps")
        self.next_check = min(self.steps + CHECK_EVERY, self.max_steps)
        now = time.monotonic()
        if now >= self.deadline:
            raise limit_error(self.limits, "max_seconds", "The program ran too long")
        if self.cancelled is not None and self.cancelled():
            raise Cancelled()
        if now >= self.next_mem:
            self.next_mem = now + MEMORY_EVERY
            self.check_memory()

    def check_memory(self) -> None:
        address, rss = _memory_bytes()
        if (rss and rss > self.mem_cap) or (address and self.address_cap is not None and address > self.address_cap):
            raise limit_error(self.limits, "max_memory_mb", "The program used too much memory")

    def too_many(self, count: int, what: str = "The result") -> None:
        """Refuse a tensor, list or string of ``count`` elements when over the element limit."""
        if count > self.max_elements:
            raise limit_error(
                self.limits, "max_elements", f"{what} would have {count:,} elements"
            )

    def output(self, n: int) -> None:
        self.out_chars += n
        if self.out_chars > self.max_output:
            raise limit_error(self.limits, "max_output_chars", "The program printed too much")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            self.depth -= 1
            raise limit_error(self.limits, "max_depth", "Function calls are nested too deeply")

    def leave(self) -> None:
        self.depth -= 1


# Widths and precisions in a format spec, "%" format, or str method argument.
_SPEC_NUMBERS = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def check_format_spec(budget: Budget, spec: str) -> None:
    """Refuse format specs with huge widths or precisions (``f"{x:>999999999}"``)."""
    if not spec:
        return
    for number in _SPEC_NUMBERS.findall(spec):
        if len(number) > 5 or int(number) > MAX_FORMAT_WIDTH:
            raise limit_error(
                budget.limits, "max_output_chars",
                f"The format spec {spec[:40]!r} asks for a width of {number[:20]} characters",
            )


def check_percent_format(budget: Budget, fmt: str) -> None:
    """Refuse ``"%999999999d" % x`` and ``"%*d"`` (width taken from the arguments)."""
    if "%" not in fmt:
        return
    for width, precision in _PERCENT_SPEC.findall(fmt):
        for part in (width, precision):
            if part == "*":
                raise limit_error(
                    budget.limits, "max_output_chars", "A '%*' width in a format string"
                )
            if part and (len(part) > 5 or int(part) > MAX_FORMAT_WIDTH):
                raise limit_error(
                    budget.limits, "max_output_chars", f"The format width {part[:20]}"
                )


def check_int_pow(budget: Budget, base: int, exp: int) -> None:
    """Refuse integer powers whose result would have more than MAX_INT_BITS bits."""
    if exp <= 0 or base in (0, 1, -1):
        return
    bits = exp * math.log2(abs(base)) if abs(base) > 1 else 0
    if bits > MAX_INT_BITS:
        raise limit_error(
            budget.limits, "max_elements",
            f"The integer {base}**{exp} would have about {int(bits / 3.32):,} digits",
        )


def check_int_bits(budget: Budget, bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise limit_error(
            budget.limits, "max_elements", f"{what} would have about {int(bits / 3.32):,} digits"
        )
