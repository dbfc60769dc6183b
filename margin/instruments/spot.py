"""Spot holdings in a margin account: long (bought at the start price) or short (borrowed, paying a fee).

The engine marks a spot position as ``quantity * (S_t - S_0)`` against the collateral, as a cross-margin
account does; a short pays the venue's annual borrow rate on its current notional every step.
"""

from __future__ import annotations

from typing import Literal

from margin.crypto_calendar import hours_to_years
from margin.instruments.base import PositionSpec


class SpotPosition(PositionSpec):
    """``{instrument: spot, asset: BTC, quantity: 10}``."""

    instrument: Literal["spot"] = "spot"


def borrow_cost_usd(quantity: float, price_usd, annual_rate: float, hours: float):
    """Borrow fee in USD for holding ``quantity`` (any sign; charged on ``|quantity| * price``) for ``hours``."""
    return abs(quantity) * price_usd * annual_rate * hours_to_years(hours)
