"""Part II of the book, the activity annex, rendered from ``data/``.

One MyST markdown page per activity (``aktivitet-01.md`` ...), one for the first year
(``det-foerste-aar.md``) and the annex's foreword (``forord.inc``, included by
``book/annex/index.md``) are written into ``book/annex/generated/`` (gitignored). The TOC lists
the activity pages with a ``glob``, so a new activity in ``data/activities.yaml`` yields its page
with no code change.

Used two ways:

- as a Sphinx extension (``sphinx: extra_extensions: [plusdig.annex]`` in ``_config.yml``): on
  ``config-inited``, before ``sphinx_external_toc`` reads ``_toc.yml``, the pages are rendered;
  a file is only rewritten when its content changed (so Sphinx re-reads only changed pages) and
  pages of activities no longer in the data are removed;
- as a library: :func:`render_activity_page`, :func:`overview_table`, :func:`timeline_table`
  and :func:`timeline_figure` are plain functions (data in, text/table/Figure out).

Cross-links to the report use the role ``{plusdig-optref}``: a ``{ref}`` that renders as plain
text (no warning) when its label (``betingelse-<code>``, ``tema-<code>``) is not in the book, and
whose page is rewritten as soon as the label appears or disappears.

Every step is linear in the number of activities (no quadratic look-ups).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import (
    SECTION_TITLES,
    Activity,
    Block,
    BulletList,
    FirstYear,
    NumberedList,
    StatedCount,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

__all__ = [
    "GENERATED_DIR",
    "PAGE_PREFIX",
    "FIRST_YEAR_DOC",
    "FOREWORD_FILE",
    "AnnexContext",
    "load_context",
    "md_text",
    "activity_label",
    "activity_docnames",
    "activity_hrefs",
    "period_text",
    "render_activity_page",
    "render_first_year_page",
    "render_foreword",
    "render_pages",
    "render_annex",
    "activity_groups",
    "group_site_map",
    "write_pages",
    "overview_table",
    "overview_styler",
    "timeline_table",
    "timeline_figure",
    "setup",
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

_GENERATED_NOTE = ("% Genereret af plusdig.annex fra data/ ved hvert byg. Ret i data/, ikke her.\n")


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
    from . import coding
    from .load import load_actors, vocab_labels
    from .paths import data_dir

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
    from .site import visible_controls

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
    from .load import period_label

    return period_label(activity, NOT_STATED)


def _count_text(count: StatedCount) -> str:
    from .fmt import approx

    return approx(count.value, count.qualifier)


# --------------------------------------------------------------------------- pages
def _fact_box(a: Activity, ctx: AnnexContext) -> str:
    items = [_deflist_item("Nr. i kataloget", [str(a.id)]),
             _deflist_item("Overskrift i kilden", [md_text(a.title_source)])]
    if a.track:
        items.append(_deflist_item("Spor", [md_text(a.track)]))
    items.append(_deflist_item("Periode", [md_text(period_text(a))]))
    groups = []
    for t in a.target_groups:
        text = ctx.target_kinds[t.kind]
        if t.age_band:
            text += f", {ctx.age_bands[t.age_band]}"
        groups.append(md_text(text))
    items.append(_deflist_item("Målgrupper", groups or [NOT_STATED]))
    partners = [md_text(f"{ctx.actors[p][0]} ({ctx.actors[p][1]})") for p in a.partners]
    items.append(_deflist_item("Parter (sektor)", partners or [NOT_STATED]))
    if a.outcome:
        outcome = f"{md_text(ctx.statuses[a.outcome.status])}: {md_text(a.outcome.summary)}"
    else:
        outcome = NOT_STATED
    items.append(_deflist_item("Resultat", [outcome]))
    if a.links:
        items.append(_deflist_item("Links", [md_text(u) for u in a.links]))
    body = "\n\n".join(items)
    if a.counts:
        rows = ["| Antal | Hvad | Afsnit | Kildens ordlyd |", "|---:|---|---|---|"]
        rows += [f"| {_nbsp(md_text(_count_text(c)))} | {md_text(c.what)} | {SECTION_TITLES[c.section]} | "
                 f"»{md_text(c.quote)}« |" for c in a.counts]
        body += "\n\n**Tal, som kilden angiver** (med kildens forbehold som \"ca.\" og \"over\"):\n\n"
        body += "\n".join(rows)
    else:
        body += "\n\n**Tal, som kilden angiver**: ingen."
    return f"::::{{admonition}} Fakta om aktiviteten\n:class: plusdig-fakta\n\n{body}\n::::"


def _sources_box(a: Activity, ctx: AnnexContext) -> str:
    lines: list[str] = []
    if a.period:
        lines.append(f"- Periode: »{md_text(a.period.quote)}«")
    for t in a.target_groups:
        lines.append(f"- Målgruppe ({md_text(ctx.target_kinds[t.kind])}): »{md_text(t.quote)}«")
    for actor, quote in a.partners.items():
        lines.append(f"- Part ({md_text(ctx.actors[actor][0])}): »{md_text(quote)}«")
    if a.outcome:
        if a.outcome.goal_quote:
            lines.append(f"- Formål, resultatet er vurderet mod: »{md_text(a.outcome.goal_quote)}«")
        lines.append(f"- Resultat: »{md_text(a.outcome.quote)}«")
    if not lines:
        return ""
    intro = ("Faktaboksen er evaluatorernes sammenfatning af kataloget; her er de steder i kilden, "
             "den bygger på.")
    return _admonition("Kildegrundlag for faktaboksen", intro + "\n\n" + "\n".join(lines),
                       "dropdown")


def _crossrefs(a: Activity, ctx: AnnexContext) -> str:
    if not ctx.has_coding:
        return ""
    conds = ctx.conditions.get(a.id, [])
    themes = ctx.themes.get(a.id, [])
    parts = ["## I evalueringsrapporten",
             "Evaluatorernes kodning af aktiviteten (en vurdering, ikke en oplysning fra kilden)."]
    if conds:
        parts.append("Betingelser for Collective Impact, aktiviteten bidrog til:")
        parts.append("\n".join(f"- {_optref(label, f'betingelse-{code}')}: {md_text(why)}"
                               for code, label, why in conds))
    else:
        parts.append("Aktiviteten er ikke kodet til nogen af betingelserne for Collective Impact.")
    if themes:
        parts.append("Temaer i erfaringerne (Erfaring/gode råd):")
        parts.append("\n".join(f"- {_optref(label, f'tema-{code}')}: »{md_text(quote)}«"
                               for code, label, quote in themes))
    else:
        parts.append("Aktivitetens erfaringer er ikke kodet til noget tema.")
    return "\n\n".join(parts)


def render_activity_page(activity: Activity, ctx: AnnexContext) -> str:
    """The MyST markdown page of one activity, in the annex's structure.

    Fact box (period, target groups, stated counts with qualifiers, partners with sectors,
    outcome, links), the six sections with their lists, notes where the source is incomplete
    (from ``source_notes``), the evaluators' cross-links to the report and the source quotes.
    """
    a = activity
    notes: dict[str, list[str]] = {}
    for n in a.source_notes:
        notes.setdefault(n.section, []).append(md_text(n.note))
    out = [_GENERATED_NOTE, f"({activity_label(a)})=", f"# Aktivitet {a.id}: {md_text(a.title)}", ""]
    if a.source_notes:
        body = "\n".join(f"- {SECTION_TITLES[n.section]}: {md_text(n.note)}" for n in a.source_notes)
        out.append(_admonition("Kilden er ufuldstændig", body, "warning") + "\n")
    out.append(_fact_box(a, ctx) + "\n")
    for key, title in SECTION_TITLES.items():
        out.append(f"## {title}\n")
        blocks = getattr(a.sections, key)
        if blocks:
            out.append("\n\n".join(_blocks(blocks)) + "\n")
        for note in notes.get(key, []):
            heading = "Ingen tekst i kilden" if not blocks else "Ufuldstændig tekst i kilden"
            out.append(_admonition(heading, note, "warning") + "\n")
    cross = _crossrefs(a, ctx)
    if cross:
        out.append(cross + "\n")
    sources = _sources_box(a, ctx)
    if sources:
        out.append("## Kilde\n")
        out.append(sources + "\n")
    return "\n".join(out).rstrip() + "\n"


def render_first_year_page(first_year: FirstYear, ctx: AnnexContext) -> str:
    """The MyST page "Det første år": the intro and the workstreams with actors and counts."""
    out = [_GENERATED_NOTE, f"({FIRST_YEAR_DOC})=", "# Det første år", ""]
    out += [md_text(p) + "\n" for p in first_year.intro]
    for ws in sorted(first_year.workstreams, key=lambda w: w.order):
        out.append(f"## {md_text(ws.title)}\n")
        out.append("\n".join(f"- {md_text(p)}" for p in ws.points) + "\n")
        if ws.actors:
            names = ", ".join(md_text(f"{ctx.actors[i][0]} ({ctx.actors[i][1]})") for i in ws.actors)
            out.append(f"**Aktører (sektor):** {names}\n")
        if ws.counts:
            counts = "; ".join(f"{md_text(_count_text(c))} {md_text(c.what)} (»{md_text(c.quote)}«)"
                               for c in ws.counts)
            out.append(f"**Tal, som kilden angiver:** {counts}\n")
        conds = ctx.workstream_conditions.get(ws.id, [])
        if conds:
            refs = "; ".join(f"{_optref(label, f'betingelse-{code}')} ({md_text(why)})"
                             for code, label, why in conds)
            out.append(f"**Betingelser for Collective Impact (evaluatorernes vurdering):** {refs}\n")
    return "\n".join(out).rstrip() + "\n"


def render_foreword(first_year: FirstYear) -> str:
    """The annex's Forord and Læsevejledning (included by ``book/annex/index.md``)."""
    out = [_GENERATED_NOTE, "## Forord\n"]
    out += [md_text(p) + "\n" for p in first_year.forord]
    out.append("## Læsevejledning\n")
    out += [md_text(p) + "\n" for p in first_year.laesevejledning]
    return "\n".join(out).rstrip() + "\n"


#: Default size of the sidebar groups when the annex has more activities than this.
GROUP_SIZE = 100


@dataclass(frozen=True)
class Group:
    """A sidebar group of activity pages (only used for large annexes)."""

    stem: str  # file stem of the group page, e.g. "aktivitet-gruppe-01"
    title: str  # "Aktivitet 1–100"
    members: list[str]  # file stems of the activity pages, in id order


def activity_groups(activities: Sequence[Activity], group_size: int = GROUP_SIZE) -> list[Group]:
    """Groups of at most ``group_size`` consecutive activities; none if all fit in one.

    With many activities a flat sidebar would list every activity on every page: the HTML (and
    the time to write it) would grow with the square of the number of activities. Grouped, and
    with the theme's ``collapse_navbar``, a page lists only its own group.
    """
    if len(activities) <= group_size:
        return []
    names = activity_docnames(activities)
    chunks = [activities[i:i + group_size] for i in range(0, len(activities), group_size)]
    width = max(2, len(str(len(chunks))))
    return [Group(stem=f"{PAGE_PREFIX}gruppe-{k:0{width}d}",
                  title=f"Aktivitet {chunk[0].id}–{chunk[-1].id}",
                  members=[names[a.id] for a in chunk])
            for k, chunk in enumerate(chunks, 1)]


def render_group_page(group: Group) -> str:
    """The page of a sidebar group: its title; the theme lists its activities."""
    return (f"{_GENERATED_NOTE}\n({group.stem})=\n# {group.title}\n\n"
            f"Aktiviteterne {md_text(group.title.removeprefix('Aktivitet '))} i kataloget.\n")


def render_annex(base: Path | None = None,
                 group_size: int = GROUP_SIZE) -> tuple[dict[str, str], list[Group]]:
    """File name → content of every generated file, and the sidebar groups.

    The activity pages, the first-year page, the foreword and, for an annex of more than
    ``group_size`` activities, the group pages (see :func:`activity_groups`).
    """
    from .load import load_activities, load_first_year

    acts = load_activities(base)
    first_year = load_first_year(base)
    ctx = load_context(base)
    names = activity_docnames(acts)
    groups = activity_groups(acts, group_size)
    pages = {f"{names[a.id]}.md": render_activity_page(a, ctx) for a in acts}
    pages.update({f"{g.stem}.md": render_group_page(g) for g in groups})
    pages[f"{FIRST_YEAR_DOC}.md"] = render_first_year_page(first_year, ctx)
    pages[FOREWORD_FILE] = render_foreword(first_year)
    return pages, groups


def render_pages(base: Path | None = None, group_size: int = GROUP_SIZE) -> dict[str, str]:
    """File name → content of every generated file (see :func:`render_annex`)."""
    return render_annex(base, group_size)[0]


def group_site_map(site_map: Any, glob_pattern: str, folder: str, groups: Sequence[Group]) -> bool:
    """Replace the activity ``glob`` of a parsed ``_toc.yml`` by the group pages.

    ``site_map`` is sphinx_external_toc's ``SiteMap``; each group becomes a document whose
    toctree lists its activity pages. Returns False (and changes nothing) when the glob is not
    in the TOC or there are no groups.
    """
    from sphinx_external_toc.api import Document, FileItem, GlobItem, TocTree

    if not groups:
        return False
    for doc in list(site_map.values()):
        for tree in doc.subtrees:
            if glob_pattern not in tree.items:
                continue
            at = tree.items.index(glob_pattern)
            group_items = [FileItem(f"{folder}/{g.stem}") for g in groups]
            tree.items[at:at + 1] = group_items
            for g, item in zip(groups, group_items, strict=True):
                members = [FileItem(f"{folder}/{m}") for m in g.members]
                site_map[str(item)] = Document(str(item), subtrees=[TocTree(
                    members, hidden=False, titlesonly=True, numbered=tree.numbered)])
                for m in members:
                    site_map[str(m)] = Document(str(m))
            assert not any(isinstance(i, GlobItem) and str(i) == glob_pattern for i in tree.items)
            return True
    return False


@dataclass(frozen=True)
class WriteReport:
    """What :func:`write_pages` did."""

    written: list[str]
    unchanged: list[str]
    removed: list[str]


def write_pages(outdir: Path, pages: Mapping[str, str]) -> WriteReport:
    """Write ``pages`` into ``outdir``: only changed files; remove stale activity pages."""
    outdir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    unchanged: list[str] = []
    for name, content in pages.items():
        path = outdir / name
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            unchanged.append(name)
            continue
        path.write_text(content, encoding="utf-8")
        written.append(name)
    removed = []
    for path in outdir.glob(f"{PAGE_PREFIX}*.md"):
        if path.name not in pages:
            path.unlink()
            removed.append(path.name)
    return WriteReport(written, unchanged, sorted(removed))


# --------------------------------------------------------------------------- overview tables
def overview_table(base: Path | None = None, *,
                   activities: Sequence[Activity] | None = None) -> pd.DataFrame:
    """One row per activity for the annex overview.

    Columns: ``id``, ``title``, ``period`` (Danish, "Ikke angivet i kilden" when missing),
    ``target_groups``, ``reach`` (the counts stated under Målgruppe and Hvem er med?, with their
    qualifiers), ``partners`` (names), ``outcome`` (status label), ``docname``. Pass
    ``activities`` (from :func:`plusdig.load.load_activities`) to avoid loading them again.
    """
    import pandas as pd

    from .load import load_activities

    acts = list(activities) if activities is not None else load_activities(base)
    ctx = load_context(base, with_coding=False)
    names = activity_docnames(acts)
    rows = []
    for a in acts:
        groups = dict.fromkeys(
            ctx.target_kinds[t.kind] + (f" ({ctx.age_bands[t.age_band]})" if t.age_band else "")
            for t in a.target_groups)
        reach = [f"{_count_text(c)} {c.what}" for c in a.counts
                 if c.section in ("maalgruppe", "hvem_er_med")]
        rows.append({
            "id": a.id,
            "title": a.title,
            "period": period_text(a),
            "target_groups": "; ".join(groups),
            "reach": "; ".join(dict.fromkeys(reach)),
            "partners": ", ".join(ctx.actors[p][0] for p in a.partners),
            "outcome": ctx.statuses[a.outcome.status] if a.outcome else NOT_STATED,
            "docname": f"{GENERATED_DIR}/{names[a.id]}",
        })
    return pd.DataFrame(rows, columns=["id", "title", "period", "target_groups", "reach",
                                       "partners", "outcome", "docname"])


#: Danish headers of the overview table (column → header).
OVERVIEW_COLUMNS: dict[str, str] = {
    "id": "Nr.",
    "title": "Aktivitet",
    "period": "Periode (som angivet)",
    "target_groups": "Målgrupper",
    "reach": "Omfang (som angivet)",
    "partners": "Parter",
    "outcome": "Resultat",
}


def overview_styler(overview: pd.DataFrame, *, page_dir: str = "generated") -> Any:
    """The overview as a pandas Styler: Danish headers, each title linked to its page.

    ``page_dir`` is the pages' folder relative to the page showing the table (the overview
    notebook lives in ``book/annex/``). All text is HTML-escaped except the links themselves.
    """
    from .tables import html_text

    view = overview.loc[:, list(OVERVIEW_COLUMNS)].copy()
    stems = [d.rsplit("/", 1)[-1] for d in overview["docname"]]
    view["title"] = [f'<a href="{page_dir}/{stem}.html">{html_text(t)}</a>'
                     for stem, t in zip(stems, overview["title"], strict=True)]
    for col in ("period", "target_groups", "reach", "partners", "outcome"):
        view[col] = view[col].map(html_text)
    view = view.rename(columns=OVERVIEW_COLUMNS)
    styler = view.style.hide(axis="index").set_uuid("annex-overview")
    styler = styler.set_table_styles([  # seven columns: small type, scroll sideways if needed
        {"selector": "", "props": "display: block; overflow-x: auto; font-size: 0.8em;"},
        {"selector": "td, th", "props": "vertical-align: top; padding: 0.25em 0.5em;"},
        {"selector": "td.col1", "props": "min-width: 9em;"},
        {"selector": "td.col5", "props": "min-width: 14em;"},
    ])
    return styler.set_table_attributes('class="plusdig-annex-overview"')


#: Precision labels of the timeline (Danish, shown in the legend).
PRECISION_LABELS = {"month": "Måned angivet", "season": "Forår/efterår angivet",
                    "year": "Kun år angivet", "none": "Tidspunkt ikke angivet"}


def timeline_table(activities: Iterable[Activity]) -> pd.DataFrame:
    """Timeline segments: one row per stated month, season or year span of each activity.

    Columns: ``id``, ``title``, ``period`` (Danish text, :func:`period_text`), ``start``, ``end``
    (Timestamps; ``end`` exclusive), ``precision`` (``month``/``season``/``year``/``none``). An activity whose period, or whose year, the source
    does not state gets one row with precision ``none`` and no dates: it is never placed at a
    guessed date.
    """
    import pandas as pd

    acts = list(activities)
    rows: list[dict[str, Any]] = []
    for a in acts:
        p = a.period
        years = sorted(p.years) if p else []
        if not years:
            rows.append({"id": a.id, "title": a.title, "start": pd.NaT, "end": pd.NaT,
                         "precision": "none"})
            continue
        if p is not None and p.months:
            for y in years:
                for m in p.months:
                    start = pd.Timestamp(year=y, month=m, day=1)
                    rows.append({"id": a.id, "title": a.title, "start": start,
                                 "end": start + pd.offsets.MonthBegin(1), "precision": "month"})
        elif p is not None and p.season:
            first, last = SEASON_MONTHS[p.season]
            for y in years:
                rows.append({"id": a.id, "title": a.title,
                             "start": pd.Timestamp(year=y, month=first, day=1),
                             "end": pd.Timestamp(year=y, month=last, day=1) + pd.offsets.MonthBegin(1),
                             "precision": "season"})
        else:
            rows.append({"id": a.id, "title": a.title, "start": pd.Timestamp(year=years[0], month=1, day=1),
                         "end": pd.Timestamp(year=years[-1] + 1, month=1, day=1), "precision": "year"})
    frame = pd.DataFrame(rows, columns=["id", "title", "start", "end", "precision"])
    periods = {a.id: period_text(a) for a in acts}
    frame.insert(2, "period", frame["id"].map(periods).astype(object))
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    return frame


#: Above this many activities the timeline is drawn compactly (no per-row labels or notes).
TIMELINE_MAX_LABELLED_ROWS = 60


def timeline_figure(segments: pd.DataFrame, first_year: int = 2017, last_year: int = 2019) -> Figure:
    """Gantt-like timeline of the activities; undated activities listed apart, with no bar.

    The x axis spans ``first_year``–``last_year`` (widened if the data reach further). Each
    activity is one row (``"<id>. <title>"``); its segments are coloured by how precisely the
    source dates them. Activities without a stated time come last, under a line, marked
    "tidspunkt ikke angivet" instead of a bar. With more than
    :data:`TIMELINE_MAX_LABELLED_ROWS` activities the figure keeps a bounded height: rows are
    numbered instead of labelled and the undated block carries one note with its size.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.patches import Patch
    from matplotlib.ticker import NullFormatter

    from .style import PALETTE

    colours = {"month": PALETTE[0], "season": PALETTE[2], "year": PALETTE[4]}
    dated = segments[segments["precision"] != "none"]
    undated = segments[segments["precision"] == "none"].drop_duplicates("id")
    order = (dated.groupby("id", sort=False)
             .agg(title=("title", "first"), start=("start", "min"))
             .sort_values(["start"], kind="stable"))
    labels = [f"{i}. {t}" for i, t in zip(order.index, order["title"], strict=True)]
    labels += [f"{i}. {t}" for i, t in zip(undated["id"], undated["title"], strict=True)]
    row_of = {aid: n for n, aid in enumerate([*order.index, *undated["id"]])}
    n_rows = max(len(row_of), 1)
    compact = n_rows > TIMELINE_MAX_LABELLED_ROWS
    if not dated.empty:
        first_year = min(first_year, int(dated["start"].dt.year.min()))
        last_year = max(last_year, int((dated["end"] - pd.Timedelta(days=1)).dt.year.max()))
    x0 = mdates.date2num(pd.Timestamp(year=first_year, month=1, day=1))
    x1 = mdates.date2num(pd.Timestamp(year=last_year + 1, month=1, day=1))

    fig, ax = plt.subplots(figsize=(9, 12 if compact else 1.2 + 0.32 * n_rows))
    for prec, group in dated.groupby("precision", sort=False):
        starts = mdates.date2num(group["start"])
        widths = mdates.date2num(group["end"]) - starts
        ax.barh([row_of[i] for i in group["id"]], widths, left=starts, height=0.6,
                color=colours[str(prec)], edgecolor="white", linewidth=0 if compact else 0.5)
    if compact and len(undated):
        ax.text(x0 + (x1 - x0) * 0.01, len(order) + len(undated) / 2,
                f"{len(undated)} aktiviteter: tidspunkt ikke (fuldt) angivet i kilden",
                va="center", ha="left", fontsize=9, style="italic", color="#555555")
    notes = [] if compact else list(zip(undated["id"], undated["period"], strict=True))
    for aid, period in notes:
        text = ("tidspunkt ikke angivet i kilden" if period == NOT_STATED
                else f"kun delvist angivet: {period}")
        ax.text(x0 + (x1 - x0) * 0.01, row_of[aid], text,
                va="center", ha="left", fontsize=8, style="italic", color="#555555")
    if len(undated) and len(order):
        ax.axhline(len(order) - 0.5, color="#555555", linewidth=0.8, linestyle="--")
    if compact:
        ax.set_ylabel("Aktiviteter (rækkefølge efter første tidspunkt)")
        ax.set_yticks([])
    else:
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xlim(x0, x1)
    # Year boundaries as grid lines, the year's label in the middle of the year.
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=7, bymonthday=1))
    ax.xaxis.set_minor_formatter(mdates.DateFormatter("%Y"))
    ax.tick_params(axis="x", which="minor", length=0)
    ax.grid(axis="x", which="major", linewidth=1.0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Tidspunkt, som kilden angiver det")
    ax.set_title("Aktiviteterne på en tidslinje")
    used = [p for p in ("month", "season", "year") if (dated["precision"] == p).any()]
    handles = [Patch(color=colours[p], label=PRECISION_LABELS[p]) for p in used]
    if handles:
        ax.legend(handles=handles, loc="upper center",
                  bbox_to_anchor=(0.5, -0.04 if compact else -0.12 - 0.6 / n_rows),
                  ncol=len(handles), fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    from .figdata import SOURCE_ANNEX, FigureData, attach

    drawn = pd.DataFrame({
        "Aktivitet nr.": segments["id"], "Aktivitet": segments["title"],
        "Periode (som angivet)": segments["period"],
        "Fra": segments["start"].dt.strftime("%Y-%m").fillna(""),
        "Til (ikke medregnet)": segments["end"].dt.strftime("%Y-%m").fillna(""),
        "Præcision": segments["precision"].map(PRECISION_LABELS),
    })
    return attach(fig, FigureData(drawn.reset_index(drop=True), SOURCE_ANNEX,
                                  notes=["Én række pr. bjælke; uden Fra og Til: tidspunktet er ikke angivet."]))


# --------------------------------------------------------------------------- Sphinx extension
def _generate(app: Sphinx, config: Config) -> None:
    """``config-inited``: render the pages into the generated folder before the TOC is read."""
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    from .errors import DataValidationError

    logger = logging.getLogger(__name__)
    base = Path(config.plusdig_data).resolve() if config.plusdig_data else None
    outdir = Path(app.srcdir) / config.plusdig_annex_dir
    try:
        pages, groups = render_annex(base, config.plusdig_annex_group_size)
    except DataValidationError as exc:
        raise ExtensionError(f"[plusdig.annex] data error: {exc}") from exc
    report = write_pages(outdir, pages)
    logger.info("[plusdig.annex] %d page(s) written, %d unchanged, %d removed (%s)",
                len(report.written), len(report.unchanged), len(report.removed), outdir)
    app.__dict__["plusdig_annex_groups"] = groups


def _group_toc(app: Sphinx, config: Config) -> None:
    """``config-inited`` after sphinx_external_toc: group a large annex in the sidebar."""
    from sphinx.util import logging

    groups = app.__dict__.get("plusdig_annex_groups") or []
    site_map = getattr(config, "external_site_map", None)
    if not groups or site_map is None:
        return
    folder = config.plusdig_annex_dir.strip("/")
    if group_site_map(site_map, f"{folder}/{PAGE_PREFIX}*", folder, groups):
        # a page's sidebar then shows only its own group: HTML grows linearly, not squared
        config.html_theme_options = {**config.html_theme_options, "collapse_navbar": True}
        logging.getLogger(__name__).info("[plusdig.annex] %d sidebar groups", len(groups))


def _no_smartquotes_transform() -> type:
    """A transform that keeps text from data as it is written: no smart quotes on it.

    The generated pages hold transcribed text: ``NGO'er`` and ``"ca."`` must read exactly as the
    source writes them, not be turned into typographic quotes (nor ``--`` into a dash, nor
    ``\\"`` into ``"``). Smart quotes are off for the generated pages, for a page that includes a
    generated file (the annex's index includes the foreword) and, on every other page, for text
    pasted from a notebook with ``{glue:text}`` (names and titles from data). It runs before
    ``SphinxSmartQuotes`` (priority 750); ``is_smartquotable`` honours ``support_smartquotes``.
    """
    from docutils import nodes
    from sphinx.transforms import SphinxTransform

    class NoSmartQuotes(SphinxTransform):
        default_priority = 700

        def apply(self, **kwargs: Any) -> None:
            folder = self.config.plusdig_annex_dir.strip("/")
            included = getattr(self.document.settings.record_dependencies, "list", None) or []
            generated = str(Path(self.env.srcdir) / folder) + "/"
            if (self.env.docname.startswith(folder + "/")
                    or any(str(dep).startswith(generated) for dep in included)):
                self.document["support_smartquotes"] = False
                return
            for node in self.document.findall(nodes.inline):
                if "pasted-text" in node["classes"]:
                    node["support_smartquotes"] = False

    return NoSmartQuotes


def _optref_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
                 options: Mapping[str, Any] | None = None,
                 content: Sequence[str] = ()) -> tuple[list[Any], list[Any]]:
    """``{plusdig-optref}`Text <label>```: a std ``ref`` that is plain text if the label is absent."""
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util.nodes import split_explicit_title

    env = inliner.document.settings.env
    from urllib.parse import unquote

    _has, title, target = split_explicit_title(text)
    title = unquote(title)  # see _optref
    target = target.strip().lower()
    node = addnodes.pending_xref(rawtext, refdomain="std", reftype="ref", reftarget=target,
                                 refexplicit=True, refwarn=True, refdoc=env.docname)
    node["plusdig_optional"] = True
    node += nodes.inline(title, title, classes=["xref", "std", "std-ref"])
    refs: dict[str, set[str]] = env.__dict__.setdefault("plusdig_optrefs", {})
    refs.setdefault(env.docname, set()).add(target)
    return [node], []


def _missing_reference(app: Sphinx, env: BuildEnvironment, node: Any, contnode: Any) -> Any:
    """An optional reference whose label is not in the book renders as its plain text."""
    if node.get("plusdig_optional"):
        return contnode
    return None


def _purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.__dict__.setdefault("plusdig_optrefs", {}).pop(docname, None)


def _merge_info(app: Sphinx, env: BuildEnvironment, docnames: Iterable[str],
                other: BuildEnvironment) -> None:
    mine = env.__dict__.setdefault("plusdig_optrefs", {})
    theirs = other.__dict__.get("plusdig_optrefs", {})
    for doc in docnames:
        if doc in theirs:
            mine[doc] = theirs[doc]


def _docs_to_rewrite(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-updated``: pages to rewrite although their sources did not change.

    - every page, when a page was added or removed or a title changed: each page's sidebar lists
      the whole book (adding a 14th activity must show in the sidebar of the other 13 too, which
      an incremental Sphinx build would otherwise leave stale);
    - otherwise the pages whose optional references now resolve differently (a report label
      appeared or disappeared).
    """
    toc = {doc: env.titles[doc].astext() if doc in env.titles else "" for doc in env.all_docs}
    previous = env.__dict__.get("plusdig_toc_state")
    env.__dict__["plusdig_toc_state"] = toc
    changed = _optref_changes(env)
    if previous is not None and previous != toc:
        return sorted(env.all_docs)
    return changed


def _optref_changes(env: BuildEnvironment) -> list[str]:
    """Pages whose optional references resolve differently than at the last build."""
    labels = env.domaindata["std"]["labels"]
    refs: dict[str, set[str]] = env.__dict__.setdefault("plusdig_optrefs", {})
    old: dict[str, frozenset[str]] = env.__dict__.get("plusdig_optref_state", {})
    new = {doc: frozenset(t for t in targets if t in labels) for doc, targets in refs.items()}
    env.__dict__["plusdig_optref_state"] = new
    return [doc for doc, state in new.items() if old.get(doc) != state]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the annex generator and the ``plusdig-optref`` role with Sphinx."""
    app.add_config_value("plusdig_annex_dir", GENERATED_DIR, "env")
    app.add_config_value("plusdig_data", "", "env")
    app.add_config_value("plusdig_annex_group_size", GROUP_SIZE, "env")
    # sphinx_external_toc parses _toc.yml on config-inited at priority 900; run well before it.
    app.connect("config-inited", _generate, priority=100)
    app.connect("config-inited", _group_toc, priority=950)
    app.add_transform(_no_smartquotes_transform())
    app.add_role("plusdig-optref", _optref_role)
    app.connect("missing-reference", _missing_reference)
    app.connect("env-purge-doc", _purge_doc)
    app.connect("env-merge-info", _merge_info)
    app.connect("env-updated", _docs_to_rewrite)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
