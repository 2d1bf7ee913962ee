"""The book's publication metadata: one record for the front page, footer, colophon and PDF.

The metadata lives in ``_config.yml`` (``title`` and the ``publication`` block).
A value in square brackets ("[Evaluatorernes navne]") is a placeholder, shown as it stands
until someone who knows the real value fills it in; nothing here is guessed.

The publication date is the one date the book shows anywhere. Once an edition is released
(``make release``, :mod:`plusdig.editions`) the edition is "Udgave 2027.1" and the date its
release date; before that, ``publication.edition`` and ``publication.date`` (ISO,
``2026-11-26``) when set, else the build's date (``$SOURCE_DATE_EPOCH``, else the date of the
last git commit, else today), so that two builds of the same commit show the same date.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plusdig.core.errors import DataValidationError
from plusdig.core.fmt import danish_date
from plusdig.core.paths import REPO_ROOT

__all__ = ["Publication", "load_publication", "build_date", "is_placeholder"]

_PLACEHOLDER = re.compile(r"^\[[^\[\]]+\]$")
_REQUIRED = ("subtitle", "authors", "publisher", "edition", "licence")


def is_placeholder(value: str) -> bool:
    """True for a value that is a marked placeholder: ``"[Udgiver]"``."""
    return bool(_PLACEHOLDER.match(value.strip()))


def build_date(repo: Path | None = None) -> dt.date:
    """``$SOURCE_DATE_EPOCH``, else the last git commit's date, else today (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=repo or REPO_ROOT,
                             capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        if out:
            return dt.datetime.fromtimestamp(int(out), tz=dt.UTC).date()
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    return dt.datetime.now(tz=dt.UTC).date()


def _released_edition(root: Path) -> tuple[str, dt.date, bool] | None:
    """The newest released edition (``editions/udgaver.yml``, :mod:`plusdig.editions`): its
    name, its date and whether the book is unchanged since; ``None`` before the first."""
    from plusdig.publish.editions import state

    st = state(root, snapshots=False)
    if st.current is None:
        return None
    return st.current.name, st.current.date, st.released


def _isbn_ok(isbn: str) -> bool:
    digits = isbn.replace("-", "").replace(" ", "")
    if len(digits) == 13 and digits.isdigit():
        return sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10 == 0
    if len(digits) == 10 and digits[:9].isdigit() and (digits[9].isdigit() or digits[9] in "Xx"):
        total = sum((10 - i) * (10 if d in "Xx" else int(d)) for i, d in enumerate(digits))
        return total % 11 == 0
    return False


@dataclass(frozen=True)
class Publication:
    """What a library catalogue needs to know about the book."""

    title: str
    subtitle: str
    authors: tuple[str, ...]
    publisher: str
    contact: str
    edition: str
    date: dt.date
    isbn: str
    licence: str

    @property
    def date_text(self) -> str:
        """The publication date the Danish way: "26. november 2026"."""
        return danish_date(self.date)

    @property
    def authors_text(self) -> str:
        """"A", "A og B", "A, B og C"."""
        names = list(self.authors)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]

    @property
    def citation(self) -> str:
        """How to cite the book, on one Danish line."""
        return (f"{self.authors_text} ({self.date.year}). {self.title}. {self.subtitle}. "
                f"{self.edition}. {self.publisher}.")

    @property
    def placeholders(self) -> list[str]:
        """The fields that still hold a placeholder ("[…]")."""
        values: dict[str, str] = {
            "subtitle": self.subtitle, "publisher": self.publisher, "contact": self.contact,
            "edition": self.edition, "licence": self.licence,
            **{f"authors[{i}]": a for i, a in enumerate(self.authors)},
        }
        return [k for k, v in values.items() if is_placeholder(v)]


def load_publication(repo: Path | None = None, *, config: dict[str, Any] | None = None
                     ) -> Publication:
    """The publication record from ``<repo>/_config.yml`` (or an already parsed ``config``).

    A missing or empty field, an author list that is not a list of names, an ISBN with a wrong
    check digit or a date that is not ISO raise :class:`DataValidationError` naming the field.
    """
    import yaml

    root = repo or REPO_ROOT
    path = root / "_config.yml"
    if config is None:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    block = config.get("publication")
    if not isinstance(block, dict):
        raise DataValidationError(path, "the publication block is missing", field="publication",
                                  expected="a mapping with subtitle, authors, publisher, "
                                           "edition, licence (date, isbn, contact optional)")

    def text(key: str, *, required: bool = True) -> str:
        value = block.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str | int):
            raise DataValidationError(path, f"{type(value).__name__} is not text",
                                      field=f"publication.{key}", expected="a string")
        value = str(value).strip()
        if required and not value:
            raise DataValidationError(path, "is empty", field=f"publication.{key}",
                                      expected="a value, or a placeholder in square brackets "
                                               "such as \"[Udgiver]\"")
        return value

    for key in _REQUIRED:
        if key != "authors":
            text(key)
    authors = block.get("authors")
    if (not isinstance(authors, list) or not authors
            or not all(isinstance(a, str) and a.strip() for a in authors)):
        raise DataValidationError(path, f"{authors!r} is not a list of names",
                                  field="publication.authors",
                                  expected="a list of names, e.g. [\"[Evaluatorernes navne]\"]")
    title = str(config.get("title") or "").strip()
    if not title:
        raise DataValidationError(path, "is empty", field="title", expected="the book's title")
    isbn = text("isbn", required=False)
    if isbn and not _isbn_ok(isbn):
        raise DataValidationError(path, f"{isbn!r} is not a valid ISBN", field="publication.isbn",
                                  expected="an ISBN-13 (or ISBN-10) with its check digit, or empty")
    raw_date = block.get("date") or ""
    if isinstance(raw_date, dt.date):
        date = raw_date
    elif str(raw_date).strip():
        try:
            date = dt.date.fromisoformat(str(raw_date).strip())
        except ValueError:
            raise DataValidationError(path, f"{raw_date!r} is not a date", field="publication.date",
                                      expected="an ISO date such as 2026-11-26, or empty for "
                                               "the build's date") from None
    else:
        date = build_date(root)
    edition = text("edition")
    released = _released_edition(root)
    if released is not None:  # a released edition (make release) is the edition and its date
        name, day, unchanged = released
        edition, date = (f"Udgave {name}", day) if unchanged else (
            f"Ændret efter udgave {name} (ikke udgivet)", build_date(root))
    return Publication(
        title=title, subtitle=text("subtitle"), authors=tuple(a.strip() for a in authors),
        publisher=text("publisher"), contact=text("contact", required=False),
        edition=edition, date=date, isbn=isbn, licence=text("licence"),
    )
