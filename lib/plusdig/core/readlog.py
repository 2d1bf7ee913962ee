"""The read log: which data files a notebook read (``PLUSDIG_READ_LOG``).

When the environment variable ``PLUSDIG_READ_LOG`` names a file, every data file a loader opens
is appended to it (one absolute path per line). The build (:mod:`plusdig.sphinx.execute`)
executes each notebook with its own log and re-executes it when any file it read changes.
Without the variable :func:`record_read` does nothing. Every loader imports this module, so it
imports nothing heavy.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["record_read"]


def record_read(path: str | Path) -> None:
    """Append ``path`` to ``$PLUSDIG_READ_LOG`` if it is set."""
    log = os.environ.get("PLUSDIG_READ_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{Path(path).resolve()}\n")
