"""Black-76: European options on a forward (futures) price, with greeks.

Pure float64 numpy functions, broadcasting over all arguments. The engine's hot loop uses the float32
torch twin in :mod:`margin.option_kernel`; these are the reference the tests check it against.

Notes
-----
With forward :math:`F`, strike :math:`K`, volatility :math:`\\sigma`, time to expiry :math:`\\tau`
(years) and discount factor :math:`D = e^{-r\\tau}`,

.. math::
    d_1 = \\frac{\\ln(F/K) + \\sigma^2\\tau/2}{\\sigma\\sqrt\\tau},\\quad d_2 = d_1 - \\sigma\\sqrt\\tau,\\qquad
    C = D\\,[F N(d_1) - K N(d_2)],\\quad P = D\\,[K N(-d_2) - F N(-d_1)].

At :math:`\\tau = 0` the price is the intrinsic value :math:`\\max(\\omega(F-K), 0)`, :math:`\\omega=\\pm1`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


class Black76Greeks(NamedTuple):
    """Sensitivities of one option (per unit of underlying), all float64 arrays.

    delta : dV/dF; gamma : d2V/dF2; vega : dV/dsigma (per 1.00 of vol, not per vol point);
    theta : dV/dt in calendar years (minus dV/dtau), usually negative for long options.
    """

    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray


def _d1_d2(forward, strike, vol, tau):
    sst = vol * np.sqrt(tau)
    d1 = (np.log(forward / strike) + 0.5 * sst * sst) / sst
    return d1, d1 - sst, sst


def black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    vol: ArrayLike,
    tau_years: ArrayLike,
    is_call: ArrayLike = True,
    rate: float = 0.0,
) -> np.ndarray:
    """Black-76 price of a European option on a forward.

    Parameters
    ----------
    forward, strike : array_like, USD
        Forward (futures) price for the option's expiry and strike price; positive.
    vol : array_like
        Annualised implied volatility (0.6 = 60%); positive.
    tau_years : array_like
        Time to expiry in years (>= 0). At 0 the intrinsic value is returned.
    is_call : array_like of bool
        True for calls, False for puts.
    rate : float
        Continuously compounded discount rate per year (crypto venues usually use 0).

    Returns
    -------
    float64 array, USD per unit of underlying, broadcast shape of the inputs.
    """
    f, k, v, tau, call = np.broadcast_arrays(
        np.asarray(forward, float), np.asarray(strike, float), np.asarray(vol, float),
        np.asarray(tau_years, float), np.asarray(is_call, bool),
    )
    omega = np.where(call, 1.0, -1.0)
    intrinsic = np.maximum(omega * (f - k), 0.0)
    live = tau > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        d1, d2, _ = _d1_d2(f, k, v, np.where(live, tau, 1.0))
        price = omega * (f * ndtr(omega * d1) - k * ndtr(omega * d2))
    discount = np.exp(-rate * tau)
    return np.where(live, discount * price, intrinsic)


def black76_greeks(
    forward: ArrayLike,
    strike: ArrayLike,
    vol: ArrayLike,
    tau_years: ArrayLike,
    is_call: ArrayLike = True,
    rate: float = 0.0,
) -> Black76Greeks:
    """Closed-form Black-76 greeks for ``tau_years > 0`` (same arguments as :func:`black76_price`).

    Notes
    -----
    :math:`\\Delta = \\omega D N(\\omega d_1)`, :math:`\\Gamma = D\\varphi(d_1)/(F\\sigma\\sqrt\\tau)`,
    :math:`\\mathcal V = D F \\varphi(d_1)\\sqrt\\tau`,
    :math:`\\Theta = rV - D F\\varphi(d_1)\\sigma/(2\\sqrt\\tau)`.
    """
    f, k, v, tau, call = np.broadcast_arrays(
        np.asarray(forward, float), np.asarray(strike, float), np.asarray(vol, float),
        np.asarray(tau_years, float), np.asarray(is_call, bool),
    )
    if np.any(tau <= 0):
        raise ValueError("greeks need tau_years > 0; an option at expiry has only its intrinsic value")
    omega = np.where(call, 1.0, -1.0)
    d1, _, sst = _d1_d2(f, k, v, tau)
    discount = np.exp(-rate * tau)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    price = black76_price(f, k, v, tau, call, rate)
    return Black76Greeks(
        delta=omega * discount * ndtr(omega * d1),
        gamma=discount * pdf / (f * sst),
        vega=discount * f * pdf * np.sqrt(tau),
        theta=rate * price - discount * f * pdf * v / (2.0 * np.sqrt(tau)),
    )
