"""Tests of plusdig.data.datadict: the data dictionary rendered from data files and schemas."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from plusdig.data import datadict
from plusdig.data import models
from plusdig.core.paths import REPO_ROOT


def test_every_tracked_data_file_is_described() -> None:
    """The data dictionary lists exactly the data files in git (READMEs aside)."""
    out = subprocess.run(["git", "ls-files", "data"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    tracked = {p.removeprefix("data/") for p in out
               if not Path(p).name.lower().startswith("readme")}
    described = {f.path for f in datadict.DATA_FILES}
    assert tracked - described == set(), "add these files to plusdig.data.datadict.DATA_FILES"
    assert described - tracked == set(), "these described files are not in git"


def test_catalogue_counts_records_with_the_loaders(tmp_path: Path) -> None:
    import plusdig

    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", data, ignore=shutil.ignore_patterns("private"))
    (data / "extra.csv").write_text("a,b\n1,2\n3,4\n\n", encoding="utf-8")
    (data / "private").mkdir()
    (data / "private" / "secret.csv").write_text("x\n1\n", encoding="utf-8")
    cat = datadict.catalogue(data).set_index("file")
    assert cat.at["data/activities.yaml", "records"] == len(plusdig.load_activities(data))
    assert cat.at["data/actors.csv", "records"] == len(plusdig.load_actors(data))
    assert cat.at["data/actors.csv", "schema"] == "plusdig.data.models.Actor"
    assert cat.at["data/extra.csv", "records"] == 2
    assert cat.at["data/extra.csv", "provenance"] == "Ukendt"
    assert "data/private/secret.csv" not in cat.index
    assert not any(f.lower().startswith("data/readme") for f in cat.index)
    assert cat.at["data/activities.yaml", "provenance"] == "Afskrevet fra aktivitetskataloget"
    assert cat.at["data/coding/lessons.yaml", "provenance"].startswith("Evaluatorernes kodning")


class _Inner(BaseModel):
    code: str
    age: int | None = None


class _Outer(BaseModel):
    name: str
    kind: Literal["a", "b"]
    items: list[_Inner] = []
    inner: _Inner | None = None
    values: list[float]
    flag: bool = False


def test_fields_table_flattens_nested_models() -> None:
    table = datadict.fields_table(_Outer).set_index("field")
    assert list(table.index) == ["name", "kind", "items", "items[].code", "items[].age", "inner",
                                 "inner.code", "inner.age", "values", "flag"]
    assert table.at["kind", "type"] == "én af: a, b"
    assert table.at["items", "type"] == "liste af _Inner"
    assert table.at["inner", "type"] == "_Inner (kan være tom)"
    assert table.at["items[].age", "type"] == "heltal (kan være tom)"
    assert table.at["values", "type"] == "liste af tal"
    assert table.at["flag", "type"] == "ja/nej"
    assert bool(table.at["name", "required"]) and not bool(table.at["flag", "required"])
    assert bool(table.at["items[].code", "required"])  # required within its record
    assert not table["classification"].any()
    assert datadict.fields_table(_Outer, coding=True)["classification"].all()


@pytest.mark.parametrize(("model", "field"), [
    (models.Actor, "sector"), (models.Activity, "target_groups[].kind"),
    (models.Activity, "target_groups[].age_band"), (models.Activity, "outcome.status"),
])
def test_classification_fields_are_marked(model: type[BaseModel], field: str) -> None:
    table = datadict.fields_table(model).set_index("field")
    assert bool(table.at[field, "classification"])
    assert not bool(table.at["counts[].value" if model is models.Activity else "name",
                             "classification"])


def test_schema_table_covers_every_file_with_a_schema() -> None:
    table = datadict.schema_table()
    with_model = {f"data/{f.path}" for f in datadict.DATA_FILES if f.model}
    assert set(table["file"]) == with_model
    coding = table[table["file"].str.startswith("data/coding/")]
    assert coding["classification"].all()
