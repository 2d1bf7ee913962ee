"""Editions and errata (plusdig.publish.editions, plusdig.sphinx.editions).

Unit tests of the snapshot, the comparison and the release checks, and build tests that
release editions of a reduced book on a temporary git copy (tests/buildkit.py): a count
corrected in ``data/activities.yaml`` is found on the errata page, in the changed page's
notice and in the PDF's errata appendix, and nothing else is listed; a prose change lists
its section and no number.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from buildkit import KERNELSPEC, build, build_env, make_copy, page_text, run_module

from plusdig.publish import editions as ed
from plusdig.sphinx import editions as eds

# --------------------------------------------------------------------------- unit tests


@pytest.mark.parametrize("text", ["2027", "27.1", "2027.0", "2027.1a", "2027-1", "", "v2027.1"])
def test_edition_must_be_year_dot_number(text: str) -> None:
    with pytest.raises(ed.EditionError, match="år.nummer, fx 2027.1"):
        ed.parse_edition(text)


def test_edition_parses() -> None:
    assert ed.parse_edition("2027.12") == (2027, 12)
    assert ed.parse_edition("2027.2") > ed.parse_edition("2027.1")


def test_index_rejects_editions_out_of_order(tmp_path: Path) -> None:
    (tmp_path / "editions").mkdir()
    (tmp_path / "editions" / "udgaver.yml").write_text(
        "- {udgave: '2027.2', dato: 2027-01-02}\n- {udgave: '2027.1', dato: 2027-01-03}\n",
        encoding="utf-8")
    with pytest.raises(ed.EditionError, match="udgave 2027.1: skal komme efter 2027.2"):
        ed.load_index(tmp_path)


PAGE = """<article class="bd-article"><section id="kap"><h1>4. Kapitel<a class="headerlink"
href="#kap">#</a></h1><section id="afsnit"><h2>4.1. Afsnit</h2>
<p>Der var <span class="pasted-text plusdig-glue plusdig-glue-n_x">600</span> elever og
<span class="pasted-text plusdig-glue plusdig-glue-n_x">7</span> skoler.</p>
<table id="T_1a2b3"><caption>Tal</caption><thead><tr><th>Hvad</th><th>Antal</th></tr></thead>
<tbody><tr><td>elever</td><td>600</td></tr><tr><td>skoler</td><td>7</td></tr></tbody></table>
</section></section></article>"""


def snapshot(page: str) -> dict:
    article = BeautifulSoup(page, "html.parser").article
    return {"chapters": {"book/x": ed.page_numbers(article)}}


def test_page_numbers_reads_glued_values_and_table_cells() -> None:
    got = snapshot(PAGE)["chapters"]["book/x"]
    assert got["title"] == "4. Kapitel"
    assert [(v["key"], v["anchor"], v["value"]) for v in got["values"]] == [
        ("n_x", "afsnit", "600"), ("n_x#2", "afsnit", "7")]
    (table,) = got["tables"]
    # pandas' random Styler id is no identity: the caption is
    assert (table["key"], table["anchor"], table["columns"]) == ("Tal", "afsnit",
                                                                 ["Hvad", "Antal"])
    assert [r["cells"] for r in table["rows"]] == [["elever", "600"], ["skoler", "7"]]


def test_compare_lists_exactly_what_changed() -> None:
    old = snapshot(PAGE)
    renamed = snapshot(PAGE.replace(">600<", ">613<").replace(
        "<tr><td>skoler</td><td>7</td></tr>", "<tr><td>klasser</td><td>21</td></tr>"))
    got = [(c.kind, c.old, c.new, c.where) for c in ed.compare(old, renamed)]
    # a row that lost its name as another gained one is the same row, corrected
    assert got == [("value", "600", "613", ""), ("cell", "600", "613", "elever · Antal"),
                   ("cell", "skoler", "klasser", "klasser · Hvad"),
                   ("cell", "7", "21", "klasser · Antal")]
    added = snapshot(PAGE.replace("</tbody>", "<tr><td>klasser</td><td>21</td></tr></tbody>"))
    assert [(c.kind, c.new, c.where) for c in ed.compare(old, added)] == [
        ("row-added", "klasser | 21", "klasser")]
    assert [(c.kind, c.old) for c in ed.compare(added, old)] == [("row-removed", "klasser | 21")]
    assert ed.compare(old, snapshot(PAGE)) == []


def test_prose_sections_by_heading_ignoring_code_fences() -> None:
    md = "# Titel\n\nIndledning.\n\n## Et afsnit\n\nTekst\nher.\n\n```\n# ikke en overskrift\n```\n"
    assert ed.prose_sections(md, ".md") == {
        "Titel": "Indledning.", "Et afsnit": "Tekst her. ``` # ikke en overskrift ```"}


def test_rendered_changes_escape_data_text() -> None:
    change = ed.Change("book/x", "afsnit", "cell", "<b>Tal</b>", "<i>1</i>", "2", "r · k")
    out = eds.describe(change, {})
    assert "<b>" not in "".join(out) and "&lt;b&gt;Tal&lt;/b&gt;" in out[0]
    assert "&lt;i&gt;1" in out[1]


def test_switcher_links_newest_to_the_site_root_and_older_to_their_sites() -> None:
    out = eds.switcher_html(["2027.1", "2027.2"], "2027.1", "../../../",
                            newest_label="Udgave 2027.2 (nyeste)")
    assert 'href="../../../index.html">Udgave 2027.2 (nyeste)' in out
    assert 'href="../../../udgaver/2027.1/index.html" aria-current="page">Udgave 2027.1' in out


# --------------------------------------------------------------------------- build tests
SCHOOL_COUNT = ("elever i målgruppen", 600)  # Ungebussen (activity 1) in data/activities.yaml
TABLE_CAPTION = "Ungebussens tal"

COUNTS_NB = """from myst_nb import glue
import plusdig
from plusdig.core import fmt
from plusdig.present import tables

counts = plusdig.counts_table()
ub = counts[counts["activity_id"] == 1]
pupils = ub.loc[ub["what"] == "elever i målgruppen", "value"].iloc[0]
glue("ub_pupils", fmt.number(pupils), display=False)
glue("ub_schools", fmt.number(ub.loc[ub["what"] == "folkeskoler i Lejre", "value"].iloc[0]),
     display=False)
glue("n_counts", len(counts), display=False)"""

PROSE_MD = """# Om tallene

## Baggrund

Kataloget nævner mange tal.

## Metode

Tallene er talt op fra kataloget.
"""

TOC = {"format": "jb-book", "root": "book/index", "parts": [
    {"caption": "Del I: Prøve", "numbered": True,
     "chapters": [{"file": "book/probe/tal"}, {"file": "book/probe/om"}]},
    {"caption": "Bagstof", "chapters": [{"file": ed.ERRATA_DOC}, {"file": "book/appendix/byggeoplysninger"}]}]}


def _counts_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Ungebussen i tal"),
        nbformat.v4.new_code_cell(COUNTS_NB, metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell(
            "## Målgruppen\n\nUngebussen besøgte {glue:text}`ub_schools` folkeskoler med "
            "{glue:text}`ub_pupils` elever. Kataloget har {glue:text}`n_counts` tal."),
        nbformat.v4.new_code_cell(
            f"tables.styled(ub, {{'what': 'Hvad', 'value': 'Antal'}}, "
            f"caption={TABLE_CAPTION!r})", metadata={"tags": ["remove-input"]}),
    ]
    return nb


def _git(copy: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
                   cwd=copy, check=True, capture_output=True)


def _book(tmp: Path) -> Path:
    copy = make_copy(tmp / "repo", [ed.ERRATA_DOC, "book/appendix/byggeoplysninger"])
    nbformat.write(_counts_notebook(), _mkparent(copy / "book/probe/tal.ipynb"))
    (copy / "book/probe/om.md").write_text(PROSE_MD, encoding="utf-8")
    (copy / "book/index.md").write_text(
        "# Testbog\n\n```{only} html\nUdgave: {{ udgave }}\n```\n\nEn reduceret bog.\n",
        encoding="utf-8")
    (copy / "_toc.yml").write_text(yaml.safe_dump(TOC, allow_unicode=True), encoding="utf-8")
    cfg = yaml.safe_load((copy / "_config.yml").read_text(encoding="utf-8"))
    cfg["sphinx"]["extra_extensions"] = ["plusdig.sphinx.build", "plusdig.sphinx.site",
                                         "plusdig.sphinx.editions"]
    (copy / "_config.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    _git(copy, "config", "user.name", "test")
    _git(copy, "config", "user.email", "test@example.org")
    _git(copy, "add", "-A")
    _git(copy, "commit", "-q", "-m", "test copy")
    return copy


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _builder(copy: Path, out: Path, *, pdf: bool) -> Callable[[], None]:
    def run() -> None:
        build(copy, out)
        if pdf:
            build(copy, out, args=["--builder", "singlehtml"])
            code, log = run_module("plusdig.publish.pdf", [
                "--html", str(out / "_build/singlehtml"), "--out", str(out / "_build/pdf/bog.pdf")],
                build_env(copy), cwd=copy)
            assert code == 0, log
    return run


def _release(copy: Path, out: Path, edition: str, *, pdf: bool = False) -> None:
    ed.release(edition, root=copy, build=_builder(copy, out, pdf=pdf),
               site=out / "_build/html", log=lambda _: None)


@pytest.fixture(scope="module")
def first_edition(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A reduced book released as edition 2027.1 (its build output beside it)."""
    tmp = tmp_path_factory.mktemp("editions")
    copy, out = _book(tmp), tmp / "out"
    _release(copy, out, "2027.1")
    return copy, out


def _clone(first: tuple[Path, Path], tmp: Path) -> tuple[Path, Path]:
    copy, out = first
    shutil.copytree(copy, tmp / "repo", symlinks=True)
    shutil.copytree(out, tmp / "out", symlinks=True)
    return tmp / "repo", tmp / "out"


def _soup(out: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((out / "_build/html" / page).read_text(encoding="utf-8"), "html.parser")


@pytest.mark.build
def test_first_edition_is_recorded_tagged_and_snapshotted(first_edition: tuple[Path, Path]
                                                          ) -> None:
    copy, out = first_edition
    assert [e.name for e in ed.load_index(copy)] == ["2027.1"]
    tags = subprocess.run(["git", "tag"], cwd=copy, capture_output=True, text=True).stdout
    assert tags.split() == ["udgave-2027.1"]
    snap = json.loads((copy / "editions/2027.1.json").read_text(encoding="utf-8"))
    values = {v["label"]: v["value"] for v in snap["chapters"]["book/probe/tal"]["values"]}
    assert values["ub_pupils"] == str(SCHOOL_COUNT[1]) and values["ub_schools"] == "7"
    (table,) = snap["chapters"]["book/probe/tal"]["tables"]
    assert table["label"] == TABLE_CAPTION
    assert ["elever i målgruppen", "600"] in [r["cells"] for r in table["rows"]]
    front = page_text((out / "_build/html/book/index.html").read_text(encoding="utf-8"))
    assert "Udgave: 2027.1 (" in front
    colophon = page_text((out / "_build/html/book/appendix/byggeoplysninger.html")
                         .read_text(encoding="utf-8"))
    assert "Udgave 2027.1 (" in colophon
    errata = page_text((out / "_build/html" / f"{ed.ERRATA_DOC}.html").read_text("utf-8"))
    assert "Udgave 2027.1 er bogens første udgave" in errata
    assert (copy / "udgaver/2027.1/book/index.html").is_file()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=copy, capture_output=True,
                            text=True).stdout
    assert status == ""


@pytest.mark.build
def test_release_refuses_a_dirty_tree_and_a_bad_edition(first_edition: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    copy, out = _clone(first_edition, tmp_path)
    with pytest.raises(ed.EditionError, match="år.nummer"):
        _release(copy, out, "2027")
    with pytest.raises(ed.EditionError, match="efter den seneste udgave, 2027.1"):
        _release(copy, out, "2026.3")
    (copy / "book/probe/om.md").write_text(PROSE_MD + "\nMere.\n", encoding="utf-8")
    with pytest.raises(ed.EditionError, match="ikke er committet"):
        _release(copy, out, "2027.2")


def _correct_count(copy: Path) -> None:
    """600 -> 613 pupils for Ungebussen: the count, its quote and the text, committed."""
    data = copy / "data/activities.yaml"
    text = data.read_text(encoding="utf-8")
    what, old = SCHOOL_COUNT
    needle = f"  - what: {what}\n    value: {old}\n"
    assert text.count(needle) == 1, "the count this test corrects is not in the data"
    assert text.count(f"samlet ca. {old} elever") == 2  # the text and the quote
    text = text.replace(needle, f"  - what: {what}\n    value: 613\n").replace(
        f"samlet ca. {old} elever", "samlet ca. 613 elever")
    data.write_text(text, encoding="utf-8")
    _git(copy, "commit", "-q", "-am", "Ret elevtal")


@pytest.mark.build
def test_corrected_count_is_listed_on_errata_page_notice_and_pdf(
        first_edition: tuple[Path, Path], tmp_path: Path) -> None:
    copy, out = _clone(first_edition, tmp_path)
    _correct_count(copy)
    _release(copy, out, "2027.2", pdf=True)

    site = out / "_build/html"
    errata = _soup(out, f"{ed.ERRATA_DOC}.html").select_one("div.plusdig-aendringer")
    items = errata.select("li")
    texts = [" ".join(li.get_text().split()) for li in items]
    # exactly the glued value and the table cell; nothing else
    assert len(items) == 2, texts
    assert texts[0] == "Tal i afsnittet »Målgruppen«: 600 → 613"
    assert texts[1] == (f"Tabel »{TABLE_CAPTION}«, række »elever i målgruppen«, "
                        "kolonne »Antal«: 600 → 613")
    assert errata.find("h2").get_text() == "1. Ungebussen i tal"
    for li in items:
        href = li.a["href"]
        page, _, anchor = href.partition("#")
        target = BeautifulSoup((site / ed.ERRATA_DOC).parent.joinpath(page).read_text("utf-8"),
                               "html.parser")
        assert page == "../probe/tal.html" and target.find(id=anchor) is not None, href
    assert "Ingen afsnit har fået ændret tekst" in errata.get_text()

    notice = _soup(out, "book/probe/tal.html").select(".plusdig-rettet")
    assert len(notice) == 1
    line = " ".join(notice[0].get_text(" ").split())
    assert line.startswith("Rettet i udgave 2027.2:") and "600 → 613" in line
    assert not _soup(out, "book/probe/om.html").select(".plusdig-rettet")

    # the PDF: the errata appendix and the notice
    pdf = subprocess.run(["pdftotext", "-layout", str(out / "_build/pdf/bog.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    flat = " ".join(pdf.split())
    assert "Ændringer siden forrige udgave" in flat
    assert "Tal i afsnittet »Målgruppen«: 600 → 613" in flat
    assert "Rettet i udgave 2027.2:" in flat
    assert "2027.2 (" in flat  # the title page's edition

    # the editions side by side: the old one as it was built, with a switcher
    old = (site / "udgaver/2027.1/book/probe/tal.html").read_text(encoding="utf-8")
    assert "Udgave 2027.1 (ældre)</summary>" in old and ">600<" in old and ">613<" not in old
    assert 'href="../../../../index.html">Udgave 2027.2 (nyeste)' in old
    banner = BeautifulSoup(old, "html.parser").select_one(".plusdig-aeldre")
    assert "Du læser udgave 2027.1, en ældre udgave" in banner.get_text()
    assert banner.a["href"] == "../../../../index.html"
    assert "Udgave 2027.2 (nyeste)" in (site / "book/index.html").read_text(encoding="utf-8")


@pytest.mark.build
def test_prose_change_lists_its_section_and_no_number(first_edition: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    copy, out = _clone(first_edition, tmp_path)
    (copy / "book/probe/om.md").write_text(
        PROSE_MD.replace("talt op fra kataloget", "talt op fra aktivitetskataloget"),
        encoding="utf-8")
    _git(copy, "commit", "-q", "-am", "Præcisér metode")
    _release(copy, out, "2027.2")
    errata = _soup(out, f"{ed.ERRATA_DOC}.html").select_one("div.plusdig-aendringer")
    assert "Ingen tal er ændret" in errata.get_text()
    texts = [" ".join(li.get_text().split()) for li in errata.select("li")]
    assert texts == ["Afsnittet »Metode«: teksten er ændret"]
    assert errata.select_one("li a")["href"] == "../probe/om.html#metode"
    notice = _soup(out, "book/probe/om.html").select_one(".plusdig-rettet")
    assert "Rettet i udgave 2027.2: Afsnittet »Metode«: teksten er ændret" in " ".join(
        notice.get_text(" ").split())
    assert not _soup(out, "book/probe/tal.html").select(".plusdig-rettet")


@pytest.mark.build
def test_old_edition_is_rebuilt_from_its_own_tag_not_from_new_data(
        first_edition: tuple[Path, Path], tmp_path: Path) -> None:
    copy, _ = _clone(first_edition, tmp_path)
    _correct_count(copy)
    shutil.rmtree(copy / ed.ARCHIVE_DIR)

    def build_in(checkout: Path) -> Path:
        build(checkout, tmp_path / "restore")
        return tmp_path / "restore/_build/html"

    dest = ed.restore("2027.1", root=copy, build=build_in)
    page = (dest / "book/probe/tal.html").read_text(encoding="utf-8")
    assert re.search(r"plusdig-glue-ub_pupils\">600<", page) and "613" not in page
    assert "Udgave: 2027.1 (" in page_text((dest / "book/index.html").read_text("utf-8"))
    with pytest.raises(ed.EditionError, match="Mærket udgave-2026.1 findes ikke"):
        ed.restore("2026.1", root=copy, build=build_in)


def test_patching_a_patched_page_again_changes_nothing() -> None:
    page = ('<div class="article-header-buttons"></div><h1>Før</h1><article class="bd-article">'
            f"<section><h1>Titel</h1><p>Tekst</p>{eds.PLACEHOLDER}</section></article>")
    args = {"switcher": "<!--plusdig-udgaver-->U<!--/plusdig-udgaver-->",
            "errata": '<div class="plusdig-aendringer">L<!--/plusdig-aendringer--></div>',
            "notices": ((eds._ARTICLE, "<!--plusdig-rettet-->N<!--/plusdig-rettet-->"),)}
    once = eds.patch_page(page, **args)
    assert eds.patch_page(once, **args) == once
    assert "<h1>Titel</h1><!--plusdig-rettet-->N" in once  # under the article's title
    assert '<div class="article-header-buttons"><!--plusdig-udgaver-->U' in once
    assert "<p>Tekst</p><div class=\"plusdig-aendringer\">L" in once
    bare = eds.patch_page(once)  # no switcher, no notice: both go
    assert "plusdig-udgaver" not in bare and "plusdig-rettet" not in bare


FIGURE_PAGE = """<html><body><main><article class="bd-article"><section id="kap"><h1>Kapitel</h1>
<figure id="fig-raekkevidde"><img src="x.png" alt="Søjler"><figcaption><p>Figur 4.4 Antal
personer. Kilde: kataloget.</p></figcaption></figure></section></article></main></body></html>"""
FIGURE_CSV = ("\ufeff# Titel: Figur 4.4\r\n# Kilde: kataloget.\r\nAktivitet,Hvad,Antal\r\n"
              "Ungebussen,elever,600\r\nUngebussen,unge,30\r\n")


def _figure_site(root: Path, csv: str) -> Path:
    (root / "book" / "downloads").mkdir(parents=True)
    (root / "book" / "x.html").write_text(FIGURE_PAGE, encoding="utf-8")
    (root / "downloads").mkdir()
    (root / "downloads" / "figur-4-4.csv").write_text(csv, encoding="utf-8", newline="")
    (root / "downloads" / "index.json").write_text(json.dumps({"version": 1, "downloads": [
        {"docname": "book/x", "kind": "figur", "anchor": "fig-raekkevidde",
         "files": ["figur-4-4.png", "figur-4-4.csv"]}]}), encoding="utf-8")
    return root


def test_figure_series_come_from_the_figures_data_download(tmp_path: Path) -> None:
    old = ed.site_snapshot(_figure_site(tmp_path / "a", FIGURE_CSV), ["book/x"])
    (fig,) = old["chapters"]["book/x"]["figures"]
    assert fig["data"]["columns"] == ["Aktivitet", "Hvad", "Antal"]
    assert [r["cells"] for r in fig["data"]["rows"]] == [["Ungebussen", "elever", "600"],
                                                          ["Ungebussen", "unge", "30"]]
    new = ed.site_snapshot(_figure_site(tmp_path / "b", FIGURE_CSV.replace("600", "613")
                                        + "Læseheste,frivillige,20\r\n"), ["book/x"])
    got = [(c.kind, c.old, c.new, c.where) for c in ed.compare(old, new)]
    assert got == [("series-cell", "600", "613", "Ungebussen | elever · Antal"),
                   ("series-added", "", "Læseheste | frivillige | 20", "Læseheste | frivillige")]
    subject, detail = eds.describe(ed.compare(old, new)[0], new)
    assert subject == "Figur 4.4 »Antal personer.«, data for »Ungebussen | elever«, kolonne »Antal«"
    assert detail == "<del>600</del> → <ins>613</ins>"


def test_a_failed_build_releases_nothing(tmp_path: Path) -> None:
    (tmp_path / "bog.md").write_text("# Bog\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    _git(tmp_path, "config", "user.name", "test")
    _git(tmp_path, "config", "user.email", "test@example.org")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "bog")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True,
                          text=True).stdout

    def broken() -> None:
        raise RuntimeError("kapitel 3 fejlede")

    with pytest.raises(ed.EditionError, match="Bygningen fejlede, så udgave 2027.1 er ikke "
                                              "udgivet: kapitel 3 fejlede"):
        ed.release("2027.1", root=tmp_path, build=broken, log=lambda _: None)
    after = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True,
                           text=True).stdout
    assert after == head and not (tmp_path / "editions").exists()
    assert subprocess.run(["git", "tag"], cwd=tmp_path, capture_output=True,
                          text=True).stdout == ""
