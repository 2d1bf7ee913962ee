"""Every figure the book draws, drawn from the book's data as its chapter draws it, measured
where the reader sees it (plusdig.present.legibility):

- the smallest text is at least 9 pt on the site (the image fills the 768 px text column at a
  1400 px window) and in the PDF (printed at its size, at most the A4 text column wide);
- no text runs into another text, a marker or a legend, and no legend covers data;
- the colours that carry meaning (sectors, the palette) have 3:1 contrast against white.

The catalogue below must name every figure the chapters glue (checked against the notebooks),
so a new figure cannot escape these checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from plusdig.present import legibility  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@cache
def _data() -> dict:
    import pandas as pd

    import plusdig
    from plusdig.data import coding
    from plusdig.data.load import load_first_year, vocab_labels
    from plusdig.present import network
    from plusdig.present.style import use_house_style

    use_house_style()
    acts = plusdig.load_activities()
    tg = plusdig.target_groups_table()
    return {
        "acts": acts, "activities": plusdig.activities_table(), "fy": load_first_year(),
        "partners": plusdig.partners_table(), "labels": {a.id: a.title for a in acts},
        "tg": tg, "bands": pd.DataFrame([e.model_dump() for e in plusdig.load_vocabularies().age_bands]),
        "kinds": vocab_labels("target_kinds"), "sectors": vocab_labels("sectors"),
        "counts": plusdig.counts_table(), "published": plusdig.load_published(),
        "conditions": coding.conditions_matrix(), "lessons": coding.lessons_matrix(),
        "network": network.build_network(plusdig.partners_table()),
    }


@cache
def _survey() -> dict:
    from plusdig.survey import contract, disclosure, tables, validation

    source = contract.current_source()
    return tables.run_pipeline(validation.load_survey(source), k=disclosure.threshold())


def _book_figures() -> dict[str, Callable[[], Figure]]:
    """Every figure of the book, keyed by the name its chapter glues it under."""
    from plusdig.present import figures, network
    from plusdig.sphinx import annex_overview as annex
    from plusdig.survey import figures as survey
    from plusdig.survey import funnel

    d = _data
    s = _survey
    return {
        "fig_organisation": lambda: figures.organisation_diagram(
            d()["fy"], d()["partners"], [a.id for a in d()["acts"]]),
        "fig_first_year": lambda: figures.first_year_phases(d()["fy"]),
        "fig_activities_per_year": lambda: figures.activities_per_year(d()["activities"]),
        "fig_ages": lambda: figures.age_coverage(d()["tg"], d()["bands"]),
        "fig_kinds": lambda: figures.target_kinds_matrix(d()["tg"], d()["labels"], d()["kinds"]),
        "fig_reach": lambda: figures.reach_chart(figures.reach_counts(d()["counts"])),
        "fig_partners": lambda: figures.partners_by_sector(d()["partners"], d()["labels"], d()["sectors"]),
        "fig_explorer": lambda: figures.sector_matrix(d()["partners"], d()["labels"], d()["sectors"]),
        "fig_network": lambda: network.network_figure(d()["network"]),
        "fig_conditions": lambda: figures.binary_heatmap(
            d()["conditions"], title="Aktiviteternes bidrag til betingelserne",
            xlabel="Betingelse (antal aktiviteter)", ylabel="Aktivitet (antal betingelser)", cell_width=1.3),
        "fig_published": lambda: figures.published_changes(
            d()["published"], ["not-happy-at-all", "lonely-sdq-normal-range", "lonely-often-teased"]),
        "fig_trivsel_ensomhed": lambda: survey.figure_prevalence_trend(s()["prevalence_year"]),
        "fig_trivsel_klassetrin": lambda: survey.figure_prevalence_groups(
            s()["prevalence_grade"], "Ensomhed efter klassetrin", "Klassetrin"),
        "fig_trivsel_koen": lambda: survey.figure_prevalence_groups(
            s()["prevalence_gender"], "Ensomhed efter køn", "Køn"),
        "fig_trivsel_skoler": lambda: funnel.figure_funnel(s()["funnel"]),
        "fig_trivsel_sammenligning": lambda: survey.figure_comparison(s()["comparison"]),
        "fig_trivsel_udvikling": lambda: survey.figure_indicator_trend(s()["trend"]),
        "fig_lessons": lambda: figures.binary_heatmap(
            d()["lessons"], title="Temaer i erfaringerne", xlabel="Aktivitet nr. (antal temaer)",
            ylabel="Tema (antal aktiviteter)", colour="#009E73"),
        "fig_annex_timeline": lambda: annex.timeline_figure(annex.timeline_table(d()["acts"])),
    } | _explorer_views()


def _explorer_views() -> dict[str, Callable[[], Figure]]:
    """The explorer's per-sector figures (shown in the widget at the column's width)."""
    from plusdig.present import figures

    return {f"explorer:{code}": (lambda code=code, label=label: figures.sector_activities(
                _data()["partners"], code, _data()["labels"], label))
            for code, label in _data()["sectors"].items()
            if (_data()["partners"]["sector"] == code).any()}


def _glued_figures() -> set[str]:
    """Names of the figures the book's notebooks glue (``glue("fig_...", ...)``)."""
    names: set[str] = set()
    for path in (REPO / "book").rglob("*.ipynb"):
        if ".ipynb_checkpoints" in path.parts:
            continue
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                names |= set(re.findall(r"""glue\(\s*["'](fig_\w+)["']""", "".join(cell["source"])))
            else:  # a figure glued from a record (plusdig.glue_all) is named where it is shown
                names |= set(re.findall(r"\{glue:figure\}\s+(fig_\w+)", "".join(cell["source"])))
    return names


def test_the_catalogue_names_every_figure_of_the_book() -> None:
    glued = _glued_figures()
    assert glued, "no glued figures found in book/"
    listed = {k for k in _book_figures() if not k.startswith("explorer:")}
    assert glued == listed, (f"figures glued but not measured: {sorted(glued - listed)}; "
                             f"measured but not in the book: {sorted(listed - glued)}")


FIGURES = sorted(k for k in _book_figures())


@cache
def _layout(name: str) -> tuple[legibility.Layout, list[str]]:
    fig = _book_figures()[name]()
    return legibility.inspect(fig), legibility.overlaps(fig)


@pytest.mark.parametrize("medium", ["html", "print"])
@pytest.mark.parametrize("name", FIGURES)
def test_smallest_text_is_legible_where_shown(name: str, medium: str) -> None:
    layout, _ = _layout(name)
    shown = legibility.smallest_font_shown(layout, medium)
    smallest = min(layout.texts, key=lambda t: t.size)
    assert shown >= legibility.MIN_FONT_PT - 0.05, (
        f"{name}: smallest text {smallest.text!r} is {smallest.size:g} pt in a "
        f"{layout.width_in:.2f}×{layout.height_in:.2f} in figure, {shown:.1f} pt as shown ({medium})")


@pytest.mark.parametrize("name", FIGURES)
def test_nothing_overlaps(name: str) -> None:
    _, found = _layout(name)
    assert found == [], f"{name}: " + "; ".join(found[:8])


def test_meaningful_colours_have_contrast_against_white() -> None:
    from plusdig.data.load import vocab_labels
    from plusdig.present.style import PALETTE, SECTOR_COLOURS

    missing = set(vocab_labels("sectors")) - set(SECTOR_COLOURS)
    assert missing == set(), f"sectors without a colour of their own (drawn grey): {missing}"

    weak = {f"{name} {c}": round(legibility.contrast_ratio(c), 2)
            for name, c in [*SECTOR_COLOURS.items(), *((f"PALETTE[{i}]", c) for i, c in enumerate(PALETTE))]
            if legibility.contrast_ratio(c) < legibility.MIN_CONTRAST}
    assert weak == {}, f"colours below {legibility.MIN_CONTRAST}:1 against white: {weak}"


# ----------------------------------------------------------------------------- the checks check
def test_checks_catch_small_text_overlap_and_weak_colour() -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 3))  # shown at 8 in on the site: 10 pt -> 6.7 pt
    ax.bar([0, 1], [2, 1], label="søjle")  # the first bar reaches the legend
    ax.text(0.5, 0.5, "Første", fontsize=10, transform=ax.transAxes)
    ax.text(0.5, 0.5, "Anden", fontsize=10, transform=ax.transAxes)
    ax.scatter([1.0], [1.0], s=400)
    ax.text(1.0, 1.0, "   Etiket ved prikken", fontsize=10, va="center")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 1.0))
    layout = legibility.inspect(fig)
    assert legibility.smallest_font_shown(layout, "html") < legibility.MIN_FONT_PT
    found = legibility.overlaps(fig)
    assert any("'Første' overlaps text 'Anden'" in f for f in found), found
    assert any("covers text '   Etiket ved prikken'" in f for f in found), found
    assert any("legend covers a bar" in f for f in found), found
    assert legibility.contrast_ratio("#F0E442") < legibility.MIN_CONTRAST
    assert legibility.contrast_ratio("#000000") == pytest.approx(21.0)
    plt.close(fig)


def test_scale_where_shown() -> None:
    assert legibility.shown_scale(8.0, 4.0, "html") == pytest.approx(1.0)
    assert legibility.shown_scale(legibility.PRINT_COLUMN_IN, 4.0, "print") == pytest.approx(1.0)
    assert legibility.shown_scale(3.0, 2.0, "print") == 1.0  # never enlarged on paper
    assert legibility.shown_scale(6.0, 2 * legibility.PRINT_MAX_HEIGHT_IN, "print") == pytest.approx(0.5)
    with pytest.raises(ValueError, match="medium"):
        legibility.shown_scale(1.0, 1.0, "tv")
