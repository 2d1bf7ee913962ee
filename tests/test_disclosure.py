"""Disclosure control: threshold, primary and secondary suppression.

The secondary-suppression tests use an independent oracle: linear algebra on the table's
total constraints decides whether any suppressed cell is fixed by the shown cells and totals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plusdig.survey import linked as survey_linked
from plusdig.survey import disclosure
from plusdig.survey.disclosure import PRIMARY, SECONDARY, SHOWN, suppress, threshold
from plusdig.core.errors import DataValidationError


def recoverable(result: disclosure.Suppressed) -> list[tuple[int, int]]:
    """Suppressed cells whose value follows from the shown cells and the totals (oracle)."""
    table = result.values.to_numpy(dtype=float)
    mask = result.mask.to_numpy()
    n_r, n_c = table.shape
    cells = [(i, j) for i in range(n_r) for j in range(n_c) if mask[i, j]]
    if not cells:
        return []
    pos = {c: p for p, c in enumerate(cells)}
    rows = []
    # row constraints: interior cells of row i sum to the row's total cell
    if result.row_totals:
        for i in range(n_r):
            coeff = np.zeros(len(cells))
            for j in range(n_c):
                if (i, j) in pos:
                    coeff[pos[(i, j)]] += -1.0 if j == n_c - 1 else 1.0
            rows.append(coeff)
    if result.col_totals:
        for j in range(n_c):
            coeff = np.zeros(len(cells))
            for i in range(n_r):
                if (i, j) in pos:
                    coeff[pos[(i, j)]] += -1.0 if i == n_r - 1 else 1.0
            rows.append(coeff)
    if not rows:
        return []
    a = np.array(rows)
    # null space of a: directions in which the suppressed cells can move unnoticed
    _, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]
    out = []
    for c, p in pos.items():
        if null.shape[0] == 0 or np.allclose(null[:, p], 0.0, atol=1e-9):
            out.append(c)
    return out


def frame(data: list[list[int]]) -> pd.DataFrame:
    return pd.DataFrame(data, index=[f"r{i}" for i in range(len(data))],
                        columns=[f"c{j}" for j in range(len(data[0]))])


# --------------------------------------------------------------------------- threshold
def test_default_threshold_is_five(monkeypatch):
    monkeypatch.delenv(disclosure.ENV_VAR, raising=False)
    assert disclosure.DEFAULT_K == 5
    assert threshold() == 5


def test_threshold_from_environment(monkeypatch):
    monkeypatch.setenv(disclosure.ENV_VAR, "10")
    assert threshold() == 10
    assert threshold(4) == 4  # an explicit argument wins


@pytest.mark.parametrize("bad", ["2", "0", "-5", "fem", "4.5", ""])
def test_threshold_rejects_bad_environment(monkeypatch, bad):
    monkeypatch.setenv(disclosure.ENV_VAR, bad)
    if bad == "":
        assert threshold() == 5  # empty means unset
        return
    with pytest.raises(DataValidationError) as err:
        threshold()
    assert disclosure.ENV_VAR in str(err.value)
    assert ">= 3" in str(err.value)


@pytest.mark.parametrize("bad", [2, 1, True, 3.5])
def test_threshold_never_below_three(bad):
    with pytest.raises(DataValidationError):
        threshold(bad)


# --------------------------------------------------------------------------- primary
def test_primary_suppresses_small_and_zero_cells():
    res = suppress(frame([[10, 3], [0, 20]]), 5, row_totals=False, col_totals=False)
    st = res.status.to_numpy()
    assert st.tolist() == [[SHOWN, PRIMARY], [PRIMARY, SHOWN]]
    assert res.n_primary == 2 and res.n_secondary == 0
    safe = res.safe()
    assert np.isnan(safe.iloc[0, 1]) and np.isnan(safe.iloc[1, 0])
    assert safe.iloc[0, 0] == 10


def test_threshold_changes_primary():
    res3 = suppress(frame([[4, 30]]), 3, row_totals=False, col_totals=False)
    res5 = suppress(frame([[4, 30]]), 5, row_totals=False, col_totals=False)
    assert res3.n_primary == 0
    assert res5.n_primary == 1


# --------------------------------------------------------------------------- secondary
def test_one_small_group_in_a_row_with_a_total():
    """A row with one small cell and a row total: one more cell in that row must go."""
    res = suppress(frame([[3, 40, 50]]), 5, row_totals=True, col_totals=False)
    st = res.status.to_numpy()
    assert st[0, 0] == PRIMARY
    assert (st[0] == SECONDARY).sum() == 1
    assert st[0, 1] == SECONDARY  # the smallest other cell, not the total
    assert st[0, 3] == SHOWN
    assert recoverable(res) == []


def test_small_group_in_a_table_with_both_totals():
    counts = frame([[3, 40, 50], [30, 41, 52], [33, 60, 70]])
    res = suppress(counts, 5)
    assert res.values.loc["I alt", "I alt"] == counts.to_numpy().sum()
    assert res.status.iloc[0, 0] == PRIMARY
    assert res.n_secondary >= 3  # the classic rectangle: same row, same column, opposite corner
    assert recoverable(res) == []
    # the total row and column are still shown where possible
    assert res.status.loc["I alt", "I alt"] == SHOWN


def test_small_row_total_a_small_school():
    """A whole group of 3 (like a school of 3 pupils) against a column of totals."""
    counts = frame([[1, 2], [40, 60], [30, 70]])
    res = suppress(counts, 5)
    st = res.status
    assert (st.loc["r0"] != SHOWN).all()  # every cell of the small group, its total too
    assert recoverable(res) == []
    # another group is suppressed in the column of group sizes so r0's size cannot be derived
    assert (st["I alt"].iloc[:-1] != SHOWN).sum() >= 2


def test_single_column_with_totals():
    res = suppress(frame([[2], [50], [60]]), 5, row_totals=False, col_totals=True)
    assert res.status.iloc[0, 0] == PRIMARY
    assert recoverable(res) == []
    assert res.n_secondary == 1 and res.status.iloc[1, 0] == SECONDARY


def test_row_whose_only_cell_is_small_suppresses_its_total():
    res = suppress(frame([[2], [50]]), 5, row_totals=True, col_totals=False)
    assert res.status.iloc[0].tolist() == [PRIMARY, PRIMARY]
    assert recoverable(res) == []


def test_no_totals_means_no_secondary():
    res = suppress(frame([[2, 50], [60, 70]]), 5, row_totals=False, col_totals=False)
    assert res.n_secondary == 0


def test_no_secondary_when_nothing_is_small():
    res = suppress(frame([[20, 40], [30, 50]]), 5)
    assert res.n_primary == 0 and res.n_secondary == 0


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_never_leak(seed):
    rng = np.random.default_rng(seed)
    n_r, n_c = rng.integers(1, 6), rng.integers(1, 6)
    data = rng.integers(0, 30, size=(n_r, n_c))
    data[rng.random((n_r, n_c)) < 0.3] = rng.integers(0, 5)
    for rt, ct in [(True, True), (True, False), (False, True)]:
        res = suppress(frame(data.tolist()), 5, row_totals=rt, col_totals=ct)
        assert recoverable(res) == [], (data, rt, ct)
        # every small count is suppressed
        vals = res.values.to_numpy()
        assert (res.mask.to_numpy()[vals < 5]).all()


def test_two_linked_small_cells_in_separate_rows():
    """Two primary cells joined only through a chain: the bridge check catches it."""
    counts = frame([[2, 30, 40], [50, 3, 60], [70, 80, 90]])
    res = suppress(counts, 5)
    assert recoverable(res) == []


def test_rejects_negative_counts():
    with pytest.raises(ValueError):
        suppress(frame([[-1, 2]]), 5)


def test_one_marker_for_every_suppressed_cell():
    """Primary and secondary suppressions read the same: the marker never says "small"."""
    assert disclosure.marker(5) == disclosure.marker(7) == disclosure.SUPPRESSED == "–"
    assert "færre end 7" in disclosure.FOOTNOTE.format(k=7)
    assert "<" not in disclosure.FOOTNOTE.format(k=7)


def test_known_totals_are_never_secondary():
    """Totals another table publishes anyway must not be used to protect a cell."""
    counts = frame([[3, 40], [30, 41], [33, 60]])
    res = suppress(counts, 5, known_row_totals=True, known_col_totals=True)
    st = res.status
    assert (st["I alt"] != SECONDARY).all()
    assert (st.loc["I alt"] != SECONDARY).all()
    assert recoverable(res) == []
    assert res.n_secondary == 3  # the rectangle of interior cells


def test_a_small_total_next_to_published_totals_cannot_be_protected_alone():
    """Row total 3 = grand total - the other row total, all three published elsewhere: no cell
    of this table can hide it, and a published total is never "hidden" to pretend it does
    (the third derivation of issue 11). The linked tables must be protected together."""
    with pytest.raises(survey_linked.DisclosureError, match="published elsewhere"):
        suppress(frame([[1, 2], [40, 60]]), 5, known_row_totals=True, known_col_totals=True)
    # with the totals free to hide, the same table is protected
    res = suppress(frame([[1, 2], [40, 60]]), 5)
    assert res.status.loc["r0", "I alt"] == PRIMARY and recoverable(res) == []


def test_known_total_used_only_when_nothing_else_protects():
    # a single interior column: the small cell can only be hidden together with its total
    res = suppress(frame([[2], [50]]), 5, row_totals=True, col_totals=False,
                   known_row_totals=True)
    assert res.status.iloc[0].tolist() == [PRIMARY, PRIMARY]
    assert recoverable(res) == []


@pytest.mark.parametrize("seed", range(20))
def test_random_tables_with_known_totals_never_leak(seed):
    rng = np.random.default_rng(100 + seed)
    n_r, n_c = rng.integers(2, 7), rng.integers(2, 5)
    data = rng.integers(0, 40, size=(n_r, n_c))
    data[rng.random((n_r, n_c)) < 0.25] = rng.integers(0, 5)
    try:
        res = suppress(frame(data.tolist()), 5, known_row_totals=True, known_col_totals=True)
    except survey_linked.DisclosureError:
        # only a small total can need a published total: it is then refused, never faked
        totals = np.concatenate([data.sum(axis=1), data.sum(axis=0)])
        assert (totals < 5).any()
        return
    assert recoverable(res) == []
    totals = pd.concat([res.status.iloc[:, -1], res.status.iloc[-1, :]])
    assert not (totals == SECONDARY).any()  # a published total is never a secondary
