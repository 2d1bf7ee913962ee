"""Tables for the book: Danish headers, Danish number formatting, no index column.

Functions return a pandas ``Styler``, which renders as an HTML table on the site and, the
same HTML, in the PDF (``plusdig.publish.pdf``).

pandas' ``Styler.to_html()`` does not escape: a name from data holding ``<script>`` would run
as script. Every table of the book is therefore started with :func:`html_styler`, which escapes
every cell, every column header and the caption for HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

__all__ = ["html_text", "html_styler", "styled", "activities_overview", "keep_units", "is_numeric_column",
           "single_year", "by_year", "YEAR", "wide_by_year", "long_rows"]


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

    frame = frame.map(lambda v: keep_units(shown(v))).rename(columns=shown)
    styler = (frame.style.hide(axis="index")
              .format(escape="html")
              .format_index(escape="html", axis="columns"))
    numeric = [i for i, c in enumerate(frame.columns) if is_numeric_column(frame.iloc[:, i])]
    if numeric:  # numbers right-aligned and on one line (site and print CSS: td.num); their
        # headers get the class where the book numbers the table (plusdig.sphinx.tablefig)
        classes = frame.copy().astype("object")
        classes.loc[:, :] = ""
        for i in numeric:
            classes.iloc[:, i] = "num"
        styler = styler.set_td_classes(classes)
    if caption:
        styler = styler.set_caption(html.escape(visible_controls(caption), quote=True))
    return styler


#: A table cell that is a number: optional qualifier, digits with Danish separators, an
#: optional unit, an optional interval in brackets ("21,0 % (18,7–23,5)"), or a marker
#: for a hidden or missing value ("–", "<5").
_NUMBER = re.compile(
    r"^(?:(?:ca\.|over|godt|mindst|under)\s)?[−–+-]?\d[\d.]*(?:,\d+)?"
    r"(?:\s?(?:%|pct\.|pp|procentpoint))?(?:\s?[(\[][^()\[\]]*[)\]])?$"
    r"|^[−–-]?\d[\d.]*(?:,\d+)?;\s?[−–-]?\d[\d.]*(?:,\d+)?$"  # an interval: "18,7; 23,5"
    r"|^(?:–|-|<\s?\d+|\.\.)$")
#: Breaks a number must not have: before its unit, after its qualifier.
_UNIT_SPACE = re.compile(r"(?<=\d) (?=%|pct\.|pp\b|procentpoint)|(?<=\bca\.) (?=\d)"
                         r"|(?<=\bover) (?=\d)|(?<=\bgodt) (?=\d)|(?<=\bmindst) (?=\d)")


def keep_units(value: object) -> object:
    """A text with its numbers glued to their unit and qualifier by no-break spaces.

    ``"21,0 %"`` -> ``"21,0\u00a0%"``, ``"ca. 600"`` -> ``"ca.\u00a0600"``: a table column
    or a line end never separates a value from its unit. Other values are returned as they are.
    """
    return _UNIT_SPACE.sub("\u00a0", value) if isinstance(value, str) else value


def is_numeric_column(column: pd.Series) -> bool:
    """Whether every value of ``column`` is a number (or a marker): shown right-aligned."""
    if column.dtype.kind in "iuf":
        return True
    values = [str(v).replace("\u00a0", " ").strip() for v in column if v is not None and v == v]
    values = [v for v in values if v]
    markers = {"–", "-", ".."}
    return (any(v not in markers for v in values)
            and all(_NUMBER.match(v) for v in values))


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


def activities_overview(activities: pd.DataFrame, *, caption: str | None = (
        "Aktiviteterne med periode og målgrupper. Kilde: aktivitetskataloget.")) -> Styler:
    """The overview of activities: number, title, stated period and target groups.

    It has a caption, so the book numbers it like every other table ("Tabel 4.2").
    """
    return styled(activities, {
        "id": "Nr.",
        "title": "Aktivitet",
        "period": "Periode (som angivet)",
        "target_groups": "Målgrupper",
    }, caption=caption)


def single_year(periods: pd.Series) -> pd.Series:
    """Which ``periods`` are one year ("2017"), not a span ("2017-2019") or nothing."""
    return periods.astype("string").fillna("").str.fullmatch(r"\d{4}")


def by_year(frame: pd.DataFrame, *, label: str, period: str, value: str,
            headers: Mapping[str, str], caption: str | None = None) -> Styler:
    """A long table (one row per label and year) as a wide reader table: one row per label,
    one column per year, then the ``headers``' other columns (their first value per label).

    ``headers`` maps ``label`` and the other columns to their Danish headers; the years are
    their own headers. Rows whose ``period`` is not a single year are refused: show them in a
    table of their own (:func:`single_year` tells them apart).
    """
    from plusdig.core.errors import DataValidationError

    years = single_year(frame[period])
    if not years.all():
        bad = frame.loc[~years, period].tolist()
        raise DataValidationError("table by year", f"periods that are not one year: {bad}",
                                  field=period, expected="one year per row, e.g. '2017'")
    order = list(dict.fromkeys(frame[label]))
    wide = frame.pivot(index=label, columns=period, values=value).reindex(order)
    wide = wide.reindex(columns=sorted(wide.columns)).fillna("–")
    others = [c for c in headers if c != label]
    rest = frame.groupby(label, sort=False)[others].first().reindex(order)
    view = wide.join(rest).reset_index().rename(columns={label: headers[label], **{
        c: headers[c] for c in others}})
    view.columns = [str(c) for c in view.columns]
    return html_styler(view, caption=caption)


#: The year column of a long table that :func:`wide_by_year` spreads over the columns.
YEAR = "År"
#: A wide column's header: "2017: Andel ensomme", or with the interval printed in brackets
#: beside each value "2017: Andel ensomme [95 %-konfidensinterval]" (the long header named).
_WIDE_HEADER = re.compile(r"^(?P<year>\d{4}): (?P<column>.+?)(?: \[(?P<interval>[^\[\]]+)\])?$")
_WITH_INTERVAL = re.compile(r"^(?P<value>.*\S) \[(?P<interval>[^\[\]]+)\]$")


def wide_by_year(frame: pd.DataFrame, *, row: str, columns: Sequence[str],
                 interval: tuple[str, str] | None = None) -> pd.DataFrame:
    """A long table of printed cells (one row per ``row`` label and :data:`YEAR`) as a compact
    wide one: one row per label, and for every year each of ``columns``, headed
    ``"2017: Besvarelser"``. With ``interval = (column, interval column)`` that column's cells
    carry the interval in brackets (``"20,7 % [16,3; 25,8]"``) under the header
    ``"2017: Andel ensomme [95 %-konfidensinterval]"``; a hidden value («–») stays «–», and a
    label without a row in a year (no such group that year) has empty cells there.

    Only the cells given are moved (nothing is computed, nothing hidden is shown), and the
    headers name every long column, so :func:`long_rows` reads the long table back: the
    disclosure audit and the downloads check read the wide table as the long one.
    """
    from plusdig.core.errors import DataValidationError

    needed = [row, YEAR, *columns, *(interval or ())]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataValidationError("table by year", f"missing column(s) {missing}",
                                  expected=f"columns {needed}")
    if frame.duplicated([row, YEAR]).any():
        raise DataValidationError("table by year", f"more than one row per ({row}, {YEAR})",
                                  expected=f"one row per {row} and {YEAR.lower()}")
    labels = list(dict.fromkeys(frame[row]))
    years = sorted(dict.fromkeys(str(y) for y in frame[YEAR]))
    cells = frame.set_index([row, frame[YEAR].astype(str)])
    out: dict[str, list[str]] = {row: labels}
    for year in years:
        for column in columns:
            header = f"{year}: {column}"
            with_interval = interval is not None and column == interval[0]
            if with_interval:
                header += f" [{interval[1]}]"
            values = []
            for label in labels:
                if (label, year) not in cells.index:  # no such group that year: no row
                    values.append("")
                    continue
                value = str(cells.loc[(label, year), column])
                bracket = str(cells.loc[(label, year), interval[1]]) if with_interval else "–"
                values.append(value if bracket in ("–", "") or value == "–"
                              else f"{value} [{bracket}]")
            out[header] = values
    import pandas as pd

    return pd.DataFrame(out)


def long_rows(header: Sequence[str], rows: Sequence[Mapping[str, str]]
              ) -> tuple[list[str], list[dict[str, str]]] | None:
    """The long table a :func:`wide_by_year` table was made from, read from its header and
    printed cells (None when no header is a year's column): one row per label and year, but
    none where all the year's cells are empty (the long table had no row there)."""
    wide = {h: m for h in header if (m := _WIDE_HEADER.match(h))}
    if not wide:
        return None
    labels = [h for h in header if h not in wide]
    years = list(dict.fromkeys(m["year"] for m in wide.values()))
    long_header = [*labels, YEAR]
    for m in wide.values():
        for name in (m["column"], m["interval"]):
            if name and name not in long_header:
                long_header.append(name)
    out = []
    for r in rows:
        for year in years:
            line = {h: r[h] for h in labels} | {YEAR: year}
            for h, m in wide.items():
                if m["year"] != year:
                    continue
                text = r[h]
                if m["interval"]:
                    split = _WITH_INTERVAL.match(text)
                    text, line[m["interval"]] = ((split["value"], split["interval"]) if split
                                                 else (text, "–"))
                line[m["column"]] = text
            if any(r[h] for h, m in wide.items() if m["year"] == year):
                out.append(line)
    return long_header, out


def published_results_tables(published: pd.DataFrame) -> tuple[Styler, Styler]:
    """Chapter 6's two tables of the survey results the annex publishes: the one-year results
    with one column per year, and the other published figures (spans, plans) as they stand."""
    from plusdig.data.report import published_table

    table = published_table(published)
    yearly = single_year(table["period"])
    by_years = by_year(table[yearly], label="label", period="period", value="value",
                       headers={"label": "Tal", "population": "Gælder", "quote": "Kildens ordlyd"},
                       caption="De offentliggjorte resultater pr. år. Kilde: aktivitetskataloget.")
    others = styled(table[~yearly], {"label": "Tal", "period": "Periode", "value": "Værdi",
                                     "population": "Gælder", "quote": "Kildens ordlyd"},
                    caption="De øvrige offentliggjorte tal om trivselsmålingen. "
                            "Kilde: aktivitetskataloget.")
    return by_years, others
