"""Unit tests of plusdig.sphinx.annex: the activity pages' markdown, the overview and the timeline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.deflist import deflist_plugin
from plusdig.sphinx import annex_context
from plusdig.sphinx import annex_overview
from plusdig.sphinx import annex_pages
from plusdig.core.fmt import approx
from plusdig.data.load import block_text, load_activities, load_first_year
from plusdig.data.models import SECTION_TITLES, Activity
from plusdig.core.paths import REPO_ROOT

DATA = REPO_ROOT / "data"


def norm(text: str) -> str:
    return " ".join(text.split())


def rendered_text(markdown: str) -> str:
    """The text a reader sees: markdown rendered to HTML by CommonMark, tags stripped."""
    md = MarkdownIt("commonmark").enable("table").use(deflist_plugin)
    html = md.render(markdown)
    text = re.sub(r"</?(a|em|strong|code)\b[^>]*>", "", html)  # inline tags: no word break
    text = re.sub(r"<[^>]+>", " ", text)
    for entity, char in (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"')):
        text = text.replace(entity, char)
    return norm(text)


@pytest.fixture(scope="module")
def activities() -> list[Activity]:
    return load_activities()


@pytest.fixture(scope="module")
def ctx() -> annex_context.AnnexContext:
    return annex_context.load_context()


def activity_fields(a: Activity, ctx: annex_context.AnnexContext) -> list[str]:
    """Every non-empty field of an activity, as the text a reader must find on its page."""
    out = [a.title, a.title_source, str(a.id), annex_context.period_text(a)]
    if a.track:
        out.append(a.track)
    if a.period:
        out.append(a.period.quote)
    for key in SECTION_TITLES:
        out += [block_text(b) for b in getattr(a.sections, key)]
    out += list(a.links)
    for t in a.target_groups:
        out += [ctx.target_kinds[t.kind], t.quote]
        if t.age_band:
            out.append(ctx.age_bands[t.age_band])
    for c in a.counts:
        out += [approx(c.value, c.qualifier), c.what, c.quote, SECTION_TITLES[c.section]]
    for p in a.partners:
        out += list(ctx.actors[p])
    if a.outcome:
        out += [ctx.statuses[a.outcome.status], a.outcome.summary, a.outcome.quote]
    out += [n.note for n in a.source_notes]
    return [part for field in out for part in field.split("\n") if part.strip()]


# --------------------------------------------------------------------------- md_text
@pytest.mark.parametrize("raw", [
    "Færre svarer, at de er ensomme i 2018 sammenlignet med 2017*",
    "Ud fra spørgsmålene i SDQ’en** om mental trivsel",
    "+DIG-sekretariatet og Læsehestene",
    "1. Samarbejdskapacitet: Der er skabt nye",
    "- en tankestreg først",
    "# ikke en overskrift",
    "% ikke en kommentar",
    "(label)=",
    "Lejre Bibliotek& Arkiv, {{ sub }} $x$ a_b_c `kode` [x](y) <b> | ~",
    ": ikke en definition",
    "”Ja og…”: Giv den anden mulighed for at fortælle mere",  # issue 12: no stray backslash
    "”Unge viser vej”",
    "«Et lettere liv» – “citat” ‘enkelt’ »dansk«",
    "'enkelt' og \"dobbelt\"",
    "<script>alert(1)</script> <!-- \\(x\\) $$y$$ &amp; \\\" %",
])
def test_md_text_renders_as_the_same_text(raw: str) -> None:
    assert rendered_text(annex_context.md_text(raw)) == norm(raw)


#: A quotation mark (straight or typographic) with a backslash before it: a MyST escape that
#: CommonMark did not consume and so prints (issue 12).
STRAY_BACKSLASH = re.compile(r"\\[\"'”“„«»‘’‚]")


def test_no_backslash_before_a_quotation_mark_on_any_page(activities, ctx) -> None:
    """Issue 12: ``\\”Ja og…”`` on activity pages. Every page renders without one."""
    pages = annex_pages.render_pages()
    assert len(pages) > len(activities)
    for name, markdown in pages.items():
        text = rendered_text(markdown)
        assert not STRAY_BACKSLASH.search(text), (name, STRAY_BACKSLASH.findall(text))


def test_md_text_makes_urls_clickable() -> None:
    md = annex_context.md_text("Læs mere her: https://www.sus.dk/collective-impact-paa-dansk/ og www.plusdig.dk.")
    assert "[https://www.sus.dk/collective-impact-paa-dansk/](https://www.sus.dk/collective-impact-paa-dansk/)" in md
    assert "[www.plusdig.dk](https://www.plusdig.dk)." in md  # sentence full stop not in the URL


def test_md_text_keeps_url_characters() -> None:
    url = "https://plusdig.dk/wp-content/uploads/2019/03/DAGBLADET_Roskilde_L%C3%A6seleg-og-L%C3%A6seheste.pdf"
    md = annex_context.md_text(url)
    assert f"]({url})" in md
    assert rendered_text(md) == url


# --------------------------------------------------------------------------- pages
def test_every_field_of_every_activity_is_on_its_page(activities, ctx) -> None:
    for a in activities:
        page = rendered_text(annex_pages.render_activity_page(a, ctx))
        missing = [f for f in activity_fields(a, ctx) if norm(f) not in page]
        assert not missing, f"activity {a.id}: not on its page: {missing}"


def test_page_has_label_title_and_sections_in_the_annex_order(activities, ctx) -> None:
    a = activities[0]
    md = annex_pages.render_activity_page(a, ctx)
    assert f"({annex_context.activity_label(a)})=\n# Aktivitet {a.id}: " in md
    positions = [md.index(f"\n## {title}\n") for title in SECTION_TITLES.values()]
    assert positions == sorted(positions)


def test_lists_are_kept(activities, ctx) -> None:
    by_id = {a.id: a for a in activities}
    bullets = by_id[2].sections.erfaring[1]
    md = annex_pages.render_activity_page(by_id[2], ctx)
    for item in bullets.bullets:  # type: ignore[union-attr]
        assert f"\n- {annex_context.md_text(item)}" in md
    numbered = by_id[9].sections.resultater[2]
    md = annex_pages.render_activity_page(by_id[9], ctx)
    for i, item in enumerate(numbered.numbered, 1):  # type: ignore[union-attr]
        assert f"\n{i}. {annex_context.md_text(item)}" in md


def test_links_are_rendered_as_links(activities, ctx) -> None:
    for a in activities:
        md = annex_pages.render_activity_page(a, ctx)
        for url in a.links:
            assert f"]({url})" in md, (a.id, url)


def _with(a: Activity, **changes) -> Activity:
    data = a.model_dump()
    data.update(changes)
    return Activity.model_validate(data)


def test_incomplete_sections_are_flagged(activities, ctx) -> None:
    a = _with(activities[0], sections={**activities[0].sections.model_dump(), "formaal": []},
              source_notes=[{"section": "formaal", "issue": "empty", "note": "Ingen tekst i kilden her."}])
    md = annex_pages.render_activity_page(a, ctx)
    section = md.split("## Formål\n", 1)[1].split("\n## ", 1)[0]
    assert ":::{admonition} Ingen tekst i kilden" in section
    assert "Ingen tekst i kilden her." in section
    assert ":::{admonition} Kilden er ufuldstændig" in md.split("## Beskrivelse")[0]

    b = _with(activities[0], source_notes=[{"section": "formaal", "issue": "truncated",
                                            "note": "Stopper midt i sætningen."}])
    section = annex_pages.render_activity_page(b, ctx).split("## Formål\n", 1)[1].split("\n## ", 1)[0]
    assert ":::{admonition} Ufuldstændig tekst i kilden" in section
    assert "Stopper midt i sætningen." in section


def test_a_complete_activity_is_not_flagged(activities, ctx) -> None:
    a = _with(activities[0], source_notes=[])
    md = annex_pages.render_activity_page(a, ctx)
    assert "ufuldstændig" not in md.lower()


def test_missing_period_and_outcome_say_not_stated(activities, ctx) -> None:
    a = _with(activities[0], period=None, outcome=None, target_groups=[], partners={}, counts=[])
    md = annex_pages.render_activity_page(a, ctx)
    box = md.split("::::{admonition} Fakta om aktiviteten", 1)[1].split("\n::::", 1)[0]
    assert box.count(annex_context.NOT_STATED) == 4  # period, target groups, partners, outcome
    assert "**Tal, som kilden angiver**: ingen." in box


def test_counts_keep_their_qualifiers(activities, ctx) -> None:
    for a in activities:
        md = annex_pages.render_activity_page(a, ctx)
        for c in a.counts:
            value = annex_context.md_text(approx(c.value, c.qualifier)).replace(" ", "\u00a0")
            assert f"| {value} | {annex_context.md_text(c.what)} |" in md


def test_period_text() -> None:
    base = load_activities()[0]
    assert annex_context.period_text(_with(base, period=None)) == annex_context.NOT_STATED
    month_only = _with(base, period={"years": [], "months": [9], "quote": "I september"})
    assert annex_context.period_text(month_only) == "september (år ikke angivet i kilden)"
    season = _with(base, period={"years": [2019], "season": "efterår", "quote": "efteråret 2019"})
    assert annex_context.period_text(season) == "efteråret 2019"
    span = _with(base, period={"years": [2019, 2017, 2018], "quote": "2017-2019"})
    assert annex_context.period_text(span) == "2017–2019"


def test_cross_links_use_optional_refs_to_stable_labels(activities, ctx) -> None:
    assert ctx.has_coding, "the coding files are in data/coding/"
    linked = [a for a in activities if ctx.conditions.get(a.id)]
    assert linked
    for a in linked:
        md = annex_pages.render_activity_page(a, ctx)
        for code, label, _why in ctx.conditions[a.id]:
            assert f"{{plusdig-optref}}`{label} <betingelse-{code}>`" in md
        for code, label, _quote in ctx.themes.get(a.id, []):
            assert f"{{plusdig-optref}}`{label} <tema-{code}>`" in md


def test_no_coding_files_no_cross_link_section(tmp_path: Path, activities) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    shutil.rmtree(data / "coding")
    ctx = annex_context.load_context(data)
    assert not ctx.has_coding
    md = annex_pages.render_activity_page(activities[0], ctx)
    assert "I evalueringsrapporten" not in md and "plusdig-optref" not in md


def test_first_year_page_and_foreword(ctx) -> None:
    fy = load_first_year()
    page = rendered_text(annex_pages.render_first_year_page(fy, ctx))
    for ws in fy.workstreams:
        for text in [ws.title, *ws.points, *(ctx.actors[i][0] for i in ws.actors)]:
            assert norm(text) in page
        for c in ws.counts:
            assert f"{approx(c.value, c.qualifier)} {c.what}" in page
    for text in fy.intro:
        assert norm(text) in page
    foreword = rendered_text(annex_pages.render_foreword(fy))
    for text in [*fy.forord, *fy.laesevejledning]:
        assert norm(text) in foreword


# --------------------------------------------------------------------------- file names, writing
def test_docnames_are_zero_padded_to_sort_by_id(activities) -> None:
    names = annex_context.activity_docnames(activities)
    assert names[1] == "aktivitet-01" and names[13] == "aktivitet-13"
    many = [_with(activities[0], id=i, slug=f"a-{i}") for i in (1, 9, 10, 100, 1300)]
    names = annex_context.activity_docnames(many)
    assert sorted(names.values()) == [names[i] for i in (1, 9, 10, 100, 1300)]
    assert names[1] == "aktivitet-0001"


def test_write_pages_writes_only_changes_and_removes_stale(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    first = annex_pages.write_pages(out, {"aktivitet-01.md": "a\n", "aktivitet-02.md": "b\n", "x.inc": "c\n"})
    assert sorted(first.written) == ["aktivitet-01.md", "aktivitet-02.md", "x.inc"]
    mtime = (out / "aktivitet-01.md").stat().st_mtime_ns
    second = annex_pages.write_pages(out, {"aktivitet-01.md": "a\n", "x.inc": "c2\n"})
    assert second.written == ["x.inc"] and second.unchanged == ["aktivitet-01.md"]
    assert second.removed == ["aktivitet-02.md"] and not (out / "aktivitet-02.md").exists()
    assert (out / "aktivitet-01.md").stat().st_mtime_ns == mtime


def test_render_pages_one_per_activity_plus_first_year() -> None:
    pages = annex_pages.render_pages()
    acts = load_activities()
    assert sorted(p for p in pages if p.startswith(annex_context.PAGE_PREFIX)) == sorted(
        f"{n}.md" for n in annex_context.activity_docnames(acts).values())
    assert f"{annex_context.FIRST_YEAR_DOC}.md" in pages and annex_context.FOREWORD_FILE in pages


def test_a_new_activity_gets_a_page_and_a_row(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    raw = yaml.safe_load((data / "activities.yaml").read_text(encoding="utf-8"))
    new = dict(raw[0], id=14, slug="ny-aktivitet", title="En ny aktivitet")
    (data / "activities.yaml").write_text(yaml.safe_dump(raw + [new], allow_unicode=True), encoding="utf-8")
    pages = annex_pages.render_pages(data)
    assert "# Aktivitet 14: En ny aktivitet" in pages["aktivitet-14.md"]
    table = annex_overview.overview_table(data)
    assert table["id"].tolist()[-1] == 14 and table["title"].tolist()[-1] == "En ny aktivitet"


# --------------------------------------------------------------------------- overview and timeline
def test_overview_table(activities, ctx) -> None:
    table = annex_overview.overview_table()
    assert table["id"].tolist() == [a.id for a in activities]
    by_id = table.set_index("id")
    for a in activities:
        row = by_id.loc[a.id]
        assert row["period"] == annex_context.period_text(a)
        for p in a.partners:
            assert ctx.actors[p][0] in row["partners"]
        for c in a.counts:
            if c.section in ("maalgruppe", "hvem_er_med"):
                assert f"{approx(c.value, c.qualifier)} {c.what}" in row["reach"]
    html = annex_overview.overview_styler(table).to_html()
    assert html.count('<a href="generated/aktivitet-') == len(activities)
    assert "Omfang (som angivet)" in html


def test_timeline_never_guesses_a_date(activities) -> None:
    seg = annex_overview.timeline_table(activities)
    assert set(seg["id"]) == {a.id for a in activities}
    for a in activities:
        rows = seg[seg["id"] == a.id]
        if a.period is None or not a.period.years:
            assert rows["precision"].tolist() == ["none"] and rows["start"].isna().all()
        else:
            assert rows["start"].notna().all()
            assert set(rows["start"].dt.year) <= set(a.period.years)
            if a.period.months:
                assert sorted(rows["start"].dt.month) == sorted(a.period.months * len(a.period.years))


def test_timeline_figure(activities) -> None:
    import matplotlib.dates as mdates

    seg = annex_overview.timeline_table(activities)
    fig = annex_overview.timeline_figure(seg)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(activities)
    undated = seg.loc[seg["precision"] == "none", "id"].tolist()
    assert [int(label.split(".")[0]) for label in labels[-len(undated):]] == undated
    lo, hi = (mdates.num2date(x).year for x in ax.get_xlim())
    assert lo == 2017 and hi == 2020  # 2017-01-01 .. 2020-01-01
    n_bars = sum(len(c.patches) for c in ax.containers)
    assert n_bars == int((seg["precision"] != "none").sum())


def test_timeline_figure_stays_bounded_for_many_activities(activities) -> None:
    many = [_with(activities[i % len(activities)], id=i + 1, slug=f"a-{i + 1}") for i in range(200)]
    seg = annex_overview.timeline_table(many)
    fig = annex_overview.timeline_figure(seg)
    ax = fig.axes[0]
    assert fig.get_size_inches()[1] <= 12
    assert list(ax.get_yticks()) == []  # rows numbered by position, not labelled one by one
    n_undated = int((seg.drop_duplicates("id")["precision"] == "none").sum())
    notes = [t.get_text() for t in ax.texts]
    assert notes == [f"{n_undated} aktiviteter: tidspunkt ikke (fuldt) angivet i kilden"]
    n_bars = sum(len(c.patches) for c in ax.containers)
    assert n_bars == int((seg["precision"] != "none").sum())


def test_context_without_coding_is_cheaper_and_has_no_links() -> None:
    ctx = annex_context.load_context(with_coding=False)
    assert not ctx.has_coding and not ctx.conditions and not ctx.themes
    assert ctx.actors and ctx.target_kinds and ctx.statuses


def test_activity_hrefs_are_relative_to_the_linking_page(activities) -> None:
    hrefs = annex_context.activity_hrefs(activities, "book/report/betingelserne")
    assert hrefs[4] == "../annex/generated/aktivitet-04.html"
    assert annex_context.activity_hrefs(activities, "book/annex/oversigt")[13] == "generated/aktivitet-13.html"
    assert annex_context.activity_hrefs(activities, "index")[1] == "book/annex/generated/aktivitet-01.html"


# --------------------------------------------------------------------------- sidebar groups
def test_no_groups_for_a_small_annex(activities) -> None:
    assert annex_pages.activity_groups(activities) == []
    assert not any("gruppe" in name for name in annex_pages.render_pages())


def test_groups_cover_every_activity_once_in_order(activities) -> None:
    many = [_with(activities[i % len(activities)], id=i + 1, slug=f"a-{i + 1}") for i in range(23)]
    groups = annex_pages.activity_groups(many, group_size=10)
    assert [g.title for g in groups] == ["Aktivitet 1–10", "Aktivitet 11–20", "Aktivitet 21–23"]
    assert [g.stem for g in groups] == [f"aktivitet-gruppe-0{k}" for k in (1, 2, 3)]
    names = annex_context.activity_docnames(many)
    assert [m for g in groups for m in g.members] == [names[a.id] for a in many]
    page = annex_pages.render_group_page(groups[2])
    assert "(aktivitet-gruppe-03)=\n# Aktivitet 21–23" in page


def test_group_site_map_replaces_the_glob_by_groups(activities) -> None:
    from sphinx_external_toc.parsing import parse_toc_yaml

    site_map = parse_toc_yaml(REPO_ROOT / "_toc.yml")
    folder = annex_context.GENERATED_DIR
    pattern = f"{folder}/{annex_context.PAGE_PREFIX}*"
    assert pattern in site_map.globs()
    groups = annex_pages.activity_groups(activities, group_size=5)
    assert annex_pages.group_site_map(site_map, pattern, folder, groups)
    assert pattern not in site_map.globs()
    for g in groups:
        doc = site_map[f"{folder}/{g.stem}"]
        assert [str(i) for i in doc.subtrees[0].items] == [f"{folder}/{m}" for m in g.members]
        assert all(f"{folder}/{m}" in site_map for m in g.members)
    annex_tree = next(t for d in site_map.values() for t in d.subtrees
                      if f"{folder}/{groups[0].stem}" in t.items)
    assert [str(i) for i in annex_tree.items][-len(groups):] == [f"{folder}/{g.stem}" for g in groups]
    assert not annex_pages.group_site_map(site_map, pattern, folder, groups)  # glob gone: no-op
