"""The actor network of +DIG: activities × actors, coloured by sector (networkx).

The network is bipartite: one node per activity (``"a<id>"``) and one per actor (the actor id
from ``data/actors.csv``); an edge means the annex names the actor as taking part in the activity
(``partners_table``). The measures are those that matter for Collective Impact: actors that take
part in more than one activity, the number of sectors per activity, and cross-sector ties (pairs
of actors from different sectors that meet in at least one activity).
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

from plusdig.core.errors import DataValidationError
from plusdig.present.figdata import SOURCE_ANNEX, FigureData, attach

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["activity_node", "build_network", "actor_projection", "network_measures",
           "sectors_per_activity", "multi_activity_actors", "outside_main_component", "network_figure"]

_EDGE_COLUMNS = ["activity_id", "activity", "actor_id", "actor", "sector", "sector_label"]


def activity_node(activity_id: int) -> str:
    """The node name of an activity (``a1``, ``a2`` ...), distinct from every actor id."""
    return f"a{int(activity_id)}"


def build_network(partners: pd.DataFrame) -> nx.Graph:
    """Bipartite graph from an edge list (``plusdig.partners_table()``).

    Activity nodes carry ``kind='activity'``, ``activity_id`` and ``label``; actor nodes carry
    ``kind='actor'``, ``label``, ``sector`` and ``sector_label``.
    """
    import networkx as nx

    missing = [c for c in _EDGE_COLUMNS if c not in partners.columns]
    if missing:
        raise DataValidationError("partners table", f"missing column(s) {missing}",
                                  expected=f"columns {_EDGE_COLUMNS} (plusdig.partners_table())")
    graph = nx.Graph()
    for row in partners.itertuples(index=False):
        a = activity_node(row.activity_id)
        graph.add_node(a, kind="activity", activity_id=int(row.activity_id), label=row.activity)
        graph.add_node(row.actor_id, kind="actor", label=row.actor, sector=row.sector,
                       sector_label=row.sector_label)
        graph.add_edge(a, row.actor_id)
    return graph


def _nodes(graph: nx.Graph, kind: str) -> list[Any]:
    return [n for n, d in graph.nodes(data=True) if d.get("kind") == kind]


def actor_projection(graph: nx.Graph) -> nx.Graph:
    """Actor × actor graph: an edge when two actors share an activity; ``weight`` = shared activities.

    Each edge also carries ``cross_sector`` (the two actors' sectors differ).
    """
    import networkx as nx

    proj = nx.Graph()
    for n in _nodes(graph, "actor"):
        proj.add_node(n, **graph.nodes[n])
    for act in _nodes(graph, "activity"):
        for u, v in combinations(sorted(graph.neighbors(act)), 2):
            if proj.has_edge(u, v):
                proj[u][v]["weight"] += 1
            else:
                proj.add_edge(u, v, weight=1,
                              cross_sector=graph.nodes[u]["sector"] != graph.nodes[v]["sector"])
    return proj


def sectors_per_activity(graph: nx.Graph) -> pd.DataFrame:
    """Per activity: number of actors and of distinct sectors, in activity order."""
    import pandas as pd

    rows = []
    for act in _nodes(graph, "activity"):
        sectors = {graph.nodes[n]["sector"] for n in graph.neighbors(act)}
        rows.append({"activity_id": graph.nodes[act]["activity_id"], "activity": graph.nodes[act]["label"],
                     "n_actors": graph.degree(act), "n_sectors": len(sectors)})
    frame = pd.DataFrame(rows, columns=["activity_id", "activity", "n_actors", "n_sectors"])
    return frame.sort_values("activity_id").reset_index(drop=True)


def multi_activity_actors(graph: nx.Graph) -> pd.DataFrame:
    """Actors named in more than one activity, most activities first."""
    import pandas as pd

    rows = [{"actor_id": n, "actor": graph.nodes[n]["label"], "sector_label": graph.nodes[n]["sector_label"],
             "n_activities": graph.degree(n),
             "activities": ", ".join(str(graph.nodes[a]["activity_id"])
                                     for a in sorted(graph.neighbors(n),
                                                     key=lambda a: graph.nodes[a]["activity_id"]))}
            for n in _nodes(graph, "actor") if graph.degree(n) > 1]
    frame = pd.DataFrame(rows, columns=["actor_id", "actor", "sector_label", "n_activities", "activities"])
    return frame.sort_values(["n_activities", "actor"], ascending=[False, True]).reset_index(drop=True)


def network_measures(graph: nx.Graph) -> dict[str, float | int]:
    """Headline measures of the network.

    ``n_activities``, ``n_actors``, ``n_sectors``, ``n_multi_activity_actors`` (actors in more than
    one activity), ``mean_sectors_per_activity``, ``n_multi_sector_activities`` (activities with
    actors from at least two sectors), ``n_ties`` (actor pairs sharing an activity),
    ``n_cross_sector_ties`` and ``share_cross_sector_ties`` (0–1), and ``n_components`` of the
    bipartite graph.
    """
    import networkx as nx

    proj = actor_projection(graph)
    per_activity = sectors_per_activity(graph)
    ties = proj.number_of_edges()
    cross = sum(1 for _, _, d in proj.edges(data=True) if d["cross_sector"])
    actors = _nodes(graph, "actor")
    return {
        "n_activities": len(_nodes(graph, "activity")),
        "n_actors": len(actors),
        "n_sectors": len({graph.nodes[n]["sector"] for n in actors}),
        "n_multi_activity_actors": sum(1 for n in actors if graph.degree(n) > 1),
        "mean_sectors_per_activity": float(per_activity["n_sectors"].mean()) if len(per_activity) else 0.0,
        "n_multi_sector_activities": int((per_activity["n_sectors"] >= 2).sum()),
        "n_ties": ties,
        "n_cross_sector_ties": cross,
        "share_cross_sector_ties": cross / ties if ties else 0.0,
        "n_components": nx.number_connected_components(graph) if graph.number_of_nodes() else 0,
    }


def outside_main_component(graph: nx.Graph) -> list[int]:
    """Ids of the activities not connected (through shared actors) to the largest component."""
    import networkx as nx

    if graph.number_of_nodes() == 0:
        return []
    main = max(nx.connected_components(graph), key=len)
    acts = [n for n in _nodes(graph, "activity") if n not in main]
    return sorted(graph.nodes[n]["activity_id"] for n in acts)


def network_figure(graph: nx.Graph, sector_order: list[str] | None = None) -> Figure:
    """Two-column drawing: activities on the left, actors on the right grouped and coloured by sector.

    ``sector_order`` fixes the order of the sector groups (default: ``style.SECTOR_COLOURS`` order).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from plusdig.present.style import SECTOR_COLOURS

    order = sector_order or list(SECTOR_COLOURS)
    rank = {s: i for i, s in enumerate(order)}
    acts = sorted(_nodes(graph, "activity"), key=lambda n: graph.nodes[n]["activity_id"])
    actors = sorted(_nodes(graph, "actor"),
                    key=lambda n: (rank.get(graph.nodes[n]["sector"], len(rank)), graph.nodes[n]["label"]))
    from plusdig.present.style import FIGURE_WIDTH_IN, SMALL_FONT_PT, finish, wrap

    act_text = {n: wrap(f"{graph.nodes[n]['activity_id']}. {graph.nodes[n]['label']}", 22) for n in acts}
    # the count stays with the name's last word (a no-break space: textwrap never breaks there)
    actor_text = {n: wrap(f"{graph.nodes[n]['label']}\u00a0({graph.degree(n)})", 32) for n in actors}

    def stack(names: list[Any], texts: dict[Any, str]) -> dict[Any, float]:
        """Each label's centre in lines from the top: a label of two lines takes two."""
        y, centres = 0.0, {}
        for n in names:
            lines = texts[n].count("\n") + 1
            centres[n] = y + (lines + 0.3) / 2
            y += lines + 0.3
        return centres

    act_y, actor_y = stack(acts, act_text), stack(actors, actor_text)
    total = max(sum(t.count("\n") + 1.3 for t in act_text.values()),
                sum(t.count("\n") + 1.3 for t in actor_text.values()), 1.0)
    pos: dict[Any, tuple[float, float]] = {}
    for names, centres, texts, x in ((acts, act_y, act_text, 0.0), (actors, actor_y, actor_text, 1.0)):
        used = sum(texts[n].count("\n") + 1.3 for n in names)
        stretch = total / used if used else 1.0  # the shorter column is spread over the height
        for n in names:
            pos[n] = (x, total - centres[n] * stretch)
    line_in = SMALL_FONT_PT * 1.2 / 72
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, total * line_in + 1.6))
    for u, v in graph.edges():
        actor = v if graph.nodes[v]["kind"] == "actor" else u
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ax.plot([x0, x1], [y0, y1], color=SECTOR_COLOURS.get(graph.nodes[actor]["sector"], "#999999"),
                alpha=0.45, linewidth=1.0, zorder=1)
    # A label starts beside its dot, never under it: offset by the dot's radius (points) + a gap.
    for n in acts:
        x, y = pos[n]
        ax.scatter([x], [y], s=40, marker="s", color="#333333", zorder=2)
        ax.annotate(act_text[n], (x, y), xytext=(-(40 ** 0.5) / 2 - 4, 0), textcoords="offset points",
                    ha="right", va="center", fontsize=SMALL_FONT_PT, linespacing=1.0)
    for n in actors:
        x, y = pos[n]
        d = graph.nodes[n]
        size = 20 + 20 * graph.degree(n)
        ax.scatter([x], [y], s=size, color=SECTOR_COLOURS.get(d["sector"], "#999999"),
                   edgecolor="#333333", linewidth=0.5, zorder=2)
        ax.annotate(actor_text[n], (x, y), xytext=(size ** 0.5 / 2 + 4, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=SMALL_FONT_PT, linespacing=1.0)
    present = []
    for s in order:
        labels = {graph.nodes[n]["sector_label"] for n in actors if graph.nodes[n]["sector"] == s}
        if labels:
            present.append(Line2D([0], [0], marker="o", linestyle="", color=SECTOR_COLOURS[s],
                                  markeredgecolor="#333333", label=labels.pop()))
    ax.legend(handles=present, title="Sektor", loc="upper center", bbox_to_anchor=(0.5, -0.01),
              ncol=min(2, max(len(present), 1)))
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(0, total + 0.2)
    ax.axis("off")
    ax.set_title("Aktiviteter og aktører (antal aktiviteter i parentes)")
    finish(fig)
    return attach(fig, _network_data(graph, acts))


def _network_data(graph: nx.Graph, acts: list[Any]) -> FigureData:
    """The drawn ties: one row per (activity, actor), activities in the figure's order."""
    import pandas as pd

    rows = []
    for n in acts:
        a = graph.nodes[n]
        for m in sorted(graph.neighbors(n), key=lambda m: graph.nodes[m]["label"]):
            d = graph.nodes[m]
            rows.append({"Aktivitet nr.": a["activity_id"], "Aktivitet": a["label"], "Aktør": d["label"],
                         "Sektor": d["sector_label"], "Aktørens antal aktiviteter": graph.degree(m)})
    columns = ["Aktivitet nr.", "Aktivitet", "Aktør", "Sektor", "Aktørens antal aktiviteter"]
    return FigureData(pd.DataFrame(rows, columns=columns), SOURCE_ANNEX + " Aktører: data/actors.csv.",
                      notes=["Én række pr. linje i figuren (aktivitet–aktør)."])
