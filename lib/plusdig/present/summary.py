"""The numbers of the summaries (Sammenfatning and the English summary): one typed record.

:func:`summary_numbers` computes every number the two summaries state with the same library
calls the chapters make, so a summary can never disagree with its chapter. The record formats
itself for each language: :meth:`SummaryNumbers.danish` ("1.100", "90 %", "ca. 1.100") and
:meth:`SummaryNumbers.english` ("1,100", "90%", "about 1,100"), with the same keys, so the two
summaries glue the same values under the same names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from plusdig.core import fmt
from plusdig.data.report import count_noun

__all__ = ["Stated", "ConditionFinding", "SummaryNumbers", "SummaryText", "summary_numbers",
           "english_summary_numbers", "summary_record", "english_number",
           "english_percent", "CONDITIONS_EN", "THEMES_EN"]

#: Collective Impact's conditions in English (Kania and Kramer's names; SUS's sixth).
CONDITIONS_EN: dict[str, str] = {
    "common_agenda": "Common agenda",
    "shared_measurement": "Shared measurement",
    "mutually_reinforcing": "Mutually reinforcing activities",
    "continuous_communication": "Continuous communication",
    "backbone": "Backbone support",
    "user_involvement": "User involvement",
}

#: The lesson themes (data/coding/lessons.yaml) in English.
THEMES_EN: dict[str, str] = {
    "youth-involvement": "involving children and young people",
    "not-over-steering": "not over-steering",
    "volunteers": "volunteers and enthusiasts",
    "recruitment": "recruiting participants and partners",
    "communication": "continuous communication",
    "follow-up": "follow-up and maintenance",
    "share-stories": "sharing good stories and ideas",
    "build-on-existing": "building on what exists",
    "shared-learning": "shared learning and a shared language",
    "early-involvement": "involving partners early",
    "method-fit": "methods that fit the target group",
    "geography-transport": "geography and transport",
}

_QUALIFIERS_EN = {"ca.": "about", "over": "over", "godt": "just over", "mindst": "at least"}


def english_number(value: float | int, decimals: int = 0) -> str:
    """A number for English readers: ``1234.5 -> '1,234.5'``."""
    if isinstance(value, float) and math.isnan(value):
        return "–"
    return f"{value:,.{decimals}f}"


def _english_noun(n: int, singular: str, plural: str) -> str:
    return f"no {plural}" if n == 0 else f"{english_number(n)} {singular if n == 1 else plural}"


def english_percent(value: float, decimals: int = 0) -> str:
    """A percentage for English readers: ``21 -> '21%'``, ``(21, 1) -> '21.0%'``."""
    return f"{english_number(value, decimals)}%"


@dataclass(frozen=True)
class Stated:
    """A number as the source states it: its value, qualifier ("ca.") and unit ("procent")."""

    value: float
    qualifier: str | None = None
    unit: str = ""

    @property
    def _decimals(self) -> int:
        return 0 if float(self.value).is_integer() else 1

    def danish(self) -> str:
        value = int(self.value) if float(self.value).is_integer() else self.value
        text = fmt.approx(value, self.qualifier, decimals=self._decimals)
        return f"{text} %" if self.unit == "procent" else text

    def english(self) -> str:
        if self.unit == "procent":
            text = english_percent(self.value, self._decimals)
        else:
            text = english_number(self.value, self._decimals)
        if self.qualifier:
            if self.qualifier not in _QUALIFIERS_EN:
                raise ValueError(f"unknown qualifier {self.qualifier!r}; expected one of "
                                 f"{sorted(_QUALIFIERS_EN)}")
            text = f"{_QUALIFIERS_EN[self.qualifier]} {text}"
        return text


@dataclass(frozen=True)
class ConditionFinding:
    """How many activities and first-year workstreams the coding links to one condition."""

    code: str
    label: str
    n_activities: int
    n_workstreams: int


@dataclass(frozen=True)
class SummaryNumbers:
    """Every number the summaries state; the chapter named in each comment states it too."""

    n_activities: int            # ch. 1, 4, 9
    n_workstreams: int           # ch. 3
    kickoff_actors: Stated       # ch. 3, 9
    n_secretariat: int           # ch. 2: activities whose »Hvem er med?« names the secretariat
    n_actors: int                # ch. 4, 9
    n_sectors: int               # ch. 4, 9
    share_cross: float           # ch. 4, 9: share of actor ties across sectors (0–1)
    n_links: int                 # ch. 5
    conditions: tuple[ConditionFinding, ...]  # ch. 5, 9
    n_counts: int                # ch. 1, 9
    n_approx: int                # ch. 1, 9
    n_incomplete: int            # ch. 1, 9
    n_lesson_activities: int     # ch. 8: activities whose lessons are coded
    n_themes: int                # ch. 8
    top_theme: str               # ch. 8: code of the theme most activities touch
    top_theme_label: str
    top_theme_n: int
    questions: Stated            # ch. 6
    measurements: Stated         # ch. 6: measurements 2017–2019
    measurements_planned: Stated  # ch. 6: 2020–2022
    respondents: Stated          # ch. 6: per measurement
    response_rate: Stated        # ch. 6
    not_happy_2017: Stated       # ch. 6
    not_happy_2018: Stated
    sdq_normal_2017: Stated      # ch. 6: lonely children within SDQ's normal range
    sdq_normal_2018: Stated
    teased_2017: Stated          # ch. 6: lonely children often teased
    teased_2018: Stated
    measurement_years: tuple[int, int]  # ch. 6: the measurements so far (2017, 2019)
    planned_years: tuple[int, int]      # ch. 6: the agreed further measurements
    compare_years: tuple[int, int]      # ch. 6: the published comparison (2017, 2018)

    def _common(self) -> dict[str, int | float | Stated]:
        out: dict[str, int | float | Stated] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | Stated) and not isinstance(value, bool):
                out[f.name] = value
        return out

    def _nouns(self, noun: Callable[[int, str, str], str], activity: tuple[str, str],
               workstream: tuple[str, str]) -> dict[str, str]:
        """Counts with their noun ("3 aktiviteter", "1 workstream"), per condition and theme."""
        out = {}
        for c in self.conditions:
            out[f"acts_{c.code}"] = noun(c.n_activities, *activity)
            out[f"streams_{c.code}"] = noun(c.n_workstreams, *workstream)
        out["top_theme_acts"] = noun(self.top_theme_n, *activity)
        return out

    def _years(self) -> dict[str, str]:
        """Years and year ranges, the same in both languages ("2017–2019": an en dash)."""
        def span(years: tuple[int, int]) -> str:
            return str(years[0]) if years[0] == years[1] else f"{years[0]}–{years[1]}"

        return {"measurement_years": span(self.measurement_years),
                "planned_years": span(self.planned_years),
                "year_before": str(self.compare_years[0]),
                "year_after": str(self.compare_years[1])}

    def danish(self) -> dict[str, str]:
        """Every number formatted for Danish text, by name."""
        out = {k: v.danish() if isinstance(v, Stated) else fmt.number(v)
               for k, v in self._common().items()}
        out["share_cross"] = fmt.percent(self.share_cross, share=True)
        out["top_theme_label"] = self.top_theme_label.lower()
        nouns = self._nouns(count_noun, ("aktivitet", "aktiviteter"),
                            ("arbejdsspor", "arbejdsspor"))
        return out | self._years() | nouns

    def english(self) -> dict[str, str]:
        """The same numbers formatted for English text ("1,100", "21.0%"), by the same names."""
        out = {k: v.english() if isinstance(v, Stated) else english_number(v)
               for k, v in self._common().items()}
        out["share_cross"] = english_percent(self.share_cross * 100)
        out["top_theme_label"] = THEMES_EN[self.top_theme]
        nouns = self._nouns(_english_noun, ("activity", "activities"),
                            ("workstream", "workstreams"))
        return out | self._years() | nouns


def _years(published: object, figure_id: str) -> tuple[int, int]:
    from plusdig.data.report import _row

    row = _row(published, figure_id)  # type: ignore[arg-type]
    start = int(row["year_start"])
    end = start if row["year_end"] is None or str(row["year_end"]) in ("<NA>", "nan") \
        else int(row["year_end"])
    return (start, end)


def _stated(published: object, figure_id: str) -> Stated:
    from plusdig.data.report import _row  # the one place a published figure is looked up

    row = _row(published, figure_id)  # type: ignore[arg-type]
    qualifier = row["qualifier"] if isinstance(row["qualifier"], str) else None
    return Stated(float(row["value"]), qualifier, str(row["unit"]))


@dataclass(frozen=True)
class SummaryText:
    """One summary's numbers as text, glued by :func:`plusdig.glue_all` key by key."""

    per_code: Mapping[str, str]

    def headline(self) -> str:
        v = self.per_code
        return (f"{v['n_activities']} {v['n_links']} {v['n_actors']} {v['n_sectors']} "
                f"{v['share_cross']} {v['not_happy_2017']} {v['not_happy_2018']}")


def summary_numbers() -> SummaryText:
    """The Sammenfatning's numbers, in Danish (:meth:`SummaryNumbers.danish`)."""
    return SummaryText(summary_record().danish())


def english_summary_numbers() -> SummaryText:
    """The English summary's numbers: the same values, for English readers."""
    return SummaryText(summary_record().english())


def summary_record() -> SummaryNumbers:
    """The summaries' numbers, computed as the chapters compute them."""
    from plusdig.data import coding, report
    from plusdig.data.load import (
        activities_table,
        counts_table,
        load_activities,
        load_first_year,
        load_published,
        partners_table,
    )
    from plusdig.present import network
    from plusdig.present.figures import ORGANISATION

    acts = load_activities()
    table = activities_table()
    counts = report.distinct_counts(counts_table())
    partners = partners_table()
    measures = network.network_measures(network.build_network(partners))
    fy = load_first_year()
    kick = next(c for w in fy.workstreams if w.id == "kick-off" for c in w.counts)
    secretariat = next(actor for _, actor, _ in ORGANISATION if actor == "dig-sekretariatet")
    n_secretariat = len(set(partners.loc[partners["actor_id"] == secretariat, "activity_id"]))
    cond = coding.condition_summary()
    themes = coding.theme_counts()
    lessons = coding.lessons_table()
    top = themes.iloc[0]
    theme_code = dict(zip(coding.lessons_table()["theme_label"], lessons["theme"], strict=False))
    pub = load_published()
    return SummaryNumbers(
        n_activities=len(acts),
        n_workstreams=len(fy.workstreams),
        kickoff_actors=Stated(float(kick.value), kick.qualifier),
        n_secretariat=n_secretariat,
        n_actors=int(measures["n_actors"]),
        n_sectors=int(measures["n_sectors"]),
        share_cross=float(measures["share_cross_sector_ties"]),
        n_links=len(coding.conditions_table()),
        conditions=tuple(ConditionFinding(str(r["condition"]), str(r["label"]),
                                          int(r["n_activities"]), int(r["n_workstreams"]))
                         for _, r in cond.iterrows()),
        n_counts=len(counts),
        n_approx=int(counts["approximate"].sum()),
        n_incomplete=int(table["incomplete_source"].sum()),
        n_lesson_activities=int(lessons["activity_id"].nunique()),
        n_themes=len(coding.load_lesson_coding().themes),
        top_theme=str(theme_code[top["theme_label"]]),
        top_theme_label=str(top["theme_label"]),
        top_theme_n=int(top["n_activities"]),
        questions=_stated(pub, "questions"),
        measurements=_stated(pub, "measurements-2017-2019"),
        measurements_planned=_stated(pub, "measurements-planned-2020-2022"),
        respondents=_stated(pub, "respondents-per-measurement-2017-2019"),
        response_rate=_stated(pub, "response-rate-2017-2019"),
        not_happy_2017=_stated(pub, "not-happy-at-all-2017"),
        not_happy_2018=_stated(pub, "not-happy-at-all-2018"),
        sdq_normal_2017=_stated(pub, "lonely-sdq-normal-range-2017"),
        sdq_normal_2018=_stated(pub, "lonely-sdq-normal-range-2018"),
        teased_2017=_stated(pub, "lonely-often-teased-2017"),
        teased_2018=_stated(pub, "lonely-often-teased-2018"),
        measurement_years=_years(pub, "measurements-2017-2019"),
        planned_years=_years(pub, "measurements-planned-2020-2022"),
        compare_years=(_years(pub, "not-happy-at-all-2017")[0],
                       _years(pub, "not-happy-at-all-2018")[0]),
    )
