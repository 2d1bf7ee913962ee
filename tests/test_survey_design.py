"""The linked design (issue 19) on a delivery with ``pupil_key`` and ``class_id``
(tests/fixtures/design_fixtures.py, known design effect and within-pupil change): the tables
recover the truth within their intervals, every count is the registry's and protected jointly,
the audit reads the tables back and finds nothing derivable, and nothing shows without the
columns."""

from __future__ import annotations

import copy
import re
import warnings

import pandas as pd
import pytest
from fixtures import design_fixtures as dfx

from plusdig.sphinx import audit
from plusdig.survey import design, disclosure, pairs, registry
from plusdig.survey.linked import find_leaks
from plusdig.survey.readers import _Raw
from plusdig.survey.tables import reader_table, run_pipeline, tables_from_registry
from plusdig.survey.validation import validate

K = 5
#: The fixture's seed and attrition used here and in the build test (tests/
#: test_survey_linked_build.py); coverage over seeds is test_survey_inference's.
SEED, ATTRITION = 3, 0.3


def _tables(frame: pd.DataFrame, *, synthetic: bool = False) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels on the fixture's small SDQ groups
        return run_pipeline(frame, k=K, synthetic=synthetic)


@pytest.fixture(scope="module")
def delivery() -> pd.DataFrame:
    return dfx.design_frame(SEED, attrition=ATTRITION)


@pytest.fixture(scope="module")
def tables(delivery) -> dict:
    return _tables(delivery)


def _page(tables: dict) -> str:
    parts = [reader_table(t).to_html() for name, t in tables.items()
             if name not in ("published_check",)]
    return f"<html><body><main>{''.join(parts)}</main></body></html>"


def test_the_design_effect_is_recovered(tables):
    v = tables["design_effect"].values
    first = v[(v["indicator"] == "lonely") & (v["year"] == 2017)].iloc[0]
    truth = dfx.deff(ATTRITION)
    assert first["low"] < truth < first["high"], (first, truth)
    assert first["deff"] > 1  # 32 classes: the interval is wide, but the estimate sees them
    shown = tables["design_effect"].display
    assert set(shown["Klasser"]) == {"32"}  # 4 schools × 2 classes × 4 grades


def test_the_within_pupil_changes_are_recovered(tables):
    v = tables["design_change"].values.set_index("pair")
    for key, truth in (("2017-2018", dfx.CHANGE), ("5/2017-7/2019", dfx.change(2))):
        row = v.loc[key]
        assert row["rd_low"] < truth < row["rd_high"], (key, row.to_dict(), truth)
        assert row["or"] < 1  # a fall, and the odds ratio agrees
    assert v.loc["2017-2018", "or_high"] < 1
    assert v.loc["5/2017-7/2019", "clusters"] == 8  # grade 5's classes in 2017
    # linking narrows the interval: the same pupil's answers hang together
    assert (v["ratio"].dropna() < 1).all() and v["ratio"].notna().sum() == 3


def test_the_counts_are_the_linked_pupils(delivery, tables):
    frame = delivery.assign(year=delivery["year"].astype(int),
                            grade=delivery["grade"].astype(int))
    lonely = frame["lonely"].isin(["ofte", "nogle gange"])
    shown = tables["design_change"].display.set_index("Sammenligning")
    for label, (y0, g0, y1, g1) in (("2017 → 2018", (2017, None, 2018, None)),
                                    ("5. klasse 2017 → 7. klasse 2019", (2017, 5, 2019, 7))):
        a = frame[(frame["year"] == y0) & ((frame["grade"] == g0) if g0 else True)]
        b = frame[(frame["year"] == y1) & ((frame["grade"] == g1) if g1 else True)]
        both = set(a["pupil_key"]) & set(b["pupil_key"])
        assert shown.loc[label, "Samme elever"] == f"{len(both)}"
        first = int(lonely[a.index[a["pupil_key"].isin(both)]].sum())
        second = int(lonely[b.index[b["pupil_key"].isin(both)]].sum())
        assert shown.loc[label, "Ensomme, første måling"] == f"{first}"
        assert shown.loc[label, "Ensomme, anden måling"] == f"{second}"


def test_the_width_ratio_is_the_two_intervals(tables):
    v = tables["design_change"].values.dropna(subset=["rd_low"])
    ratio = (v["rd_high"] - v["rd_low"]) / (v["naive_high"] - v["naive_low"])
    assert ratio.to_numpy() == pytest.approx(v["ratio"].to_numpy())


def test_the_audit_reads_the_tables_and_finds_nothing(tables):
    report = audit.audit_html(_page(tables), K)
    assert not report.leaks, [str(x) for x in report.leaks]
    labels = " ".join(str(x) for x in report.labels.values())
    assert "Samme elever" in labels and "Klasser" in labels


def test_small_linked_groups_are_suppressed_jointly():
    """Few pupils drop out (attrition 10 %): the lonely pupils of grade 5 in 2017 who are not
    linked to 2019 are fewer than k, so the cohort's linked counts are hidden, and neither the
    registry's model nor the audit can work them out."""
    tabs = _tables(dfx.design_frame(2, attrition=0.1))
    reg = tabs["design_change"].cells
    rest = reg.cells[("link_rest", "5/2017-7/2019", 2017, "Ensomme")]
    assert rest.value < K and rest.status == disclosure.PRIMARY
    assert not find_leaks(reg.model(), K)
    row = tabs["design_change"].display.set_index("Sammenligning").loc[
        "5. klasse 2017 → 7. klasse 2019"]
    assert disclosure.SUPPRESSED in set(row)
    assert not audit.audit_html(_page(tabs), K).leaks


def test_a_careless_table_is_caught_by_the_audit():
    """The audit is not blind to the new table: with the cohort's unlinked lonely pupils
    below k, printing the cohort's linked counts as they are gives them away."""
    frame = validate(_Raw(dfx.design_frame(2, attrition=0.1), "<fixture>", 1, "record"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = copy.deepcopy(registry.build_registry(frame, K))
        for key, cell in reg.cells.items():
            if key[:2] == ("link", "5/2017-7/2019") and cell.status == disclosure.SECONDARY:
                cell.status = disclosure.SHOWN
        careless = tables_from_registry(reg, frame, None, False)
    assert audit.audit_html(_page(careless), K).leaks


def test_nothing_without_the_columns():
    tabs = _tables(dfx.design_frame(SEED, keys=False))
    assert "design_effect" not in tabs and "design_change" not in tabs
    assert design.design_section(tabs) is None


def test_classes_alone(delivery):
    tabs = _tables(delivery.drop(columns=["pupil_key"]))
    assert "design_effect" in tabs
    change = tabs["design_change"]
    assert "Samme elever" not in change.display.columns  # no linked counts to show
    assert change.values["rd"].notna().all()
    text = design.section_text(tabs)
    assert "ingen elevnøgle" in text and "klyngen er klassen" in text
    assert not audit.audit_html(_page(tabs), K).leaks


def test_pupil_keys_alone(delivery):
    tabs = _tables(delivery.drop(columns=["class_id"]))
    assert "design_effect" not in tabs
    assert "Samme elever" in tabs["design_change"].display.columns
    text = design.section_text(tabs)
    assert "oplyser ikke elevernes klasse" in text and "klyngen er eleven" in text


def test_no_verdict_on_synthetic_data(delivery):
    syn = design.section_text(_tables(delivery, synthetic=True))
    assert "omfatter" not in syn and "Med de rigtige besvarelser ville" in syn
    real = design.section_text(_tables(delivery))
    assert re.search(r"omfatter (konfidensintervallet for ændringen )?(ikke )?nul", real)


def test_no_key_or_class_id_in_any_table(delivery, tables):
    text = _page(tables) + design.section_text(tables)
    for table in tables.values():
        text += table.values.to_csv()
    for value in set(delivery["pupil_key"]) | set(delivery["class_id"]):
        assert value not in text


def test_the_pairs_of_a_delivery(tables):
    assert [p.label for p in pairs.pairs(pd.DataFrame({"year": [2017, 2018, 2019] * 2,
                                                        "grade": [5, 6, 7, 6, 7, 8]}))] == [
        "2017 → 2018", "2018 → 2019", "5. klasse 2017 → 7. klasse 2019"]
