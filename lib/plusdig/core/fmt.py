"""Danish number formatting for prose, tables and figure labels.

Danish convention: decimal comma, thousands separator ".", a space before "%"
("66 %"). Approximate figures keep their qualifier from the source ("ca. 600").
"""

from __future__ import annotations

import datetime as dt
import math

__all__ = ["number", "percent", "approx", "danish_date", "MONTHS", "QUALIFIER_LABELS"]

#: Danish month names, January first.
MONTHS: tuple[str, ...] = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
                           "september", "oktober", "november", "december")

#: How a count's qualifier from the source reads in Danish prose.
QUALIFIER_LABELS: dict[str, str] = {"ca.": "ca.", "over": "over", "godt": "godt", "mindst": "mindst"}


def number(value: float | int | None, decimals: int = 0) -> str:
    """Format a number the Danish way: ``1234.5 -> '1.234,5'``; None/NaN -> '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(value: float | None, decimals: int = 0, *, share: bool = False) -> str:
    """Format a percentage: ``66 -> '66 %'``; with ``share=True`` ``0.66 -> '66 %'``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{number(value * 100 if share else value, decimals)} %"


def approx(value: float | int, qualifier: str | None, decimals: int = 0) -> str:
    """A stated count with its qualifier: ``(600, 'ca.') -> 'ca. 600'``."""
    text = number(value, decimals)
    if qualifier:
        if qualifier not in QUALIFIER_LABELS:
            raise ValueError(f"unknown qualifier {qualifier!r}; expected one of {sorted(QUALIFIER_LABELS)}")
        return f"{QUALIFIER_LABELS[qualifier]} {text}"
    return text


def danish_date(day: dt.date) -> str:
    """A date the Danish way: ``date(2026, 11, 26) -> '26. november 2026'``."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
