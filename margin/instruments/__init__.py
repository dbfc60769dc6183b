"""Instruments a portfolio can hold: one module each, with the position schema and its pure pricing maths.

Every position is opened at the start of the paths at the model's mark (spot, forward or Black-76 value),
with ``quantity`` in units of the underlying asset (BTC), signed: positive long, negative short.
"""

from margin.instruments.base import PositionSpec
from margin.instruments.future import FuturePosition, futures_price
from margin.instruments.option import OptionPosition, resolve_strike
from margin.instruments.perpetual import PerpPosition, inverse_pnl_coin, linear_pnl
from margin.instruments.spot import SpotPosition, borrow_cost_usd

__all__ = [
    "PositionSpec", "SpotPosition", "PerpPosition", "FuturePosition", "OptionPosition",
    "futures_price", "resolve_strike", "inverse_pnl_coin", "linear_pnl", "borrow_cost_usd",
]
