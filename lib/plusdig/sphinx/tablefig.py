"""Sphinx extension: the book's tables and figures on the page (site and print HTML).

- **Numbered tables.** A notebook's table (a pandas ``Styler`` rendered as HTML with a
  ``<caption>``) becomes a Sphinx *enumerable* node of type ``table``: Sphinx numbers it with
  the chapter's figures-and-tables machinery (``numfig``), so it reads "Tabel 7.2" in its
  caption on the site and, from the same numbers, in the PDF (``plusdig.publish.pdf`` prints the
  singlehtml build). The caption's text is the node's title, so ``{numref}`` works too.
- **Wide tables scroll in their own box.** Every notebook table sits in a
  ``div.plusdig-table`` that scrolls sideways when the table is wider than the column (a
  phone), instead of the page; it is keyboard-focusable (``tabindex=0``) and labelled.
- **Figures fill the column and open large.** A figure's image is given the column's width,
  which makes Sphinx link it to its full-size file (``html_scaled_image_link``); the script
  ``plusdig-figures.js`` opens that file in a dialog over the page (Escape or a click closes
  it). Only the site gets the link: the print HTML has no use for it.
- The stylesheet ``plusdig-tables.css``: one table style (padding, row rules, right-aligned
  numbers kept on one line), figure and caption styles; print has its own
  (``print/book.css``).

Table cells are not touched: they are escaped where the table is made
(:func:`plusdig.present.tables.html_styler`).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from docutils import nodes

__all__ = ["numbered_table", "setup", "STATIC"]

#: The extension's static files (CSS and JS), added to ``html_static_path``.
STATIC = Path(__file__).with_name("static")

_CAPTION = re.compile(r"<caption\b[^>]*>(.*?)</caption>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")


class numbered_table(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """A notebook's HTML table with a caption; ``caption`` holds the caption as plain text."""


def caption_text(table_html: str) -> str | None:
    """The plain text of the first ``<caption>`` in ``table_html`` (None if it has none)."""
    m = _CAPTION.search(table_html)
    if not m:
        return None
    text = " ".join(html.unescape(_TAGS.sub(" ", m.group(1))).split())
    return text or None


def _html_of(node: nodes.Element) -> str:
    """The HTML a notebook output holds (its ``text/html`` part when it is a bundle)."""
    if node.get("nb_element") == "mime_bundle":
        parts = [c for c in node.children if c.get("mime_type") == "text/html"]
        node = parts[0] if parts else node
    return "".join(r.astext() for r in node.findall(nodes.raw) if "html" in r.get("format", ""))


def _outputs(doctree: nodes.document) -> list[nodes.Element]:
    """The notebook outputs that are, or carry, an HTML table."""
    found = []
    for node in doctree.findall(nodes.container):
        if node.get("nb_element") == "mime_bundle":
            found.append(node)
        elif (node.get("mime_type") == "text/html"
              and node.parent.get("nb_element") != "mime_bundle"):
            found.append(node)
    return [n for n in found if "<table" in _html_of(n)]


def wrap_tables(app: Any, doctree: nodes.document) -> None:
    """``doctree-read``: put every captioned notebook table into a :class:`numbered_table`."""
    for output in _outputs(doctree):
        caption = caption_text(_html_of(output))
        if caption is None:
            continue
        node = numbered_table(caption=caption)
        base = nodes.make_id("tabel-" + caption[:48]) or "tabel"
        ident, n = base, 1
        while ident in doctree.ids:
            n += 1
            ident = f"{base}-{n}"
        node["ids"] = [ident]
        doctree.ids[ident] = node
        output.replace_self(node)
        node += output


def _number(self: Any, node: numbered_table) -> str:
    """The "Tabel 7.2 " span Sphinx writes for ``node`` (empty when it is not numbered)."""
    start = len(self.body)
    self.add_fignumber(node)
    number = "".join(self.body[start:])
    del self.body[start:]
    return number


def visit_numbered_table_html(self: Any, node: numbered_table) -> None:
    number = _number(self, node)
    label = html.escape(_TAGS.sub("", number).strip() or node["caption"][:80], quote=True)
    self.body.append(f'<div class="plusdig-table" id="{node["ids"][0]}" role="region" '
                     f'tabindex="0" aria-label="{label}">')
    for raw in node.findall(nodes.raw):
        text = raw.astext()
        m = re.search(r"<caption\b[^>]*>", text, re.I)
        if m:
            new = numeric_headers(text[:m.end()] + number + text[m.end():])
            raw.replace(raw.children[0], nodes.Text(new))
            break


_NUM_CELL = re.compile(r'<td\b[^>]*class="[^"]*\bcol(\d+)\b[^"]*\bnum\b')


def numeric_headers(table_html: str) -> str:
    """Mark the header of every numeric column ("num", like its cells: plusdig.present.tables), so
    it is right-aligned above its numbers by class, not by pandas' per-table ids (which
    repeat across the chapters of the print HTML)."""
    for col in sorted(set(_NUM_CELL.findall(table_html))):
        table_html = re.sub(rf'(<th\b[^>]*class="col_heading level0 col{col})"', r'\1 num"',
                            table_html)
    return table_html


def depart_numbered_table_html(self: Any, node: numbered_table) -> None:
    self.body.append("</div>")


def _pass(self: Any, node: nodes.Element) -> None:
    pass


def _title(node: numbered_table) -> str:
    return node["caption"]


def _figure_links() -> type:
    """A post-transform (site only): figure images fill the column and link to their file."""
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class FigureLinks(SphinxPostTransform):
        default_priority = 200  # after myst-nb has chosen the output format (priority 4)
        builders = ("html",)

        def run(self, **kwargs: Any) -> None:
            for image in self.document.findall(nodes.image):
                if isinstance(image.parent, nodes.reference):
                    continue
                if not any(isinstance(a, nodes.figure) for a in _ancestors(image)):
                    continue
                image["width"] = "100%"
                image["classes"] = [*image.get("classes", []), "plusdig-figure"]

    return FigureLinks


def _ancestors(node: nodes.Node) -> list[nodes.Node]:
    out = []
    while node.parent is not None:
        node = node.parent
        out.append(node)
    return out


def _static(app: Any, config: Any) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.add_enumerable_node(numbered_table, "table", _title,
                            html=(visit_numbered_table_html, depart_numbered_table_html),
                            singlehtml=(visit_numbered_table_html, depart_numbered_table_html),
                            latex=(_pass, _pass), text=(_pass, _pass), man=(_pass, _pass),
                            texinfo=(_pass, _pass))
    # before plusdig.sphinx.sitedownloads (500) reads the page: its downloads take their
    # labels from these numbers
    app.connect("doctree-read", wrap_tables, priority=400)
    app.connect("config-inited", _static)
    app.add_post_transform(_figure_links())
    app.add_css_file("plusdig-tables.css")
    app.add_js_file("plusdig-figures.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
