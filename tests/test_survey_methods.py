"""The methods appendix's record and tables (issue 19): the numbers a methodologist checks, and
disclosure control over the appendix read together with the chapter."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from docutils import nodes
from docutils.utils import new_document
from fixtures import disclosure_fixtures as dfx

import plusdig
from plusdig.core import paths
from plusdig.sphinx import audit
from plusdig.survey import banner, contract, readers, validation
from plusdig.survey import methods as survey_methods
from plusdig.survey import sensitivity as survey_sensitivity
from plusdig.survey import tables as survey_tables


@pytest.fixture(scope="module")
def synthetic():
    data = validation.load_survey(contract.SurveySource(
        paths.data_dir() / contract.SYNTHETIC_FILE, True, None,
        paths.data_dir() / contract.SYNTHETIC_INVITED))
    return data, survey_tables.run_pipeline(data, k=5)


@pytest.fixture(scope="module")
def small():
    frame = dfx.small_groups_frame()
    typed = validation.validate(readers._Raw(frame, "<small groups>", 2, "row"))
    src = contract.SurveySource(Path("fixture.csv"), False)
    return typed, survey_tables.run_pipeline(validation.Survey(typed, None, src), k=5)


def test_worst_best_case_bounds_are_the_issue_s(synthetic) -> None:
    """Issue 19: the worst/best-case bounds for loneliness in the first year count every invited
    pupil without a loneliness answer (not answered, or the question left empty) as no, then as
    yes (recomputed here from the rows)."""
    data, tables = synthetic
    nums = survey_methods.methods_numbers(tables, data.frame, plusdig.activities_table(),
                                          plusdig.load_published())
    first = data.frame[data.frame["completed"] & (data.frame["year"] == 2017)]
    answered = first["lonely"].notna()
    x = int(first["lonely"].isin(["ofte", "nogle gange"]).sum())
    invited = int(data.invited.at[2017, "invited"])
    low, high = x / invited, (x + invited - int(answered.sum())) / invited
    pct = lambda v: f"{v * 100:.1f}".replace(".", ",")  # noqa: E731
    assert nums.bounds_first == f"{pct(low)}–{pct(high)} %"
    assert low < x / answered.sum() < high and high - low > 0.09  # ~10 % did not answer
    assert nums.invited_known == "kendt" and nums.lonely_first_plain.startswith(pct(x / answered.sum()))
    assert nums.overlap_next == "75 %" and nums.overlap_two == "50 %"
    assert nums.n_questions == "69" and nums.sdq_normal == "0–15"
    assert "syntetiske data" in nums.secondary_sentence.lower()
    assert nums.secondary_tests == f"Der testes {nums.n_secondary} forskelle, og de kontrolleres"
    glued = [f for f in dataclasses.fields(nums) if f.metadata.get("glue", True)]
    assert all(isinstance(getattr(nums, f.name), str) and getattr(nums, f.name) for f in glued)
    assert nums.trend.name == "trend" and nums.secondary.name == "secondary"


def test_methods_record_on_small_groups_shows_no_hidden_number(small) -> None:
    typed, tables = small
    nums = survey_methods.methods_numbers(tables, typed, None, None)
    assert nums.invited_known == "ikke kendt"
    assert "ikke korrigeret" in nums.fpc_sentence
    assert nums.bounds_first == "–"  # no invited counts, no bounds
    assert "syntetiske" not in nums.secondary_sentence
    assert "Ingen sekundær sammenligning" in nums.secondary_sentence  # none tested,
    assert nums.secondary_tests.startswith("Når grupperne er store nok, testes")  # none claimed


def test_secondary_contrasts_are_one_per_question_under_fdr(synthetic) -> None:
    data, tables = synthetic
    sec = survey_methods.secondary_results(tables, data.frame)
    assert sec.tested == len(survey_methods.SECONDARY) == 7
    assert all(r["q"] >= r["p"] for r in sec.rows)
    assert sec.discoveries <= sec.nominal <= sec.tested


def test_the_appendix_fits_each_ordinal_model_once(synthetic, monkeypatch) -> None:
    """methods_numbers fits one ordinal model per ordinal question (its numbers and its table
    share them), and its secondary table is the one secondary_table computes on its own."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    data, tables = synthetic
    fits: list[int] = []
    real = OrderedModel.fit
    monkeypatch.setattr(OrderedModel, "fit", lambda self, *a, **k: (fits.append(1),
                                                                    real(self, *a, **k))[1])
    nums = survey_methods.methods_numbers(tables, data.frame, plusdig.activities_table(),
                                          plusdig.load_published())
    assert len(fits) == sum(1 for _, levels, _ in survey_methods.SECONDARY.values()
                            if levels is not None) == 3
    alone = survey_methods.secondary_table(tables, data.frame)
    assert len(fits) == 6
    assert nums.secondary.display.equals(alone.display)


def test_the_secondary_verdicts_are_stated_only_on_delivered_data(synthetic) -> None:
    """Issue 19's guardrail: on synthetic data the table states no finding (the differences are
    built into the data set); on a delivery each row says whether it holds under FDR control."""
    data, tables = synthetic
    verdicts = survey_methods.secondary_table(tables, data.frame).display["Fund ved FDR 5 %"]
    assert set(verdicts) == {survey_methods.NOT_JUDGED}
    delivered = validation.load_survey(contract.SurveySource(
        paths.data_dir() / contract.SYNTHETIC_FILE, False, None,
        paths.data_dir() / contract.SYNTHETIC_INVITED))  # the same rows, read as a delivery
    tables = survey_tables.run_pipeline(delivered, k=5)
    sec = survey_methods.secondary_results(tables, delivered.frame)
    verdicts = survey_methods.secondary_table(tables, delivered.frame).display["Fund ved FDR 5 %"]
    assert len(sec.rows) == 7
    assert list(verdicts) == ["ja" if r["discovery"] else "nej" for r in sec.rows]


def test_the_appendix_and_the_chapter_together_leak_nothing(small) -> None:
    typed, tables = small
    nums = banner.chapter_numbers(tables)
    prose = (f"<p>Pr. måling er der {nums['completed_range']} gennemførte besvarelser. i alt er "
             f"{nums['excluded_total']} skemaer udeladt af den grund.</p>")
    chapter = "<html><body><main>" + prose + "".join(
        t.styler().to_html() for t in tables.values()) + "</main></body></html>"
    appendix = ("<html><body><main>" + tables["trend"].styler().to_html()
                + survey_methods.secondary_table(tables, typed).styler().to_html()
                + "</main></body></html>")
    report = audit.audit_html([chapter, appendix], 5)
    assert not report.leaks, [str(x) for x in report.leaks]
    assert report.cells > 0
    unknown = appendix.replace("Sekundære sammenligninger", "En ny tabel")
    assert audit.audit_html([chapter, unknown], 5).leaks  # what it cannot read, it cannot clear


def test_synthetic_alt_texts_are_marked_once() -> None:
    doc = new_document("<test>")
    doc += nodes.image(uri="a.png", alt="Punktdiagram over andele.")
    doc += nodes.image(uri="b.png", alt="Syntetiske data. Linjediagram.")
    assert audit.mark_synthetic_alt(doc) == 1
    alts = [img["alt"] for img in doc.findall(nodes.image)]
    assert alts == ["Syntetiske data. Punktdiagram over andele.", "Syntetiske data. Linjediagram."]


def test_chapter_6_sensitivity_matches_the_issue() -> None:
    sens = survey_sensitivity.published_sensitivity(plusdig.load_published())
    assert sens.sens_not_happy == "udelukker nul for alle de antagne nævnere"
    assert sens.sens_sdq == "omfatter nul for alle de antagne nævnere"
    assert sens.sens_teased.startswith("omfatter nul, hvis nævneren er 200 eller mindre")
    assert "kun én" in sens.sens_summary and sens.sens_n_questions == "69"
    assert len(sens.table) == sum(len(v) for v in survey_sensitivity.SENSITIVITY_N.values())


def test_p_values_below_the_floor_stay_on_one_line(synthetic) -> None:
    """»< 0,001« broke after »<« in a narrow column: the tables print it with a no-break space,
    in the methods appendix's secondary table and in the chapter's trend table alike."""
    data, tables = synthetic
    shown = survey_methods.secondary_table(tables, data.frame).display
    cells = list(shown["p"]) + list(shown["q (FDR)"]) + list(tables["trend"].display["p (trend)"])
    assert "<\u00a00,001" in cells
    assert not [c for c in cells if "< " in c]
    assert survey_methods._pvalue(0.0421) == "0,042" and survey_methods._pvalue(float("nan")) == "–"
