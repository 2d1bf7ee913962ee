"""Sphinx extension: a download control under every figure and table of the HTML site.

- A figure's notebook output carries :data:`plusdig.present.figdata.FIGURE_MIME` (its print PNG, SVG
  and the table it is drawn from). :class:`MimePlugin` (a myst-nb mime renderer) renders what
  the page shows in its place (the PNG, or a widget) inside a container that keeps the
  downloads; the HTML builder selects it, other builders (the PDF's) the plain image.
- A table's downloads are read from the table as the page shows it (the Styler's HTML, or a
  docutils table): the same rows, columns and cell texts, suppressed cells as «–».
- ``doctree-resolved`` (HTML only) writes ``downloads/<name>.{png,svg,csv,xlsx}`` and puts the
  control after the figure or table; ``build-finished`` writes ``downloads/index.json``
  (:func:`index_entries`), which the data page, the audit and the editions read.

Names are stable and readable: ``figur-4-2-maalgrupper-alder``, ``tabel-4-1-aktoerer-naevnt``.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes

from plusdig.present.figdata import FIGURE_MIME

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

__all__ = ["MimePlugin", "Downloadable", "downloadables", "index_entries", "DOWNLOAD_DIR",
           "NOT_DATA_CLASS", "INDEX", "setup"]

#: Folder of the site that holds every download, and the index of them.
DOWNLOAD_DIR = "downloads"
INDEX = "index.json"
#: Folder of the site with the published data files and their datapackage.json.
DATA_DIR = "data"
#: Class of the container that keeps a figure's downloads in the doctree.
_FIG_CLASS = "plusdig-figure-downloads"
#: Class of a table that describes the book rather than its data (the colophon's): no downloads.
NOT_DATA_CLASS = "plusdig-metadata"
_FORMATS = {"png": "PNG (300 dpi)", "svg": "SVG", "csv": "Data (CSV)", "xlsx": "Data (Excel)"}


class MimePlugin:
    """myst-nb mime renderer for :data:`FIGURE_MIME` (entry point ``myst_nb.mime_renderers``)."""

    mime_priority_overrides: ClassVar[list[tuple[str, str, int | None]]] = [("html", FIGURE_MIME, 1)]

    @staticmethod
    def handle_mime(renderer: Any, data: Any, inline: bool) -> list[nodes.Element] | None:
        if inline or data.mime_type != FIGURE_MIME:
            return None
        from myst_nb.core.render import MimeData

        payload = data.content if isinstance(data.content, dict) else json.loads(data.content)
        view = MimeData(payload["view"]["mime"], payload["view"]["content"],
                        cell_metadata=data.cell_metadata, output_metadata=data.output_metadata,
                        cell_index=data.cell_index, output_index=data.output_index, line=data.line)
        shown = renderer.render_mime_type(view)
        # the print PNG as bytes, not base64 (smaller doctrees; no base64 text to search)
        keep = {"png": base64.b64decode(payload["png"]), "svg": payload["svg"], "data": payload["data"]}
        return [nodes.container("", *shown, classes=[_FIG_CLASS], plusdig_downloads=keep)]


# --------------------------------------------------------------------------- finding them
@dataclass
class Downloadable:
    """A figure or table of a page, in page order, and where its downloads come from."""

    kind: str                 # "figur" or "tabel"
    anchor: str               # the figure's id; for a table "tabel-<n>" (n-th on the page)
    caption: str
    node: nodes.Element       # the node the control goes after
    header: list[str] | None = None
    cells: list[list[str]] | None = None
    payload: dict[str, Any] | None = None
    number_id: str | None = None  # a table's numbered wrapper (tablefig): its Sphinx number


def _text(el: Any) -> str:
    """A cell's text as the browser shows it (inline elements joined as they are)."""
    return " ".join(el.get_text().split())


def _html_tables(raw: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """Every table in a piece of HTML: (caption, header, rows of cell texts), lists of its own
    for every call; the HTML is parsed once (at ``doctree-read``, not again when resolved)."""
    return [(cap, list(head), [list(r) for r in rows]) for cap, head, rows in _parsed(raw)]


@functools.cache
def _parsed(raw: str) -> tuple[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]], ...]:
    from bs4 import BeautifulSoup

    out = []
    for table in BeautifulSoup(raw, "html.parser").find_all("table"):
        cap = table.find("caption")
        head = table.find("thead")
        header = [_text(th) for th in head.find_all("th")] if head else []
        rows = []
        for tr in (table.find("tbody") or table).find_all("tr"):
            if head is not None and tr.find_parent("thead") is not None:
                continue
            rows.append([_text(td) for td in tr.find_all(["td", "th"])])
        if not header and rows:
            header, rows = rows[0], rows[1:]
        out.append((_text(cap) if cap else "", tuple(header), tuple(map(tuple, rows))))
    return tuple(out)


def _docutils_table(table: nodes.table) -> tuple[str, list[str], list[list[str]]]:
    title = next(iter(table.findall(nodes.title)), None)

    def row_texts(row: nodes.row) -> list[str]:
        return [" ".join(entry.astext().split()) for entry in row.findall(nodes.entry)]

    head = [row_texts(r) for t in table.findall(nodes.thead) for r in t.findall(nodes.row)]
    body = [row_texts(r) for t in table.findall(nodes.tbody) for r in t.findall(nodes.row)]
    header = head[0] if head else (body.pop(0) if body else [])
    return (" ".join(title.astext().split()) if title else "", header, body)


def _selected_html(bundle: nodes.container) -> nodes.Element | None:
    """In an unselected myst-nb mime bundle: the child the HTML builder will show."""
    kinds = {c.get("mime_type"): c for c in bundle.children if isinstance(c, nodes.container)}
    for mime in (FIGURE_MIME, "application/vnd.jupyter.widget-view+json", "text/html"):
        if mime in kinds:
            return kinds[mime]
    return None


def downloadables(doctree: nodes.document) -> list[Downloadable]:
    """The page's figures with downloads and its tables, in page order. Works before myst-nb's
    mime selection (``doctree-read``: the bundle's HTML choice is looked at) and after it."""
    from plusdig.sphinx.tablefig import numbered_table

    found: list[Downloadable] = []
    n_tables = 0
    number_id: str | None = None

    def visit(node: nodes.Node) -> None:
        nonlocal n_tables, number_id
        if isinstance(node, numbered_table):
            number_id = (node.get("ids") or [None])[0]
            for child in node.children:
                visit(child)
            number_id = None
            return
        if isinstance(node, nodes.container) and node.get("nb_element") == "mime_bundle":
            chosen = _selected_html(node)
            if chosen is not None:
                visit(chosen)
            return
        if isinstance(node, nodes.container) and _FIG_CLASS in node.get("classes", []):
            figure = node.parent
            while figure is not None and not isinstance(figure, nodes.figure):
                figure = figure.parent
            ids = (figure or node).get("ids") or [f"figur-{len(found) + 1}"]
            caption = next(iter(figure.findall(nodes.caption)), None) if figure else None
            found.append(Downloadable("figur", ids[0],
                                      " ".join(caption.astext().split()) if caption else "",
                                      figure or node, payload=node["plusdig_downloads"]))
            return
        if isinstance(node, nodes.raw) and "html" in node.get("format", "") and "<table" in node.astext():
            for caption, header, cells in _html_tables(node.astext()):
                n_tables += 1
                found.append(Downloadable("tabel", f"tabel-{n_tables}", caption, node, header, cells,
                                          number_id=number_id))
            return
        if isinstance(node, nodes.table) and NOT_DATA_CLASS in node.get("classes", []):
            return
        if isinstance(node, nodes.table):
            n_tables += 1
            caption, header, cells = _docutils_table(node)
            found.append(Downloadable("tabel", f"tabel-{n_tables}", caption, node, header, cells))
            return
        for child in node.children if isinstance(node, nodes.Element) else []:
            visit(child)

    visit(doctree)
    return found


# --------------------------------------------------------------------------- names
def _doc_number(env: BuildEnvironment, docname: str) -> tuple[int, ...] | None:
    numbers = env.toc_secnumbers.get(docname, {})
    return numbers.get("") or (min(numbers.values(), key=len)[:1] if numbers else None)


def name_and_label(env: BuildEnvironment, docname: str, d: Downloadable | dict[str, Any]
                   ) -> tuple[str, str]:
    """The stable file name (without suffix) and the Danish label of a figure or table."""
    from plusdig.publish.downloads import slug

    kind = d.kind if isinstance(d, Downloadable) else d["kind"]
    anchor = d.anchor if isinstance(d, Downloadable) else d["anchor"]
    caption = d.caption if isinstance(d, Downloadable) else d["caption"]
    page = slug(docname.rsplit("/", 1)[-1], 8)
    if kind == "figur":
        number = env.toc_fignumbers.get(docname, {}).get("figure", {}).get(anchor)
        stem = slug(re.sub(r"^fig-", "", anchor), 8)
        if number:
            num = ".".join(str(n) for n in number)
            return f"figur-{num.replace('.', '-')}-{stem}", f"Figur {num}"
        return f"figur-{page}-{stem}", "Figur"
    n = anchor.rsplit("-", 1)[-1]
    chapter = _doc_number(env, docname)
    header = d.header if isinstance(d, Downloadable) else d.get("header")
    topic = re.sub(r"^Syntetiske data\s*·\s*", "", caption) or " ".join(header or [])
    words = slug(topic, 4) if topic else "tabel"
    number_id = d.number_id if isinstance(d, Downloadable) else d.get("number_id")
    number = env.toc_fignumbers.get(docname, {}).get("table", {}).get(number_id or "")
    if number:  # the number its caption shows ("Tabel 7.2"; on an unnumbered page "Tabel 4")
        num = ".".join(str(c) for c in number)
        return f"tabel-{num.replace('.', '-')}-{words}", f"Tabel {num}"
    if chapter:
        num = f"{'.'.join(str(c) for c in chapter)}.{n}"
        return f"tabel-{num.replace('.', '-')}-{words}", f"Tabel {num}"
    return f"tabel-{page}-{n}-{words}", f"Tabel {n}"


def _sheet(d: Downloadable, label: str) -> Any:
    from plusdig.publish import downloads
    from plusdig.present.style import SYNTHETIC_LABEL

    if d.payload is not None:
        return downloads.sheet_from_figure_data(label, d.caption, d.payload["data"])
    synthetic = d.caption.startswith(SYNTHETIC_LABEL)
    return downloads.sheet_from_cells(label, d.caption, d.header or [], d.cells or [],
                                      synthetic=synthetic)


def files_of(kind: str) -> list[str]:
    return ["png", "svg", "csv", "xlsx"] if kind == "figur" else ["csv", "xlsx"]


def _control(label: str, name: str, kind: str, prefix: str) -> str:
    links = []
    for ext in files_of(kind):
        what = _FORMATS[ext]
        links.append(f'<a class="plusdig-download" href="{html.escape(prefix + name)}.{ext}" download '
                     f'aria-label="Hent {html.escape(label.lower())} som {html.escape(what)}">'
                     f"{html.escape(what)}</a>")
    return (f'<div class="plusdig-downloads" role="group" aria-label="Hent {html.escape(label.lower())}">'
            f'<span class="plusdig-downloads-label">Hent {html.escape(label.lower())}:</span> '
            + " ".join(links) + "</div>")


# --------------------------------------------------------------------------- the data page
class downloads_list(nodes.General, nodes.Element):  # noqa: N801 - docutils naming
    """Placeholder of the data page's lists, filled when the page is written."""


def _downloads_directive() -> Any:
    from docutils.parsers.rst import Directive

    class DownloadsDirective(Directive):
        """``{plusdig-downloads}``: every download of the site by chapter, and the data files."""

        has_content = False

        def run(self) -> list[nodes.Node]:
            return [downloads_list()]

    return DownloadsDirective


def _link(text: str, uri: str | None) -> nodes.Node:
    if uri is None:
        return nodes.Text(text)
    return nodes.reference("", text, refuri=uri, internal=True)


def _data_page_nodes(app: Sphinx, docname: str) -> list[nodes.Node]:
    """The data page's content: downloads by chapter, then the data package's files."""
    from sphinx.util.osutil import relative_uri

    from plusdig.publish.datapackage import DESCRIPTOR, descriptor

    html_links = app.builder.name == "html"
    here = app.builder.get_target_uri(docname) if html_links else ""

    def uri(target: str) -> str | None:
        return relative_uri(here, target) if html_links else None

    out: list[nodes.Node] = []
    chapter = None
    items = None
    for e in index_entries(app.env):
        if e["chapter"] != chapter:
            chapter = e["chapter"]
            out.append(nodes.rubric("", chapter))
            items = nodes.bullet_list()
            out.append(items)
        para = nodes.paragraph()
        page = app.builder.get_target_uri(e["docname"]) + "#" + e["anchor"] if html_links else None
        label = e["label"] + (": " + e["caption"][:120] + ("…" if len(e["caption"]) > 120 else "")
                              if e["caption"] else "")
        para += _link(label, uri(page) if page and e["kind"] == "figur" else
                      (uri(app.builder.get_target_uri(e["docname"])) if html_links else None))
        para += nodes.Text(" — ")
        for i, f in enumerate(e["files"]):
            if i:
                para += nodes.Text(" · ")
            para += _link(_FORMATS[f.rsplit(".", 1)[1]], uri(f"{DOWNLOAD_DIR}/{f}"))
        items += nodes.list_item("", para)
    meta = descriptor()
    out.append(nodes.rubric("", "Bogens datafiler som datapakke"))
    intro = nodes.paragraph()
    intro += nodes.Text("Beskrivelsen af filerne, deres felter og typer (Frictionless Data "
                        "Package): ")
    intro += _link(DESCRIPTOR, uri(f"{DATA_DIR}/{DESCRIPTOR}"))
    intro += nodes.Text(". Besvarelser fra trivselsmålingen – rigtige eller syntetiske – er "
                        "aldrig med.")
    out.append(intro)
    files = nodes.bullet_list()
    for r in meta["resources"]:
        para = nodes.paragraph()
        para += _link(r["path"], uri(f"{DATA_DIR}/{r['path']}"))
        fields = r.get("schema", {}).get("fields") or r.get("plusdig:fields") or []
        para += nodes.Text(f" ({r['format'].upper()}, {len(fields)} felter): {r['description']}")
        files += nodes.list_item("", para)
    out.append(files)
    return out


# --------------------------------------------------------------------------- Sphinx
def _on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    pages = env.__dict__.setdefault("plusdig_data_pages", set())
    pages.discard(env.docname)
    if any(True for _ in doctree.findall(downloads_list)):
        pages.add(env.docname)
    store = env.__dict__.setdefault("plusdig_downloads", {})
    store[env.docname] = [{"kind": d.kind, "anchor": d.anchor, "caption": d.caption,
                           "header": d.header, "number_id": d.number_id,
                           "synthetic": bool(d.payload and d.payload["data"].get("synthetic"))
                           or d.caption.startswith("Syntetiske data")}
                          for d in downloadables(doctree)]


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.__dict__.get("plusdig_downloads", {}).pop(docname, None)
    env.__dict__.get("plusdig_data_pages", set()).discard(docname)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    store = env.__dict__.setdefault("plusdig_downloads", {})
    pages = env.__dict__.setdefault("plusdig_data_pages", set())
    for doc in docnames:
        if doc in other.__dict__.get("plusdig_downloads", {}):
            store[doc] = other.plusdig_downloads[doc]
        if doc in other.__dict__.get("plusdig_data_pages", set()):
            pages.add(doc)


def _outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
              removed: set[str]) -> list[str]:
    """The data page lists every chapter's downloads: rewrite it whenever anything changed.
    Not in an HTML build staged by :mod:`plusdig.sphinx.build`: its list is made from the
    environment when the page is written (:func:`_on_doctree_resolved`), and that build writes
    every page unless nothing another page shows changed (:mod:`plusdig.sphinx.partial`: the
    downloads and titles are part of that), so reading the page again changes nothing."""
    if app.builder.name == "html" and getattr(app, "plusdig_site", None) is not None:
        return []
    if added or changed or removed:
        return sorted(env.__dict__.get("plusdig_data_pages", set()) - added - changed)
    return []


def _on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    from sphinx.util.osutil import relative_uri

    from plusdig.publish import downloads

    for node in list(doctree.findall(downloads_list)):
        node.replace_self(_data_page_nodes(app, docname))
    if app.builder.name != "html":
        return
    out = Path(app.outdir) / DOWNLOAD_DIR
    out.mkdir(parents=True, exist_ok=True)
    prefix = relative_uri(app.builder.get_target_uri(docname), f"{DOWNLOAD_DIR}/")
    workbooks = []
    for d in downloadables(doctree):
        name, label = name_and_label(app.env, docname, d)
        sheet = _sheet(d, label)
        (out / f"{name}.csv").write_bytes(downloads.csv_bytes(sheet))
        workbooks.append((out / f"{name}.xlsx", sheet))
        if d.payload is not None:
            (out / f"{name}.png").write_bytes(d.payload["png"])
            (out / f"{name}.svg").write_text(d.payload["svg"], encoding="utf-8")
        control = nodes.raw("", _control(label, name, d.kind, prefix), format="html")
        parent = d.node.parent
        parent.insert(parent.index(d.node) + 1, control)
    if workbooks:
        downloads.xlsx_prepare()  # openpyxl and the memo's code key, once, before any fork
        _WORKBOOKS[docname] = workbooks


#: Documents resolved whose workbooks are not written yet: their XLSX (the slow part of a
#: page's downloads) are written when the page is (``html-page-context``, :func:`_workbooks`):
#: in a parallel write by the forked writer of the page, beside the main process resolving the
#: next pages (as a process forked after the page was resolved, it holds this entry).
_WORKBOOKS: dict[str, list[tuple[Path, Any]]] = {}


def _workbooks(app: Sphinx, pagename: str, *args: Any) -> None:
    from plusdig.publish import downloads

    memo = Path(app.outdir).parent / downloads.XLSX_MEMO  # next to the site folder
    for path, sheet in _WORKBOOKS.pop(pagename, ()):
        path.write_bytes(downloads.xlsx_bytes_memo(sheet, memo))


def index_entries(env: BuildEnvironment) -> list[dict[str, Any]]:
    """Every download of the site, by chapter in reading order (the content of ``index.json``)."""
    order = {doc: i for i, doc in enumerate(_reading_order(env))}
    entries = []
    store = env.__dict__.get("plusdig_downloads", {})
    for doc in sorted(store, key=lambda d: order.get(d, len(order))):
        title = env.titles[doc].astext() if doc in env.titles else doc
        for d in store[doc]:
            name, label = name_and_label(env, doc, d)
            entries.append({"chapter": title, "docname": doc, "kind": d["kind"], "label": label,
                            "anchor": d["anchor"], "caption": d["caption"],
                            "synthetic": d["synthetic"],
                            "files": [f"{name}.{ext}" for ext in files_of(d["kind"])]})
    return entries


def _reading_order(env: BuildEnvironment) -> list[str]:
    root = env.config.root_doc
    seen: list[str] = []

    def walk(doc: str) -> None:
        if doc in seen:
            return
        seen.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(root)
    return seen


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    from plusdig.publish.datapackage import write_package

    _WORKBOOKS.clear()  # each written with its page (a forked writer's entries stay here)
    if exception is not None or app.builder.name != "html":
        return
    write_package(Path(app.outdir) / DATA_DIR)
    (Path(app.outdir) / "_static" / "plusdig-downloads.css").write_text(_CSS, encoding="utf-8")
    out = Path(app.outdir) / DOWNLOAD_DIR
    out.mkdir(parents=True, exist_ok=True)
    from plusdig.sphinx.site import edition_date

    text = json.dumps({"version": 1, "edition_date": edition_date(Path(app.confdir)).isoformat(),
                       "downloads": index_entries(app.env)}, ensure_ascii=False, indent=1)
    (out / INDEX).write_text(text + "\n", encoding="utf-8")


def _ensure_plugin() -> None:
    """Register :class:`MimePlugin` with myst-nb where its entry point is not installed yet."""
    from myst_nb.core import render

    plugins = render.load_mime_renders()
    if not any(getattr(p, "__name__", "") == "MimePlugin" and p.__module__ == __name__ for p in plugins):
        plugins.append(MimePlugin)


_CSS = """
.plusdig-downloads { font-size: 0.85em; margin: 0.2em 0 1.2em; display: flex; flex-wrap: wrap;
  gap: 0.3em 0.8em; align-items: baseline; }
.plusdig-downloads-label { font-weight: 600; }
.plusdig-download { white-space: nowrap; }
@media print { .plusdig-downloads { display: none; } }
"""


def setup(app: Sphinx) -> dict[str, Any]:
    """Sphinx extension: downloads for every figure and table (HTML builder)."""
    _ensure_plugin()
    app.add_node(downloads_list)
    app.add_directive("plusdig-downloads", _downloads_directive())
    app.connect("env-get-outdated", _outdated)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-resolved", _on_doctree_resolved)
    app.connect("html-page-context", _workbooks)
    app.connect("build-finished", _on_build_finished)
    app.add_css_file("plusdig-downloads.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
