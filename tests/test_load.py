"""Unit tests of the loaders in plusdig.data.load: valid input loads, every bad input names file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from plusdig import DataValidationError
from plusdig.data import load as L
from plusdig.core.paths import REPO_ROOT

SECTIONS = {
    "beskrivelse": ["En beskrivelse.", {"bullets": ["punkt et", "punkt to"]}],
    "formaal": ["Et formål."],
    "maalgruppe": ["Elever på 6.-9.klassetrin – samlet ca. 600 elever."],
    "hvem_er_med": ["+DIG-sekretariatet"],
    "resultater": [{"numbered": ["første", "anden"]}, "Bussen besøgte i 2017 skolerne."],
    "erfaring": ["En erfaring."],
}

ACTIVITY = {
    "id": 1,
    "slug": "ungebussen",
    "title": "Ungebussen",
    "title_source": "UNGEBUSSEN",
    "track": None,
    "period": {"years": [2017], "months": [], "season": None, "quote": "besøgte i 2017"},
    "sections": SECTIONS,
    "links": ["https://www.plusdig.dk"],
    "target_groups": [{"kind": "pupils", "age_band": "grade_6_9", "quote": "Elever på 6.-9.klassetrin"}],
    "counts": [{"what": "elever i målgruppen", "value": 600, "qualifier": "ca.", "section": "maalgruppe",
                "quote": "samlet ca. 600 elever"}],
    "partners": {"dig-sekretariatet": "+DIG-sekretariatet"},
    "outcome": None,
    "source_notes": [],
}

FIRST_YEAR = {
    "forord": ["Dette er en oversigt."],
    "laesevejledning": ["Aktivitetskataloget skal ses som et tillæg."],
    "intro": ["I den indledende fase."],
    "workstreams": [{"id": "kick-off", "order": 1, "title": "Kick off", "points": ["Lokal kick off."],
                     "actors": {"dig-sekretariatet": "Lokal kick off"}, "counts": []}],
}

ACTORS = "id,name,sector,note\ndig-sekretariatet,+DIG-sekretariatet,municipality,\nvive,VIVE,research,\n"

PUBLISHED = (
    "figure_id,indicator,label,year_start,year_end,value,unit,qualifier,direction,population,quote\n"
    "n-questions,n-questions,Antal spørgsmål,,,69,spørgsmål,,,Alle elever,består af 69 spørgsmål\n"
    "lonely-direction,lonely-share,Færre ensomme,2017,2018,,procent,,fald,Alle elever,Færre svarer\n"
)


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """A small valid data folder (the repo's vocabularies plus one record of each kind)."""
    d = tmp_path / "data"
    (d / "survey").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "data" / "vocabularies.yaml", d / "vocabularies.yaml")
    (d / "actors.csv").write_text(ACTORS, encoding="utf-8")
    write_yaml(d / "activities.yaml", [ACTIVITY])
    write_yaml(d / "first_year.yaml", FIRST_YEAR)
    (d / "survey" / "published.csv").write_text(PUBLISHED, encoding="utf-8")
    return d


def write_yaml(path: Path, obj: object) -> None:
    path.write_text(yaml.safe_dump(obj, allow_unicode=True, sort_keys=False), encoding="utf-8")


def activity(**changes: object) -> dict:
    rec = yaml.safe_load(yaml.safe_dump(ACTIVITY, allow_unicode=True))
    rec.update(changes)
    return rec


def expect_error(fn, base: Path, *, file: str, field: str | None = None, record: str | None = None,
                 contains: str | None = None) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        fn(base)
    err = info.value
    msg = str(err)
    assert file in msg, msg
    if field is not None:
        assert err.field == field, msg
        assert f"field '{field}'" in msg
    if record is not None:
        assert record in msg, msg
    if contains is not None:
        assert contains in msg, msg
    assert "expected" in msg, msg
    return err


# --------------------------------------------------------------------------- valid input
def test_valid_fixture_loads(data: Path) -> None:
    acts = L.load_activities(data)
    assert [a.id for a in acts] == [1]
    assert acts[0].sections.beskrivelse[1].bullets == ["punkt et", "punkt to"]
    assert L.load_first_year(data).workstreams[0].id == "kick-off"
    actors = L.load_actors(data)
    assert actors.at["vive", "sector_label"] == "Forsknings- og videninstitution"
    pub = L.load_published(data)
    assert pub["value"].isna().tolist() == [False, True]
    assert str(pub["year_start"].dtype) == "Int64"


def test_tables(data: Path) -> None:
    t = L.activities_table(data)
    assert t.loc[0, "period"] == "2017"
    assert t.loc[0, "target_groups"] == "Elever"
    c = L.counts_table(data)
    assert c.loc[0, "approximate"] and c.loc[0, "qualifier"] == "ca."
    p = L.partners_table(data)
    assert p.loc[0, "sector"] == "municipality"
    tg = L.target_groups_table(data)
    assert tg.loc[0, "age_band_label"] == "6.–9. klasse"


def test_section_text_joins_blocks(data: Path) -> None:
    a = L.load_activities(data)[0]
    assert L.section_text(a, "beskrivelse") == "En beskrivelse.\n\npunkt et\npunkt to"


def test_loaders_never_write(data: Path) -> None:
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    L.activities_table(data)
    L.load_published(data)
    after = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert before == after


# --------------------------------------------------------------------------- bad input
def test_malformed_yaml_names_line(data: Path) -> None:
    (data / "activities.yaml").write_text("- id: 1\n  title: [unclosed\n", encoding="utf-8")
    expect_error(L.load_activities, data, file="activities.yaml", record="line", contains="malformed YAML")


def test_missing_file(data: Path) -> None:
    (data / "first_year.yaml").unlink()
    expect_error(L.load_first_year, data, file="first_year.yaml", contains="file not found")


def test_missing_required_field(data: Path) -> None:
    rec = activity()
    del rec["title"]
    write_yaml(data / "activities.yaml", [rec])
    expect_error(L.load_activities, data, file="activities.yaml", field="title", record="activity 1 (id=1)",
                 contains="required field is missing")


def test_empty_title(data: Path) -> None:
    write_yaml(data / "activities.yaml", [activity(title="   ")])
    expect_error(L.load_activities, data, file="activities.yaml", field="title")


def test_wrong_type_id(data: Path) -> None:
    write_yaml(data / "activities.yaml", [activity(id="en")])
    expect_error(L.load_activities, data, file="activities.yaml", field="id", contains="'en'")


def test_unknown_field(data: Path) -> None:
    write_yaml(data / "activities.yaml", [activity(titel="Ungebussen")])
    expect_error(L.load_activities, data, file="activities.yaml", field="titel", contains="unknown field")


def test_duplicate_activity_id(data: Path) -> None:
    write_yaml(data / "activities.yaml", [activity(), activity(slug="anden")])
    expect_error(L.load_activities, data, file="activities.yaml", field="id", record="activity 2",
                 contains="duplicate id 1")


def test_duplicate_slug(data: Path) -> None:
    write_yaml(data / "activities.yaml", [activity(), activity(id=2)])
    expect_error(L.load_activities, data, file="activities.yaml", field="slug", contains="duplicate slug")


def test_unknown_actor_id(data: Path) -> None:
    write_yaml(data / "activities.yaml", [activity(partners={"dig-sekretariatet": "x", "ukendt-aktoer": "y"})])
    expect_error(L.load_activities, data, file="activities.yaml", field="partners[1]",
                 contains="unknown actor id 'ukendt-aktoer'")


def test_unknown_target_group_code(data: Path) -> None:
    tg = [{"kind": "aliens", "age_band": None, "quote": "x"}]
    write_yaml(data / "activities.yaml", [activity(target_groups=tg)])
    expect_error(L.load_activities, data, file="activities.yaml", field="target_groups[0].kind",
                 contains="unknown code 'aliens'")


def test_unknown_age_band(data: Path) -> None:
    tg = [{"kind": "pupils", "age_band": "grade_1_3", "quote": "x"}]
    write_yaml(data / "activities.yaml", [activity(target_groups=tg)])
    expect_error(L.load_activities, data, file="activities.yaml", field="target_groups[0].age_band")


def test_negative_count(data: Path) -> None:
    counts = [dict(ACTIVITY["counts"][0], value=-3)]
    write_yaml(data / "activities.yaml", [activity(counts=counts)])
    expect_error(L.load_activities, data, file="activities.yaml", field="counts[0].value", contains="-3")


def test_non_numeric_count(data: Path) -> None:
    counts = [dict(ACTIVITY["counts"][0], value="mange")]
    write_yaml(data / "activities.yaml", [activity(counts=counts)])
    expect_error(L.load_activities, data, file="activities.yaml", field="counts[0].value", contains="mange")


def test_unknown_qualifier(data: Path) -> None:
    counts = [dict(ACTIVITY["counts"][0], qualifier="cirka")]
    write_yaml(data / "activities.yaml", [activity(counts=counts)])
    expect_error(L.load_activities, data, file="activities.yaml", field="counts[0].qualifier")


def test_empty_section_without_source_note(data: Path) -> None:
    sections = dict(SECTIONS, formaal=[])
    write_yaml(data / "activities.yaml", [activity(sections=sections)])
    expect_error(L.load_activities, data, file="activities.yaml", field="sections.formaal")
    notes = [{"section": "formaal", "issue": "empty", "note": "Kilden har ingen tekst under Formål."}]
    write_yaml(data / "activities.yaml", [activity(sections=sections, source_notes=notes)])
    assert L.load_activities(data)[0].sections.formaal == []


def test_bad_period_month(data: Path) -> None:
    write_yaml(data / "activities.yaml", [activity(period={"months": [13], "quote": "x"})])
    expect_error(L.load_activities, data, file="activities.yaml", field="period.months[0]")


def test_bad_link(data: Path) -> None:
    write_yaml(data / "activities.yaml", [activity(links=["www.plusdig.dk"])])
    expect_error(L.load_activities, data, file="activities.yaml", field="links[0]")


def test_activities_not_a_list(data: Path) -> None:
    write_yaml(data / "activities.yaml", {"id": 1})
    expect_error(L.load_activities, data, file="activities.yaml", contains="non-empty list")


def test_actor_unknown_sector(data: Path) -> None:
    (data / "actors.csv").write_text(ACTORS + "x,X,space,\n", encoding="utf-8")
    expect_error(L.load_actors, data, file="actors.csv", field="sector", record="row 4")


def test_actor_duplicate_id(data: Path) -> None:
    (data / "actors.csv").write_text(ACTORS + "vive,VIVE igen,research,\n", encoding="utf-8")
    expect_error(L.load_actors, data, file="actors.csv", field="id", record="row 4", contains="duplicate id 'vive'")


def test_actor_missing_column(data: Path) -> None:
    (data / "actors.csv").write_text("id,name\nvive,VIVE\n", encoding="utf-8")
    expect_error(L.load_actors, data, file="actors.csv", record="header", contains="['sector']")


def test_csv_wrong_width(data: Path) -> None:
    (data / "actors.csv").write_text(ACTORS + "a,b\n", encoding="utf-8")
    expect_error(L.load_actors, data, file="actors.csv", record="row 4", contains="2 fields")


def test_csv_unbalanced_quote(data: Path) -> None:
    (data / "actors.csv").write_text(ACTORS + 'x,"X,research,\n', encoding="utf-8")
    expect_error(L.load_actors, data, file="actors.csv", contains="malformed CSV")


def test_csv_not_utf8(data: Path) -> None:
    (data / "actors.csv").write_bytes((ACTORS + "oe,Lejre Børn,municipality,\n").encode("cp1252"))
    expect_error(L.load_actors, data, file="actors.csv", contains="UTF-8")


def test_published_non_numeric_value(data: Path) -> None:
    bad = PUBLISHED.replace(",69,", ",mange,")
    (data / "survey" / "published.csv").write_text(bad, encoding="utf-8")
    expect_error(L.load_published, data, file="published.csv", field="value", record="row 2")


def test_published_needs_value_or_direction(data: Path) -> None:
    bad = PUBLISHED.replace(",fald,", ",,")
    (data / "survey" / "published.csv").write_text(bad, encoding="utf-8")
    expect_error(L.load_published, data, file="published.csv", field="value", record="row 3")


def test_published_bad_unit(data: Path) -> None:
    bad = PUBLISHED.replace("spørgsmål,,,Alle", "stk,,,Alle")
    (data / "survey" / "published.csv").write_text(bad, encoding="utf-8")
    expect_error(L.load_published, data, file="published.csv", field="unit")


def test_first_year_unknown_actor(data: Path) -> None:
    fy = yaml.safe_load(yaml.safe_dump(FIRST_YEAR, allow_unicode=True))
    fy["workstreams"][0]["actors"] = {"nobody": "Lokal kick off"}
    write_yaml(data / "first_year.yaml", fy)
    expect_error(L.load_first_year, data, file="first_year.yaml", field="workstreams[0].actors[0]")


def test_first_year_empty_points(data: Path) -> None:
    fy = yaml.safe_load(yaml.safe_dump(FIRST_YEAR, allow_unicode=True))
    fy["workstreams"][0]["points"] = []
    write_yaml(data / "first_year.yaml", fy)
    expect_error(L.load_first_year, data, file="first_year.yaml", field="workstreams[0].points")


def test_vocabulary_duplicate_code(data: Path) -> None:
    v = yaml.safe_load((data / "vocabularies.yaml").read_text(encoding="utf-8"))
    v["sectors"].append({"code": "business", "label": "Igen"})
    write_yaml(data / "vocabularies.yaml", v)
    expect_error(L.load_vocabularies, data, file="vocabularies.yaml", field="code", contains="duplicate code")


def test_data_dir_env_override(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUSDIG_DATA", str(data))
    assert [a.slug for a in L.load_activities()] == ["ungebussen"]


def test_read_log_records_files(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "reads.log"
    monkeypatch.setenv("PLUSDIG_READ_LOG", str(log))
    L.load_actors(data)
    read = set(log.read_text(encoding="utf-8").split())
    assert str((data / "actors.csv").resolve()) in read
    assert str((data / "vocabularies.yaml").resolve()) in read


def test_empty_bullet_list_reports_the_list(data: Path) -> None:
    sections = dict(SECTIONS, beskrivelse=[{"bullets": []}])
    write_yaml(data / "activities.yaml", [activity(sections=sections)])
    err = expect_error(L.load_activities, data, file="activities.yaml", field="sections.beskrivelse[0].bullets")
    assert "at least 1" in str(err)


# --------------------------------------------------------------------------- hostile input
# Each case: (file, how to break it, loader, expected record/line text, field, message text).
# The loader must stop with a message naming the file, the record or line, the field (if
# the case has one) and what was expected. Nothing is converted to the field's type.
def _yaml_text(obj: object) -> str:
    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False)


def _activity_text(**changes: object) -> str:
    return _yaml_text([activity(**changes)])


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _edit(*parts_and_change: str):
    """A breaker: replace ``old`` by ``new`` once in the data file at ``parts`` (a path below
    the data folder: ``"survey", "published.csv"``)."""
    *parts, old, new = parts_and_change
    return lambda d: _replace(d.joinpath(*parts), old, new)


HOSTILE_DATA = [
    # (case id, file, text or a function(data dir), loader, record, field, contains)
    ("id-quoted", "activities.yaml", _edit("activities.yaml", "id: 1\n", "id: '2017'\n"),
     L.load_activities, "activity 1 (id='2017')", "id", "'2017' is text"),
    ("id-float", "activities.yaml", _edit("activities.yaml", "id: 1\n", "id: 2017.0\n"),
     L.load_activities, "activity 1", "id", "2017.0 is a decimal number"),
    ("id-bool", "activities.yaml", _edit("activities.yaml", "id: 1\n", "id: true\n"),
     L.load_activities, "activity 1 (id=true)", "id", "true is true/false"),
    ("count-quoted", "activities.yaml", _edit("activities.yaml", "value: 600", "value: '600'"),
     L.load_activities, "activity 1", "counts[0].value", "whole number"),
    ("year-float", "activities.yaml", _edit("activities.yaml", "- 2017", "- 2017.0"),
     L.load_activities, "activity 1", "period.years[0]", "2017.0 is a decimal number"),
    ("title-number", "activities.yaml", _edit("activities.yaml", "title: Ungebussen", "title: 2017"),
     L.load_activities, "activity 1", "title", "quote it"),
    ("title-long-number-type", "activities.yaml",
     _edit("activities.yaml", "value: 600", "value: ca. seks hundrede elever i alt, ifølge skolen"),
     L.load_activities, "activity 1", "counts[0].value", "the value is text"),
    ("title-yaml-no", "activities.yaml", _edit("activities.yaml", "title: Ungebussen", "title: no"),
     L.load_activities, "line 3", None, "read as true/false"),
    ("title-date", "activities.yaml",
     _edit("activities.yaml", "title: Ungebussen", "title: 2017-09-01"),
     L.load_activities, "line 3", None, "read as a date"),
    ("id-octal", "activities.yaml", _edit("activities.yaml", "id: 1\n", "id: 010\n"),
     L.load_activities, "line 1", None, "ambiguous number"),
    ("id-sexagesimal", "activities.yaml", _edit("activities.yaml", "id: 1\n", "id: 1:30\n"),
     L.load_activities, "line 1", None, "ambiguous number"),
    ("id-underscore", "activities.yaml", _edit("activities.yaml", "id: 1\n", "id: 1_0\n"),
     L.load_activities, "line 1", None, "ambiguous number"),
    ("duplicate-key", "activities.yaml",
     _edit("activities.yaml", "title: Ungebussen\n", "title: Ungebussen\n  title: Andet\n"),
     L.load_activities, "line 4", None, "duplicate key 'title' (first at line 3)"),
    ("duplicate-key-first-year", "first_year.yaml",
     _edit("first_year.yaml", "forord:", "intro:\n- x\nforord:"),
     L.load_first_year, "line", None, "duplicate key 'intro'"),
    ("control-char", "activities.yaml",
     _edit("activities.yaml", "title: Ungebussen", 'title: "Unge\\abussen"'),
     L.load_activities, "line 3", None, "control character U+0007"),
    ("bidi-override", "activities.yaml",
     _edit("activities.yaml", "title: Ungebussen", "title: Unge\u202ebussen"),
     L.load_activities, "line 3", None, "control character U+202E"),
    ("folder", "activities.yaml",
     lambda d: ((d / "activities.yaml").unlink(), (d / "activities.yaml").mkdir()),
     L.load_activities, None, None, "is a folder, not a file"),
    ("utf16", "activities.yaml",
     lambda d: (d / "activities.yaml").write_bytes((d / "activities.yaml").read_text(encoding="utf-8")
                                                   .encode("utf-16")),
     L.load_activities, None, None, "UTF-16"),
    ("empty-yaml", "first_year.yaml", lambda d: (d / "first_year.yaml").write_text("", encoding="utf-8"),
     L.load_first_year, "document", None, "the file is empty"),
    ("actors-header-only", "actors.csv",
     lambda d: (d / "actors.csv").write_text("id,name,sector,note\n", encoding="utf-8"),
     L.load_activities, None, None, "no actors (only a header)"),
    ("actors-empty-file", "actors.csv", lambda d: (d / "actors.csv").write_text("", encoding="utf-8"),
     L.load_activities, None, None, "actors.csv: the file is empty"),
    ("actors-gzip", "actors.csv",
     lambda d: (d / "actors.csv").write_bytes(__import__("gzip").compress(ACTORS.encode())),
     L.load_actors, None, None, "gzip-compressed"),
    ("actors-control-char", "actors.csv",
     lambda d: (d / "actors.csv").write_text(ACTORS + "x,Lejre\x07Skole,municipality,\n", encoding="utf-8"),
     L.load_actors, "row 4", "name", "control character U+0007"),
    ("actors-quoted-newline-row", "actors.csv",
     lambda d: (d / "actors.csv").write_text(ACTORS.replace("vive,VIVE,research,", 'vive,"VI\nVE",research,')
                                             + "x,X,nowhere,\n", encoding="utf-8"),
     L.load_actors, "row 5", "sector", "unknown code 'nowhere'"),
    ("actors-duplicate-column", "actors.csv",
     lambda d: (d / "actors.csv").write_text("id,name,sector,name\na,A,municipality,B\n", encoding="utf-8"),
     L.load_actors, "header", None, "['name'] given twice"),
    ("actors-unknown-column", "actors.csv",
     lambda d: (d / "actors.csv").write_text("id,name,sector,note,email\na,A,municipality,,x\n", encoding="utf-8"),
     L.load_actors, "header", None, "unknown column(s) 'email'"),
    ("published-year-float", "published.csv",
     _edit("survey", "published.csv", ",2017,2018,", ",2017.0,2018,"),
     L.load_published, "row 3", "year_start", "'2017.0' is not a plain number"),
    ("published-value-comma", "published.csv",
     _edit("survey", "published.csv", ",69,", ',"6,9",'),
     L.load_published, "row 2", "value", "'6,9' is not a plain number"),
    ("published-value-nan", "published.csv",
     _edit("survey", "published.csv", ",69,", ",nan,"),
     L.load_published, "row 2", "value", "not a plain number"),
    ("published-years-reversed", "published.csv",
     _edit("survey", "published.csv", ",2017,2018,", ",2019,2018,"),
     L.load_published, "row 3", "year_start", "year_start <= year_end"),
    ("published-header-only", "published.csv",
     lambda d: (d / "survey" / "published.csv").write_text(PUBLISHED.splitlines()[0] + "\n", encoding="utf-8"),
     L.load_published, None, None, "no figures (only a header)"),
    ("script-link", "activities.yaml",
     _edit("activities.yaml", "https://www.plusdig.dk", "javascript:alert(1)"),
     L.load_activities, "activity 1", "links[0]", "a web address starting with http:// or https://"),
    ("slug-upper-case", "activities.yaml",
     _edit("activities.yaml", "slug: ungebussen", "slug: Ungebussen"),
     L.load_activities, "activity 1", "slug", "'Ungebussen' is not in the form"),
    ("partner-twice", "activities.yaml",
     _edit("activities.yaml", "    dig-sekretariatet: ", "    dig-sekretariatet: x\n    dig-sekretariatet: "),
     L.load_activities, "line", None, "duplicate key 'dig-sekretariatet'"),
    ("year-twice", "activities.yaml", _edit("activities.yaml", "- 2017\n", "- 2017\n    - 2017\n"),
     L.load_activities, "activity 1", "period.years[1]", "2017 is listed twice"),
    ("link-twice", "activities.yaml",
     _edit("activities.yaml", "  - https://www.plusdig.dk\n", "  - https://www.plusdig.dk\n  - https://www.plusdig.dk\n"),
     L.load_activities, "activity 1", "links[1]", "is listed twice"),
    ("vocabulary-empty", "vocabularies.yaml",
     _edit("vocabularies.yaml", "outcome_statuses:", "unused: []\noutcome_statuses:"),
     L.load_vocabularies, "document", "unused", "unknown field"),
]


@pytest.mark.parametrize("case", HOSTILE_DATA, ids=[c[0] for c in HOSTILE_DATA])
def test_hostile_data_files(data: Path, case: tuple) -> None:
    _id, file, breaker, loader, record, field, contains = case
    breaker(data)
    expect_error(loader, data, file=file, record=record, field=field, contains=contains)


def test_empty_vocabulary_list(data: Path) -> None:
    v = yaml.safe_load((data / "vocabularies.yaml").read_text(encoding="utf-8"))
    v["sectors"] = []
    write_yaml(data / "vocabularies.yaml", v)
    expect_error(L.load_vocabularies, data, file="vocabularies.yaml", field="sectors", contains="the list is empty")


def test_vocabulary_age_band_reversed(data: Path) -> None:
    v = yaml.safe_load((data / "vocabularies.yaml").read_text(encoding="utf-8"))
    v["age_bands"][0]["min_age"] = 99
    write_yaml(data / "vocabularies.yaml", v)
    expect_error(L.load_vocabularies, data, file="vocabularies.yaml", field="age_bands[0].min_age",
                 contains="less than or equal to 30")


def test_quoted_year_is_never_an_integer(data: Path) -> None:
    """The three silent conversions of the issue ('2017', 2017.0, true) are all refused, and a
    plain 2017 still loads as an integer."""
    for bad in ("'2017'", "2017.0", "true"):
        write = _activity_text().replace("- 2017\n", f"- {bad}\n")
        (data / "activities.yaml").write_text(write, encoding="utf-8")
        with pytest.raises(DataValidationError, match=r"period\.years\[0\]"):
            L.load_activities(data)
    (data / "activities.yaml").write_text(_activity_text(), encoding="utf-8")
    assert L.load_activities(data)[0].period.years == [2017]


def test_messages_never_repeat_a_long_text(data: Path) -> None:
    long_text = "Jeg hedder Anna og jeg går i 5. klasse på skolen"
    write_yaml(data / "activities.yaml", [activity(id=long_text)])
    with pytest.raises(DataValidationError) as err:
        L.load_activities(data)
    assert long_text not in str(err.value) and "Anna" not in str(err.value)
    assert "a text of 48 characters" in str(err.value)


def test_utf8_bom_and_tabs_in_quotes_are_accepted(data: Path) -> None:
    text = _activity_text(title="Unge\tbussen")
    (data / "activities.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert L.load_activities(data)[0].title == "Unge\tbussen"
