"""The annex's pages as MyST Markdown: one per activity, the first year, the foreword,
the sidebar groups, and writing them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.data.models import (
    SECTION_TITLES,
    Activity,
    FirstYear,
)
from plusdig.sphinx.annex_context import (
    _GENERATED_NOTE,
    FIRST_YEAR_DOC,
    FOREWORD_FILE,
    NOT_STATED,
    PAGE_PREFIX,
    AnnexContext,
    _admonition,
    _blocks,
    _count_text,
    _deflist_item,
    _nbsp,
    _optref,
    activity_docnames,
    activity_label,
    load_context,
    md_text,
    period_text,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "render_activity_page", "render_first_year_page", "render_foreword", "render_pages",
    "render_annex", "activity_groups", "group_site_map", "write_pages",
]


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
        body += "\n\n**Tal, som kilden angiver** (med kildens forbehold som »ca.« og »over«):\n\n"
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
    from plusdig.data.load import load_activities, load_first_year

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


def write_pages(outdir: Path, pages: Mapping[str, str], dry_run: bool = False) -> WriteReport:
    """Write ``pages`` into ``outdir``: only changed files; remove stale activity pages.
    ``dry_run``: only say what would be written and removed."""
    if not dry_run:
        outdir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    unchanged: list[str] = []
    for name, content in pages.items():
        path = outdir / name
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            unchanged.append(name)
            continue
        if not dry_run:
            path.write_text(content, encoding="utf-8")
        written.append(name)
    removed = []
    for path in outdir.glob(f"{PAGE_PREFIX}*.md"):
        if path.name not in pages:
            if not dry_run:
                path.unlink()
            removed.append(path.name)
    return WriteReport(written, unchanged, sorted(removed))
