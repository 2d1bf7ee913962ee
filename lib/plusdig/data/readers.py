"""Safe readers of the data files (bytes, text, YAML, CSV) and the validation of a record
against its pydantic model, with errors naming the file, the record and the field.
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

from plusdig.core.errors import DataValidationError, control_char, describe
from plusdig.data.cache import note_read

if TYPE_CHECKING:
    pass

M = TypeVar("M", bound=BaseModel)


def _record_read(path: Path) -> None:
    """Tell the build's dependency tracker (if any) that this file was read."""
    from plusdig.core.readlog import record_read

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
    note_read(path, data)
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


#: Parsed YAML by (text_only, text), pickled: a chapter loads the same few files many times,
#: and the pure-Python parser is the slow part. A copy is returned each time (unpickled), so
#: no caller sees another's changes; a file whose text changed is parsed anew.
_PARSED: dict[tuple[bool, str], bytes] = {}
_PARSED_MAX = 64


def read_yaml(path: Path, *, text_only: bool = False) -> Any:
    """Parse a YAML file; syntax errors, duplicate keys and ambiguous scalars name the file,
    line and column. ``text_only`` reads every plain scalar as text."""
    import pickle

    text = read_text(path, "a YAML file")  # read (and logged) every time
    key = (text_only, text)
    parsed = _PARSED.get(key)
    if parsed is not None:
        return pickle.loads(parsed)  # noqa: S301 - our own pickle of our own parse
    try:
        data = yaml.load(text, Loader=_TextLoader if text_only else _Loader)  # noqa: S506 - safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        if isinstance(exc, _Refused):
            raise DataValidationError(path, exc.problem, record=where,
                                      expected=exc.expected) from None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataValidationError(path, f"malformed YAML: {problem}", record=where,
                                  expected="valid YAML") from None
    try:
        pickled = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return data
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[key] = pickled
    return data


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
                                  expected=f"the fields of {model.__name__} (lib/plusdig/data/models.py)")
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
    is shown only if it is short (:func:`plusdig.core.errors.describe`), with the type it has."""
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
