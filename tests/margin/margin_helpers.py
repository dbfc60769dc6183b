"""Hand-made paths, venues and portfolios for the margin tests (imported by the test modules)."""

from __future__ import annotations

from typing import Any

import numpy as np

from margin.paths import MarketPaths
from margin.portfolio import Portfolio
from margin.venue import Venue


def paths_from_prices(prices: np.ndarray, *, step_hours: float = 1.0, liquidity: float | np.ndarray = 0.0,
                      ref_volume_usd: float = 1e9, history: np.ndarray | None = None) -> MarketPaths:
    """MarketPaths for one asset (BTC) from USD prices ``[n_paths, H+1]`` (column 0 = start)."""
    p = np.atleast_2d(np.asarray(prices, np.float64))
    r = np.diff(np.log(p), axis=1)[:, :, None].astype(np.float32)
    liq = np.broadcast_to(np.asarray(liquidity, np.float32), r.shape[:2])[:, :, None].copy()
    hist = None if history is None else np.asarray(history, np.float32).reshape(-1, 1)
    return MarketPaths(returns=r, liquidity=liq, assets=("BTC",), step_hours=step_hours,
                       start_prices=np.array([p[0, 0]]), ref_volume_usd=np.array([ref_volume_usd]),
                       history_returns=hist)


def random_paths(n: int, horizon: int = 24, *, seed: int = 0, vol: float = 0.01, s0: float = 30000.0,
                 history: int = 2000) -> MarketPaths:
    """Fat-tailed random BTC paths with random liquidity and a history of the same law."""
    rng = np.random.default_rng(seed)
    r = (vol * rng.standard_t(4, size=(n, horizon, 1)) / np.sqrt(2)).astype(np.float32)
    q = (0.5 * rng.standard_normal((n, horizon, 1))).astype(np.float32)
    h = (vol * rng.standard_t(4, size=(history, 1)) / np.sqrt(2)).astype(np.float32)
    return MarketPaths(r, q, ("BTC",), 1.0, np.array([s0]), np.array([5e7]), h)


def simple_venue(**overrides: Any) -> Venue:
    """A one-tier venue (IM 10%, MM 5%) with no fees, no funding interest and no insurance fund."""
    spec: dict[str, Any] = {
        "name": "test",
        "mpor_hours": 24,
        "insurance_fund_usd": 0.0,
        "funding": {"interval_hours": 8, "interest_per_interval": 0.0, "interest_clamp": 0.0005, "cap": 0.01},
        "liquidation": {"partial": False, "impact_k": 1.0, "impact_cap": 0.25, "fee_rate": 0.0,
                        "option_spread": 0.0, "adl": False},
        "borrow": {"short_spot_annual": 0.0, "long_spot_annual": 0.0},
        "margin": {"tiered": {"linear": [{"notional_floor_usd": 0, "initial_rate": 0.10,
                                          "maintenance_rate": 0.05}],
                              "spot": [{"notional_floor_usd": 0, "initial_rate": 0.10,
                                        "maintenance_rate": 0.05}]}},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    return Venue.model_validate(spec)


def portfolio(positions: list[dict], collateral: dict | None = None, **extra: Any) -> Portfolio:
    """A Portfolio with no funding premium (flat funding) unless ``market`` is given."""
    spec = {"name": "test", "collateral": collateral or {"USD": 10000.0}, "venue": "reference",
            "market": {"funding_premium_per_return": 0.0}, "positions": positions}
    spec.update(extra)
    return Portfolio.model_validate(spec)
