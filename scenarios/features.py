"""Per-bar features from validated market data: returns, liquidity, range volatility, illiquidity.

All trailing statistics use past bars only, so a feature at bar ``t`` is known at the close of ``t``.

``returns``      log(close_t / close_{t-1}); NaN at the first bar and across a long gap.
``liquidity``    log volume ratio: log(max(volume_t, 1% of m_t) / m_t), m_t the median USD volume of the
                 previous ``lookback`` bars (30 days). 0 is a normal bar, -0.69 half the usual volume;
                 the floor keeps zero-volume bars finite (>= log 0.01 = -4.6).
``parkinson``    Parkinson range volatility per bar: sqrt(ln(high/low)^2 / (4 ln 2)).
``amihud``       Amihud illiquidity: |return| / USD volume, in return per $1M traded (NaN on zero volume).
``sigma_ref``    trailing standard deviation of returns over ``lookback`` bars up to and including ``t``:
                 the volatility scale of a window that starts after bar ``t``.
``ref_volume``   m_t above, USD per bar: the liquidity level that anchors a liquidity path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.market import MarketData

LOOKBACK_HOURS = 720.0  # 30 days
MIN_LOOKBACK_BARS = 30
VOLUME_FLOOR = 0.01


@dataclass(frozen=True)
class Features:
    """Aligned per-bar features; every frame is DataFrame[timestamp, asset] on the market's grid."""

    returns: pd.DataFrame
    liquidity: pd.DataFrame
    parkinson: pd.DataFrame
    amihud: pd.DataFrame
    sigma_ref: pd.DataFrame
    ref_volume: pd.DataFrame
    close: pd.DataFrame
    step_hours: float
    lookback_bars: int

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(self.returns.columns)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.returns.index


def lookback_bars(step_hours: float) -> int:
    """Bars in the 30-day trailing window (at least ``MIN_LOOKBACK_BARS``)."""
    return max(MIN_LOOKBACK_BARS, int(round(LOOKBACK_HOURS / step_hours)))


def log_returns(md: MarketData) -> pd.DataFrame:
    """Log close-to-close returns; NaN at the first bar and where the previous bar is not one step back."""
    close = md.field("close")
    r = np.log(close).diff()
    contiguous = md.frame.index.to_series().diff() == md.step
    r[~contiguous.to_numpy()] = np.nan
    return r


def compute_features(md: MarketData) -> Features:
    """All features for ``md`` (see module docstring for definitions and units)."""
    lb = lookback_bars(md.step_hours)
    minp = max(2, lb // 4)
    close = md.field("close")
    volume = md.field("volume")
    r = log_returns(md)
    ref_volume = volume.rolling(lb, min_periods=minp).median().shift(1)
    ref_volume = ref_volume.where(ref_volume > 0)
    liquidity = np.log(np.maximum(volume, VOLUME_FLOOR * ref_volume) / ref_volume)
    hl = np.log(md.field("high") / md.field("low"))
    parkinson = np.sqrt(hl**2 / (4.0 * np.log(2.0)))
    amihud = r.abs() / volume.where(volume > 0) * 1e6
    sigma_ref = r.rolling(lb, min_periods=minp).std()
    return Features(returns=r, liquidity=liquidity, parkinson=parkinson, amihud=amihud, sigma_ref=sigma_ref,
                    ref_volume=ref_volume, close=close, step_hours=md.step_hours, lookback_bars=lb)
