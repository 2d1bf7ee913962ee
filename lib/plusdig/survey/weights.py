"""Post-stratification by grade × gender: the optional invited counts per group, their
validation, and the weighted shares of the four primary indicators per year.

The input (``PLUSDIG_SURVEY_INVITED_GROUPS``, documented in data/survey/README.md) is a CSV
with the columns ``year,grade,gender,invited``: the number of invited pupils in each weighting
cell. A respondent's weight is the invited count of its cell divided by the number of
respondents in that cell who answer the indicator's questions, so the weighted respondents of
a year reproduce the invited pupils' distribution over grade × gender. A share within the
lonely group uses the same cell weights restricted to the lonely pupils.

The weighted share is :class:`statsmodels.stats.weightstats.DescrStatsW`'s weighted mean; its
interval is the Wilson interval on Kish's effective sample size (Σw)² / Σw², i.e. the design
effect of unequal weights (:func:`plusdig.survey.inference.share_interval`). The cells are
never returned, only the estimates per year; the appendix's paragraph and table are
:mod:`plusdig.survey.weighting`'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.core.errors import DataValidationError, describe
from plusdig.survey import inference as inf
from plusdig.survey.contract import CONTRACT, GENDER_LEVELS, GRADE_RANGE, YEAR_RANGE, lonely_mask

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GROUP_COLUMNS", "INDICATORS", "Indicator", "load_invited_groups",
           "check_invited_groups", "Weighted", "cell_weights", "weighted_share",
           "weighted_prevalence", "weighted_indicators"]

#: The columns of the invited-by-group file, in order.
GROUP_COLUMNS = ["year", "grade", "gender", "invited"]


def load_invited_groups(path: str | Path) -> pd.DataFrame:
    """Invited pupils per year × grade × gender: a CSV ``year,grade,gender,invited`` with one
    row per cell. Nothing is coerced: a number is digits only, a gender one of the contract's
    levels (no empty gender: the register knows every invited pupil's)."""
    import pandas as pd

    from plusdig.data.readers import read_csv_rows

    path = Path(path)
    rows = read_csv_rows(path, GROUP_COLUMNS)
    if not rows:
        raise DataValidationError(path, "no rows (only a header)",
                                  expected="one row per year, grade and gender: "
                                  + ",".join(GROUP_COLUMNS))
    out: list[tuple[int, int, str, int]] = []
    seen: set[tuple[int, int, str]] = set()
    for lineno, row in rows:
        where = f"row {lineno}"
        for name in ("year", "grade", "invited"):
            text = row[name].strip()
            if not re.fullmatch(r"[0-9]+", text):
                raise DataValidationError(path, f"{describe(text)} is not a whole number",
                                          record=where, field=name,
                                          expected="digits only (a non-negative integer)")
        year, grade, invited = int(row["year"]), int(row["grade"]), int(row["invited"])
        if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            raise DataValidationError(path, f"year {year} is out of range", record=where,
                                      field="year", expected=f"a year {CONTRACT['year'][1]}")
        if not GRADE_RANGE[0] <= grade <= GRADE_RANGE[1]:
            raise DataValidationError(path, f"grade {grade} is out of range", record=where,
                                      field="grade", expected=f"a grade {CONTRACT['grade'][1]}")
        gender = row["gender"]
        if gender not in GENDER_LEVELS:
            raise DataValidationError(path, f"{describe(gender)} is not a gender of the "
                                      "contract", record=where, field="gender",
                                      expected="one of " + ", ".join(GENDER_LEVELS)
                                      + " (lower case, no spaces, not empty)")
        if (year, grade, gender) in seen:
            raise DataValidationError(path, "year, grade and gender given twice", record=where,
                                      field="gender", expected="one row per year, grade and "
                                      "gender")
        seen.add((year, grade, gender))
        out.append((year, grade, gender, invited))
    return pd.DataFrame(out, columns=GROUP_COLUMNS)


def check_invited_groups(groups: pd.DataFrame, frame: pd.DataFrame,
                         invited: pd.DataFrame | None, path: str | Path) -> None:
    """Refuse group counts that contradict the survey or the per-year counts: a survey year
    without rows, a cell with fewer invited than forms (counts not printed; a gender with no
    cell in a year is left out of the weighting, not checked), or a year whose
    cells do not add up to its invited total (``invited``, :func:`load_invited`)."""
    forms = frame.groupby(["year", "grade", "gender"], observed=True).size()
    cells = groups.set_index(["year", "grade", "gender"])["invited"]
    for year in sorted(int(y) for y in frame["year"].unique()):
        if year not in set(groups["year"]):
            raise DataValidationError(path, f"no rows for the year {year} of the survey",
                                      field="year", expected="rows for every year the survey "
                                      "has answers for")
    genders = {(int(y), s) for y, s in groups[["year", "gender"]].itertuples(index=False)}
    for (year, grade, gender), n in forms.items():
        if (int(year), gender) not in genders:
            continue  # a gender without cells that year is not weighted (README)
        if n > cells.get((int(year), int(grade), gender), 0):
            # the counts are not printed: a log is no place for a small group's size
            raise DataValidationError(path, f"fewer pupils invited in {year}, grade {grade}, "
                                      f"gender {gender} than the survey has answers for",
                                      field="invited", expected="at least as many invited as "
                                      "answers in every cell (a row for every cell with "
                                      "answers)")
    if invited is not None:
        totals = groups.groupby("year")["invited"].sum()
        for year, total in totals.items():
            said = int(invited.at[year, "invited"]) if year in invited.index else int(total)
            if int(total) != said:
                raise DataValidationError(path, f"the cells of {year} add up to {int(total)}, "
                                          f"the invited file says {said}",
                                          field="invited", expected="cells that add up to the "
                                          "year's invited pupils")


@dataclass(frozen=True)
class Weighted:
    """One year's share of one indicator, unweighted and post-stratified (no cell counts)."""

    year: int
    unweighted: inf.Interval
    weighted: inf.Interval
    #: Kish's design effect of the weights, n / n_eff (1 = equal weights).
    deff: float
    #: True when every invited cell has respondents (else ``weighted`` is undefined).
    complete: bool
    #: The indicator (a key of :data:`INDICATORS`).
    indicator: str = "lonely"


@dataclass(frozen=True)
class Indicator:
    """How a primary indicator is read from the validated frame: the forms it is based on
    (completed forms answering every question it uses: they carry the weights), the group it is
    a share of (None: all of them) and the answer it counts."""

    questions: tuple[str, ...]
    answer: Callable[[pd.DataFrame], pd.Series]
    within_lonely: bool = False

    def base(self, frame: pd.DataFrame) -> pd.Series:
        """The completed forms that answer every question the indicator uses."""
        use = frame["completed"].astype(bool)
        for q in self.questions:
            use &= _answered(frame, q)
        return use


def _answered(frame: pd.DataFrame, question: str) -> pd.Series:
    from plusdig.survey.contract import SDQ_MISSING

    column = frame[question]
    return column.notna() & (column.astype(object) != SDQ_MISSING)


#: The four pre-specified primary indicators (:data:`plusdig.survey.inference.PRIMARY`) as the
#: chapter's trend table counts them: two shares of all pupils who answer, two shares within the
#: lonely group (weighted with the same cell weights, restricted to the lonely pupils).
INDICATORS: dict[str, Indicator] = {
    "lonely": Indicator(("lonely",), lonely_mask),
    "lonely_sdq_normal": Indicator(("lonely", "sdq_band"),
                                   lambda f: f["sdq_band"].astype(object) == "normal", True),
    "lonely_teased_often": Indicator(("lonely", "teased"),
                                     lambda f: f["teased"].astype(object) == "ofte", True),
    "not_happy_at_all": Indicator(("happiness",),
                                  lambda f: f["happiness"].astype(object) == "slet ikke glad"),
}
assert tuple(INDICATORS) == inf.PRIMARY, "one definition per primary indicator"


def cell_weights(frame: pd.DataFrame, groups: pd.DataFrame, base: pd.Series | None = None
                 ) -> pd.Series:
    """Each respondent's post-stratification weight (invited in cell / respondents in cell),
    for the forms in ``base`` (default: the completed forms that answer loneliness) whose cell
    has an invited count; NaN for every other row. Respondents are counted per year × grade ×
    gender among ``base``."""
    import numpy as np
    import pandas as pd

    from collections import Counter

    use = INDICATORS["lonely"].base(frame) if base is None else base.astype(bool).copy()
    cells: dict[tuple[int, int, Any], Any] = {}
    for (y, g, s), v in groups.set_index(["year", "grade", "gender"])["invited"].items():
        if (int(y), int(g), s) in cells:  # as a lookup in a repeated index would: refused
            raise ValueError(f"invited groups: the cell {(int(y), int(g), s)} is given twice")
        cells[(int(y), int(g), s)] = v
    key_tuples = [(int(y), int(g), s) for y, g, s in
                  frame[["year", "grade", "gender"]].astype(object).itertuples(index=False)]
    invited = pd.Series([cells.get(k, np.nan) for k in key_tuples], index=frame.index,
                        dtype="float64")
    use &= invited.notna()
    counts = Counter(k for k, u in zip(key_tuples, use, strict=True) if u)
    n_cell = pd.Series([counts.get(k, 0) if u else np.nan for k, u in zip(key_tuples, use,
                                                                          strict=True)],
                       index=frame.index, dtype="float64")
    return (invited / n_cell).where(use)


def weighted_share(frame: pd.DataFrame, groups: pd.DataFrame, key: str = "lonely"
                   ) -> list[Weighted]:
    """Per year: the indicator's share, unweighted and post-stratified by grade × gender, each
    with its Wilson interval (the weighted one on Kish's effective n of the weights used).

    The weights are computed on the indicator's forms (:meth:`Indicator.base`); a share within
    the lonely group is the weighted mean over the lonely pupils among them (the same cell
    weights, restricted to the group), so its Kish n is the lonely group's. A year with an
    invited cell but no form in it has no weighted estimate (``complete`` False): the cell
    cannot be represented."""
    from statsmodels.stats.weightstats import DescrStatsW

    ind = INDICATORS[key]
    base = ind.base(frame)
    w = cell_weights(frame, groups, base)
    yes = ind.answer(frame).astype("float64")
    within = lonely_mask(frame) if ind.within_lonely else base
    out: list[Weighted] = []
    for year in sorted(int(y) for y in frame["year"].unique()):
        in_year = frame["year"] == year
        plain_rows = in_year & base & within
        plain = inf.share_interval(float(yes[plain_rows].sum()), float(plain_rows.sum()))
        cells = groups[(groups["year"] == year) & (groups["invited"] > 0)]
        have = {(int(g), s) for g, s in frame.loc[in_year & w.notna(), ["grade", "gender"]]
                .itertuples(index=False)}
        complete = all((int(g), s) in have for g, s in cells[["grade", "gender"]]
                       .itertuples(index=False))
        rows = in_year & w.notna() & within
        if not complete or not rows.any():
            out.append(Weighted(year, plain, inf.NAN_INTERVAL, math.nan, False, key))
            continue
        weights = w[rows].to_numpy()
        stats = DescrStatsW(yes[rows].to_numpy(), weights=weights)
        n = float(rows.sum())
        n_eff = weights.sum() ** 2 / (weights ** 2).sum()
        deff = n / n_eff
        interval = inf.share_interval(float(stats.mean) * n, n, deff=deff)
        out.append(Weighted(year, plain, interval, deff, True, key))
    return out


def weighted_prevalence(frame: pd.DataFrame, groups: pd.DataFrame) -> list[Weighted]:
    """Per year: the share answering yes to loneliness, unweighted and post-stratified
    (:func:`weighted_share` of ``"lonely"``)."""
    return weighted_share(frame, groups, "lonely")


def weighted_indicators(frame: pd.DataFrame, groups: pd.DataFrame) -> dict[str, list[Weighted]]:
    """:func:`weighted_share` of each primary indicator, in the order of
    :data:`plusdig.survey.inference.PRIMARY`."""
    return {key: weighted_share(frame, groups, key) for key in INDICATORS}
