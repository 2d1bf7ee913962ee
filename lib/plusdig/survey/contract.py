"""The survey's input contract (columns, answer levels, ranges) and where the data comes
from (``PLUSDIG_SURVEY``, else the bundled synthetic dataset).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from plusdig.core.errors import DataValidationError, describe
from plusdig.core.paths import data_dir

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONTRACT", "COLUMNS", "LONELY_LEVELS", "LONELY_YES", "lonely_mask", "HAPPINESS_LEVELS", "TEASED_LEVELS",
    "GENDER_LEVELS", "SDQ_BANDS", "ANSWER_COLUMNS", "ITEM_LABELS", "SURVEY_ENV", "MAPPING_ENV", "INVITED_ENV", "INVITED_GROUPS_ENV", "SYNTHETIC_FILE",
    "SYNTHETIC_INVITED", "SYNTHETIC_INVITED_GROUPS", "SurveySource", "current_source", "check_environment",
    "OPTIONAL_CONTRACT", "KEY_COLUMNS", "KEY_PATTERNS", "CPR_PATTERN",
]


# --------------------------------------------------------------------------- the contract
SURVEY_ENV = "PLUSDIG_SURVEY"
MAPPING_ENV = "PLUSDIG_SURVEY_MAPPING"
INVITED_ENV = "PLUSDIG_SURVEY_INVITED"
#: Optional: invited pupils per year × grade × gender (post-stratification weights).
INVITED_GROUPS_ENV = "PLUSDIG_SURVEY_INVITED_GROUPS"
#: The bundled synthetic dataset and its invitation counts, relative to ``data/``.
SYNTHETIC_FILE = "survey/synthetic/synthetic_survey_2017-2019.csv"
SYNTHETIC_INVITED = "survey/synthetic/synthetic_invited_2017-2019.csv"
#: The synthetic invited counts per year × grade × gender (an assumption, see the README).
SYNTHETIC_INVITED_GROUPS = "survey/synthetic/synthetic_invited_groups_2017-2019.csv"

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
#: Optional columns (issue 19's linked design): either may be present alone. They are read
#: only to link a pupil's forms across years and to group forms by class; validation turns
#: them into anonymous integer codes (the frame never holds the delivered text), and they are
#: never shown anywhere, not even in an error message.
OPTIONAL_CONTRACT: dict[str, tuple[str, str]] = {
    "pupil_key": ("string", "a stable pseudonymous key per pupil across years: 6–64 ASCII "
                  "letters, digits, '-' or '_', at least one digit; not a CPR number; unique "
                  "within year"),
    "class_id": ("string", "the pupil's class that year: 1–64 ASCII letters, digits, '-', '_' "
                 "or '.'; not a CPR number; one school and one grade per class and year"),
}
#: The optional columns and the frame column holding their integer codes after validation.
KEY_COLUMNS: dict[str, str] = {"pupil_key": "pupil", "class_id": "class"}
#: The pattern each optional column must match (after trimming spaces at both ends).
KEY_PATTERNS: dict[str, str] = {"pupil_key": r"(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{6,64}",
                                "class_id": r"[A-Za-z0-9_.-]{1,64}"}
#: A CPR number: the whole value is ten digits (a hyphen after the sixth allowed) starting
#: with a day 01–31 and a month 01–12, or the value holds the hyphenated form DDMMYY-XXXX.
#: (A run of ten digits inside a longer key is allowed: hexadecimal hashes have them.)
CPR_PATTERN = (r"^(?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2}-?[0-9]{4}$"
               r"|(?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2}-[0-9]{4}")
#: The answer columns. A completed form may leave some of them empty (item non-response: it
#: counts for every indicator whose answer is present), but not all of them.
ANSWER_COLUMNS = ["lonely", "happiness", "teased", "bullied", "leisure_activity",
                  "talks_to_adult", "talks_to_peer", "sdq_total"]
#: The questions whose item non-response the methods appendix reports: typed column -> Danish
#: label (``sdq_band`` is ``sdq_total`` banded; its empty value is :data:`SDQ_MISSING`).
ITEM_LABELS: dict[str, str] = {
    "lonely": "Ensomhed", "happiness": "Glad for livet", "teased": "Bliver drillet",
    "bullied": "Bliver mobbet", "leisure_activity": "Går til en organiseret fritidsaktivitet",
    "talks_to_adult": "Har en voksen at tale med, når de er kede af det",
    "talks_to_peer": "Har en jævnaldrende at tale med, når de er kede af det",
    "sdq_band": "SDQ",
}

#: "ca." in a published figure is accepted within this relative deviation.
APPROX_TOLERANCE = 0.05

_LONELY_BIN = ["Ensomme", "Ikke ensomme"]
#: The answers that count as lonely: »ofte« and »nogle gange« (the book's definition, stated in
#: the chapter and the methods appendix).
LONELY_YES = ("ofte", "nogle gange")


def lonely_mask(frame: pd.DataFrame) -> pd.Series:
    """True for each row whose loneliness answer counts as lonely (:data:`LONELY_YES`)."""
    return frame["lonely"].isin(LONELY_YES)


# --------------------------------------------------------------------------- source
@dataclass(frozen=True)
class SurveySource:
    """Where the survey data comes from. ``synthetic`` is False only for a real delivery."""

    path: Path
    synthetic: bool
    mapping: Path | None = None
    invited: Path | None = None
    invited_groups: Path | None = None

    @property
    def label(self) -> str:
        """Danish description for the book (never the real path)."""
        return "syntetiske data" if self.synthetic else "de leverede besvarelser"


def current_source() -> SurveySource:
    """The source selected by ``PLUSDIG_SURVEY`` (a real delivery) or the synthetic default.

    Relative paths in the environment variables are taken relative to the repository root.
    """
    from plusdig.core.paths import REPO_ROOT

    def env_path(name: str) -> Path | None:
        # a relative path is relative to the repository root (notebooks run in book/...)
        value = os.environ.get(name, "").strip()
        return (REPO_ROOT / Path(value).expanduser()) if value else None

    path = env_path(SURVEY_ENV)
    if path is not None:
        return SurveySource(path, False, env_path(MAPPING_ENV), env_path(INVITED_ENV),
                            env_path(INVITED_GROUPS_ENV))
    base = data_dir()
    return SurveySource(base / SYNTHETIC_FILE, True, None, base / SYNTHETIC_INVITED,
                        base / SYNTHETIC_INVITED_GROUPS)


def check_environment() -> None:
    """Refuse environment settings that would be silently ignored or that name no file:
    a mapping or invitation file without ``PLUSDIG_SURVEY``, or ``PLUSDIG_DATA`` that is not
    a folder. (``python -m plusdig validate`` runs this before a build.)"""
    if not os.environ.get(SURVEY_ENV, "").strip():
        for name in (MAPPING_ENV, INVITED_ENV, INVITED_GROUPS_ENV):
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
