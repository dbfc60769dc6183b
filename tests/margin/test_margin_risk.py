"""Risk metrics, bootstrap intervals, summaries and margin backtests."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from margin import simulate, summarize
from margin.backtest import (backtest_margin, christoffersen_conditional_coverage, christoffersen_independence,
                             kupiec_pof)
from margin.risk import LEVELS, bootstrap_proportion, bootstrap_sparse_mean, bootstrap_var_es, max_drawdown, var_es
from margin_helpers import random_paths, simple_venue


def test_var_and_es_of_1_to_100_by_hand():
    # 95%: k = ceil(0.05 x 100) = 5 largest losses 96..100 -> VaR 96, ES 98
    var, es = var_es(np.arange(1.0, 101.0), (0.95,))
    assert (var[0], es[0]) == (96.0, 98.0)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.integers(1, 400), elements=st.floats(-1e6, 1e6)))
def test_es_is_never_below_var(losses):
    var, es = var_es(losses)
    assert np.all(es >= var - 1e-9 * (1 + np.abs(var)))


def test_max_drawdown_by_hand():
    assert max_drawdown(np.array([[100.0, 120.0, 90.0, 130.0, 125.0]]))[0] == 30.0


def test_bootstrap_is_reproducible_with_a_seed():
    x = np.random.default_rng(0).standard_normal(5000)
    a = bootstrap_var_es(x, LEVELS, np.random.default_rng(7), 200)
    b = bootstrap_var_es(x, LEVELS, np.random.default_rng(7), 200)
    np.testing.assert_array_equal(a[1], b[1])


def test_bootstrap_var_interval_covers_the_true_normal_quantile():
    x = np.random.default_rng(1).standard_normal(200000)
    var_ci, _ = bootstrap_var_es(x, (0.99,), np.random.default_rng(2), 400)
    assert var_ci[0, 0] < 2.3263 < var_ci[0, 1]


def test_bootstrap_es_interval_covers_the_true_normal_es():
    # ES_99 of N(0,1) = phi(2.3263) / 0.01 = 2.6652
    x = np.random.default_rng(3).standard_normal(200000)
    _, es_ci = bootstrap_var_es(x, (0.99,), np.random.default_rng(4), 400)
    assert es_ci[0, 0] < 2.6652 < es_ci[0, 1]


def test_proportion_interval_matches_the_binomial_standard_error():
    lo, hi = bootstrap_proportion(0.1, 10000, np.random.default_rng(0), 4000)
    se = math.sqrt(0.1 * 0.9 / 10000)
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_sparse_mean_interval_covers_the_mean():
    x = np.zeros(100000)
    x[np.random.default_rng(5).choice(100000, 300, replace=False)] = 1000.0
    lo, hi = bootstrap_sparse_mean(x, np.random.default_rng(6), 1000)
    assert lo < x.mean() < hi


def test_summary_is_plain_json():
    res = simulate("leveraged_long_perp", random_paths(500, 24, vol=0.02))
    summary = summarize(res, n_boot=100)
    assert json.loads(json.dumps(summary))["loss_es"]["99"]["value"] >= summary["loss_var"]["99"]["value"]


def test_summary_losses_are_minus_pnl():
    res = simulate("leveraged_long_perp", random_paths(500, 24, vol=0.02))
    worst = summarize(res, levels=(0.999,), n_boot=50)["loss_es"]["99.9"]["value"]
    assert worst == pytest.approx(-res.final_pnl_usd.min())


def test_kupiec_statistic_by_hand():
    # n = 250, x = 5, p = 1%: LR = -2[245 ln 0.99 + 5 ln 0.01 - 245 ln 0.98 - 5 ln 0.02]
    expected = -2 * (245 * math.log(0.99) + 5 * math.log(0.01) - 245 * math.log(0.98) - 5 * math.log(0.02))
    assert kupiec_pof(np.r_[np.ones(5), np.zeros(245)].astype(bool), 0.99).statistic == pytest.approx(expected)


def test_kupiec_with_no_exceedances_by_hand():
    # x = 0: LR = -2 n ln(1 - p)
    assert kupiec_pof(np.zeros(500, bool), 0.99).statistic == pytest.approx(-2 * 500 * math.log(0.99))


def test_christoffersen_rejects_clustered_exceedances():
    clustered = np.zeros(500, bool)
    clustered[200:206] = True
    assert christoffersen_independence(clustered).p_value < 0.01


def test_christoffersen_accepts_isolated_exceedances():
    isolated = np.zeros(500, bool)
    isolated[[50, 170, 290, 410]] = True
    assert christoffersen_independence(isolated).p_value > 0.5


def test_conditional_coverage_has_two_degrees_of_freedom():
    assert christoffersen_conditional_coverage(np.zeros(100, bool), 0.99).dof == 2


def _iid_backtest(confidence):
    # i.i.d. Student-t hourly returns, 300 non-overlapping 24h windows after a 2000h lookback
    rng = np.random.default_rng(11)
    r = 0.006 * rng.standard_t(5, size=(2000 + 24 * 300, 1)) / math.sqrt(5 / 3)
    prices = 30000.0 * np.exp(np.vstack([np.zeros((1, 1)), np.cumsum(r, axis=0)]))
    venue = simple_venue(margin={"es": {"confidence": confidence, "apc_buffer": 0.0, "lookback_hours": 2000}})
    return backtest_margin("leveraged_long_perp", prices, ("BTC",), 1.0, "es", venue=venue, lookback_steps=2000)


def test_es_margin_at_97_5_backtests_as_a_99_percent_margin():
    # ES at 97.5% is close to VaR at 99% for near-normal tails (the Basel FRTB calibration)
    assert _iid_backtest(0.975).kupiec().p_value > 0.05


def test_margin_set_far_too_low_is_rejected_by_kupiec():
    assert _iid_backtest(0.6).kupiec().p_value < 0.001
