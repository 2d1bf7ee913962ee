"""Small helpers the report chapters share: Danish lists, published figures as text, overviews.

They turn data into the strings and tables the chapters glue into their prose, so that no
chapter types a number by hand and no chapter repeats another's computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from plusdig.core.errors import DataValidationError

if TYPE_CHECKING:
    import pandas as pd

    from plusdig.data.models import Activity, StatedCount

__all__ = ["danish_list", "activity_names", "count_text", "activity_count_text", "published_text",
           "published_period", "published_table", "distinct_counts", "count_noun", "workstreams_table",
           "age_bands_table"]


def danish_list(items: Sequence[str]) -> str:
    """Join items the Danish way: ``['1', '2', '5'] -> '1, 2 og 5'``; '' for none."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " og " + items[-1]


def activity_names(activities: Sequence[Activity]) -> dict[int, str]:
    """Activity id → the name prose uses: the title, with '(nr. <id>)' added when titles repeat."""
    from collections import Counter

    seen = Counter(a.title for a in activities)
    return {a.id: a.title if seen[a.title] == 1 else f"{a.title} (nr. {a.id})" for a in activities}


def count_text(count: StatedCount) -> str:
    """A stated count with its qualifier from the source: 'godt 70', 'ca. 1.200', '30'."""
    from plusdig.core import fmt

    return fmt.approx(count.value, count.qualifier)


def _missing(value: object) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _row(published: pd.DataFrame, figure_id: str) -> pd.Series:
    rows = published[published["figure_id"] == figure_id]
    if rows.empty:
        raise DataValidationError("survey/published.csv", f"no figure {figure_id!r}", field="figure_id",
                                  expected="a figure_id of data/survey/published.csv")
    return rows.iloc[0]


def published_text(published: pd.DataFrame, figure_id: str) -> str:
    """One published figure as Danish text with its qualifier and unit: 'ca. 90 %', 'ca. 1.100', '69'."""
    from plusdig.core import fmt

    row = _row(published, figure_id)
    if _missing(row["value"]):
        raise DataValidationError("survey/published.csv", f"figure {figure_id!r} has no value (only a direction)",
                                  field="value", expected="a figure with a value")
    value = float(row["value"])
    qualifier = None if _missing(row["qualifier"]) else row["qualifier"]
    text = fmt.approx(int(value) if value.is_integer() else value, qualifier,
                      decimals=0 if value.is_integer() else 1)
    return f"{text} %" if row["unit"] == "procent" else text


def published_period(published: pd.DataFrame, figure_id: str) -> str:
    """The years a published figure refers to: '2017', '2017–2019' (an en dash), '' when none."""
    row = _row(published, figure_id)
    start, end = row["year_start"], row["year_end"]
    if _missing(start):
        return ""
    return str(int(start)) if _missing(end) or int(end) == int(start) else f"{int(start)}–{int(end)}"


def published_table(published: pd.DataFrame) -> pd.DataFrame:
    """The published figures for display: label, period, value (or direction), population, quote."""
    import pandas as pd

    rows = []
    for fid in published["figure_id"]:
        row = _row(published, fid)
        direction = {"fald": "Færre", "stigning": "Flere"}.get(str(row["direction"]), str(row["direction"]))
        value = direction if _missing(row["value"]) else published_text(published, fid)
        rows.append({"figure_id": fid, "label": row["label"], "period": published_period(published, fid),
                     "value": value, "population": row["population"], "quote": row["quote"]})
    return pd.DataFrame(rows, columns=["figure_id", "label", "period", "value", "population", "quote"])


def distinct_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """The stated counts (``counts_table``) with a figure stated twice in one activity kept once.

    The annex repeats some figures under two headings (activity 10's workshop of "ca. 40", activity
    13's "ca. 1200" pupils); prose that counts the annex's figures counts each once.
    """
    return counts.drop_duplicates(["activity_id", "what", "value", "qualifier"]).reset_index(drop=True)


def count_noun(n: int, singular: str, plural: str) -> str:
    """A number with its noun in the right form: ``count_noun(1, "aktivitet", "aktiviteter")`` →
    ``'1 aktivitet'``, ``(3, ...)`` → ``'3 aktiviteter'``, ``(0, ...)`` → ``'ingen aktiviteter'``."""
    from plusdig.core import fmt

    if n == 0:
        return f"ingen {plural}"
    return f"{fmt.number(n)} {singular if n == 1 else plural}"


def activity_count_text(counts: pd.DataFrame, activity_id: int, what: str) -> str:
    """A count stated for one activity (``counts_table``), with its qualifier: 'ca. 12'."""
    from plusdig.core import fmt

    rows = counts[(counts["activity_id"] == activity_id) & (counts["what"] == what)]
    if rows.empty:
        raise DataValidationError("activities.yaml", f"activity {activity_id} states no count {what!r}",
                                  record=f"activity {activity_id}", field="counts",
                                  expected="a 'what' of that activity's counts")
    row = rows.iloc[0]
    return fmt.approx(int(row["value"]), None if _missing(row["qualifier"]) or row["qualifier"] == ""
                      else row["qualifier"])


def workstreams_table(base: Path | None = None) -> pd.DataFrame:
    """The first-year workstreams in order: title, number of points, named actors and their sectors."""
    import pandas as pd

    from plusdig.data.load import load_actors, load_first_year

    actors = load_actors(base)
    rows = []
    for w in sorted(load_first_year(base).workstreams, key=lambda w: w.order):
        rows.append({"order": w.order, "id": w.id, "title": w.title, "n_points": len(w.points),
                     "actors": ", ".join(actors.at[a, "name"] for a in w.actors),
                     "sectors": ", ".join(dict.fromkeys(actors.at[a, "sector_label"] for a in w.actors))})
    return pd.DataFrame(rows, columns=["order", "id", "title", "n_points", "actors", "sectors"])


def age_bands_table(base: Path | None = None) -> pd.DataFrame:
    """The vocabularies' age bands as a table, one row per band (code, label, ages)."""
    import pandas as pd

    from plusdig.data.load import load_vocabularies

    return pd.DataFrame([e.model_dump() for e in load_vocabularies(base).age_bands])
