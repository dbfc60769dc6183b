"""European options on the futures price of their expiry, priced with Black-76 and the path's smile.

``strike`` below 5 is moneyness against the start spot (0.8 = 80% of spot); 5 or above is an absolute
USD strike. USD-settled options pay ``max(w(S_T - K), 0)`` USD; coin-settled (Deribit style) pay that
amount divided by ``S_T`` in coin, which is worth the same USD at expiry, so both have the same USD mark;
they differ in where the premium and the settlement land (USD balance or coin balance), so a coin-settled
seller's premium loses value in a crash. At expiry inside the horizon the option settles at intrinsic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from margin.instruments.base import PositionSpec

MONEYNESS_BELOW = 5.0


class OptionPosition(PositionSpec):
    """``{instrument: option, asset: BTC, type: put, strike: 0.8, expiry_hours: 168, quantity: -50}``."""

    instrument: Literal["option"] = "option"
    type: Literal["call", "put"]
    strike: float = Field(gt=0, description="moneyness if < 5, else USD")
    expiry_hours: float = Field(gt=0, description="hours from the start of the paths")
    settlement: Literal["usd", "coin"] = "usd"

    @model_validator(mode="after")
    def _no_hedge(self) -> "OptionPosition":
        if self.delta_hedge:
            raise ValueError("delta_hedge applies to spot, perp and future positions, not options")
        return self

    @property
    def is_call(self) -> bool:
        return self.type == "call"

    @property
    def settles_in_coin(self) -> bool:
        return self.settlement == "coin"


def resolve_strike(strike: float, start_spot: float) -> float:
    """USD strike: ``strike * start_spot`` when ``strike < 5`` (moneyness), else ``strike`` itself."""
    return strike * start_spot if strike < MONEYNESS_BELOW else strike
