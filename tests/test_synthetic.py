"""The synthetic survey: deterministic, committed as generated, reproduces every published figure.

The published figures are read from data/survey/published.csv (``plusdig.load_published``),
never re-typed here, and recomputed from the committed synthetic file with plain pandas
(independently of ``plusdig.survey``).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from plusdig.survey import contract
from plusdig.survey import published as survey_published
from plusdig.survey import readers
from plusdig.survey import tables as survey_tables
from plusdig.survey import validation
import plusdig
from plusdig.survey import synthetic
from plusdig.core.paths import data_dir

SYN_DIR = data_dir() / "survey" / "synthetic"


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.read_csv(SYN_DIR / synthetic.SYNTHETIC_NAMES[0], dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def invited() -> pd.DataFrame:
    return pd.read_csv(SYN_DIR / synthetic.SYNTHETIC_NAMES[1]).set_index("year")


@pytest.fixture(scope="module")
def done(rows) -> pd.DataFrame:
    out = rows[rows["completed"] == "ja"].copy()
    out["year"] = out["year"].astype(int)
    out["is_lonely"] = out["lonely"].isin(["ofte", "nogle gange"])
    return out


def half_up(x: float) -> float:
    return math.floor(x + 0.5)


def recompute(indicator: str, year: int | None, done: pd.DataFrame, invited: pd.DataFrame,
              published_qualifier: str | None) -> list[float] | str | None:
    """Independent recomputation of one published indicator (None: not from responses)."""
    by_year = done.groupby("year")
    if indicator == "respondents-per-measurement":
        return by_year.size().tolist()
    if indicator == "response-rate":
        return (by_year.size() / invited["invited"] * 100).tolist()
    if indicator == "pupils-total":
        return invited["invited"].tolist()
    if indicator == "grade-from":
        return [done["grade"].astype(int).min()]
    if indicator == "grade-to":
        return [done["grade"].astype(int).max()]
    if indicator == "measurements":
        return [done["year"].nunique()]
    d = done[done["year"] == year]
    lonely = d[d["is_lonely"]]
    if indicator == "not-happy-at-all":
        return [int((d["happiness"] == "slet ikke glad").sum())]
    if indicator == "lonely-sdq-normal-range":
        sdq = pd.to_numeric(lonely["sdq_total"].replace("", None)).dropna()
        return [half_up(100 * (sdq <= 15).mean())]
    if indicator == "lonely-often-teased":
        return [half_up(100 * (lonely["teased"] == "ofte").mean())]
    if indicator in {"questions", "measurements-planned"}:
        return None
    if indicator == "lonely":
        return "direction"
    raise AssertionError(f"published indicator {indicator!r} has no recomputation in this test")


def test_every_published_figure_is_reproduced(done, invited):
    published = plusdig.load_published()
    assert len(published) >= 10
    checked = 0
    for _, fig in published.iterrows():
        year = None if pd.isna(fig["year_start"]) else int(fig["year_start"])
        qual = None if pd.isna(fig["qualifier"]) else fig["qualifier"]
        got = recompute(fig["indicator"], year, done, invited, qual)
        if got is None:
            assert fig["indicator"] in survey_published.NOT_FROM_RESPONSES
            continue
        checked += 1
        if got == "direction":
            share = done.groupby("year")["is_lonely"].mean()
            change = share[int(fig["year_end"])] - share[int(fig["year_start"])]
            assert fig["direction"] == "fald" and change < 0, fig["figure_id"]
            continue
        value = float(fig["value"])
        for x in got:
            if qual == "ca.":
                assert abs(x - value) <= contract.APPROX_TOLERANCE * value, (fig["figure_id"], x)
            else:
                assert x == value, (fig["figure_id"], x, value)
    assert checked >= 12


def test_library_check_agrees(monkeypatch):
    monkeypatch.delenv(contract.SURVEY_ENV, raising=False)
    tables = survey_tables.run_pipeline()
    check = tables["published_check"].values
    applicable = check[~check["indicator"].isin(survey_published.NOT_FROM_RESPONSES)]
    assert (applicable["status"] == "stemmer").all(), applicable[["figure_id", "status"]]
    assert set(check["status"]) <= {"stemmer", "indgår ikke i besvarelserne"}


def test_three_years_of_about_1100_completed(done, rows):
    counts = done.groupby("year").size()
    assert list(counts.index) == list(synthetic.YEARS)
    assert all(1000 <= c <= 1200 for c in counts)
    assert (rows["completed"] == "nej").sum() > 0  # incomplete forms exist and are excluded


def test_schools_are_neutral_and_grades_5_to_8(rows):
    assert set(rows["school"]) == set(synthetic.SCHOOLS)
    assert all(s.startswith("Skole ") or s == "Specialskolen" for s in rows["school"].unique())
    assert sorted(rows["grade"].astype(int).unique()) == [5, 6, 7, 8]
    assert rows["respondent_id"].str.match(r"^SYN\d{4}-\d+$").all()


def test_annex_associations_for_lonely_children(done):
    """Lonely children: harder to talk to adults and peers, more teased and bullied, lower
    well-being (SDQ), fewer leisure activities, less happy -- in every year."""
    for _year, d in done.groupby("year"):
        lon, other = d[d["is_lonely"]], d[~d["is_lonely"]]

        def share(frame, col, val):
            return (frame[col] == val).mean()

        assert share(lon, "talks_to_adult", "ja") < share(other, "talks_to_adult", "ja")
        assert share(lon, "talks_to_peer", "ja") < share(other, "talks_to_peer", "ja")
        assert share(lon, "bullied", "ja") > share(other, "bullied", "ja")
        assert lon["teased"].isin(["ofte", "nogle gange"]).mean() > \
            other["teased"].isin(["ofte", "nogle gange"]).mean()
        assert share(lon, "leisure_activity", "ja") < share(other, "leisure_activity", "ja")
        happy = ["meget glad", "glad"]
        assert lon["happiness"].isin(happy).mean() < other["happiness"].isin(happy).mean()
        sdq_l = pd.to_numeric(lon["sdq_total"].replace("", None)).dropna()
        sdq_o = pd.to_numeric(other["sdq_total"].replace("", None)).dropna()
        assert (sdq_l <= 15).mean() < (sdq_o <= 15).mean()
        assert sdq_l.mean() > sdq_o.mean()


def test_generator_is_deterministic_and_seeded():
    a, inv_a = synthetic.generate(0.2)
    b, inv_b = synthetic.generate(0.2)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(inv_a, inv_b)
    c, _ = synthetic.generate(0.2, seed=synthetic.SEED + 1)
    assert not a["lonely"].equals(c["lonely"])


def test_committed_dataset_is_exactly_the_generators_output(tmp_path):
    paths = synthetic.write_dataset(tmp_path)
    for path in paths:
        committed = SYN_DIR / path.name
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} differs from the generator's output: run `python -m plusdig.survey.synthetic`")


def test_scale_and_n_per_year():
    rows, invited = synthetic.generate(n_per_year=5000, n_schools=40)
    done = rows[rows["completed"]]
    per_year = done.groupby("year").size()
    assert all(abs(n - 5000) <= 50 for n in per_year)
    assert rows["school"].nunique() == 41  # 40 numbered schools + the special school
    assert (invited["invited"] > per_year.to_numpy()).all()
    # the published structure scales: "slet ikke glad" scales with n
    ratio = (done[done["year"] == 2017]["happiness"] == "slet ikke glad").sum() / per_year[2017]
    assert abs(ratio - 84 / 1102) < 0.002


def test_contract_columns_and_validation():
    rows, _ = synthetic.generate(0.1)
    assert list(rows.columns) == contract.COLUMNS
    typed = validation.validate(readers._Raw(rows, "<generated>", 1, "record"))
    assert len(typed) == len(rows)


def test_allocate_is_exact():
    counts = synthetic._allocate(10, {"a": 1, "b": 1, "c": 1}, {"d": 4})
    assert counts["d"] == 4 and sum(counts.values()) == 10
    with pytest.raises(ValueError):
        synthetic._allocate(3, {"a": 1}, {"b": 5})


def test_cli_writes_files(tmp_path, capsys):
    assert synthetic.main(["--out", str(tmp_path), "--scale", "0.05"]) == 0
    assert (tmp_path / synthetic.SYNTHETIC_NAMES[0]).is_file()
    assert "wrote" in capsys.readouterr().out
