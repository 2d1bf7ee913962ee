"""The optional linking columns ``pupil_key`` and ``class_id`` (issue 19): malformed fixtures
are refused with a message naming the file, the rows and the field and what was expected,
and no message (nor the validated frame) ever holds a key or a class id."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fixtures import design_fixtures as dfx
from fixtures import survey_fixtures as sf

from plusdig.core.errors import DataValidationError
from plusdig.survey import contract, validation


@pytest.fixture(scope="module")
def delivery() -> pd.DataFrame:
    return dfx.design_frame(3)


def _load(path: Path) -> pd.DataFrame:
    return validation.load_survey(contract.SurveySource(path, False)).frame


def _refused(tmp_path: Path, frame: pd.DataFrame) -> DataValidationError:
    path = sf.write_csv(frame, tmp_path / "linked.csv")
    with pytest.raises(DataValidationError) as err:
        _load(path)
    msg = str(err.value)
    assert str(path) in msg
    for column in ("pupil_key", "class_id"):  # no delivered key or class id, ever
        for value in frame.get(column, pd.Series([], dtype=str)).astype(str).unique():
            assert not value.strip() or value not in msg.replace(str(path), ""), (value, msg)
    return err.value


def _three_year_pupil(frame: pd.DataFrame) -> list[int]:
    """The rows (0-based) of a pupil who answers in all three years, in year order."""
    counts = frame.groupby("pupil_key").size()
    key = counts[counts == 3].index[4]
    return frame.index[frame["pupil_key"] == key].tolist()


def test_keys_become_anonymous_codes(tmp_path, delivery):
    frame = _load(sf.write_csv(delivery, tmp_path / "linked.csv"))
    assert {"pupil", "class"} <= set(frame.columns)
    assert "pupil_key" not in frame.columns and "class_id" not in frame.columns
    assert frame["pupil"].dtype.kind == "i" and frame["class"].dtype.kind == "i"
    # the codes identify the same pupils and classes as the delivered keys
    pairs = pd.DataFrame({"code": frame["pupil"], "key": delivery["pupil_key"]})
    assert (pairs.groupby("code")["key"].nunique() == 1).all()
    assert frame["pupil"].nunique() == delivery["pupil_key"].nunique()
    assert frame["class"].nunique() == delivery["class_id"].nunique()
    text = frame.to_csv()
    assert not any(key in text for key in delivery["pupil_key"].unique()[:50])


@pytest.mark.parametrize("column", ["pupil_key", "class_id"])
def test_either_column_may_come_alone(tmp_path, delivery, column):
    other = {"pupil_key": "class_id", "class_id": "pupil_key"}[column]
    frame = _load(sf.write_csv(delivery.drop(columns=[other]), tmp_path / "one.csv"))
    assert contract.KEY_COLUMNS[column] in frame.columns
    assert contract.KEY_COLUMNS[other] not in frame.columns


def test_without_the_columns_nothing_changes(tmp_path):
    frame = _load(sf.write_csv(dfx.design_frame(3, keys=False), tmp_path / "plain.csv"))
    assert not {"pupil", "class"} & set(frame.columns)


# (column, value, words in the problem, words in the expectation)
FORMAT = [
    ("pupil_key", "", "empty value", "6–64 ASCII"),
    ("pupil_key", "0101011234", "CPR number", "not a CPR number"),
    ("pupil_key", "010101-1234", "CPR number", "not a CPR number"),
    ("pupil_key", "elev-311299-4321x", "CPR number", "not a CPR number"),
    ("pupil_key", "Anna Hansen", "not in the key format", "at least one digit"),
    ("pupil_key", "AnnaHansen", "not in the key format", "at least one digit"),
    ("pupil_key", "P1", "not in the key format", "6–64"),
    ("pupil_key", "Pæ00001", "not in the key format", "ASCII"),
    ("pupil_key", "P0000\u00071", "control character", "printable"),
    ("class_id", "", "empty value", "one school and one grade"),
    ("class_id", "5 A", "not in the key format", "1–64 ASCII"),
    ("class_id", "2412991234", "CPR number", "not a CPR number"),
]


@pytest.mark.parametrize("column,value,problem,expected", FORMAT)
def test_format_errors_name_rows_and_field_never_the_value(tmp_path, delivery, column, value,
                                                          problem, expected):
    frame = delivery.copy()
    frame.loc[[3, 10], column] = value
    err = _refused(tmp_path, frame)
    assert err.field == column and err.record == "rows 5, 12", str(err)
    assert problem in err.problem and expected in (err.expected or ""), str(err)
    if value.strip():
        assert value not in str(err)


def test_a_long_hash_with_ten_digits_inside_is_a_key(tmp_path, delivery):
    frame = delivery.copy()
    codes = {k: f"a{i:04d}3f0123456789bc" for i, k in enumerate(frame["pupil_key"].unique())}
    frame["pupil_key"] = frame["pupil_key"].map(codes)
    assert _load(sf.write_csv(frame, tmp_path / "hash.csv"))["pupil"].nunique() == len(codes)


def test_a_key_twice_in_one_year(tmp_path, delivery):
    frame = delivery.copy()
    frame.loc[8, "pupil_key"] = frame.loc[7, "pupil_key"]
    err = _refused(tmp_path, frame)
    assert err.field == "pupil_key" and err.record == "rows 9, 10"
    assert "twice in one year" in err.problem and "unique within year" in err.expected


def test_a_key_changing_gender(tmp_path, delivery):
    rows = _three_year_pupil(delivery)
    frame = delivery.copy()
    frame.loc[rows[1], "gender"] = "dreng" if frame.loc[rows[1], "gender"] == "pige" else "pige"
    err = _refused(tmp_path, frame)
    assert err.field == "gender" and err.record == "rows " + ", ".join(str(r + 2) for r in rows)
    assert "two different genders" in err.problem


def test_an_empty_gender_fits_any(tmp_path, delivery):
    rows = _three_year_pupil(delivery)
    frame = delivery.copy()
    frame.loc[rows[1], "gender"] = ""
    assert len(_load(sf.write_csv(frame, tmp_path / "ok.csv"))) == len(frame)


@pytest.mark.parametrize("shift", [-2, 1])
def test_a_grade_falling_or_jumping(tmp_path, delivery, shift):
    rows = _three_year_pupil(delivery)
    frame = delivery.copy()
    frame.loc[rows[-1], "grade"] = str(int(frame.loc[rows[-1], "grade"]) + shift)
    frame.loc[rows[-1], "class_id"] = "X" + frame.loc[rows[-1], "class_id"]  # its own class
    err = _refused(tmp_path, frame)
    assert err.field == "grade" and err.record == f"rows {rows[1] + 2}, {rows[2] + 2}"
    assert "grade falls, or rises by more" in err.problem


def test_a_repeated_grade_is_allowed(tmp_path, delivery):
    rows = _three_year_pupil(delivery)
    frame = delivery.copy()
    frame.loc[rows[-1], "grade"] = frame.loc[rows[1], "grade"]
    frame.loc[rows[-1], "class_id"] = "X" + frame.loc[rows[-1], "class_id"]
    assert len(_load(sf.write_csv(frame, tmp_path / "repeat.csv"))) == len(frame)


@pytest.mark.parametrize("column,value", [("school", "Skole Z"), ("grade", "8")])
def test_a_class_in_two_schools_or_grades(tmp_path, delivery, column, value):
    frame = delivery.drop(columns=["pupil_key"])  # the class alone (no pupil to follow)
    row = frame.index[(frame["year"] == "2018") & (frame["grade"] == "6")][0]
    frame.loc[row, column] = value
    err = _refused(tmp_path, frame)
    assert err.field == "class_id" and f"more than one {column}" in err.problem
    assert "one school and one grade per year" in err.expected
    assert err.record.startswith("rows ") and str(row + 2) in err.record


def test_a_mapping_file_may_rename_the_linking_columns(tmp_path, delivery):
    frame = delivery.rename(columns={"pupil_key": "elevnoegle", "class_id": "klasse"})
    path = sf.write_csv(frame, tmp_path / "renamed.csv")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("columns:\n  elevnoegle: pupil_key\n  klasse: class_id\n",
                       encoding="utf-8")
    got = validation.load_survey(contract.SurveySource(path, False, mapping)).frame
    assert {"pupil", "class"} <= set(got.columns)
