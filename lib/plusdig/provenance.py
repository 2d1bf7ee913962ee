"""Which data files a notebook read: the hook the build uses to know what to re-execute.

When the environment variable ``PLUSDIG_READ_LOG`` names a file, every data file a loader
opens is appended to it (one absolute path per line). The build executes each notebook with
its own log and re-executes it when any file it read (or the library, or the environment)
changes. Without the variable this does nothing.
"""

from __future__ import annotations

import os
from pathlib import Path


def record_read(path: str | Path) -> None:
    """Append ``path`` to ``$PLUSDIG_READ_LOG`` if it is set."""
    log = os.environ.get("PLUSDIG_READ_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{Path(path).resolve()}\n")
