"""Sphinx extension for the reader's site: one set of publication facts, Danish throughout.

Registered in ``_config.yml`` (``sphinx.extra_extensions``). It

- reads the publication record (:mod:`plusdig.publish.metadata`) once and gives it to every page: the
  MyST substitutions (``{{ undertitel }}``, ``{{ udgave }}``, ``{{ udgivelsesdato }}``,
  ``{{ forfattere }}``, ``{{ udgiver }}``, ``{{ kontakt }}``, ``{{ isbn }}``, ``{{ licens }}``,
  ``{{ citation }}``), Sphinx's ``today``, ``author`` and ``copyright``, and the footer
  (``_templates/plusdig-footer.html``): one publication date everywhere;
- registers the Danish citation styles (:mod:`plusdig.publish.citestyle`) and remembers
  pybtex's plugin look-ups (:func:`memoise_plugin_lookups`);
- writes every quotation as »…« (:class:`DanishQuotes`), whichever marks the text or data use;
- leaves the reader one search box: the search page's own field, no header button there;
- makes the download menu offer the book's PDF only (each page's source stays reachable from
  the appendix, ``{plusdig-sources}``);
- provides the ``plusdig-sources`` directive: a list of every page with a link to its source.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective

from plusdig.publish import citestyle
from plusdig.publish.metadata import Publication, load_publication

__all__ = ["danish_quotes", "substitutions", "setup"]


def _markdown_text(text: str) -> str:
    """``text`` as Markdown that renders as itself: a substitution is parsed as Markdown, so
    "1. udgave" at the start of a paragraph or a table cell would become a numbered list."""
    return re.sub(r"^(\d+)\.", r"\1\\.", text)


def substitutions(pub: Publication) -> dict[str, str]:
    """The MyST substitutions the pages use for the publication facts (as Markdown)."""
    return {k: _markdown_text(v) for k, v in _facts(pub).items()}


def _facts(pub: Publication) -> dict[str, str]:
    return {
        "titel": pub.title,
        "undertitel": pub.subtitle,
        "udgave": pub.edition,
        "udgivelsesdato": pub.date_text,
        "udgivelsesaar": str(pub.date.year),
        "forfattere": pub.authors_text,
        "udgiver": pub.publisher,
        "kontakt": pub.contact,
        "isbn": pub.isbn or "ikke tildelt",
        "licens": pub.licence,
        "citation": pub.citation,
    }


def _config_inited(app: Any, config: Any) -> None:
    pub = load_publication(Path(app.confdir))
    app.plusdig_publication = pub
    subs = dict(getattr(config, "myst_substitutions", None) or {})
    subs.update(substitutions(pub))
    config.myst_substitutions = subs
    config.today = pub.date_text
    config.author = pub.authors_text
    config.copyright = f"{pub.date.year}, {pub.publisher}"
    config.html_last_updated_fmt = None  # the footer shows the publication date instead
    options = dict(getattr(config, "html_theme_options", None) or {})
    options["footer_content_items"] = ["plusdig-footer.html"]
    # one search box per page: the primary sidebar's (the header repeated it)
    options["navbar_persistent"] = []
    config.html_theme_options = options


def _page_context(app: Any, pagename: str, templatename: str, context: dict,
                  doctree: Any) -> None:
    """The footer's facts; the download menu without the page's source files."""
    context["plusdig_publication"] = app.plusdig_publication
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"] = [b for b in group.get("buttons", [])
                                if b.get("label") == "download-book-pdf-button"]
    context["header_buttons"] = [g for g in context.get("header_buttons", [])
                                 if g.get("label") != "download-buttons" or g.get("buttons")]


#: Quotation-mark pairs the book's text and data use besides »…«: ”…”, “…”, „…“, «…». A pair
#: opens after a space, an opening bracket or the start and closes before a space, punctuation
#: or the end, so that the marks between two Danish quotations (»a«, »b«) never pair up.
_INNER = r"[^\s”“„«»<>](?:[^”“„«»<>]{0,398}[^\s”“„«»<>])?"
_QUOTE_PAIRS = re.compile(
    r"(?:(?<=[\s(\[/–—»>])|^)"  # ">": a quotation that opens an HTML table cell
    rf"(?:”({_INNER})”|“({_INNER})”|„({_INNER})“|«({_INNER})»)"
    r"(?=[\s.,;:!?)\]/–—«<-]|$)")
_NO_QUOTES = (nodes.literal, nodes.literal_block, nodes.math, nodes.math_block, nodes.comment)


def danish_quotes(text: str, *, nested: bool = False) -> str:
    """Every pair of quotation marks in ``text`` as »…« (Danish), or ›…‹ inside a quotation
    (``nested``). Only the marks change, never the words between them."""
    def pair(m: re.Match[str]) -> str:
        before = text[:m.start()]
        inside = nested or before.count("»") > before.count("«")  # within a »…« quotation
        left, right = ("›", "‹") if inside else ("»", "«")
        return left + next(g for g in m.groups() if g is not None) + right

    return _QUOTE_PAIRS.sub(pair, text)


#: Pages that are the annex's own text, transcribed faithfully: their quotation marks are the
#: source's (whitespace is all the transcription normalises).
TRANSCRIBED_PAGES = ("book/annex/generated/",)


class DanishQuotes(SphinxTransform):
    """One quotation-mark style on every page: the pairs :func:`danish_quotes` knows, in text
    from the chapters and from data (annex pages, titles, glued values). Code is left alone; a
    source quote (``{kilde}``, already in »…«) gets ›…‹ inside it. Notebook HTML outputs
    (tables) are left as computed: the downloads and the disclosure audit compare their cells
    with the data verbatim."""

    default_priority = 700  # after parsing: the {kilde} role has matched its quote already

    def apply(self, **kwargs: Any) -> None:
        from plusdig.sphinx.kilde import kilde_reference

        if is_english(self.document) or self.env.docname.startswith(TRANSCRIBED_PAGES):
            return

        for node in list(self.document.findall(nodes.Text)):
            if any(isinstance(a, _NO_QUOTES) or _notebook_output(a) for a in _ancestors(node)):
                continue
            nested = any(isinstance(a, kilde_reference) for a in _ancestors(node))
            text = str(node)
            if nested and text.startswith("»") and text.endswith("«"):
                new = "»" + danish_quotes(text[1:-1], nested=True) + "«"
            else:
                new = danish_quotes(text)
            if new != text:
                node.parent.replace(node, nodes.Text(new))


#: Labels of the pages written in English (the English summary): ``lang="en"``, English quotes.
ENGLISH_LABELS = frozenset({"kap-summary-en"})


def is_english(document: nodes.document) -> bool:
    """Whether ``document`` is one of the book's English pages (:data:`ENGLISH_LABELS`)."""
    return bool(ENGLISH_LABELS & set(document.ids))


def _mark_english(app: Any, doctree: nodes.document) -> None:
    """An English page's content in ``<div lang="en">`` (screen readers switch voice), in the
    site and in the print HTML the PDF is made from."""
    if not is_english(doctree):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    section.insert(0, nodes.raw("", '<div lang="en">', format="html"))
    section.append(nodes.raw("", "</div>", format="html"))


def _notebook_output(node: nodes.Node) -> bool:
    """A notebook cell's output (its tables are the data as computed and downloaded)."""
    return isinstance(node, nodes.container) and "cell_output" in node.get("classes", [])


def _ancestors(node: nodes.Node) -> Any:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


class sources_list(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """Placeholder for the ``plusdig-sources`` list, filled when the page is resolved."""


class Sources(SphinxDirective):
    """``{plusdig-sources}``: every page of the book with a link to its source file."""

    def run(self) -> list[nodes.Node]:
        return [sources_list()]


def _resolve_sources(app: Any, doctree: Any, docname: str) -> None:
    """Fill each ``plusdig-sources`` list: page titles in reading order, source links."""
    holders = list(doctree.findall(sources_list))
    if not holders:
        return
    env = app.env
    seen: list[str] = []

    def walk(doc: str) -> None:  # reading order: the root, then each toctree depth-first
        if doc in seen or doc not in env.titles:
            return
        seen.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(app.config.root_doc)
    up = "../" * docname.count("/")
    for holder in holders:
        items = nodes.bullet_list()
        for doc in seen:
            # Jupyter Book copies each source as _sources/<docname><suffix> (no ".txt")
            source = f"{up}_sources/{doc}{Path(env.doc2path(doc)).suffix}"
            para = nodes.paragraph()
            para += nodes.reference("", env.titles[doc].astext(),
                                    refuri=app.builder.get_relative_uri(docname, doc))
            para += nodes.Text(" – ")
            para += nodes.reference("", "kildefil", refuri=source)
            items += nodes.list_item("", para)
        holder.replace_self(items)


def memoise_plugin_lookups() -> None:
    """Let pybtex and sphinxcontrib-bibtex look each plugin's entry point up once per process.

    Both find a plugin (a citation's style, the backend that renders it) by calling
    ``importlib.metadata.entry_points(group=..., name=...)``, which reads the entry points of
    every installed distribution anew: sphinxcontrib-bibtex does that for every citation it
    resolves, about 0.7 s of a clean build's resolving (on the main process, which feeds the
    page writers). The installed distributions do not change during a build, so the answer
    for the same arguments is the same; plugins registered at run time are still looked up
    first, as before (``register_plugin``). Idempotent."""
    import functools
    import importlib.metadata

    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    if getattr(pybtex.plugin.entry_points, "__plusdig__", False):
        return

    @functools.cache
    def lookup(params: tuple[tuple[str, Any], ...]) -> Any:
        return importlib.metadata.entry_points(**dict(params))

    def entry_points(**params: Any) -> Any:
        return lookup(tuple(sorted(params.items())))

    entry_points.__plusdig__ = True  # type: ignore[attr-defined]
    entry_points.__wrapped__ = importlib.metadata.entry_points  # type: ignore[attr-defined]
    pybtex.plugin.entry_points = entry_points  # type: ignore[attr-defined]
    sphinxcontrib.bibtex.plugin.entry_points = entry_points  # type: ignore[attr-defined]


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    memoise_plugin_lookups()
    citestyle.register()
    app.connect("config-inited", _config_inited, priority=600)  # after plusdig.site (500)
    app.connect("html-page-context", _page_context, priority=510)  # after plusdig.site (502)
    app.add_transform(DanishQuotes)
    app.connect("doctree-read", _mark_english)
    app.add_node(sources_list)
    app.add_directive("plusdig-sources", Sources)
    app.connect("doctree-resolved", _resolve_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
