"""Implied volatility that moves with the path: an EWMA ATM level and a quadratic smile in log-moneyness.

Notes
-----
ATM level. The annualised ATM variance follows an EWMA of the path's squared log returns, started at the
initial ATM vol:

.. math:: v_t = \\lambda v_{t-1} + (1-\\lambda)\\, r_t^2 / \\Delta t,\\qquad \\sigma_{ATM,t} = \\sqrt{v_t},

with :math:`\\Delta t` the step in years and :math:`\\lambda = 2^{-\\Delta h / h_{1/2}}` for a half-life of
:math:`h_{1/2}` hours. A crash therefore lifts implied vol within a few steps; a calm path lets it decay.

Smile. With log-moneyness :math:`k = \\ln(K/F)` against the option's own forward,

.. math:: \\sigma(k) = \\mathrm{clip}\\big(\\sigma_{ATM}\\,(1 + s\\,k + c\\,k^2),\\ \\sigma_{min},\\ \\sigma_{max}\\big).

``skew`` :math:`s < 0` makes puts (k < 0) richer than calls, as in crypto markets; ``curvature``
:math:`c > s^2/4` keeps the factor positive. The smile is sticky in moneyness: it moves with the forward.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from margin.crypto_calendar import HOURS_PER_YEAR


def smile_vol(
    log_moneyness: ArrayLike,
    atm_vol: ArrayLike,
    skew: float,
    curvature: float,
    vol_floor: float,
    vol_cap: float,
) -> np.ndarray:
    """Implied vol at log-moneyness ``ln(K/F)`` for ATM level ``atm_vol`` (annualised), float64."""
    k = np.asarray(log_moneyness, float)
    return np.clip(np.asarray(atm_vol, float) * (1.0 + skew * k + curvature * k * k), vol_floor, vol_cap)


def ewma_decay(halflife_hours: float, step_hours: float) -> float:
    """Per-step EWMA weight :math:`\\lambda = 2^{-step/halflife}` on the previous variance."""
    return float(0.5 ** (step_hours / halflife_hours))


def ewma_atm_variance(
    returns: np.ndarray, initial_variance: ArrayLike, decay: float, step_hours: float
) -> np.ndarray:
    """Run the EWMA variance filter along axis 1.

    Parameters
    ----------
    returns : float[n_paths, horizon_steps, n_assets]
        Log returns per step.
    initial_variance : float[n_assets] or broadcastable
        Annualised variance before the first step.
    decay : float
        :math:`\\lambda` from :func:`ewma_decay`.
    step_hours : float
        Step length, for annualising.

    Returns
    -------
    float64[n_paths, horizon_steps + 1, n_assets]: annualised variance, index 0 = initial.
    """
    n, h, a = returns.shape
    per_year = HOURS_PER_YEAR / step_hours
    out = np.empty((n, h + 1, a))
    out[:, 0, :] = initial_variance
    for t in range(h):
        r = returns[:, t, :].astype(np.float64)
        out[:, t + 1, :] = decay * out[:, t, :] + (1.0 - decay) * per_year * r * r
    return out


def initial_atm_vol(
    history_returns: np.ndarray | None, step_hours: float, halflife_hours: float, default: float
) -> np.ndarray:
    """Starting ATM vol per asset: the EWMA of ``history_returns`` if given, else ``default``.

    The filter starts at the sample variance of the history and runs through it, so the last value weights
    recent returns by the half-life. Returns float64[n_assets] (or a 1-element array when no history).
    """
    if history_returns is None or len(history_returns) < 2:
        return np.atleast_1d(np.float64(default))
    hist = np.asarray(history_returns, np.float64)
    per_year = HOURS_PER_YEAR / step_hours
    decay = ewma_decay(halflife_hours, step_hours)
    n = hist.shape[0]
    # v_n = decay^n v_0 + (1 - decay) sum_i decay^(n-1-i) r_i^2 per_year, with v_0 the sample variance
    weights = (1.0 - decay) * decay ** np.arange(n - 1, -1, -1, dtype=np.float64)
    var = decay ** n * hist.var(axis=0) * per_year + per_year * (weights @ (hist * hist))
    return np.sqrt(var)
