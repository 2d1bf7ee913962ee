"""Tests of the evaluators' coding (data/coding/, plusdig.data.coding).

Two kinds: the real coding files are checked against the source text (every quote occurs in the
whitespace-normalised annex, reusing the normalisation of ``test_fidelity``), and the loaders are
checked on small fixture folders, where every bad input must name file, record and field.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from test_fidelity import occurs, raw_source
from test_load import ACTIVITY, ACTORS, FIRST_YEAR, PUBLISHED

from plusdig import DataValidationError, load_activities, validate_all
from plusdig.data import coding
from plusdig.core.paths import REPO_ROOT

DATA = REPO_ROOT / "data"


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the real coding files
@pytest.mark.parametrize("name", ["conditions.yaml", "lessons.yaml"])
def test_every_quote_occurs_in_the_source(name: str) -> None:
    source = raw_source()
    links = _yaml(DATA / "coding" / name)["links"]
    missing = [link["quote"] for link in links if not occurs(link["quote"], source)]
    assert not missing, f"quotes not in the source: {missing}"


def test_real_coding_validates_and_is_counted_by_validate_all() -> None:
    counts = validate_all()
    assert counts[coding.CONDITIONS_FILE] == len(_yaml(DATA / coding.CONDITIONS_FILE)["links"])
    assert counts[coding.LESSONS_FILE] == len(_yaml(DATA / coding.LESSONS_FILE)["links"])


def test_every_condition_has_evidence_and_is_marked_as_judgement() -> None:
    cond = coding.load_condition_coding()
    assert "judgement" in cond.judged_by
    table = coding.conditions_table()
    vocab = [e.code for e in __import__("plusdig").load_vocabularies().conditions]
    assert set(table["condition"]) == set(vocab)
    assert table["rationale"].str.len().min() > 10


def test_lessons_cover_every_activity_with_substantive_lessons() -> None:
    """Every activity with lesson text is coded; uncoded ones have no section or only a link."""
    from plusdig.data.load import section_text

    coded = set(coding.lessons_table()["activity_id"])
    uncoded = 0
    for act in load_activities():
        text = coding.normalise(section_text(act, "erfaring"))
        if act.id not in coded:
            uncoded += 1
            assert text == "" or text.startswith("Læs mere her:"), f"activity {act.id} has a lesson but no theme"
    assert uncoded < len(load_activities()) / 2


def test_matrices_match_tables() -> None:
    m = coding.conditions_matrix()
    t = coding.conditions_table()
    assert m.shape == (len(load_activities()), 6)
    assert int(m.to_numpy().sum()) == int((t["unit_kind"] == "activity").sum())
    lm = coding.lessons_matrix()
    assert int(lm.to_numpy().sum()) == len(coding.lessons_table())
    counts = coding.theme_counts()
    assert counts["n_activities"].is_monotonic_decreasing
    assert counts["n_activities"].sum() == len(coding.lessons_table())


# --------------------------------------------------------------------------- fixtures
CONDITIONS = {
    "judged_by": "Evaluatorerne (evaluators' judgement)",
    "method": "Test.",
    "links": [
        {"activity": 1, "condition": "backbone", "rationale": "Sekretariatet er med.",
         "quote": "+DIG-sekretariatet"},
        {"workstream": "kick-off", "condition": "common_agenda", "rationale": "Kick off.",
         "quote": "Lokal kick off."},
    ],
}
LESSONS = {
    "judged_by": "Evaluatorerne (evaluators' judgement)",
    "method": "Test.",
    "themes": [{"code": "follow-up", "label": "Opfølgning", "description": "At følge op."}],
    "links": [{"activity": 1, "theme": "follow-up", "quote": "En erfaring."}],
}


def write_yaml(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(obj, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "survey").mkdir(parents=True)
    shutil.copy(DATA / "vocabularies.yaml", d / "vocabularies.yaml")
    (d / "actors.csv").write_text(ACTORS, encoding="utf-8")
    write_yaml(d / "activities.yaml", [ACTIVITY])
    write_yaml(d / "first_year.yaml", FIRST_YEAR)
    (d / "survey" / "published.csv").write_text(PUBLISHED, encoding="utf-8")
    write_yaml(d / coding.CONDITIONS_FILE, CONDITIONS)
    write_yaml(d / coding.LESSONS_FILE, LESSONS)
    return d


def with_link(base: dict, **changes: object) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(base, allow_unicode=True))
    doc["links"][0].update(changes)
    return doc


def expect(fn, base: Path, *, file: str, field: str, record: str = "links[0]", contains: str = "") -> None:
    with pytest.raises(DataValidationError) as info:
        fn(base)
    msg = str(info.value)
    assert file in msg and record in msg and f"field '{field}'" in msg and "expected" in msg, msg
    assert contains in msg, msg


def test_fixture_loads(data: Path) -> None:
    assert coding.validate_coding(data) == {coding.CONDITIONS_FILE: 2, coding.LESSONS_FILE: 1}
    t = coding.conditions_table(data)
    assert list(t["unit_kind"]) == ["activity", "workstream"]
    assert t.loc[1, "unit"] == "Det første år: Kick off"
    m = coding.conditions_matrix(data)
    assert m.loc["1. Ungebussen", "Fælles sekretariat (backbone)"] == 1
    assert m.to_numpy().sum() == 1  # the workstream link is not an activity row
    assert coding.lessons_matrix(data).loc["Opfølgning", 1] == 1


def test_missing_files_are_skipped(data: Path) -> None:
    (data / coding.LESSONS_FILE).unlink()
    assert coding.validate_coding(data) == {coding.CONDITIONS_FILE: 2}


def test_unknown_condition(data: Path) -> None:
    write_yaml(data / coding.CONDITIONS_FILE, with_link(CONDITIONS, condition="nonsense"))
    expect(coding.load_condition_coding, data, file="conditions.yaml", field="condition",
           contains="'nonsense'")


def test_unknown_activity(data: Path) -> None:
    write_yaml(data / coding.CONDITIONS_FILE, with_link(CONDITIONS, activity=99))
    expect(coding.load_condition_coding, data, file="conditions.yaml", field="activity", contains="99")


def test_unknown_workstream(data: Path) -> None:
    doc = with_link(CONDITIONS)
    doc["links"][1]["workstream"] = "nowhere"
    write_yaml(data / coding.CONDITIONS_FILE, doc)
    expect(coding.load_condition_coding, data, file="conditions.yaml", field="workstream",
           record="links[1]")


def test_both_activity_and_workstream(data: Path) -> None:
    write_yaml(data / coding.CONDITIONS_FILE, with_link(CONDITIONS, workstream="kick-off"))
    expect(coding.load_condition_coding, data, file="conditions.yaml", field="activity",
           contains="exactly one")


def test_quote_not_in_activity_text(data: Path) -> None:
    write_yaml(data / coding.CONDITIONS_FILE, with_link(CONDITIONS, quote="Et citat, der ikke findes"))
    expect(coding.load_condition_coding, data, file="conditions.yaml", field="quote", contains="activity 1")


def test_quote_whitespace_is_normalised(data: Path) -> None:
    write_yaml(data / coding.CONDITIONS_FILE, with_link(CONDITIONS, quote="En\tbeskrivelse.\n"))
    assert coding.load_condition_coding(data).links[0].quote.startswith("En")


def test_duplicate_condition_link(data: Path) -> None:
    doc = with_link(CONDITIONS)
    doc["links"].append(dict(doc["links"][0]))
    write_yaml(data / coding.CONDITIONS_FILE, doc)
    expect(coding.load_condition_coding, data, file="conditions.yaml", field="condition",
           record="links[2]", contains="twice")


def test_missing_rationale(data: Path) -> None:
    doc = with_link(CONDITIONS)
    del doc["links"][0]["rationale"]
    write_yaml(data / coding.CONDITIONS_FILE, doc)
    expect(coding.load_condition_coding, data, file="conditions.yaml", field="links[0].rationale",
           record="document")


def test_lesson_quote_must_come_from_erfaring(data: Path) -> None:
    # the text exists in the activity, but in "Beskrivelse", not in "Erfaring/gode råd"
    write_yaml(data / coding.LESSONS_FILE, with_link(LESSONS, quote="En beskrivelse."))
    expect(coding.load_lesson_coding, data, file="lessons.yaml", field="quote", contains="Erfaring")


def test_lesson_unknown_theme(data: Path) -> None:
    write_yaml(data / coding.LESSONS_FILE, with_link(LESSONS, theme="not-a-theme"))
    expect(coding.load_lesson_coding, data, file="lessons.yaml", field="theme")


def test_lesson_unknown_activity(data: Path) -> None:
    write_yaml(data / coding.LESSONS_FILE, with_link(LESSONS, activity=42))
    expect(coding.load_lesson_coding, data, file="lessons.yaml", field="activity")


def test_lesson_duplicate_theme_code(data: Path) -> None:
    doc = with_link(LESSONS)
    doc["themes"].append(dict(doc["themes"][0]))
    write_yaml(data / coding.LESSONS_FILE, doc)
    expect(coding.load_lesson_coding, data, file="lessons.yaml", field="code", record="themes[1]")


def test_bad_coding_breaks_validate_all(data: Path) -> None:
    from plusdig.data.validate import validate_all as va

    write_yaml(data / coding.LESSONS_FILE, with_link(LESSONS, theme="not-a-theme"))
    with pytest.raises(DataValidationError):
        va(data)


# --------------------------------------------------------------------------- coding in the data files
def _activity(**changes: object) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(ACTIVITY, allow_unicode=True))
    doc.update(changes)
    return doc


def expect_rule(data: Path, *, field: str, contains: str, file: str = "activities.yaml",
                record: str = "activity 1") -> None:
    expect(coding.check_activity_coding, data, file=file, field=field, record=record, contains=contains)


def test_real_data_follow_the_coding_rules() -> None:
    n = coding.check_activity_coding()
    acts = load_activities()
    assert n >= sum(len(a.partners) + len(a.target_groups) for a in acts)


def test_partner_quote_must_come_from_hvem_er_med(data: Path) -> None:
    # "En beskrivelse." is in the activity, but in "Beskrivelse", not in "Hvem er med?"
    write_yaml(data / "activities.yaml", [_activity(partners={"dig-sekretariatet": "En beskrivelse."})])
    expect_rule(data, field="partners.dig-sekretariatet", contains="Hvem er med?")


def test_workstream_actor_quote_must_come_from_its_points(data: Path) -> None:
    fy = yaml.safe_load(yaml.safe_dump(FIRST_YEAR, allow_unicode=True))
    fy["workstreams"][0]["actors"] = {"dig-sekretariatet": "Et sekretariat"}
    write_yaml(data / "first_year.yaml", fy)
    expect_rule(data, file="first_year.yaml", record="workstream kick-off",
                field="actors.dig-sekretariatet", contains="points")


def test_outcome_needs_a_stated_goal(data: Path) -> None:
    outcome = {"status": "not_achieved", "summary": "Ikke nået.", "quote": "første"}
    write_yaml(data / "activities.yaml", [_activity(outcome=outcome)])
    expect_rule(data, field="outcome.goal_quote", contains="no goal")


def test_outcome_goal_quote_must_come_from_formaal(data: Path) -> None:
    outcome = {"status": "achieved", "summary": "Nået.", "goal_quote": "En beskrivelse.", "quote": "første"}
    write_yaml(data / "activities.yaml", [_activity(outcome=outcome)])
    expect_rule(data, field="outcome.goal_quote", contains="Formål")


def test_outcome_result_quote_must_come_from_resultater(data: Path) -> None:
    outcome = {"status": "achieved", "summary": "Nået.", "goal_quote": "Et formål.", "quote": "Et formål."}
    write_yaml(data / "activities.yaml", [_activity(outcome=outcome)])
    expect_rule(data, field="outcome.quote", contains="Resultater")


def test_no_stated_goal_only_where_the_source_lacks_it(data: Path) -> None:
    outcome = {"status": "no_stated_goal", "summary": "Ikke vurderet.", "quote": "første"}
    write_yaml(data / "activities.yaml", [_activity(outcome=outcome)])
    expect_rule(data, field="outcome.status", contains="no_stated_goal")


def test_period_only_from_a_sentence_that_dates_the_activity(data: Path) -> None:
    # a date in "Hvem er med?" (a status: who is there at that time) does not date the activity
    sections = dict(ACTIVITY["sections"], hvem_er_med=["+DIG-sekretariatet. Der er i efteråret 2019 et korps."])
    period = {"years": [2019], "months": [], "season": "efterår", "quote": "i efteråret 2019 et korps"}
    write_yaml(data / "activities.yaml", [_activity(sections=sections, period=period)])
    expect_rule(data, field="period.quote", contains="Beskrivelse")


def test_period_codes_only_what_the_quote_states(data: Path) -> None:
    period = {"years": [2017], "months": [9], "quote": "besøgte i 2017"}
    write_yaml(data / "activities.yaml", [_activity(period=period)])
    expect_rule(data, field="period", contains="september")


def test_age_band_needs_a_stated_age(data: Path) -> None:
    tg = [{"kind": "pupils", "age_band": "grade_6_9", "quote": "Elever på"}]
    write_yaml(data / "activities.yaml", [_activity(target_groups=tg)])
    expect_rule(data, field="target_groups[0].age_band", contains="no age")


def test_target_group_quote_must_come_from_maalgruppe(data: Path) -> None:
    tg = [{"kind": "pupils", "age_band": None, "quote": "En beskrivelse."}]
    write_yaml(data / "activities.yaml", [_activity(target_groups=tg)])
    expect_rule(data, field="target_groups[0].quote", contains="Målgruppe")


def test_rule_breach_breaks_validate_all(data: Path) -> None:
    write_yaml(data / "activities.yaml", [_activity(partners={"dig-sekretariatet": "En beskrivelse."})])
    with pytest.raises(DataValidationError):
        validate_all(data)


# --------------------------------------------------------------------------- stated counts
# A count that no longer matches its own quote is caught by `make validate` and the commit
# hook (both run check_activity_coding), not only by the fidelity tests.
_COUNT_600 = ("    value: 600\n    qualifier: ca.\n    section: maalgruppe\n"
              "    quote: samlet ca. 600 elever\n")


@pytest.mark.parametrize(("replacement", "field", "contains"), [
    (_COUNT_600.replace("value: 600", "value: 613"), "counts[1].value",
     "the value 613 is not written in its quote"),
    (_COUNT_600.replace("qualifier: ca.", "qualifier: null"), "counts[1].qualifier",
     "the quote qualifies the value"),
    (_COUNT_600.replace("qualifier: ca.", "qualifier: over"), "counts[1].qualifier",
     "the qualifier 'over' is not in the quote"),
    (_COUNT_600.replace("section: maalgruppe", "section: resultater"), "counts[1].quote",
     "does not occur in 'Resultater'"),
])
def test_a_count_must_agree_with_its_quote(tmp_path: Path, replacement: str, field: str,
                                           contains: str) -> None:
    copy = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", copy)
    path = copy / "activities.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(_COUNT_600) == 1, "the test's count moved in activities.yaml"
    path.write_text(text.replace(_COUNT_600, replacement), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        coding.check_activity_coding(copy)
    message = str(info.value)
    assert "activities.yaml" in message and "activity 1" in message
    assert f"field '{field}'" in message and contains in message
