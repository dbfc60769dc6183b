"""Liquidity paths for the parametric baselines: an AR(1) of the log volume ratio linked to the return shock.

Rule, per asset, with ``q_t`` the log volume ratio (:mod:`scenarios.features`) and ``z_t`` the standardised
return innovation of the same bar:

.. math::

    q_t = \\max(c + \\phi \\, q_{t-1} + \\beta \\, |z_t| + e_t, \\; \\log 0.01)

fitted by OLS on the training bars; ``beta > 0`` says big return shocks come with heavy volume. A path starts
from the last real ``q`` of its context. The residual ``e_t`` is drawn Gaussian (GARCH/GJR: standard deviation
``sigma_e`` and the cross-asset correlation of the training residuals) or bootstrapped with the return residual
vector of the same bar (FHS). The floor is the one :mod:`scenarios.features` puts on real volume (1 % of
normal). The rule has no intraday seasonality: hourly volume's daily cycle shows up as noise in ``e_t``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scenarios.errors import InputError
from scenarios.features import VOLUME_FLOOR

FLOOR = float(np.log(VOLUME_FLOOR))
MIN_ROWS = 30


@dataclass(frozen=True)
class LiquidityAR:
    """Fitted liquidity rule (module docstring); all arrays float64 with one entry per asset.

    Attributes
    ----------
    c, phi, beta : float64[a]
        Intercept, AR(1) coefficient, loading on ``|z_t|``.
    sigma_e : float64[a]
        Residual standard deviation (log units).
    corr_e : float64[a, a]
        Cross-asset correlation of the residuals.
    """

    c: np.ndarray
    phi: np.ndarray
    beta: np.ndarray
    sigma_e: np.ndarray
    corr_e: np.ndarray

    @classmethod
    def fit(cls, q: np.ndarray, abs_z: np.ndarray) -> tuple["LiquidityAR", np.ndarray]:
        """OLS per asset.

        Parameters
        ----------
        q : float[T, a]
            Log volume ratio per bar (NaN where unknown).
        abs_z : float[T, a]
            ``|z_t|``, absolute standardised return innovation per bar (NaN where unknown).

        Returns
        -------
        model : LiquidityAR
        residuals : float64[T, a]
            ``e_t`` per bar; NaN where ``q_t``, ``q_{t-1}`` or ``z_t`` is missing.
        """
        q = np.asarray(q, dtype=np.float64)
        abs_z = np.asarray(abs_z, dtype=np.float64)
        T, a = q.shape
        resid = np.full((T, a), np.nan)
        coef = np.empty((a, 3))
        for j in range(a):
            y, x_lag, x_z = q[1:, j], q[:-1, j], abs_z[1:, j]
            ok = np.isfinite(y) & np.isfinite(x_lag) & np.isfinite(x_z)
            if ok.sum() < MIN_ROWS:
                raise InputError(f"only {int(ok.sum())} bars with liquidity and returns to fit the liquidity "
                                 f"rule (need {MIN_ROWS}); give a longer training period")
            X = np.column_stack([np.ones(ok.sum()), x_lag[ok], x_z[ok]])
            coef[j], *_ = np.linalg.lstsq(X, y[ok], rcond=None)
            resid[1:, j][ok] = y[ok] - X @ coef[j]
        both = np.isfinite(resid).all(axis=1)
        corr = np.corrcoef(resid[both], rowvar=False).reshape(a, a) if a > 1 else np.ones((1, 1))
        sigma_e = np.array([np.nanstd(resid[:, j], ddof=3) for j in range(a)])
        return cls(coef[:, 0], coef[:, 1], coef[:, 2], sigma_e, corr), resid

    def draw_residuals(self, rng: np.random.Generator, m: int, h: int) -> np.ndarray:
        """float64[m, h, a]: Gaussian ``e_t`` with std ``sigma_e`` and correlation ``corr_e``."""
        g = rng.standard_normal((m, h, len(self.c)))
        if len(self.c) > 1:
            g = g @ np.linalg.cholesky(self.corr_e).T
        return g * self.sigma_e

    def paths(self, q0: np.ndarray, abs_z: np.ndarray, e: np.ndarray) -> np.ndarray:
        """Run the rule forward.

        Parameters
        ----------
        q0 : float[m, a]
            Last real log volume ratio of each path's context.
        abs_z : float[m, h, a]
            ``|z_t|`` of the simulated return innovations.
        e : float[m, h, a]
            Residuals.

        Returns
        -------
        float64[m, h, a]
            Log volume ratio per step, floored at log 0.01.
        """
        m, h, a = abs_z.shape
        out = np.empty((m, h, a))
        q = np.asarray(q0, dtype=np.float64)
        base = self.c + self.beta * abs_z + e  # (m, h, a)
        for t in range(h):
            q = np.maximum(base[:, t] + self.phi * q, FLOOR)
            out[:, t] = q
        return out

    def to_dict(self, assets: tuple[str, ...]) -> dict[str, Any]:
        return {
            "rule": "q_t = max(c + phi q_{t-1} + beta |z_t| + e_t, log 0.01), OLS on training bars",
            "per_asset": {x: {"c": float(self.c[j]), "phi": float(self.phi[j]), "beta": float(self.beta[j]),
                              "sigma_e": float(self.sigma_e[j])} for j, x in enumerate(assets)},
            "corr_e": self.corr_e.round(6).tolist(),
        }
