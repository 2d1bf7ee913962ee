"""The optional linking columns ``pupil_key`` and ``class_id`` (issue 19): their format and
their consistency, checked without ever printing a key.

A key or class id is turned into an anonymous integer code here (:func:`key_codes`); the
validated frame holds only the codes, so nothing downstream can show the delivered text. Every
error names the file, the rows, the field and what was expected, never the value: a key is
pseudonymous, but a careless one (a CPR number, a name) would identify a child.

The rules (documented in ``data/survey/README.md``):

* a value is required on every row when the column is delivered, matches
  :data:`~plusdig.survey.contract.KEY_PATTERNS` (ASCII, no spaces; a pupil key has at least
  one digit, so a name is refused) and is not a CPR number
  (:data:`~plusdig.survey.contract.CPR_PATTERN`);
* a pupil key is unique within a year, keeps one stated gender across years (an empty gender
  is "not stated" and fits any), and its grade never falls and never rises by more than the
  years passed (a pupil who repeats a grade is allowed); a breach means two pupils share a key,
  and linking them would be wrong, so it is an error, not a warning;
* a class lies in one school and one grade within a year (a class id may recur in another
  year: the class has moved up a grade).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from plusdig.survey.checks import _control_rows, _fail
from plusdig.survey.contract import CPR_PATTERN, GENDER_NOT_STATED, KEY_PATTERNS, OPTIONAL_CONTRACT
from plusdig.survey.readers import _Raw

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["key_codes", "check_links"]


def key_codes(raw: _Raw, series: pd.Series, column: str) -> np.ndarray:
    """The column's values as integer codes (equal values, equal codes), after checking each
    distinct value once. Values are trimmed and compared exactly (case matters: keys are
    often hashes); a spreadsheet's 17.0 is the key 17."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    _control_rows(raw, uniques, codes, column)
    text = [str(int(u)) if isinstance(u, float) and u.is_integer() else str(u).strip()
            for u in uniques]
    expected = OPTIONAL_CONTRACT[column][1]
    empty = np.array([t == "" for t in text] + [True])[codes]
    if empty.any():
        _fail(raw, column, empty, "empty value (the column is delivered, so every row needs "
              "one)", expected)
    pattern = re.compile(KEY_PATTERNS[column])
    bad = np.array([pattern.fullmatch(t) is None for t in text] + [False])[codes]
    if bad.any():
        _fail(raw, column, bad, "value(s) not in the key format (not shown: a key is never "
              "printed)", expected)
    cpr = re.compile(CPR_PATTERN)
    like_cpr = np.array([cpr.search(t) is not None for t in text] + [False])[codes]
    if like_cpr.any():
        _fail(raw, column, like_cpr, "value(s) that look like a CPR number (not shown); a key "
              "must be a pseudonym, never a civil registration number", expected)
    norm_codes, _norm = pd.factorize(np.array(text, dtype=object))
    return np.append(norm_codes, -1)[codes].astype("int64")


def check_links(raw: _Raw, codes: dict[str, np.ndarray], year: np.ndarray, grade: np.ndarray,
                school: np.ndarray, gender: np.ndarray, stated: np.ndarray) -> None:
    """Refuse keys that cannot be a pupil's or a class's (see the module's rules). ``codes``
    maps ``pupil_key``/``class_id`` (those delivered) to :func:`key_codes`; ``school`` and
    ``gender`` are codes per row, ``stated`` is False where the gender is empty."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"year": year, "grade": grade, "school": school, "gender": gender})
    if "pupil_key" in codes:
        frame["pupil"] = codes["pupil_key"]
        dup = frame.duplicated(["pupil", "year"], keep=False).to_numpy()
        if dup.any():
            _fail(raw, "pupil_key", dup, "the same pupil key twice in one year (the keys are "
                  "not shown)", "unique within year: one form per pupil and year")
        genders = frame[stated].groupby("pupil")["gender"].nunique()
        mixed = frame["pupil"].isin(genders[genders > 1].index).to_numpy() & stated
        if mixed.any():
            _fail(raw, "gender", mixed, "one pupil key with two different genders across years "
                  "(two pupils sharing a key?); the keys are not shown",
                  f"the same gender for a pupil key in every year (empty = "
                  f"{GENDER_NOT_STATED} fits any)")
        order = frame.sort_values(["pupil", "year"])
        same = order["pupil"].to_numpy()[1:] == order["pupil"].to_numpy()[:-1]
        d_year = np.diff(order["year"].to_numpy().astype("int64"))
        d_grade = np.diff(order["grade"].to_numpy().astype("int64"))
        wrong = same & ((d_grade < 0) | (d_grade > d_year))
        if wrong.any():
            rows = np.zeros(len(frame), dtype=bool)
            pos = order.index.to_numpy()
            rows[pos[1:][wrong]] = rows[pos[:-1][wrong]] = True
            _fail(raw, "grade", rows, "a pupil key whose grade falls, or rises by more than the "
                  "years passed (two pupils sharing a key?); the keys are not shown",
                  "a pupil's grade one higher per year (the same grade again if the pupil "
                  "repeats it)")
    if "class_id" in codes:
        frame["class"] = codes["class_id"]
        for name, field in (("school", "school"), ("grade", "grade")):
            spread = frame.groupby(["year", "class"])[name].transform("nunique").to_numpy()
            if (spread > 1).any():
                _fail(raw, "class_id", spread > 1, f"one class id in more than one {field} "
                      "in a year (the class ids are not shown)",
                      "each class id within one school and one grade per year (make ids "
                      "unique across schools, e.g. with the school's code)")
