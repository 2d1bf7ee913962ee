"""Download files of the book's figures and tables: CSV and XLSX, safe to open (issue 16).

A :class:`Sheet` is one downloadable table: its header, its rows, the caption and source line,
and whether it is synthetic. Tables are read from what the page shows (:func:`sheet_from_cells`:
the text of every cell, a shown Danish number becoming a number), figures from the table they
are drawn from (:class:`plusdig.present.figdata.FigureData`). :func:`write_csv` and :func:`write_xlsx`
write it; :func:`read_csv` and :func:`read_xlsx` read it back (tests, the audit, editions).

Safety: every text cell is shown as on the page (control characters as their code) and, if it
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, neutralised with a leading
``'`` (:func:`neutralise`), so no spreadsheet runs it as a formula; XLSX text cells are stored
as text, never as formulas. File names are ASCII slugs (:func:`slug`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Sheet", "neutralise", "cell_value", "sheet_from_cells", "sheet_from_figure_data",
           "write_csv", "write_xlsx", "read_csv", "read_xlsx", "slug", "split_source",
           "csv_bytes", "xlsx_bytes", "xlsx_bytes_memo", "XLSX_MEMO", "SYNTHETIC_NOTE"]

#: Characters a spreadsheet reads as the start of a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The line that marks a download of synthetic survey data.
SYNTHETIC_NOTE = "Syntetiske data: tallene er ikke målinger af virkelige børn."

_INT = re.compile(r"(−|-)?(\d{1,3}(?:\.\d{3})+|0|[1-9]\d*)")
_DEC = re.compile(r"(−|-)?(\d{1,3}(?:\.\d{3})+|0|[1-9]\d*),(\d+)")


def neutralise(text: str) -> str:
    """``text`` safe for a spreadsheet: a leading ``'`` if it begins like a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _shown(text: str) -> str:
    from plusdig.core.text import visible_controls

    return neutralise(visible_controls(text))


@dataclass(frozen=True)
class Number:
    """A number as the page prints it: its value, decimals and whether it is a percentage."""

    value: float | int
    decimals: int
    percent: bool

    def excel_format(self) -> str:
        base = "#,##0" + ("." + "0" * self.decimals if self.decimals else "")
        return base + ('" %"' if self.percent else "")


def cell_value(text: str) -> Number | str | None:
    """A printed cell as a value: a Danish number (``1.102``, ``21,0 %``, ``−2,9``) as a Number,
    an empty (or blank) cell as None, anything else (markers «–», intervals, words) as its
    text, unchanged.

    Only a cell that is wholly one number is converted; nothing is guessed.
    """
    stripped = text.strip()
    if not stripped:
        return None
    body, percent = (stripped[:-2], True) if stripped.endswith(" %") else (stripped, False)
    sign = 1
    if (m := _DEC.fullmatch(body)) is not None:
        sign = -1 if m.group(1) else 1
        value: float | int = sign * float(m.group(2).replace(".", "") + "." + m.group(3))
        return Number(value, len(m.group(3)), percent)
    if (m := _INT.fullmatch(body)) is not None:
        sign = -1 if m.group(1) else 1
        return Number(sign * int(m.group(2).replace(".", "")), 0, percent)
    return text  # as it is: a tab or CR at the start is neutralised when written


def split_source(caption: str) -> tuple[str, str]:
    """A caption ``"... Kilde: x."`` as (caption without the source, ``"Kilde: x."``)."""
    i = caption.rfind("Kilde:")
    if i < 0:
        return caption.strip(), ""
    return caption[:i].strip(), caption[i:].strip()


@dataclass
class Sheet:
    """One downloadable table: what a figure is drawn from or what a table shows."""

    label: str                      # "Figur 4.2", "Tabel 4.1"
    caption: str
    source: str
    columns: list[str]
    rows: list[list[Any]]           # Number, str or None per cell
    synthetic: bool = False
    units: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def notes_lines(self) -> list[tuple[str, str]]:
        """The notes sheet: (what, text) pairs."""
        lines = [("Titel", f"{self.label}: {self.caption}" if self.caption else self.label)]
        if self.source:
            lines.append(("Kilde", re.sub(r"^Kilde:\s*", "", self.source)))
        if self.synthetic:
            lines.append(("Data", SYNTHETIC_NOTE))
        percent = [c for i, c in enumerate(self.columns)
                   if any(isinstance(r[i], Number) and r[i].percent for r in self.rows)]
        units = dict(self.units)
        for c in percent:
            units.setdefault(c, "procent")
        if units:
            lines.append(("Enheder", "; ".join(f"{c}: {u}" for c, u in units.items())))
        lines += [("Note", n) for n in self.notes]
        return lines


def sheet_from_cells(label: str, caption: str, header: list[str], cells: list[list[str]], *,
                     synthetic: bool = False, notes: list[str] | None = None) -> Sheet:
    """A table as the page shows it: its header and the text of every cell."""
    caption, source = split_source(caption)
    return Sheet(label, caption, source, list(header),
                 [[cell_value(c) for c in row] for row in cells], synthetic=synthetic,
                 notes=list(notes or []))


def sheet_from_figure_data(label: str, caption: str, data: dict[str, Any]) -> Sheet:
    """A figure's table (:meth:`plusdig.present.figdata.FigureData.to_json`) with the figure's caption.

    The source line is the caption's (what the page says); the figure's own, naming its data
    files, is kept as a note when it differs.
    """
    caption, source = split_source(caption)
    notes = list(data.get("notes", []))
    if not source:
        source = data.get("source", "")
    elif data.get("source") and data["source"] != source:
        notes.insert(0, "Datagrundlag: " + re.sub(r"^Kilde:\s*", "", data["source"]))
    rows = []
    for row in data["rows"]:
        cells: list[Any] = []
        for v in row:
            if isinstance(v, str):
                cells.append(cell_value(v))
            elif isinstance(v, bool) or v is None:
                cells.append(v)
            elif isinstance(v, int):
                cells.append(Number(v, 0, False))
            else:
                cells.append(Number(v, _decimals(v), False))
        rows.append(cells)
    return Sheet(label, caption, source, list(data["columns"]), rows,
                 synthetic=bool(data.get("synthetic")), units=dict(data.get("units", {})),
                 notes=notes)


def _decimals(value: float) -> int:
    text = repr(float(value))
    if "e" in text or "." not in text:
        return 0
    frac = text.split(".")[1].rstrip("0")
    return min(len(frac), 6)


def _csv_value(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Number):
        if isinstance(cell.value, int):
            return str(cell.value)
        return f"{cell.value:.{cell.decimals}f}"
    return _shown(str(cell))


def csv_bytes(sheet: Sheet) -> bytes:
    """The CSV file: ``#`` lines (title, source, synthetic, units), then header and rows.

    UTF-8 with a byte-order mark (so spreadsheets read æøå), comma-separated, CRLF line ends,
    decimal point;
    :func:`read_csv` skips the ``#`` lines.
    """
    out = io.StringIO()
    for what, text in sheet.notes_lines():
        line = re.sub(r"[\r\n]+", " ", _shown(text))
        out.write(f"# {what}: {line}\r\n")
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR or LF in a cell is quoted
    writer.writerow([_shown(c) for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow([_csv_value(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(sheet: Sheet) -> bytes:
    """The XLSX file: sheet "Data" (header row, frozen panes, numbers as numbers with the
    page's format), sheet "Noter" (title, source, synthetic label, units)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    bold = Font(bold=True)
    for j, name in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=1, column=j)
        cell.value = _shown(name)
        cell.data_type = "s"
        cell.font = bold
    widths = [len(str(c)) for c in sheet.columns]
    for i, row in enumerate(sheet.rows, start=2):
        for j, value in enumerate(row, start=1):
            cell = ws.cell(row=i, column=j)
            if isinstance(value, Number):
                cell.value = value.value
                cell.number_format = value.excel_format()
                shown = len(str(value.value)) + 2
            elif value is not None:
                cell.value = _shown(str(value))
                cell.data_type = "s"
                shown = len(cell.value)
            else:
                shown = 0
            widths[j - 1] = max(widths[j - 1], shown)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(max(width, 6) + 2, 60)
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("Noter")
    for i, (what, text) in enumerate(sheet.notes_lines(), start=1):
        a, b = notes.cell(row=i, column=1), notes.cell(row=i, column=2)
        a.value, b.value = what, _shown(text)
        a.data_type = b.data_type = "s"
        a.font = bold
        b.alignment = Alignment(wrap_text=True, vertical="top")
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return _reproducible_zip(buf.getvalue())


#: A build's memo folder (``_build/.plusdig-xlsx``): the XLSX files already made, by a digest
#: of their table and the code that writes them (an XLSX is the slow part of the downloads).
XLSX_MEMO = ".plusdig-xlsx"
_xlsx_code: list[bytes] = []


def xlsx_prepare() -> None:
    """Import openpyxl and take the code part of :func:`xlsx_bytes_memo`'s keys (once per
    process; a process forked afterwards has both)."""
    if not _xlsx_code:
        import openpyxl
        import openpyxl.writer.excel  # noqa: F401 - what xlsx_bytes uses

        from plusdig.core.digest import library_digest

        _xlsx_code.append(f"{library_digest()}:{openpyxl.__version__}".encode())


def xlsx_bytes_memo(sheet: Sheet, memo: Path) -> bytes:
    """:func:`xlsx_bytes` of ``sheet``, taken from ``memo`` when the same table (every field
    of the sheet, pickled) was written by the same library code and openpyxl before.

    The XLSX is reproducible (fixed timestamps, no creation date), so the file is the same
    byte for byte either way; a page edit no longer rewrites every table's workbook. Entries
    are kept as :mod:`plusdig.core.memo` keeps them.
    """
    import hashlib
    import pickle

    from plusdig.core.memo import read_entry, write_entry

    xlsx_prepare()
    key = hashlib.sha256(_xlsx_code[0] + pickle.dumps(sheet, protocol=4)).hexdigest()
    path = memo / f"{key}.xlsx"
    data = read_entry(path)
    if data is None:
        data = xlsx_bytes(sheet)
        write_entry(path, data)
    return data


def _reproducible_zip(data: bytes) -> bytes:
    """The XLSX with fixed member timestamps and no creation dates, so rebuilds are identical."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2017, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def write_csv(sheet: Sheet, path: Path) -> None:
    Path(path).write_bytes(csv_bytes(sheet))


def write_xlsx(sheet: Sheet, path: Path) -> None:
    Path(path).write_bytes(xlsx_bytes(sheet))


def read_csv(path: Path) -> pd.DataFrame:
    """A download's CSV as a DataFrame (the ``#`` lines skipped, every cell as text)."""
    import pandas as pd

    text = Path(path).read_bytes().decode("utf-8-sig")  # CRLF kept: a CR in a cell is data
    while text.startswith("# "):  # the notes lines (never quoted, one line each)
        text = text.split("\r\n", 1)[1]
    return pd.read_csv(io.StringIO(text, newline=""), dtype=str, keep_default_na=False)


def read_xlsx(path: Path) -> pd.DataFrame:
    """A download's XLSX data sheet as a DataFrame (numbers as numbers)."""
    import pandas as pd

    return pd.read_excel(path, sheet_name="Data", engine="openpyxl")


_TRANSLIT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "ue", "ö": "oe",
                           "ä": "ae"})


def slug(text: str, words: int = 5) -> str:
    """An ASCII file-name part: ``"Målgruppernes aldre" -> "maalgruppernes-aldre"``."""
    import unicodedata

    text = text.lower().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    parts = re.findall(r"[a-z0-9]+", text)[:words]
    return "-".join(parts) or "uden-titel"
