"""Partial writes (``plusdig.sphinx.partial``): an edit rewrites the pages it affects, no fewer.

A reduced copy of the book with the site's own extensions (downloads, editions, the PDF
notice, table captions, the reader's site) and four pages: chapter A (a section with a
label), chapter B (a reference to A's section and to the survey probe's figure, a citation),
the survey probe (a figure: an image and downloads) and a bibliography page. One output
folder is built once and then edited in steps; after each build its site must equal a clean
build of the same sources file for file (``test_build_integrity.assert_same_site``):

- a text edit in A writes A (and what Sphinx always writes: the root), and leaves every other
  page as it was (same modification time);
- a new title of A, a new label in A referenced from B, a move in ``_toc.yml`` and a new
  citation each change what other pages show: every page is written;
- a changed figure (the probe's code) writes the probe's page and removes the old image.

Run under the shared CPU lock (it builds the reduced book about a dozen times).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml
from buildkit import REPO, build, make_copy
from test_build_integrity import assert_same_site, site

from plusdig.sphinx.partial import PARTIAL_FILE

pytestmark = pytest.mark.build

PROBE = "book/probe/survey"
EXTENSIONS = ["plusdig.sphinx.build", "plusdig.sphinx.site", "plusdig.sphinx.sitedownloads",
              "plusdig.sphinx.editions", "plusdig.sphinx.pdfstatus", "plusdig.sphinx.tablefig",
              "plusdig.sphinx.reader"]
ENV = {"SOURCE_DATE_EPOCH": "1767225600"}  # the same build date for every build
PAGES = {
    "book/kapitel-a.md": "# Kapitel A\n\nIndledning til kapitel A.\n\n(kapitel-a-afsnit)=\n"
                         "## Et afsnit i A\n\nTekst i afsnittet.\n",
    "book/kapitel-b.md": "# Kapitel B\n\nSe afsnittet {ref}`kapitel-a-afsnit` og "
                         "{numref}`fig-surveyprobe` ({cite:t}`kania2011`).\n",
    "book/litteratur.md": "# Litteratur\n\n```{bibliography}\n```\n",
}
DATA_PAGE = "book/appendix/data-og-downloads"  # lists every chapter's downloads
CHAPTERS = ["book/kapitel-a", "book/kapitel-b", PROBE, "book/litteratur", DATA_PAGE]


@dataclass
class Book:
    copy: Path
    chain: Path        # the output folder every step builds into
    base: Path

    def build(self) -> str:
        return build(self.copy, self.chain, strict=False, env=ENV)

    def clean(self, name: str) -> dict[str, bytes]:
        out = self.base / f"clean-{name}"
        build(self.copy, out, strict=False, env=ENV)
        return site(out)

    def edit(self, rel: str, change: Callable[[str], str]) -> None:
        path = self.copy / rel
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def _times(out: Path) -> dict[str, int]:
    root = out / "_build" / "html"
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns
            for p in root.rglob("*.html")}


def _written(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name in after if before.get(name) != after[name]}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    base = tmp_path_factory.mktemp("partial")
    copy = make_copy(base / "repo", [PROBE, DATA_PAGE])
    for folder in ("book/_templates", "locales"):  # the site's templates and Danish texts
        shutil.copytree(REPO / folder, copy / folder)
    for rel, text in PAGES.items():
        (copy / rel).write_text(text, encoding="utf-8")
    cfg = yaml.safe_load((copy / "_config.yml").read_text(encoding="utf-8"))
    cfg["sphinx"]["extra_extensions"] = EXTENSIONS
    (copy / "_config.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    _toc(copy, CHAPTERS)
    b = Book(copy, base / "chain", base)
    b.build()
    return b


def _toc(copy: Path, chapters: list[str]) -> None:
    toc = {"format": "jb-book", "root": "book/index", "chapters": [{"file": d} for d in chapters]}
    (copy / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")


def _full(log: str) -> bool:
    return "plusdig.sphinx.partial: every page is written" in log


def _every_page_as_clean(book: Book, name: str, page: str, shows: str) -> None:
    """Build after an edit other pages show: every page written, ``page`` shows ``shows``,
    and the site equals a clean build's."""
    log = book.build()
    assert _full(log), log[-3000:]
    got = site(book.chain)
    assert shows in got[page].decode(), page
    assert_same_site(got, book.clean(name))


def test_a_text_edit_writes_its_page_only(book: Book) -> None:
    before = _times(book.chain)
    book.edit("book/kapitel-a.md", lambda t: t.replace("Tekst i afsnittet.",
                                                       "Tekst i afsnittet, nu rettet."))
    log = book.build()
    assert "only the changed pages are written" in log, log[-3000:]
    written = _written(before, _times(book.chain))
    assert "book/kapitel-a.html" in written
    assert not written & {"book/kapitel-b.html", f"{PROBE}.html", "book/litteratur.html",
                          f"{DATA_PAGE}.html"}, written
    assert len(written) < len(before) / 2, written
    got = site(book.chain)
    assert "nu rettet" in got["book/kapitel-a.html"].decode()
    assert_same_site(got, book.clean("text"))
    record = json.loads((book.chain / "_build" / "html" / PARTIAL_FILE).read_text())
    assert record["generation"] == (book.chain / "_build" / "html" / ".plusdig-generation"
                                    ).read_text().strip()


def test_a_new_title_rewrites_every_page(book: Book) -> None:
    book.edit("book/kapitel-a.md", lambda t: t.replace("# Kapitel A\n", "# Kapitel A, omdøbt\n"))
    log = book.build()
    assert _full(log) and "titles" in log, log[-3000:]
    got = site(book.chain)
    for page in ("book/kapitel-b.html", f"{PROBE}.html", "book/litteratur.html"):
        assert "Kapitel A, omdøbt" in got[page].decode(), page  # the sidebar
    assert_same_site(got, book.clean("title"))


def test_a_new_label_referenced_elsewhere_rewrites_every_page(book: Book) -> None:
    book.edit("book/kapitel-a.md", lambda t: t + "\n(kapitel-a-nyt)=\n## Et nyt afsnit\n\nMere.\n")
    book.edit("book/kapitel-b.md", lambda t: t + "\nOg {ref}`kapitel-a-nyt`.\n")
    _every_page_as_clean(book, "label", "book/kapitel-b.html", "Et nyt afsnit")


def test_a_toc_move_rewrites_every_page(book: Book) -> None:
    _toc(book.copy, ["book/kapitel-b", "book/kapitel-a", PROBE, "book/litteratur", DATA_PAGE])
    log = book.build()
    assert _full(log) and "surroundings" in log, log[-3000:]
    assert_same_site(site(book.chain), book.clean("toc"))


def test_a_new_citation_rewrites_every_page(book: Book) -> None:
    book.edit("book/kapitel-a.md", lambda t: t + "\nSe også {cite:t}`preskill2014`.\n")
    _every_page_as_clean(book, "citation", "book/litteratur.html", "Preskill")


def test_a_changed_figure_leaves_no_old_image(book: Book) -> None:
    before = {n for n in site(book.chain) if n.startswith("_images/")}
    nb_path = book.copy / f"{PROBE}.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.source = code.source.replace("figsize=(3, 2)", "figsize=(3, 2.5)")
    nbformat.write(nb, nb_path)
    book.build()
    got = site(book.chain)
    after = {n for n in got if n.startswith("_images/")}
    assert after != before, "the figure did not change"
    assert_same_site(got, book.clean("figure"))


def test_a_second_text_edit_after_full_writes_is_partial_again(book: Book) -> None:
    before = _times(book.chain)
    book.edit("book/kapitel-b.md", lambda t: t.replace("Se afsnittet", "Læs afsnittet"))
    log = book.build()
    assert "only the changed pages are written" in log, log[-3000:]
    written = _written(before, _times(book.chain))
    assert "book/kapitel-b.html" in written and "book/kapitel-a.html" not in written, written
    assert_same_site(site(book.chain), book.clean("text-2"))


def test_a_rerun_notebooks_widget_ids_are_not_navigation() -> None:
    """A re-executed notebook with widgets gets new model ids in its page's widget state
    (``nb_metadata[doc]["js_files"]``), which only that page shows: the navigation digest
    must not change (else every code edit wrote every page), while its glue keys, which
    other pages can render, still count."""
    from types import SimpleNamespace

    from plusdig.sphinx.partial import nav_parts

    def env(model_id: str, glue: list[str]) -> SimpleNamespace:
        state = {"type": "application/vnd.jupyter.widget-state+json",
                 "body": json.dumps({"state": {model_id: {"model_name": "LayoutModel"}}})}
        return SimpleNamespace(found_docs={"book/a"}, nb_metadata={"book/a": {
            "exec_data": {"runtime": float(len(model_id))}, "glue": glue,
            "js_files": {"ipywidgets_state": (None, state)}}})

    first = nav_parts(env("06bf2a36", ["n"]))  # type: ignore[arg-type]
    assert nav_parts(env("9c1d7e00ff", ["n"])) == first  # type: ignore[arg-type]
    assert nav_parts(env("06bf2a36", ["n", "m"]))["nb_metadata"] \
        != first["nb_metadata"]  # type: ignore[arg-type]


def test_every_page_written_in_parallel_is_the_same_site_as_written_serially(book: Book) -> None:
    """A build that writes every page writes them in two processes (Sphinx's parallel write);
    ``PLUSDIG_WRITE_JOBS=1`` writes them one by one. Both publish the same files, byte for
    byte (the reduced book's pages, figure, downloads, editions and PDF notice)."""
    serial, parallel = book.base / "serial", book.base / "parallel"
    log_1 = build(book.copy, serial, strict=False, env={**ENV, "PLUSDIG_WRITE_JOBS": "1"})
    log_2 = build(book.copy, parallel, strict=False, env=ENV)
    assert _full(log_1) and _full(log_2)
    assert "every page is written in parallel" in log_2, log_2[-3000:]
    assert "in parallel" not in log_1
    assert_same_site(site(parallel), site(serial))


def test_parallel_writing_only_where_sphinx_allows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from plusdig.sphinx.partial import WRITE_JOBS_ENV, write_in_parallel

    def app(name: str = "html", safe: tuple[bool | None, ...] = (True, True),
            parallel: int = 1) -> SimpleNamespace:
        return SimpleNamespace(
            parallel=parallel, builder=SimpleNamespace(name=name, allow_parallel=True),
            extensions={f"e{i}": SimpleNamespace(parallel_write_safe=s)
                        for i, s in enumerate(safe)})

    monkeypatch.delenv("PLUSDIG_BUILD_PAUSE", raising=False)
    monkeypatch.delenv(WRITE_JOBS_ENV, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    ok = app()
    assert write_in_parallel(ok) and ok.parallel == 2  # type: ignore[arg-type]
    for refused in (app("singlehtml"), app(safe=(True, False)), app(safe=(None,))):
        assert not write_in_parallel(refused) and refused.parallel == 1  # type: ignore[arg-type]
    own = app(parallel=4)  # a -j of the caller's stays
    assert not write_in_parallel(own) and own.parallel == 4  # type: ignore[arg-type]
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert not write_in_parallel(app())  # type: ignore[arg-type]
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setenv(WRITE_JOBS_ENV, "1")
    assert not write_in_parallel(app())  # type: ignore[arg-type]
    monkeypatch.setenv("PLUSDIG_BUILD_PAUSE", "write:/tmp/x")
    monkeypatch.delenv(WRITE_JOBS_ENV)
    assert not write_in_parallel(app())  # type: ignore[arg-type]
    monkeypatch.delenv("PLUSDIG_BUILD_PAUSE")
    for bad in ("to", "0", "-1", "1.5"):
        monkeypatch.setenv(WRITE_JOBS_ENV, bad)
        with pytest.raises(ValueError, match=WRITE_JOBS_ENV):
            write_in_parallel(app())  # type: ignore[arg-type]


def test_a_word_an_edit_removes_leaves_the_search_index(book: Book) -> None:
    """A partial write updates the search index: a word the edit removed is gone from it, as
    in a clean build (Sphinx's incremental index would keep it with no page)."""
    book.edit("book/kapitel-a.md", lambda t: t.replace("Indledning til kapitel A.",
                                                       "Indledning til kapitel A. Zebrafinker."))
    assert "only the changed pages are written" in book.build()
    assert b"zebrafink" in site(book.chain)["searchindex.js"].lower()
    book.edit("book/kapitel-a.md", lambda t: t.replace(" Zebrafinker.", ""))
    log = book.build()
    assert "only the changed pages are written" in log, log[-3000:]
    got = site(book.chain)
    assert b"zebrafink" not in got["searchindex.js"].lower()
    assert_same_site(got, book.clean("word-removed"))
