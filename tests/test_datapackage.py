"""The book's data files as a Frictionless data package (issue 16), validated by frictionless."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from plusdig.publish import datapackage
from plusdig.data.datadict import DATA_FILES
from plusdig.core.paths import data_dir


def _validate(descriptor: Path) -> None:
    from frictionless import Package, validate

    report = validate(str(descriptor))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:20]
    package = Package(str(descriptor))
    assert len(package.resources) == len(datapackage.published_files())


def test_package_validates_and_holds_no_respondent_data(tmp_path):
    out = datapackage.write_package(tmp_path / "data")
    _validate(out)
    meta = json.loads(out.read_text(encoding="utf-8"))
    paths = {r["path"] for r in meta["resources"]}
    assert "activities.yaml" in paths and "actors.csv" in paths and "survey/published.csv" in paths
    respondent = {f.path for f in DATA_FILES if f.provenance in ("synthetic", "example")}
    assert respondent and not paths & respondent
    assert not any(p.name.startswith("synthetic") for p in (tmp_path / "data").rglob("*"))


def test_csv_schemas_are_the_files_headers_and_types(tmp_path):
    meta = datapackage.descriptor()
    tabular = [r for r in meta["resources"] if r["format"] == "csv"]
    assert len(tabular) == 2
    for r in tabular:
        with (data_dir() / r["path"]).open(encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert [fl["name"] for fl in r["schema"]["fields"]] == header
    published = next(r for r in tabular if r["path"] == "survey/published.csv")
    fields = {f["name"]: f for f in published["schema"]["fields"]}
    assert fields["value"]["type"] == "number" and fields["year_start"]["type"] == "integer"
    assert fields["unit"]["constraints"]["enum"][:2] == ["antal", "procent"]
    yaml_res = [r for r in meta["resources"] if r["format"] == "yaml"]
    assert yaml_res and all(r["plusdig:fields"] for r in yaml_res)


def test_a_changed_file_fails_validation(tmp_path):
    from frictionless import validate

    out = datapackage.write_package(tmp_path / "data")
    with (tmp_path / "data" / "actors.csv").open("a", encoding="utf-8") as f:
        f.write("ny-aktoer,Ny aktør,municipality,\n")
    assert not validate(str(out)).valid  # the hash and size no longer match


@pytest.mark.build
def test_the_site_carries_the_package(built_site):
    descriptor = built_site / "data" / datapackage.DESCRIPTOR
    _validate(descriptor)
    page = (built_site / "book" / "appendix" / "data-og-downloads.html").read_text(encoding="utf-8")
    assert "../../data/datapackage.json" in page and "synthetic_survey" not in page
