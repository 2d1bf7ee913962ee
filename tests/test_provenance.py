"""Unit tests of plusdig.sphinx.provenance (read log, colophon facts) and plusdig.sphinx.build's fingerprints."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from plusdig.core import digest
from plusdig.core import readlog
from plusdig.sphinx import execute
from plusdig.survey import readers
from plusdig.sphinx import build
from plusdig.sphinx import provenance


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   cwd=repo, check=True, capture_output=True)


# --------------------------------------------------------------------------- read log
def test_record_read_appends_absolute_paths_when_the_log_is_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "reads.log"
    monkeypatch.setenv("PLUSDIG_READ_LOG", str(log))
    monkeypatch.chdir(tmp_path)
    readlog.record_read("a.yaml")
    readlog.record_read(tmp_path / "b.csv")
    assert log.read_text().splitlines() == [str(tmp_path / "a.yaml"), str(tmp_path / "b.csv")]


def test_record_read_does_nothing_without_the_log(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLUSDIG_READ_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    readlog.record_read("a.yaml")
    assert list(tmp_path.iterdir()) == []


def test_loaders_log_every_data_file_they_open(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import plusdig
    from plusdig.core.paths import data_dir

    log = tmp_path / "reads.log"
    monkeypatch.setenv("PLUSDIG_READ_LOG", str(log))
    plusdig.load_activities()
    reads = set(log.read_text().splitlines())
    assert str(data_dir() / "activities.yaml") in reads


def test_survey_loader_logs_the_file_it_reads(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:

    src = tmp_path / "svar.csv"
    src.write_text("a,b\n1,2\n", encoding="utf-8")
    log = tmp_path / "reads.log"
    monkeypatch.setenv("PLUSDIG_READ_LOG", str(log))
    readers.read_survey(src)
    assert str(src.resolve()) in log.read_text().splitlines()


# --------------------------------------------------------------------------- git state
def test_git_state_outside_git_is_unknown(tmp_path: Path) -> None:
    assert provenance.git_state(tmp_path) == (None, None)


def test_git_state_reports_commit_and_dirty_flag(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("_build/\n")
    (tmp_path / "f.txt").write_text("1\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "x")
    commit, dirty = provenance.git_state(tmp_path)
    assert commit is not None and len(commit) == 40
    assert dirty is False
    (tmp_path / "_build").mkdir()
    (tmp_path / "_build" / "out.html").write_text("ignored build output")
    assert provenance.git_state(tmp_path) == (commit, False)
    (tmp_path / "f.txt").write_text("2\n")
    assert provenance.git_state(tmp_path) == (commit, True)


# --------------------------------------------------------------------------- colophon
def test_build_date_honours_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert provenance.build_date().isoformat() == "2023-11-14T22:13:20+00:00"


def test_collect_synthetic_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLUSDIG_SURVEY", raising=False)
    info = provenance.collect()
    assert info["survey_source"] == "synthetic"
    assert info["survey_fingerprint"] is None
    assert len(info["data_fingerprint"]) == 64
    assert info["packages"]["jupyter-book"] != "ikke installeret"
    text = provenance.colophon_markdown(info)
    assert "syntetiske data" in text
    assert info["data_fingerprint"][:16] in text


def test_colophon_never_shows_the_real_survey_path(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "hemmelig-kommune-svar.csv"
    real.write_text("id\n1\n", encoding="utf-8")
    monkeypatch.setenv("PLUSDIG_SURVEY", str(real))
    info = provenance.collect()
    assert info["survey_source"] == "real"
    text = provenance.colophon_markdown(info)
    assert "reelle data" in text
    assert "hemmelig" not in text and str(tmp_path) not in text
    assert info["survey_fingerprint"][:16] in text


def test_data_fingerprint_changes_with_one_value(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.csv").write_text("s\n")
    monkeypatch.setenv("PLUSDIG_DATA", str(tmp_path))
    before = provenance.collect()["data_fingerprint"]
    (tmp_path / "private" / "secret.csv").write_text("t\n")
    assert provenance.collect()["data_fingerprint"] == before  # private/ is not part of it
    (tmp_path / "a.csv").write_text("x\n2\n")
    assert provenance.collect()["data_fingerprint"] != before


# --------------------------------------------------------------------------- fingerprints
def test_notebook_fingerprint_follows_file_contents(tmp_path: Path) -> None:
    f = tmp_path / "d.yaml"
    f.write_text("a: 1\n")
    env = {"version": "x"}
    first = execute.notebook_fingerprint([str(f)], env)
    assert execute.notebook_fingerprint([str(f), str(f)], env) == first  # a set of reads
    f.write_text("a: 2\n")
    assert execute.notebook_fingerprint([str(f)], env) != first
    f.unlink()
    assert digest.file_digest(f) == "missing"
    assert execute.notebook_fingerprint([str(f)], {"version": "y"}) != first


def test_environment_fingerprint_follows_settings_and_survey(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("PLUSDIG_SURVEY", "PLUSDIG_DISCLOSURE_K"):
        monkeypatch.delenv(key, raising=False)
    base = execute.environment_fingerprint()
    assert base == execute.environment_fingerprint()
    monkeypatch.setenv("PLUSDIG_DISCLOSURE_K", "7")
    with_k = execute.environment_fingerprint()
    assert with_k["settings"] != base["settings"]
    survey = tmp_path / "s.csv"
    survey.write_text("id\n1\n")
    monkeypatch.setenv("PLUSDIG_SURVEY", str(survey))
    first = execute.environment_fingerprint()
    assert first["survey"] != "synthetic"
    survey.write_text("id\n2\n")
    assert execute.environment_fingerprint()["survey"] != first["survey"]


def test_toc_notebooks_lists_the_books_notebooks() -> None:
    from plusdig.core.paths import REPO_ROOT

    notebooks = build.toc_notebooks(REPO_ROOT)
    assert notebooks and all(p.suffix == ".ipynb" and p.is_file() for p in notebooks)
    assert REPO_ROOT / "book/report/aktiviteterne.ipynb" in notebooks


def test_cli_status_reports_each_notebook(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from plusdig.core.paths import REPO_ROOT

    assert build.main(["status", "--srcdir", str(REPO_ROOT),
                       "--path-output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "book/report/aktiviteterne.ipynb: stale, not in the cache" in out
