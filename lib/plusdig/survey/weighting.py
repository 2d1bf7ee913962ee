"""The methods appendix's weighting paragraph and table: the post-stratified share of
loneliness per year (:mod:`plusdig.survey.weights`) beside the chapter's unweighted one, or
why the shares are unweighted. Only the estimates per year are shown, never a weighting cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plusdig.survey import inference as inf

if TYPE_CHECKING:
    from plusdig.survey.result import SurveyTable
    from plusdig.survey.weights import Weighted

__all__ = ["Weighting", "weighting", "weighted_table", "survey_weighting"]

@dataclass(frozen=True)
class Weighting:
    """The methods appendix's weighting paragraph (glued) and its table (None when the group
    counts are not supplied or no year may be shown)."""

    weighting_sentence: str
    table: Any = field(default=None, repr=False, compare=False, metadata={"glue": False})

    def styler(self) -> Any:
        """The table as the page shows it, or None (nothing shown)."""
        return None if self.table is None else self.table.styler()


def _shown(tables: dict[str, SurveyTable], result: list[Weighted] | None) -> list[Weighted]:
    """The years whose weighted share may be shown: the chapter shows the year's unweighted
    share (not suppressed) and every invited cell has respondents."""
    prev = tables["prevalence_year"].values.set_index("year")
    return [w for w in result or [] if w.complete and w.year in prev.index
            and not math.isnan(float(prev.loc[w.year, "lonely"]))]


def weighted_table(tables: dict[str, SurveyTable], result: list[Weighted] | None
                   ) -> SurveyTable | None:
    """Loneliness per year, unweighted (the chapter's rows) and post-stratified by grade ×
    gender: only the estimates per year, never a weighting cell. None when nothing to show."""
    import pandas as pd

    from plusdig.survey.methods import _share_interval, _table

    shown = _shown(tables, result)
    if not shown:
        return None
    prev = tables["prevalence_year"].values.set_index("year")
    return _table(tables, "weighted", "Vægtede andele: andelen, der svarer ja til ensomhed, pr. "
                  "år, uvægtet og vægtet efter klassetrin og køn", pd.DataFrame([{
        "År": str(w.year),
        "Uvægtet andel [95 %-KI]": _share_interval(inf.share_interval(
            float(prev.loc[w.year, "lonely"]), float(prev.loc[w.year, "n"]))),
        "Vægtet andel [95 %-KI]": _share_interval(w.weighted),
    } for w in shown]))


def weighting(tables: dict[str, SurveyTable], result: list[Weighted] | None) -> Weighting:
    """What the weighting does, or why there is none (Danish); no verdict on synthetic data.
    ``result``: :func:`plusdig.survey.weights.weighted_prevalence`'s, None without group
    counts."""
    from plusdig.survey.methods import _num

    if result is None:
        return Weighting("Vægte efter klassetrin og køn kræver antallet af inviterede i hver "
                         "gruppe, og det indgår ikke i leverancen, så andelene er uvægtede: de "
                         "forudsætter, at de, der svarede, ligner dem, der ikke svarede, uanset "
                         "klassetrin og køn")
    shown = _shown(tables, result)
    if not shown:
        return Weighting("Antallet af inviterede pr. klassetrin og køn er oplyst, men ingen "
                         "vægtet andel kan vises: enten mangler besvarelser i en gruppe, eller "
                         "årets andel er skjult")
    head = ("Antallet af inviterede pr. klassetrin og køn er oplyst, så andelen, der svarer ja "
            "til ensomhed, er også beregnet med vægte (efterstratificering): hver besvarelse "
            "vejer antallet af inviterede i dens gruppe (år, klassetrin og køn) delt med antallet "
            "af besvarelser i gruppen. Elever uden oplyst køn eller med et køn, der ikke har en "
            "gruppe, indgår ikke i den vægtede andel. Intervallet bruger Kishs effektive "
            "stikprøvestørrelse, så vægtenes designeffekt gør det bredere; ingen af tabellens "
            "intervaller er korrigeret for den endelige population. Tabellen viser kun de "
            "vægtede andele pr. år, aldrig en gruppe")
    if tables["response"].synthetic:
        text = (head + ". På syntetiske data er antallet af inviterede pr. gruppe antaget "
                "(evaluatorernes antagelse), så forskellen mellem den vægtede og den uvægtede "
                "andel viser kun, at beregningen virker. Med de rigtige tal ville den vise, "
                "hvor meget det skæve frafald efter klassetrin og køn flytter andelen")
    else:
        moved = max(abs(w.weighted.estimate - w.unweighted.estimate) for w in shown)
        text = (head + f". Vægtningen flytter andelen med højst {_num(moved * 100, 1)} "
                f"procentpoint, og vægtenes designeffekt er højst "
                f"{_num(max(w.deff for w in shown), 2)}. Vægtene retter kun for skævhed efter "
                "klassetrin og køn, ikke for forskelle inden for en gruppe")
    return Weighting(text, weighted_table(tables, result))


def survey_weighting() -> Weighting:
    """The methods appendix's weighting paragraph and table for the current survey source
    (``PLUSDIG_SURVEY_INVITED_GROUPS``, or the synthetic default's assumed group counts)."""
    from plusdig.survey.disclosure import threshold
    from plusdig.survey.tables import run_pipeline
    from plusdig.survey.validation import load_survey
    from plusdig.survey.weights import weighted_prevalence

    data = load_survey()
    tables = run_pipeline(data, k=threshold())
    groups = data.invited_groups
    return weighting(tables, None if groups is None else weighted_prevalence(data.frame, groups))
