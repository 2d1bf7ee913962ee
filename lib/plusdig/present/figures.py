"""The book's figures as functions: data in, matplotlib Figure out.

Chapters call these and hold only narrative; each function is unit-tested. Every figure
function takes tidy tables from :mod:`plusdig.data.load` and returns a Figure in the house style.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plusdig.present.figdata import SOURCE_ANNEX, FigureData, attach
from plusdig.present.style import FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_PT, finish, wrap

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from plusdig.data.models import FirstYear


def activities_per_year(activities: pd.DataFrame) -> Figure:
    """Bar chart: number of activities by the first year the source states ('Ikke angivet' if none)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    years = activities["year"].astype("string").fillna("Ikke angivet")
    order = sorted(y for y in years.unique() if y != "Ikke angivet") + (
        ["Ikke angivet"] if (years == "Ikke angivet").any() else [])
    counts = years.value_counts().reindex(order).rename_axis("år").reset_index(name="antal")
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 3.2))
    sns.barplot(data=counts, x="år", y="antal", ax=ax, color="#0072B2")
    ax.bar_label(ax.containers[0])
    ax.set_xlabel("Første år, kilden angiver")
    ax.set_ylabel("Antal aktiviteter")
    ax.set_title("Aktiviteter efter år")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(top=max(counts["antal"].max(), 1) * 1.15)
    finish(fig)
    return attach(fig, FigureData(counts.rename(columns={"år": "Første år, kilden angiver",
                                                        "antal": "Antal aktiviteter"}), SOURCE_ANNEX))


# --------------------------------------------------------------------------- helpers
def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    from plusdig.core.errors import DataValidationError

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(what, f"missing column(s) {missing}", expected=f"columns {columns}")


#: The three bodies of +DIG's organisation: (first-year workstream id, actor id, Danish label).
ORGANISATION: list[tuple[str, str, str]] = [
    ("alliancen", "alliancegruppen", "Alliancen"),
    ("organisatorisk-ramme", "dig-sekretariatet", "Sekretariatet"),
    ("koordinationsgruppe", "centrale-ledere", "Kommunal koordinationsgruppe"),
]


# --------------------------------------------------------------------------- chapter 2
def organisation_diagram(first_year: FirstYear, partners: pd.DataFrame, activity_ids: list[int],
                         bodies: list[tuple[str, str, str]] | None = None) -> Figure:
    """The organisation of +DIG: the bodies, their tasks (first-year text) and their activities.

    Each body is a box with the points of its first-year workstream; a line joins it to every
    activity (bottom row) in which the annex names the body's actor (``partners``).
    """
    import matplotlib.pyplot as plt

    from plusdig.core.errors import DataValidationError

    _require(partners, ["activity_id", "actor_id"], "partners table")
    bodies = bodies or ORGANISATION
    streams = {w.id: w for w in first_year.workstreams}
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 7.0))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    n_act = max(len(activity_ids), 1)
    act_x = {aid: (i + 0.5) / n_act for i, aid in enumerate(activity_ids)}
    colours = ["#00785A", "#0072B2", "#2A7FB8"]  # white text on each: contrast over 4.5:1
    drawn: list[dict[str, object]] = []
    for i, (stream_id, actor_id, label) in enumerate(bodies):
        if stream_id not in streams:
            raise DataValidationError("first_year.yaml", f"no workstream {stream_id!r}",
                                      field="workstreams", expected="the workstreams of the organisation")
        x = (i + 0.5) / len(bodies)
        points = "\n".join("• " + wrap(p, 22).replace("\n", "\n  ") for p in streams[stream_id].points)
        colour = colours[i % len(colours)]
        ax.text(x, 0.985, wrap(label, 16), ha="center", va="top", fontsize=10, fontweight="bold",
                color="white", bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": colour})
        ax.text(x, 0.88, points, ha="center", va="top", multialignment="left", fontsize=SMALL_FONT_PT,
                linespacing=1.25, bbox={"boxstyle": "round,pad=0.4", "facecolor": "#F4F4F4", "edgecolor": colour})
        mine = sorted(set(partners.loc[partners["actor_id"] == actor_id, "activity_id"].astype(int)))
        for aid in mine:
            if aid in act_x:
                ax.plot([x, act_x[aid]], [0.30, 0.12], color=colour, linewidth=1.5, alpha=0.8)
        drawn.append({"Organ": label, "Opgaver (det første år)": "; ".join(streams[stream_id].points),
                      "Med i aktivitet nr.": ", ".join(str(a) for a in mine if a in act_x),
                      "Antal aktiviteter": len(mine)})
        ax.text(x, 0.32, f"Med i {len(mine)} af {len(activity_ids)} aktiviteter",
                ha="center", va="bottom", fontsize=SMALL_FONT_PT, color="#333333")
    for aid, x in act_x.items():
        ax.text(x, 0.09, str(aid), ha="center", va="center", fontsize=SMALL_FONT_PT,
                bbox={"boxstyle": "square,pad=0.3", "facecolor": "white", "edgecolor": "#333333"})
    ax.text(0.5, 0.01, "Aktiviteter i aktivitetskataloget (nr.)", ha="center", va="bottom",
            fontsize=SMALL_FONT_PT)
    finish(fig)
    import pandas as pd

    return attach(fig, FigureData(pd.DataFrame(drawn), SOURCE_ANNEX + " Det første år: data/first_year.yaml."))


# --------------------------------------------------------------------------- chapter 3
def first_year_phases(first_year: FirstYear) -> Figure:
    """The first-year workstreams in the annex's order, as a vertical sequence of phases.

    The annex gives an order and no dates, so the figure has no time axis.
    """
    import matplotlib.pyplot as plt

    streams = sorted(first_year.workstreams, key=lambda w: w.order)
    line_in = SMALL_FONT_PT * 1.3 / 72  # one line of body text, inches
    blocks = []  # (workstream, body text, lines it takes)
    for w in streams:
        body = "\n".join("• " + wrap(p, 74).replace("\n", "\n   ") for p in w.points)
        blocks.append((w, body, 1.4 + body.count("\n") + 1 + 0.6))
    total = sum(b[2] for b in blocks) or 1.0
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, total * line_in + 0.6))
    ax.set_xlim(0, 1)
    ax.set_ylim(total, 0)
    ax.axis("off")
    y, centres = 0.0, []
    for w, body, lines in blocks:
        centres.append(y + 0.6)
        ax.text(0.1, y + 0.6, w.title, ha="left", va="center", fontsize=10, fontweight="bold")
        ax.text(0.1, y + 1.25, body, ha="left", va="top", fontsize=SMALL_FONT_PT, linespacing=1.3)
        y += lines
    ax.plot([0.04, 0.04], [centres[0], centres[-1]] if centres else [0, 0], color="#999999",
            linewidth=2, zorder=1)
    for (w, _, _), c in zip(blocks, centres, strict=True):
        ax.scatter([0.04], [c], s=380, color="#0072B2", zorder=2)
        ax.text(0.04, c, str(w.order), ha="center", va="center", color="white", fontweight="bold",
                fontsize=10, zorder=3)
    ax.set_title("Det første år: arbejdsspor i kildens rækkefølge", loc="left")
    finish(fig)
    import pandas as pd

    table = pd.DataFrame([{"Nr.": w.order, "Arbejdsspor": w.title, "Punkter": "; ".join(w.points)}
                          for w in streams], columns=["Nr.", "Arbejdsspor", "Punkter"])
    return attach(fig, FigureData(table, "Kilde: aktivitetskataloget (data/first_year.yaml)."))


# --------------------------------------------------------------------------- chapter 4
def age_coverage(target_groups: pd.DataFrame, age_bands: pd.DataFrame, *, open_end: int = 18) -> Figure:
    """Which ages the activities' target groups cover: one bar per (activity, age band).

    ``age_bands`` has ``code``, ``label``, ``min_age``, ``max_age`` (None = open, drawn to
    ``open_end`` with an arrow). Target groups without an age band are left out.
    """
    import matplotlib.pyplot as plt

    _require(target_groups, ["activity_id", "activity", "age_band"], "target groups table")
    _require(age_bands, ["code", "label", "min_age", "max_age"], "age bands")
    bands = age_bands.set_index("code")
    rows = target_groups[target_groups["age_band"].fillna("") != ""].drop_duplicates(["activity_id", "age_band"])
    rows = rows.sort_values(["activity_id"])
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 0.42 * max(len(rows), 1) + 1.3))
    palette = dict(zip(bands.index, [PALETTE[i] for i in (1, 4, 0, 2, 3, 5)], strict=False))
    drawn: list[dict[str, object]] = []
    for i, r in enumerate(rows.itertuples()):
        b = bands.loc[r.age_band]
        lo = float(b["min_age"])
        hi = float(b["max_age"]) if b["max_age"] is not None and b["max_age"] == b["max_age"] else float(open_end)
        ax.barh(i, hi - lo, left=lo, height=0.6, color=palette.get(r.age_band, "#999999"))
        is_open = b["max_age"] is None or b["max_age"] != b["max_age"]
        drawn.append({"Aktivitet nr.": int(r.activity_id), "Aktivitet": r.activity,
                      "Aldersgruppe": b["label"], "Fra alder (år)": lo,
                      "Til alder (år)": None if is_open else hi})
        if is_open:
            ax.annotate("", xy=(hi + 0.8, i), xytext=(hi, i), arrowprops={"arrowstyle": "->", "color": "#333333"})
        ax.text(hi + (1.0 if is_open else 0.2), i, b["label"], va="center", fontsize=SMALL_FONT_PT)
    ax.set_yticks(range(len(rows)), [wrap(f"{r.activity_id}. {r.activity}", 34) for r in rows.itertuples()])
    ax.invert_yaxis()
    ax.set_xlim(0, open_end + 8)
    ax.set_xlabel("Omtrentlig alder (år)")
    ax.grid(axis="y", visible=False)
    ax.set_title("Målgruppernes aldre")
    finish(fig)
    import pandas as pd

    table = pd.DataFrame(drawn, columns=["Aktivitet nr.", "Aktivitet", "Aldersgruppe", "Fra alder (år)",
                                         "Til alder (år)"])
    return attach(fig, FigureData(table, SOURCE_ANNEX, units={"Fra alder (år)": "år", "Til alder (år)": "år"},
                                  notes=["Til alder tom: aldersgruppen er åben opadtil."]))


def target_kinds_matrix(target_groups: pd.DataFrame, activity_labels: dict[int, str],
                        kind_labels: dict[str, str]) -> Figure:
    """Dot matrix: activities (rows, every activity) × kinds of target group (columns)."""
    import matplotlib.pyplot as plt

    _require(target_groups, ["activity_id", "kind"], "target groups table")
    kinds = [k for k in kind_labels if k in set(target_groups["kind"])]
    acts = list(activity_labels)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 0.3 * len(acts) + 2.6))
    pairs = set(zip(target_groups["activity_id"].astype(int), target_groups["kind"], strict=True))
    xs, ys = [], []
    for yi, aid in enumerate(acts):
        for xi, k in enumerate(kinds):
            if (aid, k) in pairs:
                xs.append(xi)
                ys.append(yi)
    ax.scatter(xs, ys, s=70, color="#0072B2")
    import pandas as pd

    table = pd.DataFrame([{"Aktivitet nr.": acts[y], "Aktivitet": activity_labels[acts[y]],
                           "Slags målgruppe": kind_labels[kinds[x]]} for x, y in zip(xs, ys, strict=True)],
                         columns=["Aktivitet nr.", "Aktivitet", "Slags målgruppe"])
    ax.set_xticks(range(len(kinds)), [wrap(kind_labels[k], 44) for k in kinds], rotation=90)
    ax.set_yticks(range(len(acts)), [wrap(f"{a}. {activity_labels[a]}", 40) for a in acts])
    ax.set_xlim(-0.5, len(kinds) - 0.5)
    ax.set_ylim(len(acts) - 0.5, -0.5)
    ax.set_title("Målgrupper efter slags")
    finish(fig)
    return attach(fig, FigureData(table, SOURCE_ANNEX, notes=["Én række pr. prik i figuren."]))


#: Words that mark a stated count as a count of persons (reach), not of ideas, schools or answers.
PERSON_WORDS: tuple[str, ...] = ("elever", "unge", "deltag", "frivillige", "lærere", "personer", "børn medvirket")
#: Words that exclude a count from reach (survey results, shares).
NOT_REACH_WORDS: tuple[str, ...] = ("procent", "svarede", "pr. kommunal")


def reach_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """The stated counts of persons (reach and target sizes) from ``counts_table``, deduplicated.

    A count is kept when its ``what`` names persons (``PERSON_WORDS``) and not a survey result
    (``NOT_REACH_WORDS``); the same (activity, what, value) stated twice is kept once.
    Adds ``label`` (the value with its qualifier, e.g. 'ca. 600').
    """
    from plusdig.core import fmt

    _require(counts, ["activity_id", "activity", "what", "value", "qualifier"], "counts table")
    what = counts["what"].str.lower()
    keep = what.apply(lambda w: any(p in w for p in PERSON_WORDS) and not any(n in w for n in NOT_REACH_WORDS))
    out = counts[keep].drop_duplicates(["activity_id", "what", "value"]).copy()
    out["label"] = [fmt.approx(v, q or None) for v, q in zip(out["value"], out["qualifier"], strict=True)]
    out["approximate"] = out["qualifier"].fillna("") != ""
    return out.reset_index(drop=True)


def reach_chart(reach: pd.DataFrame) -> Figure:
    """Horizontal bars of stated person counts; approximate ones ('ca.', 'over' ...) hatched."""
    import matplotlib.pyplot as plt

    _require(reach, ["activity_id", "activity", "what", "value", "label", "approximate"], "reach table")
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 0.36 * max(len(reach), 1) + 1.6))
    for i, r in enumerate(reach.itertuples()):
        ax.barh(i, r.value, height=0.6, color="#0072B2", alpha=0.55 if r.approximate else 1.0,
                hatch="///" if r.approximate else None, edgecolor="#0072B2")
        ax.text(r.value * 1.08, i, r.label, va="center", fontsize=SMALL_FONT_PT)
    ax.set_yticks(range(len(reach)), [wrap(f"{r.activity_id}. {r.activity}: {r.what}", 48)
                                      for r in reach.itertuples()])
    for label in ax.get_yticklabels():
        label.set_linespacing(1.0)
    ax.invert_yaxis()
    ax.set_xscale("log")
    from plusdig.present.style import danish_axis

    danish_axis(ax, "x")
    ax.set_xlim(right=reach["value"].max() * 3 if len(reach) else 10)
    ax.set_xlabel("Antal personer (logaritmisk akse)")
    ax.grid(axis="y", visible=False)
    handles = [plt.Rectangle((0, 0), 1, 1, color="#0072B2"),
               plt.Rectangle((0, 0), 1, 1, facecolor="#0072B2", alpha=0.55, hatch="///", edgecolor="#0072B2")]
    # below the axes, never over a bar
    ax.legend(handles, ["Angivet præcist", "Omtrentligt (ca., over, godt, mindst)"], loc="upper center",
              bbox_to_anchor=(0.5, -0.5 / (0.36 * max(len(reach), 1) + 0.3)), ncol=2)
    ax.set_title("Rækkevidde, som kilden angiver den")
    finish(fig)
    table = reach[["activity_id", "activity", "what", "value", "label", "approximate"]].rename(columns={
        "activity_id": "Aktivitet nr.", "activity": "Aktivitet", "what": "Hvad", "value": "Antal personer",
        "label": "Som kilden angiver det", "approximate": "Omtrentligt"})
    return attach(fig, FigureData(table, SOURCE_ANNEX, units={"Antal personer": "personer"}))


def _sector_counts(partners: pd.DataFrame, activity_labels: dict[int, str]) -> pd.DataFrame:
    """Activity (every one, in order) × sector: the number of named actors."""
    return (partners.groupby(["activity_id", "sector"]).size().unstack(fill_value=0)
            .reindex(index=list(activity_labels), fill_value=0))


def _sector_data(table: pd.DataFrame, sectors: list[str], activity_labels: dict[int, str],
                 sector_labels: dict[str, str]) -> FigureData:
    """The activity × sector counts as drawn: one row per activity, one column per sector."""
    view = table[sectors].rename(columns=sector_labels).astype(int)
    view.insert(0, "Aktivitet", [activity_labels[a] for a in table.index])
    view.insert(0, "Aktivitet nr.", list(table.index))
    view["I alt"] = table[sectors].sum(axis=1).astype(int).to_numpy()
    return FigureData(view.reset_index(drop=True), SOURCE_ANNEX + " Aktører: data/actors.csv.",
                      units={sector_labels[s]: "antal navngivne aktører" for s in sectors})


def partners_by_sector(partners: pd.DataFrame, activity_labels: dict[int, str],
                       sector_labels: dict[str, str]) -> Figure:
    """Stacked bars: the number of named actors per activity, by sector (``SECTOR_COLOURS``)."""
    import matplotlib.pyplot as plt

    from plusdig.present.style import SECTOR_COLOURS

    _require(partners, ["activity_id", "sector"], "partners table")
    table = _sector_counts(partners, activity_labels)
    sectors = [s for s in sector_labels if s in table.columns]
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 0.3 * len(table) + 2.2))
    left = [0] * len(table)
    for s in sectors:
        values = table[s].tolist()
        ax.barh(range(len(table)), values, left=left, height=0.6, color=SECTOR_COLOURS.get(s, "#999999"),
                label=sector_labels[s])
        left = [a + b for a, b in zip(left, values, strict=True)]
    for i, total in enumerate(left):
        ax.text(total + 0.1, i, str(total), va="center", fontsize=SMALL_FONT_PT)
    ax.set_yticks(range(len(table)), [wrap(f"{a}. {activity_labels[a]}", 40) for a in table.index])
    ax.invert_yaxis()
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlim(0, max(left, default=0) * 1.08 + 0.5)
    ax.set_xlabel("Antal navngivne aktører")
    ax.grid(axis="y", visible=False)
    ax.legend(title="Sektor", loc="upper center", bbox_to_anchor=(0.5, -1.0 / (0.3 * len(table) + 0.6)),
              ncol=2)
    ax.set_title("Aktører pr. aktivitet efter sektor")
    finish(fig)
    return attach(fig, _sector_data(table, sectors, activity_labels, sector_labels))


def sector_activities(partners: pd.DataFrame, sector: str, activity_labels: dict[int, str],
                      sector_label: str, *, x_max: int | None = None) -> Figure:
    """Bars: the activities in which actors of one sector are named, and how many of them.

    ``x_max`` fixes the axis (the sector explorer gives every sector the same one, so they
    can be compared); by default it fits this sector's counts.
    """
    import matplotlib.pyplot as plt

    from plusdig.present.style import SECTOR_COLOURS

    _require(partners, ["activity_id", "sector"], "partners table")
    counts = (partners[partners["sector"] == sector].groupby("activity_id").size()
              .reindex([a for a in activity_labels], fill_value=0))
    counts = counts[counts > 0]
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 0.34 * max(len(counts), 1) + 1.2))
    ax.barh(range(len(counts)), counts.to_numpy(), height=0.6, color=SECTOR_COLOURS.get(sector, "#999999"))
    for i, n in enumerate(counts.to_numpy()):
        ax.text(n + 0.05, i, str(int(n)), va="center", fontsize=SMALL_FONT_PT)
    ax.set_yticks(range(len(counts)), [wrap(f"{a}. {activity_labels[a]}", 44) for a in counts.index])
    ax.invert_yaxis()
    top = x_max if x_max is not None else int(counts.max()) if len(counts) else 1
    ax.set_xlim(0, top + 0.6)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("Antal navngivne aktører fra sektoren")
    ax.grid(axis="y", visible=False)
    ax.set_title(f"{sector_label}: {len(counts)} aktiviteter")
    return finish(fig)


def sector_matrix(partners: pd.DataFrame, activity_labels: dict[int, str], sector_labels: dict[str, str]) -> Figure:
    """Activity × sector table as a figure: the number of named actors, cells tinted by sector colour.

    The static counterpart of the sector explorer (every sector's view at once).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    from plusdig.present.style import SECTOR_COLOURS

    _require(partners, ["activity_id", "sector"], "partners table")
    table = _sector_counts(partners, activity_labels)
    sectors = [s for s in sector_labels if s in table.columns]
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 0.3 * len(table) + 2.4))
    peak = max(int(table.to_numpy().max()), 1) if len(table) else 1
    for yi, aid in enumerate(table.index):
        for xi, s in enumerate(sectors):
            n = int(table.at[aid, s])
            colour = to_rgba(SECTOR_COLOURS.get(s, "#999999"), 0.25 + 0.75 * n / peak) if n else "#F4F4F4"
            ax.add_patch(plt.Rectangle((xi - 0.5, yi - 0.5), 1, 1, facecolor=colour, edgecolor="white", linewidth=2))
            if n:
                ax.text(xi, yi, str(n), ha="center", va="center", fontsize=SMALL_FONT_PT)
    ax.set_xlim(-0.5, len(sectors) - 0.5)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xticks(range(len(sectors)), [wrap(sector_labels[s], 22) for s in sectors], rotation=90)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(table)), [wrap(f"{a}. {activity_labels[a]}", 40) for a in table.index])
    ax.grid(visible=False)
    ax.set_title("Navngivne aktører pr. aktivitet og sektor", pad=12)
    finish(fig)
    return attach(fig, _sector_data(table, sectors, activity_labels, sector_labels))


# --------------------------------------------------------------------------- chapters 5 and 7
def binary_heatmap(matrix: pd.DataFrame, *, title: str, xlabel: str, ylabel: str,
                   colour: str = "#0072B2", cell_width: float = 0.75,
                   source: str = "Kilde: evaluatorernes kodning (data/coding/)") -> Figure:
    """Heatmap of a 0/1 matrix (e.g. ``coding.conditions_matrix``), with row and column totals."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    values = matrix.to_numpy()
    if values.size and not set(values.ravel().tolist()) <= {0, 1}:
        from plusdig.core.errors import DataValidationError

        raise DataValidationError("coding matrix", "values other than 0 and 1", expected="a 0/1 matrix")
    # ``cell_width`` (inches) only seeds the layout: the figure is the text column's width
    fig, ax = plt.subplots(figsize=(min(FIGURE_WIDTH_IN, cell_width * matrix.shape[1] + 3.0),
                                    0.3 * matrix.shape[0] + 2.4))
    ax.imshow(values, cmap=ListedColormap(["#F2F2F2", colour]), vmin=0, vmax=1, aspect="auto")
    col_labels = [f"{c} ({int(matrix[c].sum())})" for c in matrix.columns]
    # many or long column labels are set upright (read upwards), so they never run together
    vertical = matrix.shape[1] > 6 or max((len(c) for c in col_labels), default=0) > 6
    ax.set_xticks(range(matrix.shape[1]), [wrap(c, 24) for c in col_labels],
                  rotation=90 if vertical else 0)
    ax.set_yticks(range(matrix.shape[0]),
                  [wrap(f"{r} ({int(matrix.loc[r].sum())})", 44) for r in matrix.index])
    ax.set_xticks([x - 0.5 for x in range(1, matrix.shape[1])], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, matrix.shape[0])], minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="minor", length=0)
    ax.xaxis.tick_top()
    ax.set_xlabel(xlabel)
    ax.xaxis.set_label_position("top")
    ax.set_ylabel(ylabel)
    ax.set_title(title, pad=12)
    finish(fig)
    view = matrix.astype(int).rename(columns=str)
    view.insert(0, ylabel, [str(r) for r in matrix.index])
    return attach(fig, FigureData(view.reset_index(drop=True), source,
                                  notes=["1: koblet, 0: ikke koblet (evaluatorernes kodning)."]))


# --------------------------------------------------------------------------- chapter 6
def published_changes(published: pd.DataFrame, indicators: list[str]) -> Figure:
    """One panel per indicator: the published values by year (e.g. 2017 and 2018), with units."""
    import matplotlib.pyplot as plt

    from plusdig.core import fmt
    from plusdig.core.errors import DataValidationError

    _require(published, ["indicator", "label", "year_start", "value", "unit"], "published figures")
    fig, axes = plt.subplots(1, len(indicators), figsize=(FIGURE_WIDTH_IN, 3.4), squeeze=False)
    drawn: list[dict[str, object]] = []
    for ax, ind in zip(axes[0], indicators, strict=True):
        rows = published[(published["indicator"] == ind) & published["value"].notna()].sort_values("year_start")
        if rows.empty:
            raise DataValidationError("survey/published.csv", f"no values for indicator {ind!r}",
                                      field="indicator", expected="published values by year")
        unit = rows["unit"].iloc[0]
        years = [str(int(y)) for y in rows["year_start"]]
        values = [float(v) for v in rows["value"]]
        drawn += [{"Tal": rows["label"].iloc[0], "År": int(y), "Værdi": v, "Enhed": unit}
                  for y, v in zip(rows["year_start"], values, strict=True)]
        bars = ax.bar(years, values, color=[PALETTE[4], PALETTE[0]][: len(years)] + [PALETTE[0]] * (len(years) - 2))
        ax.bar_label(bars, [fmt.percent(v) if unit == "procent" else fmt.number(v) for v in values],
                     fontsize=SMALL_FONT_PT)
        ax.set_title(wrap(rows["label"].iloc[0], 24), fontsize=SMALL_FONT_PT)
        ax.set_ylabel("Procent" if unit == "procent" else "Antal børn")
        ax.set_ylim(0, max(values) * 1.25)
        if unit == "procent":
            from plusdig.present.style import danish_axis

            danish_axis(ax, "y", percent=True)
        ax.grid(axis="x", visible=False)
    finish(fig)
    import pandas as pd

    return attach(fig, FigureData(pd.DataFrame(drawn, columns=["Tal", "År", "Værdi", "Enhed"]),
                                  "Kilde: aktivitetskataloget (data/survey/published.csv)."))
