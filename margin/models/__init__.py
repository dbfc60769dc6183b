"""Margin models: a small base class and one module per methodology."""

from __future__ import annotations

from margin.models.base import MarginModel, Requirement
from margin.models.es import ExpectedShortfallMargin
from margin.models.risk_matrix import RiskMatrixMargin
from margin.models.span import SpanMargin
from margin.models.tiered import TieredMargin
from margin.venue import Venue


def margin_model_from_venue(venue: Venue, name: str) -> MarginModel:
    """The venue's ``name`` model (``tiered``, ``risk_matrix``, ``span`` or ``es``) with its parameters.

    Raises
    ------
    ValueError
        When the venue does not define that model.
    """
    cfg = getattr(venue.margin, name, None) if name in ("tiered", "risk_matrix", "span", "es") else None
    if cfg is None:
        raise ValueError(f"venue {venue.name!r} does not define margin model {name!r}; it defines "
                         f"{', '.join(venue.available_models)}")
    if name == "tiered":
        return TieredMargin(cfg)
    if name == "risk_matrix":
        return RiskMatrixMargin(cfg)
    if name == "span":
        return SpanMargin(cfg)
    return ExpectedShortfallMargin(cfg, venue.mpor_hours)


__all__ = ["MarginModel", "Requirement", "TieredMargin", "RiskMatrixMargin", "SpanMargin",
           "ExpectedShortfallMargin", "margin_model_from_venue"]
