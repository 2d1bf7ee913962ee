"""Item non-response (issue 19): a completed form that leaves some answers empty counts for
every indicator whose answer is present, each indicator has its own n, and the methods
appendix reports the rates per question from the protected registry.

The truth is recomputed here with plain pandas from the delivery's text values, independently
of ``plusdig.survey``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from fixtures import design_fixtures as dfx
from fixtures import survey_fixtures as sf

from plusdig.core.errors import DataValidationError
from plusdig.sphinx import audit
from plusdig.survey import items, readers, validation
from plusdig.survey import tables as survey_tables
from plusdig.survey.contract import ITEM_LABELS

K = 5
LONELY = ("ofte", "nogle gange")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return validation.validate(readers._Raw(frame, "<fixture>", 2, "row"))


@pytest.fixture(scope="module")
def gaps() -> tuple[pd.DataFrame, dict]:
    """The design fixture with 8 % of every answer left empty on completed forms."""
    frame = dfx.design_frame(3, missing_rate=0.08)
    return frame, survey_tables.run_pipeline(_typed(frame), k=K)


def _done(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[frame["completed"] == "ja"].copy()
    out["year"] = out["year"].astype(int)
    return out


def test_the_fixture_has_item_non_response_and_the_pipeline_runs(gaps):
    frame, tables = gaps
    done = _done(frame)
    for column in dfx.ANSWER_COLUMNS:
        assert (done[column] == "").mean() > 0.05, column
    # every completed form is counted once in the response table
    resp = tables["response"].values.set_index("year")
    assert resp["completed"].to_dict() == done.groupby("year").size().to_dict()


def test_each_indicator_has_its_own_n(gaps):
    frame, tables = gaps
    done = _done(frame)
    answered = done[done["lonely"] != ""]
    prev = tables["prevalence_year"].values.set_index("year")
    assert prev["n"].to_dict() == answered.groupby("year").size().to_dict()
    assert prev["lonely"].to_dict() == answered[answered["lonely"].isin(LONELY)] \
        .groupby("year").size().to_dict()
    happy = tables["happiness"].values.set_index("year")
    assert happy["n"].to_dict() == done[done["happiness"] != ""].groupby("year").size().to_dict()
    # a comparison counts the forms that answer both questions, per lonely group
    comp = tables["comparison"].values
    row = comp[(comp["measure"] == "bullied") & (comp["year"] == 2018)].iloc[0]
    both = answered[(answered["year"] == 2018) & (answered["bullied"] != "")]
    lonely = both[both["lonely"].isin(LONELY)]
    assert row["lonely_n"] == len(lonely)
    assert row["lonely_x"] == (lonely["bullied"] == "ja").sum()
    shown = tables["comparison"].display
    shown = shown[(shown["Mål"] == "Bliver mobbet") & (shown["År"] == "2018")].iloc[0]
    assert shown[survey_tables.N_COLUMN] == f"{len(lonely)} / {len(both) - len(lonely)}"


def test_the_item_table_gives_every_question_s_gaps(gaps):
    frame, tables = gaps
    done = _done(frame)
    table = tables["items"]
    assert table.title == items.ITEM_TITLE
    assert list(table.display["Spørgsmål"]) == list(ITEM_LABELS.values())
    rates = items.item_missing_rates(tables)
    for column, raw in (("lonely", "lonely"), ("teased", "teased"), ("sdq_band", "sdq_total")):
        for year, group in done.groupby("year"):
            missing = int((group[raw] == "").sum())
            assert rates[column][year] == pytest.approx(missing / len(group))
            row = table.display[table.display["Spørgsmål"] == ITEM_LABELS[column]].iloc[0]
            assert row[f"{year}: besvaret"] == f"{len(group) - missing}"
            assert row[f"{year}: uden svar"].startswith(f"{missing} (")


def test_the_page_with_item_non_response_leaks_nothing(gaps):
    """The chapter's tables and the item table on one page: the independent audit finds no
    hidden count it can narrow down, the comparison's denominators included."""
    _frame, tables = gaps
    page = "".join(t.styler().to_html() for t in tables.values())
    report = audit.audit_html(f"<html><body><main>{page}</main></body></html>", K)
    assert report.leaks == [], [str(x) for x in report.leaks]
    assert report.cells > 0


def test_small_gaps_are_protected_like_other_counts():
    """A small delivery with gaps: no sensitive count below k is printed anywhere (the item
    non-response counts are no answers and may be small)."""
    frame = sf.text_frame(0.05, 2)
    done = frame.index[frame["completed"] == "ja"]
    frame.loc[done[::15], "teased"] = ""
    tables = survey_tables.run_pipeline(_typed(frame), k=K)
    reg = tables["items"].cells
    small = [key for key, cell in reg.cells.items()
             if cell.places and cell.sensitive and cell.value < K and reg.shown(key)]
    assert small == []
    page = "".join(t.styler().to_html() for t in tables.values())
    assert audit.audit_html(f"<html><body><main>{page}</main></body></html>", K).leaks == []


def test_a_malformed_answer_still_stops_the_build(tmp_path):
    """Item non-response is not malformed input: an invalid code still is, named by file,
    row and field, and a pupil's own words are never printed."""
    frame = dfx.design_frame(1, missing_rate=0.05)
    frame.loc[7, "teased"] = "det vil jeg ikke sige til nogen"
    path = sf.write_csv(frame, tmp_path / "delivery.csv")
    with pytest.raises(DataValidationError) as err:
        validation.load_survey(path)
    msg = str(err.value)
    assert str(path) in msg and "row 9" in msg and err.value.field == "teased"
    assert "ofte, nogle gange, sjældent, aldrig" in msg
    assert "vil jeg ikke" not in msg
