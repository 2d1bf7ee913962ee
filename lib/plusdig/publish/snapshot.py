"""Number snapshots of a built book, and what changed between two of them.

A snapshot holds what a reader sees, read from the *built pages* (never from ``data/``, so
survey numbers are the published, suppressed ones): every glued value (``{glue:text}``, with
its glue name), every table cell (by table, row and column) and every figure, each with its
chapter (docname) and anchor (the id of the nearest section, figure or table). One function,
:func:`page_numbers`, reads a page; a figure's series come from its data download
(``downloads/index.json``, :func:`figure_downloads`) where the site has one, else the figure
is known by its image's digest (a changed figure is then listed without its series).
:func:`compare` lists the changes between two snapshots. Editions
(:mod:`plusdig.publish.editions`) store and compare them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Change", "ERRATA_DOC", "GLUE_CLASS", "NOTICE_CLASS", "SKIP_DOCS", "compare",
           "figure_data", "figure_downloads", "page_numbers", "singlehtml_documents",
           "singlehtml_snapshot", "site_snapshot"]

#: The page "Ændringer siden forrige udgave".
ERRATA_DOC = "book/appendix/aendringer"
#: Pages whose contents are no numbers of the book (the errata page lists other pages'
#: numbers; the colophon shows the build, not the evaluation).
SKIP_DOCS = frozenset({ERRATA_DOC, "book/kolofon", "book/appendix/byggeoplysninger",
                       "genindex", "search", "py-modindex"})
#: Class of the notice on a changed page (left out when a page is read).
NOTICE_CLASS = "plusdig-rettet"
#: Class carried by every glued text value, with ``plusdig-glue-<name>`` beside it.
GLUE_CLASS = "plusdig-glue"
SNAPSHOT_FORMAT = 1


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
