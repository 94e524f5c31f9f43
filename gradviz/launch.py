"""The ``gradviz`` console entry point (also ``python -m gradviz``): start, run the command line, exit.

A headless command (``inspect``, ``render``) is one short process, arranged for speed:
- the engine worker starts before anything else, so torch loads there while this process imports
  the rest of gradviz, parses the arguments and reads the file;
- the cyclic garbage collector stays off: nothing it could free matters before the end;
- it ends with ``os._exit`` once its output is written and its files closed, skipping the freeing
  of what it made and Python's teardown of Qt and numpy (a noticeable part of a big render).
The app starts its worker itself and exits normally.
"""

from __future__ import annotations

import gc
import os
import sys

from gradviz import HEADLESS


def run() -> None:
    argv = sys.argv[1:]
    headless = bool(argv) and argv[0] in HEADLESS
    worker = None
    if headless:
        gc.disable()
    if headless and not {"-h", "--help"} & set(argv[1:]):
        from gradviz.engine.process import start_worker

        worker = start_worker()
    try:
        from gradviz.cli import main

        code = main(argv, exiting=headless, worker=worker)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()  # unused (the arguments or the file were unusable), or done and told to exit
    if headless:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
