"""Danish hyphenation of the print document's prose (Pyphen's patterns plus the book's
exceptions) and the spaces that keep a number with its unit.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from bs4 import NavigableString, Tag

__all__ = ["hyphenate", "HYPHENATION_EXCEPTIONS"]


#: Shortest word that gets hyphenation points, and the fewest letters kept on either side.
MIN_WORD, MIN_LEFT, MIN_RIGHT = 7, 3, 3
SOFT_HYPHEN = "\u00ad"
NBSP = "\u00a0"


#: Words whose hyphenation Pyphen's Danish patterns get wrong, hyphenated by hand ("-" marks
#: the allowed breaks). A word that starts with one of these keys (case-insensitive) takes
#: the key's breaks for the matching part and none inside it besides them.
HYPHENATION_EXCEPTIONS: dict[str, str] = {
    "målgruppe": "mål-grup-pe",
    "konfidensinterval": "kon-fi-dens-in-ter-val",
    "medarbejder": "med-ar-bej-der",
    "tilbagemelding": "tilbage-mel-ding",
    "procentpoint": "pro-cent-point",
    "aktivitetskatalog": "ak-ti-vi-tets-ka-ta-log",
}
#: Elements whose text is never hyphenated: code, headings, tables (header cells never; and
#: WeasyPrint 70 sizes a table's columns as if a soft hyphen made its word unbreakable, so a
#: hyphenated table comes out wider than the page).
_NO_HYPHENS = {"code", "pre", "kbd", "samp", "h1", "h2", "h3", "h4", "h5", "h6", "table",
               "style", "script", "title"}
#: A number and the unit after it stay on one line ("21,0 %", "12 år").
_NUMBER_UNIT = re.compile(r"(\d)[ \u202f](%|procent\b|pct\.|kr\.|år\b|timer\b|elever\b)")
_WORD = re.compile(rf"[^\W\d_]{{{MIN_WORD},}}")


_VOWELS = set("aeiouyæøåéAEIOUYÆØÅÉ")


# ----------------------------------------------------------------------------- hyphenation
@functools.cache
def _pyphen() -> Any:
    import pyphen

    return pyphen.Pyphen(lang="da_DK")


def _exception_breaks(word: str) -> list[int] | None:
    """Breaks for a word that holds a stem of :data:`HYPHENATION_EXCEPTIONS` (the stem's own
    breaks inside it, Pyphen's outside it), else ``None``."""
    low = word.lower()
    for stem, marked in HYPHENATION_EXCEPTIONS.items():
        start = low.find(stem)
        if start < 0:
            continue
        end = start + len(stem)
        breaks = [b for b in _pattern_breaks(word) if b <= start or b >= end]
        pos = start
        for piece in marked.split("-")[:-1]:
            pos += len(piece)
            breaks.append(pos)
        return breaks
    return None


def _pattern_breaks(word: str) -> list[int]:
    """Pyphen's break positions, with fragments that hold no vowel joined to their left
    neighbour ("Må-l-grup-pe" becomes "Mål-grup-pe")."""
    if not word:
        return []
    positions = _pyphen().positions(word)
    fragments, last = [], 0
    for pos in [*positions, len(word)]:
        fragments.append(word[last:pos])
        last = pos
    merged: list[str] = []
    for frag in fragments:
        if merged and not (set(frag) & _VOWELS):
            merged[-1] += frag
        else:
            merged.append(frag)
    if len(merged) > 1 and not (set(merged[0]) & _VOWELS):
        merged[1] = merged[0] + merged[1]
        merged.pop(0)
    breaks, pos = [], 0
    for frag in merged[:-1]:
        pos += len(frag)
        breaks.append(pos)
    return breaks


@functools.cache
def hyphenate(word: str) -> str:
    """``word`` with soft hyphens where a Danish line break may fall.

    Pyphen's ``da_DK`` patterns, corrected: no break leaves fewer than three letters on
    either side or a fragment without a vowel, and the words in
    :data:`HYPHENATION_EXCEPTIONS` are broken only where the table says.
    """
    if len(word) < MIN_WORD:
        return word
    breaks = _exception_breaks(word)
    if breaks is None:
        breaks = _pattern_breaks(word)
    breaks = sorted({b for b in breaks if MIN_LEFT <= b <= len(word) - MIN_RIGHT})
    out, last = [], 0
    for b in breaks:
        out.append(word[last:b])
        last = b
    out.append(word[last:])
    return SOFT_HYPHEN.join(out)


def _prose_text(text: str) -> str:
    text = _NUMBER_UNIT.sub(lambda m: m.group(1) + NBSP + m.group(2), text)
    return _WORD.sub(lambda m: hyphenate(m.group(0)), text)


def _treat_text(root: Tag) -> None:
    """Hyphenation points and unbreakable number–unit pairs in every text node of ``root``."""
    for node in list(root.find_all(string=True)):
        if not isinstance(node, NavigableString) or type(node) is not NavigableString:
            continue  # comments, doctype, CDATA
        parents = {p.name for p in node.parents}
        if parents & {"style", "script", "title"}:
            continue
        text = str(node)
        if parents & _NO_HYPHENS:
            new = _NUMBER_UNIT.sub(lambda m: m.group(1) + NBSP + m.group(2), text)
        else:
            new = _prose_text(text)
        if new != text:
            node.replace_with(NavigableString(new))
