"""Unit tests of plusdig.present.network on a small hand-made edge list with known answers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from plusdig import DataValidationError
from plusdig.present import network

ROWS = [  # activity, actor, sector
    (1, "sek", "municipality"), (1, "ung", "young_people"), (1, "bib", "municipality"),
    (2, "sek", "municipality"), (2, "dgi", "national_org"),
    (3, "alone", "civil_society"),
]
LABELS = {"municipality": "Kommune", "young_people": "Unge", "national_org": "Landsdækkende organisation",
          "civil_society": "Civilsamfund og foreninger"}


def partners() -> pd.DataFrame:
    return pd.DataFrame([{"activity_id": a, "activity": f"Aktivitet {a}", "actor_id": p, "actor": p.upper(),
                          "sector": s, "sector_label": LABELS[s]} for a, p, s in ROWS])


def test_build_network_is_bipartite_with_attributes() -> None:
    g = network.build_network(partners())
    assert g.number_of_nodes() == 3 + 5 and g.number_of_edges() == len(ROWS)
    assert g.nodes["a1"]["kind"] == "activity" and g.nodes["sek"]["sector"] == "municipality"
    assert all(g.nodes[u]["kind"] != g.nodes[v]["kind"] for u, v in g.edges())


def test_projection_and_cross_sector_ties() -> None:
    proj = network.actor_projection(network.build_network(partners()))
    # activity 1: sek-ung (cross), sek-bib (same), ung-bib (cross); activity 2: sek-dgi (cross)
    assert proj.number_of_edges() == 4
    assert proj["sek"]["bib"]["cross_sector"] is False
    assert proj["sek"]["dgi"]["cross_sector"] is True
    assert proj.degree("alone") == 0


def test_measures() -> None:
    m = network.network_measures(network.build_network(partners()))
    assert m["n_activities"] == 3 and m["n_actors"] == 5 and m["n_sectors"] == 4
    assert m["n_multi_activity_actors"] == 1  # only the secretariat is in two activities
    assert m["n_ties"] == 4 and m["n_cross_sector_ties"] == 3
    assert m["share_cross_sector_ties"] == pytest.approx(0.75)
    assert m["mean_sectors_per_activity"] == pytest.approx((2 + 2 + 1) / 3)
    assert m["n_multi_sector_activities"] == 2
    assert m["n_components"] == 2  # activity 3 stands alone


def test_tables() -> None:
    g = network.build_network(partners())
    per = network.sectors_per_activity(g)
    assert per["n_actors"].tolist() == [3, 2, 1] and per["n_sectors"].tolist() == [2, 2, 1]
    multi = network.multi_activity_actors(g)
    assert multi["actor_id"].tolist() == ["sek"] and multi.loc[0, "activities"] == "1, 2"


def test_shared_activity_weights() -> None:
    rows = partners()
    extra = rows.iloc[[0, 1]].assign(activity_id=4, activity="Aktivitet 4")
    proj = network.actor_projection(network.build_network(pd.concat([rows, extra])))
    assert proj["sek"]["ung"]["weight"] == 2


def test_figure_colours_actors_by_sector() -> None:
    from plusdig.present.style import SECTOR_COLOURS

    fig = network.network_figure(network.build_network(partners()))
    assert fig.number not in plt.get_fignums()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["Kommune", "Civilsamfund og foreninger", "Landsdækkende organisation", "Unge"]
    edge_colours = {matplotlib.colors.to_hex(line.get_color()) for line in fig.axes[0].lines}
    assert edge_colours == {SECTOR_COLOURS[s].lower() for _, _, s in ROWS}


def test_missing_columns_refused() -> None:
    with pytest.raises(DataValidationError, match="actor_id"):
        network.build_network(partners().drop(columns=["actor_id"]))


def test_outside_main_component() -> None:
    assert network.outside_main_component(network.build_network(partners())) == [3]
    assert network.outside_main_component(network.build_network(partners().iloc[:5])) == []
