"""The seeded generator of the bundled *synthetic* survey dataset.

The real respondent-level data are personal data about children and never enter git. So that
the book builds and is tested everywhere, this module generates a synthetic dataset in the
survey's input contract (:data:`plusdig.survey.contract.CONTRACT`): about 1,100 completed respondents a
year for 2017, 2018 and 2019 across seven neutrally named schools ("Skole A" … "Skole G") and
"Specialskolen", grades 5–8.

It is built to reproduce every figure published from the survey, read from
``data/survey/published.csv`` (:func:`plusdig.load_published`): respondents per measurement,
response rate, the number answering "slet ikke glad" per year, the share of lonely children in
the SDQ normal range and the share of lonely children often teased, and that fewer answer yes
to loneliness in 2018 than in 2017. The associations the annex lists for lonely children
(harder to talk to adults and peers when sad, more teased and bullied, lower well-being, fewer
leisure activities, lower happiness) are built in. Everything the source does not give is an
assumption, collected in :data:`ASSUMPTIONS` and documented in ``data/survey/README.md``.

Counts are allocated exactly (largest remainder), and who gets which answer is drawn with a
seeded random generator, so the dataset is identical on every machine and run. Regenerate with
``python -m plusdig.survey.synthetic`` (writes ``data/survey/synthetic/``); ``--scale`` or
``--n-per-year`` make bigger datasets for benchmarks.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["SEED", "YEARS", "SCHOOLS", "ASSUMPTIONS", "Targets", "targets", "generate",
           "write_dataset", "main"]

#: The seed of the bundled dataset.
SEED = 20170901
#: Measurements in the bundled dataset.
YEARS = (2017, 2018, 2019)
#: Neutral school names and their assumed share of the pupils (never real school names).
SCHOOLS: dict[str, float] = {
    "Skole A": 0.19, "Skole B": 0.17, "Skole C": 0.15, "Skole D": 0.14, "Skole E": 0.12,
    "Skole F": 0.11, "Skole G": 0.09, "Specialskolen": 0.03,
}

#: Assumptions for everything the published source does not give. Shares are of completed
#: respondents unless stated; "lonely" = answers "ofte" or "nogle gange".
ASSUMPTIONS: dict[str, Any] = {
    # per-year deviation of completed respondents from the published "ca. 1100"
    "completed_offset": {2017: 2, 2018: -6, 2019: -2},
    # incomplete (excluded) forms per year, as a share of completed ones
    "excluded_share": 0.023,
    # item non-response: completed forms that leave some answers empty, as a share of the
    # completed ones. They are never lonely and never "slet ikke glad", so every published
    # figure is still reproduced; a third of them leave the loneliness question empty (and
    # then happiness too), half of them each of the other questions
    "item_gap_share": 0.025,
    # every assumed share below (not the published ones) varies by up to ±12 % between years
    "year_jitter": 0.12,
    # 2019: the source gives no figures; the generator repeats the 2018 targets
    "year_without_figures_uses": 2018,
    # loneliness itself (not published): share answering "ofte" / "nogle gange"
    "lonely_often": {2017: 0.06, 2018: 0.05, 2019: 0.05},
    "lonely_sometimes": {2017: 0.15, 2018: 0.13, 2019: 0.13},
    # who is lonely: relative weights
    "lonely_weight_gender": {"pige": 1.3, "dreng": 1.0, "andet": 2.0, "": 1.2},
    "lonely_weight_per_grade": 0.05,  # +5 % per grade above 5
    "lonely_weight_special_school": 1.8,
    "gender_shares": {"pige": 0.485, "dreng": 0.485, "andet": 0.01, "": 0.02},
    # SDQ not answered
    "sdq_missing": {"lonely": 0.04, "not_lonely": 0.02},
    # SDQ bands among those answering: lonely (normal share is published), not lonely
    "sdq_lonely_borderline": 0.17,
    "sdq_not_lonely": {"normal": 0.88, "borderline": 0.07, "abnormal": 0.05},
    # teased: lonely ("ofte" is published) and not lonely
    "teased_lonely": {"nogle gange": 0.30, "sjældent": 0.30},
    "teased_not_lonely": {"ofte": 0.03, "nogle gange": 0.15, "sjældent": 0.35},
    # yes-shares of the yes/no measures: (lonely, not lonely)
    "bullied": (0.22, 0.06),
    "leisure_activity": (0.55, 0.75),
    "talks_to_adult": (0.70, 0.92),
    "talks_to_peer": (0.60, 0.90),
    # "slet ikke glad" (count published): share of them who are lonely
    "not_happy_lonely_share": 0.45,
    # the other happiness answers: relative weights (lonely, not lonely)
    "happiness_lonely": {"meget glad": 0.10, "glad": 0.30, "hverken eller": 0.35,
                         "ikke særlig glad": 0.25},
    "happiness_not_lonely": {"meget glad": 0.40, "glad": 0.42, "hverken eller": 0.12,
                             "ikke særlig glad": 0.06},
}


@dataclass(frozen=True)
class Targets:
    """What one year of the dataset must reproduce (published or assumed)."""

    year: int
    completed: int
    excluded: int
    invited: int
    not_happy_at_all: int
    lonely_sdq_normal: float
    lonely_teased_often: float
    lonely_often: float
    lonely_sometimes: float


def _published_value(published: pd.DataFrame, indicator: str, year: int | None = None) -> float:
    rows = published[published["indicator"] == indicator]
    if year is not None:
        rows = rows[(rows["year_start"] <= year) & (rows["year_end"] >= year)]
    if len(rows) != 1:
        raise LookupError(f"published.csv has {len(rows)} rows for {indicator!r} ({year})")
    return float(rows["value"].iloc[0])


def targets(scale: float = 1.0, published: pd.DataFrame | None = None) -> dict[int, Targets]:
    """The per-year targets: published figures where they exist, else :data:`ASSUMPTIONS`."""
    if published is None:
        from plusdig.data.load import load_published

        published = load_published()
    per_measurement = _published_value(published, "respondents-per-measurement", YEARS[0])
    rate = _published_value(published, "response-rate", YEARS[0]) / 100
    out: dict[int, Targets] = {}
    for year in YEARS:
        src = year
        if not (published["indicator"].eq("not-happy-at-all")
                & published["year_start"].eq(year)).any():
            src = ASSUMPTIONS["year_without_figures_uses"]
        completed = round((per_measurement + ASSUMPTIONS["completed_offset"][year]) * scale)
        out[year] = Targets(
            year=year,
            completed=completed,
            excluded=round(completed * ASSUMPTIONS["excluded_share"]),
            invited=round(completed / rate),
            not_happy_at_all=round(_published_value(published, "not-happy-at-all", src) * scale),
            lonely_sdq_normal=_published_value(published, "lonely-sdq-normal-range", src) / 100,
            lonely_teased_often=_published_value(published, "lonely-often-teased", src) / 100,
            lonely_often=ASSUMPTIONS["lonely_often"][year],
            lonely_sometimes=ASSUMPTIONS["lonely_sometimes"][year],
        )
    return out


# --------------------------------------------------------------------------- helpers
def _allocate(n: int, weights: dict[Any, float], fixed: dict[Any, int] | None = None
              ) -> dict[Any, int]:
    """Split ``n`` into exact counts: ``fixed`` ones first, the rest by largest remainder."""
    fixed = dict(fixed or {})
    rest = n - sum(fixed.values())
    if rest < 0:
        raise ValueError("fixed counts exceed n")
    free = {key: w for key, w in weights.items() if key not in fixed}
    total = sum(free.values())
    quotas = {key: rest * w / total for key, w in free.items()} if total else {}
    counts = {key: int(q) for key, q in quotas.items()}
    left = rest - sum(counts.values())
    for key in sorted(quotas, key=lambda x: quotas[x] - counts[x], reverse=True)[:left]:
        counts[key] += 1
    return {**fixed, **counts}


def _spread(rng: np.random.Generator, counts: dict[Any, int], dtype: Any = object) -> np.ndarray:
    """An array holding each key ``count`` times, in random order."""
    import numpy as np

    arr = np.concatenate([np.full(c, key, dtype=dtype) for key, c in counts.items()]) \
        if counts else np.array([], dtype=dtype)
    rng.shuffle(arr)
    return arr


def _assign(rng: np.random.Generator, mask: np.ndarray, counts: dict[Any, int],
            out: np.ndarray) -> None:
    """Fill ``out[mask]`` with exactly ``counts`` of each value, at random."""
    idx = mask.nonzero()[0]
    values = _spread(rng, counts, out.dtype)
    if len(values) != len(idx):
        raise ValueError("counts do not match the group size")
    out[idx] = values


def _schools(n_schools: int | None) -> dict[str, float]:
    if n_schools is None:
        return SCHOOLS
    width = len(str(n_schools))
    shares = {f"Skole {i:0{width}d}": 1.0 + (i * 7919 % 13) / 13 for i in range(1, n_schools + 1)}
    shares["Specialskolen"] = 0.03 * sum(shares.values())
    return shares


def _item_gaps(rng: np.random.Generator, m: int, schools: dict[str, float]) -> pd.DataFrame:
    """``m`` completed forms with item non-response: a third leave loneliness (and happiness)
    empty, the others answer «nej»; each other question is left empty on exactly half of them
    (teased: never on a form without a loneliness answer, so no form is without answers).
    The answers given follow the not-lonely assumptions, never «slet ikke glad»."""
    import numpy as np
    import pandas as pd

    a = ASSUMPTIONS
    no_lonely = np.zeros(m, dtype=bool)
    no_lonely[rng.permutation(m)[:m // 3]] = True

    def gap(values: np.ndarray, empty: Any = "") -> np.ndarray:
        out = values.astype(object)
        out[rng.permutation(m)[:m // 2]] = empty
        return out

    happy = {lv: w for lv, w in a["happiness_not_lonely"].items()}
    happiness = gap(_spread(rng, _allocate(m, happy)))
    happiness[no_lonely] = ""
    sdq = np.where(rng.random(m) < 0.5, np.nan, rng.binomial(15, 0.45, m).astype(float))
    teased = {lv: w for lv, w in a["teased_not_lonely"].items()}
    teased["aldrig"] = 1 - sum(teased.values())
    teased_given = gap(_spread(rng, _allocate(m, teased)))
    teased_given[no_lonely & (teased_given == "")] = "aldrig"  # never a form without answers
    yes_no = {name: pd.array(gap(rng.random(m) < a[name][1], pd.NA), dtype="boolean")
              for name in ("bullied", "leisure_activity", "talks_to_adult", "talks_to_peer")}
    return pd.DataFrame({
        "school": _spread(rng, _allocate(m, schools)),
        "grade": _spread(rng, _allocate(m, {5: 1, 6: 1, 7: 1, 8: 1}), dtype="int64"),
        "gender": _spread(rng, _allocate(m, a["gender_shares"])),
        "lonely": np.where(no_lonely, "", "nej").astype(object), "happiness": happiness,
        "sdq_total": sdq, "teased": teased_given, **yes_no,
        "completed": True,
    })


def _year(rng: np.random.Generator, t: Targets, schools: dict[str, float]) -> pd.DataFrame:
    """One year's rows: completed forms first, then the incomplete ones (shuffled later)."""
    import numpy as np
    import pandas as pd

    a = ASSUMPTIONS
    gaps = round(t.completed * a["item_gap_share"])
    n = t.completed - gaps
    jitter = a["year_jitter"]

    def jit(x: float) -> float:  # assumed (unpublished) shares vary a little between years
        return x * (1 + rng.uniform(-jitter, jitter))

    school = _spread(rng, _allocate(n, schools))
    grade = _spread(rng, _allocate(n, {5: 1, 6: 1, 7: 1, 8: 1}), dtype="int64")
    gender = _spread(rng, _allocate(n, a["gender_shares"]))

    # who is lonely: weighted sampling without replacement (Gumbel top-k)
    weight = np.vectorize(a["lonely_weight_gender"].get)(gender).astype(float)
    weight *= 1 + a["lonely_weight_per_grade"] * (grade - 5)
    weight *= np.where(school == "Specialskolen", a["lonely_weight_special_school"], 1.0)
    n_often = round(t.lonely_often * n)
    n_lonely = n_often + round(t.lonely_sometimes * n)
    keys = np.log(weight) + rng.gumbel(size=n)
    order = np.argsort(-keys, kind="stable")
    lonely_idx = order[:n_lonely]
    lonely = np.full(n, "nej", dtype=object)
    lonely[lonely_idx] = "nogle gange"
    lonely[rng.permutation(lonely_idx)[:n_often]] = "ofte"
    is_lonely = lonely != "nej"
    groups = {"lonely": is_lonely, "not_lonely": ~is_lonely}
    sizes = {g: int(m.sum()) for g, m in groups.items()}

    # SDQ: missing, then bands (normal share among lonely is published), then scores
    band = np.empty(n, dtype=object)
    n_miss = {g: round(a["sdq_missing"][g] * sizes[g]) for g in groups}
    answered_l = sizes["lonely"] - n_miss["lonely"]
    normal_l = round(t.lonely_sdq_normal * answered_l)
    border_l = round(jit(a["sdq_lonely_borderline"]) * answered_l)
    _assign(rng, groups["lonely"], {"missing": n_miss["lonely"], "normal": normal_l,
                                    "borderline": border_l,
                                    "abnormal": answered_l - normal_l - border_l}, band)
    sdq_other = {b: jit(w) for b, w in a["sdq_not_lonely"].items()}
    _assign(rng, groups["not_lonely"], _allocate(sizes["not_lonely"], sdq_other,
                                                 {"missing": n_miss["not_lonely"]}), band)
    sdq = np.full(n, np.nan)
    for code, (lo, hi, p) in {"normal": (0, 15, 0.45), "borderline": (16, 19, 0.5),
                              "abnormal": (20, 40, 0.25)}.items():
        m = band == code
        sdq[m] = lo + rng.binomial(hi - lo, p, size=int(m.sum()))

    teased = np.empty(n, dtype=object)
    often_l = round(t.lonely_teased_often * sizes["lonely"])
    _assign(rng, groups["lonely"], _allocate(sizes["lonely"], {
        **{lv: jit(w) for lv, w in a["teased_lonely"].items()},
        "aldrig": 1 - sum(a["teased_lonely"].values()) - t.lonely_teased_often
    }, {"ofte": often_l}), teased)
    tn = {lv: jit(w) for lv, w in a["teased_not_lonely"].items()}
    _assign(rng, groups["not_lonely"], _allocate(sizes["not_lonely"], {
        **tn, "aldrig": 1 - sum(tn.values())}), teased)

    yes_no: dict[str, np.ndarray] = {}
    for name in ("bullied", "leisure_activity", "talks_to_adult", "talks_to_peer"):
        out = np.empty(n, dtype=bool)
        for g, share in zip(("lonely", "not_lonely"), a[name], strict=True):
            yes = round(min(jit(share), 0.97) * sizes[g])
            _assign(rng, groups[g], {True: yes, False: sizes[g] - yes}, out)
        yes_no[name] = out

    happiness = np.empty(n, dtype=object)
    h_lonely = round(a["not_happy_lonely_share"] * t.not_happy_at_all)
    for g, fixed, weights in (("lonely", h_lonely, a["happiness_lonely"]),
                              ("not_lonely", t.not_happy_at_all - h_lonely,
                               a["happiness_not_lonely"])):
        _assign(rng, groups[g], _allocate(sizes[g], {lv: jit(w) for lv, w in weights.items()},
                                          {"slet ikke glad": fixed}), happiness)

    done = pd.DataFrame({
        "school": school, "grade": grade, "gender": gender, "lonely": lonely,
        "happiness": happiness, "sdq_total": sdq, "teased": teased, **yes_no, "completed": True,
    })
    done = pd.concat([done, _item_gaps(rng, gaps, schools)], ignore_index=True)
    # incomplete forms: background known, answers left empty
    e = t.excluded
    partial = pd.DataFrame({
        "school": _spread(rng, _allocate(e, schools)),
        "grade": _spread(rng, _allocate(e, {5: 1, 6: 1, 7: 1, 8: 1}), dtype="int64"),
        "gender": _spread(rng, _allocate(e, a["gender_shares"])),
        "lonely": "", "happiness": "", "sdq_total": np.nan, "teased": "",
        **{name: pd.array([pd.NA] * e, dtype="boolean") for name in yes_no}, "completed": False,
    })
    frame = pd.concat([done, partial], ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    width = max(4, len(str(len(frame))))
    ids = [f"SYN{t.year}-{i:0{width}d}" for i in range(1, len(frame) + 1)]
    frame.insert(0, "respondent_id", ids)
    frame.insert(1, "year", t.year)
    return frame


def generate(scale: float = 1.0, *, n_per_year: int | None = None, seed: int = SEED,
             n_schools: int | None = None, published: pd.DataFrame | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate the synthetic dataset; return (respondent rows, invited pupils per year).

    ``scale`` multiplies every count (``n_per_year`` sets the completed respondents per year
    instead); ``n_schools`` replaces the eight named schools by that many numbered ones
    (for benchmarks at national scale). The rows follow the input contract; booleans are
    ``bool``, ``sdq_total`` is a float with NaN for "not answered".
    """
    import numpy as np
    import pandas as pd

    from plusdig.survey.contract import COLUMNS

    if n_per_year is not None:
        base = targets(1.0, published)
        scale = n_per_year / base[YEARS[0]].completed
    tgt = targets(scale, published)
    schools = _schools(n_schools)
    frames = [_year(np.random.default_rng([seed, year]), tgt[year], schools) for year in YEARS]
    rows = pd.concat(frames, ignore_index=True)[COLUMNS]
    invited = pd.DataFrame({"year": list(YEARS), "invited": [tgt[y].invited for y in YEARS]})
    return rows, invited


def to_text(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows as the contract's text values (``ja``/``nej``, empty for not answered)."""
    import pandas as pd

    out = rows.copy()
    for name in ("bullied", "leisure_activity", "talks_to_adult", "talks_to_peer", "completed"):
        col = out[name].astype("boolean")
        out[name] = col.map({True: "ja", False: "nej"}).astype(object).where(col.notna(), "")
    out["sdq_total"] = out["sdq_total"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return out


SYNTHETIC_NAMES = ("synthetic_survey_2017-2019.csv", "synthetic_invited_2017-2019.csv",
                   "synthetic_invited_groups_2017-2019.csv")

#: The assumed relative non-response of a cell (not from the annex): boys answer less often
#: than girls, and the older grades less often than the younger.
NONRESPONSE_BOYS = 1.5
NONRESPONSE_PER_GRADE = 0.25


def invited_groups(rows: pd.DataFrame, invited: pd.DataFrame) -> pd.DataFrame:
    """Synthetic invited pupils per year × grade × gender (pige, dreng), consistent with the
    per-year totals: every cell has its forms plus a share of the year's non-respondents
    (and of the forms without a stated or binary gender) proportional to its forms times the
    assumed non-response (:data:`NONRESPONSE_BOYS`, :data:`NONRESPONSE_PER_GRADE`), rounded
    by largest remainder so the cells add up to the year's total."""
    import numpy as np
    import pandas as pd

    out = []
    for year, total in invited.set_index("year")["invited"].items():
        yr = rows[(rows["year"] == year) & rows["gender"].isin(["pige", "dreng"])]
        forms = yr.groupby(["grade", "gender"]).size().sort_index()
        grade0 = min(g for g, _s in forms.index)
        odds = np.array([(NONRESPONSE_BOYS if s == "dreng" else 1.0)
                         * (1 + NONRESPONSE_PER_GRADE * (g - grade0)) for g, s in forms.index])
        extra = int(total) - int(forms.sum())
        want = extra * forms.to_numpy() * odds / (forms.to_numpy() * odds).sum()
        share = np.floor(want).astype(int)
        order = np.argsort(-(want - share), kind="stable")
        share[order[: extra - int(share.sum())]] += 1
        for (grade, gender), n, add in zip(forms.index, forms.to_numpy(), share, strict=True):
            out.append({"year": int(year), "grade": int(grade), "gender": gender,
                        "invited": int(n + add)})
    return pd.DataFrame(out, columns=["year", "grade", "gender", "invited"])


def write_dataset(out_dir: str | Path, scale: float = 1.0, *, seed: int = SEED,
                  n_per_year: int | None = None, n_schools: int | None = None) -> list[Path]:
    """Write the synthetic rows, invitation counts per year and per year × grade × gender as
    CSV files; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, invited = generate(scale, seed=seed, n_per_year=n_per_year, n_schools=n_schools)
    paths = [out_dir / name for name in SYNTHETIC_NAMES]
    to_text(rows).to_csv(paths[0], index=False, lineterminator="\n")
    invited.to_csv(paths[1], index=False, lineterminator="\n")
    invited_groups(rows, invited).to_csv(paths[2], index=False, lineterminator="\n")
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m plusdig.survey.synthetic [--out DIR] [--scale S | --n-per-year N] [--schools N]``."""
    from plusdig.core.paths import data_dir

    parser = argparse.ArgumentParser(prog="python -m plusdig.survey.synthetic",
                                     description="Write the synthetic survey dataset.")
    parser.add_argument("--out", default=str(data_dir() / "survey" / "synthetic"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--n-per-year", type=int, default=None)
    parser.add_argument("--schools", type=int, default=None)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    for path in write_dataset(args.out, args.scale, seed=args.seed, n_per_year=args.n_per_year,
                              n_schools=args.schools):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
