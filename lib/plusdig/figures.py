"""The book's figures as functions: data in, matplotlib Figure out.

Chapters call these and hold only narrative; each function is unit-tested. Every figure
function takes tidy tables from :mod:`plusdig.load` and returns a Figure in the house style.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def activities_per_year(activities: pd.DataFrame) -> Figure:
    """Bar chart: number of activities by the first year the source states ('Ikke angivet' if none)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    years = activities["year"].astype("string").fillna("Ikke angivet")
    order = sorted(y for y in years.unique() if y != "Ikke angivet") + (
        ["Ikke angivet"] if (years == "Ikke angivet").any() else [])
    counts = years.value_counts().reindex(order).rename_axis("år").reset_index(name="antal")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.barplot(data=counts, x="år", y="antal", ax=ax, color="#0072B2")
    ax.bar_label(ax.containers[0])
    ax.set_xlabel("Første år, kilden angiver")
    ax.set_ylabel("Antal aktiviteter")
    ax.set_title("Aktiviteter efter år")
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    plt.close(fig)
    return fig
