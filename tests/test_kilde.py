"""The ``{kilde}`` role: every source quote in the book is in the annex and links to its passage.

Every ``{kilde}`quote``` in the book's own pages (the front page, the report chapters, the annex
introduction) must occur, whitespace-normalised, in the source text itself, and must resolve to
one section of a page in Part II: the section exists in the rendered annex page. The book build
(``-n -W``) turns a quote that does not resolve into an error as well.
"""

from __future__ import annotations

import nbformat
import pytest
from test_fidelity import occurs, raw_source

from plusdig.sphinx import annex_context
from plusdig.sphinx import annex_pages
from plusdig import DataValidationError
from plusdig.sphinx import kilde
from plusdig.core.paths import REPO_ROOT

BOOK = REPO_ROOT / "book"


def _pages() -> dict[str, str]:
    """The MyST text of every hand-written page: markdown files and notebook markdown cells."""
    out: dict[str, str] = {}
    for path in sorted(BOOK.rglob("*.md")):
        if "generated" not in path.parts and "_build" not in path.parts:
            out[str(path.relative_to(REPO_ROOT))] = path.read_text(encoding="utf-8")
    for path in sorted(BOOK.rglob("*.ipynb")):
        if "_build" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        nb = nbformat.read(path, as_version=4)
        out[str(path.relative_to(REPO_ROOT))] = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return out


def _uses() -> list[tuple[str, str]]:
    return [(page, m.group(1)) for page, text in _pages().items() for m in kilde.ROLE_PATTERN.finditer(text)]


def test_the_book_quotes_its_source() -> None:
    pages = {page for page, _ in _uses()}
    assert "book/index.md" in pages
    assert {f"book/report/{n}.ipynb" for n in ("forord", "collective-impact", "foerste-aar",
                                              "aktiviteterne")} <= pages


@pytest.mark.parametrize(("page", "text"), _uses())
def test_every_quote_is_in_the_source_and_links_to_its_passage(page: str, text: str) -> None:
    quote, unit = kilde.parse_target(text)
    assert occurs(quote, raw_source()), f"{page}: {quote!r} is not in the source text"
    passage = kilde.locate(quote, unit)
    rendered = _rendered()[passage.docname.rsplit("/", 1)[-1]]
    heading = f"## {passage.section}\n" if passage.section else "\n# "
    assert heading in rendered or passage.docname == kilde.FOREWORD_DOC, (page, quote, passage.docname)


_CACHE: dict[str, dict[str, str]] = {}


def _rendered() -> dict[str, str]:
    """Page stem → rendered MyST of the generated annex pages (the foreword is on the index)."""
    if not _CACHE:
        pages = annex_pages.render_pages()
        _CACHE["pages"] = {name.rsplit(".", 1)[0]: text for name, text in pages.items()}
        _CACHE["pages"]["index"] = pages[annex_context.FOREWORD_FILE]
    return _CACHE["pages"]


def test_foreword_sections_are_on_the_annex_index() -> None:
    foreword = _rendered()["index"]
    assert "## Forord\n" in foreword and "## Læsevejledning\n" in foreword
    assert "```{include} generated/forord.inc" in (BOOK / "annex" / "index.md").read_text(encoding="utf-8")


def test_an_invented_quote_is_refused() -> None:
    with pytest.raises(DataValidationError, match="not in the annex"):
        kilde.locate("Alliancen bestod af kommune, civilsamfund og erhvervsliv")


def test_an_ambiguous_quote_needs_its_unit() -> None:
    with pytest.raises(DataValidationError, match="several units"):
        kilde.locate("+DIG-sekretariatet")
    assert kilde.locate("+DIG-sekretariatet", "9").section == "Beskrivelse"
    with pytest.raises(DataValidationError, match="unknown unit"):
        kilde.locate("+DIG-sekretariatet", "99")


def test_quotes_are_whitespace_normalised_and_located_to_their_section() -> None:
    p = kilde.locate("Alliancen blev nedsat\n som   tværsektoriel styregruppe")
    assert (p.unit, p.section) == ("det-foerste-aar", "Etablering af alliancen")
    assert kilde.locate("Der er i efteråret 2019 et korps").section == "Hvem er med?"
    assert kilde.parse_target("Læsehestene <9>") == ("Læsehestene", "9")


def test_front_page_says_what_the_annex_says_of_the_alliance() -> None:
    """Issue 12: the alliance is "tværsektoriel styregruppe med flere repræsentanter for kommune og
    civilsamfund"; business is named only among those whose participation was sought."""
    import re

    text = (BOOK / "index.md").read_text(encoding="utf-8")
    flat = " ".join(text.split())
    quotes = [kilde.parse_target(m.group(1))[0] for m in kilde.ROLE_PATTERN.finditer(text)]
    assert any(q.startswith("Alliancen blev nedsat som tværsektoriel styregruppe med flere "
                            "repræsentanter for kommune og civilsamfund") for q in quotes), quotes
    prose = kilde.ROLE_PATTERN.sub(" ", flat)
    for sentence in re.split(r"(?<=[.:;])\s+", prose):
        if re.search(r"allian", sentence, re.I) and re.search(r"erhvervsliv", sentence, re.I):
            assert re.search(r"ikke", sentence), f"the front page puts business in the alliance: {sentence!r}"
