"""Design-aware inference for the well-being survey (issue 19).

Every estimator here is statsmodels' (a field-made library); this module only decides which
one applies and with which sample size, and returns typed results. The decisions:

* **Target of inference.** The survey invites every pupil in grades 5–8, so an interval is
  about *the pupils of Lejre in that year* (a finite population), not about an infinite
  super-population. Where the invited counts are known, the finite population correction
  (:func:`fpc`) is applied through the effective sample size (:func:`effective_n`); where they
  are not, no correction is applied and the chapter says so.
* **Clustering.** Pupils answer class by class, so answers within a class are correlated. With
  a ``class_id`` the design effect is estimated (:func:`design_effect`) and the model
  (:func:`gee_change`) has cluster-robust intervals; without it, a stated design effect shows
  how much an interval would widen (:func:`widening`).
* **Changes.** Consecutive years share most pupils, so years are not independent samples. With
  a ``pupil_key`` a change is estimated on the linked pupils (:func:`gee_change`, clustered by
  pupil); without it, the independent-samples interval is conservative for a positive
  within-pupil correlation, and the chapter says so.
* **Non-response.** Worst/best-case bounds (:func:`bounds`) put every non-respondent first in
  one answer, then in the other, beside the sampling interval.
* **Multiplicity.** Four primary indicators are pre-specified (:data:`PRIMARY`); the other
  contrasts are reported with Benjamini–Hochberg false-discovery-rate control (:func:`fdr`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CI_LEVEL", "ALPHA", "FDR_Q", "PRIMARY", "ASSUMED_DEFF", "Interval", "Trend",
           "ModelChange", "fpc", "effective_n", "share_interval", "difference", "bounds",
           "kish_deff", "widening", "trend_test", "fdr", "design_effect", "gee_change",
           "ordered_logit", "ordinal_odds_ratio", "sensitivity_grid"]

#: Confidence level of every interval, and the significance level it corresponds to.
CI_LEVEL = 0.95
ALPHA = 1 - CI_LEVEL
#: The false-discovery rate the secondary contrasts are controlled at.
FDR_Q = 0.05
#: The four pre-specified primary indicators (keys of the chapter's trend table).
PRIMARY = ("lonely", "lonely_sdq_normal", "lonely_teased_often", "not_happy_at_all")
#: The design effect the chapter assumes for illustration when no class is known: the value for
#: classes of about 20 pupils with an intra-class correlation of 0.025 (1 + 19 × 0.025).
ASSUMED_CLASS_SIZE = 20
ASSUMED_ICC = 0.025
ASSUMED_DEFF = 1 + (ASSUMED_CLASS_SIZE - 1) * ASSUMED_ICC


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (NaN when it cannot be computed)."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def defined(self) -> bool:
        return not any(math.isnan(v) for v in (self.estimate, self.low, self.high))


NAN_INTERVAL = Interval(math.nan, math.nan, math.nan)


# --------------------------------------------------------------------------- sample size
def fpc(n: float, population: float | None) -> float:
    """The finite population correction sqrt((N - n) / (N - 1)); 1 when N is unknown."""
    if population is None or math.isnan(population) or population <= 1:
        return 1.0
    if n > population:
        raise ValueError(f"sample {n} larger than the population {population}")
    return math.sqrt((population - n) / (population - 1))


def effective_n(n: float, *, deff: float = 1.0, population: float | None = None) -> float:
    """The sample size an independent, infinite-population sample would need for the same
    variance: n / (deff × fpc²). A census (n = N) has infinite effective size."""
    f = fpc(n, population) ** 2
    if f == 0:
        return math.inf
    return n / (deff * f)


def share_interval(x: float, n: float, *, deff: float = 1.0,
                   population: float | None = None) -> Interval:
    """A share x/n with its Wilson interval on the effective sample size."""
    from statsmodels.stats.proportion import proportion_confint

    if not n or any(math.isnan(v) for v in (x, n)):
        return NAN_INTERVAL
    p = x / n
    m = effective_n(n, deff=deff, population=population)
    if math.isinf(m):
        return Interval(p, p, p)
    low, high = proportion_confint(p * m, m, alpha=ALPHA, method="wilson")
    return Interval(p, float(low), float(high))


def difference(x1: float, n1: float, x0: float, n0: float, *, deff: float = 1.0,
               populations: tuple[float | None, float | None] = (None, None)
               ) -> tuple[Interval, float]:
    """p1 - p0 with Newcombe's hybrid score interval and the score test's p-value, both on the
    effective sample sizes (independent samples)."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    if not n1 or not n0 or any(math.isnan(v) for v in (x1, n1, x0, n0)):
        return NAN_INTERVAL, math.nan
    p1, p0 = x1 / n1, x0 / n0
    m1 = effective_n(n1, deff=deff, population=populations[0])
    m0 = effective_n(n0, deff=deff, population=populations[1])
    m1, m0 = min(m1, 1e9), min(m0, 1e9)
    low, high = confint_proportions_2indep(p1 * m1, m1, p0 * m0, m0, method="newcomb",
                                           compare="diff", alpha=ALPHA)
    if p1 in (0.0, 1.0) and p0 == p1:
        pvalue = 1.0
    else:
        pvalue = float(test_proportions_2indep(p1 * m1, m1, p0 * m0, m0, method="score",
                                               compare="diff").pvalue)
    return Interval(p1 - p0, float(low), float(high)), pvalue


def bounds(x: float, n: float, invited: float | None) -> tuple[float, float]:
    """Worst/best-case bounds for the share among the invited: every one of the N - n who did
    not answer counted first as "no", then as "yes" (Manski's bounds). NaN if N is unknown."""
    if invited is None or math.isnan(invited) or any(math.isnan(v) for v in (x, n)) or not invited:
        return math.nan, math.nan
    if n > invited:
        raise ValueError("more answers than invited pupils")
    return x / invited, (x + invited - n) / invited


# --------------------------------------------------------------------------- clustering
def kish_deff(icc: float, cluster_size: float) -> float:
    """Kish's design effect 1 + (m - 1) × ICC for clusters of size m."""
    return 1 + (cluster_size - 1) * icc


def widening(deff: float) -> float:
    """How many times wider an interval is under design effect ``deff`` (its square root)."""
    return math.sqrt(deff)


def design_effect(y: Sequence[float], clusters: Sequence[Any], *, reps: int = 400,
                  seed: int = 20170901) -> Interval:
    """The design effect of a mean: its cluster-robust variance over its simple-random-sample
    variance (statsmodels OLS on a constant, ``cov_type="cluster"``), with a percentile
    interval from resampling whole clusters (seeded, so it is reproducible)."""
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    yv = np.asarray(y, dtype="float64")
    codes = pd.factorize(pd.Series(list(clusters)))[0]

    def ratio(values: np.ndarray, groups: np.ndarray) -> float:
        const = np.ones((len(values), 1))  # a resample's size varies with its classes
        naive = sm.OLS(values, const).fit()
        robust = sm.OLS(values, const).fit(cov_type="cluster", cov_kwds={"groups": groups})
        return float(robust.bse[0] ** 2 / naive.bse[0] ** 2)

    estimate = ratio(yv, codes)
    rng = np.random.default_rng(seed)
    n_clusters = codes.max() + 1
    members = [np.flatnonzero(codes == c) for c in range(n_clusters)]
    draws = []
    for _ in range(reps):
        pick = rng.integers(0, n_clusters, n_clusters)
        idx = np.concatenate([members[c] for c in pick])
        groups = np.repeat(np.arange(n_clusters), [len(members[c]) for c in pick])
        if np.ptp(yv[idx]) == 0:
            continue
        draws.append(ratio(yv[idx], groups))
    low, high = np.quantile(draws, [ALPHA / 2, 1 - ALPHA / 2])
    return Interval(estimate, float(low), float(high))


# --------------------------------------------------------------------------- trend and FDR
@dataclass(frozen=True)
class Trend:
    """A logistic trend over the years: odds ratio per year with its interval, and p-value."""

    odds_ratio: Interval
    pvalue: float
    years: tuple[int, ...]


def trend_test(years: Sequence[int], x: Sequence[float], n: Sequence[float], *,
               deff: float = 1.0) -> Trend:
    """Logistic regression of the yearly counts on the year (statsmodels GLM, binomial): the
    odds ratio per year and the Wald test of no trend. ``deff`` scales the variance."""
    import numpy as np
    import statsmodels.api as sm

    yrs = np.asarray(years, dtype="float64")
    xs, ns = np.asarray(x, dtype="float64"), np.asarray(n, dtype="float64")
    ok = ~(np.isnan(xs) | np.isnan(ns)) & (ns > 0)
    if ok.sum() < 2:
        return Trend(NAN_INTERVAL, math.nan, tuple(int(y) for y in years))
    endog = np.column_stack([xs[ok], ns[ok] - xs[ok]])
    exog = sm.add_constant(yrs[ok] - yrs[ok].mean())
    fit = sm.GLM(endog, exog, family=sm.families.Binomial()).fit(scale=deff)
    beta, se = float(fit.params[1]), float(fit.bse[1])
    z = _z()
    pvalue = float(fit.pvalues[1])
    return Trend(Interval(math.exp(beta), math.exp(beta - z * se), math.exp(beta + z * se)),
                 pvalue, tuple(int(y) for y in yrs[ok]))


def fdr(pvalues: Sequence[float], q: float = FDR_Q) -> tuple[list[bool], list[float]]:
    """Benjamini–Hochberg: which contrasts are discoveries at FDR ``q``, and their adjusted
    p-values (statsmodels ``multipletests``). NaN p-values are left out and stay NaN."""
    import numpy as np
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype="float64")
    ok = ~np.isnan(p)
    reject = np.zeros(len(p), dtype=bool)
    adjusted = np.full(len(p), np.nan)
    if ok.any():
        r, a, _s, _b = multipletests(p[ok], alpha=q, method="fdr_bh")
        reject[ok], adjusted[ok] = r, a
    return reject.tolist(), adjusted.tolist()


def _z() -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - ALPHA / 2))


# --------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ModelChange:
    """A change between two years from a GEE model with year, grade and gender."""

    risk_difference: Interval
    odds_ratio: Interval
    n_rows: int
    n_clusters: int
    cluster: str


def gee_change(frame: pd.DataFrame, outcome: str, year0: int, year1: int, *,
               cluster: str, linked: bool = False) -> ModelChange:
    """The change in a yes/no outcome from ``year0`` to ``year1``, adjusted for grade and
    gender, with cluster-robust intervals (statsmodels GEE, exchangeable working correlation
    within ``cluster``): the odds ratio from a logistic GEE and the risk difference from a
    linear-probability GEE. ``frame`` has columns year, grade, gender, ``outcome`` (0/1) and
    ``cluster``; rows with a missing outcome are left out.

    ``linked=True`` (``cluster`` is the pupil key): a pupil's grade moves with the year, so the
    model adjusts for the school-start cohort (year - grade) instead of the grade; the change is
    then the within-pupil change of the same cohorts."""
    import numpy as np
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    data = frame.loc[frame["year"].isin([year0, year1]),
                     ["year", "grade", "gender", outcome, cluster]].dropna(subset=[outcome])
    data = data.assign(y=data[outcome].astype("float64"),
                       later=(data["year"] == year1).astype("float64"),
                       cohort=(data["year"] - data["grade"]).astype(str),
                       grade=data["grade"].astype(str), gender=data["gender"].astype(str),
                       g=data[cluster].astype(str)).sort_values("g")
    formula = f"y ~ later + C({'cohort' if linked else 'grade'}) + C(gender)"
    z = _z()

    def fit(family: Any) -> tuple[float, float]:
        res = smf.gee(formula, "g", data, family=family,
                      cov_struct=sm.cov_struct.Exchangeable()).fit(cov_type="bias_reduced")
        return float(res.params["later"]), float(res.bse["later"])

    b, se = fit(sm.families.Binomial())
    rd, rd_se = fit(sm.families.Gaussian())
    return ModelChange(Interval(rd, rd - z * rd_se, rd + z * rd_se),
                       Interval(math.exp(b), math.exp(b - z * se), math.exp(b + z * se)),
                       int(len(data)), int(np.unique(data["g"]).size), cluster)


def ordered_logit(endog: pd.Series, exog: pd.DataFrame) -> Any:
    """statsmodels' ``OrderedModel`` with ``distr="logit"``, its cdf called directly.

    The model's likelihood calls ``scipy.stats.logistic.cdf`` twice per evaluation, and a fit
    with its numerical score and Hessian evaluates it some 1,400 times: scipy's generic
    argument handling (about 40 µs a call, five times the computation) was most of the
    appendix's run time. The logistic cdf with location 0 and scale 1 is ``scipy.special.expit``,
    the function scipy's ``logistic._cdf`` returns, so every value, and so the fit, is the same
    to the bit (tests/test_survey_inference.py compares them)."""
    from scipy.special import expit
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    model = OrderedModel(endog, exog, distr="logit")
    model.cdf = expit  # type: ignore[method-assign]
    return model


def ordinal_odds_ratio(frame: pd.DataFrame, outcome: str, levels: Sequence[str],
                       exposure: str) -> tuple[Interval, float]:
    """One effect size for an ordinal answer: the cumulative-logit odds ratio of a *higher*
    level (later in ``levels``) when the yes/no column ``exposure`` is true, adjusted for grade
    and gender (statsmodels ``OrderedModel``), with its Wald interval and p-value. Rows with a
    missing answer are left out."""
    import pandas as pd

    data = frame.dropna(subset=[outcome])
    data = data[data[outcome].astype(str).isin(list(levels))]
    # a level nobody gave has no threshold to estimate (statsmodels would refuse the shapes)
    present = [lv for lv in levels if (data[outcome].astype(str) == lv).any()]
    if len(present) < 2:
        return NAN_INTERVAL, math.nan
    y = pd.Categorical(data[outcome].astype(str), categories=present, ordered=True)
    exog = pd.get_dummies(pd.DataFrame({"grade": data["grade"].astype(str),
                                        "gender": data["gender"].astype(str)}),
                          drop_first=True, dtype="float64")
    exog.insert(0, "exposed", data[exposure].astype("float64").to_numpy())
    exog = exog.loc[:, exog.std() > 0]
    if "exposed" not in exog:
        return NAN_INTERVAL, math.nan
    res = ordered_logit(pd.Series(y, index=data.index), exog).fit(
        method="bfgs", disp=False, maxiter=500)
    b, se = float(res.params["exposed"]), float(res.bse["exposed"])
    z = _z()
    return (Interval(math.exp(b), math.exp(b - z * se), math.exp(b + z * se)),
            float(res.pvalues["exposed"]))


# --------------------------------------------------------------------------- published figures
def sensitivity_grid(before: float, after: float, denominators: Sequence[int], *,
                     share: bool) -> list[tuple[int, Interval]]:
    """The change ``after - before`` (two published figures) with its interval for each
    plausible denominator n (the same n both years). A count ``before``/``after`` is x out of
    n; a ``share`` (a fraction) is turned into the nearest whole count of n."""
    out = []
    for n in denominators:
        x0, x1 = (round(v * n) if share else v for v in (before, after))
        interval, _p = difference(x1, n, x0, n)
        out.append((int(n), interval))
    return out
