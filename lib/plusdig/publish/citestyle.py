"""Danish author–year citations and bibliography, for the site and the PDF alike.

One mechanism for both: sphinxcontrib-bibtex renders every citation and the bibliography with
the styles here (plugins declared as entry points in ``pyproject.toml``, and registered again by
:func:`register`, which the Sphinx extension ``plusdig.sphinx.reader`` calls), so the HTML and the
singlehtml build the PDF is printed from carry the same Danish text.

- Citations: "[Kania og Kramer, 2011]", "[Preskill m.fl., 2014]", "[SUS, u.å.]"
  (``bibtex_reference_style: plusdig_author_year``).
- Bibliography entries (``bibtex_default_style: plusdig``), APA-like in Danish: "Kania, J. og
  Kramer, M. (2011). Collective Impact. *Stanford Social Innovation Review*, 9(1), 36–41.";
  no year gives "(u.å.)"; a report says "Teknisk rapport"; with no author the title takes the
  author's place ("*Hvordan har børn og unge i Lejre det?* (2017–2019). …"); a URL is
  "Tilgængelig på …". Sorted by author (or title) and year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pybtex.richtext import HRef, Tag, Text
from pybtex.style.formatting import BaseStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle
from pybtex.style.template import field as bib_field
from pybtex.style.template import first_of, join, node, optional
from sphinxcontrib.bibtex.style.referencing import (
    BracketStyle,
    GroupReferenceStyle,
    PersonStyle,
)
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.referencing.extra_author import ExtraAuthorReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_empty import ExtraEmptyReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_label import ExtraLabelReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle
from sphinxcontrib.bibtex.style.template import join2, post_text, pre_text, reference

__all__ = ["NO_YEAR", "entry_runs", "unbrace", "register", "STYLE", "REFERENCE_STYLE",
           "DanishStyle",
           "DanishLabels", "DanishSorting", "DanishAuthorYear"]

#: Year of an entry without one ("uden år").
NO_YEAR = "u.å."
#: Names the styles are registered under (``_config.yml``).
STYLE = "plusdig"
REFERENCE_STYLE = "plusdig_author_year"

_TYPE_LABELS = {"techreport": "Teknisk rapport"}


def unbrace(text: str) -> str:
    """A BibTeX field as text: no protecting braces, ``--`` as an en dash."""
    return text.replace("{", "").replace("}", "").replace("--", "–")


def _names(persons: list[Any]) -> str:
    """"Kania, J. og Kramer, M."; a body ("{VIVE – …}") has no first names."""
    names = []
    for p in persons:
        last = " ".join(p.prelast_names + p.last_names)
        first = " ".join(p.first_names + p.middle_names)
        if not first:
            names.append(unbrace(last))
            continue
        initials = " ".join(f"{n[0]}." for n in first.split())
        names.append(f"{unbrace(last)}, {initials}")
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " og " + names[-1]


def entry_runs(entry: Any) -> list[tuple[str, str]]:
    """One pybtex entry in Danish author–year form, as ``(style, text)`` runs.

    ``style`` is ``""`` (plain), ``"em"`` (the title of a book, report or journal) or
    ``"url"``; :class:`DanishStyle` turns the runs into rich text.
    """
    f = {k.lower(): unbrace(str(v)) for k, v in entry.fields.items()}
    author = _names(entry.persons.get("author", []))
    year = f.get("year") or NO_YEAR
    title = f.get("title", "").rstrip(".")
    if not author:
        runs: list[tuple[str, str]] = [("em", title), ("", f" ({year}).")]
        title = ""
    else:
        runs = [("", f"{author} ({year}). ")]
    if entry.type == "article" and title:
        runs.append(("", f"{title}. "))
        journal = f.get("journal", "")
        vol = f.get("volume", "") + (f"({f['number']})" if "number" in f else "")
        runs.append(("em", journal))
        rest = ", ".join(x for x in (vol, f.get("pages", "")) if x)
        runs.append(("", f", {rest}." if rest else "."))
    else:
        if title:
            runs.append(("em", title))
            runs.append(("", "."))
        publisher = f.get("institution") or f.get("publisher") or ""
        kind = _TYPE_LABELS.get(entry.type, "")
        tail = ", ".join(x for x in (kind, publisher) if x)
        if tail:
            runs.append(("", f" {tail}."))
    if f.get("note"):
        runs.append(("", f" {f['note'].rstrip('.')}."))
    if f.get("url"):
        runs.append(("", " Tilgængelig på "))
        runs.append(("url", f["url"]))
        runs.append(("", "."))
    return runs


def _sort_key(entry: Any) -> tuple[str, str]:
    f = {k.lower(): unbrace(str(v)) for k, v in entry.fields.items()}
    who = _names(entry.persons.get("author", [])) or f.get("title", "")
    return (who.casefold(), f.get("year", ""))


def _short_authors(entry: Any) -> str:
    """The citation's author part: "Kania og Kramer", "Preskill m.fl.", or the title."""
    persons = entry.persons.get("author", [])
    lasts = [unbrace(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if not lasts:
        return unbrace(str(entry.fields.get("title", "")))
    if len(lasts) >= 3:
        return f"{lasts[0]} m.fl."
    return " og ".join(lasts)


class DanishStyle(BaseStyle):  # type: ignore[misc]
    """Danish APA-like bibliography entries (:func:`entry_runs`)."""

    default_label_style = STYLE
    default_sorting_style = STYLE

    def format_entry(self, label: str, entry: Any, bib_data: Any = None) -> Any:
        from pybtex.style import FormattedEntry

        parts: list[Any] = []
        for style, run in entry_runs(entry):
            if style == "em":
                parts.append(Tag("em", run))
            elif style == "url":
                parts.append(HRef(run, run))
            else:
                parts.append(run)
        return FormattedEntry(entry.key, Text(*parts), label)

class DanishLabels(BaseLabelStyle):  # type: ignore[misc]
    """Labels "Kania og Kramer, 2011" (the bibliography's own labels; not shown)."""

    def format_labels(self, sorted_entries: Any) -> Any:
        for entry in sorted_entries:
            year = unbrace(str(entry.fields.get("year", ""))) or NO_YEAR
            yield f"{_short_authors(entry)}, {year}"

class DanishSorting(BaseSortingStyle):  # type: ignore[misc]
    def sorting_key(self, entry: Any) -> tuple[str, str]:
        return _sort_key(entry)

@node
def year(children: Any, data: Any) -> Any:
    assert not children
    return first_of[optional[bib_field("year")], NO_YEAR].format_data(data)

def danish_person() -> Any:
    return PersonStyle(sep2=" og ", last_sep=" og ", other=" m.fl.")

@dataclass
class Parenthetical(BasicAuthorYearParentheticalReferenceStyle):  # type: ignore[misc]
    def inner(self, role_name: str) -> Any:
        who = self.person.author_or_editor_or_title(full="s" in role_name)
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text, reference[join(sep=self.author_year_sep)[who, year]], post_text]

@dataclass
class Textual(BasicAuthorYearTextualReferenceStyle):  # type: ignore[misc]
    def inner(self, role_name: str) -> Any:
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[self.bracket.left,
                 join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
                     pre_text, reference[year], post_text],
                 self.bracket.right],
        ]

@dataclass
class Year(ExtraYearReferenceStyle):  # type: ignore[misc]
    def inner(self, role_name: str) -> Any:
        return reference[year]

@dataclass
class DanishAuthorYear(GroupReferenceStyle):  # type: ignore[misc]
    """sphinxcontrib-bibtex's author_year style with "og", "m.fl." and "u.å."."""

    bracket: BracketStyle = field(default_factory=BracketStyle)
    person: PersonStyle = field(default_factory=danish_person)

    def __post_init__(self) -> None:
        self.styles.extend([
            Parenthetical(bracket=self.bracket, person=self.person),
            Textual(bracket=self.bracket, person=self.person),
            ExtraAuthorReferenceStyle(bracket=self.bracket, person=self.person),
            ExtraLabelReferenceStyle(bracket=self.bracket),
            Year(bracket=self.bracket),
            ExtraEmptyReferenceStyle(),
        ])
        super().__post_init__()


def register() -> None:
    """Register the styles with pybtex and sphinxcontrib-bibtex at run time (idempotent).

    The installed package also declares them as entry points (``pyproject.toml``), so a build
    finds them without this; registering again makes a stale editable install harmless."""
    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin

    pybtex.plugin.register_plugin("pybtex.style.formatting", STYLE, DanishStyle, force=True)
    pybtex.plugin.register_plugin("pybtex.style.labels", STYLE, DanishLabels, force=True)
    pybtex.plugin.register_plugin("pybtex.style.sorting", STYLE, DanishSorting, force=True)
    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", REFERENCE_STYLE, DanishAuthorYear, force=True)
