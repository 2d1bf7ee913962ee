"""Data-fidelity tests: every transcribed fact in ``data/`` must be findable in the source text.

The source is the text of the annex "Aktivitetskatalog"
(``../shared/source/plusdig-aktivitetskatalog.txt`` relative to the repository root;
``$PLUSDIG_SOURCE`` overrides it). If it is missing the tests FAIL:
without the source, nothing in ``data/`` can be checked.

The source is compared in two whitespace-normalised forms: ``plain`` (tabs and newlines become
single spaces) and ``joined`` (additionally, a word hyphenated across a line break is joined:
"+DIG-\\nindsatsen" → "+DIG-indsatsen"). A transcribed string must occur verbatim in one of them.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from plusdig.sphinx import annex_overview
from plusdig.sphinx.reader import danish_quotes
from plusdig.data import load
from plusdig.data.coding import qualifier_in_quote, unqualified_in_quote, value_in_quote
from plusdig.data.models import SECTION_TITLES, Activity, BulletList, NumberedList

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "source" / "plusdig-aktivitetskatalog.txt"

#: Regexes of the six section headings as they stand at the start of a source line.
HEADING_PATTERNS: dict[str, str] = {
    "beskrivelse": r"Beskrivelse",
    "formaal": r"Formål",
    "maalgruppe": r"Målgruppe",
    "hvem_er_med": r"Hvem er med\?",
    "resultater": r"Resultater",
    "erfaring": r"Erfaring/gode\s+råd",
}
MIN_COVERAGE = 0.97


# --------------------------------------------------------------------------- source
def source_path() -> Path:
    env = os.environ.get("PLUSDIG_SOURCE")
    return Path(env) if env else DEFAULT_SOURCE


@functools.cache
def _read_source() -> str | None:
    path = source_path()
    return path.read_text(encoding="utf-8") if path.is_file() else None


def raw_source() -> str:
    text = _read_source()
    if text is None:
        pytest.fail(
            f"source text not found at {source_path()} (set PLUSDIG_SOURCE to its path); "
            "the data cannot be checked against the source without it"
        )
    return text


def plain(text: str) -> str:
    """Whitespace-normalised: tabs/newlines → single spaces, stripped."""
    return re.sub(r"\s+", " ", text).strip()


def joined(text: str) -> str:
    """Like :func:`plain`, but a hyphen ending a line after a word is joined to the next line."""
    return plain(re.sub(r"(?<=\S)-[ \t]*\n\s*", "-", text))


def canon(text: str) -> str:
    """A loose form for locating text (both hyphen variants match); for order, not existence."""
    return re.sub(r"(?<=\S)- (?=\S)", "-", plain(text))


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def occurs(needle: str, haystack_raw: str) -> bool:
    n = plain(needle)
    return n in plain(haystack_raw) or n in joined(haystack_raw)


# --------------------------------------------------------------------------- data
@functools.cache
def activities() -> list[Activity]:
    return load.load_activities()


@functools.cache
def first_year():
    return load.load_first_year()


@functools.cache
def published():
    return load.load_published()


def block_items(block) -> list[str]:
    if isinstance(block, BulletList):
        return list(block.bullets)
    if isinstance(block, NumberedList):
        return list(block.numbered)
    return [block]


def section_items(act: Activity, key: str) -> list[str]:
    return [item for block in getattr(act.sections, key) for item in block_items(block)]


def flagged(act: Activity, key: str, issue: str | None = None) -> bool:
    return any(n.section == key and (issue is None or n.issue == issue) for n in act.source_notes)


# --------------------------------------------------------------------------- source structure
@dataclass
class Segment:
    """The source text of one activity, cut at its title and section headings."""

    start: int  # offset of the title in the raw source
    body: str  # raw text after the title, up to the next title
    sections: dict[str, str | None]  # raw text under each heading; None = heading absent
    heading_spans: list[tuple[int, int]]  # offsets of the headings inside ``body``


def title_regex(act: Activity) -> re.Pattern[str]:
    parts = r"\s+".join(re.escape(w) for w in act.title_source.split())
    return re.compile(rf"^[ \t]*{act.id}[ \t]+{parts}[ \t]*$", re.MULTILINE)


@functools.cache
def segments() -> dict[int, Segment]:
    raw = raw_source()
    acts = activities()
    starts: list[tuple[int, int, int]] = []
    for act in acts:
        m = title_regex(act).search(raw)
        assert m, (
            f"activity {act.id}: title {act.title_source!r} not found as a heading in the source"
        )
        starts.append((act.id, m.start(), m.end()))
    out: dict[int, Segment] = {}
    for i, (aid, start, end) in enumerate(starts):
        stop = starts[i + 1][1] if i + 1 < len(starts) else len(raw)
        body = raw[end:stop]
        found: list[tuple[str, int, int]] = []
        pos = 0
        for key, pat in HEADING_PATTERNS.items():
            m = re.compile(rf"^[ \t]*{pat}(?=[ \t]|$)", re.MULTILINE).search(body, pos)
            if m:
                found.append((key, m.start(), m.end()))
                pos = m.end()
        sections: dict[str, str | None] = dict.fromkeys(HEADING_PATTERNS)
        for j, (key, _hs, he) in enumerate(found):
            nxt = found[j + 1][1] if j + 1 < len(found) else len(body)
            sections[key] = body[he:nxt]
        out[aid] = Segment(start, body, sections, [(hs, he) for _k, hs, he in found])
    return out


def first_year_source() -> str:
    raw = raw_source()
    m = re.search(r"^\s*AKTIVITETER\s*$", raw, re.MULTILINE)
    assert m, "the heading AKTIVITETER is missing from the source"
    return raw[: m.start()]


# --------------------------------------------------------------------------- tests
def test_source_is_present():
    raw = raw_source()
    assert "AKTIVITETER" in raw and "Forord" in raw, f"{source_path()} is not the activity annex"


def test_thirteen_activities_in_order():
    assert [a.id for a in activities()] == list(range(1, 14))


def test_titles_match_source():
    raw = raw_source()
    for act in activities():
        assert occurs(act.title_source, raw), (
            f"activity {act.id}: {act.title_source!r} not in source"
        )
        # the title: the source's heading in sentence case, with the book's quotation marks
        # (»Boost Trivslen« for the heading's ”BOOST TRIVSLEN”); the heading stays verbatim
        assert act.title.upper() == danish_quotes(act.title_source), (
            f"activity {act.id}: title {act.title!r}")


def test_titles_appear_in_order():
    starts = [segments()[a.id].start for a in activities()]
    assert starts == sorted(starts)


def test_section_headings_and_emptiness():
    """Each heading exists (unless flagged empty); a section is empty iff the source's is."""
    for act in activities():
        seg = segments()[act.id]
        for key in SECTION_TITLES:
            src = seg.sections[key]
            items = section_items(act, key)
            if src is None:
                assert flagged(act, key, "empty") and not items, (
                    f"activity {act.id}: heading {SECTION_TITLES[key]!r} is missing from the "
                    "source but the data does not flag the section as empty"
                )
            elif not plain(src):
                assert not items and flagged(act, key, "empty"), (
                    f"activity {act.id}: {key} is empty in the source; "
                    "data must be [] with a source_note"
                )
            else:
                assert items, (
                    f"activity {act.id}: {key} has text in the source but none in the data"
                )
                assert not flagged(act, key, "empty"), (
                    f"activity {act.id}: {key} flagged empty wrongly"
                )


def test_section_text_occurs_in_source():
    raw = raw_source()
    for act in activities():
        for key in SECTION_TITLES:
            for item in section_items(act, key):
                assert occurs(item, raw), f"activity {act.id} {key}: not in source: {item[:80]!r}"


def test_section_text_in_its_own_section_and_order():
    """Each paragraph/item stands under its own heading of its activity, in the source's order."""
    for act in activities():
        seg = segments()[act.id]
        for key in SECTION_TITLES:
            src = seg.sections[key]
            if src is None:
                continue
            hay, pos = canon(src), 0
            for item in section_items(act, key):
                found = hay.find(canon(item), pos)
                assert found >= 0, (
                    f"activity {act.id} {key}: {item[:80]!r} not found (in order) "
                    f"under its heading in the source"
                )
                pos = found + len(canon(item))


def test_truncated_sections_are_flagged():
    for act in activities():
        if act.id == 4:
            assert flagged(act, "formaal", "truncated")
            assert section_items(act, "formaal")[-1].endswith("om hvad der")
        if act.id == 12:
            assert act.sections.formaal == [] and flagged(act, "formaal", "empty")
        if act.id == 13:
            text = " ".join(section_items(act, "resultater"))
            assert (
                "2017*" in text and "SDQ’en**" in text and flagged(act, "resultater", "truncated")
            )


def test_coverage_of_each_activity():
    """The data hold ≥97 % of each activity's source words, and no word the source lacks."""
    for act in activities():
        seg = segments()[act.id]
        body = seg.body
        for hs, he in reversed(seg.heading_spans):  # drop the headings themselves
            body = body[:hs] + " " + body[he:]
        src = Counter(words(body))
        data = Counter(
            w for key in SECTION_TITLES for item in section_items(act, key) for w in words(item)
        )
        covered = sum((src & data).values()) / sum(src.values())
        assert covered >= MIN_COVERAGE, (
            f"activity {act.id}: only {covered:.1%} of the source's words "
            f"transcribed; missing: {sorted((src - data).elements())[:30]}"
        )
        extra = data - src
        assert not extra, f"activity {act.id}: words not in the source: {sorted(extra.elements())}"


def test_track_period_outcome_target_quotes():
    for act in activities():
        body = segments()[act.id].body
        if act.track:
            assert occurs(act.track, body), f"activity {act.id}: track {act.track!r} not in source"
        if act.period:
            q = act.period.quote
            assert occurs(q, body), f"activity {act.id}: period quote {q!r} not in source"
        if act.outcome:
            q = act.outcome.quote
            assert occurs(q, body), f"activity {act.id}: outcome quote {q!r} not in source"
        for tg in act.target_groups:
            assert occurs(tg.quote, body), (
                f"activity {act.id}: target-group quote {tg.quote!r} not in source"
            )


def test_period_years_are_stated():
    """A year in ``period.years`` must be written in the quote (ranges like 2017-2019 count)."""
    for act in activities():
        if not act.period:
            continue
        q = act.period.quote
        stated: set[int] = {int(y) for y in re.findall(r"(?<!\d)(20\d\d)(?!\d)", q)}
        for a, b in re.findall(r"(?<!\d)(20\d\d)-(\d{2,4})(?!\d)", q):
            end = int(b) if len(b) == 4 else int(a[:2] + b)
            stated |= set(range(int(a), end + 1))
        assert set(act.period.years) <= stated, (
            f"activity {act.id}: years {act.period.years} vs {q!r}"
        )


def test_counts_quotes_values_qualifiers():
    for act in activities():
        seg = segments()[act.id]
        for c in act.counts:
            where = f"activity {act.id} count {c.what!r}"
            src = seg.sections[c.section]
            assert src is not None and occurs(c.quote, src), (
                f"{where}: quote {c.quote!r} not under {SECTION_TITLES[c.section]!r} in the source"
            )
            assert value_in_quote(c.value, c.quote), f"{where}: value {c.value} not in {c.quote!r}"
            if c.qualifier:
                assert qualifier_in_quote(c.qualifier, c.quote), (
                    f"{where}: {c.qualifier!r} not in quote"
                )
            else:
                assert unqualified_in_quote(c.value, c.quote), (
                    f"{where}: the quote qualifies the value"
                )


def test_links_are_the_urls_of_the_activity():
    for act in activities():
        body = joined(segments()[act.id].body)
        in_source = {
            ("https://" + u if u.startswith("www.") else u).rstrip(".,;:)")
            for u in re.findall(r"(?:https?://|(?<![\w/])www\.)\S+", body)
        }
        assert set(act.links) == in_source, (
            f"activity {act.id}: links {act.links} vs source {in_source}"
        )


def test_first_year_text_occurs_in_order():
    fy_raw = first_year_source()
    hay, pos = canon(fy_raw), 0
    pieces = [*first_year().forord, *first_year().laesevejledning, *first_year().intro]
    for ws in first_year().workstreams:
        pieces += [ws.title, *ws.points]
    for piece in pieces:
        assert occurs(piece, fy_raw), f"first year: not in source: {piece[:80]!r}"
        found = hay.find(canon(piece), pos)
        assert found >= 0, f"first year: out of order: {piece[:80]!r}"
        pos = found + len(canon(piece))


def test_first_year_workstreams():
    fy = first_year()
    assert [w.order for w in fy.workstreams] == list(range(1, 7))
    assert [w.id for w in fy.workstreams] == [
        "vidensgrundlag",
        "alliancen",
        "lokal-kontekst",
        "organisatorisk-ramme",
        "kick-off",
        "koordinationsgruppe",
    ]
    fy_raw = first_year_source()
    for ws in fy.workstreams:
        for c in ws.counts:
            assert occurs(c.quote, fy_raw), f"workstream {ws.id}: quote {c.quote!r} not in source"
            assert value_in_quote(c.value, c.quote)
            if c.qualifier:
                assert qualifier_in_quote(c.qualifier, c.quote)


def test_first_year_coverage():
    fy_raw = first_year_source()
    fy = first_year()
    body = re.sub(
        r"^\s*(Forord|Læsevejledning|Det første år|\d+)\s*$", " ", fy_raw, flags=re.MULTILINE
    )
    src = Counter(words(body))
    texts = [*fy.forord, *fy.laesevejledning, *fy.intro]
    for ws in fy.workstreams:
        texts += [ws.title, *ws.points]
    data = Counter(w for t in texts for w in words(t))
    covered = sum((src & data).values()) / sum(src.values())
    assert covered >= MIN_COVERAGE, (
        f"first year: {covered:.1%}; missing {sorted((src - data).elements())}"
    )
    assert not (data - src), (
        f"first year: words not in the source: {sorted((data - src).elements())}"
    )


def test_published_figures_quotes_and_values():
    import pandas as pd

    survey = segments()[13].body
    for row in published().itertuples(index=False):
        where = f"published {row.figure_id}"
        assert occurs(row.quote, survey), (
            f"{where}: quote {row.quote!r} not in activity 13 of the source"
        )
        if pd.isna(row.value):
            assert row.direction, f"{where}: no value and no direction"
        else:
            assert value_in_quote(float(row.value), row.quote), f"{where}: {row.value} not in quote"
        if not pd.isna(row.qualifier):
            assert qualifier_in_quote(row.qualifier, row.quote), f"{where}: qualifier not in quote"
        else:
            assert pd.isna(row.value) or unqualified_in_quote(float(row.value), row.quote), where
        for y in (row.year_start, row.year_end):
            if not pd.isna(y):
                assert re.search(rf"{y}|{str(y)[:2]}\d\d-{str(y)[2:]}(?!\d)", survey), (
                    f"{where}: year {y}"
                )


# --------------------------------------------------------------------------- the evaluators' coding
def test_partner_quotes_stand_in_the_activitys_own_hvem_er_med():
    """Every coded partner is named in its own activity's "Hvem er med?" in the source."""
    for act in activities():
        src = segments()[act.id].sections["hvem_er_med"]
        for actor, quote in act.partners.items():
            assert src is not None and occurs(quote, src), (
                f"activity {act.id}: partner {actor!r}: {quote!r} not under 'Hvem er med?' in the source"
            )


def test_first_year_actor_quotes_stand_in_the_first_year():
    fy_raw = first_year_source()
    for ws in first_year().workstreams:
        for actor, quote in ws.actors.items():
            assert occurs(quote, fy_raw), f"workstream {ws.id}: actor {actor!r}: {quote!r} not in source"


def test_outcome_quotes_stand_under_formaal_and_resultater():
    for act in activities():
        if not act.outcome:
            continue
        seg = segments()[act.id]
        assert occurs(act.outcome.quote, seg.sections["resultater"] or ""), (
            f"activity {act.id}: result quote not under 'Resultater' in the source"
        )
        if act.outcome.goal_quote:
            assert occurs(act.outcome.goal_quote, seg.sections["formaal"] or ""), (
                f"activity {act.id}: goal quote not under 'Formål' in the source"
            )


def test_period_quotes_stand_where_the_activity_is_dated():
    for act in activities():
        if act.period:
            seg = segments()[act.id]
            assert any(occurs(act.period.quote, seg.sections[k] or "") for k in ("beskrivelse", "resultater")), (
                f"activity {act.id}: period quote {act.period.quote!r} not under Beskrivelse or Resultater"
            )


def test_activity_3_is_not_dated_by_its_status_sentence():
    """Issue 12: "Der er i efteråret 2019 et korps på 20 frivillige" says who is there, not when
    Læsehestene took place; the timeline must not place the activity after its own nomination
    (activity 9, spring 2019)."""

    act = next(a for a in activities() if a.id == 3)
    assert act.period is None or "korps" not in act.period.quote
    segs = annex_overview.timeline_table(activities())
    mine = segs[(segs["id"] == 3) & (segs["precision"] != "none")]
    nomination = segs[(segs["id"] == 9) & (segs["precision"] != "none")]
    assert mine.empty or mine["start"].min() <= nomination["start"].min()


def test_activity_9_is_judged_against_its_stated_goal():
    """Issue 12: winning the prize is nowhere the stated goal; the goal is to spread knowledge of
    Læsehestene and to celebrate the volunteers, and the result is that they were highlighted."""
    act = next(a for a in activities() if a.id == 9)
    assert act.outcome is not None and act.outcome.status != "not_achieved"
    assert act.outcome.goal_quote and "udbrede kendskabet" in act.outcome.goal_quote
    assert "fremhævet" in act.outcome.quote


def test_activity_3_count_says_what_the_source_says():
    act = next(a for a in activities() if a.id == 3)
    texts = [c.what for c in act.counts]
    assert not any("pr." in t for t in texts), texts
    assert any("næsten alle kommunale institutioner" in t for t in texts), texts
