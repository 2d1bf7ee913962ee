"""The methods appendix's weighting paragraph and table: the post-stratified shares of the
four primary indicators per year (:mod:`plusdig.survey.weights`) beside the chapter's
unweighted ones, or why the shares are unweighted. Only the estimates per indicator and year
are shown, never a weighting cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plusdig.survey import inference as inf

if TYPE_CHECKING:
    import pandas as pd

    from plusdig.survey.result import SurveyTable
    from plusdig.survey.weights import Weighted

__all__ = ["Weighting", "weighting", "weighted_table", "survey_weighting", "response_by_grade"]

@dataclass(frozen=True)
class Weighting:
    """The methods appendix's weighting paragraph (glued) and its table (None when the group
    counts are not supplied or no year may be shown)."""

    weighting_sentence: str
    #: Why the groups' intervals have no finite population correction (glued).
    groups_fpc_sentence: str = ("Grupperne (klassetrin, køn, skole) korrigeres ikke, fordi "
                                "antallet af inviterede i hver gruppe ikke er kendt.")
    #: The response to the loneliness question per grade, or why it cannot be given (glued).
    response_groups_sentence: str = (
        "Antallet af inviterede pr. klassetrin og pr. skole indgår ikke i leverancen, så "
        "svarprocenten kan kun beregnes for hver måling som helhed.")
    table: Any = field(default=None, repr=False, compare=False, metadata={"glue": False})

    def styler(self) -> Any:
        """The table as the page shows it, or None (nothing shown)."""
        return None if self.table is None else self.table.styler()


#: The groups' missing correction when the invited counts per grade × gender are known.
_GROUPS_KNOWN = ("Grupperne (klassetrin, køn, skole) korrigeres ikke for den endelige "
                 "population: antallet af inviterede pr. klassetrin og køn bruges kun til "
                 "vægtningen nedenfor, og pr. skole er det ikke kendt.")
#: What each primary indicator is a share of, as the table says it.
_OF = {False: "alle, der svarer", True: "ensomme, der svarer"}


def _shown(tables: dict[str, SurveyTable], result: dict[str, list[Weighted]] | None
           ) -> list[tuple[Weighted, float, float]]:
    """The (weighted share, chapter's count, chapter's denominator) that may be shown: the
    chapter shows the year's unweighted share of the indicator (not suppressed) and every
    invited cell has forms."""
    from plusdig.survey.tables import indicator_counts

    series = indicator_counts(tables)
    out = []
    for key, years in (result or {}).items():
        for w in years:
            x, n = series[key].get(w.year, (math.nan, math.nan))
            if w.complete and not math.isnan(float(x)) and not math.isnan(float(n)) and n:
                out.append((w, float(x), float(n)))
    return out


def weighted_table(tables: dict[str, SurveyTable], result: dict[str, list[Weighted]] | None
                   ) -> SurveyTable | None:
    """The four primary indicators per year, unweighted (the chapter's counts) and
    post-stratified by grade × gender: only the estimates, never a weighting cell. None when
    nothing may be shown."""
    import pandas as pd

    from plusdig.survey.methods import _share_interval, _table
    from plusdig.survey.tables import TREND_INDICATORS
    from plusdig.survey.weights import INDICATORS

    shown = _shown(tables, result)
    if not shown:
        return None
    return _table(tables, "weighted", "Vægtede andele: de fire primære indikatorer pr. år, "
                  "uvægtet og vægtet efter klassetrin og køn", pd.DataFrame([{
        "Indikator": TREND_INDICATORS[w.indicator],
        "Andel af": _OF[INDICATORS[w.indicator].within_lonely],
        "År": str(w.year),
        "Uvægtet andel [95 %-KI]": _share_interval(inf.share_interval(x, n)),
        "Vægtet andel [95 %-KI]": _share_interval(w.weighted),
    } for w, x, n in shown]))


def response_by_grade(tables: dict[str, SurveyTable], groups: pd.DataFrame) -> str:
    """The share of the invited pupils who answered the loneliness question, per grade and
    year, as a range with its lowest and highest group (Danish). A grade enters only where the
    chapter shows its number of answers, so the sentence reveals nothing the page does not."""
    from plusdig.survey.methods import _num, _pct

    reg = tables["response"].cells
    invited = groups.groupby(["year", "grade"])["invited"].sum()
    rates = []
    for (year, grade), n_invited in invited.items():
        key = ("group", "grade", int(year), int(grade), "n")
        if reg is not None and key in reg.cells and reg.shown(key) and n_invited:
            rates.append((reg.value(key) / float(n_invited), int(year), int(grade)))
    school = ("Antallet af inviterede pr. skole indgår ikke i leverancen, så svarprocenten "
              "pr. skole kan ikke beregnes.")
    if not rates:
        return ("Antallet af inviterede pr. klassetrin er oplyst, men ingen svarprocent pr. "
                "klassetrin kan vises, fordi antallet af besvarelser er skjult. " + school)
    (lo, ly, lg), (hi, hy, hg) = min(rates), max(rates)
    assumed = (" (på syntetiske data er antallet af inviterede pr. gruppe antaget)"
               if tables["response"].synthetic else "")
    return (f"Pr. klassetrin og måling har {_num(lo * 100, 1)}–{_pct(hi)} af de inviterede svaret på "
            f"spørgsmålet om ensomhed{assumed}, lavest på {lg}. klassetrin i {ly} og højest på "
            f"{hg}. klassetrin i {hy}. " + school)


def weighting(tables: dict[str, SurveyTable], result: dict[str, list[Weighted]] | None,
              groups: pd.DataFrame | None = None) -> Weighting:
    """What the weighting does, or why there is none (Danish); no verdict on synthetic data.
    ``result``: :func:`plusdig.survey.weights.weighted_indicators`'s, None without group
    counts; ``groups`` the invited counts per group (the response per grade)."""
    from plusdig.survey.methods import _num

    response = (Weighting.response_groups_sentence if groups is None
                else response_by_grade(tables, groups))
    if result is None:
        return Weighting("Vægte efter klassetrin og køn kræver antallet af inviterede i hver "
                         "gruppe, og det indgår ikke i leverancen, så andelene er uvægtede: de "
                         "forudsætter, at de, der svarede, ligner dem, der ikke svarede, uanset "
                         "klassetrin og køn", response_groups_sentence=response)
    shown = _shown(tables, result)
    if not shown:
        return Weighting("Antallet af inviterede pr. klassetrin og køn er oplyst, men ingen "
                         "vægtet andel kan vises: enten mangler besvarelser i en gruppe, eller "
                         "årets andel er skjult", _GROUPS_KNOWN, response)
    head = ("Antallet af inviterede pr. klassetrin og køn er oplyst, så de fire primære "
            "indikatorer er også beregnet med vægte (efterstratificering): hver besvarelse "
            "vejer antallet af inviterede i dens gruppe (år, klassetrin og køn) delt med antallet "
            "af besvarelser i gruppen, der svarer på indikatorens spørgsmål. To af indikatorerne "
            "er andele af alle, der svarer; de to andre (SDQ's normalområde og ofte drillet) er "
            "andele blandt de ensomme børn, og for dem bruges de samme gruppevægte, begrænset "
            "til de ensomme: den vægtede andel er de ensommes vægte med svaret delt med alle "
            "de ensommes vægte. Elever uden oplyst køn eller med et køn, der ikke har en "
            "gruppe, indgår ikke i de vægtede andele. Intervallet bruger Kishs effektive "
            "stikprøvestørrelse for de besvarelser, andelen er taget af, så vægtenes "
            "designeffekt gør det bredere; ingen af tabellens intervaller er korrigeret for den "
            "endelige population. Tabellen viser kun de vægtede andele pr. indikator og år, "
            "aldrig en gruppe, og kun hvor kapitlet viser den uvægtede andel")
    if tables["response"].synthetic:
        text = (head + ". På syntetiske data er antallet af inviterede pr. gruppe antaget "
                "(evaluatorernes antagelse), så forskellen mellem de vægtede og de uvægtede "
                "andele viser kun, at beregningen virker. Med de rigtige tal ville den vise, "
                "hvor meget det skæve frafald efter klassetrin og køn flytter andelene")
    else:
        moved = max(abs(w.weighted.estimate - x / n) for w, x, n in shown)
        text = (head + f". Vægtningen flytter en andel med højst {_num(moved * 100, 1)} "
                f"procentpoint, og vægtenes designeffekt er højst "
                f"{_num(max(w.deff for w, _x, _n in shown), 2)}. Vægtene retter kun for skævhed "
                "efter klassetrin og køn, ikke for forskelle inden for en gruppe")
    return Weighting(text, _GROUPS_KNOWN, response, weighted_table(tables, result))


def survey_weighting() -> Weighting:
    """The methods appendix's weighting paragraph and table for the current survey source
    (``PLUSDIG_SURVEY_INVITED_GROUPS``, or the synthetic default's assumed group counts)."""
    from plusdig.survey.disclosure import threshold
    from plusdig.survey.tables import current_tables
    from plusdig.survey.weights import weighted_indicators

    data, tables = current_tables(threshold())
    groups = data.invited_groups
    return weighting(tables, None if groups is None else weighted_indicators(data.frame, groups),
                     groups)
