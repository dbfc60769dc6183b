"""Market data: loaders for the layouts risk teams meet, validation, and alignment on one UTC grid.

Every loader ends in :class:`MarketData`: a frame indexed by UTC bar-open timestamps with columns
``(asset, field)`` for fields ``open, high, low, close, volume`` where ``volume`` is in USD (quote currency).

Formats (``fmt=`` or detected from the file):

``bundled``
    The compact copy of ``../shared/data`` shipped inside the package (``hourly`` BTC-USD, ``daily``
    BTC/ETH/LTC). ``load_market()`` with no argument returns the hourly set.
``cryptodatadownload``
    CryptoDataDownload CSV: a banner line, a header line, rows newest first, timestamps like
    ``2019-10-17 09-AM`` (hourly) or ``2019-10-17`` (daily), a ``symbol`` column and ``volume`` in quote currency.
``binance``
    Binance kline files as published on data.binance.vision: a monthly/daily ``.zip`` holding one CSV, or that
    CSV; no header (a header line is tolerated); open time in milliseconds or microseconds; the 8th column
    (quote asset volume) is used as USD volume. The asset comes from the file name (``BTCUSDT-1h-2024-01``).
``wide``
    One table, a timestamp column then ``ASSET:field`` columns (``BTC:close``); cells before an asset is listed
    are empty. ``volume`` is in base units (coins) and converted with the close.
``ohlcv``
    Generic CSV or Parquet with a header; column names matched case-insensitively (``timestamp|time|date|
    datetime|open_time``, ``open``, ``high``, ``low``, ``close``, ``volume``), or by an explicit ``columns``
    mapping. A ``symbol``/``asset`` column makes it a long multi-asset table. ``volume`` is in base units unless
    the column is ``quote_volume``/``volume_usd``/``volume_quote`` (or ``volume_unit="quote"``).
    Naive timestamps are read as UTC; numbers as Unix epoch (s, ms or us by magnitude).

Validation (each a one-line :class:`~scenarios.errors.InputError` naming file, row and problem): empty file,
missing close or volume column, non-numeric, missing or non-positive prices, negative volume, duplicate
timestamps, unsorted timestamps, mixed bar frequencies, gaps above the tolerance, unknown format.

Gap rule: the bar frequency is the most common spacing. A gap of up to ``max_gap_bars`` missing bars is filled
with flat bars (open = high = low = close = the previous close, volume 0), so returns there are zero and
liquidity is at its floor. Longer gaps are an error, unless ``allow_gaps=True``: then the bars are left out and
the return across the gap is NaN, so no window straddles it (the bundled daily table has one 13-day hole,
2019-03-19 to 2019-04-01, and is loaded this way).

Multi-asset inputs (several files, a wide table, a long table) are aligned on one UTC grid: the common period
(latest first bar to earliest last bar), then the same gap rule on the union of timestamps.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from scenarios.errors import InputError

FIELDS = ("open", "high", "low", "close", "volume")
PRICE_FIELDS = ("open", "high", "low", "close")
BUNDLED = {"hourly": "btc_usd_1h.parquet", "daily": "btc_eth_ltc_usd_1d.parquet"}
QUOTE_SUFFIXES = ("USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USD", "EUR", "GBP", "PERP")
Format = Literal["auto", "bundled", "cryptodatadownload", "binance", "wide", "ohlcv"]


@dataclass(frozen=True)
class MarketData:
    """Validated OHLCV bars for one or more assets on one UTC grid.

    Attributes
    ----------
    frame : DataFrame
        Index: UTC bar-open timestamps (``timestamp``), strictly increasing. Columns: MultiIndex
        ``(asset, field)``, fields ``open, high, low, close`` in USD and ``volume`` in USD per bar.
    step : Timedelta
        Bar length.
    source : str
        Where the data came from (file names or ``bundled:hourly``).
    filled_bars : int
        Bars inserted by the gap rule.
    """

    frame: pd.DataFrame
    step: pd.Timedelta
    source: str
    filled_bars: int = 0
    long_gaps: tuple[tuple[pd.Timestamp, pd.Timestamp], ...] = field(default=())

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.frame.columns.get_level_values(0)))

    @property
    def step_hours(self) -> float:
        return self.step / pd.Timedelta(hours=1)

    @property
    def frequency(self) -> str:
        """Pandas-style frequency string, e.g. ``1h`` or ``1D``."""
        return _freq_name(self.step)

    def field(self, name: str) -> pd.DataFrame:
        """One field for every asset: DataFrame[timestamp, asset]."""
        return self.frame.xs(name, axis=1, level=1)[list(self.assets)]

    def fingerprint(self) -> str:
        """sha256 of the canonical bytes of the data (timestamps, assets, values), hex."""
        h = hashlib.sha256()
        h.update(",".join(self.assets).encode())
        h.update(self.frame.index.asi8.tobytes())
        h.update(np.ascontiguousarray(self.frame.to_numpy(np.float64)).tobytes())
        return h.hexdigest()

    def between(self, start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None
                ) -> "MarketData":
        """Bars with ``start <= timestamp < end`` (either bound optional; naive dates are UTC)."""
        idx = self.frame.index
        mask = np.ones(len(idx), dtype=bool)
        if start is not None:
            mask &= idx >= _utc(start)
        if end is not None:
            mask &= idx < _utc(end)
        if not mask.any():
            raise InputError(f"no bars between {start} and {end} (data covers {idx[0]} .. {idx[-1]})")
        return MarketData(self.frame.loc[mask], self.step, self.source, self.filled_bars, self.long_gaps)


# ----------------------------------------------------------------------------------------------------------
# public entry point


def load_market(path: str | Path | Sequence[str | Path] | None = None, *, fmt: Format = "auto",
                columns: Mapping[str, str] | None = None, asset: str | None = None,
                volume_unit: Literal["auto", "quote", "base"] = "auto", max_gap_bars: int = 3,
                allow_gaps: bool = False) -> MarketData:
    """Load, validate and align market data.

    Parameters
    ----------
    path : path, list of paths, ``"hourly"``/``"daily"`` or None
        None or ``"hourly"`` is the bundled hourly BTC-USD set; ``"daily"`` the bundled BTC/ETH/LTC table.
        Several files (one asset each, or several) are aligned on one grid.
    fmt : str
        Force a format instead of detecting it.
    columns : mapping, optional
        Explicit column mapping for ``ohlcv`` files, ``{"close": "Adj Close", "timestamp": "Date", ...}``.
    asset : str, optional
        Asset code for a single-asset file whose name or symbol column does not say it.
    volume_unit : {"auto", "quote", "base"}
        Override how the volume column is read (see module docstring).
    max_gap_bars : int
        Longest run of missing bars filled by the gap rule.
    allow_gaps : bool
        Leave longer gaps out (returns across them are NaN) instead of refusing the file.
    """
    if path is None or (isinstance(path, str) and path in BUNDLED):
        name = "hourly" if path is None else str(path)
        return _load_bundled(name)
    paths = [Path(p) for p in path] if isinstance(path, (list, tuple)) else [Path(path)]
    per_asset: dict[str, _AssetBars] = {}
    for p in paths:
        for bars in _read_file(p, fmt, columns, asset, volume_unit):
            if bars.asset in per_asset:
                raise InputError(f"asset {bars.asset} appears in more than one input "
                                 f"({per_asset[bars.asset].file.name} and {p.name})", file=p)
            per_asset[bars.asset] = bars
    source = ",".join(str(p) for p in paths)
    return _align(list(per_asset.values()), source, max_gap_bars, allow_gaps)


def bundled_attribution() -> str:
    """The attribution text shipped with the bundled data."""
    return resources.files("scenarios").joinpath("data/ATTRIBUTION.md").read_text()


# ----------------------------------------------------------------------------------------------------------
# per-file readers -> _AssetBars


@dataclass
class _AssetBars:
    """One asset's bars straight from a file, before alignment. ``line`` is the 1-based file line per row."""

    asset: str
    file: Path
    ts: pd.DatetimeIndex
    values: pd.DataFrame  # columns FIELDS, volume in USD
    line: np.ndarray


def _load_bundled(name: str) -> MarketData:
    ref = resources.files("scenarios").joinpath(f"data/{BUNDLED[name]}")
    with resources.as_file(ref) as p:
        md = load_market(p, fmt="wide", volume_unit="quote", allow_gaps=True)
    return MarketData(md.frame, md.step, f"bundled:{name}", md.filled_bars, md.long_gaps)


def _read_file(path: Path, fmt: Format, columns: Mapping[str, str] | None, asset: str | None,
               volume_unit: str) -> list[_AssetBars]:
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.is_dir():
        raise InputError("is a directory; give a data file (CSV, Parquet or Binance zip)", file=path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", file=path)
    if fmt == "auto":
        fmt = _detect_format(path)
    if fmt == "binance":
        return [_read_binance(path, asset)]
    if fmt == "cryptodatadownload":
        return [_read_cdd(path, asset, volume_unit)]
    table, first_line = _read_table(path)
    if fmt == "wide":
        return _read_wide(path, table, first_line, "base" if volume_unit == "auto" else volume_unit)
    if fmt in ("ohlcv", "bundled"):
        return _read_ohlcv(path, table, first_line, columns, asset, volume_unit)
    raise InputError(f"unknown format {fmt!r}; use one of bundled, cryptodatadownload, binance, wide, ohlcv",
                     file=path)


def _detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return "binance"
    if suffix == ".parquet":
        cols = _parquet_columns(path)
        return "wide" if any(":" in c for c in cols) else "ohlcv"
    if suffix not in (".csv", ".txt", ".tsv"):
        raise InputError(f"unknown format (suffix {suffix or 'none'!r}); expected .csv, .parquet or a Binance .zip",
                         file=path)
    with open(path, "r", encoding="utf-8", errors="replace") as fh:
        head = [fh.readline() for _ in range(2)]
    if "cryptodatadownload" in head[0].lower():
        return "cryptodatadownload"
    first = head[0].strip().split(",")
    if first and re.fullmatch(r"\d{10,17}", first[0].strip()) and len(first) >= 11:
        return "binance"
    if any(":" in c for c in first[1:]):
        return "wide"
    if [c.strip().lower() for c in first[:2]] == ["open_time", "open"]:
        return "binance"
    lowered = {c.strip().lower() for c in first}
    if "close" in lowered or (len(lowered & {"timestamp", "date", "time", "datetime"}) and len(first) > 1):
        return "ohlcv"
    raise InputError("unknown format: no header with a close column, no CryptoDataDownload banner, "
                     "not a Binance kline file; pass --format and, for odd headers, a column mapping", file=path)


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputError(f"not a readable Parquet file ({exc.__class__.__name__}: {exc})", file=path) from None


def _read_table(path: Path) -> tuple[pd.DataFrame, int]:
    """A CSV or Parquet table as strings/numbers; returns (table, file line of the first data row)."""
    if path.suffix.lower() == ".parquet":
        _parquet_columns(path)
        table = pd.read_parquet(path)
        if table.index.name is not None or not isinstance(table.index, pd.RangeIndex):
            table = table.reset_index()
        first_line = 1
    else:
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise InputError("file is empty", file=path) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"not a readable CSV ({str(exc).splitlines()[0]})", file=path) from None
        first_line = 2
    if len(table) == 0:
        raise InputError("file has a header but no data rows", file=path)
    return table, first_line


def _read_cdd(path: Path, asset: str | None, volume_unit: str) -> _AssetBars:
    try:
        table = pd.read_csv(path, skiprows=1, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", file=path) from None
    if len(table) == 0:
        raise InputError("file has a banner and header but no data rows", file=path)
    cols = {c.strip().lower().replace(" ", "_"): c for c in table.columns}
    if "close" not in cols:
        raise InputError("missing column 'close' (CryptoDataDownload layout expected)", file=path)
    date_col = cols.get("date") or cols.get("unix") or cols.get("unix_timestamp")
    if date_col is None:
        raise InputError("missing column 'date'", file=path)
    lines = np.arange(len(table)) + 3
    ts = _parse_timestamps(table[date_col], path, lines)
    if asset is None:
        sym = table[cols["symbol"]].iloc[0] if "symbol" in cols else path.stem.split("_")[1]
        asset = _asset_from_symbol(sym)
    quote_col = cols.get("volume") or cols.get("volume_usd") or cols.get("volume_usdt")
    base_col = next((cols[c] for c in cols if c.startswith("volume_") and c not in ("volume_usd", "volume_usdt")),
                    None)
    vol, unit = (quote_col, "quote") if quote_col and volume_unit != "base" else (base_col, "base")
    if vol is None:
        raise InputError("missing volume column (volume or volume_usd)", file=path)
    mapping = {f: cols[f] for f in PRICE_FIELDS if f in cols} | {"volume": vol}
    values = _numeric_fields(table, mapping, path, lines)
    if unit == "base":
        values["volume"] = values["volume"] * values["close"]
    # CryptoDataDownload files are newest first by layout: check that order row by row, then reverse.
    d = np.diff(ts.asi8)
    if len(ts) > 1 and d[0] < 0:
        if (d == 0).any():
            i = int(np.argmax(d == 0)) + 1
            raise InputError(f"duplicate timestamp {ts[i]}", file=path, row=int(lines[i]))
        if (d > 0).any():
            i = int(np.argmax(d > 0)) + 1
            raise InputError(f"timestamps are not sorted: {ts[i]} follows {ts[i - 1]} in a newest-first file",
                             file=path, row=int(lines[i]))
        ts, values, lines = ts[::-1], values.iloc[::-1].reset_index(drop=True), lines[::-1]
    return _AssetBars(asset, path, ts, values, lines)


_BINANCE_COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                    "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]


def _read_binance(path: Path, asset: str | None) -> _AssetBars:
    name = path.name
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.namelist() if m.lower().endswith(".csv")]
                if len(members) != 1:
                    raise InputError(f"Binance zip should hold exactly one CSV, found {len(members)}", file=path)
                raw = zf.read(members[0])
                name = members[0]
        except zipfile.BadZipFile:
            raise InputError("not a valid zip file (truncated download?)", file=path) from None
    else:
        raw = path.read_bytes()
    if not raw.strip():
        raise InputError("file is empty", file=path)
    has_header = raw[:9].lower().startswith(b"open_time")
    try:
        table = pd.read_csv(io.BytesIO(raw), header=None, skiprows=1 if has_header else 0, dtype=str,
                            keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise InputError(f"not a readable Binance kline CSV ({str(exc).splitlines()[0]})", file=path) from None
    if table.shape[1] < 8:
        raise InputError(f"Binance kline rows need 12 columns, found {table.shape[1]}", file=path)
    table = table.iloc[:, :12]
    table.columns = _BINANCE_COLUMNS[: table.shape[1]]
    lines = np.arange(len(table)) + (2 if has_header else 1)
    ts = _parse_timestamps(table["open_time"], path, lines)
    if asset is None:
        asset = _asset_from_symbol(Path(name).stem.split("-")[0])
    mapping = {f: f for f in PRICE_FIELDS} | {"volume": "quote_volume"}
    values = _numeric_fields(table, mapping, path, lines)
    return _AssetBars(asset, path, ts, values, lines)


def _read_wide(path: Path, table: pd.DataFrame, first_line: int, volume_unit: str) -> list[_AssetBars]:
    ts_col = table.columns[0]
    lines = np.arange(len(table)) + first_line
    ts = _parse_timestamps(table[ts_col], path, lines)
    assets: dict[str, dict[str, str]] = {}
    for c in table.columns[1:]:
        if ":" not in str(c):
            continue
        a, f = str(c).split(":", 1)
        assets.setdefault(a.strip().upper(), {})[f.strip().lower()] = c
    if not assets:
        raise InputError("wide table has no ASSET:field columns", file=path)
    out = []
    for a, cols in assets.items():
        if "close" not in cols:
            raise InputError(f"missing column '{a}:close'", file=path)
        if "volume" not in cols:
            raise InputError(f"missing column '{a}:volume'", file=path)
        close = table[cols["close"]]
        listed = (close.astype(str).str.strip() != "") & close.notna()
        if not listed.any():
            raise InputError(f"asset {a} has no prices", file=path, field=cols["close"])
        start = int(np.argmax(listed.to_numpy()))  # empty cells before an asset is listed are expected
        sub = table.iloc[start:].reset_index(drop=True)
        mapping = {f: cols[f] for f in FIELDS if f in cols}
        values = _numeric_fields(sub, mapping, path, lines[start:])
        if volume_unit == "base":
            values["volume"] = values["volume"] * values["close"]
        out.append(_AssetBars(a, path, ts[start:], values, lines[start:]))
    return out


_TS_NAMES = ("timestamp", "time", "date", "datetime", "open_time", "ts")
_QUOTE_VOLUME_NAMES = ("quote_volume", "volume_usd", "volume_quote", "quote_asset_volume", "volume_usdt")


def _read_ohlcv(path: Path, table: pd.DataFrame, first_line: int, columns: Mapping[str, str] | None,
                asset: str | None, volume_unit: str) -> list[_AssetBars]:
    lower = {str(c).strip().lower(): c for c in table.columns}
    mapping: dict[str, str] = {}
    if columns:
        for k, v in columns.items():
            if v not in table.columns:
                raise InputError(f"mapped column {v!r} (for {k}) is not in the file; it has "
                                 f"{', '.join(map(str, table.columns))}", file=path)
            mapping[k] = v
    ts_col = mapping.get("timestamp") or next((lower[n] for n in _TS_NAMES if n in lower), None)
    if ts_col is None:
        raise InputError("missing timestamp column (timestamp, time, date or datetime)", file=path)
    for f in PRICE_FIELDS:
        if f not in mapping and f in lower:
            mapping[f] = lower[f]
    unit = volume_unit
    if "volume" not in mapping:
        q = next((lower[n] for n in _QUOTE_VOLUME_NAMES if n in lower), None)
        if q is not None and volume_unit != "base":
            mapping["volume"], unit = q, "quote"
        elif "volume" in lower:
            mapping["volume"] = lower["volume"]
            unit = "base" if volume_unit == "auto" else volume_unit
    elif unit == "auto":
        unit = "base"
    if "close" not in mapping:
        raise InputError("missing column 'close'", file=path)
    if "volume" not in mapping:
        raise InputError("missing column 'volume' (liquidity features need traded volume)", file=path)
    sym_col = mapping.get("symbol") or lower.get("symbol") or lower.get("asset")
    lines = np.arange(len(table)) + first_line
    if sym_col is None:
        groups = [(asset or _asset_from_symbol(path.stem.split("-")[0].split("_")[0]), np.arange(len(table)))]
    else:
        sym = table[sym_col].astype(str).str.strip()
        groups = [(_asset_from_symbol(s), np.flatnonzero((sym == s).to_numpy())) for s in dict.fromkeys(sym)]
    out = []
    for a, rows in groups:
        sub = table.iloc[rows].reset_index(drop=True)
        ts = _parse_timestamps(sub[ts_col], path, lines[rows])
        values = _numeric_fields(sub, {k: v for k, v in mapping.items() if k in FIELDS}, path, lines[rows])
        if unit == "base":
            values["volume"] = values["volume"] * values["close"]
        out.append(_AssetBars(a, path, ts, values, lines[rows]))
    return out


# ----------------------------------------------------------------------------------------------------------
# parsing helpers


def _asset_from_symbol(symbol: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]", "", str(symbol)).upper()
    for q in QUOTE_SUFFIXES:
        if s.endswith(q) and len(s) > len(q):
            return s[: -len(q)]
    return s or "ASSET"


_TS_FORMATS = ("%Y-%m-%d %I-%p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S",
               "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z", "%d/%m/%Y %H:%M", "%d/%m/%Y")


def _parse_timestamps(col: pd.Series, path: Path, lines: np.ndarray) -> pd.DatetimeIndex:
    """Timestamps to a UTC DatetimeIndex; epoch numbers by magnitude (s, ms, us); naive strings are UTC."""
    if pd.api.types.is_datetime64_any_dtype(col):
        ts = pd.DatetimeIndex(col, name="timestamp")
        return (ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")).as_unit("ns")
    s = col.astype(str).str.strip()
    empty = (s == "") | (s.str.lower().isin(("nan", "nat", "none")))
    if empty.any():
        i = int(np.argmax(empty.to_numpy()))
        raise InputError("missing timestamp", file=path, row=int(lines[i]))
    if s.str.fullmatch(r"\d{9,17}(\.0+)?").all():
        x = s.astype(float).astype(np.int64).to_numpy()
        mag = np.median(np.abs(x))
        unit = "s" if mag < 1e11 else "ms" if mag < 1e14 else "us"
        return pd.DatetimeIndex(pd.to_datetime(x, unit=unit, utc=True), name="timestamp").as_unit("ns")
    for f in _TS_FORMATS:
        parsed = pd.to_datetime(s, format=f, errors="coerce", utc=True)
        if parsed.notna().all():
            return pd.DatetimeIndex(parsed, name="timestamp").as_unit("ns")
    parsed = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"cannot read timestamp {s.iloc[i]!r}", file=path, row=int(lines[i]))
    return pd.DatetimeIndex(parsed, name="timestamp").as_unit("ns")


def _numeric_fields(table: pd.DataFrame, mapping: Mapping[str, str], path: Path, lines: np.ndarray
                    ) -> pd.DataFrame:
    """Columns named in ``mapping`` as float64 with open/high/low defaulting to close; errors name the row."""
    out = {}
    for f, col in mapping.items():
        raw = table[col]
        num = pd.to_numeric(raw, errors="coerce").astype(np.float64)
        bad = num.isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            val = str(raw.iloc[i]).strip()
            what = "is missing" if val in ("", "nan", "NaN", "None") else f"is not a number ({val!r})"
            raise InputError(f"{f} {what}", file=path, row=int(lines[i]), field=str(col))
        v = num.to_numpy()
        if f in PRICE_FIELDS and (v <= 0).any():
            i = int(np.argmax(v <= 0))
            raise InputError(f"{f} is {v[i]:g}; prices must be positive", file=path, row=int(lines[i]),
                             field=str(col))
        if f == "volume" and (v < 0).any():
            i = int(np.argmax(v < 0))
            raise InputError(f"volume is {v[i]:g}; volume cannot be negative", file=path, row=int(lines[i]),
                             field=str(col))
        out[f] = v
    close = out["close"]
    for f in ("open", "high", "low"):
        out.setdefault(f, close)
    out["high"] = np.maximum.reduce([out["high"], out["open"], close])
    out["low"] = np.minimum.reduce([out["low"], out["open"], close])
    return pd.DataFrame({f: out[f] for f in FIELDS})


# ----------------------------------------------------------------------------------------------------------
# validation and alignment


def _freq_name(step: pd.Timedelta) -> str:
    secs = int(step.total_seconds())
    for unit, n in (("D", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if secs % n == 0:
            return f"{secs // n}{unit}"
    return f"{secs}s"


def _bar_step(bars: _AssetBars) -> pd.Timedelta:
    """Check order and spacing of one asset's bars; return the bar length."""
    t = bars.ts.asi8
    if len(t) < 2:
        raise InputError(f"asset {bars.asset} has {len(t)} row; need at least 2 bars", file=bars.file)
    d = np.diff(t)
    if (d == 0).any():
        i = int(np.argmax(d == 0)) + 1
        raise InputError(f"duplicate timestamp {bars.ts[i]}", file=bars.file, row=int(bars.line[i]))
    if (d < 0).any():
        i = int(np.argmax(d < 0)) + 1
        raise InputError(f"timestamps are not sorted: {bars.ts[i]} comes after {bars.ts[i - 1]}",
                         file=bars.file, row=int(bars.line[i]))
    vals, counts = np.unique(d, return_counts=True)
    step = int(vals[np.argmax(counts)])
    off = d % step != 0
    if off.any():
        i = int(np.argmax(off)) + 1
        raise InputError(f"mixed frequencies: bars are {_freq_name(pd.Timedelta(step, 'ns'))} apart but "
                         f"{bars.ts[i - 1]} -> {bars.ts[i]} is {pd.Timedelta(int(d[i - 1]), 'ns')}",
                         file=bars.file, row=int(bars.line[i]))
    return pd.Timedelta(step, "ns")


def _align(all_bars: list[_AssetBars], source: str, max_gap_bars: int, allow_gaps: bool) -> MarketData:
    steps = {b.asset: _bar_step(b) for b in all_bars}
    if len(set(steps.values())) > 1:
        desc = ", ".join(f"{a} {_freq_name(s)}" for a, s in steps.items())
        raise InputError(f"mixed frequencies across inputs ({desc}); resample to one bar length first",
                         file=all_bars[0].file)
    step = next(iter(steps.values()))
    start = max(b.ts[0] for b in all_bars)
    end = min(b.ts[-1] for b in all_bars)
    if start >= end:
        raise InputError("the inputs do not overlap in time", file=all_bars[0].file)
    grid_ts = pd.DatetimeIndex(np.unique(np.concatenate([b.ts[(b.ts >= start) & (b.ts <= end)].asi8
                                                         for b in all_bars])), tz="UTC").as_unit("ns")
    # Gap rule on the union grid: the full grid at the bar step, with missing runs classified by length.
    full = pd.date_range(start, end, freq=step, name="timestamp").as_unit("ns")
    present = full.isin(grid_ts)
    runs = _missing_runs(present)
    long_gaps: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    drop = np.zeros(len(full), dtype=bool)
    for a, b in runs:
        if b - a > max_gap_bars:
            if not allow_gaps:
                f = all_bars[0]
                row = int(f.line[np.searchsorted(f.ts.asi8, full[b].value)]) if b < len(full) else None
                raise InputError(f"gap of {b - a} missing bars ({full[a - 1]} -> {full[b]}) exceeds the tolerance "
                                 f"of {max_gap_bars}; use --allow-gaps to keep the data with the gap left out",
                                 file=f.file, row=row)
            drop[a:b] = True
            long_gaps.append((full[a - 1], full[b]))
    grid = full[~drop]
    blocks = {}
    filled = 0
    for bars in all_bars:
        v = bars.values.set_axis(bars.ts).reindex(grid)
        miss = v["close"].isna().to_numpy()
        filled += int(miss.sum())
        close = v["close"].ffill()
        for f in PRICE_FIELDS:
            v[f] = v[f].fillna(close)
        v["volume"] = v["volume"].fillna(0.0)
        blocks[bars.asset] = v
    frame = pd.concat(blocks, axis=1, names=["asset", "field"])
    frame.index.name = "timestamp"
    return MarketData(frame.astype(np.float64), step, source, filled, tuple(long_gaps))


def _missing_runs(present: np.ndarray) -> Iterable[tuple[int, int]]:
    """(start, stop) index pairs of runs of False in ``present``."""
    x = np.concatenate([[1], present.astype(np.int8), [1]])
    d = np.diff(x)
    return zip(np.flatnonzero(d == -1), np.flatnonzero(d == 1))


def _utc(t: str | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
