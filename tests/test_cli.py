"""`python -m plusdig validate`: the check `make book` runs before building."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from plusdig.paths import REPO_ROOT


def run(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUSDIG_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "plusdig", "validate"], capture_output=True, text=True,
                          env=env, cwd=REPO_ROOT)


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
