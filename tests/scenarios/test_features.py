"""Per-bar features: hand-computed values and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.features import compute_features, lookback_bars
from scenarios.market import MarketData


def market(close, volume, high=None, low=None, freq="1h") -> MarketData:
    n = len(close)
    idx = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC", name="timestamp").as_unit("ns")
    close = np.asarray(close, float)
    frame = pd.DataFrame({("X", "open"): close, ("X", "high"): high if high is not None else close,
                          ("X", "low"): low if low is not None else close, ("X", "close"): close,
                          ("X", "volume"): np.asarray(volume, float)}, index=idx)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["asset", "field"])
    return MarketData(frame, pd.Timedelta(freq), "test")


def test_log_return_is_log_of_close_ratio():
    f = compute_features(market([100.0, 110.0, 99.0], [1, 1, 1]))
    assert np.allclose(f.returns["X"].to_numpy()[1:], [np.log(1.1), np.log(0.9)])


def test_constant_volume_has_zero_liquidity_once_the_median_exists():
    f = compute_features(market(np.full(400, 50.0), np.full(400, 7.0)))
    q = f.liquidity["X"].dropna()
    assert len(q) > 200 and np.allclose(q, 0.0)


def test_half_volume_bar_has_liquidity_log_one_half():
    vol = np.full(400, 8.0)
    vol[300] = 4.0
    f = compute_features(market(np.full(400, 50.0), vol))
    assert np.isclose(f.liquidity["X"].iloc[300], np.log(0.5))


def test_zero_volume_bar_sits_at_the_liquidity_floor():
    vol = np.full(400, 8.0)
    vol[300] = 0.0
    f = compute_features(market(np.full(400, 50.0), vol))
    assert np.isclose(f.liquidity["X"].iloc[300], np.log(0.01))


def test_parkinson_volatility_of_a_bar_by_hand():
    f = compute_features(market([100.0, 100.0], [1, 1], high=[101.0, 110.0], low=[99.0, 100.0]))
    assert np.isclose(f.parkinson["X"].iloc[1], np.log(1.1) / np.sqrt(4 * np.log(2)))


def test_amihud_is_abs_return_per_million_usd():
    f = compute_features(market([100.0, 102.0], [1e6, 2e6]))
    assert np.isclose(f.amihud["X"].iloc[1], abs(np.log(1.02)) / 2e6 * 1e6)


def test_lookback_is_30_days_of_bars():
    assert (lookback_bars(1.0), lookback_bars(24.0)) == (720, 30)


@settings(max_examples=20, deadline=None)
@given(cut=st.integers(min_value=120, max_value=380), seed=st.integers(0, 2**16))
def test_features_at_a_bar_do_not_depend_on_later_bars(cut, seed):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    vol = rng.lognormal(10, 1, 400)
    full = compute_features(market(close, vol))
    close2, vol2 = close.copy(), vol.copy()
    close2[cut + 1:] *= 3.0  # rewrite the future
    vol2[cut + 1:] /= 50.0
    part = compute_features(market(close2, vol2))
    for name in ("returns", "liquidity", "sigma_ref", "ref_volume"):
        a, b = getattr(full, name).iloc[: cut + 1], getattr(part, name).iloc[: cut + 1]
        pd.testing.assert_frame_equal(a, b)
