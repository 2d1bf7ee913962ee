"""The well-being survey at respondent level: input contract, readers, validation, tables.

The survey "Hvordan har børn og unge i Lejre det?" is personal data about children. This
module reads a delivery (or the bundled synthetic dataset), validates it against the input
contract (:data:`CONTRACT`, documented in ``data/survey/README.md``) and computes every table
of the chapter "Trivselsmålingen i dybden" *with disclosure control applied*
(:mod:`plusdig.disclosure`). Nothing here ever returns, prints or formats respondent-level rows
or ``respondent_id`` values: validation drops the id column once uniqueness is checked, and the
tables hold only counts that passed suppression.

Data source:

* ``PLUSDIG_SURVEY=/path/to/file`` selects a real delivery (``.csv``, ``.xlsx``, ``.sav``,
  ``.parquet``); ``PLUSDIG_SURVEY_MAPPING=/path/to/mapping.yaml`` renames its columns and
  recodes its values to the contract; ``PLUSDIG_SURVEY_INVITED=/path/to/invited.csv``
  (columns ``year,invited``) gives the number of invited pupils per year.
* Unset: the bundled synthetic dataset in ``data/survey/synthetic/`` is used, and every table
  and figure carries the label "Syntetiske data".

Performance: validation and tabulation are vectorised (values are parsed once per distinct
value, never per row), so the whole pipeline (:func:`run_pipeline`) handles national scale
(~600,000 rows) in seconds.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataValidationError, control_char, describe
from .paths import data_dir

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

    from .disclosure import Registry
    from .figdata import FigureData

__all__ = [
    "CONTRACT", "COLUMNS", "LONELY_LEVELS", "HAPPINESS_LEVELS", "TEASED_LEVELS", "GENDER_LEVELS",
    "SDQ_BANDS", "SURVEY_ENV", "MAPPING_ENV", "INVITED_ENV", "SYNTHETIC_FILE", "SYNTHETIC_INVITED",
    "SurveySource", "Survey", "SurveyTable", "current_source", "check_environment",
    "read_survey", "load_mapping",
    "validate", "load_invited", "load_survey", "wilson", "newcombe", "run_pipeline",
    "published_check", "build_registry", "tables_from_registry", "figure_prevalence_trend",
    "figure_prevalence_groups",
    "figure_comparison", "figure_indicator_trend", "banner_markdown", "chapter_numbers",
]

# --------------------------------------------------------------------------- the contract
SURVEY_ENV = "PLUSDIG_SURVEY"
MAPPING_ENV = "PLUSDIG_SURVEY_MAPPING"
INVITED_ENV = "PLUSDIG_SURVEY_INVITED"
#: The bundled synthetic dataset and its invitation counts, relative to ``data/``.
SYNTHETIC_FILE = "survey/synthetic/synthetic_survey_2017-2019.csv"
SYNTHETIC_INVITED = "survey/synthetic/synthetic_invited_2017-2019.csv"

LONELY_LEVELS = ["ofte", "nogle gange", "nej"]
HAPPINESS_LEVELS = ["meget glad", "glad", "hverken eller", "ikke særlig glad", "slet ikke glad"]
TEASED_LEVELS = ["ofte", "nogle gange", "sjældent", "aldrig"]
GENDER_LEVELS = ["pige", "dreng", "andet"]
#: Label of an empty gender in tables.
GENDER_NOT_STATED = "ikke oplyst"
#: SDQ total-difficulties bands (self-report): code -> (low, high, Danish label).
SDQ_BANDS: dict[str, tuple[int, int, str]] = {
    "normal": (0, 15, "Normalområdet (0–15)"),
    "borderline": (16, 19, "Grænseområdet (16–19)"),
    "abnormal": (20, 40, "Afvigende (20–40)"),
}
SDQ_MISSING = "missing"
YEAR_RANGE = (2015, 2035)
GRADE_RANGE = (0, 10)
SDQ_RANGE = (0, 40)
BOOL_TRUE = {"ja", "1", "true"}
BOOL_FALSE = {"nej", "0", "false"}
BOOL_COLUMNS = ["bullied", "leisure_activity", "talks_to_adult", "talks_to_peer", "completed"]

#: The input contract: column -> (type, allowed values) as documented in data/survey/README.md.
CONTRACT: dict[str, tuple[str, str]] = {
    "respondent_id": ("string", "non-empty, unique within year"),
    "year": ("int", f"{YEAR_RANGE[0]}–{YEAR_RANGE[1]}"),
    "school": ("string", "non-empty"),
    "grade": ("int", f"{GRADE_RANGE[0]}–{GRADE_RANGE[1]}"),
    "gender": ("string or empty", ", ".join(GENDER_LEVELS) + "; empty = not stated"),
    "lonely": ("string", ", ".join(LONELY_LEVELS)),
    "happiness": ("string", ", ".join(HAPPINESS_LEVELS)),
    "sdq_total": ("int or empty", f"{SDQ_RANGE[0]}–{SDQ_RANGE[1]}"),
    "teased": ("string", ", ".join(TEASED_LEVELS)),
    "bullied": ("bool", "ja/nej, 1/0, true/false"),
    "leisure_activity": ("bool", "ja/nej, 1/0, true/false"),
    "talks_to_adult": ("bool", "ja/nej, 1/0, true/false"),
    "talks_to_peer": ("bool", "ja/nej, 1/0, true/false"),
    "completed": ("bool", "ja/nej, 1/0, true/false"),
}
COLUMNS = list(CONTRACT)
#: Answer columns that a completed form must have (an incomplete one may leave them empty).
_REQUIRED_IF_COMPLETED = ["lonely", "happiness", "teased", "bullied", "leisure_activity",
                          "talks_to_adult", "talks_to_peer"]

#: "ca." in a published figure is accepted within this relative deviation.
APPROX_TOLERANCE = 0.05

_LONELY_BIN = ["Ensomme", "Ikke ensomme"]


# --------------------------------------------------------------------------- source
@dataclass(frozen=True)
class SurveySource:
    """Where the survey data comes from. ``synthetic`` is False only for a real delivery."""

    path: Path
    synthetic: bool
    mapping: Path | None = None
    invited: Path | None = None

    @property
    def label(self) -> str:
        """Danish description for the book (never the real path)."""
        return "syntetiske data" if self.synthetic else "de leverede besvarelser"


def current_source() -> SurveySource:
    """The source selected by ``PLUSDIG_SURVEY`` (a real delivery) or the synthetic default.

    Relative paths in the environment variables are taken relative to the repository root.
    """
    from .paths import REPO_ROOT

    def env_path(name: str) -> Path | None:
        # a relative path is relative to the repository root (notebooks run in book/...)
        value = os.environ.get(name, "").strip()
        return (REPO_ROOT / Path(value).expanduser()) if value else None

    path = env_path(SURVEY_ENV)
    if path is not None:
        return SurveySource(path, False, env_path(MAPPING_ENV), env_path(INVITED_ENV))
    base = data_dir()
    return SurveySource(base / SYNTHETIC_FILE, True, None, base / SYNTHETIC_INVITED)


def check_environment() -> None:
    """Refuse environment settings that would be silently ignored or that name no file:
    a mapping or invitation file without ``PLUSDIG_SURVEY``, or ``PLUSDIG_DATA`` that is not
    a folder. (``python -m plusdig validate`` runs this before a build.)"""
    if not os.environ.get(SURVEY_ENV, "").strip():
        for name in (MAPPING_ENV, INVITED_ENV):
            if os.environ.get(name, "").strip():
                raise DataValidationError(f"environment variable {name}",
                                          f"is set but {SURVEY_ENV} is not, so it would be "
                                          "ignored (the synthetic data is used)",
                                          expected=f"{SURVEY_ENV} set to the delivery, or "
                                          f"{name} unset")
    data = os.environ.get("PLUSDIG_DATA", "").strip()
    if data and not Path(data).is_dir():
        raise DataValidationError("environment variable PLUSDIG_DATA",
                                  f"{describe(data)} is not a folder",
                                  expected="a copy of the data/ folder, or PLUSDIG_DATA unset")


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class _Raw:
    frame: pd.DataFrame
    file: str
    first_row: int  # the file's row number of the frame's first record
    row_word: str  # "row" (csv/xlsx line numbers) or "record"
    #: the file's line of each record, computed only when an error names rows (CSV: blank
    #: lines are skipped, so a record's position and its line differ after one)
    lines: Callable[[], np.ndarray] | None = None


#: What each reader expects a file's first bytes to be.
_MAGIC = {".xlsx": (b"PK\x03\x04",), ".sav": (b"$FL2", b"$FL3"), ".parquet": (b"PAR1",)}
#: How a CSV's columns may be separated (the header decides).
_SEPARATORS = (",", ";")


def _decode_csv(path: Path, data: bytes) -> tuple[str, str]:
    """(pyarrow encoding name, text) of a CSV: UTF-8 (BOM optional), else Windows-1252.

    A file that is neither, or UTF-8 with some Windows-1252 bytes (two encodings mixed: one
    of them would be silently garbled), is refused naming the line of the first odd byte.
    """
    import re

    from .load import _binary_kind

    kind = _binary_kind(data[:4096])
    if kind:
        raise DataValidationError(path, f"the file {kind}",
                                  expected="a CSV in UTF-8 or Windows-1252 (Excel: \"CSV UTF-8\")")
    try:
        return "utf8", data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    line = data[:bad_at].count(b"\n") + 1
    if re.search(rb"[\xc3\xc2][\x80-\xbf]", data):
        raise DataValidationError(path, f"mixes UTF-8 with another encoding (byte "
                                  f"0x{data[bad_at]:02X} is not UTF-8)", record=f"line {line}",
                                  expected="one encoding for the whole file (UTF-8)")
    try:
        return "cp1252", data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataValidationError(path, f"neither UTF-8 nor Windows-1252 text (byte "
                                  f"0x{data[exc.start]:02X})", record=f"line {line}",
                                  expected="a CSV in UTF-8 or Windows-1252") from None


def _record_lines(data: bytes) -> np.ndarray:
    """The line number of every record of a CSV (the header is line 1; blank lines skipped)."""
    import numpy as np

    lines = data.splitlines()
    return np.array([i + 1 for i, line in enumerate(lines) if i and line.strip(b"\xef\xbb\xbf")],
                    dtype="int64")


def _ragged_row(path: Path, text: str, sep: str, width: int) -> DataValidationError:
    """The error for a CSV whose rows do not all have the header's width, naming the first
    such row (found with Python's csv module, one line at a time; the line is never shown)."""
    import csv

    for number, line in enumerate(text.splitlines(), start=1):
        if number == 1 or not line:
            continue
        try:
            fields = next(csv.reader([line], delimiter=sep, strict=True), [])
            problem = f"Expected {width} columns, got {len(fields)}"
        except csv.Error:
            fields, problem = [], "a quote is not closed on its line"
        if len(fields) != width:
            return DataValidationError(
                path, f"malformed CSV: {problem}", record=f"row {number}",
                expected=f"one line per pupil with {width} fields separated by {sep!r}; a value "
                "holding the separator is quoted, and no value spans lines")
    return DataValidationError(path, "malformed CSV (pyarrow could not split it into rows)",
                               expected=f"one line per pupil with {width} fields")


def _read_csv(path: Path, data: bytes) -> _Raw:
    """Read a CSV as text columns (pyarrow's multi-threaded reader: fast at national scale).

    The encoding is UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else cp1252;
    the separator is ``;`` if the header has more semicolons than commas, else ``,``. Error
    messages never quote a line of the file (it would hold a respondent's answers).
    """
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not data.strip():
        raise DataValidationError(path, "the file is empty",
                                  expected=f"a header with the columns {COLUMNS}")
    encoding, text = _decode_csv(path, data)
    first_line = text.splitlines()[0]
    if not first_line.strip():
        raise DataValidationError(path, "the first line is empty", record="row 1",
                                  expected=f"the header (the columns {COLUMNS}) on line 1")
    sep = ";" if first_line.count(";") > first_line.count(",") else ","
    if sep not in first_line and "\t" in first_line:
        raise DataValidationError(path, "the columns are separated by tabs", record="row 1",
                                  expected="a CSV: columns separated by ',' or ';'")
    header = next(iter(csv.reader([first_line], delimiter=sep)))
    names = [h.strip() for h in header]
    string = pa.string()
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(encoding=encoding, column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: string for name in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False, null_values=[]))
    except (pa.ArrowInvalid, pa.ArrowKeyError):
        raise _ragged_row(path, text, sep, len(names)) from None
    return _Raw(table.to_pandas(), str(path), 2, "row", lambda: _record_lines(data))


def _check_xlsx_cells(path: Path) -> None:
    """Refuse formulas and Excel error values in the first sheet, naming the cell.

    pandas reads a formula's cached result, and a workbook written by a script has none, so a
    formula would read as an empty answer; an error value (``#N/A``) would read as empty too.
    """
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for other in book.worksheets[1:]:
            first = next(other.iter_rows(max_row=1, values_only=True), ())
            names = {str(v).strip().lower() for v in first if v is not None}
            if len(names & set(CONTRACT)) >= 3:
                raise DataValidationError(path, f"sheet {describe(other.title)} has answer "
                                          "columns too, but only the first sheet is read",
                                          expected="all answers on the first sheet (one "
                                          "workbook per delivery, or the sheets stacked)")
        sheet = book.worksheets[0]
        header: list[Any] = []
        for row in sheet.iter_rows():
            if not header:
                header = [c.value for c in row]
            for cell in row:
                if cell.data_type not in {"f", "e"}:
                    continue
                col = getattr(cell, "column", None)
                name = header[col - 1] if col and col <= len(header) else None
                where = f"cell {cell.coordinate}" + (f" (column {describe(name)})" if name else "")
                if cell.data_type == "f":
                    raise DataValidationError(path, f"{where} holds a formula (it would be read "
                                              "as its saved result, or as empty)",
                                              record=f"row {cell.row}", expected="values only "
                                              "(in Excel: copy the sheet, paste as values)")
                raise DataValidationError(path, f"{where} holds the Excel error "
                                          f"{describe(str(cell.value))}", record=f"row {cell.row}",
                                          expected="a value, or an empty cell")
    finally:
        book.close()


def read_survey(path: str | Path) -> _Raw:
    """Read a delivery as it is (no validation). ``.csv`` (UTF-8 or cp1252, ``,`` or ``;``),
    ``.xlsx`` (first sheet; no formulas), ``.sav`` (SPSS; value labels applied) or ``.parquet``.

    A file whose content is not what its name says (a gzip file named ``.csv``, a CSV named
    ``.xlsx``) is refused saying what the file is.
    """
    import pandas as pd

    from .load import _binary_kind, read_bytes

    path = Path(path)
    kinds = "an existing .csv, .xlsx, .sav or .parquet file"
    suffix = path.suffix.lower()
    if suffix not in {".csv", *_MAGIC}:
        if path.is_dir() or not path.is_file():
            read_bytes(path, kinds)  # names a missing file or a folder
        raise DataValidationError(path, f"unsupported file type {suffix or '(none)'}",
                                  expected=".csv, .xlsx, .sav or .parquet")
    data = read_bytes(path, kinds)
    if suffix == ".csv":
        return _read_csv(path, data)
    if not data.startswith(_MAGIC[suffix]):
        kind = _binary_kind(data[:4096]) or "is text (a CSV file with the wrong name?)"
        if not data:
            kind = "is empty"
        raise DataValidationError(path, f"is not a {suffix} file: the file {kind}",
                                  expected=f"a {suffix} file saved by its program")
    try:
        if suffix == ".xlsx":
            _check_xlsx_cells(path)
            # keep_default_na=False: a cell "NA" or "null" is a value (refused if not a code),
            # never silently an empty answer
            frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl",
                                  keep_default_na=False)
            return _Raw(frame, str(path), 2, "row")
        if suffix == ".sav":
            import pyreadstat

            frame, _meta = pyreadstat.read_sav(str(path), apply_value_formats=True,
                                               formats_as_category=False)
            return _Raw(frame, str(path), 1, "record")
        return _Raw(pd.read_parquet(path), str(path), 1, "record")
    except DataValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - a reader's own error, reported with the file
        # the reader's message, first line only and cut short: it never holds a whole row
        detail = (str(exc).splitlines() or [""])[0][:120]
        raise DataValidationError(path, f"cannot be read as {suffix}: {type(exc).__name__}: "
                                  f"{detail}", expected=f"a valid {suffix} file") from None


# --------------------------------------------------------------------------- mapping
@dataclass(frozen=True)
class Mapping_:
    """A delivery's column mapping: delivery column -> contract column; value recodes."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)


def load_mapping(path: str | Path) -> Mapping_:
    """Read a mapping file (YAML; see ``data/survey/column_mapping.example.yaml``).

    Every scalar is read as the text written (``no`` stays ``no``, ``01`` stays ``01``), and
    every recoding's target is checked against the contract here, so a wrong target is blamed
    on the mapping file and its entry, not on the delivery.
    """
    from .load import read_yaml

    path = Path(path)
    doc = read_yaml(path, text_only=True)
    if doc in (None, "", {}):
        raise DataValidationError(path, "the mapping file is empty",
                                  expected="'columns' and/or 'values' (see data/survey/"
                                  "column_mapping.example.yaml), or no PLUSDIG_SURVEY_MAPPING")
    if not isinstance(doc, dict) or set(doc) - {"columns", "values"}:
        raise DataValidationError(path, "unexpected top-level keys", record="top level",
                                  expected="a mapping with 'columns' and/or 'values'")
    columns = doc.get("columns") or {}
    values = doc.get("values") or {}
    if not isinstance(columns, dict):
        raise DataValidationError(path, "'columns' is not a mapping", field="columns",
                                  expected="delivery column: contract column")
    out_cols: dict[str, str] = {}
    seen: dict[str, str] = {}
    for src, dst in columns.items():
        dst_norm = str(dst).strip().lower()
        if not isinstance(dst, str) or dst_norm not in CONTRACT:
            raise DataValidationError(path, f"maps {src!r} to unknown column {describe(dst)}",
                                      field=f"columns.{src}", expected=f"one of {COLUMNS}")
        if dst_norm in seen:
            raise DataValidationError(path, f"two columns map to {dst_norm!r}: {seen[dst_norm]!r} "
                                      f"and {src!r}", field=f"columns.{src}",
                                      expected="each contract column at most once")
        src_norm = str(src).strip().lower()
        if src_norm in out_cols:
            raise DataValidationError(path, f"delivery column {src!r} is given twice (column "
                                      "names are matched ignoring case)", field=f"columns.{src}",
                                      expected="each delivery column once")
        seen[dst_norm] = str(src)
        out_cols[src_norm] = dst_norm
    if not isinstance(values, dict):
        raise DataValidationError(path, "'values' is not a mapping", field="values",
                                  expected="contract column: {delivery value: contract value}")
    out_vals: dict[str, dict[str, str]] = {}
    for col, recode in values.items():
        col_norm = str(col).strip().lower()
        if col_norm not in CONTRACT or col_norm in {"respondent_id", "school"}:
            raise DataValidationError(path, f"value recoding for {col!r}", field=f"values.{col}",
                                      expected="a contract column other than respondent_id/school")
        if not isinstance(recode, dict):
            raise DataValidationError(path, "recoding is not a mapping", field=f"values.{col}",
                                      expected="delivery value: contract value")
        parse, allowed = _column_parser(col_norm)
        out: dict[str, str] = {}
        for src, dst in recode.items():
            entry = f"values.{col}.{src}"
            key = _norm_key(src)
            if key in out:
                raise DataValidationError(path, f"delivery value {src!r} is given twice (values "
                                          "are matched ignoring case and spaces)", field=entry,
                                          expected="each delivery value once")
            target = _norm_key(dst) if isinstance(dst, str) else None
            try:
                if target is None:
                    raise ValueError
                if target:  # an empty target recodes to "no answer"
                    parse(target)
            except ValueError:
                raise DataValidationError(path, f"recodes {src!r} to {describe(dst)}, which is not "
                                          f"a value of {col_norm!r}", field=entry,
                                          expected=f"{allowed}, or '' for no answer"
                                          ) from None
            out[key] = dst
        out_vals[col_norm] = out
    return Mapping_(out_cols, out_vals)


def _norm_key(value: Any) -> str:
    """Normalise a scalar for matching: trimmed, case-folded text; integral floats as ints."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().casefold()


def _check_spellings(raw: _Raw, codes: np.ndarray, names: list[str]) -> None:
    """Refuse two spellings of one school (equal but for case or spaces): they would be
    tabulated as two schools. The rows of the rarer spelling are named, not the names."""
    import numpy as np

    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(" ".join(name.casefold().split()), []).append(i)
    variants = [g for g in groups.values() if len(g) > 1]
    if variants:
        counts = np.bincount(codes[codes >= 0], minlength=len(names))
        group = variants[0]
        rarer = [i for i in group if i != max(group, key=lambda j: counts[j])]
        _fail(raw, "school", np.isin(codes, rarer), f"one school is spelt in {len(group)} ways "
              "(they differ only in case or spaces; the names are not shown)",
              "one spelling per school (the rows named use the rarer spelling)")


def _ids(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Respondent ids for the uniqueness check, per row: (id code, -1 if missing; has a
    control character; is empty). Ids are trimmed, and 17.0 (a spreadsheet's number) is the
    id 17. Vectorised with pyarrow: a national delivery has ~600,000 distinct ids."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if pd.api.types.infer_dtype(uniques, skipna=True) != "string":
        uniques = np.array([str(int(u)) if isinstance(u, float) and u.is_integer() else str(u)
                            for u in uniques], dtype=object)
    text = pc.utf8_trim_whitespace(pa.array(uniques, type=pa.string()))
    bad = pc.match_substring_regex(text, _CONTROL_RE2).to_numpy(zero_copy_only=False)
    empty = pc.equal(text, "").to_numpy(zero_copy_only=False)
    norm_codes, _norm = pd.factorize(text.to_numpy(zero_copy_only=False))
    return (np.append(norm_codes, -1)[codes], np.append(bad, False)[codes],
            np.append(empty, True)[codes])


#: :func:`plusdig.errors.control_char`'s characters as an RE2 class (pyarrow's regex engine).
_CONTROL_RE2 = r"[\x00-\x1f\x7f-\x9f\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}\x{feff}]"


# --------------------------------------------------------------------------- validation
def _rows(raw: _Raw, positions: Any, limit: int = 5) -> str:
    import numpy as np

    pos = np.asarray(positions)
    numbers = raw.lines()[pos[:limit]] if raw.lines else pos[:limit] + raw.first_row
    shown = ", ".join(str(int(n)) for n in numbers)
    more = f" (and {len(pos) - limit} more)" if len(pos) > limit else ""
    word = raw.row_word + ("s" if len(pos) > 1 else "")
    return f"{word} {shown}{more}"


def _fail(raw: _Raw, column: str, bad: Any, problem: str, expected: str) -> None:
    """Raise for the rows where ``bad`` is true (positions), naming the first few."""
    import numpy as np

    positions = np.flatnonzero(np.asarray(bad))
    raise DataValidationError(raw.file, problem, record=_rows(raw, positions), field=column,
                              expected=expected)


def _control_rows(raw: _Raw, uniques: Any, codes: np.ndarray, column: str) -> None:
    """Refuse a column whose text holds a control character (tab, line break, bell, a
    bidirectional override ...): it would vanish or reorder text on the page. The value is
    not shown; rows and the character are."""
    import numpy as np

    found = [(i, control_char(u)) for i, u in enumerate(uniques) if isinstance(u, str)]
    bad = [(i, c) for i, c in found if c]
    if bad:
        _fail(raw, column, np.isin(codes, [i for i, _c in bad]),
              f"control character {bad[0][1]} in the text (not shown)",
              "printable text: no tabs, line breaks or other control characters")


#: Codes a delivery may hold that are not the contract's but that are safe to print in an
#: error message (they are never a pupil's own words): other vocabularies' answers, common
#: missing-value codes, other languages' yes/no.
_PRINTABLE_CODES = frozenset(
    [*LONELY_LEVELS, *HAPPINESS_LEVELS, *TEASED_LEVELS, *GENDER_LEVELS, *BOOL_TRUE, *BOOL_FALSE,
     "yes", "no", "y", "n", "j", "na", "n/a", "nan", "none", "null", "-", ".", "?", "x",
     "missing", "mangler", "ved ikke", "uoplyst", "ikke oplyst", "vil ikke svare", "k", "m", "f",
     "p", "d", "male", "female", "boy", "girl", "kvinde", "mand", "other", "#n/a"])


def _printable(value: Any, allowed: list[str]) -> bool:
    """Whether an invalid delivery value may appear in an error message: a short number, a
    known code, or a near miss of an allowed code (a typo of ``nogle gange``). Anything else
    may be a pupil's free-text answer and is never printed."""
    import difflib
    import re

    text = _norm_key(value)
    if len(text) > 20:
        return False
    if re.fullmatch(r"[0-9+\-.,_e]{1,10}", text) and re.search(r"[0-9]", text):
        return True  # number-like (5e0, 1_2, 12,5)
    if text in _PRINTABLE_CODES:
        return True
    return bool(difflib.get_close_matches(text, [a.casefold() for a in allowed], n=1, cutoff=0.8))


def _coded(raw: _Raw, series: pd.Series, column: str, parse: Callable[[Any], Any],
           expected: str, recode: Mapping[str, str] | None = None,
           encode: str | list[str] | None = None, allowed: list[str] | None = None,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column once per distinct value. Returns (values, is_empty) arrays.

    ``parse`` maps a normalised non-empty value to its typed value or raises ValueError.
    Unparseable values stop with an error naming rows, column and the expected values; an
    invalid value is shown only if :func:`_printable` (``allowed``: the column's codes).
    Empty is a missing cell or a blank text only (the text ``"None"`` or ``"nan"`` is a value).
    ``encode`` returns numbers instead of objects: ``"float"`` (NaN if empty), ``"bool"``
    (int8 1/0, -1 if empty) or a list of categories (int8 category codes, -1 if empty).
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    _control_rows(raw, uniques, codes, column)
    parsed: list[Any] = []
    empty_u: list[bool] = []
    bad_u: list[bool] = []
    for u in uniques:
        key = _norm_key(u)
        if recode and key in recode:
            key = _norm_key(recode[key])
        if key == "":
            parsed.append(None)
            empty_u.append(True)
            bad_u.append(False)
            continue
        try:
            parsed.append(parse(key))
            empty_u.append(False)
            bad_u.append(False)
        except ValueError:
            parsed.append(None)
            empty_u.append(False)
            bad_u.append(True)
    if any(bad_u):
        bad_idx = [i for i, b in enumerate(bad_u) if b]
        bad_rows = np.isin(codes, bad_idx)
        shown = [repr(str(uniques[i]).strip()) for i in bad_idx
                 if _printable(uniques[i], allowed or [])]
        hidden = len(bad_idx) - len(shown)
        why = "not shown: not a code, it may be a pupil's own words"
        if any(isinstance(uniques[i], datetime.date) for i in bad_idx):
            why = "not shown; a date among them: a cell formatted as a date?"
        if not shown:
            problem = f"{hidden} invalid value(s) ({why})"
        else:
            problem = "invalid value(s) " + ", ".join(shown[:5])
            problem += f", and {hidden} more ({why})" if hidden else ""
        if recode:
            problem += " (after the mapping file's recoding)"
        _fail(raw, column, bad_rows, problem, expected)
    empty_lookup = np.array(empty_u + [True], dtype=bool)
    if encode == "float":
        out_lookup = np.array([np.nan if p is None else float(p) for p in parsed] + [np.nan])
    elif encode == "bool":
        out_lookup = np.array([-1 if p is None else int(p) for p in parsed] + [-1], dtype="int8")
    elif isinstance(encode, list):
        out_lookup = np.array([-1 if p is None else encode.index(p) for p in parsed] + [-1],
                              dtype="int8")
    else:
        out_lookup = np.empty(len(parsed) + 1, dtype=object)
        out_lookup[:-1] = parsed
        out_lookup[-1] = None
    return out_lookup[codes], empty_lookup[codes]


def _int_parser(lo: int, hi: int) -> Callable[[str], int]:
    """Digits only (ASCII), with an optional zero decimal part ("12,0" or "12.0", as a
    spreadsheet writes an integer); no sign, exponent, "_" or other scripts' digits."""
    import re

    plain = re.compile(r"([0-9]+)(?:[.,]0+)?")

    def parse(text: str) -> int:
        match = plain.fullmatch(text)
        if not match or not lo <= int(match.group(1)) <= hi:
            raise ValueError(text)
        return int(match.group(1))

    return parse


def _level_parser(levels: list[str]) -> Callable[[str], str]:
    allowed = {lv.casefold(): lv for lv in levels}

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(text)
        return allowed[text]

    return parse


def _bool_parse(text: str) -> bool:
    if text in BOOL_TRUE or text == "1.0":
        return True
    if text in BOOL_FALSE or text == "0.0":
        return False
    raise ValueError(text)


def _column_parser(name: str) -> tuple[Callable[[str], Any], str]:
    """(parser, what it accepts) of a coded contract column (not respondent_id or school)."""
    ranges = {"year": YEAR_RANGE, "grade": GRADE_RANGE, "sdq_total": SDQ_RANGE}
    levels = {"gender": GENDER_LEVELS, "lonely": LONELY_LEVELS, "happiness": HAPPINESS_LEVELS,
              "teased": TEASED_LEVELS}
    if name in ranges:
        return _int_parser(*ranges[name]), f"an integer {CONTRACT[name][1]}"
    if name in levels:
        return _level_parser(levels[name]), CONTRACT[name][1]
    return _bool_parse, CONTRACT[name][1]


def _match_columns(raw: _Raw, mapping: Mapping_ | None) -> dict[str, str]:
    """Contract column -> delivery column (case-insensitive, after the mapping file)."""
    found: dict[str, str] = {}
    for col in raw.frame.columns:
        key = str(col).strip().lower()
        if mapping and key in mapping.columns:
            key = mapping.columns[key]
        if key in CONTRACT:
            if key in found:
                raise DataValidationError(raw.file, f"columns {found[key]!r} and {col!r} both "
                                          f"give {key!r}", record="header", field=key,
                                          expected="each contract column once")
            found[key] = col
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise DataValidationError(raw.file, f"missing column(s) {missing}", record="header",
                                  field=missing[0],
                                  expected=f"the contract's {len(COLUMNS)} columns (data/survey/"
                                  "README.md; names ignore case, and a mapping file may rename "
                                  "a delivery's columns)")
    return found


def validate(raw: _Raw, mapping: Mapping_ | None = None) -> pd.DataFrame:
    """Validate a delivery against the contract; return the typed frame *without* ids.

    Every violation raises :class:`DataValidationError` naming the file, the first few rows,
    the column and the expected values. Nothing is dropped or coerced silently; values are
    matched after trimming spaces and ignoring case, and ``mapping.values`` recodes them.
    """
    import numpy as np
    import pandas as pd

    cols = _match_columns(raw, mapping)
    frame = raw.frame
    n = len(frame)
    if n == 0:
        raise DataValidationError(raw.file, "no rows", expected="one row per pupil per measurement")
    recodes = mapping.values if mapping else {}

    def col(name: str) -> pd.Series:
        return frame[cols[name]]

    out: dict[str, Any] = {}
    levels = {"gender": GENDER_LEVELS, "lonely": LONELY_LEVELS, "happiness": HAPPINESS_LEVELS,
              "teased": TEASED_LEVELS}
    bools = ["ja", "nej", "1", "0", "true", "false"]

    def coded(name: str, encode: str | list[str], suffix: str = "") -> tuple[Any, Any]:
        parse, expected = _column_parser(name)
        return _coded(raw, col(name), name, parse, expected + suffix, recodes.get(name),
                      encode=encode, allowed=levels.get(name, bools))

    def required(name: str, empty: Any) -> None:
        if empty.any():
            _fail(raw, name, empty, "empty value", _column_parser(name)[1])

    # completed first: it decides which answers are required
    completed, empty = coded("completed", "bool")
    required("completed", empty)
    completed = completed == 1
    out["completed"] = completed

    year, empty = coded("year", "float")
    required("year", empty)
    out["year"] = year.astype("int16")
    grade, empty = coded("grade", "float")
    required("grade", empty)
    out["grade"] = grade.astype("int8")

    # school: non-empty text, kept as written (trimmed); parsed once per distinct value
    school_codes, school_u = pd.factorize(col("school"), use_na_sentinel=True)
    _control_rows(raw, school_u, school_codes, "school")
    school_names = np.array([str(u).strip() for u in school_u] + [""], dtype=object)
    school_empty = (school_names == "")[school_codes]
    if school_empty.any():
        _fail(raw, "school", school_empty, "empty value", "a non-empty school name")
    final_codes, final_names = pd.factorize(school_names[:-1])
    _check_spellings(raw, np.append(final_codes, -1)[school_codes], list(final_names))
    out["school"] = pd.Categorical.from_codes(
        np.append(final_codes, -1)[school_codes], categories=list(final_names)
    ).reorder_categories(sorted(final_names))

    # respondent_id: non-empty and unique within year (trimmed; an integral number is the
    # same id as its digits); values are never shown
    rid_codes, rid_bad, rid_empty = _ids(col("respondent_id"))
    if rid_bad.any():
        _fail(raw, "respondent_id", rid_bad, "control character in an id (not shown)",
              "printable text")
    if rid_empty.any():
        _fail(raw, "respondent_id", rid_empty, "empty value", "a non-empty id")
    key = rid_codes.astype("int64") * 64 + (out["year"].astype("int64") - YEAR_RANGE[0])
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        _fail(raw, "respondent_id", dup, "duplicate id within a year "
              "(the ids are not shown)", "unique within year")

    gender_levels = GENDER_LEVELS + [GENDER_NOT_STATED]
    gender, empty = coded("gender", gender_levels)
    gender[empty] = gender_levels.index(GENDER_NOT_STATED)
    out["gender"] = pd.Categorical.from_codes(gender, categories=gender_levels)
    for name in ("lonely", "happiness", "teased"):
        values, empty = coded(name, levels[name])
        out[name] = pd.Categorical.from_codes(values, categories=levels[name])
        out[f"_{name}_empty"] = empty
    sdq, _sdq_empty = coded("sdq_total", "float", " or empty")
    out["sdq_total"] = sdq
    for name in BOOL_COLUMNS[:-1]:
        values, empty = coded(name, "bool")
        out[name] = pd.arrays.BooleanArray(values == 1, values == -1)
        out[f"_{name}_empty"] = empty
    for name in _REQUIRED_IF_COMPLETED:
        missing = out.pop(f"_{name}_empty") & completed
        if missing.any():
            _fail(raw, name, missing, "empty answer on a completed form",
                  CONTRACT[name][1] + " (only incomplete forms may leave it empty)")

    return pd.DataFrame({
        "year": out["year"],
        "school": out["school"],
        "grade": out["grade"],
        "gender": out["gender"],
        "lonely": out["lonely"],
        "happiness": out["happiness"],
        "sdq_total": sdq,
        "sdq_band": _sdq_band(sdq),
        "teased": out["teased"],
        **{name: out[name] for name in BOOL_COLUMNS[:-1]},
        "completed": completed,
    })


def _sdq_band(score: np.ndarray) -> pd.Categorical:
    """SDQ band of each score (NaN -> "missing") as a categorical."""
    import numpy as np
    import pandas as pd

    bands = list(SDQ_BANDS) + [SDQ_MISSING]
    codes = np.full(score.shape, len(bands) - 1, dtype="int8")
    for i, (lo, hi, _label) in enumerate(SDQ_BANDS.values()):
        codes[(score >= lo) & (score <= hi)] = i
    return pd.Categorical.from_codes(codes, categories=bands)


# --------------------------------------------------------------------------- invited
def load_invited(path: str | Path) -> pd.DataFrame:
    """Invited pupils per year: a CSV with columns ``year,invited`` (one row per year)."""
    import re

    import pandas as pd

    from .load import read_csv_rows

    path = Path(path)
    rows = read_csv_rows(path, ["year", "invited"])
    if not rows:
        raise DataValidationError(path, "no rows (only a header)",
                                  expected="one row per year: year,invited")
    years: list[int] = []
    invited: list[int] = []
    for lineno, row in rows:
        for name in ("year", "invited"):
            text = row[name].strip()
            if not re.fullmatch(r"[0-9]+", text):
                raise DataValidationError(path, f"{describe(text)} is not a whole number",
                                          record=f"row {lineno}", field=name,
                                          expected="digits only (a non-negative integer)")
        if not YEAR_RANGE[0] <= int(row["year"]) <= YEAR_RANGE[1]:
            raise DataValidationError(path, f"year {int(row['year'])} is out of range",
                                      record=f"row {lineno}", field="year",
                                      expected=f"a year {CONTRACT['year'][1]}")
        if int(row["year"]) in years:
            raise DataValidationError(path, "year given twice", record=f"row {lineno}",
                                      field="year", expected="one row per year")
        years.append(int(row["year"]))
        invited.append(int(row["invited"]))
    return pd.DataFrame({"invited": invited}, index=pd.Index(years, name="year"))


# --------------------------------------------------------------------------- the survey
@dataclass(frozen=True)
class Survey:
    """A validated survey: typed rows (no ids), invitations per year (or None), its source."""

    frame: pd.DataFrame
    invited: pd.DataFrame | None
    source: SurveySource

    @property
    def synthetic(self) -> bool:
        return self.source.synthetic


def load_survey(source: SurveySource | str | Path | None = None) -> Survey:
    """Load and validate the survey from ``source`` (default: :func:`current_source`)."""
    if source is None:
        source = current_source()
    elif not isinstance(source, SurveySource):
        source = SurveySource(Path(source), False)
    mapping = load_mapping(source.mapping) if source.mapping else None
    frame = validate(read_survey(source.path), mapping)
    invited = load_invited(source.invited) if source.invited else None
    if invited is not None:
        answers = frame.groupby("year").size()
        for year, n in answers.items():
            if year not in invited.index:
                raise DataValidationError(source.invited, f"no row for the year {year} of the "
                                          "survey", field="year", expected="a row for every "
                                          "year the survey has answers for")
            if n > invited.at[year, "invited"]:
                # the counts are not printed: a log is no place for a small group's size
                raise DataValidationError(source.invited, f"fewer pupils invited in {year} than "
                                          "the survey has answers for", field="invited",
                                          expected="at least as many invited as answers")
    return Survey(frame, invited, source)


# --------------------------------------------------------------------------- statistics
#: Confidence level of every interval in the chapter, and its normal quantile.
CI_LEVEL = 0.95
Z95 = 1.959963984540054


def wilson(successes: Any, n: Any, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions (vectorised). n == 0 gives NaN."""
    import numpy as np

    x = np.asarray(successes, dtype="float64")
    m = np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    return centre - half, centre + half


def newcombe(x1: Any, n1: Any, x2: Any, n2: Any, z: float = Z95
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference of two proportions p1 - p2 with Newcombe's hybrid score interval."""
    import numpy as np

    x1, n1, x2, n2 = (np.asarray(a, dtype="float64") for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


# --------------------------------------------------------------------------- tables
@dataclass
class SurveyTable:
    """A publishable survey table: disclosure control applied, nothing below k shown.

    ``values`` holds the numbers (suppressed cells are NaN, so figures can use it safely);
    ``display`` the formatted Danish table with "<k"/"–" markers.
    """

    name: str
    title: str
    values: pd.DataFrame
    display: pd.DataFrame
    synthetic: bool
    k: int
    n_primary: int = 0
    n_secondary: int = 0
    #: The registry of published cells the table was drawn from (one for the whole chapter).
    cells: Registry | None = field(default=None, repr=False)

    @property
    def suppressed(self) -> int:
        return self.n_primary + self.n_secondary

    def caption(self) -> str:
        from .disclosure import FOOTNOTE
        from .style import SYNTHETIC_LABEL

        text = self.title
        if self.synthetic:
            text = f"{SYNTHETIC_LABEL} · {text}"
        if self.suppressed:
            text += " " + FOOTNOTE.format(k=self.k)
        return text

    def styler(self) -> Styler:
        """The table for the book: Danish headers, markers, caption with the synthetic label."""
        from .tables import html_styler

        styler = html_styler(self.display, caption=self.caption())  # escaped: school names
        styles = [{"selector": "caption", "props": "caption-side: top; text-align: left;"}]
        if self.synthetic:
            styles.append({"selector": "caption", "props": "font-weight: bold;"})
        return styler.set_table_styles(styles)

    def _repr_html_(self) -> str:
        return self.styler().to_html()


def _num(value: float, decimals: int = 0) -> str:
    from . import fmt

    return fmt.number(value, decimals)


def _pct(p: float, decimals: int = 1) -> str:
    from . import fmt

    return "–" if p is None or math.isnan(p) else fmt.percent(p * 100, decimals)


def _ci(low: float, high: float, decimals: int = 1) -> str:

    if low is None or math.isnan(low) or math.isnan(high):
        return "–"
    return f"{_signed(low * 100, decimals)}; {_signed(high * 100, decimals)}"


def _signed(value: float, decimals: int = 1) -> str:
    """A Danish number with a typographic minus sign."""
    from . import fmt

    return fmt.number(value, decimals).replace("-", "\u2212")


def _cell(reg: Registry, key: Any) -> str:
    """A count as the book prints it: the number, or the suppression marker."""
    from .disclosure import marker

    return _num(reg.value(key)) if reg.shown(key) else marker(reg.k)


def _share(reg: Registry, num: Any, den: Any) -> float:
    """num / den when both counts may be published (and den > 0), else NaN."""
    if not reg.shown(num, den) or reg.value(den) == 0:
        return math.nan
    return reg.value(num) / reg.value(den)


def _count(reg: Registry, key: Any) -> float:
    return float(reg.value(key)) if reg.shown(key) else math.nan


def _grid(frame: pd.DataFrame, keys: list[str], column: str | None = None) -> pd.Series:
    """Counts for every combination of ``keys`` (+ ``column``), zeros included."""
    import pandas as pd

    by = keys + ([column] if column else [])
    counts = frame.groupby(by, observed=False, sort=True, dropna=False).size()
    levels = []
    for name in by:
        s = frame[name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            levels.append(list(s.cat.categories))
        elif str(s.dtype) == "boolean" or s.dtype == bool:
            levels.append([True, False])
        else:
            levels.append(sorted(s.dropna().unique().tolist()))
    full = pd.MultiIndex.from_product(levels, names=by) if len(by) > 1 else pd.Index(levels[0],
                                                                                     name=by[0])
    return counts.reindex(full, fill_value=0).astype("int64")


def _lonely_bin(frame: pd.DataFrame) -> pd.Categorical:
    import numpy as np
    import pandas as pd

    yes = frame["lonely"].isin(["ofte", "nogle gange"]).to_numpy()
    return pd.Categorical.from_codes(np.where(yes, 0, 1), categories=_LONELY_BIN)




# --------------------------------------------------------------------------- the registry
#: The breakdowns of the prevalence tables: column -> Danish label.
BREAKDOWNS = {"grade": "Klassetrin", "gender": "Køn", "school": "Skole"}
_L, _NL = _LONELY_BIN


def _measure_columns() -> list[str]:
    return list(dict.fromkeys(m[2] for m in MEASURES))


def build_registry(frame: pd.DataFrame, k: int) -> Registry:
    """Every count the chapter publishes, as cells of one registry, protected jointly.

    Keys describe population cells: ``("completed", year)``, ``("bin", year, "Ensomme")``,
    ``("group", "school", year, name, "n")``, ``("measure", column, year, bin, value)``, ...
    The relations are the identities of the microdata that link the tables (a year's completed
    forms are the lonely plus the not lonely pupils, and also the sum over schools, grades,
    genders and happiness answers, ...). :meth:`Registry.protect` then suppresses over all
    tables at once, so no hidden number follows from another table.
    """
    import pandas as pd

    from .disclosure import Registry

    reg = Registry(k)
    done = frame[frame["completed"]]
    years = sorted(frame["year"].unique().tolist())
    done_years = sorted(done["year"].unique().tolist())
    by_year = frame.groupby(["year", "completed"]).size()
    for y in years:
        completed = int(by_year.get((y, True), 0))
        excluded = int(by_year.get((y, False), 0))
        reg.add(("completed", y), completed, f"{y}: gennemførte besvarelser")
        reg.add(("excluded", y), excluded, f"{y}: udeladte (ufuldstændige) skemaer")
        reg.add(("answered", y), completed + excluded, f"{y}: besvarede skemaer")
        reg.relate(("answered", y), [("completed", y), ("excluded", y)])
    reg.add(("excluded", "alle"), int((~frame["completed"]).sum()),
            "udeladte skemaer i alt (alle år)")
    reg.relate(("excluded", "alle"), [("excluded", y) for y in years])

    base = pd.DataFrame({"year": done["year"].to_numpy(), "lonely": _lonely_bin(done)})
    levels = _grid(done, ["year"], "lonely").unstack("lonely")
    for y in done_years:
        for b in _LONELY_BIN:
            reg.add(("bin", y, b), int((base["year"] == y).mul(base["lonely"] == b).sum()),
                    f"{y}: {b.lower()}")
        reg.relate(("completed", y), [("bin", y, _L), ("bin", y, _NL)])
        for lv in ("ofte", "nogle gange"):
            reg.add(("level", y, lv), int(levels.loc[y, lv]), f"{y}: svarer «{lv}» til ensomhed")
        reg.relate(("bin", y, _L), [("level", y, "ofte"), ("level", y, "nogle gange")])

    for dim, label in BREAKDOWNS.items():
        grp = base.assign(group=done[dim].array)
        counts = _grid(grp, ["year", "group"], "lonely").unstack("lonely")
        for y in done_years:
            block = counts.loc[y]
            block = block[block.sum(axis=1) > 0]  # a group absent that year is no row
            for g, row in block.iterrows():
                key = ("group", dim, y, g)
                reg.add((*key, "n"), int(row.sum()), f"{y}, {label.lower()} «{g}»: besvarelser")
                for b in _LONELY_BIN:
                    reg.add((*key, b), int(row[b]), f"{y}, {label.lower()} «{g}»: {b.lower()}")
                reg.relate((*key, "n"), [(*key, _L), (*key, _NL)])
            names = list(block.index)
            reg.relate(("completed", y), [("group", dim, y, g, "n") for g in names])
            for b in _LONELY_BIN:
                reg.relate(("bin", y, b), [("group", dim, y, g, b) for g in names])

    for column in _measure_columns():
        grid = _grid(base.assign(value=done[column].array), ["year", "lonely"],
                     "value").unstack("value")
        for y in done_years:
            for b in _LONELY_BIN:
                parts = []
                for value in grid.columns:
                    key = ("measure", column, y, b, value)
                    reg.add(key, int(grid.loc[(y, b), value]),
                            f"{y}, {b.lower()}: {column} = {value}")
                    parts.append(key)
                if column == "sdq_band":
                    answered = ("sdq_answered", y, b)
                    bands = [p for p in parts if p[-1] != SDQ_MISSING]
                    reg.add(answered, sum(reg.value(p) for p in bands),
                            f"{y}, {b.lower()}: har besvaret SDQ")
                    reg.relate(answered, bands)
                    missing = [p for p in parts if p[-1] == SDQ_MISSING]
                    reg.relate(("bin", y, b), [answered, *missing])
                else:
                    reg.relate(("bin", y, b), parts)
    happy = _grid(done, ["year"], "happiness").unstack("happiness")
    for y in done_years:
        for lv in HAPPINESS_LEVELS:
            reg.add(("happiness", y, lv), int(happy.loc[y, lv]), f"{y}: «{lv}» for livet")
            reg.relate(("happiness", y, lv), [("measure", "happiness", y, b, lv)
                                              for b in _LONELY_BIN])
        reg.relate(("completed", y), [("happiness", y, lv) for lv in HAPPINESS_LEVELS])
    _publish_everything(reg, years, done_years)
    reg.protect()
    return reg


def _denominator(column: str, y: int, b: str) -> tuple:
    """The count a comparison share is taken of (SDQ: of those who answered the SDQ)."""
    return ("sdq_answered", y, b) if column == "sdq_band" else ("bin", y, b)


def _publish_everything(reg: Registry, years: list[int], done_years: list[int]) -> None:
    """Tell the registry every place that shows a count (a share shows its numerator and its
    denominator: with the denominator given, a share is the count)."""
    for y in years:  # the response table and the sentence on completed forms
        reg.publish(("answered", y), ("completed", y), ("excluded", y), ("completed", y))
    reg.publish(("excluded", "alle"))
    for y in done_years:
        # lonely levels, prevalence per year, the three breakdowns' "I alt" rows, the trend
        reg.publish(("level", y, "ofte"), ("level", y, "nogle gange"), ("bin", y, _NL))
        for _ in range(2 + len(BREAKDOWNS)):
            reg.publish(("completed", y), ("bin", y, _L))
        for key in reg.cells:
            if key[0] == "group" and key[2] == y and key[-1] in ("n", _L):
                reg.publish(key)
        for _key, _label, column, level, _excluded in MEASURES:
            for b in _LONELY_BIN:
                reg.publish(("measure", column, y, b, level), _denominator(column, y, b))
        for lv in HAPPINESS_LEVELS:
            reg.publish(("happiness", y, lv))
        reg.publish(("measure", "sdq_band", y, _L, "normal"), ("sdq_answered", y, _L),
                    ("measure", "teased", y, _L, "ofte"), ("bin", y, _L),
                    ("happiness", y, "slet ikke glad"), ("completed", y))


# --------------------------------------------------------------------------- tables
def _keys_of(reg: Registry, prefix: tuple) -> list[Any]:
    return [key for key in reg.cells if key[:len(prefix)] == prefix]


def _response_table(reg: Registry, years: list[int], invited: pd.DataFrame | None,
                    synthetic: bool) -> SurveyTable:
    import numpy as np
    import pandas as pd

    inv = invited["invited"].reindex(years) if invited is not None else pd.Series(np.nan, years)
    values = pd.DataFrame({"year": years, "invited": inv.to_numpy(dtype="float64")})
    for c in ("answered", "completed", "excluded"):
        values[c] = [_count(reg, (c, y)) for y in years]
    values["rate_answered"] = values["answered"] / values["invited"]
    values["rate_completed"] = values["completed"] / values["invited"]
    display = pd.DataFrame({
        "År": [str(y) for y in years],
        "Inviterede": [_num(v) if not math.isnan(v) else "ikke oplyst" for v in values["invited"]],
        "Besvarede": [_cell(reg, ("answered", y)) for y in years],
        "Gennemførte": [_cell(reg, ("completed", y)) for y in years],
        "Udeladt (ufuldstændige)": [_cell(reg, ("excluded", y)) for y in years],
        "Svarprocent (besvarede)": [_pct(p) for p in values["rate_answered"]],
        "Svarprocent (gennemførte)": [_pct(p) for p in values["rate_completed"]],
    })
    keys = [(c, y) for y in years for c in ("answered", "completed", "excluded")]
    return SurveyTable("response", "Besvarelser og svarprocent pr. år", values, display,
                       synthetic, reg.k, *reg.counts(keys))


def _prevalence_table(reg: Registry, years: list[int], by: str | None, synthetic: bool
                      ) -> SurveyTable:
    """Share answering yes to loneliness per year (and group) with Wilson intervals."""
    import pandas as pd

    label = BREAKDOWNS.get(by or "", "Gruppe")
    rows_v, rows_d, keys = [], [], []
    for y in years:
        groups = [(str(key[3]), (*key[:4], "n"), (*key[:4], _L))
                  for key in _keys_of(reg, ("group", by, y)) if key[-1] == "n"] if by else []
        groups.append(("I alt" if by else "Alle", ("completed", y), ("bin", y, _L)))
        for name, n_key, x_key in groups:
            keys += [n_key, x_key]
            share = _share(reg, x_key, n_key)
            low, high = (wilson(reg.value(x_key), reg.value(n_key)) if not math.isnan(share)
                         else (math.nan, math.nan))
            rows_v.append({"year": int(y), "group": name, "n": _count(reg, n_key),
                           "lonely": _count(reg, x_key) if not math.isnan(share) else math.nan,
                           "share": share, "low": float(low), "high": float(high)})
            rows_d.append({"År": str(y), label: name, "Besvarelser": _cell(reg, n_key),
                           "Ensomme": _cell(reg, x_key), "Andel ensomme": _pct(share),
                           "95 %-konfidensinterval": _ci(float(low), float(high))})
    display = pd.DataFrame(rows_d)
    if not by:
        display = display.drop(columns=[label])
    title = ("Andel, der svarer ja til ensomhed («ofte» eller «nogle gange»), pr. år"
             + (f" og {label.lower()}" if by else "") + ", med 95 %-konfidensinterval (Wilson)")
    if by:  # the "I alt" row repeats the per-year table: count its cells there only
        keys = [key for key in keys if key[0] == "group"]
    return SurveyTable(f"prevalence_{by or 'year'}", title, pd.DataFrame(rows_v), display,
                       synthetic, reg.k, *reg.counts(keys))


def _lonely_levels_table(reg: Registry, years: list[int], synthetic: bool) -> SurveyTable:
    """Distribution of the loneliness answer per year (ofte / nogle gange / nej)."""
    import pandas as pd

    level_key = {"ofte": "ofte", "nogle gange": "nogle gange"}
    rows_v, rows_d, keys = [], [], []
    for y in years:
        n_key = ("completed", y)
        row_d = {"År": str(y), "Besvarelser": _cell(reg, n_key)}
        row_v: dict[str, Any] = {"year": int(y), "n": _count(reg, n_key)}
        for level in LONELY_LEVELS:
            key = ("level", y, level_key[level]) if level in level_key else ("bin", y, _NL)
            keys.append(key)
            share = _share(reg, key, n_key)
            row_v[level] = share
            if math.isnan(share):
                row_d[f"«{level}»"] = _cell(reg, key) if not reg.shown(key) else _pct(share)
            else:
                low, high = wilson(reg.value(key), reg.value(n_key))
                row_d[f"«{level}»"] = f"{_pct(share)} [{_ci(float(low), float(high))}]"
        rows_v.append(row_v)
        rows_d.append(row_d)
    return SurveyTable("lonely_levels", "Svar på spørgsmålet om ensomhed pr. år: andel "
                       "(95 %-konfidensinterval)", pd.DataFrame(rows_v), pd.DataFrame(rows_d),
                       synthetic, reg.k, *reg.counts(keys))
#: Lonely-vs-not comparisons: (key, Danish label, column, level counted, levels excluded
#: from the denominator).
MEASURES: list[tuple[str, str, str, Any, tuple[Any, ...]]] = [
    *[(f"teased_{lv.replace(' ', '_').replace('æ', 'ae')}", f"Bliver drillet: {lv}", "teased", lv,
       ()) for lv in TEASED_LEVELS],
    ("bullied", "Bliver mobbet", "bullied", True, ()),
    ("leisure_activity", "Går til en organiseret fritidsaktivitet", "leisure_activity", True, ()),
    ("talks_to_adult", "Har en voksen at tale med, når de er kede af det", "talks_to_adult",
     True, ()),
    ("talks_to_peer", "Har en jævnaldrende at tale med, når de er kede af det", "talks_to_peer",
     True, ()),
    *[(f"happiness_{i}", f"Glad for livet: {lv}", "happiness", lv, ())
      for i, lv in enumerate(HAPPINESS_LEVELS)],
    *[(f"sdq_{code}", f"SDQ: {label}", "sdq_band", code, (SDQ_MISSING,))
      for code, (_lo, _hi, label) in SDQ_BANDS.items()],
]



def _comparison_table(reg: Registry, years: list[int], synthetic: bool) -> SurveyTable:
    """Lonely vs not lonely on every other measure, per year, with differences and intervals.

    A share is shown when its count and its denominator may both be published."""
    import numpy as np
    import pandas as pd

    rows_v, rows_d, keys = [], [], []
    for key, label, column, level, _excluded in MEASURES:
        for y in years:
            shares = {}
            for b in _LONELY_BIN:
                x_key, n_key = ("measure", column, y, b, level), _denominator(column, y, b)
                keys.append(x_key)
                shares[b] = (_share(reg, x_key, n_key), reg.value(x_key), reg.value(n_key))
            (p1, x1, n1), (p2, x2, n2) = shares[_L], shares[_NL]
            both = not (math.isnan(p1) or math.isnan(p2))
            d, low, high = newcombe(x1, n1, x2, n2) if both else (np.nan,) * 3
            rows_v.append({"measure": key, "label": label, "year": int(y),
                           "lonely_x": float(x1) if not math.isnan(p1) else np.nan,
                           "lonely_n": float(n1) if not math.isnan(p1) else np.nan,
                           "lonely_share": p1, "other_share": p2,
                           "diff": float(d), "low": float(low), "high": float(high)})
            rows_d.append({"Mål": label, "År": str(y), "Ensomme": _pct(p1),
                           "Ikke ensomme": _pct(p2),
                           "Forskel (procentpoint)": _signed(d * 100, 1) if both else "–",
                           "95 %-konfidensinterval": _ci(low, high) if both else "–"})
    title = ("Ensomme og ikke-ensomme børn på de øvrige mål: andele, forskel i procentpoint og "
             "95 %-konfidensinterval for forskellen (Newcombe). SDQ-andele er af dem, der har "
             "besvaret SDQ")
    return SurveyTable("comparison", title, pd.DataFrame(rows_v), pd.DataFrame(rows_d),
                       synthetic, reg.k, *reg.counts(keys))


def _happiness_table(reg: Registry, years: list[int], synthetic: bool) -> SurveyTable:
    """Answers to "Hvor glad er du for dit liv for tiden?" per year (counts and shares)."""
    import pandas as pd

    rows_v, rows_d, keys = [], [], []
    for y in years:
        rv: dict[str, Any] = {"year": int(y)}
        rd = {"År": str(y)}
        for lv in HAPPINESS_LEVELS:
            key = ("happiness", y, lv)
            keys.append(key)
            rv[lv] = _count(reg, key)
            share = _share(reg, key, ("completed", y))
            rd[f"«{lv}»"] = (f"{_cell(reg, key)} ({_pct(share)})" if not math.isnan(share)
                             else _cell(reg, key))
        rows_v.append(rv)
        rows_d.append(rd)
    return SurveyTable("happiness", "Svar på «Hvor glad er du for dit liv for tiden?» pr. år: "
                       "antal (andel)", pd.DataFrame(rows_v), pd.DataFrame(rows_d), synthetic,
                       reg.k, *reg.counts(keys))


#: Indicators followed over time (trend 2017→2019): key -> Danish label.
TREND_INDICATORS: dict[str, str] = {
    "lonely": "Svarer ja til ensomhed",
    "lonely_sdq_normal": "Ensomme børn i SDQ's normalområde",
    "lonely_teased_often": "Ensomme børn, der ofte bliver drillet",
    "not_happy_at_all": "Svarer «slet ikke glad» for livet",
}


def _trend_table(tables: dict[str, SurveyTable], k: int, synthetic: bool) -> SurveyTable:
    """Key indicators per year and the change from the first to the last year (with CI)."""
    import numpy as np
    import pandas as pd

    prev = tables["prevalence_year"].values
    comp = tables["comparison"].values
    happy = tables["happiness"].values
    resp = tables["response"].values.set_index("year")
    years = sorted(prev["year"].tolist())
    series: dict[str, dict[int, tuple[float, float]]] = {key: {} for key in TREND_INDICATORS}
    for _, r in prev.iterrows():
        series["lonely"][int(r["year"])] = (r["lonely"], r["n"])
    for key, measure in (("lonely_sdq_normal", "sdq_normal"), ("lonely_teased_often",
                                                                "teased_ofte")):
        for _, r in comp[comp["measure"] == measure].iterrows():
            series[key][int(r["year"])] = (r["lonely_x"], r["lonely_n"])
    for _, r in happy.iterrows():
        series["not_happy_at_all"][int(r["year"])] = (r["slet ikke glad"],
                                                      resp.loc[int(r["year"]), "completed"])
    rows_v, rows_d = [], []
    first, last = (years[0], years[-1]) if years else (None, None)
    for key, label in TREND_INDICATORS.items():
        rd = {"Indikator": label}
        rv: dict[str, Any] = {"indicator": key, "label": label}
        for y in years:
            x, n = series[key].get(y, (np.nan, np.nan))
            share = x / n if n and not math.isnan(x) and not math.isnan(n) else np.nan
            rv[str(y)] = share
            rd[str(y)] = _pct(share)
        change = f"{first}→{last}" if first != last else "Ændring"
        x1, n1 = series[key].get(last, (np.nan, np.nan))
        x0, n0 = series[key].get(first, (np.nan, np.nan))
        d, low, high = newcombe(x1, n1, x0, n0)
        rv.update({"diff": float(d), "low": float(low), "high": float(high)})
        rd[f"Ændring {change} (procentpoint)"] = (
            "–" if math.isnan(d) or first == last else f"{_signed(d * 100, 1)} [{_ci(low, high)}]")
        rows_v.append(rv)
        rows_d.append(rd)
    return SurveyTable("trend", "Udvikling i nøgletal pr. år (andele); ændring fra første til "
                       "sidste måling med 95 %-konfidensinterval", pd.DataFrame(rows_v),
                       pd.DataFrame(rows_d), synthetic, k)


def run_pipeline(data: Survey | SurveySource | pd.DataFrame | str | Path | None = None, *,
                 k: int | None = None,
                 published: pd.DataFrame | None = None, synthetic: bool | None = None
                 ) -> dict[str, SurveyTable]:
    """Every table of the chapter, with disclosure control applied.

    ``data`` is a :class:`Survey`, a :class:`SurveySource`, a path, a raw (unvalidated)
    DataFrame in the contract's columns, or None (the current source). Raw frames and paths
    are validated first, so this is the whole pipeline: load, validate, tabulate, suppress.
    ``published`` (default :func:`plusdig.load_published`) feeds the published-figures check.
    """
    import pandas as pd

    from .disclosure import threshold

    k = threshold(k)
    if data is None:
        data = load_survey()
    if isinstance(data, (str, Path, SurveySource)):
        data = load_survey(data)
    if isinstance(data, pd.DataFrame):
        if "completed" in data.columns and str(data["completed"].dtype) == "bool" \
                and "sdq_band" in data.columns:
            frame = data  # already validated
        else:
            frame = validate(_Raw(data, "<data frame>", 1, "record"))
        invited, syn = None, bool(synthetic)
    else:
        frame, invited, syn = data.frame, data.invited, data.synthetic
        syn = syn if synthetic is None else synthetic
    return tables_from_registry(build_registry(frame, k), frame, invited, syn, published)


def tables_from_registry(reg: Registry, frame: pd.DataFrame, invited: pd.DataFrame | None,
                         syn: bool, published: pd.DataFrame | None = None
                         ) -> dict[str, SurveyTable]:
    """Every table of the chapter drawn from a protected registry (:func:`build_registry`)."""
    k = reg.k
    years = sorted(frame["year"].unique().tolist())
    done_years = sorted(frame.loc[frame["completed"], "year"].unique().tolist())
    tables: dict[str, SurveyTable] = {}
    tables["response"] = _response_table(reg, years, invited, syn)
    tables["lonely_levels"] = _lonely_levels_table(reg, done_years, syn)
    tables["prevalence_year"] = _prevalence_table(reg, done_years, None, syn)
    for by in BREAKDOWNS:
        tables[f"prevalence_{by}"] = _prevalence_table(reg, done_years, by, syn)
    tables["comparison"] = _comparison_table(reg, done_years, syn)
    tables["happiness"] = _happiness_table(reg, done_years, syn)
    tables["trend"] = _trend_table(tables, k, syn)
    for table in tables.values():
        table.cells = reg
    if published is None:
        from .load import load_published

        published = load_published()
    tables["published_check"] = published_check(tables, published)
    return tables


# --------------------------------------------------------------------------- published check
#: Published indicators that respondent-level data cannot recompute (facts about the design).
NOT_FROM_RESPONSES = {"questions", "measurements-planned"}


def _percent_int(share: float) -> float:
    """A share as a whole percent, rounded half up (as reports round)."""
    return math.floor(share * 100 + 0.5)


def published_check(tables: dict[str, SurveyTable], published: pd.DataFrame) -> SurveyTable:
    """Recompute each published survey figure from the loaded data and compare.

    Counts and shares are recomputed from the disclosure-controlled tables, so a suppressed
    value stays suppressed here too. "ca." figures match within :data:`APPROX_TOLERANCE`;
    shares match when the recomputed share rounds to the published whole percent; counts and
    grades match exactly; a direction ("fald") matches when the change has that sign.
    """
    import numpy as np
    import pandas as pd

    from . import fmt

    resp = tables["response"].values.set_index("year")
    prev = tables["prevalence_year"].values.set_index("year")
    comp = tables["comparison"].values
    happy = tables["happiness"].values.set_index("year")
    synthetic = tables["response"].synthetic
    k = tables["response"].k
    grades = tables["prevalence_grade"].values
    grade_levels = sorted(int(g) for g in grades["group"].unique() if g != "I alt")

    def comp_share(measure: str, year: int) -> float:
        row = comp[(comp["measure"] == measure) & (comp["year"] == year)]
        return float(row["lonely_share"].iloc[0]) if len(row) else np.nan

    def pct_int(share: float) -> float:
        return np.nan if math.isnan(share) else _percent_int(share)

    rows_v, rows_d = [], []
    for _, fig in published.iterrows():
        ind = fig["indicator"]
        y0 = None if pd.isna(fig["year_start"]) else int(fig["year_start"])
        y1 = None if pd.isna(fig["year_end"]) else int(fig["year_end"])
        value = None if pd.isna(fig["value"]) else float(fig["value"])
        qual = None if pd.isna(fig["qualifier"]) else str(fig["qualifier"])
        direction = None if pd.isna(fig["direction"]) else str(fig["direction"])
        years = list(range(y0, y1 + 1)) if y0 is not None and y1 is not None else []
        recomputed: list[float] = []
        shown = "–"
        status = "kan ikke genberegnes"
        unit_pct = fig["unit"] == "procent"

        def close(x: float, value: float | None = value, qual: str | None = qual) -> bool:
            if value is None or x is None or math.isnan(x):
                return False
            if qual == "ca.":
                return abs(x - value) <= APPROX_TOLERANCE * value
            return x == value

        if ind in NOT_FROM_RESPONSES:
            status = "indgår ikke i besvarelserne"
        elif ind == "respondents-per-measurement":
            recomputed = [float(resp["completed"].get(y, np.nan)) for y in years]
        elif ind == "response-rate":
            recomputed = [float(resp["rate_completed"].get(y, np.nan)) * 100 for y in years]
        elif ind == "pupils-total":
            recomputed = [float(resp["invited"].get(y, np.nan)) for y in resp.index]
        elif ind == "grade-from":
            recomputed = [float(min(grade_levels))] if grade_levels else [np.nan]
        elif ind == "grade-to":
            recomputed = [float(max(grade_levels))] if grade_levels else [np.nan]
        elif ind == "measurements":
            recomputed = [float(len([y for y in years if y in resp.index]))]
        elif ind == "not-happy-at-all":
            recomputed = [float(happy["slet ikke glad"].get(y, np.nan)) for y in years]
        elif ind == "lonely-sdq-normal-range":
            recomputed = [pct_int(comp_share("sdq_normal", y)) for y in years]
        elif ind == "lonely-often-teased":
            recomputed = [pct_int(comp_share("teased_ofte", y)) for y in years]
        elif ind == "lonely":
            shares = [float(prev["share"].get(y, np.nan)) for y in (y0, y1)]
            if not any(math.isnan(s) for s in shares):
                change = shares[1] - shares[0]
                ok = (change < 0) if direction == "fald" else (change > 0)
                shown = (f"{_pct(shares[0])} → {_pct(shares[1])}")
                status = "stemmer" if ok else "afviger"
        else:
            status = "ukendt indikator"
        if recomputed:
            if any(math.isnan(x) for x in recomputed):
                shown = " / ".join("–" if math.isnan(x) else
                                   (fmt.percent(x, 1) if unit_pct else _num(x))
                                   for x in recomputed)
                status = "kan ikke genberegnes" if all(math.isnan(x) for x in recomputed) \
                    else "afviger"
            else:
                shown = " / ".join(fmt.percent(x, 1 if qual else 0) if unit_pct else _num(x)
                                   for x in recomputed)
                status = "stemmer" if all(close(x) for x in recomputed) else "afviger"
        pub = ("fald" if direction == "fald" else "stigning") if value is None else (
            fmt.approx(value, qual) + (" %" if unit_pct else ""))
        period = "" if y0 is None else (str(y0) if y0 == y1 else f"{y0}–{y1}")
        rows_v.append({"figure_id": fig["figure_id"], "indicator": ind, "period": period,
                       "published": value, "recomputed": recomputed, "status": status})
        rows_d.append({"Offentliggjort tal": fig["label"], "År": period, "Offentliggjort": pub,
                       "Genberegnet": shown, "Resultat": status})
    title = ("De offentliggjorte tal fra trivselsmålingen genberegnet fra de indlæste data "
             "(«ca.» godtages inden for ±5 %)")
    return SurveyTable("published_check", title, pd.DataFrame(rows_v), pd.DataFrame(rows_d),
                       synthetic, k)


# --------------------------------------------------------------------------- figures
def _label_synthetic(fig: Figure, synthetic: bool) -> None:
    from .style import SYNTHETIC_LABEL

    if synthetic:
        fig.text(0.995, 0.995, SYNTHETIC_LABEL.upper(), ha="right", va="top", fontsize=11,
                 fontweight="bold", color="white",
                 bbox={"boxstyle": "round,pad=0.3", "facecolor": "#B00020", "edgecolor": "none"})


def _note_dropped(fig: Figure, n_dropped: int, k: int) -> None:
    if n_dropped:
        what = "værdi" if n_dropped == 1 else "værdier"
        fig.text(0.01, 0.005, f"Udeladt: {n_dropped} {what} med færre end {k} besvarelser "
                 "eller sekundært undertrykt.", ha="left", va="bottom", fontsize=8,
                 color="#444444")


def _finish(fig: Figure, n_dropped: int, table: SurveyTable) -> Figure:
    """Every survey figure's last step: note dropped values, label synthetic data, lay out,
    attach the data drawn (:func:`figure_data`)."""
    import matplotlib.pyplot as plt

    from .figdata import attach

    _note_dropped(fig, n_dropped, table.k)
    _label_synthetic(fig, table.synthetic)
    fig.tight_layout()
    plt.close(fig)
    return attach(fig, figure_data(table))


#: The columns of a survey table a figure of it draws (the table's Danish headers).
_FIGURE_COLUMNS: dict[str, list[str]] = {
    "prevalence": ["År", "Andel ensomme", "95 %-konfidensinterval"],
    "comparison": ["Mål", "År", "Ensomme", "Ikke ensomme"],
}


def figure_data(table: SurveyTable) -> FigureData:
    """The data a survey figure draws, as the page prints it: the rows and columns of the
    figure's table (suppressed cells «–», shares rounded as printed), never more."""
    from .figdata import FigureData

    shown = table.display
    if table.name.startswith("prevalence"):
        columns = list(_FIGURE_COLUMNS["prevalence"])
        if table.name != "prevalence_year":
            columns.insert(1, shown.columns[1])  # the group: Klassetrin, Køn, Skole
            shown = shown[shown[shown.columns[1]] != "I alt"]
    elif table.name == "comparison":
        columns = _FIGURE_COLUMNS["comparison"]
    elif table.name == "trend":
        columns = [c for c in shown.columns if c == shown.columns[0] or str(c).isdigit()]
    else:
        raise ValueError(f"no figure is drawn from survey table {table.name!r}")
    source = ("Kilde: trivselsmålingen, " + ("syntetiske data" if table.synthetic
                                             else "de leverede besvarelser") + ".")
    return FigureData(shown[columns].reset_index(drop=True), source, synthetic=table.synthetic,
                      notes=["Tallene er afrundet og undertrykt som i tabellen på siden "
                             f"(«–»: undertrykt, færre end {table.k} besvarelser eller skjult)."])


def figure_prevalence_trend(table: SurveyTable) -> Figure:
    """Share answering yes to loneliness by year, with 95 % Wilson intervals."""
    import matplotlib.pyplot as plt

    from .style import PALETTE, danish_axis

    v = table.values.dropna(subset=["share"]).sort_values("year")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.errorbar(v["year"].astype(str), v["share"] * 100,
                yerr=[(v["share"] - v["low"]) * 100, (v["high"] - v["share"]) * 100],
                fmt="o-", color=PALETTE[0], capsize=4, lw=2)
    ax.set_ylim(0, max(40.0, float((v["high"] * 100).max()) + 5 if len(v) else 40.0))
    danish_axis(ax, "y", percent=True)
    ax.set_xlabel("Måling")
    ax.set_ylabel("Svarer ja til ensomhed")
    ax.set_title("Andel, der svarer ja til ensomhed")
    return _finish(fig, int(table.values["share"].isna().sum()), table)


def figure_prevalence_groups(table: SurveyTable, title: str, xlabel: str) -> Figure:
    """Share answering yes to loneliness by group and year (95 % Wilson intervals).

    Suppressed groups (NaN) are dropped from the figure, and the figure says how many.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .style import PALETTE, danish_axis

    v = table.values[table.values["group"] != "I alt"]
    dropped = int(v["share"].isna().sum())
    v = v.dropna(subset=["share"])
    groups = list(dict.fromkeys(table.values.loc[table.values["group"] != "I alt", "group"]))
    groups = [g for g in groups if g in set(v["group"])]
    years = sorted(v["year"].unique().tolist())
    fig, ax = plt.subplots(figsize=(max(7.0, 0.9 * len(groups) + 3), 4))
    width = 0.8 / max(len(years), 1)
    pos = {g: i for i, g in enumerate(groups)}
    for j, year in enumerate(years):
        s = v[v["year"] == year]
        x = np.array([pos[g] for g in s["group"]]) - 0.4 + width * (j + 0.5)
        ax.errorbar(x, s["share"] * 100, yerr=[(s["share"] - s["low"]) * 100,
                                               (s["high"] - s["share"]) * 100],
                    fmt="o", capsize=3, color=PALETTE[j % len(PALETTE)], label=str(year))
    ax.set_xticks(range(len(groups)), groups)
    danish_axis(ax, "y", percent=True)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Svarer ja til ensomhed")
    ax.set_title(title)
    if years:
        ax.legend(title="Måling", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _finish(fig, dropped, table)


def figure_comparison(table: SurveyTable) -> Figure:
    """Lonely vs not lonely on every other measure: shares per year (suppressed ones dropped)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from .style import PALETTE, danish_axis

    v = table.values
    years = sorted(v["year"].unique().tolist())
    labels = list(dict.fromkeys(v["label"]))
    fig, axes = plt.subplots(1, max(len(years), 1), figsize=(4 * max(len(years), 1) + 3, 7),
                             sharey=True, squeeze=False)
    dropped = 0
    for ax, year in zip(axes[0], years, strict=False):
        s = v[v["year"] == year].set_index("label").reindex(labels)
        y = np.arange(len(labels))
        for col, colour, name in (("lonely_share", PALETTE[5], "Ensomme"),
                                  ("other_share", PALETTE[0], "Ikke ensomme")):
            ok = s[col].notna().to_numpy()
            dropped += int((~ok).sum())
            ax.scatter(s[col].to_numpy()[ok] * 100, y[ok], color=colour, label=name, zorder=3)
        both = s["lonely_share"].notna() & s["other_share"].notna()
        ax.hlines(y[both.to_numpy()], s.loc[both, "lonely_share"] * 100,
                  s.loc[both, "other_share"] * 100, color="#999999", lw=1, zorder=2)
        ax.set_title(str(year))
        ax.set_xlim(0, 100)
        danish_axis(ax, "x", percent=True)
    axes[0][0].set_yticks(range(len(labels)), labels)
    axes[0][0].invert_yaxis()
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles[:2], names[:2], loc="upper left", ncols=2, frameon=False)
    fig.suptitle("Ensomme og ikke-ensomme børn på de øvrige mål")
    return _finish(fig, dropped, table)


def figure_indicator_trend(table: SurveyTable) -> Figure:
    """The trend indicators (shares) per year, one line each."""
    import matplotlib.pyplot as plt

    from .style import PALETTE, danish_axis

    v = table.values
    years = [c for c in v.columns if c.isdigit()]
    fig, ax = plt.subplots(figsize=(8, 4))
    dropped = 0
    for i, (_, row) in enumerate(v.iterrows()):
        ys = [row[y] * 100 for y in years]
        dropped += sum(1 for y in ys if math.isnan(y))
        ax.plot(years, ys, "o-", color=PALETTE[i % len(PALETTE)], label=row["label"])
    danish_axis(ax, "y", percent=True)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Måling")
    ax.set_ylabel("Andel")
    ax.set_title("Nøgletal over tid")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _finish(fig, dropped, table)


def banner_markdown(source: SurveySource, k: int) -> str:
    """The admonition that opens the chapter: synthetic data or a real delivery."""
    if source.synthetic:
        return (":::{admonition} Syntetiske data\n:class: warning\n"
                "Tallene, tabellerne og figurerne i dette kapitel er beregnet på et **syntetisk "
                "datasæt**, som bogen selv genererer, og *ikke* på børnenes rigtige besvarelser. "
                "Datasættet er konstrueret, så det gengiver de tal, der er offentliggjort fra "
                "målingen; alt andet er antagelser. Alle tabeller og figurer er mærket "
                "«Syntetiske data». Evaluatorer med adgang til besvarelserne bygger kapitlet på "
                "de rigtige data ved at sætte miljøvariablen `PLUSDIG_SURVEY`.\n:::\n")
    return (":::{admonition} Beregnet på de leverede besvarelser\n:class: note\n"
            "Kapitlet er beregnet på de leverede besvarelser fra trivselsmålingen. Ingen celle "
            f"bygger på færre end {k} besvarelser; mindre tal er undertrykt.\n:::\n")


def chapter_numbers(tables: dict[str, SurveyTable]) -> dict[str, str]:
    """The numbers and data-driven words the chapter's prose glues, as Danish text.

    Built only from the disclosure-controlled tables, so a suppressed value reads "–".
    """
    import numpy as np

    from . import fmt

    resp = tables["response"].values
    prev = tables["prevalence_year"].values.sort_values("year")
    trend = tables["trend"].values.set_index("indicator")
    comp = tables["comparison"].values
    check = tables["published_check"].values
    years = [int(y) for y in prev["year"]]
    first, last = (years[0], years[-1]) if years else (None, None)
    from .disclosure import MIN_K

    out: dict[str, str] = {
        "k": str(tables["response"].k),
        "k_plus_one": str(tables["response"].k + 1),
        "min_k": str(MIN_K),
        "ci_level": fmt.percent(CI_LEVEL * 100),
        "approx_tolerance": fmt.percent(APPROX_TOLERANCE * 100),
        "year_first": str(first),
        "year_last": str(last),
        "n_years": fmt.number(len(years)),
        "years": f"{first}–{last}" if first != last else str(first),
    }
    # a range over the years bounds every year's number, so it is given only when every
    # year's number may be published (else a hidden one would be bracketed by it)
    done = resp["completed"]
    out["completed_range"] = ("–" if not len(done) or done.isna().any() else
                              fmt.number(done.min()) if done.min() == done.max() else
                              f"{fmt.number(done.min())}–{fmt.number(done.max())}")
    reg = tables["response"].cells
    total = ("excluded", "alle")
    out["excluded_total"] = (fmt.number(reg.value(total)) if reg is not None and reg.shown(total)
                             else "–")
    rates = resp["rate_completed"]
    lo_s, hi_s = (fmt.number(rates.min() * 100, 1), fmt.number(rates.max() * 100, 1)) \
        if len(rates) and rates.notna().all() else ("", "")
    out["rate_range"] = ("ikke oplyst" if resp["invited"].isna().all() else
                         "–" if not lo_s else f"{lo_s} %" if lo_s == hi_s else f"{lo_s}–{hi_s} %")
    share = dict(zip(prev["year"].astype(int), prev["share"], strict=True))
    out["lonely_first"] = _pct(share.get(first, np.nan))
    out["lonely_last"] = _pct(share.get(last, np.nan))
    d, low, high = (trend.loc["lonely", c] for c in ("diff", "low", "high"))
    out["lonely_change"] = "–" if math.isnan(d) else _signed(d * 100, 1)
    out["lonely_change_ci"] = _ci(low, high)
    if math.isnan(d) or first == last:
        out["lonely_change_verdict"] = "Ændringen kan ikke beregnes med de viste data."
    elif low > 0 or high < 0:
        out["lonely_change_verdict"] = ("Konfidensintervallet omfatter ikke nul, så ændringen er "
                                        "større end den statistiske usikkerhed.")
    else:
        out["lonely_change_verdict"] = ("Konfidensintervallet omfatter nul, så ændringen kan "
                                        "skyldes tilfældig variation.")
    out["lonely_direction"] = ("–" if math.isnan(d) else "lavere" if d < 0 else
                               "højere" if d > 0 else "den samme")
    latest = comp[comp["year"] == last].dropna(subset=["diff"])
    out["n_measures"] = fmt.number(comp["measure"].nunique())
    out["n_measures_shown"] = fmt.number(len(latest))
    out["n_measures_clear"] = fmt.number(int(((latest["low"] > 0) | (latest["high"] < 0)).sum()))
    applicable = check[~check["indicator"].isin(NOT_FROM_RESPONSES)]
    out["published_total"] = fmt.number(len(applicable))
    out["published_matched"] = fmt.number(int((applicable["status"] == "stemmer").sum()))
    out["published_not_data"] = fmt.number(len(check) - len(applicable))
    out["n_suppressed"] = fmt.number(sum(t.suppressed for t in tables.values()))
    return out
