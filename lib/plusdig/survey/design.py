"""The linked design (issue 19): design effects and cluster-robust changes, when a delivery has
``class_id`` and/or ``pupil_key`` (the validated frame's ``class`` / ``pupil`` codes).

* :func:`design_tables` makes the chapter's two tables from the protected registry (the
  counts: :mod:`plusdig.survey.pairs`) and the frame (the models: :mod:`plusdig.survey.inference`):
  the design effect of each primary indicator per year with its interval and the number of
  classes (``class`` only), and the changes between measurements as risk differences and odds
  ratios from a GEE model with cluster-robust intervals, beside the independent-samples
  interval on the same forms and the ratio of the two widths.
* :func:`design_section` is the chapter's section: nothing without the columns (the appendix
  states the assumption then), else a lead paragraph and the tables.
* :func:`survey_design_status` is the appendix's two sentences on classes and linking.

No class or pupil is ever shown: the tables hold one row per indicator and year or per pair of
measurements, and a model is shown only when the counts it compares may be shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plusdig.survey import inference as inf
from plusdig.survey.contract import _LONELY_BIN, lonely_mask
from plusdig.survey.pairs import Pair, linked_rows, pairs
from plusdig.survey.result import SurveyTable, _cell, _num, pp_interval, ratio_interval

if TYPE_CHECKING:
    import pandas as pd

    from plusdig.survey.disclosure import Registry

__all__ = ["design_tables", "design_section", "DesignStatus", "survey_design_status",
           "DEFF_CAPTION", "CHANGE_CAPTION"]

L, NL = _LONELY_BIN
DEFF_CAPTION = "Designeffekt for de primære nøgletal (klasser)"
CHANGE_CAPTION = "Ændringer med klyngerobuste intervaller"
#: Resamples of whole classes for a design effect's interval.
REPS = 300


def _indicator_rows(known: pd.DataFrame, done: pd.DataFrame) -> dict[str, Any]:
    """Per primary indicator: (the forms it is a share of, its 0/1 outcome per form)."""
    lonely = known[lonely_mask(known)]
    sdq = lonely[lonely["sdq_band"] != "missing"]
    teased = lonely[lonely["teased"].notna()]
    happy = done[done["happiness"].notna()]
    return {"lonely": (known, lonely_mask(known)),
            "lonely_sdq_normal": (sdq, sdq["sdq_band"] == "normal"),
            "lonely_teased_often": (teased, teased["teased"] == "ofte"),
            "not_happy_at_all": (happy, happy["happiness"] == "slet ikke glad")}


def _shown_keys(indicator: str, y: int) -> tuple[Any, ...]:
    """The registry cells a primary indicator's share in year ``y`` is drawn from."""
    return {"lonely": (("bin", y, L), ("item", "lonely", y, "answered")),
            "lonely_sdq_normal": (("measure", "sdq_band", y, L, "normal"),
                                  ("measure_n", "sdq_band", y, L)),
            "lonely_teased_often": (("measure", "teased", y, L, "ofte"),
                                    ("measure_n", "teased", y, L)),
            "not_happy_at_all": (("happiness", y, "slet ikke glad"),
                                 ("item", "happiness", y, "answered"))}[indicator]


def _deff_table(reg: Registry, known: pd.DataFrame, done: pd.DataFrame, labels: dict[str, str],
                syn: bool) -> SurveyTable:
    import pandas as pd

    rows_v, rows_d = [], []
    years = sorted(int(y) for y in known["year"].unique())
    for indicator, (forms, outcome) in _indicator_rows(known, done).items():
        for y in years:
            at = (forms["year"] == y).to_numpy()
            ok = reg.shown(("classes", y), *_shown_keys(indicator, y)) and at.sum() > 1
            est = (inf.design_effect(outcome.to_numpy()[at].astype(float),
                                     forms["class"].to_numpy()[at], reps=REPS)
                   if ok and outcome[at].nunique() > 1 else inf.NAN_INTERVAL)
            rows_v.append({"indicator": indicator, "year": y, "deff": est.estimate,
                           "low": est.low, "high": est.high})
            rows_d.append({"Nøgletal": labels[indicator], "År": str(y),
                           "Designeffekt [95 %-KI]": ratio_interval(est),
                           "Intervallets bredde i forhold til uafhængige":
                               _num(inf.widening(est.estimate), 2)
                               if est.defined and est.estimate > 0 else "–",
                           "Klasser": _cell(reg, ("classes", y))})
    title = (f"{DEFF_CAPTION}: den klyngerobuste varians i forhold til den simple, pr. år, med "
             "95 %-konfidensinterval (KI) fra genudtræk af hele klasser")
    keys = [("classes", y) for y in years]
    return SurveyTable("design_effect", title, pd.DataFrame(rows_v), pd.DataFrame(rows_d), syn,
                       reg.k, *reg.counts(keys))


def _change_rows(reg: Registry, known: pd.DataFrame, pair: Pair, linked: bool
                 ) -> tuple[pd.DataFrame, str, tuple[Any, ...], tuple[float, float, float, float]]:
    """The forms a pair's model uses, its cluster column, the cells it needs shown, and the
    counts (x0, n0, x1, n1) of its independent-samples interval."""
    import numpy as np

    if linked:
        rows = linked_rows(known, pair)
        if "class" in rows.columns:  # the pupil's class in the pair's first year
            first = rows[rows["year"] == pair.year0].set_index("pupil")["class"]
            rows = rows.assign(cluster=rows["pupil"].map(first).to_numpy())
        else:
            rows = rows.assign(cluster=rows["pupil"].to_numpy())
        k = pair.key
        need = (("link", k, "n"), ("link", k, pair.year0, L), ("link", k, pair.year1, L))
        n = reg.value(need[0])
        counts = (reg.value(need[1]), n, reg.value(need[2]), n)
        return rows, "cluster", need, counts
    a = known[(known["year"] == pair.year0)]
    b = known[(known["year"] == pair.year1)]
    if pair.grades:
        a, b = a[a["grade"] == pair.grades[0]], b[b["grade"] == pair.grades[1]]
        need = tuple(key for y, g in zip((pair.year0, pair.year1), pair.grades, strict=True)
                     for key in reg.cells if key[:3] == ("group", "grade", y)
                     and int(key[3]) == g and key[-1] in ("n", L))
    else:
        need = tuple(key for y in (pair.year0, pair.year1)
                     for key in (("bin", y, L), ("item", "lonely", y, "answered")))
    rows = known.loc[np.concatenate([a.index.to_numpy(), b.index.to_numpy()])]
    x0, n0 = float(lonely_mask(a).sum()), float(len(a))
    x1, n1 = float(lonely_mask(b).sum()), float(len(b))
    return rows.assign(cluster=rows["class"].to_numpy()), "cluster", need, (x0, n0, x1, n1)


def _change_table(reg: Registry, known: pd.DataFrame, syn: bool) -> SurveyTable:
    import pandas as pd

    linked = "pupil" in known.columns
    todo = [p for p in pairs(known) if not linked or ("link", p.key, "n") in reg.cells]
    rows_v, rows_d, keys = [], [], []
    for pair in todo:
        rows, cluster, need, (x0, n0, x1, n1) = _change_rows(reg, known, pair, linked)
        model = None
        if need and reg.shown(*need) and x0 >= reg.k and x1 >= reg.k:
            data = rows.assign(y=lonely_mask(rows).to_numpy().astype(float),
                               year=rows["year"].astype(int), grade=rows["grade"].astype(int),
                               gender=rows["gender"].astype(str))
            model = inf.gee_change(data, "y", pair.year0, pair.year1, cluster=cluster,
                                   linked=linked)
        naive = inf.difference(x1, n1, x0, n0)[0] if model else inf.NAN_INTERVAL
        rd = model.risk_difference if model else inf.NAN_INTERVAL
        ratio = ((rd.high - rd.low) / (naive.high - naive.low)
                 if model and naive.defined and naive.high > naive.low else math.nan)
        rows_v.append({"pair": pair.key, "label": pair.label, "rd": rd.estimate,
                       "rd_low": rd.low, "rd_high": rd.high,
                       "or": model.odds_ratio.estimate if model else math.nan,
                       "or_low": model.odds_ratio.low if model else math.nan,
                       "or_high": model.odds_ratio.high if model else math.nan,
                       "naive_low": naive.low, "naive_high": naive.high, "ratio": ratio,
                       "clusters": model.n_clusters if model else math.nan})
        row = {"Sammenligning": pair.label}
        if linked:
            k = pair.key
            keys += [("link", k, "n"), ("link", k, pair.year0, L), ("link", k, pair.year1, L)]
            row.update({"Samme elever": _cell(reg, ("link", k, "n")),
                        "Ensomme, første måling": _cell(reg, ("link", k, pair.year0, L)),
                        "Ensomme, anden måling": _cell(reg, ("link", k, pair.year1, L))})
        row.update({
            "Ændring, procentpoint [95 %-KI]": pp_interval(rd),
            "Oddsratio [95 %-KI]": ratio_interval(model.odds_ratio if model
                                                            else inf.NAN_INTERVAL),
            "Uafhængige stikprøver, procentpoint [95 %-KI]": pp_interval(naive),
            "Bredde i forhold til uafhængige": _num(ratio, 2) if not math.isnan(ratio) else "–"})
        rows_d.append(row)
    who = ("de samme elever (svar om ensomhed i begge målinger)" if linked
           else "alle besvarelser, klynge: klassen")
    title = (f"{CHANGE_CAPTION}: andelen, der svarer ja til ensomhed, på {who}; GEE-model med "
             "år, " + ("årgang" if linked else "klassetrin") + " og køn; 95 %-konfidensinterval "
             "(KI) i klammer")
    return SurveyTable("design_change", title, pd.DataFrame(rows_v), pd.DataFrame(rows_d), syn,
                       reg.k, *reg.counts(keys))


def design_tables(reg: Registry, frame: pd.DataFrame, syn: bool, labels: dict[str, str]
                  ) -> dict[str, SurveyTable]:
    """The linked design's tables (none without ``class`` or ``pupil`` codes in ``frame``);
    ``labels``: the primary indicators' Danish names (the trend table's)."""
    if not {"class", "pupil"} & set(frame.columns):
        return {}
    done = frame[frame["completed"]]
    known = done[done["lonely"].notna()]
    out = {}
    if "class" in frame.columns:
        out["design_effect"] = _deff_table(reg, known, done, labels, syn)
    out["design_change"] = _change_table(reg, known, syn)
    for table in out.values():
        table.cells = reg
    return out


# --------------------------------------------------------------------------- the text
def _range(values: list[float], decimals: int) -> str:
    """«a» or «a–b» (Danish numbers), of the defined values."""
    vals = sorted(v for v in values if not math.isnan(v))
    lo, hi = _num(vals[0], decimals), _num(vals[-1], decimals)
    return lo if lo == hi else f"{lo}–{hi}"


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " og " + items[-1]


def section_text(tables: dict[str, SurveyTable]) -> str:
    """The section's lead (Danish Markdown): what the tables show, with their numbers."""
    deff, change = tables.get("design_effect"), tables.get("design_change")
    reg = (deff or change).cells
    parts = ["**Klasser og de samme elever.**"]
    breaks = []  # paragraph breaks before these parts
    if deff is not None:
        years = sorted(int(y) for y in deff.values["year"].unique())
        classes = [float(reg.value(("classes", y))) for y in years if reg.shown(("classes", y))]
        lonely = deff.values[deff.values["indicator"] == "lonely"]
        parts.append(
            "Leverancen oplyser hver besvarelses klasse"
            + (f" ({_range(classes, 0)} klasser pr. måling)" if classes else "") + ". Elever "
            "i samme klasse ligner ofte hinanden, så et nøgletal er mere usikkert, end hvis "
            "eleverne var trukket hver for sig. Designeffekten i tabellen nedenfor er forholdet "
            "mellem den klyngerobuste varians og variansen for uafhængige besvarelser, med et "
            "interval fra genudtræk af hele klasser; et interval bliver kvadratroden af "
            "designeffekten gange bredere.")
        if lonely["deff"].notna().any():
            parts.append("For andelen, der svarer ja til ensomhed, er designeffekten "
                         f"{_range(list(lonely['deff']), 2)} i målingerne.")
        if (deff.display["Designeffekt [95 %-KI]"] == "–").any():
            parts.append("Hvor tabellen viser »–«, kan nøgletallet ikke vises det år (se "
                         "diskretioneringen nedenfor), eller det varierer ikke, og så beregnes "
                         "ingen designeffekt.")
    else:
        parts.append("Leverancen oplyser ikke elevernes klasse, så designeffekten kan ikke "
                     "beregnes.")
    linked = change is not None and "Samme elever" in change.display.columns
    breaks.append(len(parts))
    v = change.values if change is not None else None
    if linked:
        both = deff is not None
        parts.append(
            "Med elevnøglen følges ændringerne på de samme elever: dem, der har svaret på "
            "spørgsmålet om ensomhed i begge målinger. Ændringen er beregnet med en GEE-model "
            "(generaliserede estimationsligninger) med år, årgang og køn og klyngerobuste "
            "intervaller; klyngen er "
            + ("elevens klasse i den første måling, så både den samme elevs gentagne svar og "
               "klassen er taget i betragtning." if both else "eleven."))
    elif change is not None:
        parts.append("Leverancen har ingen elevnøgle, så ændringerne kan ikke følges på de samme "
                     "elever; de er beregnet på alle besvarelser med en GEE-model "
                     "(generaliserede estimationsligninger) med år, klassetrin og køn og "
                     "klyngerobuste intervaller, hvor klyngen er klassen.")
    if v is not None and v["ratio"].notna().any():
        parts.append(
            "Ændringen står både som risikoforskel i procentpoint og som oddsratio. Ved siden af "
            "står intervallet for den samme ændring uden justering, hvis besvarelserne var "
            "uafhængige stikprøver, og forholdet mellem de to intervallers bredde: "
            f"{_range(list(v['ratio']), 2)}. "
            + ("Et forhold under 1 betyder, at det klyngerobuste interval er smallere, fordi den "
               "samme elevs svar hænger sammen fra år til år; et forhold over 1, at klasserne "
               "gør det bredere." if linked else
               "Et forhold over 1 viser, hvor meget klasserne gør intervallet bredere."))
    if v is not None:
        cohort = [p.label for p in _pairs_of(v) if p.grades]
        if cohort:
            parts.append(f"Rækken »{cohort[0]}« følger én årgang to klassetrin frem; den viser, "
                         "hvordan de samme børn udvikler sig med alderen, ikke om kommunen som "
                         "helhed har ændret sig.")
        parts.append(_verdict(change))
    breaks.append(len(parts))
    parts.append("Antallene går gennem den samme diskretionering som kapitlets øvrige tal, og en "
                 "model beregnes kun, når de antal, den sammenligner, kan vises. Ingen klasse og "
                 "ingen elevnøgle vises, og intet tal vises pr. klasse.")
    paragraphs, start = [], 0
    for end in [*breaks, len(parts)]:
        paragraphs.append(" ".join(p for p in parts[start:end] if p))
        start = end
    return "\n\n".join(p for p in paragraphs if p)


def _pairs_of(values: pd.DataFrame) -> list[Pair]:
    out = []
    for key in values["pair"]:
        if "/" in key:
            (g0, y0), (g1, y1) = (part.split("/") for part in key.split("-"))
            out.append(Pair(int(y0), int(y1), (int(g0), int(g1))))
        else:
            y0, y1 = key.split("-")
            out.append(Pair(int(y0), int(y1)))
    return out


def _verdict(change: SurveyTable) -> str:
    """Which changes' intervals exclude zero; on synthetic data what the table would show."""
    v = change.values[change.values["rd_low"].notna()]
    if v.empty:
        return ""
    if change.synthetic:
        return ("Med de rigtige besvarelser ville tabellen vise, om ændringerne kan skelnes fra "
                "nul; på syntetiske data siger den intet om børnene i Lejre.")
    out = [lab for lab, lo, hi in zip(v["label"], v["rd_low"], v["rd_high"], strict=True)
           if lo > 0 or hi < 0]
    within = [lab for lab in v["label"] if lab not in out]
    text = []
    if out:
        text.append(f"For {_listing(out)} omfatter konfidensintervallet for ændringen ikke nul")
    if within:
        text.append(("og for " if out else "For ") + f"{_listing(within)} omfatter det nul")
    return " ".join(text) + "."


def design_section(tables: dict[str, SurveyTable]) -> Any:
    """The chapter's section on classes and linked pupils, or None (nothing shown) when the
    delivery has neither ``class_id`` nor ``pupil_key``: the lead is displayed, then the
    tables."""
    shown = [tables[name] for name in ("design_effect", "design_change") if name in tables]
    if not shown:
        return None
    from IPython.display import Markdown, display

    display(Markdown(section_text(tables)))
    for table in shown[:-1]:
        display(table.styler())
    return shown[-1].styler()


# --------------------------------------------------------------------------- the appendix
@dataclass(frozen=True)
class DesignStatus:
    """The methods appendix's sentences on classes and linking, for the current source."""

    design_status: str
    linking_status: str


def survey_design_status() -> DesignStatus:
    """Whether the current delivery has classes and pupil keys, as two glued sentences."""
    from plusdig.survey.validation import load_survey

    columns = set(load_survey().frame.columns)
    design = ("Leverancen har ingen oplysning om klasse, så designeffekten kan ikke beregnes, "
              "og kapitlet antager, at besvarelserne er uafhængige")
    if "class" in columns:
        design = ("Leverancen oplyser elevernes klasse, så designeffekten er beregnet af data og "
                  "står i kapitlets afsnit om klasser og de samme elever; kapitlets øvrige "
                  "intervaller antager, at besvarelserne er uafhængige")
    linking = "fordi leverancen ikke kan koble en elev på tværs af år"
    if "pupil" in columns:
        linking = ("men leverancen har en elevnøgle, og kapitlets afsnit om klasser og de samme "
                   "elever viser ændringerne på de koblede elever")
    return DesignStatus(design, linking)
