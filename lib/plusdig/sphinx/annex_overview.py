"""The annex's overview table and timeline (the chapter ``book/annex/oversigt.ipynb``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.data.models import (
    Activity,
)
from plusdig.sphinx.annex_context import (
    GENERATED_DIR,
    NOT_STATED,
    SEASON_MONTHS,
    _count_text,
    activity_docnames,
    load_context,
    period_text,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["overview_table", "overview_styler", "timeline_table", "timeline_figure", "overview_numbers"]


# --------------------------------------------------------------------------- overview tables
def overview_table(base: Path | None = None, *,
                   activities: Sequence[Activity] | None = None) -> pd.DataFrame:
    """One row per activity for the annex overview.

    Columns: ``id``, ``title``, ``period`` (Danish, "Ikke angivet i kilden" when missing),
    ``target_groups``, ``reach`` (the counts stated under Målgruppe and Hvem er med?, with their
    qualifiers), ``partners`` (names), ``outcome`` (status label), ``docname``. Pass
    ``activities`` (from :func:`plusdig.data.load.load_activities`) to avoid loading them again.
    """
    import pandas as pd

    from plusdig.data.load import load_activities

    acts = list(activities) if activities is not None else load_activities(base)
    ctx = load_context(base, with_coding=False)
    names = activity_docnames(acts)
    rows = []
    for a in acts:
        groups = dict.fromkeys(
            ctx.target_kinds[t.kind] + (f" ({ctx.age_bands[t.age_band]})" if t.age_band else "")
            for t in a.target_groups)
        reach = [f"{_count_text(c)} {c.what}" for c in a.counts
                 if c.section in ("maalgruppe", "hvem_er_med")]
        rows.append({
            "id": a.id,
            "title": a.title,
            "period": period_text(a),
            "target_groups": "; ".join(groups),
            "reach": "; ".join(dict.fromkeys(reach)),
            "partners": ", ".join(ctx.actors[p][0] for p in a.partners),
            "outcome": ctx.statuses[a.outcome.status] if a.outcome else NOT_STATED,
            "docname": f"{GENERATED_DIR}/{names[a.id]}",
        })
    return pd.DataFrame(rows, columns=["id", "title", "period", "target_groups", "reach",
                                       "partners", "outcome", "docname"])


#: Danish headers of the overview table (column → header).
OVERVIEW_COLUMNS: dict[str, str] = {
    "id": "Nr.",
    "title": "Aktivitet",
    "period": "Periode (som angivet)",
    "target_groups": "Målgrupper",
    "reach": "Omfang (som angivet)",
    "partners": "Parter",
    "outcome": "Resultat",
}


def overview_styler(overview: pd.DataFrame, *, page_dir: str = "generated",
                    caption: str | None = None) -> Any:
    """The overview as a pandas Styler: Danish headers, each title linked to its page.

    With a ``caption`` (plain text, escaped here) the book numbers the table like the others.

    ``page_dir`` is the pages' folder relative to the page showing the table (the overview
    notebook lives in ``book/annex/``). All text is HTML-escaped except the links themselves.
    """
    from plusdig.present.tables import html_text

    view = overview.loc[:, list(OVERVIEW_COLUMNS)].copy()
    stems = [d.rsplit("/", 1)[-1] for d in overview["docname"]]
    view["title"] = [f'<a href="{page_dir}/{stem}.html">{html_text(t)}</a>'
                     for stem, t in zip(stems, overview["title"], strict=True)]
    for col in ("period", "target_groups", "reach", "partners", "outcome"):
        view[col] = view[col].map(html_text)
    view = view.rename(columns=OVERVIEW_COLUMNS)
    styler = view.style.hide(axis="index").set_uuid("annex-overview")
    styler = styler.set_table_styles([  # seven columns: small type, scroll sideways if needed
        {"selector": "", "props": "display: block; overflow-x: auto; font-size: 0.8em;"},
        {"selector": "td, th", "props": "vertical-align: top; padding: 0.25em 0.5em;"},
        {"selector": "td.col1", "props": "min-width: 9em;"},
        {"selector": "td.col5", "props": "min-width: 14em;"},
    ])
    if caption:
        styler = styler.set_caption(html_text(caption))
    return styler.set_table_attributes('class="plusdig-annex-overview"')


#: Precision labels of the timeline (Danish, shown in the legend).
PRECISION_LABELS = {"month": "Måned angivet", "season": "Forår/efterår angivet",
                    "year": "Kun år angivet", "none": "Tidspunkt ikke angivet"}


def timeline_table(activities: Iterable[Activity]) -> pd.DataFrame:
    """Timeline segments: one row per stated month, season or year span of each activity.

    Columns: ``id``, ``title``, ``period`` (Danish text, :func:`period_text`), ``start``, ``end``
    (Timestamps; ``end`` exclusive), ``precision`` (``month``/``season``/``year``/``none``). An activity whose period, or whose year, the source
    does not state gets one row with precision ``none`` and no dates: it is never placed at a
    guessed date.
    """
    import pandas as pd

    acts = list(activities)
    rows: list[dict[str, Any]] = []
    for a in acts:
        p = a.period
        years = sorted(p.years) if p else []
        if not years:
            rows.append({"id": a.id, "title": a.title, "start": pd.NaT, "end": pd.NaT,
                         "precision": "none"})
            continue
        if p is not None and p.months:
            for y in years:
                for m in p.months:
                    start = pd.Timestamp(year=y, month=m, day=1)
                    rows.append({"id": a.id, "title": a.title, "start": start,
                                 "end": start + pd.offsets.MonthBegin(1), "precision": "month"})
        elif p is not None and p.season:
            first, last = SEASON_MONTHS[p.season]
            for y in years:
                rows.append({"id": a.id, "title": a.title,
                             "start": pd.Timestamp(year=y, month=first, day=1),
                             "end": pd.Timestamp(year=y, month=last, day=1) + pd.offsets.MonthBegin(1),
                             "precision": "season"})
        else:
            rows.append({"id": a.id, "title": a.title, "start": pd.Timestamp(year=years[0], month=1, day=1),
                         "end": pd.Timestamp(year=years[-1] + 1, month=1, day=1), "precision": "year"})
    frame = pd.DataFrame(rows, columns=["id", "title", "start", "end", "precision"])
    periods = {a.id: period_text(a) for a in acts}
    frame.insert(2, "period", frame["id"].map(periods).astype(object))
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    return frame


#: Above this many activities the timeline is drawn compactly (no per-row labels or notes).
TIMELINE_MAX_LABELLED_ROWS = 60


def timeline_figure(segments: pd.DataFrame, first_year: int = 2017, last_year: int = 2019) -> Figure:
    """Gantt-like timeline of the activities; undated activities listed apart, with no bar.

    The x axis spans ``first_year``–``last_year`` (widened if the data reach further). Each
    activity is one row (``"<id>. <title>"``); its segments are coloured by how precisely the
    source dates them. Activities without a stated time come last, under a line, marked
    "tidspunkt ikke angivet" instead of a bar. With more than
    :data:`TIMELINE_MAX_LABELLED_ROWS` activities the figure keeps a bounded height: rows are
    numbered instead of labelled and the undated block carries one note with its size.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.patches import Patch
    from matplotlib.ticker import NullFormatter

    from plusdig.present.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_PT, finish, wrap

    colours = {"month": PALETTE[0], "season": PALETTE[2], "year": PALETTE[4]}
    dated = segments[segments["precision"] != "none"]
    undated = segments[segments["precision"] == "none"].drop_duplicates("id")
    order = (dated.groupby("id", sort=False)
             .agg(title=("title", "first"), start=("start", "min"))
             .sort_values(["start"], kind="stable"))
    def label(i: object, t: str) -> str:
        return wrap(f"{i}. {t}", 34)

    labels = [label(i, t) for i, t in zip(order.index, order["title"], strict=True)]
    labels += [label(i, t) for i, t in zip(undated["id"], undated["title"], strict=True)]
    row_of = {aid: n for n, aid in enumerate([*order.index, *undated["id"]])}
    n_rows = max(len(row_of), 1)
    compact = n_rows > TIMELINE_MAX_LABELLED_ROWS
    if not dated.empty:
        first_year = min(first_year, int(dated["start"].dt.year.min()))
        last_year = max(last_year, int((dated["end"] - pd.Timedelta(days=1)).dt.year.max()))
    x0 = mdates.date2num(pd.Timestamp(year=first_year, month=1, day=1))
    x1 = mdates.date2num(pd.Timestamp(year=last_year + 1, month=1, day=1))

    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 7.5 if compact else 1.6 + 0.36 * n_rows))
    for prec, group in dated.groupby("precision", sort=False):
        starts = mdates.date2num(group["start"])
        widths = mdates.date2num(group["end"]) - starts
        ax.barh([row_of[i] for i in group["id"]], widths, left=starts, height=0.6,
                color=colours[str(prec)], edgecolor="white", linewidth=0 if compact else 0.5)
    if compact and len(undated):
        ax.text(x0 + (x1 - x0) * 0.01, len(order) + len(undated) / 2,
                f"{len(undated)} aktiviteter: tidspunkt ikke (fuldt) angivet i kilden",
                va="center", ha="left", fontsize=SMALL_FONT_PT, style="italic", color="#555555")
    notes = [] if compact else list(zip(undated["id"], undated["period"], strict=True))
    for aid, period in notes:
        text = ("tidspunkt ikke angivet i kilden" if period == NOT_STATED
                else f"kun delvist angivet: {period}")
        ax.text(x0 + (x1 - x0) * 0.01, row_of[aid], text,
                va="center", ha="left", fontsize=SMALL_FONT_PT, style="italic", color="#555555")
    if len(undated) and len(order):
        ax.axhline(len(order) - 0.5, color="#555555", linewidth=0.8, linestyle="--")
    if compact:
        ax.set_ylabel("Aktiviteter (rækkefølge efter første tidspunkt)")
        ax.set_yticks([])
    else:
        ax.set_yticks(range(len(labels)), labels)
        for tick in ax.get_yticklabels():
            tick.set_linespacing(1.0)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xlim(x0, x1)
    # Year boundaries as grid lines, the year's label in the middle of the year.
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=7, bymonthday=1))
    ax.xaxis.set_minor_formatter(mdates.DateFormatter("%Y"))
    ax.tick_params(axis="x", which="minor", length=0)
    ax.grid(axis="x", which="major", linewidth=1.0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Tidspunkt, som kilden angiver det")
    ax.set_title("Aktiviteterne på en tidslinje")
    used = [p for p in ("month", "season", "year") if (dated["precision"] == p).any()]
    handles = [Patch(color=colours[p], label=PRECISION_LABELS[p]) for p in used]
    if handles:
        ax.legend(handles=handles, loc="upper center",
                  bbox_to_anchor=(0.5, -0.04 if compact else -0.12 - 0.6 / n_rows),
                  ncol=len(handles))
    finish(fig)
    from plusdig.present.figdata import SOURCE_ANNEX, FigureData, attach

    drawn = pd.DataFrame({
        "Aktivitet nr.": segments["id"], "Aktivitet": segments["title"],
        "Periode (som angivet)": segments["period"],
        "Fra": segments["start"].dt.strftime("%Y-%m").fillna(""),
        "Til (ikke medregnet)": segments["end"].dt.strftime("%Y-%m").fillna(""),
        "Præcision": segments["precision"].map(PRECISION_LABELS),
    })
    return attach(fig, FigureData(drawn.reset_index(drop=True), SOURCE_ANNEX,
                                  notes=["Én række pr. bjælke; uden Fra og Til: tidspunktet er ikke angivet."]))


@dataclass(frozen=True)
class OverviewNumbers:
    """The overview chapter's glued numbers (``book/annex/oversigt.ipynb``)."""

    annex_n_activities: int
    annex_n_undated: int
    annex_n_dated: int

    def headline(self) -> str:
        return (f"Aktiviteter: {self.annex_n_activities}; "
                f"uden angivet tidspunkt: {self.annex_n_undated}")


def overview_numbers(activities: Sequence[Activity] | None = None) -> OverviewNumbers:
    """How many activities the overview lists, and how many the timeline can place."""
    from plusdig.data.load import load_activities

    activities = load_activities() if activities is None else activities
    n = len(overview_table(activities=activities))
    segments = timeline_table(activities)
    undated = len(segments.loc[segments["precision"] == "none", "id"].unique())
    return OverviewNumbers(annex_n_activities=n, annex_n_undated=undated, annex_n_dated=n - undated)
