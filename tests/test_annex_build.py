"""Build tests of the activity annex: the real pipeline (jupyter-book + plusdig.sphinx.annex) on a
temporary copy of the repository, checked in the built HTML.

To stay fast the copy's ``_toc.yml`` holds only the annex (its index as root, the overview
notebook, the first-year page and the activity glob); everything else is the real book. The
first build uses the real data; then a 14th activity is added to the copy's data and the same
output folder is rebuilt incrementally, as an editor would.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from buildkit import build_command, kernel_server_env, run_module
from plusdig.sphinx import annex_context
from plusdig.data.load import load_activities, load_first_year
from plusdig.core.paths import REPO_ROOT
from test_annex import activity_fields  # the same field list the unit tests check

pytestmark = pytest.mark.build

IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", "node_modules", ".pytest_cache",
                                ".ruff_cache", "__pycache__", ".jupyter_cache", "generated",
                                ".bench", "private")
ANNEX_TOC = """format: jb-book
root: book/annex/index
parts:
  - caption: "Del II: Aktivitetskataloget"
    chapters:
      - file: book/annex/oversigt
      - file: book/annex/generated/det-foerste-aar
      - glob: book/annex/generated/aktivitet-*
      - file: book/stub-method
"""
#: A stand-in for the appendix the annex's pages refer to (its coding rules).
METHOD_STUB = "(saadan-er-bogen-lavet)=\n# Sådan er bogen lavet\n\nPrøveside.\n"
NEW_TITLE = "Prøveaktivitet nummer fjorten"
#: Configuration that needs the vendored files of `make vendor` (absent on a fresh checkout).
VENDOR_CONFIG = ("html_static_path", "nb_ipywidgets_js", "mathjax_path")
#: A stand-in for the report chapters: one condition label and one theme label.
PROBE_DOC = """# Prøvekapitel

(betingelse-common_agenda)=
## Fælles dagsorden

(tema-follow-up)=
## Opfølgning
"""


def norm(text: str) -> str:
    return " ".join(text.split())


class Book:
    """A temporary copy of the repository with an annex-only TOC, and its build folder."""

    def __init__(self, root: Path, *, group_size: int | None = None) -> None:
        self.repo = root / "repo"
        self.out = root / "out"
        shutil.copytree(REPO_ROOT, self.repo, ignore=IGNORE)
        (self.repo / "_toc.yml").write_text(ANNEX_TOC, encoding="utf-8")
        (self.repo / "book" / "stub-method.md").write_text(METHOD_STUB, encoding="utf-8")
        cfg_path = self.repo / "_config.yml"
        cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
        sphinx_config = cfg.setdefault("sphinx", {}).setdefault("config", {})
        if not (REPO_ROOT / "book" / "_vendor").is_dir():  # `make vendor` not run: do without
            for key in VENDOR_CONFIG:
                sphinx_config.pop(key, None)
        if group_size is not None:
            sphinx_config["plusdig_annex_group_size"] = group_size
        cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        self.data = self.repo / "data"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PLUSDIG_")}
        self.env["PLUSDIG_DATA"] = str(self.data)

    def build(self) -> str:
        # make book's build (jupyter-book build -n -W --keep-going), forked from the tests'
        # build server
        cmd = build_command(self.repo, self.out)
        code, log = run_module(cmd[2], cmd[3:], {**self.env, **kernel_server_env()},
                               timeout=900)
        assert code == 0, log[-5000:]
        warnings = [line for line in log.splitlines()
                    if "WARNING" in line and "[IPKernelApp]" not in line]
        assert not warnings, "\n".join(warnings)
        return log

    @property
    def html(self) -> Path:
        return self.out / "_build" / "html"

    def page(self, rel: str) -> BeautifulSoup:
        return BeautifulSoup((self.html / rel).read_text(encoding="utf-8"), "html.parser")

    def activity_pages(self) -> dict[int, BeautifulSoup]:
        """Built activity page → the activity id its fact box states (exactly one per page)."""
        pages: dict[int, BeautifulSoup] = {}
        for path in sorted((self.html / annex_context.GENERATED_DIR).glob(f"{annex_context.PAGE_PREFIX}*.html")):
            if path.name.startswith(f"{annex_context.PAGE_PREFIX}gruppe-"):
                continue
            soup = self.page(path.relative_to(self.html).as_posix())
            titles = [h.get_text(" ", strip=True) for h in soup.select("article h1")]
            ids = [int(m.group(1)) for t in titles if (m := re.match(r"Aktivitet (\d+):", t))]
            assert len(ids) == 1, f"{path.name}: {titles}"
            assert ids[0] not in pages, f"activity {ids[0]} has two pages"
            pages[ids[0]] = soup
        return pages


def article_text(soup: BeautifulSoup) -> str:
    article = soup.select_one("article")
    assert article is not None
    return norm(article.get_text(""))


def check_pages(book: Book) -> dict[int, BeautifulSoup]:
    """Every activity in the copy's data has exactly one page, every page one activity, and
    every non-empty field of the activity is on its page; links are clickable."""
    acts = load_activities(book.data)
    ctx = annex_context.load_context(book.data)
    pages = book.activity_pages()
    assert sorted(pages) == [a.id for a in acts]
    for a in acts:
        soup = pages[a.id]
        text = article_text(soup)
        missing = [f for f in activity_fields(a, ctx) if norm(f) not in text]
        assert not missing, f"activity {a.id}: not on its page: {missing}"
        hrefs = {link.get("href") for link in soup.select("article a")}
        assert set(a.links) <= hrefs, f"activity {a.id}: links not clickable"
        for note in a.source_notes:  # incomplete source: said on the page, in a warning box
            boxes = [norm(b.get_text("")) for b in soup.select("article .admonition.warning")]
            assert any(norm(note.note) in b for b in boxes), (a.id, note.note)
    return pages


def sidebar(book: Book, page: str = "book/annex/oversigt.html") -> list[str]:
    nav = book.page(page).select("nav.bd-docs-nav a.reference")
    return [a.get_text(" ", strip=True) for a in nav]


def overview_rows(book: Book) -> dict[int, str]:
    table = book.page("book/annex/oversigt.html").select_one("table.plusdig-annex-overview")
    assert table is not None
    rows = {}
    for tr in table.select("tbody tr"):
        cells = [norm(td.get_text(" ")) for td in tr.select("td")]
        rows[int(cells[0])] = " | ".join(cells)
    return rows


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    b = Book(tmp_path_factory.mktemp("annex-build"))
    b.build()
    return b


def test_every_activity_has_one_page_with_every_field(book: Book) -> None:
    check_pages(book)


def test_first_year_page_and_foreword(book: Book) -> None:
    fy = load_first_year(book.data)
    text = article_text(book.page(f"{annex_context.GENERATED_DIR}/{annex_context.FIRST_YEAR_DOC}.html"))
    for ws in fy.workstreams:
        for item in [ws.title, *ws.points]:
            assert norm(item) in text
    index = article_text(book.page("book/annex/index.html"))
    for item in [*fy.forord, *fy.laesevejledning]:
        assert norm(item) in index


def test_sidebar_lists_first_year_and_every_activity_in_order(book: Book) -> None:
    entries = sidebar(book)
    acts = load_activities(book.data)
    expected = ["Det første år"] + [f"Aktivitet {a.id}: {norm(a.title)}" for a in acts]
    assert [e for e in entries if e in expected] == expected


def test_overview_table_and_timeline(book: Book) -> None:
    acts = load_activities(book.data)
    rows = overview_rows(book)
    assert sorted(rows) == [a.id for a in acts]
    for a in acts:
        assert norm(a.title) in rows[a.id] and annex_context.period_text(a) in rows[a.id]
    soup = book.page("book/annex/oversigt.html")
    figure = soup.select_one("#fig-annex-tidslinje")
    assert figure is not None and figure.select_one("img[alt]") is not None
    undated = [a for a in acts if a.period is None or not a.period.years]
    text = article_text(soup)
    assert f"For {len(undated)} aktiviteter angiver kilden ikke tidspunktet" in text


#: A backslash before a quotation mark: a MyST escape printed as it is (issue 12).
STRAY_BACKSLASH = re.compile(r"\\[\"'”“„«»‘’‚]")


def test_no_built_page_has_a_backslash_before_a_quotation_mark(book: Book) -> None:
    """Issue 12: ``\\”Ja og…”``, ``\\”Unge viser vej”`` and ``\\”Et lettere liv”`` were printed."""
    pages = sorted(book.html.rglob("*.html"))
    assert len(pages) > len(load_activities(book.data))
    for path in pages:
        text = norm(book.page(path.relative_to(book.html).as_posix()).get_text(" "))
        assert not STRAY_BACKSLASH.search(text), (path.name, STRAY_BACKSLASH.findall(text))
    track = next(a for a in load_activities(book.data) if (a.track or "").startswith("”"))
    assert track.track in article_text(book.activity_pages()[track.id])


def cross_links(soup: BeautifulSoup) -> tuple[dict[str, str], list[str]]:
    """Cross-links to the report on a page: linked label → href, and unlinked texts."""
    section = soup.select_one("section#i-evalueringsrapporten")
    assert section is not None
    linked = {a.get_text(strip=True): a["href"] for a in section.select("a.reference.internal")}
    plain = [s.get_text(strip=True) for s in section.select("span.xref.std-ref")
             if s.find_parent("a") is None]
    return linked, plain


def test_cross_links_are_plain_text_while_the_labels_are_missing(book: Book) -> None:
    ctx = annex_context.load_context(book.data)
    pages = book.activity_pages()
    for aid, conds in ctx.conditions.items():
        linked, plain = cross_links(pages[aid])
        assert not linked
        assert [label for _code, label, _why in conds] == plain[:len(conds)]


def test_a_14th_activity_gets_its_page_and_overview_row(book: Book) -> None:
    # a report chapter with two of the labels appears at the same time: the unchanged page of
    # activity 4 must now link to them (and only to them)
    (book.repo / "book" / "probe.md").write_text(PROBE_DOC, encoding="utf-8")
    with (book.repo / "_toc.yml").open("a", encoding="utf-8") as fh:
        fh.write("      - file: book/probe\n")
    path = book.data / "activities.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert max(r["id"] for r in raw) == 13
    new = {**raw[5], "id": 14, "slug": "proeveaktivitet", "title": NEW_TITLE,
           "title_source": NEW_TITLE.upper()}
    path.write_text(yaml.safe_dump([*raw, new], allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    book.build()  # incremental: same output folder
    pages = check_pages(book)
    assert 14 in pages
    assert (book.html / annex_context.GENERATED_DIR / f"{annex_context.PAGE_PREFIX}14.html").is_file()
    assert f"Aktivitet 14: {NEW_TITLE}" in sidebar(book)
    # also in the sidebar of a page whose source did not change (an incremental Sphinx build
    # alone would leave it stale)
    assert f"Aktivitet 14: {NEW_TITLE}" in sidebar(book, f"{annex_context.GENERATED_DIR}/aktivitet-01.html")
    rows = overview_rows(book)
    assert sorted(rows) == list(range(1, 15))
    assert NEW_TITLE in rows[14]

    ctx = annex_context.load_context(book.data)
    linked, plain = cross_links(pages[4])
    assert set(linked) == {"Fælles dagsorden", "Opfølgning og vedligeholdelse"}
    assert linked["Fælles dagsorden"].endswith("probe.html#betingelse-common-agenda")
    assert linked["Opfølgning og vedligeholdelse"].endswith("probe.html#tema-follow-up")
    others = [label for code, label, _ in ctx.conditions[4] if code != "common_agenda"]
    assert set(others) <= set(plain)


def test_a_large_annex_is_grouped_in_the_sidebar(tmp_path: Path) -> None:
    """Many activities: groups in the sidebar, each page listing only its own group, so the
    HTML grows linearly with the number of activities (here: groups of 5 for 13 activities)."""
    book = Book(tmp_path, group_size=5)
    log = book.build()
    assert "[plusdig.sphinx.annex] 3 sidebar groups" in log
    pages = check_pages(book)
    acts = load_activities(book.data)
    names = annex_context.activity_docnames(acts)
    groups = ["Aktivitet 1–5", "Aktivitet 6–10", "Aktivitet 11–13"]
    for a in acts:
        entries = sidebar(book, f"{annex_context.GENERATED_DIR}/{names[a.id]}.html")
        assert [e for e in entries if e in groups] == groups
        listed = [e for e in entries if re.match(r"Aktivitet \d+:", e)]
        first = (a.id - 1) // 5 * 5 + 1
        assert listed == [f"Aktivitet {b.id}: {norm(b.title)}" for b in acts
                          if first <= b.id < first + 5], a.id
    assert len(pages) == len(acts)
