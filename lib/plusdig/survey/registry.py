"""Statistics (Wilson and Newcombe intervals) and the registry of every count the survey
tables publish, with disclosure control applied (:mod:`plusdig.survey.disclosure`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plusdig.survey.contract import (
    _LONELY_BIN,
    HAPPINESS_LEVELS,
    ITEM_LABELS,
    LONELY_YES,
    SDQ_BANDS,
    SDQ_MISSING,
    TEASED_LEVELS,
    lonely_mask,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from plusdig.survey.disclosure import Registry

__all__ = ["wilson", "newcombe", "build_registry"]


# --------------------------------------------------------------------------- statistics
#: Confidence level of every interval in the chapter, and its normal quantile.
CI_LEVEL = 0.95
Z95 = 1.959963984540054


def wilson(successes: Any, n: Any, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions (vectorised). n == 0 gives NaN."""
    import numpy as np

    x = np.asarray(successes, dtype="float64")
    m = np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    return centre - half, centre + half


def newcombe(x1: Any, n1: Any, x2: Any, n2: Any, z: float = Z95
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference of two proportions p1 - p2 with Newcombe's hybrid score interval."""
    import numpy as np

    x1, n1, x2, n2 = (np.asarray(a, dtype="float64") for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def _grid(frame: pd.DataFrame, keys: list[str], column: str | None = None) -> pd.Series:
    """Counts for every combination of ``keys`` (+ ``column``), zeros included."""
    import pandas as pd

    by = keys + ([column] if column else [])
    counts = frame.groupby(by, observed=False, sort=True, dropna=False).size()
    levels = []
    for name in by:
        s = frame[name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            levels.append(list(s.cat.categories))
        elif str(s.dtype) == "boolean" or s.dtype == bool:
            levels.append([True, False])
        else:
            levels.append(sorted(s.dropna().unique().tolist()))
    full = pd.MultiIndex.from_product(levels, names=by) if len(by) > 1 else pd.Index(levels[0],
                                                                                     name=by[0])
    return counts.reindex(full, fill_value=0).astype("int64")


def _lonely_bin(frame: pd.DataFrame) -> pd.Categorical:
    import numpy as np
    import pandas as pd

    yes = lonely_mask(frame).to_numpy()
    return pd.Categorical.from_codes(np.where(yes, 0, 1), categories=_LONELY_BIN)




# --------------------------------------------------------------------------- the registry
#: The breakdowns of the prevalence tables: column -> Danish label.
BREAKDOWNS = {"grade": "Klassetrin", "gender": "Køn", "school": "Skole"}
_L, _NL = _LONELY_BIN


def _measure_columns() -> list[str]:
    return list(dict.fromkeys(m[2] for m in MEASURES))


def _missing(done: pd.DataFrame, column: str) -> np.ndarray:
    """Per completed form: the answer to ``column`` is empty (SDQ: :data:`SDQ_MISSING`)."""
    values = done[column]
    if column == "sdq_band":
        return (values == SDQ_MISSING).to_numpy()
    return values.isna().to_numpy()


def _year_grid(frame: pd.DataFrame, years: list[int], column: str, levels: list[Any]
               ) -> pd.DataFrame:
    """Counts per year (rows, all ``years``) and level of ``column`` (columns, ``levels``)."""
    counts = frame.groupby(["year", column], observed=True).size()
    return counts.unstack(column).reindex(index=years, columns=levels).fillna(0).astype("int64")


def _add_items(reg: Registry, done: pd.DataFrame, years: list[int]) -> dict[str, np.ndarray]:
    """Item non-response: per question and year, the completed forms with and without its
    answer (``("item", column, year, "answered" | "missing")``). A missing-answer count says
    nothing about an answer, so it is not sensitive (never suppressed for being small)."""
    import pandas as pd

    missing = {column: _missing(done, column) for column in ITEM_LABELS}
    year = done["year"].to_numpy()
    for column, miss in missing.items():
        label = ITEM_LABELS[column].lower()
        per = pd.Series(miss, dtype="int64").groupby(year).agg(["sum", "size"])
        for y in years:
            m = int(per.loc[y, "sum"]) if y in per.index else 0
            n = int(per.loc[y, "size"]) if y in per.index else 0
            reg.add(("item", column, y, "answered"), n - m, f"{y}: har svaret på «{label}»")
            reg.add(("item", column, y, "missing"), m, f"{y}: mangler svar på «{label}»",
                    sensitive=False)
            reg.relate(("completed", y), [("item", column, y, "answered"),
                                          ("item", column, y, "missing")])
    return missing


def build_registry(frame: pd.DataFrame, k: int) -> Registry:
    """Every count the chapter publishes, as cells of one registry, protected jointly.

    Keys describe population cells: ``("completed", year)``, ``("bin", year, "Ensomme")``,
    ``("group", "school", year, name, "n")``, ``("measure", column, year, bin, value)``, ...
    The relations are the identities of the microdata that link the tables (a year's completed
    forms are the lonely plus the not lonely pupils plus those who left the question empty,
    and also the sum over schools, grades, genders and happiness answers, ...).
    :meth:`Registry.protect` then suppresses over all tables at once, so no hidden number
    follows from another table.

    Item non-response: a completed form counts for every indicator whose answer is present.
    The lonely/not-lonely comparisons use the forms that answered both questions; each has its
    own denominator ``("measure_n", column, year, bin)``.
    """
    import pandas as pd

    from plusdig.survey.disclosure import Registry

    reg = Registry(k)
    done = frame[frame["completed"]]
    years = sorted(frame["year"].unique().tolist())
    done_years = sorted(done["year"].unique().tolist())
    by_year = frame.groupby(["year", "completed"]).size()
    for y in years:
        completed = int(by_year.get((y, True), 0))
        excluded = int(by_year.get((y, False), 0))
        reg.add(("completed", y), completed, f"{y}: gennemførte besvarelser")
        reg.add(("excluded", y), excluded, f"{y}: udeladte (ufuldstændige) skemaer")
        reg.add(("answered", y), completed + excluded, f"{y}: besvarede skemaer")
        reg.relate(("answered", y), [("completed", y), ("excluded", y)])
    reg.add(("excluded", "alle"), int((~frame["completed"]).sum()),
            "udeladte skemaer i alt (alle år)")
    reg.relate(("excluded", "alle"), [("excluded", y) for y in years])
    missing = _add_items(reg, done, done_years)

    known = done[~missing["lonely"]]  # the forms that answered the loneliness question
    base = pd.DataFrame({"year": known["year"].to_numpy(), "lonely": _lonely_bin(known)})
    levels = _year_grid(known, done_years, "lonely", list(LONELY_YES))
    bins = _year_grid(base, done_years, "lonely", list(_LONELY_BIN))
    for y in done_years:
        for b in _LONELY_BIN:
            reg.add(("bin", y, b), int(bins.loc[y, b]), f"{y}: {b.lower()}")
        reg.relate(("item", "lonely", y, "answered"), [("bin", y, _L), ("bin", y, _NL)])
        for lv in ("ofte", "nogle gange"):
            reg.add(("level", y, lv), int(levels.loc[y, lv]), f"{y}: svarer «{lv}» til ensomhed")
        reg.relate(("bin", y, _L), [("level", y, "ofte"), ("level", y, "nogle gange")])

    for dim, label in BREAKDOWNS.items():
        grp = base.assign(group=known[dim].array)
        counts = _grid(grp, ["year", "group"], "lonely").unstack("lonely")
        for y in done_years:
            block = counts.loc[y] if y in counts.index.get_level_values(0) else counts.iloc[:0]
            block = block[block.sum(axis=1) > 0]  # a group absent that year is no row
            for g, row in block.iterrows():
                key = ("group", dim, y, g)
                reg.add((*key, "n"), int(row.sum()), f"{y}, {label.lower()} «{g}»: besvarelser")
                for b in _LONELY_BIN:
                    reg.add((*key, b), int(row[b]), f"{y}, {label.lower()} «{g}»: {b.lower()}")
                reg.relate((*key, "n"), [(*key, _L), (*key, _NL)])
            names = list(block.index)
            reg.relate(("item", "lonely", y, "answered"),
                       [("group", dim, y, g, "n") for g in names])
            for b in _LONELY_BIN:
                reg.relate(("bin", y, b), [("group", dim, y, g, b) for g in names])

    lonely_missing = done[missing["lonely"]]
    for column in _measure_columns():
        _add_measure(reg, column, known, base, missing[column][~missing["lonely"]],
                     lonely_missing, missing[column][missing["lonely"]], done_years)
    answered = done[~missing["happiness"]]
    happy = _year_grid(answered, done_years, "happiness", HAPPINESS_LEVELS)
    unlinked = _year_grid(lonely_missing[~missing["happiness"][missing["lonely"]]], done_years,
                          "happiness", HAPPINESS_LEVELS)
    for y in done_years:
        for lv in HAPPINESS_LEVELS:
            reg.add(("happiness", y, lv), int(happy.loc[y, lv]), f"{y}: «{lv}» for livet")
            parts = [("measure", "happiness", y, b, lv) for b in _LONELY_BIN]
            if unlinked.loc[y].sum():  # pupils who answered this but not the loneliness question
                reg.add(("measure", "happiness", y, "?", lv), int(unlinked.loc[y, lv]),
                        f"{y}, uden svar om ensomhed: «{lv}» for livet")
                parts.append(("measure", "happiness", y, "?", lv))
            reg.relate(("happiness", y, lv), parts)
        reg.relate(("item", "happiness", y, "answered"),
                   [("happiness", y, lv) for lv in HAPPINESS_LEVELS])
    from plusdig.survey.pairs import add_link_cells

    add_link_cells(reg, known)  # pupil_key / class_id: linked pupils, classes (issue 19)
    _publish_everything(reg, years, done_years)
    reg.protect()
    return reg


def _add_measure(reg: Registry, column: str, known: pd.DataFrame, base: pd.DataFrame,
                 miss: np.ndarray, lonely_missing: pd.DataFrame, both: np.ndarray,
                 years: list[int]) -> None:
    """One comparison question: its answers per year and lonely bin (of the forms that answered
    both), their denominator ``("measure_n", ...)``, the bin's forms without this answer
    (``("measure_missing", ...)``, not sensitive) and the forms that answered it but not the
    loneliness question (``("item_only", column, year)``, not sensitive)."""
    import numpy as np
    import pandas as pd

    label = ITEM_LABELS[column].lower()
    present = base[~miss].assign(value=known.loc[~miss, column].array)
    grid = _grid(present, ["year", "lonely"], "value").unstack("value")
    grid = grid.drop(columns=[SDQ_MISSING], errors="ignore")
    grid = grid.reindex(pd.MultiIndex.from_product([years, list(_LONELY_BIN)]), fill_value=0)
    gaps = pd.Series(miss.astype("int64")).groupby(
        [base["year"].to_numpy(), np.asarray(base["lonely"])]).sum()
    only = pd.Series((~both).astype("int64")).groupby(lonely_missing["year"].to_numpy()).sum()
    both_n = pd.Series(both.astype("int64")).groupby(lonely_missing["year"].to_numpy()).sum()
    for y in years:
        for b in _LONELY_BIN:
            parts = []
            for value in grid.columns:
                key = ("measure", column, y, b, value)
                reg.add(key, int(grid.loc[(y, b), value]), f"{y}, {b.lower()}: {column} = {value}")
                parts.append(key)
            reg.add(("measure_n", column, y, b), sum(reg.value(p) for p in parts),
                    f"{y}, {b.lower()}: har svaret på «{label}»")
            reg.relate(("measure_n", column, y, b), parts)
            reg.add(("measure_missing", column, y, b), int(gaps.get((y, b), 0)),
                    f"{y}, {b.lower()}: mangler svar på «{label}»", sensitive=False)
            reg.relate(("bin", y, b), [("measure_n", column, y, b),
                                       ("measure_missing", column, y, b)])
        reg.add(("item_only", column, y), int(only.get(y, 0)),
                f"{y}: har svaret på «{label}», men ikke om ensomhed", sensitive=False)
        reg.relate(("item", column, y, "answered"), [("measure_n", column, y, b)
                                                     for b in _LONELY_BIN]
                   + [("item_only", column, y)])
        reg.add(("item_both", column, y), int(both_n.get(y, 0)),
                f"{y}: mangler svar på «{label}» og om ensomhed", sensitive=False)
        reg.relate(("item", "lonely", y, "missing"), [("item_only", column, y),
                                                     ("item_both", column, y)])
        reg.relate(("item", column, y, "missing"), [("measure_missing", column, y, b)
                                                    for b in _LONELY_BIN]
                   + [("item_both", column, y)])


def _denominator(column: str, y: int, b: str) -> tuple:
    """The count a comparison share is taken of: the bin's forms that answered the question."""
    return ("measure_n", column, y, b)


def _publish_everything(reg: Registry, years: list[int], done_years: list[int]) -> None:
    """Tell the registry every place that shows a count (a share shows its numerator and its
    denominator: with the denominator given, a share is the count)."""
    for y in years:  # the response table and the sentence on completed forms
        reg.publish(("answered", y), ("completed", y), ("excluded", y), ("completed", y))
    reg.publish(("excluded", "alle"))
    for y in done_years:
        lonely_n = ("item", "lonely", y, "answered")
        # lonely levels, prevalence per year, the three breakdowns' "I alt" rows, the trend
        reg.publish(("level", y, "ofte"), ("level", y, "nogle gange"), ("bin", y, _NL))
        for _ in range(2 + len(BREAKDOWNS)):
            reg.publish(lonely_n, ("bin", y, _L))
        for key in reg.cells:
            if key[0] == "group" and key[2] == y and key[-1] in ("n", _L):
                reg.publish(key)
        for _key, _label, column, level, _excluded in MEASURES:
            for b in _LONELY_BIN:
                reg.publish(("measure", column, y, b, level), _denominator(column, y, b))
        for lv in HAPPINESS_LEVELS:
            reg.publish(("happiness", y, lv), ("item", "happiness", y, "answered"))
        # the item non-response table of the methods appendix
        for column in ITEM_LABELS:
            reg.publish(("item", column, y, "answered"), ("item", column, y, "missing"))
        # the trend table: its four primary indicators and the two per 100 pupils
        reg.publish(("measure", "sdq_band", y, _L, "normal"), _denominator("sdq_band", y, _L),
                    ("measure", "teased", y, _L, "ofte"), _denominator("teased", y, _L),
                    ("happiness", y, "slet ikke glad"), ("item", "happiness", y, "answered"),
                    ("bin", y, _L), lonely_n, lonely_n, lonely_n)


#: Lonely-vs-not comparisons: (key, Danish label, column, level counted, levels excluded
#: from the denominator).
MEASURES: list[tuple[str, str, str, Any, tuple[Any, ...]]] = [
    *[(f"teased_{lv.replace(' ', '_').replace('æ', 'ae')}", f"Bliver drillet: {lv}", "teased", lv,
       ()) for lv in TEASED_LEVELS],
    ("bullied", "Bliver mobbet", "bullied", True, ()),
    ("leisure_activity", "Går til en organiseret fritidsaktivitet", "leisure_activity", True, ()),
    ("talks_to_adult", "Har en voksen at tale med, når de er kede af det", "talks_to_adult",
     True, ()),
    ("talks_to_peer", "Har en jævnaldrende at tale med, når de er kede af det", "talks_to_peer",
     True, ()),
    *[(f"happiness_{i}", f"Glad for livet: {lv}", "happiness", lv, ())
      for i, lv in enumerate(HAPPINESS_LEVELS)],
    *[(f"sdq_{code}", f"SDQ: {label}", "sdq_band", code, (SDQ_MISSING,))
      for code, (_lo, _hi, label) in SDQ_BANDS.items()],
]
