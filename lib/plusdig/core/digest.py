"""SHA-256 digests of files and folders, memoised during a build's preparation."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["file_digest", "tree_digest", "library_digest", "memoised"]

#: Digests already computed inside :func:`memoised` (None outside it): several notebooks
#: read the same files, and a file is hashed once per build.
_DIGESTS: dict[str, str] | None = None


# --------------------------------------------------------------------------- hashing
def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, or ``"missing"`` if it does not exist."""
    p = Path(path)
    if _DIGESTS is not None and str(p) in _DIGESTS:
        return _DIGESTS[str(p)]
    if not p.is_file():
        return "missing"
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    if _DIGESTS is not None:
        _DIGESTS[str(p)] = digest
    return digest


def tree_digest(root: Path, suffixes: Sequence[str] | None = None,
                exclude_dirs: Iterable[str] = ("__pycache__", "private")) -> str:
    """SHA-256 over the relative paths and contents of the files under ``root``."""
    excluded = set(exclude_dirs)
    h = hashlib.sha256()
    if root.is_dir():
        files = sorted(
            p for p in root.rglob("*")
            if p.is_file() and not excluded.intersection(p.relative_to(root).parts[:-1])
            and (suffixes is None or p.suffix in suffixes)
        )
        for p in files:
            h.update(f"{p.relative_to(root).as_posix()}\0{file_digest(p)}\n".encode())
    return h.hexdigest()


def library_digest() -> str:
    """SHA-256 over the library's code (every ``.py`` file of ``lib/plusdig``): what a page
    read, or an audit passed, with other code cannot claim."""
    return tree_digest(Path(__file__).resolve().parents[1], suffixes=(".py",))


@contextmanager
def memoised() -> Iterator[None]:
    """Hash each file once inside the block (the build's preparation); forget it afterwards."""
    global _DIGESTS
    _DIGESTS = {}
    try:
        yield
    finally:
        _DIGESTS = None
