"""Liquidation slippage from the square-root market-impact law.

Notes
-----
Closing a USD notional :math:`N` in a step where the asset trades :math:`V` USD with per-step volatility
:math:`\\sigma` costs the fraction

.. math:: s = \\min\\big(k\\,\\sigma\\,\\sqrt{N / V},\\ s_{max}\\big)

of the notional (Almgren et al. 2005; Bouchaud et al. on the square-root law; :math:`k \\approx 0.5\\text{-}1`).
A liquidity drought (lower :math:`V`) and a volatile step (higher :math:`\\sigma`) both raise the cost.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def impact_slippage(
    notional_usd: ArrayLike, volume_usd: ArrayLike, sigma_step: ArrayLike, k: float, cap: float
) -> np.ndarray:
    """Slippage as a fraction of the closed notional (float64, same broadcast shape as the inputs)."""
    n = np.asarray(notional_usd, np.float64)
    v = np.asarray(volume_usd, np.float64)
    return np.minimum(k * np.asarray(sigma_step, np.float64) * np.sqrt(np.abs(n) / v), cap)
