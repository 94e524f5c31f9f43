"""Pausing Python's cyclic garbage collector around bulk work that makes no reference cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, then restore it as it was.

    Building or converting a 5,000-node record allocates a hundred thousand small objects; with
    the collector on, that triggers full collections that scan every object of the process (a
    process with torch or Qt loaded holds millions), costing more than the work itself.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
