"""Dated futures whose basis converges to spot at expiry.

The futures price is ``F_t = S_t * exp(b * tau_t)`` with ``b`` the annualised basis of the market model and
``tau_t`` the years left; at expiry ``F = S`` and the position is cash-settled at the step's spot (the
first step at or after ``expiry_hours``). Linear futures pay USD, inverse ones pay coin (as perps).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from margin.instruments.base import PositionSpec


class FuturePosition(PositionSpec):
    """``{instrument: future, asset: BTC, settlement: linear, expiry_hours: 720, quantity: 5}``."""

    instrument: Literal["future"] = "future"
    settlement: Literal["linear", "inverse"] = "linear"
    expiry_hours: float = Field(gt=0, description="hours from the start of the paths")

    @property
    def settles_in_coin(self) -> bool:
        return self.settlement == "inverse"


def futures_price(spot: ArrayLike, basis_annual: float, tau_years: ArrayLike) -> np.ndarray:
    """``S * exp(basis * tau)``: USD futures price with ``tau_years`` to expiry (>= 0)."""
    return np.asarray(spot, np.float64) * np.exp(basis_annual * np.asarray(tau_years, np.float64))
