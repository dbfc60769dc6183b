"""Regime labels with a continuous severity: transparent, parameterised rules.

One labeller serves real windows (training labels, episodes of ``stressgan data label``) and generated paths
(condition adherence): :func:`label_windows` sees only arrays, so it cannot tell them apart.

Rules, for a window of returns ``r[0..h)`` with reference volatility ``sigma`` (trailing 30-day standard deviation
of per-bar returns before the window) and liquidity ``q`` (log volume ratio), per asset, first match wins:

``flash_crash``
    A drop of the log price from some bar to a later one at most ``m = crash_hours / step_hours`` bars after it
    (at least 1) with ``drop >= crash_sigma * sigma * sqrt(bars)`` and ``drop >= crash_min_drop``.
    Severity: the largest ``drop / (sigma * sqrt(bars))`` among such drops (a z-score).
``liquidity_drought``
    At least ``drought_min_share`` of the bars trade below ``drought_volume_ratio`` of normal volume
    (``q < log(drought_volume_ratio)``) and the window's median normalised illiquidity
    ``(|r| / sigma) * exp(-q)`` (price move per unit of relative volume) is at least ``drought_illiquidity``,
    by default the 90th percentile of that statistic over the real windows (calibrated on the data at hand).
    Severity: ``-median(q)``, the volume shortfall in log units.
``volatile``
    Realised volatility ``sqrt(mean(r^2))`` at least ``volatile_ratio * sigma``. Severity: that ratio.
``calm``
    Everything else. Severity: the volatility ratio (lower is calmer).

With several assets a window takes the most severe label any asset has (crash > drought > volatile > calm)
and, within it, the largest severity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

REGIMES: tuple[str, ...] = ("calm", "volatile", "flash_crash", "liquidity_drought")
CALM, VOLATILE, FLASH_CRASH, LIQUIDITY_DROUGHT = range(4)
_PRIORITY = np.array([0, 1, 3, 2])  # rank of each regime index: crash > drought > volatile > calm


def regime_index(name: str | int) -> int:
    """Index of a regime name (``flash_crash`` -> 2); ValueError listing the names otherwise."""
    if isinstance(name, (int, np.integer)) and 0 <= int(name) < len(REGIMES):
        return int(name)
    key = str(name).strip().lower().replace("-", "_")
    if key not in REGIMES:
        raise ValueError(f"unknown regime {name!r}; choose one of {', '.join(REGIMES)}")
    return REGIMES.index(key)


@dataclass(frozen=True)
class RegimeRules:
    """Parameters of the regime rules (see module docstring). ``drought_illiquidity=None`` calibrates."""

    crash_hours: float = 12.0
    crash_sigma: float = 3.5
    crash_min_drop: float = 0.10
    drought_volume_ratio: float = 0.5
    drought_min_share: float = 0.5
    drought_illiquidity: float | None = None
    drought_quantile: float = 0.9
    volatile_ratio: float = 1.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RegimeRules":
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown regime rule fields: {', '.join(sorted(unknown))}")
        return cls(**d)

    def crash_bars(self, step_hours: float) -> int:
        return max(1, int(round(self.crash_hours / step_hours)))

    def calibrated(self, returns: np.ndarray, liquidity: np.ndarray, sigma: np.ndarray) -> "RegimeRules":
        """Rules with ``drought_illiquidity`` set from real windows (``[n, h, a]`` arrays, ``sigma[n, a]``)."""
        if self.drought_illiquidity is not None:
            return self
        illiq = np.nanmax(_median_illiquidity(returns, liquidity, sigma), axis=1)
        return replace(self, drought_illiquidity=float(np.nanquantile(illiq, self.drought_quantile)))


@dataclass(frozen=True)
class WindowLabels:
    """Labels of ``n`` windows. ``regime``: int8[n] index into :data:`REGIMES`; ``severity``: float32[n]
    in the regime's natural units; diagnostics: ``crash_z`` (largest drop z-score), ``drawdown`` (max drawdown
    from the running peak, log units, <= 0), ``vol_ratio``, ``volume_ratio`` (exp of mean liquidity),
    ``illiquidity`` (median normalised illiquidity); all float32[n], worst asset."""

    regime: np.ndarray
    severity: np.ndarray
    crash_z: np.ndarray
    drawdown: np.ndarray
    vol_ratio: np.ndarray
    volume_ratio: np.ndarray
    illiquidity: np.ndarray

    def share(self) -> dict[str, float]:
        """Share of windows in each regime."""
        n = max(len(self.regime), 1)
        return {name: float((self.regime == i).sum() / n) for i, name in enumerate(REGIMES)}


def _median_illiquidity(returns: np.ndarray, liquidity: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """float32[n, a]: median over the window of (|r| / sigma) * exp(-q)."""
    z = np.abs(returns) / sigma[:, None, :]
    return np.median(z * np.exp(-liquidity), axis=1)


def crash_scores(returns: np.ndarray, sigma: np.ndarray, rules: RegimeRules, step_hours: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Flash-crash test per window and asset.

    Parameters
    ----------
    returns : float[n, h, a]
        Log returns per bar.
    sigma : float[n, a]
        Reference volatility per bar.

    Returns
    -------
    qualifies : bool[n, a]
        A drop meeting both thresholds exists.
    z : float32[n, a]
        Largest drop z-score among qualifying drops, or among all drops where none qualifies.
    """
    n, h, a = returns.shape
    logp = np.zeros((n, h + 1, a), dtype=np.float64)
    np.cumsum(returns, axis=1, out=logp[:, 1:])
    best_q = np.full((n, a), -np.inf)
    best_any = np.full((n, a), -np.inf)
    sig = sigma.astype(np.float64)[:, None, :]
    for d in range(1, min(rules.crash_bars(step_hours), h) + 1):
        drop = logp[:, :-d] - logp[:, d:]  # (n, h + 1 - d, a): fall over d bars
        z = drop / (sig * np.sqrt(d))
        ok = (z >= rules.crash_sigma) & (drop >= rules.crash_min_drop)
        best_any = np.maximum(best_any, z.max(axis=1))
        best_q = np.maximum(best_q, np.where(ok, z, -np.inf).max(axis=1))
    qualifies = np.isfinite(best_q)
    return qualifies, np.where(qualifies, best_q, best_any).astype(np.float32)


def label_windows(returns: np.ndarray, liquidity: np.ndarray, sigma: np.ndarray, rules: RegimeRules,
                  step_hours: float) -> WindowLabels:
    """Label windows of real or generated paths.

    Parameters
    ----------
    returns : float[n, h, a]
        Log returns per bar.
    liquidity : float[n, h, a]
        Log volume ratio per bar.
    sigma : float[n, a]
        Reference volatility per bar (trailing, before the window).
    rules : RegimeRules
        With ``drought_illiquidity`` set (call :meth:`RegimeRules.calibrated` on real windows first).
    step_hours : float
        Bar length in hours.
    """
    if rules.drought_illiquidity is None:
        raise ValueError("rules.drought_illiquidity is not calibrated; call rules.calibrated(...) on real windows")
    returns = np.asarray(returns, dtype=np.float32)
    liquidity = np.asarray(liquidity, dtype=np.float32)
    sigma = np.asarray(sigma, dtype=np.float32)
    if returns.ndim != 3 or liquidity.shape != returns.shape or sigma.shape != (returns.shape[0], returns.shape[2]):
        raise ValueError(f"shapes: returns {returns.shape}, liquidity {liquidity.shape}, sigma {sigma.shape}; "
                         "expected [n, h, a], [n, h, a], [n, a]")
    crash, crash_z = crash_scores(returns, sigma, rules, step_hours)
    low_share = (liquidity < np.log(rules.drought_volume_ratio)).mean(axis=1)
    illiq = _median_illiquidity(returns, liquidity, sigma)
    drought = (low_share >= rules.drought_min_share) & (illiq >= rules.drought_illiquidity)
    vol_ratio = np.sqrt(np.mean(returns.astype(np.float64) ** 2, axis=1)) / sigma
    volatile = vol_ratio >= rules.volatile_ratio
    regime = np.select([crash, drought, volatile], [FLASH_CRASH, LIQUIDITY_DROUGHT, VOLATILE], CALM)  # (n, a)
    severity = np.select([crash, drought], [crash_z, -np.median(liquidity, axis=1)], vol_ratio)
    # worst asset: highest priority regime, then largest severity
    key = _PRIORITY[regime] * 1e6 + np.clip(severity, -1e5, 1e5)
    pick = np.argmax(key, axis=1)
    rows = np.arange(len(pick))
    logp = np.cumsum(returns, axis=1, dtype=np.float64)
    peak = np.maximum(np.maximum.accumulate(logp, axis=1), 0.0)
    drawdown = (logp - peak).min(axis=1).min(axis=1)
    return WindowLabels(
        regime=regime[rows, pick].astype(np.int8),
        severity=severity[rows, pick].astype(np.float32),
        crash_z=crash_z.max(axis=1),
        drawdown=drawdown.astype(np.float32),
        vol_ratio=vol_ratio.max(axis=1).astype(np.float32),
        volume_ratio=np.exp(liquidity.mean(axis=1)).min(axis=1).astype(np.float32),
        illiquidity=illiq.max(axis=1).astype(np.float32),
    )


@dataclass(frozen=True)
class SeverityScale:
    """Maps a regime's natural severity to its quantile among real windows of that regime and back.

    ``grid[regime]`` holds the 0..100th percentiles (101 values) of the real severities.
    """

    grid: dict[str, list[float]]

    @classmethod
    def fit(cls, labels: WindowLabels) -> "SeverityScale":
        grid = {}
        for i, name in enumerate(REGIMES):
            s = labels.severity[labels.regime == i]
            if len(s) == 0:
                s = np.array([0.0])
            grid[name] = [float(v) for v in np.quantile(s.astype(np.float64), np.linspace(0, 1, 101))]
        return cls(grid)

    def to_quantile(self, regime: str | int, severity: np.ndarray) -> np.ndarray:
        """float32[n] in [0, 1]: quantile of ``severity`` among real windows of ``regime``."""
        g = np.asarray(self.grid[REGIMES[regime_index(regime)]])
        q = np.interp(severity, g, np.linspace(0, 1, 101))
        return np.clip(q, 0, 1).astype(np.float32)

    def to_severity(self, regime: str | int, quantile: float) -> float:
        """Natural severity at ``quantile`` of ``regime``'s real windows."""
        g = np.asarray(self.grid[REGIMES[regime_index(regime)]])
        return float(np.interp(quantile, np.linspace(0, 1, 101), g))
