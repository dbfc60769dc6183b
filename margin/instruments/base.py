"""What every position has: an asset, a signed size, and where its P&L settles."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PositionSpec(BaseModel):
    """Base schema of one position line in a portfolio YAML.

    Give exactly one size: ``quantity`` in units of the asset (e.g. BTC) or ``notional_usd`` (USD value at
    the start spot, ``quantity = notional_usd / S0``); positive long, negative short, never zero. Or, for
    spot, perps and futures, ``delta_hedge: true``: the engine sizes the position so that the book's delta
    on that asset is zero at the start (at most one hedge per asset).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    asset: str = Field(min_length=1, description="asset code, e.g. BTC")
    quantity: float | None = Field(None, description="units of the asset; positive long, negative short")
    notional_usd: float | None = Field(None, description="USD at the start spot; positive long, negative short")
    delta_hedge: bool = Field(False, description="size this position to make the book delta-neutral at the start")

    @model_validator(mode="after")
    def _one_size(self) -> "PositionSpec":
        sizes = [v for v in (self.quantity, self.notional_usd) if v is not None]
        if self.delta_hedge:
            if sizes:
                raise ValueError("a delta_hedge position is sized by the engine; remove quantity/notional_usd")
            return self
        if len(sizes) != 1:
            raise ValueError("give exactly one of quantity (units of the asset) or notional_usd")
        if sizes[0] == 0 or sizes[0] != sizes[0]:
            raise ValueError("position size must be a non-zero number (positive long, negative short)")
        return self

    def units(self, start_spot: float) -> float:
        """Signed quantity in units of the asset, given its start spot in USD (NaN for a delta hedge)."""
        if self.delta_hedge:
            return float("nan")
        return float(self.quantity) if self.quantity is not None else float(self.notional_usd) / start_spot

    @property
    def settles_in_coin(self) -> bool:
        """True when cash flows (P&L, funding, premium) are paid in the asset coin rather than USD."""
        return False
