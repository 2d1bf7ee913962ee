"""The linked design's counts (issue 19) as cells of the disclosure registry.

With a pupil key (the validated frame's ``pupil`` codes), a change can be followed on the same
pupils: the pupils who answered the loneliness question in both years of a pair. A pair is two
consecutive measurements, or a cohort (the lowest grade in the first year and the same pupils
two grades up two years later: grade 5 in 2017 → grade 7 in 2019). With a class
(``class`` codes), the number of classes per year is shown. Every such count goes into the
one :class:`~plusdig.survey.disclosure.Registry`, tied to the chapter's other cells, so small
groups are suppressed jointly with every other table:

* ``("link", pair, "n")``: the linked pupils; ``("link", pair, year, bin)``: how many of them
  are lonely / not lonely in each year of the pair (the two bins sum to the linked pupils);
* ``("link_rest", pair, year, bin)``: the year's (or the grade's) pupils in the bin who are not
  linked; the year's bin is the linked plus the rest, so nothing hidden follows by subtraction;
* ``("classes", year)``: the classes with forms that answer the loneliness question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plusdig.survey.contract import _LONELY_BIN, lonely_mask

if TYPE_CHECKING:
    import pandas as pd

    from plusdig.survey.disclosure import Registry

__all__ = ["Pair", "pairs", "linked_rows", "add_link_cells", "COHORT_STEP"]

#: The cohort pair follows the lowest grade this many grades (and years) on.
COHORT_STEP = 2


@dataclass(frozen=True)
class Pair:
    """Two measurements compared on the same pupils; ``grades`` for a cohort pair."""

    year0: int
    year1: int
    grades: tuple[int, int] | None = None

    @property
    def key(self) -> str:
        if self.grades:
            return f"{self.grades[0]}/{self.year0}-{self.grades[1]}/{self.year1}"
        return f"{self.year0}-{self.year1}"

    @property
    def label(self) -> str:
        """Danish, as the table prints it."""
        if self.grades:
            return (f"{self.grades[0]}. klasse {self.year0} → {self.grades[1]}. klasse "
                    f"{self.year1}")
        return f"{self.year0} → {self.year1}"


def pairs(known: pd.DataFrame) -> list[Pair]:
    """The pairs of the data: consecutive measurements, then the cohort pair (if its two
    years and grades are in the data)."""
    years = sorted(int(y) for y in known["year"].unique())
    out = [Pair(a, b) for a, b in zip(years, years[1:], strict=False)]
    if years:
        first = years[0]
        low = int(known.loc[known["year"] == first, "grade"].min())
        later = known[known["year"] == first + COHORT_STEP]
        if len(later) and (later["grade"] == low + COHORT_STEP).any():
            out.append(Pair(first, first + COHORT_STEP, (low, low + COHORT_STEP)))
    return out


def _in_pair(known: pd.DataFrame, pair: Pair) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The forms of the pair's first and second year (of its grades, for a cohort)."""
    a = known[known["year"] == pair.year0]
    b = known[known["year"] == pair.year1]
    if pair.grades:
        a = a[a["grade"] == pair.grades[0]]
        b = b[b["grade"] == pair.grades[1]]
    return a, b


def linked_rows(known: pd.DataFrame, pair: Pair) -> pd.DataFrame:
    """The forms of the pupils who answer the loneliness question in both years of ``pair``
    (``known``: completed forms that answer it, with ``pupil`` codes)."""
    import pandas as pd

    a, b = _in_pair(known, pair)
    both = set(a["pupil"]) & set(b["pupil"])
    return pd.concat([a[a["pupil"].isin(both)], b[b["pupil"].isin(both)]])


def _base_cells(reg: Registry, pair: Pair) -> dict[int, tuple[Any, Any]] | None:
    """Per year of ``pair``: the registry's (lonely, not lonely) cells the linked pupils are
    part of (the year's bins; a cohort's grade group), or None when a grade has no cell."""
    L, NL = _LONELY_BIN
    years = (pair.year0, pair.year1)
    if not pair.grades:
        return {y: (("bin", y, L), ("bin", y, NL)) for y in years}
    out = {}
    for y, g in zip(years, pair.grades, strict=True):
        match = [key for key in reg.cells if key[:3] == ("group", "grade", y)
                 and key[-1] == "n" and int(key[3]) == g]
        if not match:
            return None
        out[y] = ((*match[0][:4], L), (*match[0][:4], NL))
    return out


def add_link_cells(reg: Registry, known: pd.DataFrame) -> list[Pair]:
    """Register the linked design's counts (see the module) and the places that print them;
    returns the pairs (none without a pupil key). Call before :meth:`Registry.protect`."""
    import numpy as np

    L, NL = _LONELY_BIN
    if "class" in known.columns:
        for y, n in known.groupby("year")["class"].nunique().items():
            reg.add(("classes", int(y)), int(n), f"{int(y)}: klasser")
            reg.publish(("classes", int(y)))
    if "pupil" not in known.columns:
        return []
    found = []
    for pair in pairs(known):
        base = _base_cells(reg, pair)
        if base is None:
            continue
        rows = linked_rows(known, pair)
        n = int(rows["pupil"].nunique())
        if n == 0:
            continue
        found.append(pair)
        reg.add(("link", pair.key, "n"), n, f"{pair.label}: koblede elever")
        for y, (l_key, nl_key) in base.items():
            lonely = int(np.sum(lonely_mask(rows[rows["year"] == y])))
            for b, count, total in ((L, lonely, l_key), (NL, n - lonely, nl_key)):
                key = ("link", pair.key, y, b)
                reg.add(key, count, f"{pair.label}: koblede elever, {b.lower()} i {y}")
                rest = ("link_rest", pair.key, y, b)
                reg.add(rest, reg.value(total) - count,
                        f"{pair.label}: {b.lower()} i {y}, som ikke er koblet")
                reg.relate(total, [key, rest])
            reg.relate(("link", pair.key, "n"), [("link", pair.key, y, L),
                                                 ("link", pair.key, y, NL)])
            reg.publish(("link", pair.key, y, L))
        reg.publish(("link", pair.key, "n"))
    return found
