"""Limits a run cannot talk its way out of: the deadline, memory and cancel watchdog, and the limit errors.

The program is real Python in a contained process, so limits come from outside its code: a
watchdog thread raises an exception into the program's thread at the deadline, past the memory
limit, or when the run is cancelled; the worker caps its address space; the client kills the
worker when a single native call runs past the deadline (``gradviz.engine.client``).
"""

from __future__ import annotations

import ctypes
import os
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

from gradviz.core.i18n import _N, t
from gradviz.core.request import Limits, how_to_raise

#: Seconds between two looks of the watchdog (clock, cancel flag, memory).
WATCH_EVERY = 0.02
#: Seconds between two exceptions raised into a program that swallowed the first one.
RAISE_AGAIN_EVERY = 0.5
#: Address space kept free below the worker's hard cap (RLIMIT_AS): a program that grows step by
#: step (an autograd graph made in a loop) is stopped with a clear message before then, because
#: torch does not survive every failed allocation: building autograd nodes past the cap
#: crashed the worker (a segmentation fault at 4.3 GB) instead of raising an error.
ADDRESS_MARGIN = 256 * 1024 * 1024

# How each limit is named and how to raise it, in plain words (translated when a message is made).
_LIMIT_WORDS = {
    "max_seconds": (_N("the time limit"), _N("{value:g} seconds")),
    "max_memory_mb": (_N("the memory limit"), _N("{value:,} MB")),
    "max_elements": (_N("the tensor size limit"), _N("{value:,} elements in one tensor")),
    "max_steps": (_N("the operation limit"), _N("{value:,} torch operations")),
    "max_output_chars": (_N("the output limit"), _N("{value:,} printed characters")),
    "max_result_mb": (_N("the result limit"), _N("{value:,} MB")),
}


class LimitExceeded(BaseException):
    """A run went over one of its Limits; ``limit`` is the Limits field name.

    Derives from BaseException so that an ``except Exception`` in the program (or in torch)
    does not swallow it.
    """

    def __init__(self, limit: str = "", message: str = ""):
        super().__init__(message)
        self.limit = limit
        self.message = message


class Cancelled(BaseException):
    """The caller cancelled the run."""


def limit_error(limits: Limits, name: str, what: str) -> LimitExceeded:
    """A LimitExceeded for Limits field ``name``: what happened (``what``, in the run's language),
    the limit, and how to raise it."""
    words, unit = _LIMIT_WORDS.get(name, (name, "{value}"))
    value = getattr(limits, name, None)
    bound = t(unit, value=value) if value is not None else "?"
    message = t("{what}: this run is over {words} ({bound}). If the program is meant to do this much, {how}.",
                what=what, words=t(words), bound=bound, how=how_to_raise(name))
    return LimitExceeded(name, message)


# Raised into the program's thread by the watchdog: Python makes the instance (no arguments).
class _TimeUp(LimitExceeded):
    pass


class _OutOfMemory(LimitExceeded):
    pass


class _CancelledFromOutside(Cancelled):
    pass


try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
    _PAGE = 4096


def memory_bytes() -> tuple[int, int]:
    """(address space, resident memory) of this process, from /proc ((0, 0) where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            fields = fh.read().split()
        return int(fields[0]) * _PAGE, int(fields[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0, 0


def address_cap() -> int | None:
    """The address space this run may reach before its allocations fail (None: no cap)."""
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft == resource.RLIM_INFINITY else soft - ADDRESS_MARGIN


_active: Watchdog | None = None  # the watchdog of the run under way in this process

# Never called with NULL to withdraw an exception: that leaves the interpreter's "pending" flag set
# for good, and every later bytecode check goes the slow way (every run slower, and a profiler
# that never returned). A raised exception is always delivered instead (Watchdog.disarm).
_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


def held_off():
    """``Watchdog.held_off`` of the watchdog of the run under way (a no-op outside a run)."""
    return _active.held_off() if _active is not None else nullcontext()


class Watchdog:
    """Stops the program's thread from outside its code: deadline, memory limit, cancellation.

    Used around the statements of a run: ``arm()`` while the program's code runs, ``disarm()``
    while gradviz does its own bookkeeping, so the exception only ever lands in the program (or
    in what it called). An exception the program swallows is raised again every
    RAISE_AGAIN_EVERY seconds; a native call that never returns is the client's to end.
    """

    def __init__(self, limits: Limits, cancelled: Callable[[], bool] | None = None):
        self.limits = limits
        self.cancelled = cancelled
        self.fired: type[BaseException] | None = None
        self._lock = threading.Lock()
        self._armed = False
        self._stop = threading.Event()
        self._last_raise = 0.0
        self._raised = False  # raised since the last disarm: may not be delivered yet

    def __enter__(self) -> Watchdog:
        global _active
        _active = self
        self._target = threading.get_ident()
        self.deadline = time.monotonic() + float(self.limits.max_seconds)
        self.memory_cap = memory_bytes()[1] + int(self.limits.max_memory_mb) * 1024 * 1024
        self.address_cap = address_cap()
        self._thread = threading.Thread(target=self._watch, name="gradviz-watchdog", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        global _active
        self.disarm()
        self._stop.set()
        self._thread.join()
        _active = None

    def arm(self) -> None:
        with self._lock:
            self._armed = True

    def disarm(self) -> None:
        """No more exceptions from here on; one raised but not yet delivered is taken here.

        It was raised as the program's statement ended: that statement is done, and the next one
        meets the limit again. One landing anywhere in here is taken too (and the work redone).
        """
        while True:
            try:
                with self._lock:
                    self._armed = False
                    raised, self._raised = self._raised, False
                if raised:
                    for _ in range(64):  # a loop's backward jump is where a pending exception lands
                        pass
                return
            except (_TimeUp, _OutOfMemory, _CancelledFromOutside):
                continue

    @contextmanager
    def held_off(self) -> Iterator[None]:
        """No exception from the watchdog inside the block: gradviz's own writes that happen inside the
        program's calls (a graph sent as a backward call starts) are never cut in half."""
        armed = self._armed
        if armed:
            self.disarm()
        try:
            yield
        finally:
            if armed:
                self.arm()

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_EVERY):
            why = self._why()
            if why is None:
                continue
            now = time.monotonic()
            with self._lock:
                if self._armed and (self.fired is None or now - self._last_raise >= RAISE_AGAIN_EVERY):
                    self.fired = self.fired or why
                    self._last_raise = now
                    self._raised = True
                    _set_async_exc(self._target, self.fired)

    def _why(self) -> type[BaseException] | None:
        if time.monotonic() >= self.deadline:
            return _TimeUp
        if self.cancelled is not None and self.cancelled():
            return _CancelledFromOutside
        address, rss = memory_bytes()
        if rss > self.memory_cap or (address and self.address_cap is not None and address > self.address_cap):
            return _OutOfMemory
        return None

    def reason(self, exc: BaseException) -> BaseException:
        """The error to report for ``exc``: the watchdog's own exceptions become plain-worded limit errors."""
        if isinstance(exc, _TimeUp):
            plain: BaseException = limit_error(self.limits, "max_seconds", t("The program ran too long"))
        elif isinstance(exc, _OutOfMemory):
            plain = limit_error(self.limits, "max_memory_mb", t("The program used too much memory"))
        elif isinstance(exc, _CancelledFromOutside):
            plain = Cancelled()
        else:
            return exc
        return plain.with_traceback(exc.__traceback__)  # keeps the line the program was on
