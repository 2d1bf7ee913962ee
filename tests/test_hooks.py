"""Unit tests of plusdig.authoring.hooks: the checks behind the pre-commit hooks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plusdig.survey import contract as survey_contract
from plusdig.authoring import hooks
from plusdig.core.paths import REPO_ROOT

CONTRACT_HEADER = "respondent_id,year,school,grade,gender,lonely,happiness\n"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, as pre-commit runs from a repository root."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- private data
def test_private_folder_is_refused(in_tmp: Path) -> None:
    write(in_tmp / "data/private/notes.md", "anything\n")
    problems = hooks.check_private(["data/private/notes.md"])
    assert len(problems) == 1
    assert "data/private/notes.md" in problems[0]
    assert "git restore --staged" in problems[0]


def test_private_in_other_folder_name_is_not_the_private_folder(in_tmp: Path) -> None:
    write(in_tmp / "book/privatliv.md", "# Privatliv\n")
    assert hooks.check_private(["book/privatliv.md"]) == []


@pytest.mark.parametrize("name", ["data/survey/raw_2018.csv", "elevsvar.csv", "data/x.tsv"])
def test_respondent_level_csv_is_refused(in_tmp: Path, name: str) -> None:
    sep = "\t" if name.endswith(".tsv") else ","
    write(in_tmp / name, CONTRACT_HEADER.replace(",", sep) + sep.join("1" * 7) + "\n")
    problems = hooks.check_private([name])
    assert len(problems) == 1 and name in problems[0]
    assert "respondent_id" in problems[0] and "data/private" in problems[0]


def test_semicolon_csv_without_respondent_id_but_three_contract_columns(in_tmp: Path) -> None:
    write(in_tmp / "a.csv", "Year;School;Lonely;other\n2018;A;1;x\n")
    assert hooks.respondent_columns(in_tmp / "a.csv") == ["lonely", "school", "year"]
    assert len(hooks.check_private(["a.csv"])) == 1


def test_aggregate_tables_are_allowed(in_tmp: Path) -> None:
    # two contract columns are not enough; the published figures share none
    write(in_tmp / "agg.csv", "year,grade,share\n2018,6,12.5\n")
    assert hooks.respondent_columns(in_tmp / "agg.csv") is None
    published = REPO_ROOT / "data/survey/published.csv"
    if published.exists():
        assert hooks.respondent_columns(published) is None
    assert hooks.check_private(["agg.csv"]) == []


def test_synthetic_folder_is_allowed(in_tmp: Path) -> None:
    name = "data/survey/synthetic/survey.csv"
    write(in_tmp / name, CONTRACT_HEADER + "1,2018,A,6,f,0,3\n")
    assert hooks.check_private([name]) == []
    # the same file anywhere else is refused
    write(in_tmp / "data/survey/survey.csv", CONTRACT_HEADER)
    assert len(hooks.check_private(["data/survey/survey.csv"])) == 1


def test_respondent_level_xlsx_is_refused(in_tmp: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["note"])
    sheet = book.create_sheet("svar")
    sheet.append(["respondent_id", "year", "lonely"])
    sheet.append([1, 2018, 0])
    book.save(in_tmp / "svar.xlsx")
    assert hooks.respondent_columns(in_tmp / "svar.xlsx") == ["lonely", "respondent_id", "year"]
    assert len(hooks.check_private(["svar.xlsx"])) == 1


def test_respondent_level_parquet_is_refused(in_tmp: Path) -> None:
    import pandas as pd

    pd.DataFrame({"respondent_id": [1], "grade": [6]}).to_parquet(in_tmp / "s.parquet")
    assert hooks.respondent_columns(in_tmp / "s.parquet") == ["grade", "respondent_id"]


def test_respondent_level_sav_is_refused(in_tmp: Path) -> None:
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame({"school": ["A"], "gender": ["f"], "bullied": [0.0]})
    pyreadstat.write_sav(frame, str(in_tmp / "s.sav"))
    assert hooks.respondent_columns(in_tmp / "s.sav") == ["bullied", "gender", "school"]


def test_unreadable_spreadsheet_fails_closed(in_tmp: Path) -> None:
    write(in_tmp / "broken.xlsx", "this is not a zip file")
    assert hooks.respondent_columns(in_tmp / "broken.xlsx") == ["<kunne ikke læses>"]
    assert len(hooks.check_private(["broken.xlsx"])) == 1


def test_non_table_files_are_not_inspected(in_tmp: Path) -> None:
    write(in_tmp / "notes.md", "respondent_id,year,school\n")
    assert hooks.respondent_columns(in_tmp / "notes.md") is None


# --------------------------------------------------------------------------- YAML
def test_valid_yaml_passes(in_tmp: Path) -> None:
    write(in_tmp / "ok.yaml", "a: 1\nb:\n  - x\n  - y\n")
    assert hooks.check_yaml(["ok.yaml"]) == []


def test_yaml_syntax_error_names_line(in_tmp: Path) -> None:
    write(in_tmp / "bad.yaml", "a: 1\nb: [unclosed\n")
    (problem,) = hooks.check_yaml(["bad.yaml"])
    assert problem.startswith("bad.yaml: linje 3") and "ugyldig YAML" in problem


def test_yaml_duplicate_key_is_refused(in_tmp: Path) -> None:
    write(in_tmp / "dup.yaml", "- id: 1\n  title: A\n  title: B\n")
    (problem,) = hooks.check_yaml(["dup.yaml"])
    assert "'title' står to gange" in problem and "linje 2" in problem and "linje 3" in problem


def test_yaml_not_utf8(in_tmp: Path) -> None:
    (in_tmp / "latin.yaml").write_bytes("titel: Sm\xf8rum\n".encode("latin-1"))
    (problem,) = hooks.check_yaml(["latin.yaml"])
    assert "UTF-8" in problem


def test_repository_yaml_files_pass() -> None:
    files = sorted((REPO_ROOT / "data").rglob("*.yaml")) + [REPO_ROOT / "_toc.yml"]
    assert hooks.check_yaml(files) == []


# --------------------------------------------------------------------------- notebooks
def _notebook(path: Path, count: int | None = 7) -> Path:
    import nbformat

    v4 = nbformat.v4
    keep = v4.new_code_cell("print(1)", metadata={"keep_output": True, "tags": ["x"]},
                            execution_count=count)
    keep.outputs = [v4.new_output("stream", name="stdout", text="1\n")]
    drop = v4.new_code_cell("print(2)", execution_count=8,
                            metadata={"execution": {"iopub.status.idle": "2026-01-01"}})
    drop.outputs = [v4.new_output("stream", name="stdout", text="2\n")]
    empty_keep = v4.new_code_cell("x = 1", metadata={"keep_output": True}, execution_count=9)
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# T"), keep, drop, empty_keep])
    nb.metadata["widgets"] = {"state": {}}
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(("count", "kept"), [(7, 7), (None, 1)])
def test_strip_notebook_keeps_headline_output_and_a_count(tmp_path: Path, count: int | None,
                                                          kept: int) -> None:
    import nbformat

    path = _notebook(tmp_path / "nb.ipynb", count)
    ids = [c.id for c in nbformat.read(path, as_version=4).cells]
    assert hooks.strip_notebook(path) is True
    nb = nbformat.read(path, as_version=4)
    keep, drop, empty_keep = nb.cells[1:]
    assert keep.outputs[0]["text"] == "1\n" and keep.execution_count == kept
    assert drop.outputs == [] and drop.execution_count is None and "execution" not in drop.metadata
    assert empty_keep.outputs == [] and empty_keep.execution_count is None
    assert "widgets" not in nb.metadata
    assert [c.id for c in nb.cells] == ids
    assert hooks.strip_notebook(path) is False  # idempotent


def test_strip_notebooks_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    _notebook(tmp_path / "nb.ipynb")
    assert hooks.main(["strip-notebooks", "nb.ipynb"]) == 1
    assert "nb.ipynb: output fjernet" in capsys.readouterr().err
    assert hooks.main(["strip-notebooks", "nb.ipynb"]) == 0


# --------------------------------------------------------------------------- validation
@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", dest, ignore=shutil.ignore_patterns("private"))
    return dest


def test_check_data_passes_on_the_repository_data(data_copy: Path) -> None:
    assert hooks.check_data(data_copy) == []


def test_check_data_reports_file_record_and_field(data_copy: Path) -> None:
    actors = data_copy / "actors.csv"
    lines = actors.read_text(encoding="utf-8").splitlines()
    head, first = lines[0].split(","), lines[1].split(",")
    first[head.index("sector")] = "kommunen"  # not a code of data/vocabularies.yaml
    lines[1] = ",".join(first)
    actors.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (problem,) = hooks.check_data(data_copy)
    assert problem.startswith("Datafejl: ")
    assert "actors.csv" in problem and "row 2" in problem and "field 'sector'" in problem
    assert "'kommunen'" in problem


def test_check_data_defaults_to_cwd_data(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(data_copy.parent)
    (data_copy / "activities.yaml").write_text("- id: 1\n  title: [\n", encoding="utf-8")
    (problem,) = hooks.check_data()
    assert "activities.yaml" in problem and "malformed YAML" in problem


# --------------------------------------------------------------------------- command line
def test_main_exit_codes(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(in_tmp / "ok.yaml", "a: 1\n")
    write(in_tmp / "bad.yaml", "a: [\n")
    assert hooks.main(["check-yaml", "ok.yaml"]) == 0
    assert hooks.main(["check-yaml", "ok.yaml", "bad.yaml"]) == 1
    err = capsys.readouterr().err
    assert "Commit'et er afvist" in err and "bad.yaml" in err and "ok.yaml" not in err
    assert hooks.main([]) == 2
    assert hooks.main(["nonsense"]) == 2


def test_contract_columns_match_the_survey_contract() -> None:
    """The hook recognises exactly the columns of the survey loader's input contract."""

    assert set(survey_contract.COLUMNS) == hooks.SURVEY_CONTRACT_COLUMNS
