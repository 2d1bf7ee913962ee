"""Linked tables: what a reader of the published cells can work out about a suppressed one
(bounds by linear programming), and the leaks that :mod:`plusdig.sphinx.audit` reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DisclosureError", "Leak", "is_protected", "LinearModel", "ranges", "find_leaks"]


# --------------------------------------------------------------------------- linked tables
class DisclosureError(ValueError):
    """The book would publish numbers from which a group below the threshold follows."""


#: Every unknown count is bounded by this (no survey count comes near it); a range reaching it
#: counts as unbounded. It keeps every linear programme bounded.
CAP = 1e7
#: Numerical slack of the solver's answers.
EPS = 1e-6


@dataclass(frozen=True)
class Leak:
    """A hidden number (or a sum of hidden numbers) that the published numbers pin down.

    ``where`` names the table and the cell (or the group), never a respondent, and the numbers
    themselves are deliberately not part of the report (a build log is published too).
    """

    where: str
    group: bool = False
    key: Any = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        what = "gruppen" if self.group else "cellen"
        return f"{self.where}: {what} kan regnes ud af de offentliggjorte tal"


def is_protected(low: float, high: float, k: int) -> bool:
    """The protection rule for a hidden count with feasible range ``[low, high]``.

    The range is rounded inward to integers. A hidden count is protected when the published
    numbers prove it is at least ``k`` (then it is not a small group), or when they leave at
    least ``k + 1`` possible values open (``high - low >= k``), which always includes a value of
    at least ``k``: the reader can never tell a small group from one of ``k`` or more.
    """
    lo = math.ceil(low - EPS)
    hi = math.floor(min(high, CAP) + EPS)
    return lo >= k or hi - lo >= k


@dataclass
class LinearModel:
    """What a reader knows: unknown non-negative counts tied by linear relations.

    ``known`` holds the published counts; terms on known keys are moved to the right-hand side
    as relations are added, so only unknowns remain. ``labels`` name the unknowns for a report.
    """

    known: dict[Any, float] = field(default_factory=dict)
    labels: dict[Any, str] = field(default_factory=dict)
    equations: list[tuple[dict[Any, float], float]] = field(default_factory=list)
    inequalities: list[tuple[dict[Any, float], float]] = field(default_factory=list)
    groups: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    #: Counts that are no answer to a question (how many left a question unanswered): they
    #: take part in the relations but are never a leak themselves.
    insensitive: set[Any] = field(default_factory=set)
    #: A cell -> the count of the group its answer belongs to (an insensitive count). A cell of
    #: a group the published numbers prove empty is nobody's answer, so never a leak.
    group_of: dict[Any, Any] = field(default_factory=dict)

    def exempt(self, key: Any, cells: Mapping[Any, tuple[float, float]]) -> bool:
        """Whether ``key`` is never a leak: no answer, or an answer of a group that the ranges
        ``cells`` (or the published counts) prove has nobody in it."""
        if key in self.insensitive:
            return True
        total = self.group_of.get(key)
        if total is None:
            return False
        high = self.known[total] if total in self.known else cells.get(total, (0.0, CAP))[1]
        return math.floor(min(high, CAP) + EPS) <= 0

    def label(self, key: Any, text: str) -> None:
        """Name ``key`` in reports (the first name given wins)."""
        self.labels.setdefault(key, text)

    def _split(self, terms: Mapping[Any, float], rhs: float) -> tuple[dict[Any, float], float]:
        out: dict[Any, float] = {}
        for key, coef in terms.items():
            if key in self.known:
                rhs -= coef * self.known[key]
            elif coef:
                out[key] = out.get(key, 0.0) + coef
                self.labels.setdefault(key, str(key))
        return out, rhs

    def equal(self, terms: Mapping[Any, float], rhs: float = 0.0) -> None:
        """Add ``sum(coef * x) == rhs``."""
        unknown, rhs = self._split(terms, rhs)
        if unknown:
            self.equations.append((unknown, rhs))

    def at_most(self, terms: Mapping[Any, float], rhs: float = 0.0) -> None:
        """Add ``sum(coef * x) <= rhs``."""
        unknown, rhs = self._split(terms, rhs)
        if unknown:
            self.inequalities.append((unknown, rhs))

    def group(self, label: str, keys: list[Any]) -> None:
        """Check the range of the sum of these unknowns too (a derivable group)."""
        unknown = tuple(k for k in keys if k not in self.known)
        if len(unknown) > 1:
            self.groups.append((label, unknown))

    @property
    def unknowns(self) -> list[Any]:
        seen: dict[Any, None] = {}
        for rows in (self.equations, self.inequalities):
            for terms, _ in rows:
                seen.update(dict.fromkeys(terms))
        return list(seen)


def ranges(model: LinearModel, *, integral: bool = False, targets: list[Any] | None = None
           ) -> tuple[dict[Any, tuple[float, float]], list[tuple[float, float]]]:
    """The smallest and largest value of every unknown, and of every group's sum.

    Each connected block of unknowns is one linear programme solved with HiGHS
    (``scipy.optimize.linprog``), once per bound. ``integral=False`` relaxes integrality: the
    relaxed range contains the integer range, so it can only be wider (more generous to the
    book); ``integral=True`` solves the exact integer programmes (``scipy.optimize.milp``).
    ``targets`` limits the work to these unknowns (and their blocks).
    Raises :class:`DisclosureError` when the relations contradict each other.
    """
    import numpy as np

    derived, equations, inequalities = _propagate(model)
    keys = list(dict.fromkeys(key for terms, _ in equations + inequalities for key in terms))
    index = {key: i for i, key in enumerate(keys)}
    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows = [(t, r, True) for t, r in equations] + [(t, r, False) for t, r in inequalities]
    for terms, _, _ in rows:
        ids = [index[key] for key in terms]
        for other in ids[1:]:
            parent[find(other)] = find(ids[0])
    blocks: dict[int, list[int]] = {}
    for i in range(len(keys)):
        blocks.setdefault(find(i), []).append(i)
    block_rows: dict[int, list[tuple[dict[Any, float], float, bool]]] = {}
    for row in rows:
        block_rows.setdefault(find(index[next(iter(row[0]))]), []).append(row)

    out: dict[Any, tuple[float, float]] = {key: (v, v) for key, v in derived.items()}
    partial: dict[tuple[int, int], tuple[float, float]] = {}
    group_ids = [[index[key] for key in keys_ if key in index] for _, keys_ in model.groups]
    fixed = [sum(derived.get(key, 0.0) for key in keys_) for _, keys_ in model.groups]
    wanted = None if targets is None else {find(index[t]) for t in targets if t in index}
    for root, members in blocks.items():
        if wanted is not None and root not in wanted:
            continue
        local = {i: p for p, i in enumerate(members)}
        a_eq, b_eq, a_ub, b_ub = [], [], [], []
        for terms, rhs, is_eq in block_rows.get(root, []):
            row = np.zeros(len(members))
            for key, coef in terms.items():
                row[local[index[key]]] += coef
            (a_eq if is_eq else a_ub).append(row)
            (b_eq if is_eq else b_ub).append(rhs)
        solve = _solver(np.array(a_eq).reshape(-1, len(members)), np.array(b_eq),
                        np.array(a_ub).reshape(-1, len(members)), np.array(b_ub), integral)
        for i in members:
            if targets is not None and keys[i] not in targets:
                continue
            c = np.zeros(len(members))
            c[local[i]] = 1.0
            out[keys[i]] = (solve(c), -solve(-c))
        for g, ids in enumerate(group_ids):
            mine = [local[i] for i in ids if i in local]
            if mine:  # a group spread over blocks: its range is the sum of the blocks' ranges
                c = np.zeros(len(members))
                c[mine] = 1.0
                partial[(g, root)] = (solve(c), -solve(-c))
    group_ranges = []
    for g in range(len(model.groups)):
        parts = [v for (gg, _), v in partial.items() if gg == g]
        group_ranges.append((fixed[g] + sum(p[0] for p in parts),
                             fixed[g] + sum(p[1] for p in parts)))
    free = [key for key in model.unknowns if key not in out]
    out.update({key: (0.0, CAP) for key in free})  # only in relations that bind nothing
    return out, group_ranges


def _propagate(model: LinearModel) -> tuple[dict[Any, float], list[tuple[dict[Any, float], float]],
                                            list[tuple[dict[Any, float], float]]]:
    """Solve every equation with a single unknown, repeatedly (exact, and it leaves the linear
    programmes only the blocks of genuinely hidden cells). Returns the derived values and the
    remaining equations and inequalities with them substituted."""
    derived: dict[Any, float] = {}
    by_key: dict[Any, list[int]] = {}
    for i, (terms, _) in enumerate(model.equations):
        for key in terms:
            by_key.setdefault(key, []).append(i)
    remaining = [len(terms) for terms, _ in model.equations]  # unknowns not yet derived
    rhs_left = [rhs for _, rhs in model.equations]  # rhs minus the derived terms
    todo = [i for i, n in enumerate(remaining) if n == 1]
    while todo:
        i = todo.pop()
        if remaining[i] != 1:
            continue
        terms = model.equations[i][0]
        key = next(x for x in terms if x not in derived)
        value = rhs_left[i] / terms[key]
        if value < -EPS:
            raise DisclosureError("the published numbers contradict each other "
                                  f"({model.labels.get(key, key)} would be negative)")
        derived[key] = max(value, 0.0)
        for j in by_key[key]:
            remaining[j] -= 1
            rhs_left[j] -= model.equations[j][0][key] * derived[key]
            if remaining[j] == 1:
                todo.append(j)

    def substitute(rows: list[tuple[dict[Any, float], float]], equal: bool
                   ) -> list[tuple[dict[Any, float], float]]:
        out = []
        for terms, rhs in rows:
            rest = {x: c for x, c in terms.items() if x not in derived}
            rhs = rhs - sum(c * derived[x] for x, c in terms.items() if x in derived)
            if rest:
                out.append((rest, rhs))
            elif (abs(rhs) > 1e-4) if equal else (rhs < -1e-4):
                raise DisclosureError("the published numbers contradict each other")
        return out

    return (derived, substitute(model.equations, True), substitute(model.inequalities, False))


def _solver(a_eq: np.ndarray, b_eq: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray,
            integral: bool) -> Callable[[np.ndarray], float]:
    """min c·x subject to the block's relations, 0 <= x <= CAP (HiGHS)."""
    import numpy as np
    from scipy.optimize import LinearConstraint, linprog, milp

    n = a_eq.shape[1]

    def solve(c: np.ndarray) -> float:
        if integral:
            cons = []
            if len(b_eq):
                cons.append(LinearConstraint(a_eq, b_eq - EPS, b_eq + EPS))
            if len(b_ub):
                cons.append(LinearConstraint(a_ub, -np.inf, b_ub + EPS))
            res = milp(c, constraints=cons, integrality=np.ones(n),
                       bounds=(np.zeros(n), np.full(n, CAP)))
        else:
            res = linprog(c, A_ub=a_ub if len(b_ub) else None, b_ub=b_ub if len(b_ub) else None,
                          A_eq=a_eq if len(b_eq) else None, b_eq=b_eq if len(b_eq) else None,
                          bounds=(0, CAP), method="highs")
        if res.status != 0 or res.fun is None:
            raise DisclosureError(f"the published numbers contradict each other "
                                  f"(solver status {res.status}: {res.message})")
        return float(res.fun)

    return solve


def find_leaks(model: LinearModel, k: int, *, integral: bool = False) -> list[Leak]:
    """Every unknown and every group of the model that :func:`is_protected` rejects."""
    return _leaks(model, *ranges(model, integral=integral), k)


def _leaks(model: LinearModel, cells: dict[Any, tuple[float, float]],
           groups: list[tuple[float, float]], k: int) -> list[Leak]:
    leaks = [Leak(model.labels[key], key=key) for key, (lo, hi) in cells.items()
             if not is_protected(lo, hi, k) and not model.exempt(key, cells)]
    for (label, keys), (_lo, hi) in zip(model.groups, groups, strict=True):
        if math.floor(min(hi, CAP) + EPS) < k and not all(model.exempt(x, cells) for x in keys):
            leaks.append(Leak(label, group=True, key=keys))
    return leaks
