"""The HTML site works offline and is complete; unit tests of ``plusdig.sphinx.site``.

The built-site tests read ``_build/html`` through the ``built_site`` fixture (tests/conftest.py),
which builds the book (``make pdf``, ``make book``) when the build is missing or older than
its sources.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from plusdig.sphinx import site

REPO = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- unit tests


def test_danish_date_uses_danish_month_names() -> None:
    assert site.danish_date(dt.date(2026, 11, 26)) == "26. november 2026"
    assert site.danish_date(dt.date(2019, 3, 1)) == "1. marts 2019"


def test_edition_date_honours_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1546300800")  # 2019-01-01 00:00 UTC
    assert site.edition_date() == dt.date(2019, 1, 1)


def test_edition_date_falls_back_to_a_real_date(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    day = site.edition_date(tmp_path)  # not a git repository: today
    assert abs((day - dt.datetime.now(tz=dt.UTC).date()).days) <= 1


def test_pdf_name_from_latex_documents() -> None:
    class Config:
        latex_documents = [("book/index", "plusdig-evaluering.tex", "T", "A", "manual")]

    assert site.pdf_name(Config()) == "plusdig-evaluering.pdf"
    assert site.pdf_name(object()) == site.PDF_NAME


# ----------------------------------------------------------------------------- built site

#: Tags whose ``src``/``href`` load a resource (scripts, styles, fonts, images, media).
_RESOURCE_ATTRS = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
_LINK_RESOURCE_RELS = {"stylesheet", "preload", "prefetch", "modulepreload", "icon",
                       "shortcut icon", "apple-touch-icon", "manifest", "dns-prefetch",
                       "preconnect", "font"}


class _ResourceCollector(HTMLParser):
    """Collect the URLs a page loads (not the links a reader may follow)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "link":
            rel = values.get("rel", "").lower()
            if rel in _LINK_RESOURCE_RELS or any(r in _LINK_RESOURCE_RELS for r in rel.split()):
                self.urls.append((f"link rel={rel}", values.get("href", "")))
        for attr in _RESOURCE_ATTRS.get(tag, ()):
            for url in re.split(r",\s*", values.get(attr, "")):
                if url.strip():
                    self.urls.append((f"{tag} {attr}", url.strip().split(" ")[0]))
        if "style" in values:
            self.styles.append(values["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")


def external_resources(html: str) -> list[tuple[str, str]]:
    """The resources an HTML page loads from another host: ``(where, url)`` pairs."""
    collector = _ResourceCollector()
    collector.feed(html)
    found = list(collector.urls)
    for css in collector.styles:
        found.extend(("css url()", u) for u in _CSS_URL.findall(css))
    return [(where, url) for where, url in found if _is_external(url)]


def _is_external(url: str) -> bool:
    if url.startswith("data:"):
        return False
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "file")


def test_external_resource_scan_catches_cdn_urls() -> None:
    page = """<html><head>
      <script src="https://cdn.example.org/require.js"></script>
      <link rel="stylesheet" href="//fonts.example.com/css">
      <style>@font-face { src: url('https://fonts.example.net/f.woff2'); }</style>
      <link rel="canonical" href="https://plusdig.dk/">
      <script src="_static/requirejs/require.js"></script>
      <img src="data:image/png;base64,AAAA" alt="x">
    </head><body><a href="https://plusdig.dk/">plusdig.dk</a></body></html>"""
    found = {url for _, url in external_resources(page)}
    assert found == {
        "https://cdn.example.org/require.js",
        "//fonts.example.com/css",
        "https://fonts.example.net/f.woff2",
    }


def test_no_page_loads_anything_from_another_host(built_site: Path) -> None:
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) >= 5
    offending = {
        str(p.relative_to(built_site)): hits
        for p in pages
        if (hits := external_resources(p.read_text(encoding="utf-8")))
    }
    assert offending == {}


def test_no_stylesheet_loads_anything_from_another_host(built_site: Path) -> None:
    offending = {}
    for css in sorted(built_site.rglob("*.css")):
        urls = [u for u in _CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace"))
                if _is_external(u)]
        if urls:
            offending[str(css.relative_to(built_site))] = urls
    assert offending == {}


def test_vendored_scripts_are_served_by_the_site(built_site: Path) -> None:
    for rel in ("_static/requirejs/require.js", "_static/html-manager/embed-amd.js",
                "_static/mathjax/tex-chtml.js"):
        assert (built_site / rel).stat().st_size > 10_000, rel


def _page(built_site: Path, rel: str) -> str:
    return (built_site / rel).read_text(encoding="utf-8")


def test_site_is_danish(built_site: Path) -> None:
    for page in sorted(built_site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if "<html" in text:
            assert re.search(r'<html[^>]*\blang="da"', text), page


#: Interface texts of the themes that have no Danish translation of their own
#: (translated in locales/da/LC_MESSAGES/sphinx.po and by plusdig.sphinx.site).
ENGLISH_UI = ("Skip to main content", "Back to top", "On this page", "Search this book",
              "Color mode", "previous page", "next page", "Toggle primary sidebar",
              "Site navigation", "Download this page", "Print to PDF")


def test_interface_texts_are_danish(built_site: Path) -> None:
    found = {}
    for page in sorted(built_site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        hits = [s for s in ENGLISH_UI if s in text]
        if hits:
            found[str(page.relative_to(built_site))] = hits
    assert found == {}


def test_title_page_has_title_subtitle_and_edition(built_site: Path, book_config: dict) -> None:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_page(built_site, book_config["root"] + ".html"), "html.parser")
    main = soup.find("main") or soup
    assert main.find("h1").get_text(" ", strip=True).rstrip("#").strip() == book_config["title"]
    text = " ".join(main.get_text(" ", strip=True).split())
    assert book_config["subtitle"] in text
    from plusdig.publish.metadata import load_publication

    pub = load_publication(REPO)  # the one publication date, as the footer and PDF show it
    assert f"{pub.edition}, {pub.date_text}" in text
    assert re.fullmatch(r"\d{1,2}\. (januar|februar|marts|april|maj|juni|juli|august|"
                        r"september|oktober|november|december) \d{4}", pub.date_text)


def test_navigation_reaches_every_chapter_of_both_parts(
    built_site: Path, book_config: dict
) -> None:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_page(built_site, book_config["root"] + ".html"), "html.parser")
    nav = soup.select_one("nav.bd-docs-nav") or soup.select_one(".bd-sidebar-primary")
    assert nav is not None
    captions = [c.get_text(" ", strip=True) for c in nav.select(".caption-text")]
    for part in book_config["parts"]:
        assert part["caption"] in captions
    here = posixpath.dirname(book_config["root"])
    targets = {posixpath.normpath(posixpath.join(here, a.get("href", "").split("#")[0]))
               for a in nav.find_all("a") if not _is_external(a.get("href", ""))}
    for chapter in book_config["chapters"]:
        assert chapter + ".html" in targets, chapter


def test_download_menu_offers_the_pdf(built_site: Path, book_config: dict) -> None:
    from bs4 import BeautifulSoup

    pdf = site.PDF_NAME
    assert (built_site / pdf).stat().st_size > 10_000
    for chapter in book_config["chapters"]:
        html = _page(built_site, chapter + ".html")
        soup = BeautifulSoup(html, "html.parser")
        links = [a.get("href", "") for a in soup.select(".dropdown-download-buttons a")]
        assert any(h.split("/")[-1] == pdf for h in links), chapter
        # issue 15: readers get the PDF; the sources are listed in the appendix
        assert not [h for h in links if h.endswith((".ipynb", ".md"))], chapter


def test_every_image_has_alt_text(built_site: Path) -> None:
    from bs4 import BeautifulSoup

    missing = []
    for page in sorted(built_site.rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for img in soup.select("main img"):
            if not (img.get("alt") or "").strip():
                missing.append((str(page.relative_to(built_site)), img.get("src", "")[:60]))
    assert missing == []


def test_headings_are_in_order(built_site: Path) -> None:
    from bs4 import BeautifulSoup

    problems = []
    for page in sorted(built_site.rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        article = soup.select_one("main article") or soup.select_one("article")
        if article is None:
            continue
        levels = [int(h.name[1]) for h in article.find_all(re.compile(r"^h[1-6]$"))]
        if not levels:
            continue
        if levels[0] != 1 or levels.count(1) != 1:
            problems.append((str(page.relative_to(built_site)), levels))
            continue
        for before, after in zip(levels, levels[1:], strict=False):
            if after > before + 1:
                problems.append((str(page.relative_to(built_site)), levels))
                break
    assert problems == []
