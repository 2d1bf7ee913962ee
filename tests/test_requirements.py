"""The pinned environment installs on every supported Python, without installing anything.

pip's resolver is asked, for each supported interpreter version, whether every pin in
``requirements.txt`` has a wheel that version accepts (``Requires-Python`` and wheel tags):
``pip install --dry-run --ignore-installed --only-binary=:all: --python-version X``. The
supported range is the one ``pyproject.toml`` declares; the versions checked are its lower
bound (Debian 12's 3.11.2) and the newest minor release below its upper bound, with 3.12 between.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO / "requirements.txt"

#: Debian 12 ships 3.11.2; Ubuntu 24.04 ships 3.12; Debian 13 ships 3.13.
SUPPORTED = ("3.11.2", "3.12", "3.13")


def _range() -> tuple[str, str]:
    spec = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["requires-python"]
    low = re.search(r">=\s*([\d.]+)", spec)
    high = re.search(r"<\s*([\d.]+)", spec)
    assert low and high, f"pyproject.toml: requires-python {spec!r} needs a lower and an upper bound"
    return low.group(1), high.group(1)


def test_declared_range_is_the_one_checked() -> None:
    low, high = _range()
    assert low == SUPPORTED[0], f"pyproject.toml's lower bound {low} is not checked here"
    major, minor = (int(x) for x in high.split(".")[:2])
    assert SUPPORTED[-1] == f"{major}.{minor - 1}", (
        f"pyproject.toml allows Python below {high}; the newest allowed minor release must be "
        f"checked here (SUPPORTED ends with {SUPPORTED[-1]})")


def test_readme_states_the_range() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert f"Python {SUPPORTED[0]}" in readme and SUPPORTED[-1] in readme


def _pins() -> list[str]:
    return [line for line in REQUIREMENTS.read_text("utf-8").splitlines()
            if line.strip() and not line.startswith(("#", "-e"))]


@pytest.fixture(scope="module")
def dry_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, Path]]:
    """pip's dry run for every supported version, the three started at once (they run side
    by side instead of one after another): version → (exit code, stderr, report file)."""
    tmp = tmp_path_factory.mktemp("pins")
    req = tmp / "requirements.txt"
    req.write_text("\n".join(_pins()) + "\n", encoding="utf-8")
    started = {}
    for version in SUPPORTED:
        report = tmp / f"report-{version}.json"
        started[version] = (subprocess.Popen(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
             "--only-binary=:all:", "--python-version", version, "--target",
             str(tmp / f"t-{version}"), "--quiet", "--report", str(report), "-r", str(req)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), report)
    results = {}
    for version, (proc, report) in started.items():
        _, stderr = proc.communicate(timeout=600)
        results[version] = (proc.returncode, stderr, report)
    return results


@pytest.mark.parametrize("version", SUPPORTED)
def test_pins_install_on(version: str, dry_runs: dict[str, tuple[int, str, Path]]) -> None:
    pins = _pins()
    assert len(pins) > 100, "requirements.txt should pin the whole environment"
    returncode, stderr, report_path = dry_runs[version]
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR")]
    assert returncode == 0, f"the pins do not install on Python {version}:\n" + "\n".join(errors)
    report = json.loads(report_path.read_text("utf-8"))
    names = {item["metadata"]["name"].lower().replace("_", "-") for item in report["install"]}
    missing = {p.split("==")[0].lower().replace("_", "-") for p in pins} - names
    assert not missing, f"Python {version}: pip would not install {sorted(missing)}"
    yanked = sorted(f"{item['metadata']['name']}=={item['metadata']['version']}"
                    for item in report["install"] if item.get("is_yanked"))
    assert not yanked, f"Python {version}: yanked releases pinned: {yanked}"
