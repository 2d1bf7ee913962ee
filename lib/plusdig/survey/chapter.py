"""The survey chapter "Trivselsmålingen i dybden" as one record: what it glues and shows.

The chapter calls :func:`survey_chapter_numbers` (through the chapter API), glues the record in
one line (:func:`plusdig.glue_all`: the banner, the source's label and every number of
:func:`plusdig.survey.banner.chapter_numbers`) and shows its tables and figures from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plusdig.survey.result import SurveyTable

__all__ = ["SurveyChapter", "SurveyFigures", "survey_chapter_numbers"]

_NOT_GLUED: dict[str, Any] = {"repr": False, "compare": False, "metadata": {"glue": False}}


@dataclass(frozen=True)
class SurveyFigures:
    """The chapter's figures, each under its glue key."""

    fig_trivsel_ensomhed: Figure
    fig_trivsel_klassetrin: Figure
    fig_trivsel_koen: Figure
    fig_trivsel_skoler: Figure
    fig_trivsel_sammenligning: Figure
    fig_trivsel_udvikling: Figure


@dataclass(frozen=True)
class SurveyChapter:
    """The chapter's glued values (``per_code``: the numbers, glued entry by entry) and its
    disclosure-controlled tables (not glued)."""

    survey_banner: Any
    src_label: str
    per_code: Mapping[str, str]
    tables: Mapping[str, SurveyTable] = field(default_factory=dict, **_NOT_GLUED)

    def headline(self) -> str:
        n = self.per_code
        return (f"Datakilde: {self.src_label}; målinger: {n['years']}; k = {n['k']}\n"
                f"Gennemførte besvarelser pr. måling: {n['completed_range']}\n"
                f"Svarer ja til ensomhed: {n['lonely_first']} ({n['year_first']}) og "
                f"{n['lonely_last']} ({n['year_last']})\n"
                f"Offentliggjorte tal genfundet: {n['published_matched']} af "
                f"{n['published_total']}")

    def figures(self) -> SurveyFigures:
        from plusdig.survey import figures as f
        from plusdig.survey import funnel

        t = self.tables
        return SurveyFigures(
            f.figure_prevalence_trend(t["prevalence_year"]),
            f.figure_prevalence_groups(t["prevalence_grade"], "Ensomhed efter klassetrin",
                                       "Klassetrin"),
            f.figure_prevalence_groups(t["prevalence_gender"], "Ensomhed efter køn", "Køn"),
            funnel.figure_funnel(t["funnel"]),
            f.figure_comparison(t["comparison"]),
            f.figure_indicator_trend(t["trend"]))


def survey_chapter_numbers() -> SurveyChapter:
    """The survey chapter for the current source (``PLUSDIG_SURVEY`` or the synthetic default),
    with disclosure control applied at the threshold of ``PLUSDIG_DISCLOSURE_K``."""
    from IPython.display import Markdown

    from plusdig.survey.banner import banner_markdown, chapter_numbers
    from plusdig.survey.contract import current_source
    from plusdig.survey.disclosure import threshold
    from plusdig.survey.tables import run_pipeline
    from plusdig.survey.validation import load_survey

    source = current_source()
    k = threshold()
    tables = run_pipeline(load_survey(source), k=k)
    return SurveyChapter(Markdown(banner_markdown(source, k)), source.label,
                         chapter_numbers(tables), tables)
