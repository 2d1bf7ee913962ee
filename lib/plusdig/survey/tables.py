"""The survey chapter's tables, computed from the registry with disclosure control applied,
and the pipeline that makes them all.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.data.cache import memoised
from plusdig.survey.contract import _LONELY_BIN, HAPPINESS_LEVELS, LONELY_LEVELS, SurveySource
from plusdig.survey.published import published_check
from plusdig.survey.readers import _Raw
from plusdig.survey.registry import (
    _L,
    _NL,
    BREAKDOWNS,
    MEASURES,
    _denominator,
    build_registry,
    newcombe,
    wilson,
)
from plusdig.survey.result import SurveyTable, _cell, _ci, _num, _pct, _signed, pvalue
from plusdig.survey.validation import Survey, load_survey, validate

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

    from plusdig.survey.disclosure import Registry

__all__ = ["run_pipeline", "current_tables", "tables_from_registry", "reader_table", "survey_reader_table",
           "WIDE_TABLES"]


def _share(reg: Registry, num: Any, den: Any) -> float:
    """num / den when both counts may be published (and den > 0), else NaN."""
    if not reg.shown(num, den) or reg.value(den) == 0:
        return math.nan
    return reg.value(num) / reg.value(den)


def _count(reg: Registry, key: Any) -> float:
    return float(reg.value(key)) if reg.shown(key) else math.nan


# --------------------------------------------------------------------------- tables
def _keys_of(reg: Registry, prefix: tuple) -> list[Any]:
    return [key for key in reg.cells if key[:len(prefix)] == prefix]


def _response_table(reg: Registry, years: list[int], invited: pd.DataFrame | None,
                    synthetic: bool) -> SurveyTable:
    import numpy as np
    import pandas as pd

    inv = invited["invited"].reindex(years) if invited is not None else pd.Series(np.nan, years)
    values = pd.DataFrame({"year": years, "invited": inv.to_numpy(dtype="float64")})
    for c in ("answered", "completed", "excluded"):
        values[c] = [_count(reg, (c, y)) for y in years]
    values["rate_answered"] = values["answered"] / values["invited"]
    values["rate_completed"] = values["completed"] / values["invited"]
    display = pd.DataFrame({
        "År": [str(y) for y in years],
        "Inviterede": [_num(v) if not math.isnan(v) else "ikke oplyst" for v in values["invited"]],
        "Besvarede": [_cell(reg, ("answered", y)) for y in years],
        "Gennemførte": [_cell(reg, ("completed", y)) for y in years],
        "Udeladt (ufuldstændige)": [_cell(reg, ("excluded", y)) for y in years],
        "Svarprocent (besvarede)": [_pct(p) for p in values["rate_answered"]],
        "Svarprocent (gennemførte)": [_pct(p) for p in values["rate_completed"]],
    })
    keys = [(c, y) for y in years for c in ("answered", "completed", "excluded")]
    return SurveyTable("response", "Besvarelser og svarprocent pr. år", values, display,
                       synthetic, reg.k, *reg.counts(keys))


def _prevalence_table(reg: Registry, years: list[int], by: str | None, synthetic: bool,
                      invited: pd.DataFrame | None = None) -> SurveyTable:
    """Share answering yes to loneliness per year (and group) with Wilson intervals.

    Per year with the invited counts known (``invited``): the interval is corrected for the
    finite population (the year's pupils) and the worst/best-case bounds for non-response stand
    beside it (:mod:`plusdig.survey.inference`). Groups have no invited counts: uncorrected."""
    import pandas as pd

    from plusdig.survey import inference as inf

    finite = by is None and invited is not None

    label = BREAKDOWNS.get(by or "", "Gruppe")
    rows_v, rows_d, keys = [], [], []
    for y in years:
        groups = [(str(key[3]), (*key[:4], "n"), (*key[:4], _L))
                  for key in _keys_of(reg, ("group", by, y)) if key[-1] == "n"] if by else []
        groups.append(("I alt" if by else "Alle", ("item", "lonely", y, "answered"),
                       ("bin", y, _L)))
        for name, n_key, x_key in groups:
            keys += [n_key, x_key]
            share = _share(reg, x_key, n_key)
            low, high = (wilson(reg.value(x_key), reg.value(n_key)) if not math.isnan(share)
                         else (math.nan, math.nan))
            b_low = b_high = math.nan
            if finite and not math.isnan(share):
                pop = float(invited["invited"].get(y, math.nan))
                fpc = inf.share_interval(reg.value(x_key), reg.value(n_key), population=pop)
                low, high = fpc.low, fpc.high
                b_low, b_high = inf.bounds(reg.value(x_key), reg.value(n_key), pop)
            rows_v.append({"year": int(y), "group": name, "n": _count(reg, n_key),
                           "lonely": _count(reg, x_key) if not math.isnan(share) else math.nan,
                           "share": share, "low": float(low), "high": float(high)})
            row = {"År": str(y), label: name, "Besvarelser": _cell(reg, n_key),
                   "Ensomme": _cell(reg, x_key), "Andel ensomme": _pct(share),
                   "95 %-konfidensinterval": _ci(float(low), float(high))}
            if finite:
                row["Grænser for frafald (af de inviterede)"] = _ci(b_low, b_high)
                rows_v[-1].update({"bound_low": b_low, "bound_high": b_high})
            rows_d.append(row)
    display = pd.DataFrame(rows_d)
    if not by:
        display = display.drop(columns=[label])
    title = ("Andel, der svarer ja til ensomhed (»ofte« eller »nogle gange«), pr. år"
             + (f" og {label.lower()}" if by else "") + ", med 95 %-konfidensinterval (Wilson"
             + (", korrigeret for endelig population) og grænser for frafald (alle, der ikke "
                "svarede, regnet som nej eller som ja)" if finite else ")"))
    if by:  # the "I alt" row repeats the per-year table: count its cells there only
        keys = [key for key in keys if key[0] == "group"]
    return SurveyTable(f"prevalence_{by or 'year'}", title, pd.DataFrame(rows_v), display,
                       synthetic, reg.k, *reg.counts(keys))


def _lonely_levels_table(reg: Registry, years: list[int], synthetic: bool) -> SurveyTable:
    """Distribution of the loneliness answer per year (ofte / nogle gange / nej), of the
    completed forms that answer the question."""
    import pandas as pd

    level_key = {"ofte": "ofte", "nogle gange": "nogle gange"}
    rows_v, rows_d, keys = [], [], []
    for y in years:
        n_key = ("item", "lonely", y, "answered")
        row_d = {"År": str(y), "Besvarelser": _cell(reg, n_key)}
        row_v: dict[str, Any] = {"year": int(y), "n": _count(reg, n_key)}
        for level in LONELY_LEVELS:
            key = ("level", y, level_key[level]) if level in level_key else ("bin", y, _NL)
            keys.append(key)
            share = _share(reg, key, n_key)
            row_v[level] = share
            if math.isnan(share):
                row_d[f"»{level}«"] = _cell(reg, key) if not reg.shown(key) else _pct(share)
            else:
                low, high = wilson(reg.value(key), reg.value(n_key))
                row_d[f"»{level}«"] = f"{_pct(share)} [{_ci(float(low), float(high))}]"
        rows_v.append(row_v)
        rows_d.append(row_d)
    return SurveyTable("lonely_levels", "Svar på spørgsmålet om ensomhed pr. år: andel "
                       "(95 %-konfidensinterval)", pd.DataFrame(rows_v), pd.DataFrame(rows_d),
                       synthetic, reg.k, *reg.counts(keys))


#: The comparison table's column with each question's denominators (item non-response: a
#: question's own number of answers among the lonely and the not lonely).
N_COLUMN = "Besvarelser (ensomme / ikke ensomme)"


def _comparison_table(reg: Registry, years: list[int], synthetic: bool) -> SurveyTable:
    """Lonely vs not lonely on every other measure, per year, with differences and intervals.

    A share is shown when its count and its denominator may both be published."""
    import numpy as np
    import pandas as pd

    rows_v, rows_d, keys = [], [], []
    for key, label, column, level, _excluded in MEASURES:
        for y in years:
            shares = {}
            for b in _LONELY_BIN:
                x_key, n_key = ("measure", column, y, b, level), _denominator(column, y, b)
                keys.append(x_key)
                shares[b] = (_share(reg, x_key, n_key), reg.value(x_key), reg.value(n_key))
            (p1, x1, n1), (p2, x2, n2) = shares[_L], shares[_NL]
            both = not (math.isnan(p1) or math.isnan(p2))
            d, low, high = newcombe(x1, n1, x2, n2) if both else (np.nan,) * 3
            rows_v.append({"measure": key, "label": label, "year": int(y),
                           "lonely_x": float(x1) if not math.isnan(p1) else np.nan,
                           "lonely_n": float(n1) if not math.isnan(p1) else np.nan,
                           "lonely_share": p1, "other_share": p2,
                           "diff": float(d), "low": float(low), "high": float(high)})
            rows_d.append({"Mål": label, "År": str(y),
                           N_COLUMN: " / ".join(_cell(reg, _denominator(column, y, b))
                                                for b in _LONELY_BIN),
                           "Ensomme": _pct(p1), "Ikke ensomme": _pct(p2),
                           "Forskel (procentpoint)": _signed(d * 100, 1) if both else "–",
                           "95 %-konfidensinterval": _ci(low, high) if both else "–"})
    title = ("Ensomme og ikke-ensomme børn på de øvrige mål: andele, forskel i procentpoint og "
             "95 %-konfidensinterval for forskellen (Newcombe). SDQ-andele er af dem, der har "
             "besvaret SDQ")
    return SurveyTable("comparison", title, pd.DataFrame(rows_v), pd.DataFrame(rows_d),
                       synthetic, reg.k, *reg.counts(keys))


def _happiness_table(reg: Registry, years: list[int], synthetic: bool) -> SurveyTable:
    """Answers to "Hvor glad er du for dit liv for tiden?" per year (counts and shares)."""
    import pandas as pd

    rows_v, rows_d, keys = [], [], []
    for y in years:
        n_key = ("item", "happiness", y, "answered")
        rv: dict[str, Any] = {"year": int(y), "n": _count(reg, n_key)}
        rd = {"År": str(y)}
        for lv in HAPPINESS_LEVELS:
            key = ("happiness", y, lv)
            keys.append(key)
            rv[lv] = _count(reg, key)
            share = _share(reg, key, n_key)
            rd[f"»{lv}«"] = (f"{_cell(reg, key)} ({_pct(share)})" if not math.isnan(share)
                             else _cell(reg, key))
        rows_v.append(rv)
        rows_d.append(rd)
    return SurveyTable("happiness", "Svar på »Hvor glad er du for dit liv for tiden?« pr. år: "
                       "antal (andel)", pd.DataFrame(rows_v), pd.DataFrame(rows_d), synthetic,
                       reg.k, *reg.counts(keys))


#: Indicators followed over time: key -> Danish label. Four are the pre-specified primary
#: indicators (:data:`plusdig.survey.inference.PRIMARY`); each share within the lonely group is
#: followed by the same lonely children per 100 pupils (the joint prevalence: a share of the
#: lonely group changes with the group's size), so the two stand side by side.
TREND_INDICATORS: dict[str, str] = {
    "lonely": "Svarer ja til ensomhed",
    "lonely_sdq_normal": "Ensomme børn i SDQ's normalområde",
    "lonely_sdq_normal_per100": "Ensomme i SDQ's normalområde, pr. 100 elever",
    "lonely_teased_often": "Ensomme børn, der ofte bliver drillet",
    "lonely_teased_often_per100": "Ensomme, der ofte bliver drillet, pr. 100 elever",
    "not_happy_at_all": "Svarer »slet ikke glad« for livet",
}


def indicator_counts(tables: dict[str, SurveyTable]) -> dict[str, dict[int, tuple[float, float]]]:
    """For each trend indicator: year -> (count, denominator), NaN where suppressed."""
    import numpy as np

    prev = tables["prevalence_year"].values
    comp = tables["comparison"].values
    happy = tables["happiness"].values
    pupils = prev.set_index("year")["n"]  # the forms that answer the loneliness question
    series: dict[str, dict[int, tuple[float, float]]] = {key: {} for key in TREND_INDICATORS}
    for _, r in prev.iterrows():
        series["lonely"][int(r["year"])] = (r["lonely"], r["n"])
    for key, measure in (("lonely_sdq_normal", "sdq_normal"), ("lonely_teased_often",
                                                                "teased_ofte")):
        for _, r in comp[comp["measure"] == measure].iterrows():
            y = int(r["year"])
            series[key][y] = (r["lonely_x"], r["lonely_n"])
            series[f"{key}_per100"][y] = (r["lonely_x"], pupils.get(y, np.nan)
                                          if not math.isnan(r["lonely_x"]) else np.nan)
    for _, r in happy.iterrows():
        series["not_happy_at_all"][int(r["year"])] = (r["slet ikke glad"], r["n"])
    return series


def _trend_table(tables: dict[str, SurveyTable], k: int, synthetic: bool) -> SurveyTable:
    """Key indicators per year, the change from the first to the last year (with CI) and the
    logistic trend over all years (odds ratio per year with CI, p-value)."""
    import numpy as np
    import pandas as pd

    from plusdig.survey.inference import trend_test

    years = sorted(tables["prevalence_year"].values["year"].tolist())
    series = indicator_counts(tables)
    rows_v, rows_d = [], []
    first, last = (years[0], years[-1]) if years else (None, None)
    for key, label in TREND_INDICATORS.items():
        rd = {"Indikator": label}
        rv: dict[str, Any] = {"indicator": key, "label": label}
        for y in years:
            x, n = series[key].get(y, (np.nan, np.nan))
            share = x / n if n and not math.isnan(x) and not math.isnan(n) else np.nan
            rv[str(y)] = share
            rd[str(y)] = _pct(share)
        change = f"{first}→{last}" if first != last else "Ændring"
        x1, n1 = series[key].get(last, (np.nan, np.nan))
        x0, n0 = series[key].get(first, (np.nan, np.nan))
        d, low, high = newcombe(x1, n1, x0, n0)
        trend = trend_test(years, [series[key].get(y, (np.nan,) * 2)[0] for y in years],
                           [series[key].get(y, (np.nan,) * 2)[1] for y in years])
        odds = trend.odds_ratio
        rv.update({"diff": float(d), "low": float(low), "high": float(high),
                   "or_trend": odds.estimate, "or_low": odds.low, "or_high": odds.high,
                   "p_trend": trend.pvalue})
        rd[f"Ændring {change} (procentpoint)"] = (
            "–" if math.isnan(d) or first == last else f"{_signed(d * 100, 1)} [{_ci(low, high)}]")
        rd["Trend: oddsratio pr. år"] = ("–" if not odds.defined else
                                         f"{_num(odds.estimate, 2)} [{_num(odds.low, 2)}; "
                                         f"{_num(odds.high, 2)}]")
        rd["p (trend)"] = pvalue(trend.pvalue)
        rows_v.append(rv)
        rows_d.append(rd)
    return SurveyTable("trend", "Udvikling i nøgletal pr. år (andele); ændring fra første til "
                       "sidste måling og trend over alle målinger (logistisk regression på "
                       "året), med 95 %-konfidensintervaller", pd.DataFrame(rows_v),
                       pd.DataFrame(rows_d), synthetic, k)


#: The long tables chapter 7 shows wide (groups × years), and their views: view -> (the
#: long columns per year, the column printed with its interval, the caption's title or None
#: for the table's own). The comparison is two tables: its shares, and its differences. The
#: prevalence tables' "Besvarelser" is headed "Antal svar" there (the audit reads both).
_INTERVAL = "95 %-konfidensinterval"
WIDE_TABLES: dict[str, dict[str, tuple[list[str], str | None, str | None]]] = {
    **{f"prevalence_{by}": {"andele": (["Andel ensomme", "Antal svar"], "Andel ensomme", None)}
       for by in BREAKDOWNS},
    "comparison": {
        "andele": ([N_COLUMN, "Ensomme", "Ikke ensomme"], None,
                   "Ensomme og ikke-ensomme børn på de øvrige mål: andelen i hver gruppe pr. "
                   "måling, af dem i gruppen, der har besvaret spørgsmålet"),
        "forskelle": (["Forskel (procentpoint)"], "Forskel (procentpoint)",
                      "Forskellen mellem ensomme og ikke-ensomme børn på de øvrige mål pr. "
                      "måling, i procentpoint, med 95 %-konfidensinterval for forskellen "
                      "(Newcombe)"),
    },
}


def reader_table(table: SurveyTable, view: str = "andele") -> Styler:
    """The table as chapter 7 shows it: a long table of :data:`WIDE_TABLES` wide (one row per
    group or measure, the years side by side: :func:`plusdig.present.tables.wide_by_year`),
    any other as it is. Only the printed cells move: nothing hidden is shown, nothing new is
    computed, and the disclosure audit reads the wide table back as the long one."""
    from dataclasses import replace

    from plusdig.present.tables import wide_by_year

    views = WIDE_TABLES.get(table.name)
    if views is None:
        return table.styler()
    if view not in views:
        raise ValueError(f"survey table {table.name!r} has no view {view!r}: "
                         f"expected one of {sorted(views)}")
    columns, with_interval, title = views[view]
    # "Antal svar" (the group's completed forms): a short header keeps three years in the column
    shown = table.display.rename(columns={"Besvarelser": "Antal svar"})
    row = "Mål" if table.name == "comparison" else str(shown.columns[1])
    wide = wide_by_year(shown, row=row, columns=columns,
                        interval=(with_interval, _INTERVAL) if with_interval else None)
    return replace(table, title=title or table.title, display=wide).styler()


#: The chapter API's name for :func:`reader_table`.
survey_reader_table = reader_table


def run_pipeline(data: Survey | SurveySource | pd.DataFrame | str | Path | None = None, *,
                 k: int | None = None,
                 published: pd.DataFrame | None = None, synthetic: bool | None = None
                 ) -> dict[str, SurveyTable]:
    """Every table of the chapter, with disclosure control applied.

    ``data`` is a :class:`Survey`, a :class:`SurveySource`, a path, a raw (unvalidated)
    DataFrame in the contract's columns, or None (the current source). Raw frames and paths
    are validated first, so this is the whole pipeline: load, validate, tabulate, suppress.
    ``published`` (default :func:`plusdig.load_published`) feeds the published-figures check.
    """
    import pandas as pd

    from plusdig.survey.disclosure import threshold

    k = threshold(k)
    if data is None:
        data = load_survey()
    if isinstance(data, (str, Path, SurveySource)):
        data = load_survey(data)
    if isinstance(data, pd.DataFrame):
        if "completed" in data.columns and str(data["completed"].dtype) == "bool" \
                and "sdq_band" in data.columns:
            frame = data  # already validated
        else:
            frame = validate(_Raw(data, "<data frame>", 1, "record"))
        invited, syn = None, bool(synthetic)
    else:
        frame, invited, syn = data.frame, data.invited, data.synthetic
        syn = syn if synthetic is None else synthetic
    from plusdig.survey.pseudonyms import pseudonymise

    frame = pseudonymise(frame)  # PLUSDIG_SCHOOL_KEY: »Skole A« … everywhere from here on
    return tables_from_registry(build_registry(frame, k), frame, invited, syn, published)


@memoised
def current_tables(k: int | None = None) -> tuple[Survey, dict[str, SurveyTable]]:
    """The current survey source (:func:`load_survey`) and every table of it at the threshold
    ``k`` (:func:`run_pipeline`), computed once per process for the same settings and files
    (:mod:`plusdig.data.cache`: the methods appendix's numbers and its weighting both need
    them; every caller gets its own copy)."""
    data = load_survey()
    return data, run_pipeline(data, k=k)


def tables_from_registry(reg: Registry, frame: pd.DataFrame, invited: pd.DataFrame | None,
                         syn: bool, published: pd.DataFrame | None = None
                         ) -> dict[str, SurveyTable]:
    """Every table of the chapter drawn from a protected registry (:func:`build_registry`)."""
    k = reg.k
    years = sorted(frame["year"].unique().tolist())
    done_years = sorted(frame.loc[frame["completed"], "year"].unique().tolist())
    tables: dict[str, SurveyTable] = {}
    tables["response"] = _response_table(reg, years, invited, syn)
    tables["lonely_levels"] = _lonely_levels_table(reg, done_years, syn)
    tables["prevalence_year"] = _prevalence_table(reg, done_years, None, syn, invited)
    for by in BREAKDOWNS:
        tables[f"prevalence_{by}"] = _prevalence_table(reg, done_years, by, syn)
    tables["comparison"] = _comparison_table(reg, done_years, syn)
    tables["happiness"] = _happiness_table(reg, done_years, syn)
    tables["trend"] = _trend_table(tables, k, syn)
    for table in tables.values():
        table.cells = reg
    from plusdig.survey.design import design_tables

    tables.update(design_tables(reg, frame, syn, TREND_INDICATORS))  # class_id / pupil_key
    from plusdig.survey.funnel import funnel_table
    from plusdig.survey.items import item_table

    tables["funnel"] = funnel_table(tables)
    tables["items"] = item_table(tables)  # the methods appendix's item non-response
    if published is None:
        from plusdig.data.load import load_published

        published = load_published()
    tables["published_check"] = published_check(tables, published)
    return tables
