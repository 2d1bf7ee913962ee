"""Tables for readers (issue 15): numbers right-aligned and glued to their unit, long tables
shown wide (one column per year), every text still escaped."""

from __future__ import annotations

import pandas as pd
import pytest

from plusdig import DataValidationError
from plusdig.present import tables


def test_numbers_keep_their_unit_and_qualifier() -> None:
    assert tables.keep_units("21,0 %") == "21,0\u00a0%"
    assert tables.keep_units("ca. 1.200 elever") == "ca.\u00a01.200 elever"
    assert tables.keep_units("-2,9 pp") == "-2,9\u00a0pp"
    assert tables.keep_units("Ensomme børn") == "Ensomme børn"
    assert tables.keep_units(7) == 7


@pytest.mark.parametrize("values, numeric", [
    (["2017", "2018"], True),
    (["21,0 % (18,7–23,5)", "–", "<5"], True),
    (["ca. 1.100", "over 110", "12"], True),
    (["−6,2 pp [−9,1; −3,3]"], True),
    (["18,7; 23,5", "−0,8; 6,0", "–"], True),
    (["1, 2, 6"], False),
    (["Kommune", "12"], False),
    (["–", "–"], False),  # only markers: nothing to align
])
def test_numeric_columns(values: list[str], numeric: bool) -> None:
    assert tables.is_numeric_column(pd.Series(values)) is numeric


def test_numeric_cells_are_marked_and_headers_follow() -> None:
    frame = pd.DataFrame({"År": ["2017", "2018"], "Andel": ["7,8 %", "8,1 %"], "Skole": ["A", "B"]})
    html = tables.html_styler(frame, caption="Andel").to_html()
    assert html.count('class="data row0 col0 num"') == 1 and 'col2 num' not in html
    assert "7,8\u00a0%" in html
    from plusdig.sphinx.tablefig import numeric_headers

    marked = numeric_headers(html)  # the book marks their headers too (plusdig.sphinx.tablefig)
    assert 'class="col_heading level0 col0 num"' in marked
    assert 'class="col_heading level0 col1 num"' in marked
    assert 'class="col_heading level0 col2"' in marked


def test_by_year_is_wide_and_escaped() -> None:
    long = pd.DataFrame({
        "label": ["<b>Glad</b>", "<b>Glad</b>", "Drillet", "Drillet"],
        "period": ["2017", "2018", "2017", "2018"],
        "value": ["84", "54", "10 %", "5 %"],
        "quote": ["fra 84 til 54", "fra 84 til 54", "q", "q"],
    })
    styler = tables.by_year(long, label="label", period="period", value="value",
                            headers={"label": "Tal", "quote": "Kildens ordlyd"}, caption="Pr. år")
    assert list(styler.data.columns) == ["Tal", "2017", "2018", "Kildens ordlyd"]
    assert styler.data.iloc[0].tolist() == ["<b>Glad</b>", "84", "54", "fra 84 til 54"]
    html = styler.to_html()
    assert "&lt;b&gt;Glad&lt;/b&gt;" in html and "<b>Glad" not in html
    assert "10\u00a0%" in html


def test_by_year_refuses_spans() -> None:
    long = pd.DataFrame({"label": ["x"], "period": ["2017-2019"], "value": ["3"]})
    assert not tables.single_year(long["period"]).any()
    with pytest.raises(DataValidationError, match="2017-2019"):
        tables.by_year(long, label="label", period="period", value="value", headers={"label": "Tal"})
