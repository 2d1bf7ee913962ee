"""SVG paths drawn once per document in the PDF (issue 17: the time of ``make pdf``).

The book's figures are matplotlib SVGs whose text is glyph outlines: each glyph's path is
written once in ``<defs>`` and placed by a ``<use>`` for every letter. WeasyPrint 70 (pinned)
parses a path's ``d`` attribute again for every ``<use>``, point by point: remembering the
paths took the book's printing from 26.7 s to 21.5 s (4 December 2026, docs/pdf.md).

Inside :func:`remembered_paths`, WeasyPrint's drawing of a ``<path>`` keeps the PDF operators
its ``d`` gave, with the same font size and viewport, and appends those bytes again instead
of parsing the path anew; the path's vertices (for markers) are kept with them. That is done
only where the stream's path operators (``m``, ``l``, ``c``, ``h``) are pydyf's own, which
append their bytes and do nothing else; any other stream, and a path that fails to parse,
is drawn as WeasyPrint draws it. The pages' content is the same bytes with and without it
(tests/test_pdf.py). Outside the context WeasyPrint is as installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["PathStats", "remembered_paths"]

#: The stream methods WeasyPrint's path drawing calls.
_PATH_OPERATORS = ("move_to", "line_to", "curve_to", "close")


@dataclass
class PathStats:
    """How many paths were parsed (``drawn``) and how many appended from memory
    (``remembered``) inside one :func:`remembered_paths`."""

    drawn: int = 0
    remembered: int = 0


@contextlib.contextmanager
def remembered_paths() -> Iterator[PathStats]:
    """While in the context, WeasyPrint draws each distinct SVG path once per (``d``, font
    size, viewport) and appends its operators from memory after that."""
    import pydyf
    import weasyprint.svg as svg_module
    from weasyprint.svg.path import path as draw_path

    stats = PathStats()
    memory: dict[tuple[Any, ...], tuple[list[bytes], list[Any]]] = {}

    def path(svg: Any, node: Any, font_size: float) -> None:
        stream = svg.stream
        if not all(getattr(type(stream), name, None) is getattr(pydyf.Stream, name)
                   for name in _PATH_OPERATORS):
            draw_path(svg, node, font_size)
            return
        key = (node.get("d", ""), font_size, svg.inner_width, svg.inner_height)
        known = memory.get(key)
        if known is None:
            start, vertices = len(stream.stream), len(node.vertices)
            draw_path(svg, node, font_size)  # a parse error leaves nothing remembered
            memory[key] = (stream.stream[start:], list(node.vertices)[vertices:])
            stats.drawn += 1
            return
        stream.stream.extend(known[0])
        node.vertices.extend(known[1])
        stats.remembered += 1

    before = svg_module.TAGS["path"]
    svg_module.TAGS["path"] = path
    try:
        yield stats
    finally:
        svg_module.TAGS["path"] = before
