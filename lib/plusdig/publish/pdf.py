"""The book's PDF: one tagged PDF/UA-1 document, printed by WeasyPrint from a print HTML.

``make pdf`` builds the book with Sphinx's ``singlehtml`` builder (the same doctrees as the
site, so figure, table and chapter numbers are the site's; widgets give way to their static
PNG fallback: ``nb_mime_priority_overrides`` in ``_config.yml``) and then runs
``python -m plusdig.publish.pdf``, which

- takes the page's article (never the theme's CSS or chrome) and turns it into a print
  document (:func:`print_document`): a title page (title, subtitle, edition, publisher from
  ``_config.yml`` and the root page), a table of contents (parts, chapters, the numbered
  chapters' sections; activities once), the parts of ``_toc.yml`` as part pages, captions
  "Figur 4.2", cross-references with their page ("figur 4.2, s. 23"), the bibliography in
  Danish author–year form, no text marked ``screen-only``, numbers kept with their unit
  ("21,0 %"), and Danish hyphenation points of its own (:func:`hyphenate`);
- prints it with the lean stylesheet ``print/book.css`` (CSS paged media: running heads,
  page numbers, ``target-counter()``) as PDF/UA-1 (:func:`write_pdf`): a structure tree with
  Danish ``/Lang``, headings, tables with header cells, figures with the site's alt text,
  bookmarks, the title in the XMP metadata, running heads and page numbers as artifacts.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import time
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup, Tag

from plusdig.core.paths import REPO_ROOT
from plusdig.publish.bibliography import _danish_bibliography
from plusdig.publish.hyphenate import SOFT_HYPHEN, _treat_text
from plusdig.publish.svgpaths import remembered_paths

__all__ = ["Book", "load_book", "main", "print_document", "write_pdf", "finish_pdf", "link_texts"]


#: The print stylesheet (CSS paged media), next to this module.
STYLESHEET = Path(__file__).with_name("print") / "book.css"


#: A table with at most this many rows and characters is never split across pages (nor from
#: its caption). A longer one may be taller than a page: kept together, WeasyPrint would push it
#: to the next page and leave its caption behind (the annex overview: 14 rows of long text).
KEEP_TABLE_ROWS = 16
KEEP_TABLE_CHARS = 1500
#: A table with at least this many columns is set smaller in print (class ``wide``): the wide
#: survey tables (three years × three columns and the group) would run off the page.
WIDE_TABLE_COLUMNS = 8


_BDC = re.compile(rb"/(\w+)\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")


@dataclass(frozen=True)
class Book:
    """What the print document needs from the configuration."""

    title: str
    author: str
    subtitle: str
    parts: list[dict[str, Any]]
    bibfiles: list[Path]
    edition: str = ""     # "1. udgave, 26. november 2026" (plusdig.publish.metadata)
    publisher: str = ""


def load_book(repo: Path = REPO_ROOT) -> Book:
    """Read the title, publisher, subtitle and parts from ``_config.yml`` and ``_toc.yml``."""
    from plusdig.publish.metadata import load_publication

    config = yaml.safe_load((repo / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((repo / "_toc.yml").read_text(encoding="utf-8"))
    for key in ("title", "author"):
        if not str(config.get(key) or "").strip():
            raise ValueError(f"{repo / '_config.yml'}: '{key}' is missing; the PDF's title "
                             "page and metadata need it")
    pub = load_publication(repo, config=config)  # the same facts as the site's
    parts = [{"caption": str(p.get("caption", "")), "numbered": bool(p.get("numbered"))}
             for p in toc.get("parts", [])]
    return Book(title=pub.title, author=pub.authors_text, subtitle=pub.subtitle, parts=parts,
                bibfiles=[repo / b for b in config.get("bibtex_bibfiles", [])],
                edition=f"{pub.edition}, {pub.date_text}", publisher=pub.publisher)


# ----------------------------------------------------------------------------- document
def _heading_text(h: Tag) -> str:
    h = copy.copy(h)
    for extra in h.select(".headerlink"):
        extra.decompose()
    return " ".join(h.get_text(" ", strip=True).split())


def _section_number(h: Tag) -> str:
    num = h.select_one(".section-number")
    return num.get_text(strip=True) if num else ""


def _toc_entry(soup: BeautifulSoup, section: Tag, level: str, cls: str) -> Tag | None:
    """A TOC item for ``section`` (its ``level`` heading: number, title, page)."""
    h = section.find(level)
    if h is None or not section.get("id"):
        return None
    number = _section_number(h)
    li = soup.new_tag("li", attrs={"class": cls})
    li.append(_toc_link(soup, section["id"], number,
                        _heading_text(h).removeprefix(number).strip()))
    return li


def _toc(soup: BeautifulSoup, parts: list[tuple[dict[str, Any], Tag, str]]) -> Tag:
    """The table of contents: parts, chapters, and the numbered parts' sections."""
    nav = soup.new_tag("nav", attrs={"class": "toc", "id": "indhold"})
    head = soup.new_tag("h2")
    head.string = "Indhold"
    nav.append(head)
    top = soup.new_tag("ul", attrs={"class": "toc-parts"})
    for part, wrapper, part_id in parts:
        li = soup.new_tag("li", attrs={"class": "toc-part"})
        li.append(_toc_link(soup, part_id, "", part["caption"]))
        chapters = soup.new_tag("ul")
        for section in wrapper.find_all("section", recursive=False):
            cli = _toc_entry(soup, section, "h2", "toc-chapter")
            if cli is None:
                continue
            subs = soup.new_tag("ul")
            for sub in section.find_all("section", recursive=False) if part["numbered"] else []:
                sli = _toc_entry(soup, sub, "h3", "toc-section")
                if sli is not None:
                    subs.append(sli)
            if subs.contents:
                cli.append(subs)
            chapters.append(cli)
        li.append(chapters)
        top.append(li)
    nav.append(top)
    return nav


def _toc_link(soup: BeautifulSoup, target: str, number: str, title: str) -> Tag:
    a = soup.new_tag("a", href=f"#{target}", attrs={"class": "toc-link"})
    if number:
        num = soup.new_tag("span", attrs={"class": "toc-num"})
        num.string = number
        a.append(num)
        a.append(" ")
    a.append(title)
    return a


def _clean(article: Tag) -> dict[str, str]:
    """Drop what belongs to the screen: permalinks, scripts, ``screen-only`` blocks (a
    ``{container} screen-only`` or a notebook cell tagged ``screen-only``).

    Returns each page's docname with the id of its top section (singlehtml marks where a
    page begins with ``<span id="document-DOCNAME">``).
    """
    for sel in ("a.headerlink", "script", ".screen-only", ".tag_screen-only",
                ".toggle-hidden button",
                "button", "noscript"):
        for el in article.select(sel):
            el.decompose()
    pages = {}
    for span in article.select("span[id^='document-']"):
        section = span.find_next_sibling("section")
        if section is not None and section.get("id"):
            pages[span["id"].removeprefix("document-")] = section["id"]
        span.unwrap() if span.contents else span.decompose()
    return pages


def _page_link(href: str, pages: dict[str, str]) -> str | None:
    """The print target of a link to another page of the site ("generated/aktivitet-01.html"
    in a notebook's HTML output, which Sphinx does not resolve): that page's top section."""
    path, _, frag = href.partition("#")
    if not path.endswith(".html") or "://" in path:
        return None
    tail = path.removesuffix(".html").lstrip("./")
    hits = [doc for doc in pages if doc == tail or doc.endswith("/" + tail)]
    if len(hits) != 1:
        return None
    return f"#{frag}" if frag else f"#{pages[hits[0]]}"


def _links(article: Tag, pages: dict[str, str]) -> None:
    """Internal links point into the one document; cross-references say their page."""
    ids = {el["id"] for el in article.find_all(id=True)}
    for a in article.find_all("a", href=True):
        target = _page_link(a["href"], pages)
        if target is not None:
            a["href"] = target
            a["class"] = [*a.get("class", []), "reference", "internal", "xref-page"]
            continue
        href = a["href"]
        if "#" in href and not href.startswith(("http:", "https:", "mailto:")):
            frag = href.split("#", 1)[1]
            if frag in ids:
                a["href"] = f"#{frag}"
                classes = a.get("class", [])
                if a.select_one(".std-numref, .std-ref") and "toc-link" not in classes:
                    a["class"] = [*classes, "xref-page"]
            else:
                # a link to a page of the site that the print document does not hold
                a.unwrap()


def _captions(article: Tag) -> None:
    """Caption numbers as the site numbers them, written "Figur 4.2"."""
    for num in article.select(".caption-number"):
        text = num.get_text()
        if text[:1].islower():
            num.string = text[0].upper() + text[1:]


def _unique_ids(article: Tag) -> None:
    """Sphinx numbers generated ids per page (``id1``, ``id2``): in one document they repeat.

    The first keeps its id (a link to it goes there, as in a browser); later ones get a
    suffix ("-2", "-3").
    """
    seen: dict[str, int] = {}
    for el in article.find_all(id=True):
        base = el["id"]
        if base in seen:
            seen[base] += 1
            el["id"] = f"{base}-{seen[base]}"
        else:
            seen[base] = 1


def _styles(soup: BeautifulSoup) -> list[str]:
    """The pandas ``Styler`` rules of the page's tables (cell alignment), moved to the head."""
    rules = []
    for style in soup.select("article style"):
        rules.append(style.get_text())
        style.decompose()
    return rules


def print_document(single_html: Path, book: Book) -> str:
    """The print HTML built from the ``singlehtml`` root page ``single_html``."""
    soup = BeautifulSoup(single_html.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("main article")
    if article is None:
        raise ValueError(f"{single_html}: no <main><article>; is it a singlehtml page?")
    root = article.find("section")
    if root is None or root.find("h1") is None:
        raise ValueError(f"{single_html}: the root page has no <section> with an <h1>")
    table_css = _styles(soup)
    pages = _clean(article)
    _danish_bibliography(soup, article, book.bibfiles)
    _unique_ids(article)
    _captions(article)

    wrappers = root.find_all("div", class_="toctree-wrapper", recursive=False)
    if len(wrappers) != len(book.parts):
        raise ValueError(f"{single_html}: {len(wrappers)} toctrees on the root page, but "
                         f"_toc.yml has {len(book.parts)} parts")
    h1 = root.find("h1")
    edition = book.edition
    front = [s for s in root.find_all("section", recursive=False)]

    out = BeautifulSoup("<!DOCTYPE html><html lang='da'><head><meta charset='utf-8'>"
                        "</head><body></body></html>", "html.parser")
    head, body = out.head, out.body
    title = out.new_tag("title")
    title.string = book.title
    head.append(title)
    for name, content in (("author", book.author), ("description", book.subtitle),
                          ("generator", "plusdig.publish.pdf (WeasyPrint)")):
        if content:
            head.append(out.new_tag("meta", attrs={"name": name, "content": content}))
    css = out.new_tag("style")
    css.string = "\n".join(table_css)
    head.append(css)

    page = out.new_tag("section", attrs={"class": "title-page"})
    t = out.new_tag("h1", attrs={"class": "book-title"})
    t.string = book.title
    page.append(t)
    for cls, text in (("subtitle", book.subtitle), ("authors", book.author),
                      ("edition", edition), ("publisher", book.publisher)):
        if text:
            p = out.new_tag("p", attrs={"class": cls})
            p.string = text
            page.append(p)
    body.append(page)

    parts = []
    for i, (part, wrapper) in enumerate(zip(book.parts, wrappers, strict=True), start=1):
        parts.append((part, wrapper, f"del-{i}"))
    body.append(_toc(out, parts))
    for section in front:
        section["class"] = [*section.get("class", []), "front-matter"]
        body.append(section.extract())
    for part, wrapper, part_id in parts:
        kind = "numbered" if part["numbered"] else "unnumbered"
        sec = out.new_tag("section", attrs={"class": f"part {kind}", "id": part_id})
        ph = out.new_tag("h1", attrs={"class": "part-title"})
        ph.string = part["caption"]
        sec.append(ph)
        for child in list(wrapper.children):
            if isinstance(child, Tag) and child.name == "section":
                child["class"] = [*child.get("class", []), "chapter"]
            sec.append(child.extract())
        body.append(sec)
    del h1
    _links(body, pages)
    _treat_text(body)
    for table in body.find_all("table"):
        if (len(table.find_all("tr")) <= KEEP_TABLE_ROWS
                and len(table.get_text(" ", strip=True)) <= KEEP_TABLE_CHARS):
            table["class"] = [*table.get("class", []), "keep-together"]
        first = table.find("tr")
        if first is not None and sum(int(c.get("colspan", 1) or 1)
                                     for c in first.find_all(["th", "td"])) >= WIDE_TABLE_COLUMNS:
            table["class"] = [*table.get("class", []), "wide"]
    for img in body.find_all("img"):
        img.attrs.pop("width", None)
        img.attrs.pop("height", None)
    return str(out)


_INTERNAL_LINK = re.compile(r'<a [^>]*href="#([^"]+)"[^>]*>(.*?)</a>', re.S)


def link_texts(html: str) -> dict[str, str]:
    """Each internal link target of ``html`` and the text of the first link to it."""
    texts: dict[str, str] = {}
    for target, inner in _INTERNAL_LINK.findall(html):
        text = " ".join(re.sub(r"<[^>]+>", "", inner).replace(SOFT_HYPHEN, "").split())
        if text:
            texts.setdefault(unescape(target), unescape(text))
    return texts


def write_pdf(html: str, base_url: Path, out: Path, book: Book) -> Path:
    """Print ``html`` to ``out`` as PDF/UA-1 with the print stylesheet."""
    import weasyprint

    out.parent.mkdir(parents=True, exist_ok=True)
    doc = weasyprint.HTML(string=html, base_url=str(base_url))
    css = weasyprint.CSS(filename=str(STYLESHEET))
    rendered = doc.render(stylesheets=[css], pdf_variant="pdf/ua-1")
    rendered.metadata.title = book.title
    rendered.metadata.authors = [book.author]
    rendered.metadata.lang = "da"
    with remembered_paths():  # the figures' glyph paths parsed once each, not per letter
        rendered.write_pdf(str(out), pdf_variant="pdf/ua-1", pdf_identifier=None,
                           uncompressed_pdf=False, custom_metadata=False)
    finish_pdf(out, link_texts(html))
    return out


def _reachable(root: Any) -> set[tuple[int, int]]:
    """The structure elements reachable from the structure tree's root (by object id)."""
    import pikepdf

    seen: set[tuple[int, int]] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        kids = node.get("/K")
        if isinstance(kids, pikepdf.Array):
            todo.extend(kids)
        elif kids is not None:
            todo.append(kids)
    return seen


def finish_pdf(path: Path, links: dict[str, str] | None = None) -> int:
    """Two repairs of WeasyPrint's PDF/UA output, in place; return the artifacts marked.

    - Running heads and page numbers become pagination artifacts. WeasyPrint tags the
      page-margin boxes' text as ``Span`` content whose structure elements it keeps out of
      the tree (PDF 1.7 has no artifact elements), so that content is neither tagged nor an
      artifact. Each such marked-content sequence becomes ``/Artifact <</Type /Pagination>>``,
      and its parent-tree entry is cleared.
    - An internal link's description (``/Contents``, read aloud by screen readers) is the
      link's text ("figur 4.2, s. 23") instead of the target's id ("fig-maalgrupper-alder").
    """
    import pikepdf

    count = 0
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        tree = pdf.Root.StructTreeRoot
        reachable = _reachable(tree)
        nums = tree.ParentTree.Nums
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        for page in pdf.pages:
            key = page.obj.get("/StructParents")
            if key is None or int(key) not in parents:
                continue
            mcids = parents[int(key)]
            orphans = {i for i, el in enumerate(mcids)
                       if isinstance(el, pikepdf.Dictionary) and el.objgen not in reachable}
            if not orphans:
                continue

            def swap(m: re.Match[bytes], orphans: set[int] = orphans) -> bytes:
                nonlocal count
                if int(m.group(2)) not in orphans:
                    return m.group(0)
                count += 1
                return b"/Artifact\n<</Type /Pagination>>\nBDC"

            # WeasyPrint writes "/Span\n<</MCID 7>>\nBDC"; a regular expression over the
            # bytes is ten times faster than parsing and unparsing the content stream
            contents = page.obj.Contents
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
            data = _BDC.sub(swap, b"\n".join(s.read_bytes() for s in streams))
            page.obj.Contents = pdf.make_stream(data)
            for i in orphans:
                mcids[i] = None
        for page in pdf.pages if links else []:
            for annot in page.obj.get("/Annots", []):
                dest = str(annot.get("/Dest", ""))
                if dest in links:
                    annot.Contents = pikepdf.String(links[dest])
        pdf.save(path)
    return count


def main(argv: list[str] | None = None) -> int:
    """``python -m plusdig.publish.pdf --html _build/singlehtml --out _build/pdf/NAME.pdf``."""
    ap = argparse.ArgumentParser(prog="python -m plusdig.publish.pdf", description=__doc__.split("\n")[0])
    ap.add_argument("--html", type=Path, default=REPO_ROOT / "_build" / "singlehtml",
                    help="the singlehtml build (its root page is read)")
    ap.add_argument("--out", type=Path, required=True, help="the PDF to write")
    ap.add_argument("--keep-html", action="store_true",
                    help="also write the print HTML next to the PDF (for inspection)")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    book = load_book()
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    root = args.html / f"{str(toc['root']).removesuffix('.md')}.html"
    if not root.is_file():
        print(f"plusdig.publish.pdf: {root} is missing; build it first (make pdf)", file=sys.stderr)
        return 1
    try:
        html = print_document(root, book)
    except ValueError as exc:
        print(f"plusdig.publish.pdf: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.keep_html:
        args.out.with_suffix(".html").write_text(html, encoding="utf-8")
    write_pdf(html, args.html, args.out, book)
    print(f"plusdig.publish.pdf: {args.out} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
