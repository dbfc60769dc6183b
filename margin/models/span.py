"""SPAN-like margin: a 16-scenario risk array per asset (CME SPAN methodology).

Notes
-----
Scenarios 1-14: price unchanged, up and down 1/3, 2/3 and 3/3 of ``price_scan_range``, each with the
implied vol shifted up and down by ``vol_scan_range`` (relative); scenarios 15-16: up and down
``extreme_multiplier`` times the range with vol unchanged, of which ``extreme_fraction`` of the loss counts.
Options are revalued ``look_ahead_hours`` closer to expiry (SPAN's look-ahead time). The scan risk is the
worst weighted loss; the asset's requirement is ``max(scan risk, short option minimum)``, the minimum being
``short_option_minimum`` x spot per short option. SPAN's "net option value" credit is not applied because
option marks are already in the account equity; inter-commodity credits are not modelled (assets add up).
Maintenance = the sum; initial = ``initial_to_maintenance`` x maintenance (CME's 110% for speculators).
"""

from __future__ import annotations

import numpy as np

from margin.models.base import MarginModel, Requirement
from margin.venue import SpanConfig

_FRACTIONS = (0.0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1.0, -1.0)


def span_scenarios(price_scan_range: float, vol_scan_range: float, extreme_multiplier: float,
                   extreme_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 16 SPAN scenarios: relative price moves, vol multipliers and loss weights, each float64[16]."""
    moves, vols, weights = [], [], []
    for f in _FRACTIONS:
        for v in (1.0, -1.0):
            moves.append(f * price_scan_range)
            vols.append(1.0 + v * vol_scan_range)
            weights.append(1.0)
    for sign in (1.0, -1.0):
        moves.append(sign * extreme_multiplier * price_scan_range)
        vols.append(1.0)
        weights.append(extreme_fraction)
    return np.array(moves), np.array(vols), np.array(weights)


class SpanMargin(MarginModel):
    """16-scenario scan risk with look-ahead and a short-option minimum, per asset."""

    name = "span"

    def __init__(self, config: SpanConfig) -> None:
        self.config = config
        moves, self._vols, self._weights = span_scenarios(
            config.price_scan_range, config.vol_scan_range, config.extreme_multiplier, config.extreme_fraction)
        self._log_moves = np.log1p(moves)

    def requirement(self, valuation, scale: np.ndarray) -> Requirement:
        b = valuation.book
        c = self.config
        total = np.zeros(scale.shape[0])
        for a in valuation.assets_in_use():
            idx, _ = valuation.option_rows(a)
            vm = np.broadcast_to(self._vols, (idx.size, self._vols.size))
            pnl = valuation.scenario_pnl(a, self._log_moves, vm, look_ahead_hours=c.look_ahead_hours)
            scan = np.maximum((-pnl * self._weights[:, None]).max(axis=0), 0.0)
            shorts = -b.quantity[idx][b.quantity[idx] < 0].sum()
            total += np.maximum(scan, c.short_option_minimum * shorts * valuation.spot[a])
        mm = total * scale
        return Requirement(initial=c.initial_to_maintenance * mm, maintenance=mm)
