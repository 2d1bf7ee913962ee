"""Design-aware inference (issue 19): fixtures with a known truth are recovered within the
intervals, and each correction moves an interval the way the theory says."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from plusdig.survey import inference as inf


def _clustered(n_classes: int = 80, size: int = 20, p: float = 0.2, icc: float = 0.05,
               seed: int = 1) -> pd.DataFrame:
    """Classes whose prevalence is drawn from a beta distribution with the given ICC: the
    design effect of the overall share is 1 + (size - 1) × icc."""
    rng = np.random.default_rng(seed)
    a = p * (1 - icc) / icc
    b = (1 - p) * (1 - icc) / icc
    rows = []
    for c in range(n_classes):
        pc = rng.beta(a, b)
        rows.append(pd.DataFrame({"class_id": f"k{c}", "y": rng.random(size) < pc}))
    return pd.concat(rows, ignore_index=True)


def _linked(n: int = 1500, seed: int = 2) -> pd.DataFrame:
    """Pupils answering in 2017 and 2018 with the joint distribution P(1,1)=.15, P(1,0)=.10,
    P(0,1)=.03, P(0,0)=.72: 25 % → 18 %, a within-pupil change of -7 percentage points."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(4, size=n, p=[0.15, 0.10, 0.03, 0.72])
    first = np.isin(cells, [0, 1])
    second = np.isin(cells, [0, 2])
    grade = rng.integers(5, 8, n)
    gender = rng.choice(["pige", "dreng"], n)
    keys = [f"p{i}" for i in range(n)]
    return pd.concat([
        pd.DataFrame({"pupil_key": keys, "year": 2017, "grade": grade, "gender": gender,
                      "lonely": first.astype(int)}),
        pd.DataFrame({"pupil_key": keys, "year": 2018, "grade": grade + 1, "gender": gender,
                      "lonely": second.astype(int)}),
    ], ignore_index=True)


def test_fpc_and_effective_n() -> None:
    assert inf.fpc(100, None) == 1.0
    assert inf.fpc(1100, 1200) == pytest.approx(math.sqrt(100 / 1199))
    assert math.isinf(inf.effective_n(1200, population=1200))  # a census has no sampling error
    with pytest.raises(ValueError):
        inf.fpc(1300, 1200)


def test_fpc_narrows_and_deff_widens_the_interval() -> None:
    plain = inf.share_interval(231, 1100)
    finite = inf.share_interval(231, 1100, population=1220)
    clustered = inf.share_interval(231, 1100, deff=2.0)
    width = lambda i: i.high - i.low  # noqa: E731
    assert width(finite) < width(plain) < width(clustered)
    assert width(clustered) / width(plain) == pytest.approx(inf.widening(2.0), rel=0.02)
    assert plain.low < 0.21 < plain.high


def test_worst_best_case_bounds_contain_the_respondents_share() -> None:
    low, high = inf.bounds(231, 1100, 1220)
    assert low == pytest.approx(231 / 1220) and high == pytest.approx((231 + 120) / 1220)
    assert low < 231 / 1100 < high
    assert all(math.isnan(v) for v in inf.bounds(231, 1100, None))


def test_design_effect_is_recovered_within_its_interval() -> None:
    truth = inf.kish_deff(0.05, 20)
    est = inf.design_effect(*(_clustered()[c] for c in ("y", "class_id")))
    assert est.low < truth < est.high, (est, truth)
    assert est.low > 1.0  # clustering is detected, not only allowed for
    flat = _clustered(icc=1e-6, seed=3)
    assert inf.design_effect(flat["y"], flat["class_id"]).low < 1.0 < \
        inf.design_effect(flat["y"], flat["class_id"]).high


def test_within_pupil_change_is_recovered_and_linking_narrows_the_interval() -> None:
    data = _linked()
    model = inf.gee_change(data, "lonely", 2017, 2018, cluster="pupil_key", linked=True)
    assert model.risk_difference.low < -0.07 < model.risk_difference.high, model
    assert model.odds_ratio.high < 1.0  # a fall, and the odds ratio agrees
    assert model.n_clusters == 1500 and model.n_rows == 3000
    x = data.groupby("year")["lonely"].agg(["sum", "count"])
    naive, _p = inf.difference(x.loc[2018, "sum"], x.loc[2018, "count"],
                               x.loc[2017, "sum"], x.loc[2017, "count"])
    rd = model.risk_difference
    assert rd.high - rd.low < naive.high - naive.low  # pairing uses the within-pupil correlation


def test_trend_test_finds_a_real_trend_and_not_a_flat_one() -> None:
    falling = inf.trend_test([2017, 2018, 2019], [260, 220, 180], [1100, 1100, 1100])
    assert falling.odds_ratio.high < 1 and falling.pvalue < 0.01
    flat = inf.trend_test([2017, 2018, 2019], [220, 221, 219], [1100, 1100, 1100])
    assert flat.odds_ratio.low < 1 < flat.odds_ratio.high and flat.pvalue > 0.5
    wider = inf.trend_test([2017, 2018, 2019], [260, 220, 180], [1100, 1100, 1100], deff=2.0)
    assert wider.pvalue > falling.pvalue


def test_fdr_controls_the_secondary_contrasts() -> None:
    reject, adjusted = inf.fdr([0.001, 0.02, 0.04, 0.5, math.nan])
    assert reject == [True, True, False, False, False]
    assert adjusted[0] == pytest.approx(0.004) and math.isnan(adjusted[-1])


def test_difference_interval_and_pvalue_agree() -> None:
    interval, p = inf.difference(54, 1100, 84, 1100)
    assert interval.excludes_zero and p < 0.05
    interval, p = inf.difference(69, 100, 66, 100)
    assert not interval.excludes_zero and p > 0.05


def _ordinal(seed: int, levels: list[str], before: list[float], after: list[float],
             n: int) -> pd.DataFrame:
    """Ordinal answers in 2017 (``before``) and 2019 (``after``), ``later`` marking 2019."""
    rng = np.random.default_rng(seed)
    rows = [pd.DataFrame({"year": year, "grade": rng.integers(5, 9, n),
                          "gender": rng.choice(["pige", "dreng"], n),
                          "answer": rng.choice(levels, n, p=probs)})
            for year, probs in ((2017, before), (2019, after))]
    return pd.concat(rows).assign(later=lambda d: d["year"] == 2019)


def test_ordinal_odds_ratio_detects_a_shift() -> None:
    levels = ["a", "b", "c"]
    data = _ordinal(4, levels, [0.5, 0.3, 0.2], [0.3, 0.3, 0.4], 800)
    interval, p = inf.ordinal_odds_ratio(data, "answer", levels, "later")
    assert interval.low > 1 and p < 0.001


def test_sensitivity_grid_reproduces_the_issue_s_bounds() -> None:
    """Chapter 6: 84 → 54 excludes zero for n 1,000–1,200; 66 → 69 % includes it for a lonely
    group of 100–350; 10 → 5 % includes zero when the group is 200 or smaller."""
    assert all(i.excludes_zero for _n, i in inf.sensitivity_grid(84, 54, [1000, 1100, 1200],
                                                                  share=False))
    assert not any(i.excludes_zero for _n, i in inf.sensitivity_grid(0.66, 0.69,
                                                                      [100, 200, 350], share=True))
    teased = dict(inf.sensitivity_grid(0.10, 0.05, [100, 150, 200, 300, 350], share=True))
    assert not teased[100].excludes_zero and not teased[200].excludes_zero
    assert teased[350].excludes_zero


def test_design_fixture_truth_is_recovered_across_seeds() -> None:
    """The class-and-pupil fixture (tests/fixtures/design_fixtures.py): over 20 seeds the
    first year's design effect and the within-pupil change 2017→2018 lie inside their 95 %
    intervals at least 16 times (a 95 % interval that covers less often is too narrow), and the
    change is estimated without bias."""
    from fixtures import design_fixtures as dfx

    covered_deff = covered_change = 0
    estimates = []
    for seed in range(20):
        f = dfx.design_frame(seed)
        f = f.assign(year=f["year"].astype(int), grade=f["grade"].astype(int),
                     y=f["lonely"].isin(["ofte", "nogle gange"]).astype(int))
        first = f[f["year"] == 2017]
        deff = inf.design_effect(first["y"], first["class_id"], reps=200)
        change = inf.gee_change(f, "y", 2017, 2018, cluster="class_id",
                                linked=True).risk_difference
        covered_deff += deff.low < dfx.DEFF < deff.high
        covered_change += change.low < dfx.CHANGE < change.high
        estimates.append(change.estimate)
    assert covered_deff >= 16 and covered_change >= 16, (covered_deff, covered_change)
    assert abs(np.mean(estimates) - dfx.CHANGE) < 0.01


def test_ordinal_odds_ratio_with_a_level_nobody_gave() -> None:
    """A delivery where no pupil gives one of the levels (no SDQ score in the abnormal band,
    say) still gets its odds ratio from the levels present; one level only gives none."""
    levels = ["a", "b", "c", "d"]
    data = _ordinal(6, levels, [0.6, 0.4, 0.0, 0.0], [0.4, 0.6, 0.0, 0.0], 600)
    interval, p = inf.ordinal_odds_ratio(data, "answer", levels, "later")
    assert interval.low > 1 and p < 0.001
    single = data.assign(answer="a")
    assert not inf.ordinal_odds_ratio(single, "answer", levels, "later")[0].defined


def test_the_ordered_logit_fits_as_statsmodels_own_to_the_bit() -> None:
    """ordered_logit calls the logistic cdf directly (scipy.special.expit) instead of through
    scipy.stats: every likelihood value, and so the fit (estimates, standard errors, p-values,
    iterations), is exactly statsmodels' own, here on the appendix's three ordinal contrasts of
    the synthetic survey and on a shifted sample."""
    from scipy import stats
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    from plusdig.survey import methods, validation

    frame = validation.load_survey().frame
    last = frame[frame["completed"] & (frame["year"] == frame["year"].max())]
    last = last.assign(lonely_yes=methods.lonely_mask(last).astype("float64"))
    cases = []
    for column, (_label, levels, _m) in methods.SECONDARY.items():
        if levels is not None:
            data = last[last[column].astype(str).isin(levels)]
            present = [lv for lv in levels if (data[column].astype(str) == lv).any()]
            y = pd.Series(pd.Categorical(data[column].astype(str), categories=present,
                                         ordered=True), index=data.index)
            exog = pd.get_dummies(data[["grade", "gender"]].astype(str), drop_first=True,
                                  dtype="float64")
            exog.insert(0, "exposed", data["lonely_yes"].to_numpy())
            cases.append((y, exog))
    shifted = _ordinal(4, ["a", "b", "c"], [0.5, 0.3, 0.2], [0.3, 0.3, 0.4], 800
                       ).reset_index(drop=True)
    cases.append((pd.Series(pd.Categorical(shifted["answer"], categories=["a", "b", "c"],
                                           ordered=True), index=shifted.index),
                  shifted[["later"]].astype("float64")))
    assert len(cases) == 4
    for y, exog in cases:
        ours = inf.ordered_logit(y, exog)
        x = np.concatenate([np.linspace(-40, 40, 2001), [-np.inf, np.inf]])
        assert np.array_equal(ours.cdf(x), stats.logistic.cdf(x))
        fast = ours.fit(method="bfgs", disp=False, maxiter=500)
        plain = OrderedModel(y, exog, distr="logit").fit(method="bfgs", disp=False, maxiter=500)
        for name in ("params", "bse", "pvalues"):
            assert np.array_equal(getattr(fast, name).to_numpy(),
                                  getattr(plain, name).to_numpy()), name
        assert (fast.mle_retvals["fcalls"], fast.mle_retvals["gcalls"]) == (
            plain.mle_retvals["fcalls"], plain.mle_retvals["gcalls"])
