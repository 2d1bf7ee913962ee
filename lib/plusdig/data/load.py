"""Loaders for the book's data files, validated on load.

One loader per file in ``data/``. Each reads the file read-only, validates every record
against its pydantic model (:mod:`plusdig.data.models`) and the cross-file rules (unique ids,
known actor ids, known vocabulary codes), and raises :class:`~plusdig.core.errors.DataValidationError`
naming the file, the record and the field when anything is wrong. Nothing is dropped or
coerced silently.

Records come back as typed models (``load_activities``) and as tidy pandas tables
(``activities_table``, ``counts_table`` ...) for analysis.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from plusdig.core.errors import DataValidationError, describe
from plusdig.core.paths import data_dir
from plusdig.data.cache import memoised
from plusdig.data.models import (
    SECTION_TITLES,
    Activity,
    Actor,
    Block,
    BulletList,
    FirstYear,
    NumberedList,
    PublishedFigure,
    Vocabularies,
)
from plusdig.data.readers import (
    _check_code,
    _check_no_repeats,
    _check_unique,
    read_csv_rows,
    read_yaml,
    validate_record,
)

if TYPE_CHECKING:
    import pandas as pd

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "load_vocabularies", "load_actors", "load_activities", "load_first_year", "load_published",
    "activities_table", "counts_table", "target_groups_table", "partners_table",
    "section_text", "vocab_labels",
]


# --------------------------------------------------------------------------- helpers
def _path(name: str, base: Path | None) -> Path:
    return (base or data_dir()) / name


@memoised
def load_vocabularies(base: Path | None = None) -> Vocabularies:
    """Load ``vocabularies.yaml``: the controlled codes and their Danish labels."""
    path = _path("vocabularies.yaml", base)
    vocab = validate_record(Vocabularies, read_yaml(path), path, "document")
    for name in Vocabularies.model_fields:
        entries = getattr(vocab, name)
        _check_unique(((f"{name}[{i}]", e.code) for i, e in enumerate(entries)), path, "code")
        for i, e in enumerate(entries):
            if e.min_age is not None and e.max_age is not None and e.min_age > e.max_age:
                raise DataValidationError(path, "min_age is above max_age", record=f"{name}[{i}]",
                                          field="min_age", expected="min_age <= max_age")
    return vocab


def vocab_labels(name: str, base: Path | None = None) -> dict[str, str]:
    """Code → Danish label for one vocabulary (e.g. ``'sectors'``)."""
    return {e.code: e.label for e in getattr(load_vocabularies(base), name)}


def _codes(vocab: Vocabularies, name: str) -> set[str]:
    return {e.code for e in getattr(vocab, name)}


@memoised
def load_actors(base: Path | None = None) -> pd.DataFrame:
    """Load ``actors.csv`` (id, name, sector, note) as a DataFrame indexed by id."""
    import pandas as pd

    path = _path("actors.csv", base)
    sectors = _codes(load_vocabularies(base), "sectors")
    actors: list[Actor] = []
    records: list[str] = []
    rows = read_csv_rows(path, ["id", "name", "sector"], ["note"])
    if not rows:
        raise DataValidationError(path, "no actors (only a header)", expected="one row per actor")
    for lineno, row in rows:
        record = f"row {lineno}"
        actor = validate_record(Actor, {k: v.strip() for k, v in row.items()}, path, record)
        _check_code(actor.sector, sectors, path, f"{record} (id={actor.id})", "sector", "sectors")
        actors.append(actor)
        records.append(record)
    _check_unique(zip(records, (a.id for a in actors), strict=True), path, "id")
    frame = pd.DataFrame([a.model_dump() for a in actors], columns=["id", "name", "sector", "note"])
    labels = vocab_labels("sectors", base)
    frame["sector_label"] = frame["sector"].map(labels)
    return frame.set_index("id", drop=False)


@memoised
def load_activities(base: Path | None = None) -> list[Activity]:
    """Load ``activities.yaml``: every activity, validated, in id order."""
    path = _path("activities.yaml", base)
    data = read_yaml(path)
    if not isinstance(data, list) or not data:
        raise DataValidationError(path, "expected a non-empty list of activities", record="document",
                                  expected="a YAML list of activity records")
    vocab = load_vocabularies(base)
    actor_ids = set(load_actors(base).index)
    kinds, bands = _codes(vocab, "target_kinds"), _codes(vocab, "age_bands")
    quals, statuses = _codes(vocab, "count_qualifiers"), _codes(vocab, "outcome_statuses")
    out: list[Activity] = []
    for i, raw in enumerate(data):
        rid = raw.get("id") if isinstance(raw, dict) else None
        record = f"activity {i + 1}" + (f" (id={describe(rid)})" if rid is not None else "")
        act = validate_record(Activity, raw, path, record)
        for j, tg in enumerate(act.target_groups):
            _check_code(tg.kind, kinds, path, record, f"target_groups[{j}].kind", "target_kinds")
            _check_code(tg.age_band, bands, path, record, f"target_groups[{j}].age_band", "age_bands")
        for j, c in enumerate(act.counts):
            _check_code(c.qualifier, quals, path, record, f"counts[{j}].qualifier", "count_qualifiers")
        for j, p in enumerate(act.partners):
            if p not in actor_ids:
                raise DataValidationError(path, f"unknown actor id {describe(p)}", record=record,
                                          field=f"partners[{j}]", expected="an id from data/actors.csv")
        lists = {"links": act.links,
                 "period.years": act.period.years if act.period else [],
                 "period.months": act.period.months if act.period else []}
        for name, items in lists.items():
            _check_no_repeats(items, path, record, name)
        if act.outcome:
            _check_code(act.outcome.status, statuses, path, record, "outcome.status", "outcome_statuses")
        flagged = {n.section for n in act.source_notes}
        for key in SECTION_TITLES:
            if not getattr(act.sections, key) and key not in flagged:
                raise DataValidationError(path, "section is empty but no source_note says the source is",
                                          record=record, field=f"sections.{key}",
                                          expected="text, or a source_notes entry for this section")
        out.append(act)
    _check_unique(((f"activity {i + 1}", a.id) for i, a in enumerate(out)), path, "id")
    _check_unique(((f"activity {i + 1}", a.slug) for i, a in enumerate(out)), path, "slug")
    return sorted(out, key=lambda a: a.id)


@memoised
def load_first_year(base: Path | None = None) -> FirstYear:
    """Load ``first_year.yaml``: the annex's foreword, reading guide and first-year workstreams."""
    path = _path("first_year.yaml", base)
    fy = validate_record(FirstYear, read_yaml(path), path, "document")
    actor_ids = set(load_actors(base).index)
    for i, ws in enumerate(fy.workstreams):
        for j, a in enumerate(ws.actors):
            if a not in actor_ids:
                raise DataValidationError(path, f"unknown actor id {describe(a)}", record=f"workstream {ws.id}",
                                          field=f"workstreams[{i}].actors[{j}]",
                                          expected="an id from data/actors.csv")
    _check_unique(((f"workstreams[{i}]", w.id) for i, w in enumerate(fy.workstreams)), path, "id")
    return fy


_PUBLISHED_COLUMNS = ["figure_id", "indicator", "label", "year_start", "year_end", "value", "unit",
                      "qualifier", "direction", "population", "quote"]


#: A CSV cell that is an integer / a decimal number (a point, never a comma; no exponent).
_CSV_INT = re.compile(r"^[0-9]+$")
_CSV_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")


@memoised
def load_published(base: Path | None = None) -> pd.DataFrame:
    """Load ``survey/published.csv``: the survey figures published in the annex, one per row."""
    import pandas as pd

    path = _path("survey/published.csv", base)
    quals = _codes(load_vocabularies(base), "count_qualifiers")
    figures: list[PublishedFigure] = []
    records: list[str] = []
    rows = read_csv_rows(path, _PUBLISHED_COLUMNS)
    if not rows:
        raise DataValidationError(path, "no figures (only a header)", expected="one row per figure")
    for lineno, row in rows:
        record = f"row {lineno}"
        clean: dict[str, Any] = {k: (v.strip() or None) for k, v in row.items()}
        for name, pattern, kind in (("year_start", _CSV_INT, int), ("year_end", _CSV_INT, int),
                                    ("value", _CSV_NUMBER, float)):
            text = clean[name]
            if text is not None and not pattern.match(text):
                raise DataValidationError(path, f"{describe(text)} is not a plain number",
                                          record=record, field=name,
                                          expected="digits, with a decimal point if any (69, 12.5)"
                                          if kind is float else "digits only (2017)")
            clean[name] = None if text is None else kind(text)
        fig = validate_record(PublishedFigure, clean, path, record)
        if fig.year_start and fig.year_end and fig.year_start > fig.year_end:
            raise DataValidationError(path, "year_start is after year_end", record=record,
                                      field="year_start", expected="year_start <= year_end")
        _check_code(fig.qualifier, quals, path, record, "qualifier", "count_qualifiers")
        if fig.value is None and fig.direction is None:
            raise DataValidationError(path, "neither a value nor a direction", record=record,
                                      field="value", expected="a number, or a direction with no value")
        figures.append(fig)
        records.append(record)
    _check_unique(zip(records, (f.figure_id for f in figures), strict=True), path, "figure_id")
    frame = pd.DataFrame([f.model_dump() for f in figures], columns=_PUBLISHED_COLUMNS)
    for col in ("year_start", "year_end"):
        frame[col] = frame[col].astype("Int64")
    frame["value"] = frame["value"].astype("Float64")
    return frame


# --------------------------------------------------------------------------- tables
def block_text(block: Block) -> str:
    """Plain text of one block (lists joined by newlines)."""
    if isinstance(block, BulletList):
        return "\n".join(block.bullets)
    if isinstance(block, NumberedList):
        return "\n".join(block.numbered)
    return block


def section_text(activity: Activity, key: str) -> str:
    """All text of one section of an activity, blocks separated by blank lines."""
    return "\n\n".join(block_text(b) for b in getattr(activity.sections, key))


def period_label(activity: Activity, not_stated: str = "") -> str:
    """Danish label of the stated period ("september 2017", "foråret 2018").

    Returns ``not_stated`` when the source gives no period, and says so when it gives a month or
    season but no year ("september (år ikke angivet i kilden)").
    """
    from plusdig.core.fmt import MONTHS

    p = activity.period
    if p is None:
        return not_stated
    parts: list[str] = []
    if p.season:
        parts.append(f"{p.season}et")
    if p.months:
        parts.append(" og ".join(MONTHS[m - 1] for m in p.months))
    if p.years:
        ys = sorted(p.years)
        parts.append(str(ys[0]) if len(ys) == 1 else f"{ys[0]}–{ys[-1]}")
    elif parts:
        parts.append("(år ikke angivet i kilden)")
    return " ".join(parts) if parts else not_stated


@memoised
def activities_table(base: Path | None = None) -> pd.DataFrame:
    """One row per activity: id, slug, title, period, first year, target groups, partners, outcome."""
    import pandas as pd

    acts = load_activities(base)
    kinds = vocab_labels("target_kinds", base)
    statuses = vocab_labels("outcome_statuses", base)
    rows = []
    for a in acts:
        years = sorted(a.period.years) if a.period else []
        rows.append({
            "id": a.id,
            "slug": a.slug,
            "title": a.title,
            "track": a.track or "",
            "period": period_label(a),
            "year": years[0] if years else pd.NA,
            "target_groups": ", ".join(dict.fromkeys(kinds[t.kind] for t in a.target_groups)),
            "n_partners": len(a.partners),
            "outcome": statuses[a.outcome.status] if a.outcome else "",
            "incomplete_source": bool(a.source_notes),
        })
    frame = pd.DataFrame(rows)
    frame["year"] = frame["year"].astype("Int64")
    return frame


@memoised
def counts_table(base: Path | None = None) -> pd.DataFrame:
    """Every count stated in an activity: activity, what, value, qualifier, approximate, quote."""
    import pandas as pd

    rows = [
        {"activity_id": a.id, "activity": a.title, "what": c.what, "value": c.value,
         "qualifier": c.qualifier or "", "approximate": c.qualifier is not None,
         "section": SECTION_TITLES[c.section], "quote": c.quote}
        for a in load_activities(base) for c in a.counts
    ]
    return pd.DataFrame(rows, columns=["activity_id", "activity", "what", "value", "qualifier",
                                       "approximate", "section", "quote"])


@memoised
def target_groups_table(base: Path | None = None) -> pd.DataFrame:
    """Activity × target group, with the Danish labels of kind and age band."""
    import pandas as pd

    kinds = vocab_labels("target_kinds", base)
    bands = vocab_labels("age_bands", base)
    rows = [
        {"activity_id": a.id, "activity": a.title, "kind": t.kind, "kind_label": kinds[t.kind],
         "age_band": t.age_band or "", "age_band_label": bands.get(t.age_band or "", ""),
         "quote": t.quote}
        for a in load_activities(base) for t in a.target_groups
    ]
    return pd.DataFrame(rows, columns=["activity_id", "activity", "kind", "kind_label", "age_band",
                                       "age_band_label", "quote"])


@memoised
def partners_table(base: Path | None = None) -> pd.DataFrame:
    """Activity × partner actor, with the actor's name and sector (an edge list)."""
    import pandas as pd

    actors = load_actors(base)
    rows = [
        {"activity_id": a.id, "activity": a.title, "actor_id": p, "actor": actors.at[p, "name"],
         "sector": actors.at[p, "sector"], "sector_label": actors.at[p, "sector_label"]}
        for a in load_activities(base) for p in a.partners
    ]
    return pd.DataFrame(rows, columns=["activity_id", "activity", "actor_id", "actor", "sector",
                                       "sector_label"])
