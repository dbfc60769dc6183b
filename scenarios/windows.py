"""Real windows cut from a feature series: a context of ``L`` bars followed by a target of ``H`` bars.

The bridge between real data and everything that learns from it or is compared with it: GAN training windows,
historical replay, baseline starting states and the real side of the fidelity metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from scenarios.features import Features
from scenarios.regimes import REGIMES, RegimeRules, WindowLabels, label_windows, regime_index


def sliding(x: np.ndarray, window: int) -> np.ndarray:
    """View of ``x[T, ...]`` as ``[T - window + 1, window, ...]`` windows (no copy)."""
    return np.moveaxis(sliding_window_view(x, window, axis=0), -1, 1)


def valid_window_starts(returns: np.ndarray, liquidity: np.ndarray, sigma_before: np.ndarray, window: int
                        ) -> np.ndarray:
    """int64[k]: starts ``s`` whose bars ``s .. s+window-1`` have finite returns and liquidity and whose
    reference volatility (``sigma_before[s]``, known before bar ``s``) is finite and positive."""
    ok = np.isfinite(returns).all(axis=1) & np.isfinite(liquidity).all(axis=1)
    bad = np.concatenate([[0], np.cumsum(~ok)])
    complete = (bad[window:] - bad[:-window]) == 0
    sig_ok = (np.isfinite(sigma_before) & (sigma_before > 0)).all(axis=1)[: len(complete)]
    return np.flatnonzero(complete & sig_ok)


@dataclass(frozen=True)
class RealWindows:
    """``n`` real windows; the target starts at ``start[i]`` and the context is the ``L`` bars before it.

    Attributes
    ----------
    context_returns, context_liquidity : float32[n, L, a]
    returns, liquidity : float32[n, H, a]
        Target log returns and log volume ratios.
    sigma : float32[n, a]
        Reference volatility known at the end of the context (trailing 30-day std of returns).
    start : DatetimeIndex[n]
        Bar-open time of the first target bar.
    close : float64[n, a]
        Close of the last context bar (the price the target path starts from).
    ref_volume : float64[n, a]
        Trailing median USD volume per bar at the end of the context.
    labels : WindowLabels
        Regime labels of the targets.
    """

    context_returns: np.ndarray
    context_liquidity: np.ndarray
    returns: np.ndarray
    liquidity: np.ndarray
    sigma: np.ndarray
    start: pd.DatetimeIndex
    close: np.ndarray
    ref_volume: np.ndarray
    labels: WindowLabels
    assets: tuple[str, ...]
    step_hours: float
    rules: RegimeRules

    def __len__(self) -> int:
        return len(self.start)

    def subset(self, mask: np.ndarray) -> "RealWindows":
        """The windows where ``mask`` (bool[n] or int indices) selects."""
        lab = WindowLabels(*(getattr(self.labels, f)[mask] for f in WindowLabels.__dataclass_fields__))
        return RealWindows(self.context_returns[mask], self.context_liquidity[mask], self.returns[mask],
                           self.liquidity[mask], self.sigma[mask], self.start[mask], self.close[mask],
                           self.ref_volume[mask], lab, self.assets, self.step_hours, self.rules)

    def between(self, start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None
                ) -> "RealWindows":
        """Windows whose whole target lies in ``[start, end)``."""
        mask = np.ones(len(self), dtype=bool)
        if start is not None:
            mask &= self.start >= _utc(start)
        if end is not None:
            last = self.start + pd.Timedelta(hours=self.step_hours * (self.returns.shape[1] - 1))
            mask &= last < _utc(end)
        return self.subset(mask)

    def of_regime(self, regime: str | int) -> "RealWindows":
        return self.subset(self.labels.regime == regime_index(regime))

    def regime_counts(self) -> dict[str, int]:
        return {name: int((self.labels.regime == i).sum()) for i, name in enumerate(REGIMES)}


def cut_windows(features: Features, context_len: int, horizon: int, rules: RegimeRules | None = None,
                stride: int = 1) -> RealWindows:
    """All complete windows (context + target without gaps) of ``features``, labelled.

    ``rules`` default to :class:`RegimeRules` calibrated on these windows (see ``RegimeRules.calibrated``).
    """
    r = features.returns.to_numpy(np.float32)
    q = features.liquidity.to_numpy(np.float32)
    sig = features.sigma_ref.to_numpy(np.float32)
    sig_before = np.vstack([np.full((1, r.shape[1]), np.nan, np.float32), sig[:-1]])
    total = context_len + horizon
    starts = valid_window_starts(r, q, sig_before[context_len:], total)  # window starts at s, target at s + L
    starts = starts[::stride]
    t0 = starts + context_len
    rw, qw = sliding(r, total)[starts], sliding(q, total)[starts]
    sigma = sig_before[t0]
    rules = (rules or RegimeRules()).calibrated(rw[:, context_len:], qw[:, context_len:], sigma)
    ret = np.ascontiguousarray(rw[:, context_len:])
    liq = np.ascontiguousarray(qw[:, context_len:])
    labels = label_windows(ret, liq, sigma, rules, features.step_hours)
    return RealWindows(
        context_returns=np.ascontiguousarray(rw[:, :context_len]),
        context_liquidity=np.ascontiguousarray(qw[:, :context_len]),
        returns=ret, liquidity=liq, sigma=sigma, start=features.index[t0],
        close=features.close.to_numpy(np.float64)[t0 - 1],
        ref_volume=features.ref_volume.to_numpy(np.float64)[t0 - 1],
        labels=labels, assets=features.assets, step_hours=features.step_hours, rules=rules,
    )


def _utc(t: str | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


@dataclass(frozen=True)
class Contexts:
    """Real context windows that generated paths start from (the target may lie beyond the data).

    Attributes
    ----------
    returns, liquidity : float32[k, L, a]
        The ``L`` bars ending at ``end[i]`` (inclusive).
    sigma : float32[k, a]
        Reference volatility known at ``end[i]``.
    end : DatetimeIndex[k]
        Bar-open time of the last context bar; a path starts one bar later.
    close, ref_volume : float64[k, a]
        Close and trailing median USD volume per bar at ``end[i]``.
    """

    returns: np.ndarray
    liquidity: np.ndarray
    sigma: np.ndarray
    end: pd.DatetimeIndex
    close: np.ndarray
    ref_volume: np.ndarray

    def __len__(self) -> int:
        return len(self.end)

    def labels(self) -> list[str]:
        """ISO timestamps of the context ends (the pack manifest's ``contexts``)."""
        return [t.isoformat() for t in self.end]


def context_windows(features: Features, context_len: int, ends: pd.DatetimeIndex | None = None) -> Contexts:
    """Contexts ending at the bars ``ends`` (default: the latest bar). Every context must be complete
    (finite returns, liquidity and reference volatility); an incomplete one is a ValueError naming it."""
    r = features.returns.to_numpy(np.float32)
    q = features.liquidity.to_numpy(np.float32)
    sig = features.sigma_ref.to_numpy(np.float32)
    idx = features.index
    if ends is None:
        pos = np.array([len(idx) - 1])
    else:
        pos = idx.get_indexer(ends)
        if (pos < 0).any():
            raise ValueError(f"context end {ends[int(np.argmax(pos < 0))]} is not a bar of the data")
    if (pos < context_len).any():
        raise ValueError(f"context ending {idx[pos.min()]} needs {context_len} earlier bars")
    rw = sliding(r, context_len)[pos - context_len + 1]
    qw = sliding(q, context_len)[pos - context_len + 1]
    ok = np.isfinite(rw).all(axis=(1, 2)) & np.isfinite(qw).all(axis=(1, 2)) & np.isfinite(sig[pos]).all(axis=1)
    if not ok.all():
        raise ValueError(f"context ending {idx[pos[int(np.argmin(ok))]]} has missing bars (a gap or the warm-up "
                         "of the 30-day statistics)")
    return Contexts(np.ascontiguousarray(rw), np.ascontiguousarray(qw), sig[pos], idx[pos],
                    features.close.to_numpy(np.float64)[pos], features.ref_volume.to_numpy(np.float64)[pos])


def complete_context_ends(features: Features, context_len: int, start=None, end=None) -> pd.DatetimeIndex:
    """Bars in ``[start, end)`` at which a complete context of ``context_len`` bars ends."""
    r = features.returns.to_numpy(np.float32)
    q = features.liquidity.to_numpy(np.float32)
    sig = features.sigma_ref.to_numpy(np.float32)
    ok = np.isfinite(r).all(axis=1) & np.isfinite(q).all(axis=1)
    bad = np.concatenate([[0], np.cumsum(~ok)])
    pos = np.arange(context_len - 1, len(r))
    complete = (bad[pos + 1] - bad[pos + 1 - context_len] == 0) & np.isfinite(sig[pos]).all(axis=1)
    ends = features.index[pos[complete]]
    mask = np.ones(len(ends), dtype=bool)
    if start is not None:
        mask &= ends >= _utc(start)
    if end is not None:
        mask &= ends < _utc(end)
    return ends[mask]
