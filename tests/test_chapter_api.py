"""The chapter API (``plusdig/__init__.py``, lib/README.md): the only part of the library a
chapter imports, loaded lazily; each chapter's numbers come from one typed record."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import plusdig

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(REPO.glob("book/**/*.ipynb"))
#: The chapter functions returning a chapter's numbers (each a frozen dataclass).
NUMBERS = ["foreword_numbers", "collective_impact_numbers", "activities_numbers",
           "conditions_numbers", "lessons_numbers", "first_year_numbers", "conclusion_numbers",
           "method_numbers", "overview_numbers", "published_survey_numbers"]


def plusdig_uses(code: str) -> list[str]:
    """Every way ``code`` reaches into plusdig that is not a chapter-API name."""
    bad = []
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.startswith("plusdig.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "plusdig":
            if node.module != "plusdig":
                bad.append(f"from {node.module} import ...")
            else:
                bad += [f"from plusdig import {a.name}" for a in node.names
                        if a.name not in plusdig.__all__]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "plusdig" and node.attr not in plusdig.__all__):
            bad.append(f"plusdig.{node.attr}")
    return bad


def notebook_code(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_chapters_import_only_the_chapter_api(path: Path) -> None:
    name = str(path.relative_to(REPO))
    bad = plusdig_uses(notebook_code(path))
    assert not bad, f"{name} reaches past the chapter API: {bad}"


def test_the_import_check_catches_a_module_import() -> None:
    assert plusdig_uses("from plusdig.present import figures\nimport plusdig\nplusdig.core") == [
        "from plusdig.present import ...", "plusdig.core"]
    assert plusdig_uses("import plusdig\nplusdig.glue_all(plusdig.forord)") == ["plusdig.forord"]
    assert plusdig_uses("import plusdig\nfrom plusdig import styled\nplusdig.glue_all(x)") == []


def test_every_api_name_resolves_and_is_listed_in_lib_readme() -> None:
    readme = (REPO / "lib" / "README.md").read_text(encoding="utf-8")
    for name in plusdig.__all__:
        assert getattr(plusdig, name) is not None
        assert re.search(rf"^- `{name}", readme, re.M), f"lib/README.md does not list {name}"
    with pytest.raises(AttributeError):
        plusdig.no_such_function  # noqa: B018


@pytest.mark.parametrize("module", ["plusdig", "plusdig.core.errors", "plusdig.data.models"])
def test_importing_is_light(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in ('pandas', 'matplotlib', 'networkx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", NUMBERS)
def test_each_chapter_gets_one_frozen_record(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import myst_nb

    record = getattr(plusdig, name)()
    assert dataclasses.is_dataclass(record) and type(record).__dataclass_params__.frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, dataclasses.fields(record)[0].name, None)
    glued: dict[str, object] = {}
    monkeypatch.setattr(myst_nb, "glue", lambda key, value, display=True: glued.setdefault(key, value))
    plusdig.glue_all(record)
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if not f.metadata.get("glue", True):
            assert f.name not in glued
        elif isinstance(value, Mapping):  # glued entry by entry
            assert value and all(glued[k] == v for k, v in value.items())
        else:
            assert glued[f.name] == value
    assert record.headline()


def glued_records(code: str) -> list[str]:
    """The chapter-API functions whose record ``code`` glues: ``plusdig.glue_all(plusdig.f())``
    or ``x = plusdig.f(...)`` followed by ``plusdig.glue_all(x)``."""
    names = re.findall(r"plusdig\.glue_all\(plusdig\.(\w+)\(\)\)", code)
    for var, fn in re.findall(r"^(\w+) = plusdig\.(\w+)\(", code, flags=re.M):
        if re.search(rf"plusdig\.glue_all\({var}\)", code):
            names.append(fn)
    return names


def record_keys(record: object) -> set[str]:
    """The glue keys :func:`plusdig.glue_all` gives ``record``'s fields."""
    keys: set[str] = set()
    for f in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        if f.metadata.get("glue", True):
            keys |= set(value) if isinstance(value, Mapping) else {f.name}
    return keys


def test_glue_keys_the_prose_uses_are_glued() -> None:
    """Every {glue:text}`key` of a chapter is a key one of its records glues, or glued by name."""
    for path in NOTEBOOKS:
        name = str(path.relative_to(REPO))
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        code = notebook_code(path)
        used = set(re.findall(r"\{glue:text\}`([a-z_0-9]+)", text))
        keys = set(re.findall(r'glue\("([a-z_0-9]+)"', code))
        for fn in glued_records(code):  # each called with its defaults: the bundled data
            keys |= record_keys(getattr(plusdig, fn)())
        assert used <= keys, f"{name}: glued nowhere: {sorted(used - keys)}"
