"""The numbers of the methods appendix "Metode: trivselsmålingen" and of the design-aware
analysis in the survey chapter, as one typed record.

Everything here is computed from the *disclosure-controlled* tables of
:func:`plusdig.survey.run_pipeline` (their ``values`` hold NaN for a suppressed count), so a
number the chapter hides stays hidden here, and the appendix shows no count the chapter does
not. The statistics are :mod:`plusdig.survey.inference`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plusdig.survey import inference as inf
from plusdig.survey.contract import lonely_mask
from plusdig.survey.items import item_missing_rates
from plusdig.survey.result import _pct
from plusdig.survey.result import pp_interval as _pp_interval
from plusdig.survey.result import pvalue as _pvalue
from plusdig.survey.result import ratio_interval as _ratio_interval

if TYPE_CHECKING:
    import pandas as pd

    from plusdig.survey.result import SurveyTable

__all__ = ["MethodsNumbers", "methods_numbers", "survey_method_numbers", "secondary_table",
           "NOT_JUDGED"]

#: A record field kept for the page but not glued (:func:`plusdig.glue_all` skips it).
_NOT_GLUED: dict[str, Any] = {"repr": False, "compare": False, "metadata": {"glue": False}}


def _num(x: float, decimals: int = 0) -> str:
    from plusdig.core.fmt import number

    return "–" if x is None or math.isnan(x) else number(x, decimals).replace("-", "\u2212")


def _share_interval(i: inf.Interval) -> str:
    if not i.defined:
        return "–"
    return f"{_pct(i.estimate)} [{_num(i.low * 100, 1)}; {_num(i.high * 100, 1)}]"


@dataclass(frozen=True)
class MethodsNumbers:
    """Every number and data-driven phrase the methods appendix glues (Danish text)."""

    data_status: str
    synthetic_note: str
    year_first: str
    year_last: str
    years: str
    n_years: str
    invited_known: str
    fpc_sentence: str
    secondary_tests: str
    secondary_sentence: str
    n_activities_2017: str
    coverage_range: str
    nonresponse_range: str
    n_questions: str
    grade_from: str
    grade_to: str
    sdq_normal: str
    sdq_borderline: str
    sdq_abnormal: str
    fpc_first: str
    fpc_narrowing_first: str
    lonely_first_plain: str
    lonely_first_fpc: str
    assumed_icc: str
    assumed_class_size: str
    assumed_deff: str
    assumed_widening: str
    lonely_change_plain: str
    lonely_change_deff: str
    overlap_next: str
    overlap_two: str
    cohort_change: str
    cohort_grades: str
    bounds_first: str
    sampling_first: str
    bounds_last: str
    sampling_last: str
    sdq_answered_range: str
    n_primary: str
    n_secondary: str
    n_secondary_discoveries: str
    n_secondary_nominal: str
    fdr_q: str
    ci_level: str
    k: str
    item_missing_range: str
    item_lonely_range: str
    trend: Any = field(default=None, **_NOT_GLUED)
    secondary: Any = field(default=None, **_NOT_GLUED)
    items: Any = field(default=None, **_NOT_GLUED)

    def headline(self) -> str:
        return (f"Data: {self.data_status}; år: {self.years}; inviterede {self.invited_known}\n"
                f"Ensomhed {self.year_first}: {self.lonely_first_plain} / med FPC "
                f"{self.lonely_first_fpc}\nGrænser for frafald {self.year_first}: "
                f"{self.bounds_first} mod {self.sampling_first}\nOverlap: {self.overlap_next} "
                f"(et år), {self.overlap_two} (to år)")


def _overlap(grades: pd.DataFrame, y0: int, y1: int) -> float:
    """The share of year ``y1``'s respondents whose grade ``y1 - y0`` years earlier was one the
    survey covers: the pupils who *could* have answered in ``y0`` too (grade counts only)."""
    rows = grades[(grades["year"] == y1) & (grades["group"] != "I alt")]
    if rows["n"].isna().any() or not len(rows):
        return math.nan
    covered = sorted(int(g) for g in grades.loc[grades["year"] == y0, "group"] if g != "I alt")
    if not covered:
        return math.nan
    back = rows["group"].astype(int) - (y1 - y0)
    return float(rows.loc[back.isin(covered).to_numpy(), "n"].sum() / rows["n"].sum())


def _range_text(values: list[float]) -> str:
    vals = [v for v in values if not math.isnan(v)]
    if not vals or len(vals) < len(values):
        return "–"
    lo, hi = _pct(min(vals)), _pct(max(vals))
    return lo if lo == hi else f"{lo.removesuffix(' %')}–{hi}"


def methods_numbers(tables: dict[str, SurveyTable], frame: pd.DataFrame | None = None,
                    activities: pd.DataFrame | None = None,
                    published: pd.DataFrame | None = None) -> MethodsNumbers:
    """The record for the methods appendix, from the chapter's protected tables (and the
    respondent rows ``frame`` for the model-based contrasts; nothing row-level is returned).
    ``activities`` (:func:`plusdig.activities_table`) dates the activities of the first
    measurement's year; ``published`` (:func:`plusdig.load_published`) gives the design facts
    the annex states (questions, grades)."""
    from plusdig.core.fmt import percent
    from plusdig.survey.contract import SDQ_BANDS

    resp = tables["response"].values.set_index("year")
    prev = tables["prevalence_year"].values.set_index("year")
    grades = tables["prevalence_grade"].values
    comp = tables["comparison"].values
    synthetic = tables["response"].synthetic
    years = sorted(int(y) for y in prev.index)
    first, last = years[0], years[-1]
    invited = resp["invited"]
    known = bool(invited.notna().all())

    x0, n0 = prev.loc[first, "lonely"], prev.loc[first, "n"]
    x1, n1 = prev.loc[last, "lonely"], prev.loc[last, "n"]
    inv0 = float(invited.get(first, math.nan))
    plain = inf.share_interval(x0, n0)
    finite = inf.share_interval(x0, n0, population=inv0 if known else None)
    narrowing = (1 - (finite.high - finite.low) / (plain.high - plain.low)
                 if plain.defined and finite.defined else math.nan)
    change, _pv = inf.difference(x1, n1, x0, n0)
    change_deff, _pv = inf.difference(x1, n1, x0, n0, deff=inf.ASSUMED_DEFF)

    # pseudo-cohort: the lowest grade in the first year against the same cohort in the last
    g = grades[grades["group"] != "I alt"]
    g_first = sorted(int(v) for v in g.loc[g["year"] == first, "group"])
    cohort = inf.NAN_INTERVAL
    cohort_grades = "–"
    if g_first:
        g0, g1 = g_first[0], g_first[0] + (last - first)
        r0 = g[(g["year"] == first) & (g["group"].astype(str) == str(g0))]
        r1 = g[(g["year"] == last) & (g["group"].astype(str) == str(g1))]
        if len(r0) and len(r1):
            cohort, _pv = inf.difference(r1["lonely"].iloc[0], r1["n"].iloc[0],
                                        r0["lonely"].iloc[0], r0["n"].iloc[0])
            cohort_grades = f"{g0}. klasse i {first} og {g1}. klasse i {last}"

    def bound_text(y: int) -> tuple[str, str]:
        lo, hi = inf.bounds(prev.loc[y, "lonely"], prev.loc[y, "n"],
                            float(invited.get(y, math.nan)))
        sampling = inf.share_interval(prev.loc[y, "lonely"], prev.loc[y, "n"])
        b = "–" if math.isnan(lo) else f"{_num(lo * 100, 1)}–{_pct(hi)}"
        s = "–" if not sampling.defined else f"{_num(sampling.low * 100, 1)}–{_pct(sampling.high)}"
        return b, s

    sdq = comp[comp["measure"] == "sdq_normal"]
    sdq_rates: list[float] = []
    reg = tables["comparison"].cells
    for y in years:
        for b in ("Ensomme", "Ikke ensomme"):
            ans, tot = ("measure_n", "sdq_band", y, b), ("bin", y, b)
            sdq_rates.append(reg.value(ans) / reg.value(tot)
                             if reg is not None and reg.shown(ans, tot) and reg.value(tot)
                             else math.nan)
    del sdq
    sec = secondary_results(tables, frame)
    if known:
        fpc_sentence = (f"Antallet af inviterede er kendt for hvert år, så intervallet for et års "
                        f"niveau er korrigeret for den endelige population. For {first} er "
                        f"korrektionsfaktoren {_num(inf.fpc(n0, inv0), 2)}")
    else:
        fpc_sentence = ("Antallet af inviterede er ikke kendt for hvert år, så intervallerne er "
                        "ikke korrigeret for den endelige population; de er derfor bredere end "
                        "nødvendigt, hvis målet er eleverne i det pågældende år")
    # the start of the sentence that ends "for en falsk-opdagelsesrate på 5 % [citation]."
    secondary_tests = (f"Der testes {_num(sec.tested)} forskelle, og de kontrolleres"
                       if not sec.suppressed else
                       f"Når grupperne er store nok, testes {_num(len(SECONDARY))} forskelle, "
                       "og de kontrolleres")
    if sec.suppressed:
        secondary_sentence = ("Ingen sekundær sammenligning kan vises: i "
                              f"{sec.year} bygger grupperne af ensomme og ikke-ensomme børn på "
                              f"færre end {tables['response'].k} besvarelser, eller de er "
                              "skjult, så et lille tal ikke kan regnes ud af de andre tal i "
                              "bogen. Tabellen viser derfor »–« for hvert mål.")
    elif synthetic:
        secondary_sentence = (f"Med de rigtige besvarelser ville tabellen vise, hvilke af de "
                              f"{_num(sec.tested)} forskelle der holder, når der tages højde for, "
                              "at der er testet mange. På syntetiske data kan den ikke sige "
                              "noget om det: forskellene er bygget ind i datasættet, så tallene "
                              "viser kun, at beregningen virker.")
    else:
        secondary_sentence = (f"Af de {_num(sec.tested)} forskelle har {_num(sec.nominal)} en "
                              f"p-værdi under 5 %, og {_num(sec.discoveries)} holder ved en "
                              f"falsk-opdagelsesrate på {percent(inf.FDR_Q * 100)}.")
    n_2017 = math.nan
    if activities is not None:
        only = activities["period"].fillna("").str.findall(r"\d{4}").map(
            lambda ys: bool(ys) and set(ys) == {str(first)})
        n_2017 = float(only.sum())
    def fact(indicator: str) -> str:
        if published is None:
            return "–"
        rows = published[published["indicator"] == indicator]
        return _num(float(rows["value"].iloc[0])) if len(rows) else "–"

    def band(code: str) -> str:
        lo, hi, _label = SDQ_BANDS[code]
        return f"{lo}–{hi}"

    gaps = item_missing_rates(tables)
    b_first, s_first = bound_text(first)
    b_last, s_last = bound_text(last)
    return MethodsNumbers(
        data_status=tables["response"].synthetic and "syntetiske data" or
        "de leverede besvarelser",
        synthetic_note=("Tallene i dette bilag er beregnet på syntetiske data og viser kun, "
                        "hvordan metoden virker; de siger intet om børnene i Lejre."
                        if synthetic else "Tallene i dette bilag er beregnet på de leverede "
                        "besvarelser."),
        year_first=str(first), year_last=str(last),
        years=f"{first}–{last}" if first != last else str(first),
        n_years=_num(len(years)),
        invited_known="kendt" if known else "ikke kendt",
        fpc_sentence=fpc_sentence,
        secondary_tests=secondary_tests,
        secondary_sentence=secondary_sentence,
        n_activities_2017=_num(n_2017),
        coverage_range=_range_text([float(v) for v in resp["rate_completed"]]),
        nonresponse_range=_range_text([1 - float(v) for v in resp["rate_completed"]]),
        n_questions=fact("questions"), grade_from=fact("grade-from"), grade_to=fact("grade-to"),
        sdq_normal=band("normal"), sdq_borderline=band("borderline"),
        sdq_abnormal=band("abnormal"),
        fpc_first=_num(inf.fpc(n0, inv0 if known else None), 2),
        fpc_narrowing_first="–" if math.isnan(narrowing) else percent(narrowing * 100),
        lonely_first_plain=_share_interval(plain),
        lonely_first_fpc=_share_interval(finite),
        assumed_icc=_num(inf.ASSUMED_ICC, 3),
        assumed_class_size=_num(inf.ASSUMED_CLASS_SIZE),
        assumed_deff=_num(inf.ASSUMED_DEFF, 3),
        assumed_widening=percent((inf.widening(inf.ASSUMED_DEFF) - 1) * 100),
        lonely_change_plain=_pp_interval(change),
        lonely_change_deff=_pp_interval(change_deff),
        overlap_next=_pct(_overlap(grades, first, first + 1), 0) if last > first else "–",
        overlap_two=_pct(_overlap(grades, first, first + 2), 0) if last >= first + 2 else "–",
        cohort_change=_pp_interval(cohort),
        cohort_grades=cohort_grades,
        bounds_first=b_first, sampling_first=s_first,
        bounds_last=b_last, sampling_last=s_last,
        sdq_answered_range=_range_text(sdq_rates),
        n_primary=_num(len(inf.PRIMARY)),
        n_secondary=_num(sec.tested),
        n_secondary_discoveries=_num(sec.discoveries),
        n_secondary_nominal=_num(sec.nominal),
        fdr_q=percent(inf.FDR_Q * 100),
        ci_level=percent(inf.CI_LEVEL * 100),
        k=str(tables["response"].k),
        item_missing_range=_range_text([r for q in gaps.values() for r in q.values()]),
        item_lonely_range=_range_text(list(gaps["lonely"].values())),
        trend=tables["trend"], secondary=secondary_table(tables, frame, sec), items=tables["items"])


def survey_method_numbers() -> MethodsNumbers:
    """The methods appendix's record for the current survey source (``PLUSDIG_SURVEY`` or the
    synthetic default): its glued numbers and its two tables (``trend``, ``secondary``)."""
    from plusdig.data.load import activities_table, load_published
    from plusdig.survey.disclosure import threshold
    from plusdig.survey.tables import current_tables

    data, tables = current_tables(threshold())
    return methods_numbers(tables, data.frame, activities_table(), load_published())


@dataclass(frozen=True)
class Secondary:
    """The secondary contrasts (lonely vs not lonely, last year) under FDR control;
    ``suppressed``: none is computed, because the two groups' sizes of ``year`` may not be
    shown."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    tested: int = 0
    nominal: int = 0
    discoveries: int = 0
    suppressed: bool = False
    year: int = 0


#: The secondary variables, one contrast each: column -> (Danish label, ordered levels from
#: "least" to "most", or None for a yes/no answer; its key in the comparison table).
SECONDARY: dict[str, tuple[str, tuple[str, ...] | None, str]] = {
    "teased": ("Bliver drillet (oftere)", ("aldrig", "sjældent", "nogle gange", "ofte"), ""),
    "bullied": ("Bliver mobbet", None, "bullied"),
    "leisure_activity": ("Går til en organiseret fritidsaktivitet", None, "leisure_activity"),
    "talks_to_adult": ("Har en voksen at tale med", None, "talks_to_adult"),
    "talks_to_peer": ("Har en jævnaldrende at tale med", None, "talks_to_peer"),
    "happiness": ("Mindre glad for livet", ("meget glad", "glad", "hverken eller",
                                            "ikke særlig glad", "slet ikke glad"), ""),
    "sdq_band": ("Højere SDQ-bånd (flere vanskeligheder)", ("normal", "borderline",
                                                             "abnormal"), ""),
}


def secondary_results(tables: dict[str, SurveyTable], frame: pd.DataFrame | None
                      ) -> Secondary:
    """One contrast per secondary variable, lonely against not lonely in the last year: the
    cumulative-logit odds ratio (adjusted for grade and gender) for an ordinal answer, the
    difference in percentage points for a yes/no answer; Benjamini–Hochberg over all of them.
    Nothing is tested unless both groups' sizes may be shown; without ``frame`` (the
    respondent rows) the ordinal contrasts are left out."""
    comp = tables["comparison"].values
    reg = tables["comparison"].cells
    last = int(comp["year"].max())
    groups = (("bin", last, "Ensomme"), ("bin", last, "Ikke ensomme"))
    rows: list[dict[str, Any]] = []
    if reg is None or not reg.shown(*groups):
        return Secondary(suppressed=True, year=last)
    done = None
    if frame is not None:
        done = frame[frame["completed"] & (frame["year"] == last)]
        done = done.assign(lonely_yes=lonely_mask(done))
    for column, (label, levels, measure) in SECONDARY.items():
        if levels is None:
            r = comp[(comp["measure"] == measure) & (comp["year"] == last)].iloc[0]
            other_n = float(reg.value(groups[1]))
            if math.isnan(r["diff"]):
                continue
            interval, p = inf.difference(r["lonely_x"], r["lonely_n"],
                                         round(r["other_share"] * other_n), other_n)
            effect, kind = _pp_interval(interval), _kind(levels)
        else:
            if done is None:
                continue
            interval, p = inf.ordinal_odds_ratio(done, column, levels, "lonely_yes")
            effect, kind = _ratio_interval(interval), _kind(levels)
        rows.append({"label": label, "kind": kind, "effect": effect, "p": p})
    reject, adjusted = inf.fdr([row["p"] for row in rows])
    for row, rej, q in zip(rows, reject, adjusted, strict=True):
        row["q"], row["discovery"] = q, rej
    return Secondary(rows, len(rows), sum(1 for r in rows if r["p"] < inf.ALPHA),
                     sum(reject))


def _kind(levels: tuple[str, ...] | None) -> str:
    """The effect measure of a secondary contrast (Danish): ordinal answers or yes/no."""
    return "forskel i procentpoint" if levels is None else "oddsratio (kumulativ logit)"


def _table(tables: dict[str, SurveyTable], name: str, title: str, frame: pd.DataFrame,
           n_primary: int = 0) -> SurveyTable:
    """A methods table as the chapter's tables are shown (synthetic label in the caption;
    ``n_primary`` suppressed rows add the book's footnote on »–«)."""
    from plusdig.survey.result import SurveyTable

    ref = tables["response"]
    return SurveyTable(name, title, frame, frame, ref.synthetic, ref.k, n_primary=n_primary,
                       cells=ref.cells)


#: What the secondary table's verdict column says on synthetic data: the differences are built
#: into the data set, so no finding is stated (issue 19's synthetic-mode guardrail).
NOT_JUDGED = "vurderes ikke (syntetiske data)"


def secondary_table(tables: dict[str, SurveyTable], frame: pd.DataFrame | None,
                    sec: Secondary | None = None) -> SurveyTable:
    """The secondary contrasts of the last year with raw and FDR-adjusted p-values (``sec``:
    :func:`secondary_results` of the same ``tables`` and ``frame``, if already computed: its
    ordinal models are most of the appendix's run time)."""
    import pandas as pd

    from plusdig.survey.disclosure import SUPPRESSED

    if sec is None:
        sec = secondary_results(tables, frame)
    title = ("Sekundære sammenligninger, ensomme mod ikke-ensomme børn, sidste måling: ét "
             "effektmål pr. spørgsmål med p-værdi og FDR-justeret q-værdi")
    label, kind, effect = "Mål (ensomme mod ikke-ensomme)", "Effektmål", "Estimat [95 %-KI]"
    results = ("p", "q (FDR)", "Fund ved FDR 5 %")
    if sec.suppressed:  # the groups may not be shown: every question, every value »–«
        rows = pd.DataFrame([{label: name, kind: _kind(levels), effect: SUPPRESSED,
                              **dict.fromkeys(results, SUPPRESSED)}
                             for name, levels, _key in SECONDARY.values()])
        return _table(tables, "secondary", title, rows, n_primary=len(rows))
    return _table(tables, "secondary", title, pd.DataFrame([{
        label: r["label"], kind: r["kind"], effect: r["effect"],
        "p": _pvalue(r["p"]), "q (FDR)": _pvalue(r["q"]),
        "Fund ved FDR 5 %": (NOT_JUDGED if tables["response"].synthetic
                             else "ja" if r["discovery"] else "nej"),
    } for r in sec.rows]))
