"""Which real windows answer a regime request: the regime's windows nearest the requested severity.

Severity is asked for as a quantile in [0, 1] within the regime (0 = the mildest real window of that regime,
1 = the worst), through :class:`~scenarios.regimes.SeverityScale` fitted on the windows given. The windows
whose quantile lies within ``band`` (0.15) of the request are chosen; the band widens by 0.05 until at least
``min_windows`` (20) windows are in it, or all of the regime's windows are. Without a severity, all windows of
the regime; without a regime, all windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.baselines.base import check_request
from scenarios.errors import InputError
from scenarios.regimes import SeverityScale, regime_index
from scenarios.windows import RealWindows

BAND = 0.15
BAND_STEP = 0.05
MIN_WINDOWS = 20


def select_windows(windows: RealWindows, regime: str | None, severity: float | None = None, *,
                   band: float = BAND, min_windows: int = MIN_WINDOWS) -> np.ndarray:
    """int64[k]: indices into ``windows`` that answer the request (module docstring), in time order."""
    regime = check_request(regime, severity)
    if len(windows) == 0:
        raise InputError("no real windows to choose from (period too short or full of gaps)")
    if regime is None:
        return np.arange(len(windows), dtype=np.int64)
    idx = np.flatnonzero(windows.labels.regime == regime_index(regime))
    if len(idx) == 0:
        counts = ", ".join(f"{k} {v}" for k, v in windows.regime_counts().items())
        raise InputError(f"no real {regime} windows in the period ({counts}); choose another regime or period")
    if severity is None or len(idx) <= min_windows:
        return idx
    q = SeverityScale.fit(windows.labels).to_quantile(regime, windows.labels.severity[idx])
    dist = np.abs(q - float(severity))
    width = band
    while (dist <= width + 1e-12).sum() < min_windows:
        width += BAND_STEP
    return idx[dist <= width + 1e-12]


def starts_for_regime(windows: RealWindows, regime: str, severity: float | None = None, *,
                      band: float = BAND, min_windows: int = MIN_WINDOWS) -> pd.DatetimeIndex:
    """Start times of the real windows of ``regime`` nearest ``severity`` (module docstring).

    Parametric baselines honour a regime only through their starting state: started at these times they begin
    from the volatility and liquidity state right before real episodes of that regime.

    Parameters
    ----------
    windows : RealWindows
        Labelled real windows (e.g. of the fitting period, or the period a pack should be conditioned on).
    regime : str
        One of :data:`~scenarios.regimes.REGIMES`.
    severity : float, optional
        Quantile in [0, 1] within the regime.

    Returns
    -------
    DatetimeIndex[k]
        Bar-open times of the first target bar of the chosen windows (``RealWindows.start``), UTC.
    """
    if regime is None:
        raise InputError("starts_for_regime needs a regime")
    return windows.start[select_windows(windows, regime, severity, band=band, min_windows=min_windows)]
