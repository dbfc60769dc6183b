"""Filtered historical simulation (FHS): GJR-GARCH filter, bootstrap of standardised residual vectors.

Each asset is filtered by its own GJR-GARCH(1,1,1), fitted by ``arch`` by Gaussian quasi-maximum likelihood
(the default; the simulation uses the empirical residuals, not a fitted distribution). Gaussian QML makes the
training residuals have unit variance, which the recursion needs: on hourly BTC a Student-t fit (nu ~ 3.3)
leaves residual variance ~1.33 and, with persistence ~1, resampling them would make the simulated variance grow
~2 % per step (the ``dist`` option allows it, for comparison). A simulated
step draws one training bar ``t`` uniformly with replacement and takes the whole row ``(z_t, e_t)``: the
standardised return residual of **every** asset and the liquidity-rule residual of every asset at that same
timestamp. Cross-asset correlation, tail dependence in stress and the return-volume link of the data are
therefore kept. The residuals are re-volatised by the GJR recursion from the start's volatility state, and the
liquidity rule of :mod:`scenarios.baselines.liquidity` turns ``|z_t|`` and ``e_t`` into the liquidity path.
Draws are iid across steps (no block bootstrap): residual dependence over time is left to the GJR filter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scenarios.baselines.parametric import FilteredBaseline
from scenarios.features import Features


class FHS(FilteredBaseline):
    """Filtered historical simulation (module docstring).

    Parameters
    ----------
    dist : {"normal", "t", "skewt"}
        Quasi-likelihood used to fit the filter (default Gaussian QML, see the module docstring).
    """

    name = "fhs"
    asymmetric = True
    model_name = "GJR-GARCH(1,1,1) filter"

    def __init__(self, dist: str = "normal") -> None:
        super().__init__(dist)

    def fit(self, features: Features, train_end: pd.Timestamp | str | None = None) -> "FHS":
        """Fit the filter on bars before ``train_end`` and keep the training residual rows to resample."""
        super().fit(features, train_end)
        rows = self._train_rows & np.isfinite(self._e).all(axis=1)
        self._pool_z = np.ascontiguousarray(self._z[rows])  # (N, a)
        self._pool_e = np.ascontiguousarray(self._e[rows])
        return self

    def _draw(self, rng: np.random.Generator, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        rows = rng.integers(0, len(self._pool_z), size=(m, h))
        return self._pool_z[rows], self._pool_e[rows]

    def params(self) -> dict[str, Any]:
        d = super().params()
        d["innovations"] = "bootstrap of training rows (z_t, e_t), all assets at the same bar"
        d["filter_quasi_likelihood"] = self.dist
        d["n_residual_rows"] = int(len(self._pool_z))
        d["residual_std"] = [float(v) for v in self._pool_z.std(axis=0)]
        d["residual_corr"] = np.corrcoef(self._pool_z, rowvar=False).reshape(len(self.assets), -1).round(6).tolist()
        d.pop("dependence")
        return d
