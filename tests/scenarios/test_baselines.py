"""Baselines on the bundled data: fits, the filter and simulator against arch, stress starts, replay, determinism."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import gammaln

from scenarios.baselines import (BLOCK_PATHS, FHS, GARCH, GJR, Historical, make_baseline, select_windows,
                                 starts_for_regime)
from scenarios.baselines.innovations import Innovations
from scenarios.baselines.liquidity import LiquidityAR
from scenarios.baselines.volatility import filter_variance, recurse_paths
from scenarios.errors import InputError
from scenarios.features import compute_features
from scenarios.regimes import FLASH_CRASH, label_windows
from scenarios.windows import cut_windows

TRAIN_END = pd.Timestamp("2019-01-01", tz="UTC")


@pytest.fixture(scope="module")
def gjr(hourly_features):
    return GJR().fit(hourly_features, TRAIN_END)


@pytest.fixture(scope="module")
def fhs(hourly_features):
    return FHS().fit(hourly_features, TRAIN_END)


@pytest.fixture(scope="module")
def historical(hourly_features):
    return Historical().fit(hourly_features, TRAIN_END)


@pytest.fixture(scope="module")
def daily_features(daily):
    return compute_features(daily)


@pytest.fixture(scope="module")
def btc_percent(hourly_features):
    r = hourly_features.returns["BTC"].dropna()
    return r * 100.0


def _arch_fixed(y: pd.Series, p):
    from arch import arch_model

    am = arch_model(y, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False)
    return am.fix([p.mu, p.omega, p.alpha, p.gamma, p.beta, p.nu])


def _collect(chunks):
    parts = list(chunks)
    return tuple(np.concatenate(xs) for xs in zip(*parts))


# ---------------------------------------------------------------------------------------------------- fits


def test_gjr_on_hourly_btc_finds_a_significant_leverage_effect(gjr, hourly_features):
    p = gjr.garch_params[0]
    garch = GARCH().fit(hourly_features, TRAIN_END).garch_params[0]
    # gamma > 0 (bad news raises hourly BTC variance more), and it pays for itself in likelihood (LR >> 3.84)
    assert p.gamma > 0.02 and 2 * (p.loglik - garch.loglik) > 20
    assert p.converged and 2.5 < p.nu < 6 and 0.98 < p.persistence < 1.001  # near-integrated, as crypto is


def test_params_are_json_for_every_baseline(gjr, fhs, historical, hourly_windows):
    historical.windows(24)
    for b in (gjr, fhs, historical):
        assert json.loads(json.dumps(b.params()))["source"] == b.name


# ---------------------------------------------------------------------------------------------------- filter


def test_filter_equals_arch_conditional_volatility_on_the_training_sample(gjr, btc_percent):
    p = gjr.garch_params[0]
    y = btc_percent[btc_percent.index < TRAIN_END]
    ours = np.sqrt(filter_variance(y.to_numpy() / 100.0, p)[:-1])
    np.testing.assert_allclose(ours, _arch_fixed(y, p).conditional_volatility.to_numpy(), rtol=1e-10)


def test_filter_through_the_test_period_equals_arch_fixed_parameters(gjr, btc_percent):
    p = gjr.garch_params[0]
    arch_vol = _arch_fixed(btc_percent, p).conditional_volatility  # arch's backcast uses the full-sample mean
    ours = gjr.conditional_volatility()["BTC"].reindex(arch_vol.index) * 100.0
    np.testing.assert_allclose(ours.to_numpy()[500:], arch_vol.to_numpy()[500:], rtol=1e-9)


def test_start_state_is_arch_one_step_forecast_from_the_context_end(gjr, btc_percent):
    p = gjr.garch_params[0]
    pos = btc_percent.index.get_loc(pd.Timestamp("2019-06-26 18:00", tz="UTC"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = _arch_fixed(btc_percent.iloc[:pos + 1], p).forecast(horizon=1, reindex=False)
    state = gjr.start_state(pd.DatetimeIndex([btc_percent.index[pos + 1]]))
    assert state.sigma2[0, 0] == pytest.approx(fc.variance.iloc[0, 0], rel=1e-9)


# ---------------------------------------------------------------------------------------------------- simulator


def _arch_simulation(gjr, btc_percent, when: str, n: int, h: int, **kw):
    p = gjr.garch_params[0]
    pos = btc_percent.index.get_loc(pd.Timestamp(when, tz="UTC"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = _arch_fixed(btc_percent.iloc[:pos + 1], p).forecast(  # forecast from the last bar only
            horizon=h, method="simulation", simulations=n, reindex=False, **kw)
    state = gjr.start_state(pd.DatetimeIndex([btc_percent.index[pos + 1]]))
    stacked = {k: np.array([getattr(p, k)]) for k in ("mu", "omega", "alpha", "gamma", "beta")}
    return fc.simulations, lambda z: recurse_paths(stacked, np.repeat(state.sigma2, len(z), axis=0), z)


def test_simulator_reproduces_arch_paths_given_the_same_shocks(gjr, btc_percent):
    z = gjr.innovations.draw(np.random.default_rng(5), 2000, 24)
    sims, ours = _arch_simulation(gjr, btc_percent, "2019-06-26 18:00", 2000, 24, rng=lambda size: z[:, :, 0])
    r, var = ours(z)
    np.testing.assert_allclose(var[:, :, 0], sims.variances[0], rtol=1e-10)
    np.testing.assert_allclose(r[:, :, 0] * 100.0, sims.values[0], rtol=1e-10, atol=1e-12)


def test_simulator_matches_arch_forecast_simulation_in_distribution(gjr, btc_percent):
    n, h = 20000, 24  # from the bar before the 2019-06-26 crash, arch's own t draws against ours
    sims, ours = _arch_simulation(gjr, btc_percent, "2019-06-26 18:00", n, h,
                                  random_state=np.random.RandomState(1))
    arch_var, arch_cum = sims.variances[0], sims.values[0].sum(axis=1) / 100.0
    r, var = ours(gjr.innovations.draw(np.random.default_rng(2), n, h))
    ours_var, ours_cum = var[:, :, 0], r[:, :, 0].sum(axis=1)
    # variance path: the mean per step within 4 Monte-Carlo standard errors, the last step's distribution (KS)
    se = np.sqrt(ours_var.var(axis=0) / n + arch_var.var(axis=0) / n)
    assert (np.abs(ours_var.mean(axis=0) - arch_var.mean(axis=0)) <= 4 * se + 1e-9 * arch_var.mean(axis=0)).all()
    assert stats.ks_2samp(ours_var[:, -1], arch_var[:, -1]).pvalue > 0.001
    # cumulative returns: same distribution (KS) and tail quantiles within Monte-Carlo error
    assert stats.ks_2samp(ours_cum, arch_cum).pvalue > 0.001
    for q in (0.01, 0.05, 0.5, 0.95, 0.99):
        se_q = _quantile_se(arch_cum, q)
        assert abs(np.quantile(ours_cum, q) - np.quantile(arch_cum, q)) < 4 * np.sqrt(2) * se_q


def _quantile_se(x: np.ndarray, q: float, n_boot: int = 200) -> float:
    rng = np.random.default_rng(0)
    boots = [np.quantile(rng.choice(x, len(x)), q) for _ in range(n_boot)]
    return float(np.std(boots))


def test_skew_t_margin_matches_arch_skew_student():
    from arch.univariate import SkewStudent

    inn = Innovations("skewt", np.array([4.5]), np.array([-0.2]), np.eye(1))
    u = np.linspace(0.001, 0.999, 41)
    np.testing.assert_allclose(inn.ppf(u, 0), SkewStudent().ppf(u, [4.5, -0.2]), rtol=1e-8, atol=1e-10)
    z = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(inn.cdf(z, 0), SkewStudent().cdf(z, [4.5, -0.2]), rtol=1e-8, atol=1e-12)
    draws = inn.draw(np.random.default_rng(0), 40000, 1).ravel()
    assert stats.kstest(draws, lambda x: SkewStudent().cdf(x, [4.5, -0.2])).pvalue > 0.01


@pytest.mark.parametrize("dist", ["t", "skewt"])
def test_copula_margin_table_matches_the_exact_quantile_transform(dist):
    inn = Innovations(dist, np.array([3.3, 8.0]), np.array([-0.2, 0.1]) if dist == "skewt" else np.zeros(2),
                      np.array([[1.0, 0.6], [0.6, 1.0]]))
    z = inn.draw(np.random.default_rng(0), 5000, 24)
    g = np.random.default_rng(0).standard_normal((5000, 24, 2)) @ np.linalg.cholesky(inn.corr).T  # same draws
    exact = np.stack([inn.quantile_of_normal_score(np.clip(g[..., j], -7.03, 7.03), j) for j in range(2)], -1)
    np.testing.assert_allclose(z, exact, rtol=1e-6, atol=1e-6)
    # the upper tail is computed from Phi(-g): it agrees with the plain inverse CDF where that is accurate
    u = np.linspace(0.001, 0.999, 23)
    from scipy import special
    np.testing.assert_allclose(inn.quantile_of_normal_score(special.ndtri(u), 0), inn.ppf(u, 0), rtol=1e-9)


def test_stress_start_before_2017_12_22_gives_higher_simulated_vol_than_a_calm_start(gjr):
    crash = pd.DatetimeIndex([pd.Timestamp("2017-12-22 00:00", tz="UTC")])
    calm = pd.DatetimeIndex([pd.Timestamp("2018-11-01 00:00", tz="UTC")])  # BTC's quietest weeks in the data
    r_crash, _ = _collect(gjr.simulate(crash, 5000, 24, seed=1))
    r_calm, _ = _collect(gjr.simulate(calm, 5000, 24, seed=1))
    ratio = float(r_crash.sum(axis=1).std() / r_calm.sum(axis=1).std())
    assert ratio > 3.0


def test_fhs_keeps_the_cross_asset_residual_correlation_in_stress(daily_features):
    fhs = FHS().fit(daily_features, TRAIN_END)
    windows = cut_windows(daily_features, 20, 10).between(end=TRAIN_END)
    start = starts_for_regime(windows, "flash_crash", severity=1.0)[:1]
    r, _ = _collect(fhs.simulate(start, 20000, 10, seed=3))
    resid = fhs.standardised_residuals()
    target = resid[resid.index < TRAIN_END].dropna().corr().to_numpy()
    sim = np.corrcoef(r[:, 0, :], rowvar=False)  # first step: one state, so corr(r) = corr of the residual rows
    assert target[0, 1] > 0.5 and np.abs(sim - target).max() < 0.03


def test_gjr_copula_keeps_the_residual_correlation_on_daily_data(daily_features):
    gjr3 = GJR().fit(daily_features, TRAIN_END)
    start = pd.DatetimeIndex([pd.Timestamp("2018-06-01", tz="UTC")])
    r, _ = _collect(gjr3.simulate(start, 20000, 2, seed=4))
    sim = stats.spearmanr(r[:, 0, :]).statistic
    resid = gjr3.standardised_residuals()
    target = stats.spearmanr(resid[resid.index < TRAIN_END].dropna()).statistic
    assert np.abs(sim - target).max() < 0.03


def test_skew_t_gjr_on_three_assets_fits_left_skew_and_simulates(daily_features):
    b = make_baseline("gjr", dist="skewt").fit(daily_features, TRAIN_END)
    lam = {k: v["lam"] for k, v in b.params()["per_asset"].items()}
    r, q = next(b.simulate(pd.DatetimeIndex(["2019-06-27"]), 1000, 10, seed=0))
    assert lam["BTC"] < 0 and r.shape == q.shape == (1000, 10, 3) and np.isfinite(r).all()


# ---------------------------------------------------------------------------------------------------- historical


def test_historical_flash_crash_replay_returns_only_real_crash_windows(historical, hourly_features):
    r, q, sigma, start = _collect(historical.simulate_chunks(pd.DatetimeIndex([TRAIN_END]), 3000, 24, seed=5,
                                                             regime="flash_crash"))
    windows = historical.windows(24)
    pos = windows.start.get_indexer(pd.DatetimeIndex(start, tz="UTC"))
    assert (pos >= 0).all() and (windows.labels.regime[pos] == FLASH_CRASH).all()
    np.testing.assert_array_equal(r, windows.returns[pos])
    np.testing.assert_array_equal(q, windows.liquidity[pos])
    assert (label_windows(r, q, sigma, windows.rules, 1.0).regime == FLASH_CRASH).all()
    assert pd.DatetimeIndex(start, tz="UTC").max() < TRAIN_END


def test_severity_band_prefers_windows_near_the_requested_quantile(hourly_windows):
    w = hourly_windows.between(end=TRAIN_END)
    worst = select_windows(w, "flash_crash", 1.0)
    mild = select_windows(w, "flash_crash", 0.0)
    assert len(worst) >= 20 and np.median(w.labels.severity[worst]) > np.median(w.labels.severity[mild])


# ---------------------------------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("name", ["gjr", "fhs", "historical"])
def test_same_seed_same_bytes_whatever_the_chunk_size(name, gjr, fhs, historical, hourly_windows):
    b = {"gjr": gjr, "fhs": fhs, "historical": historical}[name]
    starts = starts_for_regime(hourly_windows.between(end=TRAIN_END), "volatile")
    n = BLOCK_PATHS + 1500  # crosses a block boundary
    big = _collect(b.simulate(starts, n, 24, seed=11))
    small = _collect(b.simulate(starts, n, 24, seed=11, chunk_size=777))
    other = _collect(b.simulate(starts, n, 24, seed=12, chunk_size=777))
    assert big[0].tobytes() == small[0].tobytes() and big[1].tobytes() == small[1].tobytes()
    assert big[0].dtype == np.float32 and big[0].shape == (n, 24, 1)
    assert not np.array_equal(big[0], other[0])


def test_context_index_picks_each_paths_start(gjr, hourly_windows):
    starts = pd.DatetimeIndex([pd.Timestamp("2018-03-01", tz="UTC"), pd.Timestamp("2017-12-22", tz="UTC")])
    ctx = np.array([1, 1, 0, 1])
    *_, sigma, start = _collect(gjr.simulate_chunks(starts, 4, 24, seed=0, context_index=ctx))
    assert (pd.DatetimeIndex(start, tz="UTC") == starts[ctx]).all()


# ---------------------------------------------------------------------------------------------------- liquidity


def test_liquidity_rule_ols_recovers_known_parameters():
    rng = np.random.default_rng(0)
    T, c, phi, beta, s = 60000, -0.2, 0.75, 0.3, 0.4
    abs_z = np.abs(rng.standard_t(4, size=(T, 1)))
    q = np.empty((T, 1))
    q[0] = 0.0
    for t in range(1, T):
        q[t] = c + phi * q[t - 1] + beta * abs_z[t] + s * rng.standard_normal()
    m, resid = LiquidityAR.fit(q, abs_z)
    assert np.allclose([m.c[0], m.phi[0], m.beta[0], m.sigma_e[0]], [c, phi, beta, s], atol=0.015)
    assert np.isnan(resid[0, 0]) and abs(np.nanmean(resid)) < 1e-10


def test_liquidity_path_starts_from_the_contexts_last_real_value(gjr, hourly_features):
    start = pd.Timestamp("2018-11-20 05:00", tz="UTC")
    _, q = _collect(gjr.simulate(pd.DatetimeIndex([start]), 8000, 1, seed=0))
    m, nu = gjr.liquidity_model, gjr.garch_params[0].nu
    q_prev = hourly_features.liquidity["BTC"].loc[:start].iloc[-2]  # the bar before the start
    # E|z| of the standardised Student-t margin
    abs_z = np.sqrt(nu - 2) * np.exp(gammaln((nu + 1) / 2) - gammaln(nu / 2)) / (np.sqrt(np.pi) * (nu - 1) / 2)
    expected = m.c[0] + m.phi[0] * q_prev + m.beta[0] * abs_z
    assert abs(q[:, 0, 0].mean() - expected) < 0.03


# ---------------------------------------------------------------------------------------------------- errors


def test_bad_requests_give_one_line_input_errors(gjr):
    start = pd.DatetimeIndex([pd.Timestamp("2018-06-01", tz="UTC")])
    with pytest.raises(InputError, match="unknown baseline"):
        make_baseline("egarch")
    with pytest.raises(InputError, match="severity needs a regime"):
        next(gjr.simulate(start, 10, 24, seed=0, severity=0.5))
    with pytest.raises(InputError, match="unknown regime"):
        next(gjr.simulate(start, 10, 24, seed=0, regime="meltdown"))
    with pytest.raises(InputError, match="not after the data's first bar"):
        next(gjr.simulate(pd.DatetimeIndex(["2015-01-01"]), 10, 24, seed=0))
    with pytest.raises(InputError, match="horizon must be a positive integer"):
        next(gjr.simulate(start, 10, 0, seed=0))
    with pytest.raises(InputError, match="bars before train_end"):
        GJR().fit(compute_features_short(), None)


def compute_features_short():
    from scenarios.market import load_market

    return compute_features(load_market().between("2018-01-01", "2018-01-05"))
