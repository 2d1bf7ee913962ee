"""Tables for the book: Danish headers, Danish number formatting, no index column.

Functions return a pandas ``Styler``, which renders as an HTML table on the site and, the
same HTML, in the PDF (``plusdig.pdf``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler


def styled(frame: pd.DataFrame, columns: Mapping[str, str], *, caption: str | None = None,
           decimals: int = 0) -> Styler:
    """Select and rename ``columns`` (code name → Danish header), format numbers the Danish way."""
    from . import fmt

    view = frame.loc[:, list(columns)].rename(columns=dict(columns))
    styler = view.style.hide(axis="index")
    numeric = [c for c in view.columns if view[c].dtype.kind in "iuf"]
    if numeric:
        styler = styler.format({c: (lambda v: fmt.number(v, decimals)) for c in numeric})
    if caption:
        styler = styler.set_caption(caption)
    return styler


def activities_overview(activities: pd.DataFrame) -> Styler:
    """The overview of activities: number, title, stated period and target groups."""
    return styled(activities, {
        "id": "Nr.",
        "title": "Aktivitet",
        "period": "Periode (som angivet)",
        "target_groups": "Målgrupper",
    })
