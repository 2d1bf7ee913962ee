"""How notebooks are committed: outputs only in headline cells, and those hold a real run.

nbval compares the stored output of `nbval-check-output` cells with a fresh run, so each
notebook's headline numbers are checked; a headline cell with no stored output (or no
execution count) would make that check compare nothing or fail for the wrong reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plusdig.core.paths import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "book").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_headline_cells_hold_stored_output_and_nothing_else_does(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    headline = [c for c in code if "nbval-check-output" in c.get("metadata", {}).get("tags", [])]
    assert headline, f"{path.name}: no cell tagged nbval-check-output (its headline numbers are unchecked)"
    for cell in headline:
        src = "".join(cell["source"])[:60]
        assert cell["metadata"].get("keep_output"), f"{path.name}: headline cell {src!r} lacks keep_output"
        assert cell.get("outputs"), f"{path.name}: headline cell {src!r} has no stored output"
        assert cell.get("execution_count") is not None, f"{path.name}: headline cell {src!r} has no count"
    stray = [c for c in code if c.get("outputs") and not c.get("metadata", {}).get("keep_output")]
    assert not stray, f"{path.name}: {len(stray)} cell(s) committed with outputs outside keep_output cells"
