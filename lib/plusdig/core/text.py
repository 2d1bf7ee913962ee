"""Text shown to a reader: control characters made visible."""

from __future__ import annotations

import re

__all__ = ["visible_controls"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def visible_controls(text: str) -> str:
    """Show each control character in ``text`` as its code point (``U+0007``).

    The loaders are meant to refuse control characters in data; should one get through, it is
    shown, never silently dropped (a browser, TeX and MyST's whitespace handling would drop
    or choke on it). Used by every route that prints data: HTML tables, the annex pages, LaTeX.
    """
    return _CONTROL.sub(lambda m: f"U+{ord(m.group(0)):04X}", text)
