"""Downloads of figures and tables (issue 16): the files, their safety, the figures' data.

Unit tests: a shown Danish number becomes a number and nothing else does; CSV and XLSX hold
the table with its caption, source and synthetic label; formula-like text is neutralised;
every figure function attaches the table it draws; a survey figure's data is a part of its
table on the page (suppressed cells as «–»). The built-site tests (``built_site``) open every
figure's and table's downloads and compare them with the page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from plusdig.sphinx import annex_overview
from plusdig.survey import figures as survey_figures
from plusdig.survey import tables as survey_tables
from plusdig.publish import downloads as dl
from plusdig.publish.downloads import Number, cell_value, neutralise

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def danish_float(text: str) -> float | None:
    """The test's own reading of a printed Danish number (independent of plusdig)."""
    t = text.strip().removesuffix(" %").replace("−", "-")
    if not re.fullmatch(r"-?\d{1,3}(\.\d{3})*(,\d+)?|-?\d+(,\d+)?", t):
        return None
    return float(t.replace(".", "").replace(",", "."))


# --------------------------------------------------------------------------- cells
@pytest.mark.parametrize("text, value", [
    ("1.102", Number(1102, 0, False)), ("21,0 %", Number(21.0, 1, True)),
    ("−2,9", Number(-2.9, 1, False)), ("2017", Number(2017, 0, False)), ("0", Number(0, 0, False)),
    ("–", "–"), ("ca. 600", "ca. 600"), ("18,7; 23,5", "18,7; 23,5"), ("07", "07"),
    ("1.5", "1.5"), ("3, 5, 7", "3, 5, 7"), ("", None),
])
def test_cell_value_converts_only_whole_danish_numbers(text, value):
    assert cell_value(text) == value


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_neutralise_prefixes_formula_starts(start):
    assert neutralise(start + "SUM(A1)") == "'" + start + "SUM(A1)"
    assert neutralise("Skole " + start) == "Skole " + start


def _sheet(texts: list[str]) -> dl.Sheet:
    return dl.sheet_from_cells("Tabel 9.1", "Et =HYPERLINK(\"x\") testbord. Kilde: @kilde.",
                               ["Navn", "=Antal"], [[t, "1.234"] for t in texts], synthetic=True)


HOSTILE_CELLS = ['=HYPERLINK("http://x","klik")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR",
                 "Skole\x07A", "<script>__hx()</script> & $a$"]


def test_csv_neutralises_and_keeps_caption_source_label(tmp_path):
    sheet = _sheet(HOSTILE_CELLS)
    path = tmp_path / "t.csv"
    dl.write_csv(sheet, path)
    raw = path.read_bytes().decode("utf-8-sig")
    assert raw.startswith('# Titel: Tabel 9.1: Et =HYPERLINK("x") testbord.\r\n')
    assert "# Kilde: '@kilde." in raw and "# Data: Syntetiske data" in raw
    frame = dl.read_csv(path)
    assert list(frame.columns) == ["Navn", "'=Antal"]
    for cell in frame["Navn"]:
        assert not cell.startswith(FORMULA_STARTS), cell
        assert "\x07" not in cell
    assert frame["Navn"].tolist()[:6] == ["'" + c for c in HOSTILE_CELLS[:6]]
    assert "SkoleU+0007A" in frame["Navn"].tolist()
    assert frame["'=Antal"].tolist() == ["1234"] * len(HOSTILE_CELLS)


def test_xlsx_has_header_frozen_panes_numbers_notes_and_no_formula(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "t.xlsx"
    dl.write_xlsx(_sheet(HOSTILE_CELLS), path)
    wb = load_workbook(path)
    ws = wb["Data"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    for row in ws.iter_rows(min_row=2):
        assert row[0].data_type == "s" and not str(row[0].value).startswith(FORMULA_STARTS)
        assert row[1].value == 1234 and row[1].data_type == "n" and row[1].number_format == "#,##0"
    for row in wb["Noter"].iter_rows():
        assert all(c.data_type == "s" for c in row)
        assert not any(str(c.value).startswith(FORMULA_STARTS) for c in row)
    notes = {r[0].value: r[1].value for r in wb["Noter"].iter_rows()}
    assert notes["Kilde"] == "'@kilde." and notes["Data"] == dl.SYNTHETIC_NOTE
    back = dl.read_xlsx(path)
    assert back["'=Antal"].tolist() == [1234] * len(HOSTILE_CELLS)


def test_xlsx_is_reproducible_and_keeps_the_printed_format(tmp_path):
    sheet = dl.sheet_from_cells("Tabel 1.1", "Andele", ["År", "Andel"], [["2017", "21,0 %"]])
    assert dl.xlsx_bytes(sheet) == dl.xlsx_bytes(sheet)
    from openpyxl import load_workbook

    dl.write_xlsx(sheet, tmp_path / "a.xlsx")
    cell = load_workbook(tmp_path / "a.xlsx")["Data"]["B2"]
    assert cell.value == 21.0 and cell.number_format == '#,##0.0" %"'
    assert ("Enheder", "Andel: procent") in sheet.notes_lines()


def test_slug_is_ascii_and_readable():
    assert dl.slug("Målgruppernes aldre") == "maalgruppernes-aldre"
    assert dl.slug("Aktører nævnt under »Hvem er med?« i mere", 4) == "aktoerer-naevnt-under-hvem"
    assert dl.slug("<script>") == "script" and dl.slug("«»") == "uden-titel"


# --------------------------------------------------------------------------- figures' data
def _figures():
    """Every figure of the book, drawn from the real data as the chapters draw them."""
    import plusdig
    from plusdig.data import coding
    from plusdig.present import figures
    from plusdig.present import network
    from plusdig.data.load import load_first_year, vocab_labels

    acts = plusdig.load_activities()
    activities = plusdig.activities_table()
    labels = {a.id: a.title for a in acts}
    tg = plusdig.target_groups_table()
    bands = pd.DataFrame([e.model_dump() for e in plusdig.load_vocabularies().age_bands])
    partners = plusdig.partners_table()
    sectors = vocab_labels("sectors")
    yield "activities_per_year", figures.activities_per_year(activities)
    yield "organisation", figures.organisation_diagram(load_first_year(), partners, [a.id for a in acts])
    yield "first_year", figures.first_year_phases(load_first_year())
    yield "ages", figures.age_coverage(tg, bands)
    yield "kinds", figures.target_kinds_matrix(tg, labels, vocab_labels("target_kinds"))
    yield "reach", figures.reach_chart(figures.reach_counts(plusdig.counts_table()))
    yield "partners", figures.partners_by_sector(partners, labels, sectors)
    yield "sector_matrix", figures.sector_matrix(partners, labels, sectors)
    yield "network", network.network_figure(network.build_network(partners))
    yield "conditions", figures.binary_heatmap(coding.conditions_matrix(), title="t", xlabel="x",
                                               ylabel="Aktivitet")
    yield "published", figures.published_changes(plusdig.load_published(), ["not-happy-at-all"])
    yield "timeline", annex_overview.timeline_figure(annex_overview.timeline_table(acts))


def test_every_figure_function_attaches_the_table_it_draws():
    from plusdig.present.figdata import data_of

    seen = 0
    for name, fig in _figures():
        data = data_of(fig)
        assert data is not None, name
        assert len(data.frame) > 0 and len(data.frame.columns) >= 2, name
        assert data.source.startswith("Kilde:"), name
        json.dumps(data.to_json())  # JSON-serialisable: it travels in the notebook output
        seen += 1
    assert seen == 12


def test_figure_tables_match_what_is_drawn():
    import plusdig
    from plusdig.present import figures
    from plusdig.present.figdata import data_of

    activities = plusdig.activities_table()
    data = data_of(figures.activities_per_year(activities)).frame
    assert data["Antal aktiviteter"].sum() == len(activities)
    partners = plusdig.partners_table()
    labels = {a.id: a.title for a in plusdig.load_activities()}
    from plusdig.data.load import vocab_labels

    table = data_of(figures.partners_by_sector(partners, labels, vocab_labels("sectors"))).frame
    assert table["I alt"].sum() == len(partners)
    assert list(table["Aktivitet nr."]) == list(labels)


def test_figure_payload_carries_print_png_svg_and_data():
    import base64
    import io

    from PIL import Image

    from plusdig.present.figdata import FIGURE_MIME, figure_payload

    name, fig = next(_figures())
    payload = figure_payload(fig)
    png = Image.open(io.BytesIO(base64.b64decode(payload["png"])))
    assert png.width >= 300 * fig.get_figwidth() * 0.9  # 300 dpi
    assert payload["svg"].lstrip().startswith("<?xml") and "<svg" in payload["svg"]
    # the page shows the SVG itself (issue 15: sharp at any size, click to enlarge)
    assert payload["view"] == {"mime": "image/svg+xml", "content": payload["svg"]}
    assert FIGURE_MIME.endswith("+json")


def test_survey_figure_data_is_part_of_its_table_on_a_small_groups_delivery():
    from fixtures import disclosure_fixtures as dfx

    from plusdig.present.figdata import data_of

    tables = survey_tables.run_pipeline(dfx.small_groups_frame(), k=5)
    figs = [survey_figures.figure_prevalence_trend(tables["prevalence_year"]),
            survey_figures.figure_prevalence_groups(tables["prevalence_school"], "t", "Skole"),
            survey_figures.figure_prevalence_groups(tables["prevalence_gender"], "t", "Køn"),
            survey_figures.figure_comparison(tables["comparison"]),
            survey_figures.figure_indicator_trend(tables["trend"])]
    sources = ["prevalence_year", "prevalence_school", "prevalence_gender", "comparison", "trend"]
    hidden = 0
    for fig, name in zip(figs, sources, strict=True):
        data = data_of(fig)
        shown = tables[name].display
        assert set(data.frame.columns) <= set(shown.columns)
        rows = {tuple(r) for r in shown[list(data.frame.columns)].itertuples(index=False)}
        for row in data.frame.itertuples(index=False):
            assert tuple(row) in rows  # every cell as printed; nothing finer, nothing hidden
        hidden += int((data.frame == "–").to_numpy().sum())
        assert not data.synthetic
        if name == "trend":  # one row per line drawn: the primary indicators
            from plusdig.survey.inference import PRIMARY

            assert len(data.frame) == int(tables[name].values["indicator"].isin(PRIMARY).sum())
    assert hidden > 0  # the fixture's small groups are in the figures' data as «–»


# --------------------------------------------------------------------------- the built site
def _pages(site: Path) -> list[Path]:
    return [p for p in sorted(site.rglob("*.html"))
            if p.name not in ("genindex.html", "search.html") and "_static" not in p.parts
            and p.name != "index.html" or p.parent != site]


def _control_after(node) -> object:
    control = node.find_next_sibling()
    assert control is not None and "plusdig-downloads" in control.get("class", []), str(node)[:300]
    return control


def _links(control, page: Path) -> dict[str, Path]:
    return {a["href"].rsplit(".", 1)[1]: (page.parent / a["href"]).resolve()
            for a in control.find_all("a", class_="plusdig-download")}


def _page_table(table) -> tuple[list[str], list[list[str]]]:
    def text(el) -> str:
        return " ".join(el.get_text().split())

    head = table.find("thead")
    header = [text(th) for th in head.find_all("th")] if head else []
    rows = [[text(td) for td in tr.find_all(["td", "th"])]
            for tr in (table.find("tbody") or table).find_all("tr") if tr.find_parent("thead") is None]
    if not header and rows:  # a table without a header row (the colophon's): its first row heads
        header, rows = rows[0], rows[1:]  # the download, as plusdig.sphinx.sitedownloads writes it
    return header, rows


def _same_cell(shown: str, csv_cell: str, xlsx_cell: object) -> bool:
    number = danish_float(shown)
    if number is not None:
        return float(csv_cell) == pytest.approx(number) and float(xlsx_cell) == pytest.approx(number)
    expected = ("'" + shown) if shown.startswith(FORMULA_STARTS) else shown
    xlsx_text = "" if xlsx_cell is None or (isinstance(xlsx_cell, float) and xlsx_cell != xlsx_cell) \
        else str(xlsx_cell)
    return csv_cell == expected and xlsx_text == expected


@pytest.mark.build
def test_every_figure_and_table_on_the_site_has_downloads_that_open(built_site):
    from PIL import Image

    n_figures = n_tables = 0
    for page in _pages(built_site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        main = soup.find("main") or soup
        for figure in main.find_all("figure"):
            links = _links(_control_after(figure), page)
            assert set(links) == {"png", "svg", "csv", "xlsx"}, page
            with Image.open(links["png"]) as png:
                assert png.width > 1000, links["png"]
            svg = links["svg"].read_text(encoding="utf-8")
            assert "<svg" in svg and "<script" not in svg.lower()
            csv, xlsx = dl.read_csv(links["csv"]), dl.read_xlsx(links["xlsx"])
            assert len(csv) == len(xlsx) > 0 and list(csv.columns) == list(xlsx.columns)
            n_figures += 1
        for table in main.find_all("table"):
            if "plusdig-metadata" in (table.get("class") or []):
                continue  # the colophon: facts about the book, not data (no downloads)
            anchor = table
            while anchor.find_next_sibling() is None or "plusdig-downloads" not in (
                    anchor.find_next_sibling().get("class") or []):
                anchor = anchor.parent  # a Styler table sits in the cell output's div
                assert anchor is not main, f"{page}: a table without downloads"
            links = _links(anchor.find_next_sibling(), page)
            assert set(links) == {"csv", "xlsx"}
            header, rows = _page_table(table)
            csv, xlsx = dl.read_csv(links["csv"]), dl.read_xlsx(links["xlsx"])
            assert [c.removeprefix("'") for c in csv.columns] == header, links["csv"]
            assert len(csv) == len(xlsx) == len(rows), links["csv"]
            for i, row in enumerate(rows):
                for j, shown in enumerate(row):
                    assert _same_cell(shown, csv.iat[i, j], xlsx.iat[i, j]), (links["csv"], i, j, shown)
            n_tables += 1
    assert n_figures >= 19 and n_tables >= 30, (n_figures, n_tables)


@pytest.mark.build
def test_the_index_lists_every_download_and_every_file_exists(built_site):
    index = json.loads((built_site / "downloads" / "index.json").read_text(encoding="utf-8"))
    entries = index["downloads"]
    names = [f for e in entries for f in e["files"]]
    assert len(names) == len(set(names))  # stable names, none shared
    for e in entries:
        assert e["chapter"] and e["label"].startswith(("Figur", "Tabel"))
        for f in e["files"]:
            assert (built_site / "downloads" / f).is_file(), f
            assert re.fullmatch(r"(figur|tabel)-[a-z0-9-]+\.(png|svg|csv|xlsx)", f), f
    linked = {a.rsplit("/", 1)[1] for p in _pages(built_site)
              for a in re.findall(r'href="([^"]*downloads/[^"]+)"', p.read_text(encoding="utf-8"))}
    assert linked == set(names)
    survey = [e for e in entries if e["docname"].endswith("trivsel-dybden")]
    assert survey and all(e["synthetic"] for e in survey)


def test_a_pages_html_tables_are_parsed_once_and_each_caller_gets_its_own_lists():
    """sitedownloads reads a page's tables when the page is read and again when it is
    resolved: the HTML is parsed once, every call gets lists of its own."""
    from plusdig.sphinx import sitedownloads

    raw = ("<table><caption>Tabel X</caption><thead><tr><th>a</th><th>b</th></tr></thead>"
           "<tbody><tr><td>1</td><td>2</td></tr></tbody></table>")
    sitedownloads._parsed.cache_clear()
    first = sitedownloads._html_tables(raw)
    assert first == [("Tabel X", ["a", "b"], [["1", "2"]])]
    first[0][1].append("c")
    first[0][2][0][0] = "changed"
    assert sitedownloads._html_tables(raw) == [("Tabel X", ["a", "b"], [["1", "2"]])]
    assert sitedownloads._parsed.cache_info().misses == 1
