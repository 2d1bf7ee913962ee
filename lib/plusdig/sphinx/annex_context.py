"""The annex's context (vocabularies, labels, coding), its Markdown text helpers, and the
activities' names, labels and periods.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from plusdig.data.models import (
    Activity,
    Block,
    BulletList,
    NumberedList,
    StatedCount,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "GENERATED_DIR", "PAGE_PREFIX", "FIRST_YEAR_DOC", "FOREWORD_FILE", "AnnexContext",
    "load_context", "md_text", "activity_label", "activity_docnames", "activity_hrefs",
    "period_text",
]


#: Where the pages are written, relative to the book's source folder.
GENERATED_DIR = "book/annex/generated"
#: File name prefix of an activity page; the rest is the zero-padded id.
PAGE_PREFIX = "aktivitet-"
#: Document name (without folder) of the first-year page.
FIRST_YEAR_DOC = "det-foerste-aar"
#: The foreword and reading guide, included by book/annex/index.md (not a document itself).
FOREWORD_FILE = "forord.inc"
#: Text shown where the source states nothing.
NOT_STATED = "Ikke angivet i kilden"

#: Months a season covers on the timeline (Danish convention; documented in the figure caption).
SEASON_MONTHS: dict[str, tuple[int, int]] = {"forår": (3, 5), "efterår": (9, 11)}

_GENERATED_NOTE = ("% Genereret af plusdig.sphinx.annex fra data/ ved hvert byg. Ret i data/, ikke her.\n")


# --------------------------------------------------------------------------- context
@dataclass(frozen=True)
class AnnexContext:
    """Everything a page needs besides the activity itself: labels and the evaluators' coding.

    ``conditions``/``themes`` map an activity id to ``(code, label, rationale)`` triples;
    ``workstream_conditions`` maps a first-year workstream id the same way. They are empty when
    the coding files are absent.
    """

    actors: Mapping[str, tuple[str, str]]  # actor id -> (name, sector label)
    target_kinds: Mapping[str, str]
    age_bands: Mapping[str, str]
    statuses: Mapping[str, str]
    conditions: Mapping[int, Sequence[tuple[str, str, str]]] = field(default_factory=dict)
    themes: Mapping[int, Sequence[tuple[str, str, str]]] = field(default_factory=dict)
    workstream_conditions: Mapping[str, Sequence[tuple[str, str, str]]] = field(default_factory=dict)
    has_coding: bool = False


def load_context(base: Path | None = None, *, with_coding: bool = True) -> AnnexContext:
    """Build the page context from ``data/``.

    The evaluators' coding is included only if ``with_coding`` and its files exist (the coding
    loaders re-validate every quote against the activities, which is the costly part).
    """
    from plusdig.core.paths import data_dir
    from plusdig.data import coding
    from plusdig.data.load import load_actors, vocab_labels

    actors_df = load_actors(base)
    actors = {str(i): (str(n), str(s)) for i, n, s in
              zip(actors_df["id"], actors_df["name"], actors_df["sector_label"], strict=True)}
    root = base or data_dir()
    conditions: dict[int, list[tuple[str, str, str]]] = {}
    streams: dict[str, list[tuple[str, str, str]]] = {}
    themes: dict[int, list[tuple[str, str, str]]] = {}
    has_coding = False
    if with_coding and (root / coding.CONDITIONS_FILE).is_file():
        has_coding = True
        labels = vocab_labels("conditions", base)
        for link in coding.load_condition_coding(base).links:
            entry = (link.condition, labels[link.condition], link.rationale)
            if link.activity is not None:
                conditions.setdefault(link.activity, []).append(entry)
            elif link.workstream is not None:
                streams.setdefault(link.workstream, []).append(entry)
    if with_coding and (root / coding.LESSONS_FILE).is_file():
        has_coding = True
        lessons = coding.load_lesson_coding(base)
        theme_labels = {t.code: t.label for t in lessons.themes}
        for lesson in lessons.links:
            themes.setdefault(lesson.activity, []).append(
                (lesson.theme, theme_labels[lesson.theme], lesson.quote))
    return AnnexContext(
        actors=actors,
        target_kinds=vocab_labels("target_kinds", base),
        age_bands=vocab_labels("age_bands", base),
        statuses=vocab_labels("outcome_statuses", base),
        conditions=conditions,
        themes=themes,
        workstream_conditions=streams,
        has_coding=has_coding,
    )


# --------------------------------------------------------------------------- markdown text
_URL = re.compile(r"(?:https?://|www\.)[^\s<>”“\"]*[^\s<>”“\".,;:!?)\]]")
# Characters with a meaning in MyST (CommonMark + the enabled extensions) that a transcribed
# text must not trigger: emphasis, links, roles, math, substitutions, tables, HTML, entities.
_SPECIAL = re.compile(r"([\\`*_\[\]{}<>$|~&])")


_ASCII_PUNCTUATION = frozenset(string.punctuation)


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def md_text(text: str) -> str:
    """Turn transcribed text into inline MyST that renders as the same text, URLs clickable.

    Markdown syntax characters are escaped (so ``2017*`` stays ``2017*``); a URL (``https://...``
    or ``www....``) becomes a link whose text is the URL as the source writes it. A leading
    ASCII punctuation character is escaped so a paragraph never turns into a list, heading,
    comment, target or block break (other characters cannot start a block, and a backslash before
    them would be printed).
    """
    from plusdig.core.text import visible_controls

    text = " ".join(visible_controls(text).split())
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_escape(text[pos:m.start()]))
        url = m.group(0)
        href = url if url.startswith("http") else f"https://{url}"
        out.append(f"[{_escape(url)}]({href.replace('(', '%28').replace(')', '%29')})")
        pos = m.end()
    out.append(_escape(text[pos:]))
    result = "".join(out)
    # CommonMark escapes only ASCII punctuation: before any other character (a typographic
    # quote ”, a dash –) a backslash would be printed as it is.
    if result and result[0] in _ASCII_PUNCTUATION and result[0] not in "\\[":
        result = "\\" + result
    if re.match(r"^\d+[.)](\s|$)", result):  # "1. " would start a numbered list
        result = re.sub(r"^(\d+)([.)])", r"\1\\\2", result)
    return result


def _blocks(blocks: Sequence[Block]) -> list[str]:
    """Markdown chunks of a section's blocks: paragraphs, bullet lists, numbered lists."""
    chunks: list[str] = []
    for block in blocks:
        if isinstance(block, BulletList):
            chunks.append("\n".join(f"- {md_text(b)}" for b in block.bullets))
        elif isinstance(block, NumberedList):
            chunks.append("\n".join(f"{i}. {md_text(b)}" for i, b in enumerate(block.numbered, 1)))
        else:
            chunks.append(md_text(block))
    return chunks


def _nbsp(text: str) -> str:
    """Keep a qualifier and its number together ("ca. 1.200" never breaks between them)."""
    return text.replace(" ", "\u00a0")


def _admonition(title: str, body: str, cls: str) -> str:
    return f":::{{admonition}} {title}\n:class: {cls}\n\n{body}\n:::"


def _optref(text: str, label: str) -> str:
    """A cross-reference to ``label`` that is plain text when the label is not in the book."""
    return f"{{plusdig-optref}}`{_OPTREF_UNSAFE.sub(_percent, ' '.join(text.split()))} <{label}>`"


#: Characters that would end a role's text or its ``<label>`` part; percent-encoded in the text
#: and decoded by the role, so a label from data ("a <b>", "`x`") is shown as written.
_OPTREF_UNSAFE = re.compile(r"[%<>`]")


def _percent(m: re.Match[str]) -> str:
    return f"%{ord(m.group(0)):02X}"


def _deflist_item(term: str, lines: Sequence[str]) -> str:
    """A definition-list entry; several lines become a bullet list inside the definition."""
    if len(lines) == 1:
        return f"{term}\n: {lines[0]}"
    return f"{term}\n: " + "\n  ".join(f"- {line}" for line in lines)


# --------------------------------------------------------------------------- labels and names
def activity_label(activity: Activity) -> str:
    """The stable cross-reference label of an activity page: ``aktivitet-<slug>``."""
    return f"{PAGE_PREFIX}{activity.slug}"


def activity_docnames(activities: Sequence[Activity]) -> dict[int, str]:
    """Activity id → file stem (``aktivitet-01``), zero-padded so the TOC glob sorts by id.

    The padding width is that of the largest id (at least 2), so ids 1–13 give ``aktivitet-01``
    and ids up to 1300 give ``aktivitet-0001``.
    """
    width = max([2, *(len(str(a.id)) for a in activities)])
    return {a.id: f"{PAGE_PREFIX}{a.id:0{width}d}" for a in activities}


def activity_hrefs(activities: Sequence[Activity], from_docname: str) -> dict[int, str]:
    """Activity id → relative HTML link to its page, from the page ``from_docname``.

    For report chapters that list activities in HTML tables (where ``{ref}`` cannot be used),
    e.g. ``activity_hrefs(acts, "book/report/betingelserne")[4]`` →
    ``"../annex/generated/aktivitet-04.html"``. In markdown, use ``{ref}`aktivitet-<slug>```.
    """
    import posixpath

    here = posixpath.dirname(from_docname.strip("/"))
    names = activity_docnames(activities)
    return {aid: posixpath.relpath(f"{GENERATED_DIR}/{name}.html", here or ".")
            for aid, name in names.items()}


def period_text(activity: Activity) -> str:
    """The stated period in Danish ("september 2017", "efteråret 2019"); says what is missing."""
    from plusdig.data.load import period_label

    return period_label(activity, NOT_STATED)


def _count_text(count: StatedCount) -> str:
    from plusdig.core.fmt import approx

    return approx(count.value, count.qualifier)
