"""The book's house style for matplotlib/seaborn figures, used by every chapter.

``use_house_style()`` is called once at the top of each notebook. It fixes fonts, colours,
sizes and the output format, prints every text literally (no mathtext, so names from data are
safe), and makes figure files deterministic (no timestamps, a fixed
hash salt) so two builds of the same commit give identical images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Colour-blind safe palette (Okabe–Ito), in a fixed order.
PALETTE: list[str] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                      "#F0E442", "#000000"]

#: One fixed colour per sector code, used in every figure that colours by sector.
SECTOR_COLOURS: dict[str, str] = {
    "municipality": "#0072B2",
    "school_daycare": "#56B4E9",
    "civil_society": "#009E73",
    "volunteers": "#E69F00",
    "business": "#D55E00",
    "research": "#CC79A7",
    "national_org": "#7F7F7F",
    "young_people": "#F0E442",
}

#: Label drawn on every figure or table computed from synthetic survey data.
SYNTHETIC_LABEL = "Syntetiske data"


def use_house_style() -> None:
    """Apply the house style to matplotlib and seaborn (idempotent)."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update({
        "figure.figsize": (8, 4.5),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "font.family": "DejaVu Sans",
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.labelsize": 10,
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

    register_display()  # a figure's output carries its downloads (plusdig.present.figdata)
    try:  # deterministic inline PNGs in notebooks: no Software/date metadata
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png", metadata={"Software": None})
    except Exception:  # noqa: BLE001 - outside IPython there is no inline backend
        pass


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


def danish_axis(ax: Axes, axis: str = "y", *, percent: bool = False, decimals: int = 0) -> None:
    """Format an axis's tick labels the Danish way (decimal comma, '.' thousands, '66 %')."""
    from matplotlib.ticker import FuncFormatter

    from plusdig.core import fmt

    def _f(x: float, _pos: int) -> str:
        return fmt.percent(x, decimals) if percent else fmt.number(x, decimals)

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(_f))
