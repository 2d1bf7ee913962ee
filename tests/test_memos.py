"""Memos that make rebuilds faster give exactly what they stand for: the parsed YAML of
plusdig.data.readers and the site's XLSX downloads (plusdig.publish.downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plusdig.core.errors import DataValidationError
from plusdig.data import readers


def test_the_yaml_memo_returns_a_fresh_copy_and_follows_the_text(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("- id: a\n  tal: 1\n", encoding="utf-8")
    first = readers.read_yaml(path)
    first[0]["tal"] = 99  # a caller changes what it got ...
    second = readers.read_yaml(path)
    assert second == [{"id": "a", "tal": 1}]  # ... the next caller gets the file's content
    assert second is not first
    assert readers.read_yaml(path, text_only=True) == [{"id": "a", "tal": "1"}]
    path.write_text("- id: b\n  tal: 2\n", encoding="utf-8")
    assert readers.read_yaml(path) == [{"id": "b", "tal": 2}]
    path.write_text("- id: a\n  id: b\n", encoding="utf-8")  # errors are never remembered
    for _ in range(2):
        with pytest.raises(DataValidationError):
            readers.read_yaml(path)


def test_the_yaml_memo_still_logs_every_read(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "reads.log"
    monkeypatch.setenv("PLUSDIG_READ_LOG", str(log))
    path = tmp_path / "a.yaml"
    path.write_text("x: 1\n", encoding="utf-8")
    readers.read_yaml(path)
    log.unlink()
    readers.read_yaml(path)  # from the memo, and logged: the build's dependency record needs it
    assert str(path) in log.read_text(encoding="utf-8")


def test_the_xlsx_memo_gives_the_bytes_xlsx_bytes_gives(tmp_path: Path) -> None:
    """A page's tables' workbooks are taken from the memo only for the very same table."""
    from plusdig.publish import downloads

    memo = tmp_path / "memo"
    sheet = downloads.sheet_from_cells("Tabel 1", "Prøve", ["A", "B"], [["x", "1,5"], ["y", "2"]])
    first = downloads.xlsx_bytes_memo(sheet, memo)
    assert first == downloads.xlsx_bytes(sheet)
    assert len(list(memo.iterdir())) == 1
    assert downloads.xlsx_bytes_memo(sheet, memo) == first  # from the memo
    other = downloads.sheet_from_cells("Tabel 1", "Prøve", ["A", "B"], [["x", "1,5"], ["y", "3"]])
    assert downloads.xlsx_bytes_memo(other, memo) == downloads.xlsx_bytes(other) != first
    assert len(list(memo.iterdir())) == 2
    renamed = downloads.sheet_from_cells("Tabel 2", "Prøve", ["A", "B"], [["x", "1,5"], ["y", "2"]])
    assert downloads.xlsx_bytes_memo(renamed, memo) == downloads.xlsx_bytes(renamed) != first
