"""What the survey pages let a reader work out: their tables read back from the HTML, and
the linear model of every count a reader can derive from them (:mod:`plusdig.sphinx.audit`
solves it).
"""


from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plusdig.survey.disclosure import SUPPRESSED
from plusdig.survey.linked import LinearModel

if TYPE_CHECKING:
    pass

__all__ = ["Table", "as_long", "read_tables", "attacker_model"]

L, NL = "Ensomme", "Ikke ensomme"
_HAPPY = "Glad for livet"


@dataclass
class Table:
    """One printed table: its caption, its header and the text of every cell."""

    caption: str
    header: list[str]
    rows: list[dict[str, str]]



# --------------------------------------------------------------------------- reading
def _text(node: Any) -> str:
    return " ".join(node.get_text(" ").split())


def as_long(t: Table) -> Table:
    """A wide table (groups × years, :func:`plusdig.present.tables.wide_by_year`) as the long
    table it was made from, every cell in its row and column; any other table as it is."""
    from plusdig.present.tables import long_rows

    long = long_rows(t.header, t.rows)
    return t if long is None else Table(t.caption, *long)


def read_tables(html: str) -> tuple[list[Table], str]:
    """Every table of a page (caption, header, cells as text) and the page's prose text."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup
    tables = []
    for node in main.find_all("table"):
        caption = node.find("caption")
        head = node.find("thead")
        if head is None:
            continue
        header = [_text(th) for th in head.find_all("th")]
        rows = []
        for tr in (node.find("tbody") or node).find_all("tr"):
            cells = [_text(td) for td in tr.find_all(["td", "th"])]
            if len(cells) == len(header):
                rows.append(dict(zip(header, cells, strict=True)))
        tables.append(Table(_text(caption) if caption else "", header, rows))
    for node in main.find_all("table"):
        node.decompose()
    return tables, _text(main)


def _count(text: str) -> int | None:
    """A printed count ("1.102"), or None for the suppression marker and anything else."""
    text = text.strip()
    if re.fullmatch(r"\d{1,3}(\.\d{3})*", text):
        return int(text.replace(".", ""))
    return None


def _share(text: str) -> tuple[float, float] | None:
    """The interval a printed share ("21,0 %", "6,0 % [4,7; 7,5]") rounds from."""
    m = re.match(r"^(\d+)(?:,(\d+))? %", text.strip())
    if not m:
        return None
    decimals = len(m.group(2) or "")
    value = float(f"{m.group(1)}.{m.group(2) or 0}") / 100
    half = 0.5 * 10 ** -(decimals + 2) + 1e-9
    return max(0.0, value - half), min(1.0, value + half)


# --------------------------------------------------------------------------- the reader's model
class _Reader:
    """Builds the linear model from the printed tables, as a reader would."""

    def __init__(self) -> None:
        self.model = LinearModel()
        self.hidden: dict[Any, str] = {}  # hidden count -> where it is first hidden
        self.relations: list[tuple[Any, list[Any]]] = []
        self.shares: list[tuple[Any, Any, float, float]] = []
        self.printed: set[Any] = set()
        self.conflicts: list[str] = []
        self.pooled: list[tuple[Table, dict[str, str]]] = []  # read when every table is
        self.happy: list[tuple[str, str]] = []  # (year, happiness level) of the comparison

    def count(self, key: Any, text: str, where: str) -> None:
        """A printed count cell: known when a number, hidden when the marker."""
        value = _count(text)
        self.model.label(key, where)
        if value is not None:
            if key in self.model.known and self.model.known[key] != value:
                raise ValueError(f"{where}: the same number is printed as two values")
            self.model.known[key] = float(value)
            self.printed.add(key)
        elif text.strip() == SUPPRESSED:
            self.hidden.setdefault(key, where)
        if key in self.hidden and key in self.printed and self.hidden[key] not in self.conflicts:
            self.conflicts.append(self.hidden[key])  # hidden there, printed elsewhere

    def share(self, num: Any, den: Any, text: str, where: str) -> None:
        """A printed share num/den: lo*den <= num <= hi*den."""
        self.model.label(num, where)
        bounds = _share(text)
        if bounds is None:
            return
        lo, hi = bounds
        self.model.label(den, f"nævneren for {where}")
        self.shares.append((num, den, lo, hi))

    def relate(self, total: Any, parts: list[Any], where: str) -> None:
        self.model.label(total, where)
        self.relations.append((total, parts))

    def finish(self) -> LinearModel:
        """Write the relations (known numbers substituted) and the groups to check."""
        m = self.model
        for total, parts in self.relations:
            m.equal({total: -1.0, **{p: 1.0 for p in parts}})
            if total in m.known:
                m.group(f"{m.labels.get(parts[0], parts[0])} og de øvrige skjulte dele af "
                        f"{m.labels.get(total, total)}", parts)
        for num, den, lo, hi in self.shares:
            m.at_most({num: 1.0, den: -hi})
            m.at_most({num: -1.0, den: lo})
        return m


def attacker_model(tables: list[Table], prose: str) -> tuple[LinearModel, list[str]]:
    """The linear model of everything the page publishes, and the problems found on the way:
    cells hidden in one place but printed in another (each such hiding protects nothing) and
    tables the audit does not recognise (it cannot clear what it cannot read)."""
    r = _Reader()
    years: set[str] = set()
    readers = [("Besvarelser og svarprocent", _response),
               ("Svar på spørgsmålet om ensomhed", _levels),
               ("Andel, der svarer ja til ensomhed", _prevalence),
               ("Forskellen mellem ensomme og ikke-ensomme børn", _effects),
               ("Ensomme og ikke-ensomme børn", _comparison),
               ("Hvor glad er du for dit liv", _happiness),
               ("Udvikling i nøgletal", _trend),
               ("offentliggjorte tal fra trivselsmålingen genberegnet", _check),
               ("Sekundære sammenligninger", _effects),
               ("Skolerne samlet over alle målinger", _pooled),
               ("Den nationale trivselsmåling", _external),
               ("Manglende svar pr. spørgsmål", _items),
               ("Vægtede andele", _weighted),
               ("Designeffekt for de primære nøgletal", _design_effect),
               ("Ændringer med klyngerobuste intervaller", _design_change)]
    for t in map(as_long, tables):  # recognised by its caption, as a reader recognises it
        for phrase, read in readers:
            if phrase in t.caption:
                read(r, t, years)
                break
        else:  # a survey table the audit cannot read is a table it cannot clear
            r.conflicts.append(f"tabellen «{_title(t)}»: ukendt tabel, som revisionen ikke "
                               "kan læse")
    _pooled_relations(r)
    _prose(r, prose, sorted(years))
    for y, lv in r.happy:  # a level's answers: the two bins' and those without a loneliness
        # answer (none when the appendix prints that every form answers that question)
        bins = (L, NL) if r.model.known.get(("missing", _LONELY, y)) == 0 else (L, NL, "?")
        if "?" in bins:  # those without a loneliness answer: answers, so sensitive, as the
            # registry has them (plusdig.survey.registry), audited like any other cell, unless
            # the page proves there is nobody who answered this but not the loneliness question
            key, only = ("measure", _HAPPY, y, "?", lv), ("only", _HAPPY, y)
            r.model.label(key, f"{y}, uden svar om ensomhed: «{lv}» for livet")
            r.model.group_of[key] = only
        r.relate(("happy", y, lv), [("measure", _HAPPY, y, b, lv) for b in bins],
                 f"{y}: «{lv}» for livet")
    for y in {y for y, _lv in r.happy}:  # the forms answering happiness but not loneliness
        only = [("measure", _HAPPY, y, "?", lv) for yy, lv in r.happy if yy == y]
        if only[0] in r.model.group_of:
            r.model.insensitive.add(("only", _HAPPY, y))
            r.relate(("only", _HAPPY, y), only, f"{y}: svar om «{_HAPPY}», men ikke om ensomhed")
    for y in years:  # the same pupils: completed forms answer a question or leave it empty
        r.relate(_n(_LONELY, y), [("lonely", y), ("notlonely", y)], f"{y}: svar om ensomhed")
        asked = {key[1] for key in r.model.labels if isinstance(key, tuple) and len(key) == 3
                 and key[0] == "answered" and key[2] == y}
        for q in asked | {_LONELY, _HAPPY}:
            r.relate(("completed", y), [_n(q, y), _gap(r, q, y)], f"{y}: gennemførte skemaer")
    return r.finish(), r.conflicts


_LONELY = "Ensomhed"


def _n(question: str, year: str, group: str | None = None) -> tuple:
    """The forms that answer ``question`` (of the lonely bin ``group``, if given)."""
    return ("answered", question, year) + ((group,) if group else ())


def _gap(r: _Reader, question: str, year: str, group: str | None = None) -> tuple:
    """The forms without an answer to ``question``: no answer, so never a leak itself."""
    key = ("missing", question, year) + ((group,) if group else ())
    r.model.insensitive.add(key)
    r.model.label(key, f"{year}: uden svar på «{question}»" + (f" ({group})" if group else ""))
    return key


def _items(r: _Reader, t: Table, years: set[str]) -> None:
    """The appendix's item non-response table: per question and year, answered and without."""
    for row in t.rows:  # read in its long form (as_long): question, year, the two counts
        q, y = row["Spørgsmål"], row["År"]
        years.add(y)
        for column, key in (("besvaret", _n(q, y)), ("uden svar", _gap(r, q, y))):
            r.count(key, row.get(column, "").split(" (")[0], _where(t, f"{q}, {y}", column))


def _title(t: Table) -> str:
    """The table's caption without the synthetic label and the footnote, shortened."""
    return t.caption.split(" · ")[-1].split(" »–«")[0][:70]


def _where(t: Table, row: str, column: str) -> str:
    return f"tabellen «{_title(t)}», {row}, kolonnen «{column}»"


def _response(r: _Reader, t: Table, years: set[str]) -> None:
    for row in t.rows:
        y = row["År"]
        years.add(y)
        for column, key in (("Besvarede", "answered"), ("Gennemførte", "completed"),
                            ("Udeladt (ufuldstændige)", "excluded")):
            r.count((key, y), row.get(column, ""), _where(t, y, column))
        invited = _count(row.get("Inviterede", ""))
        if invited is not None:
            r.model.known[("invited", y)] = float(invited)
            for column, key in (("Svarprocent (besvarede)", "answered"),
                                ("Svarprocent (gennemførte)", "completed")):
                r.share((key, y), ("invited", y), row.get(column, ""), _where(t, y, column))
        r.relate(("answered", y), [("completed", y), ("excluded", y)], _where(t, y, "Besvarede"))


def _levels(r: _Reader, t: Table, years: set[str]) -> None:
    keys = {"»ofte«": "often", "»nogle gange«": "sometimes", "»nej«": "notlonely"}
    for row in t.rows:
        y = row["År"]
        years.add(y)
        r.count(_n(_LONELY, y), row["Besvarelser"], _where(t, y, "Besvarelser"))
        for column, key in keys.items():
            r.share((key, y), _n(_LONELY, y), row.get(column, ""), _where(t, y, column))
        r.relate(("lonely", y), [("often", y), ("sometimes", y)], f"{y}: ensomme")


def _prevalence(r: _Reader, t: Table, years: set[str]) -> None:
    # the breakdown's column; the worst/best-case bounds are functions of printed counts
    if "Antal svar" in t.header:  # the wide reader table's name for the completed forms
        t = Table(t.caption, [h if h != "Antal svar" else "Besvarelser" for h in t.header],
                  [{(k if k != "Antal svar" else "Besvarelser"): v for k, v in row.items()}
                   for row in t.rows])
    dim = next((h for h in t.header if h not in {"År", "Besvarelser", "Ensomme",
                                                 "Andel ensomme", "95 %-konfidensinterval"}
                and not h.startswith("Grænser for frafald")), None)
    groups: dict[str, list[str]] = {}
    for row in t.rows:
        y = row["År"]
        years.add(y)
        g = row[dim] if dim else "I alt"
        if g == "I alt":
            n_key, l_key = _n(_LONELY, y), ("lonely", y)
        else:
            n_key, l_key = ("group", dim, y, g, "n"), ("group", dim, y, g, L)
            nl_key = ("group", dim, y, g, NL)
            groups.setdefault(y, []).append(g)
            r.model.label(nl_key, f"{_where(t, f'{y}, «{g}»', 'Besvarelser')} minus ensomme")
            r.relate(n_key, [l_key, nl_key], _where(t, f"{y}, «{g}»", "Besvarelser"))
        where = f"{y}, «{g}»"
        r.count(n_key, row["Besvarelser"], _where(t, where, "Besvarelser"))
        r.count(l_key, row.get("Ensomme", ""), _where(t, where, "Ensomme"))
        r.share(l_key, n_key, row["Andel ensomme"], _where(t, where, "Andel ensomme"))
    for y, names in groups.items():
        for part, total in (("n", _n(_LONELY, y)), (L, ("lonely", y)),
                            (NL, ("notlonely", y))):
            r.relate(total, [("group", dim, y, g, part) for g in names],
                     _where(t, f"{y}, «I alt»", part))


def _pooled(r: _Reader, t: Table, _years: set[str]) -> None:
    """The funnel's table (:mod:`plusdig.survey.funnel`): per school its forms and its lonely
    pupils over all years, related to the school's year cells once every table is read."""
    r.pooled += [(t, row) for row in t.rows]


def _pooled_relations(r: _Reader) -> None:
    """A school's pooled count is the sum of its year counts in the school table (the same
    for its lonely pupils), and its printed share bounds the pooled lonely count."""
    for t, row in r.pooled:
        g = row["Skole"]
        years = sorted({key[2] for key in r.model.labels
                        if isinstance(key, tuple) and len(key) == 5 and key[:2] == ("group", "Skole")
                        and key[3] == g})
        if not years:
            r.conflicts.append(f"{_where(t, g, 'Skole')}: skolen står ikke i skoletabellen "
                               "(ukendt tabel, som revisionen ikke kan læse)")
            continue
        n_key, l_key = ("pooled", g, "n"), ("pooled", g, L)
        where = _where(t, f"«{g}»", "Besvarelser i alt")
        r.count(n_key, row.get("Besvarelser i alt", ""), where)
        r.relate(n_key, [("group", "Skole", y, g, "n") for y in years], where)
        r.relate(l_key, [("group", "Skole", y, g, L) for y in years],
                 _where(t, f"«{g}»", "Andel ensomme"))
        r.share(l_key, n_key, row.get("Andel ensomme", ""), _where(t, f"«{g}»", "Andel ensomme"))


def _question(label: str) -> tuple[str, str]:
    """("Bliver drillet", "ofte") for "Bliver drillet: ofte"; a yes/no question gets "ja"."""
    if ": " in label:
        q, level = label.split(": ", 1)
        return q, level
    return label, "ja"


def _comparison(r: _Reader, t: Table, years: set[str]) -> None:
    levels: dict[tuple[str, str], list[str]] = {}
    for row in t.rows:
        y, (q, level) = row["År"], _question(row["Mål"])
        years.add(y)
        levels.setdefault((q, y), []).append(level)
        counts = row.get("Besvarelser (ensomme / ikke ensomme)", "").split(" / ")
        for i, b in enumerate((L, NL)):
            where = _where(t, f"{row['Mål']}, {y}", b)
            if len(counts) == 2:
                r.count(_n(q, y, b), counts[i], f"{where}: besvarelser")
            r.share(("measure", q, y, b, level), _n(q, y, b), row[b], where)
    for (q, y), lvls in levels.items():
        for b, total in ((L, "lonely"), (NL, "notlonely")):
            parts = [("measure", q, y, b, lv) for lv in lvls]
            if len(lvls) == 1:  # a yes/no question: the «nej» answers are the rest
                parts.append(("measure", q, y, b, "nej"))
                r.model.label(parts[-1], f"{b.lower()}, {y}: svarer nej til «{q}»")
            # shares of the bin's forms that answer the question; the others left it empty
            r.relate(_n(q, y, b), parts, f"{b.lower()}, {y}: har svaret på «{q}»")
            r.relate((total, y), [_n(q, y, b), _gap(r, q, y, b)], f"{b.lower()}, {y}: «{q}»")
        # the forms that answer the question: the two bins' and those without a loneliness answer
        only = _gap(r, q, y, "uden svar om ensomhed")
        r.relate(_n(q, y), [_n(q, y, L), _n(q, y, NL), only], f"{y}: har svaret på «{q}»")
        both = _gap(r, q, y, "og uden svar om ensomhed")
        r.relate(_gap(r, _LONELY, y), [only, both], f"{y}: uden svar om ensomhed")
        r.relate(_gap(r, q, y), [_gap(r, q, y, L), _gap(r, q, y, NL), both], f"{y}: «{q}»")
        if q == _HAPPY:
            r.happy.extend((y, lv) for lv in lvls)


def _happiness(r: _Reader, t: Table, years: set[str]) -> None:
    for row in t.rows:
        y = row["År"]
        years.add(y)
        lvls = []
        for column in t.header[1:]:
            lv = column.strip("«»")
            lvls.append(lv)
            text = row[column]
            where = _where(t, y, column)
            r.count(("happy", y, lv), text.split(" (")[0], where)
            if "(" in text:
                r.share(("happy", y, lv), _n(_HAPPY, y), text.split("(", 1)[1], where)
        r.relate(_n(_HAPPY, y), [("happy", y, lv) for lv in lvls], f"{y}: svar om livet")


#: Trend rows: label -> (numerator, denominator) as functions of the year.
_TREND = {
    "Svarer ja til ensomhed": lambda y: (("lonely", y), _n(_LONELY, y)),
    "Ensomme børn i SDQ's normalområde": lambda y: (
        ("measure", "SDQ", y, L, "Normalområdet (0–15)"), _n("SDQ", y, L)),
    "Ensomme børn, der ofte bliver drillet": lambda y: (
        ("measure", "Bliver drillet", y, L, "ofte"), _n("Bliver drillet", y, L)),
    "Svarer »slet ikke glad« for livet": lambda y: (("happy", y, "slet ikke glad"),
                                                    _n(_HAPPY, y)),
    "Ensomme i SDQ's normalområde, pr. 100 elever": lambda y: (
        ("measure", "SDQ", y, L, "Normalområdet (0–15)"), _n(_LONELY, y)),
    "Ensomme, der ofte bliver drillet, pr. 100 elever": lambda y: (
        ("measure", "Bliver drillet", y, L, "ofte"), _n(_LONELY, y)),
}


def _trend(r: _Reader, t: Table, years: set[str]) -> None:
    for row in t.rows:
        keys = _TREND.get(row["Indikator"])
        for column in t.header[1:]:
            if keys and re.fullmatch(r"\d{4}", column):
                num, den = keys(column)
                r.share(num, den, row[column], _where(t, row["Indikator"], column))


def _effects(_r: _Reader, _t: Table, _years: set[str]) -> None:
    """Effect sizes (odds ratios, differences) with intervals and p-values: computed from the
    shares the page's other tables print (not modelled, like every interval); they print no
    count and no share of their own. Chapter 7's differences between lonely and not lonely
    children (their own table, beside the shares' table) are read the same way."""


def _weighted(_r: _Reader, _t: Table, _years: set[str]) -> None:
    """The methods appendix's post-stratified shares per year (:mod:`plusdig.survey.weights`):
    the unweighted share is the chapter's (trend table), the weighted one a ratio of the weighting
    cells' invited counts (never published), so not a linear function of any printed cell:
    nothing to model. They print no count."""


def _design_effect(r: _Reader, t: Table, _years: set[str]) -> None:
    """The linked design's design effects (:mod:`plusdig.survey.design`): per year the number
    of classes (a count in no relation); a design effect is a ratio of two variances over
    classes never shown, not a linear function of any count."""
    for row in t.rows:
        y = row["År"]
        r.count(("classes", y), row.get("Klasser", ""), _where(t, y, "Klasser"))


def _design_change(r: _Reader, t: Table, _years: set[str]) -> None:
    """The changes on the same pupils (:mod:`plusdig.survey.design`): per pair the linked
    pupils and the lonely among them in each year. The linked pupils are part of the year's
    lonely / not lonely pupils (of the grade's, for a cohort), the rest are the others; the
    models' estimates are not linear in any count, and the independent-samples interval is a
    function of printed counts."""
    for row in t.rows:
        pair = row["Sammenligning"]
        if "Samme elever" not in row:
            continue  # no pupil key: the changes use the chapter's own counts
        years = re.findall(r"\d{4}", pair)
        grades = re.findall(r"(\d+)\. klasse", pair)
        n_key = ("link", pair, "n")
        r.count(n_key, row["Samme elever"], _where(t, pair, "Samme elever"))
        for i, (y, column) in enumerate(zip(years, ("Ensomme, første måling",
                                                     "Ensomme, anden måling"),
                                             strict=False)):
            lonely, other = ("link", pair, y, L), ("link", pair, y, NL)
            r.count(lonely, row.get(column, ""), _where(t, pair, column))
            r.model.label(other, f"{_where(t, pair, 'Samme elever')} minus ensomme ({y})")
            r.relate(n_key, [lonely, other], _where(t, pair, "Samme elever"))
            base = ((("group", "Klassetrin", y, grades[i], L),
                     ("group", "Klassetrin", y, grades[i], NL)) if len(grades) == 2
                    else (("lonely", y), ("notlonely", y)))
            for total, part, b in ((base[0], lonely, L), (base[1], other, NL)):
                rest = ("link_rest", pair, y, b)
                r.model.label(rest, f"{y}: {b.lower()}, der ikke er med i «{pair}»")
                r.relate(total, [part, rest], _where(t, pair, column))


def _external(_r: _Reader, _t: Table, _years: set[str]) -> None:
    """The benchmark (:mod:`plusdig.survey.benchmark`): published shares of the national survey
    (aggregates from outside, not this survey's respondents) beside the book's own shares,
    which its other tables print already: nothing to model."""


def _check(r: _Reader, t: Table, _years: set[str]) -> None:
    """The recomputed counts of the published-figures check (per year of the period)."""
    for row in t.rows:
        label, period = row["Offentliggjort tal"], row["År"]
        if "Medvirkende børn" in label:
            key = "completed"
        elif "slet ikke glad" in label:
            key = "happy"
        else:
            continue
        span = [int(x) for x in re.findall(r"\d{4}", period)]
        years = list(range(span[0], span[-1] + 1)) if span else []
        values = row["Genberegnet"].split(" / ")
        for y, text in zip(years, values, strict=False):
            k = ("completed", str(y)) if key == "completed" else ("happy", str(y),
                                                                   "slet ikke glad")
            r.count(k, text, _where(t, f"{label}, {y}", "Genberegnet"))


def _prose(r: _Reader, prose: str, years: list[str]) -> None:
    """Numbers glued into the text that bound or sum table cells."""
    m = re.search(r"Pr\. måling er der (\S+) gennemførte besvarelser", prose)
    if m and m.group(1) != SUPPRESSED:
        bounds = [_count(x) for x in m.group(1).split("–")]
        if all(b is not None for b in bounds):
            for y in years:
                r.model.at_most({("completed", y): 1.0}, float(bounds[-1]))
                r.model.at_most({("completed", y): -1.0}, -float(bounds[0]))
    m = re.search(r"i alt er (\S+) skemaer udeladt", prose)
    if m and _count(m.group(1)) is not None:
        r.model.known[("excluded", "alle")] = float(_count(m.group(1)))
        r.relate(("excluded", "alle"), [("excluded", y) for y in years],
                 "teksten: udeladte skemaer i alt")


