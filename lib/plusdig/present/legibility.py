"""Can a reader read a figure where the book shows it? Sizes, overlaps and contrast, measured.

A figure is drawn in inches and shown at another size: on the site it fills the text column
(:data:`HTML_COLUMN_PX` CSS pixels at a 1400 px window), in the PDF it is printed at its own
size, at most the text column wide and :data:`PRINT_MAX_HEIGHT_IN` high (``print/book.css``).
:func:`shown_scale` gives the factor for each medium, :func:`inspect` measures every visible
text of a Figure as ``savefig(bbox_inches="tight")`` saves it, and

- :func:`smallest_font_shown` is the smallest font size in points a reader sees;
- :func:`overlaps` lists texts that run into each other, into markers (a dot over a label) or
  into a legend box, and legends over data (bars, dots, lines);
- :func:`contrast_ratio` is the WCAG 2 contrast of a colour against white (marks that carry
  meaning need 3:1, WCAG 1.4.11).

The figure tests (``tests/test_figure_legibility.py``) and the browser tests use these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

__all__ = ["MIN_FONT_PT", "MIN_CONTRAST", "HTML_COLUMN_PX", "CSS_PX_PER_IN", "PRINT_COLUMN_IN",
           "PRINT_MAX_HEIGHT_IN", "TextBox", "Layout", "inspect", "shown_scale",
           "smallest_font_shown", "overlaps", "contrast_ratio"]

#: The smallest text a reader should meet, in points, at the size the figure is shown.
MIN_FONT_PT = 9.0
#: Contrast against white of a mark that carries meaning (WCAG 1.4.11, non-text contrast).
MIN_CONTRAST = 3.0
#: Width of the site's text column at a 1400 px window (sphinx-book-theme), CSS pixels.
HTML_COLUMN_PX = 768.0
#: CSS pixels per inch (CSS: 1 in = 96 px; 1 pt = 1/72 in).
CSS_PX_PER_IN = 96.0
#: The PDF's text column (A4, 22 mm margins: ``print/book.css``), inches.
PRINT_COLUMN_IN = (210 - 2 * 22) / 25.4
#: The tallest a figure may be printed (``figure img { max-height }`` in ``print/book.css``).
PRINT_MAX_HEIGHT_IN = 215 / 25.4
#: ``savefig.pad_inches``: the margin ``bbox_inches="tight"`` adds around the drawing.
PAD_IN = 0.1


@dataclass(frozen=True)
class TextBox:
    """One visible text of a figure: its string, font size (pt) and extent (display pixels)."""

    text: str
    size: float
    box: Bbox
    #: the box drawn behind the text (``bbox=``), if any, in display pixels
    patch: Bbox | None
    #: id() of the axes (or legend) the text belongs to, for telling tick labels apart
    owner: int


@dataclass(frozen=True)
class Layout:
    """A figure as saved: its size in inches (tight bounding box) and its visible texts."""

    width_in: float
    height_in: float
    texts: list[TextBox]
    dpi: float


def inspect(fig: Figure) -> Layout:
    """Draw ``fig`` and measure it as ``savefig(..., bbox_inches="tight")`` would save it."""
    from matplotlib.text import Text

    renderer = _renderer(fig)
    tight = fig.get_tightbbox(renderer)
    every, drawn = _axis_texts(fig)
    texts = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or t.get_alpha() == 0:
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        box = t.get_window_extent(renderer)
        if box.width == 0 or box.height == 0:
            continue
        if id(t) in every and id(t) not in drawn:
            continue
        patch = t.get_bbox_patch()
        owner = t.axes if t.axes is not None else t.figure
        parent = _legend_of(t, fig)
        texts.append(TextBox(t.get_text(), float(t.get_fontsize()), box,
                             patch.get_window_extent(renderer) if patch is not None else None,
                             id(parent or owner)))
    return Layout(tight.width + 2 * PAD_IN, tight.height + 2 * PAD_IN, texts, fig.dpi)


def _renderer(fig: Figure) -> object:
    """Draw ``fig`` on an Agg canvas (a closed figure has none) and return its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _axis_texts(fig: Figure) -> tuple[set[int], set[int]]:
    """Ids of all tick and axis-label texts, and of those matplotlib actually draws.

    Ticks outside the view, and the axes of an ``axis("off")`` plot, keep their Text objects
    but draw nothing.
    """
    every: set[int] = set()
    drawn: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            every |= {id(t.label1) for t in ticks} | {id(t.label2) for t in ticks}
            every |= {id(axis.label), id(axis.offsetText)}
            if not (ax.axison and axis.get_visible()):
                continue
            for tick in axis._update_ticks():  # the ticks drawn (matplotlib's own selection)
                drawn |= {id(lab) for lab in (tick.label1, tick.label2) if lab.get_visible()}
            drawn |= {id(axis.label), id(axis.offsetText)}
    return every, drawn


def _legend_of(t: object, fig: Figure) -> object | None:
    for legend in [*fig.legends, *(a.get_legend() for a in fig.axes)]:
        if legend is not None and (t in legend.get_texts() or t is legend.get_title()):
            return legend
    return None


def shown_scale(width_in: float, height_in: float, medium: str) -> float:
    """How much a figure of this saved size is scaled where it is shown.

    ``"html"``: the image fills the text column (``width: 100%``), :data:`HTML_COLUMN_PX` wide.
    ``"print"``: printed at its own size, shrunk to the column width and to the tallest a
    figure may be (:data:`PRINT_COLUMN_IN`, :data:`PRINT_MAX_HEIGHT_IN`), never enlarged.
    """
    if medium == "html":
        return HTML_COLUMN_PX / CSS_PX_PER_IN / width_in
    if medium == "print":
        return min(1.0, PRINT_COLUMN_IN / width_in, PRINT_MAX_HEIGHT_IN / height_in)
    raise ValueError(f"unknown medium {medium!r}; expected 'html' or 'print'")


def smallest_font_shown(layout: Layout, medium: str) -> float:
    """The smallest font size (pt) of ``layout``'s texts as a reader sees it in ``medium``."""
    if not layout.texts:
        return float("inf")
    scale = shown_scale(layout.width_in, layout.height_in, medium)
    return min(t.size for t in layout.texts) * scale


def _hit(a: Bbox, b: Bbox, tol: float) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tol) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tol)


def _outer(t: TextBox) -> Bbox:
    return t.patch if t.patch is not None else t.box


def overlaps(fig: Figure, *, tol_pt: float = 0.5) -> list[str]:
    """Where texts, markers and legends of ``fig`` run into each other (empty when none).

    Checked: every pair of visible texts (with the boxes drawn behind them); every text
    against scatter markers it is not centred on (a number inside its dot is meant); every
    legend box against the other texts and the data it could hide (bars, markers, lines).
    A text drawn on top of a bar or cell of its own (a count in a heatmap cell) is not
    an overlap. ``tol_pt``: how much (points) two extents may touch.
    """
    import numpy as np
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    layout = inspect(fig)
    renderer = _renderer(fig)
    tol = tol_pt / 72 * fig.dpi
    found: list[str] = []
    texts = layout.texts
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if a.patch is not None and b.patch is None and _inside(b.box, a.patch):
                continue  # text drawn on a labelled box (a count on a badge) is meant
            if b.patch is not None and a.patch is None and _inside(a.box, b.patch):
                continue
            if _hit(_outer(a), _outer(b), tol):
                found.append(f"text {a.text!r} overlaps text {b.text!r}")
    for ax in fig.axes:
        for coll in ax.collections:
            if not isinstance(coll, PathCollection) or not coll.get_visible():
                continue
            offsets = coll.get_offset_transform().transform(coll.get_offsets())
            sizes = coll.get_sizes()
            for k, (x, y) in enumerate(offsets):
                s = float(sizes[k % len(sizes)]) if len(sizes) else 36.0
                r = np.sqrt(s) / 2 / 72 * fig.dpi
                for t in texts:
                    box = t.box
                    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
                    if (cx - x) ** 2 + (cy - y) ** 2 < r ** 2:
                        continue  # a label centred on its dot (a number in a circle) is meant
                    nx, ny = min(max(x, box.x0), box.x1), min(max(y, box.y0), box.y1)
                    if (nx - x) ** 2 + (ny - y) ** 2 < (r - tol) ** 2:
                        found.append(f"marker at ({x:.0f}, {y:.0f}) covers text {t.text!r}")
                        break
    legends = [*fig.legends, *(a.get_legend() for a in fig.axes if a.get_legend() is not None)]
    for legend in legends:
        lbox = legend.get_window_extent(renderer)
        mine = {id(t) for t in [*legend.get_texts(), legend.get_title()]}
        for t in texts:
            if t.owner != id(legend) and id(t) not in mine and _hit(_outer(t), lbox, tol):
                found.append(f"legend overlaps text {t.text!r}")
        for ax in fig.axes:
            for p in ax.patches:
                if isinstance(p, Rectangle) and p.get_visible() and p.get_width() and p.get_height():
                    if _hit(p.get_window_extent(renderer), lbox, tol):
                        found.append("legend covers a bar or box of the data")
                        break
            for coll in ax.collections:
                if isinstance(coll, PathCollection) and coll.get_visible():
                    pts = coll.get_offset_transform().transform(coll.get_offsets())
                    if any(lbox.x0 < x < lbox.x1 and lbox.y0 < y < lbox.y1 for x, y in pts):
                        found.append("legend covers markers of the data")
            for line in ax.get_lines():
                if isinstance(line, Line2D) and line.get_visible() and len(line.get_xydata()):
                    pts = line.get_transform().transform(line.get_xydata())
                    if any(lbox.x0 < x < lbox.x1 and lbox.y0 < y < lbox.y1 for x, y in pts):
                        found.append("legend covers points of a line")
    return found


def _inside(inner: Bbox, outer: Bbox) -> bool:
    return (inner.x0 >= outer.x0 - 1 and inner.x1 <= outer.x1 + 1
            and inner.y0 >= outer.y0 - 1 and inner.y1 <= outer.y1 + 1)


def contrast_ratio(colour: str, background: str = "#FFFFFF") -> float:
    """WCAG 2 contrast ratio of ``colour`` against ``background`` (1 to 21)."""
    from matplotlib.colors import to_rgb

    def luminance(c: str) -> float:
        channels = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in to_rgb(c)]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    hi, lo = sorted((luminance(colour), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
