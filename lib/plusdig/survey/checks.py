"""How a column's values are checked and parsed, and how a failure is reported without
printing a pupil's own words.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from plusdig.core.errors import DataValidationError, control_char
from plusdig.survey.contract import (
    BOOL_FALSE,
    BOOL_TRUE,
    CONTRACT,
    GENDER_LEVELS,
    GRADE_RANGE,
    HAPPINESS_LEVELS,
    LONELY_LEVELS,
    SDQ_RANGE,
    TEASED_LEVELS,
    YEAR_RANGE,
)
from plusdig.survey.readers import _Raw

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd



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


#: :func:`plusdig.core.errors.control_char`'s characters as an RE2 class (pyarrow's regex engine).
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
