"""Part II of the book, the activity annex, rendered from ``data/``.

One MyST markdown page per activity (``aktivitet-01.md`` ...), one for the first year
(``det-foerste-aar.md``) and the annex's foreword (``forord.inc``, included by
``book/annex/index.md``) are written into ``book/annex/generated/`` (gitignored). The TOC lists
the activity pages with a ``glob``, so a new activity in ``data/activities.yaml`` yields its page
with no code change.

Used two ways:

- as a Sphinx extension (``sphinx: extra_extensions: [plusdig.sphinx.annex]`` in ``_config.yml``): on
  ``config-inited``, before ``sphinx_external_toc`` reads ``_toc.yml``, the pages are rendered;
  a file is only rewritten when its content changed (so Sphinx re-reads only changed pages) and
  pages of activities no longer in the data are removed;
- as a library: :func:`render_activity_page`, :func:`overview_table`, :func:`timeline_table`
  and :func:`timeline_figure` are plain functions (data in, text/table/Figure out).

Cross-links to the report use the role ``{plusdig-optref}``: a ``{ref}`` that renders as plain
text (no warning) when its label (``betingelse-<code>``, ``tema-<code>``) is not in the book, and
whose page is rewritten as soon as the label appears or disappears.

Every step is linear in the number of activities (no quadratic look-ups).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.sphinx.annex_context import GENERATED_DIR, PAGE_PREFIX
from plusdig.sphinx.annex_pages import GROUP_SIZE, group_site_map, render_annex, write_pages

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

__all__ = ["setup"]


# --------------------------------------------------------------------------- Sphinx extension
def _generate(app: Sphinx, config: Config) -> None:
    """``config-inited``: render the pages into the generated folder before the TOC is read."""
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    from plusdig.core.errors import DataValidationError

    logger = logging.getLogger(__name__)
    base = Path(config.plusdig_data).resolve() if config.plusdig_data else None
    outdir = Path(app.srcdir) / config.plusdig_annex_dir
    try:
        pages, groups = render_annex(base, config.plusdig_annex_group_size)
    except DataValidationError as exc:
        raise ExtensionError(f"[plusdig.sphinx.annex] data error: {exc}") from exc
    from plusdig.sphinx.inputs import standby_waiting

    if standby_waiting():  # a standby set up ahead (maybe while a build runs) writes nothing
        ahead = write_pages(outdir, pages, dry_run=True)
        if ahead.written or ahead.removed:
            raise ExtensionError("[plusdig.sphinx.annex] the data changed under a standby build")
    report = write_pages(outdir, pages)
    logger.info("[plusdig.sphinx.annex] %d page(s) written, %d unchanged, %d removed (%s)",
                len(report.written), len(report.unchanged), len(report.removed), outdir)
    app.__dict__["plusdig_annex_groups"] = groups


def _group_toc(app: Sphinx, config: Config) -> None:
    """``config-inited`` after sphinx_external_toc: group a large annex in the sidebar."""
    from sphinx.util import logging

    groups = app.__dict__.get("plusdig_annex_groups") or []
    site_map = getattr(config, "external_site_map", None)
    if not groups or site_map is None:
        return
    folder = config.plusdig_annex_dir.strip("/")
    if group_site_map(site_map, f"{folder}/{PAGE_PREFIX}*", folder, groups):
        # a page's sidebar then shows only its own group: HTML grows linearly, not squared
        config.html_theme_options = {**config.html_theme_options, "collapse_navbar": True}
        logging.getLogger(__name__).info("[plusdig.sphinx.annex] %d sidebar groups", len(groups))


def _no_smartquotes_transform() -> type:
    """A transform that keeps text from data as it is written: no smart quotes on it.

    The generated pages hold transcribed text: ``NGO'er`` and ``"ca."`` must read exactly as the
    source writes them, not be turned into typographic quotes (nor ``--`` into a dash, nor
    ``\\"`` into ``"``). Smart quotes are off for the generated pages, for a page that includes a
    generated file (the annex's index includes the foreword) and, on every other page, for text
    pasted from a notebook with ``{glue:text}`` (names and titles from data). It runs before
    ``SphinxSmartQuotes`` (priority 750); ``is_smartquotable`` honours ``support_smartquotes``.
    """
    from docutils import nodes
    from sphinx.transforms import SphinxTransform

    class NoSmartQuotes(SphinxTransform):
        default_priority = 700

        def apply(self, **kwargs: Any) -> None:
            folder = self.config.plusdig_annex_dir.strip("/")
            included = getattr(self.document.settings.record_dependencies, "list", None) or []
            generated = str(Path(self.env.srcdir) / folder) + "/"
            if (self.env.docname.startswith(folder + "/")
                    or any(str(dep).startswith(generated) for dep in included)):
                self.document["support_smartquotes"] = False
                return
            for node in self.document.findall(nodes.inline):
                if "pasted-text" in node["classes"]:
                    node["support_smartquotes"] = False

    return NoSmartQuotes


def _optref_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
                 options: Mapping[str, Any] | None = None,
                 content: Sequence[str] = ()) -> tuple[list[Any], list[Any]]:
    """``{plusdig-optref}`Text <label>```: a std ``ref`` that is plain text if the label is absent."""
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util.nodes import split_explicit_title

    env = inliner.document.settings.env
    from urllib.parse import unquote

    _has, title, target = split_explicit_title(text)
    title = unquote(title)  # see _optref
    target = target.strip().lower()
    node = addnodes.pending_xref(rawtext, refdomain="std", reftype="ref", reftarget=target,
                                 refexplicit=True, refwarn=True, refdoc=env.docname)
    node["plusdig_optional"] = True
    node += nodes.inline(title, title, classes=["xref", "std", "std-ref"])
    refs: dict[str, set[str]] = env.__dict__.setdefault("plusdig_optrefs", {})
    refs.setdefault(env.docname, set()).add(target)
    return [node], []


def _missing_reference(app: Sphinx, env: BuildEnvironment, node: Any, contnode: Any) -> Any:
    """An optional reference whose label is not in the book renders as its plain text."""
    if node.get("plusdig_optional"):
        return contnode
    return None


def _purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.__dict__.setdefault("plusdig_optrefs", {}).pop(docname, None)


def _merge_info(app: Sphinx, env: BuildEnvironment, docnames: Iterable[str],
                other: BuildEnvironment) -> None:
    mine = env.__dict__.setdefault("plusdig_optrefs", {})
    theirs = other.__dict__.get("plusdig_optrefs", {})
    for doc in docnames:
        if doc in theirs:
            mine[doc] = theirs[doc]


def _docs_to_rewrite(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-updated``: pages to rewrite although their sources did not change.

    - every page, when a page was added or removed or a title changed: each page's sidebar lists
      the whole book (adding a 14th activity must show in the sidebar of the other 13 too, which
      an incremental Sphinx build would otherwise leave stale);
    - otherwise the pages whose optional references now resolve differently (a report label
      appeared or disappeared).
    """
    toc = {doc: env.titles[doc].astext() if doc in env.titles else "" for doc in env.all_docs}
    previous = env.__dict__.get("plusdig_toc_state")
    env.__dict__["plusdig_toc_state"] = toc
    changed = _optref_changes(env)
    if previous is not None and previous != toc:
        return sorted(env.all_docs)
    return changed


def _optref_changes(env: BuildEnvironment) -> list[str]:
    """Pages whose optional references resolve differently than at the last build."""
    labels = env.domaindata["std"]["labels"]
    refs: dict[str, set[str]] = env.__dict__.setdefault("plusdig_optrefs", {})
    old: dict[str, frozenset[str]] = env.__dict__.get("plusdig_optref_state", {})
    new = {doc: frozenset(t for t in targets if t in labels) for doc, targets in refs.items()}
    env.__dict__["plusdig_optref_state"] = new
    return [doc for doc, state in new.items() if old.get(doc) != state]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the annex generator and the ``plusdig-optref`` role with Sphinx."""
    app.add_config_value("plusdig_annex_dir", GENERATED_DIR, "env")
    app.add_config_value("plusdig_data", "", "env")
    app.add_config_value("plusdig_annex_group_size", GROUP_SIZE, "env")
    # sphinx_external_toc parses _toc.yml on config-inited at priority 900; run well before it.
    app.connect("config-inited", _generate, priority=100)
    app.connect("config-inited", _group_toc, priority=950)
    app.add_transform(_no_smartquotes_transform())
    app.add_role("plusdig-optref", _optref_role)
    app.connect("missing-reference", _missing_reference)
    app.connect("env-purge-doc", _purge_doc)
    app.connect("env-merge-info", _merge_info)
    app.connect("env-updated", _docs_to_rewrite)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
