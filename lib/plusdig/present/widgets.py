"""Kernel-free explorers for the static site, with a static image for print.

An explorer is a Dropdown ``jslink``-ed to a ``Stack`` of precomputed views (HTML with an
embedded PNG), so choosing an option works in the browser without a kernel: the link runs in
JavaScript and every view is already in the saved widget state. :func:`show` displays the
explorer as a MIME bundle that also carries an ``image/png`` (and a Danish ``text/plain``), so
builds that cannot render widgets (the PDF) use the image instead of the widget's text repr.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from plusdig.present.tables import html_text

if TYPE_CHECKING:
    import ipywidgets
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["WIDGET_MIME", "figure_png", "figure_svg", "sector_views", "explorer", "widget_bundle", "WithFallback",
           "with_fallback", "show"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def figure_png(fig: Figure, dpi: int = 200) -> bytes:
    """Render a matplotlib Figure to PNG bytes (no metadata, so the bytes are reproducible)."""
    from plusdig.present.figmemo import render

    return render(fig, "png", dpi, {"Software": None})


def figure_svg(fig: Figure) -> bytes:
    """Render a matplotlib Figure to SVG bytes (no date, fixed ids: the same in every build)."""
    from plusdig.present.figmemo import render

    return render(fig, "svg", None, {"Date": None})


def _img(svg: bytes, alt: str) -> str:
    data = base64.b64encode(svg).decode("ascii")
    return (f'<img src="data:image/svg+xml;base64,{data}" alt="{html_text(alt)}" '
            'style="width:100%;height:auto">')


def sector_views(partners: pd.DataFrame, activity_labels: dict[int, str],
                 sector_labels: dict[str, str]) -> dict[str, str]:
    """One precomputed HTML view per sector present in ``partners``: figure + activities + actors.

    Keys are the sectors' Danish labels in vocabulary order; values are self-contained HTML.
    """
    from plusdig.present.figures import sector_activities

    views: dict[str, str] = {}
    # one x-axis for every sector, so the views can be compared
    per_activity = partners.groupby(["sector", "activity_id"]).size()
    x_max = int(per_activity.max()) if len(per_activity) else 1
    for code, label in sector_labels.items():
        rows = partners[partners["sector"] == code]
        if rows.empty:
            continue
        fig = sector_activities(partners, code, activity_labels, label, x_max=x_max)
        items = []
        for aid, group in rows.groupby("activity_id", sort=True):
            names = ", ".join(html_text(a) for a in sorted(set(group["actor"])))
            items.append(f"<li><b>{int(aid)}. {html_text(activity_labels[int(aid)])}</b>: {names}</li>")
        alt = f"Søjlediagram: aktiviteter med aktører fra sektoren {label}"
        # on a phone the figure keeps its drawn width and scrolls in its own (focusable) box,
        # with a hint the stylesheet shows only there (plusdig-tables.css)
        views[label] = ('<div class="plusdig-view"><p class="plusdig-figure-hint" '
                        'aria-hidden="true">Rul sidelæns for at se hele figuren.</p>'
                        f'<div class="plusdig-view-figure" role="region" tabindex="0" '
                        f'aria-label="{html_text(alt)}">{_img(figure_svg(fig), alt)}</div>'
                        f"<p>Aktiviteter med aktører fra sektoren <i>{html_text(label)}</i>:</p>"
                        f"<ul>{''.join(items)}</ul></div>")
    return views


def explorer(views: dict[str, str], description: str) -> ipywidgets.VBox:
    """A Dropdown over ``views`` (label → HTML) jslink-ed to a Stack showing the chosen view.

    The returned VBox holds ``[dropdown, stack]``; its ``link`` attribute is the ``jslink``.
    """
    import ipywidgets as w

    if not views:
        raise ValueError("an explorer needs at least one view")
    labels = list(views)
    dropdown = w.Dropdown(options=labels, index=0, description=description,
                          style={"description_width": "initial"}, layout=w.Layout(width="max-content"))
    stack = w.Stack([w.HTML(value=views[k]) for k in labels], selected_index=0)
    box = w.VBox([dropdown, stack])
    box.link = w.jslink((dropdown, "index"), (stack, "selected_index"))  # kept for inspection
    return box


def widget_bundle(widget: Any, png: bytes, text: str) -> dict[str, Any]:
    """The MIME bundle of a widget with a static PNG and a plain-text fallback."""
    return {
        WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": widget.model_id},
        "image/png": base64.b64encode(png).decode("ascii"),
        "text/plain": text,
    }


class WithFallback:
    """A widget and its static image as one displayable object (for ``glue`` and ``display``).

    IPython formats it with :meth:`_repr_mimebundle_`, so ``glue("x", obj)`` stores the widget
    view, the PNG and the text together, and a ``{glue:figure}`` gets a number and a caption.
    """

    def __init__(self, widget: Any, png: bytes, text: str,
                 downloads: dict[str, Any] | None = None) -> None:
        self.widget, self.png, self.text, self.downloads = widget, png, text, downloads

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = widget_bundle(self.widget, self.png, self.text)
        if self.downloads is not None:
            from plusdig.present.figdata import FIGURE_MIME

            bundle[FIGURE_MIME] = self.downloads
        return bundle


def with_fallback(widget: Any, fallback: Figure, text: str) -> WithFallback:
    """Pair ``widget`` with ``fallback`` (a Figure) as its static image.

    The fallback's downloads (:mod:`plusdig.present.figdata`) are the widget's: the site shows the
    widget, and offers the fallback figure and its data for download.
    """
    from plusdig.present.figdata import figure_payload

    bundle = widget_bundle(widget, b"", text)
    downloads = figure_payload(fallback, view=(WIDGET_MIME, bundle[WIDGET_MIME]))
    return WithFallback(widget, figure_png(fallback), text, downloads)


def show(widget: Any, fallback: Figure, text: str) -> None:
    """Display ``widget`` with ``fallback`` as its static image (for PDF and other static outputs)."""
    from IPython.display import display

    display(widget_bundle(widget, figure_png(fallback), text), raw=True)
