"""Two clean builds of the same commit give the same pages and identical figure images.

Builds a reduced copy of the book (a real chapter with a figure, a probe notebook and the
colophon) twice from scratch into separate folders and compares every HTML page (after
removing the random widget model ids and the colophon's build time) and every image byte for
byte. The first build forks its kernels from a kernel server (warm kernels, the default), the
second starts each kernel cold (``PLUSDIG_COLD_KERNELS=1``): the same pages also prove that
warm kernels give a cold run's outputs.

``test_every_notebook_same_outputs_cold_and_warm`` compares every cell's outputs (memory
addresses and widget model ids, which differ between any two runs, removed) and the files read
of every notebook of the book's TOC, cold and warm (forked from a kernel server). It is in this
file so that the cold build's runs of the chapters in :data:`SHARED_COLD` are its cold runs too
(one cold run each, in the same test process: ``--dist loadfile`` keeps a file together).

``test_kernel_outputs_same_with_and_without_memo`` (the figure memo, tests/test_figure_memo.py
has the rest) is here too: the warm build's run of the chapter is its run with an empty memo.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from buildkit import BUILD_TIME, REPO, build, html, make_copy, normalise, page_text
from test_warm_kernels import _outputs

from plusdig.sphinx.build import toc_notebooks
from plusdig.sphinx.execute import _in_threads
from plusdig.sphinx.forkserver import ForkServer

pytestmark = pytest.mark.build

CHAPTERS = ["book/report/aktiviteterne", "book/probe/data", "book/appendix/byggeoplysninger"]
IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".pdf"}
#: Chapters of :data:`CHAPTERS` whose run in the cold build is also the cold run of
#: ``test_every_notebook_same_outputs_cold_and_warm``: the same notebook file reading the same
#: bytes (checked). Not the colophon: it shows the commit, and the copy has a commit of its own.
SHARED_COLD = ("book/report/aktiviteterne",)


def _files(root: Path, suffixes: set[str]) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix.lower() in suffixes}


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("determinism")
    copy = make_copy(base / "repo", CHAPTERS, git=True)
    out1, out2 = base / "out1", base / "out2"
    warm = build(copy, out1, strict=False)
    cold = build(copy, out2, strict=False, env={"PLUSDIG_COLD_KERNELS": "1"})
    assert "from the kernel server" in warm and "from the kernel server" not in cold
    return copy, out1 / "_build" / "html", out2 / "_build" / "html"


def test_same_text_on_every_page(two_builds: tuple[Path, Path, Path]) -> None:
    _, html1, html2 = two_builds
    pages1, pages2 = _files(html1, {".html"}), _files(html2, {".html"})
    assert pages1.keys() == pages2.keys()
    assert {"book/report/aktiviteterne.html", "book/appendix/byggeoplysninger.html"} <= pages1.keys()
    differ = [name for name in pages1
              if normalise(pages1[name].read_text(encoding="utf-8"))
              != normalise(pages2[name].read_text(encoding="utf-8"))]
    assert differ == []


def test_identical_figure_images(two_builds: tuple[Path, Path, Path]) -> None:
    _, html1, html2 = two_builds
    images1, images2 = _files(html1, IMAGE_SUFFIXES), _files(html2, IMAGE_SUFFIXES)
    assert images1.keys() == images2.keys()
    figures = [n for n in images1 if n.startswith("_images/")]
    assert figures, "the chapter's figure was not written"
    differ = [n for n in images1 if images1[n].read_bytes() != images2[n].read_bytes()]
    assert differ == []


def test_png_carries_no_timestamp_or_software_tag(two_builds: tuple[Path, Path, Path]) -> None:
    _, html1, _ = two_builds
    for png in _files(html1 / "_images", {".png"}).values():
        data = png.read_bytes()
        assert b"tIME" not in data, png
        assert b"Software" not in data, png


def test_colophon_shows_commit_and_clean_tree(two_builds: tuple[Path, Path, Path]) -> None:
    copy, html1, _ = two_builds
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=copy, check=True,
                            capture_output=True, text=True).stdout.strip()
    text = page_text(html(html1.parents[1], "book/appendix/byggeoplysninger"))
    assert commit in text
    assert "ren (svarer præcis til committet)" in text
    assert "syntetiske data" in text
    assert BUILD_TIME.search(text)
    assert "Sphinx" in text or "sphinx" in text


@pytest.mark.build
def test_every_notebook_same_outputs_cold_and_warm(
        request: pytest.FixtureRequest, two_builds: tuple[Path, Path, Path]) -> None:
    """Every notebook of the TOC, cold and warm: the same outputs and the same files read.

    The warm outputs are the book's own build's (``make book``, the ``built_site`` fixture)
    where its dependency record says they are current and came from a forked kernel; any
    other notebook runs warm here. The cold outputs of :data:`SHARED_COLD` are the cold
    build's (:func:`_build_runs`); every other notebook runs cold here, first: while another
    test process may still be building the book (``make test``), instead of waiting for it.
    """
    from jupyter_cache import get_cache

    from plusdig.sphinx.execute import environment_fingerprint, is_current, load_state

    notebooks = [str(p) for p in toc_notebooks(REPO)]
    assert len(notebooks) >= 10
    env = {k: v for k, v in os.environ.items() if k.startswith("PLUSDIG_")
           and k not in ("PLUSDIG_READ_LOG", "PLUSDIG_KERNEL_SERVER", "PLUSDIG_COLD_KERNELS")}
    calls = [(p, str(Path(p).parent), 300, False, env) for p in notebooks]
    copy, _html1, html2 = two_builds
    shared = _build_runs(copy, html2, "cold")
    assert shared.keys() <= set(notebooks), "a shared chapter is not in the book's TOC"
    cold = [(p, nb_json, None, reads) for p, (nb_json, reads) in shared.items()]
    cold += [(path, nb_json, err, reads) for path, nb_json, _, err, reads, _
             in _in_threads([(*c, None) for c in calls if c[0] not in shared], 2)]
    assert sorted(c[0] for c in cold) == sorted(notebooks)
    built_site: Path = request.getfixturevalue("built_site")
    cache_path = built_site.parent / ".jupyter_cache"
    cache, state = get_cache(str(cache_path)), load_state(cache_path)
    env_fp = environment_fingerprint(REPO)
    warm: dict[str, tuple[str, list[str]]] = {}
    for path in notebooks:
        why, record = is_current(cache, path, state, env_fp)
        if why is None and state[path].get("kernel") == "forked":
            bundle = cache.get_cache_bundle(record.pk)
            warm[path] = (nbformat.writes(bundle.nb), list(state[path]["reads"]))
    missing = [c for c in calls if c[0] not in warm]
    if missing:
        server = ForkServer.start(tempfile.mkdtemp(prefix="pdz-"))
        try:
            for path, nb_json, _, err, reads, _ in _in_threads(
                    [(*c, server) for c in missing], 2):
                assert err is None, f"{Path(path).name} (warm): {err}"
                warm[path] = (nb_json, reads)
        finally:
            server.stop()
    for path, c_nb, c_err, c_reads in cold:
        name = Path(path).name
        assert c_err is None, f"{name} (cold): {c_err}"
        w_nb, w_reads = warm[path]
        w_cells, w_models = _outputs(w_nb)
        c_cells, c_models = _outputs(c_nb)
        assert any(not c.endswith(", []]") for c in c_cells), f"{name}: no outputs at all"
        differ = [i for i, (a, b) in enumerate(zip(w_cells, c_cells, strict=False)) if a != b]
        assert len(w_cells) == len(c_cells) and differ == [], f"{name}: cells {differ} differ"
        assert w_models == c_models, f"{name}: widget state differs"
        assert w_reads == c_reads, f"{name}: read other files"


def _build_runs(copy: Path, html: Path, kernel: str) -> dict[str, tuple[str, list[str]]]:
    """The runs of :data:`SHARED_COLD` in the build of ``copy`` whose site is ``html`` (the
    cold build: ``kernel="cold"``; the warm one: ``"forked"``), as runs of the repository's
    notebooks.

    Each: the notebook of the repository (path) → its outputs and the files it read, read from
    the build's jupyter-cache and dependency record. The copy's notebook must be the
    repository's byte for byte and its record a ``kernel`` kernel's for those very outputs; a
    file it read in the copy counts as the repository's file of the same relative path, which
    must hold the same bytes (files outside the copy are kept as they are).
    """
    from jupyter_cache import get_cache

    from plusdig.sphinx.execute import _record_run, load_state

    copy = copy.resolve()
    cache_path = html.parent / ".jupyter_cache"
    cache, state = get_cache(str(cache_path)), load_state(cache_path)
    runs: dict[str, tuple[str, list[str]]] = {}
    for docname in SHARED_COLD:
        assert docname in CHAPTERS
        mine, theirs = REPO / f"{docname}.ipynb", copy / f"{docname}.ipynb"
        assert theirs.read_bytes() == mine.read_bytes(), f"{docname}: the copy differs"
        entry = state[str(theirs)]
        assert entry["kernel"] == kernel, f"{docname}: not run in a {kernel} kernel"
        record = cache.match_cache_notebook(nbformat.read(theirs, as_version=4))
        assert (record.hashkey, _record_run(record)) == (entry["hashkey"], entry["run"])
        reads = []
        for read in entry["reads"]:
            if not Path(read).is_relative_to(copy):
                reads.append(read)
                continue
            rel = Path(read).relative_to(copy)
            assert (copy / rel).read_bytes() == (REPO / rel).read_bytes(), \
                f"{docname}: read {rel}, which differs in the copy"
            reads.append(str(REPO / rel))
        runs[str(mine)] = (nbformat.writes(cache.get_cache_bundle(record.pk).nb), sorted(reads))
    return runs


@pytest.mark.build
def test_kernel_outputs_same_with_and_without_memo(two_builds: tuple[Path, Path, Path],
                                                   tmp_path: Path) -> None:
    """The slowest chapter in a forked kernel without the figure memo
    (:mod:`plusdig.present.figmemo`), with an empty one (filling it) and with the full one:
    the same outputs cell for cell; the full memo's run takes every layout and render from it
    (it reads every entry and writes none).

    The run with an empty memo is the warm build's (a clean build: its memo folder was empty
    and its kernels forked, checked); the other two fork their kernels from the session's
    kernel server (tests/buildkit.py), the full one with a copy of the memo that build filled.
    """
    import shutil

    from buildkit import kernel_server

    from plusdig.present import figmemo
    from plusdig.sphinx.execute import _execute_one

    copy, html1, _html2 = two_builds
    nb = str(REPO / "book" / "report" / "aktiviteterne.ipynb")
    filling_json, filling_reads = _build_runs(copy, html1, "forked")[nb]
    memo = tmp_path / "memo"
    shutil.copytree(html1.parent / figmemo.FIGURE_MEMO, memo)
    assert len([p for p in memo.iterdir() if p.suffix == ".layout"]) >= 15
    hour_ago = time.time() - 3600  # a read marks an entry used (its mtime); a write renames
    for entry in memo.iterdir():
        os.utime(entry, (hour_ago, hour_ago))
    entries = {p.name: p.stat().st_ino for p in memo.iterdir()}
    session = kernel_server()
    server = session or ForkServer.start(tempfile.mkdtemp(prefix="pdz-"))
    try:
        runs = [_execute_one(nb, str(Path(nb).parent), 300, False, env, server)
                for env in ({}, {figmemo.MEMO_ENV: str(memo)})]
    finally:
        if session is None:
            server.stop()
    for _path, _nb_json, _seconds, err, _reads, _started in runs:
        assert err is None
    (plain, full), filling = (_outputs(r[1]) for r in runs), _outputs(filling_json)
    assert plain == filling == full
    assert any(not c.endswith(", []]") for c in plain[0]), "no outputs at all"
    assert runs[0][4] == runs[1][4] and sorted(runs[0][4]) == filling_reads  # the same files read
    after = {p.name: p.stat() for p in memo.iterdir()}
    assert {name: st.st_ino for name, st in after.items()} == entries  # none written anew
    assert [name for name, st in after.items() if st.st_mtime <= hour_ago] == []  # all read
    json.loads(runs[1][1])  # a whole notebook
