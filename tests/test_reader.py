"""The reader's book (issue 15): one Danish, one set of publication facts, summaries glued
from one record, reader text without machinery.

Unit tests of ``plusdig.publish.citestyle``, ``plusdig.publish.metadata``, ``plusdig.present.summary``
and ``plusdig.sphinx.reader``; then tests over the built site (``built_site``, tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from plusdig.core.errors import DataValidationError
from plusdig.present.summary import Stated, english_number, english_percent, summary_record
from plusdig.publish import citestyle as bibliography
from plusdig.publish.metadata import is_placeholder, load_publication
from plusdig.sphinx import reader

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))

# ----------------------------------------------------------------------------- citations


def _bib(text: str):  # noqa: ANN202 - pybtex's types
    from pybtex.database import parse_string

    return parse_string(text, "bibtex")


BIB = _bib("""
@article{a, author = {Kania, John and Kramer, Mark}, title = {Collective Impact},
  journal = {Stanford Social Innovation Review}, volume = {9}, number = {1},
  pages = {36--41}, year = {2011}}
@techreport{b, author = {Preskill, Hallie and Parkhurst, Marcie and Splansky Juster, Jennifer},
  title = {Guide to Evaluating Collective Impact}, institution = {FSG}, year = {2014}}
@misc{c, author = {{SUS}}, title = {Collective impact på dansk}, url = {https://x.dk/}}
@misc{d, title = {Hvordan har børn og unge i {Lejre} det?}, year = {2017--2019}}
""")


def test_bibliography_entries_are_danish_author_year() -> None:
    style = bibliography.DanishStyle()
    text = {e.key: e.text.render_as("text") for e in style.format_entries(BIB.entries.values())}
    assert text["a"] == ("Kania, J. og Kramer, M. (2011). Collective Impact. Stanford Social "
                         "Innovation Review, 9(1), 36–41.")
    assert text["b"] == ("Preskill, H., Parkhurst, M. og Splansky Juster, J. (2014). Guide to "
                         "Evaluating Collective Impact. Teknisk rapport, FSG.")
    assert text["c"] == "SUS (u.å.). Collective impact på dansk. Tilgængelig på https://x.dk/."
    assert text["d"] == "Hvordan har børn og unge i Lejre det? (2017–2019)."
    order = [e.key for e in style.format_entries(BIB.entries.values())]
    assert order == ["d", "a", "b", "c"]  # by author, or title where there is none


def test_citation_labels_say_og_mfl_and_ua() -> None:
    labels = dict(zip(["a", "b", "c", "d"], bibliography.DanishLabels().format_labels(
        [BIB.entries[k] for k in "abcd"]), strict=True))
    assert labels == {"a": "Kania og Kramer, 2011", "b": "Preskill m.fl., 2014", "c": "SUS, u.å.",
                      "d": "Hvordan har børn og unge i Lejre det?, 2017–2019"}


def test_reference_style_is_registered_under_its_configured_names() -> None:
    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    sphinx = CONFIG["sphinx"]["config"]
    assert sphinx["bibtex_reference_style"] == bibliography.REFERENCE_STYLE
    assert sphinx["bibtex_default_style"] == bibliography.STYLE
    # found without registering at run time: the package's entry points (pyproject.toml)
    assert pybtex.plugin.find_plugin("pybtex.style.formatting", "plusdig") is \
        bibliography.DanishStyle
    ref = sphinxcontrib.bibtex.plugin.find_plugin("sphinxcontrib.bibtex.style.referencing",
                                                   bibliography.REFERENCE_STYLE)()
    assert ref.person.sep2 == " og " and ref.person.last_sep == " og "
    assert str(ref.person.other).strip() == "m.fl."


# ----------------------------------------------------------------------------- metadata


def _config(**publication: object) -> dict:
    block = {"subtitle": "U", "authors": ["[Evaluatorernes navne]"], "publisher": "[Udgiver]",
             "edition": "1. udgave", "licence": "[Licens]", **publication}
    return {"title": "T", "publication": block}


def test_publication_record_from_config(tmp_path: Path) -> None:
    pub = load_publication(tmp_path, config=_config(date="2026-11-26", isbn="978-3-16-148410-0"))
    assert pub.date == dt.date(2026, 11, 26) and pub.date_text == "26. november 2026"
    assert pub.citation == "[Evaluatorernes navne] (2026). T. U. 1. udgave. [Udgiver]."
    assert set(pub.placeholders) == {"authors[0]", "publisher", "licence"}
    assert is_placeholder("[Udgiver]") and not is_placeholder("Lejre Kommune")


def test_publication_date_defaults_to_the_build_date(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1546300800")  # 2019-01-01
    assert load_publication(tmp_path, config=_config()).date == dt.date(2019, 1, 1)


@pytest.mark.parametrize("bad, field", [
    ({"isbn": "978-3-16-148410-1"}, "publication.isbn"),   # wrong check digit
    ({"date": "26.11.2026"}, "publication.date"),
    ({"authors": "Ole"}, "publication.authors"),
    ({"publisher": ""}, "publication.publisher"),
])
def test_bad_publication_metadata_is_named(tmp_path: Path, bad: dict, field: str) -> None:
    with pytest.raises(DataValidationError) as err:
        load_publication(tmp_path, config=_config(**bad))
    assert err.value.field == field and "_config.yml" in str(err.value)


def test_the_books_own_metadata_marks_what_is_unknown() -> None:
    pub = load_publication(REPO)
    assert pub.title == CONFIG["title"]
    # nobody's name is invented: unknown evaluators and publisher stay marked placeholders
    assert all(is_placeholder(a) or a.strip() for a in pub.authors)
    for value in (*pub.authors, pub.publisher, pub.licence):
        assert is_placeholder(value) or "[" not in value


# ----------------------------------------------------------------------------- summary


def test_stated_numbers_in_both_languages() -> None:
    assert Stated(1100, "ca.").danish() == "ca. 1.100"
    assert Stated(1100, "ca.").english() == "about 1,100"
    assert Stated(21.0, None, "procent").english() == "21%"
    assert Stated(21.5, None, "procent").danish() == "21,5 %"
    assert Stated(21.5, None, "procent").english() == "21.5%"
    assert english_percent(21, 1) == "21.0%" and english_number(1234.5, 1) == "1,234.5"


def test_summary_record_matches_the_chapters_and_both_languages_share_keys() -> None:
    from plusdig.data import coding, report
    from plusdig.data.load import load_published

    numbers = summary_record()
    da, en = numbers.danish(), numbers.english()
    assert da.keys() == en.keys()
    pub = load_published()
    # the same text as the chapter on the published results glues
    assert da["respondents"] == report.published_text(pub, "respondents-per-measurement-2017-2019")
    assert da["not_happy_2017"] == report.published_text(pub, "not-happy-at-all-2017")
    assert da["measurement_years"] == report.published_period(pub, "measurements-2017-2019")
    summary = coding.condition_summary().set_index("condition")
    for c in numbers.conditions:
        assert c.n_activities == int(summary.loc[c.code, "n_activities"])
        assert da[f"acts_{c.code}"].startswith(str(c.n_activities))
        assert en[f"acts_{c.code}"].startswith(str(c.n_activities))
    assert "," not in en["share_cross"] and en["share_cross"].endswith("%")
    assert not any(" %" in v for v in en.values())  # English: "90%", never "90 %"


# ----------------------------------------------------------------------------- quotation marks


@pytest.mark.parametrize("text, expected", [
    ("om ”Boost Trivslen”", "om »Boost Trivslen«"),
    ("svarede “Jeg er slet ikke glad” til", "svarede »Jeg er slet ikke glad« til"),
    ("(«ofte» eller «nogle gange»)", "(»ofte« eller »nogle gange«)"),
    ("(»ca.«, »over« osv.)", "(»ca.«, »over« osv.)"),  # the marks between two quotations
    ("afsnit »Hvem er med?«; at »x«", "afsnit »Hvem er med?«; at »x«"),
    ("vises som «–», så", "vises som »–«, så"),
    ("en ”running pizza”-aften", "en »running pizza«-aften"),
    ("»I september gennemførtes en ”hackaton”«", "»I september gennemførtes en ›hackaton‹«"),
])
def test_danish_quotes(text: str, expected: str) -> None:
    assert reader.danish_quotes(text) == expected


def test_nested_quotes_use_single_guillemets() -> None:
    assert reader.danish_quotes("de ”rigtige” frivillige", nested=True) == "de ›rigtige‹ frivillige"


# ----------------------------------------------------------------------------- the built site

#: Interface texts of Sphinx and the themes that must never reach a Danish reader.
ENGLISH_UI = {
    "Link to this heading", "Link to this image", "Link to this table", "Link to this term",
    "Link to this definition", "Link to this code", "Main", "Page", "© Copyright", "Copyright",
    "Search", "Search the docs ...", "Search this book...", "Toggle primary sidebar",
    "Toggle secondary sidebar", "On this page", "Contents", "Skip to main content",
    "Back to top", "Download source file", "Download this page", "Print to PDF",
    "previous page", "next page", "previous", "next", "Color mode", "Light", "Dark",
    "System Settings", "Fullscreen mode", "Search Results", "Searching", "Hide Search Matches",
    "Please activate JavaScript to enable the search functionality.", "Error", "Navigation",
}
ENGLISH_PREFIXES = ("Last updated", "By ", "Created using", "Technical Report", "n.d.")
#: Table columns that hold the source's own words (quotations are never changed).
QUOTE_COLUMNS = {"Kildens ordlyd", "Citat", "Citat fra kilden"}
_RANGE = re.compile(r"(?<![\w.,-])\d{1,4}\.?-\d{1,4}\.?(?![\w-])")


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts
                  and "_sources" not in p.parts)


def _soup(page: Path):  # noqa: ANN202
    from bs4 import BeautifulSoup

    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def _reader_text(soup, *, drop_quotes: bool = False) -> str:  # noqa: ANN001
    """The page's visible Danish text: no code, scripts or English pages; optionally without
    the source's own words (quotations, the quotation columns of tables)."""
    main = soup.find("main") or soup
    for el in main.select("script, style, code, pre, kbd, [lang=en]"):
        el.decompose()
    if drop_quotes:
        for el in main.select(".plusdig-kilde, blockquote"):
            el.decompose()
        for table in main.select("table"):
            heads = [th.get_text(" ", strip=True) for th in table.select("thead th")]
            for i, head in enumerate(heads):
                if head in QUOTE_COLUMNS:
                    for row in table.select("tbody tr"):
                        cells = row.find_all(["td", "th"], recursive=False)
                        if i < len(cells):
                            cells[i].decompose()
    return " ".join(main.get_text(" ").split())


def _rel(site: Path, page: Path) -> str:
    return page.relative_to(site).as_posix()


def test_citations_are_danish_author_year(built_site: Path) -> None:
    bad = {}
    for page in _pages(built_site):
        soup = _soup(page)
        cites = [c.get_text(" ", strip=True) for c in soup.select(".bibtex-citation")]
        entries = [a.get("title", "") for a in soup.select(".bibtex-citation a")]
        entries += [c.get_text(" ", strip=True) for c in soup.select("div.citation")]
        # the authors are what comes before "(year)"; titles may say "and"
        authors = cites + [e.split(" (")[0] for e in entries]
        hits = [t for t in authors if re.search(r"\band\b|et al|n\.d\.", t)]
        hits += [t for t in entries if re.search(r"n\.d\.|Technical Report|URL:", t)]
        if hits:
            bad[_rel(built_site, page)] = hits[:3]
    assert bad == {}
    refs = _soup(built_site / "book" / "references.html").get_text(" ")
    assert "Kania, J. og Kramer, M. (2011)" in refs and "SUS (u.å.)" in refs


def test_no_english_interface_strings(built_site: Path) -> None:
    bad: dict[str, set[str]] = {}
    for page in _pages(built_site):
        soup = _soup(page)
        for el in soup.select("[lang=en]"):
            el.decompose()
        found = set()
        for el in soup.find_all(True):
            for attr in ("title", "aria-label", "placeholder", "alt", "data-bs-title"):
                value = str(el.get(attr) or "").strip()
                if value in ENGLISH_UI or value.startswith(ENGLISH_PREFIXES):
                    found.add(f"{attr}={value}")
        for s in soup.find_all(string=True):
            if s.parent.name in ("script", "style", "code", "pre"):
                continue
            value = " ".join(str(s).split())
            if value in ENGLISH_UI or value.startswith(ENGLISH_PREFIXES):
                found.add(value)
        if found:
            bad[_rel(built_site, page)] = found
    assert bad == {}


def test_search_page_messages_are_translated(built_site: Path) -> None:
    script = (built_site / "_static" / "searchtools.js").read_text(encoding="utf-8")
    used = set(re.findall(r'_\(\s*"([^"]+)"\s*\)', script))
    used |= set(re.findall(r'Documentation\.gettext\(\s*"([^"]+)"', script))
    catalogue = (built_site / "_static" / "translations.js").read_text(encoding="utf-8")
    missing = []
    for message in sorted(used):
        m = re.search(r'"' + re.escape(message).replace("\\ ", " ") + r'":\s*"([^"]*)"',
                      catalogue)
        if not m or not m.group(1):
            missing.append(message)
    assert used and missing == []


def _misquoted(text: str) -> list[str]:
    """Quotation marks other than Danish »…«: ” “ „ and straight quotes anywhere, and a « that
    closes nothing (as in «…», where « opens)."""
    hits = [m.group(0) for m in re.finditer(r".{0,30}[”“„\"].{0,30}", text)]
    depth = 0
    for m in re.finditer(r"[»«]", text):
        if m.group(0) == "»":
            depth += 1
        elif depth == 0:
            hits.append(text[max(0, m.start() - 30):m.end() + 30])
        else:
            depth -= 1
    return hits


def _book_text(soup) -> str:  # noqa: ANN001
    """The page's text in the book's own words, its notebook tables (captions, headers and
    cells) included: without the quotation columns of tables (:data:`QUOTE_COLUMNS`) and the
    annex overview's body, which transcribes the annex."""
    for table in soup.select("table.plusdig-annex-overview"):
        for cell in table.select("tbody td"):
            cell.decompose()
    return _reader_text(soup, drop_quotes=True)


def test_one_quotation_mark_style(built_site: Path) -> None:
    """In the book's own text, tables' captions and cells included (their labels are made with
    »…« where they are made: page, download and audit read the same label), and the activities'
    titles wherever they appear (sidebar, »forrige«/»næste«, tables, prose: the data's `title`
    has the book's marks, `title_source` the annex's heading as it is). Left out: the annex's
    own words -- the text of Part II's transcribed activity pages, quotations and the quotation
    columns of tables, the annex overview's cells."""
    from plusdig.data.load import load_activities

    assert _misquoted("»a« og »b« (»c ›d‹ e«)") == []
    assert _misquoted("«a» og ”b”")
    titles = [a.title for a in load_activities()]
    assert any("»" in t for t in titles) and _misquoted(" ".join(titles)) == []
    soup = _soup(built_site / "book" / "report" / "trivsel-dybden.html")
    captions = " ".join(c.get_text(" ") for c in soup.select(".cell_output table caption"))
    assert "»ofte« eller »nogle gange«" in captions  # the tables are checked, not left out
    bad = {}
    for page in _pages(built_site):
        soup = _soup(page)
        if _rel(built_site, page).startswith(reader.TRANSCRIBED_PAGES):
            # Part II's pages: the annex's own text keeps its marks; their titles do not
            text = " ".join(" ".join(h.get_text(" ").split()) for h in soup.select("main h1"))
            hits = _misquoted(text)
        else:
            hits = _misquoted(_book_text(soup))
        if hits:
            bad[_rel(built_site, page)] = hits[:3]
    assert bad == {}


def test_number_ranges_use_en_dashes(built_site: Path, book_config: dict) -> None:
    """Outside the source's own words: Part II's activity pages reproduce the annex, whose
    »5.-8. klassetrin« stays as the annex writes it, like every other quotation."""
    bad = {}
    for page in _pages(built_site):
        if "annex/generated/aktivitet-" in _rel(built_site, page):
            continue
        hits = _RANGE.findall(_reader_text(_soup(page), drop_quotes=True))
        if hits:
            bad[_rel(built_site, page)] = hits[:5]
    assert bad == {}


def test_reader_text_has_no_machinery(built_site: Path, book_config: dict) -> None:
    """Part I and II name no file paths, environment variables or git (the appendix does)."""
    machinery = re.compile(r"\bdata/|\.ya?ml\b|\.csv\b|\.ipynb\b|PLUSDIG_|\bgit\b|"
                           r"miljøvariab|versionsstyring|\bcommit")
    bad = {}
    for part in book_config["parts"][:2]:
        for chapter in part["chapters"]:
            text = _reader_text(_soup(built_site / f"{chapter}.html"))
            hits = machinery.findall(text)
            if hits:
                bad[chapter] = sorted(set(hits))
    assert bad == {}


def test_one_search_box_per_page(built_site: Path) -> None:
    for name in ("search.html", "book/report/forord.html"):
        soup = _soup(built_site / name)
        fields = soup.select("button.search-button-field") + soup.select(
            "main form input[type=search], main input[name=q]")
        assert len(fields) == 1, (name, len(fields))


def test_download_menu_offers_the_pdf_only(built_site: Path) -> None:
    soup = _soup(built_site / "book" / "report" / "forord.html")
    menu = soup.select(".dropdown-download-buttons .dropdown-menu a, "
                       ".dropdown-download-buttons .dropdown-menu button")
    labels = [a.get_text(" ", strip=True) for a in menu]
    assert labels == ["Bogen som PDF"], labels
    assert all(a.get("href", "").endswith(".pdf") for a in menu)
    # the sources stay reachable: the appendix lists every page's source file
    appendix = _soup(built_site / "book" / "appendix" / "saadan-er-bogen-lavet.html")
    sources = [a["href"] for a in appendix.select("main a[href*='_sources/']")]
    assert any(h.endswith("forord.ipynb") for h in sources)
    for href in sources:
        target = (built_site / "book" / "appendix" / href).resolve()
        assert target.is_file(), href


def test_metadata_tables_are_not_downloads() -> None:
    """A table marked as metadata (the colophon's) gets no downloads; a data table does."""
    from docutils import nodes
    from plusdig.sphinx.sitedownloads import NOT_DATA_CLASS, downloadables

    def table(*classes: str) -> nodes.table:
        row = nodes.row("", nodes.entry("", nodes.paragraph(text="Titel")),
                        nodes.entry("", nodes.paragraph(text="+DIG")))
        group = nodes.tgroup("", nodes.colspec(), nodes.colspec(), nodes.tbody("", row), cols=2)
        return nodes.table("", group, classes=list(classes))

    doc = nodes.document(None, None)
    doc += [table("kolofon", NOT_DATA_CLASS), table()]
    found = downloadables(doc)
    assert [(d.kind, d.anchor) for d in found] == [("tabel", "tabel-1")]
    assert found[0].node is doc[1]


def test_colophon_has_no_downloads(built_site: Path) -> None:
    import json

    soup = _soup(built_site / "book" / "kolofon.html")
    assert soup.select("main table.kolofon.plusdig-metadata")  # the colophon's table is there
    assert soup.select("main .plusdig-downloads") == []
    index = json.loads((built_site / "downloads" / "index.json").read_text(encoding="utf-8"))
    entries = index["downloads"]
    assert entries and not [e for e in entries if e["docname"] == "book/kolofon"]
    assert not list((built_site / "downloads").glob("*kolofon*"))


def test_favicon(built_site: Path, book_config: dict) -> None:
    page = built_site / f"{book_config['root']}.html"
    icon = _soup(page).find("link", rel="icon")
    assert icon is not None
    assert (page.parent / icon["href"]).resolve().is_file()


def test_one_publication_date_everywhere(built_site: Path, built_pdf: Path,
                                         book_config: dict) -> None:
    import subprocess

    pub = load_publication(REPO)
    root = built_site / f"{book_config['root']}.html"
    front = _reader_text(_soup(root))
    assert f"{pub.edition}, {pub.date_text}" in front
    colophon = _reader_text(_soup(built_site / "book" / "kolofon.html"))
    for value in (pub.title, pub.subtitle, pub.authors_text, pub.publisher, pub.edition,
                  pub.date_text, pub.licence, pub.citation):
        assert value in colophon, value
    for page in (root, built_site / "book" / "report" / "forord.html"):
        footer = " ".join((_soup(page).select_one("footer.bd-footer-content") or _soup(page))
                          .get_text(" ").split())
        assert pub.date_text in footer and "Sidst opdateret" not in footer
        assert not re.search(r"\d{2}\. [a-z]{3}\., \d{4}", footer)  # "01. dec., 2026"
    pdf = subprocess.run(["pdftotext", "-l", "2", str(built_pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    assert pub.date_text in " ".join(pdf.split())


def test_summaries_are_in_part_one_glued_and_linked(built_site: Path,
                                                    book_config: dict) -> None:
    numbered = book_config["parts"][0]["chapters"]
    assert numbered[:2] == ["book/report/sammenfatning", "book/report/summary-en"]
    from plusdig.survey.contract import current_source

    numbers = summary_record()
    da, en = numbers.danish(), numbers.english()
    for chapter, values in (("book/report/sammenfatning", da), ("book/report/summary-en", en)):
        soup = _soup(built_site / f"{chapter}.html")
        text = " ".join((soup.find("main") or soup).get_text(" ").split())
        for key in ("respondents", "response_rate", "not_happy_2017", "sdq_normal_2018",
                    "share_cross", "acts_backbone", "kickoff_actors"):
            assert values[key] in text, (chapter, key, values[key])
        links = {a["href"].split("#")[0] for a in soup.select("main a.reference.internal")}
        for target in ("forord.html", "betingelserne.html", "trivselsmaalingen.html",
                       "erfaringer.html", "konklusion.html"):
            assert target in links, (chapter, target)
        assert soup.select(".admonition.important"), "judgements in an assessment box"
    english = _soup(built_site / "book" / "report" / "summary-en.html")
    assert english.select_one("main [lang=en]") is not None
    if current_source().synthetic:  # the survey paragraph says the in-depth data are synthetic
        text = _reader_text(_soup(built_site / "book" / "report" / "sammenfatning.html"))
        assert "syntetiske data" in text


def test_a_tables_downloads_carry_its_caption_number(built_site: Path) -> None:
    """»Hent tabel 4« under »Tabel 4«, on numbered chapters and unnumbered appendix pages
    alike (the label once counted the page's tables: »Hent tabel 2« under »Tabel 5«)."""
    pairs, bad = 0, {}
    for page in _pages(built_site):
        for box in _soup(page).select("main div.plusdig-table"):
            number = box.select_one(".caption-number")
            label = box.select_one(".plusdig-downloads-label")
            if number is None or label is None:
                continue
            pairs += 1
            shown = " ".join(number.get_text(" ").split()).lower()
            said = " ".join(label.get_text(" ").split()).lower()
            if said != f"hent {shown}:":
                bad.setdefault(_rel(built_site, page), []).append((shown, said))
    assert pairs >= 10
    assert bad == {}


def test_pybtex_plugin_lookups_are_remembered_with_the_same_answers(monkeypatch):
    """plusdig.sphinx.reader memoises pybtex's and sphinxcontrib-bibtex's entry-point look-ups
    (one read of the installed distributions per question), with the same plugins found, and
    plugins registered at run time still found first."""
    import importlib.metadata

    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    from plusdig.sphinx import reader

    monkeypatch.setattr(pybtex.plugin, "entry_points", importlib.metadata.entry_points)
    monkeypatch.setattr(sphinxcontrib.bibtex.plugin, "entry_points",
                        importlib.metadata.entry_points)
    before = (pybtex.plugin.find_plugin("pybtex.backends", "plaintext"),
              pybtex.plugin.find_plugin("pybtex.style.formatting", "plain"),
              sphinxcontrib.bibtex.plugin.find_plugin("sphinxcontrib.bibtex.style.referencing",
                                                       "author_year"))
    calls = []
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **params: calls.append(params) or real(**params))
    reader.memoise_plugin_lookups()
    reader.memoise_plugin_lookups()  # idempotent
    for _ in range(3):
        after = (pybtex.plugin.find_plugin("pybtex.backends", "plaintext"),
                 pybtex.plugin.find_plugin("pybtex.style.formatting", "plain"),
                 sphinxcontrib.bibtex.plugin.find_plugin(
                     "sphinxcontrib.bibtex.style.referencing", "author_year"))
        assert after == before
    assert len(calls) == 3  # one per question, not one per call
    own = type("Own", (pybtex.plugin.Plugin,), {})
    monkeypatch.setitem(pybtex.plugin._RUNTIME_PLUGINS, "pybtex.backends", {"plaintext": own})
    assert pybtex.plugin.find_plugin("pybtex.backends", "plaintext") is own


def test_the_search_index_is_the_same_with_the_stemmer_memoised():
    """plusdig.sphinx.site memoises the search language's stemmer for the whole build; the
    index it feeds holds the same words as Sphinx's own feed (a memo per page) gives."""
    from types import SimpleNamespace

    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document
    from sphinx.search import IndexBuilder

    from plusdig.sphinx import site

    site._escape_search_titles()
    pages = {"a": "Børnene fortæller om ensomhed og fællesskaber.\n",
             "b": "Fællesskaberne hjælper ensomme børn; børnene fortæller om ensomhed.\n"}

    def index(feed) -> tuple[dict, dict, object]:
        env = SimpleNamespace(**{f"_search_index_{name}": {} for name in (
            "titles", "filenames", "mapping", "title_mapping", "all_titles", "index_entries",
            "objtypes", "objnames")})
        builder = IndexBuilder(env, "da", {}, None)
        for name, text in pages.items():
            doc = new_document("<test>", get_default_settings(Parser))
            Parser().parse(text, doc)
            feed(builder, name, name, name, doc)
        return builder._mapping, builder._title_mapping, builder.lang.stem

    memoised, plain = index(IndexBuilder.feed), index(IndexBuilder.feed.__wrapped__)
    assert memoised[:2] == plain[:2] and "ensom" in memoised[0]
    assert memoised[2].cache_info().hits > 0 and not hasattr(plain[2], "cache_info")
