"""Correct and fast notebook execution for the book.

jupyter-cache, which Jupyter Book uses to avoid re-running notebooks, keys a notebook on its
code cells only: change a number in ``data/`` and the book would keep showing the old one.
This module closes that gap and runs the stale notebooks in parallel.

For every notebook of the book it keeps a *dependency fingerprint* next to Jupyter Book's own
cache (``<build>/_build/.jupyter_cache/plusdig-deps.json``): the SHA-256 of every data file the
notebook read when it last ran (each loader logs the files it opens to ``$PLUSDIG_READ_LOG``,
see :mod:`plusdig.provenance`), of every ``lib/plusdig`` module its kernel loaded, of the pinned
environment (``requirements.txt`` and the installed distributions) and of the survey file named
by ``PLUSDIG_SURVEY``. Before Sphinx reads the sources:

1. a notebook whose cache record is missing, whose fingerprint is missing, or whose fingerprint
   changed is *stale*; its cache record and its fingerprint are discarded (on disk, before
   anything runs);
2. the stale notebooks are executed in parallel (one kernel per core) with their own read log,
   and the results are stored in Jupyter Book's cache, so Sphinx finds every notebook cached;
   each result is committed as cache record first, fingerprint second, tied by a run id kept in
   both, so an interrupt at any point leaves the notebook stale, never current with outputs
   from other data;
3. Sphinx is told to re-read exactly the notebooks whose committed run differs from the run
   their page was read from (their ``.ipynb`` files did not change, so Sphinx would otherwise
   keep the old page), and the documents an interrupted build was reading.

After reading, an HTML build that changed anything writes the *whole* site into a staging
folder (``_build/.html-staging``) and, if it succeeded, swaps it for ``_build/html`` in one
step: no page, figure or download of an earlier build survives that this build did not write,
and a failed or interrupted build publishes nothing (see :func:`_on_env_updated`).

Notebooks nothing changed for stay cached and do not run. The module is a Sphinx extension
(listed in ``_config.yml`` under ``sphinx.extra_extensions``), so a plain ``jupyter-book build``
is correct; ``python -m plusdig.build status|execute`` does the same outside Sphinx.
The extension also provides the ``plusdig-provenance`` directive of the colophon page.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

#: Name of the dependency-state file kept inside the jupyter-cache folder.
STATE_FILE = "plusdig-deps.json"
#: Key of the run id in a jupyter-cache record's data (see :func:`prepare`).
RUN_KEY = "plusdig_run"
#: Bumped when the fingerprint recipe changes, so every notebook re-runs once.
FINGERPRINT_VERSION = "2"

#: Test hook: ``PLUSDIG_BUILD_PAUSE=<phase>:<file>`` makes the build create ``<file>`` and wait
#: when it reaches ``<phase>`` (``execute``: a notebook's outputs are in the cache; ``read``:
#: Sphinx reads the last document it reads; ``write``: Sphinx writes the last page), so a test
#: can interrupt it at a known point. It is no setting of the book: no fingerprint includes it.
PAUSE_ENV = "PLUSDIG_BUILD_PAUSE"
#: ``PLUSDIG_*`` variables that are not settings of the book (kept out of the fingerprints).
_NOT_SETTINGS = frozenset({"PLUSDIG_READ_LOG", PAUSE_ENV})

#: Digests already computed during one :func:`prepare` (None outside it): several notebooks
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


def _installed_distributions() -> list[str]:
    """Names and versions of the installed distributions (``name-1.2.dist-info`` folders).

    Read from the folder names on ``sys.path`` rather than through importlib.metadata, which
    parses every METADATA file: this runs on every build.
    """
    found: set[str] = set()
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found.update(n.lower() for n in names if n.endswith((".dist-info", ".egg-info")))
    return sorted(found)


def environment_fingerprint(srcdir: str | Path | None = None) -> dict[str, str]:
    """What every notebook depends on besides its own data files.

    ``requirements.txt`` and the installed distributions (the pinned environment), the data
    folder in use (``PLUSDIG_DATA``), every other ``PLUSDIG_*`` setting, and the survey file
    named by ``PLUSDIG_SURVEY`` (by content; the fingerprint never shows a path). The library
    code is not here: each notebook depends on the ``lib/plusdig`` modules its kernel loaded,
    which are logged with the files it read.
    """
    from .paths import REPO_ROOT, data_dir

    src = Path(srcdir).resolve() if srcdir else REPO_ROOT
    req = src / "requirements.txt"
    if not req.is_file():
        req = REPO_ROOT / "requirements.txt"
    dists = _installed_distributions()
    # every PLUSDIG_* setting (survey file, mapping, disclosure threshold ...) by value and,
    # when it names a file, by content: a file a notebook did not read last time counts too
    settings = {k: [v, file_digest(v) if v and Path(v).is_file() else None]
                for k, v in sorted(os.environ.items())
                if k.startswith("PLUSDIG_") and k not in _NOT_SETTINGS}
    survey = os.environ.get("PLUSDIG_SURVEY")
    return {
        "settings": hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest(),
        "version": FINGERPRINT_VERSION,
        "python": sys.version.split()[0],
        "requirements": file_digest(req),
        "distributions": hashlib.sha256("\n".join(dists).encode()).hexdigest(),
        "data_dir": hashlib.sha256(str(data_dir()).encode()).hexdigest(),
        "survey": file_digest(survey) if survey else "synthetic",
    }


def notebook_fingerprint(reads: Iterable[str], env_fp: dict[str, str]) -> str:
    """Fingerprint of one notebook's dependencies: environment plus every file it read."""
    h = hashlib.sha256(json.dumps(env_fp, sort_keys=True).encode())
    for path in sorted(set(reads)):
        h.update(f"{path}\0{file_digest(path)}\n".encode())
    return h.hexdigest()


def pause_point(phase: str) -> None:
    """Stop here if ``$PLUSDIG_BUILD_PAUSE`` asks for ``phase`` (see :data:`PAUSE_ENV`).

    Creates the named file and sleeps until the process is interrupted (a test sends SIGINT);
    after 10 minutes without an interrupt it raises, so a forgotten hook cannot hang a build.
    """
    wanted, _, marker = os.environ.get(PAUSE_ENV, "").partition(":")
    if wanted != phase or not marker:
        return
    Path(marker).write_text(f"{os.getpid()} {phase}\n", encoding="utf-8")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.05)
    raise RuntimeError(f"plusdig.build: paused at {phase!r} for 10 minutes, never interrupted")


# --------------------------------------------------------------------------- state
@dataclass
class Report:
    """What :func:`prepare` found and did."""

    fresh: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _state_path(cache_path: Path) -> Path:
    return cache_path / STATE_FILE


def load_state(cache_path: str | Path) -> dict[str, Any]:
    """The dependency state of a cache folder (``{}`` if there is none or it is unreadable)."""
    p = _state_path(Path(cache_path))
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: Any) -> None:
    """Write ``path`` in one step (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_state(cache_path: Path, state: dict[str, Any]) -> None:
    _write_json(_state_path(cache_path), state)


# --------------------------------------------------------------------------- execution
#: Run in the kernel after the notebook's own cells: log the library modules it loaded, so a
#: notebook depends on exactly the ``plusdig`` modules it used (this cell's output is dropped).
_MODULE_LOG_CELL = """\
import os as _pd_os, sys as _pd_sys
if _pd_os.environ.get("PLUSDIG_READ_LOG"):
    with open(_pd_os.environ["PLUSDIG_READ_LOG"], "a", encoding="utf-8") as _pd_fh:
        for _pd_n, _pd_m in sorted(_pd_sys.modules.items()):
            _pd_f = getattr(_pd_m, "__file__", None)
            if _pd_f and (_pd_n == "plusdig" or _pd_n.startswith("plusdig.")):
                _pd_fh.write(_pd_os.path.realpath(_pd_f) + "\\n")
"""

#: ``jsonschema`` imports ``rfc3987_syntax`` (a dependency of jupyter-events) if it is installed,
#: and that builds an Earley parser at import: 1-2 s in every process that imports nbformat,
#: including each kernel (myst-nb's ``glue`` imports nbformat). Nothing in the book validates
#: IRIs, so the workers and their kernels skip it.
_SKIP_SLOW_IMPORTS = "import sys; sys.modules.setdefault('rfc3987_syntax', None)"


def private_kernel_config(sockets_dir: str | Path) -> Any:
    """Configuration for an nbclient kernel that talks over Unix sockets in ``sockets_dir``.

    Over TCP, jupyter_client picks each kernel's five ports by binding and releasing them, so
    kernels started at the same moment in parallel workers can pick the same port; the second
    kernel then dies before it answers ("Kernel died before replying to kernel_info"). IPC
    sockets in a directory of the kernel's own cannot collide. ``sockets_dir`` must exist, be
    private to one kernel, and be short: a Unix socket path holds at most 107 bytes.
    """
    from traitlets.config import Config

    ip = str(Path(sockets_dir) / "k")
    if len(os.fsencode(ip)) > 100:
        raise ValueError(f"kernel socket directory {sockets_dir} is too long for a Unix socket "
                         "path (at most 100 bytes); set TMPDIR to a shorter directory")
    return Config({"KernelManager": {"transport": "ipc", "ip": ip}})


def _execute_one(path: str, cwd: str | None, timeout: int | None, allow_errors: bool,
                 env: dict[str, str]) -> tuple[str, str, float, str | None, list[str], float]:
    """Run one notebook in a fresh kernel; return it with its read set.

    Runs in a worker process or in a thread of the build: the kernel gets its environment
    (``env`` and its own ``PLUSDIG_READ_LOG``) explicitly, this process's is not touched.
    No timing metadata is recorded: jupyter-cache hashes cell metadata.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import traceback

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    started = time.time()
    fd, log = tempfile.mkstemp(prefix="plusdig-reads-", suffix=".log")
    os.close(fd)
    kernel_env = {k: v for k, v in os.environ.items() if not k.startswith("PLUSDIG_")}
    kernel_env.update(env)
    kernel_env["PLUSDIG_READ_LOG"] = log
    err: str | None = None
    try:
        nb = nbformat.read(path, as_version=4)
        meta = nb.metadata.get("execution", {})  # per-notebook overrides, as jupyter-cache
        timeout = meta.get("timeout", timeout)
        allow_errors = meta.get("allow_errors", allow_errors)
        n_cells = len(nb.cells)
        nb.cells.append(nbformat.v4.new_code_cell(_MODULE_LOG_CELL))
        with tempfile.TemporaryDirectory() as tmp, \
                tempfile.TemporaryDirectory(prefix="pdk-") as sockets:
            client = NotebookClient(
                nb, timeout=timeout, allow_errors=allow_errors, record_timing=False,
                resources={"metadata": {"path": cwd or tmp}},
                config=private_kernel_config(sockets),
                extra_arguments=[f"--IPKernelApp.exec_lines={_SKIP_SLOW_IMPORTS}"])
            t0 = time.perf_counter()
            try:
                client.execute(env=kernel_env)
            except (CellExecutionError, CellTimeoutError):
                err = traceback.format_exc()
            seconds = time.perf_counter() - t0
        del nb.cells[n_cells:]
        reads = sorted({line.strip() for line in Path(log).read_text(encoding="utf-8")
                        .splitlines() if line.strip()})
    finally:
        Path(log).unlink(missing_ok=True)
    return path, nbformat.writes(nb), seconds, err, reads, started


def _modified_since(paths: Iterable[str], started: float) -> bool:
    for p in paths:
        try:
            if os.stat(p).st_mtime >= started - 0.01:
                return True
        except OSError:
            return True
    return False


def is_current(cache: Any, nb_path: str, state: dict[str, Any],
               env_fp: dict[str, str]) -> tuple[str | None, Any]:
    """Why the cached outputs of ``nb_path`` are stale (None if current), and its cache record.

    Current means: jupyter-cache holds a record for the notebook's code cells, and the
    dependency state holds a fingerprint, committed for that very record (the run id stored
    in both), that still matches the files the notebook read and the environment.
    """
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        record = None
    entry = state.get(nb_path)
    if record is None:
        return "not in the cache (new notebook or changed code)", None
    if not isinstance(entry, dict) or entry.get("hashkey") != record.hashkey \
            or not entry.get("run") or entry.get("run") != _record_run(record):
        return "no dependency record", record
    if entry.get("fingerprint") == notebook_fingerprint(entry.get("reads", []), env_fp):
        return None, record
    changed = [p for p, d in (entry.get("digests") or {}).items() if file_digest(p) != d]
    if changed:
        return "changed: " + ", ".join(Path(p).name for p in changed[:5]), record
    return "environment changed (requirements, packages or PLUSDIG_* settings)", record


def _record_run(record: Any) -> str | None:
    """The run id :func:`prepare` stored in a jupyter-cache record (None if it stored none)."""
    data = record.data if isinstance(getattr(record, "data", None), dict) else {}
    run = data.get(RUN_KEY)
    return run if isinstance(run, str) else None


def run_ids(cache_path: str | Path) -> dict[str, str | None]:
    """Notebook path → the run id of its committed outputs (what a page was read from)."""
    return {path: entry.get("run") if isinstance(entry, dict) else None
            for path, entry in load_state(cache_path).items()}


def prepare(notebooks: Sequence[str | Path], cache_path: str | Path, *,
            srcdir: str | Path | None = None, timeout: int | None = 300,
            allow_errors: bool = False, in_temp: bool = False, jobs: int | None = None,
            log: Any = None, in_process: bool = True) -> Report:
    """Make Jupyter Book's cache at ``cache_path`` current for ``notebooks``.

    Stale notebooks (see the module docstring) lose their cache record and are executed in
    parallel with ``jobs`` worker processes (default: the number of cores); fresh ones are
    left alone. A notebook that fails is not cached, so the book build re-runs it and reports
    the error the usual way. ``in_process=False`` uses a worker process even for a single
    notebook.

    The state is safe against an interrupt at any point: a stale notebook's fingerprint is
    removed from the state file (and its cache record from the cache) *before* anything runs,
    and after a notebook ran its outputs are committed in two steps: the cache record (with a
    new run id in its data), then its fingerprint with the same run id, by replacing the state
    file in one rename. Until that rename the notebook has no fingerprint, so an interrupted
    build leaves it stale, never "current" with outputs made from other data.
    """
    global _DIGESTS
    say = log or (lambda msg: None)
    t0 = time.perf_counter()
    _DIGESTS = {}
    try:
        return _prepare(notebooks, cache_path, srcdir=srcdir, timeout=timeout,
                        allow_errors=allow_errors, in_temp=in_temp, jobs=jobs, say=say, t0=t0,
                        in_process=in_process)
    finally:
        _DIGESTS = None


def _prepare(notebooks: Sequence[str | Path], cache_path: str | Path, *,
             srcdir: str | Path | None, timeout: int | None, allow_errors: bool, in_temp: bool,
             jobs: int | None, say: Any, t0: float, in_process: bool) -> Report:
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache_path = Path(cache_path).resolve()
    cache = get_cache(str(cache_path))
    state = load_state(cache_path)
    env_fp = environment_fingerprint(srcdir)
    report = Report()

    stale: list[str] = []
    previous: dict[str, float] = {}  # last run time: start the slowest notebooks first
    for nb_path in (str(Path(p).resolve()) for p in notebooks):
        why, record = is_current(cache, nb_path, state, env_fp)
        if why is None:
            report.fresh.append(nb_path)
            continue
        say(f"plusdig.build: {Path(nb_path).name} is stale: {why}")
        entry = state.get(nb_path)
        previous[nb_path] = entry.get("seconds", 1e9) if isinstance(entry, dict) else 1e9
        if record is not None:
            with suppress(KeyError):
                cache.remove_cache(record.pk)
        state.pop(nb_path, None)
        stale.append(nb_path)

    if stale:
        _save_state(cache_path, state)  # invalidated on disk before anything runs
        stale.sort(key=lambda p: -previous[p])
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = max(1, min(len(stale), jobs or os.cpu_count() or 1))
        say(f"plusdig.build: executing {len(stale)} notebook(s) with {workers} worker(s)")
        # the kernel inherits the worker's environment; pass through what the library reads
        pass_env = {k: v for k, v in os.environ.items() if k.startswith("PLUSDIG_")}
        for name in _NOT_SETTINGS:
            pass_env.pop(name, None)
        def cwd(p: str) -> str | None:
            return None if in_temp else str(Path(p).parent)

        if workers == 1 and in_process:  # one at a time: run here, save a worker's start-up
            pool = None
            results = (_execute_one(p, cwd(p), timeout, allow_errors, pass_env) for p in stale)
        else:
            ctx = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
            futures = [pool.submit(_execute_one, p, cwd(p), timeout, allow_errors, pass_env)
                       for p in stale]
            results = (f.result() for f in futures)
        try:
            for path, nb_json, seconds, err, reads, started in results:
                if err is not None:
                    report.failed[path] = err
                    say(f"plusdig.build: {path} failed; the book build will re-run it")
                    continue
                nb = nbformat.reads(nb_json, as_version=4)
                run = uuid.uuid4().hex
                record = cache.cache_notebook_bundle(
                    CacheBundleIn(nb, path, data={"execution_seconds": seconds, RUN_KEY: run}),
                    check_validity=False, overwrite=True)
                pause_point("execute")
                state[path] = {
                    "run": run,
                    "hashkey": record.hashkey,
                    "reads": reads,
                    "digests": {p: file_digest(p) for p in reads},
                    # a file changed while the notebook ran: its outputs may mix old and
                    # new, so they count as stale next time
                    "fingerprint": None if _modified_since(reads, started)
                    else notebook_fingerprint(reads, env_fp),
                    "executed_at": time.time(),
                    "seconds": round(seconds, 3),
                }
                _save_state(cache_path, state)  # the commit: this run's fingerprint
                report.executed.append(path)
                say(f"plusdig.build: executed {path} in {seconds:.1f} s")
        finally:
            if pool is not None:
                pool.shutdown()
    report.seconds = time.perf_counter() - t0
    return report


# --------------------------------------------------------------------------- Sphinx
def _exclude(patterns: Sequence[str] | None, paths: Iterable[str]) -> list[str]:
    """Drop the notebooks myst-nb's ``execution_excludepatterns`` exclude from execution."""
    from fnmatch import fnmatch

    return sorted(p for p in paths if not any(fnmatch(p, pat) for pat in patterns or ()))


def _on_config_inited(app: Sphinx, config: Any) -> None:
    """Start bringing the cache up to date in a background thread while Sphinx sets itself up.

    Settings come from the ``nb_execution_*`` options (myst-nb's own configuration object is
    made later, at builder-inited), the notebooks from the TOC (Sphinx has not listed its
    sources yet). The ``env-get-outdated`` handler waits for this and covers anything missed.
    """
    import threading

    from sphinx.util.matching import Matcher

    site_map = getattr(config, "external_site_map", None)
    if getattr(config, "nb_execution_mode", None) != "cache" or site_map is None:
        return
    cache_path = str(config.nb_execution_cache_path
                     or Path(app.outdir).parent.joinpath(".jupyter_cache").resolve())
    excluded = Matcher(config.exclude_patterns)
    paths = [str((Path(app.srcdir) / f"{d}.ipynb").resolve()) for d in site_map
             if (Path(app.srcdir) / f"{d}.ipynb").is_file() and not excluded(f"{d}.ipynb")]
    notebooks = _exclude(config.nb_execution_excludepatterns, paths)
    if not notebooks:
        return
    holder: dict[str, Any] = {"messages": []}

    def work() -> None:
        try:
            holder["report"] = prepare(
                notebooks, cache_path, srcdir=app.srcdir, timeout=config.nb_execution_timeout,
                allow_errors=config.nb_execution_allow_errors,
                in_temp=config.nb_execution_in_temp, log=holder["messages"].append)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the Sphinx thread
            holder["error"] = exc

    thread = threading.Thread(target=work, name="plusdig-build", daemon=True)
    thread.start()
    app.plusdig_early = (thread, set(notebooks), holder, cache_path)  # type: ignore[attr-defined]


def _on_env_get_outdated(app: Sphinx, env: BuildEnvironment, added: set[str],
                         changed: set[str], removed: set[str]) -> list[str]:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    cfg = getattr(env, "mystnb_config", None)
    app.plusdig_removed = set(removed)  # type: ignore[attr-defined]
    # documents an interrupted build was reading: their doctree files may be newer than the
    # environment that was saved before (Sphinx saves it only after reading everything)
    outdated = set(_json_list(Path(app.doctreedir) / READING_FILE)) & env.found_docs
    provenance_docs = set(getattr(env, "plusdig_provenance_docs", set()))
    if provenance_docs:  # the colophon: re-read when the commit, the data or a version changed
        from .provenance import collect, provenance_key

        if provenance_key(collect(app.srcdir)) != getattr(env, "plusdig_provenance_key", None):
            outdated |= provenance_docs
    if cfg is None or cfg.execution_mode != "cache":
        return sorted(outdated)
    docs = {str(Path(env.doc2path(d)).resolve()): d for d in env.found_docs
            if str(env.doc2path(d)).endswith(".ipynb")}
    docs = {p: docs[p] for p in _exclude(cfg.execution_excludepatterns, docs)}
    report, done = Report(), set()
    early = getattr(app, "plusdig_early", None)
    if early is not None:
        thread, done, holder, early_cache = early
        thread.join()
        del app.plusdig_early  # type: ignore[attr-defined]
        for message in holder["messages"]:
            logger.info(message)
        if "error" in holder:
            raise holder["error"]
        report = holder["report"]
        if str(Path(early_cache).resolve()) != str(Path(cfg.execution_cache_path).resolve()):
            report, done = Report(), set()  # not the cache myst-nb reads: do it again
    missed = sorted(set(docs) - done)
    if missed or early is None:
        more = prepare(missed, cfg.execution_cache_path, srcdir=app.srcdir,
                       timeout=cfg.execution_timeout, allow_errors=cfg.execution_allow_errors,
                       in_temp=cfg.execution_in_temp, log=logger.info)
        report.fresh += more.fresh
        report.executed += more.executed
        report.failed.update(more.failed)
        report.seconds += more.seconds
    logger.info(f"plusdig.build: {len(report.fresh)} notebook(s) cached and current, "
                f"{len(report.executed)} executed, {len(report.failed)} failed "
                f"({report.seconds:.1f} s)")
    # re-read every notebook page made from other outputs than the ones now committed (the
    # run id a page was read from is kept in the environment: _on_doctree_read)
    runs = run_ids(cfg.execution_cache_path)
    app.plusdig_runs = {d: runs.get(p) for p, d in docs.items()}  # type: ignore[attr-defined]
    read_from = getattr(env, "plusdig_nb_runs", {})
    outdated.update(d for d, run in app.plusdig_runs.items()  # type: ignore[attr-defined]
                    if d in env.all_docs and read_from.get(d) != run)
    outdated.update(docs[p] for p in report.failed if p in docs)
    return sorted(outdated)


# --------------------------------------------------------------------------- reading
#: In the doctree folder while Sphinx reads: the documents it is reading (see above).
READING_FILE = "plusdig-reading.json"


def _json_list(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in data if isinstance(d, str)] if isinstance(data, list) else []


def _on_before_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    app.plusdig_reading = list(docnames)  # type: ignore[attr-defined]
    marker = Path(app.doctreedir) / READING_FILE
    if docnames:
        # the environment changes: no site written before (by any builder) is its site any
        # more; an HTML build gives it a new generation when it writes the site (below)
        env.plusdig_generation = None
        _write_json(marker, sorted(docnames))
    else:
        marker.unlink(missing_ok=True)


def _on_doctree_read(app: Sphinx, doctree: Any) -> None:
    env, runs = app.env, getattr(app, "plusdig_runs", {})
    if env.docname in runs:
        if not hasattr(env, "plusdig_nb_runs"):
            env.plusdig_nb_runs = {}
        env.plusdig_nb_runs[env.docname] = runs[env.docname]
    reading = getattr(app, "plusdig_reading", None)
    if reading and env.docname == reading[-1]:
        pause_point("read")


def _on_env_saved(app: Sphinx, env: BuildEnvironment) -> None:
    """``env-check-consistency`` comes right after Sphinx saved the environment."""
    (Path(app.doctreedir) / READING_FILE).unlink(missing_ok=True)


def _purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "plusdig_provenance_docs", set()).discard(docname)
    getattr(env, "plusdig_nb_runs", {}).pop(docname, None)


def _merge_info(app: Sphinx, env: BuildEnvironment, docnames: set[str],
                other: BuildEnvironment) -> None:
    if not hasattr(env, "plusdig_provenance_docs"):
        env.plusdig_provenance_docs = set()
    env.plusdig_provenance_docs |= getattr(other, "plusdig_provenance_docs", set())
    for name in ("plusdig_provenance_key", "plusdig_provenance_info"):
        if getattr(other, name, None):
            setattr(env, name, getattr(other, name))
    if not hasattr(env, "plusdig_nb_runs"):
        env.plusdig_nb_runs = {}
    theirs = getattr(other, "plusdig_nb_runs", {})
    env.plusdig_nb_runs.update({d: theirs[d] for d in docnames if d in theirs})


# --------------------------------------------------------------------------- publishing
#: Next to the site folder (``_build/html``): the site being written, and the one replaced.
STAGING_DIR = ".html-staging"
RETIRED_DIR = ".html-retired"
#: In the site folder: the id of the environment it was written from.
GENERATION_FILE = ".plusdig-generation"


def _on_builder_inited(app: Sphinx) -> None:
    """Remember the site folder and clear what an interrupted build left next to it."""
    if app.builder.name != "html":
        return
    site = Path(app.outdir)
    app.plusdig_site = site  # type: ignore[attr-defined]
    for leftover in (site.parent / STAGING_DIR, site.parent / RETIRED_DIR):
        shutil.rmtree(leftover, ignore_errors=True)


def _site_is_current(app: Sphinx, env: BuildEnvironment, site: Path) -> bool:
    """True when the site was written from this environment and nothing needs writing."""
    try:
        generation = (site / GENERATION_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return (not getattr(app, "plusdig_reading", None)
            and not getattr(app, "plusdig_removed", None)
            and generation == getattr(env, "plusdig_generation", None)
            and not any(True for _ in app.builder.get_outdated_docs()))


def _on_env_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Write the whole site into a staging folder, unless the current site is this build's.

    Called after reading: if anything was read or removed, or the site in ``_build/html``
    was not written from this environment (an earlier build was interrupted or failed), the
    builder's output folder becomes ``_build/.html-staging`` and every page is written there;
    ``build-finished`` publishes it (:func:`_on_build_finished`). Only a build that changes
    nothing leaves the site alone.
    """
    site = getattr(app, "plusdig_site", None)
    if site is None or _site_is_current(app, env, site):
        return []
    staging = site.parent / STAGING_DIR
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    app.outdir = app.builder.outdir = type(app.outdir)(staging)  # type: ignore[misc]
    app.plusdig_staging = staging  # type: ignore[attr-defined]
    env.plusdig_generation = uuid.uuid4().hex
    return sorted(env.found_docs)


def _on_page_context(app: Sphinx, pagename: str, *args: Any) -> None:
    if os.environ.get(PAUSE_ENV) and app.env.found_docs and pagename == max(app.env.found_docs):
        pause_point("write")  # the last page (pages are written in sorted order)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False if the
    system or file system cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def publish(staging: Path, site: Path) -> None:
    """Make ``staging`` the site folder ``site`` and remove the folder it replaces.

    The two folders are exchanged in one step where the system allows; otherwise the old
    site is renamed away first (an interrupt between the two renames leaves no site, never a
    mixed one). The replaced folder is removed afterwards.
    """
    if not site.exists():
        os.replace(staging, site)
        return
    if _exchange(staging, site):
        retired = staging
    else:
        retired = site.parent / RETIRED_DIR
        shutil.rmtree(retired, ignore_errors=True)
        os.replace(site, retired)
        os.replace(staging, site)
    shutil.rmtree(retired, ignore_errors=True)


def _build_failed(app: Sphinx, exception: BaseException | None) -> bool:
    """An exception, or warnings in a ``-W --keep-going`` build (it exits with an error)."""
    return exception is not None or bool(app.keep_going and getattr(app, "_warncount", 0))


def _on_build_finished(app: Sphinx, exception: BaseException | None) -> None:
    """Publish the staging folder if the build succeeded; write ``_build/provenance.json``.

    Runs after every other ``build-finished`` handler (they still write into the staging
    folder: the PDF copy, the theme's CSS ...). A failed build publishes nothing: the site
    stays as the last successful build left it, the unfinished one stays in the staging
    folder (removed by the next build) for its error reports.
    """
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    failed = _build_failed(app, exception)
    staging = getattr(app, "plusdig_staging", None)
    site = getattr(app, "plusdig_site", None)
    if staging is not None and site is not None:
        if failed:
            logger.info(f"plusdig.build: bygningen fejlede; {site} er uændret "
                        f"(det ufærdige site ligger i {staging})")
            # Sphinx keeps its environment after warnings: the next build would not read the
            # pages again and so would not repeat their warnings, and would publish them
            from sphinx.application import ENV_PICKLE_FILENAME

            (Path(app.doctreedir) / ENV_PICKLE_FILENAME).unlink(missing_ok=True)
            return
        (staging / GENERATION_FILE).write_text(app.env.plusdig_generation + "\n",
                                               encoding="utf-8")
        publish(staging, site)
        app.outdir = app.builder.outdir = type(app.outdir)(site)  # type: ignore[misc]
        del app.plusdig_staging  # type: ignore[attr-defined]
    info = getattr(app.env, "plusdig_provenance_info", None)
    if info is not None and not failed:
        _write_json(Path(site or app.outdir).parent / "provenance.json", info)


def setup(app: Sphinx) -> dict[str, Any]:
    """Sphinx entry point: cache invalidation, parallel execution, staged publishing of the
    HTML site, the provenance directive."""
    from .provenance import provenance_directive

    app.connect("config-inited", _on_config_inited, priority=900)  # after the TOC's
    app.connect("builder-inited", _on_builder_inited, priority=100)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.connect("env-before-read-docs", _on_before_read)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("env-updated", _on_env_updated, priority=900)
    app.connect("env-check-consistency", _on_env_saved)
    app.connect("html-page-context", _on_page_context)
    app.connect("env-purge-doc", _purge_doc)
    app.connect("env-merge-info", _merge_info)
    app.connect("build-finished", _on_build_finished, priority=1000)  # after the others
    app.add_directive("plusdig-provenance", provenance_directive())
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------- CLI
def toc_notebooks(srcdir: str | Path = ".") -> list[Path]:
    """The ``.ipynb`` files the book's ``_toc.yml`` lists."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    src = Path(srcdir).resolve()
    site_map = parse_toc_yaml(src / "_toc.yml")
    out = []
    for docname in site_map:
        p = src / f"{docname}.ipynb"
        if p.is_file():
            out.append(p)
    return sorted(out)


def _cache_path(srcdir: Path, path_output: str | None) -> Path:
    import yaml

    cfg = yaml.safe_load((srcdir / "_config.yml").read_text(encoding="utf-8")) or {}
    configured = (cfg.get("execute") or {}).get("cache")
    if configured:
        return (srcdir / configured).resolve()
    base = Path(path_output).resolve() if path_output else srcdir
    return base / "_build" / ".jupyter_cache"


def jupyter_book(argv: Sequence[str]) -> int:
    """Run the ``jupyter-book`` command line in this process, minus one slow optional import.

    Jupyter Book validates its configuration with jsonschema, which imports ``rfc3987_syntax``
    when it is installed (it is, for jupyter-events) and spends 1-2 s building an IRI parser
    nothing here uses. ``make book`` and ``make pdf`` build through this function.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from jupyter_book.cli.main import main as jb_main

    sys.argv = ["jupyter-book", *argv]
    try:
        jb_main()
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m plusdig.build status|execute [--srcdir .] [--path-output DIR]``, or
    ``python -m plusdig.build jb <jupyter-book arguments>`` (see :func:`jupyter_book`)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["jb"]:
        return jupyter_book(args_in[1:])
    ap = argparse.ArgumentParser(prog="python -m plusdig.build", description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["status", "execute"])
    ap.add_argument("--srcdir", default=".")
    ap.add_argument("--path-output", default=None,
                    help="the folder given to jupyter-book build --path-output (default: srcdir)")
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args(args_in)
    src = Path(args.srcdir).resolve()
    cache_path = _cache_path(src, args.path_output)
    notebooks = toc_notebooks(src)
    if args.command == "status":
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_path))
        state = load_state(cache_path)
        env_fp = environment_fingerprint(src)
        for nb in notebooks:
            why, _ = is_current(cache, str(nb), state, env_fp)
            print(f"{nb.relative_to(src)}: {'current' if why is None else 'stale, ' + why}")
        return 0
    report = prepare(notebooks, cache_path, srcdir=src, jobs=args.jobs, log=print)
    print(f"{len(report.fresh)} current, {len(report.executed)} executed, "
          f"{len(report.failed)} failed in {report.seconds:.1f} s")
    for path, err in report.failed.items():
        print(f"--- {path}\n{err}", file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
