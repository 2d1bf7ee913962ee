"""Schools without a league table (issue 19): the funnel plot and pseudonymous school names.

The funnel's pooled numbers are sums of the school table's published year cells, a school with a
hidden year cell gets «–», and the disclosure audit models each pooled count as the sum of its
year cells: a careless funnel (the tiny school's pooled count printed) is caught. With
``PLUSDIG_SCHOOL_KEY`` every school is »Skole A« … in every table, figure and download, in an
order from a keyed hash (stable for one key, not the alphabet's).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from fixtures import disclosure_fixtures as dfx
from fixtures import survey_fixtures as sf

from plusdig.core.errors import DataValidationError
from plusdig.present import figdata
from plusdig.sphinx import audit, audit_model
from plusdig.survey import funnel, pseudonyms, readers, registry, validation
from plusdig.survey import tables as survey_tables

K = 5


def _typed(frame):
    return validation.validate(readers._Raw(frame, "<fixture>", 2, "row"))


@pytest.fixture(scope="module")
def small():
    frame = _typed(dfx.small_groups_frame())
    return survey_tables.tables_from_registry(registry.build_registry(frame, K), frame, None, False)


@pytest.fixture(scope="module")
def synthetic():
    return survey_tables.run_pipeline(k=K)


def _page(tables) -> str:
    parts = [survey_tables.reader_table(t, view).to_html() for name, t in tables.items()
             for view in survey_tables.WIDE_TABLES.get(name, {"andele": None})]
    return f"<html><body><main>{''.join(parts)}</main></body></html>"


# --------------------------------------------------------------------------- the funnel
def test_pooled_numbers_are_the_sums_of_the_schools_year_cells(synthetic):
    school = synthetic["prevalence_school"].values
    school = school[school["group"] != "I alt"]
    table = synthetic["funnel"]
    assert len(table.values) == school["group"].nunique() == 8
    for _, row in table.values.iterrows():
        years = school[school["group"] == row["school"]]
        assert row["n"] == years["n"].sum()
        assert row["lonely"] == years["lonely"].sum()
        assert math.isclose(row["share"], row["lonely"] / row["n"])
    total = synthetic["prevalence_year"].values
    assert math.isclose(funnel.municipal_share(table), total["lonely"].sum() / total["n"].sum())


def test_the_position_follows_the_control_limits():
    p = 0.2
    # n = 100: 95 % limits 12,2–27,8 %, 99,8 % limits 7,6–32,4 %
    assert funnel._position(0.25, p, 100) == funnel.INSIDE
    assert funnel._position(0.30, p, 100) == "over 95 %-grænsen"
    assert funnel._position(0.33, p, 100) == "over 99,8 %-grænsen"
    assert funnel._position(0.10, p, 100) == "under 95 %-grænsen"
    assert funnel._position(0.05, p, 100) == "under 99,8 %-grænsen"
    # the same share is inside for a small school and outside for a large one
    assert funnel._position(0.26, p, 100) == funnel.INSIDE
    assert funnel._position(0.26, p, 2000) == "over 99,8 %-grænsen"


def test_a_school_with_a_hidden_year_has_no_pooled_number(small):
    table = small["funnel"]
    row = table.display.set_index("Skole").loc[sf.TINY_SCHOOL]
    assert row.tolist() == ["–", "–", "–"]
    assert math.isnan(table.values.set_index("school").loc[sf.TINY_SCHOOL, "share"])
    assert "skjult" in table.caption()


def test_the_audit_reads_the_funnel_and_finds_no_leak(small):
    page = _page(small)
    tables, prose = audit_model.read_tables(page)
    model, conflicts = audit_model.attacker_model(tables, prose)
    assert conflicts == []
    assert ("pooled", sf.TINY_SCHOOL, "n") in model.labels  # the funnel's cells are modelled
    assert audit.audit_html(page, K).leaks == []


def test_the_audit_catches_a_careless_funnel(small):
    """The tiny school's pooled count printed: it is its hidden year cell (one year only)."""
    table = small["funnel"]
    n = int(small["prevalence_school"].cells.value(("group", "school", 2018, sf.TINY_SCHOOL, "n")))
    careless = table.display.copy()
    careless.loc[careless["Skole"] == sf.TINY_SCHOOL, "Besvarelser i alt"] = str(n)
    page = _page({**small, "funnel": replace(table, display=careless)})
    report = audit.audit_html(page, K)
    assert report.leaks, "a printed pooled count equal to a hidden cell must be found"
    assert any(sf.TINY_SCHOOL in leak.where for leak in report.leaks)


def test_the_funnels_download_is_the_funnel_table(tmp_path, synthetic):
    from plusdig.publish import downloads

    fig = funnel.figure_funnel(synthetic["funnel"])
    data = figdata.data_of(fig).to_json()
    assert data["columns"] == ["Skole", "Besvarelser i alt", "Andel ensomme"]
    assert data["synthetic"] is True and len(data["rows"]) == 8
    (tmp_path / "downloads").mkdir()
    downloads.write_csv(downloads.sheet_from_figure_data("Figur 7.4", "Skoler", data),
                        tmp_path / "downloads" / "figur.csv")
    page = tmp_path / "side" / "trivsel-dybden.html"
    page.parent.mkdir()
    html = (f"<main>{survey_tables.reader_table(synthetic['funnel']).to_html()}"
            '<a href="../downloads/figur.csv">CSV</a></main>')
    page.write_text(html, encoding="utf-8")
    assert audit.check_downloads(page, html) == []


def test_the_funnel_prints_a_school_name_as_text(synthetic):
    """A name from data is never mathtext or markup in the figure."""
    table = synthetic["funnel"]
    values = table.values.copy()
    values.loc[0, ["school", "position"]] = ["$x^2$ <b>", "over 95 %-grænsen"]
    fig = funnel.figure_funnel(replace(table, values=values))
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "$x^2$ <b>" in texts
    fig.canvas.draw()  # no mathtext parse error


# --------------------------------------------------------------------------- pseudonyms
KEY = "en hemmelig nøgle til testen"


def test_pseudonyms_are_stable_and_not_alphabetical():
    names = [f"{n}skolen" for n in ("Allerslev", "Bramsnæs", "Hvalsø", "Kirke Hyllinge",
                                     "Osted", "Trællerup", "Osted fri", "Lejre")]
    one = pseudonyms.pseudonyms(names, KEY)
    assert one == pseudonyms.pseudonyms(list(reversed(names)), KEY)  # stable
    assert sorted(one.values()) == [f"Skole {c}" for c in "ABCDEFGH"]
    assert [one[n] for n in sorted(names)] != sorted(one.values())  # not the alphabet's order
    other = pseudonyms.pseudonyms(names, KEY + " en anden")
    assert other != one  # the order comes from the key
    assert pseudonyms._letters(25) == "Z" and pseudonyms._letters(26) == "AA"


def test_a_pseudonym_is_never_another_school_s_name():
    """The synthetic schools are called »Skole A« …: their pseudonyms take another word, so no
    school is published under another one's name."""
    names = [f"Skole {c}" for c in "ABCDEFG"] + ["Specialskolen"]
    mapping = pseudonyms.pseudonyms(names, KEY)
    assert sorted(mapping.values()) == [f"Pseudonym {c}" for c in "ABCDEFGH"]
    assert not set(mapping.values()) & set(names)
    # one name of that form among others is enough
    assert set(pseudonyms.pseudonyms(["Osted Skole", "Skole H"], KEY).values()) == {
        "Skole A", "Skole B"}  # »Skole H« is no pseudonym of two schools
    assert set(pseudonyms.pseudonyms(["Osted Skole", "Skole B"], KEY).values()) == {
        "Pseudonym A", "Pseudonym B"}


def test_a_short_key_is_refused_without_printing_it():
    with pytest.raises(DataValidationError) as err:
        pseudonyms.school_key({pseudonyms.KEY_ENV: "kort-nøgle"})
    assert "kort-nøgle" not in str(err.value) and pseudonyms.KEY_ENV in str(err.value)
    assert pseudonyms.school_key({}) is None


def test_every_table_figure_and_download_uses_the_pseudonyms(monkeypatch):
    raw = dfx.small_groups_frame()
    # names that cannot be mistaken for a pseudonym (the fixture's are "Skole A" …)
    raw["school"] = raw["school"].map(lambda name: f"Fiktiv {name.replace('Skole ', '')}skole"
                                      if name != sf.TINY_SCHOOL else name)
    frame = _typed(raw)
    real = sorted(set(frame["school"].astype(str)))
    assert len(real) >= 5 and not any(name.startswith("Skole ") for name in real)
    monkeypatch.setenv(pseudonyms.KEY_ENV, KEY)
    tables = survey_tables.run_pipeline(frame, k=K)
    mapping = pseudonyms.pseudonyms(real, KEY)
    text = _page(tables)
    for name in real:
        assert name not in text, name
    assert mapping[sf.TINY_SCHOOL] in text
    display = tables["prevalence_school"].display
    for _, rows in display.groupby("År"):  # each year lists its schools A, B, …; «I alt» last
        names = rows["Skole"].tolist()
        assert names[:-1] == sorted(names[:-1]) and names[-1] == "I alt"
    assert set(display["Skole"]) - {"I alt"} == set(mapping.values())
    from plusdig.survey import figures as survey_figures

    for fig in (funnel.figure_funnel(tables["funnel"]),
                survey_figures.figure_prevalence_groups(tables["prevalence_school"], "t", "Skole")):
        data = str(figdata.data_of(fig).to_json())
        labels = " ".join(t.get_text() for ax in fig.axes
                          for t in [*ax.get_xticklabels(), *ax.texts])
        assert not any(name in data or name in labels for name in real)
    # each shown count is the real school's count (secondary suppression may choose other
    # cells, since the schools' order changed, but every shown number is the true one)
    back = {v: k for k, v in mapping.items()}
    done = frame[frame["completed"] & frame["lonely"].notna()]  # answered the question
    got = tables["prevalence_school"].values.dropna(subset=["n"])
    got = got[got["group"] != "I alt"]
    assert len(got) > 10
    for _, row in got.iterrows():
        real_n = int(((done["year"] == row["year"]) & (done["school"] == back[row["group"]])).sum())
        assert row["n"] == real_n, row
