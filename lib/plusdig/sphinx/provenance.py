"""Provenance: which data files a notebook read, and where a build came from.

Two jobs:

* **Read log.** When the environment variable ``PLUSDIG_READ_LOG`` names a file, every data
  file a loader opens is appended to it (one absolute path per line). The build
  (:mod:`plusdig.sphinx.build`) executes each notebook with its own log and re-executes it when any
  file it read (or the library, or the environment) changes. Without the variable
  :func:`record_read` does nothing.
* **Colophon.** :func:`collect` gathers the build's provenance (git commit, dirty flag, data
  fingerprint, survey data source, package versions, build date) and the ``plusdig-provenance``
  directive renders it on the colophon page at build time. The real survey file is never named,
  only its fingerprint.

The module is imported by every loader, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Distributions whose versions the colophon lists, in this order.
PACKAGES: tuple[str, ...] = (
    "jupyter-book", "sphinx", "myst-nb", "jupyter-cache", "plusdig", "pandas", "numpy",
    "matplotlib", "seaborn", "pydantic", "ipywidgets",
)


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                             timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def git_state(repo: str | Path) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git work tree at ``repo``; ``(None, None)`` outside git.

    ``dirty`` is true when tracked files differ from the commit or untracked, not ignored
    files exist (build output is ignored by ``.gitignore``, so building does not dirty it).
    """
    root = Path(repo)
    commit = _git(["rev-parse", "HEAD"], root)
    if not commit:
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=normal"], root)
    return commit.strip(), (None if status is None else bool(status.strip()))


def build_date() -> datetime:
    """The build's timestamp (UTC): ``SOURCE_DATE_EPOCH`` if set, else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC).replace(microsecond=0)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (plus Python), ``"ikke installeret"`` if missing."""
    import sys
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "ikke installeret"
    return out


def collect(repo: str | Path | None = None) -> dict[str, Any]:
    """The build's provenance as a JSON-ready dict.

    Keys: ``commit`` (or None), ``dirty`` (or None), ``data_fingerprint`` (SHA-256 over
    the files of the data folder, ``private/`` excluded), ``survey_source`` (``"synthetic"`` or
    ``"real"``), ``survey_fingerprint`` (of the real file, else None), ``packages``,
    ``build_date`` (ISO 8601, UTC).
    """
    from plusdig.core.digest import file_digest, tree_digest
    from plusdig.core.paths import REPO_ROOT, data_dir
    from plusdig.publish.editions import edition_label

    commit, dirty = git_state(repo or REPO_ROOT)
    survey = os.environ.get("PLUSDIG_SURVEY")
    return {
        "commit": commit,
        "dirty": dirty,
        "data_fingerprint": tree_digest(data_dir()),
        "survey_source": "real" if survey else "synthetic",
        "survey_fingerprint": file_digest(survey) if survey else None,
        "packages": package_versions(),
        "build_date": build_date().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "edition": edition_label(Path(repo or REPO_ROOT)) or None,
    }


def provenance_key(info: dict[str, Any]) -> str:
    """A digest of a :func:`collect` result without its build date: what the colophon shows
    that can change between builds besides the time. The colophon is re-read when it changes."""
    import hashlib
    import json

    rest = {k: v for k, v in info.items() if k != "build_date"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()


def colophon_markdown(info: dict[str, Any]) -> str:
    """The colophon's tables (Danish MyST markdown) for a :func:`collect` result."""
    commit = f"`{info['commit']}`" if info["commit"] else "ukendt (ikke et git-arkiv)"
    dirty = {True: "med ændringer, der ikke er committet",
             False: "ren (svarer præcis til committet)",
             None: "ukendt"}[info["dirty"]]
    if info["survey_source"] == "real":
        fp = info["survey_fingerprint"] or ""
        survey = f"reelle data (filens sti vises ikke; fingeraftryk `{fp[:16]}`)"
    else:
        survey = "syntetiske data (genereret af bogens bibliotek, ikke reelle svar)"
    rows = [
        *([("Udgave", info["edition"])] if info.get("edition") else []),
        ("Git-commit", commit),
        ("Arbejdskopi", dirty),
        ("Datafingeraftryk (SHA-256 af `data/`)", f"`{info['data_fingerprint'][:16]}`"),
        ("Surveydata", survey),
        ("Byggetidspunkt (UTC)", f"`{info['build_date']}`"),
    ]
    lines = ["| Oplysning | Værdi |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "| Pakke | Version |", "|---|---|"]
    lines += [f"| {k} | `{v}` |" for k, v in info["packages"].items()]
    return "\n".join(lines) + "\n"


def provenance_directive() -> type:
    """The ``plusdig-provenance`` Sphinx directive (built lazily: Sphinx is heavy).

    It renders :func:`colophon_markdown` for the current build, keeps the same facts in the
    environment (:mod:`plusdig.sphinx.build` writes them to ``<build>/_build/provenance.json`` when
    the build has succeeded, so the file always describes the published site), and marks its
    page to be re-read whenever the facts (except the build date) change: a rebuild that
    changes nothing keeps the page and its date.
    """
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective

    class ProvenanceDirective(SphinxDirective):
        has_content = False

        def run(self) -> list[nodes.Node]:
            info = collect(self.env.srcdir)
            if not hasattr(self.env, "plusdig_provenance_docs"):
                self.env.plusdig_provenance_docs = set()
            self.env.plusdig_provenance_docs.add(self.env.docname)
            self.env.plusdig_provenance_key = provenance_key(info)
            self.env.plusdig_provenance_info = info
            container = nodes.container(classes=["plusdig-provenance"])
            text = colophon_markdown(info).splitlines()
            self.state.nested_parse(StringList(text, source="plusdig-provenance"),
                                    self.content_offset, container)
            return [container]

    return ProvenanceDirective
