"""GARCH-family baselines: GARCH(1,1)-t and GJR-GARCH(1,1,1)-t with CCC dependence, and the shared filter.

:class:`FilteredBaseline` holds what GARCH, GJR and FHS share: a per-asset (GJR-)GARCH fitted by ``arch`` on
the training bars, the conditional variance filtered through the **whole** series with those parameters (so a
start in a later test period sees the volatility state its context leaves), the liquidity rule
(:mod:`scenarios.baselines.liquidity`) and the vectorised path recursion. Subclasses only say where the
standardised innovations ``z`` and liquidity residuals ``e`` come from:

- :class:`GARCH`, :class:`GJR`: iid draws from the fitted margins (Student-t by default, Hansen skew-t or normal
  as options) joined by a Gaussian copula with the training residuals' correlation (constant conditional
  correlation, see :mod:`scenarios.baselines.innovations`); ``e`` Gaussian.
- FHS (:mod:`scenarios.baselines.fhs`): bootstrap of training rows ``(z_t, e_t)`` across all assets at once.

The state at a start time ``s`` is, per asset, the one-step-ahead variance after the last observed bar before
``s`` (and the last real liquidity, and the trailing reference volatility, of that bar).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from scenarios.baselines.base import Baseline, PathChunk, as_utc
from scenarios.baselines.innovations import DISTRIBUTIONS, Innovations
from scenarios.baselines.liquidity import LiquidityAR
from scenarios.baselines.volatility import GJRParams, filter_variance, fit_gjr, recurse_paths, stack_params
from scenarios.errors import InputError
from scenarios.features import Features

MIN_FIT_BARS = 250


@dataclass(frozen=True)
class StartPlan:
    """Per-start state, one row per start time: ``sigma2`` (variance of the first step, percent^2), ``q0``
    (last real log volume ratio), ``sigma_ref`` (reference volatility per bar), all float64[k, a];
    ``start`` datetime64[ns][k]; ``horizon`` the steps to simulate (0 until a simulation asks)."""

    sigma2: np.ndarray
    q0: np.ndarray
    sigma_ref: np.ndarray
    start: np.ndarray
    horizon: int = 0


class FilteredBaseline(Baseline):
    """Shared fit and recursion of the GARCH-family baselines (module docstring).

    Parameters
    ----------
    dist : {"t", "skewt", "normal"}
        Innovation distribution of the ``arch`` fit.
    """

    asymmetric: ClassVar[bool] = True
    model_name: ClassVar[str] = "GJR-GARCH(1,1,1)"

    def __init__(self, dist: str = "t") -> None:
        if dist not in DISTRIBUTIONS:
            raise InputError(f"unknown innovation distribution {dist!r}; choose one of {', '.join(DISTRIBUTIONS)}")
        self.dist = dist
        self._fitted = False

    @property
    def assets(self) -> tuple[str, ...]:
        self._check_fitted()
        return self._assets

    def fit(self, features: Features, train_end: pd.Timestamp | str | None = None) -> "FilteredBaseline":
        """Fit per asset on bars before ``train_end``, then filter the whole series (module docstring)."""
        te = as_utc(train_end)
        index = features.index
        r = features.returns.to_numpy(np.float64)
        in_train = np.ones(len(index), bool) if te is None else np.asarray(index < te)
        T, a = r.shape
        self._params: list[GJRParams] = []
        self._state_times: list[np.ndarray] = []
        self._sigma2: list[np.ndarray] = []
        z = np.full((T, a), np.nan)
        for j in range(a):
            valid = np.isfinite(r[:, j])
            train = valid & in_train
            if train.sum() < MIN_FIT_BARS:
                raise InputError(f"{features.assets[j]}: only {int(train.sum())} bars before train_end {te} "
                                 f"(need {MIN_FIT_BARS}) to fit {self.model_name}")
            p = fit_gjr(r[train, j], asymmetric=self.asymmetric, dist=self.dist)
            sigma2 = filter_variance(r[valid, j], p)  # len valid + 1
            z[valid, j] = (r[valid, j] * 100.0 - p.mu) / np.sqrt(sigma2[:-1])
            self._params.append(p)
            self._state_times.append(index[valid].as_unit("ns").asi8)
            self._sigma2.append(sigma2)  # sigma2[k]: bar k of the valid bars; sigma2[k + 1]: the bar after it
        self._z = z
        rows = in_train & np.isfinite(z).all(axis=1)
        innov = Innovations(self.dist, np.array([p.nu for p in self._params]),
                            np.array([p.lam for p in self._params]), np.eye(a))
        self._innovations = innov.with_copula_from(z[rows])
        q = features.liquidity.to_numpy(np.float64)
        self._liquidity, self._e = LiquidityAR.fit(np.where(in_train[:, None], q, np.nan), np.abs(z))
        self._stacked = stack_params(self._params)
        self._grid = index.as_unit("ns").asi8
        self._step_ns = int(np.median(np.diff(self._grid))) if len(index) > 1 else 0
        self._q_ffill = features.liquidity.ffill().to_numpy(np.float64)
        self._sigma_ref_ffill = features.sigma_ref.ffill().to_numpy(np.float64)
        self._assets = features.assets
        self._train_end = te
        self._train_span = (index[in_train][0], index[in_train][-1])
        self._train_rows = rows
        self._fitted = True
        return self

    # ------------------------------------------------------------------------------------------------
    # state and simulation

    def start_state(self, starts: pd.DatetimeIndex) -> StartPlan:
        """The state each start time leaves: variance of the first step, last real liquidity, sigma_ref."""
        self._check_fitted()
        s = pd.DatetimeIndex(starts).as_unit("ns").asi8
        if s.min() <= self._grid[0]:
            raise InputError(f"start {pd.Timestamp(s.min(), tz='UTC')} is not after the data's first bar "
                             f"{pd.Timestamp(self._grid[0], tz='UTC')}; a start needs bars before it")
        if s.max() > self._grid[-1] + self._step_ns:
            raise InputError(f"start {pd.Timestamp(s.max(), tz='UTC')} is after the bar that follows the data "
                             f"(last bar {pd.Timestamp(self._grid[-1], tz='UTC')}); the state needs the context")
        a = len(self._assets)
        sigma2 = np.empty((len(s), a))
        for j in range(a):
            k = np.searchsorted(self._state_times[j], s, side="left") - 1
            if (k < 0).any():
                raise InputError(f"{self._assets[j]}: no return observed before start "
                                 f"{pd.Timestamp(s[np.argmax(k < 0)], tz='UTC')}")
            sigma2[:, j] = self._sigma2[j][k + 1]
        pos = np.searchsorted(self._grid, s, side="left") - 1
        q0 = np.nan_to_num(self._q_ffill[pos], nan=0.0)
        sigma_ref = self._sigma_ref_ffill[pos]
        bad = ~np.isfinite(sigma_ref).all(axis=1)
        if bad.any():
            raise InputError(f"no reference volatility before start {pd.Timestamp(s[np.argmax(bad)], tz='UTC')}"
                             "; a start needs about a week of bars before it")
        return StartPlan(sigma2, q0, sigma_ref, s.astype("datetime64[ns]"))

    def _plan(self, starts: pd.DatetimeIndex, horizon: int, regime: str | None, severity: float | None
              ) -> StartPlan:
        return replace(self.start_state(starts), horizon=horizon)  # regime/severity act only through starts

    def _block(self, plan: StartPlan, rng: np.random.Generator, context: np.ndarray) -> PathChunk:
        z, e = self._draw(rng, len(context), plan.horizon)
        r, _ = recurse_paths(self._stacked, plan.sigma2[context], z)
        q = self._liquidity.paths(plan.q0[context], np.abs(z), e)
        return PathChunk(r.astype(np.float32), q.astype(np.float32), plan.sigma_ref[context].astype(np.float32),
                         plan.start[context])

    def _draw(self, rng: np.random.Generator, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Standardised innovations ``z`` and liquidity residuals ``e``, both float64[m, h, a]."""
        z = self._innovations.draw(rng, m, h)
        return z, self._liquidity.draw_residuals(rng, m, h)

    # ------------------------------------------------------------------------------------------------
    # introspection

    @property
    def garch_params(self) -> list[GJRParams]:
        """Fitted per-asset parameters (percent returns)."""
        self._check_fitted()
        return list(self._params)

    @property
    def innovations(self) -> Innovations:
        self._check_fitted()
        return self._innovations

    @property
    def liquidity_model(self) -> LiquidityAR:
        self._check_fitted()
        return self._liquidity

    def standardised_residuals(self) -> pd.DataFrame:
        """DataFrame[timestamp, asset] of ``z_t = eps_t / sigma_t`` over the whole series (NaN in gaps)."""
        self._check_fitted()
        return pd.DataFrame(self._z, index=pd.DatetimeIndex(self._grid, tz="UTC"), columns=list(self._assets))

    def conditional_volatility(self) -> pd.DataFrame:
        """DataFrame[timestamp, asset] of the filtered ``sigma_t`` of each bar, in log-return units."""
        self._check_fitted()
        out = np.full((len(self._grid), len(self._assets)), np.nan)
        for j in range(len(self._assets)):
            out[np.searchsorted(self._grid, self._state_times[j]), j] = np.sqrt(self._sigma2[j][:-1]) / 100.0
        return pd.DataFrame(out, index=pd.DatetimeIndex(self._grid, tz="UTC"), columns=list(self._assets))

    def params(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "source": self.name,
            "model": f"{self.model_name} with constant mean, fitted by arch on 100 x log returns",
            "innovations": self.dist,
            "train_start": self._train_span[0].isoformat(),
            "train_last_bar": self._train_span[1].isoformat(),
            "train_end": None if self._train_end is None else self._train_end.isoformat(),
            "per_asset": {x: p.to_dict() for x, p in zip(self._assets, self._params)},
            "dependence": self._innovations.to_dict(),
            "liquidity": self._liquidity.to_dict(self._assets),
        }


class GJR(FilteredBaseline):
    """GJR-GARCH(1,1,1) with Student-t (default), skew-t or normal innovations and a Gaussian copula."""

    name = "gjr"
    asymmetric = True
    model_name = "GJR-GARCH(1,1,1)"


class GARCH(FilteredBaseline):
    """GARCH(1,1) with Student-t (default), skew-t or normal innovations and a Gaussian copula."""

    name = "garch"
    asymmetric = False
    model_name = "GARCH(1,1)"
