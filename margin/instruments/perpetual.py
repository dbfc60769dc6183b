"""Perpetual swaps, linear (USDT-margined) or inverse (coin-margined).

Linear: P&L in USD, ``q * (P - P0)``. Inverse: the contract has a fixed USD face value ``q * P0`` and pays
in coin, ``q * P0 * (1/P0 - 1/P)`` coins; converted at the current price this equals the linear P&L, but
the coin balance it creates keeps moving with the price. The mark price is the index (the path's spot);
funding follows :mod:`margin.funding`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from margin.instruments.base import PositionSpec


class PerpPosition(PositionSpec):
    """``{instrument: perp, asset: BTC, settlement: linear|inverse, quantity: 10}``.

    For inverse perps ``quantity`` is the coin amount at the start price, i.e. the USD face value is
    ``quantity * start_price`` (``quantity * S0 / 100`` contracts of 100 USD on BitMEX/Binance COIN-M).
    """

    instrument: Literal["perp"] = "perp"
    settlement: Literal["linear", "inverse"] = "linear"

    @property
    def settles_in_coin(self) -> bool:
        return self.settlement == "inverse"


def linear_pnl(quantity: float, entry_price: float, price: ArrayLike) -> np.ndarray:
    """USD P&L of a linear contract: ``q * (P - P0)``."""
    return quantity * (np.asarray(price, np.float64) - entry_price)


def inverse_pnl_coin(quantity: float, entry_price: float, price: ArrayLike) -> np.ndarray:
    """Coin P&L of an inverse contract with face value ``q * P0`` USD: ``q * P0 * (1/P0 - 1/P)``."""
    return quantity * entry_price * (1.0 / entry_price - 1.0 / np.asarray(price, np.float64))
