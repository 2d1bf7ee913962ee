"""Memo folders: files a build keeps, by a digest of what made them, to skip repeated work.

Used for the downloads' XLSX workbooks (:func:`plusdig.publish.downloads.xlsx_bytes_memo`)
and for figure layouts and renders (:mod:`plusdig.present.figmemo`). An entry is written to a
temporary file and renamed, and carries the SHA-256 of its content, checked on reading: a
corrupt or partial entry is never used. An entry no run used for a week is removed (once per
process and folder, when the first entry is written there). A memo that cannot be read or
written is a memo that is not used: the caller makes the value anew.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

__all__ = ["KEEP_S", "read_entry", "write_entry"]

#: An entry no run used for this long (seconds) is removed.
KEEP_S = 7 * 24 * 3600
_pruned: set[Path] = set()


def read_entry(path: Path) -> bytes | None:
    """The entry's content (and marks it used), or None: missing, or not its own digest."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    content = raw[32:]
    if len(raw) < 32 or hashlib.sha256(content).digest() != raw[:32]:
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    return content


def write_entry(path: Path, content: bytes) -> None:
    """Write the entry in one rename (its digest first); forget the folder's old entries."""
    try:
        folder = path.parent
        folder.mkdir(parents=True, exist_ok=True)
        if folder not in _pruned:
            _pruned.add(folder)
            cutoff = time.time() - KEEP_S
            for old in folder.iterdir():
                if old.stat().st_mtime < cutoff:
                    old.unlink(missing_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(hashlib.sha256(content).digest() + content)
        tmp.replace(path)
    except OSError:
        pass
