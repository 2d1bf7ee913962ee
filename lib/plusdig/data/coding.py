"""The evaluators' coding (``data/coding/``): kept apart from the transcribed facts.

Two files hold judgements, not facts:

- ``coding/conditions.yaml`` links activities (and first-year workstreams) to the Collective
  Impact conditions (vocabulary ``conditions``), each link with a rationale and a quote;
- ``coding/lessons.yaml`` links the 13 "Erfaring/gode råd" sections to lesson themes.

Every link is checked against the transcribed data: the activity or workstream must exist,
the condition must be a known code, and the quote must occur (whitespace-normalised) in that
activity's or workstream's text; a lesson's quote must occur in the activity's
"Erfaring/gode råd" section. Anything else raises :class:`~plusdig.core.errors.DataValidationError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from plusdig.core.errors import DataValidationError
from plusdig.core.paths import data_dir
from plusdig.data.cache import memoised
from plusdig.data.load import load_activities, load_first_year, load_vocabularies, section_text
from plusdig.data.models import SECTION_TITLES, ConditionCoding, LessonCoding
from plusdig.data.readers import read_yaml, validate_record

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONDITIONS_FILE",
    "LESSONS_FILE",
    "normalise",
    "load_condition_coding",
    "load_lesson_coding",
    "conditions_table",
    "conditions_matrix",
    "lessons_table",
    "lessons_matrix",
    "theme_counts",
    "condition_summary",
    "condition_evidence",
    "validate_coding",
    "check_activity_coding",
    "PERIOD_SECTIONS",
]

CONDITIONS_FILE = "coding/conditions.yaml"
LESSONS_FILE = "coding/lessons.yaml"


def normalise(text: str) -> str:
    """Collapse every run of whitespace (tabs, line breaks) to one space and strip."""
    return " ".join(text.split())


def _activity_texts(base: Path | None) -> dict[int, dict[str, str]]:
    """Activity id → section key → normalised text (plus ``'title'``)."""
    out: dict[int, dict[str, str]] = {}
    for act in load_activities(base):
        texts = {key: normalise(section_text(act, key)) for key in SECTION_TITLES}
        texts["title"] = normalise(act.title)
        out[act.id] = texts
    return out


@memoised
def load_condition_coding(base: Path | None = None) -> ConditionCoding:
    """Load and validate ``coding/conditions.yaml`` against the vocabularies and the data."""
    path = (base or data_dir()) / CONDITIONS_FILE
    coding = validate_record(ConditionCoding, read_yaml(path), path, "document")
    conditions = {e.code for e in load_vocabularies(base).conditions}
    acts = _activity_texts(base)
    streams = {w.id: normalise(" ".join([w.title, *w.points])) for w in load_first_year(base).workstreams}
    seen: set[tuple[str, str]] = set()
    for i, link in enumerate(coding.links):
        record = f"links[{i}]"
        if (link.activity is None) == (link.workstream is None):
            raise DataValidationError(path, "a link needs exactly one of 'activity' and 'workstream'",
                                      record=record, field="activity",
                                      expected="an activity id or a first-year workstream id")
        if link.condition not in conditions:
            raise DataValidationError(path, f"unknown code {link.condition!r}", record=record,
                                      field="condition",
                                      expected=f"one of {sorted(conditions)} (data/vocabularies.yaml: conditions)")
        if link.activity is not None:
            if link.activity not in acts:
                raise DataValidationError(path, f"unknown activity id {link.activity}", record=record,
                                          field="activity", expected="an id from data/activities.yaml")
            haystack, unit = " ".join(acts[link.activity].values()), f"activity {link.activity}"
        else:
            assert link.workstream is not None
            if link.workstream not in streams:
                raise DataValidationError(path, f"unknown workstream id {link.workstream!r}",
                                          record=record, field="workstream",
                                          expected=f"one of {sorted(streams)} (data/first_year.yaml)")
            haystack, unit = streams[link.workstream], f"workstream {link.workstream}"
        if normalise(link.quote) not in haystack:
            raise DataValidationError(path, f"the quote does not occur in the text of {unit}",
                                      record=record, field="quote",
                                      expected="an exact (whitespace-normalised) quote from that text")
        key = (unit, link.condition)
        if key in seen:
            raise DataValidationError(path, f"{unit} is linked to {link.condition!r} twice",
                                      record=record, field="condition",
                                      expected="one link per unit and condition")
        seen.add(key)
    return coding


@memoised
def load_lesson_coding(base: Path | None = None) -> LessonCoding:
    """Load and validate ``coding/lessons.yaml``: themes, activity ids and quotes."""
    path = (base or data_dir()) / LESSONS_FILE
    coding = validate_record(LessonCoding, read_yaml(path), path, "document")
    themes: dict[str, str] = {}
    for i, theme in enumerate(coding.themes):
        if theme.code in themes:
            raise DataValidationError(path, f"duplicate theme code {theme.code!r}",
                                      record=f"themes[{i}]", field="code", expected="a unique code")
        themes[theme.code] = theme.label
    acts = _activity_texts(base)
    seen: set[tuple[int, str]] = set()
    for i, link in enumerate(coding.links):
        record = f"links[{i}]"
        if link.theme not in themes:
            raise DataValidationError(path, f"unknown theme {link.theme!r}", record=record,
                                      field="theme", expected=f"one of {sorted(themes)} (themes)")
        if link.activity not in acts:
            raise DataValidationError(path, f"unknown activity id {link.activity}", record=record,
                                      field="activity", expected="an id from data/activities.yaml")
        if normalise(link.quote) not in acts[link.activity]["erfaring"]:
            raise DataValidationError(path, f"the quote does not occur in the 'Erfaring/gode råd' "
                                      f"section of activity {link.activity}", record=record,
                                      field="quote", expected="an exact quote from that section")
        if (link.activity, link.theme) in seen:
            raise DataValidationError(path, f"activity {link.activity} is linked to {link.theme!r} twice",
                                      record=record, field="theme",
                                      expected="one link per activity and theme")
        seen.add((link.activity, link.theme))
    return coding


# --------------------------------------------------------------------------- coding in the data files
#: Sections a period may be taken from: those that say what was done and when. A date in
#: "Hvem er med?", "Målgruppe" or "Formål" describes who takes part or why (e.g. activity 3's
#: "Der er i efteråret 2019 et korps på 20 frivillige"), not when the activity took place.
PERIOD_SECTIONS = ("beskrivelse", "resultater")
#: Danish number words the source uses for small counts ("mindst en Læsehest", "tre målinger").
NUMBER_WORDS: dict[int, tuple[str, ...]] = {
    1: ("en", "et", "én", "ét"), 2: ("to",), 3: ("tre",), 4: ("fire",), 5: ("fem",),
    6: ("seks",), 7: ("syv",), 8: ("otte",), 9: ("ni",), 10: ("ti",), 12: ("tolv",),
}
#: Words that qualify a stated count ("ca. 600", "over 110").
QUALIFIER_WORDS = ("ca.", "over", "godt", "mindst", "omkring", "cirka", "knap", "næsten")


def value_in_quote(value: float, quote: str) -> bool:
    """The count ``value`` is written in ``quote``, as digits or as a Danish number word."""
    import re

    v = int(value) if float(value).is_integer() else value
    if re.search(rf"(?<![\d,.]){re.escape(str(v))}(?!\d)", quote):
        return True
    return any(re.search(rf"(?<!\w){w}(?!\w)", quote, re.IGNORECASE)
               for w in NUMBER_WORDS.get(v, ()))  # type: ignore[call-overload]


def qualifier_in_quote(qualifier: str, quote: str) -> bool:
    """The qualifier ("ca.", "over", ...) is written in ``quote``."""
    import re

    return re.search(rf"(?<!\w){re.escape(qualifier)}(?!\w)", quote, re.IGNORECASE) is not None


def unqualified_in_quote(value: float, quote: str) -> bool:
    """True unless the value is directly preceded by a qualifier word ("ca. 600")."""
    import re

    quals = "|".join(re.escape(q) for q in QUALIFIER_WORDS)
    v = int(value) if float(value).is_integer() else value
    return re.search(rf"(?<!\w)(?:{quals})\s+{re.escape(str(v))}(?!\d)", quote,
                     re.IGNORECASE) is None

#: Month names as the source writes them (for checking that a coded month is in the quote).
_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
           "oktober", "november", "december")


@memoised
def check_activity_coding(base: Path | None = None) -> int:
    """Check the evaluators' coding fields of ``activities.yaml`` and ``first_year.yaml`` against
    the rules of ``data/coding/README.md``; return the number of coded items checked.

    - partner: its quote occurs in the activity's own "Hvem er med?" (a workstream's actor: in
      that workstream's points);
    - outcome: the result quote occurs in "Resultater"; a status other than ``no_stated_goal``
      needs a ``goal_quote`` from "Formål"; ``no_stated_goal`` is only for a "Formål" the source
      leaves empty or cuts off (a ``source_notes`` entry) and has no ``goal_quote``;
    - period: the quote occurs in "Beskrivelse" or "Resultater" (:data:`PERIOD_SECTIONS`), and
      every coded year, month and season is written in it;
    - target group: the quote occurs in "Målgruppe"; an age band only where the quote states an
      age or a grade (a digit);
    - stated count (a transcription, checked here too so that ``make validate`` and the commit
      hook catch it): the quote occurs in its section, writes the value, and writes the qualifier
      exactly when one is recorded.
    """
    import re

    path = (base or data_dir()) / "activities.yaml"
    n = 0
    for act in load_activities(base):
        record = f"activity {act.id}"
        text = {key: normalise(section_text(act, key)) for key in SECTION_TITLES}

        def require(quote: str, keys: tuple[str, ...], field: str, what: str,
                    text: dict[str, str] = text, record: str = record) -> None:
            if not any(normalise(quote) in text[k] for k in keys):
                where = " or ".join(f"'{SECTION_TITLES[k]}'" for k in keys)
                raise DataValidationError(path, f"the {what} {quote!r} does not occur in {where} of "
                                          "this activity", record=record, field=field,
                                          expected=f"an exact (whitespace-normalised) quote from {where}")

        for actor, quote in act.partners.items():
            require(quote, ("hvem_er_med",), f"partners.{actor}", "partner quote")
            n += 1
        if act.outcome:
            o = act.outcome
            require(o.quote, ("resultater",), "outcome.quote", "result quote")
            source_gap = {note.section for note in act.source_notes}
            if o.status == "no_stated_goal":
                if o.goal_quote is not None or "formaal" not in source_gap:
                    raise DataValidationError(path, "status 'no_stated_goal' is only for a 'Formål' the source "
                                              "leaves empty or cuts off, and takes no goal_quote",
                                              record=record, field="outcome.status",
                                              expected="a goal_quote from 'Formål' and a status judged against it")
            elif o.goal_quote is None:
                raise DataValidationError(path, f"status {o.status!r} has no goal to be judged against",
                                          record=record, field="outcome.goal_quote",
                                          expected="the goal, quoted from this activity's 'Formål'")
            else:
                require(o.goal_quote, ("formaal",), "outcome.goal_quote", "goal quote")
            n += 1
        if act.period:
            p = act.period
            require(p.quote, PERIOD_SECTIONS, "period.quote", "period quote")
            quote = p.quote.lower()
            stated = {int(y) for y in re.findall(r"(?<!\d)20\d\d(?!\d)", quote)}
            for a, b in re.findall(r"(?<!\d)(20\d\d)-(\d{2,4})(?!\d)", quote):
                stated |= set(range(int(a), int(b if len(b) == 4 else a[:2] + b) + 1))
            missing = [str(y) for y in p.years if y not in stated]
            missing += [_MONTHS[m - 1] for m in p.months if _MONTHS[m - 1] not in quote]
            if p.season and p.season not in quote:
                missing.append(p.season)
            if missing:
                raise DataValidationError(path, f"the period quote does not state {', '.join(missing)}",
                                          record=record, field="period",
                                          expected="only the years, months and season the quote states")
            n += 1
        for j, c in enumerate(act.counts):
            require(c.quote, (c.section,), f"counts[{j}].quote", "count quote")
            if not value_in_quote(c.value, c.quote):
                raise DataValidationError(path, f"the value {c.value:g} is not written in its quote",
                                          record=record, field=f"counts[{j}].value",
                                          expected="the number the quote states (digits or a number word)")
            if c.qualifier and not qualifier_in_quote(c.qualifier, c.quote):
                raise DataValidationError(path, f"the qualifier {c.qualifier!r} is not in the quote",
                                          record=record, field=f"counts[{j}].qualifier",
                                          expected="the qualifier the quote writes before the number")
            if not c.qualifier and not unqualified_in_quote(c.value, c.quote):
                raise DataValidationError(path, "the quote qualifies the value (e.g. 'ca.'), but no "
                                          "qualifier is recorded", record=record,
                                          field=f"counts[{j}].qualifier",
                                          expected="the quote's qualifier")
            n += 1
        for j, tg in enumerate(act.target_groups):
            require(tg.quote, ("maalgruppe",), f"target_groups[{j}].quote", "target-group quote")
            if tg.age_band and not re.search(r"\d", tg.quote):
                raise DataValidationError(path, "an age band, but the quote states no age or grade",
                                          record=record, field=f"target_groups[{j}].age_band",
                                          expected="no age_band, or a quote that states the age or grade")
            n += 1
    fy_path = (base or data_dir()) / "first_year.yaml"
    for ws in load_first_year(base).workstreams:
        points = normalise(" ".join(ws.points))
        for actor, quote in ws.actors.items():
            if normalise(quote) not in points:
                raise DataValidationError(fy_path, f"the actor quote {quote!r} does not occur in the points "
                                          "of this workstream", record=f"workstream {ws.id}",
                                          field=f"actors.{actor}", expected="an exact quote from its points")
            n += 1
    return n


# --------------------------------------------------------------------------- tables
@memoised
def conditions_table(base: Path | None = None) -> pd.DataFrame:
    """One row per coded link: unit (activity or workstream), condition, rationale, quote."""
    import pandas as pd

    from plusdig.data.load import vocab_labels

    coding = load_condition_coding(base)
    labels = vocab_labels("conditions", base)
    titles = {a.id: a.title for a in load_activities(base)}
    streams = {w.id: w.title for w in load_first_year(base).workstreams}
    rows = []
    for link in coding.links:
        is_act = link.activity is not None
        rows.append({
            "unit_kind": "activity" if is_act else "workstream",
            "activity_id": link.activity if is_act else pd.NA,
            "workstream_id": link.workstream or "",
            "unit": f"{link.activity}. {titles[link.activity]}" if is_act else
                    f"Det første år: {streams[link.workstream or '']}",
            "condition": link.condition,
            "condition_label": labels[link.condition],
            "rationale": link.rationale,
            "quote": link.quote,
        })
    frame = pd.DataFrame(rows, columns=["unit_kind", "activity_id", "workstream_id", "unit",
                                        "condition", "condition_label", "rationale", "quote"])
    frame["activity_id"] = frame["activity_id"].astype("Int64")
    return frame


@memoised
def conditions_matrix(base: Path | None = None) -> pd.DataFrame:
    """Activity × condition (0/1), every activity and condition in data order, Danish labels.

    Rows are labelled ``"<id>. <title>"``, columns by the conditions' Danish labels.
    """
    import pandas as pd

    from plusdig.data.load import vocab_labels

    links = conditions_table(base)
    links = links[links["unit_kind"] == "activity"]
    acts = load_activities(base)
    labels = vocab_labels("conditions", base)
    matrix = pd.DataFrame(0, index=[a.id for a in acts], columns=list(labels), dtype="int64")
    for aid, cond in zip(links["activity_id"], links["condition"], strict=True):
        matrix.loc[int(aid), cond] = 1
    matrix.index = [f"{a.id}. {a.title}" for a in acts]
    matrix.columns = [labels[c] for c in matrix.columns]
    return matrix


@memoised
def lessons_table(base: Path | None = None) -> pd.DataFrame:
    """One row per lesson link: activity, theme code and label, quote."""
    import pandas as pd

    coding = load_lesson_coding(base)
    labels = {t.code: t.label for t in coding.themes}
    titles = {a.id: a.title for a in load_activities(base)}
    rows = [{"activity_id": link.activity, "activity": titles[link.activity], "theme": link.theme,
             "theme_label": labels[link.theme], "quote": link.quote} for link in coding.links]
    return pd.DataFrame(rows, columns=["activity_id", "activity", "theme", "theme_label", "quote"])


@memoised
def lessons_matrix(base: Path | None = None) -> pd.DataFrame:
    """Theme × activity (0/1): themes in file order (Danish labels), every activity id as column."""
    import pandas as pd

    coding = load_lesson_coding(base)
    ids = [a.id for a in load_activities(base)]
    matrix = pd.DataFrame(0, index=[t.code for t in coding.themes], columns=ids, dtype="int64")
    for link in coding.links:
        matrix.loc[link.theme, link.activity] = 1
    matrix.index = [t.label for t in coding.themes]
    return matrix


def theme_counts(base: Path | None = None) -> pd.DataFrame:
    """Per theme: number of activities whose lessons touch it, most frequent first."""
    matrix = lessons_matrix(base)
    counts = matrix.sum(axis=1).rename("n_activities").rename_axis("theme_label").reset_index()
    return counts.sort_values("n_activities", ascending=False, kind="stable").reset_index(drop=True)


def validate_coding(base: Path | None = None) -> dict[str, int]:
    """Validate every coding file present; return the number of links per file."""
    root = base or data_dir()
    check_activity_coding(base)
    result: dict[str, int] = {}
    if (root / CONDITIONS_FILE).is_file():
        result[CONDITIONS_FILE] = len(load_condition_coding(base).links)
    if (root / LESSONS_FILE).is_file():
        result[LESSONS_FILE] = len(load_lesson_coding(base).links)
    return result


def condition_summary(base: Path | None = None) -> pd.DataFrame:
    """Per condition (vocabulary order): how many activities and workstreams are linked, and which.

    Columns: ``condition``, ``label``, ``n_activities``, ``n_workstreams``, ``activities`` (the
    activity numbers as a Danish list, '' if none).
    """
    import pandas as pd

    from plusdig.data.load import vocab_labels
    from plusdig.data.report import danish_list

    table = conditions_table(base)
    rows = []
    for code, label in vocab_labels("conditions", base).items():
        mine = table[table["condition"] == code]
        ids = sorted(int(a) for a in mine["activity_id"].dropna())
        rows.append({"condition": code, "label": label, "n_activities": len(ids),
                     "n_workstreams": int((mine["unit_kind"] == "workstream").sum()),
                     "activities": danish_list([str(i) for i in ids])})
    return pd.DataFrame(rows, columns=["condition", "label", "n_activities", "n_workstreams", "activities"])


def condition_evidence(condition: str, base: Path | None = None) -> pd.DataFrame:
    """The coded links of one condition: unit, rationale and quote (workstreams first)."""
    from plusdig.core.errors import DataValidationError

    table = conditions_table(base)
    if condition not in set(table["condition"]):
        from plusdig.data.load import vocab_labels

        if condition not in vocab_labels("conditions", base):
            raise DataValidationError(CONDITIONS_FILE, f"unknown condition {condition!r}",
                                      field="condition", expected="a code of data/vocabularies.yaml: conditions")
    mine = table[table["condition"] == condition].copy()
    mine["_order"] = (mine["unit_kind"] == "activity").astype(int)
    mine = mine.sort_values(["_order", "activity_id"], kind="stable")
    return mine[["unit", "rationale", "quote"]].reset_index(drop=True)
