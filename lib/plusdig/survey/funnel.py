"""Schools without a league table (issue 19): a funnel plot of the schools' shares answering
yes to loneliness, all measurements pooled, against the municipality's share with 95 % and
99,8 % control limits.

A school's pooled numbers are sums of its published year cells, and only those: a school whose
count or lonely count is hidden in any year (or whose pooled count is below the threshold)
gets «–», since its pooled count minus its published years would give the hidden one. So the
funnel shows no number the page's school table does not already fix; the disclosure audit
reads the table and models each pooled count as the sum of the school's year cells
(:mod:`plusdig.sphinx.audit_model`). The limits are the binomial normal approximation around
the municipality's pooled share p: p ± z·√(p(1−p)/n), z = 1,96 and 3,09.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from plusdig.survey.registry import _L, _NL
from plusdig.survey.result import SurveyTable, _num, _pct

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plusdig.survey.disclosure import Registry

__all__ = ["INSIDE", "LIMITS", "TITLE", "figure_funnel", "funnel_table", "municipal_share"]

#: The control limits: Danish label -> z (two-sided 95 % and 99,8 %).
LIMITS: dict[str, float] = {"95 %": 1.959964, "99,8 %": 3.090232}
#: The table's caption (the disclosure audit recognises the table by its first words).
TITLE = ("Skolerne samlet over alle målinger: besvarelser, andel, der svarer ja til ensomhed, "
         "og skolens placering i forhold til kontrolgrænserne om kommunens andel")
INSIDE = "inden for 95 %-grænserne"


def _limits(p: float, n: float, z: float) -> tuple[float, float]:
    half = z * math.sqrt(p * (1 - p) / n) if n > 0 else math.inf
    return max(0.0, p - half), min(1.0, p + half)


def _position(share: float, p: float, n: float) -> str:
    lo95, hi95 = _limits(p, n, LIMITS["95 %"])
    lo998, hi998 = _limits(p, n, LIMITS["99,8 %"])
    if share > hi998:
        return "over 99,8 %-grænsen"
    if share < lo998:
        return "under 99,8 %-grænsen"
    if share > hi95:
        return "over 95 %-grænsen"
    if share < lo95:
        return "under 95 %-grænsen"
    return INSIDE


def funnel_table(tables: dict[str, SurveyTable]) -> SurveyTable:
    """The schools pooled over all measurements, from the protected registry of the chapter's
    tables (``tables["prevalence_school"].cells``): per school its forms that answered the
    loneliness question, its share answering yes, and where the share lies against the limits;
    hidden cells stay hidden."""
    import pandas as pd

    school = tables["prevalence_school"]
    reg: Registry | None = school.cells
    if reg is None:
        raise ValueError("survey table 'prevalence_school' has no registry: draw the funnel "
                         "from tables made by run_pipeline or tables_from_registry")
    keys = [key for key in reg.cells if key[:2] == ("group", "school") and key[-1] == "n"]
    names = list(dict.fromkeys(key[3] for key in keys))
    years = sorted({key[2] for key in keys})
    # the municipality: the forms that answered the loneliness question (as the schools' n)
    answered = [("item", "lonely", y, "answered") for y in years]
    total_n = sum(reg.value(key) for key in answered if key in reg.cells)
    total_l = sum(reg.value(("bin", y, _L)) for y in years if ("bin", y, _L) in reg.cells)
    shown_total = all(reg.shown(key, ("bin", key[2], _L)) for key in answered
                      if key in reg.cells)
    p = total_l / total_n if total_n and shown_total else math.nan
    rows_v, rows_d = [], []
    for name in names:
        cells = [key for key in keys if key[3] == name]
        parts = [(*key[:4], part) for key in cells for part in ("n", _L, _NL)
                 if (*key[:4], part) in reg.cells]
        n = sum(reg.value(key) for key in cells)
        lonely = sum(reg.value((*key[:4], _L)) for key in cells)
        ok = reg.shown(*parts) and n >= reg.k and not math.isnan(p)
        share = lonely / n if ok and n else math.nan
        position = _position(share, p, n) if ok else "–"
        rows_v.append({"school": str(name), "n": float(n) if ok else math.nan,
                       "lonely": float(lonely) if ok else math.nan, "share": share,
                       "position": position, "municipal": p})
        rows_d.append({"Skole": str(name), "Besvarelser i alt": _num(n) if ok else "–",
                       "Andel ensomme": _pct(share), "Placering": position})
    values = pd.DataFrame(rows_v)
    values.attrs["years"] = [int(y) for y in years]
    hidden = int(values["share"].isna().sum()) if len(values) else 0
    title = TITLE + (f" (kommunen: {_pct(p)}; {hidden} skoler uden samlet tal, fordi et af "
                     "deres tal er skjult)" if hidden else f" (kommunen: {_pct(p)})")
    return SurveyTable("funnel", title, values, pd.DataFrame(rows_d), school.synthetic,
                       school.k, cells=reg)


def municipal_share(table: SurveyTable) -> float:
    """The municipality's pooled share (NaN when a year total is hidden)."""
    values = table.values
    return float(values["municipal"].iloc[0]) if len(values) else math.nan


def figure_funnel(table: SurveyTable) -> Figure:
    """The funnel plot: each school's pooled share against its number of answers, the
    municipality's share as a line and the 95 % and 99,8 % control limits as curves. Only
    schools outside the 95 % limits are named at their point (the table names them all)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from plusdig.present.figdata import FigureData
    from plusdig.present.style import FIGURE_WIDTH_IN, PALETTE, danish_axis
    from plusdig.survey.figures import _finish_with

    v = table.values.dropna(subset=["share"])
    p = municipal_share(table)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 4.2))
    n_max = float(v["n"].max()) if len(v) else 100.0
    n_grid = np.linspace(max(5.0, float(v["n"].min()) * 0.6 if len(v) else 5.0), n_max * 1.15, 200)
    if not math.isnan(p):
        ax.axhline(p * 100, color="#333333", lw=1.5, label=f"Kommunen ({_pct(p)})")
        for (label, z), style in zip(LIMITS.items(), ("--", ":"), strict=True):
            lo, hi = zip(*(_limits(p, n, z) for n in n_grid), strict=True)
            ax.plot(n_grid, np.array(lo) * 100, style, color=PALETTE[4], lw=1.3,
                    label=f"{label}-kontrolgrænser")
            ax.plot(n_grid, np.array(hi) * 100, style, color=PALETTE[4], lw=1.3)
    ax.scatter(v["n"], v["share"] * 100, color=PALETTE[1], s=36, zorder=3, label="Skole")
    for _, row in v[v["position"] != INSIDE].iterrows():
        ax.annotate(str(row["school"]), (row["n"], row["share"] * 100), xytext=(6, 6),
                    textcoords="offset points", fontsize=9, parse_math=False)
    danish_axis(ax, "y", percent=True)
    danish_axis(ax, "x")
    ax.set_ylim(bottom=0, top=max(40.0, float(v["share"].max() * 100) + 8 if len(v) else 40.0))
    ax.set_xlabel("Besvarelser af spørgsmålet om ensomhed på skolen, alle målinger")
    ax.set_ylabel("Svarer ja til ensomhed")
    ax.set_title("Skolerne mod kommunens andel (tragtdiagram)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    shown = table.display
    source = ("Kilde: trivselsmålingen, " + ("syntetiske data" if table.synthetic
                                             else "de leverede besvarelser") + ".")
    data = FigureData(shown[["Skole", "Besvarelser i alt", "Andel ensomme"]].reset_index(drop=True),
                      source, synthetic=table.synthetic,
                      notes=["Tallene er afrundet og undertrykt som i tabellen på siden "
                             f"(»–«: skjult, færre end {table.k} besvarelser eller et af "
                             "skolens tal er skjult). Kontrolgrænser: kommunens andel p ± "
                             "z·√(p(1−p)/n), z = 1,96 (95 %) og 3,09 (99,8 %)."])
    return _finish_with(fig, int(table.values["share"].isna().sum()), table, data,
                        bottom_in=0.2)
