"""Unit tests of plusdig.data.report (text helpers of the chapters) and of the per-condition summaries."""

from __future__ import annotations

import pandas as pd
import pytest

import plusdig
from plusdig import DataValidationError
from plusdig.data import coding
from plusdig.data import report
from plusdig.data.models import StatedCount

PUB = pd.DataFrame([
    {"figure_id": "rate", "label": "Svarprocent", "year_start": 2017, "year_end": 2019, "value": 90.0,
     "unit": "procent", "qualifier": "ca.", "direction": None, "population": "Alle", "quote": "ca. 90"},
    {"figure_id": "n", "label": "Børn", "year_start": 2018, "year_end": 2018, "value": 1100.0,
     "unit": "antal", "qualifier": None, "direction": None, "population": "Alle", "quote": "1100"},
    {"figure_id": "dir", "label": "Ensomme", "year_start": 2017, "year_end": 2018, "value": None,
     "unit": "antal", "qualifier": None, "direction": "fald", "population": "Alle", "quote": "Færre"},
    {"figure_id": "q", "label": "Spørgsmål", "year_start": None, "year_end": None, "value": 69.0,
     "unit": "spørgsmål", "qualifier": None, "direction": None, "population": "Alle", "quote": "69"},
]).astype({"year_start": "Int64", "year_end": "Int64", "value": "Float64"})


@pytest.mark.parametrize(("items", "expected"), [([], ""), (["1"], "1"), (["1", "2"], "1 og 2"),
                                                 (["1", "2", "5"], "1, 2 og 5")])
def test_danish_list(items: list[str], expected: str) -> None:
    assert report.danish_list(items) == expected


def test_count_text() -> None:
    c = StatedCount(what="aktører", value=70, qualifier="godt", section="beskrivelse", quote="godt 70")
    assert report.count_text(c) == "godt 70"
    assert report.count_text(c.model_copy(update={"qualifier": None, "value": 1200})) == "1.200"


def test_published_text_and_period() -> None:
    assert report.published_text(PUB, "rate") == "ca. 90 %"
    assert report.published_text(PUB, "n") == "1.100"
    assert report.published_period(PUB, "rate") == "2017–2019"
    assert report.published_period(PUB, "n") == "2018"
    assert report.published_period(PUB, "q") == ""
    with pytest.raises(DataValidationError, match="only a direction"):
        report.published_text(PUB, "dir")
    with pytest.raises(DataValidationError, match="figure_id"):
        report.published_text(PUB, "nope")


def test_published_table_shows_directions() -> None:
    t = report.published_table(PUB).set_index("figure_id")
    assert t.loc["dir", "value"] == "Færre" and t.loc["q", "value"] == "69"


def test_distinct_counts_keep_a_repeated_figure_once() -> None:
    counts = plusdig.counts_table()
    distinct = report.distinct_counts(counts)
    workshop = distinct[(distinct["activity_id"] == 10) & (distinct["what"] == "deltagere i workshoppen")]
    assert len(counts[(counts["activity_id"] == 10) & (counts["what"] == "deltagere i workshoppen")]) == 2
    assert len(workshop) == 1
    assert len(distinct) < len(counts)


def test_count_noun_agrees_in_number() -> None:
    assert report.count_noun(1, "aktivitet", "aktiviteter") == "1 aktivitet"
    assert report.count_noun(0, "aktivitet", "aktiviteter") == "ingen aktiviteter"
    assert report.count_noun(1200, "elev", "elever") == "1.200 elever"


def test_condition_summary_and_evidence() -> None:
    summary = coding.condition_summary().set_index("condition")
    table = coding.conditions_table()
    for code, row in summary.iterrows():
        mine = table[table["condition"] == code]
        assert row["n_activities"] == int(mine["activity_id"].notna().sum())
        assert row["n_workstreams"] == int((mine["unit_kind"] == "workstream").sum())
    evidence = coding.condition_evidence("backbone")
    assert evidence.loc[0, "unit"].startswith("Det første år")  # workstreams first
    assert len(evidence) == int((table["condition"] == "backbone").sum())
    with pytest.raises(DataValidationError):
        coding.condition_evidence("not-a-condition")


def test_activity_count_text() -> None:
    counts = pd.DataFrame([{"activity_id": 5, "what": "unge i netværket", "value": 12, "qualifier": "ca."},
                           {"activity_id": 1, "what": "unge skrev artikler", "value": 30, "qualifier": ""}])
    assert report.activity_count_text(counts, 5, "unge i netværket") == "ca. 12"
    assert report.activity_count_text(counts, 1, "unge skrev artikler") == "30"
    with pytest.raises(DataValidationError, match="activity 2"):
        report.activity_count_text(counts, 2, "unge i netværket")


def test_workstreams_table_in_order_with_actor_names() -> None:
    from plusdig import load_actors, load_first_year

    t = report.workstreams_table()
    fy = load_first_year()
    assert t["order"].tolist() == sorted(w.order for w in fy.workstreams)
    actors = load_actors()
    first = min(fy.workstreams, key=lambda w: w.order)
    assert t.loc[0, "actors"] == ", ".join(actors.at[a, "name"] for a in first.actors)
    assert t.loc[0, "n_points"] == len(first.points)


def test_activity_names_disambiguate_repeated_titles() -> None:
    from plusdig import load_activities

    names = report.activity_names(load_activities())
    titles = [a.title for a in load_activities()]
    assert len(set(names.values())) == len(names)  # every name is unique
    for a in load_activities():
        assert names[a.id] == a.title if titles.count(a.title) == 1 else names[a.id].endswith(f"(nr. {a.id})")


def test_survey_reference_says_only_what_the_annex_gives() -> None:
    """Issue 12: no subtitle, publication year or author the annex does not give; "Lejre" braced
    so that BibTeX keeps its capital."""
    import re

    from plusdig.core.paths import REPO_ROOT

    bib = (REPO_ROOT / "references.bib").read_text(encoding="utf-8")
    entry = re.search(r"@misc\{vive2019,(.*?)\n\}", bib, flags=re.S)
    assert entry, "the survey's entry vive2019 is missing"
    fields = dict(re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?\s*$", entry.group(1), flags=re.M))
    assert fields["title"] == "Hvordan har børn og unge i {Lejre} det?"
    assert "author" not in fields
    assert fields.get("year", "2017--2019") == "2017--2019"  # the survey years the annex states
    assert "lejre" not in re.sub(r"\{Lejre\}", "", bib.split("@misc{vive2019")[1].split("\n}")[0]).lower()
