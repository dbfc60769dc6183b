"""CCP-style margin: expected shortfall of the portfolio loss over the margin period of risk (MPOR).

Notes
-----
Scenarios are the overlapping MPOR log returns of the lookback (``history_returns`` of the paths, the
last ``lookback_hours``), applied jointly to all assets; the book is fully revalued in each (options by
Black-76 with the smile sticky in moneyness, ATM vol unchanged). With :math:`N` windows and confidence
:math:`\\alpha`, ES is the mean of the :math:`k = \\lceil (1-\\alpha) N \\rceil` largest losses
(EMIR RTS 153/2013 Art. 24-26: 99% for ETD over a 2-day MPOR; LCH and Eurex Prisma use ES of filtered
historical scenarios). Margin: ``IM = (1 + apc_buffer) * ES`` and ``MM = ES``, the buffer being EMIR's
anti-procyclicality option (Art. 28(1)(a): a 25% buffer that may be drawn down in stress).

Tail candidates. For one asset the loss is a function of the scenario return; when it is quasi-convex
(true for delta-one books, long or short vanillas, straddles, hedged books...) the ``k`` worst scenarios
are the most extreme returns on either side, so only the ``k`` lowest and ``k`` highest returns are
revalued. When ``k > tail_points`` each tail is grouped into ``tail_points`` blocks of consecutive sorted
returns, each revalued at its mean return and weighted by its size (exact for linear books, a close
approximation for options). With several assets the candidates are the union of each asset's tails.

Procyclicality (``procyclical: true``). The lookback is extended with the path's own MPOR windows ending
at steps 1..t (windows straddling the start are completed with the last history returns), so a crash
path raises its own margin as it unfolds, as a CCP's does when stressed days enter its lookback. With
``false`` (default) the lookback is the history only and the margin moves with price and vol levels only.
"""

from __future__ import annotations

import math

import numpy as np

from margin.models.base import MarginModel, Requirement
from margin.venue import EsConfig


def mpor_windows(returns: np.ndarray, mpor_steps: int) -> np.ndarray:
    """Overlapping sums of ``mpor_steps`` consecutive log returns: float64[n_hist - m + 1, n_assets]."""
    r = np.asarray(returns, np.float64)
    csum = np.vstack([np.zeros((1, r.shape[1])), np.cumsum(r, axis=0)])
    return csum[mpor_steps:] - csum[:-mpor_steps]


def tail_mean(losses: np.ndarray, block: int, mass: int) -> np.ndarray:
    """Mean of the largest ``mass`` losses where each row of ``losses`` stands for ``block`` observations.

    losses : float[C, n]; returns float64[n]. Uses a partial sort per path (``np.partition``) of the
    ``ceil(mass / block)`` largest rows.
    """
    j, r = divmod(mass, block)
    need = min(j + (1 if r else 0), losses.shape[0])
    paths_first = np.ascontiguousarray(losses.T)                          # [n, C]
    c = paths_first.shape[1]
    top = np.partition(paths_first, c - need, axis=1)[:, c - need:]      # the `need` largest, unordered
    if r and need == j + 1:
        edge = top.min(axis=1)                                           # the (j+1)-th largest
        return (block * (top.sum(axis=1) - edge) + r * edge) / mass
    return block * top.sum(axis=1) / mass


def weighted_tail_mean(losses: np.ndarray, weights: np.ndarray, mass: float) -> np.ndarray:
    """Mean of the largest losses carrying total weight ``mass``; losses [C, n], weights [C]."""
    order = np.argsort(-losses.T, axis=1)                           # [n, C]
    srt = np.take_along_axis(losses.T, order, axis=1)
    w = weights[order]
    before = np.cumsum(w, axis=1) - w
    take = np.clip(mass - before, 0.0, w)
    return (take * srt).sum(axis=1) / mass


class ExpectedShortfallMargin(MarginModel):
    """Historical expected shortfall over the MPOR, with an anti-procyclicality buffer."""

    name = "es"

    def __init__(self, config: EsConfig, mpor_hours: float) -> None:
        self.config = config
        self.mpor_hours = mpor_hours
        self._moves: np.ndarray | None = None

    def prepare(self, paths) -> None:
        c = self.config
        if paths.history_returns is None:
            raise ValueError("es margin needs history_returns in the MarketPaths (its lookback); pass them or "
                             "choose margin_model tiered, risk_matrix or span")
        m = max(1, int(round(self.mpor_hours / paths.step_hours)))
        lookback = max(m, int(round(c.lookback_hours / paths.step_hours)))
        hist = np.asarray(paths.history_returns, np.float64)[-lookback:]
        windows = mpor_windows(hist, m) if len(hist) >= m else np.zeros((0, paths.n_assets))
        n = windows.shape[0]
        need = math.ceil(1.0 / (1.0 - c.confidence))
        if n < need:
            hours = (need + m - 1) * paths.step_hours
            raise ValueError(f"es margin at {c.confidence:.1%} over a {self.mpor_hours:g}h MPOR needs at least "
                             f"{hours:g} hours of history_returns, got {len(hist) * paths.step_hours:g}")
        k = math.ceil((1.0 - c.confidence) * n - 1e-9)
        if paths.n_assets == 1:
            order = np.argsort(windows[:, 0], kind="stable")
            block = math.ceil(k / c.tail_points)
            n_blocks = math.ceil(k / block)
            if 2 * n_blocks * block > n:
                block, n_blocks = 1, k
            lower = windows[order[:n_blocks * block]].reshape(n_blocks, block, 1).mean(axis=1)
            upper = windows[order[::-1][:n_blocks * block]].reshape(n_blocks, block, 1).mean(axis=1)
            self._moves = np.vstack([lower, upper])
            self._block = block
        else:
            idx = set()
            for a in range(paths.n_assets):
                order = np.argsort(windows[:, a], kind="stable")
                idx.update(order[:k].tolist())
                idx.update(order[-k:].tolist())
            self._moves = windows[sorted(idx)]
            self._block = 1
        self._n_windows, self._mass, self._mpor_steps = n, k, m
        self._hist_tail = np.vstack([np.zeros((1, paths.n_assets)),
                                     np.cumsum(hist[::-1][:m], axis=0)])    # [m+1, A]: sums of last j

    def _portfolio_pnl(self, valuation, moves: np.ndarray) -> np.ndarray:
        """moves: [C, A] shared or [C, A, n] per path; returns float64[C, n]."""
        out = None
        for a in valuation.assets_in_use():
            pnl = valuation.scenario_pnl(a, moves[:, a])
            out = pnl if out is None else out + pnl
        return out if out is not None else np.zeros((moves.shape[0], valuation.spot.shape[1]))

    def _path_windows(self, valuation) -> np.ndarray:
        """The path's MPOR log returns ending at steps 1..t: float64[t, A, n]."""
        m, t = self._mpor_steps, valuation.t
        lr = valuation.market.log_spot_rel                         # [A, H+1, n]
        out = np.empty((t, lr.shape[0], lr.shape[2]))
        for u in range(1, t + 1):
            if u >= m:
                out[u - 1] = lr[:, u, :] - lr[:, u - m, :]
            else:
                out[u - 1] = lr[:, u, :] + self._hist_tail[m - u][:, None]
        return out

    def requirement(self, valuation, scale: np.ndarray) -> Requirement:
        if self._moves is None:
            raise RuntimeError("call prepare(paths) before requirement(); simulate() does this")
        c = self.config
        losses = -self._portfolio_pnl(valuation, self._moves)
        if c.procyclical and valuation.t >= 1:
            path_losses = -self._portfolio_pnl(valuation, self._path_windows(valuation))
            weights = np.concatenate([np.full(losses.shape[0], float(self._block)),
                                      np.ones(path_losses.shape[0])])
            mass = math.ceil((1.0 - c.confidence) * (self._n_windows + valuation.t) - 1e-9)
            es = weighted_tail_mean(np.vstack([losses, path_losses]), weights, mass)
        else:
            es = tail_mean(losses, self._block, self._mass)
        es = np.maximum(es, 0.0) * scale
        return Requirement(initial=(1.0 + c.apc_buffer) * es, maintenance=es)
