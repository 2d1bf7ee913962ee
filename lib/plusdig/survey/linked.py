"""Linked tables: what a reader of the published cells can work out about a suppressed one
(bounds by linear programming), and the leaks that :mod:`plusdig.sphinx.audit` reports.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
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
    (:class:`_Block`: one model per block, re-solved per bound, memoised per process).
    ``integral=False`` relaxes integrality: the relaxed range contains the integer range, so
    it can only be wider (more generous to the book); ``integral=True`` gives the exact
    integer programmes' bounds.
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
        solve = _block(np.array(a_eq).reshape(-1, len(members)), np.array(b_eq, dtype=float),
                       np.array(a_ub).reshape(-1, len(members)), np.array(b_ub, dtype=float),
                       integral)
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


#: Blocks solved in this process (:func:`_block`), most recently used last: the same block
#: (the same relations and numbers) recurs across the audit's pages, the registry's rounds of
#: secondary suppression and the tests, and its bounds are the same every time.
_BLOCKS: OrderedDict[tuple[Any, ...], _Block] = OrderedDict()
_MAX_BLOCKS = 256


def _block(a_eq: np.ndarray, b_eq: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray,
           integral: bool) -> _Block:
    """The solver of one block (memoised on its relations' exact numbers)."""
    key = (integral, a_eq.shape, a_ub.shape, a_eq.tobytes(), b_eq.tobytes(), a_ub.tobytes(),
           b_ub.tobytes())
    block = _BLOCKS.pop(key, None) or _Block(a_eq, b_eq, a_ub, b_ub, integral)
    _BLOCKS[key] = block
    while len(_BLOCKS) > _MAX_BLOCKS:
        _BLOCKS.popitem(last=False)
    return block


class _Block:
    """min c·x subject to one block's relations, 0 <= x <= CAP, for many objectives c.

    One HiGHS model per block, kept across objectives: changing the objective keeps the last
    optimal basis, so each further bound is a few simplex steps (scipy's bundled HiGHS
    bindings, ``scipy.optimize._highspy``: scipy is pinned in requirements.txt, and
    tests/test_linked_fast.py compares every bound with ``scipy.optimize.linprog``/``milp``).

    ``integral=False``: the linear programme with the relations as written (what ``linprog``
    solves). ``integral=True``: the integer programme, the equations within ``EPS`` as
    ``milp`` is given them. Its optimum is found without the integer programme where it can
    be: the linear relaxation (same rows) bounds it by ``ceil(relaxed optimum)``, and when an
    integer solution found for an earlier objective reaches that bound, it is the optimum.
    Otherwise the integer programme is solved (and its solution kept for the next ones).
    """

    def __init__(self, a_eq: np.ndarray, b_eq: np.ndarray, a_ub: np.ndarray,
                 b_ub: np.ndarray, integral: bool) -> None:
        import numpy as np

        self.n = a_eq.shape[1]
        self.integral = integral
        slack = EPS if integral else 0.0
        self.rows = (np.vstack([a_eq, a_ub]),
                     np.concatenate([b_eq - slack, np.full(len(b_ub), -np.inf)]),
                     np.concatenate([b_eq + slack, b_ub + slack]))
        self.lp = self._highs(False)
        self.mip: Any = None  # made when first needed
        self.pool: list[np.ndarray] = []  # integer solutions found
        self.known: dict[bytes, float] = {}

    def _highs(self, integer: bool) -> Any:
        import numpy as np
        from scipy.optimize._highspy import _core
        from scipy.sparse import csc_matrix

        a, lower, upper = self.rows
        matrix = csc_matrix(a)
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, a.shape[0]
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.n, a.shape[0]
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
        lp.a_matrix_.value_ = matrix.data
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_, lp.col_upper_ = np.zeros(self.n), np.full(self.n, CAP)
        lp.row_lower_, lp.row_upper_ = lower, upper
        if integer:
            lp.integrality_ = [_core.HighsVarType.kInteger] * self.n
        highs = _core._Highs()
        highs.setOptionValue("output_flag", False)
        highs.passModel(lp)
        return highs

    def _run(self, highs: Any, c: np.ndarray) -> tuple[float, np.ndarray]:
        import numpy as np
        from scipy.optimize._highspy import _core

        highs.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), c)
        highs.run()
        status = highs.getModelStatus()
        if status != _core.HighsModelStatus.kOptimal:
            raise DisclosureError("the published numbers contradict each other "
                                  f"(solver: {highs.modelStatusToString(status)})")
        return (float(highs.getInfo().objective_function_value),
                np.asarray(highs.getSolution().col_value))

    def __call__(self, c: np.ndarray) -> float:
        import numpy as np

        key = c.tobytes()
        if key not in self.known:
            value, _ = self._run(self.lp, c)
            if self.integral:
                bound = math.ceil(value - EPS)  # the integer optimum is at least this
                reached = bool(self.pool) and np.all(c == np.round(c)) and bool(
                    np.any(np.abs(np.array(self.pool) @ c - bound) <= EPS))
                if reached:
                    value = float(bound)
                else:
                    if self.mip is None:
                        self.mip = self._highs(True)
                    value, x = self._run(self.mip, c)
                    self.pool.append(np.round(x))
            self.known[key] = value
        return self.known[key]


def find_leaks(model: LinearModel, k: int, *, integral: bool = False,
               solved: tuple[dict[Any, tuple[float, float]], list[tuple[float, float]]]
               | None = None) -> list[Leak]:
    """Every unknown and every group of the model that :func:`is_protected` rejects
    (``solved``: the model's :func:`ranges`, when they are known already)."""
    return _leaks(model, *(solved or ranges(model, integral=integral)), k)


def _leaks(model: LinearModel, cells: dict[Any, tuple[float, float]],
           groups: list[tuple[float, float]], k: int) -> list[Leak]:
    leaks = [Leak(model.labels[key], key=key) for key, (lo, hi) in cells.items()
             if not is_protected(lo, hi, k) and not model.exempt(key, cells)]
    for (label, keys), (_lo, hi) in zip(model.groups, groups, strict=True):
        if math.floor(min(hi, CAP) + EPS) < k and not all(model.exempt(x, cells) for x in keys):
            leaks.append(Leak(label, group=True, key=keys))
    return leaks
