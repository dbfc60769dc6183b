"""What ``stressgan data inspect`` prints: a plain summary of a market dataset."""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios.features import log_returns
from scenarios.market import MarketData


def summarize_market(md: MarketData) -> dict[str, Any]:
    """JSON-able summary: assets, frequency, period, rows, gaps, and per-asset statistics.

    Per asset: first/last/min/max close (USD), mean and standard deviation of log returns per bar, annualised
    volatility, the worst bar (log return and time), max drawdown of the close (log units), median USD volume per
    bar and the number of zero-volume bars.
    """
    r = log_returns(md)
    close = md.field("close")
    volume = md.field("volume")
    bars_per_year = 365.25 * 24 / md.step_hours
    assets = {}
    for a in md.assets:
        ra = r[a].dropna()
        c = close[a]
        logc = np.log(c.to_numpy())
        dd = float((logc - np.maximum.accumulate(logc)).min())
        assets[a] = {
            "first_close": float(c.iloc[0]), "last_close": float(c.iloc[-1]),
            "min_close": float(c.min()), "max_close": float(c.max()),
            "mean_return": float(ra.mean()), "std_return": float(ra.std()),
            "annual_vol": float(ra.std() * np.sqrt(bars_per_year)),
            "worst_bar": float(ra.min()), "worst_bar_at": ra.idxmin().isoformat(),
            "max_drawdown": dd,
            "median_volume_usd": float(volume[a].median()), "zero_volume_bars": int((volume[a] == 0).sum()),
        }
    return {
        "source": md.source, "assets": list(md.assets), "frequency": md.frequency,
        "start": md.frame.index[0].isoformat(), "end": md.frame.index[-1].isoformat(), "rows": len(md.frame),
        "filled_bars": md.filled_bars,
        "long_gaps": [[a.isoformat(), b.isoformat()] for a, b in md.long_gaps],
        "fingerprint": md.fingerprint()[:16], "per_asset": assets,
    }
