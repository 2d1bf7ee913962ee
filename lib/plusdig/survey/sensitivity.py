"""Chapter 6 and the conclusion (issue 19): the three changes the annex publishes, with their
95 % intervals over plausible denominators, since the annex gives neither the number of
respondents behind each figure nor the size of the lonely group."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plusdig.survey import inference as inf
from plusdig.survey.methods import _NOT_GLUED, _num, _pp_interval

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SENSITIVITY_N", "Sensitivity", "published_sensitivity"]


#: Plausible denominators of the three published changes (the evaluators' assumption): the
#: respondents ("ca. 1100") and the size of the lonely group (not published).
SENSITIVITY_N = {"not-happy-at-all": (1000, 1100, 1200),
                 "lonely-sdq-normal-range": (100, 150, 200, 250, 300, 350),
                 "lonely-often-teased": (100, 150, 200, 250, 300, 350)}


@dataclass(frozen=True)
class Sensitivity:
    """Chapter 6 and the conclusion: the published changes over plausible denominators. The
    fields are the glue keys (:func:`plusdig.glue_all`); the table is not glued."""

    sens_ci_level: str
    sens_n_respondents: str
    sens_n_lonely: str
    sens_not_happy: str
    sens_sdq: str
    sens_teased: str
    sens_summary: str
    sens_n_questions: str
    table: pd.DataFrame = field(default=None, **_NOT_GLUED)

    def headline(self) -> str:
        return f"{self.sens_not_happy}; {self.sens_sdq}; {self.sens_teased}"

    def styler(self) -> Any:
        from plusdig.present.tables import html_styler

        return html_styler(self.table, caption=(
            f"De tre offentliggjorte ændringer med {self.sens_ci_level}-konfidensinterval for "
            "forskellige antagne nævnere (evaluatorernes antagelse). Kilde: "
            "aktivitetskataloget; egne beregninger."))


#: The published changes as the summary names them.
CHANGE_NAMES = {"not-happy-at-all": "faldet i antallet af børn, der svarer »Jeg er slet ikke glad«",
                "lonely-sdq-normal-range": "stigningen i andelen af de ensomme børn i SDQ's "
                                           "normalområde",
                "lonely-often-teased": "faldet i andelen af de ensomme børn, der ofte bliver "
                                       "drillet"}


def _span(ns: tuple[int, ...]) -> str:
    return f"{_num(min(ns))}–{_num(max(ns))}"


def published_sensitivity(published: pd.DataFrame | None = None) -> Sensitivity:
    """Chapter 6: the three published changes with their 95 % intervals over plausible
    denominators (:data:`SENSITIVITY_N`), a verdict per change and a summary (Danish)."""
    import pandas as pd

    from plusdig.core.fmt import percent
    from plusdig.data.load import load_published

    published = load_published() if published is None else published
    rows, verdicts = [], {}
    for indicator, ns in SENSITIVITY_N.items():
        figs = published[published["indicator"] == indicator].sort_values("year_start")
        before, after = (float(v) for v in figs["value"].iloc[:2])
        share = figs["unit"].iloc[0] == "procent"
        grid = inf.sensitivity_grid(before / 100 if share else before,
                                    after / 100 if share else after, ns, share=share)
        excl = [i.excludes_zero for _n, i in grid]
        unit = " %" if share else " børn"
        y0, y1 = (int(v) for v in figs["year_start"].iloc[:2])
        label = f"{figs['label'].iloc[0]}, {y0}→{y1}: {_num(before)}{unit} → {_num(after)}{unit}"
        for n, interval in grid:
            rows.append({"Offentliggjort ændring": label,
                         "Antaget nævner": _num(n),
                         "Ændring, procentpoint [95 %-KI]": _pp_interval(interval),
                         "Omfatter nul": "nej" if interval.excludes_zero else "ja"})
        if all(excl):
            verdicts[indicator] = "udelukker nul for alle de antagne nævnere"
        elif not any(excl):
            verdicts[indicator] = "omfatter nul for alle de antagne nævnere"
        else:
            limit = max(n for (n, _i), e in zip(grid, excl, strict=True) if not e)
            verdicts[indicator] = (f"omfatter nul, hvis nævneren er {_num(limit)} eller mindre, "
                                   "og udelukker den ved større nævnere")
    robust = [i for i, v in verdicts.items() if v.startswith("udelukker")]
    total = {2: "to", 3: "tre"}.get(len(verdicts), _num(len(verdicts)))
    some = {0: "ingen", 1: "kun én", 2: "to"}.get(len(robust), _num(len(robust)))
    if len(robust) == len(verdicts):
        some = f"alle {total}"
    summary = (f"Af de {total} ændringer, kataloget offentliggør med tal, er {some} større end den "
               "statistiske usikkerhed, uanset hvilken af de antagne nævnere der er den rigtige"
               + (f": {' og '.join(CHANGE_NAMES[i] for i in robust)}" if robust else ""))
    return Sensitivity(
        sens_ci_level=percent(inf.CI_LEVEL * 100),
        sens_n_respondents=_span(SENSITIVITY_N["not-happy-at-all"]),
        sens_n_lonely=_span(SENSITIVITY_N["lonely-sdq-normal-range"]),
        sens_not_happy=verdicts["not-happy-at-all"],
        sens_sdq=verdicts["lonely-sdq-normal-range"],
        sens_teased=verdicts["lonely-often-teased"], sens_summary=summary,
        sens_n_questions=_num(float(published.loc[published["indicator"] == "questions",
                                                  "value"].iloc[0])),
        table=pd.DataFrame(rows))
