"""The market model: how option vols, futures basis and perp funding follow the paths.

:class:`MarketModel` holds the documented assumptions (defaults below; a portfolio may override them under
``market:``). :func:`market_state` turns a chunk of :class:`~margin.paths.MarketPaths` into the per-step
arrays the engine and the margin models share: spot prices, log spot relative to the start, EWMA ATM vol
(:mod:`margin.smile`) and traded volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from margin.crypto_calendar import HOURS_PER_YEAR
from margin.option_kernel import SmileParams
from margin.paths import MarketPaths
from margin.smile import ewma_decay, initial_atm_vol


class MarketModel(BaseModel):
    """Assumptions linking the paths to derivatives prices.

    atm_vol : starting ATM implied vol (annualised); ``None`` = the EWMA of ``history_returns`` if the paths
        carry them, else ``default_atm_vol``.
    vol_halflife_hours : half-life of the EWMA that moves the ATM level with the path's realised vol.
    skew, curvature : smile factor ``1 + skew*k + curvature*k^2`` in ``k = ln(K/F)``; needs
        ``curvature > skew^2 / 4`` so the factor stays positive.
    vol_floor, vol_cap : clip on implied vol.
    basis_annual : futures basis ``F = S exp(basis * tau)`` for dated futures and option forwards.
    rate_annual : discount rate for option prices.
    funding_premium_per_return : perp premium per unit of trailing log return over a funding interval.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    atm_vol: float | None = Field(None, gt=0, le=5)
    default_atm_vol: float = Field(0.60, gt=0, le=5)
    vol_halflife_hours: float = Field(24.0, gt=0)
    skew: float = -0.5
    curvature: float = Field(1.0, ge=0)
    vol_floor: float = Field(0.05, gt=0)
    vol_cap: float = Field(5.0, gt=0)
    basis_annual: float = 0.05
    rate_annual: float = 0.0
    funding_premium_per_return: float = 0.02

    @model_validator(mode="after")
    def _positive_smile(self) -> "MarketModel":
        if self.curvature <= self.skew * self.skew / 4:
            raise ValueError(f"curvature must exceed skew^2/4 = {self.skew ** 2 / 4:g} so implied vol stays "
                             "positive at all strikes")
        if self.vol_cap <= self.vol_floor:
            raise ValueError("vol_cap must be above vol_floor")
        return self

    @property
    def smile(self) -> SmileParams:
        return SmileParams(self.skew, self.curvature, self.vol_floor, self.vol_cap)

    def start_atm_vol(self, paths: MarketPaths) -> np.ndarray:
        """float64[n_assets]: ATM implied vol before the first step."""
        if self.atm_vol is not None:
            return np.full(paths.n_assets, self.atm_vol)
        vol = initial_atm_vol(paths.history_returns, paths.step_hours, self.vol_halflife_hours,
                              self.default_atm_vol)
        return np.broadcast_to(vol, (paths.n_assets,)).astype(np.float64)


@dataclass(frozen=True)
class MarketState:
    """Per-step market arrays for one chunk of paths; step 0 is the start.

    spot : float64[A, H+1, n] USD.
    log_spot_rel : float64[A, H+1, n], ``ln(S_t/S_0)``.
    atm_vol : float64[A, H+1, n], annualised ATM implied vol.
    volume_usd : float64[A, H+1, n], USD traded in step t (index 0 repeats step 1).
    step_hours : float.
    """

    spot: np.ndarray
    log_spot_rel: np.ndarray
    atm_vol: np.ndarray
    volume_usd: np.ndarray
    step_hours: float

    @property
    def n_paths(self) -> int:
        return int(self.spot.shape[2])

    def sigma_step(self, t: int) -> np.ndarray:
        """float64[A, n]: per-step volatility at step t (ATM vol scaled to one step), for market impact."""
        return self.atm_vol[:, t, :] * np.sqrt(self.step_hours / HOURS_PER_YEAR)


def market_state(paths: MarketPaths, model: MarketModel) -> MarketState:
    """Build the per-step arrays for ``paths`` (one chunk); memory 4 x 8 bytes x n x (H+1) x A."""
    n, h, a = paths.returns.shape
    r = np.ascontiguousarray(paths.returns.transpose(2, 1, 0), dtype=np.float64)        # [A, H, n]
    lr = np.empty((a, h + 1, n))
    lr[:, 0, :] = 0.0
    for t in range(h):                                    # row by row: contiguous, and per-path exact
        np.add(lr[:, t, :], r[:, t, :], out=lr[:, t + 1, :])
    spot = np.exp(lr)
    spot *= np.asarray(paths.start_prices, np.float64)[:, None, None]
    decay = ewma_decay(model.vol_halflife_hours, paths.step_hours)
    gain = (1.0 - decay) * HOURS_PER_YEAR / paths.step_hours
    var = np.empty((a, h + 1, n))
    var[:, 0, :] = (model.start_atm_vol(paths) ** 2)[:, None]
    np.multiply(r, r, out=r)
    r *= gain                                                                           # (1 - decay) r^2 / dt
    for t in range(h):
        np.multiply(var[:, t, :], decay, out=var[:, t + 1, :])
        var[:, t + 1, :] += r[:, t, :]
    atm = np.sqrt(var, out=var)
    np.minimum(atm, model.vol_cap, out=atm)
    np.maximum(atm, model.vol_floor, out=atm)
    vol = np.empty((a, h + 1, n))
    np.exp(paths.liquidity.transpose(2, 1, 0), out=vol[:, 1:, :], dtype=np.float64)
    vol[:, 1:, :] *= np.asarray(paths.ref_volume_usd, np.float64)[:, None, None]
    vol[:, 0, :] = vol[:, 1, :] if h > 0 else np.asarray(paths.ref_volume_usd, np.float64)[:, None]
    return MarketState(spot=spot, log_spot_rel=lr, atm_vol=atm, volume_usd=vol, step_hours=paths.step_hours)
