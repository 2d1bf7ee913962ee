"""No respondent-level survey data in git, except the labelled synthetic dataset.

A committed table file (CSV/TSV/TXT, XLSX, Parquet, SPSS) "looks like respondent-level data"
when its header has ``respondent_id`` or at least three of the input contract's columns. Only
``data/survey/synthetic/`` may hold such a file, and what is there must be synthetic (ids
``SYN<year>-…``, exactly the generator's files).
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path, PurePosixPath

import pandas as pd
import pytest

from plusdig.survey import contract as survey_contract
from plusdig.survey import synthetic

REPO = Path(__file__).resolve().parents[1]
SYNTHETIC = PurePosixPath("data/survey/synthetic")
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq", ".sav",
                  ".zsav", ".por", ".dta", ".feather"}
CONTRACT = set(survey_contract.COLUMNS)


def header(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv", ".txt"}:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            first = fh.readline()
        delimiter = max(",;\t|", key=first.count)
        return next(csv.reader([first], delimiter=delimiter), [])
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        sheets = pd.read_excel(path, sheet_name=None, nrows=0)
        return [str(c) for frame in sheets.values() for c in frame.columns]
    if suffix in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    if suffix in {".sav", ".zsav", ".por"}:
        import pyreadstat

        reader = pyreadstat.read_por if suffix == ".por" else pyreadstat.read_sav
        return list(reader(str(path), metadataonly=True)[1].column_names)
    if suffix == ".dta":
        return list(pd.read_stata(path, iterator=True).variable_labels())
    if suffix == ".feather":
        import pyarrow.feather as feather

        return list(feather.read_table(path).column_names)
    return []


def looks_like_respondent_data(path: Path) -> bool:
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    try:
        cols = {c.strip().lower() for c in header(path)}
    except Exception:  # noqa: BLE001 - an unreadable table cannot be cleared
        return True
    return "respondent_id" in cols or len(cols & CONTRACT) >= 3


def committed_files() -> list[PurePosixPath]:
    if (REPO / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True).stdout.decode("utf-8")
        return [PurePosixPath(p) for p in out.split("\0") if p]
    skip = {".venv", "_build", "node_modules", ".git"}
    return [PurePosixPath(p.relative_to(REPO).as_posix()) for p in REPO.rglob("*")
            if p.is_file() and not (set(p.relative_to(REPO).parts) & skip)]


def test_detector_is_not_vacuous(tmp_path):
    rows = pd.DataFrame({"Respondent_ID": ["x"], "year": [2018], "lonely": ["nej"]})
    rows.to_csv(tmp_path / "a.csv", sep=";", index=False)
    assert looks_like_respondent_data(tmp_path / "a.csv")
    rows.drop(columns=["Respondent_ID"]).assign(school="s").to_excel(tmp_path / "b.xlsx",
                                                                   index=False)
    assert looks_like_respondent_data(tmp_path / "b.xlsx")
    rows.to_parquet(tmp_path / "c.parquet")
    assert looks_like_respondent_data(tmp_path / "c.parquet")
    pd.DataFrame({"year": [2018], "invited": [1200]}).to_csv(tmp_path / "d.csv", index=False)
    assert not looks_like_respondent_data(tmp_path / "d.csv")
    assert looks_like_respondent_data(REPO / SYNTHETIC / synthetic.SYNTHETIC_NAMES[0])


def test_no_committed_respondent_data_outside_the_synthetic_folder():
    files = committed_files()
    assert files, "no files found"
    offenders = [str(p) for p in files
                 if p.parts[: len(SYNTHETIC.parts)] != SYNTHETIC.parts
                 and (REPO / p).is_file() and looks_like_respondent_data(REPO / p)]
    assert offenders == [], f"respondent-level data committed: {offenders}"
    assert not [p for p in files if p.parts[:2] == ("data", "private")]
    assert not [p for p in files if p.suffix.lower() in {".sav", ".zsav", ".por"}]


def test_synthetic_folder_holds_only_the_generated_synthetic_files():
    files = [p for p in committed_files() if p.parts[: len(SYNTHETIC.parts)] == SYNTHETIC.parts]
    names = {p.name for p in files}
    if not names:  # not committed yet (working copy): check the folder itself
        names = {p.name for p in (REPO / SYNTHETIC).iterdir()}
    assert names == {*synthetic.SYNTHETIC_NAMES, "README.md"}
    assert all("synthetic" in n.lower() or n == "README.md" for n in names)
    rows = pd.read_csv(REPO / SYNTHETIC / synthetic.SYNTHETIC_NAMES[0], dtype=str)
    assert rows["respondent_id"].str.match(r"^SYN\d{4}-\d+$").all()
    readme = (REPO / SYNTHETIC / "README.md").read_text(encoding="utf-8")
    assert "SYNTETISKE DATA" in readme and "synthetic" in readme.lower()


@pytest.mark.parametrize("path", ["data/private/trivsel.csv", "data/private/x/y.xlsx",
                                  "levering.sav", "data/survey/real.sav"])
def test_private_locations_are_ignored_by_git(path):
    if not (REPO / ".git").exists():
        pytest.fail("not a git checkout: cannot check .gitignore")
    proc = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO,
                          check=False)
    assert proc.returncode == 0, f"{path} is not ignored by .gitignore"
