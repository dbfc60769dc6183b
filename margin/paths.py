"""The margin engine's input: joint price and liquidity paths as plain arrays plus a small description.

Any scenario source can feed the engine (packs, hand-made paths in tests); nothing here knows where the
paths came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class MarketPaths:
    """Scenario paths for the margin engine.

    Parameters
    ----------
    returns : float32[n_paths, horizon_steps, n_assets]
        Log returns of the spot (index) price per step.
    liquidity : float32[n_paths, horizon_steps, n_assets]
        Log of the step's traded volume relative to the reference volume (0 = a normal step,
        -1.0 = volume at 37% of normal). Drives liquidation slippage.
    assets : tuple of str
        Asset codes, e.g. ``("BTC",)``; quote currency is USD.
    step_hours : float
        Length of one step in hours (1.0 for hourly bars, 24.0 for daily).
    start_prices : float64[n_assets]
        Spot prices in USD at step 0 (before the first return).
    ref_volume_usd : float64[n_assets]
        USD volume traded in one step at liquidity 0 (e.g. the trailing median step volume).
    history_returns : float32[n_hist, n_assets] or None
        Real log returns per step before the paths start (oldest first); lookback for ES margin and for the
        starting implied-volatility level. Optional.
    """

    returns: np.ndarray
    liquidity: np.ndarray
    assets: tuple[str, ...]
    step_hours: float
    start_prices: np.ndarray
    ref_volume_usd: np.ndarray
    history_returns: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        r, q = np.asarray(self.returns), np.asarray(self.liquidity)
        if r.ndim != 3:
            raise ValueError(f"returns must be [n_paths, horizon, n_assets], got shape {r.shape}")
        if q.shape != r.shape:
            raise ValueError(f"liquidity shape {q.shape} differs from returns shape {r.shape}")
        n_assets = r.shape[2]
        if len(self.assets) != n_assets:
            raise ValueError(f"{len(self.assets)} asset names for {n_assets} assets in returns")
        if np.asarray(self.start_prices).shape != (n_assets,):
            raise ValueError(f"start_prices must have shape ({n_assets},)")
        if np.any(~(np.asarray(self.start_prices) > 0)):
            raise ValueError("start_prices must be positive")
        if np.asarray(self.ref_volume_usd).shape != (n_assets,):
            raise ValueError(f"ref_volume_usd must have shape ({n_assets},)")
        if np.any(~(np.asarray(self.ref_volume_usd) > 0)):
            raise ValueError("ref_volume_usd must be positive")
        if not self.step_hours > 0:
            raise ValueError("step_hours must be positive")
        if self.history_returns is not None:
            h = np.asarray(self.history_returns)
            if h.ndim != 2 or h.shape[1] != n_assets:
                raise ValueError(f"history_returns must be [n_hist, {n_assets}], got {h.shape}")

    @property
    def n_paths(self) -> int:
        return int(self.returns.shape[0])

    @property
    def horizon_steps(self) -> int:
        return int(self.returns.shape[1])

    @property
    def n_assets(self) -> int:
        return int(self.returns.shape[2])

    def asset_index(self, asset: str) -> int:
        """Column of ``asset`` in the arrays; ValueError naming the available assets otherwise."""
        try:
            return self.assets.index(asset)
        except ValueError:
            raise ValueError(f"asset {asset!r} is not in the paths (have {', '.join(self.assets)})") from None

    def prices(self) -> np.ndarray:
        """float64[n_paths, horizon_steps + 1, n_assets]: USD spot prices, step 0 = start prices."""
        log_p = np.cumsum(self.returns, axis=1, dtype=np.float64)
        out = np.empty((self.n_paths, self.horizon_steps + 1, self.n_assets))
        out[:, 0, :] = self.start_prices
        out[:, 1:, :] = np.exp(log_p) * self.start_prices
        return out

    def volume_usd(self) -> np.ndarray:
        """float64[n_paths, horizon_steps, n_assets]: USD traded in each step."""
        return np.exp(self.liquidity.astype(np.float64)) * self.ref_volume_usd

    def slice(self, start: int, stop: int) -> "MarketPaths":
        """The paths ``start:stop`` (a chunk), sharing everything else."""
        return MarketPaths(
            returns=self.returns[start:stop],
            liquidity=self.liquidity[start:stop],
            assets=self.assets,
            step_hours=self.step_hours,
            start_prices=self.start_prices,
            ref_volume_usd=self.ref_volume_usd,
            history_returns=self.history_returns,
        )
