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


# --------------------------------------------------------------------------- the loaders' memo
@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """A copy of the book's data folder (the loaders' memo keeps nothing across tests' folders
    but what their contents say)."""
    import shutil

    from plusdig.core.paths import REPO_ROOT

    folder = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", folder, ignore=shutil.ignore_patterns("private"))
    return folder


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the readers parse from here on (a memo hit parses nothing)."""
    parsed: list[str] = []
    real_yaml, real_csv = readers.read_yaml, readers.read_csv_rows
    from plusdig.data import coding, load

    def yaml_(path: Path, **kw: object) -> object:
        parsed.append(path.name)
        return real_yaml(path, **kw)  # type: ignore[arg-type]

    def csv_(path: Path, *a: object) -> object:
        parsed.append(path.name)
        return real_csv(path, *a)  # type: ignore[arg-type]

    for module in (load, coding):
        monkeypatch.setattr(module, "read_yaml", yaml_, raising=False)
        monkeypatch.setattr(module, "read_csv_rows", csv_, raising=False)
    return parsed


def test_the_loaders_memo_gives_a_fresh_copy_once_per_content(
        data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loader called again with the same files does not parse or validate them again, and
    the caller gets its own copy: what one caller changes, the next does not see."""
    from plusdig.data import load

    parsed = _counting(monkeypatch)
    first = load.load_activities(data)
    assert parsed.count("activities.yaml") == 1
    title = first[0].title
    first.pop()  # (the records themselves are frozen models)
    actors = load.load_actors(data)
    actors.loc[actors.index[0], "name"] = "ændret"
    parsed.clear()
    again = load.load_activities(data)
    assert parsed == []  # from the memo: nothing parsed, nothing validated
    assert again[0].title == title and len(again) == len(first) + 1
    assert again is not first and again[0] is not first[0]
    assert load.load_actors(data).iloc[0]["name"] != "ændret"
    assert load.load_activities(data) == again == load.load_activities.__wrapped__(data)
    assert load.activities_table(data).equals(load.activities_table.__wrapped__(data))


def test_the_loaders_memo_follows_every_file_read(data: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A change to any file a memoised loader read, also one read by a loader it called
    (actors.csv for load_activities), is seen by the next call; an error is never remembered."""
    from plusdig.core.errors import DataValidationError
    from plusdig.data import load

    parsed = _counting(monkeypatch)
    load.load_activities(data)
    actors = data / "actors.csv"
    text = actors.read_text(encoding="utf-8")
    first_id = text.splitlines()[1].split(",")[0]
    actors.write_text(text.replace(f"\n{first_id},", "\nukendt-id,", 1), encoding="utf-8")
    parsed.clear()
    with pytest.raises(DataValidationError) as err:  # an activity's partner is now unknown
        load.load_activities(data)
    assert "activities.yaml" in str(err.value) and "actors.csv" in parsed
    with pytest.raises(DataValidationError):  # the error again: not remembered
        load.load_activities(data)
    actors.write_text(text, encoding="utf-8")
    assert load.load_activities(data) == load.load_activities.__wrapped__(data)
    monkeypatch.setenv("PLUSDIG_DATA", str(data))  # the data folder is part of the key
    parsed.clear()
    assert load.load_activities() == load.load_activities(data)
    assert parsed.count("activities.yaml") == 2  # computed for the new data folder ...
    parsed.clear()
    load.load_activities()
    assert parsed == []  # ... and then remembered for it


def test_a_memoised_call_logs_every_file_the_first_call_read(
        data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build's dependency record: a notebook that got a loader's result from the memo has
    read the same files as the call that computed it, nested loaders' files included."""
    from plusdig.data import coding, load, validate

    def reads(fn: object) -> set[str]:
        log = tmp_path / "reads.log"
        log.unlink(missing_ok=True)
        monkeypatch.setenv("PLUSDIG_READ_LOG", str(log))
        fn()  # type: ignore[operator]
        monkeypatch.delenv("PLUSDIG_READ_LOG")
        return set(log.read_text(encoding="utf-8").split())

    for fn in (lambda: coding.conditions_table(data), lambda: load.partners_table(data),
               lambda: validate.validate_all(data)):
        cold = reads(fn)
        assert cold == reads(fn)  # the second call: from the memo (inner and outer)
    assert {Path(p).name for p in cold} >= {"activities.yaml", "actors.csv",
                                           "vocabularies.yaml", "first_year.yaml",
                                           "published.csv", "conditions.yaml", "lessons.yaml"}
    load.load_actors(data)  # a hit inside a computed call is recorded for the outer call too
    from plusdig.data import cache

    cache.clear()
    load.load_actors(data)
    assert reads(lambda: load.partners_table(data)) >= {str((data / "actors.csv").resolve()),
                                                        str((data / "vocabularies.yaml").resolve())}
    assert reads(lambda: load.partners_table(data)) >= {str((data / "actors.csv").resolve())}


def test_the_survey_tables_are_computed_once_per_settings_and_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """current_tables runs the pipeline once for the same PLUSDIG_* settings and survey files,
    and again when a setting (the threshold, the survey file) or a file's content changes."""
    import shutil

    from plusdig.core.paths import data_dir
    from plusdig.survey import contract
    from plusdig.survey import tables as survey_tables

    runs: list[int] = []
    real = survey_tables.run_pipeline
    monkeypatch.setattr(survey_tables, "run_pipeline",
                        lambda data, k=None: (runs.append(1), real(data, k=k))[1])
    monkeypatch.delenv("PLUSDIG_DISCLOSURE_K", raising=False)
    data, tables = survey_tables.current_tables(5)
    tables["response"].values.iloc[0, 0] = -1  # a caller's change stays the caller's
    again = survey_tables.current_tables(5)
    assert len(runs) == 1 and again[1]["response"].values.iloc[0, 0] != -1
    assert again[0].frame.equals(data.frame)
    survey_tables.current_tables(6)
    monkeypatch.setenv("PLUSDIG_DISCLOSURE_K", "7")  # a setting is part of the key
    survey_tables.current_tables(6)
    assert len(runs) == 3
    copy = tmp_path / "survey.csv"
    shutil.copy(data_dir() / contract.SYNTHETIC_FILE, copy)
    monkeypatch.setenv("PLUSDIG_SURVEY", str(copy))
    first = survey_tables.current_tables(6)[1]
    survey_tables.current_tables(6)
    assert len(runs) == 4
    lines = copy.read_text(encoding="utf-8").splitlines(keepends=True)
    copy.write_text("".join(lines[:-200]), encoding="utf-8")  # fewer answers: new tables
    changed = survey_tables.current_tables(6)[1]
    assert len(runs) == 5
    assert not changed["response"].values.equals(first["response"].values)
