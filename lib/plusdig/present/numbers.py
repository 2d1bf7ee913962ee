"""The numbers each report chapter glues into its prose, one typed record per chapter.

A chapter calls one function (``plusdig.activities_numbers()`` ...), glues the record in one
line (:func:`glue_all`) and prints :meth:`headline` for nbval. Each record's field names are
the chapter's glue keys (the prose uses them with ``{glue:text}``); a ``per_code`` field holds
the keys made per vocabulary code (``n_achieved``, ``acts_backbone`` ...). No chapter types a
number by hand and none repeats another's computation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _not_glued(default: Any = None, factory: Any = None) -> Any:
    """A field kept on a record for its headline only: :func:`glue_all` skips it."""
    kw: dict[str, Any] = {"repr": False, "compare": False, "metadata": {"glue": False}}
    return field(default_factory=factory, **kw) if factory else field(default=default, **kw)

__all__ = ["glue_all", "foreword_numbers", "collective_impact_numbers", "activities_numbers",
           "conditions_numbers", "lessons_numbers", "first_year_numbers", "conclusion_numbers",
           "method_numbers"]


def glue_all(numbers: Any) -> None:
    """Glue every field of a chapter's record under its own name (``display=False``); a
    mapping field is glued entry by entry, under each entry's key."""
    from myst_nb import glue

    for f in dataclasses.fields(numbers):
        if not f.metadata.get("glue", True):
            continue
        value = getattr(numbers, f.name)
        if isinstance(value, Mapping):
            for key, item in value.items():
                glue(key, item, display=False)
        else:
            glue(f.name, value, display=False)


def _aktivitet(n: int) -> str:
    from plusdig.data.report import count_noun

    return count_noun(n, "aktivitet", "aktiviteter")


# --------------------------------------------------------------------------- forord
@dataclass(frozen=True)
class ForewordNumbers:
    question: str
    selection: str
    n_activities: int
    n_workstreams: int
    n_counts: int
    n_approx: int
    n_incomplete: int
    n_files: int

    def headline(self) -> str:
        return " ".join(str(v) for v in (self.n_activities, self.n_workstreams, self.n_counts,
                                         self.n_approx, self.n_incomplete, self.n_files))


def foreword_numbers() -> ForewordNumbers:
    """The foreword's numbers: the question, the selection, and what the data holds."""
    from plusdig.data import datadict, report
    from plusdig.data.load import activities_table, counts_table, load_first_year

    fy = load_first_year()
    activities = activities_table()
    counts = report.distinct_counts(counts_table())
    return ForewordNumbers(
        question=fy.laesevejledning[0], selection=fy.forord[1], n_activities=len(activities),
        n_workstreams=len(fy.workstreams), n_counts=len(counts),
        n_approx=int(counts["approximate"].sum()),
        n_incomplete=int(activities["incomplete_source"].sum()), n_files=len(datadict.catalogue()))


# --------------------------------------------------------------------------- collective impact
@dataclass(frozen=True)
class CollectiveImpactNumbers:
    n_acts: int
    n_conditions: int
    n_alliance: str
    n_secretariat: str
    n_coordination: str
    in_acts: Mapping[str, list[int]] = _not_glued(factory=dict)

    def headline(self) -> str:
        return f"{self.n_acts} {({k: len(v) for k, v in self.in_acts.items()})}"


def collective_impact_numbers() -> CollectiveImpactNumbers:
    """The organisation's groups and how many activities name each of them."""
    from plusdig.data.load import load_activities, partners_table, vocab_labels
    from plusdig.present.figures import ORGANISATION

    partners = partners_table()
    in_acts = {actor: sorted(set(partners.loc[partners["actor_id"] == actor, "activity_id"]))
               for _, actor, _ in ORGANISATION}
    return CollectiveImpactNumbers(
        n_acts=len(load_activities()), n_conditions=len(vocab_labels("conditions")),
        n_alliance=_aktivitet(len(in_acts["alliancegruppen"])),
        n_secretariat=_aktivitet(len(in_acts["dig-sekretariatet"])),
        n_coordination=_aktivitet(len(in_acts["centrale-ledere"])),
        in_acts=in_acts)


# --------------------------------------------------------------------------- aktiviteterne
@dataclass(frozen=True)
class ActivitiesNumbers:
    n_activities: int
    n_undated: int
    n_tracked: int
    tracked: str
    n_target_groups: int
    n_kinds: int
    n_with_age: str
    age_bands: str
    adult_kinds: str
    youngest_band: str
    youngest_acts: str
    n_reach: int
    n_reach_approx: int
    reach_low: str
    reach_low_act: str
    reach_high: str
    reach_high_act: str
    n_actors: int
    n_sectors: int
    n_multi: str
    top_actor: str
    top_actor_n: str
    mean_sectors: str
    n_multi_sector: str
    single_sector: str
    n_ties: int
    n_cross: int
    share_cross: str
    n_components: int
    isolated: str
    per_code: Mapping[str, str]
    checks: tuple[Any, ...] = _not_glued(default=())

    def headline(self) -> str:
        return "\n".join(" ".join(str(v) for v in line) for line in self.checks)


def activities_numbers() -> ActivitiesNumbers:
    """The activities chapter's numbers: dates, outcomes, target groups, reach, partners."""
    import pandas as pd

    from plusdig.core import fmt
    from plusdig.data import report
    from plusdig.data.load import (activities_table, counts_table, load_activities,
                                   load_vocabularies, partners_table, target_groups_table,
                                   vocab_labels)
    from plusdig.present import figures, network

    acts = load_activities()
    activities = activities_table()
    names = report.activity_names(acts)
    tracked = activities[activities["track"] != ""]
    statuses = vocab_labels("outcome_statuses")
    by_status = {code: list(activities.loc[activities["outcome"] == label, "id"])
                 for code, label in statuses.items()}
    by_status["none"] = list(activities.loc[activities["outcome"] == "", "id"])
    per_code: dict[str, str] = {}
    for code, ids in by_status.items():
        per_code[f"n_{code}"] = _aktivitet(len(ids))
        per_code[f"acts_{code}"] = report.danish_list([names[i] for i in ids])

    tg = target_groups_table()
    with_age = tg[tg["age_band"] != ""]
    no_age = tg[~tg["activity_id"].isin(with_age["activity_id"])].sort_values("activity_id")
    bands = pd.DataFrame([e.model_dump() for e in load_vocabularies().age_bands])
    youngest = with_age[with_age["age_band"] == bands.sort_values("min_age").iloc[0]["code"]]

    reach = figures.reach_counts(counts_table())
    low, high = reach.loc[reach["value"].idxmin()], reach.loc[reach["value"].idxmax()]

    graph = network.build_network(partners_table())
    m = network.network_measures(graph)
    multi = network.multi_activity_actors(graph)
    per_act = network.sectors_per_activity(graph)
    checks = (
        (len(activities), int(activities["year"].isna().sum()), len(tracked),
         {code: len(ids) for code, ids in by_status.items()}),
        (len(tg), tg["kind"].nunique(), with_age["activity_id"].nunique()),
        (len(reach), int(reach["approximate"].sum()), low["label"], high["label"]),
        (m["n_actors"], m["n_sectors"], m["n_multi_activity_actors"], multi.loc[0, "actor"],
         round(m["mean_sectors_per_activity"], 1), m["n_multi_sector_activities"], m["n_ties"],
         m["n_cross_sector_ties"], m["n_components"]),
    )
    return ActivitiesNumbers(
        n_activities=len(activities), n_undated=int(activities["year"].isna().sum()),
        n_tracked=len(tracked),
        tracked=report.danish_list([f"{t} ({tr})" for t, tr in
                                    zip(tracked["title"], tracked["track"], strict=True)]),
        n_target_groups=len(tg), n_kinds=tg["kind"].nunique(),
        n_with_age=_aktivitet(with_age["activity_id"].nunique()),
        age_bands=report.danish_list(list(dict.fromkeys(
            with_age.sort_values("activity_id")["age_band_label"]))),
        adult_kinds="; ".join(dict.fromkeys(no_age["kind_label"])),
        youngest_band=youngest["age_band_label"].iloc[0],
        youngest_acts=report.danish_list([names[i] for i in dict.fromkeys(youngest["activity_id"])]),
        n_reach=len(reach), n_reach_approx=int(reach["approximate"].sum()),
        reach_low=f"{low['label']} {low['what']}", reach_low_act=names[int(low["activity_id"])],
        reach_high=f"{high['label']} {high['what']}", reach_high_act=names[int(high["activity_id"])],
        n_actors=m["n_actors"], n_sectors=m["n_sectors"],
        n_multi=report.count_noun(m["n_multi_activity_actors"], "aktør", "aktører"),
        top_actor=multi.loc[0, "actor"], top_actor_n=_aktivitet(int(multi.loc[0, "n_activities"])),
        mean_sectors=fmt.number(m["mean_sectors_per_activity"], 1),
        n_multi_sector=_aktivitet(m["n_multi_sector_activities"]),
        single_sector=report.danish_list(
            [names[i] for i in per_act.loc[per_act["n_sectors"] == 1, "activity_id"]]),
        n_ties=m["n_ties"], n_cross=m["n_cross_sector_ties"],
        share_cross=fmt.percent(m["share_cross_sector_ties"], share=True),
        n_components=m["n_components"],
        isolated=report.danish_list([names[i] for i in network.outside_main_component(graph)]),
        per_code=per_code, checks=checks)


# --------------------------------------------------------------------------- betingelserne
@dataclass(frozen=True)
class ConditionsNumbers:
    n_links: int
    n_activity_links: int
    n_stream_links: int
    n_coded_activities: int
    n_activities: int
    n_multi_condition: int
    top_condition: str
    top_condition_n: int
    per_code: Mapping[str, Any]
    check: Mapping[str, Any] = _not_glued(factory=dict)

    def headline(self) -> str:
        return f"{self.n_links} {dict(self.check)}"


def conditions_numbers() -> ConditionsNumbers:
    """The conditions chapter's numbers: the evaluators' links and each condition's activities."""
    from plusdig.data import coding

    links = coding.conditions_table()
    summary = coding.condition_summary().set_index("condition")
    matrix = coding.conditions_matrix()
    top = summary.sort_values("n_activities", ascending=False, kind="stable").iloc[0]
    per_code: dict[str, Any] = {}
    for code, row in summary.iterrows():
        per_code[f"n_{code}"] = _aktivitet(int(row["n_activities"]))
        per_code[f"acts_{code}"] = row["activities"] or "ingen"
        per_code[f"streams_{code}"] = int(row["n_workstreams"])
    return ConditionsNumbers(
        n_links=len(links), n_activity_links=int((links["unit_kind"] == "activity").sum()),
        n_stream_links=int((links["unit_kind"] == "workstream").sum()),
        n_coded_activities=int((matrix.sum(axis=1) > 0).sum()), n_activities=len(matrix),
        n_multi_condition=int((matrix.sum(axis=1) >= 2).sum()),
        top_condition=top["label"].lower(), top_condition_n=int(top["n_activities"]),
        per_code=per_code,
        check=summary[["n_activities", "n_workstreams"]].to_dict("index"))


# --------------------------------------------------------------------------- erfaringer
@dataclass(frozen=True)
class LessonsNumbers:
    n_activities: int
    n_with_section: int
    without_section: str
    uncoded: str
    n_coded: int
    n_themes: int
    n_links: int
    top_theme: str
    top_theme_n: str
    n_single: str
    per_code: Mapping[str, str]

    def headline(self) -> str:
        return f"{self.n_with_section} {self.n_coded} {self.n_themes} {self.n_links}"


def lessons_numbers() -> LessonsNumbers:
    """The lessons chapter's numbers: which activities state a lesson, and its themes."""
    from plusdig.data import coding, report
    from plusdig.data.load import load_activities, section_text

    acts = load_activities()
    names = report.activity_names(acts)
    lessons = coding.lessons_table()
    coded = coding.load_lesson_coding()
    counts = coding.theme_counts()
    with_section = [a for a in acts if section_text(a, "erfaring").strip()]
    without_section = [names[a.id] for a in acts if not section_text(a, "erfaring").strip()]
    uncoded = [names[a.id] for a in with_section if a.id not in set(lessons["activity_id"])]
    per_code: dict[str, str] = {}
    for t in coded.themes:
        mine = lessons[lessons["theme"] == t.code]
        key = t.code.replace("-", "_")
        per_code[f"n_{key}"] = _aktivitet(len(mine))
        per_code[f"acts_{key}"] = report.danish_list([names[i] for i in mine["activity_id"]])
    return LessonsNumbers(
        n_activities=len(acts), n_with_section=len(with_section),
        without_section=report.danish_list(without_section), uncoded=report.danish_list(uncoded),
        n_coded=lessons["activity_id"].nunique(), n_themes=len(coded.themes), n_links=len(lessons),
        top_theme=counts.loc[0, "theme_label"].lower(),
        top_theme_n=_aktivitet(int(counts.loc[0, "n_activities"])),
        n_single=report.count_noun(int((counts["n_activities"] == 1).sum()), "tema", "temaer"),
        per_code=per_code)


# --------------------------------------------------------------------------- det første år
def _kickoff(fy: Any) -> Any:
    return next(c for w in fy.workstreams if w.id == "kick-off" for c in w.counts)


@dataclass(frozen=True)
class FirstYearNumbers:
    intro: str
    forord_first_year: str
    n_workstreams: int
    kickoff_actors: str
    n_named: int
    n_named_sectors: int

    def headline(self) -> str:
        return f"{self.n_workstreams} {self.kickoff_actors} {self.n_named} {self.n_named_sectors}"


def first_year_numbers() -> FirstYearNumbers:
    """The first year's numbers: its workstreams, the kick-off and the actors it names."""
    from plusdig.data.load import load_actors, load_first_year
    from plusdig.data.report import count_text

    fy = load_first_year()
    named = sorted({a for w in fy.workstreams for a in w.actors})
    return FirstYearNumbers(
        intro=fy.intro[0], forord_first_year=fy.forord[2], n_workstreams=len(fy.workstreams),
        kickoff_actors=count_text(_kickoff(fy)), n_named=len(named),
        n_named_sectors=load_actors().loc[named, "sector"].nunique())


# --------------------------------------------------------------------------- konklusion
@dataclass(frozen=True)
class ConclusionNumbers:
    n_activities: int
    n_workstreams: int
    kickoff_actors: str
    n_actors: int
    n_sectors: int
    share_cross: str
    n_counts: int
    n_approx: int
    n_undated: int
    n_incomplete: int
    share: float = _not_glued(default=0.0)

    def headline(self) -> str:
        return " ".join(str(v) for v in (self.n_activities, self.n_actors, self.n_sectors,
                                         round(self.share, 3), self.n_counts, self.n_approx,
                                         self.n_undated))


def conclusion_numbers() -> ConclusionNumbers:
    """The conclusion's numbers, each computed as the chapter it sums up computes it."""
    from plusdig.core import fmt
    from plusdig.data import report
    from plusdig.data.load import activities_table, counts_table, load_first_year, partners_table
    from plusdig.present import network

    acts = activities_table()
    counts = report.distinct_counts(counts_table())
    m = network.network_measures(network.build_network(partners_table()))
    fy = load_first_year()
    return ConclusionNumbers(
        n_activities=len(acts), n_workstreams=len(fy.workstreams),
        kickoff_actors=report.count_text(_kickoff(fy)), n_actors=m["n_actors"],
        n_sectors=m["n_sectors"], share_cross=fmt.percent(m["share_cross_sector_ties"], share=True),
        n_counts=len(counts), n_approx=int(counts["approximate"].sum()),
        n_undated=int(acts["year"].isna().sum()), n_incomplete=int(acts["incomplete_source"].sum()),
        share=m["share_cross_sector_ties"])


# --------------------------------------------------------------------------- sådan er bogen lavet
@dataclass(frozen=True)
class MethodNumbers:
    n_files: int
    n_transcribed: int
    n_coding: int
    n_synthetic: int
    n_fields: int

    def headline(self) -> str:
        return (f"Filer: {self.n_files}; afskrevet: {self.n_transcribed}; kodning: {self.n_coding}; "
                f"syntetiske: {self.n_synthetic}; felter: {self.n_fields}")


def method_numbers() -> MethodNumbers:
    """How the book is made: its data files by origin, and the fields of their schemas."""
    from plusdig.data import datadict

    catalogue = datadict.catalogue()
    kinds = catalogue["provenance"].value_counts()
    return MethodNumbers(
        n_files=len(catalogue),
        n_transcribed=int(kinds.get(datadict.PROVENANCE_LABELS["transcribed"], 0)),
        n_coding=int(kinds.get(datadict.PROVENANCE_LABELS["coding"], 0)),
        n_synthetic=int(kinds.get(datadict.PROVENANCE_LABELS["synthetic"], 0)),
        n_fields=len(datadict.schema_table()))


# --------------------------------------------------------------------------- trivselsmålingen
#: The published survey figures chapter 6 quotes (figure ids of data/published.yaml), and those
#: whose period it names too (glued as ``period_<id>``).
PUBLISHED_VALUES = (
    "questions", "grade-from", "grade-to", "pupils-total", "respondents-per-measurement-2017-2019",
    "response-rate-2017-2019", "measurements-2017-2019", "measurements-planned-2020-2022",
    "not-happy-at-all-2017", "not-happy-at-all-2018", "lonely-sdq-normal-range-2017",
    "lonely-sdq-normal-range-2018", "lonely-often-teased-2017", "lonely-often-teased-2018")
PUBLISHED_PERIODS = ("measurements-2017-2019", "measurements-planned-2020-2022",
                     "lonely-change-2017-2018", "not-happy-at-all-2017", "not-happy-at-all-2018")


@dataclass(frozen=True)
class PublishedSurveyNumbers:
    """Chapter 6's numbers: each published figure's text and period under its glue key."""

    texts: Mapping[str, str]
    table: str = field(metadata={"glue": False})

    def headline(self) -> str:
        return self.table


def published_survey_numbers(published: Any = None) -> PublishedSurveyNumbers:
    """The survey results the annex publishes, as chapter 6 glues them (``published`` defaults
    to :func:`plusdig.data.load.load_published`)."""
    from plusdig.data.load import load_published
    from plusdig.data.report import published_period, published_table, published_text

    pub = load_published() if published is None else published
    texts = {fid.replace("-", "_"): published_text(pub, fid) for fid in PUBLISHED_VALUES}
    texts |= {"period_" + fid.replace("-", "_"): published_period(pub, fid)
              for fid in PUBLISHED_PERIODS}
    table = published_table(pub)[["figure_id", "period", "value"]].to_string(index=False)
    return PublishedSurveyNumbers(texts=texts, table=table)
