"""Correct and fast notebook execution for the book.

jupyter-cache, which Jupyter Book uses to avoid re-running notebooks, keys a notebook on its
code cells only: change a number in ``data/`` and the book would keep showing the old one.
This module closes that gap and runs the stale notebooks in parallel.

For every notebook of the book it keeps a *dependency fingerprint* next to Jupyter Book's own
cache (``<build>/_build/.jupyter_cache/plusdig-deps.json``): the SHA-256 of every data file the
notebook read when it last ran (each loader logs the files it opens to ``$PLUSDIG_READ_LOG``,
see :mod:`plusdig.sphinx.provenance`), of every ``lib/plusdig`` module its kernel loaded, of the pinned
environment (``requirements.txt`` and the installed distributions) and of the survey file named
by ``PLUSDIG_SURVEY``. Before Sphinx reads the sources:

1. a notebook whose cache record is missing, whose fingerprint is missing, or whose fingerprint
   changed is *stale*; its cache record and its fingerprint are discarded (on disk, before
   anything runs);
2. the stale notebooks are executed in parallel (one kernel per core, each forked from a kernel
   server with the imports done: :mod:`plusdig.sphinx.forkserver`) with their own read log,
   and the results are stored in Jupyter Book's cache, so Sphinx finds every notebook cached;
   each result is committed as cache record first, fingerprint second, tied by a run id kept in
   both, so an interrupt at any point leaves the notebook stale, never current with outputs
   from other data;
3. Sphinx is told to re-read exactly the notebooks whose committed run differs from the run
   their page was read from (their ``.ipynb`` files did not change, so Sphinx would otherwise
   keep the old page), and the documents an interrupted build was reading.

After reading, an HTML build that changed anything writes the site into a staging folder
(``_build/.html-staging``) and, if it succeeded, swaps it for ``_build/html`` in one step: a
failed or interrupted build publishes nothing (see :func:`_on_env_updated`); only the changed
pages when nothing another page shows changed (:mod:`plusdig.sphinx.partial`), else all.

Notebooks nothing changed for stay cached and do not run. The module is a Sphinx extension
(listed in ``_config.yml`` under ``sphinx.extra_extensions``), so a plain ``jupyter-book build``
is correct; ``python -m plusdig.sphinx.build status|execute`` does the same outside Sphinx.
The extension also provides the ``plusdig-provenance`` directive of the colophon page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.core.digest import library_digest
from plusdig.sphinx import partial
from plusdig.sphinx.execute import (
    PAUSE_ENV,
    Report,
    _exclude,
    _write_json,
    environment_fingerprint,
    is_current,
    load_state,
    pause_point,
    prepare,
    run_ids,
)
from plusdig.sphinx.inputs import book_cache_path, exit_fast, standby_waiting

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment


def _on_config_inited(app: Sphinx, config: Any) -> None:
    """Start bringing the cache up to date in a background thread while Sphinx sets itself up.

    Settings come from the ``nb_execution_*`` options (myst-nb's configuration is made at
    builder-inited), the notebooks from the TOC. ``env-get-outdated`` waits for this and
    covers anything missed (all, in a :mod:`~plusdig.sphinx.standby` build).
    """
    import threading

    from sphinx.util.matching import Matcher

    site_map = getattr(config, "external_site_map", None)
    if getattr(config, "nb_execution_mode", None) != "cache" or site_map is None \
            or standby_waiting():  # a standby build: the edit is not known yet
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
    # the library's Sphinx code (transforms, directives, generated pages) reads every page:
    # when any of it changed, no page read with the old code is kept (Sphinx would keep them)
    code_key = library_digest()
    if getattr(env, "plusdig_code_key", None) != code_key:
        outdated |= env.found_docs
        env.plusdig_code_key = code_key  # saved with the environment, i.e. once all is read
    provenance_docs = set(getattr(env, "plusdig_provenance_docs", set()))
    if provenance_docs:  # the colophon: re-read when the commit, the data or a version changed
        from plusdig.sphinx.provenance import collect, provenance_key

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
        report.failed_runs.update(more.failed_runs)
        report.seconds += more.seconds
    if report.failed_runs:  # myst-nb reports them from this run instead of running them again
        from plusdig.sphinx.failures import hand_failed_runs_to_mystnb

        hand_failed_runs_to_mystnb(report.failed_runs)
    logger.info(f"plusdig.sphinx.build: {len(report.fresh)} notebook(s) cached and current, "
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
    app.plusdig_loaded_generation = getattr(env, "plusdig_generation", None)  # type: ignore
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
    app.plusdig_site = site = Path(app.outdir)  # type: ignore[attr-defined]
    clear_leftovers(site)


def _retire(folder: Path) -> None:
    """Move ``folder`` out of the way under a name of its own (``.html-retired-<id>``)."""
    try:
        os.replace(folder, folder.parent / f"{RETIRED_DIR}-{uuid.uuid4().hex}")
    except FileNotFoundError:
        pass


def clear_leftovers(site: Path) -> Any:
    """Remove what earlier builds left next to ``site`` (an unfinished staging folder, the
    sites :func:`publish` replaced): renamed first, then deleted in a background thread while
    the build sets itself up (a site's 500 files take a second). Returns the thread or None.
    """
    import threading

    _retire(site.parent / STAGING_DIR)
    old = sorted(site.parent.glob(f"{RETIRED_DIR}*"))
    if not old:
        return None

    def remove() -> None:
        for folder in old:
            shutil.rmtree(folder, ignore_errors=True)

    thread = threading.Thread(target=remove, name="plusdig-clear", daemon=True)
    thread.start()
    return thread


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
    """Write the site into a staging folder, unless the current site is this build's. After
    reading: if anything was read or removed, or the site in ``_build/html``
    was not written from this environment (an earlier build was interrupted or failed), the
    builder's output folder becomes ``_build/.html-staging`` and the site is written there,
    every page or (seeded with the current site) the changed ones (:mod:`.partial`);
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
    return []  # which pages: partial.plan, once the numbers are assigned (env-get-updated)


def writes_site(app: Sphinx) -> bool:
    """Whether this build writes the site (False: an HTML build that changed nothing and left
    ``_build/html`` as the last successful build wrote it, see :func:`_site_is_current`).
    ``build-finished`` handlers that check or post-process the written pages (the audit, the
    editions' notices) skip a build that wrote none: the site went through them already."""
    return getattr(app, "plusdig_site", None) is None \
        or getattr(app, "plusdig_staging", None) is not None


def _on_page_context(app: Sphinx, pagename: str, *args: Any) -> None:
    if os.environ.get(PAUSE_ENV) and app.env.found_docs and pagename == max(app.env.found_docs):
        pause_point("write")  # the last page (pages are written in sorted order)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False if not."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def publish(staging: Path, site: Path) -> None:
    """Make ``staging`` the site folder ``site`` and retire the folder it replaces.

    The two folders are exchanged in one step where the system allows; otherwise the old
    site is renamed away first (an interrupt between the two renames leaves no site, never a
    mixed one). The replaced folder is renamed ``.html-retired-<id>``; the next build deletes
    it while it starts (:func:`clear_leftovers`), so this build ends without waiting for it.
    """
    if not site.exists():
        os.replace(staging, site)
        return
    if _exchange(staging, site):
        _retire(staging)
    else:
        os.replace(site, site.parent / f"{RETIRED_DIR}-{uuid.uuid4().hex}")
        os.replace(staging, site)


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
            logger.info(f"plusdig.sphinx.build: bygningen fejlede; {site} er uændret "
                        f"(det ufærdige site ligger i {staging})")
            # Sphinx keeps its environment after warnings: the next build would not read the
            # pages again and so would not repeat their warnings, and would publish them
            from sphinx.application import ENV_PICKLE_FILENAME

            (Path(app.doctreedir) / ENV_PICKLE_FILENAME).unlink(missing_ok=True)
            return
        partial.finish(app, staging)
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
    from plusdig.sphinx.provenance import provenance_directive

    app.connect("config-inited", _on_config_inited, priority=900)  # after the TOC's
    app.connect("builder-inited", _on_builder_inited, priority=100)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.connect("env-before-read-docs", _on_before_read)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("env-updated", _on_env_updated, priority=900)
    app.connect("env-get-updated", partial.plan, priority=900)  # after the numbering (500)
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


def main(argv: Sequence[str] | None = None, check: Any = None) -> int:
    """``python -m plusdig.sphinx.build status|execute [--srcdir .] [--path-output DIR]``, or
    ``python -m plusdig.sphinx.build jb <jupyter-book arguments>`` (see :func:`jupyter_book`;
    a build keeps its full log in ``<output>/_build/plusdig-build.log`` and, if it fails, ends
    with a Danish summary: :func:`plusdig.sphinx.failures.jupyter_book_logged`; an HTML build
    whose inputs did not change since the last successful one does nothing, and ``check``, a
    validation, runs first: :func:`plusdig.sphinx.inputs.build_unless_unchanged`)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["jb"]:
        from plusdig.sphinx.failures import jupyter_book_guarded, jupyter_book_logged
        from plusdig.sphinx.inputs import build_unless_unchanged

        return jupyter_book_guarded(args_in[1:], lambda: build_unless_unchanged(
            args_in[1:], lambda args: jupyter_book_logged(args, jupyter_book), check))
    ap = argparse.ArgumentParser(prog="python -m plusdig.sphinx.build", description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["status", "execute"])
    ap.add_argument("--srcdir", default=".")
    ap.add_argument("--path-output", default=None,
                    help="the folder given to jupyter-book build --path-output (default: srcdir)")
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args(args_in)
    src = Path(args.srcdir).resolve()
    cache_path = book_cache_path(src, args.path_output)
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
    exit_fast(main())  # after the build: without the interpreter's teardown
