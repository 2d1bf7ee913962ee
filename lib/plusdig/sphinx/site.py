"""Sphinx extension for publishing the book: edition date, PDF download, offline site.

Registered in ``_config.yml`` (``sphinx.extra_extensions``). It does a few small things:

- sets the edition date (``today`` and the MyST substitution ``udgave``) from the build:
  ``$SOURCE_DATE_EPOCH`` if set, else the date of the last git commit, else today; written
  the Danish way ("26. november 2026");
- points the theme's download menu at the book's PDF (built by ``make pdf``: plusdig.publish.pdf)
  instead of the browser's print dialogue;
- copies the PDF into the HTML output when it exists, so the site is complete offline;
- no thebe: Jupyter Book always loads sphinx-thebe, whose scripts name a CDN (and load
  twice); the book has no live kernels, so they are removed;
- on pages with widgets, tells RequireJS where the vendored widget manager's modules live,
  so it finds its fonts in ``_static/html-manager/`` rather than under the page's folder;
- bibliography entries marked up as ARIA list items (axe-core);
- the page title in the theme's print header, and the titles in the search index (which
  Sphinx's search page inserts as HTML), escaped for HTML; the saved widget state written so
  that no string in it can end its ``<script>`` element.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from plusdig.core import fmt
from plusdig.publish.editions import edition_label

__all__ = [
    "DANISH_MONTHS",
    "PDF_NAME",
    "danish_date",
    "edition_date",
    "pdf_name",
    "setup",
]

DANISH_MONTHS = fmt.MONTHS
PDF_NAME = "plusdig-evaluering.pdf"


danish_date = fmt.danish_date


def edition_date(repo: Path | None = None) -> dt.date:
    """The edition date: ``$SOURCE_DATE_EPOCH``, else the last git commit's date, else today."""
    from plusdig.publish.metadata import build_date

    return build_date(repo)


def pdf_name(config: Any) -> str:
    """The PDF's file name: the LaTeX target name from ``latex_documents`` with ``.pdf``."""
    for doc in getattr(config, "latex_documents", None) or []:
        if len(doc) > 1 and str(doc[1]).endswith(".tex"):
            return str(doc[1])[: -len(".tex")] + ".pdf"
    return PDF_NAME


#: Control characters (C0 except tab, newline and carriage return; DEL; C1).
def _config_inited(app: Any, config: Any) -> None:
    date = danish_date(edition_date(Path(app.confdir)))
    config.today = date
    subs = dict(getattr(config, "myst_substitutions", None) or {})
    subs.setdefault("udgave", edition_label(Path(app.confdir), date))
    config.myst_substitutions = subs
    # the theme's search field: Danish placeholder (Jupyter Book's default is English)
    options = dict(getattr(config, "html_theme_options", None) or {})
    options["search_bar_text"] = "Søg i bogen …"
    config.html_theme_options = options


def _is_thebe(filename: Any, attributes: dict) -> bool:
    return "thebe" in str(filename or "") or "THEBE_JS_URL" in str(attributes.get("body", ""))


def _drop_thebe_assets(app: Any, env: Any, docnames: list[str]) -> None:
    """Remove sphinx-thebe's scripts (Jupyter Book always loads it; the book has no live
    kernels): they declare a CDN URL, and load twice (a console error)."""
    app.registry.js_files = [(f, kw) for f, kw in app.registry.js_files if not _is_thebe(f, kw)]
    app.registry.css_files = [(f, kw) for f, kw in app.registry.css_files
                              if "thebe" not in str(f)]
    builder = app.builder
    for name in ("_js_files", "_css_files"):
        assets = getattr(builder, name, None)
        if isinstance(assets, list):
            assets[:] = [a for a in assets
                         if not _is_thebe(getattr(a, "filename", ""), getattr(a, "attributes", {}))]


def _drop_thebe_config(app: Any, doctree: Any, docname: str) -> None:
    """Remove the per-page thebe configuration (it names a Binder repository)."""
    from docutils import nodes

    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        if "text/x-thebe-config" in text or text.startswith("<script>kernelName ="):
            raw.parent.remove(raw)


def _pdf_download_button(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Replace the theme's "print to PDF" entry by a link to the book's PDF."""
    pdf_url = context["pathto"](pdf_name(app.config), 1)
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("label") == "download-pdf-button":
                button.clear()
                button.update(
                    {
                        "type": "link",
                        "url": pdf_url,
                        "text": "Bogen som PDF",
                        "tooltip": "Hent hele bogen som PDF",
                        "icon": "fas fa-file-pdf",
                        "label": "download-book-pdf-button",
                    }
                )


#: The AMD modules ``embed-amd.js`` defines (besides ``html-manager/dist/libembed-amd``).
_WIDGET_MODULES = ("base", "base7", "controls", "controls7", "html-manager", "output")


def _widget_assets_path(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Tell RequireJS where the vendored widget manager lives, so it finds its fonts.

    ``embed-amd.js`` locates its assets from its AMD module's URL, which RequireJS would
    otherwise place under the page's own folder. A global ``require`` object defined before
    ``require.js`` loads is RequireJS's configuration.
    """
    scripts = getattr(app.builder, "_js_files", [])
    if not any(str(getattr(js, "filename", "")).endswith("html-manager/embed-amd.js")
               for js in scripts):
        return
    rel = context["pathto"]("_static/html-manager", 1)
    modules = ", ".join(f"'@jupyter-widgets/{m}': d + '/{m}'" for m in _WIDGET_MODULES)
    app.add_js_file(
        None,
        body=(f"var require = (function () {{ var d = new URL('{rel}', document.baseURI).href;"
              f" return {{paths: {{'@jupyter-widgets/html-manager/dist': d, {modules}}}}}; }})();"),
        priority=400,
    )


def _accessible_body(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Bibliography entries are list items of the bibliography list (docutils marks them
    ``doc-biblioentry`` inside ``role="list"``, which ARIA forbids: axe-core, critical)."""
    body = context.get("body")
    if isinstance(body, str) and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def _escape_print_title(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Escape the page title that sphinx-book-theme re-inserts in its print header.

    The theme sets ``pagetitle`` to the title's plain text and writes ``<h1>{{ pagetitle }}</h1>``
    unescaped: an activity titled ``<img src=x onerror=...>`` would run as script on every
    page view. It is the only template use of ``pagetitle`` (the ``<title>`` element and the
    breadcrumbs use the escaped ``title``).
    """
    import html

    title = context.get("pagetitle")
    if isinstance(title, str) and not context.get("plusdig_pagetitle_escaped"):
        context["pagetitle"] = html.escape(title, quote=True)
        context["plusdig_pagetitle_escaped"] = True


def _safe_widget_state(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Write the page's saved widget state (JSON in a ``<script>``) with every ``<`` escaped.

    myst-nb only escapes ``</script>``: a label from data holding ``</SCRIPT>`` would end the
    script element, and ``<!--`` followed by ``<script`` would make the HTML parser read the
    rest of the page as script. As ``\\u003c`` (the same JSON) neither can happen.
    """
    for js in getattr(app.builder, "_js_files", []):
        attributes = getattr(js, "attributes", None)
        if (isinstance(attributes, dict) and isinstance(attributes.get("body"), str)
                and attributes.get("type") == "application/vnd.jupyter.widget-state+json"):
            attributes["body"] = attributes["body"].replace("<", "\\u003c")


def _escape_search_titles() -> None:
    """Store the search index's section titles HTML-escaped (once per process).

    Sphinx's ``searchtools.js`` (7.4) shows a result's title with ``innerHTML``. Page titles are
    indexed as rendered (escaped) HTML, but section titles as plain text: a heading from data
    holding ``<img onerror=...>`` would run as script on the search page when a reader's query
    matches it. Escaped, ``innerHTML`` shows the title as its text. A page's section titles are
    replaced each time the page is indexed, so nothing is escaped twice.

    The language's stemmer is memoised for the whole build (Sphinx memoises it per page; the
    same Danish words recur on every page): the same stems, about 0.15 s less of the main
    process's resolving in a clean build.
    """
    import functools
    import html

    from sphinx.search import IndexBuilder

    if getattr(IndexBuilder.feed, "__plusdig__", False):
        return
    feed = IndexBuilder.feed

    def escaped_feed(self: Any, docname: str, filename: str, title: str, doctree: Any) -> None:
        if not hasattr(self.lang.stem, "cache_info"):
            self.lang.stem = functools.cache(self.lang.stem)
        feed(self, docname, filename, title, doctree)
        self._all_titles[docname] = [(html.escape(t, quote=False), anchor)
                                     for t, anchor in self._all_titles[docname]]

    escaped_feed.__plusdig__ = True  # type: ignore[attr-defined]
    escaped_feed.__wrapped__ = feed  # type: ignore[attr-defined]
    IndexBuilder.feed = escaped_feed  # type: ignore[method-assign]


def _copy_pdf(app: Any, exception: Exception | None) -> None:
    """Copy ``<build>/pdf/<name>.pdf`` (``make pdf``) into the HTML output, if it exists."""
    if exception is not None or app.builder.format != "html":
        return
    name = pdf_name(app.config)
    pdf = Path(app.outdir).parent / "pdf" / name
    if pdf.is_file():
        shutil.copy2(pdf, Path(app.outdir) / name)


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("config-inited", _config_inited)
    # after sphinx-thebe's handlers (default priority 500)
    app.connect("env-before-read-docs", _drop_thebe_assets, priority=900)
    app.connect("doctree-resolved", _drop_thebe_config, priority=900)
    # after sphinx-book-theme has built its header buttons (priority 501)
    app.connect("html-page-context", _pdf_download_button, priority=502)
    # after myst-nb has added the widget scripts to the page (default priority 500)
    app.connect("html-page-context", _widget_assets_path, priority=600)
    app.connect("html-page-context", _accessible_body)
    # after sphinx-book-theme has set the page title (default priority 500)
    app.connect("html-page-context", _escape_print_title, priority=600)
    # after myst-nb has added the page's widget state (default priority 500)
    app.connect("html-page-context", _safe_widget_state, priority=600)
    app.connect("build-finished", _copy_pdf)
    _escape_search_titles()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
