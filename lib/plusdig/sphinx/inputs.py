"""The no-change fast path: a book build whose inputs did not change is not run again.

``make book`` and ``make preview`` build through ``python -m plusdig.sphinx.build jb build ...``.
Before Jupyter Book and Sphinx start, :func:`build_unless_unchanged` takes a digest of every
input of the HTML site (:func:`input_digest`): the content of every file of the book's folder
(the book's sources, ``data/``, ``lib/``, ``_config.yml``, ``_toc.yml``, ``references.bib``,
``requirements.txt``, the vendored files, the released editions by size and time ...; only
environments, caches, ``.git`` and ``_build`` are left out), the git commit (the colophon
names it), the site's PDF, the data folder and every file named by a ``PLUSDIG_*`` setting
(the survey delivery) by content, the environment's settings that change the output, the
Python and the installed distributions, and the build's own arguments.

A successful build leaves a *stamp* next to the site (``<output>/_build/.plusdig-inputs.json``)
with that digest, taken before it started (a file changed while it ran makes the next build
run), and the state of what it left: the site's generation id, Sphinx's saved environment, and
Jupyter Book's cache. The next build with the same digest and the same state does nothing and
says so. Every other build removes the stamp before it starts, so an interrupted or failed
build leaves none, and a build with arguments this module does not know (another builder,
``--all``, ``--config`` ...) always runs. ``PLUSDIG_BUILD_PAUSE`` (the integrity tests'
interrupts) always builds too.

The stamp also keeps the build's *surroundings* digest (everything but the pages' sources) and
a digest of each notebook's code (:func:`code_digests`). A build that has to run starts its
kernel server at once, before Jupyter Book is imported, when a notebook will likely run: no
dependency state yet (a clean build), the surroundings changed (data, library, settings ...),
or a notebook's code did (:func:`plusdig.sphinx.kernels.start_early`). An edit of text only
starts none.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from plusdig.core.digest import file_digest

__all__ = ["STAMP", "book_cache_path", "input_digest", "build_unless_unchanged", "surroundings",
           "exit_fast"]

#: The stamp of the last successful build, under ``<output>/_build``.
STAMP = ".plusdig-inputs.json"
#: Folders of the book's folder that are not inputs: environments, caches, build output, git.
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "_build", ".bench",
                       ".pytest_cache", ".ruff_cache", ".mypy_cache", "__pycache__",
                       ".ipynb_checkpoints", ".jupyter_cache"})
#: Folders taken by file size and modification time, not content: the released editions'
#: built sites (large, written only by ``make release``).
STAT_DIRS = frozenset({"udgaver"})
#: Settings besides ``PLUSDIG_*`` that can change what a build writes.
ENV_NAMES = ("SOURCE_DATE_EPOCH", "PYTHONPATH", "PYTHONHASHSEED", "PATH", "LANG", "LC_ALL",
             "LANGUAGE", "TZ", "HOME")
ENV_PREFIXES = ("PLUSDIG_", "JUPYTER", "SPHINX", "JB_", "MPL", "IPYTHON")
#: ``jupyter-book build`` flags the stamp covers (they are in the digest); any other
#: argument means the build always runs.
_FLAGS = frozenset({"-n", "-W", "--keep-going", "-q", "--quiet"})
#: The pages' sources: left out of the *surroundings* (:func:`surroundings`).
PAGE_SUFFIXES = (".ipynb", ".md")
#: Settings that name the preview's servers, not settings of the book.
_NOT_INPUTS = frozenset({"PLUSDIG_KERNEL_SERVER", "PLUSDIG_BUILD_STANDBY"})
#: Set by a standby build while it waits (:func:`standby_waiting`).
_STANDBY_WAITING = [False]
#: This process's surroundings digest, set by :func:`build_unless_unchanged`.
_SURROUNDINGS: list[str] = []


def _site_build(args: Sequence[str]) -> tuple[Path, Path, bool] | None:
    """``(book folder, output folder, covered)`` of a ``jupyter-book build``; ``covered`` if it
    is an HTML build with arguments the stamp can cover. None for other commands."""
    if not args or args[0] != "build":
        return None
    src: str | None = None
    out: str | None = None
    covered = True
    rest = list(args[1:])
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg in ("--path-output", "--builder") and i + 1 < len(rest):
            if arg == "--builder" and rest[i + 1] != "html":
                covered = False
            if arg == "--path-output":
                out = rest[i + 1]
            i += 1
        elif arg.startswith("--path-output="):
            out = arg.split("=", 1)[1]
        elif not arg.startswith("-") and src is None:
            src = arg
        elif arg not in _FLAGS:
            covered = False
        i += 1
    if src is None or not Path(src).is_dir():
        return None
    return Path(src).resolve(), Path(out or src).resolve(), covered


def _files(root: Path) -> Iterator[tuple[str, Path, bool]]:
    """``(relative path, path, by content)`` of every input file under ``root``, sorted."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel_dir = Path(dirpath).relative_to(root)
        by_content = not STAT_DIRS.intersection(rel_dir.parts)
        for name in sorted(filenames):
            yield (rel_dir / name).as_posix(), Path(dirpath) / name, by_content


def _tree(h: hashlib._Hash, root: Path, label: str, around: hashlib._Hash | None = None,
          pages: bool = False) -> None:
    """Every file under ``root`` into ``h``, and into ``around`` unless ``pages`` (``root`` is
    the book's folder) and it is a page's source."""
    for rel, path, by_content in _files(root):
        try:
            if by_content:
                mark = file_digest(path)
            else:
                st = path.stat()
                mark = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:  # vanished while hashed (an editor's temporary file)
            mark = "unreadable"
        line = f"{label}/{rel}\0{mark}\n".encode()
        h.update(line)
        if around is not None and not (pages and rel.endswith(PAGE_SUFFIXES)):
            around.update(line)


def _git_head(src: Path) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(src), "rev-parse", "--show-toplevel", "HEAD"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "no git"
    return f"{proc.returncode}:{proc.stdout.strip()}"  # also a repository without a commit


def input_digest(src: Path, out: Path, args: Sequence[str]) -> str:
    """SHA-256 over every input of the HTML build of ``src`` into ``out`` (see module doc)."""
    return input_digests(src, out, args)[0]


def input_digests(src: Path, out: Path, args: Sequence[str]) -> tuple[str, str]:
    """:func:`input_digest`, and the same without the pages' sources (``*.ipynb``, ``*.md``
    under the book's folder): the *surroundings* of the pages, which
    :mod:`plusdig.sphinx.partial` compares to decide whether unchanged pages can be kept."""
    from plusdig.core.paths import data_dir
    from plusdig.sphinx.execute import environment_fingerprint

    h = hashlib.sha256()
    env = {k: v for k, v in sorted(os.environ.items())
           if k in ENV_NAMES or (k.startswith(ENV_PREFIXES) and k not in _NOT_INPUTS)}
    h.update(json.dumps({
        "args": [str(src), str(out), *args[2:]],
        "python": [sys.executable, sys.version],
        "cwd": os.getcwd(),
        "env": env,
        "environment": environment_fingerprint(src),  # distributions, survey file ...
        "git": _git_head(src),
    }, sort_keys=True).encode())
    around = h.copy()
    _tree(h, src, "book", around, pages=True)
    data = data_dir()
    if data.is_dir() and not data.resolve().is_relative_to(src):
        _tree(h, data.resolve(), "data", around)
    for key, value in env.items():  # a folder named by a setting (a file is in the fingerprint)
        if key.startswith("PLUSDIG_") and value and Path(value).is_dir():
            _tree(h, Path(value).resolve(), key, around)
    pdf_dir = out / "_build" / "pdf"  # the site's PDF (copied into the site, or noticed as old)
    if pdf_dir.is_dir():
        for rel, path, _ in _files(pdf_dir):
            st = path.stat()
            line = f"pdf/{rel}\0{st.st_size}:{st.st_mtime_ns}\n".encode()
            h.update(line)
            around.update(line)
    return h.hexdigest(), around.hexdigest()


def standby_waiting() -> bool:
    """True in a standby build (:mod:`plusdig.sphinx.standby`) until it is told to go: nothing
    may depend on the edit yet (no notebook runs)."""
    return _STANDBY_WAITING[0]


def surroundings() -> str | None:
    """The surroundings digest of the build running in this process (:func:`input_digests`),
    or None when it was not taken (a build not started by :func:`build_unless_unchanged`, or
    one the stamp does not cover): such a build writes every page."""
    return _SURROUNDINGS[-1] if _SURROUNDINGS else None


def book_cache_path(srcdir: Path, path_output: str | None) -> Path:
    """Jupyter Book's cache folder for a build of ``srcdir`` (``execute.cache`` in
    ``_config.yml``, else ``<output>/_build/.jupyter_cache``)."""
    import yaml

    with (srcdir / "_config.yml").open(encoding="utf-8") as f:  # a YAML error names the file
        cfg = yaml.safe_load(f) or {}
    configured = (cfg.get("execute") or {}).get("cache")
    if configured:
        return (srcdir / configured).resolve()
    base = Path(path_output).resolve() if path_output else srcdir
    return base / "_build" / ".jupyter_cache"


def _state(src: Path, out: Path) -> dict[str, str] | None:
    """What a build left that the next must find unchanged (None: no published site)."""
    build = out / "_build"
    generation = build / "html" / ".plusdig-generation"
    if not generation.is_file() or not (build / "html" / "index.html").is_file():
        return None
    cache = book_cache_path(src, str(out))
    state = {"generation": generation.read_text(encoding="utf-8")}
    for key, path in (("environment", build / ".doctrees" / "environment.pickle"),
                      ("cache", cache / "global.db"), ("deps", cache / "plusdig-deps.json")):
        try:
            st = path.stat()
            state[key] = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            state[key] = "missing"
    return state


#: What a build whose inputs did not change says.
UNCHANGED = "plusdig.sphinx.build: intet er ændret siden sidste bygning; {site} er uændret."


def _stamp(stamp: Path) -> dict[str, object]:
    """What ``stamp`` holds (nothing when it is missing or not a stamp)."""
    try:
        last = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return last if isinstance(last, dict) else {}


def unchanged(stamp: Path, digest: str, state: dict[str, str] | None) -> bool:
    """True when ``stamp`` records ``digest`` and ``state`` (and there is a site)."""
    last = _stamp(stamp)
    return last.get("inputs") == digest and state is not None and last.get("state") == state


def code_digest(path: Path) -> str:
    """What of notebook ``path`` decides whether it runs again: a digest of its code cells
    (source and metadata, in order) and its kernelspec, what jupyter-cache hashes (its outputs
    and text cells are not in it). From the JSON alone: this runs before the build's imports. A
    file that is not a notebook's JSON: its bytes' digest."""
    raw = path.read_bytes()
    try:
        nb = json.loads(raw)
        part = [nb.get("metadata", {}).get("kernelspec"),
                [[c.get("source"), c.get("metadata")] for c in nb.get("cells", [])
                 if c.get("cell_type") == "code"]]
    except (ValueError, AttributeError, TypeError):
        return hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()


def code_digests(src: Path) -> dict[str, str]:
    """:func:`code_digest` of every notebook of the book's folder ``src``, by relative path
    (not the released editions' copies: they never run)."""
    digests = {}
    for rel, path, by_content in _files(src):
        if by_content and rel.endswith(".ipynb"):
            try:
                digests[rel] = code_digest(path)
            except OSError:  # vanished while read (an editor's temporary file)
                digests[rel] = "unreadable"
    return digests


def notebooks_may_run(stamp: Path, around: str, codes: dict[str, str]) -> bool:
    """True unless the last successful build's ``stamp`` has these surroundings and these
    notebooks with this code: then only text changed, and no notebook will run."""
    last = _stamp(stamp)
    return last.get("around") != around or last.get("code") != codes


def record(stamp: Path, src: Path, out: Path, digest: str, code: int, *,
           around: str | None = None, codes: dict[str, str] | None = None) -> None:
    """After a build that exited with ``code``: the stamp of ``digest`` if it succeeded, with
    the build's surroundings digest and notebooks' code digests (:func:`notebooks_may_run`)."""
    state = _state(src, out) if code == 0 else None
    if state is not None:
        tmp = stamp.with_name(stamp.name + ".tmp")
        extra = {"around": around, "code": codes} if around is not None else {}
        tmp.write_text(json.dumps({"inputs": digest, "state": state, **extra}),
                       encoding="utf-8")
        tmp.replace(stamp)


def build_unless_unchanged(args: Sequence[str], build: Callable[[list[str]], int],
                           check: Callable[[], int] | None = None) -> int:
    """Run ``build(args)`` (``jupyter-book`` arguments) unless it is an HTML build whose
    inputs and output are as the last successful build left them; return its exit code.

    ``check`` (``make book``'s data validation: ``python -m plusdig build``), if given, runs
    in every case (unchanged inputs too), before anything is built but after a clean build's
    kernel server was started (its imports run beside it on the other core); a ``check`` that
    fails (non-zero) ends the call with its code.
    """
    site = _site_build(args)
    if site is None or not site[2] or os.environ.get("PLUSDIG_BUILD_PAUSE"):
        if site is not None:
            (site[1] / "_build" / STAMP).unlink(missing_ok=True)
        return (check() if check is not None else 0) or build(list(args))
    src, out, _ = site
    stamp = out / "_build" / STAMP
    from plusdig.sphinx.execute import STATE_FILE
    from plusdig.sphinx.kernels import start_early

    state_file = book_cache_path(src, str(out)) / STATE_FILE
    if not stamp.exists():  # no stamp, no state: a clean build (its imports before the digest)
        start_early(state_file)
    digest, around = input_digests(src, out, args)
    _SURROUNDINGS[:] = [around]
    if unchanged(stamp, digest, _state(src, out)):
        code = check() if check is not None else 0
        if code == 0:
            print(UNCHANGED.format(site=out / "_build" / "html"))
        return code
    codes = code_digests(src)
    # before jupyter-book's imports (once: a second call does nothing)
    start_early(state_file, likely=notebooks_may_run(stamp, around, codes))
    stamp.unlink(missing_ok=True)
    if check is not None and (code := check()):
        return code
    try:
        code = build(list(args))
    finally:
        _SURROUNDINGS.clear()
    record(stamp, src, out, digest, code, around=around, codes=codes)
    return code


def exit_fast(code: int) -> NoReturn:
    """End a build's process with ``code`` once it has done everything: the other threads
    joined, the ``atexit`` handlers run (logging's flush and close, temporary folders ...),
    the output flushed, but without the interpreter's teardown, which frees every object of
    the build one by one (Sphinx's environment, the doctrees, the notebooks: about 0.9 s of a
    clean build, with nothing written)."""
    import atexit
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
