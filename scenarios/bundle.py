"""Build the compact copy of ``../shared/data`` that ships inside the package (``scenarios/data/``).

Run once by a maintainer (``python -m scenarios.bundle ../shared/data``); a test checks that the shipped copy
still equals what this module reads from the original files.

One repair, documented in ``scenarios/data/ATTRIBUTION.md``: the hourly Coinbase file holds five rows stamped
2017-11-12 04-AM .. 08-AM that are exact copies (same OHLCV) of the bars five hours earlier and sit out of
newest-first order. The loader refuses the raw file for that (row 16901); the bundle drops the five copies and
leaves those hours as a flagged gap (returns across it are NaN, so no training or evaluation window uses them).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.market import BUNDLED, MarketData, load_market

SOURCES = {"hourly": "Coinbase_BTCUSD_1h.csv", "daily": "Bitstamp_BTC_ETH_LTC_USD_d.csv"}


def copied_rows(raw: pd.DataFrame, parsed_ts: pd.Series) -> np.ndarray:
    """Row positions of a newest-first table that break the order and repeat an earlier row's OHLCV."""
    t = pd.DatetimeIndex(parsed_ts).as_unit("ns").asi8
    running_min = np.minimum.accumulate(t)
    out_of_order = np.zeros(len(t), dtype=bool)
    out_of_order[1:] = t[1:] >= running_min[:-1]
    ohlcv = raw[["open", "high", "low", "close", "volume"]].astype(float)
    duplicated = ohlcv.duplicated(keep=False).to_numpy()
    return np.flatnonzero(out_of_order & duplicated)


def load_shared(shared_data: Path, name: str) -> MarketData:
    """The market data behind bundled set ``name``, read from the original files (with the repair above)."""
    src = shared_data / SOURCES[name]
    if name == "daily":
        return load_market(src, allow_gaps=True)
    lines = src.read_text().splitlines(keepends=True)
    raw = pd.read_csv(src, skiprows=1)
    ts = pd.to_datetime(raw["date"], format="%Y-%m-%d %I-%p", utc=True)
    drop = set((copied_rows(raw, ts) + 2).tolist())  # data row i is file line i + 2 (0-based)
    with tempfile.TemporaryDirectory() as tmp:
        fixed = Path(tmp) / src.name
        fixed.write_text("".join(line for i, line in enumerate(lines) if i not in drop))
        md = load_market(fixed, allow_gaps=True)
    return MarketData(md.frame, md.step, str(src), md.filled_bars, md.long_gaps)


def to_wide(md: MarketData) -> pd.DataFrame:
    """Flatten to the ``ASSET:field`` wide layout with a ``timestamp`` column (volume in USD)."""
    wide = md.frame.copy()
    wide.columns = [f"{a}:{f}" for a, f in wide.columns]
    return wide.reset_index()


def build_bundle(shared_data: Path, out_dir: Path) -> None:
    """Write ``btc_usd_1h.parquet`` and ``btc_eth_ltc_usd_1d.parquet`` (zstd) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, fname in BUNDLED.items():
        to_wide(load_shared(shared_data, name)).to_parquet(out_dir / fname, compression="zstd",
                                                           compression_level=19, index=False)


if __name__ == "__main__":
    build_bundle(Path(sys.argv[1]), Path(__file__).parent / "data")
