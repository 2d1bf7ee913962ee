"""Statistics (Wilson and Newcombe intervals) and the registry of every count the survey
tables publish, with disclosure control applied (:mod:`plusdig.survey.disclosure`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plusdig.survey.contract import (
    _LONELY_BIN,
    HAPPINESS_LEVELS,
    SDQ_BANDS,
    SDQ_MISSING,
    TEASED_LEVELS,
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

    yes = frame["lonely"].isin(["ofte", "nogle gange"]).to_numpy()
    return pd.Categorical.from_codes(np.where(yes, 0, 1), categories=_LONELY_BIN)




# --------------------------------------------------------------------------- the registry
#: The breakdowns of the prevalence tables: column -> Danish label.
BREAKDOWNS = {"grade": "Klassetrin", "gender": "Køn", "school": "Skole"}
_L, _NL = _LONELY_BIN


def _measure_columns() -> list[str]:
    return list(dict.fromkeys(m[2] for m in MEASURES))


def build_registry(frame: pd.DataFrame, k: int) -> Registry:
    """Every count the chapter publishes, as cells of one registry, protected jointly.

    Keys describe population cells: ``("completed", year)``, ``("bin", year, "Ensomme")``,
    ``("group", "school", year, name, "n")``, ``("measure", column, year, bin, value)``, ...
    The relations are the identities of the microdata that link the tables (a year's completed
    forms are the lonely plus the not lonely pupils, and also the sum over schools, grades,
    genders and happiness answers, ...). :meth:`Registry.protect` then suppresses over all
    tables at once, so no hidden number follows from another table.
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

    base = pd.DataFrame({"year": done["year"].to_numpy(), "lonely": _lonely_bin(done)})
    levels = _grid(done, ["year"], "lonely").unstack("lonely")
    for y in done_years:
        for b in _LONELY_BIN:
            reg.add(("bin", y, b), int((base["year"] == y).mul(base["lonely"] == b).sum()),
                    f"{y}: {b.lower()}")
        reg.relate(("completed", y), [("bin", y, _L), ("bin", y, _NL)])
        for lv in ("ofte", "nogle gange"):
            reg.add(("level", y, lv), int(levels.loc[y, lv]), f"{y}: svarer «{lv}» til ensomhed")
        reg.relate(("bin", y, _L), [("level", y, "ofte"), ("level", y, "nogle gange")])

    for dim, label in BREAKDOWNS.items():
        grp = base.assign(group=done[dim].array)
        counts = _grid(grp, ["year", "group"], "lonely").unstack("lonely")
        for y in done_years:
            block = counts.loc[y]
            block = block[block.sum(axis=1) > 0]  # a group absent that year is no row
            for g, row in block.iterrows():
                key = ("group", dim, y, g)
                reg.add((*key, "n"), int(row.sum()), f"{y}, {label.lower()} «{g}»: besvarelser")
                for b in _LONELY_BIN:
                    reg.add((*key, b), int(row[b]), f"{y}, {label.lower()} «{g}»: {b.lower()}")
                reg.relate((*key, "n"), [(*key, _L), (*key, _NL)])
            names = list(block.index)
            reg.relate(("completed", y), [("group", dim, y, g, "n") for g in names])
            for b in _LONELY_BIN:
                reg.relate(("bin", y, b), [("group", dim, y, g, b) for g in names])

    for column in _measure_columns():
        grid = _grid(base.assign(value=done[column].array), ["year", "lonely"],
                     "value").unstack("value")
        for y in done_years:
            for b in _LONELY_BIN:
                parts = []
                for value in grid.columns:
                    key = ("measure", column, y, b, value)
                    reg.add(key, int(grid.loc[(y, b), value]),
                            f"{y}, {b.lower()}: {column} = {value}")
                    parts.append(key)
                if column == "sdq_band":
                    answered = ("sdq_answered", y, b)
                    bands = [p for p in parts if p[-1] != SDQ_MISSING]
                    reg.add(answered, sum(reg.value(p) for p in bands),
                            f"{y}, {b.lower()}: har besvaret SDQ")
                    reg.relate(answered, bands)
                    missing = [p for p in parts if p[-1] == SDQ_MISSING]
                    reg.relate(("bin", y, b), [answered, *missing])
                else:
                    reg.relate(("bin", y, b), parts)
    happy = _grid(done, ["year"], "happiness").unstack("happiness")
    for y in done_years:
        for lv in HAPPINESS_LEVELS:
            reg.add(("happiness", y, lv), int(happy.loc[y, lv]), f"{y}: «{lv}» for livet")
            reg.relate(("happiness", y, lv), [("measure", "happiness", y, b, lv)
                                              for b in _LONELY_BIN])
        reg.relate(("completed", y), [("happiness", y, lv) for lv in HAPPINESS_LEVELS])
    _publish_everything(reg, years, done_years)
    reg.protect()
    return reg


def _denominator(column: str, y: int, b: str) -> tuple:
    """The count a comparison share is taken of (SDQ: of those who answered the SDQ)."""
    return ("sdq_answered", y, b) if column == "sdq_band" else ("bin", y, b)


def _publish_everything(reg: Registry, years: list[int], done_years: list[int]) -> None:
    """Tell the registry every place that shows a count (a share shows its numerator and its
    denominator: with the denominator given, a share is the count)."""
    for y in years:  # the response table and the sentence on completed forms
        reg.publish(("answered", y), ("completed", y), ("excluded", y), ("completed", y))
    reg.publish(("excluded", "alle"))
    for y in done_years:
        # lonely levels, prevalence per year, the three breakdowns' "I alt" rows, the trend
        reg.publish(("level", y, "ofte"), ("level", y, "nogle gange"), ("bin", y, _NL))
        for _ in range(2 + len(BREAKDOWNS)):
            reg.publish(("completed", y), ("bin", y, _L))
        for key in reg.cells:
            if key[0] == "group" and key[2] == y and key[-1] in ("n", _L):
                reg.publish(key)
        for _key, _label, column, level, _excluded in MEASURES:
            for b in _LONELY_BIN:
                reg.publish(("measure", column, y, b, level), _denominator(column, y, b))
        for lv in HAPPINESS_LEVELS:
            reg.publish(("happiness", y, lv))
        reg.publish(("measure", "sdq_band", y, _L, "normal"), ("sdq_answered", y, _L),
                    ("measure", "teased", y, _L, "ofte"), ("bin", y, _L),
                    ("happiness", y, "slet ikke glad"), ("completed", y))


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
