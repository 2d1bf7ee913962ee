"""Partial writes of the HTML site: a build that changed one page writes that page.

A writing build (:mod:`plusdig.sphinx.build`) writes into a staging folder and swaps it for
``_build/html``. Writing every page takes most of a text edit's rebuild (templates with the
whole sidebar, post-transforms), so the staging folder is *seeded* with a copy of the current
site (a copy, not hard links: Sphinx and the site's post-processors rewrite files in place,
which a hard link would carry into the published site before the swap) and Sphinx writes only
the pages it would write in an incremental build: the documents read this build, the root,
the documents whose toctrees include them, and the pages its own checks find out of date
(templates, configuration: ``.buildinfo``).

That is correct only when no other page renders anything that changed. Two digests decide:

- the **navigation signature** of Sphinx's environment (:func:`nav_signature`): everything the
  environment holds (titles, the toctree and each page's table of contents, section, figure
  and table numbers, every domain's data: labels with their titles, citations and the
  bibliography, glue keys, equations; the library's own data: downloads, quotes, annex pages
  ...) except what only the page itself shows or nothing shows (read times, execution times,
  run ids, dependencies). A change of a title, a label, a number, a citation or the TOC
  changes it;
- the **surroundings** (:func:`plusdig.sphinx.inputs.surroundings`): the inputs digest of the
  build without the pages' sources (``*.ipynb``, ``*.md``): the data, the library, the
  configuration, ``_toc.yml``, ``references.bib``, static files and templates, the settings,
  the installed packages, the git commit, the site's PDF. Any change there writes everything.

Both are kept in the site (``.plusdig-partial.json``, with the generation it belongs to). A
build whose site was written from the environment it loaded, whose surroundings and
signature are unchanged and which removed no page writes partially; every other build writes
every page into an empty staging folder, as before. Files a partial write leaves from the
seed that no page uses any more (a figure's old image, a removed table's downloads) are
deleted before the site is published (:func:`sweep`), so the site equals a full write's file
for file (``tests/test_build_partial.py``). A build that writes every page writes them in
two processes (:func:`write_in_parallel`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

__all__ = ["PARTIAL_FILE", "nav_parts", "nav_signature", "plan", "finish"]

#: In the site folder: what the site was written with (generation, surroundings, the
#: navigation's parts: :func:`nav_parts`).
PARTIAL_FILE = ".plusdig-partial.json"
#: Environment attributes no other page renders (or that are no document data at all).
_NOT_NAVIGATION = frozenset({
    "app", "config", "project", "events", "settings", "domains", "srcdir", "doctreedir",
    "version", "config_status", "config_status_extra", "temp_data", "ref_context",
    "all_docs",               # read times (the document names are in the signature)
    "reread_always", "dependencies", "included", "original_image_uri", "titles_old",
    "versioning_condition", "versioning_compare", "nb_new_exec_data",
    "plusdig_generation", "plusdig_content_time", "plusdig_nb_runs",
})
#: Per-document data only the page itself (or nothing) shows: a notebook's execution record
#: and the scripts myst-nb adds to its page alone (``nb_metadata``: ``js_files`` holds the
#: widget state, whose model ids are new at every run; myst-nb adds them in
#: ``html-page-context`` for that page only), a page's word count (``metadata``, from
#: myst-parser).
_OWN = {"nb_metadata": frozenset({"exec_data", "js_files"}),
        "metadata": frozenset({"wordcount"})}
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _canon(obj: Any) -> Any:
    """A canonical, JSON-able form of environment data (sets sorted, nodes as text)."""
    from docutils import nodes

    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {"d": sorted(([_canon(k), _canon(v)] for k, v in obj.items()), key=repr)}
    if isinstance(obj, (set, frozenset)):
        return {"s": sorted((_canon(v) for v in obj), key=repr)}
    if isinstance(obj, (list, tuple)):
        return [_canon(v) for v in obj]
    if isinstance(obj, nodes.Element):
        return {"n": obj.pformat()}
    if isinstance(obj, nodes.Node):
        return {"t": obj.astext()}
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "__dict__"):
        return {"o": type(obj).__qualname__, "v": _canon(vars(obj))}
    return _ADDRESS.sub("", repr(obj))


def nav_parts(env: BuildEnvironment) -> dict[str, str]:
    """A digest of each part of the environment that other pages can render (a domain's data
    is a part of its own); see module doc."""
    values: dict[str, Any] = {"found_docs": sorted(env.found_docs)}
    for name in sorted(vars(env)):
        if name in _NOT_NAVIGATION or name.startswith("_"):
            continue
        value = vars(env)[name]
        if name in _OWN and isinstance(value, dict):
            value = {d: {k: v for k, v in m.items() if k not in _OWN[name]}
                     for d, m in value.items()}
        if name == "domaindata" and isinstance(value, dict):
            values.update({f"domaindata.{k}": _domain(k, v) for k, v in value.items()})
            continue
        values[name] = value
    return {name: hashlib.sha256(json.dumps(_canon(value), sort_keys=True, default=str)
                                 .encode()).hexdigest()[:16] for name, value in values.items()}


def _domain(name: str, data: Any) -> Any:
    """A domain's data as other pages see it. sphinxcontrib-bibtex's citation references are
    kept in the order documents were read (a page read again moves to the end) with their
    line numbers (for warnings): the bibliography uses them by document, in document order."""
    if name != "cite" or not isinstance(data, dict) or "citation_refs" not in data:
        return data
    refs = sorted(data["citation_refs"], key=lambda ref: str(getattr(ref, "docname", "")))
    return {**data, "citation_refs": [
        ref._replace(line=None) if hasattr(ref, "_replace") and "line" in getattr(
            ref, "_fields", ()) else ref for ref in refs]}


def nav_signature(env: BuildEnvironment) -> str:
    """SHA-256 over what any page can render from another page's data (:func:`nav_parts`)."""
    return hashlib.sha256(json.dumps(nav_parts(env), sort_keys=True).encode()).hexdigest()


def _recorded(site: Path) -> dict[str, Any]:
    try:
        data = json.loads((site / PARTIAL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


#: Not seeded: Sphinx copies the static files before it writes a page and links each with its
#: checksum (``?v=``) only if it is there when the page is written; the files extensions
#: write there at the end of a build (CSS) must be missing then, as in a full write.
_NOT_SEEDED = ("_static",)


def _seed(site: Path, staging: Path) -> None:
    """Copy the site into the (empty) staging folder, times kept (see :data:`_NOT_SEEDED`)."""
    shutil.copytree(site, staging, dirs_exist_ok=True, symlinks=True,
                    ignore=lambda folder, names: _NOT_SEEDED if Path(folder) == site else ())


def plan(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-get-updated`` (after Sphinx assigned section and figure numbers): the documents
    a writing build must write besides Sphinx's own choice: none after seeding the staging
    folder with the site when a partial write is correct, else every document. Records the
    build's surroundings and navigation for :func:`finish`.
    """
    from plusdig.sphinx.inputs import surroundings

    site = getattr(app, "plusdig_site", None)
    staging = getattr(app, "plusdig_staging", None)
    if site is None or staging is None or hasattr(app, "plusdig_partial"):
        return []  # no site being written (or planned already)

    around, parts = surroundings(), nav_parts(env)
    app.plusdig_partial = {"surroundings": around, "nav": parts,  # type: ignore[attr-defined]
                           "generation": env.plusdig_generation, "partial": False}
    last = _recorded(site)
    before = last.get("nav") if isinstance(last.get("nav"), dict) else {}
    loaded = getattr(app, "plusdig_loaded_generation", None)
    try:
        generation = (site / ".plusdig-generation").read_text(encoding="utf-8").strip()
    except OSError:
        generation = None
    from sphinx.util import logging

    why = next((reason for reason, true in (
        ("not started through build_unless_unchanged", around is None),
        ("a page was removed", bool(getattr(app, "plusdig_removed", None))),
        ("the site was not written from the saved environment",
         loaded is None or generation != loaded or last.get("generation") != loaded),
        ("the surroundings changed", last.get("surroundings") != around),
        ("the navigation changed: " + ", ".join(sorted(
            k for k in set(parts) | set(before) if parts.get(k) != before.get(k))),
         before != parts)) if true), None)
    log = logging.getLogger(__name__)
    if why is not None:
        jobs = " in parallel" if write_in_parallel(app) else ""
        log.info(f"plusdig.sphinx.partial: every page is written{jobs} ({why})")
        return sorted(env.found_docs)
    _seed(site, staging)
    _drop_unused_search_terms(app.builder)
    app.plusdig_partial["partial"] = True  # type: ignore[attr-defined]
    log.info("plusdig.sphinx.partial: navigation and surroundings unchanged: only the changed "
             "pages are written")
    return []


def _drop_unused_search_terms(builder: Any) -> None:
    """Before the search index is written: drop the words no page holds any more. Sphinx's
    incremental index keeps a word a rewritten page no longer has, with no page (``"word":
    []`` in ``searchindex.js``), where a full write has no such word."""
    dump = getattr(builder, "dump_search_index", None)
    if dump is None:
        return

    def dump_without_unused() -> None:
        indexer = getattr(builder, "indexer", None)
        for mapping in (getattr(indexer, "_mapping", {}), getattr(indexer, "_title_mapping", {})):
            for word in [w for w, docs in mapping.items() if not docs]:
                del mapping[word]
        dump()

    builder.dump_search_index = dump_without_unused


#: Processes for a build that writes every page (:func:`write_in_parallel`); ``1`` writes
#: serially (the tests compare the two).
WRITE_JOBS_ENV = "PLUSDIG_WRITE_JOBS"


def write_in_parallel(app: Sphinx) -> bool:
    """Let Sphinx write every page in parallel, as ``-j 2`` would (the build reads serially:
    not every extension declares itself safe for parallel reading): the main process resolves
    each page (cross-references, the library's ``doctree-resolved`` work, the search index),
    a forked process renders and writes the pages meanwhile. Only for the HTML builder on two
    or more cores, when every extension declares itself safe for parallel writing (else
    Sphinx would warn and write serially), and not in the integrity tests' paused builds.
    The pages are the same bytes (``tests/test_build_partial.py``)."""
    from plusdig.sphinx.execute import PAUSE_ENV

    text = os.environ.get(WRITE_JOBS_ENV, "2")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{WRITE_JOBS_ENV}={text!r}: expected a whole number of processes "
                         "(1 writes the pages one by one)")
    jobs = min(int(text), os.cpu_count() or 1)
    if jobs < 2 or os.environ.get(PAUSE_ENV) or app.parallel > 1 \
            or app.builder.name != "html" or not app.builder.allow_parallel \
            or not all(getattr(e, "parallel_write_safe", None) for e in app.extensions.values()):
        return False
    app.parallel = jobs
    _small_chunks(app.builder, jobs)
    return True


#: Pages per forked writer in a parallel write (:func:`_small_chunks`).
WRITE_CHUNK = 3


def _small_chunks(builder: Any, writers: int) -> None:
    """Let the builder's parallel write hand ``writers`` forked writers a few pages at a time.

    Sphinx cuts the pages into chunks of about ``sqrt(10 n)`` (two of 18 for the book's 35)
    for one writer beside the main process (``-j 2``), and a writer starts when the main
    process has resolved its whole chunk: the second chunk was written after the resolving,
    one core idle. With chunks of :data:`WRITE_CHUNK` pages and two writers the writing
    follows the resolving and ends with it. Each page is still written by one forked writer
    (the same bytes; the XLSX downloads are written with their page:
    :mod:`plusdig.sphinx.sitedownloads`).
    """
    write_parallel = getattr(builder, "_write_parallel", None)
    if write_parallel is None or getattr(write_parallel, "plusdig_chunks", False):
        return

    def in_small_chunks(docnames: Any, nproc: int) -> None:
        import sphinx.builders

        sphinx_chunks = sphinx.builders.make_chunks
        sphinx.builders.make_chunks = lambda names, _nproc, maxbatch=10: [
            names[i:i + WRITE_CHUNK] for i in range(0, len(names), WRITE_CHUNK)]
        try:
            write_parallel(docnames, max(nproc, writers))
        finally:
            sphinx.builders.make_chunks = sphinx_chunks

    in_small_chunks.plusdig_chunks = True  # type: ignore[attr-defined]
    builder._write_parallel = in_small_chunks


def _expected(env: BuildEnvironment) -> dict[str, set[str]]:
    """Files of the folders a page's writing fills that the environment still uses."""
    from plusdig.sphinx.sitedownloads import DOWNLOAD_DIR, INDEX, index_entries

    images = {unique for _docs, unique in env.images.values()}
    downloads = {dest for _docs, dest in env.dlfiles.values()}
    mine = {INDEX} | {f for entry in index_entries(env) for f in entry["files"]}
    return {"_images": images, "_downloads": downloads, DOWNLOAD_DIR: mine}


def sweep(env: BuildEnvironment, staging: Path) -> list[str]:
    """Delete the seed's files no page uses any more (see module doc); return them."""
    gone = []
    for folder, keep in _expected(env).items():
        root = staging / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and rel not in keep:
                path.unlink()
                gone.append(f"{folder}/{rel}")
        for path in sorted(root.rglob("*"), reverse=True):  # folders left empty
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return gone


def finish(app: Sphinx, staging: Path) -> None:
    """Before a successful writing build publishes ``staging``: sweep a partial write's
    leftovers, and record what the site was written with."""
    plan = getattr(app, "plusdig_partial", None)
    if plan is None:
        return
    if plan["partial"]:
        sweep(app.env, staging)
    record = {k: plan[k] for k in ("generation", "surroundings", "nav")}
    tmp = staging / (PARTIAL_FILE + ".tmp")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(tmp, staging / PARTIAL_FILE)
