"""The site says when its PDF is older than its pages.

``make book`` rebuilds the HTML site; the PDF (``make pdf``, ``_build/pdf/``) is a separate,
slower build, so after an edit the site's "Bogen som PDF" link can lead to an older edition.
This Sphinx extension keeps the time the book's content last changed in the environment
(the moment Sphinx last read a changed page; the HTML and the PDF's singlehtml build share
it) and, at the end of an HTML build, writes ``_static/plusdig-pdf-status.css``: every page
carries a notice (``.plusdig-pdf-aeldre``) that this stylesheet hides while the PDF was built
after the content last changed, and shows when the PDF is older. While there is no PDF at all
(``make book`` without ``make pdf``) the notice says so instead, and the stylesheet hides the
PDF's link to a file that is not there (and the download menu, when that was its only entry).
``python -m plusdig.sphinx.pdfstatus --site _build/html`` (run by ``make pdf`` after it copied the new
PDF into the site) marks the site's PDF as current without rebuilding the pages.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The stylesheet in the site's ``_static`` folder that shows or hides the notice.
STATUS_CSS = "plusdig-pdf-status.css"
#: The notice's class.
NOTICE_CLASS = "plusdig-pdf-aeldre"
#: The classes of the notice's two texts: the PDF is older than the pages; there is no PDF.
OLDER_CLASS, MISSING_CLASS = f"{NOTICE_CLASS}-tekst", "plusdig-pdf-mangler-tekst"
#: The theme's download menu, and the class of its entry for the book's PDF
#: (plusdig.sphinx.site; in this book the menu's only entry).
DOWNLOAD_MENU, PDF_BUTTON = "dropdown-download-buttons", "btn-download-book-pdf-button"
NOTICE = (f'<div class="{NOTICE_CLASS}" role="note">'
          f'<span class="{OLDER_CLASS}">PDF-udgaven er ældre end disse sider: '
          "den viser ikke de seneste ændringer.</span>"
          f'<span class="{MISSING_CLASS}">Der er endnu ikke lavet en PDF-udgave af disse sider '
          "(make pdf), så bogen kan ikke hentes som PDF herfra.</span></div>")
#: The PDF's states: written after the pages' content last changed, older, not there.
STATES = ("current", "older", "missing")
_SHOWN = (f".{NOTICE_CLASS}{{margin:0 0 1rem;padding:.6rem .9rem;border-left:4px solid #8a5a00;"
          "background:#fff8e6;color:#3d2800}\n")
_CSS = {
    "current": f".{NOTICE_CLASS}{{display:none}}\n",
    "older": _SHOWN + f".{MISSING_CLASS}{{display:none}}\n",
    # no link to a file that is not there (over the theme's display of its buttons); the menu
    # itself goes when that was all it held
    "missing": _SHOWN + f".{OLDER_CLASS}{{display:none}}\n"
               f".{PDF_BUTTON},li:has(>.{PDF_BUTTON}){{display:none!important}}\n"
               f".{DOWNLOAD_MENU}:not(:has(.dropdown-item:not(.{PDF_BUTTON}))){{display:none}}\n",
}
_PRINT = f"@media print{{.{NOTICE_CLASS}{{display:none}}}}\n"


def status_css(state: str) -> str:
    """The status stylesheet for the PDF's ``state`` (one of :data:`STATES`)."""
    if state not in _CSS:
        raise ValueError(f"PDF status {state!r}: expected one of {', '.join(STATES)}")
    return _CSS[state] + ("" if state == "current" else _PRINT)


def write_status(site: Path, state: str) -> Path:
    """Write :func:`status_css` for ``state`` into ``site/_static``; return its path."""
    css = site / "_static" / STATUS_CSS
    text = status_css(state)
    css.parent.mkdir(parents=True, exist_ok=True)
    css.write_text(text, encoding="utf-8")
    return css


def pdf_state(pdf: Path, content_time: float | None) -> str:
    """The state of ``pdf`` (:data:`STATES`) against the time the content last changed."""
    if not pdf.is_file():
        return "missing"
    current = content_time is not None and pdf.stat().st_mtime >= content_time
    return "current" if current else "older"


def _on_before_read(app: Any, env: Any, docnames: list[str]) -> None:
    if docnames:
        env.plusdig_content_time = time.time()


def _on_page_context(app: Any, pagename: str, templatename: str, context: dict[str, Any],
                     doctree: Any) -> None:
    if app.builder.name == "html" and doctree is not None and "body" in context:
        context["body"] = NOTICE + context["body"]


def _on_build_finished(app: Any, exception: BaseException | None) -> None:
    """Write the status stylesheet into the site being written (before it is published)."""
    if exception is not None or app.builder.name != "html":
        return
    from plusdig.sphinx.site import pdf_name

    pdf = Path(app.outdir).parent / "pdf" / pdf_name(app.config)
    site = Path(app.outdir)
    if (site / "index.html").exists() or any(site.glob("*.html")):
        write_status(site, pdf_state(pdf, getattr(app.env, "plusdig_content_time", None)))


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point."""
    app.connect("env-before-read-docs", _on_before_read)
    app.connect("html-page-context", _on_page_context)
    app.connect("build-finished", _on_build_finished, priority=400)  # before publishing
    app.add_css_file(STATUS_CSS)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m plusdig.sphinx.pdfstatus --site _build/html``: the site's PDF is current."""
    ap = argparse.ArgumentParser(prog="python -m plusdig.sphinx.pdfstatus", description=__doc__.split(
        "\n")[0])
    ap.add_argument("--site", required=True, help="the HTML site folder (_build/html)")
    args = ap.parse_args(argv)
    site = Path(args.site)
    if not site.is_dir():
        print(f"{site}: intet site (kør make book først)")
        return 0
    print(f"PDF-status: {write_status(site, 'current')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
