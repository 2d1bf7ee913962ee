"""One text-measurement cache per process for matplotlib's Agg and SVG renderers.

matplotlib measures every text (tick labels, titles, legends) through a cache tied to one
renderer *instance*. A figure of the book gets several: one per trial width of
:func:`plusdig.present.style.finish` (the canvas makes a new renderer whenever the size
changes), and two per saved file (``bbox_inches="tight"`` measures once, then draws). So the
same label is measured with FreeType again and again, about a quarter of a figure notebook's
time.

A measurement is a pure function of the text, the font properties, the renderer's kind and
resolution and a few ``text.*``/``font.*`` settings; :func:`share_text_metrics` keys a cache
on exactly those, so every renderer of the same kind and resolution shares it. Only plain
text on :class:`~matplotlib.backends.backend_agg.RendererAgg` and
:class:`~matplotlib.backends.backend_svg.RendererSVG` is shared (the book sets
``text.parse_math`` off); everything else (mathtext, TeX, other renderers) goes to
matplotlib's own cache as before. The numbers returned are the ones FreeType gives, so the
figures are the same byte for byte (``tests/test_figure_memo.py`` compares).
"""

from __future__ import annotations

from typing import Any

__all__ = ["share_text_metrics"]

#: More entries than this and the cache starts afresh (a notebook measures a few thousand).
_MAX_ENTRIES = 200_000
#: The settings a plain text's measurement reads besides the font properties.
_FONT_FAMILIES = ("font.serif", "font.sans-serif", "font.cursive", "font.fantasy",
                  "font.monospace")


def share_text_metrics() -> None:
    """Install the shared cache in ``matplotlib.text`` (idempotent; once per process)."""
    import matplotlib as mpl
    import matplotlib.text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    original = mtext._get_text_metrics_with_cache
    if getattr(original, "__plusdig__", False):
        return
    rc = mpl.rcParams
    cache: dict[tuple[Any, ...], Any] = {}

    def shared(renderer: Any, text: str, fontprop: Any, ismath: Any, dpi: float) -> Any:
        kind = type(renderer)
        if ismath is not False or (kind is not RendererAgg and kind is not RendererSVG):
            return original(renderer, text, fontprop, ismath, dpi)
        # Agg measures at its own dpi with the hinting setting; SVG always at 72 dpi, unhinted.
        # The font properties by hash, as matplotlib's own cache compares them.
        key = (kind, renderer.dpi if kind is RendererAgg else None,
               rc["text.hinting"] if kind is RendererAgg else None,
               rc["text.hinting_factor"], rc["text.kerning_factor"],
               tuple(tuple(rc[k]) for k in _FONT_FAMILIES), text, hash(fontprop), dpi)
        found = cache.get(key)
        if found is None:
            if len(cache) >= _MAX_ENTRIES:
                cache.clear()
            found = cache[key] = renderer.get_text_width_height_descent(text, fontprop, ismath)
        return found

    shared.__plusdig__ = True  # type: ignore[attr-defined]
    shared.__wrapped__ = original  # type: ignore[attr-defined]  # matplotlib's own (tests)
    mtext._get_text_metrics_with_cache = shared
