"""Portfolio files: collateral, positions, the margin model and venue that apply, market assumptions.

Example (``margin/books/leveraged_long_perp.yaml``)::

    name: leveraged_long_perp
    collateral: {USD: 2000000}
    margin_model: tiered
    venue: binance                 # built-in venue name, or a path relative to this file
    positions:
      - {instrument: perp, asset: BTC, settlement: linear, quantity: 300}

``collateral`` maps currency to amount: ``USD`` (``USDT``/``USDC`` are read as USD) or an asset code of the
paths (coin collateral, marked at the path's price). Positions are opened at the start of the paths at the
model marks; see :mod:`margin.instruments` for each instrument's fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from margin.instruments import FuturePosition, OptionPosition, PerpPosition, SpotPosition
from margin.market import MarketModel
from margin.venue import MODEL_NAMES, Venue, load_venue
from margin.yaml_source import ConfigError, read_yaml, validate_file

BOOK_DIR = Path(__file__).parent / "books"
USD_ALIASES = {"USD", "USDT", "USDC"}

Position = Annotated[
    Union[SpotPosition, PerpPosition, FuturePosition, OptionPosition], Field(discriminator="instrument")
]


class Portfolio(BaseModel):
    """A validated portfolio (see the module docstring for the YAML layout)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    collateral: dict[str, float]
    margin_model: Literal["tiered", "risk_matrix", "span", "es"] = "tiered"
    venue: str = "reference"
    market: MarketModel = MarketModel()
    positions: list[Position] = Field(min_length=1)
    _source: Path | None = PrivateAttr(default=None)

    @field_validator("collateral")
    @classmethod
    def _collateral(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("give at least one collateral currency, e.g. {USD: 1000000}")
        out: dict[str, float] = {}
        for cur, amount in v.items():
            if amount < 0 or amount != amount:
                raise ValueError(f"collateral {cur} must be a non-negative amount, got {amount}")
            key = "USD" if cur.upper() in USD_ALIASES else cur.upper()
            out[key] = out.get(key, 0.0) + float(amount)
        return out

    @property
    def source(self) -> Path | None:
        """The YAML file this portfolio was read from, if any."""
        return self._source

    def load_venue(self) -> Venue:
        """The venue this portfolio names (relative paths resolve against the portfolio file)."""
        return load_venue(self.venue, self._source.parent if self._source else None)


def list_books() -> list[str]:
    """Names of the example portfolios shipped in ``margin/books``."""
    return sorted(p.stem for p in BOOK_DIR.glob("*.yaml"))


def _resolve_book(path_or_name: str | Path) -> Path:
    text = str(path_or_name)
    if text.endswith((".yaml", ".yml")) or "/" in text or Path(text).exists():
        return Path(text)
    builtin = BOOK_DIR / f"{text}.yaml"
    if not builtin.exists():
        raise ConfigError(f"error: unknown portfolio {text!r}; shipped books: {', '.join(list_books())}, "
                          "or give a path to a .yaml file")
    return builtin


def load_portfolio(path_or_name: str | Path) -> Portfolio:
    """Load a portfolio by shipped book name (``"basis_trade"``) or YAML path, validated.

    Also loads its venue and checks the venue defines the chosen ``margin_model``.

    Raises
    ------
    ConfigError
        One line naming file, line and field.
    """
    path = _resolve_book(path_or_name)
    portfolio = validate_file(Portfolio, path, what="portfolio")
    portfolio._source = path.resolve()
    venue = portfolio.load_venue()
    if portfolio.margin_model not in venue.available_models:
        _, lines = read_yaml(path)
        line = lines.get(("margin_model",))
        where = f" line {line}" if line else ""
        raise ConfigError(f"error: {path}{where}: margin_model: venue {venue.name!r} does not define "
                          f"{portfolio.margin_model!r}; it defines {', '.join(venue.available_models)}")
    return portfolio


__all__ = ["Portfolio", "Position", "list_books", "load_portfolio", "MODEL_NAMES", "BOOK_DIR"]
