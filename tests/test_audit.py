"""The attacker audit: no suppressed survey count can be worked out from what is published.

The audit (plusdig.sphinx.audit) reads only HTML. Here it reads the chapter's tables as the book
renders them (``survey.tables.reader_table``: the long tables wide, groups × years) plus the
chapter's sentences with glued
numbers; the build test (test_survey_leak.py) runs it on the built site through the Sphinx
hook. The four derivations of issue 11 are reproduced twice: with the cells a careless
per-table suppression would publish (the audit must find the leak) and with the book's joint
suppression (the audit's range for the cell is wide: no leak).
"""

from __future__ import annotations

import copy

import pytest
from fixtures import disclosure_fixtures as dfx
from fixtures import survey_fixtures as sf

from plusdig.survey import banner
from plusdig.survey import contract
from plusdig.survey import linked
from plusdig.survey import readers
from plusdig.survey import registry as survey_registry
from plusdig.survey import result
from plusdig.survey import tables as survey_tables
from plusdig.survey import validation
from plusdig.sphinx import audit, audit_model
from plusdig.survey import disclosure
from plusdig.survey.disclosure import PRIMARY, SECONDARY, SHOWN

K = 5
L, NL = "Ensomme", "Ikke ensomme"


def _typed(frame):
    return validation.validate(readers._Raw(frame, "<fixture>", 2, "row"))


def _page(tables: dict[str, result.SurveyTable], response: result.SurveyTable | None = None
          ) -> str:
    """The chapter as HTML: the sentences with glued counts and every table."""
    nums = banner.chapter_numbers(tables)
    prose = (f"<p>Pr. måling er der {nums['completed_range']} gennemførte besvarelser. Skemaer, "
             f"der ikke er gjort færdige, tælles med i tabellen nedenfor; i alt er "
             f"{nums['excluded_total']} skemaer udeladt af den grund.</p>")
    parts = [(response or tables["response"]).styler().to_html()]
    parts += [survey_tables.reader_table(t, view).to_html() for name, t in tables.items()
              if name != "response"
              for view in survey_tables.WIDE_TABLES.get(name, {"andele": None})]
    return f"<html><body><main>{prose}{''.join(parts)}</main></body></html>"


def _render(reg: disclosure.Registry, frame) -> dict[str, result.SurveyTable]:
    return survey_tables.tables_from_registry(reg, frame, None, False)


@pytest.fixture(scope="module")
def small():
    """The fixture with small groups in every breakdown, its registry and its page."""
    frame = _typed(dfx.small_groups_frame())
    reg = survey_registry.build_registry(frame, K)
    tables = _render(reg, frame)
    return frame, reg, tables, _page(tables)


@pytest.fixture(scope="module")
def small_report(small):
    return audit.audit_html(small[3], K)


def _careless(reg: disclosure.Registry, hide: dict, show: list) -> disclosure.Registry:
    """A copy of the registry with statuses set by hand (what a careless scheme publishes)."""
    out = copy.deepcopy(reg)
    for key, status in hide.items():
        out.cells[key].status = status
    for key in show:
        out.cells[key].status = SHOWN
    return out


def _wide(report: audit.AuditReport, key) -> None:
    lo, hi = report.ranges[key]
    assert linked.is_protected(lo, hi, K), (key, lo, hi)
    assert hi - lo >= K


# --------------------------------------------------------------------------- no leak
def test_no_leak_with_small_groups_in_every_breakdown(small, small_report):
    frame, reg, tables, _ = small
    # the fixture really has small groups everywhere: year, school, grade, gender, answers,
    # incomplete forms
    small_keys = [key for key, c in reg.cells.items() if 0 < c.value < K and c.places]
    kinds = {key[0] if key[0] != "group" else ("group", key[1]) for key in small_keys}
    assert {"completed", "excluded", "happiness", "level", "measure", ("group", "school"),
            ("group", "grade"), ("group", "gender")} <= kinds
    assert small_report.leaks == [], [str(x) for x in small_report.leaks]
    assert small_report.cells > 200 and small_report.groups > 30
    assert small_report.min_width >= K


def test_no_leak_as_exact_integer_programmes(small):
    report = audit.audit_html(small[3], K, integral=True)
    assert report.leaks == []
    assert report.min_width >= K


def test_no_leak_on_the_synthetic_data_and_the_leak_fixture():
    for frame in (sf.leak_frame(), sf.text_frame(0.3, 5)):
        typed = _typed(frame)
        page = _page(survey_tables.run_pipeline(typed, k=K))
        assert audit.audit_html(page, K).leaks == []


def test_every_hidden_cell_is_audited(small, small_report):
    """Each «–» count on the page is an unknown of the reader's model and gets a range."""
    tables, _prose = audit_model.read_tables(small[3])
    n_hidden = sum(1 for t in tables for row in t.rows for text in row.values()
                   if text == disclosure.SUPPRESSED)
    assert n_hidden > 50
    hidden_labels = {small_report.labels[key] for key in small_report.ranges}
    assert any("Udeladt" in label for label in hidden_labels)
    assert any("Miniskolen" in label for label in hidden_labels)


def test_registry_never_hides_a_cell_in_one_place_and_shows_it_in_another(small):
    """One status per population cell: every printed copy of a count agrees."""
    tables, prose = audit_model.read_tables(small[3])
    _model, conflicts = audit_model.attacker_model(tables, prose)
    assert conflicts == []


# --------------------------------------------------------------------------- the four derivations
def test_derivation_1_linked_tables_udeladt(small, small_report):
    """Udeladt = Besvarede − Besvarelser (response table vs prevalence table), 2019."""
    frame, reg, tables, _ = small
    assert reg.value(("excluded", 2019)) < K and not reg.shown(("excluded", 2019))
    # careless: the response table shows «Besvarede» while the prevalence table shows the
    # completed forms («Besvarelser»): the small count follows
    bad = _careless(reg, {}, [("answered", 2019), ("completed", 2019)])
    report = audit.audit_html(_page(_render(bad, frame)), K)
    assert any("2019" in leak.where and "Udeladt" in leak.where for leak in report.leaks)
    # the book: the audit's range for the cell is wide
    assert small_report.leaks == []
    _wide(small_report, ("excluded", "2019"))


def test_derivation_2_happiness_from_the_comparison_shares(small, small_report):
    """A happiness level hidden in the happiness table, recovered from the comparison table's
    shares (with their published denominators); then the last level from the year's total."""
    frame, reg, tables, _ = small
    slet, ikke = ("happiness", 2019, "slet ikke glad"), ("happiness", 2019, "ikke særlig glad")
    assert reg.value(slet) < K
    shares = [("measure", "happiness", 2019, b, "ikke særlig glad") for b in (L, NL)]
    bad = _careless(reg, {ikke: SECONDARY, slet: PRIMARY},
                    [*shares, ("bin", 2019, L), ("bin", 2019, NL), ("completed", 2019),
                     *[("happiness", 2019, lv) for lv in contract.HAPPINESS_LEVELS[:3]]])
    report = audit.audit_html(_page(_render(bad, frame)), K)
    assert any("slet ikke glad" in leak.where and "2019" in leak.where
               for leak in report.leaks), [str(x) for x in report.leaks]
    _wide(small_report, ("happy", "2019", "slet ikke glad"))
    _wide(small_report, ("happy", "2019", "ikke særlig glad"))


def test_derivation_3_a_published_total_is_never_the_secondary(small, small_report):
    """Hiding a total that another table prints protects nothing: the audit names the cell,
    and the book never does it (neither the registry nor ``suppress`` with known totals)."""
    frame, reg, tables, _ = small
    # careless: «Gennemførte» hidden in the response table only (as the secondary cell of the
    # small «Udeladt»), while the prevalence table prints the same number
    bad = _careless(reg, {("completed", 2019): SECONDARY}, [("answered", 2019)])
    response = _render(bad, frame)["response"]
    report = audit.audit_html(_page(tables, response=response), K)
    wheres = [leak.where for leak in report.leaks]
    assert any("Gennemførte" in w and "vist et andet sted" in w for w in wheres), wheres
    assert any("Udeladt" in w for w in wheres)
    # the book: no conflict, no leak; and suppress() refuses to fake it
    assert small_report.leaks == []
    import pandas as pd

    with pytest.raises(linked.DisclosureError):
        disclosure.suppress(pd.DataFrame([[1, 2], [40, 60]]), K, known_row_totals=True,
                            known_col_totals=True)


def test_derivation_4_group_disclosure_two_small_gender_groups(small, small_report):
    """Two gender groups both hidden, 4 pupils together (total − the others), all 4 lonely
    (lonely total − the others): a group below k, every one of them lonely."""
    frame, reg, tables, _ = small
    groups = [("group", "gender", 2019, g, part) for g in ("andet", "ikke oplyst")
              for part in ("n", L)]
    assert sum(reg.value(key) for key in groups[::2]) == 4
    assert sum(reg.value(key) for key in groups[1::2]) == 4
    shown = [key for key in reg.cells if key[:3] == ("group", "gender", 2019)
             and key not in groups] + [("completed", 2019), ("bin", 2019, L)]
    bad = _careless(reg, {key: PRIMARY for key in groups}, shown)
    report = audit.audit_html(_page(_render(bad, frame)), K)
    wheres = [leak.where for leak in report.leaks]
    assert any("andet" in w and "minus ensomme" in w for w in wheres), wheres  # none not lonely
    assert any(leak.group for leak in report.leaks), wheres  # the group of 4 follows
    # the book: every one of those cells has a wide range, the group too
    for g in ("andet", "ikke oplyst"):
        for part in ("n", L, NL):
            _wide(small_report, ("group", "Køn", "2019", g, part))


# --------------------------------------------------------------------------- the rule itself
@pytest.mark.parametrize(("low", "high", "ok"), [
    (0, 5, True), (0, 4, False), (3, 3, False), (5, 5, True), (2, 6, False), (2, 7, True),
    (0, linked.CAP, True), (4.2, 9.1, True), (3.2, 7.9, False), (0.0, 4.99, False)])
def test_protection_rule(low, high, ok):
    assert linked.is_protected(low, high, K) is ok


def test_leak_messages_name_the_cell_not_the_number(small):
    frame, reg, _, _ = small
    bad = _careless(reg, {}, [("answered", 2019), ("completed", 2019)])
    report = audit.audit_html(_page(_render(bad, frame)), K)
    assert report.leaks
    value = str(reg.value(("excluded", 2019)))
    for leak in report.leaks:
        text = str(leak)
        assert "kan regnes ud" in text and "tabellen" in text
        assert f" {value} " not in f" {text} " and sf.ID_PREFIX not in text


def test_site_audit_refuses_a_data_download(tmp_path, small):
    page = tmp_path / "book" / "report" / "trivsel-dybden.html"
    page.parent.mkdir(parents=True)
    page.write_text(small[3].replace("<main>", '<main><a href="../_downloads/svar.csv">x</a>'),
                    encoding="utf-8")
    report = audit.audit_site(tmp_path, K)
    assert report.leaks and "svar.csv" in report.leaks[0].where
    page.write_text(small[3], encoding="utf-8")
    assert audit.audit_site(tmp_path, K).leaks == []


def test_site_audit_reads_each_page_once_with_the_same_result(tmp_path, small, small_report,
                                                              monkeypatch):
    """The site audit parses each survey page once, for its downloads and for the model, and
    finds what the page audit finds (the same cells, groups and ranges)."""
    page = tmp_path / "book" / "report" / "trivsel-dybden.html"
    page.parent.mkdir(parents=True)
    page.write_text(small[3], encoding="utf-8")
    parsed = []
    read_tables = audit.read_tables
    monkeypatch.setattr(audit, "read_tables", lambda html: parsed.append(1) or read_tables(html))
    report = audit.audit_site(tmp_path, K)
    assert len(parsed) == 1
    assert (report.cells, report.groups, report.leaks) == (small_report.cells,
                                                           small_report.groups, [])
    assert report.ranges == small_report.ranges


def test_the_build_hook_stops_a_real_data_build_on_a_leak(tmp_path, small, monkeypatch):
    """The Sphinx hook: a leak on real data raises (the build fails), naming the cell only."""
    from types import SimpleNamespace

    from sphinx.errors import ExtensionError

    frame, reg, _, page = small
    bad = _careless(reg, {}, [("answered", 2019), ("completed", 2019)])
    target = tmp_path / "book" / "report" / "trivsel-dybden.html"
    target.parent.mkdir(parents=True)
    app = SimpleNamespace(builder=SimpleNamespace(format="html", name="html"),
                          outdir=str(tmp_path),
                          env=SimpleNamespace(found_docs={"book/report/trivsel-dybden"}))
    monkeypatch.setenv(contract.SURVEY_ENV, str(tmp_path / "delivery.csv"))
    target.write_text(_page(_render(bad, frame)), encoding="utf-8")
    with pytest.raises(ExtensionError, match="Udeladt") as err:
        audit._on_build_finished(app, None)
    assert sf.ID_PREFIX not in str(err.value)
    target.write_text(page, encoding="utf-8")
    audit._on_build_finished(app, None)  # the book's own page passes


def test_a_table_the_audit_cannot_read_fails_it(small):
    """A survey table with an unknown caption cannot be cleared: it is reported, not skipped."""
    page = small[3].replace("Svar på »Hvor glad er du for dit liv for tiden?«", "Glæde")
    report = audit.audit_html(page, K)
    assert any("ukendt tabel" in leak.where and "Glæde" in leak.where for leak in report.leaks)


@pytest.mark.parametrize(("seed", "k", "scale"), [(1, 3, 0.05), (2, 5, 0.05), (3, 10, 0.1),
                                                   (4, 5, 0.02), (5, 7, 0.03)])
def test_random_small_deliveries_never_leak(seed, k, scale):
    """Small random deliveries (many groups near k) at several thresholds: the joint
    suppression always satisfies the independent audit, even as exact integer programmes."""
    typed = _typed(sf.text_frame(scale, seed))
    page = _page(survey_tables.run_pipeline(typed, k=k))
    report = audit.audit_html(page, k, integral=True)
    assert report.leaks == [], [str(x) for x in report.leaks]
    assert report.cells > 0


def test_a_group_where_everyone_answers_yes_is_never_shown_as_such():
    """Six pupils of gender «andet» in 2019, all lonely: the group is large enough, but «none
    of them is not lonely» is a derivable zero, so it is hidden like any count below k, and no
    table shows a share of 100 % or 0 % for it."""
    frame = sf.text_frame(0.25, 3)
    done = frame.index[(frame["completed"] == "ja") & (frame["year"] == "2019")]
    frame.loc[frame.index.isin(done) & (frame["gender"] == "andet"), "gender"] = "pige"
    frame.loc[done[:6], ["gender", "lonely"]] = ["andet", "ofte"]
    tables = survey_tables.run_pipeline(_typed(frame), k=K)
    row = tables["prevalence_gender"].display
    row = row[(row["År"] == "2019") & (row["Køn"] == "andet")].iloc[0]
    assert row["Andel ensomme"] == disclosure.SUPPRESSED
    assert not any(text in {"100,0 %", "0,0 %"} for t in tables.values()
                   for column in t.display.columns for text in t.display[column].astype(str))
    report = audit.audit_html(_page(tables), K, integral=True)
    assert report.leaks == []
    _wide(report, ("group", "Køn", "2019", "andet", NL))


def test_happiness_answers_without_a_loneliness_answer_are_audited():
    """Pupils who answer the happiness question but skip the loneliness one: their answers
    are sensitive cells (as in the registry). The book keeps each of them wide; a careless page
    that shows the one secondary cell of a level pins them all (a year's level minus the two
    lonely groups' counts), and the audit names exactly those cells."""
    frame = dfx.small_groups_frame()
    skip = frame.index[(frame["completed"] == "ja") & (frame["year"].astype(str) == "2019")
                       & (frame["lonely"] != "") & (frame["happiness"] != "")][:K + 1]
    frame.loc[skip, "lonely"] = ""
    typed = _typed(frame)
    reg = survey_registry.build_registry(typed, K)
    unlinked = [key for key in reg.cells if key[:4] == ("measure", "happiness", 2019, "?")]
    assert sum(reg.value(key) for key in unlinked) == K + 1
    report = audit.audit_html(_page(_render(reg, typed)), K)
    assert report.leaks == [], [str(x) for x in report.leaks]
    for key in unlinked:
        _wide(report, ("measure", "Glad for livet", "2019", "?", key[-1]))
    # careless: the one hidden cell of a level shown (its year total and the other group shown)
    for lv in contract.HAPPINESS_LEVELS:
        cells = [("happiness", 2019, lv)] + [("measure", "happiness", 2019, b, lv)
                                              for b in (L, NL)]
        hidden = [key for key in cells if not reg.shown(key)]
        if len(hidden) == 1 and reg.cells[hidden[0]].status == SECONDARY:
            break
    else:
        raise AssertionError("the fixture has no level with a single secondary cell")
    report = audit.audit_html(_page(_render(_careless(reg, {}, hidden), typed)), K)
    wheres = [leak.where for leak in report.leaks]
    assert wheres and all("2019, uden svar om ensomhed" in w for w in wheres), wheres
    assert any(f"«{lv}»" in w for w in wheres)


def test_an_empty_group_of_unlinked_answers_is_no_leak(small, small_report):
    """The small fixture's pupils without a loneliness answer skip the happiness question too:
    the page proves the group is empty, so its cells (all 0) disclose nobody."""
    _frame, reg, _tables, _page_html = small
    assert all(reg.value(("item_only", "happiness", y)) == 0 for y in (2017, 2018, 2019))
    assert reg.value(("item", "lonely", 2019, "missing")) > 0
    assert small_report.leaks == []
    pinned = [key for key, (lo, hi) in small_report.ranges.items()
              if key[:1] == ("measure",) and key[3:4] == ("?",)]
    assert pinned and all(small_report.ranges[key][1] < 0.5 for key in pinned)


def _here_only(parent: int) -> str:
    """Fails in any process but ``parent`` (the warm audit process's fallback below)."""
    import os

    if os.getpid() != parent:
        raise RuntimeError("not in the build's process")
    return "ran here"


def test_the_warm_audit_process_audits_as_the_build_process_would(tmp_path, small, small_report):
    """The audit's warm process (forked while Sphinx reads, its imports done) returns the
    report the audit gives in the build's process; a run it cannot do is done here."""
    import os

    page = tmp_path / "book" / "report" / "trivsel-dybden.html"
    page.parent.mkdir(parents=True)
    page.write_text(small[3], encoding="utf-8")
    warm = audit._Warm()
    if (os.cpu_count() or 1) >= 2:
        assert warm._pid is not None  # a forked process, not this one
    report = warm.run(audit.audit_site, tmp_path, K)
    assert warm._pid is None  # collected after its one run
    assert (report.cells, report.groups, report.leaks) == (small_report.cells,
                                                           small_report.groups, [])
    assert report.ranges == small_report.ranges
    assert audit._Warm().run(_here_only, os.getpid()) == "ran here"
    unused = audit._Warm()
    pid = unused._pid
    unused.dismiss()
    if pid is not None:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # ended and collected


def test_the_build_hook_audits_in_the_warm_process_and_still_stops_on_a_leak(
        tmp_path, small, monkeypatch):
    """A build with a warm audit process (started when the survey pages are read and no
    audit passed yet) still fails on a leak in real data, and ends the process."""
    from types import SimpleNamespace

    from sphinx.errors import ExtensionError

    frame, reg, _, page = small
    bad = _careless(reg, {}, [("answered", 2019), ("completed", 2019)])
    target = tmp_path / "book" / "report" / "trivsel-dybden.html"
    target.parent.mkdir(parents=True)
    found = {"book/report/trivsel-dybden", "book/index"}
    app = SimpleNamespace(builder=SimpleNamespace(format="html", name="html"),
                          outdir=str(tmp_path), doctreedir=str(tmp_path / "doctrees"),
                          env=SimpleNamespace(found_docs=found))
    (tmp_path / "doctrees").mkdir()
    audit._on_before_read(app, app.env, ["book/index"])
    assert app.plusdig_audit_warm is not None  # no audit passed yet
    monkeypatch.setenv(contract.SURVEY_ENV, str(tmp_path / "delivery.csv"))
    target.write_text(_page(_render(bad, frame)), encoding="utf-8")
    with pytest.raises(ExtensionError, match="Udeladt"):
        audit._on_build_finished(app, None)
    assert not hasattr(app, "plusdig_audit_warm")
    target.write_text(page, encoding="utf-8")
    audit._on_before_read(app, app.env, ["book/index"])
    audit._on_build_finished(app, None)  # passes, and records it
    assert (tmp_path / "doctrees" / audit.AUDITED_FILE).is_file()
    audit._on_before_read(app, app.env, ["book/index"])  # audited, no survey page read
    assert not hasattr(app, "plusdig_audit_warm")
    audit._on_before_read(app, app.env, ["book/report/trivsel-dybden"])
    assert app.plusdig_audit_warm is not None
    app.plusdig_audit_warm.dismiss()
