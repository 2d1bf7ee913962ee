"""Loaders for the book's data files, validated on load.

One loader per file in ``data/``. Each reads the file read-only, validates every record
against its pydantic model (:mod:`plusdig.models`) and the cross-file rules (unique ids,
known actor ids, known vocabulary codes), and raises :class:`~plusdig.errors.DataValidationError`
naming the file, the record and the field when anything is wrong. Nothing is dropped or
coerced silently.

Records come back as typed models (``load_activities``) and as tidy pandas tables
(``activities_table``, ``counts_table`` ...) for analysis.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import DataValidationError, control_char, describe
from .models import (
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
from .paths import data_dir

if TYPE_CHECKING:
    import pandas as pd

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "load_vocabularies",
    "load_actors",
    "load_activities",
    "load_first_year",
    "load_published",
    "activities_table",
    "counts_table",
    "target_groups_table",
    "partners_table",
    "section_text",
    "vocab_labels",
    "validate_all",
]


# --------------------------------------------------------------------------- helpers
def _path(name: str, base: Path | None) -> Path:
    return (base or data_dir()) / name


def _record_read(path: Path) -> None:
    """Tell the build's dependency tracker (if any) that this file was read."""
    from .provenance import record_read

    record_read(path)


#: libyaml's parser when available (about 12x faster on a large annex), else the pure-Python one.
_YamlBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: How YAML 1.1 writes a plain integer that means what it says (no octal, hex, ``_`` or ``1:30``).
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")


class _Refused(yaml.YAMLError):
    """A YAML value the loader refuses (not a syntax error): what is wrong, what to write."""

    def __init__(self, problem: str, expected: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem, self.expected, self.problem_mark = problem, expected, mark


class _Loader(_YamlBase):  # type: ignore[misc, valid-type]
    """The safe loader, stricter: no duplicate keys, no control characters in text, and no
    scalar that YAML 1.1 silently turns into something else (``no`` -> false, ``010`` -> 8,
    ``1:30`` -> 90, an unquoted date -> a date object)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if first is not None:
                raise _Refused(f"duplicate key {describe(key)} (first at line "
                               f"{first.start_mark.line + 1}): YAML would keep only the last value",
                               "each key once per mapping", key_node.start_mark)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def _text(self, node: Any) -> str:
        value: str = self.construct_scalar(node)
        bad = control_char(value, multiline=True)
        if bad:
            raise _Refused(f"control character {bad} in a text (invisible, or it reorders the "
                           "text on the page)", "printable text (line breaks and tabs allowed)",
                           node.start_mark)
        return value

    def _int(self, node: Any) -> int:
        text = self.construct_scalar(node)
        if not _PLAIN_INT.match(text):
            raise _Refused(f"{describe(text)} is an ambiguous number in YAML (octal, "
                           "hexadecimal, '_' or 'h:m' would change its value)",
                           "a plain decimal integer, or quoted text", node.start_mark)
        return int(text)

    def _bool(self, node: Any) -> bool:
        text = self.construct_scalar(node)
        if text.lower() not in {"true", "false"}:
            raise _Refused(f"{describe(text)} is read as true/false by YAML",
                           "true or false, or quoted text (\"no\")", node.start_mark)
        return text.lower() == "true"

    def _timestamp(self, node: Any) -> Any:
        raise _Refused(f"{describe(self.construct_scalar(node))} is read as a date by YAML",
                       "quoted text (the data files hold no dates)", node.start_mark)


_Loader.add_constructor("tag:yaml.org,2002:str", _Loader._text)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader._int)
_Loader.add_constructor("tag:yaml.org,2002:bool", _Loader._bool)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader._timestamp)


class _TextLoader(_Loader):  # type: ignore[misc, valid-type]
    """:class:`_Loader` that reads every plain scalar as text (a mapping file's delivery
    values: ``no``, ``1`` and ``01`` stay what was written)."""


_TextLoader.yaml_implicit_resolvers = {}


def _binary_kind(head: bytes) -> str | None:
    """What a file that is not plain 8-bit text is, from its first bytes (None: plain text)."""
    kinds = [
        (b"\xff\xfe\x00\x00", "is UTF-32 text (little-endian byte-order mark)"),
        (b"\x00\x00\xfe\xff", "is UTF-32 text (big-endian byte-order mark)"),
        (b"\xff\xfe", "is UTF-16 text (byte-order mark FF FE, e.g. Excel's \"Unicode text\")"),
        (b"\xfe\xff", "is UTF-16 text (big-endian byte-order mark FE FF)"),
        (b"\x1f\x8b", "is gzip-compressed (unpack it first)"),
        (b"PK\x03\x04", "is a ZIP archive (an .xlsx workbook, or a zipped folder)"),
        (b"\xd0\xcf\x11\xe0", "is an old Excel .xls (or other OLE2) file"),
        (b"%PDF", "is a PDF file"),
        (b"PAR1", "is a Parquet file"),
        (b"$FL2", "is an SPSS .sav file"),
        (b"$FL3", "is an SPSS .sav file (compressed)"),
    ]
    for magic, kind in kinds:
        if head.startswith(magic):
            return kind
    if b"\x00" in head:
        return "contains NUL bytes (UTF-16 without a byte-order mark, or not text at all)"
    return None


def read_bytes(path: Path, kind: str) -> bytes:
    """The bytes of a data file; a missing file, a folder or an unreadable file is named."""
    if path.is_dir():
        raise DataValidationError(path, "is a folder, not a file", expected=kind)
    if not path.is_file():
        raise DataValidationError(path, "file not found", expected=kind)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataValidationError(path, f"cannot be read ({exc.strerror or type(exc).__name__})",
                                  expected=f"a readable {kind}") from None
    _record_read(path)
    return data


def read_text(path: Path, kind: str) -> str:
    """A UTF-8 data file's text (a UTF-8 byte-order mark is allowed); anything else is named."""
    data = read_bytes(path, kind)
    binary = _binary_kind(data[:4096])
    if binary:
        raise DataValidationError(path, f"the file {binary}", expected=f"{kind} in UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataValidationError(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02X}: "
                                  f"{exc.reason})", record=f"line {line}",
                                  expected=f"{kind} in UTF-8") from None


def read_yaml(path: Path, *, text_only: bool = False) -> Any:
    """Parse a YAML file; syntax errors, duplicate keys and ambiguous scalars name the file,
    line and column. ``text_only`` reads every plain scalar as text."""
    text = read_text(path, "a YAML file")
    try:
        return yaml.load(text, Loader=_TextLoader if text_only else _Loader)  # noqa: S506 - safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        if isinstance(exc, _Refused):
            raise DataValidationError(path, exc.problem, record=where,
                                      expected=exc.expected) from None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataValidationError(path, f"malformed YAML: {problem}", record=where,
                                  expected="valid YAML") from None


def read_csv_rows(path: Path, required: Sequence[str], optional: Sequence[str] = (),
                  ) -> list[tuple[int, dict[str, str]]]:
    """Read a UTF-8 CSV into (line number, row) pairs; check the header, row widths and text.

    The header must hold every ``required`` column and nothing but ``required`` and
    ``optional`` ones, each once. The line number is the line a record starts on. A cell may
    not hold a control character (a line break only where the cell is quoted).
    """
    text = read_text(path, "a CSV file")
    if not text.strip():
        raise DataValidationError(path, "the file is empty",
                                  expected=f"a header: {','.join(required)}")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    out: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if header is None:
                header = [h.strip() for h in row]
                _check_header(path, header, required, optional)
                continue
            if not any(cell.strip() for cell in row):
                continue  # a blank line is not a record
            record = f"row {start}"
            if len(row) != len(header):
                raise DataValidationError(path, f"{len(row)} fields, header has {len(header)}",
                                          record=record, expected=f"{len(header)} fields")
            for name, cell in zip(header, row, strict=True):
                bad = control_char(cell, multiline=True)
                if bad:
                    raise DataValidationError(path, f"control character {bad} in the text",
                                              record=record, field=name,
                                              expected="printable text")
            out.append((start, dict(zip(header, row, strict=True))))
    except csv.Error as exc:
        raise DataValidationError(path, f"malformed CSV: {exc}", record=f"line {reader.line_num}",
                                  expected="comma-separated values with balanced quotes") from None
    return out


def _check_header(path: Path, header: list[str], required: Sequence[str],
                  optional: Sequence[str]) -> None:
    wanted = f"columns {list(required) + list(optional)}"
    missing = [c for c in required if c not in header]
    if missing:
        raise DataValidationError(path, f"missing column(s) {missing}", record="header",
                                  expected=wanted)
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise DataValidationError(path, f"column(s) {repeated} given twice", record="header",
                                  expected="each column once")
    unknown = [h for h in header if h not in required and h not in optional]
    if unknown:
        raise DataValidationError(path, f"unknown column(s) {', '.join(map(describe, unknown))}",
                                  record="header", expected=wanted)


_UNION_TAGS = {"str", "BulletList", "NumberedList", "constrained-str"}
_UNION_NOISE = {"string_type", "model_type", "dict_type", "missing", "extra_forbidden"}


def _fmt_loc(loc: Iterable[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in _UNION_TAGS or "[" in str(item):
            continue  # pydantic's union-member tags are noise for the reader
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def validate_record(model: type[M], data: Any, path: Path, record: str) -> M:
    """Validate one record; the first error becomes a DataValidationError naming the field."""
    if data is None and record == "document":
        raise DataValidationError(path, "the file is empty", record=record,
                                  expected=f"the fields of {model.__name__} (lib/plusdig/models.py)")
    if not isinstance(data, dict):
        raise DataValidationError(path, f"expected a mapping, got {_KIND.get(type(data), type(data).__name__)}",
                                  record=record, expected=f"a {model.__name__} record")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        err = errors[0]
        if any(tag in _UNION_TAGS for tag in err["loc"]):
            # a union (paragraph | bullets | numbered): report the member error that says most
            specific = [e for e in errors if e["type"] not in _UNION_NOISE]
            err = specific[0] if specific else err
        field = _fmt_loc(err["loc"]) or None
        if err["type"] == "missing":
            problem, expected = "required field is missing", f"a value for '{field}'"
        elif err["type"] == "extra_forbidden":
            problem, expected = "unknown field", f"only the fields of {model.__name__}"
        else:
            problem, expected = _type_problem(err)
        raise DataValidationError(path, problem, record=record, field=field, expected=expected) from None


#: What a value of each Python type is called in a message (YAML's view of it).
_KIND = {bool: "true/false", int: "a whole number", float: "a decimal number", str: "text",
         type(None): "empty (null)", list: "a list", dict: "a mapping"}
#: pydantic's type errors -> what the field expects, said plainly.
_WANTED = {
    "int_type": "a whole number, written without quotes or decimals (2017, not '2017' or 2017.0)",
    "float_type": "a number, written without quotes",
    "string_type": "text (quote it if it looks like a number or true/false: \"2017\")",
    "list_type": "a list (YAML '- item' lines)",
    "model_type": "a mapping (YAML 'key: value' lines)",
    "bool_type": "true or false",
}


#: The models' patterns, said plainly.
_PATTERNS = {
    r"^[a-z0-9]+(-[a-z0-9]+)*$": "a slug: lower-case a-z, digits and single hyphens (lejre-kommune)",
    r"^https?://\S+$": "a web address starting with http:// or https://",
}


def _type_problem(err: Any) -> tuple[str, str]:
    """(problem, expected) for a pydantic error other than missing/extra: the offending value
    is shown only if it is short (:func:`plusdig.errors.describe`), with the type it has."""
    given = err.get("input")
    kind = _KIND.get(type(given), f"a {type(given).__name__}")
    shown = describe(given)
    if given is None or isinstance(given, dict | list) or shown.startswith("a "):
        shown = ""  # empty, a collection or a long text: its kind says enough
    if err["type"] == "string_pattern_mismatch" and err["ctx"]["pattern"] in _PATTERNS:
        return (f"{shown} is not in the form" if shown else "the value is not in the form"
                ), _PATTERNS[err["ctx"]["pattern"]]
    if err["type"] == "too_short":
        return "the list is empty", f"at least {err['ctx']['min_length']} item(s)"
    if err["type"] == "string_too_short":
        return "the text is empty", "a non-empty text"
    if err["type"] in _WANTED:
        return (f"{shown} is {kind}" if shown else f"the value is {kind}"), _WANTED[err["type"]]
    return (f"invalid value {shown}" if shown else "invalid value"), err["msg"]


def _check_unique(values: Iterable[tuple[str, Any]], path: Path, field: str) -> None:
    seen: dict[Any, str] = {}
    for record, value in values:
        if value in seen:
            raise DataValidationError(path, f"duplicate {field} {describe(value)} (also in {seen[value]})",
                                      record=record, field=field, expected=f"a unique {field}")
        seen[value] = record


def _check_no_repeats(items: Sequence[Any], path: Path, record: str, field: str) -> None:
    """A list of ids, links, years or months names each item once (a repeat would count twice)."""
    for j, item in enumerate(items):
        if item in items[:j]:
            raise DataValidationError(path, f"{describe(item)} is listed twice", record=record,
                                      field=f"{field}[{j}]", expected="each item once")


def _check_code(value: str | None, allowed: set[str], path: Path, record: str, field: str,
                vocab: str) -> None:
    if value is not None and value not in allowed:
        raise DataValidationError(path, f"unknown code {describe(value)}", record=record, field=field,
                                  expected=f"one of {sorted(allowed)} (data/vocabularies.yaml: {vocab})")


# --------------------------------------------------------------------------- loaders
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
    from .fmt import MONTHS

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
        parts.append(str(ys[0]) if len(ys) == 1 else f"{ys[0]}-{ys[-1]}")
    elif parts:
        parts.append("(år ikke angivet i kilden)")
    return " ".join(parts) if parts else not_stated


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


def validate_all(base: Path | None = None) -> dict[str, int]:
    """Load and validate every data file; return the number of records per file."""
    result = {
        "vocabularies.yaml": sum(len(getattr(load_vocabularies(base), n)) for n in Vocabularies.model_fields),
        "actors.csv": len(load_actors(base)),
        "activities.yaml": len(load_activities(base)),
        "first_year.yaml": len(load_first_year(base).workstreams),
        "survey/published.csv": len(load_published(base)),
    }
    from . import coding  # the evaluators' coding is validated against the activities

    result.update(coding.validate_coding(base))
    return result
