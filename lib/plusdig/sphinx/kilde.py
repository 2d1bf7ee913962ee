"""The ``{kilde}`` role: a claim's source quote, linked to its passage in the annex (Part II).

In report prose, ``{kilde}`Alliancen blev nedsat som tværsektoriel styregruppe``` renders the
quote as »Alliancen blev nedsat som tværsektoriel styregruppe« and links it to the section of the
annex page that holds it: an activity's "Hvem er med?", a first-year workstream, the foreword. The
extracted annex keeps no printed page numbers, so the link goes to the passage, never to a page.

The quote is looked up, whitespace-normalised, in the transcribed text (``data/activities.yaml``,
``data/first_year.yaml``), which ``tests/test_fidelity.py`` holds to the source. A quote found in
more than one unit is ambiguous: name the unit, ``{kilde}`+DIG-sekretariatet <9>``` (activity 9)
or ``<det-foerste-aar>`` / ``<forord>``. A quote that is not found, or is ambiguous, is a build
warning (the book builds with ``-W``); ``tests/test_kilde.py`` checks every quote of the book.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes

from plusdig.core.errors import DataValidationError

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

__all__ = ["Passage", "passages", "locate", "parse_target", "ROLE_PATTERN", "setup"]

#: The role as it stands in MyST source: ``{kilde}`quote``` or ``{kilde}`quote <unit>```.
ROLE_PATTERN = re.compile(r"\{kilde\}`([^`]+)`")

#: Units that are not an activity: the first-year page and the foreword (on the annex's index).
FIRST_YEAR_UNIT = "det-foerste-aar"
FOREWORD_UNIT = "forord"
FOREWORD_DOC = "book/annex/index"


@dataclass(frozen=True)
class Passage:
    """A titled section of an annex page and its whitespace-normalised text."""

    unit: str  # activity id as text, "det-foerste-aar" or "forord"
    docname: str  # Sphinx docname of the page
    section: str | None  # heading of the section on that page; None: the page's own title
    text: str


def _normalise(text: str) -> str:
    return " ".join(text.split())


def passages(base: Path | None = None) -> list[Passage]:
    """Every passage a quote can point to, in book order."""
    from plusdig.data.load import load_activities, load_first_year, section_text
    from plusdig.data.models import SECTION_TITLES
    from plusdig.sphinx.annex_context import FIRST_YEAR_DOC, GENERATED_DIR, activity_docnames

    acts = load_activities(base)
    first_year = load_first_year(base)
    names = activity_docnames(acts)
    out = [Passage(FOREWORD_UNIT, FOREWORD_DOC, "Forord", _normalise(" ".join(first_year.forord))),
           Passage(FOREWORD_UNIT, FOREWORD_DOC, "Læsevejledning",
                   _normalise(" ".join(first_year.laesevejledning)))]
    fy_doc = f"{GENERATED_DIR}/{FIRST_YEAR_DOC}"
    out.append(Passage(FIRST_YEAR_UNIT, fy_doc, None, _normalise(" ".join(first_year.intro))))
    for ws in sorted(first_year.workstreams, key=lambda w: w.order):
        out.append(Passage(FIRST_YEAR_UNIT, fy_doc, ws.title, _normalise(" ".join([ws.title, *ws.points]))))
    for act in acts:
        doc = f"{GENERATED_DIR}/{names[act.id]}"
        for key, title in SECTION_TITLES.items():
            text = _normalise(section_text(act, key))
            if text:
                out.append(Passage(str(act.id), doc, title, text))
    return out


def parse_target(text: str) -> tuple[str, str | None]:
    """``'quote <9>'`` → ``('quote', '9')``; ``'quote'`` → ``('quote', None)``."""
    m = re.fullmatch(r"(.*?)\s*<([^<>]+)>\s*", text, flags=re.S)
    if m:
        return _normalise(m.group(1)), m.group(2).strip()
    return _normalise(text), None


def locate(quote: str, unit: str | None = None, base: Path | None = None,
           candidates: Iterable[Passage] | None = None) -> Passage:
    """The one passage that holds ``quote`` (in ``unit`` if given); an error names what is wrong."""
    needle = _normalise(quote)
    pool = list(candidates if candidates is not None else passages(base))
    if unit is not None:
        units = {p.unit for p in pool}
        if unit not in units:
            raise DataValidationError("{kilde}", f"unknown unit {unit!r} for the quote {needle!r}",
                                      field="unit", expected="an activity id, 'det-foerste-aar' or 'forord'")
        pool = [p for p in pool if p.unit == unit]
    found = [p for p in pool if needle and needle in p.text]
    if not found:
        raise DataValidationError("{kilde}", f"the quote {needle!r} is not in the annex's text"
                                  + (f" of {unit!r}" if unit else ""), field="quote",
                                  expected="an exact (whitespace-normalised) quote from the annex")
    if len({p.unit for p in found}) > 1:
        where = ", ".join(sorted({p.unit for p in found}))
        raise DataValidationError("{kilde}", f"the quote {needle!r} occurs in several units ({where})",
                                  field="unit", expected="the unit named: {kilde}`quote <unit>`")
    return found[0]


# --------------------------------------------------------------------------- Sphinx extension
class kilde_reference(nodes.Inline, nodes.TextElement):  # noqa: N801 - docutils node naming
    """A source quote waiting for its link (resolved when the page is written)."""


def _data_fingerprint(env: BuildEnvironment) -> str:
    from plusdig.core.paths import data_dir

    configured = getattr(env.config, "plusdig_data", "")
    base = Path(configured).resolve() if configured else data_dir()
    digest = hashlib.sha256()
    for name in ("activities.yaml", "first_year.yaml"):
        path = base / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def _role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
          options: dict[str, Any] | None = None, content: list[str] | None = None) -> tuple[list, list]:
    """``{kilde}`quote``` / ``{kilde}`quote <unit>```: the quote in »«, linked to its passage."""
    env = inliner.document.settings.env
    quote, unit = parse_target(text)
    configured = getattr(env.config, "plusdig_data", "")
    base = Path(configured).resolve() if configured else None
    cache = env.__dict__.setdefault("plusdig_kilde_passages", {})
    key = _data_fingerprint(env)
    if key not in cache:
        cache.clear()
        cache[key] = passages(base)
    try:
        passage = locate(quote, unit, candidates=cache[key])
    except DataValidationError as exc:
        msg = inliner.reporter.warning(f"[plusdig.sphinx.kilde] {exc}", line=lineno)
        prb = inliner.problematic(rawtext, rawtext, msg)
        return [prb], [msg]
    env.__dict__.setdefault("plusdig_kilde_docs", {})[env.docname] = key
    node = kilde_reference(rawtext, "", nodes.Text(f"»{quote}«"))
    node["todoc"] = passage.docname
    node["section"] = passage.section or ""
    return [node], []


def _section_id(env: BuildEnvironment, docname: str, title: str, cache: dict) -> str:
    """The HTML id of the section titled ``title`` on ``docname`` ('' for the page itself)."""
    if not title:
        return ""
    if docname not in cache:
        tree = env.get_doctree(docname)
        cache[docname] = {}
        for sec in tree.findall(nodes.section):
            heading = sec.next_node(nodes.title)
            if heading is not None and sec["ids"]:
                cache[docname].setdefault(heading.astext(), sec["ids"][0])
    return cache[docname].get(title, "")


def _resolve(app: Sphinx, doctree: Any, fromdocname: str) -> None:
    """``doctree-resolved``: each quote becomes a link to its section of the annex page."""
    from sphinx.util import logging
    from sphinx.util.nodes import make_refnode

    logger = logging.getLogger(__name__)
    cache: dict = {}
    for node in list(doctree.findall(kilde_reference)):
        todoc, section = node["todoc"], node["section"]
        if todoc not in app.env.all_docs:
            logger.warning("[plusdig.sphinx.kilde] the annex page %s is not in the book", todoc, location=node)
            node.replace_self(nodes.inline("", node.astext()))
            continue
        target = _section_id(app.env, todoc, section, cache)
        if section and not target:
            logger.warning("[plusdig.sphinx.kilde] no section %r on %s", section, todoc, location=node)
        content = nodes.inline("", node.astext(), classes=["plusdig-kilde"])
        ref = make_refnode(app.builder, fromdocname, todoc, target, content,
                           title=f"Kilde: aktivitetskataloget, {section}" if section else None)
        node.replace_self(ref)


def _outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
              removed: set[str]) -> list[str]:
    """``env-get-outdated``: re-read pages with quotes when the transcribed data changed."""
    key = _data_fingerprint(env)
    docs = env.__dict__.get("plusdig_kilde_docs", {})
    return [doc for doc, seen in docs.items() if seen != key and doc in env.found_docs]


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.__dict__.setdefault("plusdig_kilde_docs", {}).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: Iterable[str], other: BuildEnvironment) -> None:
    mine = env.__dict__.setdefault("plusdig_kilde_docs", {})
    theirs = other.__dict__.get("plusdig_kilde_docs", {})
    mine.update({d: theirs[d] for d in docnames if d in theirs})


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``kilde`` role and its link resolution."""
    app.add_node(kilde_reference, html=(lambda self, n: None, lambda self, n: None),
                 latex=(lambda self, n: None, lambda self, n: None))
    app.add_role("kilde", _role)
    app.connect("doctree-resolved", _resolve)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
