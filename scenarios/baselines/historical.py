"""Historical replay: real target windows of the requested regime, resampled with replacement.

The fitting period's bars are cut into real windows (:func:`scenarios.windows.cut_windows`, stride 1, labelled by
the regime rules), and a request picks the pool of :func:`scenarios.baselines.selection.select_windows`: the
requested regime's windows nearest the requested severity (all windows when no regime is asked for). Path ``i``
is the pool window drawn for it by the seed, returned unchanged: the real log returns and log volume ratios.

``starts`` (and ``context_index``) are ignored except for counting paths: a replayed window brings its own
context. The bookkeeping follows the replayed window, not the starts: :class:`~scenarios.baselines.base.PathChunk`
carries the window's own ``sigma_ref`` (so the regime labeller scales its drops as it did on the real data)
and its own start time.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from scenarios.baselines.base import Baseline, PathChunk, as_utc
from scenarios.baselines.selection import BAND, MIN_WINDOWS, select_windows
from scenarios.errors import InputError
from scenarios.features import Features
from scenarios.regimes import RegimeRules
from scenarios.windows import RealWindows, cut_windows


@dataclass(frozen=True)
class _Pool:
    windows: RealWindows
    index: np.ndarray  # int64[k] into windows


class Historical(Baseline):
    """Replay of real windows of the fitting period (module docstring).

    Parameters
    ----------
    context_len : int
        Context bars a window needs before its target (only decides which windows are complete).
    rules : RegimeRules, optional
        Regime rules; default :class:`RegimeRules` calibrated on the fitting period's windows.
    band, min_windows : float, int
        Severity band and minimum pool size (:mod:`scenarios.baselines.selection`).
    """

    name = "historical"

    def __init__(self, context_len: int = 1, rules: RegimeRules | None = None, band: float = BAND,
                 min_windows: int = MIN_WINDOWS) -> None:
        if context_len < 1:
            raise InputError(f"context_len must be at least 1, got {context_len}")
        self.context_len = int(context_len)
        self.rules = rules
        self.band = float(band)
        self.min_windows = int(min_windows)
        self._fitted = False

    @property
    def assets(self) -> tuple[str, ...]:
        self._check_fitted()
        return self._features.assets

    def fit(self, features: Features, train_end: pd.Timestamp | str | None = None) -> "Historical":
        """Keep the bars before ``train_end``; windows are cut per horizon when first asked for."""
        te = as_utc(train_end)
        if te is not None:
            mask = np.asarray(features.index < te)
            if not mask.any():
                raise InputError(f"no bars before train_end {te}")
            frames = {f.name: getattr(features, f.name).loc[mask] for f in fields(features)
                      if isinstance(getattr(features, f.name), pd.DataFrame)}
            features = replace(features, **frames)
        self._features = features
        self._train_end = te
        self._windows: dict[int, RealWindows] = {}
        self._fitted = True
        return self

    def windows(self, horizon: int) -> RealWindows:
        """The fitting period's labelled real windows with targets of ``horizon`` bars (cached)."""
        self._check_fitted()
        if horizon not in self._windows:
            w = cut_windows(self._features, self.context_len, horizon, self.rules)
            if len(w) == 0:
                raise InputError(f"no complete {horizon}-bar windows in the fitting period")
            self._windows[horizon] = w
        return self._windows[horizon]

    def pool(self, horizon: int, regime: str | None = None, severity: float | None = None) -> pd.DatetimeIndex:
        """Start times of the windows a request replays."""
        w = self.windows(horizon)
        return w.start[select_windows(w, regime, severity, band=self.band, min_windows=self.min_windows)]

    def _plan(self, starts: pd.DatetimeIndex, horizon: int, regime: str | None, severity: float | None) -> _Pool:
        w = self.windows(horizon)
        return _Pool(w, select_windows(w, regime, severity, band=self.band, min_windows=self.min_windows))

    def _block(self, plan: _Pool, rng: np.random.Generator, context: np.ndarray) -> PathChunk:
        j = plan.index[rng.integers(0, len(plan.index), size=len(context))]
        w = plan.windows
        return PathChunk(w.returns[j], w.liquidity[j], w.sigma[j],
                         w.start[j].as_unit("ns").asi8.astype("datetime64[ns]"))

    def params(self) -> dict[str, Any]:
        self._check_fitted()
        idx = self._features.index
        return {
            "source": self.name,
            "model": "replay of real windows of the requested regime and severity band, with replacement",
            "train_start": idx[0].isoformat(),
            "train_last_bar": idx[-1].isoformat(),
            "train_end": None if self._train_end is None else self._train_end.isoformat(),
            "context_len": self.context_len,
            "severity_band": self.band,
            "min_windows": self.min_windows,
            "windows": {str(h): {"n": len(w), "regime_counts": w.regime_counts(), "rules": w.rules.to_dict()}
                        for h, w in sorted(self._windows.items())},
        }
