"""The audit's bounds (plusdig.survey.linked.ranges) are what scipy's linprog and milp give.

``ranges`` keeps one HiGHS model per block of unknowns across its bounds, memoises blocks
within a process, and for the integer programmes accepts the linear relaxation's rounded bound
when an integer solution found before reaches it. Here every bound of the audit's fixtures
and of random tables is recomputed with the plain reference: a fresh ``scipy.optimize.linprog``
(relaxed) or ``scipy.optimize.milp`` (integer) per bound, on the same blocks.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from fixtures import disclosure_fixtures as dfx
from fixtures import survey_fixtures as sf
from test_audit import K, _page, _typed

from plusdig.sphinx import audit_model
from plusdig.survey import linked
from plusdig.survey import registry as survey_registry
from plusdig.survey import tables as survey_tables


def _reference(a_eq, b_eq, a_ub, b_ub, integral):
    """min c·x over the block, one fresh HiGHS run per objective (linprog / milp)."""
    from scipy.optimize import LinearConstraint, linprog, milp

    n = a_eq.shape[1]

    def solve(c):
        if integral:
            cons = []
            if len(b_eq):
                cons.append(LinearConstraint(a_eq, b_eq - linked.EPS, b_eq + linked.EPS))
            if len(b_ub):
                cons.append(LinearConstraint(a_ub, -np.inf, b_ub + linked.EPS))
            res = milp(c, constraints=cons, integrality=np.ones(n),
                       bounds=(np.zeros(n), np.full(n, linked.CAP)))
        else:
            res = linprog(c, A_ub=a_ub if len(b_ub) else None, b_ub=b_ub if len(b_ub) else None,
                          A_eq=a_eq if len(b_eq) else None, b_eq=b_eq if len(b_eq) else None,
                          bounds=(0, linked.CAP), method="highs")
        if res.status != 0:
            raise linked.DisclosureError(f"reference: solver status {res.status}")
        return float(res.fun)

    return solve


def _both(model, integral, monkeypatch):
    linked._BLOCKS.clear()
    fast = linked.ranges(model, integral=integral)
    with monkeypatch.context() as m:
        m.setattr(linked, "_block", _reference)
        slow = linked.ranges(model, integral=integral)
    return fast, slow


def _assert_same(fast, slow):
    (cells, groups), (ref_cells, ref_groups) = fast, slow
    assert cells.keys() == ref_cells.keys()
    for key, (lo, hi) in ref_cells.items():
        assert cells[key] == pytest.approx((lo, hi), abs=1e-6, rel=1e-9), key
    assert len(groups) == len(ref_groups)
    for g, ref in zip(groups, ref_groups, strict=True):
        assert g == pytest.approx(ref, abs=1e-6, rel=1e-9)


def _page_model(frame, k=K):
    """The attacker's model of the chapter page of ``frame`` (as in test_audit)."""
    typed = _typed(frame)
    tables, prose = audit_model.read_tables(_page(survey_tables.run_pipeline(typed, k=k)))
    return audit_model.attacker_model(tables, prose)[0]


@pytest.fixture(scope="module")
def small_model():
    """The audit's small-groups fixture (every breakdown has groups below k)."""
    typed = _typed(dfx.small_groups_frame())
    reg = survey_registry.build_registry(typed, K)
    page = _page(survey_tables.tables_from_registry(reg, typed, None, False))
    tables, prose = audit_model.read_tables(page)
    return audit_model.attacker_model(tables, prose)[0]


@pytest.mark.parametrize("integral", [False, True], ids=["relaxed", "integer"])
def test_the_small_groups_page_bounds_equal_linprog_and_milp(small_model, integral, monkeypatch):
    fast, slow = _both(small_model, integral, monkeypatch)
    _assert_same(fast, slow)
    assert len(fast[0]) > 200 and len(fast[1]) > 30


def test_a_random_delivery_bounds_equal_milp(monkeypatch):
    model = _page_model(sf.text_frame(0.05, 2))
    fast, slow = _both(model, True, monkeypatch)
    _assert_same(fast, slow)
    # the shortcut did its work: fewer integer programmes than bounds in the largest block
    block = max(linked._BLOCKS.values(), key=lambda b: b.n)
    assert 0 < len(block.pool) < len(block.known) / 2


def _random_table_model(seed: int) -> linked.LinearModel:
    """A random table of counts with published margins and grand total, some cells hidden,
    and rounded shares printed for some hidden cells (so the rows are not totally unimodular)."""
    rng = random.Random(seed)
    rows, cols = rng.randint(2, 6), rng.randint(2, 6)
    cell = {(i, j): rng.choice([0, 1, 2, 3, rng.randint(4, 40)]) for i in range(rows)
            for j in range(cols)}
    model = linked.LinearModel()
    for (i, j), value in cell.items():
        model.label((i, j), f"celle {i},{j}")
        if rng.random() < 0.45:
            model.known[(i, j)] = float(value)
    for i in range(rows):
        model.known[("row", i)] = float(sum(cell[(i, j)] for j in range(cols)))
        model.equal({("row", i): -1.0, **{(i, j): 1.0 for j in range(cols)}})
    for j in range(cols):
        model.known[("col", j)] = float(sum(cell[(i, j)] for i in range(rows)))
        model.equal({("col", j): -1.0, **{(i, j): 1.0 for i in range(rows)}})
    for (i, j), value in cell.items():
        total = sum(cell[(i, jj)] for jj in range(cols))
        if (i, j) not in model.known and total and rng.random() < 0.4:
            share = round(100 * value / total, rng.choice([0, 1]))  # a printed "21 %"
            half = 0.5 * 10 ** -(2 + (share != int(share)))
            lo, hi = max(0.0, share / 100 - half), min(1.0, share / 100 + half)
            model.at_most({(i, j): 1.0, ("row", i): -hi})
            model.at_most({(i, j): -1.0, ("row", i): lo})
    hidden = [key for key in cell if key not in model.known]
    if len(hidden) > 1:
        model.group("de skjulte celler", hidden[:3])
    return model


@pytest.mark.parametrize("seed", range(12))
def test_random_tables_bounds_equal_linprog_and_milp(seed, monkeypatch):
    model = _random_table_model(seed)
    for integral in (False, True):
        _assert_same(*_both(model, integral, monkeypatch))


def test_identical_blocks_are_solved_once_per_process(small_model):
    linked._BLOCKS.clear()
    first = linked.ranges(small_model, integral=True)
    blocks = {id(b): len(b.known) for b in linked._BLOCKS.values()}
    again = linked.ranges(small_model, integral=True)
    assert again == first
    assert {id(b): len(b.known) for b in linked._BLOCKS.values()} == blocks  # nothing new


def test_contradicting_numbers_still_raise():
    model = linked.LinearModel()
    model.known.update({"total": 3.0})
    model.equal({"total": -1.0, "a": 1.0, "b": 1.0})
    model.at_most({"a": -1.0}, -2.5)
    model.at_most({"b": -1.0}, -1.0)
    for integral in (False, True):
        linked._BLOCKS.clear()
        with pytest.raises(linked.DisclosureError):
            linked.ranges(model, integral=integral)
    model.inequalities[-1] = ({"b": -1.0}, -0.5)  # feasible as reals (a 2.5, b 0.5) only
    linked._BLOCKS.clear()
    cells, _ = linked.ranges(model)
    assert cells["a"] == pytest.approx((2.5, 2.5)) and cells["b"] == pytest.approx((0.5, 0.5))
    with pytest.raises(linked.DisclosureError):
        linked.ranges(model, integral=True)
    assert math.isfinite(cells["a"][0])
