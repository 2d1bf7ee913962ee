"""``make`` repairs the project's virtual environment (scripts/ensure-venv.sh).

Each test makes a small project (the real Makefile and script, an empty pin list), breaks its
``.venv`` the way users do, and runs ``make venv`` (what ``make book`` and ``make test`` run
first): the environment is recreated, and the message says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: A Python with venv/ensurepip for the small projects (the one running the tests is a venv's).
BASE_PYTHON = Path(getattr(sys, "_base_executable", sys.executable))


def _bundled_pip() -> str:
    """The pip that ``python -m venv`` puts in a new environment (no download needed)."""
    import ensurepip
    return ensurepip.version()


def _project(path: Path) -> Path:
    (path / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "Makefile", path / "Makefile")
    shutil.copy(REPO / "scripts" / "ensure-venv.sh", path / "scripts" / "ensure-venv.sh")
    (path / "requirements.txt").write_text("# nothing pinned in this test project\n")
    (path / "pyproject.toml").write_text("")
    return path


def _make_venv(project: Path) -> subprocess.CompletedProcess[str]:
    # PIP_VERSION: keep the bundled pip, so the test downloads nothing
    env = {**os.environ, "PIP_VERSION": _bundled_pip()}
    return subprocess.run(["make", "--no-print-directory", "venv", f"PYTHON={BASE_PYTHON}"],
                          cwd=project, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = _project(tmp_path_factory.mktemp("venvs") / "project")
    first = _make_venv(project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "creating .venv" in first.stderr
    return project


def _copy(made: Path, dest: Path) -> Path:
    shutil.copytree(made, dest, symlinks=True)
    return dest


def test_a_sound_venv_is_left_alone(made: Path, tmp_path: Path) -> None:
    # the same folder, run again: nothing to say, nothing reinstalled
    again = _make_venv(made)
    assert again.returncode == 0 and again.stderr == "", again.stderr


def test_venv_without_pip_is_recreated(made: Path, tmp_path: Path) -> None:
    project = _copy(made, tmp_path / "project")
    # the copy's venv is foreign; make it this folder's first, then remove pip
    subprocess.run([str(BASE_PYTHON), "-m", "venv", "--clear", "--without-pip", ".venv"],
                   cwd=project, check=True)
    result = _make_venv(project)
    assert result.returncode == 0, result.stderr
    assert "has no pip. Recreating it." in result.stderr
    assert subprocess.run([str(project / ".venv/bin/python"), "-m", "pip", "--version"],
                          capture_output=True).returncode == 0


def test_venv_from_another_checkout_is_recreated(made: Path, tmp_path: Path) -> None:
    project = _copy(made, tmp_path / "other-checkout")
    result = _make_venv(project)
    assert result.returncode == 0, result.stderr
    assert "was made for another folder" in result.stderr and str(made) in result.stderr
    pip_script = (project / ".venv/bin/pip").read_text().splitlines()[:3]
    assert any(str(project / ".venv/bin/python") in line for line in pip_script)


def test_half_made_venv_is_recreated(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    (project / ".venv" / "bin").mkdir(parents=True)  # what a failed `python3 -m venv` leaves
    result = _make_venv(project)
    assert result.returncode == 0, result.stderr
    assert "not a virtual environment (no pyvenv.cfg)" in result.stderr
    assert (project / ".venv/pyvenv.cfg").is_file()


def test_unsupported_python_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    fake = tmp_path / "python-old"
    fake.write_text("#!/bin/sh\nexec %s -c 'import sys; sys.exit(1)' \"$@\"\n" % BASE_PYTHON)
    fake.chmod(0o755)
    result = subprocess.run(["make", "--no-print-directory", "venv", f"PYTHON={fake}"],
                            cwd=project, capture_output=True, text=True)
    assert result.returncode != 0
    assert "kræver Python 3.11.2–3.13" in result.stderr
    assert not (project / ".venv").exists()


def test_venv_whose_python_fails_or_lacks_the_library_is_recreated(made: Path) -> None:
    """The venv's Python is started once for all its checks (scripts/ensure-venv.sh): a
    Python that does not run, and one without this checkout's library, are each found."""
    project = made  # the module's last use of it: the other tests have copied it
    assert _make_venv(project).stderr == ""  # sound
    python = project / ".venv/bin/python"
    python.unlink()
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    result = _make_venv(project)
    assert result.returncode == 0, result.stderr
    assert "its Python does not run. Recreating it." in result.stderr
    # a checkout of the book (lib/plusdig) whose venv does not hold that library
    (project / "lib/plusdig").mkdir(parents=True)
    (project / "lib/plusdig/__init__.py").write_text("")
    result = _make_venv(project)
    assert result.returncode == 0, result.stderr
    assert "the book's library (plusdig) is not installed in it. Recreating it." in result.stderr


def test_python_without_venv_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    fake = tmp_path / "python-no-venv"  # a supported Python whose ensurepip cannot be imported
    fake.write_text("#!/bin/sh\n"
                    "if [ \"$1\" = -c ]; then shift; exec %s -c \"import sys; "
                    "sys.modules['ensurepip'] = None\n$1\"; fi\nexec %s \"$@\"\n"
                    % (BASE_PYTHON, BASE_PYTHON))
    fake.chmod(0o755)
    result = subprocess.run(["make", "--no-print-directory", "venv", f"PYTHON={fake}"],
                            cwd=project, capture_output=True, text=True)
    assert result.returncode != 0
    assert "mangler venv/ensurepip" in result.stderr and "ikke understøttet" not in result.stderr
    assert not (project / ".venv").exists()
