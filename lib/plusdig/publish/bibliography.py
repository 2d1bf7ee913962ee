"""The print document's bibliography in Danish, from the book's BibTeX files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag

from plusdig.publish.citestyle import entry_runs, unbrace

__all__ = ["bib_record", "bibliography_entry"]


# ----------------------------------------------------------------------------- bibliography
#: One pybtex entry in Danish author–year form: the function the site's bibliography style
#: renders with (plusdig.publish.citestyle), so the PDF's entries are the site's.
bibliography_entry = entry_runs


def bib_record(text: str, entries: list[Any]) -> Any | None:
    """The BibTeX record a rendered bibliography entry ``text`` is for, matched by its title
    (rendered entries carry no key); ``None`` if no single record matches.

    The longest title found wins: "Collective Impact" is also in "Guide to Evaluating
    Collective Impact".
    """
    def title(e: Any) -> str:
        return unbrace(str(e.fields.get("title", ""))).lower().rstrip(".")

    match = [e for e in entries if title(e) and title(e) in text.lower()]
    longest = max((len(title(e)) for e in match), default=0)
    match = [e for e in match if len(title(e)) == longest]
    return match[0] if len(match) == 1 else None


def _load_bib(paths: list[Path]) -> list[Any]:
    from pybtex.database import parse_file

    entries = []
    for path in paths:
        try:
            entries.extend(parse_file(str(path), bib_format="bibtex").entries.values())
        except Exception as exc:  # pybtex raises several kinds
            raise ValueError(f"{path}: the bibliography cannot be read: {exc}") from exc
    return entries


def _danish_bibliography(soup: BeautifulSoup, article: Tag, bibfiles: list[Path]) -> None:
    """Replace the bibliography's English entries and labels by Danish author–year ones.

    An entry on the page is matched to its BibTeX record by its title (the page's entries
    carry no key); an entry no record matches is an error, not a silent omission.
    """
    entries = _load_bib(bibfiles)
    renamed = {}
    for cite in article.select("div.citation[id]"):
        renamed[cite["id"]] = cite["id"] = f"litteratur-{cite['id']}"
    for link in article.select(".bibtex-citation a[href]"):
        frag = link["href"].rsplit("#", 1)[-1]
        if frag not in renamed:
            raise ValueError(f"citation {link.get_text()!r} points at #{frag}, which is no "
                             "entry of the bibliography")
        link["href"] = f"#{renamed[frag]}"
    for cite in article.select("div.citation"):
        text = " ".join(cite.get_text(" ", strip=True).split())
        match = bib_record(text, entries)
        if match is None:
            raise ValueError(f"bibliography entry {text[:80]!r}: no single matching record "
                             f"in {', '.join(map(str, bibfiles))}; expected exactly one")
        para = soup.new_tag("p")
        for style, run in bibliography_entry(match):
            if style == "em":
                em = soup.new_tag("em")
                em.string = run
                para.append(em)
            elif style == "url":
                a = soup.new_tag("a", href=run)
                a.string = run
                para.append(a)
            else:
                para.append(run)
        cite.clear()
        cite.append(para)
    # in the order of the Danish entries (an entry without author sorts by its title)
    for holder in {id(c.parent): c.parent for c in article.select("div.citation")}.values():
        cites = holder.find_all("div", class_="citation", recursive=False)
        for cite in sorted(cites, key=lambda c: c.get_text(" ", strip=True).casefold()):
            holder.append(cite.extract())
    for link in article.select(".bibtex-citation a"):
        link.attrs.pop("title", None)
        for s in link.find_all(string=True):
            s.replace_with(str(s).replace(" and ", " og ").replace("et al.", "m.fl."))
