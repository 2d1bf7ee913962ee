"""plusdig: the shared library of the +DIG evaluation book.

Notebooks import the high-level functions from here. Heavy modules (pandas, matplotlib,
seaborn, networkx) are imported inside the functions that use them, so ``import plusdig``
stays light.
"""

from plusdig.core.errors import DataValidationError
from plusdig.data.load import (
    activities_table,
    counts_table,
    load_activities,
    load_actors,
    load_first_year,
    load_published,
    load_vocabularies,
    partners_table,
    target_groups_table,
)
from plusdig.data.validate import validate_all

__all__ = [
    "DataValidationError",
    "activities_table",
    "counts_table",
    "load_activities",
    "load_actors",
    "load_first_year",
    "load_published",
    "load_vocabularies",
    "partners_table",
    "target_groups_table",
    "validate_all",
]
