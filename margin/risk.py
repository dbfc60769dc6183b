"""Tail and margin metrics over paths, with seeded, vectorised bootstrap confidence intervals.

Sign convention: a *loss* is minus P&L, so losses are positive. For a level :math:`\\alpha` and ``n``
paths, with :math:`k = \\lceil (1-\\alpha) n \\rceil`, VaR is the ``k``-th largest loss and ES the mean of
the ``k`` largest (the tail-mean estimator, so ES >= VaR always).

Bootstrap. Paths are i.i.d. draws, so the bootstrap resamples them. It is vectorised without drawing
``n_boot x n`` indices: a proportion's bootstrap distribution is exactly ``Binomial(n, p)/n``; tail
statistics and means of mostly-zero quantities (bad debt) use the Poisson bootstrap (each path weighted by
an independent Poisson(1) count; Hanley & MacGibbon 2006), applied only to the paths that can matter (the
largest losses, the non-zero values), with the rest of the sample's weight drawn as one Poisson count.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

LEVELS = (0.95, 0.99, 0.995, 0.999)


def _k(level: float, n: int) -> int:
    return max(1, math.ceil((1.0 - level) * n - 1e-9))


def var_es(losses: ArrayLike, levels: tuple[float, ...] = LEVELS) -> tuple[np.ndarray, np.ndarray]:
    """Empirical VaR and ES of ``losses`` (positive = loss) at each level; two float64[len(levels)]."""
    x = np.asarray(losses, np.float64)
    if x.size == 0:
        raise ValueError("need at least one path")
    kmax = _k(min(levels), x.size)
    top = -np.sort(-np.partition(x, x.size - kmax)[x.size - kmax:]) if kmax < x.size else -np.sort(-x)
    var = np.array([top[_k(a, x.size) - 1] for a in levels])
    es = np.array([top[:_k(a, x.size)].mean() for a in levels])
    return var, es


def max_drawdown(equity: ArrayLike) -> np.ndarray:
    """Largest peak-to-trough fall along axis 1 of ``equity`` [n_paths, steps]; float64[n_paths], >= 0."""
    e = np.asarray(equity, np.float64)
    return np.max(np.maximum.accumulate(e, axis=1) - e, axis=1)


def _interval(samples: np.ndarray, ci: float) -> tuple[float, float]:
    lo, hi = np.quantile(samples, [(1 - ci) / 2, (1 + ci) / 2], axis=0)
    return float(lo), float(hi)


def bootstrap_proportion(p_hat: float, n: int, rng: np.random.Generator, n_boot: int = 1000,
                         ci: float = 0.95) -> tuple[float, float]:
    """Bootstrap interval of a share of ``n`` paths (exact: the resampled count is Binomial(n, p_hat))."""
    return _interval(rng.binomial(n, p_hat, size=n_boot) / n, ci)


def bootstrap_sparse_mean(values: ArrayLike, rng: np.random.Generator, n_boot: int = 1000,
                          ci: float = 0.95) -> tuple[float, float]:
    """Poisson-bootstrap interval of the mean of ``values`` that are mostly zero (e.g. bad debt)."""
    x = np.asarray(values, np.float64)
    nz = x[x != 0]
    w = rng.poisson(1.0, size=(n_boot, nz.size))
    total = w.sum(axis=1) + rng.poisson(x.size - nz.size, size=n_boot)
    return _interval((w @ nz) / np.maximum(total, 1), ci)


def bootstrap_var_es(losses: ArrayLike, levels: tuple[float, ...], rng: np.random.Generator,
                     n_boot: int = 1000, ci: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Poisson-bootstrap intervals of VaR and ES at each level.

    Only the largest ``m`` losses are weighted individually (``m`` covers 3x the widest tail plus 50, so the
    resampled tail stays inside them with overwhelming probability); the rest of the sample enters as one
    Poisson count. Returns two float64[len(levels), 2] arrays of (low, high).
    """
    x = np.asarray(losses, np.float64)
    n = x.size
    m = min(n, 3 * _k(min(levels), n) + 50)
    top = -np.sort(-np.partition(x, n - m)[n - m:]) if m < n else -np.sort(-x)
    w = rng.poisson(1.0, size=(n_boot, m)).astype(np.float64)
    total = w.sum(axis=1) + (rng.poisson(n - m, size=n_boot) if m < n else 0)
    cum = np.cumsum(w, axis=1)
    var_ci, es_ci = np.empty((len(levels), 2)), np.empty((len(levels), 2))
    for j, a in enumerate(levels):
        mass = np.maximum((1.0 - a) * total, 1.0)[:, None]                    # [B, 1]
        at = np.minimum(np.argmax(cum >= mass, axis=1), m - 1)
        take = np.clip(mass - (cum - w), 0.0, w)
        var_ci[j] = _interval(top[at], ci)
        es_ci[j] = _interval((take @ top) / mass[:, 0], ci)
    return var_ci, es_ci
