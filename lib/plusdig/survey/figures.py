"""The survey chapter's figures, drawn from the disclosure-controlled tables.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from plusdig.survey.result import SurveyTable

if TYPE_CHECKING:
    from plusdig.present.figdata import FigureData
    from matplotlib.figure import Figure


__all__ = [
    "figure_prevalence_trend", "figure_prevalence_groups", "figure_comparison",
    "figure_indicator_trend",
]


# --------------------------------------------------------------------------- figures
def _label_synthetic(fig: Figure, synthetic: bool) -> None:
    from plusdig.present.style import SYNTHETIC_LABEL

    if synthetic:  # in the band kept free above the title (_finish): never over the title
        fig.text(0.995, 0.995, SYNTHETIC_LABEL.upper(), ha="right", va="top", fontsize=10,
                 fontweight="bold", color="white",
                 bbox={"boxstyle": "round,pad=0.3", "facecolor": "#B00020", "edgecolor": "none"})


def _note_dropped(fig: Figure, n_dropped: int, k: int) -> None:
    from plusdig.present.style import SMALL_FONT_PT

    if n_dropped:
        what = "værdi" if n_dropped == 1 else "værdier"
        fig.text(0.01, 0.005, f"Udeladt: {n_dropped} {what} med færre end {k} besvarelser "
                 "eller sekundært undertrykt.", ha="left", va="bottom", fontsize=SMALL_FONT_PT,
                 color="#444444")


def _finish(fig: Figure, n_dropped: int, table: SurveyTable, *, bottom_in: float = 0.0) -> Figure:
    """Every survey figure's last step: note dropped values, label synthetic data, lay out
    for the text column with a band for the label above and the note below, attach the
    data drawn (:func:`figure_data`)."""
    return _finish_with(fig, n_dropped, table, figure_data(table), bottom_in=bottom_in)


def _finish_with(fig: Figure, n_dropped: int, table: SurveyTable, data: FigureData, *,
                 bottom_in: float = 0.0) -> Figure:
    """:func:`_finish` with the figure's data given (a figure of the survey layer's other
    modules: :mod:`plusdig.survey.funnel`)."""
    from plusdig.present.figdata import attach
    from plusdig.present.style import finish

    _note_dropped(fig, n_dropped, table.k)
    _label_synthetic(fig, table.synthetic)
    return attach(finish(fig, top_in=0.3 if table.synthetic else 0.0,
                         bottom_in=bottom_in + (0.25 if n_dropped else 0.0)), data)


#: The columns of a survey table a figure of it draws (the table's Danish headers).
_FIGURE_COLUMNS: dict[str, list[str]] = {
    "prevalence": ["År", "Andel ensomme", "95 %-konfidensinterval"],
    "comparison": ["Mål", "År", "Ensomme", "Ikke ensomme"],
}


def figure_data(table: SurveyTable) -> FigureData:
    """The data a survey figure draws, as the page prints it: the rows and columns of the
    figure's table (suppressed cells «–», shares rounded as printed), never more."""
    from plusdig.present.figdata import FigureData

    shown = table.display
    if table.name.startswith("prevalence"):
        columns = list(_FIGURE_COLUMNS["prevalence"])
        if table.name != "prevalence_year":
            columns.insert(1, shown.columns[1])  # the group: Klassetrin, Køn, Skole
            shown = shown[shown[shown.columns[1]] != "I alt"]
    elif table.name == "comparison":
        columns = _FIGURE_COLUMNS["comparison"]
    elif table.name == "trend":  # the figure draws the primary indicators' rows
        from plusdig.survey.inference import PRIMARY

        drawn = table.values["indicator"].isin(PRIMARY).to_numpy()
        if len(drawn) != len(shown):
            raise ValueError("survey table 'trend': values and printed rows differ in number")
        shown = shown[drawn]
        columns = [c for c in shown.columns if c == shown.columns[0] or str(c).isdigit()]
    else:
        raise ValueError(f"no figure is drawn from survey table {table.name!r}")
    source = ("Kilde: trivselsmålingen, " + ("syntetiske data" if table.synthetic
                                             else "de leverede besvarelser") + ".")
    return FigureData(shown[columns].reset_index(drop=True), source, synthetic=table.synthetic,
                      notes=["Tallene er afrundet og undertrykt som i tabellen på siden "
                             f"(»–«: undertrykt, færre end {table.k} besvarelser eller skjult)."])


def _wrap(text: object, width: int) -> str:
    from plusdig.present.style import wrap

    return wrap(text, width)


def figure_prevalence_trend(table: SurveyTable) -> Figure:
    """Share answering yes to loneliness by year, with 95 % Wilson intervals."""
    import matplotlib.pyplot as plt

    from plusdig.present.style import FIGURE_WIDTH_IN, PALETTE, danish_axis

    v = table.values.dropna(subset=["share"]).sort_values("year")
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 3.6))
    ax.errorbar(v["year"].astype(str), v["share"] * 100,
                yerr=[(v["share"] - v["low"]) * 100, (v["high"] - v["share"]) * 100],
                fmt="o-", color=PALETTE[0], capsize=4, lw=2)
    ax.set_ylim(0, max(40.0, float((v["high"] * 100).max()) + 5 if len(v) else 40.0))
    danish_axis(ax, "y", percent=True)
    ax.set_xlabel("Måling")
    ax.set_ylabel("Svarer ja til ensomhed")
    ax.set_title("Andel, der svarer ja til ensomhed")
    return _finish(fig, int(table.values["share"].isna().sum()), table)


def figure_prevalence_groups(table: SurveyTable, title: str, xlabel: str) -> Figure:
    """Share answering yes to loneliness by group and year (95 % Wilson intervals).

    Suppressed groups (NaN) are dropped from the figure, and the figure says how many.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from plusdig.present.style import FIGURE_WIDTH_IN, PALETTE, danish_axis

    v = table.values[table.values["group"] != "I alt"]
    dropped = int(v["share"].isna().sum())
    v = v.dropna(subset=["share"])
    groups = list(dict.fromkeys(table.values.loc[table.values["group"] != "I alt", "group"]))
    groups = [g for g in groups if g in set(v["group"])]
    years = sorted(v["year"].unique().tolist())
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 4.0))
    width = 0.8 / max(len(years), 1)
    pos = {g: i for i, g in enumerate(groups)}
    for j, year in enumerate(years):
        s = v[v["year"] == year]
        x = np.array([pos[g] for g in s["group"]]) - 0.4 + width * (j + 0.5)
        ax.errorbar(x, s["share"] * 100, yerr=[(s["share"] - s["low"]) * 100,
                                               (s["high"] - s["share"]) * 100],
                    fmt="o", capsize=3, color=PALETTE[j % len(PALETTE)], label=f"Måling {year}")
    # many or long group names (schools) are set upright, so they never run together
    upright = len(groups) > 5 or max((len(str(g)) for g in groups), default=0) > 12
    ax.set_xticks(range(len(groups)), [_wrap(g, 24 if upright else 12) for g in groups],
                  rotation=90 if upright else 0)
    danish_axis(ax, "y", percent=True)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Svarer ja til ensomhed")
    ax.set_title(title)
    if years:  # above the axes, right of nothing: never over a point
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(years), borderaxespad=0.2)
        ax.set_title(title, pad=24)
    return _finish(fig, dropped, table)


def figure_comparison(table: SurveyTable) -> Figure:
    """Lonely vs not lonely on every other measure: shares per year (suppressed ones dropped)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from plusdig.present.style import FIGURE_WIDTH_IN, PALETTE, danish_axis

    v = table.values
    years = sorted(v["year"].unique().tolist())
    labels = list(dict.fromkeys(v["label"]))
    fig, axes = plt.subplots(1, max(len(years), 1), figsize=(FIGURE_WIDTH_IN, 0.32 * len(labels) + 1.8),
                             sharey=True, squeeze=False)
    dropped = 0
    for ax, year in zip(axes[0], years, strict=False):
        s = v[v["year"] == year].set_index("label").reindex(labels)
        y = np.arange(len(labels))
        for col, colour, name in (("lonely_share", PALETTE[5], "Ensomme"),
                                  ("other_share", PALETTE[0], "Ikke ensomme")):
            ok = s[col].notna().to_numpy()
            dropped += int((~ok).sum())
            ax.scatter(s[col].to_numpy()[ok] * 100, y[ok], color=colour, label=name, zorder=3, s=25)
        both = s["lonely_share"].notna() & s["other_share"].notna()
        ax.hlines(y[both.to_numpy()], s.loc[both, "lonely_share"] * 100,
                  s.loc[both, "other_share"] * 100, color="#999999", lw=1, zorder=2)
        ax.set_title(str(year))
        ax.set_xlim(-5, 105)
        ax.set_xticks([0, 50, 100])
        danish_axis(ax, "x", percent=True)
    axes[0][0].set_yticks(range(len(labels)), [_wrap(lab, 34) for lab in labels])
    for label in axes[0][0].get_yticklabels():
        label.set_linespacing(1.0)
    axes[0][0].invert_yaxis()
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles[:2], names[:2], loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=2,
               frameon=False)
    # left-aligned, so the synthetic-data label at the right never runs into it
    fig.suptitle("Ensomme og ikke-ensomme børn på de øvrige mål", x=0.01, ha="left")
    return _finish(fig, dropped, table, bottom_in=0.3)


def figure_indicator_trend(table: SurveyTable) -> Figure:
    """The four primary indicators (shares) per year, one line each (the table's rows per 100
    pupils stay in the table)."""
    import matplotlib.pyplot as plt

    from plusdig.present.style import FIGURE_WIDTH_IN, PALETTE, danish_axis
    from plusdig.survey.inference import PRIMARY

    v = table.values[table.values["indicator"].isin(PRIMARY)]
    years = [c for c in v.columns if c.isdigit()]
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 4.2))
    dropped = 0
    for i, (_, row) in enumerate(v.iterrows()):
        ys = [row[y] * 100 for y in years]
        dropped += sum(1 for y in ys if math.isnan(y))
        ax.plot(years, ys, "o-", color=PALETTE[i % len(PALETTE)], label=_wrap(row["label"], 40))
    danish_axis(ax, "y", percent=True)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Måling")
    ax.set_ylabel("Andel")
    ax.set_title("Nøgletal over tid")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2)
    return _finish(fig, dropped, table)
