"""GJR-GARCH(1,1,1) volatility per asset: fit through ``arch``, filter a series, step the recursion.

Units: the model sees returns in percent, ``y_t = 100 r_t`` (``r`` the log return per bar), with a constant
mean ``mu``; ``eps_t = y_t - mu`` and

.. math::

    \\sigma^2_t = \\omega + (\\alpha + \\gamma \\, 1[\\epsilon_{t-1} < 0]) \\, \\epsilon^2_{t-1}
                 + \\beta \\sigma^2_{t-1}

(GARCH(1,1) is ``gamma = 0``). The recursion starts from ``arch``'s backcast (exponentially weighted mean of
the first 75 squared residuals, weights 0.94^i) computed as ``arch`` does in its fit, from residuals about the
training sample mean; ``arch``'s loose variance bounds (1e-6 .. 1e6 of an EWMA) are not applied (they never
bind on sensible parameters; a test checks the filter equals ``arch``'s conditional volatility).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import lfilter

SCALE = 100.0  # returns are fitted in percent
BACKCAST_BARS = 75
BACKCAST_DECAY = 0.94


@dataclass(frozen=True)
class GJRParams:
    """Fitted GJR-GARCH(1,1,1) parameters of one asset (returns in percent).

    Attributes
    ----------
    mu : float
        Constant mean, percent per bar.
    omega, alpha, gamma, beta : float
        Variance recursion (percent squared); ``gamma = 0`` for GARCH(1,1).
    dist : str
        Innovation distribution: ``normal``, ``t`` or ``skewt`` (Hansen), standardised to unit variance.
    nu : float
        Degrees of freedom (``t``/``skewt``; ``inf`` for normal).
    lam : float
        Skewness ``lambda`` of the skew-t (0 otherwise).
    backcast : float
        Initial variance of the recursion, percent squared.
    loglik : float
        Log-likelihood at the optimum (of the percent returns).
    n_obs : int
        Bars used in the fit.
    converged : bool
        The optimiser reported success.
    """

    mu: float
    omega: float
    alpha: float
    gamma: float
    beta: float
    dist: str
    nu: float
    lam: float
    backcast: float
    loglik: float
    n_obs: int
    converged: bool

    @property
    def persistence(self) -> float:
        """alpha + gamma/2 + beta (exact for symmetric innovations)."""
        return self.alpha + 0.5 * self.gamma + self.beta

    def to_dict(self) -> dict[str, Any]:
        d = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in self.__dict__.items()}
        d["persistence"] = float(self.persistence)
        if not np.isfinite(self.nu):
            d["nu"] = None
        return d


def fit_gjr(returns: np.ndarray, *, asymmetric: bool = True, dist: str = "t") -> GJRParams:
    """Fit GARCH(1,1) or GJR-GARCH(1,1,1) with constant mean by maximum likelihood (``arch.arch_model``).

    Parameters
    ----------
    returns : float[T]
        Log returns per bar, finite (gaps removed).
    asymmetric : bool
        GJR (``o=1``) when True, GARCH(1,1) otherwise.
    dist : {"t", "skewt", "normal"}
        Innovation distribution.

    Notes
    -----
    Fitted on ``100 r``. When SLSQP reports a non-zero exit (on hourly crypto data it often stops with
    "positive directional derivative" next to the optimum because ``omega`` is tiny in percent units), the fit
    is repeated on ``1000 r`` and its parameters converted back (``mu / 10``, ``omega / 100``); the run with
    the higher likelihood of the percent returns is kept. ``converged`` is True when a run that exited cleanly
    reached (within 1e-3) the kept likelihood.
    """
    from arch import arch_model
    from arch.utility.exceptions import ConvergenceWarning

    y = np.asarray(returns, dtype=np.float64)
    arch_dist = {"t": "t", "skewt": "skewt", "normal": "normal"}[dist]
    o = 1 if asymmetric else 0
    runs = []
    for factor in (1.0, 10.0):
        am = arch_model(y * SCALE * factor, mean="Constant", vol="GARCH", p=1, o=o, q=1, dist=arch_dist,
                        rescale=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = am.fit(disp="off", show_warning=False)
        # log-likelihood of the percent returns: the density of 10 y is that of y over 10
        runs.append((float(res.loglikelihood) + len(y) * np.log(factor), res, factor))
        if res.convergence_flag == 0:
            break
    loglik, res, factor = max(runs, key=lambda run: run[0])
    converged = any(r.convergence_flag == 0 and loglik >= ll - 1e-3 for ll, r, _ in runs)
    p = res.params
    f2 = factor**2
    resid0 = y * SCALE - y.mean() * SCALE  # arch's backcast uses residuals at its starting values (sample mean)
    return GJRParams(
        mu=float(p["mu"]) / factor, omega=float(p["omega"]) / f2, alpha=float(p["alpha[1]"]),
        gamma=float(p["gamma[1]"]) if asymmetric else 0.0, beta=float(p["beta[1]"]), dist=dist,
        nu=float(p["eta"] if dist == "skewt" else p["nu"]) if dist != "normal" else float("inf"),
        lam=float(p["lambda"]) if dist == "skewt" else 0.0,
        backcast=backcast(resid0), loglik=loglik, n_obs=len(y), converged=converged,
    )


def backcast(resid: np.ndarray) -> float:
    """``arch``'s backcast: weighted mean of the first 75 squared residuals, weights 0.94^i (normalised)."""
    tau = min(BACKCAST_BARS, len(resid))
    w = BACKCAST_DECAY ** np.arange(tau)
    return float(np.sum(resid[:tau] ** 2 * w) / w.sum())


def filter_variance(returns: np.ndarray, p: GJRParams) -> np.ndarray:
    """Conditional variances along a return series with fixed parameters.

    Parameters
    ----------
    returns : float[T]
        Log returns per bar, finite (gaps removed).
    p : GJRParams

    Returns
    -------
    sigma2 : float64[T + 1]
        ``sigma2[t]`` is the variance (percent squared) of bar ``t`` given bars before it; ``sigma2[T]`` the
        one-step-ahead variance after the last bar.

    Notes
    -----
    Given the residuals the recursion is linear in ``sigma2``, so it runs as one IIR filter
    ``sigma2[t+1] = u_t + beta sigma2[t]`` with ``u_t = omega + (alpha + gamma 1[eps_t < 0]) eps_t^2``.
    """
    eps = np.asarray(returns, dtype=np.float64) * SCALE - p.mu
    s0 = p.omega + (p.alpha + 0.5 * p.gamma + p.beta) * p.backcast
    u = p.omega + (p.alpha + p.gamma * (eps < 0)) * eps**2
    tail, _ = lfilter([1.0], [1.0, -p.beta], u, zi=[p.beta * s0])
    return np.concatenate([[s0], tail])


def stack_params(params: list[GJRParams]) -> dict[str, np.ndarray]:
    """Per-asset parameters as float64[a] arrays: ``mu, omega, alpha, gamma, beta``."""
    return {k: np.array([getattr(p, k) for p in params], dtype=np.float64)
            for k in ("mu", "omega", "alpha", "gamma", "beta")}


def recurse_paths(p: dict[str, np.ndarray], sigma2_0: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the GJR recursion forward from given variances with given standardised innovations.

    Parameters
    ----------
    p : dict of float64[a]
        From :func:`stack_params`.
    sigma2_0 : float64[m, a]
        Variance of the first step (percent squared).
    z : float[m, h, a]
        Standardised innovations (mean 0, variance 1).

    Returns
    -------
    returns : float64[m, h, a]
        Log returns per step, ``(mu + sqrt(sigma2_t) z_t) / 100``.
    sigma2 : float64[m, h, a]
        Variance of each step (percent squared).
    """
    m, h, a = z.shape
    out_r = np.empty((m, h, a))
    out_s = np.empty((m, h, a))
    s2 = np.array(sigma2_0, dtype=np.float64)
    mu, omega, alpha, gamma, beta = (p[k] for k in ("mu", "omega", "alpha", "gamma", "beta"))
    for t in range(h):
        out_s[:, t] = s2
        eps = np.sqrt(s2) * z[:, t]
        out_r[:, t] = eps
        s2 = omega + (alpha + gamma * (eps < 0)) * (eps * eps) + beta * s2
    out_r += mu
    out_r /= SCALE
    return out_r, out_s
