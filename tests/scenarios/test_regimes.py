"""Regime rules on known real crash episodes and on hand-made paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.episodes import find_episodes, hours_by_regime
from scenarios.regimes import (FLASH_CRASH, LIQUIDITY_DROUGHT, REGIMES, VOLATILE, RegimeRules, SeverityScale,
                               label_windows, regime_index)

RULES = RegimeRules(drought_illiquidity=0.65)


@pytest.fixture(scope="module")
def episodes(hourly_features, hourly_windows):
    return find_episodes(hourly_features, hourly_windows.rules, window=24)


def crash_covering(episodes: pd.DataFrame, when: str) -> pd.DataFrame:
    t = pd.Timestamp(when, tz="UTC")
    e = episodes[episodes.regime == "flash_crash"]
    return e[(e.start <= t) & (e.end >= t)]


@pytest.mark.parametrize("when", [
    "2017-12-22 13:00",  # -13.2% in one hour, ~-29% within 24 h
    "2018-02-05 18:00",  # ~-31% within 24 h, first leg
    "2018-02-06 01:00",  # second leg
    "2019-06-26 20:00",  # -8.5% in one hour
    "2019-09-24 18:00",  # -9.3% in one hour
    "2018-11-24 21:00",  # -8.5% in one hour
])
def test_known_flash_crash_is_found(episodes, when):
    assert len(crash_covering(episodes, when)) == 1


def test_2017_12_22_episode_falls_more_than_a_fifth(episodes):
    # the source notes about -29% within 24 h; the episode holds the fast legs up to 14:00 (-23%)
    assert crash_covering(episodes, "2017-12-22 13:00").drawdown.iloc[0] < np.log(0.8)


def test_flash_crashes_are_rare_and_calm_dominates(hourly_features, hourly_windows):
    hours = hours_by_regime(hourly_features, hourly_windows.rules, window=24)
    total = sum(hours.values())
    assert hours["flash_crash"] / total < 0.03 and hours["calm"] / total > 0.6


def test_every_regime_has_episodes_on_the_hourly_data(episodes):
    assert set(episodes.regime) == {"volatile", "flash_crash", "liquidity_drought"}


def test_real_windows_holding_the_2019_09_24_drop_are_labelled_flash_crash(hourly_windows):
    t = pd.Timestamp("2019-09-24 18:00", tz="UTC")
    inside = (hourly_windows.start <= t - pd.Timedelta(hours=2)) & (hourly_windows.start >= t - pd.Timedelta(hours=20))
    assert (hourly_windows.labels.regime[inside] == FLASH_CRASH).all()


def path(returns, liquidity=None, sigma=0.01):
    r = np.asarray(returns, np.float32)[None, :, None]
    q = np.zeros_like(r) if liquidity is None else np.asarray(liquidity, np.float32)[None, :, None]
    return label_windows(r, q, np.array([[sigma]], np.float32), RULES, step_hours=1.0)


def test_fast_twenty_percent_drop_is_a_flash_crash_with_z_severity():
    r = np.zeros(24)
    r[10:13] = np.log(0.8) / 3  # -20% over 3 bars with sigma 1%
    lab = path(r)
    assert (lab.regime[0], round(float(lab.severity[0]), 3)) == (FLASH_CRASH, round(-np.log(0.8) / (0.01 * np.sqrt(3)), 3))


def test_slow_twenty_percent_drop_over_a_day_is_not_a_flash_crash():
    lab = path(np.full(24, np.log(0.8) / 24), sigma=0.02)  # 0.93% a bar, never 3.5 sigma sqrt(d) within 12 bars
    assert lab.regime[0] != FLASH_CRASH


def test_small_drop_in_a_very_calm_market_needs_the_absolute_floor():
    r = np.zeros(24)
    r[5] = -0.05  # 50 sigma but only -5%
    assert path(r, sigma=0.001).regime[0] != FLASH_CRASH


def test_volume_collapse_with_moves_is_a_liquidity_drought():
    rng = np.random.default_rng(0)
    lab = path(rng.normal(0, 0.01, 24), liquidity=np.full(24, np.log(0.3)))
    assert lab.regime[0] == LIQUIDITY_DROUGHT


def test_volume_collapse_without_moves_is_not_a_drought():
    assert path(np.zeros(24), liquidity=np.full(24, np.log(0.3))).regime[0] != LIQUIDITY_DROUGHT


def test_doubled_volatility_is_volatile():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.02, 24)
    r *= 0.02 / np.sqrt(np.mean(r**2))
    assert path(r).regime[0] == VOLATILE


def test_worst_asset_decides_the_label_of_a_multi_asset_window():
    r = np.zeros((1, 24, 2), np.float32)
    r[0, 3:5, 1] = np.log(0.7) / 2
    lab = label_windows(r, np.zeros_like(r), np.full((1, 2), 0.01, np.float32), RULES, 1.0)
    assert lab.regime[0] == FLASH_CRASH


def test_labeller_refuses_uncalibrated_rules():
    with pytest.raises(ValueError, match="not calibrated"):
        label_windows(np.zeros((1, 24, 1)), np.zeros((1, 24, 1)), np.ones((1, 1)), RegimeRules(), 1.0)


def test_severity_scale_round_trips_quantiles(hourly_windows):
    scale = SeverityScale.fit(hourly_windows.labels)
    s = scale.to_severity("flash_crash", 0.7)
    assert np.isclose(scale.to_quantile("flash_crash", np.array([s]))[0], 0.7, atol=0.01)


def test_regime_names_resolve_and_unknown_names_are_refused():
    assert regime_index("Flash-Crash") == REGIMES.index("flash_crash")
    with pytest.raises(ValueError, match="unknown regime 'boom'"):
        regime_index("boom")


def test_daily_multi_asset_data_labels_its_windows(daily):
    from scenarios.features import compute_features
    from scenarios.windows import cut_windows

    w = cut_windows(compute_features(daily), context_len=20, horizon=10)
    assert len(w) > 600 and w.regime_counts()["calm"] > 0
