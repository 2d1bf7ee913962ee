"""Statistical disclosure control for every survey table and figure.

The survey is personal data about children. The book never publishes a count below ``k``, nor
numbers from which one can be worked out:

* **Primary suppression.** Every count below ``k`` is suppressed -- including zero, because a
  zero tells something about every member of its group ("none of the pupils in group X ...").
* **Secondary suppression over the book as a whole.** Every published count is a cell of one
  :class:`Registry`, tied to the population cell it describes, with the identities of the
  microdata between cells (a total is the sum of its parts). Further cells are suppressed,
  cheapest first, until no hidden count can be narrowed down by the published ones: for each
  hidden count the smallest and the largest value consistent with everything published are
  computed by linear programming (:func:`ranges`, HiGHS) and checked by :func:`is_protected`.
  :func:`suppress` applies the same to a single table with its totals.
* **One marker.** Every suppressed cell reads :data:`SUPPRESSED`, so the marker never tells
  that a group is small.

The threshold is :data:`DEFAULT_K` (5). The environment variable ``PLUSDIG_DISCLOSURE_K`` raises
or lowers it for a build; it must be an integer of at least :data:`MIN_K` (3). The attacker's
side -- reading only the built site -- is :mod:`plusdig.sphinx.audit`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plusdig.core.errors import DataValidationError
from plusdig.survey.linked import (
    EPS,
    DisclosureError,
    LinearModel,
    _leaks,
    find_leaks,
    is_protected,
    ranges,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_K", "MIN_K", "ENV_VAR", "PRIMARY", "SECONDARY", "threshold", "Suppressed",
    "suppress", "marker", "FOOTNOTE", "Registry",
]


#: Default minimum number of respondents behind any published cell.
DEFAULT_K = 5
#: The threshold may never be set lower than this.
MIN_K = 3
#: Environment variable that overrides :data:`DEFAULT_K` for a build.
ENV_VAR = "PLUSDIG_DISCLOSURE_K"

#: Status codes of a cell.
SHOWN, PRIMARY, SECONDARY = 0, 1, 2

#: How every suppressed cell reads, whatever the reason: one marker, so that a reader cannot
#: tell a small group (primary) from a cell hidden to protect one (secondary).
SUPPRESSED = "–"
#: Danish footnote under every table with suppressed cells; ``{k}`` is the threshold.
FOOTNOTE = ("»–«: undertrykt. Tallet bygger på færre end {k} besvarelser, eller det er skjult, "
            "så et lille tal ikke kan regnes ud af de andre tal i bogen.")


def threshold(k: int | str | None = None) -> int:
    """The disclosure threshold: ``k`` if given, else ``$PLUSDIG_DISCLOSURE_K``, else 5.

    Raises :class:`DataValidationError` unless the value is an integer of at least 3.
    """
    source = "argument k"
    if k is None:
        env = os.environ.get(ENV_VAR)
        if env is None or env.strip() == "":
            return DEFAULT_K
        k, source = env.strip(), f"environment variable {ENV_VAR}"
    try:
        if isinstance(k, bool):
            raise ValueError
        value = int(k)
        if isinstance(k, float) and k != value:
            raise ValueError
    except (TypeError, ValueError):
        raise DataValidationError(source, f"{k!r} is not an integer",
                                  expected=f"an integer >= {MIN_K}") from None
    if value < MIN_K:
        raise DataValidationError(source, f"disclosure threshold {value} is below the minimum",
                                  expected=f"an integer >= {MIN_K}")
    return value


def marker(k: int) -> str:
    """How a suppressed cell reads in a table: :data:`SUPPRESSED` for every ``k``.

    Primary and secondary suppressions read the same, so the marker itself never tells that a
    group is below ``k`` (``k`` is kept in the signature for the callers' clarity)."""
    del k
    return SUPPRESSED


@dataclass(frozen=True)
class Suppressed:
    """A count table with its totals and the suppression status of every cell.

    ``values`` is the bordered table: the interior counts, plus a total column ``total_label``
    (if ``row_totals``) and a total row (if ``col_totals``). ``status`` has the same shape and
    holds :data:`SHOWN`, :data:`PRIMARY` or :data:`SECONDARY`.
    """

    values: pd.DataFrame
    status: pd.DataFrame
    k: int
    row_totals: bool
    col_totals: bool

    @property
    def mask(self) -> pd.DataFrame:
        """True where a cell is suppressed (either kind)."""
        return self.status != SHOWN

    def safe(self) -> pd.DataFrame:
        """The bordered table with every suppressed cell replaced by NaN (safe to publish)."""
        return self.values.astype("float64").mask(self.mask)

    @property
    def n_primary(self) -> int:
        return int((self.status == PRIMARY).to_numpy().sum())

    @property
    def n_secondary(self) -> int:
        return int((self.status == SECONDARY).to_numpy().sum())


def suppress(counts: pd.DataFrame, k: int | None = None, *, row_totals: bool = True,
             col_totals: bool = True, total_label: str = "I alt",
             known_row_totals: bool = False, known_col_totals: bool = False) -> Suppressed:
    """Apply primary and secondary suppression to a table of counts.

    ``counts`` holds the interior cells (non-negative integers). The published table is
    assumed to show a total per row (``row_totals``) and/or per column (``col_totals``); the
    totals are added here and take part in the suppression. Totals that another published
    table shows anyway (``known_row_totals``: the total column; ``known_col_totals``: the total
    row) are never chosen as secondary suppressions, since hiding them here would protect
    nothing; they are still suppressed when they are themselves below k.
    """
    import numpy as np
    import pandas as pd

    k = threshold(k)
    interior = counts.to_numpy(dtype="int64", copy=True)
    if interior.ndim != 2:
        raise ValueError("counts must be a 2-D table")
    if (interior < 0).any():
        raise ValueError("counts must be non-negative")
    n_rows, n_cols = interior.shape
    table = interior
    index = list(counts.index)
    columns = list(counts.columns)
    if row_totals:
        table = np.column_stack([table, table.sum(axis=1)])
        columns.append(total_label)
    if col_totals:
        table = np.vstack([table, table.sum(axis=0, keepdims=True)])
        index.append(total_label)
    reg = Registry(k)
    for i, j in np.ndindex(table.shape):
        reg.add((i, j), int(table[i, j]), f"{index[i]}, {columns[j]}")
        known = (row_totals and known_row_totals and j == n_cols) or \
                (col_totals and known_col_totals and i == n_rows)
        reg.publish((i, j), fixed=known)
    rows, cols = table.shape
    if row_totals:
        for i in range(rows):
            reg.relate((i, n_cols), [(i, j) for j in range(n_cols)])
    if col_totals:
        for j in range(cols):
            reg.relate((n_rows, j), [(i, j) for i in range(n_rows)])
    reg.protect()
    status = np.array([[reg.status((i, j)) for j in range(cols)] for i in range(rows)],
                      dtype="int8")
    values = pd.DataFrame(table, index=index, columns=columns)
    stat = pd.DataFrame(status, index=index, columns=columns)
    for frame in (values, stat):
        frame.index.name = counts.index.name
        frame.columns.name = counts.columns.name
    return Suppressed(values, stat, k, row_totals, col_totals)


@dataclass
class _Cell:
    value: int
    label: str
    places: int = 0
    status: int = SHOWN
    fixed: bool = False  # shown by something outside the registry: never a secondary
    #: False for a count of unanswered questions (item non-response): it says nothing about
    #: an answer, so it is never suppressed for being small, nor counted as a leak
    sensitive: bool = True


class Registry:
    """Every survey count the book publishes, tied to the population cell it describes.

    A cell is a count of respondents (a year, a breakdown, an answer), registered once under a
    key however many tables show it, so it has one status for the whole book: a number hidden
    in one table is hidden in every table, figure and sentence. Relations are the identities of
    the microdata (a total is the sum of its parts) that tie the tables together. A cell that is
    never shown itself (the pupils in a group who are not lonely, say) is still a cell: it is
    derivable from the cells that are shown, so it is protected like the others.

    :meth:`protect` hides every cell below ``k`` (primary suppression) and then as few further
    cells as it can (secondary suppression, cheapest first: a count costs its value times the
    number of places showing it) until :func:`find_leaks` finds nothing for the book as a whole.
    """

    def __init__(self, k: int) -> None:
        self.k = k
        self.cells: dict[Any, _Cell] = {}
        self.relations: list[tuple[Any, tuple[Any, ...]]] = []
        self._by_cell: dict[Any, list[int]] = {}

    def add(self, key: Any, value: int, label: str, *, sensitive: bool = True) -> None:
        """Register a population cell (again: the same value is required). ``sensitive=False``
        for a count of unanswered questions: it is never suppressed for being small and never
        a leak (it is fixed: shown wherever it is published), but it takes part in the
        relations, so it cannot help a reader derive a hidden answer."""
        value = int(value)
        if value < 0:
            raise ValueError(f"count {label!r} is negative")
        if key in self.cells:
            if self.cells[key].value != value:
                raise ValueError(f"cell {label!r} registered with two different counts")
            return
        self.cells[key] = _Cell(value, label, fixed=not sensitive, sensitive=sensitive)

    def relate(self, total: Any, parts: list[Any]) -> None:
        """``total`` is the sum of ``parts`` in the microdata (checked)."""
        if sum(self.cells[p].value for p in parts) != self.cells[total].value:
            raise ValueError(f"{self.cells[total].label!r} is not the sum of its parts")
        i = len(self.relations)
        self.relations.append((total, tuple(parts)))
        for key in (total, *parts):
            self._by_cell.setdefault(key, []).append(i)

    def publish(self, *keys: Any, fixed: bool = False) -> None:
        """One more place in the book shows these cells (when they are not suppressed).

        ``fixed``: the cell is published elsewhere anyway, so hiding it would protect nothing;
        it is never chosen as a secondary suppression (it is still hidden if below k)."""
        for key in keys:
            self.cells[key].places += 1
            self.cells[key].fixed = self.cells[key].fixed or fixed

    def value(self, key: Any) -> int:
        return self.cells[key].value

    def status(self, key: Any) -> int:
        return self.cells[key].status

    def shown(self, *keys: Any) -> bool:
        """True when every one of ``keys`` may be published."""
        return all(self.cells[key].status == SHOWN for key in keys)

    def _known(self, key: Any) -> bool:
        cell = self.cells[key]
        return cell.places > 0 and cell.status == SHOWN

    def _hideable(self, key: Any) -> bool:
        return self._known(key) and not self.cells[key].fixed

    def model(self) -> LinearModel:
        """The reader's knowledge: the shown counts and every relation between cells."""
        model = LinearModel(known={key: float(c.value) for key, c in self.cells.items()
                                   if c.places and c.status == SHOWN},
                            insensitive={key for key, c in self.cells.items() if not c.sensitive})
        for key, cell in self.cells.items():
            model.label(key, cell.label)
        for total, parts in self.relations:
            model.equal({total: -1.0, **{p: 1.0 for p in parts}})
        return model

    def _cost(self, key: Any) -> float:
        cell = self.cells[key]
        return float(cell.value + 1) * cell.places

    def _neighbourhood(self, start: Any, rings: int | None = None
                       ) -> tuple[list[int], dict[Any, int]]:
        """The relations reachable from ``start`` through hidden cells, and every shown cell
        met on the way with the number of relations crossed to reach it (``rings`` at most)."""
        relations: list[int] = []
        shown: dict[Any, int] = {}
        seen_rel: set[int] = set()
        seen = {start}
        frontier, ring = [start], 1
        while frontier and (rings is None or ring <= rings):
            nxt = []
            for key in frontier:
                for r in self._by_cell.get(key, []):
                    if r in seen_rel:
                        continue
                    seen_rel.add(r)
                    relations.append(r)
                    total, parts = self.relations[r]
                    for other in (total, *parts):
                        if self._hideable(other):
                            shown.setdefault(other, ring)
                        elif not self._known(other) and other not in seen:
                            seen.add(other)
                            nxt.append(other)
            frontier, ring = nxt, ring + 1
        return relations, shown

    def _protected(self, key: Any) -> bool:
        """Whether ``key`` passes :func:`is_protected` given the current statuses."""
        relations, _ = self._neighbourhood(key)
        model = self._model_of(relations)
        if key not in model.unknowns or not self.cells[key].sensitive:
            return True  # in no relation (nothing derives it), or no answer
        cells, _ = ranges(model, targets=[key])
        return is_protected(*cells[key], self.k)

    def _fix(self, key: Any) -> None:
        """Hide the cheapest shown cell near ``key`` that protects it; failing that, the
        cheapest in a relation with it (the next round looks again)."""
        _, near = self._neighbourhood(key, rings=3)
        if not near:
            raise DisclosureError(
                f"{self.cells[key].label}: cannot be protected without hiding a number that is "
                "published elsewhere; protect the linked tables together in one Registry")
        order = sorted(near, key=lambda c: (self._cost(c), near[c], str(c)))
        for pick in order[:40]:
            self.cells[pick].status = SECONDARY
            if self._protected(key):
                return
            self.cells[pick].status = SHOWN
        first = [c for c in order if near[c] == 1] or order
        self.cells[first[0]].status = SECONDARY

    def _model_of(self, relations: list[int]) -> LinearModel:
        model = LinearModel()
        for r in relations:
            total, parts = self.relations[r]
            for m in (total, *parts):
                if self._known(m):
                    model.known[m] = float(self.cells[m].value)
                model.label(m, self.cells[m].label)
            model.equal({total: -1.0, **{p: 1.0 for p in parts}})
        return model

    def protect(self) -> None:
        """Primary, then secondary suppression until no leak remains. Raises
        :class:`DisclosureError` if even hiding every related cell cannot protect one."""
        for cell in self.cells.values():
            if cell.value < self.k and cell.sensitive:
                cell.status = PRIMARY
        changed = True
        while changed:  # fast first pass: a relation with a single unknown fixes it
            changed = False
            for total, parts in self.relations:
                members = (total, *parts)
                unknown = [m for m in members if not self._known(m)]
                if len(unknown) == 1 and self.cells[unknown[0]].value < self.k \
                        and self.cells[unknown[0]].sensitive:
                    shown = [m for m in members if self._hideable(m)]
                    if shown:
                        pick = min(shown, key=lambda c: (self._cost(c), str(c)))
                        self.cells[pick].status = SECONDARY
                        changed = True
        for _ in range(len(self.cells) + 1):
            model = self.model()
            cells, groups = ranges(model)
            leaks = _leaks(model, cells, groups, self.k)
            if not leaks:
                self._show_derivable(cells)
                return
            for leak in leaks:
                if not self._protected(leak.key):
                    self._fix(leak.key)
        raise DisclosureError("secondary suppression did not converge")

    def _show_derivable(self, cells: dict[Any, tuple[float, float]]) -> None:
        """Show again every secondary suppression the published numbers pin down anyway (its
        range in ``cells`` is one value): it protects nothing, and showing it tells the reader
        nothing new."""
        pinned = [key for key, (lo, hi) in cells.items()
                  if self.cells[key].status == SECONDARY and hi - lo < EPS]
        for key in pinned:
            self.cells[key].status = SHOWN
        if pinned and find_leaks(self.model(), self.k):  # cannot happen: nothing new is shown
            raise DisclosureError("showing derivable cells exposed a hidden one")

    def counts(self, keys: list[Any]) -> tuple[int, int]:
        """(primary, secondary) suppressions among the published ``keys`` (one table)."""
        sts = [self.cells[key].status for key in dict.fromkeys(keys) if self.cells[key].places]
        return sts.count(PRIMARY), sts.count(SECONDARY)
