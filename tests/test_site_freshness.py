"""After an incremental build the whole site matches the sources: a ``_toc.yml`` change reaches
every page's sidebar, and the pages say when the site's PDF is older than they are, or missing.

One reduced copy, three builds: a clean build without a PDF (the notice says there is none and
the PDF's download link is hidden), a PDF made after it (``python -m plusdig.sphinx.pdfstatus``,
as ``make pdf`` runs it: the notice hides, the link shows), an edit of one page (the PDF is
older again: the notice says so, the link shows), then the two chapters swapped in
``_toc.yml`` (every page's sidebar lists them in the new order).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from buildkit import build, build_env, make_copy, run_module

from plusdig.sphinx import pdfstatus

pytestmark = pytest.mark.build

CHAPTERS = ["book/probe/data", "book/probe/code"]


def _status(out: Path) -> str:
    return (out / "_build/html/_static" / pdfstatus.STATUS_CSS).read_text(encoding="utf-8")


def _hidden(out: Path) -> set[str]:
    """The classes the status stylesheet hides on screen (``display:none`` outside print)."""
    css = _status(out)
    assert f".{pdfstatus.NOTICE_CLASS}" in css, css
    screen = css.split("@media")[0]
    return {m.group(1) for rule in re.findall(r"([^{}\n]+)\{display:none(?:!important)?\}", screen)
            for selector in rule.split(",") if (m := re.fullmatch(r"\.([\w-]+)", selector))}


def _notice_shown(out: Path) -> bool:
    """The status stylesheet shows the notice (it hides it with ``display:none``)."""
    return pdfstatus.NOTICE_CLASS not in _hidden(out)


def _says(out: Path) -> str:
    """What the shown notice says: "older" or "missing" (exactly one of its texts shows)."""
    hidden = _hidden(out)
    shown = [state for state, cls in (("older", pdfstatus.OLDER_CLASS),
                                      ("missing", pdfstatus.MISSING_CLASS)) if cls not in hidden]
    assert len(shown) == 1, hidden
    return shown[0]


def _pages(out: Path) -> list[Path]:
    return sorted((out / "_build/html").rglob("*.html"))


def _sidebar(page: Path) -> list[str] | None:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    nav = soup.select_one("nav.bd-docs-nav")
    if nav is None:
        return None
    return [" ".join(a.get_text(" ").split()) for a in nav.select("a.reference")]


def test_toc_change_reaches_every_sidebar_and_pdf_notice_follows_the_pdf(tmp_path: Path) -> None:
    copy = make_copy(tmp_path / "repo", CHAPTERS)
    cfg_path = copy / "_config.yml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    cfg["sphinx"]["extra_extensions"].append("plusdig.sphinx.pdfstatus")
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"

    # 1. no PDF yet: every page carries the notice, the stylesheet shows it saying there is no
    # PDF, and hides the PDF's download link (it would lead nowhere)
    build(copy, out)
    pages = _pages(out)
    content = [p for p in pages if _sidebar(p) is not None]
    assert len(content) >= 3, pages
    for docname in ["book/index", *CHAPTERS]:
        page = out / "_build/html" / f"{docname}.html"
        text = page.read_text(encoding="utf-8")
        assert pdfstatus.NOTICE_CLASS in text and pdfstatus.STATUS_CSS in text, page
        soup = BeautifulSoup(text, "html.parser")
        assert "ikke lavet en PDF-udgave" in soup.select_one(f".{pdfstatus.MISSING_CLASS}").text
        assert "ældre end disse sider" in soup.select_one(f".{pdfstatus.OLDER_CLASS}").text
    assert _notice_shown(out) and _says(out) == "missing"
    assert pdfstatus.PDF_BUTTON in _hidden(out)  # the rest in a browser: tests/test_browser.py

    # 2. the PDF is made after the pages (make pdf: build, copy, mark the site's PDF current)
    pdf = out / "_build/pdf/plusdig-evaluering.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(b"%PDF-1.7\n")
    code, log = run_module("plusdig.sphinx.pdfstatus", ["--site", str(out / "_build/html")],
                           build_env(copy))
    assert code == 0, log
    assert not _notice_shown(out) and pdfstatus.PDF_BUTTON not in _hidden(out)
    build(copy, out)  # nothing changed: the PDF is still current
    assert not _notice_shown(out) and pdfstatus.PDF_BUTTON not in _hidden(out)

    # 3. a page changes after the PDF: the notice shows again
    time.sleep(0.05)
    index = copy / "book/index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\nEn ny sætning.\n", encoding="utf-8")
    build(copy, out)
    assert _notice_shown(out) and _says(out) == "older"
    assert pdfstatus.PDF_BUTTON not in _hidden(out)

    # 4. the chapters swap places in _toc.yml: every page's sidebar shows the new order
    before = {p: _sidebar(p) for p in content}
    assert all(s is not None and s.index("Dataprobe") < s.index("Kodeprobe")
               for s in before.values()), before
    toc = yaml.safe_load((copy / "_toc.yml").read_text(encoding="utf-8"))
    toc["chapters"].reverse()
    (copy / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")
    build(copy, out)
    for page in _pages(out):
        sidebar = _sidebar(page)
        if sidebar is None:
            continue
        assert sidebar.index("Kodeprobe") < sidebar.index("Dataprobe"), (page, sidebar)
    assert {p.relative_to(out) for p in content} <= {p.relative_to(out) for p in _pages(out)}
