"""Fidelity metrics on the bundled data: identities, real halves, obvious fakes, adherence, copies, hand cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from scenarios.features import compute_features
from scenarios.fidelity import (TABLE_ROWS, evaluate, fidelity_table, jsonable, max_drawdown, pooled_acf,
                                selection_score, var_es)
from scenarios.windows import RealWindows, cut_windows


@pytest.fixture(scope="module")
def year_2018(hourly_windows) -> RealWindows:
    return hourly_windows.between("2018-01-01", "2019-01-01")


@pytest.fixture(scope="module")
def halves(year_2018) -> tuple[RealWindows, RealWindows]:
    """A random split of 2018's windows into two halves (same distribution, different windows)."""
    perm = np.random.default_rng(0).permutation(len(year_2018))
    k = len(perm) // 2
    return year_2018.subset(np.sort(perm[:k])), year_2018.subset(np.sort(perm[k:]))


@pytest.fixture(scope="module")
def halves_result(halves) -> dict:
    a, b = halves
    return evaluate(a.returns, a.liquidity, a.sigma, b, seed=0)


def _gaussian_like(w: RealWindows, vol: float, seed: int = 1) -> np.ndarray:
    z = np.random.default_rng(seed).standard_normal(w.returns.shape).astype(np.float32)
    return vol * z * w.sigma[:, None, :]


# ---------------------------------------------------------------------------------------------------- identities


def test_real_windows_against_themselves_score_zero(year_2018):
    w = year_2018
    res = evaluate(w.returns, w.liquidity, w.sigma, w, discriminate=False)
    errors = [k for k in res if k.startswith("w1_") or k.endswith(("_relerr", "_mse", "_abserr"))]
    assert len(errors) == 15 and all(res[k] == 0 for k in errors)
    assert res["mdd_w1"] == 0 and res["selection_score"] == 0


def test_random_halves_of_real_windows_are_close(halves_result):
    r = halves_result
    assert r["w1_step"] < 0.03 and r["w1_horizon"] < 0.08
    assert r["es_97.5_relerr"] < 0.1 and r["es_99_relerr"] < 0.15
    assert r["acf_abs_mse"] < 0.005 and r["mdd_w1"] < 0.003 and r["selection_score"] < 0.25


# ---------------------------------------------------------------------------------------------------- fakes


def test_iid_gaussian_paths_miss_the_volatility_clustering_real_halves_share(halves, halves_result):
    a, b = halves
    gauss = evaluate(_gaussian_like(a, 1.0), a.liquidity, a.sigma, b, discriminate=False)
    assert gauss["acf_abs_mse"] > 5 * halves_result["acf_abs_mse"]
    assert gauss["kurtosis_abserr"] > 5 * halves_result["kurtosis_abserr"]


def test_discriminator_separates_3x_vol_gaussian_fakes_but_not_real_halves(halves, halves_result):
    a, b = halves
    fake = evaluate(_gaussian_like(a, 3.0), a.liquidity, a.sigma, b, seed=0)
    assert fake["discriminative_score"] > 0.3 and halves_result["discriminative_score"] < 0.1


def test_real_flash_crash_windows_adhere_to_flash_crash(hourly_windows):
    fc = hourly_windows.of_regime("flash_crash")
    res = evaluate(fc.returns, fc.liquidity, fc.sigma, fc, requested_regime="flash_crash", discriminate=False)
    assert res["adherence"] == 1.0


def test_adherence_is_none_without_a_requested_regime(halves_result):
    assert halves_result["adherence"] is None and set(halves_result["regime_share_gen"]) == {
        "calm", "volatile", "flash_crash", "liquidity_drought"}


# ---------------------------------------------------------------------------------------------------- memorisation


def test_memorisation_flags_copies_of_training_windows_and_not_fresh_windows(hourly_windows):
    train = hourly_windows.between(end="2019-01-01")
    test = hourly_windows.between("2019-01-01", "2019-05-01")
    fresh = hourly_windows.between("2019-05-01")
    copies = train.subset(np.random.default_rng(0).choice(len(train), 3000))
    memo_copies = evaluate(copies.returns, copies.liquidity, copies.sigma, test, train=train, discriminate=False)
    memo_fresh = evaluate(fresh.returns, fresh.liquidity, fresh.sigma, test, train=train, discriminate=False)
    assert memo_copies["memorisation_share"] > 0.99 and memo_copies["memorisation_median_ratio"] < 0.01
    assert memo_fresh["memorisation_share"] < 0.05 and 0.7 < memo_fresh["memorisation_median_ratio"] < 1.4
    assert memo_copies["memorisation_copy_share"] == 1.0 and memo_fresh["memorisation_copy_share"] == 0.0


def test_copy_share_does_not_flag_milder_paths_as_copies(hourly_windows):
    train = hourly_windows.between(end="2019-01-01")
    crashes = hourly_windows.between("2019-01-01").of_regime("flash_crash")
    calm = hourly_windows.between("2019-01-01").of_regime("calm")
    calm = calm.subset(np.arange(min(len(calm), 2000)))
    res = evaluate(calm.returns, calm.liquidity, calm.sigma, crashes, train=train, discriminate=False)
    # calm paths sit nearer training windows than crash windows do (the data-copying share reads high) ...
    assert res["memorisation_share"] > 0.2
    # ... but none is a copy
    assert res["memorisation_copy_share"] == 0.0


# ---------------------------------------------------------------------------------------------------- hand cases


def test_var_and_es_by_hand():
    x = np.array([4.0, -5.0, 1.0, -3.0, 0.0, 2.0, -1.0, 3.0, 5.0, 6.0])  # sorted: -5 -3 -1 0 1 2 3 4 5 6
    assert var_es(x, 0.2) == (3.0, 4.0)  # k = 2: VaR = -(-3), ES = -mean(-5, -3)
    assert var_es(x, 0.25) == (1.0, 3.0)  # k = ceil(2.5) = 3: VaR = -(-1), ES = -mean(-5, -3, -1)
    assert var_es(x, 0.001) == (5.0, 5.0)  # k = 1: the worst outcome


def test_tail_metrics_and_relative_errors_by_hand(year_2018):
    w = year_2018.subset(np.arange(1000))
    doubled = evaluate(2 * w.returns, w.liquidity, w.sigma, w, discriminate=False)
    assert doubled["es_99_gen"] == pytest.approx(2 * doubled["es_99_real"], rel=1e-5)
    assert doubled["es_99_relerr"] == pytest.approx(1.0, rel=1e-5)


def test_pooled_acf_and_max_drawdown_by_hand():
    x = np.tile([1.0, -1.0], (3, 4))  # alternating within every window
    np.testing.assert_allclose(pooled_acf(x, x, np.array([1, 2])), [-1.0, 1.0])
    r = np.array([0.1, -0.3, 0.1, 0.15])[None, :, None]  # log price 0.1, -0.2, -0.1, 0.05: peak 0.1, trough -0.2
    assert max_drawdown(r)[0, 0] == pytest.approx(0.3)
    assert max_drawdown(-np.abs(r))[0, 0] == pytest.approx(0.65)  # running peak is the start, 0


# ---------------------------------------------------------------------------------------------------- several assets


def test_cross_asset_correlation_on_daily_btc_eth_ltc(daily):
    w = cut_windows(compute_features(daily), 20, 10)
    same = evaluate(w.returns, w.liquidity, w.sigma, w, discriminate=False)
    shuffled = w.returns[:, :, [0, 2, 1]].copy()
    shuffled[:, :, 0] = w.returns[np.random.default_rng(0).permutation(len(w)), :, 0]  # BTC decoupled
    broken = evaluate(shuffled, w.liquidity, w.sigma, w, discriminate=False)
    assert same["corr_frobenius"] == 0 and np.array(same["corr_real"])[0, 1] > 0.5
    assert broken["corr_frobenius"] > 0.5


def test_one_asset_has_no_cross_correlation(halves_result):
    assert math.isnan(halves_result["corr_frobenius"])


# ---------------------------------------------------------------------------------------------------- outputs


def test_selection_score_prefers_real_halves_to_gaussian_paths(halves):
    a, b = halves
    real = selection_score(a.returns, a.liquidity, a.sigma, b)
    gauss = selection_score(_gaussian_like(a, 1.0), a.liquidity, a.sigma, b)
    assert set(real) == {"selection_score", "es_error", "acf_abs_error", "mdd_error"}
    assert gauss["selection_score"] > 2 * real["selection_score"]


def test_fidelity_table_puts_sources_side_by_side(halves_result):
    table = fidelity_table({"real half": halves_result, "again": halves_result})
    assert list(table.columns) == ["real half", "again"]
    assert list(table.index) == [k for k in TABLE_ROWS if k in table.index] and "es_99_relerr" in table.index
    assert table.loc["adherence"].isna().all() and table.loc["n_gen"].iloc[0] == halves_result["n_gen"]


def test_results_are_strict_json(halves_result):
    text = json.dumps(jsonable(halves_result), allow_nan=False)
    assert json.loads(text)["corr_frobenius"] is None


def test_mismatched_shapes_give_a_clear_input_error(year_2018):
    w = year_2018
    with pytest.raises(InputError, match="cut real windows with the pack's horizon"):
        evaluate(w.returns[:, :12], w.liquidity[:, :12], w.sigma, w)
    with pytest.raises(InputError, match="expected \\[n, h, a\\]"):
        evaluate(w.returns, w.liquidity[:, :, 0], w.sigma, w)
