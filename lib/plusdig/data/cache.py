"""Loaders' results remembered for the rest of the process, keyed by the files they read.

A chapter calls the same loaders many times (the foreword: ``load_actors`` 19 times,
``load_activities`` 10 times, every data file validated twice by ``catalogue``), and each
call reads, parses and validates its files again. A function decorated with :func:`memoised`
runs once per set of file contents: its result is kept (pickled) with the path and SHA-256 of
every data file it read (:func:`plusdig.data.readers.read_bytes` reports each read here, the
reads of the memoised functions it calls included). A later call with the same arguments and
data folder reads those files again; if every one has the same bytes, the caller gets a fresh
copy of the result (unpickled: no caller can change what another gets), and each file is
recorded in the read log (``PLUSDIG_READ_LOG``) as the call itself would have recorded it.
Anything else (a changed, new or missing file, an error) runs the function as without the
memo; an error is never remembered.

The key is the function, its arguments (by ``repr``: give it arguments whose ``repr`` is
their value, paths and numbers), the data folder and every ``PLUSDIG_*`` setting. Only
functions whose result depends on nothing but these and the files they read through
:mod:`plusdig.data.readers` may be decorated (no probing whether an optional file exists). Nothing is kept across processes: each notebook's
kernel starts empty.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

__all__ = ["memoised", "note_read", "clear"]

F = TypeVar("F", bound=Callable[..., Any])

#: key -> (the files read: ((path, sha256), ...), the pickled result)
_MEMO: dict[tuple[str, ...], tuple[tuple[tuple[str, str], ...], bytes]] = {}
#: The files read by each memoised call under way (innermost last).
_FRAMES: list[dict[str, str]] = []


def note_read(path: Path, data: bytes) -> None:
    """Tell the memoised calls under way that ``path`` was read with the bytes ``data``."""
    if _FRAMES:
        digest = hashlib.sha256(data).hexdigest()
        for frame in _FRAMES:
            frame[str(path)] = digest


def clear() -> None:
    """Forget every remembered result."""
    _MEMO.clear()


def _unchanged(reads: tuple[tuple[str, str], ...]) -> bool:
    for path, digest in reads:
        try:
            data = Path(path).read_bytes()
        except OSError:
            return False
        if hashlib.sha256(data).hexdigest() != digest:
            return False
    return True


#: ``PLUSDIG_*`` variables that name where to log, not what to compute (kept out of the keys).
_NOT_SETTINGS = frozenset({"PLUSDIG_READ_LOG", "PLUSDIG_FIGURE_MEMO"})


def _settings() -> tuple[tuple[str, str], ...]:
    """The ``PLUSDIG_*`` settings (survey file, mapping, threshold, keys ...): part of every key."""
    return tuple(sorted((k, v) for k, v in os.environ.items()
                        if k.startswith("PLUSDIG_") and k not in _NOT_SETTINGS))


def memoised(fn: F) -> F:
    """Remember ``fn``'s result per arguments, data folder and content of the files it reads."""
    from plusdig.core.paths import data_dir
    from plusdig.core.readlog import record_read

    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = (name, repr(args), repr(sorted(kwargs.items())), str(data_dir()),
               repr(_settings()))
        entry = _MEMO.get(key)
        if entry is not None and _unchanged(entry[0]):
            for path, digest in entry[0]:  # as the call would have: logged, and seen by callers
                record_read(path)
                for frame in _FRAMES:
                    frame[path] = digest
            return pickle.loads(entry[1])  # noqa: S301 - our own pickle of our own result
        frame: dict[str, str] = {}
        _FRAMES.append(frame)
        try:
            result = fn(*args, **kwargs)
        finally:
            _FRAMES.pop()
        try:  # pickled now: what the caller then does with ``result`` is not remembered
            _MEMO[key] = (tuple(sorted(frame.items())),
                          pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError):
            pass
        return result

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return cast(F, wrapper)
