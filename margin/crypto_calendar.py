"""Crypto calendar: markets trade 24 hours a day, 365 days a year, so one year is 8760 hours."""

from __future__ import annotations

HOURS_PER_YEAR = 8760.0


def hours_to_years(hours: float) -> float:
    """Convert hours to years on the 24/7 crypto calendar (8760 hours a year)."""
    return hours / HOURS_PER_YEAR
