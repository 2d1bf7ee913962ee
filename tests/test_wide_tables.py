"""Chapter 7's long tables shown wide (groups × years), and the audits that read them.

The reader table (``plusdig.survey.tables.reader_table``) only moves printed cells: read back
with ``plusdig.present.tables.long_rows`` it is the long table again, cell for cell. The
disclosure audit and the downloads check read it that way, so a figure's long download still
matches only numbers the page prints, and a download with one number more fails the check.
(The attacker tests in test_audit.py render every page with the wide tables.)
"""

from __future__ import annotations

import pandas as pd
import pytest
from fixtures import disclosure_fixtures as dfx
from fixtures import survey_fixtures as sf

from plusdig.core.errors import DataValidationError
from plusdig.present import figdata
from plusdig.present import tables as present_tables
from plusdig.publish import downloads
from plusdig.sphinx import audit, audit_model
from plusdig.survey import figures as survey_figures
from plusdig.survey import readers, registry, validation
from plusdig.survey import tables as survey_tables

K = 5


@pytest.fixture(scope="module")
def small():
    frame = validation.validate(readers._Raw(dfx.small_groups_frame(), "<fixture>", 2, "row"))
    return survey_tables.tables_from_registry(registry.build_registry(frame, K), frame, None, False)


def _read(styler) -> audit_model.Table:
    (table,), _ = audit_model.read_tables(f"<main>{styler.to_html()}</main>")
    return table


def _norm(text: str) -> str:
    return " ".join(str(text).split())


@pytest.mark.parametrize("name", sorted(survey_tables.WIDE_TABLES))
def test_the_wide_table_reads_back_as_the_long_table(small, name):
    table = small[name]
    long = table.display.rename(columns={"Besvarelser": "Antal svar"})  # its wide header
    for view, (columns, interval, _title) in survey_tables.WIDE_TABLES[name].items():
        printed = _read(survey_tables.reader_table(table, view))
        assert "År" not in printed.header
        # one row per group or measure, far fewer than the long table's
        assert len(printed.rows) == long.iloc[:, 0 if name == "comparison" else 1].nunique()
        assert len(printed.rows) < len(long)
        back = audit_model.as_long(printed)
        wanted = ["År", *columns, *(["95 %-konfidensinterval"] if interval else [])]
        assert set(wanted) <= set(back.header)
        row = "Mål" if name == "comparison" else long.columns[1]
        got = {(r[row], r["År"]): tuple(r[c] for c in wanted) for r in back.rows}
        want = {(_norm(r[row]), str(r["År"])): tuple(_norm(r[c]) for c in wanted)
                for _, r in long.iterrows()}
        assert got == want


def test_a_group_missing_in_a_year_has_no_long_row():
    long = pd.DataFrame({"År": ["2017", "2018", "2018"], "Skole": ["A", "A", "B"],
                         "Andel": ["1,0 %", "–", "3,0 %"], "KI": ["0; 2", "–", "2; 4"]})
    wide = present_tables.wide_by_year(long, row="Skole", columns=["Andel"],
                                       interval=("Andel", "KI"))
    assert list(wide.columns) == ["Skole", "2017: Andel [KI]", "2018: Andel [KI]"]
    assert wide.loc[1].tolist() == ["B", "", "3,0 % [2; 4]"]  # B has no row in 2017
    assert wide.loc[0].tolist() == ["A", "1,0 % [0; 2]", "–"]  # hidden stays hidden
    header, rows = present_tables.long_rows(list(wide.columns), wide.to_dict("records"))
    assert header == ["Skole", "År", "Andel", "KI"]
    assert [(r["Skole"], r["År"], r["Andel"], r["KI"]) for r in rows] == [
        ("A", "2017", "1,0 %", "0; 2"), ("A", "2018", "–", "–"), ("B", "2018", "3,0 %", "2; 4")]
    assert present_tables.long_rows(["Skole", "Andel"], [{"Skole": "A", "Andel": "1"}]) is None


def test_wide_by_year_refuses_two_rows_for_one_cell_and_missing_columns():
    long = pd.DataFrame({"År": ["2017", "2017"], "Skole": ["A", "A"], "Andel": ["1 %", "2 %"]})
    with pytest.raises(DataValidationError, match="more than one row"):
        present_tables.wide_by_year(long, row="Skole", columns=["Andel"])
    with pytest.raises(DataValidationError, match="missing column"):
        present_tables.wide_by_year(long, row="Skole", columns=["Besvarelser"])


def test_the_wide_table_escapes_a_school_name(small):
    table = small["prevalence_school"]
    hostile = table.display.replace({"Skole": {"Miniskolen": '<script>x()</script> $a$ "b"'}})
    from dataclasses import replace

    html = survey_tables.reader_table(replace(table, display=hostile)).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_audit_reads_the_wide_tables_and_finds_no_leak(small):
    page = "".join(survey_tables.reader_table(t, view).to_html() for name, t in small.items()
                   for view in survey_tables.WIDE_TABLES.get(name, {"andele": None}))
    tables, prose = audit_model.read_tables(f"<main>{page}</main>")
    model, conflicts = audit_model.attacker_model(tables, prose)
    assert not any("ukendt" in c for c in conflicts), conflicts
    # the wide school table's hidden cells are unknowns of the model, with their labels
    assert any("Miniskolen" in label for label in model.labels.values())
    assert audit.audit_html(f"<main>{page}</main>", K).leaks == []


def _site(tmp_path, small, rows_edit=None):
    """A survey page with the wide school table and the school figure's (long) download."""
    table = small["prevalence_school"]
    fig = survey_figures.figure_prevalence_groups(table, "Skoler", "Skole")
    data = figdata.data_of(fig).to_json()
    if rows_edit:
        rows_edit(data)
    sheet = downloads.sheet_from_figure_data("Figur 7.4", "Skoler", data)
    (tmp_path / "downloads").mkdir()
    downloads.write_csv(sheet, tmp_path / "downloads" / "figur-7-4.csv")
    page = tmp_path / "book" / "trivsel-dybden.html"
    page.parent.mkdir()
    page.write_text(f'<main>{survey_tables.reader_table(table).to_html()}'
                    '<a href="../downloads/figur-7-4.csv">CSV</a></main>', encoding="utf-8")
    return page, data


def test_a_figures_long_download_matches_the_wide_page(tmp_path, small):
    page, data = _site(tmp_path, small)
    assert len(data["rows"]) > 10 and "År" in data["columns"]
    assert sf.TINY_SCHOOL in {r[1] for r in data["rows"]}
    assert audit.check_downloads(page, page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("edit", [
    # a number the page does not print
    lambda d: d["rows"][0].__setitem__(2, "99,9 %"),
    # a printed share, but under another year's label
    lambda d: d["rows"][0].__setitem__(0, "2099"),
    # one row more: the tiny school's share, which the page hides
    lambda d: d["rows"].append(["2018", sf.TINY_SCHOOL, "33,3 %", "–"]),
])
def test_a_download_with_more_than_the_wide_page_fails(tmp_path, small, edit):
    page, _ = _site(tmp_path, small, edit)
    problems = audit.check_downloads(page, page.read_text(encoding="utf-8"))
    assert problems and "findes ikke i sidens tabeller" in problems[0]
