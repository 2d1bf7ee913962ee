"""The optional benchmark (issue 19): published results of the national well-being survey.

Every file here is made by the test and clearly fictitious ("Fiktiv Kommune", "fiktiv kilde"):
the book bundles no benchmark number. Without ``PLUSDIG_BENCHMARK`` chapter 7 shows nothing;
with a file, a validated table beside the book's own shares; bad files stop with the file, the
row, the field and what was expected.
"""

from __future__ import annotations

import math

import pytest

from plusdig.core.errors import DataValidationError
from plusdig.sphinx import audit, audit_model
from plusdig.survey import benchmark
from plusdig.survey import tables as survey_tables

HEADER = "year,indicator,area,share_pct,wording,source,respondents\n"
ROWS = ('2017,lonely,Fiktiv Kommune (testdata),"23,5",Fiktiv ordlyd <b>til test</b>,'
        'Fiktiv kilde til test – ikke rigtige tal,1200\n'
        '2019,lonely,Fiktivt hele landet (testdata),19.0,Fiktiv ordlyd,Fiktiv kilde,\n'
        '2019,not_happy_at_all,Fiktiv Kommune (testdata),"4,0",Fiktiv ordlyd,Fiktiv kilde,\n')


@pytest.fixture(scope="module")
def synthetic():
    return survey_tables.run_pipeline(k=5)


def _write(tmp_path, text: str):
    path = tmp_path / "benchmark.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_the_variable_nothing_is_shown(monkeypatch, synthetic):
    monkeypatch.delenv(benchmark.BENCHMARK_ENV, raising=False)
    assert benchmark.load_benchmark() is None
    assert benchmark.benchmark_section(synthetic) is None


def test_a_fictitious_benchmark_sits_beside_the_books_shares(tmp_path, monkeypatch, synthetic):
    monkeypatch.setenv(benchmark.BENCHMARK_ENV, str(_write(tmp_path, HEADER + ROWS)))
    loaded = benchmark.load_benchmark()
    assert [r.share_pct for r in loaded.rows] == [23.5, 19.0, 4.0]
    assert loaded.rows[0].respondents == 1200 and loaded.rows[1].respondents is None
    table = benchmark.benchmark_table(loaded, synthetic)
    trend = synthetic["trend"].values.set_index("indicator")
    for (_, v), r in zip(table.values.iterrows(), loaded.rows, strict=True):
        assert math.isclose(v["book"], trend.loc[r.indicator, str(r.year)])
    shown = table.display
    assert shown["Andel (den nationale måling)"].tolist() == ["23,5 %", "19,0 %", "4,0 %"]
    assert shown["Besvarelser"].tolist() == ["1.200", "ikke oplyst", "ikke oplyst"]
    html = benchmark.benchmark_section(synthetic).to_html()
    assert "&lt;b&gt;til test&lt;/b&gt;" in html and "<b>til test" not in html  # escaped
    assert "Syntetiske data" in html
    assert "syntetiske data" in benchmark.section_text(True)
    assert "syntetiske" not in benchmark.section_text(False)


def test_the_audit_reads_a_page_with_the_benchmark(tmp_path, synthetic):
    loaded = benchmark.load_benchmark(_write(tmp_path, HEADER + ROWS))
    parts = [survey_tables.reader_table(t, view).to_html() for name, t in synthetic.items()
             for view in survey_tables.WIDE_TABLES.get(name, {"andele": None})]
    parts.append(benchmark.benchmark_table(loaded, synthetic).styler().to_html())
    page = f"<main>{''.join(parts)}</main>"
    tables, prose = audit_model.read_tables(page)
    _model, conflicts = audit_model.attacker_model(tables, prose)
    assert conflicts == []
    assert audit.audit_html(page, 5).leaks == []


@pytest.mark.parametrize(("text", "where", "expected"), [
    (HEADER + '2017,lonely,Fiktiv Kommune,120,Fiktiv ordlyd,Fiktiv kilde,\n',
     "row 2, field 'share_pct'", "a number from 0 to 100"),
    (HEADER + '2017,trivsel,Fiktiv Kommune,12,Fiktiv ordlyd,Fiktiv kilde,\n',
     "row 2, field 'indicator'", "one of lonely, not_happy_at_all"),
    (HEADER + '1999,lonely,Fiktiv Kommune,12,Fiktiv ordlyd,Fiktiv kilde,\n',
     "row 2, field 'year'", "a whole number from 2010 to 2035"),
    (HEADER + '2017,lonely,Fiktiv Kommune,12,,Fiktiv kilde,\n',
     "row 2, field 'wording'", "a non-empty text"),
    (HEADER + '2017,lonely,Fiktiv Kommune,12,Fiktiv ordlyd,Fiktiv kilde,-3\n',
     "row 2, field 'respondents'", "a whole number"),
    (HEADER + '2017,lonely,Fiktiv Kommune,12,Fiktiv ordlyd,Fiktiv kilde,\n'
     '2017,lonely,Fiktiv Kommune,13,Fiktiv ordlyd,Fiktiv kilde,\n',
     "row 3, field 'area'", "one row per year, indicator and area"),
    (HEADER, "benchmark.csv", "at least one published share"),
])
def test_a_bad_file_stops_with_row_field_and_expected(tmp_path, text, where, expected):
    with pytest.raises(DataValidationError) as err:
        benchmark.load_benchmark(_write(tmp_path, text))
    message = str(err.value)
    assert "benchmark.csv" in message and where in message and expected in message, message


def test_a_missing_file_or_column_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(benchmark.BENCHMARK_ENV, str(tmp_path / "findes-ikke.csv"))
    with pytest.raises(DataValidationError, match="no such file"):
        benchmark.load_benchmark()
    with pytest.raises(DataValidationError):
        benchmark.load_benchmark(_write(tmp_path, "year,indicator,area,share_pct,source\n"
                                                  "2017,lonely,Fiktiv,1,Fiktiv kilde\n"))
