"""Schemas of the book's data files, as pydantic models (the one validation tool we use).

The models describe one record each; cross-record rules (unique ids, known actor ids,
known vocabulary codes) are checked by :mod:`plusdig.data.load`, which also turns pydantic's
errors into :class:`plusdig.core.errors.DataValidationError` messages naming file, record and field.
Transcribed facts (activities, first year, actors, published survey figures) and the
evaluators' coding (``data/coding/``) have separate models so the two are never mixed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]

SectionKey = Literal["beskrivelse", "formaal", "maalgruppe", "hvem_er_med", "resultater", "erfaring"]

#: The six sections of an activity, in the annex's order, with their Danish headings.
SECTION_TITLES: dict[str, str] = {
    "beskrivelse": "Beskrivelse",
    "formaal": "Formål",
    "maalgruppe": "Målgruppe",
    "hvem_er_med": "Hvem er med?",
    "resultater": "Resultater",
    "erfaring": "Erfaring/gode råd",
}


class _Strict(BaseModel):
    """Base of every record: unknown fields are errors, and no value is converted to the
    field's type (``'2017'``, ``2017.0`` and ``true`` are not the integer 2017 or 1; ``2017``
    is not the text ``'2017'``). CSV loaders parse their numbers explicitly first."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BulletList(_Strict):
    """A bulleted list as in the source (• items)."""

    bullets: list[NonEmptyStr] = Field(min_length=1)


class NumberedList(_Strict):
    """A numbered list as in the source (1., 2., ...)."""

    numbered: list[NonEmptyStr] = Field(min_length=1)


#: A block of a section: a paragraph (plain string) or a list.
Block = NonEmptyStr | BulletList | NumberedList


class Sections(_Strict):
    """The six sections of an activity. An empty list means the source has no text there."""

    beskrivelse: list[Block]
    formaal: list[Block]
    maalgruppe: list[Block]
    hvem_er_med: list[Block]
    resultater: list[Block]
    erfaring: list[Block]


class Period(_Strict):
    """When the source says the activity took place. Only what the text states."""

    years: list[Annotated[int, Field(ge=2015, le=2035)]] = []
    months: list[Annotated[int, Field(ge=1, le=12)]] = []
    season: Literal["forår", "efterår"] | None = None
    quote: NonEmptyStr


class TargetGroup(_Strict):
    """One target group: a kind (vocabulary ``target_kinds``) and an optional age band."""

    kind: NonEmptyStr
    age_band: NonEmptyStr | None = None
    quote: NonEmptyStr


class StatedCount(_Strict):
    """A number stated in the source: what is counted, the value, and its qualifier."""

    what: NonEmptyStr
    value: Annotated[int, Field(ge=0)]
    qualifier: NonEmptyStr | None = None
    section: SectionKey
    quote: NonEmptyStr


class Outcome(_Strict):
    """The evaluators' reading of a stated result against the stated goal (data/coding/README.md).

    ``goal_quote`` is the goal from "Formål" the result is judged against (none when the source
    states no full goal); ``quote`` is the result from "Resultater".
    """

    status: NonEmptyStr
    summary: NonEmptyStr
    goal_quote: NonEmptyStr | None = None
    quote: NonEmptyStr


class SourceNote(_Strict):
    """A defect of the source kept as is (a truncated or empty section)."""

    section: SectionKey
    issue: Literal["truncated", "empty"]
    note: NonEmptyStr


class Activity(_Strict):
    """One activity of the annex (``data/activities.yaml``)."""

    id: Annotated[int, Field(ge=1)]
    slug: Slug
    title: NonEmptyStr
    title_source: NonEmptyStr
    track: NonEmptyStr | None = None
    period: Period | None = None
    sections: Sections
    links: list[Url] = []
    target_groups: list[TargetGroup] = []
    counts: list[StatedCount] = []
    #: actor id (data/actors.csv) -> the words of "Hvem er med?" that name it (data/coding/README.md)
    partners: dict[Slug, NonEmptyStr] = {}
    outcome: Outcome | None = None
    source_notes: list[SourceNote] = []


class Workstream(_Strict):
    """One workstream of the first year (``data/first_year.yaml``)."""

    id: Slug
    order: Annotated[int, Field(ge=1)]
    title: NonEmptyStr
    points: list[NonEmptyStr] = Field(min_length=1)
    #: actor id (data/actors.csv) -> the words of the workstream's points that name it
    actors: dict[Slug, NonEmptyStr] = {}
    counts: list[StatedCount] = []


class FirstYear(_Strict):
    """The annex's front matter and its "Det første år" section."""

    forord: list[NonEmptyStr] = Field(min_length=1)
    laesevejledning: list[NonEmptyStr] = Field(min_length=1)
    intro: list[NonEmptyStr] = Field(min_length=1)
    workstreams: list[Workstream] = Field(min_length=1)


class Actor(_Strict):
    """One row of ``data/actors.csv``. ``sector`` is the evaluators' classification."""

    id: Slug
    name: NonEmptyStr
    sector: NonEmptyStr
    note: str = ""


class PublishedFigure(_Strict):
    """One row of ``data/survey/published.csv``: a figure VIVE/+DIG published.

    ``value`` is empty when the source gives only a direction (``direction``).
    """

    figure_id: Slug
    indicator: Slug
    label: NonEmptyStr
    year_start: Annotated[int, Field(ge=2015, le=2035)] | None = None
    year_end: Annotated[int, Field(ge=2015, le=2035)] | None = None
    value: Annotated[float, Field(ge=0)] | None = None
    unit: Literal["antal", "procent", "spørgsmål", "klassetrin", "målinger"]
    qualifier: NonEmptyStr | None = None
    direction: Literal["fald", "stigning"] | None = None
    population: NonEmptyStr
    quote: NonEmptyStr


class VocabEntry(_Strict):
    code: NonEmptyStr
    label: NonEmptyStr
    min_age: Annotated[int, Field(ge=0, le=30)] | None = None
    max_age: Annotated[int, Field(ge=0, le=30)] | None = None


class Vocabularies(_Strict):
    """``data/vocabularies.yaml``: the controlled vocabularies."""

    target_kinds: list[VocabEntry] = Field(min_length=1)
    age_bands: list[VocabEntry] = Field(min_length=1)
    sectors: list[VocabEntry] = Field(min_length=1)
    count_qualifiers: list[VocabEntry] = Field(min_length=1)
    outcome_statuses: list[VocabEntry] = Field(min_length=1)
    conditions: list[VocabEntry] = Field(min_length=1)


# --------------------------------------------------------------------------- evaluators' coding
class ConditionLink(_Strict):
    """One link of ``data/coding/conditions.yaml``: an activity (or a first-year workstream)
    contributes to a Collective Impact condition. Evaluators' judgement, with its evidence."""

    activity: Annotated[int, Field(ge=1)] | None = None
    workstream: Slug | None = None
    condition: NonEmptyStr
    rationale: NonEmptyStr
    quote: NonEmptyStr


class ConditionCoding(_Strict):
    """``data/coding/conditions.yaml``: who judged, how, and the links."""

    judged_by: NonEmptyStr
    method: NonEmptyStr
    links: list[ConditionLink] = Field(min_length=1)


class LessonTheme(_Strict):
    """A theme of the lessons ("Erfaring/gode råd") synthesis."""

    code: Slug
    label: NonEmptyStr
    description: NonEmptyStr


class LessonLink(_Strict):
    """One link of ``data/coding/lessons.yaml``: an activity's lesson touches a theme."""

    activity: Annotated[int, Field(ge=1)]
    theme: Slug
    quote: NonEmptyStr


class LessonCoding(_Strict):
    """``data/coding/lessons.yaml``: the themes, and which activities' lessons touch them."""

    judged_by: NonEmptyStr
    method: NonEmptyStr
    themes: list[LessonTheme] = Field(min_length=1)
    links: list[LessonLink] = Field(min_length=1)
