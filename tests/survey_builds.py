"""A reduced build of the survey chapter that two test files check (built once per test
session, :func:`buildkit.shared`).

:func:`synthetic_build`: the survey chapter alone on the bundled synthetic delivery with the
site's real configuration and no option set. The leak tests (tests/test_survey_leak.py) check
its "Syntetiske data" labels and its audit; the options tests
(tests/test_survey_options_build.py) check that without the variables there is no benchmark
and the real school names are back.

It is a ``make book`` build (``-n -W --keep-going``): only the warnings of references to the
pages the reduced book leaves out (``ref.ref``, ``ref.term``, and ``bibtex.key_not_found``:
the bibliography page) are suppressed; every other warning, the audit's among them, fails it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml
from buildkit import REPO, make_copy, run_build, shared

CHAPTER = "book/report/trivsel-dybden"
#: The cross-references into pages a reduced book leaves out (the bibliography among them).
_MISSING_PAGES = ["ref.ref", "ref.term", "bibtex.key_not_found"]


def strict_build(copy: Path, out: Path, env: dict[str, str]) -> str:
    """Build ``copy`` into ``out`` with ``-n -W`` (only the warnings of references to left-out
    pages suppressed), assert that it succeeded without a warning and that the audit ran and
    found no leak; return the log."""
    config_path = copy / "_config.yml"
    cfg = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config = cfg["sphinx"].setdefault("config", {})
    config["suppress_warnings"] = [*config.get("suppress_warnings", []), *_MISSING_PAGES]
    config_path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    code, log = run_build(copy, out, env=env, timeout=1500)
    assert code == 0, log[-5000:]
    assert not re.search(r"(?i): warning:", log), log[-4000:]  # -W: warnings are fatal
    assert "Traceback" not in log, log[-5000:]
    assert "0 kan regnes ud" in log, log[-3000:]  # the audit ran on the pages: no leak
    return log


def site_book(dest: Path, chapters: list[str]) -> Path:
    """A reduced copy of the book in ``dest`` listing ``chapters``, with the site's real
    configuration (downloads, audit, table numbering ...), templates and Danish texts."""
    copy = make_copy(dest, chapters)
    for name in ("book/_templates", "locales"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, copy / name)
    cfg = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    for key in ("html_static_path", "nb_ipywidgets_js", "mathjax_path", "html_favicon"):
        cfg["sphinx"]["config"].pop(key, None)
    (copy / "_config.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False),
                                      encoding="utf-8")
    return copy


def _make_synthetic(folder: Path) -> None:
    log = strict_build(site_book(folder / "repo", [CHAPTER]), folder / "out", {})
    (folder / "build.log").write_text(log, encoding="utf-8")


def synthetic_build(tmp_path_factory: Any) -> tuple[Path, str]:
    """(the output folder, the build's log)."""
    folder = shared(tmp_path_factory, "survey-synthetic", _make_synthetic)
    return folder / "out", (folder / "build.log").read_text(encoding="utf-8")
