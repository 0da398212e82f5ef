"""Run the pkgdrc command line as a user does: a child `python -m pkgdrc`, its output as text."""

from __future__ import annotations

import subprocess
import sys


def pkgdrc(*args: object, cwd: object = None) -> subprocess.CompletedProcess:
    """`pkgdrc ARGS...` in a child process (arguments turned to strings), stdout and stderr captured."""
    return subprocess.run(
        [sys.executable, "-m", "pkgdrc", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )
