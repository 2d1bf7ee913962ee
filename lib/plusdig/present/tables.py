"""Tables for the book: Danish headers, Danish number formatting, no index column.

Functions return a pandas ``Styler``, which renders as an HTML table on the site and, the
same HTML, in the PDF (``plusdig.publish.pdf``).

pandas' ``Styler.to_html()`` does not escape: a name from data holding ``<script>`` would run
as script. Every table of the book is therefore started with :func:`html_styler`, which escapes
every cell, every column header and the caption for HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

__all__ = ["html_text", "html_styler", "styled", "activities_overview"]


def html_text(text: object) -> str:
    """``text`` (from data) as HTML text: escaped, control characters shown as their code.

    For HTML written by hand (widget views, links in a table); a Styler escapes by itself.
    """
    from plusdig.core.text import visible_controls

    return html.escape(visible_controls(str(text)), quote=True)


def html_styler(frame: pd.DataFrame, *, caption: str | None = None) -> Styler:
    """A Styler of ``frame`` without its index, every text escaped for HTML.

    Cells and column headers are escaped by pandas (``escape="html"``, which a later
    ``format(..., escape="html")`` keeps); the caption, which pandas inserts as it is, is
    escaped here. Pass plain text: markup in ``frame`` or ``caption`` is shown, not rendered.
    A control character is shown as its code (:func:`plusdig.core.text.visible_controls`).
    """
    from plusdig.core.text import visible_controls

    def shown(value: object) -> object:
        return visible_controls(value) if isinstance(value, str) else value

    frame = frame.map(shown).rename(columns=shown)
    styler = (frame.style.hide(axis="index")
              .format(escape="html")
              .format_index(escape="html", axis="columns"))
    if caption:
        styler = styler.set_caption(html.escape(visible_controls(caption), quote=True))
    return styler


def styled(frame: pd.DataFrame, columns: Mapping[str, str], *, caption: str | None = None,
           decimals: int = 0) -> Styler:
    """Select and rename ``columns`` (code name → Danish header), format numbers the Danish way."""
    from plusdig.core import fmt

    view = frame.loc[:, list(columns)].rename(columns=dict(columns))
    styler = html_styler(view, caption=caption)
    numeric = [c for c in view.columns if view[c].dtype.kind in "iuf"]
    if numeric:
        styler = styler.format({c: (lambda v: fmt.number(v, decimals)) for c in numeric},
                               escape="html")
    return styler


def activities_overview(activities: pd.DataFrame) -> Styler:
    """The overview of activities: number, title, stated period and target groups."""
    return styled(activities, {
        "id": "Nr.",
        "title": "Aktivitet",
        "period": "Periode (som angivet)",
        "target_groups": "Målgrupper",
    })
