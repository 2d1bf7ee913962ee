"""A delivery's column mapping (``PLUSDIG_SURVEY_MAPPING``): its names and codes onto the
contract's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from plusdig.core.errors import DataValidationError, describe
from plusdig.survey.checks import _column_parser, _norm_key
from plusdig.survey.contract import COLUMNS, CONTRACT, OPTIONAL_CONTRACT

if TYPE_CHECKING:

    pass

__all__ = ["load_mapping"]


# --------------------------------------------------------------------------- mapping
@dataclass(frozen=True)
class Mapping_:
    """A delivery's column mapping: delivery column -> contract column; value recodes."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)


def load_mapping(path: str | Path) -> Mapping_:
    """Read a mapping file (YAML; see ``data/survey/column_mapping.example.yaml``).

    Every scalar is read as the text written (``no`` stays ``no``, ``01`` stays ``01``), and
    every recoding's target is checked against the contract here, so a wrong target is blamed
    on the mapping file and its entry, not on the delivery.
    """
    from plusdig.data.readers import read_yaml

    path = Path(path)
    doc = read_yaml(path, text_only=True)
    if doc in (None, "", {}):
        raise DataValidationError(path, "the mapping file is empty",
                                  expected="'columns' and/or 'values' (see data/survey/"
                                  "column_mapping.example.yaml), or no PLUSDIG_SURVEY_MAPPING")
    if not isinstance(doc, dict) or set(doc) - {"columns", "values"}:
        raise DataValidationError(path, "unexpected top-level keys", record="top level",
                                  expected="a mapping with 'columns' and/or 'values'")
    columns = doc.get("columns") or {}
    values = doc.get("values") or {}
    if not isinstance(columns, dict):
        raise DataValidationError(path, "'columns' is not a mapping", field="columns",
                                  expected="delivery column: contract column")
    out_cols: dict[str, str] = {}
    seen: dict[str, str] = {}
    for src, dst in columns.items():
        dst_norm = str(dst).strip().lower()
        if not isinstance(dst, str) or dst_norm not in {*CONTRACT, *OPTIONAL_CONTRACT}:
            raise DataValidationError(path, f"maps {src!r} to unknown column {describe(dst)}",
                                      field=f"columns.{src}", expected=f"one of {COLUMNS}")
        if dst_norm in seen:
            raise DataValidationError(path, f"two columns map to {dst_norm!r}: {seen[dst_norm]!r} "
                                      f"and {src!r}", field=f"columns.{src}",
                                      expected="each contract column at most once")
        src_norm = str(src).strip().lower()
        if src_norm in out_cols:
            raise DataValidationError(path, f"delivery column {src!r} is given twice (column "
                                      "names are matched ignoring case)", field=f"columns.{src}",
                                      expected="each delivery column once")
        seen[dst_norm] = str(src)
        out_cols[src_norm] = dst_norm
    if not isinstance(values, dict):
        raise DataValidationError(path, "'values' is not a mapping", field="values",
                                  expected="contract column: {delivery value: contract value}")
    out_vals: dict[str, dict[str, str]] = {}
    for col, recode in values.items():
        col_norm = str(col).strip().lower()
        if col_norm not in CONTRACT or col_norm in {"respondent_id", "school"}:
            raise DataValidationError(path, f"value recoding for {col!r}", field=f"values.{col}",
                                      expected="a contract column other than respondent_id/school")
        if not isinstance(recode, dict):
            raise DataValidationError(path, "recoding is not a mapping", field=f"values.{col}",
                                      expected="delivery value: contract value")
        parse, allowed = _column_parser(col_norm)
        out: dict[str, str] = {}
        for src, dst in recode.items():
            entry = f"values.{col}.{src}"
            key = _norm_key(src)
            if key in out:
                raise DataValidationError(path, f"delivery value {src!r} is given twice (values "
                                          "are matched ignoring case and spaces)", field=entry,
                                          expected="each delivery value once")
            target = _norm_key(dst) if isinstance(dst, str) else None
            try:
                if target is None:
                    raise ValueError
                if target:  # an empty target recodes to "no answer"
                    parse(target)
            except ValueError:
                raise DataValidationError(path, f"recodes {src!r} to {describe(dst)}, which is not "
                                          f"a value of {col_norm!r}", field=entry,
                                          expected=f"{allowed}, or '' for no answer"
                                          ) from None
            out[key] = dst
        out_vals[col_norm] = out
    return Mapping_(out_cols, out_vals)
