"""Exchange-style margin: each position on its own, rates by position-notional tier.

Notes
-----
Delta-one positions (Binance USDⓈ-M "leverage and margin" brackets): with notional :math:`N` in tier
:math:`j` (the last tier whose floor is at or below :math:`N`),

.. math:: IM = N\\,r^{IM}_j,\\qquad MM = N\\,r^{MM}_j - c_j,\\quad c_j = c_{j-1} + f_j (r^{MM}_j - r^{MM}_{j-1}),

where the "maintenance amount" :math:`c_j` keeps MM continuous across tiers, as Binance publishes.
Notional is ``|q| * F`` for linear contracts and spot, and the fixed USD face ``|q| * P0`` for inverse
contracts. Short options follow Deribit's standard margin (see
:class:`~margin.venue.OptionStandardMargin`); long options need no margin. No offsets between positions.
"""

from __future__ import annotations

import numpy as np

from margin.book import SPOT
from margin.models.base import MarginModel, Requirement
from margin.venue import TierRow, TieredConfig


class _Table:
    def __init__(self, rows: list[TierRow]) -> None:
        self.floor = np.array([r.notional_floor_usd for r in rows])
        self.im = np.array([r.initial_rate for r in rows])
        self.mm = np.array([r.maintenance_rate for r in rows])
        steps = np.diff(self.mm, prepend=0.0) * self.floor
        self.cum = np.cumsum(steps)

    def margins(self, notional: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        j = np.searchsorted(self.floor, notional, side="right") - 1
        return notional * self.im[j], notional * self.mm[j] - self.cum[j]


class TieredMargin(MarginModel):
    """Tiered IM/MM rates by position notional (Binance/Bybit style), Deribit standard margin for options."""

    name = "tiered"

    def __init__(self, config: TieredConfig) -> None:
        self.config = config
        self._linear = _Table(config.linear)
        self._inverse = _Table(config.inverse) if config.inverse else self._linear
        self._spot = _Table(config.spot) if config.spot else None

    def requirement(self, valuation, scale: np.ndarray) -> Requirement:
        b = valuation.book
        n = scale.shape[0]
        im, mm = np.zeros(n), np.zeros(n)
        opt = self.config.option
        live = valuation.alive
        shorts = np.flatnonzero(live & b.is_option & (b.quantity < 0))
        if shorts.size:                                     # all short options at once, [P_short, n]
            s = valuation.spot[b.asset[shorts]]
            mark = valuation.unit_values[shorts]
            q = np.abs(b.quantity[shorts])[:, None] * scale
            otm = np.maximum(b.omega[shorts, None] * (b.strike[shorts, None] - s), 0.0)
            im_unit = np.maximum(opt.short_initial - otm / s, opt.short_initial_floor) * s + mark
            mm_unit = opt.short_maintenance * np.where(b.omega[shorts, None] < 0, np.maximum(s, mark), s)
            for j in range(shorts.size):                    # row by row: per-path results independent of n
                im += q[j] * im_unit[j]
                mm += q[j] * (mm_unit[j] + mark[j])
        for i in np.flatnonzero(live & ~b.is_option):
            s = valuation.spot[b.asset[i]]
            if b.kind[i] == SPOT:
                if self._spot is None:
                    raise ValueError("the venue's tiered margin has no 'spot' tiers but the book holds spot; "
                                     "add margin.tiered.spot to the venue file")
                table, price = self._spot, s
            elif b.coin_settled[i]:
                table, price = self._inverse, b.entry[i]
            else:
                table, price = self._linear, valuation.fwd_factor[i] * s
            i_m, m_m = table.margins(abs(b.quantity[i]) * scale * price)
            im += i_m
            mm += m_m
        return Requirement(initial=im, maintenance=np.minimum(mm, im))
