"""Statistical disclosure control for every survey table and figure.

The survey is personal data about children. A published table never shows a cell (a count or
a share) based on fewer than ``k`` respondents:

* **Primary suppression.** Every count below ``k`` is suppressed -- including zero, because a
  zero tells something about every member of its group ("none of the pupils in group X ...").
* **Secondary suppression.** When a table shows row and/or column totals, enough further cells
  are suppressed that no suppressed value can be recovered by subtracting the shown cells from a
  total. The test is exact, not a rule of thumb: write the table with its totals as a bipartite
  graph (rows and columns are vertices, each suppressed cell is an edge between its row and its
  column; rows or columns without a total are merged into one unconstrained vertex). The shown
  cells and totals fix a suppressed cell's value if and only if that edge is a *bridge* (lies on
  no cycle). For each bridge the algorithm suppresses the cheapest path of further cells that
  closes a cycle through it (smallest counts first), until no bridge is left.

The threshold is :data:`DEFAULT_K` (5). The environment variable ``PLUSDIG_DISCLOSURE_K`` raises
or lowers it for a build; it must be an integer of at least :data:`MIN_K` (3).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import DataValidationError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["DEFAULT_K", "MIN_K", "ENV_VAR", "PRIMARY", "SECONDARY", "threshold", "Suppressed",
           "suppress", "marker", "FOOTNOTE"]

#: Default minimum number of respondents behind any published cell.
DEFAULT_K = 5
#: The threshold may never be set lower than this.
MIN_K = 3
#: Environment variable that overrides :data:`DEFAULT_K` for a build.
ENV_VAR = "PLUSDIG_DISCLOSURE_K"

#: Status codes of a cell.
SHOWN, PRIMARY, SECONDARY = 0, 1, 2

#: Danish footnote under every table with suppressed cells; ``{k}`` is the threshold.
FOOTNOTE = ("«<{k}»: færre end {k} besvarelser (undertrykt). «–»: undertrykt, så de små tal "
            "ikke kan regnes ud fra totalerne (sekundær undertrykkelse).")


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
    """How a primary-suppressed cell reads in a table: ``'<5'``."""
    return f"<{k}"


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
    status = np.where(table < k, PRIMARY, SHOWN).astype("int8")
    if row_totals or col_totals:
        _secondary(table, status, n_rows, n_cols, row_totals, col_totals,
                   known_row_totals and row_totals, known_col_totals and col_totals)
    values = pd.DataFrame(table, index=index, columns=columns)
    stat = pd.DataFrame(status, index=index, columns=columns)
    for frame in (values, stat):
        frame.index.name = counts.index.name
        frame.columns.name = counts.columns.name
    return Suppressed(values, stat, k, row_totals, col_totals)


# --------------------------------------------------------------------------- secondary
def _secondary(table: np.ndarray, status: np.ndarray, n_rows: int, n_cols: int,
               row_totals: bool, col_totals: bool, known_row_totals: bool = False,
               known_col_totals: bool = False) -> None:
    """Add secondary suppressions in place until no suppressed cell is a bridge.

    For a bridge (a suppressed cell whose value the totals fix), the cheapest path of further
    cells that reconnects its row and its column is suppressed (Dijkstra; a cell costs its
    count, already suppressed cells cost nothing, totals cost a little more than an interior
    cell of the same count). That closes a cycle through the bridge, so it is no longer fixed.
    """
    import numpy as np

    rows_total, cols_total = table.shape
    # Vertex ids: rows 0..R-1, columns R..R+C-1; a row is constrained when it has a total cell
    # (row_totals), a column when it has one (col_totals). Unconstrained ones collapse to GROUND.
    ground = rows_total + cols_total
    n_vertices = ground + 1
    row_vertex = np.arange(rows_total) if row_totals else np.full(rows_total, ground)
    col_vertex = rows_total + np.arange(cols_total) if col_totals else np.full(cols_total, ground)
    base_cost = table.astype("float64") + 1.0
    if row_totals:
        base_cost[:, -1] = np.inf if known_row_totals else base_cost[:, -1] + 0.5
    if col_totals:
        base_cost[-1, :] = np.inf if known_col_totals else base_cost[-1, :] + 0.5
    ends_r = np.broadcast_to(row_vertex[:, None], table.shape).ravel()
    ends_c = np.broadcast_to(col_vertex[None, :], table.shape).ravel()
    _single_line_pass(status, base_cost, row_totals, col_totals)
    while True:
        flat = status.ravel()
        cells = np.flatnonzero(flat != SHOWN)
        edges = [(int(ends_r[c]), int(ends_c[c])) for c in cells]
        bridges = _bridges(n_vertices, edges)
        if not bridges:
            return
        bridge_cell = int(cells[bridges[0]])
        u, v = edges[bridges[0]]
        cost = np.where(flat != SHOWN, 0.0, base_cost.ravel())
        adjacency: list[list[tuple[int, int]]] = [[] for _ in range(n_vertices)]
        for c in range(flat.size):
            a, b = int(ends_r[c]), int(ends_c[c])
            if c == bridge_cell or a == b:
                continue
            adjacency[a].append((b, c))
            adjacency[b].append((a, c))
        via = _cheapest_path(adjacency, cost, u, v)
        if via is None:  # only through a known total: use it rather than leave the cell exposed
            via = _cheapest_path(adjacency, np.where(np.isinf(cost), 1e12, cost), u, v)
        if via is None:
            return  # nothing can protect this cell (a table of one cell)
        x = v
        while x != u:
            c = via[x]
            if flat[c] == SHOWN:
                status.flat[c] = SECONDARY
            a, b = int(ends_r[c]), int(ends_c[c])
            x = a if b == x else b


def _single_line_pass(status: np.ndarray, base_cost: np.ndarray, row_totals: bool,
                      col_totals: bool) -> None:
    """Vectorised first pass: a constrained line (row or column of the bordered table) with
    exactly one suppressed cell gets its cheapest other cell suppressed, until no line has
    exactly one. This settles almost every case at once (thousands of small groups in a
    national table); the exact bridge check afterwards catches what it leaves."""
    import numpy as np

    fallback = np.where(np.isinf(base_cost), 1e12, base_cost)
    while True:
        changed = False
        for axis, constrained in ((1, row_totals), (0, col_totals)):
            if not constrained:
                continue
            hidden = status != SHOWN
            lonely_lines = np.flatnonzero(hidden.sum(axis=axis) == 1)
            if not len(lonely_lines):
                continue
            for costs in (base_cost, fallback):
                cost = np.where(hidden, np.inf, costs)
                cost = cost[lonely_lines] if axis == 1 else cost[:, lonely_lines].T
                best = np.argmin(cost, axis=1)
                ok = np.isfinite(cost[np.arange(len(lonely_lines)), best])
                if ok.any():
                    lines, picks = lonely_lines[ok], best[ok]
                    if axis == 1:
                        status[lines, picks] = SECONDARY
                    else:
                        status[picks, lines] = SECONDARY
                    changed = True
                    lonely_lines = lonely_lines[~ok]
                if not len(lonely_lines):
                    break
        if not changed:
            return


def _cheapest_path(adjacency: list[list[tuple[int, int]]], cost: np.ndarray, u: int, v: int
                   ) -> list[int] | None:
    """Dijkstra from u to v; returns, per vertex, the cell used to reach it (None: no path)."""
    import heapq

    n = len(adjacency)
    dist = [float("inf")] * n
    via: list[int] = [-1] * n
    dist[u] = 0.0
    heap = [(0.0, u)]
    while heap:
        d, x = heapq.heappop(heap)
        if d > dist[x]:
            continue
        if x == v:
            break
        for y, c in adjacency[x]:
            nd = d + float(cost[c])
            if nd < dist[y]:
                dist[y] = nd
                via[y] = c
                heapq.heappush(heap, (nd, y))
    return None if dist[v] == float("inf") else via


def _bridges(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Indices of the bridge edges of a multigraph (iterative Tarjan; self-loops never bridge)."""
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for idx, (a, b) in enumerate(edges):
        if a == b:
            continue
        adjacency[a].append((b, idx))
        adjacency[b].append((a, idx))
    disc = [-1] * n
    low = [0] * n
    timer = 0
    out: list[int] = []
    for root in range(n):
        if disc[root] != -1 or not adjacency[root]:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack: list[tuple[int, int, int]] = [(root, -1, 0)]  # vertex, edge used to enter, next
        while stack:
            v, via, pos = stack[-1]
            if pos < len(adjacency[v]):
                stack[-1] = (v, via, pos + 1)
                w, idx = adjacency[v][pos]
                if idx == via:
                    continue
                if disc[w] == -1:
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append((w, idx, 0))
                else:
                    low[v] = min(low[v], disc[w])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[v])
                    if low[v] > disc[parent]:
                        out.append(via)
    return sorted(out)
