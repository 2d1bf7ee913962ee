"""The book's source data as a Frictionless data package (``datapackage.json``, issue 16).

Generated from the data dictionary (:mod:`plusdig.data.datadict`: the files, their descriptions and
provenance, and the fields of their pydantic schemas), so it cannot drift from the data. CSV
files are tabular resources with a Table Schema (types, required fields, code lists); YAML
files are plain resources whose fields are listed in ``plusdig:fields``. Respondent-level
survey data -- real or synthetic -- is never part of the package, nor is the example mapping.

:func:`write_package` copies the files and writes the descriptor into a folder of the built
site (``data/``); ``tests/test_datapackage.py`` validates it with the ``frictionless`` package.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

__all__ = ["PUBLISHED", "published_files", "descriptor", "write_package", "DESCRIPTOR"]

DESCRIPTOR = "datapackage.json"
#: The provenances whose files are published (not the synthetic respondents, not examples).
PUBLISHED = ("transcribed", "coding")


def published_files() -> list[Any]:
    """The data files of :data:`plusdig.data.datadict.DATA_FILES` that the package holds."""
    from plusdig.data.datadict import DATA_FILES

    return [f for f in DATA_FILES if f.provenance in PUBLISHED]


def _field(row: Any) -> dict[str, Any]:
    """One Table Schema field from a row of :func:`plusdig.data.datadict.schema_table`."""
    label = str(row["type"])
    optional = "(kan være tom)" in label
    base = label.replace("(kan være tom)", "").strip()
    field: dict[str, Any] = {"name": str(row["field"]), "type": "string"}
    if base.startswith("heltal"):
        field["type"] = "integer"
    elif base.startswith("tal"):
        field["type"] = "number"
    elif base.startswith("sand/falsk"):
        field["type"] = "boolean"
        field["trueValues"], field["falseValues"] = ["true", "ja"], ["false", "nej"]
    constraints: dict[str, Any] = {}
    if base.startswith("én af:"):
        constraints["enum"] = [v.strip() for v in base.removeprefix("én af:").split(",")]
    if bool(row["required"]) and not optional:
        constraints["required"] = True
    if constraints:
        field["constraints"] = constraints
    description = str(row.get("description") or "")
    field["description"] = description or f"Type i datakataloget: {label}."
    return field


def _name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower().rsplit(".", 1)[0]).strip("-")


def descriptor(base: Path | None = None) -> dict[str, Any]:
    """The ``datapackage.json`` descriptor of the published data files in ``base`` (data/)."""
    from plusdig.data.datadict import PROVENANCE_LABELS, schema_table
    from plusdig.core.paths import data_dir

    base = Path(base) if base else data_dir()
    schemas = schema_table(base)
    resources = []
    for f in published_files():
        path = base / f.path
        body = path.read_bytes()
        rows = schemas[schemas["file"] == f"data/{f.path}"]
        fields = [_field(r) for _, r in rows.iterrows()]
        resource: dict[str, Any] = {
            "name": _name(f.path), "path": f.path, "title": f.path,
            "description": f"{f.description} Oprindelse: {PROVENANCE_LABELS[f.provenance]}.",
            "bytes": len(body), "hash": "sha256:" + hashlib.sha256(body).hexdigest(),
            "encoding": "utf-8",
        }
        if f.path.endswith(".csv"):
            resource.update({"profile": "tabular-data-resource", "format": "csv",
                             "mediatype": "text/csv", "schema": {"fields": fields}})
        else:
            resource.update({"profile": "data-resource", "format": "yaml",
                             "mediatype": "application/yaml", "plusdig:fields": fields})
        resources.append(resource)
    return {
        "profile": "data-package",
        "name": "plusdig-evaluering-data",
        "title": "+DIG – evalueringens datafiler",
        "description": ("Datafilerne bag evalueringen af +DIG: aktivitetskataloget afskrevet og "
                        "evaluatorernes kodning. Besvarelser fra trivselsmålingen er ikke med."),
        "licenses": [],
        "resources": resources,
    }


def write_package(target: Path, base: Path | None = None) -> Path:
    """Copy the published data files into ``target`` and write ``datapackage.json`` there."""
    from plusdig.core.paths import data_dir

    base = Path(base) if base else data_dir()
    target = Path(target)
    meta = descriptor(base)
    for resource in meta["resources"]:
        dest = target / resource["path"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / resource["path"], dest)
    out = target / DESCRIPTOR
    out.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out
