"""Editions of the book: releases, and what changed since the last edition.

An *edition* (``2027.1``: year and number) is a released state of the book. Releasing one
(``make release EDITION=2027.1``, :func:`release`) records it in ``editions/udgaver.yml``,
builds the book, tags the commit it built (``udgave-2027.1``), stores the edition's
*number snapshot* (:mod:`plusdig.publish.snapshot`: every glued value, table cell and figure
as the built pages show them) as ``editions/2027.1.json`` and keeps its built site in
``udgaver/2027.1/`` (outside git; served as ``/udgaver/2027.1/`` by every later build;
:func:`restore` rebuilds it from its own tag where it is missing).

:func:`state` says what a build is compared with (the previous edition, or the last one when
the book has changed since); :func:`text_changes` lists the sections whose prose changed
since that edition's tag (git). The Sphinx side (:mod:`plusdig.sphinx.editions`) writes the
comparison into the built pages.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from plusdig.core import fmt
from plusdig.core.paths import REPO_ROOT

from .snapshot import (
    ERRATA_DOC,
    GLUE_CLASS,
    NOTICE_CLASS,
    SKIP_DOCS,
    Change,
    compare,
    page_numbers,
    singlehtml_snapshot,
    site_snapshot,
)

__all__ = ["EditionError", "Change", "Edition", "State", "parse_edition", "load_index",
           "page_numbers", "site_snapshot", "singlehtml_snapshot", "compare", "text_changes",
           "prose_sections", "state", "current_edition", "edition_label", "release",
           "restore", "main", "ERRATA_DOC", "EDITIONS_DIR", "ARCHIVE_DIR", "GLUE_CLASS",
           "NOTICE_CLASS", "SKIP_DOCS"]

#: Folder (in git) with the index of editions and their number snapshots.
EDITIONS_DIR = "editions"
INDEX_FILE = "udgaver.yml"
#: Folder (not in git) with each released edition's built site.
ARCHIVE_DIR = "udgaver"
TAG_PREFIX = "udgave-"

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
    """``python -m plusdig.publish.editions release 2027.1 [--build "make book pdf zip"]``;
    ``python -m plusdig.publish.editions restore 2027.1``."""
    ap = argparse.ArgumentParser(prog="python -m plusdig.publish.editions",
                                 description="Udgiv en udgave af bogen.")
    sub = ap.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="udgiv en udgave (make release EDITION=2027.1)")
    rel.add_argument("edition", help="udgavens nummer, år.nummer (2027.1)")
    rel.add_argument("--build", default="make book pdf zip",
                     help="kommandoen, der bygger bogen (standard: make book pdf zip)")
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
