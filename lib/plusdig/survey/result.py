"""A survey table as the book shows it (:class:`SurveyTable`), and the Danish formatting of
its cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

    from plusdig.survey.disclosure import Registry
    from plusdig.survey.inference import Interval

__all__ = ["SurveyTable"]


# --------------------------------------------------------------------------- tables
@dataclass
class SurveyTable:
    """A publishable survey table: disclosure control applied, nothing below k shown.

    ``values`` holds the numbers (suppressed cells are NaN, so figures can use it safely);
    ``display`` the formatted Danish table with "<k"/"–" markers.
    """

    name: str
    title: str
    values: pd.DataFrame
    display: pd.DataFrame
    synthetic: bool
    k: int
    n_primary: int = 0
    n_secondary: int = 0
    #: The registry of published cells the table was drawn from (one for the whole chapter).
    cells: Registry | None = field(default=None, repr=False)

    @property
    def suppressed(self) -> int:
        return self.n_primary + self.n_secondary

    def caption(self) -> str:
        from plusdig.present.style import SYNTHETIC_LABEL
        from plusdig.survey.disclosure import FOOTNOTE

        text = self.title
        if self.synthetic:
            text = f"{SYNTHETIC_LABEL} · {text}"
        if self.suppressed:
            text += " " + FOOTNOTE.format(k=self.k)
        return text

    def styler(self) -> Styler:
        """The table for the book: Danish headers, markers, caption with the synthetic label."""
        from plusdig.present.tables import html_styler

        styler = html_styler(self.display, caption=self.caption())  # escaped: school names
        styles = [{"selector": "caption", "props": "caption-side: top; text-align: left;"}]
        if self.synthetic:
            styles.append({"selector": "caption", "props": "font-weight: bold;"})
        return styler.set_table_styles(styles)

    def _repr_html_(self) -> str:
        return self.styler().to_html()


def _cell(reg: Registry, key: object) -> str:
    """A count as the book prints it: the number, or the suppression marker."""
    from plusdig.survey.disclosure import marker

    return _num(reg.value(key)) if reg.shown(key) else marker(reg.k)


def _num(value: float, decimals: int = 0) -> str:
    from plusdig.core import fmt

    return fmt.number(value, decimals)


def _pct(p: float, decimals: int = 1) -> str:
    from plusdig.core import fmt

    return "–" if p is None or math.isnan(p) else fmt.percent(p * 100, decimals)


def _ci(low: float, high: float, decimals: int = 1) -> str:

    if low is None or math.isnan(low) or math.isnan(high):
        return "–"
    return f"{_signed(low * 100, decimals)}; {_signed(high * 100, decimals)}"


def _signed(value: float, decimals: int = 1) -> str:
    """A Danish number with a typographic minus sign."""
    from plusdig.core import fmt

    return fmt.number(value, decimals).replace("-", "\u2212")


def pp_interval(i: Interval) -> str:
    """A change in percentage points with its interval: "−2,9 [−6,2; 0,4]" (or »–«)."""
    if not i.defined:
        return "–"
    return f"{_signed(i.estimate * 100)} [{_ci(i.low, i.high)}]"


def ratio_interval(i: Interval) -> str:
    """A ratio (odds ratio, design effect) with its interval: "0,69 [0,55; 0,87]" (or »–«)."""
    if not i.defined:
        return "–"
    return f"{_num(i.estimate, 2)} [{_num(i.low, 2)}; {_num(i.high, 2)}]"


def pvalue(p: float) -> str:
    """A p-value as the tables print it: "0,042", "< 0,001" (kept on one line) or »–«."""
    if p is None or math.isnan(p):
        return "–"
    return "<\u00a00,001" if p < 0.001 else _num(p, 3)
