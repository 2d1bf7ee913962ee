"""scripts/system-deps.sh: idempotent as root, and a clear stop without root."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "system-deps.sh"


def test_nothing_to_do_once_installed() -> None:
    # make test ran the script before the tests: a second run installs and prints nothing
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to run the script as an unprivileged user")
def test_without_root_prints_the_install_line_and_stops() -> None:
    # a missing Python (the check is functional) is something the script must install
    # the script comes on standard input: the unprivileged user need not reach the checkout
    env = {"PATH": "/usr/bin:/bin", "PYTHON": "/nonexistent/python3", "HOME": "/"}
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-s"],
        input=SCRIPT.read_text(encoding="utf-8"), capture_output=True, text=True, env=env,
        cwd="/", timeout=60)
    assert done.returncode == 1
    assert "these Debian packages are missing: " in done.stderr
    install = [line.strip() for line in done.stderr.splitlines() if "apt-get install" in line]
    assert len(install) == 1 and "python3 python3-venv" in install[0]
    assert "installing" not in done.stdout
