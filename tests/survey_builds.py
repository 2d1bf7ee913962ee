"""Reduced builds of the survey chapters that several test files check (each built once per
test session, :func:`buildkit.shared`, whichever pytest-xdist process asks first).

- :func:`synthetic_build`: the survey chapter alone on the bundled synthetic delivery with the
  site's real configuration and no option set, with ``-n -W`` (only the warnings of references
  to the pages the reduced book leaves out suppressed: ``ref.ref``, ``ref.term`` and
  ``bibtex.key_not_found``, the bibliography page; every other warning, the audit's among
  them, fails it). The leak tests (tests/test_survey_leak.py) check its "Syntetiske data"
  labels and its audit; the options tests (tests/test_survey_options_build.py) check that
  without the variables there is no benchmark and the real school names are back.
- :func:`optioned_build`: both survey chapters and the methods appendix on the synthetic
  delivery with ``PLUSDIG_SCHOOL_KEY`` and ``PLUSDIG_BENCHMARK`` set (a fixture benchmark of
  invented numbers, made in the session's temporary folder). The options tests check the
  pseudonyms and the benchmark; the synthetic delivery has no ``pupil_key`` and no
  ``class_id``, so the linked-design tests (tests/test_survey_linked_build.py) check in it that
  without those columns the section on classes is absent and the appendix says so.
- :func:`small_groups_build`: the survey chapter and the methods appendix on the delivery with
  small groups in every breakdown (tests/fixtures/disclosure_fixtures.py's
  ``small_groups_frame``: greppable respondent ids, a school of three pupils, a last year too
  small for any secondary comparison) with ``PLUSDIG_SURVEY`` set, the site's configuration
  and ``-n -W`` as :func:`synthetic_build`. The leak tests (tests/test_survey_leak.py) check
  that no respondent id and no count of the tiny school is in it; the small-groups tests
  (tests/test_survey_small_groups.py) check the appendix's secondary table and its download.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml
from buildkit import REPO, make_copy, run_build, shared

CHAPTER = "book/report/trivsel-dybden"
APPENDIX = "book/appendix/metode-trivselsmaalingen"
#: The chapters of :func:`optioned_build`.
OPTIONED_CHAPTERS = ["book/report/trivselsmaalingen", CHAPTER, APPENDIX]
#: The disclosure threshold of the builds (the book's own).
K = 5
#: The school key of :func:`optioned_build`.
SCHOOL_KEY = "en hemmelig nøgle kun til denne test"
#: The fixture benchmark: invented numbers and an invented source, made in tmp for the test.
BENCHMARK = (
    "year,indicator,area,share_pct,wording,source,respondents\n"
    "2019,lonely,Testkommune,\"23,4\",Testordlyd om ensomhed,Testkilde for benchmark-testen,"
    "4321\n"
    "2018,not_happy_at_all,Hele landet,\"6,7\",Testordlyd om livsglæde,"
    "Testkilde for benchmark-testen,\n"
)
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
    code, log = run_build(copy, out, env={"PLUSDIG_DISCLOSURE_K": str(K), **env}, timeout=1500)
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


def _make_optioned(folder: Path) -> None:
    bench = folder / "benchmark-fixture.csv"
    bench.write_text(BENCHMARK, encoding="utf-8")
    copy = site_book(folder / "repo", OPTIONED_CHAPTERS)
    env = {"PLUSDIG_SCHOOL_KEY": SCHOOL_KEY, "PLUSDIG_BENCHMARK": str(bench),
           "PLUSDIG_DISCLOSURE_K": str(K)}
    # without -n -W: the chapters cross-reference chapters this reduced book leaves out
    code, log = run_build(copy, folder / "out", strict=False, env=env, timeout=1500)
    assert code == 0, log[-5000:]
    assert "Traceback" not in log, log[-5000:]
    assert "0 kan regnes ud" in log, log[-3000:]  # the audit ran on the pages: no leak
    (folder / "build.log").write_text(log, encoding="utf-8")


def optioned_build(tmp_path_factory: Any) -> tuple[Path, Path, str]:
    """(the book's copy, the output folder, the build's log)."""
    folder = shared(tmp_path_factory, "survey-optioned", _make_optioned)
    return folder / "repo", folder / "out", (folder / "build.log").read_text(encoding="utf-8")


def _make_small_groups(folder: Path) -> None:
    from fixtures import disclosure_fixtures as dfx
    from fixtures import survey_fixtures as sf

    # the delivery outside the output folder: it holds the respondent ids the leak test greps for
    delivery = sf.write_csv(dfx.small_groups_frame(), folder / "small-groups-delivery.csv")
    copy = site_book(folder / "repo", [CHAPTER, APPENDIX])
    # the annex's activity pages (generated by the build from data/), which the appendix's
    # source references point to: with them -n -W finds every reference
    toc = yaml.safe_load((copy / "_toc.yml").read_text(encoding="utf-8"))
    toc["chapters"].append({"glob": "book/annex/generated/aktivitet-*"})
    (copy / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")
    log = strict_build(copy, folder / "out", {"PLUSDIG_SURVEY": str(delivery)})
    (folder / "build.log").write_text(log, encoding="utf-8")


def small_groups_build(tmp_path_factory: Any) -> tuple[Path, str, set[str]]:
    """(the output folder, the build's log, every respondent id of the delivery)."""
    import pandas as pd

    folder = shared(tmp_path_factory, "survey-small-groups", _make_small_groups)
    ids = pd.read_csv(folder / "small-groups-delivery.csv", dtype=str, keep_default_na=False)
    return (folder / "out", (folder / "build.log").read_text(encoding="utf-8"),
            set(ids["respondent_id"]))
