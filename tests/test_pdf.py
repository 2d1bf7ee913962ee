"""The PDF (``make pdf``, xelatex) is complete: its text, read back with ``pdftotext``.

What must be there is read from the book itself (the TOC, the built pages, the data), never
typed here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

#: Text that means an output was printed as its Python repr instead of being rendered.
REPR_LEAKS = ("VBox(", "Dropdown(", "ToggleButtons(", "<Figure size", "<pandas.io.formats",
              "Output()", "object at 0x")


def _pdftotext(pdf: Path, *args: str) -> str:
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext missing: apt-get install poppler-utils"
    done = subprocess.run([exe, "-enc", "UTF-8", *args, str(pdf), "-"], capture_output=True,
                          text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def pdf_text(built_pdf: Path) -> str:
    return _pdftotext(built_pdf)


def _flat(text: str, hyphens: bool) -> str:
    text = re.sub(r"\s+", "", text.replace("\u00ad", ""))
    return text if hyphens else text.replace("-", "")


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` is in ``haystack`` up to line breaks and hyphens (pdftotext joins words
    hyphenated at a line end, and drops the hyphen even where it was a real one)."""
    return _flat(needle, True) in _flat(haystack, True) or (
        _flat(needle, False) in _flat(haystack, False)
    )


def test_contains_helper_tolerates_line_breaks_and_hyphenation() -> None:
    text = "Aktiviteterne i\noverblik og Aktivitets-\nkataloget med 95 %konfidensinterval"
    assert _contains(text, "Aktiviteterne i overblik")
    assert _contains(text, "Aktivitetskataloget")
    assert _contains(text, "95 %-konfidensinterval")
    assert not _contains(text, "Ungebussen")


def test_pdf_is_a4_with_title_page(built_pdf: Path, book_config: dict[str, Any]) -> None:
    info = subprocess.run(["pdfinfo", str(built_pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    first = _pdftotext(built_pdf, "-f", "1", "-l", "1")
    assert _contains(first, book_config["title"])
    assert _contains(first, book_config["subtitle"])
    assert re.search(r"Udgave: \d{1,2}\. [a-zæøå]+ \d{4}", first)


def test_pdf_has_table_of_contents_and_parts(pdf_text: str, book_config: dict) -> None:
    assert "Indhold" in pdf_text
    for part in book_config["parts"]:
        assert _contains(pdf_text, part["caption"]), part["caption"]


def test_every_chapter_title_is_in_the_pdf(pdf_text: str, chapter_titles: dict[str, str]) -> None:
    assert len(chapter_titles) >= 3
    missing = [t for t in chapter_titles.values() if not _contains(pdf_text, t)]
    assert missing == []


def test_numbered_chapters_are_numbered(pdf_text: str, book_config: dict,
                                        chapter_titles: dict[str, str]) -> None:
    numbered = [c for p in book_config["parts"] if p["numbered"] for c in p["chapters"]]
    assert numbered
    for i, chapter in enumerate(numbered, start=1):
        assert re.search(rf"KAPITEL\s+{i}\b", pdf_text, flags=re.IGNORECASE), chapter


def test_every_activity_title_is_in_the_pdf(pdf_text: str) -> None:
    import plusdig

    titles = [a.title for a in plusdig.load_activities()]
    assert len(titles) >= 13
    missing = [t for t in titles if not _contains(pdf_text, t)]
    assert missing == []


def test_no_python_repr_in_the_pdf(pdf_text: str) -> None:
    leaks = {s: pdf_text.count(s) for s in REPR_LEAKS if s in pdf_text}
    assert leaks == {}


def test_danish_letters_and_hyphenation(built_pdf: Path, pdf_text: str) -> None:
    for letter in "æøå":
        assert letter in pdf_text
    log = built_pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log  # every glyph is in the font
    assert "gloss-danish" in log  # polyglossia's Danish module ...
    assert not re.search(r"No hyphenation patterns.*danish", log, flags=re.IGNORECASE | re.S)
    tex = built_pdf.with_suffix(".tex").read_text(encoding="utf-8")
    assert r"\setmainlanguage{danish}" in tex


def test_every_figure_caption_is_in_the_pdf(built_site: Path, pdf_text: str,
                                            book_config: dict) -> None:
    from bs4 import BeautifulSoup

    captions = []
    for chapter in book_config["chapters"]:
        soup = BeautifulSoup((built_site / f"{chapter}.html").read_text(encoding="utf-8"),
                             "html.parser")
        captions += [c.get_text(" ", strip=True) for c in soup.select("figcaption .caption-text")]
    assert captions, "the book has figures"
    missing = [c for c in captions if not _contains(pdf_text, c)]
    assert missing == []
    assert len(re.findall(r"\bfigur \d+(?:\.\d+)*:", pdf_text)) >= len(captions)


def test_every_html_table_has_a_print_equivalent(built_site: Path, pdf_text: str,
                                                 book_config: dict) -> None:
    """Header cells of every table on the chapter pages are in the PDF."""
    from bs4 import BeautifulSoup

    headers = []
    for chapter in book_config["chapters"]:
        soup = BeautifulSoup((built_site / f"{chapter}.html").read_text(encoding="utf-8"),
                             "html.parser")
        for table in soup.select("main table"):
            headers += [th.get_text(" ", strip=True) for th in table.select("thead th")]
    headers = [h for h in headers if h]
    assert headers, "the book has tables"
    missing = sorted({h for h in headers if not _contains(pdf_text, h)})
    assert missing == []


def test_bibliography_and_glossary(built_site: Path, pdf_text: str, book_config: dict) -> None:
    from bs4 import BeautifulSoup

    cited, terms = [], []
    for chapter in book_config["chapters"]:
        soup = BeautifulSoup((built_site / f"{chapter}.html").read_text(encoding="utf-8"),
                             "html.parser")
        cited += [c.get_text(" ", strip=True) for c in soup.select(".citation p")]
        terms += [dt.get_text(" ", strip=True).rstrip("#").strip()
                  for dt in soup.select("dl.glossary dt")]
    assert cited, "the book has a bibliography"
    for entry in cited:
        # the entry's first words (authors) are in the PDF's bibliography
        assert _contains(pdf_text, " ".join(entry.split()[:3])), entry
    has_glossary = any(
        "{glossary}" in (Path(__file__).resolve().parents[1] / f"{c}.md").read_text(
            encoding="utf-8")
        for c in book_config["chapters"]
        if (Path(__file__).resolve().parents[1] / f"{c}.md").is_file()
    )
    if has_glossary:
        assert terms
    missing = [t for t in terms if not _contains(pdf_text, t)]
    assert missing == []
