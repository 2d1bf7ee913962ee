"""``python -m stderr_apart FILE MODULE ARGS...``: ``python -m MODULE ARGS`` with its standard
error written to FILE, its standard output where this process's goes.

For :func:`buildkit.run_module_apart`: a command forked from the tests' build server (whose
child writes both streams to one file) with the two streams kept apart, as
``subprocess.run(..., capture_output=True)`` keeps them. This file's folder, which
``$PYTHONPATH`` names first so that ``python -m`` finds it, is taken off ``sys.path`` and
``$PYTHONPATH`` again: MODULE runs with exactly the environment it was given.
"""

from __future__ import annotations

import os
import runpy
import sys


def main() -> None:
    path, module, *argv = sys.argv[1:]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stderr.flush()
    os.dup2(fd, 2)
    os.close(fd)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
            if p and os.path.abspath(p) != here]
    if rest:
        os.environ["PYTHONPATH"] = os.pathsep.join(rest)
    else:
        os.environ.pop("PYTHONPATH", None)
    sys.argv = [module, *argv]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
