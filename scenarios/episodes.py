"""Episodes of each regime in a real series: the rows of ``stressgan data label``.

A bar belongs to a flash crash if it is one of the bars of a qualifying drop (reference volatility taken before
the drop starts); otherwise to a liquidity drought or volatile stretch if a qualifying window of ``window`` bars
covers it (drought wins over volatile); otherwise it is calm. An episode is a maximal run of bars in one
non-calm regime. The rules are those of :mod:`scenarios.regimes`, applied by the same functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.features import Features
from scenarios.regimes import (CALM, FLASH_CRASH, LIQUIDITY_DROUGHT, REGIMES, VOLATILE, RegimeRules,
                               label_windows)
from scenarios.windows import sliding, valid_window_starts

EPISODE_COLUMNS = ["start", "end", "regime", "severity", "bars", "hours", "drawdown", "volume_ratio"]


def mark_bars(features: Features, rules: RegimeRules, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Regime and severity of every bar.

    Returns
    -------
    regime : int8[T]
        Index into :data:`~scenarios.regimes.REGIMES`.
    severity : float32[T]
        Largest severity among the qualifying drops or windows that cover the bar (0 for calm bars).
    """
    r = features.returns.to_numpy(np.float64)
    q = features.liquidity.to_numpy(np.float64)
    sig = features.sigma_ref.to_numpy(np.float64)
    sig_before = np.vstack([np.full((1, r.shape[1]), np.nan), sig[:-1]])
    T = r.shape[0]
    regime = np.zeros(T, dtype=np.int8)
    severity = np.zeros(T, dtype=np.float32)
    starts = valid_window_starts(r, q, sig_before, window)
    if len(starts):
        lab = label_windows(sliding(r, window)[starts], sliding(q, window)[starts], sig_before[starts], rules,
                            features.step_hours)
        for code in (VOLATILE, LIQUIDITY_DROUGHT):  # in rising priority: a drought overrides volatile bars
            sel = lab.regime == code
            for s, sev in zip(starts[sel], lab.severity[sel]):
                seg = slice(s, s + window)
                severity[seg] = np.where(regime[seg] == code, np.maximum(severity[seg], sev), sev)
                regime[seg] = code
    logp = np.vstack([np.zeros((1, r.shape[1])), np.cumsum(np.nan_to_num(r), axis=0)])
    finite = np.isfinite(r) & np.isfinite(sig_before)
    for d in range(1, rules.crash_bars(features.step_hours) + 1):
        drop = logp[:-d] - logp[d:]  # (T - d + 1, a): fall over bars s .. s+d-1
        seg_ok = sliding(finite, d).all(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = drop / (sig_before[: T - d + 1] * np.sqrt(d))
        ok = seg_ok & (z >= rules.crash_sigma) & (drop >= rules.crash_min_drop)
        for s, j in zip(*np.nonzero(ok)):
            seg = slice(s, s + d)
            severity[seg] = np.where(regime[seg] == FLASH_CRASH, np.maximum(severity[seg], z[s, j]), z[s, j])
            regime[seg] = FLASH_CRASH
    return regime, severity


def find_episodes(features: Features, rules: RegimeRules, window: int) -> pd.DataFrame:
    """One row per episode: ``start``, ``end`` (bar-open times of its first and last bar), ``regime``,
    ``severity`` (largest), ``bars``, ``hours``, ``drawdown`` (lowest close against the highest close from the
    bar before the run, log units, <= 0; worst asset) and ``volume_ratio`` (exp of the mean log volume ratio
    over the run; lowest asset)."""
    regime, severity = mark_bars(features, rules, window)
    idx = features.index
    edges = np.flatnonzero(np.diff(np.concatenate([[-1], regime, [-1]])) != 0)
    logc = np.log(features.close.to_numpy(np.float64))
    q = features.liquidity.to_numpy(np.float64)
    rows = []
    for s, e in zip(edges[:-1], edges[1:]):
        code = int(regime[s])
        if code == CALM:
            continue
        seg = logc[max(s - 1, 0): e]
        rows.append({
            "start": idx[s], "end": idx[e - 1], "regime": REGIMES[code],
            "severity": round(float(severity[s:e].max()), 4), "bars": int(e - s),
            "hours": float((e - s) * features.step_hours),
            "drawdown": round(float((seg - np.maximum.accumulate(seg, axis=0)).min()), 5),
            "volume_ratio": round(float(np.exp(np.nanmean(q[s:e], axis=0)).min()), 4),
        })
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS)


def hours_by_regime(features: Features, rules: RegimeRules, window: int) -> dict[str, float]:
    """Hours of the series in each regime."""
    regime, _ = mark_bars(features, rules, window)
    return {name: float((regime == i).sum() * features.step_hours) for i, name in enumerate(REGIMES)}
