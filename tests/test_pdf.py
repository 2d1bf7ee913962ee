"""The PDF (``make pdf``: plusdig.publish.pdf, WeasyPrint): tagged to PDF/UA-1, complete and print-clean.

Checked as a validator would (the structure tree, read with pikepdf: roles, alt text, table
headers, heading order, every page's content tagged or an artifact, fonts, metadata) and as a
reader would (its text, read back with ``pdftotext``; sample pages rendered to PNG with
``pdftoppm`` under ``_build/pdf/renders/`` to look at). What must be there is read from the
book itself (the TOC, the built site's pages, the data, references.bib), never typed here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from plusdig.publish import bibliography as publish_bibliography
from plusdig.publish import hyphenate
from plusdig.publish import pdf as plusdig_pdf
from plusdig.sphinx.reader import danish_quotes

#: Text that means an output was printed as its Python repr instead of being rendered.
REPR_LEAKS = ("VBox(", "Dropdown(", "ToggleButtons(", "<Figure size", "<pandas.io.formats",
              "Output()", "object at 0x")
#: Wrong breaks of the old PDF (issue 14), as (word, position of the break).
WRONG_BREAKS = (("Målgruppe", 2), ("Konfidensintervallerne", 8), ("medarbejdere", 2),
                ("tilbagemeldinger", 5))
#: The hyphen WeasyPrint draws at a line end (pdftotext gives it back as is).
LINE_END_HYPHEN = "\u2010"
#: Operators that paint something on the page (text, images, shapes).
PAINT_OPS = {"Tj", "TJ", "'", '"', "Do", "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "sh",
             "BI"}


# ----------------------------------------------------------------------------- helpers
def _pdftotext(pdf: Path, *args: str) -> str:
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext missing: apt-get install poppler-utils"
    done = subprocess.run([exe, "-enc", "UTF-8", *args, str(pdf), "-"], capture_output=True,
                          text=True, check=True)
    return done.stdout


def _flat(text: str, hyphens: bool) -> str:
    text = re.sub(LINE_END_HYPHEN + r"\n", "", text)
    text = re.sub(r"\s+", "", text.replace("\u00ad", ""))
    return text if hyphens else text.replace("-", "")


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` is in ``haystack`` up to line breaks and line-end hyphens."""
    return _flat(needle, True) in _flat(haystack, True) or (
        _flat(needle, False) in _flat(haystack, False)
    )


def _walk(node: Any, parents: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every structure element under ``node`` in reading order, with its ancestors."""
    if not isinstance(node, pikepdf.Dictionary):
        return
    if "/S" in node:
        yield node, parents
    kids = node.get("/K")
    if kids is None:
        return
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield from _walk(kid, (*parents, node) if "/S" in node else parents)


def _role(el: Any) -> str:
    return str(el.S).lstrip("/")


def _text_of_pages(pdf: Path, n: int) -> list[str]:
    """Each page's text as ``pdftotext -f i -l i`` gives it (ending in a form feed), from one
    run over the whole document: pdftotext ends every page with a form feed."""
    pages = _pdftotext(pdf).split("\f")
    assert len(pages) == n + 1 and pages[-1] == "", (len(pages), n)  # no form feed in a page
    return [page + "\f" for page in pages[:-1]]


def _site_soup(built_site: Path, chapter: str) -> Any:
    from bs4 import BeautifulSoup

    return BeautifulSoup((built_site / f"{chapter}.html").read_text(encoding="utf-8"),
                         "html.parser")


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def pdf_text(built_pdf: Path) -> str:
    return _pdftotext(built_pdf)


@pytest.fixture(scope="module")
def doc(built_pdf: Path) -> Iterator[pikepdf.Pdf]:
    with pikepdf.open(built_pdf) as pdf:
        yield pdf


@pytest.fixture(scope="module")
def elements(doc: pikepdf.Pdf) -> list[tuple[Any, tuple[Any, ...]]]:
    return list(_walk(doc.Root.StructTreeRoot))


@pytest.fixture(scope="module")
def pages_text(built_pdf: Path, doc: pikepdf.Pdf) -> list[str]:
    pages = _text_of_pages(built_pdf, len(doc.pages))
    for i in (1, len(pages) // 2, len(pages)):  # what pdftotext gives for the page alone
        assert pages[i - 1] == _pdftotext(built_pdf, "-f", str(i), "-l", str(i)), i
    return pages


@pytest.fixture(scope="module")
def outline_titles(doc: pikepdf.Pdf) -> list[str]:
    with doc.open_outline() as outline:
        titles: list[str] = []

        def visit(items: Any) -> None:
            for item in items:
                titles.append(" ".join(str(item.title).split()))
                visit(item.children)

        visit(outline.root)
    return titles


@pytest.fixture(scope="module")
def part_captions(book_config: dict[str, Any]) -> list[str]:
    return [p["caption"] for p in book_config["parts"]]


# ----------------------------------------------------------------------------- unit tests
def test_contains_helper_tolerates_line_breaks_and_hyphenation() -> None:
    text = f"Aktiviteterne i\noverblik og Aktivitets{LINE_END_HYPHEN}\nkataloget med 95 %-konfidens"
    assert _contains(text, "Aktiviteterne i overblik")
    assert _contains(text, "Aktivitetskataloget")
    assert not _contains(text, "Ungebussen")


@pytest.mark.parametrize(("word", "wrong"), WRONG_BREAKS)
def test_hyphenation_exceptions(word: str, wrong: int) -> None:
    marked = hyphenate.hyphenate(word)
    breaks = _breaks(marked)
    assert marked.replace(hyphenate.SOFT_HYPHEN, "") == word
    assert wrong not in breaks, marked
    assert breaks, f"{word} gets no break at all"
    assert all(3 <= b <= len(word) - 3 for b in breaks)


def _breaks(marked: str) -> list[int]:
    out, pos = [], 0
    for ch in marked:
        if ch == hyphenate.SOFT_HYPHEN:
            out.append(pos)
        else:
            pos += 1
    return out


def test_hyphenation_never_leaves_a_fragment_without_a_vowel() -> None:
    for word in ("koordinationsgruppe", "trivselsmålingen", "børnemedarbejdere",
                 "Aktivitetskataloget", "evalueringsrapporten", "procentpoint"):
        parts = hyphenate.hyphenate(word).split(hyphenate.SOFT_HYPHEN)
        assert len(parts) > 1, word
        assert all(set(p.lower()) & set("aeiouyæøå") for p in parts), parts


def test_bibliography_entry_is_danish_author_year() -> None:
    from pybtex.database import parse_string

    bib = parse_string("""
        @article{a, author = {Kania, John and Kramer, Mark}, title = {Collective Impact},
          journal = {Stanford Social Innovation Review}, volume = {9}, number = {1},
          pages = {36--41}, year = {2011}}
        @misc{b, author = {{SUS}}, title = {Collective impact på dansk}, url = {https://x.dk/}}
        """, "bibtex")
    text = "".join(t for _, t in publish_bibliography.bibliography_entry(bib.entries["a"]))
    assert text == ("Kania, J. og Kramer, M. (2011). Collective Impact. Stanford Social "
                    "Innovation Review, 9(1), 36–41.")
    nobody = parse_string("@misc{c, title = {Hvordan har børn og unge i {Lejre} det?}, "
                          "year = {2017--2019}}", "bibtex").entries["c"]
    assert "".join(t for _, t in publish_bibliography.bibliography_entry(nobody)) == (
        "Hvordan har børn og unge i Lejre det? (2017–2019).")
    runs = publish_bibliography.bibliography_entry(bib.entries["b"])
    assert "".join(t for _, t in runs).startswith("SUS (u.å.). Collective impact på dansk.")
    assert ("url", "https://x.dk/") in runs


def test_print_document_rejects_a_page_without_an_article(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("<html><body><p>ingen artikel</p></body></html>", encoding="utf-8")
    book = plusdig_pdf.Book(title="T", author="A", subtitle="", parts=[], bibfiles=[])
    with pytest.raises(ValueError, match=r"index\.html.*no <main><article>"):
        plusdig_pdf.print_document(page, book)


# ----------------------------------------------------------------------------- PDF/UA
def test_pdfinfo_tagged_titled_unencrypted(built_pdf: Path, book_config: dict) -> None:
    info = subprocess.run(["pdfinfo", str(built_pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, flags=re.M), info
    assert re.search(r"^Encrypted:\s+no$", info, flags=re.M), info
    assert re.search(rf"^Title:\s+{re.escape(book_config['title'])}$", info, flags=re.M), info
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    assert int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1)) > 20


def test_catalog_declares_language_title_and_pdfua(doc: pikepdf.Pdf, book_config: dict) -> None:
    root = doc.Root
    assert str(root.Lang) == "da"
    assert bool(root.MarkInfo.Marked) is True
    assert bool(root.ViewerPreferences.DisplayDocTitle) is True
    assert not doc.is_encrypted
    xmp = root.Metadata.read_bytes().decode("utf-8")
    assert re.search(r'pdfuaid:part(="1"|>1<)', xmp), xmp[:500]
    meta = doc.open_metadata()
    assert meta.get("dc:title") == book_config["title"]


def test_structure_tree_is_a_document(elements: list) -> None:
    roles = [_role(el) for el, _ in elements]
    assert roles[0] == "Document"
    for needed in ("H1", "H2", "H3", "P", "L", "LI", "Table", "TH", "TD", "Figure", "Caption",
                   "Link"):
        assert needed in roles, needed


def test_heading_levels_never_jump(elements: list) -> None:
    levels = [int(_role(el)[1]) for el, _ in elements if re.fullmatch(r"H[1-6]", _role(el))]
    assert levels[0] == 1
    jumps = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    assert jumps == []


def test_every_figure_has_the_sites_alt_text(elements: list, built_site: Path,
                                             book_config: dict) -> None:
    alts = [" ".join(str(el.get("/Alt", "")).split()) for el, _ in elements
            if _role(el) == "Figure"]
    assert alts and all(alts), "a Figure without /Alt"
    site_alts, site_figures = [], 0
    for chapter in book_config["chapters"]:
        soup = _site_soup(built_site, chapter)
        figures = soup.select("main article figure")
        site_figures += len(figures)
        site_alts += [" ".join(img["alt"].split()) for img in soup.select(
            "main article figure img[alt]")]
    assert site_alts
    assert len(alts) == site_figures  # the widget figure too, as its PNG fallback
    missing = [a for a in site_alts if a not in alts]
    assert missing == []


def test_every_table_has_header_cells_tied_to_its_data(elements: list) -> None:
    tables = [el for el, _ in elements if _role(el) == "Table"]
    assert tables
    for table in tables:
        cells = [(el, _role(el)) for el, _ in _walk(table)]
        ths = [el for el, role in cells if role == "TH"]
        assert ths, "a Table without TH"
        assert all("/ID" in th for th in ths)
        tds = [el for el, role in cells if role == "TD"]
        unheaded = [td for td in tds if "/Headers" not in td.get("/A", {})]
        assert unheaded == []


def test_every_table_row_stays_on_one_page(elements: list) -> None:
    rows = [el for el, _ in elements if _role(el) == "TR"]
    assert rows
    split = 0
    for row in rows:
        pages = {kid.Pg.objgen for kid, _ in _walk(row) if "/Pg" in kid}
        split += len(pages) > 1
    assert split == 0


def _marked_content_problems(page: Any) -> list[str]:
    """Painting operators outside any marked content (neither tagged nor an artifact)."""
    depth, problems = 0, []
    for instr in pikepdf.parse_content_stream(page):
        op = str(instr.operator)
        if op in ("BDC", "BMC"):
            depth += 1
        elif op == "EMC":
            depth -= 1
        elif op in PAINT_OPS and depth == 0:
            problems.append(op)
    return problems


def test_every_page_content_is_tagged_or_an_artifact(doc: pikepdf.Pdf) -> None:
    untagged = {i + 1: ops for i, page in enumerate(doc.pages)
                if (ops := _marked_content_problems(page))}
    assert untagged == {}


def test_running_heads_and_page_numbers_are_artifacts(doc: pikepdf.Pdf,
                                                      pages_text: list[str]) -> None:
    """Every page that prints a page number marks its running head and number as artifacts
    (blank pages before a part opening print nothing)."""
    numbered = [i for i, text in enumerate(pages_text)
                if text.strip() and text.strip().splitlines()[-1].strip().isdigit()]
    assert len(numbered) > len(pages_text) // 2
    missing = []
    for i in numbered:
        kinds = [str(op.operands[0]) for op in pikepdf.parse_content_stream(doc.pages[i])
                 if str(op.operator) in ("BDC", "BMC")]
        if "/Artifact" not in kinds:
            missing.append(i + 1)
    assert missing == []


def test_links_are_described_by_their_text(doc: pikepdf.Pdf) -> None:
    """A link's /Contents (what a screen reader says) is its text, not the target's id."""
    links = [a for page in doc.pages for a in page.obj.get("/Annots", [])
             if a.get("/Subtype") == "/Link"]
    assert links
    assert all(str(a.get("/Contents", "")).strip() for a in links)
    internal = [a for a in links if "/Dest" in a]
    assert internal
    by_id = [str(a.Dest) for a in internal if str(a.Contents) == str(a.Dest)]
    assert by_id == []
    assert any(re.fullmatch(r"figur \d+\.\d+", str(a.Contents), re.I) for a in internal)


def test_fonts_are_embedded_with_unicode_maps(doc: pikepdf.Pdf) -> None:
    seen, problems = set(), []
    for page in doc.pages:
        fonts = page.Resources.get("/Font", {})
        for font in fonts.values():
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            desc = (font.DescendantFonts[0] if "/DescendantFonts" in font else font).get(
                "/FontDescriptor")
            if desc is None or not any(k in desc for k in ("/FontFile", "/FontFile2",
                                                           "/FontFile3")):
                problems.append(f"{font.get('/BaseFont')}: not embedded")
            if "/ToUnicode" not in font:
                problems.append(f"{font.get('/BaseFont')}: no ToUnicode")
    assert seen
    assert problems == []


def test_bookmarks_for_every_part_chapter_and_activity(outline_titles: list[str],
                                                       chapter_titles: dict[str, str],
                                                       part_captions: list[str]) -> None:
    import plusdig

    flat = [re.sub(r"^\d+(\.\d+)*\.\s*", "", t) for t in outline_titles]
    wanted = [*part_captions, *chapter_titles.values()]
    missing = [w for w in wanted if " ".join(w.split()) not in flat]
    assert missing == []
    activities = plusdig.load_activities()
    assert len(activities) >= 13
    unmarked = [a.title for a in activities
                if not any(t.startswith(f"Aktivitet {a.id}: ")
                           and (a.title in t or danish_quotes(a.title) in t) for t in flat)]
    assert unmarked == []
    # activities are bookmarked once, not with their sections (Beskrivelse, Formål, ...)
    assert flat.count("Beskrivelse") == 0


def test_pdf_is_linked_from_the_site(built_pdf: Path, built_site: Path,
                                     book_config: dict) -> None:
    soup = _site_soup(built_site, book_config["chapters"][0])
    links = [a["href"] for a in soup.select("a[href$='.pdf']")
             if not a["href"].startswith(("http:", "https:"))]
    assert links, "no link to the book's PDF"
    page = built_site / f"{book_config['chapters'][0]}.html"
    for href in links:
        target = (page.parent / href).resolve()
        assert target.name == built_pdf.name
        assert target.is_file() and target.read_bytes() == built_pdf.read_bytes()


# ----------------------------------------------------------------------------- text
def test_title_page(pages_text: list[str], book_config: dict) -> None:
    first = pages_text[0]
    assert _contains(first, book_config["title"])
    assert _contains(first, book_config["subtitle"])
    from plusdig.publish.metadata import load_publication

    pub = load_publication(Path(__file__).resolve().parents[1])
    assert _contains(first, f"{pub.edition}, {pub.date_text}")  # the site's edition and date
    assert _contains(first, pub.publisher) and _contains(first, pub.authors_text)


def test_table_of_contents_is_short_and_lists_activities_once(
        pages_text: list[str], part_captions: list[str]) -> None:
    toc = [i for i, t in enumerate(pages_text) if t.lstrip().startswith("Indhold")]
    assert toc and toc == list(range(toc[0], toc[0] + len(toc)))
    assert 1 <= len(toc) <= 3
    text = "\n".join(pages_text[i] for i in toc)
    for caption in part_captions:
        assert _contains(text, caption)
    assert text.count("Beskrivelse") == 0
    # every entry has a page number after its dot leader
    assert len(re.findall(r"\.{5,}\s*\d+\s*$", text, flags=re.M)) > 20


def test_every_chapter_title_is_in_the_pdf(pdf_text: str, chapter_titles: dict[str, str]) -> None:
    assert len(chapter_titles) >= 3
    missing = [t for t in chapter_titles.values() if not _contains(pdf_text, t)]
    assert missing == []


def test_numbered_chapters_are_numbered_as_on_the_site(pdf_text: str, built_site: Path,
                                                       book_config: dict) -> None:
    numbered = [c for p in book_config["parts"] if p["numbered"] for c in p["chapters"]]
    assert numbered
    for chapter in numbered:
        h1 = (_site_soup(built_site, chapter).select_one("main article") or {}).find("h1")
        number = h1.select_one(".section-number").get_text(strip=True)
        title = h1.get_text(" ", strip=True).removeprefix(number).rstrip("#").strip()
        assert re.search(rf"^{re.escape(number)}\s+{re.escape(title.split()[0])}", pdf_text,
                         flags=re.M), (number, title)
    assert not re.search(r"\bKAPITEL\b", pdf_text)


def test_every_activity_title_is_in_the_pdf(pdf_text: str) -> None:
    import plusdig

    titles = [a.title for a in plusdig.load_activities()]
    assert len(titles) >= 13
    missing = [t for t in titles if not _contains(pdf_text, t)]
    assert missing == []


def test_no_python_repr_and_no_screen_text(pdf_text: str) -> None:
    leaks = {s: pdf_text.count(s) for s in REPR_LEAKS if s in pdf_text}
    assert leaks == {}
    assert not re.search(r"\bKlik\b", pdf_text)
    assert "Non-alphabetical" not in pdf_text


def test_no_blank_page_outside_part_openings(pages_text: list[str],
                                             part_captions: list[str]) -> None:
    """A page with nothing but its running head and page number is blank; only the page
    before a part's title page (which opens on a right-hand page) may be."""
    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    parts = {i for i, text in enumerate(pages_text) if " ".join(lines(text)) in part_captions}
    assert len(parts) == len(part_captions)
    blank = [(i + 1, lines(text)) for i, text in enumerate(pages_text)
             if len(lines(text)) <= 2 and i not in parts and i + 1 not in parts]
    assert blank == []


def test_line_end_hyphens_are_the_corrected_danish_ones(pdf_text: str) -> None:
    pairs = re.findall(rf"(\w+){LINE_END_HYPHEN}\n(\w+)", pdf_text)
    assert len(pairs) > 20  # the text is hyphenated
    wrong = [f"{a}-{b}" for a, b in pairs
             if len(a) not in _breaks(hyphenate.hyphenate(a + b))]
    assert wrong == []
    for word, at in WRONG_BREAKS:
        for a, b in pairs:
            assert not ((a + b).lower().startswith(word.lower()[:at + 3]) and len(a) == at), (a, b)


def test_nothing_runs_off_the_page(built_pdf: Path) -> None:
    """Every word lies inside the page's text area horizontally (a table wider than the page
    used to cut off its last columns)."""
    out = _pdftotext(built_pdf, "-bbox")
    pages = re.split(r"<page ", out)[1:]
    assert pages
    off = []
    for number, page in enumerate(pages, start=1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        for x_max, word in re.findall(r'xMax="([\d.]+)"[^>]*>([^<]*)</word>', page):
            if float(x_max) > width - 15 * 72 / 25.4:  # at least 15 mm from the edge
                off.append((number, word))
    assert off == []


def test_numbers_keep_their_unit(pdf_text: str) -> None:
    assert re.search(r"\d+,\d %", pdf_text), "the book has percentages"
    assert not re.search(r"^\s*%", pdf_text, flags=re.M)


def test_figure_captions_and_cross_references(built_site: Path, pdf_text: str,
                                              book_config: dict) -> None:
    captions, numbers = [], []
    for chapter in book_config["chapters"]:
        soup = _site_soup(built_site, chapter)
        for cap in soup.select("main article figcaption"):
            captions.append(cap.select_one(".caption-text").get_text(" ", strip=True))
            numbers.append(cap.select_one(".caption-number").get_text(strip=True))
    assert captions, "the book has figures"
    missing = [c for c in captions if not _contains(pdf_text, c)]
    assert missing == []
    for number in numbers:  # "figur 4.2" on the site, "Figur 4.2" as a caption in print
        assert re.search(rf"^Figur {re.escape(number.split()[-1])} ", pdf_text, flags=re.M), number
    assert not re.search(r"^figur \d", pdf_text, flags=re.M)
    assert re.search(r"figur \d+\.\d+, s\. \d+", pdf_text)


def test_every_html_table_has_a_print_equivalent(built_site: Path, pdf_text: str,
                                                 book_config: dict) -> None:
    headers = []
    for chapter in book_config["chapters"]:
        for table in _site_soup(built_site, chapter).select("main table"):
            if table.find_parent(class_=SCREEN_ONLY):
                continue  # the site's only (test_screen_only_blocks_are_left_out_of_the_pdf)
            headers += [th.get_text(" ", strip=True) for th in table.select("thead th")]
    headers = [h for h in headers if h]
    assert headers, "the book has tables"
    missing = sorted({h for h in headers
                      if not _contains(pdf_text, h) and not _in_order(pdf_text, h)})
    assert missing == []


def _in_order(text: str, needle: str, gap: int = 12) -> bool:
    """``needle``'s words in ``text`` in their order, each within ``gap`` words of the one
    before: a header cell broken over lines in a narrow column, which pdftotext reads row by
    row across the neighbouring cells (»2017: Ikke« … »ensomme«)."""
    words, wanted = text.split(), needle.split()
    for start, word in enumerate(words):
        if word != wanted[0]:
            continue
        at, ok = start, True
        for w in wanted[1:]:
            nxt = next((i for i in range(at + 1, min(len(words), at + 1 + gap))
                        if words[i] == w), None)
            if nxt is None:
                ok = False
                break
            at = nxt
        if ok:
            return True
    return False


def test_in_order_finds_a_header_read_across_cells() -> None:
    assert _in_order("2017: Ikke 2018: x y ensomme", "2017: Ikke ensomme")
    assert not _in_order("2017: Ikke ensomt", "2017: Ikke ensomme")
    assert not _in_order("ensomme 2017: Ikke", "2017: Ikke ensomme")


#: The classes of what the site shows and the PDF leaves out: a ``{container} screen-only``
#: block and a notebook cell tagged ``screen-only``.
SCREEN_ONLY = ["screen-only", "tag_screen-only"]


def test_screen_only_blocks_are_left_out_of_the_pdf(built_site: Path, pdf_text: str,
                                                    book_config: dict) -> None:
    """The field catalogue and the list of every download are the site's (the catalogue in a box
    of its own height there);
    the PDF leaves them out and says where they are, in a ``print-only`` block."""
    left_out, pointers = [], []
    for chapter in book_config["chapters"]:
        soup = _site_soup(built_site, chapter)
        for block in soup.select("main " + ", main ".join("." + c for c in SCREEN_ONLY)):
            caption = block.select_one("caption")
            text = " ".join((caption or block).get_text(" ").split())
            left_out.append(text[:60])
        pointers += [" ".join(p.get_text(" ").split()) for p in soup.select("main .print-only")]
    assert len(left_out) >= 3 and len(pointers) >= 2
    assert [t for t in left_out if _contains(pdf_text, t)] == []
    assert [t for t in pointers if not _contains(pdf_text, t)] == []
    fields = _site_soup(built_site, "book/appendix/saadan-er-bogen-lavet")
    table = fields.select_one(".tag_screen-only table")
    assert table is not None and table.find_parent(class_="tag_long-table") is not None


def test_bibliography_in_litteratur_in_danish_author_year(pages_text: list[str],
                                                           built_site: Path,
                                                           book_config: dict) -> None:
    from pybtex.database import parse_file

    repo = Path(__file__).resolve().parents[1]
    entries = parse_file(str(repo / "references.bib")).entries
    cited = []
    for chapter in book_config["chapters"]:
        cited += [c.get_text(" ", strip=True) for c in
                  _site_soup(built_site, chapter).select(".citation p")]
    assert cited, "the book has a bibliography"
    start = next(i for i, t in enumerate(pages_text) if t.lstrip().startswith("Litteratur"))
    chapter = pages_text[start]
    assert "[" not in chapter  # no labels like [VIVEDNFoAfVelfrdLejreKommune19]
    assert not re.search(r"^\(", chapter, flags=re.M)  # an entry starts with author or title
    heads = []
    for text in cited:
        entry = publish_bibliography.bib_record(text, list(entries.values()))
        assert entry is not None, text
        head = "".join(t for _, t in publish_bibliography.bibliography_entry(entry)).split(")")[0] + ")"
        assert _contains(chapter, head), head
        assert " and " not in head, head
        heads.append(head)
    where = [_flat(chapter, True).find(_flat(h, True)) for h in heads]
    assert sorted(where) == [_flat(chapter, True).find(_flat(h, True))
                             for h in sorted(heads, key=str.casefold)]  # alphabetical


def test_glossary(built_site: Path, pdf_text: str, book_config: dict) -> None:
    terms = []
    for chapter in book_config["chapters"]:
        terms += [dt.get_text(" ", strip=True).rstrip("#").strip()
                  for dt in _site_soup(built_site, chapter).select("dl.glossary dt")]
    assert terms
    missing = [t for t in terms if not _contains(pdf_text, t)]
    assert missing == []


# ----------------------------------------------------------------------------- renders
def test_sample_pages_render(built_pdf: Path, pages_text: list[str],
                             outline_titles: list[str]) -> None:
    """Title page, TOC, a chapter page with a figure and a table, an annex activity and the
    bibliography, rendered to ``_build/pdf/renders/*.png`` for a person to look at."""
    from PIL import Image

    def first(pred: Any) -> int:
        return next(i for i, t in enumerate(pages_text, start=1) if pred(t))

    samples = {
        "titelside": 1,
        "indhold": first(lambda t: t.lstrip().startswith("Indhold")),
        "kapitel-figur-tabel": first(lambda t: re.search(r"^Figur \d", t, re.M)
                                     and re.search(r"\d+,\d %", t)),
        "aktivitet": first(lambda t: re.search(r"^Aktivitet 1: ", t, re.M)
                           and "Beskrivelse" in t),
        "litteratur": first(lambda t: t.lstrip().startswith("Litteratur")),
    }
    out = built_pdf.parent / "renders"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.png"):  # renders of an earlier build
        old.unlink()
    for name, page in samples.items():
        target = out / f"{name}-s{page}"
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", str(page), "-l",
                        str(page), str(built_pdf), str(target)], check=True)
        image = Image.open(f"{target}.png").convert("L")
        dark = sum(image.histogram()[:128])
        assert dark > 500, f"{name} (page {page}) renders nearly empty"


def test_remembered_svg_paths_print_the_same_bytes(tmp_path: Path) -> None:
    """A figure SVG (glyph outlines, markers, hatched and translucent bars) printed by
    WeasyPrint with and without :func:`plusdig.publish.svgpaths.remembered_paths`: every
    stream of the two PDFs (pages, figures, patterns, groups) is the same bytes, the memory
    was used (most paths appended from it), and WeasyPrint is as installed afterwards."""
    import io

    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    import weasyprint
    import weasyprint.svg as svg_module

    from plusdig.publish.svgpaths import remembered_paths

    fig, (left, right) = plt.subplots(1, 2, figsize=(6, 3))
    left.bar(["Skoler", "Foreninger", "Frivillige"], [12, 7, 3], hatch="//", alpha=0.6,
             edgecolor="black")
    left.set_title("Aktører efter sektor (antal)")
    right.plot([2017, 2018, 2019], [4, 9, 13], marker="o", label="Aktiviteter i alt")
    right.legend()
    right.set_xlabel("År")
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    (tmp_path / "figur.svg").write_bytes(buf.getvalue())
    html = ('<html lang="da"><body><p>Figur</p><img src="figur.svg" alt="Figur">'
            '<img src="figur.svg" alt="Samme figur igen" style="width: 8cm"></body></html>')

    def streams(pdf_bytes: bytes) -> list[bytes]:
        with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
            return [obj.read_bytes() for obj in pdf.objects
                    if isinstance(obj, pikepdf.Stream) and obj.get("/Type") != "/Metadata"]

    def printed() -> bytes:
        return weasyprint.HTML(string=html, base_url=str(tmp_path)).write_pdf(
            pdf_identifier=None)

    installed = svg_module.TAGS["path"]
    plain = printed()
    with remembered_paths() as stats:
        remembered = printed()
    assert svg_module.TAGS["path"] is installed
    assert stats.drawn > 0 and stats.remembered > stats.drawn, stats
    assert streams(remembered) == streams(plain)
    assert len(streams(plain)) > 3
