"""The survey chapter's banner (data source, threshold) and its numbers as Danish text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plusdig.survey.contract import APPROX_TOLERANCE, SurveySource
from plusdig.survey.published import NOT_FROM_RESPONSES
from plusdig.survey.registry import CI_LEVEL
from plusdig.survey.result import SurveyTable, _ci, _pct, _signed

if TYPE_CHECKING:

    pass

__all__ = ["SYNTHETIC_VERDICT", "SurveyStatus", "banner_markdown", "chapter_numbers", "data_status",
           "survey_status"]


def banner_markdown(source: SurveySource, k: int) -> str:
    """The admonition that opens the chapter: synthetic data or a real delivery."""
    if source.synthetic:
        return (":::{admonition} Syntetiske data\n:class: warning\n"
                "Tallene, tabellerne og figurerne i dette kapitel er beregnet på et **syntetisk "
                "datasæt**, som bogen selv genererer, og *ikke* på børnenes rigtige besvarelser. "
                "Datasættet er konstrueret, så det gengiver de tal, der er offentliggjort fra "
                "målingen; alt andet er antagelser. Alle tabeller og figurer er mærket "
                "»Syntetiske data«. Evaluatorer med adgang til besvarelserne kan bygge kapitlet "
                "på de rigtige data; hvordan, står i bilaget »Sådan er bogen lavet«.\n:::\n")
    return (":::{admonition} Beregnet på de leverede besvarelser\n:class: note\n"
            "Kapitlet er beregnet på de leverede besvarelser fra trivselsmålingen. Ingen celle "
            f"bygger på færre end {k} besvarelser; mindre tal er undertrykt.\n:::\n")


#: The sentence that stands where an inferential verdict would stand on real data.
SYNTHETIC_VERDICT = ("Med de rigtige besvarelser ville intervallet vise, om {what} er større end den "
                     "statistiske usikkerhed. På syntetiske data kan det ikke: {what} er bygget "
                     "ind i datasættet og siger intet om børnene i Lejre.")


def chapter_numbers(tables: dict[str, SurveyTable]) -> dict[str, str]:
    """The numbers and data-driven words the chapter's prose glues, as Danish text.

    Built only from the disclosure-controlled tables, so a suppressed value reads "–".
    """
    import numpy as np

    from plusdig.core import fmt

    resp = tables["response"].values
    prev = tables["prevalence_year"].values.sort_values("year")
    trend = tables["trend"].values.set_index("indicator")
    comp = tables["comparison"].values
    check = tables["published_check"].values
    years = [int(y) for y in prev["year"]]
    first, last = (years[0], years[-1]) if years else (None, None)
    from plusdig.survey.disclosure import MIN_K

    out: dict[str, str] = {
        "k": str(tables["response"].k),
        "k_plus_one": str(tables["response"].k + 1),
        "min_k": str(MIN_K),
        "ci_level": fmt.percent(CI_LEVEL * 100),
        "approx_tolerance": fmt.percent(APPROX_TOLERANCE * 100),
        "year_first": str(first),
        "year_last": str(last),
        "n_years": fmt.number(len(years)),
        "years": f"{first}–{last}" if first != last else str(first),
    }
    # a range over the years bounds every year's number, so it is given only when every
    # year's number may be published (else a hidden one would be bracketed by it)
    done = resp["completed"]
    out["completed_range"] = ("–" if not len(done) or done.isna().any() else
                              fmt.number(done.min()) if done.min() == done.max() else
                              f"{fmt.number(done.min())}–{fmt.number(done.max())}")
    reg = tables["response"].cells
    total = ("excluded", "alle")
    out["excluded_total"] = (fmt.number(reg.value(total)) if reg is not None and reg.shown(total)
                             else "–")
    rates = resp["rate_completed"]
    lo_s, hi_s = (fmt.number(rates.min() * 100, 1), fmt.number(rates.max() * 100, 1)) \
        if len(rates) and rates.notna().all() else ("", "")
    out["rate_range"] = ("ikke oplyst" if resp["invited"].isna().all() else
                         "–" if not lo_s else f"{lo_s} %" if lo_s == hi_s else f"{lo_s}–{hi_s} %")
    share = dict(zip(prev["year"].astype(int), prev["share"], strict=True))
    out["lonely_first"] = _pct(share.get(first, np.nan))
    out["lonely_last"] = _pct(share.get(last, np.nan))
    d, low, high = (trend.loc["lonely", c] for c in ("diff", "low", "high"))
    out["lonely_change"] = "–" if math.isnan(d) else _signed(d * 100, 1)
    out["lonely_change_ci"] = _ci(low, high)
    synthetic = tables["response"].synthetic
    if math.isnan(d) or first == last:
        out["lonely_change_verdict"] = "Ændringen kan ikke beregnes med de viste data."
    elif synthetic:
        out["lonely_change_verdict"] = SYNTHETIC_VERDICT.format(what="ændringen")
    elif low > 0 or high < 0:
        out["lonely_change_verdict"] = ("Konfidensintervallet omfatter ikke nul: ændringen er "
                                        "større end den statistiske usikkerhed, når "
                                        "besvarelserne regnes for uafhængige (se bilaget om "
                                        "metoden).")
    else:
        out["lonely_change_verdict"] = ("Konfidensintervallet omfatter nul: data kan ikke "
                                        "skelne ændringen fra tilfældig variation.")
    out["lonely_direction"] = ("–" if math.isnan(d) else "lavere" if d < 0 else
                               "højere" if d > 0 else "den samme")
    latest = comp[comp["year"] == last].dropna(subset=["diff"])
    out["n_measures"] = fmt.number(comp["measure"].nunique())
    out["n_measures_shown"] = fmt.number(len(latest))
    n_clear = fmt.number(int(((latest["low"] > 0) | (latest["high"] < 0)).sum()))
    out["comparison_verdict"] = (
        "Med de rigtige besvarelser ville intervallerne vise, på hvilke mål ensomme og "
        "ikke-ensomme børn adskiller sig. På syntetiske data kan de ikke: forskellene er bygget "
        "ind i datasættet." if synthetic else
        f"For {n_clear} af dem omfatter konfidensintervallet ikke nul. Flere af målene er "
        "svarmuligheder på samme spørgsmål og hænger sammen; bilaget om metoden giver ét "
        "effektmål pr. spørgsmål med kontrol for mange sammenligninger.")
    trend_p = [p for p in trend["p_trend"] if not math.isnan(p)] if "p_trend" in trend else []
    out["trend_verdict"] = (
        "På syntetiske data siger testen intet om børnene i Lejre: udviklingen er bygget ind i "
        "datasættet." if synthetic else
        f"For {fmt.number(sum(p < 1 - CI_LEVEL for p in trend_p))} af de "
        f"{fmt.number(len(trend_p))} nøgletal viser testen en trend (p under "
        f"{fmt.percent((1 - CI_LEVEL) * 100)}).")
    applicable = check[~check["indicator"].isin(NOT_FROM_RESPONSES)]
    out["published_total"] = fmt.number(len(applicable))
    out["published_matched"] = fmt.number(int((applicable["status"] == "stemmer").sum()))
    out["published_verdict"] = (
        f"Af {out['published_total']} tal, der kan genberegnes, stemmer "
        f"{out['published_matched']}." + (
            " På syntetiske data er det sandt pr. konstruktion: det viser, at datasættet gengiver "
            "de offentliggjorte tal, ikke at tallene er rigtige." if synthetic else ""))
    out["published_not_data"] = fmt.number(len(check) - len(applicable))
    out["n_suppressed"] = fmt.number(sum(t.suppressed for t in tables.values()))
    from plusdig.survey.funnel import INSIDE

    schools = tables["funnel"].values if "funnel" in tables else None
    shown = schools.dropna(subset=["share"]) if schools is not None else []
    out["n_schools"] = fmt.number(len(schools) if schools is not None else 0)
    outside = int((shown["position"] != INSIDE).sum()) if len(shown) else 0
    schools_text = ("ingen af skolerne" if not outside else "én skole" if outside == 1
                    else f"{fmt.number(outside)} skoler")
    out["funnel_verdict"] = (
        f"I de syntetiske data ligger {schools_text} uden for 95 %-grænserne; det er bygget ind "
        "i datasættet og siger intet om skolerne i Lejre." if synthetic else
        f"Uden for 95 %-grænserne ligger {schools_text}.")
    return out


def data_status(source: SurveySource | None = None) -> str:
    """What the survey chapter is computed on, as the foreword says it (Danish)."""
    from plusdig.survey.contract import current_source

    source = source or current_source()
    if source.synthetic:
        return ("syntetiske data, ikke børnenes rigtige besvarelser, så dets tal viser kun, "
                "hvordan analysen virker")
    return "de leverede besvarelser fra målingen"


@dataclass(frozen=True)
class SurveyStatus:
    """The foreword's word on the survey chapter's data (glue key ``survey_status``)."""

    survey_status: str


def survey_status() -> SurveyStatus:
    """The foreword's record: what the survey chapter is computed on (:func:`data_status`)."""
    return SurveyStatus(data_status())
