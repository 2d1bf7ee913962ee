"""Survey loader: every format, the mapping file, and every contract violation.

Fixtures are generated in temporary folders from the synthetic generator; nothing here is
personal data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures import survey_fixtures as sf

from plusdig.survey import contract as survey_contract
from plusdig.survey import mapping as survey_mapping
from plusdig.survey import readers
from plusdig.survey import validation
from plusdig.core.errors import DataValidationError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return sf.text_frame()


@pytest.fixture(scope="module")
def expected(frame) -> pd.DataFrame:
    return validation.validate(readers._Raw(frame, "<frame>", 2, "row"))


def load(path: Path, mapping: Path | None = None) -> pd.DataFrame:
    return validation.load_survey(survey_contract.SurveySource(path, False, mapping)).frame


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                  check_categorical=False)


# --------------------------------------------------------------------------- formats
@pytest.mark.parametrize("variant", ["utf8-comma", "cp1252-semicolon-decimal-comma"])
def test_csv_variants(tmp_path, frame, expected, variant):
    if variant == "utf8-comma":
        path = sf.write_csv(frame, tmp_path / "d.csv")
    else:
        path = sf.write_csv(frame, tmp_path / "d.csv", sep=";", encoding="cp1252",
                            decimal_comma=True)
        raw = path.read_bytes()
        assert "særlig".encode("cp1252") in raw or "sjældent".encode("cp1252") in raw
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    assert_same(load(path), expected)


def test_xlsx(tmp_path, frame, expected):
    assert_same(load(sf.write_xlsx(frame, tmp_path / "d.xlsx")), expected)


def test_parquet(tmp_path, frame, expected):
    assert_same(load(sf.write_parquet(frame, tmp_path / "d.parquet")), expected)


def test_sav_with_value_labels(tmp_path, frame, expected):
    path = sf.write_sav(frame, tmp_path / "d.sav")
    import pyreadstat

    raw, meta = pyreadstat.read_sav(str(path))
    assert raw["lonely"].dtype.kind == "f"  # stored as codes, labels in the metadata
    assert meta.variable_value_labels["lonely"]
    assert_same(load(path), expected)


def test_validated_frame_has_no_ids(expected):
    assert "respondent_id" not in expected.columns
    assert set(expected.columns) >= {"year", "school", "lonely", "sdq_band", "completed"}


def test_column_names_case_insensitive(tmp_path, frame, expected):
    upper = frame.rename(columns={c: c.upper() for c in frame.columns})
    assert_same(load(sf.write_csv(upper, tmp_path / "d.csv")), expected)


@pytest.mark.parametrize("true,false", [("ja", "nej"), ("1", "0"), ("true", "false"),
                                        ("JA", "Nej"), ("True", "FALSE")])
def test_boolean_spellings(tmp_path, frame, expected, true, false):
    out = frame.copy()
    for c in survey_contract.BOOL_COLUMNS:
        out[c] = out[c].map({"ja": true, "nej": false, "": ""})
    assert_same(load(sf.write_csv(out, tmp_path / "d.csv")), expected)


def test_extra_columns_are_ignored(tmp_path, frame, expected):
    out = frame.assign(q42_kost="frugt")
    assert_same(load(sf.write_csv(out, tmp_path / "d.csv")), expected)


def test_mapping_file_renames_and_recodes(tmp_path, frame, expected):
    renamed = frame.rename(columns={"respondent_id": "Elev_ID", "lonely": "ensom"})
    renamed["ensom"] = renamed["ensom"].map({"ofte": "Ja, ofte", "nogle gange": "Ja, nogle gange",
                                             "nej": "Nej", "": ""})
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  elev_id: respondent_id\n  ENSOM: lonely\nvalues:\n  lonely:\n"
                       '    "Ja, ofte": ofte\n    "ja, nogle gange": nogle gange\n    Nej: nej\n',
                       encoding="utf-8")
    path = sf.write_csv(renamed, tmp_path / "d.csv")
    assert_same(load(path, mapping), expected)
    with pytest.raises(DataValidationError) as err:
        load(path)  # without the mapping the contract's columns are missing
    assert "respondent_id" in str(err.value) and "missing column" in str(err.value)


def test_example_mapping_file_is_valid():
    from plusdig.core.paths import data_dir

    m = survey_mapping.load_mapping(data_dir() / "survey" / "column_mapping.example.yaml")
    assert set(m.columns.values()) == set(survey_contract.COLUMNS)
    assert m.values["lonely"]["ja, ofte"] == "ofte"


@pytest.mark.parametrize("text,problem", [
    ("columns:\n  a: not_a_column\n", "unknown column"),
    ("columns:\n  a: year\n  b: YEAR\n", "two columns map"),
    ("kolonner:\n  a: year\n", "unexpected top-level"),
    ("values:\n  respondent_id:\n    a: b\n", "value recoding"),
    ("columns: [a, b]\n", "not a mapping"),
])
def test_bad_mapping_files(tmp_path, text, problem):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        survey_mapping.load_mapping(path)
    assert problem in str(err.value)
    assert str(path) in str(err.value)


def test_environment_selects_the_source(monkeypatch, tmp_path):
    monkeypatch.delenv(survey_contract.SURVEY_ENV, raising=False)
    src = survey_contract.current_source()
    assert src.synthetic and src.path.name.startswith("synthetic_")
    assert src.label == "syntetiske data"
    monkeypatch.setenv(survey_contract.SURVEY_ENV, str(tmp_path / "x.csv"))
    monkeypatch.setenv(survey_contract.MAPPING_ENV, str(tmp_path / "m.yaml"))
    src = survey_contract.current_source()
    assert not src.synthetic and src.path == tmp_path / "x.csv"
    assert src.mapping == tmp_path / "m.yaml" and src.invited is None
    assert str(tmp_path) not in src.label  # the book never shows the real path


def test_invited_file(tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text("year,invited\n2017,1200\n2018,1190\n", encoding="utf-8")
    inv = validation.load_invited(path)
    assert inv.loc[2018, "invited"] == 1190
    path.write_text("year,invited\n2017,mange\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="row 2.*invited"):
        validation.load_invited(path)
    path.write_text("year,invited\n2017,1\n2017,2\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="year given twice"):
        validation.load_invited(path)


# --------------------------------------------------------------------------- violations
def broken(frame: pd.DataFrame, column: str, value: str, rows: list[int]) -> pd.DataFrame:
    out = frame.copy()
    out.loc[rows, column] = value
    return out


# (column, bad value, expected text in the error); rows 3 and 10 (0-based) are broken,
# i.e. lines 5 and 12 of the CSV (header = line 1).
VIOLATIONS = [
    ("year", "2014", "2015–2035"),
    ("year", "to tusind", "2015–2035"),
    ("year", "", "2015–2035"),
    ("grade", "11", "0–10"),
    ("grade", "5,5", "0–10"),
    ("school", "", "non-empty"),
    ("school", "   ", "non-empty"),
    ("gender", "kvinde", "pige, dreng, andet"),
    ("lonely", "måske", "ofte, nogle gange, nej"),
    ("happiness", "superglad", "meget glad"),
    ("sdq_total", "41", "0–40"),
    ("sdq_total", "12,5", "0–40"),
    ("sdq_total", "høj", "0–40"),
    ("teased", "tit", "ofte, nogle gange, sjældent, aldrig"),
    ("bullied", "måske", "ja/nej"),
    ("leisure_activity", "2", "ja/nej"),
    ("talks_to_adult", "yes", "ja/nej"),
    ("talks_to_peer", "x", "ja/nej"),
    ("completed", "", "ja/nej"),
    ("completed", "halvt", "ja/nej"),
    ("respondent_id", "", "non-empty"),
]


@pytest.mark.parametrize("column,value,expect", VIOLATIONS)
def test_each_violation_names_file_rows_column_expected(tmp_path, frame, column, value, expect):
    path = sf.write_csv(broken(frame, column, value, [3, 10]), tmp_path / "bad.csv")
    with pytest.raises(DataValidationError) as err:
        load(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "rows 5, 12" in msg
    assert f"'{column}'" in msg and err.value.field == column
    assert expect in msg


@pytest.mark.parametrize("column", ["lonely", "happiness", "teased", "bullied",
                                    "leisure_activity", "talks_to_adult", "talks_to_peer"])
def test_completed_form_may_leave_an_answer_empty(tmp_path, frame, column):
    """Item non-response: the form stays in (its other answers count); the empty answer is
    read as missing, never as a value."""
    done = frame.index[frame["completed"] == "ja"][:2].tolist()
    typed = load(sf.write_csv(broken(frame, column, "", done), tmp_path / "gap.csv"))
    assert int(typed["completed"].sum()) == int((frame["completed"] == "ja").sum())
    assert typed[column].isna().iloc[done].all()


def test_completed_form_without_any_answer_is_refused(tmp_path, frame):
    done = frame.index[frame["completed"] == "ja"][:2].tolist()
    blank = frame.copy()
    for column in ("lonely", "happiness", "sdq_total", "teased", "bullied", "leisure_activity",
                   "talks_to_adult", "talks_to_peer"):
        blank.loc[done, column] = ""
    path = sf.write_csv(blank, tmp_path / "bad.csv")
    with pytest.raises(DataValidationError) as err:
        load(path)
    msg = str(err.value)
    assert str(path) in msg and err.value.field == "completed"
    assert "a completed form with no answer at all" in msg
    assert f"rows {done[0] + 2}, {done[1] + 2}" in msg


def test_incomplete_form_may_leave_answers_empty(frame):
    incomplete = frame[frame["completed"] == "nej"]
    assert len(incomplete) and (incomplete["lonely"] == "").all()
    typed = validation.validate(readers._Raw(frame, "<f>", 2, "row"))
    assert (~typed["completed"]).sum() == len(incomplete)


def test_duplicate_ids_within_a_year_name_rows_not_ids(tmp_path, frame):
    out = frame.copy()
    same_year = out.index[out["year"] == out.loc[0, "year"]][:2]
    out.loc[same_year[1], "respondent_id"] = out.loc[same_year[0], "respondent_id"]
    path = sf.write_csv(out, tmp_path / "dup.csv")
    with pytest.raises(DataValidationError) as err:
        load(path)
    msg = str(err.value)
    assert "duplicate" in msg and "unique within year" in msg
    assert f"rows {same_year[0] + 2}, {same_year[1] + 2}" in msg
    assert out.loc[same_year[0], "respondent_id"] not in msg  # never print an id


def test_same_id_in_different_years_is_fine(tmp_path, frame):
    out = frame.copy()
    a = out.index[out["year"] == "2017"][0]
    b = out.index[out["year"] == "2018"][0]
    out.loc[b, "respondent_id"] = out.loc[a, "respondent_id"]
    load(sf.write_csv(out, tmp_path / "ok.csv"))


def test_many_bad_rows_are_summarised(tmp_path, frame):
    path = sf.write_csv(broken(frame, "lonely", "måske", list(range(20))), tmp_path / "bad.csv")
    with pytest.raises(DataValidationError, match=r"rows 2, 3, 4, 5, 6 \(and 15 more\)"):
        load(path)


def test_missing_and_duplicate_columns(tmp_path, frame):
    path = sf.write_csv(frame.drop(columns=["teased", "sdq_total"]), tmp_path / "m.csv")
    with pytest.raises(DataValidationError) as err:
        load(path)
    assert "missing column(s) ['sdq_total', 'teased']" in str(err.value)
    assert "header" in str(err.value)
    dup = frame.copy()
    dup.insert(2, "YEAR", dup["year"])
    with pytest.raises(DataValidationError, match="both give 'year'"):
        load(sf.write_csv(dup, tmp_path / "d.csv"))


def test_errors_in_xlsx_and_parquet_name_rows_and_records(tmp_path, frame):
    bad = broken(frame, "grade", "12", [0])
    with pytest.raises(DataValidationError, match="row 2, field 'grade'"):
        load(sf.write_xlsx(bad, tmp_path / "b.xlsx"))
    with pytest.raises(DataValidationError, match="record 1, field 'grade'"):
        load(sf.write_parquet(bad, tmp_path / "b.parquet"))


def test_unreadable_and_unsupported_files(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        load(tmp_path / "nope.csv")
    odd = tmp_path / "data.json"
    odd.write_text("{}", encoding="utf-8")
    with pytest.raises(DataValidationError, match="unsupported file type .json"):
        load(odd)
    broken_xlsx = tmp_path / "b.xlsx"
    broken_xlsx.write_bytes(b"not a spreadsheet")
    with pytest.raises(DataValidationError, match="is not a .xlsx file: the file is text"):
        load(broken_xlsx)
    import zipfile

    with zipfile.ZipFile(broken_xlsx, "w") as z:
        z.writestr("hello.txt", "a zip, but not a workbook")
    with pytest.raises(DataValidationError, match="cannot be read as .xlsx"):
        load(broken_xlsx)
    empty = tmp_path / "e.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataValidationError, match="empty"):
        load(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text(",".join(survey_contract.COLUMNS) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="no rows"):
        load(header_only)


def test_ragged_csv(tmp_path, frame):
    path = sf.write_csv(frame, tmp_path / "r.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] += ",ekstra,felter"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="malformed CSV"):
        load(path)


def test_nothing_silently_coerced(frame):
    typed = validation.validate(readers._Raw(frame, "<f>", 2, "row"))
    assert len(typed) == len(frame)
    src = pd.to_numeric(frame["sdq_total"].replace("", np.nan))
    assert np.allclose(typed["sdq_total"].to_numpy(), src.to_numpy(), equal_nan=True)


def test_utf8_bom_csv(tmp_path, frame, expected):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + sf.write_csv(frame, tmp_path / "plain.csv").read_bytes())
    assert_same(load(path), expected)


def test_csv_error_never_quotes_a_line(tmp_path, frame):
    path = sf.write_csv(frame, tmp_path / "r.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[7] += ",ekstra"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load(path)
    assert frame.loc[6, "respondent_id"] not in str(err.value)
    assert "Expected 14 columns, got 15" in str(err.value)


def test_relative_environment_paths_are_relative_to_the_repository(monkeypatch):
    from plusdig.core.paths import REPO_ROOT

    monkeypatch.setenv(survey_contract.SURVEY_ENV, "data/private/levering.sav")
    monkeypatch.setenv(survey_contract.INVITED_ENV, "data/private/inviterede.csv")
    monkeypatch.delenv(survey_contract.MAPPING_ENV, raising=False)
    src = survey_contract.current_source()
    assert src.path == REPO_ROOT / "data" / "private" / "levering.sav"
    assert src.invited == REPO_ROOT / "data" / "private" / "inviterede.csv"
    assert src.mapping is None


# --------------------------------------------------------------------------- hostile deliveries
FREE_TEXT = "Jeg hedder Anna Hansen og jeg går på Kirkebjerg Skole"


def _csv_bytes(frame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def _lines(frame) -> list[bytes]:
    return _csv_bytes(frame).splitlines(keepends=True)


def _xlsx_with(frame, tmp_path, cell: str, value: object) -> Path:
    import openpyxl

    path = sf.write_xlsx(frame, tmp_path / "d.xlsx")
    book = openpyxl.load_workbook(path)
    book.active[cell] = value
    book.save(path)
    return path


def _cp1252_mixed(frame) -> bytes:
    lines = _lines(frame)
    lines[7] = lines[7].replace(b",", b",\xf8", 1)  # one Windows-1252 "\xf8" in a UTF-8 file
    return b"".join(lines)


def _cells(column: str, value: str, rows: list[int]):
    """A builder: the delivery as CSV with ``value`` in ``column`` of ``rows`` (0-based)."""
    return lambda frame, _tmp: _csv_bytes(broken(frame, column, value, rows))


# (id, suffix, build(frame, tmp_path) -> bytes or Path, record text, field, message text)
HOSTILE_DELIVERIES = [
    ("utf16-bom", ".csv", lambda f, t: f.to_csv(index=False).encode("utf-16"),
     None, None, "is UTF-16 text (byte-order mark FF FE"),
    ("utf16-no-bom", ".csv", lambda f, t: f.to_csv(index=False).encode("utf-16-le"),
     None, None, "contains NUL bytes"),
    ("utf32", ".csv", lambda f, t: f.to_csv(index=False).encode("utf-32"),
     None, None, "is UTF-32 text"),
    ("gzip", ".csv", lambda f, t: __import__("gzip").compress(_csv_bytes(f)),
     None, None, "is gzip-compressed (unpack it first)"),
    ("xlsx-named-csv", ".csv", lambda f, t: sf.write_xlsx(f, t / "x.xlsx").read_bytes(),
     None, None, "is a ZIP archive"),
    ("csv-named-xlsx", ".xlsx", lambda f, t: _csv_bytes(f),
     None, None, "is not a .xlsx file: the file is text (a CSV file with the wrong name?)"),
    ("gzip-named-parquet", ".parquet", lambda f, t: __import__("gzip").compress(b"x"),
     None, None, "is not a .parquet file: the file is gzip-compressed"),
    ("empty-sav", ".sav", lambda f, t: b"", None, None, "is not a .sav file: the file is empty"),
    ("mixed-encodings", ".csv", lambda f, t: _cp1252_mixed(f),
     "line 8", None, "mixes UTF-8 with another encoding"),
    ("undefined-cp1252-byte", ".csv",
     lambda f, t: f.to_csv(index=False).encode("cp1252").replace(b"\n", b"\x81\n", 3),
     "line 1", None, "neither UTF-8 nor Windows-1252"),
    ("ragged-row", ".csv", lambda f, t: b"".join(ln if i != 9 else ln.rstrip() + b",x\n"
                                               for i, ln in enumerate(_lines(f))),
     "row 10", None, "Expected 14 columns, got 15"),
    ("short-row", ".csv", lambda f, t: b"".join(ln if i != 4 else b"a,b\n"
                                              for i, ln in enumerate(_lines(f))),
     "row 5", None, "Expected 14 columns, got 2"),
    ("line-break-in-value", ".csv",
     lambda f, t: _csv_bytes(f.assign(school=[("Lejre\nSkole" if i == 6 else s)
                                              for i, s in enumerate(f["school"])])),
     "row 8", "school", "control character U+000A"),
    ("unclosed-quote", ".csv", lambda f, t: b"".join(ln if i != 6 else ln.replace(b",", b',"', 1)
                                                    for i, ln in enumerate(_lines(f))),
     "row 7", None, "a quote is not closed on its line"),
    ("first-line-empty", ".csv", lambda f, t: b"\n" + _csv_bytes(f),
     "row 1", None, "the first line is empty"),
    ("blank-lines-keep-row-numbers", ".csv",
     lambda f, t: b"".join((b"\n" if i == 3 else b"") + ln
                           for i, ln in enumerate(_lines(broken(f, "grade", "12", [9])))),
     "row 12,", "grade", "0–10"),
    ("xlsx-formula", ".xlsx", lambda f, t: _xlsx_with(f, t, "E7", '="ofte"'),
     "row 7", None, "cell E7 (column 'gender') holds a formula"),
    ("xlsx-error-value", ".xlsx", lambda f, t: _xlsx_with(f, t, "C4", "#N/A"),
     "row 4", None, "holds the Excel error '#N/A'"),
    ("xlsx-na-text-is-a-value", ".xlsx", lambda f, t: _xlsx_with(f, t, "F3", "NA"),
     "row 3", "lonely", "invalid value(s) 'NA'"),
    ("text-none-is-a-value", ".csv", _cells("teased", "None", [3]),
     "row 5", "teased", "invalid value(s) 'None'"),
    ("control-char-school", ".csv", _cells("school", "Lejre\x07Skole", [3, 10]),
     "rows 5, 12", "school", "control character U+0007"),
    ("tab-in-school", ".csv", _cells("school", "Lejre\tSkole", [3]),
     "row 5", "school", "control character U+0009"),
    ("bidi-in-school", ".csv", _cells("school", "Skole\u202eerjeL", [3]),
     "row 5", "school", "control character U+202E"),
    ("control-char-stripped-code", ".csv", _cells("gender", "pige\x1f", [3]),
     "row 5", "gender", "control character U+001F"),
    ("control-char-id", ".csv", _cells("respondent_id", "A\x1bB", [3]),
     "row 5", "respondent_id", "control character"),
    ("exponent-year", ".csv", _cells("grade", "5e0", [3]),
     "row 5", "grade", "invalid value(s) '5e0'"),
    ("fullwidth-digits", ".csv", _cells("year", "２０１７", [3]),
     "row 5", "year", "2015–2035"),
    ("underscore-number", ".csv", _cells("sdq_total", "1_2", [3]),
     "row 5", "sdq_total", "'1_2'"),
    ("typo-is-shown", ".csv", _cells("lonely", "nogle gang", [3]),
     "row 5", "lonely", "invalid value(s) 'nogle gang'"),
    ("folder", ".csv", lambda f, t: None, None, None, "is a folder, not a file"),
    ("school-two-spellings", ".csv",
     lambda f, t: _cells("school", f.loc[0, "school"].upper(), [3, 10])(f, t),
     "rows 5, 12", "school", "one school is spelt in 2 ways"),
    ("tab-separated", ".csv", lambda f, t: f.to_csv(index=False, sep="\t").encode(),
     "row 1", None, "the columns are separated by tabs"),
    ("xlsx-date-in-year", ".xlsx",
     lambda f, t: _xlsx_with(f, t, "B3", __import__("datetime").datetime(2017, 1, 1)),
     "row 3", "year", "a cell formatted as a date?"),
    ("xlsx-second-sheet-of-answers", ".xlsx", lambda f, t: _xlsx_sheets(f, t, ["year", "school", "lonely"]),
     None, None, "sheet '2019' has answer columns too, but only the first sheet is read"),
]


def _xlsx_sheets(frame, tmp_path, header: list[str]) -> Path:
    import openpyxl

    path = sf.write_xlsx(frame, tmp_path / "d.xlsx")
    book = openpyxl.load_workbook(path)
    book.create_sheet("2019").append(header)
    book.save(path)
    return path


def test_a_codebook_sheet_is_fine(tmp_path, frame, expected):
    path = _xlsx_sheets(frame, tmp_path, ["variabel", "beskrivelse"])
    assert_same(load(path), expected)


def test_empty_mapping_file(tmp_path, frame):
    with pytest.raises(DataValidationError, match="the mapping file is empty"):
        load(sf.write_csv(frame, tmp_path / "d.csv"), _mapping(tmp_path, "# nothing yet\n"))


@pytest.mark.parametrize("case", HOSTILE_DELIVERIES, ids=[c[0] for c in HOSTILE_DELIVERIES])
def test_hostile_deliveries(tmp_path, frame, case):
    _id, suffix, build, record, field, contains = case
    path = tmp_path / f"delivery{suffix}"
    made = build(frame, tmp_path)
    if made is None:
        path.mkdir()
    elif isinstance(made, Path):
        path = made
    else:
        path.write_bytes(made)
    with pytest.raises(DataValidationError) as err:
        load(path)
    msg = str(err.value)
    assert str(path) in msg and contains in msg, msg
    if record is not None:
        assert record in msg, msg
    if field is not None:
        assert err.value.field == field and f"field '{field}'" in msg, msg
    assert "expected" in msg, msg


@pytest.mark.parametrize("column", ["year", "grade", "gender", "lonely", "happiness", "sdq_total",
                                    "teased", "bullied", "completed"])
def test_free_text_never_appears_in_a_message(tmp_path, frame, column):
    """A pupil's own words in any coded column: the error names file, rows, column and the
    allowed values, and not a word of the text."""
    path = sf.write_csv(broken(frame, column, FREE_TEXT, [3]), tmp_path / "d.csv")
    with pytest.raises(DataValidationError) as err:
        load(path)
    msg = str(err.value)
    assert "row 5" in msg and f"field '{column}'" in msg and "expected" in msg
    assert "not shown" in msg
    for word in ("Jeg hedder", "Anna", "Hansen", "Kirkebjerg"):
        assert word not in msg, msg


def test_a_single_name_is_not_shown_either(tmp_path, frame):
    path = sf.write_csv(broken(frame, "gender", "Anna", [3]), tmp_path / "d.csv")
    with pytest.raises(DataValidationError) as err:
        load(path)
    assert "Anna" not in str(err.value) and "1 invalid value(s) (not shown" in str(err.value)


def test_free_text_in_an_ignored_column_is_no_error(tmp_path, frame, expected):
    assert_same(load(sf.write_csv(frame.assign(kommentar=FREE_TEXT), tmp_path / "d.csv")), expected)


def test_spreadsheet_integers_still_load(tmp_path, frame, expected):
    """'2017.0' and '2017,0' are how spreadsheets write an integer: accepted, same values."""
    out = frame.assign(year=frame["year"] + ".0", grade=frame["grade"] + ",0")
    assert_same(load(sf.write_csv(out, tmp_path / "d.csv")), expected)


# --------------------------------------------------------------------------- mapping files
def _mapping(tmp_path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text,entry,contains", [
    ("values:\n  lonely:\n    Ja: offte\n", "values.lonely.Ja", "recodes 'Ja' to 'offte'"),
    ("values:\n  year:\n    sidste år: '2014'\n", "values.year.sidste år", "an integer 2015–2035"),
    ("values:\n  bullied:\n    måske: [ja]\n", "values.bullied.måske", "which is not a value of 'bullied'"),
    ("values:\n  gender:\n    '1': pige\n    ' 1': dreng\n", "values.gender. 1", "given twice"),
    ("columns:\n  Elev: respondent_id\n  ELEV: school\n", "columns.ELEV", "given twice"),
])
def test_mapping_errors_blame_the_mapping_entry(tmp_path, frame, text, entry, contains):
    path = _mapping(tmp_path, text)
    delivery = sf.write_csv(frame, tmp_path / "d.csv")
    with pytest.raises(DataValidationError) as err:
        load(delivery, path)
    msg = str(err.value)
    assert str(path) in msg and str(delivery) not in msg, msg
    assert err.value.field == entry and contains in msg, msg


def test_mapping_duplicate_yaml_key(tmp_path):
    path = _mapping(tmp_path, "values:\n  lonely:\n    Ja: ofte\n    Ja: nej\n")
    with pytest.raises(DataValidationError, match="line 4.*duplicate key 'Ja'"):
        survey_mapping.load_mapping(path)


def test_mapping_reads_yes_and_no_as_written(tmp_path, frame, expected):
    """YAML 1.1 would read ``no:`` as false; the mapping file keeps the text."""
    out = frame.copy()
    out["bullied"] = out["bullied"].map({"ja": "yes", "nej": "no", "": ""})
    path = _mapping(tmp_path, "values:\n  bullied:\n    yes: ja\n    no: nej\n")
    assert_same(load(sf.write_csv(out, tmp_path / "d.csv"), path), expected)


def test_recoded_invalid_value_says_so(tmp_path, frame):
    out = broken(frame, "lonely", "Tja", [3])
    path = _mapping(tmp_path, "values:\n  lonely:\n    Ja: ofte\n")
    with pytest.raises(DataValidationError) as err:
        load(sf.write_csv(out, tmp_path / "d.csv"), path)
    assert "after the mapping file's recoding" in str(err.value)


# --------------------------------------------------------------------------- invitations
@pytest.mark.parametrize("text,record,contains", [
    ("year,invited\n", None, "no rows (only a header)"),
    ("year,invited\n2017,١٢٠٠\n", "row 2", "is not a whole number"),
    ("year,invited\n2017,1200.0\n", "row 2", "'1200.0' is not a whole number"),
    ("year,invited\n1917,1200\n", "row 2", "out of range"),
    ("year;invited\n2017;1200\n", "header", "missing column"),
    ("year,invited,note\n2017,1200,x\n", "header", "unknown column(s) 'note'"),
])
def test_bad_invited_files(tmp_path, text, record, contains):
    path = tmp_path / "inv.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        validation.load_invited(path)
    assert str(path) in str(err.value) and contains in str(err.value), str(err.value)
    if record:
        assert record in str(err.value)


def test_invited_must_cover_the_survey(tmp_path, frame):
    delivery = sf.write_csv(frame, tmp_path / "d.csv")
    inv = tmp_path / "inv.csv"
    inv.write_text("year,invited\n2017,5000\n2018,5000\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="no row for the year 2019"):
        validation.load_survey(survey_contract.SurveySource(delivery, False, None, inv))
    inv.write_text("year,invited\n2017,5000\n2018,5000\n2019,3\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        validation.load_survey(survey_contract.SurveySource(delivery, False, None, inv))
    assert "fewer pupils invited in 2019" in str(err.value)
    n = int((frame["year"] == "2019").sum())
    assert str(n) not in str(err.value)  # no group size in a log
