"""Unit tests of plusdig.present.figures on small fixture tables: each function returns a closed Figure
that shows what its data says, and bad input is refused with a DataValidationError."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from plusdig import DataValidationError
from plusdig.present import figures
from plusdig.data.models import FirstYear
from plusdig.present.style import SECTOR_COLOURS

LABELS = {1: "Bus", 2: "Hack", 3: "Heste", 4: "Kursus", 5: "Job"}

PARTNERS = pd.DataFrame([
    {"activity_id": 1, "activity": "Bus", "actor_id": "sek", "actor": "Sekretariatet", "sector": "municipality",
     "sector_label": "Kommune"},
    {"activity_id": 1, "activity": "Bus", "actor_id": "ung", "actor": "Elevråd", "sector": "young_people",
     "sector_label": "Unge"},
    {"activity_id": 2, "activity": "Hack", "actor_id": "sek", "actor": "Sekretariatet", "sector": "municipality",
     "sector_label": "Kommune"},
    {"activity_id": 4, "activity": "Kursus", "actor_id": "dgi", "actor": "DGI", "sector": "national_org",
     "sector_label": "Landsdækkende organisation"},
])
SECTOR_LABELS = {"municipality": "Kommune", "young_people": "Unge", "national_org": "Landsdækkende organisation",
                 "business": "Erhvervsliv"}


def closed(fig: Figure) -> bool:
    return fig.number not in plt.get_fignums()


def texts(fig: Figure) -> str:
    return " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_activities_per_year_counts_undated() -> None:
    frame = pd.DataFrame({"year": pd.array([2017, 2017, None], dtype="Int64")})
    fig = figures.activities_per_year(frame)
    assert closed(fig)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [2, 1]
    assert "Ikke angivet" in texts(fig)


def test_age_coverage_open_band_and_missing_band() -> None:
    tg = pd.DataFrame({"activity_id": [1, 2, 3], "activity": ["Bus", "Møder", "Job"],
                       "age_band": ["grade_6_9", "age_14_plus", ""]})
    bands = pd.DataFrame([{"code": "grade_6_9", "label": "6.-9. klasse", "min_age": 12, "max_age": 16},
                          {"code": "age_14_plus", "label": "14 år og opefter", "min_age": 14, "max_age": None}])
    fig = figures.age_coverage(tg, bands, open_end=18)
    bars = fig.axes[0].patches
    assert [(b.get_x(), b.get_width()) for b in bars] == [(12, 4), (14, 4)]
    assert "Job" not in texts(fig)


def test_target_kinds_matrix_places_dots() -> None:
    tg = pd.DataFrame({"activity_id": [1, 1, 2], "kind": ["pupils", "teachers", "pupils"]})
    fig = figures.target_kinds_matrix(tg, {1: "Bus", 2: "Hack", 3: "Tom"}, {"pupils": "Elever", "teachers": "Lærere",
                                                                           "unused": "X"})
    offsets = fig.axes[0].collections[0].get_offsets().tolist()
    assert sorted(map(tuple, offsets)) == [(0, 0), (0, 1), (1, 0)]
    assert len(fig.axes[0].get_xticks()) == 2  # unused kinds are not drawn


def test_reach_counts_filters_and_labels() -> None:
    counts = pd.DataFrame([
        {"activity_id": 1, "activity": "Bus", "what": "elever i målgruppen", "value": 600, "qualifier": "ca."},
        {"activity_id": 1, "activity": "Bus", "what": "folkeskoler i Lejre", "value": 7, "qualifier": ""},
        {"activity_id": 2, "activity": "Hack", "what": "idéer genereret", "value": 300, "qualifier": "over"},
        {"activity_id": 13, "activity": "Survey", "what": "børn medvirket pr. undersøgelse", "value": 1100,
         "qualifier": "ca."},
        {"activity_id": 13, "activity": "Survey", "what": "børn medvirket pr. undersøgelse", "value": 1100,
         "qualifier": "ca."},
        {"activity_id": 13, "activity": "Survey", "what": "procent af de ensomme børn", "value": 66, "qualifier": ""},
    ])
    reach = figures.reach_counts(counts)
    assert reach["what"].tolist() == ["elever i målgruppen", "børn medvirket pr. undersøgelse"]
    assert reach["label"].tolist() == ["ca. 600", "ca. 1.100"]
    assert reach["approximate"].tolist() == [True, True]
    fig = figures.reach_chart(reach)
    assert [p.get_width() for p in fig.axes[0].patches[:2]] == [600, 1100]
    assert "ca. 1.100" in texts(fig)


def test_partners_by_sector_stacks_with_sector_colours() -> None:
    fig = figures.partners_by_sector(PARTNERS, LABELS, SECTOR_LABELS)
    ax = fig.axes[0]
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches if p.get_width() > 0}
    assert colours == {SECTOR_COLOURS[s].lower() for s in ["municipality", "young_people", "national_org"]}
    widths = {}
    for p in ax.patches:
        y = round(p.get_y() + p.get_height() / 2)
        widths[y] = widths.get(y, 0) + p.get_width()
    assert widths == {0: 2, 1: 1, 2: 0, 3: 1, 4: 0}  # every activity is a row, empty ones too


def test_sector_activities() -> None:
    fig = figures.sector_activities(PARTNERS, "municipality", LABELS, "Kommune")
    assert [p.get_width() for p in fig.axes[0].patches] == [1, 1]
    assert "Kommune: 2 aktiviteter" in texts(fig)


def test_binary_heatmap_totals_and_refuses_non_binary() -> None:
    m = pd.DataFrame([[1, 0], [1, 1]], index=["a", "b"], columns=["X", "Y"])
    fig = figures.binary_heatmap(m, title="T", xlabel="x", ylabel="y")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["X (2)", "Y (1)"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a (1)", "b (2)"]
    with pytest.raises(DataValidationError):
        figures.binary_heatmap(m * 2, title="T", xlabel="x", ylabel="y")


def test_published_changes_panels_and_labels() -> None:
    pub = pd.DataFrame([
        {"indicator": "n", "label": "Slet ikke glad", "year_start": 2017, "value": 84.0, "unit": "antal"},
        {"indicator": "n", "label": "Slet ikke glad", "year_start": 2018, "value": 54.0, "unit": "antal"},
        {"indicator": "p", "label": "Drillet", "year_start": 2018, "value": 5.0, "unit": "procent"},
        {"indicator": "p", "label": "Drillet", "year_start": 2017, "value": 10.0, "unit": "procent"},
        {"indicator": "d", "label": "Retning", "year_start": 2017, "value": None, "unit": "antal"},
    ])
    fig = figures.published_changes(pub, ["n", "p"])
    assert len(fig.axes) == 2
    assert [p.get_height() for p in fig.axes[1].patches] == [10.0, 5.0]  # sorted by year
    assert "10 %" in texts(fig) and "84" in texts(fig)
    with pytest.raises(DataValidationError):
        figures.published_changes(pub, ["d"])


def test_first_year_and_organisation() -> None:
    fy = FirstYear.model_validate({
        "forord": ["f"], "laesevejledning": ["l"], "intro": ["i"],
        "workstreams": [
            {"id": "alliancen", "order": 2, "title": "Alliancen", "points": ["Styregruppe."]},
            {"id": "organisatorisk-ramme", "order": 1, "title": "Ramme", "points": ["Sekretariat."]},
            {"id": "koordinationsgruppe", "order": 3, "title": "Koordination", "points": ["Ledere."]},
        ]})
    fig = figures.first_year_phases(fy)
    t = texts(fig)
    assert t.index("Ramme") < t.index("Alliancen") < t.index("Koordination")
    partners = pd.DataFrame({"activity_id": [1, 2, 2], "actor_id": ["dig-sekretariatet", "dig-sekretariatet",
                                                                    "alliancegruppen"]})
    fig = figures.organisation_diagram(fy, partners, [1, 2, 3])
    t = texts(fig)
    assert "Med i 2 af 3 aktiviteter" in t and "Med i 1 af 3 aktiviteter" in t and "Med i 0 af 3 aktiviteter" in t
    assert len(fig.axes[0].lines) == 3
    with pytest.raises(DataValidationError):
        figures.organisation_diagram(fy, partners, [1], bodies=[("nowhere", "x", "X")])


def test_sector_matrix_annotates_counts() -> None:
    fig = figures.sector_matrix(PARTNERS, LABELS, SECTOR_LABELS)
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(cells) == ["1", "1", "1", "1"]
    assert len(fig.axes[0].patches) == len(LABELS) * 3  # three sectors present, business absent
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Kommune", "Unge", "Landsdækkende\norganisation"]


#: Names that mathtext would parse (and partly fail on): printed as they are in every figure.
MATH_NAMES = ["Pris $5 og $10", r"$\frac{a$", r"$x^2$ \(y\) $$z$$", "a_b_c {x} 100 % # ~"]


def test_names_from_data_are_printed_literally_never_as_mathtext() -> None:
    """House style: no mathtext from data; a "$" neither crashes (ParseFatalException) nor
    turns a name into math. Every figure is drawn (PNG) and carries the names as written."""
    from plusdig.present import network
    from plusdig.present import widgets
    from plusdig.present.style import use_house_style

    use_house_style()
    assert matplotlib.rcParams["text.parse_math"] is False
    labels = {i + 1: name for i, name in enumerate(MATH_NAMES)}
    partners = pd.DataFrame([
        {"activity_id": i, "activity": name, "actor_id": f"a{i}", "actor": f"Aktør {name}",
         "sector": "municipality" if i % 2 else "business",
         "sector_label": "Kommune $1$" if i % 2 else "Erhvervsliv"}
        for i, name in labels.items()])
    sectors = {"municipality": "Kommune $1$", "business": "Erhvervsliv"}
    figs = [figures.partners_by_sector(partners, labels, sectors),
            figures.sector_activities(partners, "municipality", labels, "Kommune $1$"),
            figures.sector_matrix(partners, labels, sectors),
            network.network_figure(network.build_network(partners))]
    for fig in figs:
        assert widgets.figure_png(fig).startswith(b"\x89PNG")  # drawn: mathtext would raise
        assert not any(t._parse_math for t in fig.findobj(matplotlib.text.Text))  # noqa: SLF001
    for fig in (figs[0], figs[2], figs[3]):  # every activity is a row (or a node) in these
        for name in MATH_NAMES:
            assert name in texts(fig), (name, texts(fig))


def _laid_out(fig: Figure, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``style.finish(fig)`` with no figure memo: the figure widths it laid ``fig`` out at."""
    from plusdig.present import figmemo, style

    monkeypatch.delenv(figmemo.MEMO_ENV, raising=False)
    widths: list[float] = []
    draw = fig.draw

    def counted(renderer):  # type: ignore[no-untyped-def]
        widths.append(fig.get_figwidth())
        return draw(renderer)

    monkeypatch.setattr(fig, "draw", counted)
    style.finish(fig)
    return widths


def _saved_width(fig: Figure) -> float:
    """The width (in) of ``fig`` saved as the book saves it (``bbox_inches="tight"``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    return fig.get_tightbbox(renderer).width + 2 * plt.rcParams["savefig.pad_inches"]


def test_finish_fills_the_column_and_gives_up_at_once_on_a_label_that_cannot_fit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure that can fit is saved as wide as the text column; one whose label is wider
    than the column at any figure width (hostile data: a 300-character name) is laid out at
    the narrowest width after the first trial and kept there, not bisected towards it."""
    from plusdig.present import style

    def figure(label: str) -> Figure:
        fig, ax = plt.subplots(figsize=(6.5, 2.5))
        ax.barh([label, "b"], [3, 4])
        return fig

    fits = figure("Kort navn")
    widths = _laid_out(fits, monkeypatch)
    saved = _saved_width(fits)
    assert style.FIGURE_WIDTH_IN - 0.02 <= saved <= style.FIGURE_WIDTH_IN + 0.005
    assert 1 < len(widths) <= 6 and min(widths) > 1.0

    too_wide = figure("x" * 300)
    with warnings.catch_warnings():  # no English warning of matplotlib's on the page's stderr
        warnings.simplefilter("error")
        widths = _laid_out(too_wide, monkeypatch)
    assert widths[1:] == [1.0] and too_wide.get_figwidth() == 1.0  # tried once, and kept
    assert _saved_width(too_wide) > 3 * style.FIGURE_WIDTH_IN  # it cannot fit
