"""The book's house style for matplotlib/seaborn figures, used by every chapter.

``use_house_style()`` is called once at the top of each notebook. It fixes fonts, colours,
sizes and the output format, prints every text literally (no mathtext, so names from data are
safe), and makes figure files deterministic (no timestamps, a fixed
hash salt) so two builds of the same commit give identical images.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colour-blind safe palette in a fixed order: the Okabe–Ito hues, darkened where needed so
#: that every colour has at least 3:1 contrast against white (WCAG 1.4.11 for marks that
#: carry meaning; ``tests/test_figure_legibility.py``).
PALETTE: list[str] = ["#0072B2", "#B86E00", "#00785A", "#A8507F", "#2A7FB8", "#C0540A",
                      "#7A6E00", "#000000"]

#: One fixed colour per sector code, used in every figure that colours by sector (each has
#: 3:1 contrast against white; the figures name the sectors too, so colour is never the only
#: key).
SECTOR_COLOURS: dict[str, str] = {
    "municipality": "#0072B2",
    "school_daycare": "#3F8FC4",
    "civil_society": "#00785A",
    "volunteers": "#B86E00",
    "business": "#B03A2E",
    "research": "#A8507F",
    "national_org": "#6E6E6E",
    "young_people": "#7A6E00",
    "cross_sector": "#5D3A9B",
}

#: A figure's width in the book: the PDF's text column (A4, 22 mm margins), inches. The PDF
#: prints it at this size; the site shows it across its 768 px (8 in) text column, 1.23×.
FIGURE_WIDTH_IN = 6.5
#: The smallest font size of any text in a figure, points, at :data:`FIGURE_WIDTH_IN`.
SMALL_FONT_PT = 9.0

#: Label drawn on every figure or table computed from synthetic survey data.
SYNTHETIC_LABEL = "Syntetiske data"


def use_house_style() -> None:
    """Apply the house style to matplotlib and seaborn (idempotent).

    Inline figures in a notebook (and so a chapter's glued figures) are SVG.
    """
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update({
        "figure.figsize": (FIGURE_WIDTH_IN, 3.6),
        "figure.dpi": 100,
        "savefig.dpi": 200,  # PNGs (widget fallbacks) at 2x; figures on the site are SVG
        "savefig.bbox": "tight",
        "font.family": "DejaVu Sans",
        "font.size": SMALL_FONT_PT,
        "axes.titlesize": 11,
        "figure.titlesize": 11,
        "axes.titleweight": "bold",
        "figure.titleweight": "bold",
        "axes.labelsize": 10,
        "xtick.labelsize": SMALL_FONT_PT,
        "ytick.labelsize": SMALL_FONT_PT,
        "legend.fontsize": SMALL_FONT_PT,
        "legend.title_fontsize": SMALL_FONT_PT,
        "legend.frameon": False,
        "svg.hashsalt": "plusdig",
        "svg.fonttype": "path",
        "pdf.compression": 6,
        "path.simplify": True,
        # Text is printed as it is: a "$" in a name from data is a dollar sign, never mathtext
        # (which would print it as math, or stop the build with a ParseFatalException).
        "text.parse_math": False,
    })
    _deterministic_table_ids()
    from plusdig.present.figdata import register_display
    from plusdig.present.textmetrics import share_text_metrics

    share_text_metrics()  # each text measured once per renderer kind, not once per renderer
    try:  # deterministic inline PNGs in notebooks: no Software/date metadata
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        # SVG on the site and in the PDF (sharp at any size; text drawn as paths, so it looks
        # the same everywhere); no date in the file, so it is the same in every build
        set_matplotlib_formats("svg", metadata={"Date": None})
    except Exception:  # noqa: BLE001 - outside IPython there is no inline backend
        pass
    register_display()  # a figure's output carries its downloads (plusdig.present.figdata)


def _deterministic_table_ids() -> None:
    """Give pandas Stylers reproducible HTML ids (once per process).

    pandas names every styled table ``T_<5 random hex>`` (``uuid4``), so the same table gets a
    different id, and the page different HTML, in every build. The ids are drawn from a seeded
    generator instead: the same notebook run gives the same ids, still unique within a page.
    A Styler given an explicit ``uuid`` keeps it.
    """
    import random
    import uuid

    from pandas.io.formats import style_render

    if getattr(style_render.uuid4, "__plusdig__", False):
        return
    rng = random.Random("plusdig")

    def seeded_uuid4() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    seeded_uuid4.__plusdig__ = True  # type: ignore[attr-defined]
    style_render.uuid4 = seeded_uuid4  # type: ignore[assignment]


def wrap(text: object, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters at spaces (figure labels).

    Words are never split, and a no-break space holds its neighbours on one line.
    """
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=False)) or str(text)


def danish_axis(ax: Axes, axis: str = "y", *, percent: bool = False, decimals: int = 0) -> None:
    """Format an axis's tick labels the Danish way (decimal comma, '.' thousands, '66 %')."""
    from matplotlib.ticker import FuncFormatter

    from plusdig.core import fmt

    def _f(x: float, _pos: int) -> str:
        return fmt.percent(x, decimals) if percent else fmt.number(x, decimals)

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(_f))


def finish(fig: Figure, width_in: float = FIGURE_WIDTH_IN, *, top_in: float = 0.0,
           bottom_in: float = 0.0) -> Figure:
    """Lay out ``fig`` for the book and close it: saved with ``bbox_inches="tight"`` it is
    ``width_in`` wide (the text column), so its fonts print at their size.

    The figure's width is adjusted (its height kept) until the saved drawing, with every label,
    legend and title outside the axes, has the width asked for. ``top_in``/``bottom_in`` keep
    a band of that height free above/below the axes and their titles (for a badge or a note
    placed there with figure coordinates).
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from plusdig.present import figmemo

    key = figmemo.layout_key(fig, width_in=width_in, top_in=top_in, bottom_in=bottom_in)
    known = figmemo.load_layout(key)
    if known is not None:  # laid out before, exactly as it is now: apply what was found
        _apply_layout(fig, known)
        plt.close(fig)
        figmemo.remember(fig, key, known["bbox"])
        return fig
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    pad = 2 * float(__import__("matplotlib").rcParams["savefig.pad_inches"])
    tight: list[Any] = []  # the drawing's extent (inches) in the last layout

    def saved_width(width: float) -> float:
        fig.set_size_inches(width, fig.get_figheight())
        if fig.get_layout_engine() is None:
            h = fig.get_figheight()
            # At a trial width too narrow for the labels matplotlib warns (in English, on the
            # page's stderr) and leaves the layout as it is: this search handles that case.
            with _subplot_extents_once(fig), warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Tight layout not applied", UserWarning)
                fig.tight_layout(rect=(0, min(bottom_in / h, 0.4), 1, 1 - min(top_in / h, 0.4)))
        # A draw that lays everything out but renders nothing (no glyphs, no paths): the
        # layout, and so the width, is the same as a full draw's, at a fraction of the cost.
        renderer = canvas.get_renderer()
        with renderer._draw_disabled():
            fig.draw(renderer)
        tight[:] = [fig.get_tightbbox(renderer)]
        return tight[0].width + pad

    # Secant steps kept inside a bracket, aimed at the middle of the accepted band. The saved
    # width grows less than one for one with the figure's (labels, legends and titles keep
    # their size, a legend placed below the axes moves as they resize), so each step divides
    # the shortfall by the slope of the last two layouts: two or three layouts, not twelve.
    # The widest layout that is not too wide wins. A step aimed at or below the narrowest
    # width while nothing has fitted tries that width next: if even it is too wide (a label
    # longer than the column), nothing fits, and the figure keeps it (bisecting towards it
    # took all twelve layouts).
    floor = lo = 1.0
    hi, best = None, None
    width, last = fig.get_figwidth(), None
    for _ in range(12):
        saved = saved_width(width)
        if saved <= width_in + 0.005:
            lo, best = width, width
            if saved >= width_in - 0.02:
                break
        elif width == floor:
            break  # too wide at the narrowest width: nothing fits
        else:
            hi = width
        slope = 1.0
        if last is not None and abs(width - last[0]) > 1e-6:
            slope = min(max((saved - last[1]) / (width - last[0]), 0.05), 2.0)
        last = (width, saved)
        step = width + (width_in - 0.0075 - saved) / slope
        if best is None and step <= floor:
            width = floor
            continue
        width = step if lo < step and (hi is None or step < hi) else (lo + (hi or 2 * lo)) / 2
    if best is not None and abs(fig.get_figwidth() - best) > 1e-9:
        saved_width(best)
    plt.close(fig)
    # the saved files are cut to this extent: matplotlib need not lay the figure out again
    # for each file to find it (plusdig.present.figmemo.render)
    bbox = [float(v) for v in tight[0].bounds]
    figmemo.store_layout(key, fig, bbox)
    figmemo.remember(fig, key, bbox)
    return fig


@contextlib.contextmanager
def _subplot_extents_once(fig: Figure) -> Iterator[None]:
    """While ``fig`` is laid out by ``tight_layout``: each of its Axes' extent measured once.

    Given a ``rect``, matplotlib's ``tight_layout`` measures every Axes with its labels and
    titles (a layout of all its texts and ticks), computes the margins, and then measures them
    all again, unchanged, to fit them into the ``rect``: about a tenth of a figure notebook's
    time. Nothing changes the figure between the two passes, so the second gets the first's
    extents (a box of its own each time)."""
    import matplotlib.artist as martist

    real = martist._get_tightbbox_for_layout_only
    axes = {id(ax) for ax in fig.axes}
    seen: dict[tuple[Any, ...], Any] = {}

    def once(obj: Any, *args: Any, **kwargs: Any) -> Any:
        if id(obj) not in axes:
            return real(obj, *args, **kwargs)
        key = (id(obj), *(id(a) for a in args), repr(sorted(kwargs.items())))
        if key not in seen:
            seen[key] = real(obj, *args, **kwargs)
        box = seen[key]
        return None if box is None else box.frozen()

    martist._get_tightbbox_for_layout_only = once
    try:
        yield
    finally:
        martist._get_tightbbox_for_layout_only = real


def _apply_layout(fig: Figure, layout: dict[str, Any]) -> None:
    """Give ``fig`` the layout :func:`finish` found for it before (from the figure memo): its
    width, its subplot parameters and, as ``tight_layout`` leaves it, a placeholder engine."""
    from matplotlib.layout_engine import TightLayoutEngine

    fig.set_size_inches(layout["width"], fig.get_figheight())
    if fig.get_layout_engine() is None:
        fig.subplots_adjust(**layout["subplotpars"])
        if layout.get("placeholder"):
            fig.set_layout_engine(TightLayoutEngine())
            fig.set_layout_engine("none")
