"""Editions of the book: number snapshots, what changed since the last edition, releases.

An *edition* (``2027.1``: year and number) is a released state of the book. Releasing one
(``make release EDITION=2027.1``, :func:`release`) records it in ``editions/udgaver.yml``,
builds the book, tags the commit it built (``udgave-2027.1``), stores the edition's
*number snapshot* as ``editions/2027.1.json`` and keeps its built site in ``udgaver/2027.1/``
(outside git; served as ``/udgaver/2027.1/`` by every later build).

A snapshot holds what a reader sees, taken from the *built pages* (never from ``data/``, so
survey numbers are the published, suppressed ones): every glued value (``{glue:text}``, with
its glue name), every table cell (by table, row and column) and every figure, each with its
chapter (docname) and anchor (the id of the nearest section, figure or table). One function,
:func:`page_numbers`, reads a page; the figures' data come from :func:`figure_data`, the one
place to switch to the data downloads once the book has them (until then a figure is known
by its image's digest, so a changed figure is listed without its series).

:func:`compare` lists the changes between two snapshots; :func:`text_changes` the sections
whose prose changed between the previous edition's tag and the working tree (git). The
Sphinx side (``plusdig.sphinx.editions``) writes them into the built pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from plusdig.core import fmt
from plusdig.core.paths import REPO_ROOT

__all__ = ["EditionError", "Change", "Edition", "State", "parse_edition", "load_index",
           "page_numbers", "site_snapshot", "singlehtml_snapshot", "compare", "text_changes",
           "state", "current_edition", "edition_label", "release", "restore", "main", "ERRATA_DOC",
           "EDITIONS_DIR", "ARCHIVE_DIR"]

#: Folder (in git) with the index of editions and their number snapshots.
EDITIONS_DIR = "editions"
INDEX_FILE = "udgaver.yml"
#: Folder (not in git) with each released edition's built site.
ARCHIVE_DIR = "udgaver"
TAG_PREFIX = "udgave-"
#: The page "Ændringer siden forrige udgave".
ERRATA_DOC = "book/appendix/aendringer"
#: Pages whose contents are no numbers of the book (the errata page lists other pages'
#: numbers; the colophon shows the build, not the evaluation).
SKIP_DOCS = frozenset({ERRATA_DOC, "book/kolofon", "genindex", "search", "py-modindex"})
#: Class of the notice on a changed page (left out when a page is read).
NOTICE_CLASS = "plusdig-rettet"
#: Class carried by every glued text value, with ``plusdig-glue-<name>`` beside it.
GLUE_CLASS = "plusdig-glue"
SNAPSHOT_FORMAT = 1

_EDITION = re.compile(r"^(\d{4})\.([1-9]\d*)$")


class EditionError(Exception):
    """A release or an edition file that cannot be accepted (the message is Danish)."""


def parse_edition(text: str) -> tuple[int, int]:
    """``"2027.1"`` -> ``(2027, 1)``; anything else is an :class:`EditionError`."""
    m = _EDITION.match(str(text).strip())
    if not m:
        raise EditionError(f"Udgaven skal skrives som år.nummer, fx 2027.1 (fik {text!r}).")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class Edition:
    """One released edition: its name (``2027.1``) and its date."""

    name: str
    date: dt.date


def _index_path(root: Path) -> Path:
    return root / EDITIONS_DIR / INDEX_FILE


def load_index(root: Path = REPO_ROOT) -> list[Edition]:
    """The released editions, oldest first, from ``editions/udgaver.yml`` (none if missing)."""
    path = _index_path(root)
    if not path.is_file():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise EditionError(f"{path}: skal være en liste af udgaver (udgave, dato).")
    out: list[Edition] = []
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or set(entry) != {"udgave", "dato"}:
            raise EditionError(f"{path}, udgave nr. {i}: skal have netop felterne "
                               "'udgave' og 'dato'.")
        name = str(entry["udgave"])
        parse_edition(name)
        date = entry["dato"]
        if not isinstance(date, dt.date):
            raise EditionError(f"{path}, udgave {name}, felt 'dato': skal være en dato "
                               f"(ÅÅÅÅ-MM-DD), fik {date!r}.")
        if out and parse_edition(name) <= parse_edition(out[-1].name):
            raise EditionError(f"{path}, udgave {name}: skal komme efter {out[-1].name}.")
        out.append(Edition(name, date))
    return out


def _save_index(root: Path, editions: list[Edition]) -> None:
    path = _index_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump([{"udgave": e.name, "dato": e.date} for e in editions],
                          allow_unicode=True, sort_keys=False)
    path.write_text("# Bogens udgivne udgaver, ældste først. Skrives af `make release`; "
                    "ret den ikke i hånden.\n" + body, encoding="utf-8")


def snapshot_path(root: Path, edition: str) -> Path:
    return root / EDITIONS_DIR / f"{edition}.json"


def load_snapshot(root: Path, edition: str) -> dict[str, Any]:
    path = snapshot_path(root, edition)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EditionError(f"{path} mangler: udgave {edition} har ingen talsnapshot.") from None


# --------------------------------------------------------------------------- reading pages
def _text(tag: Any) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


def _title(heading: Any) -> str:
    """A heading's text without its permalink sign."""
    from copy import copy

    h = copy(heading)
    for a in h.select("a.headerlink"):
        a.decompose()
    return _text(h)


def _anchor(tag: Any) -> str:
    """The id of ``tag`` or of its nearest ancestor that is a section, figure or table."""
    while tag is not None and getattr(tag, "name", None):
        if _stable_id(tag) and tag.name in ("section", "figure", "table", "div"):
            return str(tag["id"])
        tag = tag.parent
    return ""


#: pandas' Styler gives a table a random id unless the book sets one: no identity.
_RANDOM_ID = re.compile(r"^T_[0-9a-f]{5,}$")


def _stable_id(tag: Any) -> str:
    ident = str(tag.get("id") or "")
    return "" if _RANDOM_ID.match(ident) else ident


def _rows(rows: Iterable[list[str]]) -> list[dict[str, Any]]:
    """Rows with their names: the cells of words (a value such as "ca. 600" is no name),
    numbered when two rows have the same."""
    out: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    for cells in rows:
        if not any(cells):
            continue
        words = [c for c in cells if re.search(r"[^\W\d_]", c) and not re.search(r"\d", c)]
        key = " | ".join(words) or cells[0]
        seen[key] += 1
        out.append({"key": key if seen[key] == 1 else f"{key} ({seen[key]})", "cells": cells})
    return out


def _table(table: Any, n: int) -> dict[str, Any]:
    caption = table.find("caption")
    head = table.find("thead")
    columns = [_text(c) for c in head.find_all("tr")[-1].find_all(["th", "td"])] if head \
        else []
    rows = _rows([_text(c) for c in tr.find_all(["th", "td"], recursive=False)]
                 for tr in table.find_all("tr")
                 if tr.find_parent("thead") is None and tr.find_parent("table") is table)
    label = _text(caption) if caption else ""
    own = _stable_id(table)
    anchor = own or _anchor(table.parent)
    return {"key": own or label or f"{anchor}:{n}", "anchor": anchor,
            "label": label, "columns": columns, "rows": rows, "section": _anchor(table.parent)}


def _download_rows(path: Path) -> dict[str, Any]:
    """A figure's data download (CSV: ``# `` lines first, then a header row): columns and
    rows as text, as the download holds them."""
    import csv

    lines = [ln for ln in path.read_text(encoding="utf-8-sig").splitlines()
             if not ln.startswith("# ")]
    table = list(csv.reader(lines))
    return {"columns": table[0] if table else [], "rows": _rows(table[1:])}


def figure_data(figure: Any, image_root: Path | None,
                download: Path | None = None) -> dict[str, Any]:
    """What a snapshot keeps of a figure: its alt text, and its data (the series, from the
    figure's data download, issue 16) where the site has one, else its image's digest (a
    changed figure is then listed without its series)."""
    img = figure.find("img")
    out: dict[str, Any] = {"image": "", "alt": str(img.get("alt", "")) if img is not None
                           else ""}
    if download is not None and download.is_file():
        out["data"] = _download_rows(download)
    elif img is not None and image_root is not None and img.get("src"):
        path = image_root / str(img["src"]).split("#")[0]
        if path.is_file():
            out["image"] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return out


def figure_downloads(site: Path) -> dict[tuple[str, str], Path]:
    """(docname, figure id) -> the figure's CSV download, from ``downloads/index.json``
    (written by the downloads extension; none when the site has no downloads)."""
    index = site / "downloads" / "index.json"
    if not index.is_file():
        return {}
    out: dict[tuple[str, str], Path] = {}
    for entry in json.loads(index.read_text(encoding="utf-8")).get("downloads", []):
        csv_name = next((f for f in entry.get("files", []) if str(f).endswith(".csv")), None)
        if entry.get("kind") == "figur" and csv_name:
            out[(str(entry["docname"]), str(entry["anchor"]))] = site / "downloads" / csv_name
    return out


def page_numbers(article: Any, image_root: Path | None = None,
                 downloads: dict[str, Path] | None = None) -> dict[str, Any]:
    """The numbers of one page (a BeautifulSoup element holding its content): title,
    sections, glued values, tables and figures, each with its anchor. ``downloads``: the
    page's figures' data files by figure id."""
    for notice in article.select(f".{NOTICE_CLASS}"):
        notice.decompose()
    h1 = article.find("h1")
    sections = [{"id": str(s["id"]), "title": _title(h)}
                for s in article.find_all("section") if s.get("id")
                for h in [s.find(["h1", "h2", "h3", "h4"])] if h is not None]
    values: list[dict[str, str]] = []
    count: Counter[str] = Counter()
    for span in article.select(f"span.{GLUE_CLASS}"):
        name = next((c[len(GLUE_CLASS) + 1:] for c in span.get("class", [])
                     if c.startswith(GLUE_CLASS + "-")), "")
        count[name] += 1
        values.append({"key": f"{name}#{count[name]}" if count[name] > 1 else name,
                       "label": name, "anchor": _anchor(span), "value": _text(span)})
    tables = [_table(t, n) for n, t in enumerate(article.find_all("table"), start=1)]
    figures = []
    for n, fig in enumerate(article.find_all("figure"), start=1):
        cap = fig.find("figcaption")
        label = _title(cap) if cap else ""
        figures.append({"key": str(fig.get("id") or "") or label or f"figur-{n}",
                        "anchor": str(fig.get("id") or "") or _anchor(fig), "label": label,
                        **figure_data(fig, image_root, (downloads or {}).get(
                            str(fig.get("id") or "")))})
    return {"title": _title(h1) if h1 else "", "sections": sections, "values": values,
            "tables": tables, "figures": figures}


def _soup(path: Path) -> Any:
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def site_snapshot(site: Path, docnames: Iterable[str], edition: str = "") -> dict[str, Any]:
    """The snapshot of a built HTML site (``_build/html``): one entry per page."""
    chapters: dict[str, Any] = {}
    downloads = figure_downloads(site)
    for doc in docnames:
        path = site / f"{doc}.html"
        if doc in SKIP_DOCS or not path.is_file():
            continue
        article = _soup(path).select_one("main article")
        if article is not None:
            mine = {anchor: p for (d, anchor), p in downloads.items() if d == doc}
            chapters[doc] = page_numbers(article, path.parent, mine)
    return {"format": SNAPSHOT_FORMAT, "edition": edition, "chapters": chapters}


def singlehtml_documents(soup: Any) -> Iterator[tuple[str, list[Any]]]:
    """The documents of a ``singlehtml`` page: docname and the nodes after its marker
    (``<span id="document-DOCNAME">``) up to the next document's."""
    for span in soup.select('span[id^="document-"]'):
        content = []
        for sib in span.next_siblings:
            if getattr(sib, "name", None) == "span" and str(sib.get("id", "")).startswith(
                    "document-"):
                break
            content.append(sib)
        yield str(span["id"])[len("document-"):], content


def singlehtml_snapshot(index: Path, edition: str = "") -> dict[str, Any]:
    """The snapshot read from a ``singlehtml`` build's root page (the PDF's source)."""
    soup = _soup(index)
    chapters: dict[str, Any] = {}
    for doc, content in list(singlehtml_documents(soup)):
        if doc in SKIP_DOCS:
            continue
        holder = soup.new_tag("div")
        for node in content:
            holder.append(node.extract())
        chapters[doc] = page_numbers(holder, index.parent)
    return {"format": SNAPSHOT_FORMAT, "edition": edition, "chapters": chapters}


# --------------------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Change:
    """One difference between two editions, on one page.

    ``kind``: ``value`` (a glued value), ``cell``, ``row-added``, ``row-removed``,
    ``table-added``, ``table-removed``, ``figure`` (its image or alt text), ``series-cell``,
    ``series-added``, ``series-removed`` (a figure's data), ``figure-added``, ``figure-removed``,
    ``value-added``, ``value-removed``, ``text`` (a section's prose).
    """

    chapter: str
    anchor: str
    kind: str
    label: str
    old: str = ""
    new: str = ""
    where: str = ""  # row and column of a cell
    section: str = ""  # the section a table or figure with its own id stands in

    @property
    def is_number(self) -> bool:
        return self.kind != "text"


def _by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["key"]: i for i in items}


def _compare_table(doc: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    return _compare_rows(doc, new["anchor"], new["label"], old, new,
                         section=new.get("section", ""))


def _row_name(key: str) -> str:
    """A row's name as a reader is shown it: all its cells of words, or the first if long."""
    return key if len(key) <= 60 else key.split(" | ")[0]


def _compare_rows(doc: str, anchor: str, label: str, old: dict[str, Any], new: dict[str, Any],
                  *, series: bool = False, section: str = "") -> Iterator[Change]:
    """Cells that changed, rows added and removed (a figure's data: ``series-added`` ...).
    Rows are matched by their name; when as many rows lost their name as gained one (a
    corrected name), those pair up in order."""
    columns = new["columns"]
    cell, added, removed = ("series-cell", "series-added", "series-removed") if series else (
        "cell", "row-added", "row-removed")
    old_rows, new_rows = _by_key(old["rows"]), _by_key(new["rows"])
    only_new = [k for k in new_rows if k not in old_rows]
    only_old = [k for k in old_rows if k not in new_rows]
    pairs = [(k, k) for k in new_rows if k in old_rows]
    if len(only_new) == len(only_old):
        pairs += list(zip(only_old, only_new, strict=True))
        only_new = only_old = []
    for before_key, key in pairs:
        before, after = old_rows[before_key]["cells"], new_rows[key]["cells"]
        for i in range(max(len(before), len(after))):
            prev = before[i] if i < len(before) else ""
            value = after[i] if i < len(after) else ""
            if value != prev:
                col = columns[i] if i < len(columns) and columns[i] else f"kolonne {i + 1}"
                yield Change(doc, anchor, cell, label, prev, value,
                             f"{_row_name(key)} · {col}", section)
    for key in only_new:
        yield Change(doc, anchor, added, label, new=" | ".join(new_rows[key]["cells"]),
                     where=_row_name(key), section=section)
    for key in only_old:
        yield Change(doc, anchor, removed, label, old=" | ".join(old_rows[key]["cells"]),
                     where=_row_name(key), section=section)


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every number, table row and figure that differs between two snapshots, page by page
    in the new snapshot's order (pages only in the old one last)."""
    out: list[Change] = []
    old_ch, new_ch = old.get("chapters", {}), new.get("chapters", {})
    for doc in [*new_ch, *(d for d in old_ch if d not in new_ch)]:
        a = old_ch.get(doc, {"values": [], "tables": [], "figures": []})
        b = new_ch.get(doc, {"values": [], "tables": [], "figures": []})
        va, vb = _by_key(a["values"]), _by_key(b["values"])
        for key, v in vb.items():
            if key not in va:
                out.append(Change(doc, v["anchor"], "value-added", v["label"], new=v["value"]))
            elif va[key]["value"] != v["value"]:
                out.append(Change(doc, v["anchor"], "value", v["label"], va[key]["value"],
                                  v["value"]))
        out.extend(Change(doc, v["anchor"], "value-removed", v["label"], old=v["value"])
                   for key, v in va.items() if key not in vb)
        ta, tb = _by_key(a["tables"]), _by_key(b["tables"])
        for key, t in tb.items():
            if key in ta:
                out.extend(_compare_table(doc, ta[key], t))
            else:
                out.append(Change(doc, t["anchor"], "table-added", t["label"]))
        out.extend(Change(doc, t["anchor"], "table-removed", t["label"])
                   for key, t in ta.items() if key not in tb)
        fa, fb = _by_key(a["figures"]), _by_key(b["figures"])
        for key, f in fb.items():
            if key not in fa:
                out.append(Change(doc, f["anchor"], "figure-added", f["label"]))
            elif "data" in f and "data" in fa[key]:
                out.extend(_compare_rows(doc, f["anchor"], f["label"], fa[key]["data"],
                                         f["data"], series=True))
                if fa[key]["alt"] != f["alt"]:
                    out.append(Change(doc, f["anchor"], "figure", f["label"], fa[key]["alt"],
                                      f["alt"]))
            elif (fa[key]["image"], fa[key]["alt"], "data" in fa[key]) != (
                    f["image"], f["alt"], "data" in f):
                out.append(Change(doc, f["anchor"], "figure", f["label"], fa[key]["alt"],
                                  f["alt"]))
        out.extend(Change(doc, f["anchor"], "figure-removed", f["label"])
                   for key, f in fa.items() if key not in fb)
    return out


# --------------------------------------------------------------------------- prose (git)
def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          check=check, timeout=60)


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def prose_sections(source: str, suffix: str) -> dict[str, str]:
    """A chapter's prose by section (heading text -> its text, whitespace collapsed): the
    Markdown of a ``.md`` file or of a notebook's Markdown cells (code cells are no prose)."""
    if suffix == ".ipynb":
        nb = json.loads(source)
        source = "\n\n".join("".join(c.get("source", "")) for c in nb.get("cells", [])
                             if c.get("cell_type") == "markdown")
    sections: dict[str, list[str]] = {"": []}
    current, fenced = "", False
    for line in source.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        m = None if fenced else _HEADING.match(line)
        if m:
            current = m.group(2)
            while current in sections:
                current += " "
            sections[current] = []
        else:
            sections[current].append(line)
    return {k.strip(): " ".join(" ".join(v).split()) for k, v in sections.items()
            if k or " ".join(v).strip()}


def _section_anchor(title: str, chapter: dict[str, Any] | None) -> str:
    norm = " ".join(title.replace("*", "").replace("`", "").split())
    for s in (chapter or {}).get("sections", []):
        if re.sub(r"^[\d.]+\s+", "", s["title"]) == norm:
            return s["id"]
    return ""


def text_changes(root: Path, tag: str, sources: dict[str, Path],
                 snapshot: dict[str, Any]) -> list[Change]:
    """Sections whose prose differs between git's ``tag`` and the working tree.

    ``sources`` maps docnames to their source files (``.md``/``.ipynb``); pages not in git
    (generated) are skipped. Anchors come from ``snapshot`` (the current build)."""
    out: list[Change] = []
    for doc, path in sources.items():
        if doc in SKIP_DOCS or not path.is_file():
            continue
        rel = path.resolve().relative_to(root.resolve()).as_posix()
        before = _git(root, "show", f"{tag}:{rel}", check=False)
        if before.returncode != 0:
            if _git(root, "ls-files", "--error-unmatch", rel, check=False).returncode == 0:
                out.append(Change(doc, "", "text", "hele kapitlet (nyt)"))
            continue
        old = prose_sections(before.stdout, path.suffix)
        new = prose_sections(path.read_text(encoding="utf-8"), path.suffix)
        chapter = snapshot.get("chapters", {}).get(doc)
        for title in [*new, *(t for t in old if t not in new)]:
            if old.get(title) != new.get(title):
                label = title or "kapitlets indledning"
                out.append(Change(doc, _section_anchor(title, chapter), "text", label))
    return out


# --------------------------------------------------------------------------- state
@dataclass
class State:
    """What the build shows: the edition, and what it is compared with.

    ``released``: the working tree is the edition's tagged commit (or the edition is being
    released: no tag yet); then ``base`` is the edition before it. Otherwise the book has
    changed since ``edition`` and ``base`` is ``edition`` itself.
    """

    editions: list[Edition] = field(default_factory=list)
    released: bool = False
    base: str = ""
    base_snapshot: dict[str, Any] | None = None

    @property
    def current(self) -> Edition | None:
        return self.editions[-1] if self.editions else None

    def tag(self, name: str) -> str:
        return TAG_PREFIX + name


def state(root: Path, *, snapshots: bool = True) -> State:
    """The edition state of the checkout at ``root``."""
    editions = load_index(root)
    st = State(editions=editions)
    if not editions:
        return st
    current = editions[-1].name
    tag = st.tag(current)
    has_tag = _git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}",
                   check=False).returncode == 0
    if has_tag:
        diff = _git(root, "diff", "--quiet", tag, "--", ".", f":!{EDITIONS_DIR}",
                    f":!{ARCHIVE_DIR}", check=False)
        st.released = diff.returncode == 0
    else:
        st.released = True  # being released (make release builds before it tags)
    if st.released:
        st.base = editions[-2].name if len(editions) > 1 else ""
    else:
        st.base = current
    if st.base and snapshots:
        st.base_snapshot = load_snapshot(root, st.base)
    return st


def state_key(root: Path) -> str:
    """A digest of everything the edition pages depend on besides the pages themselves."""
    st = state(root)
    data = json.dumps([[e.name, str(e.date)] for e in st.editions]) + str(st.released) + \
        json.dumps(st.base_snapshot, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def current_edition(root: Path = REPO_ROOT) -> str:
    """The newest released edition (``"2027.1"``), ``""`` before the first release; with
    ``+`` appended when the book has changed since (the zip's and the PDF's names use it)."""
    st = state(root, snapshots=False)
    if st.current is None:
        return ""
    return st.current.name + ("" if st.released else "+")


def edition_label(root: Path, date: str = "") -> str:
    """The edition as the front page, the colophon and the PDF's title page show it:
    ``2027.1 (1. december 2026)``; ``date`` alone before the first release; the date and the
    edition it departs from when the book has changed since its last edition."""
    st = state(root, snapshots=False)
    cur = st.current
    if cur is None:
        return date
    if st.released:
        return f"{cur.name} ({fmt.danish_date(cur.date)})"
    return f"{date or fmt.danish_date(_today())}, ændret efter udgave {cur.name} (ikke udgivet)"


# --------------------------------------------------------------------------- release
def _today() -> dt.date:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.datetime.now(tz=dt.UTC).date()


def _archive(site: Path, dest: Path) -> None:
    """Keep a built site as an edition's own site (without the older editions inside it)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(site, dest, ignore=lambda d, names: [ARCHIVE_DIR] if Path(d) == site
                    else [])


def release(edition: str, *, root: Path = REPO_ROOT, build: Callable[[], None],
            site: Path | None = None, log: Callable[[str], None] = print) -> Path:
    """Release ``edition``: record it, build the book (``build``), tag the built commit,
    store the number snapshot and keep the built site. Returns the snapshot's path."""
    number = parse_edition(edition)
    editions = load_index(root)
    if editions and number <= parse_edition(editions[-1].name):
        raise EditionError(f"Udgave {edition} skal komme efter den seneste udgave, "
                           f"{editions[-1].name}.")
    tag = TAG_PREFIX + edition
    if _git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}", check=False).returncode == 0:
        raise EditionError(f"Mærket {tag} findes allerede: udgave {edition} er udgivet.")
    dirty = _git(root, "status", "--porcelain").stdout.strip()
    if dirty:
        raise EditionError("Arbejdskopien har ændringer, der ikke er committet; commit dem "
                           "eller fjern dem, før du udgiver:\n" + dirty)
    site = site or root / "_build" / "html"
    _save_index(root, [*editions, Edition(edition, _today())])
    _git(root, "add", str(_index_path(root)))
    _git(root, "commit", "-q", "-m", f"Udgave {edition}")
    log(f"Udgave {edition}: bygger bogen …")
    try:
        build()
    except Exception as exc:
        _git(root, "reset", "-q", "--keep", "HEAD~1")
        raise EditionError(f"Bygningen fejlede, så udgave {edition} er ikke udgivet: {exc}") \
            from exc
    snap = site_snapshot(site, _site_docs(site), edition)
    _git(root, "tag", "-a", tag, "-m", f"Udgave {edition}")
    path = snapshot_path(root, edition)
    path.write_text(json.dumps(snap, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")
    _git(root, "add", str(path))
    _git(root, "commit", "-q", "-m", f"Udgave {edition}: talsnapshot")
    _archive(site, root / ARCHIVE_DIR / edition)
    log(f"Udgave {edition} er udgivet: mærket {tag}, {path.relative_to(root)}, "
        f"{ARCHIVE_DIR}/{edition}/")
    return path


def restore(edition: str, *, root: Path = REPO_ROOT, build: Callable[[Path], Path]) -> Path:
    """Rebuild a released edition's site from its own tag (data, text and code as released)
    into ``udgaver/<edition>/``, for a checkout that lacks it. ``build(checkout)`` builds the
    checkout and returns its site folder."""
    import tempfile

    parse_edition(edition)
    tag = TAG_PREFIX + edition
    if _git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}", check=False).returncode:
        raise EditionError(f"Mærket {tag} findes ikke: udgave {edition} er ikke udgivet her.")
    with tempfile.TemporaryDirectory(prefix=f"udgave-{edition}-") as tmp:
        checkout = Path(tmp) / "bog"
        _git(root, "worktree", "add", "-q", "--detach", str(checkout), tag)
        try:
            site = build(checkout)
            dest = root / ARCHIVE_DIR / edition
            _archive(site, dest)
        finally:
            _git(root, "worktree", "remove", "--force", str(checkout), check=False)
    return dest


def _site_docs(site: Path) -> list[str]:
    """The book's pages in a built site (``book/**.html``)."""
    return sorted(p.relative_to(site).with_suffix("").as_posix()
                  for p in (site / "book").rglob("*.html")) if (site / "book").is_dir() else []


def main(argv: list[str] | None = None) -> int:
    """``python -m plusdig.publish.editions release 2027.1 [--build "make book pdf"]``;
    ``python -m plusdig.publish.editions restore 2027.1``."""
    ap = argparse.ArgumentParser(prog="python -m plusdig.publish.editions",
                                 description="Udgiv en udgave af bogen.")
    sub = ap.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="udgiv en udgave (make release EDITION=2027.1)")
    rel.add_argument("edition", help="udgavens nummer, år.nummer (2027.1)")
    rel.add_argument("--build", default="make book pdf",
                     help="kommandoen, der bygger bogen (standard: make book pdf)")
    rel.add_argument("--site", type=Path, default=None, help="det byggede site (_build/html)")
    rel.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    res = sub.add_parser("restore", help="byg en udgivet udgaves hjemmeside fra dens mærke")
    res.add_argument("edition", help="udgaven (2027.1)")
    res.add_argument("--build", default="make book pdf",
                     help="kommandoen, der bygger udgaven i dens egen arbejdskopi")
    res.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    def build_in(checkout: Path) -> Path:
        proc = subprocess.run(args.build, shell=True, cwd=checkout)
        if proc.returncode:
            raise EditionError(f"'{args.build}' sluttede med kode {proc.returncode}")
        return checkout / "_build" / "html"

    def build() -> None:
        build_in(args.root)

    try:
        if args.command == "restore":
            dest = restore(args.edition, root=args.root, build=build_in)
            print(f"Udgave {args.edition} er bygget fra sit mærke til {dest}")
        else:
            release(args.edition, root=args.root, build=build, site=args.site)
    except EditionError as exc:
        print(f"make release: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
