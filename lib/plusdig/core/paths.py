"""Where the book's data lives.

The data folder is ``data/`` at the repository root. ``PLUSDIG_DATA`` overrides it
(tests build on temporary copies this way); nothing else in the library hard-codes a path.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    """Return the data folder: ``$PLUSDIG_DATA`` if set, else ``<repo>/data``."""
    env = os.environ.get("PLUSDIG_DATA")
    return Path(env).resolve() if env else REPO_ROOT / "data"
