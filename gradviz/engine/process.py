"""Starting the engine worker process: the standard library only, so a command can start it first thing.

Loading torch in the worker takes over a second; a headless command starts the worker before it
imports the rest of gradviz, parses its arguments and reads its file (``gradviz.launch``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def start_worker(python: str | None = None) -> subprocess.Popen:
    """A new engine worker (``gradviz.engine.worker``), its stdin, stdout and stderr piped as text."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
    # One intra-op thread: teaching programs are made of small tensors, where a second
    # thread only adds spinning, and the app's own thread keeps a core to itself. Under
    # load, two threads made a 5,000-node program 10-40x slower here (0.2 s vs 2-10 s).
    env["OMP_NUM_THREADS"] = env.get("GRADVIZ_THREADS", "1")
    return subprocess.Popen(
        [python or sys.executable, "-m", "gradviz.engine.worker"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, cwd=package_root, text=True, encoding="utf-8", bufsize=1,
    )
