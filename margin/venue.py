"""Venue rules: margin-model parameters, funding, liquidation, insurance fund, collateral haircuts.

A venue is a YAML file (``margin/venues/*.yaml`` ships several, each citing the public documents it
follows). It may define any of the four margin models under ``margin:``; a portfolio picks one with
``margin_model``. :func:`load_venue` validates the file and fails with one line naming file, line, field.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from margin.yaml_source import ConfigError, validate_file

VENUE_DIR = Path(__file__).parent / "venues"
MODEL_NAMES = ("tiered", "risk_matrix", "span", "es")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierRow(_Strict):
    """One notional bracket: rates apply to the whole position once its notional is above the floor."""

    notional_floor_usd: float = Field(ge=0)
    initial_rate: float = Field(gt=0, le=1)
    maintenance_rate: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _mm_below_im(self) -> "TierRow":
        if self.maintenance_rate > self.initial_rate:
            raise ValueError("maintenance_rate must not exceed initial_rate")
        return self


def _check_tiers(rows: list[TierRow]) -> list[TierRow]:
    if not rows:
        raise ValueError("needs at least one tier")
    if rows[0].notional_floor_usd != 0:
        raise ValueError("the first tier must start at notional_floor_usd: 0")
    floors = [r.notional_floor_usd for r in rows]
    if any(b <= a for a, b in zip(floors, floors[1:])):
        raise ValueError("tiers must be sorted by strictly increasing notional_floor_usd")
    return rows


class OptionStandardMargin(_Strict):
    """Deribit-style standard margin for short options (long options need none: premium is paid).

    IM per unit = max(short_initial - OTM/S, short_initial_floor) * S + mark;
    MM per unit = short_maintenance * S + mark (puts: max(short_maintenance * S, short_maintenance * mark)).
    """

    short_initial: float = Field(0.15, gt=0, le=1)
    short_initial_floor: float = Field(0.10, gt=0, le=1)
    short_maintenance: float = Field(0.075, gt=0, le=1)


class TieredConfig(_Strict):
    """Exchange-style margin: rates by position notional, each position on its own."""

    linear: list[TierRow]
    inverse: list[TierRow] | None = None
    spot: list[TierRow] | None = None
    option: OptionStandardMargin = OptionStandardMargin()

    _v_linear = field_validator("linear")(_check_tiers)

    @field_validator("inverse", "spot")
    @classmethod
    def _v_optional(cls, rows: list[TierRow] | None) -> list[TierRow] | None:
        return None if rows is None else _check_tiers(rows)


class RiskMatrixConfig(_Strict):
    """Portfolio margin as the worst loss over price moves x vol shocks, per asset (Deribit PM style)."""

    price_range: float = Field(0.16, gt=0, lt=1)
    price_buckets: int = Field(9, ge=3)
    vol_range_up: float = Field(0.45, ge=0)
    vol_range_down: float = Field(0.30, ge=0, lt=1)
    short_term_vega_power: float = Field(0.30, ge=0)
    long_term_vega_power: float = Field(0.13, ge=0)
    vega_power_days: float = Field(30.0, gt=0)
    min_days: float = Field(1.0, gt=0)
    extended_moves: list[float] = Field(default_factory=lambda: [-0.66, -0.33, 0.5, 1.0])
    extended_fraction: float = Field(0.2, ge=0, le=1)
    option_contingency: float = Field(0.01, ge=0)
    future_contingency: float = Field(0.01, ge=0)
    maintenance_fraction: float = Field(0.8, gt=0, le=1)

    @field_validator("price_buckets")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("price_buckets must be odd so that the grid includes a zero move")
        return v

    @field_validator("extended_moves")
    @classmethod
    def _moves(cls, v: list[float]) -> list[float]:
        if any(m <= -1 for m in v):
            raise ValueError("extended_moves are relative moves and must be above -1 (a -100% move)")
        return v


class SpanConfig(_Strict):
    """SPAN-like 16-scenario risk array per asset (CME SPAN methodology)."""

    price_scan_range: float = Field(0.20, gt=0, lt=1)
    vol_scan_range: float = Field(0.25, ge=0, lt=1)
    extreme_multiplier: float = Field(2.0, gt=0)
    extreme_fraction: float = Field(0.35, ge=0, le=1)
    short_option_minimum: float = Field(0.02, ge=0)
    look_ahead_hours: float = Field(24.0, ge=0)
    initial_to_maintenance: float = Field(1.1, ge=1)

    @model_validator(mode="after")
    def _extreme_in_range(self) -> "SpanConfig":
        if self.price_scan_range * self.extreme_multiplier >= 1:
            raise ValueError("price_scan_range * extreme_multiplier must stay below 1 (a -100% move)")
        return self


class EsConfig(_Strict):
    """CCP-style expected-shortfall margin over the margin period of risk (EMIR / LCH / Eurex style)."""

    confidence: float = Field(0.99, gt=0.5, lt=1)
    lookback_hours: float = Field(8760.0, gt=0)
    procyclical: bool = False
    apc_buffer: float = Field(0.25, ge=0)
    tail_points: int = Field(16, ge=2)


class MarginSection(_Strict):
    tiered: TieredConfig | None = None
    risk_matrix: RiskMatrixConfig | None = None
    span: SpanConfig | None = None
    es: EsConfig | None = None


class FundingConfig(_Strict):
    """Perp funding clamp rules per interval (Binance-style formula, see :mod:`margin.funding`)."""

    interval_hours: float = Field(8.0, gt=0)
    interest_per_interval: float = 0.0001
    interest_clamp: float = Field(0.0005, ge=0)
    cap: float = Field(0.0075, gt=0)


class LiquidationConfig(_Strict):
    """How the venue closes an account below maintenance margin (see :mod:`margin.engine`)."""

    partial: bool = True
    impact_k: float = Field(1.0, ge=0)
    impact_cap: float = Field(0.25, ge=0, le=1)
    fee_rate: float = Field(0.005, ge=0, lt=1)
    option_spread: float = Field(0.05, ge=0, le=1)
    adl: bool = False


class BorrowConfig(_Strict):
    short_spot_annual: float = Field(0.10, ge=0)
    long_spot_annual: float = Field(0.0, ge=0)


class Venue(_Strict):
    """A venue file (see ``margin/venues/*.yaml`` for documented examples)."""

    name: str
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    mpor_hours: float = Field(24.0, gt=0)
    insurance_fund_usd: float = Field(0.0, ge=0)
    collateral_haircuts: dict[str, float] = Field(default_factory=dict)
    funding: FundingConfig = FundingConfig()
    liquidation: LiquidationConfig = LiquidationConfig()
    borrow: BorrowConfig = BorrowConfig()
    margin: MarginSection

    @field_validator("collateral_haircuts")
    @classmethod
    def _haircuts(cls, v: dict[str, float]) -> dict[str, float]:
        for coin, h in v.items():
            if not 0 <= h < 1:
                raise ValueError(f"haircut for {coin} must be in [0, 1), got {h}")
        return v

    @model_validator(mode="after")
    def _has_a_model(self) -> "Venue":
        if not self.available_models:
            raise ValueError(f"define at least one margin model under margin: ({', '.join(MODEL_NAMES)})")
        return self

    @property
    def available_models(self) -> tuple[str, ...]:
        return tuple(m for m in MODEL_NAMES if getattr(self.margin, m) is not None)


def list_venues() -> list[str]:
    """Names of the built-in venue files."""
    return sorted(p.stem for p in VENUE_DIR.glob("*.yaml"))


def resolve_venue_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A venue file path from a built-in name, a path, or a path relative to ``relative_to``."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        p = Path(text)
        if not p.is_absolute() and relative_to is not None and (relative_to / p).exists():
            return relative_to / p
        return p
    builtin = VENUE_DIR / f"{text}.yaml"
    if not builtin.exists():
        raise ConfigError(f"error: unknown venue {text!r}; built-in venues: {', '.join(list_venues())}, "
                          "or give a path to a .yaml file")
    return builtin


def load_venue(name_or_path: str | Path, relative_to: Path | None = None) -> Venue:
    """Load and validate a venue by built-in name (``"binance"``) or YAML path.

    Raises
    ------
    ConfigError
        One line naming the file, line and field when the venue is missing or invalid.
    """
    return validate_file(Venue, resolve_venue_path(name_or_path, relative_to), what="venue")
