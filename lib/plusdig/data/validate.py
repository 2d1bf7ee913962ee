"""``validate_all``: load and validate every data file, the evaluators' coding included.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from plusdig.data.load import (
    load_activities,
    load_actors,
    load_first_year,
    load_published,
    load_vocabularies,
)
from plusdig.data.models import (
    Vocabularies,
)

if TYPE_CHECKING:
    pass

M = TypeVar("M", bound=BaseModel)

__all__ = ["validate_all"]


def validate_all(base: Path | None = None) -> dict[str, int]:
    """Load and validate every data file; return the number of records per file."""
    result = {
        "vocabularies.yaml": sum(len(getattr(load_vocabularies(base), n)) for n in Vocabularies.model_fields),
        "actors.csv": len(load_actors(base)),
        "activities.yaml": len(load_activities(base)),
        "first_year.yaml": len(load_first_year(base).workstreams),
        "survey/published.csv": len(load_published(base)),
    }
    from plusdig.data import coding

    result.update(coding.validate_coding(base))
    return result
