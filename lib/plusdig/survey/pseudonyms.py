"""Pseudonymous school names for the published book (issue 19: schools without a league table).

With ``PLUSDIG_SCHOOL_KEY`` set, every school of the survey is published as »Skole A«,
»Skole B« … instead of its name (»Pseudonym A« … when the names themselves have that form, as
the synthetic data's do, so that no pseudonym is another school's name): in every table, figure, download and alt text of the survey
pages, since the names are replaced in the validated data before any table is made
(:func:`plusdig.survey.tables.run_pipeline`). The letters follow the order of a keyed hash
(HMAC-SHA256 with the key) of the names: the same key gives every edition the same letters,
and without the key nobody can tell which letter is which school -- not from the alphabet, nor
from the schools' sizes. The key is a secret of the evaluator: it is never printed, logged or
stored with the book, and it must be at least :data:`MIN_KEY_LENGTH` characters long.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import string
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KEY_ENV", "MIN_KEY_LENGTH", "school_key", "pseudonyms", "pseudonymise"]

#: The environment variable holding the key; pseudonyms are used when it is set.
KEY_ENV = "PLUSDIG_SCHOOL_KEY"
#: The shortest key accepted (a short key could be guessed by trying keys).
MIN_KEY_LENGTH = 16
#: The column of the survey contract that names the school.
SCHOOL = "school"


def school_key(environ: dict[str, str] | None = None) -> str | None:
    """The key from :data:`KEY_ENV`, or None when it is not set (the schools keep their names).

    A key that is set but too short is refused with a message that never prints the key.
    """
    from plusdig.core.errors import DataValidationError

    value = (os.environ if environ is None else environ).get(KEY_ENV, "")
    if not value.strip():
        return None
    if len(value.strip()) < MIN_KEY_LENGTH:
        raise DataValidationError(
            KEY_ENV, f"the key is {len(value.strip())} characters long", field=KEY_ENV,
            expected=f"a secret of at least {MIN_KEY_LENGTH} characters (or unset: the "
                     "schools keep their names)")
    return value.strip()


def _letters(i: int) -> str:
    """A, B, … Z, AA, AB, …"""
    out = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        out = string.ascii_uppercase[rest] + out
    return out


#: The pseudonyms' word, and the one used when a school's real name has the form of a
#: pseudonym (»Skole A« in the synthetic data): a pseudonym must never read as another school.
PREFIX, OTHER_PREFIX = "Skole", "Pseudonym"


def pseudonyms(names: Iterable[str], key: str) -> dict[str, str]:
    """Each distinct name -> »Skole A«, »Skole B« …, in the order of the names' keyed hashes;
    »Pseudonym A« … instead when a name is itself of the form »Skole A« … (then a pseudonym
    could be another school's name)."""
    distinct = sorted(set(names), key=lambda name: hmac.new(
        key.encode("utf-8"), name.encode("utf-8"), hashlib.sha256).hexdigest())
    letters = [_letters(i) for i in range(len(distinct))]
    taken = {f"{PREFIX} {x}" for x in letters} & set(distinct)
    prefix = OTHER_PREFIX if taken else PREFIX
    return {name: f"{prefix} {x}" for name, x in zip(distinct, letters, strict=True)}


def pseudonymise(frame: pd.DataFrame, key: str | None = None) -> pd.DataFrame:
    """``frame`` (validated survey data) with its schools renamed by :func:`pseudonyms`; the
    frame itself as it is when no key is given and :data:`KEY_ENV` is unset. The source data
    are never changed: a renamed copy is returned."""
    key = key if key is not None else school_key()
    if key is None or SCHOOL not in frame.columns:
        return frame
    import pandas as pd

    names = pseudonyms(frame[SCHOOL].astype(str), key)
    out = frame.copy()
    renamed = frame[SCHOOL].astype(str).map(names)
    # the tables list the schools in the pseudonyms' order (A, B, …), never in the names'
    order = sorted(set(names.values()), key=lambda name: (len(name), name))
    out[SCHOOL] = pd.Categorical(renamed, categories=order)
    return out
