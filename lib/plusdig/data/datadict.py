"""The data dictionary, rendered from the data files and their pydantic schemas.

The appendix "Sådan er bogen lavet" shows these tables, so the book's description of its
data cannot drift from the data: the files are listed from ``data/``, the record counts come
from the loaders, and the fields from the models in :mod:`plusdig.data.models`. Only what code
cannot know is written here: a Danish description and the provenance of each file.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from plusdig.core.paths import data_dir
from plusdig.data import models

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PROVENANCE_LABELS", "DataFile", "DATA_FILES", "data_files", "catalogue",
           "fields_table", "schema_table", "type_label", "CLASSIFICATION_FIELDS"]

Provenance = Literal["transcribed", "coding", "synthetic", "example"]

#: How each kind of provenance reads in the book.
PROVENANCE_LABELS: dict[str, str] = {
    "transcribed": "Afskrevet fra aktivitetskataloget",
    "coding": "Evaluatorernes kodning (vurdering)",
    "synthetic": "Syntetiske data (genereret)",
    "example": "Eksempel (ikke data)",
}


@dataclass(frozen=True)
class DataFile:
    """One file in ``data/``: where it is, what it holds, where it comes from, its schema."""

    path: str  #: relative to ``data/``, with forward slashes
    description: str  #: Danish, one sentence
    provenance: Provenance
    model: type[BaseModel] | None = None  #: the pydantic model of one record
    loader: str = ""  #: the function that reads and validates it


#: Every data file of the book. A test checks that this list matches the files in git.
DATA_FILES: tuple[DataFile, ...] = (
    DataFile("activities.yaml", "Aktivitetskatalogets aktiviteter med de seks afsnit, periode, "
             "målgrupper, tal og partnere.", "transcribed", models.Activity,
             "plusdig.load_activities()"),
    DataFile("first_year.yaml", "Katalogets forord, læsevejledning og arbejdsspor i det første "
             "år.", "transcribed", models.FirstYear, "plusdig.load_first_year()"),
    DataFile("actors.csv", "Aktørregisteret: de aktører, kataloget nævner. Navnet er afskrevet; "
             "sektoren er evaluatorernes klassifikation.", "transcribed", models.Actor,
             "plusdig.load_actors()"),
    DataFile("vocabularies.yaml", "Kodelister med danske betegnelser: målgrupper, aldersgrupper, "
             "sektorer, forbehold ved tal, udfald og Collective Impact-betingelser.", "coding",
             models.Vocabularies, "plusdig.load_vocabularies()"),
    DataFile("survey/published.csv", "De tal fra trivselsmålingen, som kataloget offentliggør, "
             "ét tal pr. række med citat fra kilden.", "transcribed", models.PublishedFigure,
             "plusdig.load_published()"),
    DataFile("coding/conditions.yaml", "Hvilke aktiviteter og arbejdsspor der bidrog til hvilken "
             "Collective Impact-betingelse, med begrundelse og citat.", "coding",
             models.ConditionCoding, "plusdig.data.coding.load_condition_coding()"),
    DataFile("coding/lessons.yaml", "Temaerne i aktiviteternes erfaringer og gode råd, og hvilke "
             "aktiviteter der berører hvert tema.", "coding", models.LessonCoding,
             "plusdig.data.coding.load_lesson_coding()"),
    DataFile("survey/synthetic/synthetic_survey_2017-2019.csv", "Syntetiske besvarelser af "
             "trivselsmålingen (én række pr. elev og år), så bogen kan bygges uden de rigtige "
             "data.", "synthetic", None, "plusdig.survey"),
    DataFile("survey/synthetic/synthetic_invited_2017-2019.csv", "Syntetisk antal inviterede "
             "elever pr. år.", "synthetic", None, "plusdig.survey"),
    DataFile("survey/synthetic/synthetic_invited_groups_2017-2019.csv", "Syntetisk (antaget) "
             "antal inviterede elever pr. år, klassetrin og køn, til vægtning.", "synthetic", None,
             "plusdig.survey"),
    DataFile("survey/column_mapping.example.yaml", "Eksempel på en oversættelsesfil til en "
             "rigtig levering af trivselsmålingen.", "example"),
)


def data_files(base: Path | None = None) -> list[str]:
    """Every data file under ``base`` (default ``data/``), relative, sorted.

    README files (documentation) and ``private/`` (never part of the book) are left out.
    """
    root = base or data_dir()
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*")
        if p.is_file() and not p.name.lower().startswith("readme")
        and p.relative_to(root).parts[0] != "private" and not p.name.startswith(".")
    )


def _count_rows(path: Path) -> int:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        return max(sum(1 for row in csv.reader(fh) if any(c.strip() for c in row)) - 1, 0)


def catalogue(base: Path | None = None) -> pd.DataFrame:
    """One row per data file: file, description, provenance, records, schema, loader.

    Record counts come from the validating loaders (``validate_all``); CSV files without a
    loader there are counted by rows. A file on disk missing from :data:`DATA_FILES` is
    listed as "ikke beskrevet".
    """
    import pandas as pd

    from plusdig.data.validate import validate_all

    root = base or data_dir()
    counts = validate_all(base)
    known = {f.path: f for f in DATA_FILES}
    rows = []
    for rel in data_files(root):
        entry = known.get(rel)
        if rel in counts:
            n: Any = counts[rel]
        elif rel.endswith(".csv"):
            n = _count_rows(root / rel)
        else:
            n = pd.NA
        rows.append({
            "file": f"data/{rel}",
            "description": entry.description if entry else "Ikke beskrevet i datakataloget.",
            "provenance": PROVENANCE_LABELS[entry.provenance] if entry else "Ukendt",
            "records": n,
            "schema": f"plusdig.data.models.{entry.model.__name__}" if entry and entry.model else "",
            "loader": entry.loader if entry else "",
        })
    frame = pd.DataFrame(rows, columns=["file", "description", "provenance", "records", "schema",
                                        "loader"])
    frame["records"] = frame["records"].astype("Int64")
    return frame


_SIMPLE = {str: "tekst", int: "heltal", float: "tal", bool: "ja/nej", dict: "tabel"}


def type_label(annotation: Any) -> str:
    """A short Danish description of a field's type (``list[Slug]`` -> ``liste af tekst``)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_label(args[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        label = " eller ".join(dict.fromkeys(type_label(a) for a in inner))
        return f"{label} (kan være tom)" if len(inner) < len(args) else label
    if origin is Literal:
        return "én af: " + ", ".join(str(a) for a in args)
    if origin in (list, tuple, set):
        return f"liste af {type_label(args[0])}" if args else "liste"
    if origin is dict:
        return "tabel"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    if annotation in _SIMPLE:
        return _SIMPLE[annotation]
    return getattr(annotation, "__name__", str(annotation))


#: Fields whose values are the evaluators' classification of the source, not transcription.
CLASSIFICATION_FIELDS: frozenset[tuple[str, str]] = frozenset({
    ("Actor", "sector"), ("TargetGroup", "kind"), ("TargetGroup", "age_band"),
    ("Outcome", "status"),
})


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds directly, in a list, or optionally; and whether it is a list."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _inner_model(args[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _inner_model(inner[0]) if len(inner) == 1 else (None, False)
    if origin is list and args:
        model, _ = _inner_model(args[0])
        return model, model is not None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def fields_table(model: type[BaseModel], *, coding: bool = False) -> pd.DataFrame:
    """Every field of a schema, nested models flattened (``target_groups[].kind``).

    Columns: field path, Danish type, required (within its parent record), whether the
    value is the evaluators' classification (always for a coding file: ``coding=True``),
    and the field's description if it has one.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []

    def walk(m: type[BaseModel], prefix: str) -> None:
        for name, info in m.model_fields.items():
            path = prefix + name
            inner, is_list = _inner_model(info.annotation)
            rows.append({
                "field": path,
                "type": type_label(info.annotation),
                "required": info.is_required(),
                "classification": coding or (m.__name__, name) in CLASSIFICATION_FIELDS,
                "description": info.description or "",
            })
            if inner is not None:
                walk(inner, path + ("[]." if is_list else "."))

    walk(model, "")
    return pd.DataFrame(rows, columns=["field", "type", "required", "classification",
                                       "description"])


def schema_table(base: Path | None = None) -> pd.DataFrame:
    """The fields of every data file with a schema: file, schema, and :func:`fields_table`."""
    import pandas as pd

    frames = []
    for entry in DATA_FILES:
        if entry.model is None:
            continue
        table = fields_table(entry.model, coding=entry.provenance == "coding"
                             and entry.path.startswith("coding/"))
        table.insert(0, "schema", entry.model.__name__)
        table.insert(0, "file", f"data/{entry.path}")
        frames.append(table)
    return pd.concat(frames, ignore_index=True)
