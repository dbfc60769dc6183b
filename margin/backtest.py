"""Backtesting a margin model on history: exceedances of initial margin and the standard coverage tests.

Notes
-----
Kupiec's proportion-of-failures test: with ``x`` exceedances in ``n`` periods and expected rate
:math:`p = 1 - \\text{coverage}`,

.. math:: LR_{POF} = -2\\ln\\frac{(1-p)^{n-x}p^x}{(1-\\hat p)^{n-x}\\hat p^x},\\quad \\hat p = x/n,
    \\quad LR_{POF} \\sim \\chi^2_1.

Christoffersen's independence test compares the probability of an exceedance after a calm period
:math:`\\pi_0 = n_{01}/(n_{00}+n_{01})` with that after an exceedance :math:`\\pi_1 = n_{11}/(n_{10}+n_{11})`;
:math:`LR_{ind} \\sim \\chi^2_1`, and :math:`LR_{cc} = LR_{POF} + LR_{ind} \\sim \\chi^2_2`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import xlogy
from scipy.stats import chi2

from margin.engine import simulate
from margin.paths import MarketPaths
from margin.portfolio import Portfolio, load_portfolio
from margin.venue import Venue, load_venue


@dataclass(frozen=True)
class TestResult:
    """A likelihood-ratio test: statistic, degrees of freedom, p-value (small = reject the model)."""

    statistic: float
    dof: int
    p_value: float


def _ll(n0: float, n1: float, p: float) -> float:
    """Bernoulli log likelihood of ``n0`` zeros and ``n1`` ones at rate ``p`` (0 log 0 = 0)."""
    return float(xlogy(n0, 1.0 - p) + xlogy(n1, p))


def kupiec_pof(exceedances: ArrayLike, coverage: float) -> TestResult:
    """Kupiec POF test of the exceedance rate against ``1 - coverage`` (e.g. coverage 0.99)."""
    e = np.asarray(exceedances, bool)
    n, x = e.size, int(e.sum())
    if n == 0:
        raise ValueError("need at least one backtest period")
    stat = -2.0 * (_ll(n - x, x, 1.0 - coverage) - _ll(n - x, x, x / n))
    stat = max(stat, 0.0)
    return TestResult(stat, 1, float(chi2.sf(stat, 1)))


def christoffersen_independence(exceedances: ArrayLike) -> TestResult:
    """Christoffersen's test that exceedances do not cluster (first-order Markov alternative)."""
    e = np.asarray(exceedances, bool).astype(int)
    if e.size < 2:
        raise ValueError("need at least two backtest periods")
    prev, cur = e[:-1], e[1:]
    n00 = int(np.sum((prev == 0) & (cur == 0)))
    n01 = int(np.sum((prev == 0) & (cur == 1)))
    n10 = int(np.sum((prev == 1) & (cur == 0)))
    n11 = int(np.sum((prev == 1) & (cur == 1)))
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    stat = -2.0 * (_ll(n00 + n10, n01 + n11, pi) - _ll(n00, n01, pi0) - _ll(n10, n11, pi1))
    stat = max(stat, 0.0)
    return TestResult(stat, 1, float(chi2.sf(stat, 1)))


def christoffersen_conditional_coverage(exceedances: ArrayLike, coverage: float) -> TestResult:
    """Joint test of rate and independence: ``LR_POF + LR_ind`` against chi-square with 2 dof."""
    stat = kupiec_pof(exceedances, coverage).statistic + christoffersen_independence(exceedances).statistic
    return TestResult(stat, 2, float(chi2.sf(stat, 2)))


@dataclass(frozen=True)
class MarginBacktest:
    """Initial margin and realised MPOR loss at each backtest date (non-overlapping windows)."""

    start_index: np.ndarray
    initial_margin_usd: np.ndarray
    mpor_loss_usd: np.ndarray
    coverage: float

    @property
    def exceedances(self) -> np.ndarray:
        return self.mpor_loss_usd > self.initial_margin_usd

    def kupiec(self) -> TestResult:
        return kupiec_pof(self.exceedances, self.coverage)

    def christoffersen(self) -> TestResult:
        return christoffersen_independence(self.exceedances)


def backtest_margin(portfolio, prices: ArrayLike, assets: tuple[str, ...], step_hours: float,
                    margin_model=None, *, venue=None, lookback_steps: int = 8760, coverage: float = 0.99,
                    ref_volume_usd: ArrayLike | None = None) -> MarginBacktest:
    """Backtest a margin model on a real price history.

    At each date (every MPOR, after ``lookback_steps``) the book is opened at that date's prices with the
    trailing returns as the model's lookback, its initial margin is computed, and the loss of the
    unchanged book over the next MPOR is measured on the realised prices.

    Parameters
    ----------
    portfolio : Portfolio or book name / path
    prices : float[T, A], USD prices per step, oldest first
    assets, step_hours : description of ``prices``
    margin_model, venue : as in :func:`margin.engine.simulate`
    lookback_steps : history given to the model at each date
    coverage : the confidence the margin is meant to achieve (expected exceedance rate ``1 - coverage``)
    ref_volume_usd : per-asset USD volume per step (only affects liquidation, not used here); default 1e9

    Returns
    -------
    MarginBacktest
    """
    if not isinstance(portfolio, Portfolio):
        portfolio = load_portfolio(portfolio)
    v = venue if venue is not None else portfolio.load_venue()
    if not isinstance(v, Venue):
        v = load_venue(v)
    p = np.asarray(prices, np.float64)
    if p.ndim != 2 or p.shape[1] != len(assets) or np.any(~(p > 0)):
        raise ValueError("prices must be positive, shaped [T, n_assets]")
    r = np.diff(np.log(p), axis=0).astype(np.float32)
    m = max(1, int(round(v.mpor_hours / step_hours)))
    vol = np.full(len(assets), 1e9) if ref_volume_usd is None else np.asarray(ref_volume_usd, np.float64)
    starts, ims, losses = [], [], []
    for s in range(lookback_steps, r.shape[0] - m + 1, m):
        paths = MarketPaths(returns=r[None, s:s + m], liquidity=np.zeros((1, m, len(assets)), np.float32),
                            assets=tuple(assets), step_hours=step_hours, start_prices=p[s],
                            ref_volume_usd=vol, history_returns=r[s - lookback_steps:s])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = simulate(portfolio, paths, margin_model, venue=v)
        starts.append(s)
        ims.append(res.initial_margin_usd)
        losses.append(float(res.mpor_loss_usd[0]))
    if not starts:
        raise ValueError(f"history too short: need more than lookback_steps + MPOR = {lookback_steps + m} steps")
    return MarginBacktest(np.array(starts), np.array(ims), np.array(losses), coverage)
