"""The published figures checked against the figures recomputed from the responses.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from plusdig.survey.contract import APPROX_TOLERANCE
from plusdig.survey.result import SurveyTable, _num, _pct

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["published_check"]


# --------------------------------------------------------------------------- published check
#: Published indicators that respondent-level data cannot recompute (facts about the design).
NOT_FROM_RESPONSES = {"questions", "measurements-planned"}


def _percent_int(share: float) -> float:
    """A share as a whole percent, rounded half up (as reports round)."""
    return math.floor(share * 100 + 0.5)


def published_check(tables: dict[str, SurveyTable], published: pd.DataFrame) -> SurveyTable:
    """Recompute each published survey figure from the loaded data and compare.

    Counts and shares are recomputed from the disclosure-controlled tables, so a suppressed
    value stays suppressed here too. "ca." figures match within :data:`APPROX_TOLERANCE`;
    shares match when the recomputed share rounds to the published whole percent; counts and
    grades match exactly; a direction ("fald") matches when the change has that sign.
    """
    import numpy as np
    import pandas as pd

    from plusdig.core import fmt

    resp = tables["response"].values.set_index("year")
    prev = tables["prevalence_year"].values.set_index("year")
    comp = tables["comparison"].values
    happy = tables["happiness"].values.set_index("year")
    synthetic = tables["response"].synthetic
    k = tables["response"].k
    grades = tables["prevalence_grade"].values
    grade_levels = sorted(int(g) for g in grades["group"].unique() if g != "I alt")

    def comp_share(measure: str, year: int) -> float:
        row = comp[(comp["measure"] == measure) & (comp["year"] == year)]
        return float(row["lonely_share"].iloc[0]) if len(row) else np.nan

    def pct_int(share: float) -> float:
        return np.nan if math.isnan(share) else _percent_int(share)

    rows_v, rows_d = [], []
    for _, fig in published.iterrows():
        ind = fig["indicator"]
        y0 = None if pd.isna(fig["year_start"]) else int(fig["year_start"])
        y1 = None if pd.isna(fig["year_end"]) else int(fig["year_end"])
        value = None if pd.isna(fig["value"]) else float(fig["value"])
        qual = None if pd.isna(fig["qualifier"]) else str(fig["qualifier"])
        direction = None if pd.isna(fig["direction"]) else str(fig["direction"])
        years = list(range(y0, y1 + 1)) if y0 is not None and y1 is not None else []
        recomputed: list[float] = []
        shown = "–"
        status = "kan ikke genberegnes"
        unit_pct = fig["unit"] == "procent"

        def close(x: float, value: float | None = value, qual: str | None = qual) -> bool:
            if value is None or x is None or math.isnan(x):
                return False
            if qual == "ca.":
                return abs(x - value) <= APPROX_TOLERANCE * value
            return x == value

        if ind in NOT_FROM_RESPONSES:
            status = "indgår ikke i besvarelserne"
        elif ind == "respondents-per-measurement":
            recomputed = [float(resp["completed"].get(y, np.nan)) for y in years]
        elif ind == "response-rate":
            recomputed = [float(resp["rate_completed"].get(y, np.nan)) * 100 for y in years]
        elif ind == "pupils-total":
            recomputed = [float(resp["invited"].get(y, np.nan)) for y in resp.index]
        elif ind == "grade-from":
            recomputed = [float(min(grade_levels))] if grade_levels else [np.nan]
        elif ind == "grade-to":
            recomputed = [float(max(grade_levels))] if grade_levels else [np.nan]
        elif ind == "measurements":
            recomputed = [float(len([y for y in years if y in resp.index]))]
        elif ind == "not-happy-at-all":
            recomputed = [float(happy["slet ikke glad"].get(y, np.nan)) for y in years]
        elif ind == "lonely-sdq-normal-range":
            recomputed = [pct_int(comp_share("sdq_normal", y)) for y in years]
        elif ind == "lonely-often-teased":
            recomputed = [pct_int(comp_share("teased_ofte", y)) for y in years]
        elif ind == "lonely":
            shares = [float(prev["share"].get(y, np.nan)) for y in (y0, y1)]
            if not any(math.isnan(s) for s in shares):
                change = shares[1] - shares[0]
                ok = (change < 0) if direction == "fald" else (change > 0)
                shown = (f"{_pct(shares[0])} → {_pct(shares[1])}")
                status = "stemmer" if ok else "afviger"
        else:
            status = "ukendt indikator"
        if recomputed:
            if any(math.isnan(x) for x in recomputed):
                shown = " / ".join("–" if math.isnan(x) else
                                   (fmt.percent(x, 1) if unit_pct else _num(x))
                                   for x in recomputed)
                status = "kan ikke genberegnes" if all(math.isnan(x) for x in recomputed) \
                    else "afviger"
            else:
                shown = " / ".join(fmt.percent(x, 1 if qual else 0) if unit_pct else _num(x)
                                   for x in recomputed)
                status = "stemmer" if all(close(x) for x in recomputed) else "afviger"
        pub = ("fald" if direction == "fald" else "stigning") if value is None else (
            fmt.approx(value, qual) + (" %" if unit_pct else ""))
        period = "" if y0 is None else (str(y0) if y0 == y1 else f"{y0}–{y1}")
        rows_v.append({"figure_id": fig["figure_id"], "indicator": ind, "period": period,
                       "published": value, "recomputed": recomputed, "status": status})
        rows_d.append({"Offentliggjort tal": fig["label"], "År": period, "Offentliggjort": pub,
                       "Genberegnet": shown, "Resultat": status})
    title = ("De offentliggjorte tal fra trivselsmålingen genberegnet fra de indlæste data "
             "(»ca.« godtages inden for ±5 %)")
    return SurveyTable("published_check", title, pd.DataFrame(rows_v), pd.DataFrame(rows_d),
                       synthetic, k)
