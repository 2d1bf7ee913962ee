"""``make lab`` renders MyST: the pinned jupyterlab-myst extension is installed and enabled in
the venv's JupyterLab (checked by hand in Chromium: a ``{note}`` directive in a Markdown cell
shows as a note box, a ``{numref}`` as a reference). JupyterLab 4.6 lists the extension with a
version warning about ``@jupyter/ydoc`` (the extension asks for 3.x); it loads and renders."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_jupyterlab_myst_is_pinned_and_enabled() -> None:
    pin = re.search(r"^jupyterlab_myst==(\S+)$",
                    (REPO / "requirements.txt").read_text(encoding="utf-8"), re.M)
    assert pin, "requirements.txt pins no jupyterlab_myst"
    jupyter = Path(sys.executable).parent / "jupyter"
    done = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True,
                          text=True, env={**os.environ, "JUPYTER_PREFER_ENV_PATH": "1"},
                          timeout=120, check=False)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert re.search(rf"jupyterlab-myst v{re.escape(pin.group(1))} enabled", listing), listing
