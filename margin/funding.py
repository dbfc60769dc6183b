"""Perpetual funding driven by the path.

Notes
-----
Venues set funding from a premium index (how far the perp trades above the index) plus an interest
component (Binance, "Introduction to Binance Futures Funding Rates"):

.. math:: f = \\mathrm{clip}\\big(p + \\mathrm{clip}(i - p, -c_i, c_i),\\ -c, c\\big)

per funding interval (8 hours by default). Paths carry no perp price, so the premium is modelled as
proportional to the trailing log return of the index over one funding interval, :math:`p = \\beta\\,
\\ln(S_t / S_{t-L})`: perps trade rich after rallies and cheap in crashes, so longs pay in rallies and
receive in crashes. Funding is charged at every step in which a funding time falls; a positive rate means
longs pay shorts, on the position's notional (USD notional for linear, coin notional for inverse).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def funding_rate(
    trailing_log_return: ArrayLike,
    premium_per_return: float,
    interest: float,
    interest_clamp: float,
    cap: float,
) -> np.ndarray:
    """Funding rate per interval (fraction of notional; positive = longs pay shorts), float64."""
    premium = premium_per_return * np.asarray(trailing_log_return, np.float64)
    rate = premium + np.clip(interest - premium, -interest_clamp, interest_clamp)
    return np.clip(rate, -cap, cap)


def funding_events(step: int, step_hours: float, interval_hours: float) -> int:
    """Number of funding times in the step ending at ``step`` (times at multiples of the interval).

    Step ``t`` covers hours ``((t-1) * step_hours, t * step_hours]``.
    """
    eps = 1e-9
    return int(math.floor(step * step_hours / interval_hours + eps)
               - math.floor((step - 1) * step_hours / interval_hours + eps))
