"""Reading a survey delivery (CSV, XLSX, SPSS, Parquet), with the checks of the file itself
(encoding, magic bytes, ragged rows, spreadsheet cells).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.core.errors import DataValidationError, describe
from plusdig.survey.contract import COLUMNS, CONTRACT

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


__all__ = ["read_survey"]


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

    from plusdig.data.readers import _binary_kind

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

    from plusdig.data.readers import _binary_kind, read_bytes

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
