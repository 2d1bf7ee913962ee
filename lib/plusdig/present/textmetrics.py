"""One text-measurement and text-layout cache per process for matplotlib's Agg and SVG renderers.

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
:class:`~matplotlib.backends.backend_svg.RendererSVG` (also inside the
:class:`~matplotlib.backends.backend_mixed.MixedModeRenderer` an SVG is drawn with) is shared
(the book sets ``text.parse_math`` off); everything else (mathtext, TeX, other renderers) goes
to matplotlib's own cache as before. The numbers returned are the ones FreeType gives, so the
figures are the same byte for byte (``tests/test_figure_memo.py`` compares).

A text's *layout* (``Text._get_layout``: its lines, their sizes and offsets, its rotated box
relative to its anchor) is then laid out anew every time the text is drawn or measured, a
dozen times per text and draw (tick labels are measured for the axis, its siblings, the
title's position and the tight extent): about a fifth of a figure notebook's time, most of it
looking up the font and its ascender in its tables. It is a pure function of the same things
as the measurement plus the text's figure's dpi, rotation, alignments and line spacing; the
same function shares it for an unwrapped plain text, and gives every caller its own box.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["share_text_metrics"]

#: More entries than this and the cache starts afresh (a notebook measures a few thousand).
_MAX_ENTRIES = 200_000
#: The settings a plain text's measurement reads besides the font properties.
_FONT_FAMILIES = ("font.serif", "font.sans-serif", "font.cursive", "font.fantasy",
                  "font.monospace")


def _measurer(renderer: Any) -> tuple[Any, ...] | None:
    """What a plain text's measurement on ``renderer`` depends on besides the text, its font
    and the dpi asked for (the renderer's kind and resolution, the settings it reads), or None
    for a renderer whose measurements are not shared."""
    agg, svg, mixed, rc_get, rc = _classes()
    kind = type(renderer)
    if kind is mixed:  # measures with the renderer it draws with at the moment
        renderer = renderer._renderer
        kind = type(renderer)
    if kind is agg:  # at its own dpi, with the hinting setting
        head: tuple[Any, ...] = (agg, renderer.dpi, rc_get(rc, "text.hinting"))
    elif kind is svg:  # always at 72 dpi, unhinted
        head = (svg,)
    else:
        return None
    return (*head, rc_get(rc, "text.hinting_factor"), rc_get(rc, "text.kerning_factor"),
            *(tuple(rc_get(rc, k)) for k in _FONT_FAMILIES))


@functools.cache
def _classes() -> tuple[Any, ...]:
    """The renderer classes and the settings' raw getter (``rcParams[k]`` checks for
    deprecated names on every call; these are not)."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import RendererSVG

    return RendererAgg, RendererSVG, MixedModeRenderer, dict.__getitem__, mpl.rcParams


def share_text_metrics() -> None:
    """Install the shared caches in ``matplotlib.text`` (idempotent; once per process)."""
    import matplotlib.text as mtext

    original = mtext._get_text_metrics_with_cache
    if not getattr(original, "__plusdig__", False):
        cache: dict[tuple[Any, ...], Any] = {}

        def shared(renderer: Any, text: str, fontprop: Any, ismath: Any, dpi: float) -> Any:
            measurer = None if ismath is not False else _measurer(renderer)
            if measurer is None:
                return original(renderer, text, fontprop, ismath, dpi)
            # the font properties by hash, as matplotlib's own cache compares them
            key = (measurer, text, hash(fontprop), dpi)
            found = cache.get(key)
            if found is None:
                if len(cache) >= _MAX_ENTRIES:
                    cache.clear()
                found = cache[key] = renderer.get_text_width_height_descent(text, fontprop,
                                                                            ismath)
            return found

        shared.__plusdig__ = True  # type: ignore[attr-defined]
        shared.__wrapped__ = original  # type: ignore[attr-defined]  # matplotlib's own (tests)
        mtext._get_text_metrics_with_cache = shared
    _share_text_layouts(mtext.Text)


def _share_text_layouts(text_class: Any) -> None:
    """Share ``Text._get_layout`` between texts and renderers (see the module's docstring)."""
    from matplotlib.font_manager import fontManager

    original = text_class._get_layout
    if getattr(original, "__plusdig__", False):
        return
    cache: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def key_of(text: Any, renderer: Any) -> tuple[Any, ...] | None:
        if text.get_wrap() or text.get_usetex():  # wrapping depends on where the text is
            return None
        string = text.get_text()
        if text._parse_math and "$" in string:  # mathtext: matplotlib's own way
            return None
        measurer = _measurer(renderer)
        if measurer is None:
            return None
        return (measurer, text.get_figure(root=True).dpi, string, hash(text._fontproperties),
                len(fontManager.ttflist), text._parse_math, text._linespacing,
                text.get_rotation(), text.get_rotation_mode(), text._horizontalalignment,
                text._verticalalignment, text._get_multialignment())

    def shared(self: Any, renderer: Any) -> Any:
        try:
            key = key_of(self, renderer)
        except Exception:  # noqa: BLE001 - no figure, an odd renderer ...: as matplotlib does
            key = None
        if key is None:
            return original(self, renderer)
        found = cache.get(key)
        if found is None:
            bbox, lines, corner = original(self, renderer)
            if len(cache) >= _MAX_ENTRIES:
                cache.clear()
            found = cache[key] = (bbox.frozen(), tuple(lines), corner)
        # each caller its own box (a Bbox can be changed in place); the rest is immutable
        return found[0].frozen(), list(found[1]), found[2]

    shared.__plusdig__ = True  # type: ignore[attr-defined]
    shared.__wrapped__ = original  # type: ignore[attr-defined]  # matplotlib's own (tests)
    text_class._get_layout = shared
