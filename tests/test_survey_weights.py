"""Post-stratification by grade × gender (issue 19, non-response sensitivity): the optional
invited-by-group input, its validation, the weighted share and what the appendix prints."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from plusdig.core import paths
from plusdig.core.errors import DataValidationError
from plusdig.sphinx import audit
from plusdig.survey import banner, contract, inference, synthetic, validation, weighting, weights
from plusdig.survey import tables as survey_tables

#: The fixture's population: (grade, gender) -> (invited, true share lonely, response rate).
#: Those who answer least are the loneliest, so the unweighted share is biased downwards.
POPULATION = {(5, "pige"): (500, 0.10, 0.9), (5, "dreng"): (500, 0.20, 0.8),
              (8, "pige"): (500, 0.30, 0.5), (8, "dreng"): (500, 0.50, 0.3)}


def _fixture_frame(year: int = 2019) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Respondents whose cell shares are the population's exactly; the groups file; the
    population prevalence."""
    rows, cells = [], []
    for (grade, gender), (invited, share, rate) in POPULATION.items():
        n = round(invited * rate)
        lonely = round(share * n)
        answers = ["ofte"] * (lonely // 2) + ["nogle gange"] * (lonely - lonely // 2) \
            + ["nej"] * (n - lonely)
        rows += [{"year": year, "grade": grade, "gender": gender, "lonely": a,
                  "completed": True} for a in answers]
        cells.append({"year": year, "grade": grade, "gender": gender, "invited": invited})
    # forms the weighting leaves out: not completed, loneliness unanswered, gender not stated
    rows += [{"year": year, "grade": 5, "gender": "pige", "lonely": "ofte", "completed": False},
             {"year": year, "grade": 5, "gender": "pige", "lonely": None, "completed": True},
             {"year": year, "grade": 8, "gender": "ikke oplyst", "lonely": "ofte",
              "completed": True}]
    population = sum(i * s for i, s, _r in POPULATION.values()) / sum(
        i for i, _s, _r in POPULATION.values())
    return pd.DataFrame(rows), pd.DataFrame(cells), population


def test_weighting_recovers_the_population_share_the_unweighted_one_misses() -> None:
    frame, groups, population = _fixture_frame()
    (w,) = weights.weighted_prevalence(frame, groups)
    assert w.complete and population == pytest.approx(0.275)
    assert w.weighted.estimate == pytest.approx(population)
    assert w.weighted.low < population < w.weighted.high
    # the unweighted share: (45 + 80 + 75 + 75 + the lonely form without gender) / 1251
    # = 22 %, its interval misses 27.5 %
    assert w.unweighted.estimate == pytest.approx(276 / 1251)
    assert w.unweighted.high < population
    # Kish's design effect of the weights, recomputed from its definition
    wt = weights.cell_weights(frame, groups).dropna().to_numpy()
    assert len(wt) == 1250 and wt.sum() == pytest.approx(2000)
    assert w.deff == pytest.approx(len(wt) * (wt ** 2).sum() / wt.sum() ** 2) and w.deff > 1.2
    assert (w.weighted.high - w.weighted.low) > (w.unweighted.high - w.unweighted.low)


def test_weights_are_invited_over_respondents_per_cell() -> None:
    frame, groups, _pop = _fixture_frame()
    wt = weights.cell_weights(frame, groups)
    girls5 = (frame["grade"] == 5) & (frame["gender"] == "pige") & frame["completed"] \
        & frame["lonely"].notna()
    assert wt[girls5].eq(500 / 450).all()
    assert wt[~frame["completed"] | frame["lonely"].isna()
              | (frame["gender"] == "ikke oplyst")].isna().all()


def test_a_cell_without_respondents_gives_no_weighted_share() -> None:
    frame, groups, _pop = _fixture_frame()
    gone = frame[~((frame["grade"] == 8) & (frame["gender"] == "dreng"))]
    (w,) = weights.weighted_prevalence(gone, groups)
    assert not w.complete and not w.weighted.defined and w.unweighted.defined


#: Per cell of POPULATION: among the lonely, the share often teased and the share in SDQ's
#: normal range; among all, the share «slet ikke glad». Every count below is a whole number.
PRIMARY_SHARES = {(5, "pige"): (0.2, 0.6, 0.02), (5, "dreng"): (0.4, 0.5, 0.05),
                  (8, "pige"): (0.6, 0.4, 0.10), (8, "dreng"): (0.8, 0.2, 0.20)}


def _primary_frame(year: int = 2019) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Respondents whose cell counts reproduce the population's shares of all four primary
    indicators exactly; the groups file; the population value of each indicator."""
    rows, cells = [], []
    pop = {"lonely": 0.0, "teased": 0.0, "sdq": 0.0, "happy": 0.0}
    for (grade, gender), (invited, share, rate) in POPULATION.items():
        teased, sdq, happy = PRIMARY_SHARES[(grade, gender)]
        n = round(invited * rate)
        lonely = round(share * n)
        for i in range(n):
            is_lonely = i < lonely
            rows.append({"year": year, "grade": grade, "gender": gender,
                         "lonely": "ofte" if is_lonely else "nej",
                         "teased": "ofte" if is_lonely and i < round(teased * lonely)
                         else "aldrig",
                         "sdq_band": "normal" if not is_lonely or i < round(sdq * lonely)
                         else "abnormal",
                         "happiness": "slet ikke glad" if i >= n - round(happy * n) else "glad",
                         "completed": True})
        cells.append({"year": year, "grade": grade, "gender": gender, "invited": invited})
        pop["lonely"] += invited * share
        pop["teased"] += invited * share * teased
        pop["sdq"] += invited * share * sdq
        pop["happy"] += invited * happy
    # a lonely pupil without a teasing answer and without a stated gender: outside the weights
    # (no cell), in the unweighted shares except the one of those teased
    rows.append({**rows[0], "teased": None, "gender": "ikke oplyst"})
    total = sum(i for i, _s, _r in POPULATION.values())
    truth = {"lonely": pop["lonely"] / total,
             "lonely_teased_often": pop["teased"] / pop["lonely"],
             "lonely_sdq_normal": pop["sdq"] / pop["lonely"],
             "not_happy_at_all": pop["happy"] / total}
    return pd.DataFrame(rows), pd.DataFrame(cells), truth


def test_every_primary_indicator_recovers_its_population_share() -> None:
    """Shares of all pupils and shares within the lonely group: the weighted share is the
    population's (0.275, 0.618, 0.345, 0.0925), the unweighted one is not."""
    frame, groups, truth = _primary_frame()
    assert truth["lonely_teased_often"] == pytest.approx(0.68 / 1.1)
    assert truth["not_happy_at_all"] == pytest.approx(0.0925)
    result = weights.weighted_indicators(frame, groups)
    assert list(result) == list(inference.PRIMARY)
    for key, (w,) in result.items():
        assert w.indicator == key and w.complete
        assert w.weighted.estimate == pytest.approx(truth[key]), key
        assert w.weighted.low < truth[key] < w.weighted.high, key
        assert abs(w.unweighted.estimate - truth[key]) > 0.02, key  # the bias weighting removes
    # the unweighted shares, counted by hand: 146 of the 275 lonely teased often (the one
    # without a teasing answer left out), 84 of 1251 «slet ikke glad»
    assert result["lonely_teased_often"][0].unweighted.estimate == pytest.approx(146 / 275)
    assert result["not_happy_at_all"][0].unweighted.estimate == pytest.approx(84 / 1251)


def wt_outside(frame: pd.DataFrame, groups: pd.DataFrame) -> pd.Series:
    """The form without a stated gender has no weight for any indicator."""
    return pd.Series([weights.cell_weights(frame, groups, weights.INDICATORS[key].base(frame))
                      .iloc[-1] for key in inference.PRIMARY]).isna()


def test_a_share_within_the_lonely_group_uses_the_group_s_weights() -> None:
    """The within-group share is weighted with the indicator's cell weights restricted to the
    lonely pupils, and its design effect is Kish's for those weights (not all pupils')."""
    frame, groups, _truth = _primary_frame()
    ind = weights.INDICATORS["lonely_teased_often"]
    assert ind.within_lonely and not weights.INDICATORS["not_happy_at_all"].within_lonely
    base = ind.base(frame)
    assert base.sum() == len(frame) - 1  # the form without a teasing answer
    assert wt_outside(frame, groups).all()
    wt = weights.cell_weights(frame, groups, base)
    assert wt[base].groupby([frame["grade"], frame["gender"]]).sum().round(6).eq(500).all()
    lonely = wt[base & frame["lonely"].eq("ofte")].to_numpy()
    (w,) = weights.weighted_share(frame, groups, "lonely_teased_often")
    assert w.deff == pytest.approx(len(lonely) * (lonely ** 2).sum() / lonely.sum() ** 2)
    yes = frame.loc[base & frame["lonely"].eq("ofte"), "teased"].eq("ofte").to_numpy()
    assert w.weighted.estimate == pytest.approx((lonely * yes).sum() / lonely.sum())


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "invited_groups.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "record", "field", "expected"), [
    ("2019,5,pige,12x\n", "row 2", "invited", "digits only"),
    ("2019,5,pige,-3\n", "row 2", "invited", "digits only"),
    ("2019,5,Pige,12\n", "row 2", "gender", "pige, dreng, andet"),
    ("2019,5,,12\n", "row 2", "gender", "not empty"),
    ("2019,11,pige,12\n", "row 2", "grade", "0–10"),
    ("1999,5,pige,12\n", "row 2", "year", "2015–2035"),
    ("2019,5,pige,12\n2019,5,pige,13\n", "row 3", "gender", "one row per year"),
])
def test_malformed_group_counts_are_refused(tmp_path, body, record, field, expected) -> None:
    path = _write(tmp_path, "year,grade,gender,invited\n" + body)
    with pytest.raises(DataValidationError) as err:
        weights.load_invited_groups(path)
    e = err.value
    assert e.file == str(path) and e.record == record and e.field == field
    assert expected in e.expected


def test_group_file_header_and_consistency_are_checked(tmp_path) -> None:
    with pytest.raises(DataValidationError, match="grade"):
        weights.load_invited_groups(_write(tmp_path, "year,gender,invited\n2019,pige,3\n"))
    frame, groups, _pop = _fixture_frame()
    small = groups.assign(invited=groups["invited"].where(groups["grade"] != 8, 100))
    with pytest.raises(DataValidationError) as err:
        weights.check_invited_groups(small, frame, None, "g.csv")
    assert err.value.field == "invited" and "fewer pupils invited" in str(err.value)
    assert not any(str(n) in str(err.value) for n in (150, 250))  # no count printed
    totals = pd.DataFrame({"invited": [1999]}, index=pd.Index([2019], name="year"))
    with pytest.raises(DataValidationError, match="add up to 2000"):
        weights.check_invited_groups(groups, frame, totals, "g.csv")
    with pytest.raises(DataValidationError, match="no rows for the year 2018"):
        weights.check_invited_groups(groups, pd.concat([frame, frame.assign(year=2018)]),
                                     None, "g.csv")
    weights.check_invited_groups(groups, frame, totals.assign(invited=2000), "g.csv")


@pytest.fixture(scope="module")
def synthetic_data():
    data = validation.load_survey()  # the synthetic default, with its group counts
    return data, survey_tables.run_pipeline(data, k=5)


def test_the_synthetic_group_counts_are_consistent_and_regenerable(synthetic_data) -> None:
    data, _tables = synthetic_data
    groups = data.invited_groups
    assert groups is not None and set(groups["gender"]) == {"pige", "dreng"}
    assert groups.groupby("year")["invited"].sum().to_dict() == data.invited["invited"].to_dict()
    rows, invited = synthetic.generate()
    again = synthetic.invited_groups(rows, invited)
    pd.testing.assert_frame_equal(again, groups.reset_index(drop=True), check_dtype=False)
    # the assumed non-response: boys' cells hold a larger share of the non-respondents
    forms = data.frame.groupby(["year", "grade", "gender"], observed=True).size()
    rate = {(y, g, s): forms[(y, g, s)] / i for y, g, s, i in groups.itertuples(index=False)}
    assert np.mean([v for k, v in rate.items() if k[2] == "dreng"]) < np.mean(
        [v for k, v in rate.items() if k[2] == "pige"])


def test_the_appendix_says_what_weighting_would_show_on_synthetic_data(synthetic_data) -> None:
    data, tables = synthetic_data
    w = weights.weighted_indicators(data.frame, data.invited_groups)
    nums = weighting.weighting(tables, w)
    assert "syntetiske data" in nums.weighting_sentence and "ville" in nums.weighting_sentence
    assert "flytter en andel med højst" not in nums.weighting_sentence  # no verdict
    assert "begrænset til de ensomme" in nums.weighting_sentence  # the within-group rule
    table = nums.table.values
    assert list(table.columns) == ["Indikator", "Andel af", "År", "Uvægtet andel [95 %-KI]",
                                   "Vægtet andel [95 %-KI]"]
    # all four primary indicators, each for every year, unweighted beside weighted
    assert list(table["Indikator"].drop_duplicates()) == [
        survey_tables.TREND_INDICATORS[key] for key in inference.PRIMARY]
    assert list(table["År"]) == ["2017", "2018", "2019"] * 4
    assert list(table["Andel af"]) == (["alle, der svarer"] * 3 + ["ensomme, der svarer"] * 6
                                       + ["alle, der svarer"] * 3)
    for row, x in zip(table.itertuples(index=False),
                      [x for key in inference.PRIMARY for x in w[key]], strict=True):
        pct = f"{x.weighted.estimate * 100:.1f}".replace(".", ",")
        assert row[4].startswith(pct + " %"), (row, x)
        pct = f"{x.unweighted.estimate * 100:.1f}".replace(".", ",")
        assert row[3].startswith(pct + " %"), (row, x)
    unweighted = weighting.weighting(tables, None)
    assert unweighted.table is None and unweighted.styler() is None
    assert "uvægtede" in unweighted.weighting_sentence
    # the groups' missing finite-population correction: its reason follows the input
    assert "bruges kun til vægtningen" in nums.groups_fpc_sentence
    assert "ikke er kendt" in unweighted.groups_fpc_sentence
    assert "bruges kun" not in unweighted.groups_fpc_sentence


def test_the_unweighted_shares_are_the_chapter_s(synthetic_data) -> None:
    """The weighting's own unweighted share of each primary indicator (from the rows) is the
    chapter's trend-table share (from the protected registry): the same definition."""
    data, tables = synthetic_data
    series = survey_tables.indicator_counts(tables)
    for key, years in weights.weighted_indicators(data.frame, data.invited_groups).items():
        for x in years:
            count, n = series[key][x.year]
            assert x.unweighted.estimate == pytest.approx(count / n), (key, x.year)
            assert x.complete and x.weighted.defined


def test_on_a_delivery_the_sentence_reports_the_shift(synthetic_data) -> None:
    data, tables = synthetic_data
    real = {name: t.__class__(t.name, t.title, t.values, t.display, False, t.k, cells=t.cells)
            for name, t in tables.items()}
    w = weights.weighted_indicators(data.frame, data.invited_groups)
    nums = weighting.weighting(real, w)
    moved = max(abs(x.weighted.estimate - x.unweighted.estimate) for v in w.values() for x in v)
    assert moved > max(abs(x.weighted.estimate - x.unweighted.estimate) for x in w["lonely"])
    assert f"højst {moved * 100:.1f}".replace(".", ",") in nums.weighting_sentence
    assert "syntetiske" not in nums.weighting_sentence


def test_the_weighted_table_leaks_nothing_and_shows_no_cell(synthetic_data) -> None:
    data, tables = synthetic_data
    w = weights.weighted_indicators(data.frame, data.invited_groups)
    weighted = weighting.weighted_table(tables, w)
    nums = banner.chapter_numbers(tables)
    prose = (f"<p>Pr. måling er der {nums['completed_range']} gennemførte besvarelser. i alt er "
             f"{nums['excluded_total']} skemaer udeladt af den grund.</p>")
    chapter = "<html><body><main>" + prose + "".join(
        t.styler().to_html() for t in tables.values()) + "</main></body></html>"
    appendix = "<html><body><main>" + weighted.styler().to_html() + "</main></body></html>"
    report = audit.audit_html([chapter, appendix], 5)
    assert not report.leaks, [str(x) for x in report.leaks]
    shares = weighted.values.drop(columns=["År", "Indikator", "Andel af"]).to_string(
        index=False, header=False)
    assert not re.search(r"\b\d{3,}\b", shares)  # no count, no cell: only shares
    assert len(weighted.values) == 4 * 3  # one row per indicator and year, never a cell
    unknown = appendix.replace("Vægtede andele", "En ny tabel")
    assert audit.audit_html([chapter, unknown], 5).leaks  # the audit reads it by its caption


def test_a_share_the_chapter_hides_is_not_shown_weighted(synthetic_data) -> None:
    """Where the chapter suppresses an indicator's count, its weighted share is left out too
    (it would tell what the suppression hides)."""
    data, tables = synthetic_data
    w = weights.weighted_indicators(data.frame, data.invited_groups)
    hidden = dict(tables)
    comp = tables["comparison"]
    values = comp.values.copy()
    values.loc[(values["measure"] == "teased_ofte") & (values["year"] == 2018), "lonely_x"] \
        = np.nan
    hidden["comparison"] = comp.__class__(comp.name, comp.title, values, comp.display,
                                          comp.synthetic, comp.k, cells=comp.cells)
    table = weighting.weighted_table(hidden, w).values
    assert len(table) == 11
    teased = table[table["Indikator"] == survey_tables.TREND_INDICATORS["lonely_teased_often"]]
    assert list(teased["År"]) == ["2017", "2019"]


def test_the_chapter_api_gives_the_appendix_its_weighting(monkeypatch) -> None:
    import plusdig

    monkeypatch.delenv(contract.SURVEY_ENV, raising=False)
    record = plusdig.survey_weighting()
    assert isinstance(record, weighting.Weighting) and record.table is not None
    assert record.styler() is not None and "syntetiske" in record.weighting_sentence


def test_the_source_names_the_group_file(monkeypatch) -> None:
    monkeypatch.delenv(contract.SURVEY_ENV, raising=False)
    src = contract.current_source()
    assert src.invited_groups == paths.data_dir() / contract.SYNTHETIC_INVITED_GROUPS
    monkeypatch.setenv(contract.INVITED_GROUPS_ENV, "x.csv")
    with pytest.raises(DataValidationError, match=contract.INVITED_GROUPS_ENV):
        contract.check_environment()


def test_the_response_per_grade_is_the_rows_and_hides_what_the_chapter_hides(
        synthetic_data) -> None:
    """Issue 19: where the invited counts per group are known, the appendix gives the response
    to the loneliness question per grade and year (recomputed here from the rows); a grade whose
    number of answers the chapter hides is left out, and without group counts it says why no
    rate per grade or school is given."""
    data, tables = synthetic_data
    text = weighting.response_by_grade(tables, data.invited_groups)
    done = data.frame[data.frame["completed"] & data.frame["lonely"].notna()]
    answered = done.groupby(["year", "grade"]).size()
    invited = data.invited_groups.groupby(["year", "grade"])["invited"].sum()
    rates = (answered / invited).dropna()
    low, high = rates.idxmin(), rates.idxmax()
    pct = lambda v: f"{v * 100:.1f}".replace(".", ",")  # noqa: E731
    assert f"har {pct(rates.min())}–{pct(rates.max())} % af de inviterede" in text
    assert f"lavest på {low[1]}. klassetrin i {low[0]} og højest på {high[1]}. klassetrin i " \
           f"{high[0]}" in text
    assert "syntetiske data" in text and "pr. skole kan ikke beregnes" in text
    # hide the lowest grade's count: it no longer enters the range
    reg = tables["response"].cells
    key = ("group", "grade", int(low[0]), int(low[1]), "n")
    saved = reg.cells[key].status
    reg.cells[key].status = -1
    try:
        hidden = weighting.response_by_grade(tables, data.invited_groups)
    finally:
        reg.cells[key].status = saved
    assert f"lavest på {low[1]}. klassetrin i {low[0]}" not in hidden
    assert pct(rates.drop(low).min()) + "–" in hidden
    plain = weighting.weighting(tables, None)
    assert "kun beregnes for hver måling som helhed" in plain.response_groups_sentence
