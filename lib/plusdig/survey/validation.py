"""The well-being survey at respondent level: input contract, readers, validation, tables.

The survey "Hvordan har børn og unge i Lejre det?" is personal data about children. This
module reads a delivery (or the bundled synthetic dataset), validates it against the input
contract (:data:`CONTRACT`, documented in ``data/survey/README.md``) and computes every table
of the chapter "Trivselsmålingen i dybden" *with disclosure control applied*
(:mod:`plusdig.survey.disclosure`). Nothing here ever returns, prints or formats respondent-level rows
or ``respondent_id`` values: validation drops the id column once uniqueness is checked, and the
tables hold only counts that passed suppression.

Data source:

* ``PLUSDIG_SURVEY=/path/to/file`` selects a real delivery (``.csv``, ``.xlsx``, ``.sav``,
  ``.parquet``); ``PLUSDIG_SURVEY_MAPPING=/path/to/mapping.yaml`` renames its columns and
  recodes its values to the contract; ``PLUSDIG_SURVEY_INVITED=/path/to/invited.csv``
  (columns ``year,invited``) gives the number of invited pupils per year;
  ``PLUSDIG_SURVEY_INVITED_GROUPS`` (columns ``year,grade,gender,invited``) per weighting cell.
* Unset: the bundled synthetic dataset in ``data/survey/synthetic/`` is used, and every table
  and figure carries the label "Syntetiske data".

Performance: validation and tabulation are vectorised (values are parsed once per distinct
value, never per row), so the whole pipeline (:func:`run_pipeline`) handles national scale
(~600,000 rows) in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.core.errors import DataValidationError, describe
from plusdig.survey.checks import (
    _check_spellings,
    _coded,
    _column_parser,
    _control_rows,
    _fail,
    _ids,
)
from plusdig.survey.contract import (
    ANSWER_COLUMNS,
    BOOL_COLUMNS,
    COLUMNS,
    CONTRACT,
    GENDER_LEVELS,
    GENDER_NOT_STATED,
    HAPPINESS_LEVELS,
    KEY_COLUMNS,
    LONELY_LEVELS,
    OPTIONAL_CONTRACT,
    SDQ_BANDS,
    SDQ_MISSING,
    TEASED_LEVELS,
    YEAR_RANGE,
    SurveySource,
    current_source,
)
from plusdig.survey.keys import check_links, key_codes
from plusdig.survey.mapping import Mapping_, load_mapping
from plusdig.survey.readers import _Raw, read_survey

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


__all__ = ["Survey", "validate", "load_invited", "load_survey"]


def _match_columns(raw: _Raw, mapping: Mapping_ | None) -> dict[str, str]:
    """Contract column -> delivery column (case-insensitive, after the mapping file); the
    optional columns (:data:`OPTIONAL_CONTRACT`) only when delivered."""
    found: dict[str, str] = {}
    for col in raw.frame.columns:
        key = str(col).strip().lower()
        if mapping and key in mapping.columns:
            key = mapping.columns[key]
        if key in CONTRACT or key in OPTIONAL_CONTRACT:
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
    A delivered ``pupil_key`` or ``class_id`` becomes the integer-code column ``pupil`` or
    ``class`` (:mod:`plusdig.survey.keys`); the delivered text is never kept.
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
    sdq, sdq_empty = coded("sdq_total", "float", " or empty")
    out["sdq_total"] = sdq
    out["_sdq_total_empty"] = sdq_empty
    for name in BOOL_COLUMNS[:-1]:
        values, empty = coded(name, "bool")
        out[name] = pd.arrays.BooleanArray(values == 1, values == -1)
        out[f"_{name}_empty"] = empty
    # item non-response: a completed form may leave an answer empty (it then counts for every
    # indicator whose answer is present), but a "completed" form without a single answer is a
    # contradiction in the delivery
    blank = np.logical_and.reduce([out.pop(f"_{name}_empty") for name in ANSWER_COLUMNS])
    if (blank & completed).any():
        _fail(raw, "completed", blank & completed, "a completed form with no answer at all",
              "at least one answer on a completed form (or completed = nej)")

    links = {name: key_codes(raw, col(name), name) for name in KEY_COLUMNS if name in cols}
    if links:
        check_links(raw, links, out["year"], out["grade"], out["school"].codes,
                    out["gender"].codes, out["gender"] != GENDER_NOT_STATED)

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
        **{KEY_COLUMNS[name]: codes for name, codes in links.items()},
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

    from plusdig.data.readers import read_csv_rows

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
    #: Invited pupils per year × grade × gender (:mod:`plusdig.survey.weights`), or None.
    invited_groups: pd.DataFrame | None = None

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
    groups = None
    if source.invited_groups:
        from plusdig.survey.weights import check_invited_groups, load_invited_groups

        groups = load_invited_groups(source.invited_groups)
        check_invited_groups(groups, frame, invited, source.invited_groups)
    return Survey(frame, invited, source, groups)
