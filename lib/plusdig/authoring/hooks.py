"""The checks run by the pre-commit hooks (``.pre-commit-config.yaml``).

Each check is a function that returns a list of problems in plain Danish (an empty list
means the check passed), so the rules are unit-tested here rather than hidden in shell
one-liners. The command line runs one check and exits 1 when it found problems::

    python -m plusdig.authoring.hooks forbid-private FILE...   # no personal or respondent-level data
    python -m plusdig.authoring.hooks check-yaml FILE...       # YAML parses, no duplicate keys
    python -m plusdig.authoring.hooks strip-notebooks FILE...  # outputs out, except keep_output cells
    python -m plusdig.authoring.hooks validate                 # the data validation (plusdig validate)

pre-commit runs the hooks from the repository root and passes the staged file names.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = [
    "SURVEY_CONTRACT_COLUMNS",
    "SYNTHETIC_DIR",
    "PRIVATE_DIR",
    "check_private",
    "respondent_columns",
    "check_yaml",
    "strip_notebook",
    "check_notebooks",
    "check_data",
    "main",
]

#: The columns of the respondent-level survey contract (one row per pupil and year).
SURVEY_CONTRACT_COLUMNS: frozenset[str] = frozenset({
    "respondent_id", "year", "school", "grade", "gender", "lonely", "happiness", "sdq_total",
    "teased", "bullied", "leisure_activity", "talks_to_adult", "talks_to_peer", "completed",
})

#: A file with ``respondent_id`` or at least this many contract columns is respondent data.
MIN_CONTRACT_COLUMNS = 3

#: Where the bundled synthetic respondent-level data lives (allowed in git).
SYNTHETIC_DIR = PurePosixPath("data/survey/synthetic")

#: Where real personal data is kept locally; never committed.
PRIVATE_DIR = PurePosixPath("data/private")

_TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq",
                   ".sav", ".zsav", ".por"}


def _posix(path: str | Path) -> PurePosixPath:
    return PurePosixPath(Path(path).as_posix())


def _under(path: PurePosixPath, folder: PurePosixPath) -> bool:
    return path.parts[: len(folder.parts)] == folder.parts


# --------------------------------------------------------------------------- private data
def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline()
    if not first.strip():
        return []
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return next(csv.reader([first], delimiter=delimiter), [])


def _table_columns(path: Path) -> list[str]:
    """The column names of a table file (every sheet's first row for spreadsheets)."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv", ".txt"}:
        return _csv_header(path)
    if suffix in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            cols: list[str] = []
            for sheet in book.worksheets:
                for row in sheet.iter_rows(max_row=1, values_only=True):
                    cols.extend(str(v) for v in row if v is not None)
            return cols
        finally:
            book.close()
    if suffix in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    if suffix in {".sav", ".zsav", ".por"}:
        import pyreadstat

        reader = pyreadstat.read_por if suffix == ".por" else pyreadstat.read_sav
        _, meta = reader(str(path), metadataonly=True)
        return list(meta.column_names)
    raise ValueError(f"no reader for {suffix} files")


def respondent_columns(path: str | Path) -> list[str] | None:
    """The survey-contract columns a table file has, if it looks like respondent-level data.

    Returns the matching columns (sorted) when the file has ``respondent_id`` or at least
    :data:`MIN_CONTRACT_COLUMNS` of the contract's columns, else ``None``. A table file
    that cannot be read is treated as respondent data (the check fails closed) and
    returns ``["<kunne ikke læses>"]``.
    """
    path = Path(path)
    if path.suffix.lower() not in _TABLE_SUFFIXES:
        return None
    try:
        columns = _table_columns(path)
    except Exception:  # noqa: BLE001 - unreadable means we cannot clear it
        return ["<kunne ikke læses>"]
    found = sorted({c.strip().lower() for c in columns} & SURVEY_CONTRACT_COLUMNS)
    if "respondent_id" in found or len(found) >= MIN_CONTRACT_COLUMNS:
        return found
    return None


def check_private(files: Iterable[str | Path]) -> list[str]:
    """Refuse files under ``data/private/`` and respondent-level survey data outside
    ``data/survey/synthetic/``. Returns one plain-language problem per refused file."""
    problems: list[str] = []
    for name in files:
        rel = _posix(name)
        if _under(rel, PRIVATE_DIR):
            problems.append(
                f"{rel}: filer i {PRIVATE_DIR}/ må aldrig committes (de kan indeholde "
                f"personoplysninger). Fjern filen fra commit'et: git restore --staged {rel}")
            continue
        if _under(rel, SYNTHETIC_DIR):
            continue
        cols = respondent_columns(name)
        if cols:
            problems.append(
                f"{rel}: ligner data på besvarelsesniveau fra trivselsmålingen (kolonner: "
                f"{', '.join(cols)}). Rigtige besvarelser hører hjemme i {PRIVATE_DIR}/, "
                f"som git ignorerer; kun de syntetiske data i {SYNTHETIC_DIR}/ må committes. "
                f"Fjern filen fra commit'et: git restore --staged {rel}")
    return problems


# --------------------------------------------------------------------------- YAML
def _unique_key_loader() -> type:
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """A SafeLoader that refuses a key given twice in the same mapping."""

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nøglen {key!r} står to gange (første gang linje {seen[key]})",
                    key_node.start_mark)
            seen[key] = line
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    UniqueKeyLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return UniqueKeyLoader


def check_yaml(files: Iterable[str | Path]) -> list[str]:
    """Parse each YAML file; report syntax errors and duplicate keys with line and column."""
    import yaml

    loader = _unique_key_loader()
    problems: list[str] = []
    for name in files:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{_posix(name)}: ikke gyldig UTF-8-tekst (byte {exc.start}). "
                            "Gem filen som UTF-8.")
            continue
        try:
            for _ in yaml.load_all(text, Loader=loader):  # noqa: S506 - SafeLoader subclass
                pass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"linje {mark.line + 1}, kolonne {mark.column + 1}: " if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            problems.append(f"{_posix(name)}: {where}ugyldig YAML: {problem}")
    return problems


# --------------------------------------------------------------------------- notebooks
#: Metadata nbstripout removes by default (notebook- and cell-level).
_EXTRA_KEYS = ["metadata.signature", "metadata.widgets", "cell.metadata.collapsed",
               "cell.metadata.ExecuteTime", "cell.metadata.execution",
               "cell.metadata.heading_collapsed", "cell.metadata.hidden", "cell.metadata.scrolled"]


def _keeps_output(cell: Any) -> bool:
    return bool(cell.get("metadata", {}).get("keep_output")) or (
        "keep_output" in cell.get("metadata", {}).get("tags", []))


def strip_notebook(path: str | Path) -> bool:
    """Strip a notebook as it is committed; return True if the file changed.

    Like ``nbstripout --keep-id`` (outputs, execution counts and volatile metadata go; cell
    ids stay), except that a ``keep_output`` cell with outputs keeps an execution count
    (its own, or 1). nbval refuses a cell that has outputs but no execution count
    ("Unrun reference cell has outputs"), so plain nbstripout would break the headline
    cells' ``nbval-check-output`` check.
    """
    import nbformat
    from nbstripout._utils import strip_output

    path = Path(path)
    before = path.read_text(encoding="utf-8")
    nb = nbformat.reads(before, as_version=nbformat.NO_CONVERT)
    counts = {i: cell.get("execution_count") for i, cell in enumerate(nb.cells)
              if cell.get("cell_type") == "code" and _keeps_output(cell)}
    strip_output(nb, keep_output=False, keep_count=False, keep_id=True, extra_keys=_EXTRA_KEYS)
    for i, count in counts.items():
        if nb.cells[i].get("outputs"):
            nb.cells[i]["execution_count"] = count or 1
    after = nbformat.writes(nb)
    if not after.endswith("\n"):
        after += "\n"
    if after == before:
        return False
    path.write_text(after, encoding="utf-8")
    return True


def check_notebooks(files: Iterable[str | Path]) -> list[str]:
    """Strip each notebook in place; one problem per notebook that had to be changed."""
    return [f"{_posix(name)}: output fjernet (undtagen keep_output-celler). Se ændringen efter, "
            f"og tilføj filen igen: git add {_posix(name)}"
            for name in files if strip_notebook(name)]


# --------------------------------------------------------------------------- validation
def check_data(base: Path | None = None) -> list[str]:
    """Run the data validation (as ``python -m plusdig validate``) on ``base`` (default
    ``./data``, the data folder of the repository pre-commit runs in)."""
    from plusdig.core.errors import DataValidationError
    from plusdig.data.validate import validate_all

    base = (base or Path.cwd() / "data").resolve()
    try:
        validate_all(base)
    except DataValidationError as exc:
        return [f"Datafejl: {exc}"]
    return []


# --------------------------------------------------------------------------- command line
_USAGE = ("usage: python -m plusdig.authoring.hooks forbid-private FILE... | check-yaml FILE... | "
          "strip-notebooks FILE... | validate")

_HINTS = {
    "forbid-private": "Commit'et er afvist: det indeholder data, der ikke må ligge i git.",
    "check-yaml": "Commit'et er afvist: en YAML-fil kan ikke læses. Ret linjen, der nævnes.",
    "strip-notebooks": "Notebooks skal committes uden output; filerne er nu renset.",
    "validate": ("Commit'et er afvist: data/ består ikke valideringen. Meddelelsen nævner fil, "
                 "post og felt; se 'Sådan læser du en fejlet kontrol' i CONTRIBUTING.md."),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one check; print its problems to stderr; return 0 (ok), 1 (problems), 2 (usage)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in _HINTS:
        print(_USAGE, file=sys.stderr)
        return 2
    command, files = args[0], args[1:]
    if command == "forbid-private":
        problems = check_private(files)
    elif command == "check-yaml":
        problems = check_yaml(files)
    elif command == "strip-notebooks":
        problems = check_notebooks(files)
    else:
        problems = check_data()
    if problems:
        print(_HINTS[command], file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
