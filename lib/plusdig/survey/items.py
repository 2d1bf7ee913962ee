"""Item non-response: per question and year, how many completed forms answer it and how many
leave it empty (the methods appendix's table), from the protected registry only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from plusdig.survey.contract import ITEM_LABELS

if TYPE_CHECKING:
    from plusdig.survey.result import SurveyTable

__all__ = ["ITEM_TITLE", "item_table", "item_missing_rates"]

#: The table's caption (the audit recognises the table by it).
ITEM_TITLE = ("Manglende svar pr. spørgsmål: gennemførte skemaer, der besvarer spørgsmålet, og "
              "skemaer uden svar på det (andel af de gennemførte), pr. år")


def item_missing_rates(tables: dict[str, SurveyTable]) -> dict[str, dict[int, float]]:
    """Question -> year -> share of the completed forms without an answer (NaN if hidden)."""
    reg = tables["response"].cells
    years = sorted(int(y) for y in tables["prevalence_year"].values["year"])
    out: dict[str, dict[int, float]] = {}
    for column in ITEM_LABELS:
        out[column] = {}
        for y in years:
            miss, done = ("item", column, y, "missing"), ("completed", y)
            ok = reg is not None and reg.shown(miss, done) and reg.value(done)
            out[column][y] = reg.value(miss) / reg.value(done) if ok else math.nan
    return out


def item_table(tables: dict[str, SurveyTable]) -> SurveyTable:
    """The item non-response table: one row per question, per year the forms that answer it
    and those without an answer (count and share of the completed forms)."""
    import pandas as pd

    from plusdig.survey.result import SurveyTable, _cell, _num, _pct

    ref = tables["response"]
    reg = ref.cells
    rates = item_missing_rates(tables)
    years = sorted(int(y) for y in tables["prevalence_year"].values["year"])
    rows_v, rows_d, keys = [], [], []
    for column, label in ITEM_LABELS.items():
        rd = {"Spørgsmål": label}
        rv: dict[str, object] = {"column": column, "label": label}
        for y in years:
            ans, miss = ("item", column, y, "answered"), ("item", column, y, "missing")
            keys += [ans, miss]
            rd[f"{y}: besvaret"] = _cell(reg, ans)
            rate = rates[column][y]
            rd[f"{y}: uden svar"] = (f"{_num(reg.value(miss))} ({_pct(rate)})"
                                     if not math.isnan(rate) else _cell(reg, miss))
            rv[f"answered_{y}"] = float(reg.value(ans)) if reg.shown(ans) else math.nan
            rv[f"missing_{y}"] = rate
        rows_v.append(rv)
        rows_d.append(rd)
    return SurveyTable("items", ITEM_TITLE, pd.DataFrame(rows_v), pd.DataFrame(rows_d),
                       ref.synthetic, ref.k, *reg.counts(keys), cells=reg)
