"""`python -m plusdig validate`: the check `make book` runs before building."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from buildkit import run_module_apart

from plusdig.core.paths import REPO_ROOT


def run(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m plusdig validate`` with ``env_extra`` (forked from the tests' build server,
    its imports done: ``buildkit.run_module_apart``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUSDIG_")}
    env.update(env_extra)
    return run_module_apart("plusdig", ["validate"], env, cwd=REPO_ROOT)


def test_validate_passes_on_bundled_data() -> None:
    out = run({})
    assert out.returncode == 0, out.stderr
    assert "ok  activities.yaml: 13" in out.stdout
    assert "survey (syntetiske data)" in out.stdout


def test_validate_fails_on_broken_data_copy(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", data)
    text = (data / "activities.yaml").read_text(encoding="utf-8")
    (data / "activities.yaml").write_text(text.replace("slug: laeseheste", "slug: Læseheste"), encoding="utf-8")
    out = run({"PLUSDIG_DATA": str(data)})
    assert out.returncode == 1
    assert "activities.yaml" in out.stderr and "field 'slug'" in out.stderr


def test_validate_fails_on_missing_real_delivery(tmp_path: Path) -> None:
    out = run({"PLUSDIG_SURVEY": str(tmp_path / "missing.csv")})
    assert out.returncode == 1
    assert "missing.csv" in out.stderr and "file not found" in out.stderr


def test_validate_reports_the_threshold() -> None:
    out = run({"PLUSDIG_DISCLOSURE_K": "7"})
    assert out.returncode == 0, out.stderr
    assert "ok  disclosure threshold k: 7" in out.stdout


@pytest.mark.parametrize("value,contains", [
    ("fem", "'fem' is not an integer"),
    ("2", "threshold 2 is below the minimum"),
    ("0", "below the minimum"),
    ("-5", "below the minimum"),
    ("4.5", "'4.5' is not an integer"),
    ("5 elever", "is not an integer"),
])
def test_validate_refuses_a_bad_threshold(value: str, contains: str) -> None:
    """A bad PLUSDIG_DISCLOSURE_K stops `make validate` (before any build) with one line
    naming the variable and the allowed values, not a traceback."""
    out = run({"PLUSDIG_DISCLOSURE_K": value})
    assert out.returncode == 1
    assert "PLUSDIG_DISCLOSURE_K" in out.stderr and contains in out.stderr, out.stderr
    assert "an integer >= 3" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1


@pytest.mark.parametrize("name", ["PLUSDIG_SURVEY_MAPPING", "PLUSDIG_SURVEY_INVITED"])
def test_validate_refuses_settings_that_would_be_ignored(tmp_path: Path, name: str) -> None:
    out = run({name: str(tmp_path / "x")})
    assert out.returncode == 1
    assert f"{name}: is set but PLUSDIG_SURVEY is not" in out.stderr, out.stderr


def test_validate_refuses_a_data_folder_that_is_not_one(tmp_path: Path) -> None:
    out = run({"PLUSDIG_DATA": str(tmp_path / "nowhere")})
    assert out.returncode == 1
    assert "PLUSDIG_DATA" in out.stderr and "is not a folder" in out.stderr, out.stderr


def test_validate_names_a_folder_given_as_the_delivery(tmp_path: Path) -> None:
    out = run({"PLUSDIG_SURVEY": str(tmp_path)})
    assert out.returncode == 1
    assert "is a folder, not a file" in out.stderr or "unsupported file type" in out.stderr
    folder = tmp_path / "delivery.csv"
    folder.mkdir()
    out = run({"PLUSDIG_SURVEY": str(folder)})
    assert "delivery.csv: is a folder, not a file" in out.stderr, out.stderr


def test_validate_never_prints_free_text(tmp_path: Path) -> None:
    """A delivery with a pupil's own words in an answer column: the error reaches the console
    (and so CI logs) without them."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from fixtures import survey_fixtures as sf

    frame = sf.text_frame()
    frame.loc[3, "happiness"] = "Jeg hedder Anna og er ked af det"
    path = sf.write_csv(frame, tmp_path / "d.csv")
    out = run({"PLUSDIG_SURVEY": str(path)})
    assert out.returncode == 1
    assert "row 5" in out.stderr and "field 'happiness'" in out.stderr, out.stderr
    assert "Anna" not in out.stderr + out.stdout and "hedder" not in out.stderr + out.stdout


def test_validate_blames_an_empty_actors_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", data)
    (data / "actors.csv").write_text("id,name,sector,note\n", encoding="utf-8")
    out = run({"PLUSDIG_DATA": str(data)})
    assert out.returncode == 1
    assert "actors.csv: no actors (only a header)" in out.stderr, out.stderr
    assert "activities.yaml" not in out.stderr


def test_build_validates_first_and_stops_before_building_on_bad_data(tmp_path: Path) -> None:
    """`make book` runs `python -m plusdig build ...`: the validation and the build in one
    process. Bad data stops it with validate's own message and exit code, and nothing of the
    book is built (no Sphinx, no site, no build log)."""
    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", data)
    text = (data / "activities.yaml").read_text(encoding="utf-8")
    (data / "activities.yaml").write_text(text.replace("slug: laeseheste", "slug: Læseheste"),
                                          encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUSDIG_")}
    env["PLUSDIG_DATA"] = str(data)
    out = tmp_path / "out"
    built = run_module_apart("plusdig", ["build", str(REPO_ROOT), "-n", "-W", "--keep-going",
                                         "--path-output", str(out)], env, cwd=REPO_ROOT)
    alone = run({"PLUSDIG_DATA": str(data)})
    assert built.returncode == alone.returncode == 1
    assert built.stderr == alone.stderr and "field 'slug'" in built.stderr, built.stderr
    assert "Jupyter-Book" not in built.stdout + built.stderr
    assert not (out / "_build" / "html").exists()
    assert not (out / "_build" / "plusdig-build.log").exists()


def test_an_unknown_command_names_both_commands() -> None:
    proc = run_module_apart("plusdig", ["nothing"], dict(os.environ), cwd=REPO_ROOT)
    assert proc.returncode == 2 and "python -m plusdig build" in proc.stderr
