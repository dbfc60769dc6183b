"""Portfolio margin as the worst loss over a grid of price moves and implied-vol shocks (Deribit PM style).

Notes
-----
Per asset, the book is revalued (full Black-76 for options, see :mod:`margin.option_kernel`) under

* ``price_buckets`` relative moves evenly spaced in ``[-price_range, +price_range]`` (zero included),
  each with the implied vol shocked up, unchanged and down. The shock for an option with ``d`` days to
  expiry is relative to its vol, ``up = vol_range_up * (vega_power_days / max(d, min_days))^p`` (and the
  same for down), with ``p`` the short-term power below ``vega_power_days`` days and the long-term power
  above, so short-dated vols move more;
* ``extended_moves`` (large moves, vol up only), whose loss counts at ``extended_fraction`` (Deribit's
  "extended table ... only a fraction of simulated P&L"; its dampener is not modelled).

The asset's requirement is the worst loss (floored at 0) plus contingencies: ``option_contingency`` x spot
per net short option per strike and expiry, and ``future_contingency`` x spot per unit of offsetting
delta-one exposure (``min(long, short)`` units across spot, perps and futures). Assets add up (no
cross-asset offsets); initial margin is the sum, maintenance ``maintenance_fraction`` of it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from margin.models.base import MarginModel, Requirement
from margin.venue import RiskMatrixConfig


def vol_shock_scale(days: np.ndarray, vega_power_days: float, short_power: float, long_power: float,
                    min_days: float) -> np.ndarray:
    """Factor ``(vega_power_days / max(d, min_days))^p`` by which vol shocks grow for short expiries."""
    d = np.maximum(np.asarray(days, np.float64), min_days)
    power = np.where(d < vega_power_days, short_power, long_power)
    return (vega_power_days / d) ** power


def offsetting_units(quantities: np.ndarray) -> float:
    """Units of delta-one exposure that offset each other: ``min(sum of longs, sum of shorts)``."""
    q = np.asarray(quantities, np.float64)
    return float(min(q[q > 0].sum(), -q[q < 0].sum()))


def net_short_per_strike(strikes: np.ndarray, expiries: np.ndarray, quantities: np.ndarray) -> float:
    """Sum over (strike, expiry) of the net short option quantity (calls and puts net against each other)."""
    net: dict[tuple[float, float], float] = defaultdict(float)
    for k, e, q in zip(strikes, expiries, quantities):
        net[(float(k), float(e))] += float(q)
    return float(sum(max(-v, 0.0) for v in net.values()))


class RiskMatrixMargin(MarginModel):
    """Worst loss over price moves x vol up/same/down plus extended moves and contingencies, per asset."""

    name = "risk_matrix"

    def __init__(self, config: RiskMatrixConfig) -> None:
        self.config = config
        c = config
        grid = np.linspace(-c.price_range, c.price_range, c.price_buckets)
        ext = np.asarray(c.extended_moves, np.float64)
        self._moves = np.log1p(np.concatenate([grid, grid, grid, ext]))
        self._n_grid = grid.size

    def _vol_mult(self, days: np.ndarray) -> np.ndarray:
        c = self.config
        f = vol_shock_scale(days, c.vega_power_days, c.short_term_vega_power, c.long_term_vega_power,
                            c.min_days)[:, None]
        g = self._n_grid
        n_ext = self._moves.size - 3 * g
        up = 1.0 + c.vol_range_up * f
        down = np.maximum(1.0 - c.vol_range_down * f, 0.05)
        return np.concatenate([np.repeat(up, g, 1), np.ones((f.shape[0], g)), np.repeat(down, g, 1),
                               np.repeat(up, n_ext, 1)], axis=1)

    def requirement(self, valuation, scale: np.ndarray) -> Requirement:
        b = valuation.book
        c = self.config
        total = np.zeros(scale.shape[0])
        for a in valuation.assets_in_use():
            idx, _ = valuation.option_rows(a)
            pnl = valuation.scenario_pnl(a, self._moves, self._vol_mult(valuation.option_days(a)))
            g3 = 3 * self._n_grid
            worst = np.maximum(-pnl[:g3].min(axis=0), 0.0)
            if pnl.shape[0] > g3:                  # extended moves count at a fraction of their loss
                np.maximum(worst, -self.config.extended_fraction * pnl[g3:].min(axis=0), out=worst)
            units = c.option_contingency * net_short_per_strike(b.strike[idx], b.expiry_hours[idx],
                                                                b.quantity[idx])
            units += c.future_contingency * offsetting_units(b.quantity[valuation.delta_one(a)])
            total += worst + units * valuation.spot[a]
        im = total * scale
        return Requirement(initial=im, maintenance=c.maintenance_fraction * im)
