"""Which kernel server a build's notebooks are forked from, when it starts, and in what order
the stale notebooks run (:func:`plusdig.sphinx.execute.prepare`).

- **Early start**: a build with no dependency state (a clean one: every notebook will run),
  or one in which a notebook will likely run (its code, the data, the library or a setting
  changed since the last successful build: :func:`plusdig.sphinx.inputs.notebooks_may_run`),
  starts its kernel server before jupyter-book is even imported (:func:`start_early`, called
  by :func:`plusdig.sphinx.inputs.build_unless_unchanged`), so the server's imports (pandas, matplotlib ...)
  run on the other core while Sphinx sets itself up, instead of after it, on the build's
  critical path (a code edit's build: the one notebook no longer waits about 2.5 s for the
  server). A server started early and never used ends with the build (its stdin is the
  build's pipe).
- **Order**: the slowest notebook first, so that it does not start last and leave one core
  idle at the end: by the last run's time; a notebook never run (all of them in a clean
  build) before every timed one, those with the most code cells first.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["start_early", "kernel_server", "stop", "run_order"]

_EARLY: list[Any] = []  # the server start_early started, until a build takes it


def start_early(state_file: Path, likely: bool = False) -> None:
    """Start the kernel server now if the build's dependency state file ``state_file`` does
    not exist (every notebook will run) or a notebook will ``likely`` run; else do nothing."""
    from plusdig.sphinx.forkserver import SERVER_ENV, ForkServer

    if _EARLY or os.environ.get("PLUSDIG_COLD_KERNELS") == "1" or os.environ.get(SERVER_ENV) \
            or (state_file.exists() and not likely):
        return
    try:
        _EARLY.append(ForkServer.start(tempfile.mkdtemp(prefix="pdz-"), wait=False))
    except OSError:
        return  # started as before, when the notebooks run


def kernel_server() -> tuple[Any, Any]:
    """The kernel server to fork the notebooks' kernels from, and the one to stop afterwards.

    The one named by ``$PLUSDIG_KERNEL_SERVER`` (the preview keeps one running), else the one
    :func:`start_early` started, else one started now; none (cold kernels, one ``python -m
    ipykernel_launcher`` each) with ``PLUSDIG_COLD_KERNELS=1``.
    """
    if os.environ.get("PLUSDIG_COLD_KERNELS") == "1":
        return None, None
    from plusdig.sphinx.forkserver import ForkServer

    running = ForkServer.from_env()
    if running is not None:
        return running, None
    try:
        if _EARLY:
            server = _EARLY.pop()
            server.wait_ready()
            return server, server
        started = ForkServer.start(tempfile.mkdtemp(prefix="pdz-"))
    except (OSError, RuntimeError):
        return None, None  # cold kernels then
    return started, started


def stop(server: Any) -> None:
    """Stop a server :func:`kernel_server` started and remove its folder."""
    server.stop()
    shutil.rmtree(Path(server.path).parent, ignore_errors=True)


def _code_cells(path: str) -> int:
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return 0
    return sum(1 for c in cells if isinstance(c, dict) and c.get("cell_type") == "code")


def run_order(stale: Sequence[str], seconds: dict[str, float | None]) -> list[str]:
    """``stale`` notebooks, the slowest first: by ``seconds`` (the last run's time, None if
    never run: first), then by their number of code cells; ties keep their order."""
    def key(path: str) -> tuple[float, int]:
        last = seconds.get(path)
        return (-(last if last is not None else float("inf")), -_code_cells(path))

    return sorted(stale, key=key)
