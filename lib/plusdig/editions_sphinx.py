"""Sphinx extension for editions: the errata page, the notices, the edition switcher.

Registered in ``_config.yml`` (``sphinx.extra_extensions``). The numbers it compares are read
from the pages the build has just written (:mod:`plusdig.editions`), so its work is done when
the build has finished writing (``build-finished``, before :mod:`plusdig.build` publishes the
site) and it edits the written pages in place, between markers, so that doing it again on an
unchanged page changes nothing:

- ``{glue:text}`` values carry their glue name (class ``plusdig-glue-<name>``), so a snapshot
  knows each number by name, not by its place in the prose;
- the page "Ændringer siden forrige udgave" (directive ``plusdig-aendringer``) gets the list
  of changes since the previous edition, chapter by chapter, with links; in the
  ``singlehtml`` build too, so the PDF has it as an appendix;
- every changed page gets a one-line notice under its title ("Rettet i udgave 2027.2: …");
- the header gets an edition switcher (the newest edition is the site itself; older ones are
  their own built sites, copied from ``udgaver/<edition>/`` into ``/udgaver/<edition>/``,
  never rebuilt).
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import editions as ed
from . import fmt

__all__ = ["errata_html", "notice_html", "switcher_html", "setup"]

PLACEHOLDER = '<div class="plusdig-aendringer"></div>'
_ERRATA = re.compile(r'<div class="plusdig-aendringer">.*?<!--/plusdig-aendringer--></div>',
                     re.S)
_NOTICE = re.compile(r"<!--plusdig-rettet-->.*?<!--/plusdig-rettet-->", re.S)
_SWITCHER = re.compile(r"<!--plusdig-udgaver-->.*?<!--/plusdig-udgaver-->", re.S)
_HEADER_BUTTONS = '<div class="article-header-buttons">'
_HEADING_END = re.compile(r"</h[1-6]>")
_ARTICLE = re.compile(r'<article class="bd-article"[^>]*>')

e = html.escape


# --------------------------------------------------------------------------- rendering
def _section_title(snapshot: dict[str, Any], doc: str, anchor: str) -> str:
    for s in snapshot.get("chapters", {}).get(doc, {}).get("sections", []):
        if s["id"] == anchor:
            return re.sub(r"^[\d.]+\s+", "", s["title"])
    return ""


def _quoted(text: str) -> str:
    return f"»{e(text)}«"


def _old_new(old: str, new: str) -> str:
    return (f'<del>{e(old) or "(tom)"}</del> → <ins>{e(new) or "(tom)"}</ins>')


def describe(change: ed.Change, snapshot: dict[str, Any]) -> str:
    """A change as HTML (Danish): what, where, old → new."""
    section = _section_title(snapshot, change.chapter, change.anchor)
    where = f" i afsnittet {_quoted(section)}" if section else ""
    table = f"Tabel {_quoted(change.label)}" if change.label else "En tabel"
    figure = f"Figur {_quoted(change.label)}" if change.label else "En figur"
    kind = change.kind
    if kind == "value":
        return f"Tal{where}: {_old_new(change.old, change.new)}"
    if kind == "value-added":
        return f"Nyt tal{where}: <ins>{e(change.new)}</ins>"
    if kind == "value-removed":
        return f"Tal fjernet{where}: <del>{e(change.old)}</del>"
    if kind == "cell":
        row, _, col = change.where.partition(" · ")
        return (f"{table}, række {_quoted(row)}, kolonne {_quoted(col)}: "
                f"{_old_new(change.old, change.new)}")
    if kind == "row-added":
        return f"{table}: ny række {_quoted(change.where)} ({e(change.new)})"
    if kind == "row-removed":
        return f"{table}: rækken {_quoted(change.where)} er fjernet ({e(change.old)})"
    if kind == "table-added":
        return f"{table} er ny"
    if kind == "table-removed":
        return f"{table} er fjernet"
    if kind == "figure":
        alt = f": {_old_new(change.old, change.new)}" if change.old != change.new else ""
        return f"{figure}: figurens data er ændret{alt}"
    if kind == "figure-added":
        return f"{figure} er ny"
    if kind == "figure-removed":
        return f"{figure} er fjernet"
    return f"Teksten er ændret i {_quoted(change.label)}"


def _chapter_title(doc: str, new: dict[str, Any], old: dict[str, Any]) -> str:
    for snap in (new, old):
        title = snap.get("chapters", {}).get(doc, {}).get("title")
        if title:
            return str(title)
    return doc


def errata_html(state: ed.State, changes: list[ed.Change], snapshot: dict[str, Any],
                link: Callable[[str, str], str]) -> str:
    """The contents of the page "Ændringer siden forrige udgave"."""
    out = ['<div class="plusdig-aendringer">']
    cur = state.current
    if cur is None:
        out.append("<p>Bogen er endnu ikke udgivet i en nummereret udgave, så der er ingen "
                   "tidligere udgave at sammenligne med.</p>")
    elif not state.base:
        out.append(f"<p>Udgave {e(cur.name)} er bogens første udgave; der er ingen tidligere "
                   "udgave at sammenligne med.</p>")
    else:
        if state.released:
            out.append(f"<p>Udgave {e(cur.name)} ({e(fmt.danish_date(cur.date))}) sammenlignet "
                       f"med udgave {e(state.base)}.</p>")
        else:
            out.append(f"<p>Bogen er ændret efter udgave {e(state.base)} og er endnu ikke "
                       f"udgivet som en ny udgave. Listen viser ændringerne siden udgave "
                       f"{e(state.base)}.</p>")
        numbers = [c for c in changes if c.is_number]
        if not numbers:
            out.append(f'<p class="plusdig-ingen-tal">Ingen tal er ændret: alle tal, tabeller '
                       f"og figurer er som i udgave {e(state.base)}.</p>")
        else:
            pages = len({c.chapter for c in numbers})
            out.append(f"<p>{len(numbers)} ændringer i tal, tabeller og figurer på "
                       f"{pages} {'side' if pages == 1 else 'sider'}.</p>")
        if not any(not c.is_number for c in changes):
            out.append("<p>Ingen afsnit har fået ændret tekst.</p>")
        base = state.base_snapshot or {}
        for doc in dict.fromkeys(c.chapter for c in changes):
            out.append(f'<h2><a href="{e(link(doc, ""))}">'
                       f"{e(_chapter_title(doc, snapshot, base))}</a></h2>")
            out.append('<ul class="simple">')
            for c in (c for c in changes if c.chapter == doc):
                out.append(f'<li><a href="{e(link(doc, c.anchor))}">'
                           f"{describe(c, snapshot if c.kind != 'value-removed' else base)}"
                           "</a></li>")
            out.append("</ul>")
    out.append("<!--/plusdig-aendringer--></div>")
    return "\n".join(out)


def notice_html(state: ed.State, changes: list[ed.Change], snapshot: dict[str, Any],
                errata_href: str, limit: int = 3) -> str:
    """The one-line notice on a changed page."""
    cur = state.current
    assert cur is not None
    lead = (f"Rettet i udgave {e(cur.name)}" if state.released
            else f"Ændret efter udgave {e(cur.name)} (ikke udgivet)")
    items = [re.sub(r"</?(del|ins)>", "", describe(c, snapshot)) for c in changes[:limit]]
    more = len(changes) - limit
    rest = f"; og {more} {'ændring' if more == 1 else 'ændringer'} mere" if more > 0 else ""
    return ('<!--plusdig-rettet--><div class="admonition note plusdig-rettet" role="note">'
            f"<p>{lead}: {'; '.join(items)}{rest}. "
            f'<a href="{e(errata_href)}">Se alle ændringer siden udgave {e(state.base)}</a>.'
            "</p></div><!--/plusdig-rettet-->")


def switcher_html(names: list[str], current: str, to_root: str, *, newest_label: str) -> str:
    """The header's edition switcher: the newest edition (the site) and each older one
    (``udgaver/<edition>/``). ``to_root`` leads from the page to the site's root."""
    items = []
    for i, name in enumerate(reversed(names)):
        href = f"{to_root}index.html" if i == 0 else f"{to_root}{ed.ARCHIVE_DIR}/{name}/index.html"
        text = newest_label if i == 0 else f"Udgave {name}"
        aria = ' aria-current="page"' if name == current else ""
        items.append(f'<li><a href="{e(href)}"{aria}>{e(text)}</a></li>')
    label = newest_label if current == names[-1] else f"Udgave {current} (ældre udgave)"
    return ("<!--plusdig-udgaver-->"
            '<details class="plusdig-udgaver" style="position:relative;display:inline-block;'
            'margin-right:.5rem">'
            f'<summary style="cursor:pointer" title="Skift udgave">{e(label)}</summary>'
            '<ul style="position:absolute;right:0;z-index:1100;list-style:none;margin:0;'
            "padding:.5rem 1rem;white-space:nowrap;background:var(--pst-color-background);"
            'border:1px solid var(--pst-color-border)">' + "".join(items) +
            "</ul></details><!--/plusdig-udgaver-->")


# --------------------------------------------------------------------------- patching pages
def _with_switcher(page: str, switcher: str) -> str:
    page = _SWITCHER.sub("", page)
    return page.replace(_HEADER_BUTTONS, _HEADER_BUTTONS + switcher, 1) if switcher else page


def _after_title(page: str, start: int, notice: str) -> str:
    """``page`` with ``notice`` after the first heading from ``start`` (a page's title is
    its ``<h1>``; in the ``singlehtml`` page, a chapter's title is an ``<h2>``)."""
    m = _HEADING_END.search(page, start)
    if m is None:
        return page
    return page[:m.end()] + notice + page[m.end():]


def _write_if_changed(path: Path, text: str, before: str) -> None:
    if text != before:
        path.write_text(text, encoding="utf-8")


def _to_root(doc: str) -> str:
    return "../" * doc.count("/")


def _patch_site(app: Any, st: ed.State, changes: list[ed.Change], snap: dict[str, Any]) -> None:
    out = Path(app.outdir)
    names = [x.name for x in st.editions]
    newest = (f"Udgave {names[-1]} (nyeste)" if st.released
              else f"Efter udgave {names[-1]} (ikke udgivet)") if names else ""
    for doc in sorted(app.env.found_docs):
        path = out / f"{doc}.html"
        if not path.is_file():
            continue
        before = path.read_text(encoding="utf-8")
        page = _NOTICE.sub("", before)
        if names:
            page = _with_switcher(page, switcher_html(names, names[-1], _to_root(doc),
                                                      newest_label=newest))
        if doc == ed.ERRATA_DOC:
            def link(target: str, anchor: str) -> str:
                rel = posixpath.relpath(f"{target}.html", posixpath.dirname(doc) or ".")
                return f"{rel}#{anchor}" if anchor else rel

            page = _ERRATA.sub("", page).replace(PLACEHOLDER,
                                                 errata_html(st, changes, snap, link), 1)
        mine = [c for c in changes if c.chapter == doc]
        if mine and st.current is not None:
            errata = posixpath.relpath(f"{ed.ERRATA_DOC}.html", posixpath.dirname(doc) or ".")
            m = _ARTICLE.search(page)
            if m:
                page = _after_title(page, m.end(), notice_html(st, mine, snap, errata))
        _write_if_changed(path, page, before)
    _copy_archives(Path(app.confdir), out, names, newest)


def _copy_archives(root: Path, out: Path, names: list[str], newest: str) -> None:
    """Older editions' sites into ``/udgaver/<edition>/`` (hard links where possible); their
    pages' switchers list every edition and lead to this site as the newest."""
    for name in names:
        src = root / ed.ARCHIVE_DIR / name
        dest = out / ed.ARCHIVE_DIR / name
        if not src.is_dir():
            continue
        shutil.rmtree(dest, ignore_errors=True)
        for path in sorted(src.rglob("*")):
            target = dest / path.relative_to(src)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".html":
                rel = path.relative_to(src).as_posix()
                to_root = "../" * (rel.count("/") + 2)
                page = path.read_text(encoding="utf-8")
                target.write_text(_with_switcher(page, switcher_html(
                    names, name, to_root, newest_label=newest)), encoding="utf-8")
                continue
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)


def _patch_single(app: Any, st: ed.State, changes: list[ed.Change], snap: dict[str, Any]) -> None:
    path = Path(app.outdir) / f"{app.config.root_doc}.html"
    if not path.is_file():
        return
    before = path.read_text(encoding="utf-8")
    page = _NOTICE.sub("", before)
    ids = re.findall(r'\sid="([^"]+)"', page)
    counts = {i: ids.count(i) for i in set(ids)}

    def link(target: str, anchor: str) -> str:
        return f"#{anchor}" if anchor and counts.get(anchor) == 1 else f"#document-{target}"

    page = _ERRATA.sub("", page).replace(PLACEHOLDER, errata_html(st, changes, snap, link), 1)
    for doc in dict.fromkeys(c.chapter for c in changes):
        marker = page.find(f'<span id="document-{doc}"></span>')
        if marker >= 0 and st.current is not None:
            notice = notice_html(st, [c for c in changes if c.chapter == doc], snap,
                                 f"#document-{ed.ERRATA_DOC}")
            page = _after_title(page, marker, notice)
    _write_if_changed(path, page, before)


def _finished(app: Any, exception: BaseException | None) -> None:
    if exception is not None or app.builder.name not in ("html", "singlehtml"):
        return
    root = Path(app.confdir)
    st = ed.state(root)
    out = Path(app.outdir)
    if app.builder.name == "html":
        snap = ed.site_snapshot(out, sorted(app.env.found_docs))
    else:
        snap = ed.singlehtml_snapshot(out / f"{app.config.root_doc}.html")
    changes: list[ed.Change] = []
    if st.base_snapshot is not None:
        changes = ed.compare(st.base_snapshot, snap)
        sources = {d: Path(app.env.doc2path(d)) for d in sorted(app.env.found_docs)}
        texts = ed.text_changes(root, st.tag(st.base), sources, snap)
        order = list(snap["chapters"])
        changes = sorted(changes + texts, key=lambda c: (
            order.index(c.chapter) if c.chapter in order else len(order), not c.is_number))
    (_patch_site if app.builder.name == "html" else _patch_single)(app, st, changes, snap)


# --------------------------------------------------------------------------- Sphinx glue
def _tagged_glue_text() -> Any:
    """``{glue:text}`` whose pasted value carries its glue name as a class."""
    from myst_nb.ext.glue.roles import PasteTextRole

    class TaggedPasteText(PasteTextRole):  # type: ignore[misc]
        def run(self) -> tuple[list[Any], list[Any]]:
            result, messages = super().run()
            key = self.text.rsplit(":", 1)[0] if self.text.count(":") == 1 else self.text
            name = re.sub(r"[^A-Za-z0-9_-]", "-", key.split("::")[-1])
            for node in result:
                if "pasted-text" in node.get("classes", []):
                    node["classes"] += [ed.GLUE_CLASS, f"{ed.GLUE_CLASS}-{name}"]
            return result, messages

    return TaggedPasteText()


def _errata_directive() -> type:
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class Errata(SphinxDirective):
        """Where the build writes the list of changes (see :func:`_finished`)."""

        def run(self) -> list[nodes.Node]:
            return [nodes.raw("", PLACEHOLDER, format="html")]

    return Errata


def _outdated(app: Any, env: Any, added: set[str], changed: set[str],
              removed: set[str]) -> list[str]:
    """Re-read the errata page when the editions changed (a release), so the site is
    written again with the new comparison."""
    key = ed.state_key(Path(app.confdir))
    if getattr(env, "plusdig_editions_key", None) == key:
        return []
    env.plusdig_editions_key = key
    return [ed.ERRATA_DOC] if ed.ERRATA_DOC in env.found_docs else []


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx (after myst-nb, which registers the glue domain)."""
    app.add_role_to_domain("glue", "text", _tagged_glue_text(), override=True)
    app.add_directive("plusdig-aendringer", _errata_directive())
    app.connect("env-get-outdated", _outdated)
    # before plusdig.build publishes the staged site (priority 1000)
    app.connect("build-finished", _finished, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
