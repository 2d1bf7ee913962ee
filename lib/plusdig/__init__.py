"""plusdig: the shared library of the +DIG evaluation book.

This module is the **chapter API**: the only thing a chapter notebook imports
(``import plusdig`` / ``from plusdig import ...``), listed in ``lib/README.md``. The names are
loaded lazily (PEP 562), so ``import plusdig`` or ``import plusdig.core.errors`` stays light:
pandas, matplotlib, seaborn and networkx load with the first function that needs them.
Everything else in the subpackages (``plusdig.core`` ... ``plusdig.authoring``) is the
library's own machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Chapter API name -> the module that defines it.
_API: dict[str, str] = {
    # errors and validation
    "DataValidationError": "plusdig.core.errors",
    "validate_all": "plusdig.data.validate",
    # the data, validated on load
    "load_activities": "plusdig.data.load",
    "load_actors": "plusdig.data.load",
    "load_first_year": "plusdig.data.load",
    "load_published": "plusdig.data.load",
    "load_vocabularies": "plusdig.data.load",
    "vocab_labels": "plusdig.data.load",
    "activities_table": "plusdig.data.load",
    "counts_table": "plusdig.data.load",
    "partners_table": "plusdig.data.load",
    "target_groups_table": "plusdig.data.load",
    "age_bands_table": "plusdig.data.report",
    "workstreams_table": "plusdig.data.report",
    "catalogue": "plusdig.data.datadict",
    "schema_table": "plusdig.data.datadict",
    "conditions_matrix": "plusdig.data.coding",
    "condition_evidence": "plusdig.data.coding",
    "condition_summary": "plusdig.data.coding",
    "lessons_matrix": "plusdig.data.coding",
    "lessons_table": "plusdig.data.coding",
    # each chapter's numbers, and gluing them
    "glue_all": "plusdig.present.numbers",
    "foreword_numbers": "plusdig.present.numbers",
    "collective_impact_numbers": "plusdig.present.numbers",
    "activities_numbers": "plusdig.present.numbers",
    "conditions_numbers": "plusdig.present.numbers",
    "lessons_numbers": "plusdig.present.numbers",
    "first_year_numbers": "plusdig.present.numbers",
    "conclusion_numbers": "plusdig.present.numbers",
    "method_numbers": "plusdig.present.numbers",
    "summary_numbers": "plusdig.present.summary",
    "english_summary_numbers": "plusdig.present.summary",
    "current_source": "plusdig.survey.contract",
    "published_survey_numbers": "plusdig.present.numbers",
    "overview_numbers": "plusdig.sphinx.annex_overview",
    # figures, tables and widgets
    "use_house_style": "plusdig.present.style",
    "styled": "plusdig.present.tables",
    "activities_overview": "plusdig.present.tables",
    "published_results_tables": "plusdig.present.tables",
    "activities_per_year": "plusdig.present.figures",
    "organisation_diagram": "plusdig.present.figures",
    "first_year_phases": "plusdig.present.figures",
    "age_coverage": "plusdig.present.figures",
    "target_kinds_matrix": "plusdig.present.figures",
    "reach_counts": "plusdig.present.figures",
    "reach_chart": "plusdig.present.figures",
    "partners_by_sector": "plusdig.present.figures",
    "sector_matrix": "plusdig.present.figures",
    "binary_heatmap": "plusdig.present.figures",
    "published_changes": "plusdig.present.figures",
    "build_network": "plusdig.present.network",
    "multi_activity_actors": "plusdig.present.network",
    "network_figure": "plusdig.present.network",
    "sector_views": "plusdig.present.widgets",
    "explorer": "plusdig.present.widgets",
    "with_fallback": "plusdig.present.widgets",
    # the survey (issue 19): the foreword's data status, chapter 6's sensitivity, the appendix
    "survey_status": "plusdig.survey.banner",
    "survey_chapter_numbers": "plusdig.survey.chapter",
    "survey_reader_table": "plusdig.survey.tables",
    "benchmark_section": "plusdig.survey.benchmark",
    "design_section": "plusdig.survey.design",
    "survey_design_status": "plusdig.survey.design",
    "published_sensitivity": "plusdig.survey.sensitivity",
    "survey_method_numbers": "plusdig.survey.methods",
    "survey_weighting": "plusdig.survey.weighting",
    # Part II's overview chapter
    "overview_table": "plusdig.sphinx.annex_overview",
    "overview_styler": "plusdig.sphinx.annex_overview",
    "timeline_table": "plusdig.sphinx.annex_overview",
    "timeline_figure": "plusdig.sphinx.annex_overview",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'plusdig' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
