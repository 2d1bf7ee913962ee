"""Sphinx extension for editions: the errata page, the notices, the edition switcher.

Registered in ``_config.yml`` (``sphinx.extra_extensions``). The numbers it compares are
read from the pages the build has just written (:mod:`plusdig.publish.snapshot`), so its work
is done when the build has finished writing (``build-finished``, before
:mod:`plusdig.sphinx.build` publishes the site) and it edits the written pages in place,
between markers, so that doing it again on an unchanged page changes nothing:

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
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plusdig.core import fmt
from plusdig.publish import editions as ed

__all__ = ["describe", "errata_html", "notice_html", "old_edition_html", "patch_page",
           "switcher_html", "setup"]

PLACEHOLDER = '<div class="plusdig-aendringer"></div>'
_ERRATA = re.compile(r'<div class="plusdig-aendringer">.*?<!--/plusdig-aendringer--></div>',
                     re.S)
_NOTICE = re.compile(r"<!--plusdig-rettet-->.*?<!--/plusdig-rettet-->", re.S)
_SWITCHER = re.compile(r"<!--plusdig-udgaver-->.*?<!--/plusdig-udgaver-->", re.S)
_OLD = re.compile(r"<!--plusdig-aeldre-->.*?<!--/plusdig-aeldre-->", re.S)
_HEADER_BUTTONS = '<div class="article-header-buttons">'
_HEADING_END = re.compile(r"</h[1-6]>")
_ARTICLE = '<article class="bd-article"'

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


_NUMBERED = re.compile(r"^(figur|tabel)\s+(\d+(?:\.\d+)*)\.?\s*(.*)$", re.I | re.S)


def _caption_name(caption: str, kind: str) -> str:
    """``Figur 4.4 »Antal personer …«`` from a caption: its number and first sentence."""
    m = _NUMBERED.match(caption)
    number, text = (f" {m.group(2)}", m.group(3)) if m else ("", caption)
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return f"{kind}{number} {_quoted(first)}" if first else f"{kind}{number}"


def describe(change: ed.Change, snapshot: dict[str, Any]) -> tuple[str, str]:
    """A change as two pieces of HTML (Danish): where it is, and what changed (old → new)."""
    section = _section_title(snapshot, change.chapter, change.section or change.anchor)
    where = f" i afsnittet {_quoted(section)}" if section else " på siden"
    kind = change.kind
    if kind.startswith("value"):
        return {"value": (f"Tal{where}", _old_new(change.old, change.new)),
                "value-added": (f"Nyt tal{where}", f"<ins>{e(change.new)}</ins>"),
                "value-removed": (f"Tal fjernet{where}", f"<del>{e(change.old)}</del>"),
                }[kind]
    if kind == "text":
        label = change.label[:1].upper() + change.label[1:]
        name = _quoted(label) if change.anchor or label != change.label else e(label)
        return (f"Afsnittet {name}" if name.startswith("»") else name, "teksten er ændret")
    if kind.startswith(("figure", "series")):
        name = _caption_name(change.label, "Figur") if change.label else f"En figur{where}"
        if kind == "series-cell":
            row, _, col = change.where.partition(" · ")
            return (f"{name}, data for {_quoted(row)}, kolonne {_quoted(col)}",
                    _old_new(change.old, change.new))
        if kind == "series-added":
            return name, f"ny dataserie {_quoted(change.where)} ({e(change.new)})"
        if kind == "series-removed":
            return name, f"dataserien {_quoted(change.where)} er fjernet ({e(change.old)})"
        if kind == "figure":
            alt = f" (alternativ tekst: {_old_new(change.old, change.new)})" \
                if change.old != change.new else ""
            return name, f"figurens data er ændret{alt}"
        return name, "figuren er ny" if kind == "figure-added" else "figuren er fjernet"
    name = _caption_name(change.label, "Tabel") if change.label else f"Tabellen{where}"
    if kind == "cell":
        row, _, col = change.where.partition(" · ")
        return (f"{name}, række {_quoted(row)}, kolonne {_quoted(col)}",
                _old_new(change.old, change.new))
    return name, {"row-added": f"ny række {_quoted(change.where)} ({e(change.new)})",
                  "row-removed": f"rækken {_quoted(change.where)} er fjernet ({e(change.old)})",
                  "table-added": "tabellen er ny", "table-removed": "tabellen er fjernet"}[kind]


def _item(change: ed.Change, snapshot: dict[str, Any], href: str) -> str:
    subject, detail = describe(change, snapshot)
    return f'<li><a href="{e(href)}">{subject}</a>: {detail}</li>'


def _chapter_title(doc: str, new: dict[str, Any], old: dict[str, Any]) -> str:
    for snap in (new, old):
        title = snap.get("chapters", {}).get(doc, {}).get("title")
        if title:
            return str(title)
    return doc


def errata_html(state: ed.State, changes: list[ed.Change], snapshot: dict[str, Any],
                link: Callable[[str, str], str], level: int = 2) -> str:
    """The contents of the page "Ændringer siden forrige udgave": a heading (``<h{level}>``)
    per chapter, one list item per change."""
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
            out.append(f"<h{level}>{e(_chapter_title(doc, snapshot, base))}</h{level}>")
            out.append('<ul class="simple">')
            out.extend(_item(c, snapshot if c.kind != "value-removed" else base,
                             link(doc, c.anchor)) for c in changes if c.chapter == doc)
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
    items = [re.sub(r"</?(del|ins)>", "", ": ".join(describe(c, snapshot)))
             for c in changes[:limit]]
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
    label = f"Udgave {current}" + ("" if current == names[-1] else " (ældre)")
    return ("<!--plusdig-udgaver-->"
            '<details class="plusdig-udgaver" style="position:relative;display:inline-block;'
            'margin-right:.5rem;font-size:.9rem">'
            f'<summary style="cursor:pointer;white-space:nowrap" title="Vælg udgave">'
            f"{e(label)}</summary>"
            '<ul style="position:absolute;right:0;z-index:1100;list-style:none;margin:0;'
            "padding:.5rem 1rem;white-space:nowrap;background:var(--pst-color-background);"
            'border:1px solid var(--pst-color-border)">' + "".join(items) +
            "</ul></details><!--/plusdig-udgaver-->")


def old_edition_html(name: str, newest: str, href: str) -> str:
    """The line under the title of every page of an older edition's site."""
    return ('<!--plusdig-aeldre--><div class="admonition warning plusdig-aeldre" role="note">'
            f"<p>Du læser udgave {e(name)}, en ældre udgave af bogen. "
            f'<a href="{e(href)}">Gå til den nyeste udgave ({e(newest)})</a>.</p></div>'
            "<!--/plusdig-aeldre-->")


# --------------------------------------------------------------------------- patching pages
def _after_title(page: str, start: int, notice: str) -> str:
    """``page`` with ``notice`` after the first heading from ``start`` (a page's title is
    its ``<h1>``; in the ``singlehtml`` page, a chapter's title is an ``<h2>``)."""
    m = _HEADING_END.search(page, start)
    if m is None:
        return page
    return page[:m.end()] + notice + page[m.end():]


def patch_page(page: str, *, switcher: str = "", errata: str | None = None,
               notices: tuple[tuple[str, str], ...] = (), old: str = "") -> str:
    """``page`` with the edition parts a build writes replaced (so patching a patched page
    again changes nothing): the header's ``switcher``, the ``errata`` list in its placeholder,
    and ``notices``, each (the text that starts the page or document, the notice) placed
    after the first heading that follows that text. ``old``: a page of an older edition gets
    that line under its title instead (its own notices stay)."""
    page = _OLD.sub("", _SWITCHER.sub("", page))
    if switcher:
        page = page.replace(_HEADER_BUTTONS, _HEADER_BUTTONS + switcher, 1)
    if old:
        notices = ((_ARTICLE, old),)
    else:
        page = _NOTICE.sub("", page)
    if errata is not None:
        page = _ERRATA.sub(PLACEHOLDER, page).replace(PLACEHOLDER, errata, 1)
    for start, notice in notices:
        at = page.find(start)
        if at >= 0:
            page = _after_title(page, at + len(start), notice)
    return page


def _rewrite(path: Path, patch: Callable[[str], str]) -> None:
    before = path.read_text(encoding="utf-8")
    after = patch(before)
    if after != before:
        path.write_text(after, encoding="utf-8")


def _to_root(doc: str) -> str:
    return "../" * doc.count("/")


def _errata_link(target: str, anchor: str) -> str:
    """A link from the errata page to ``anchor`` on page ``target``."""
    rel = posixpath.relpath(f"{target}.html", posixpath.dirname(ed.ERRATA_DOC))
    return f"{rel}#{anchor}" if anchor else rel


def _newest_label(st: ed.State) -> str:
    names = [x.name for x in st.editions]
    if not names:
        return ""
    return f"Udgave {names[-1]} (nyeste)" if st.released else \
        f"Efter udgave {names[-1]} (ikke udgivet)"


def _patch_site(app: Any, st: ed.State, changes: list[ed.Change], snap: dict[str, Any]) -> None:
    out = Path(app.outdir)
    names = [x.name for x in st.editions]
    newest = _newest_label(st)
    for doc in sorted(app.env.found_docs):
        path = out / f"{doc}.html"
        if not path.is_file():
            continue
        mine = [c for c in changes if c.chapter == doc]
        notices: tuple[tuple[str, str], ...] = ()
        if mine and st.current is not None:
            href = posixpath.relpath(f"{ed.ERRATA_DOC}.html", posixpath.dirname(doc) or ".")
            notices = ((_ARTICLE, notice_html(st, mine, snap, href)),)
        switcher = switcher_html(names, names[-1], _to_root(doc), newest_label=newest) \
            if names else ""
        errata = errata_html(st, changes, snap, _errata_link) if doc == ed.ERRATA_DOC else None
        _rewrite(path, lambda page, s=switcher, e=errata, n=notices: patch_page(
            page, switcher=s, errata=e, notices=n))
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
                to_root = "../" * (path.relative_to(src).as_posix().count("/") + 2)
                switcher = switcher_html(names, name, to_root, newest_label=newest)
                banner = old_edition_html(name, names[-1], f"{to_root}index.html") \
                    if name != names[-1] else ""
                target.write_text(patch_page(path.read_text(encoding="utf-8"),
                                             switcher=switcher, old=banner), encoding="utf-8")
                continue
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)


def _patch_single(app: Any, st: ed.State, changes: list[ed.Change], snap: dict[str, Any]) -> None:
    path = Path(app.outdir) / f"{app.config.root_doc}.html"
    if not path.is_file():
        return
    ids = Counter(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))

    def link(target: str, anchor: str) -> str:
        return f"#{anchor}" if anchor and ids[anchor] == 1 else f"#document-{target}"

    notices = tuple(
        (f'<span id="document-{doc}"></span>',
         notice_html(st, [c for c in changes if c.chapter == doc], snap,
                     f"#document-{ed.ERRATA_DOC}"))
        for doc in dict.fromkeys(c.chapter for c in changes)) if st.current else ()
    errata = errata_html(st, changes, snap, link, level=3)  # the page's title is an <h2>
    _rewrite(path, lambda page: patch_page(page, errata=errata, notices=notices))


def _finished(app: Any, exception: BaseException | None) -> None:
    if exception is not None or app.builder.name not in ("html", "singlehtml"):
        return
    from plusdig.sphinx.build import writes_site

    if not writes_site(app):  # nothing written: the site's pages carry this state already
        return
    root = Path(app.confdir)
    st = ed.state(root)
    out = Path(app.outdir)
    if st.base_snapshot is None:  # no released edition to compare with: no notice, no
        snap: dict[str, Any] = {"chapters": {}}  # errata entry, so no page needs reading
    elif app.builder.name == "html":
        snap = ed.site_snapshot(out, sorted(app.env.found_docs))
    else:
        snap = ed.singlehtml_snapshot(out / f"{app.config.root_doc}.html")
        # the PDF's figures are the site's (its widgets are PNGs here; their data, the
        # downloads, are the site's): take them from the HTML site beside it, if built
        site = out.parent / "html"
        if site.is_dir():
            figures = ed.site_snapshot(site, list(snap["chapters"]))["chapters"]
            for doc, chapter in snap["chapters"].items():
                if doc in figures:
                    chapter["figures"] = figures[doc]["figures"]
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
    # before plusdig.sphinx.build publishes the staged site (priority 1000)
    app.connect("build-finished", _finished, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
