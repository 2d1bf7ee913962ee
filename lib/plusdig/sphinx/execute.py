"""Executing the book's notebooks with dependency tracking: fingerprints of what each
notebook read, the state file, and re-running exactly the stale notebooks (in parallel).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plusdig.core.digest import file_digest, memoised
from plusdig.present.figmemo import FIGURE_MEMO, MEMO_ENV
from plusdig.sphinx.kernels import kernel_server, run_order, stop

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
_NOT_SETTINGS = frozenset({"PLUSDIG_READ_LOG", PAUSE_ENV, "PLUSDIG_KERNEL_SERVER",
                           "PLUSDIG_COLD_KERNELS", MEMO_ENV})


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
    from plusdig.core.paths import REPO_ROOT, data_dir

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
    raise RuntimeError(f"plusdig.sphinx.build: paused at {phase!r} for 10 minutes, "
                       "never interrupted")


# --------------------------------------------------------------------------- state
@dataclass
class Report:
    """What :func:`prepare` found and did."""

    fresh: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    #: a failed notebook → its executed notebook (JSON, outputs up to the error), seconds, error
    failed_runs: dict[str, tuple[str, float, str]] = field(default_factory=dict)
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
                 env: dict[str, str], server: Any = None,
                 ) -> tuple[str, str, float, str | None, list[str], float]:
    """Run one notebook in a fresh kernel; return it with its read set.

    Runs in a worker process or in a thread of the build: the kernel gets its environment
    (``env`` and its own ``PLUSDIG_READ_LOG``) explicitly, this process's is not touched.
    With ``server`` (a :class:`plusdig.sphinx.forkserver.ForkServer`) the kernel is forked
    from it, its imports done; it still runs this notebook only.
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
            config = private_kernel_config(sockets)
            km = None
            if server is not None:
                from plusdig.sphinx.forkkernel import kernel_manager

                km = kernel_manager(server, nb.metadata.get("kernelspec", {}).get("name")
                                    or "python3", config)
            client = NotebookClient(
                nb, km=km, timeout=timeout, allow_errors=allow_errors, record_timing=False,
                resources={"metadata": {"path": cwd or tmp}}, config=config,
                extra_arguments=[f"--IPKernelApp.exec_lines={_SKIP_SLOW_IMPORTS}"])
            client.owns_km = True  # start, shut down and clean up the kernel as for its own
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


def _in_threads(calls: list[tuple[Any, ...]], workers: int) -> Iterable[Any]:
    """``_execute_one(*args)`` for every ``args`` in ``calls``, ``workers`` at a time in daemon
    threads; the results in the order of ``calls``.

    Daemon threads, not a ``ThreadPoolExecutor``: an interrupted build must not wait at exit
    for the notebooks still running (its kernels end with the kernel server).
    """
    import queue
    import threading
    from concurrent.futures import Future

    futures: list[Future[Any]] = [Future() for _ in calls]
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(calls)):
        todo.put(i)

    def work() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                futures[i].set_result(_execute_one(*calls[i]))
            except BaseException as exc:  # noqa: BLE001 - raised where the result is read
                futures[i].set_exception(exc)

    for n in range(workers):
        threading.Thread(target=work, name=f"plusdig-nb-{n}", daemon=True).start()
    return (f.result() for f in futures)


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

    from plusdig.sphinx.failures import UnreadableNotebook

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except (ValueError, OSError) as exc:  # not JSON (nbformat's NotJSONError), not there
        raise UnreadableNotebook(nb_path, exc) from exc
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
    left alone. A notebook that fails is not cached; the book build reports the error the usual
    way, from this run (:func:`plusdig.sphinx.failures.hand_failed_runs_to_mystnb`).
    ``in_process=False`` uses a worker process even for a single notebook.

    The state is safe against an interrupt at any point: a stale notebook's fingerprint is
    removed from the state file (and its cache record from the cache) *before* anything runs,
    and after a notebook ran its outputs are committed in two steps: the cache record (with a
    new run id in its data), then its fingerprint with the same run id, by replacing the state
    file in one rename. Until that rename the notebook has no fingerprint, so an interrupted
    build leaves it stale, never "current" with outputs made from other data.
    """
    say = log or (lambda msg: None)
    t0 = time.perf_counter()
    with memoised():
        return _prepare(notebooks, cache_path, srcdir=srcdir, timeout=timeout,
                        allow_errors=allow_errors, in_temp=in_temp, jobs=jobs, say=say, t0=t0,
                        in_process=in_process)


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
    previous: dict[str, float | None] = {}  # last run time: the slowest first (run_order)
    for nb_path in (str(Path(p).resolve()) for p in notebooks):
        why, record = is_current(cache, nb_path, state, env_fp)
        if why is None:
            report.fresh.append(nb_path)
            continue
        say(f"plusdig.sphinx.build: {Path(nb_path).name} is stale: {why}")
        entry = state.get(nb_path)
        previous[nb_path] = entry.get("seconds") if isinstance(entry, dict) else None
        if record is not None:
            with suppress(KeyError):
                cache.remove_cache(record.pk)
        state.pop(nb_path, None)
        stale.append(nb_path)

    if stale:
        _save_state(cache_path, state)  # invalidated on disk before anything runs
        stale = run_order(stale, previous)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = max(1, min(len(stale), jobs or os.cpu_count() or 1))
        # the kernel inherits the worker's environment; pass through what the library reads
        pass_env = {k: v for k, v in os.environ.items() if k.startswith("PLUSDIG_")}
        for name in _NOT_SETTINGS:
            pass_env.pop(name, None)
        # figures laid out and rendered before are taken from the build's figure memo
        # (plusdig.present.figmemo: the same bytes; not a setting, so in no fingerprint)
        pass_env[MEMO_ENV] = str(cache_path.parent / FIGURE_MEMO)
        def cwd(p: str) -> str | None:
            return None if in_temp else str(Path(p).parent)

        server, own_server = kernel_server()
        how = "kernels forked from the kernel server" if server is not None else "cold kernels"
        say(f"plusdig.sphinx.build: executing {len(stale)} notebook(s) with {workers} "
            f"worker(s), {how}")
        if server is not None:  # warm kernels: the notebooks' clients run in threads here
            pool = None
            results = _in_threads([(p, cwd(p), timeout, allow_errors, pass_env, server)
                                   for p in stale], workers)
        elif workers == 1 and in_process:  # one at a time: run here, save a worker's start-up
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
                    report.failed_runs[path] = (nb_json, seconds, err)
                    say(f"plusdig.sphinx.build: {path} failed; the book build reports it")
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
                    "kernel": "forked" if server is not None else "cold",
                    "seconds": round(seconds, 3),
                }
                _save_state(cache_path, state)  # the commit: this run's fingerprint
                report.executed.append(path)
                say(f"plusdig.sphinx.build: executed {path} in {seconds:.1f} s")
        finally:
            if pool is not None:
                pool.shutdown()
            if server is not None:  # every kernel has ended (they end in the background)
                from plusdig.sphinx.forkkernel import reap_all

                reap_all()
            if own_server is not None:
                stop(own_server)
    report.seconds = time.perf_counter() - t0
    return report


# --------------------------------------------------------------------------- Sphinx
def _exclude(patterns: Sequence[str] | None, paths: Iterable[str]) -> list[str]:
    """Drop the notebooks myst-nb's ``execution_excludepatterns`` exclude from execution."""
    from fnmatch import fnmatch

    return sorted(p for p in paths if not any(fnmatch(p, pat) for pat in patterns or ()))
