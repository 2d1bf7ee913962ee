"""A figure and the table it is drawn from, as one object (issue 16: downloads).

Every figure function builds a :class:`FigureData` -- the rows and columns it draws, with Danish
headers -- draws from it, and attaches it to the Figure it returns (:func:`attach`). The site's
download files (CSV, XLSX) are written from that attached table, so the figure and its data
cannot drift apart, and nothing is computed twice.

In a notebook, :func:`register_display` (called by :func:`plusdig.present.style.use_house_style`) makes
IPython add one more entry to a figure's MIME bundle, :data:`FIGURE_MIME`: the SVG the page shows, a
PNG at print resolution, an SVG and the table as JSON. The Sphinx side
(:mod:`plusdig.sphinx.sitedownloads`) turns it into files and a download control on the HTML site.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["FIGURE_MIME", "PRINT_DPI", "FigureData", "attach", "data_of",
           "figure_payload", "register_display", "SOURCE_ANNEX"]

#: The MIME type of a figure's downloads in a notebook output (JSON).
FIGURE_MIME = "application/vnd.plusdig.downloads+json"
#: Resolution of the downloadable PNG (print).
PRINT_DPI = 300
#: The source line of figures drawn from the activity annex.
SOURCE_ANNEX = "Kilde: aktivitetskataloget (data/activities.yaml)."


@dataclass
class FigureData:
    """The table a figure is drawn from: Danish column headers, units, source line.

    ``frame`` holds one row per drawn element (bar, dot, line point, box); ``units`` maps a
    column header to its unit in Danish ("procent", "antal personer"); ``notes`` are extra
    lines for the notes sheet (e.g. that shares are rounded as in the table on the page).
    """

    frame: pd.DataFrame
    source: str
    units: dict[str, str] = field(default_factory=dict)
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The table as JSON: header, rows (numbers as numbers, missing as None), metadata."""
        rows = [[_json_cell(v) for v in row] for row in self.frame.itertuples(index=False)]
        return {"columns": [str(c) for c in self.frame.columns], "rows": rows,
                "source": self.source, "units": dict(self.units), "synthetic": self.synthetic,
                "notes": list(self.notes)}


def _json_cell(value: Any) -> Any:
    import numpy as np

    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "ja" if value else "nej"
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    try:
        import pandas as pd

        if value is pd.NA:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value)


def attach(fig: Figure, data: FigureData) -> Figure:
    """Attach ``data`` (the table ``fig`` is drawn from) to ``fig`` and return ``fig``."""
    fig.plusdig_data = data  # type: ignore[attr-defined]
    return fig


def data_of(fig: Figure) -> FigureData | None:
    """The table attached to ``fig`` by :func:`attach`, or None."""
    return getattr(fig, "plusdig_data", None)


def _render(fig: Figure, fmt: str, dpi: int) -> bytes:
    from plusdig.present.figmemo import render

    metadata: dict[str, Any] = {"Software": None}
    if fmt == "svg":
        metadata = {"Date": None, "Creator": None}
    return render(fig, fmt, dpi, metadata)


def figure_payload(fig: Figure, view: tuple[str, Any] | None = None) -> dict[str, Any] | None:
    """The downloads of ``fig`` as JSON (None if it has no attached data).

    ``view`` is what the page shows in the figure's place, as (MIME type, content); by
    default the figure's SVG. A widget passes its widget view, the figure being its fallback.
    """
    data = data_of(fig)
    if data is None:
        return None
    svg = _render(fig, "svg", PRINT_DPI).decode("utf-8")
    if view is None:  # the page shows the SVG (sharp at any size; issue 15), the download's own
        view = ("image/svg+xml", svg)
    return {
        "view": {"mime": view[0], "content": view[1]},
        "png": base64.b64encode(_render(fig, "png", PRINT_DPI)).decode("ascii"),
        "svg": svg,
        "data": data.to_json(),
    }


def _figure_bundle(fig: Figure, include: Any = None, exclude: Any = None) -> dict[str, Any] | None:
    payload = figure_payload(fig)
    if payload is None:
        return None
    # the SVG formatter (called next for the same output) takes it from here, not drawn again
    fig._plusdig_shown = (_mark(fig), payload["svg"])  # type: ignore[attr-defined]
    return {FIGURE_MIME: payload, payload["view"]["mime"]: payload["view"]["content"]}


def _mark(fig: Figure) -> Any:
    from plusdig.present.figmemo import finished_mark

    return finished_mark(fig)


def register_display() -> None:
    """Make IPython add :data:`FIGURE_MIME` to the output of every figure with data, and take
    such a figure's ``image/svg+xml`` from it (idempotent; after the inline backend's formats
    are set). Outside IPython this does nothing.

    IPython calls the SVG formatter registered for figures even when the MIME bundle has an
    SVG: for a figure with data it returns the downloads' SVG (the one the page shows, without
    the inline backend's creator line) instead of drawing the figure once more.
    """
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return
    ip.display_formatter.mimebundle_formatter.for_type(Figure, _figure_bundle)
    svg = ip.display_formatter.formatters.get("image/svg+xml")
    previous = None if svg is None else svg.for_type(Figure)
    if svg is None or getattr(previous, "__plusdig__", False):
        return

    def figure_svg(fig: Figure) -> Any:
        if data_of(fig) is not None:
            shown = getattr(fig, "_plusdig_shown", None)
            mark = _mark(fig)
            if shown is not None and mark is not None and shown[0] is mark:
                return shown[1]
            return _render(fig, "svg", PRINT_DPI).decode("utf-8")
        return previous(fig) if previous is not None else None

    figure_svg.__plusdig__ = True  # type: ignore[attr-defined]
    svg.for_type(Figure, figure_svg)
