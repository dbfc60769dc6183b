"""Market data loaders: real files, each layout, and every kind of bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios.bundle import load_shared
from scenarios.errors import InputError
from scenarios.features import log_returns
from scenarios.market import load_market


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


OHLCV_HEADER = "timestamp,open,high,low,close,volume\n"


def ohlcv_rows(n: int, start: str = "2024-01-01 00:00", freq: str = "1h", price: float = 100.0) -> str:
    ts = pd.date_range(start, periods=n, freq=freq)
    return "".join(f"{t:%Y-%m-%d %H:%M:%S},{price},{price + 1},{price - 1},{price + 0.5},10\n" for t in ts)


# ---------------------------------------------------------------------------------------------- bundled data


def test_bundled_hourly_is_btc_hourly_2017_to_2019(hourly):
    assert (hourly.assets, hourly.frequency, len(hourly.frame), str(hourly.frame.index[0]),
            str(hourly.frame.index[-1])) == (("BTC",), "1h", 20106, "2017-07-01 11:00:00+00:00",
                                             "2019-10-17 09:00:00+00:00")


def test_bundled_hourly_close_matches_the_source_file_on_a_known_bar(hourly):
    # Coinbase_BTCUSD_1h.csv line 3: 2019-10-17 09-AM,BTCUSD,8051,8056.83,8021.23,8035.88,61.25,492394.56
    bar = hourly.frame.loc["2019-10-17 09:00"]
    assert (bar[("BTC", "close")], bar[("BTC", "volume")]) == (8035.88, 492394.56)


def test_bundled_daily_holds_three_assets_on_their_common_period(daily):
    assert (daily.assets, daily.frequency, str(daily.frame.index[0].date())) == (("BTC", "ETH", "LTC"), "1D",
                                                                                 "2017-11-09")


def test_bundled_daily_return_across_the_13_day_hole_is_nan(daily):
    r = log_returns(daily)
    assert np.isnan(r.loc["2019-04-01"]).all() and np.isfinite(r.loc["2019-03-19"]).all()


def test_bundled_copy_equals_the_original_files(shared_data, hourly, daily):
    for name, md in (("hourly", hourly), ("daily", daily)):
        src = load_shared(shared_data, name)
        pd.testing.assert_frame_equal(src.frame, md.frame)


def test_raw_coinbase_hourly_file_is_refused_at_its_out_of_order_copied_row(shared_data):
    with pytest.raises(InputError, match=r"Coinbase_BTCUSD_1h.csv row 16901: timestamps are not sorted"):
        load_market(shared_data / "Coinbase_BTCUSD_1h.csv")


def test_coinbase_daily_file_loads_newest_first_layout_with_its_gap_allowed(shared_data):
    md = load_market(shared_data / "Coinbase_BTCUSD_d.csv", allow_gaps=True)
    assert (md.assets, md.frequency, str(md.frame.index[0].date()), str(md.frame.index[-1].date())) == (
        ("BTC",), "1D", "2014-12-01", "2019-10-17")


def test_coinbase_daily_gap_beyond_tolerance_is_an_error_naming_the_row(shared_data):
    with pytest.raises(InputError, match=r"Coinbase_BTCUSD_d.csv row \d+: gap of 12 missing bars"):
        load_market(shared_data / "Coinbase_BTCUSD_d.csv")


# ---------------------------------------------------------------------------------------------- layouts


def test_cryptodatadownload_layout_reverses_newest_first_rows(tmp_path):
    text = ("Timestamps are UTC timezone,https://www.CryptoDataDownload.com\n"
            "date,symbol,open,high,low,close,volume_btc,volume\n"
            "2019-10-17 10-AM,BTCUSD,101,102,100,101.5,2,203\n"
            "2019-10-17 09-AM,BTCUSD,100,101,99,101,1,101\n"
            "2019-10-17 08-AM,BTCUSD,100,101,99,100,1,100\n")
    md = load_market(write(tmp_path, "cdd.csv", text))
    assert list(md.field("close")["BTC"]) == [100.0, 101.0, 101.5]


def _kline_rows(n: int, unit_factor: int) -> str:
    t0 = int(pd.Timestamp("2024-01-01", tz="UTC").value // 10**6)
    rows = []
    for i in range(n):
        ot = (t0 + i * 3_600_000) * unit_factor
        rows.append(f"{ot},42000.0,42100.0,41900.0,{42000 + i},10.0,{ot + 3_599_999},{420000.0 + i},100,5,210000,0")
    return "\n".join(rows) + "\n"


def test_binance_kline_csv_with_millisecond_open_times(tmp_path):
    md = load_market(write(tmp_path, "ETHUSDT-1h-2024-01.csv", _kline_rows(5, 1)))
    assert (md.assets, md.frequency, str(md.frame.index[0]), md.frame[("ETH", "volume")].iloc[1]) == (
        ("ETH",), "1h", "2024-01-01 00:00:00+00:00", 420001.0)


def test_binance_monthly_zip_with_microsecond_open_times(tmp_path):
    p = tmp_path / "BTCUSDT-1h-2025-01.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("BTCUSDT-1h-2025-01.csv", _kline_rows(4, 1000))
    md = load_market(p)
    assert (md.assets, len(md.frame), str(md.frame.index[-1])) == (("BTC",), 4, "2024-01-01 03:00:00+00:00")


def test_wide_table_starts_each_asset_at_its_listing_and_aligns_on_the_common_period(tmp_path):
    text = (",A:close,A:volume,B:close,B:volume\n"
            "2024-01-01,10,1,,\n2024-01-02,11,1,,\n2024-01-03,12,1,5,2\n2024-01-04,13,1,6,2\n")
    md = load_market(write(tmp_path, "wide.csv", text))
    assert (md.assets, len(md.frame), md.frame[("B", "volume")].iloc[0]) == (("A", "B"), 2, 10.0)


def test_generic_ohlcv_with_explicit_column_mapping(tmp_path):
    text = "Date,Adj Close,Vol\n2024-01-01,10,5\n2024-01-02,11,5\n2024-01-03,12,5\n"
    md = load_market(write(tmp_path, "x.csv", text), columns={"timestamp": "Date", "close": "Adj Close",
                                                              "volume": "Vol"}, asset="SOL")
    assert (md.assets, list(md.field("volume")["SOL"])) == (("SOL",), [50.0, 55.0, 60.0])


def test_generic_long_table_with_symbol_column_becomes_multi_asset(tmp_path):
    rows = "".join(f"2024-01-0{d},{s},{p},1\n" for d in (1, 2, 3) for s, p in (("BTCUSDT", 100), ("ETHUSDT", 10)))
    md = load_market(write(tmp_path, "long.csv", "timestamp,symbol,close,quote_volume\n" + rows))
    assert (md.assets, md.frame[("ETH", "volume")].iloc[0]) == (("BTC", "ETH"), 1.0)


def test_generic_parquet_roundtrip(tmp_path):
    ts = pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC")
    df = pd.DataFrame({"timestamp": ts, "close": np.arange(6) + 100.0, "volume": 1.0})
    df.to_parquet(tmp_path / "btc.parquet")
    md = load_market(tmp_path / "btc.parquet")
    assert (md.assets, md.frequency, md.field("close")["BTC"].iloc[-1]) == (("BTC",), "1h", 105.0)


def test_several_files_align_on_the_common_period(tmp_path):
    a = write(tmp_path, "AAA.csv", OHLCV_HEADER + ohlcv_rows(10, "2024-01-01 00:00"))
    b = write(tmp_path, "BBB.csv", OHLCV_HEADER + ohlcv_rows(10, "2024-01-01 03:00"))
    md = load_market([a, b])
    assert (md.assets, str(md.frame.index[0]), str(md.frame.index[-1])) == (
        ("AAA", "BBB"), "2024-01-01 03:00:00+00:00", "2024-01-01 09:00:00+00:00")


def test_small_gap_is_filled_with_flat_zero_volume_bars(tmp_path):
    rows = ohlcv_rows(10).splitlines(keepends=True)
    md = load_market(write(tmp_path, "g.csv", OHLCV_HEADER + "".join(rows[:4] + rows[6:])))
    filled = md.frame.loc["2024-01-01 04:00"]
    assert (md.filled_bars, filled[("G", "close")], filled[("G", "high")], filled[("G", "volume")]) == (
        2, 100.5, 100.5, 0.0)


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name,text,pattern", [
    ("empty.csv", "", r"empty.csv: file is empty"),
    ("header.csv", OHLCV_HEADER, r"header.csv: file has a header but no data rows"),
    ("noclose.csv", "timestamp,open,volume\n2024-01-01,1,1\n2024-01-02,1,1\n", r"missing column 'close'"),
    ("novol.csv", "timestamp,close\n2024-01-01,1\n2024-01-02,1\n", r"missing column 'volume'"),
    ("neg.csv", OHLCV_HEADER + "2024-01-01 00:00,1,1,1,1,1\n2024-01-01 01:00,1,1,1,-3.0,1\n",
     r"neg.csv row 3 column 'close': close is -3; prices must be positive"),
    ("text.csv", OHLCV_HEADER + "2024-01-01 00:00,1,1,1,1,1\n2024-01-01 01:00,1,1,1,abc,1\n",
     r"text.csv row 3 column 'close': close is not a number \('abc'\)"),
    ("nan.csv", OHLCV_HEADER + "2024-01-01 00:00,1,1,1,1,1\n2024-01-01 01:00,1,1,1,,1\n",
     r"nan.csv row 3 column 'close': close is missing"),
    ("dup.csv", OHLCV_HEADER + ohlcv_rows(3) + ohlcv_rows(1, "2024-01-01 02:00"),
     r"dup.csv row 5: duplicate timestamp 2024-01-01 02:00:00"),
    ("unsorted.csv", OHLCV_HEADER + ohlcv_rows(1, "2024-01-01 05:00") + ohlcv_rows(3),
     r"unsorted.csv row 3: timestamps are not sorted"),
    ("gap.csv", OHLCV_HEADER + ohlcv_rows(3) + ohlcv_rows(3, "2024-01-01 09:00"),
     r"gap.csv row 5: gap of 6 missing bars"),
    ("mixed.csv", OHLCV_HEADER + ohlcv_rows(4) + ohlcv_rows(4, "2024-01-01 04:30"),
     r"mixed.csv row 6: mixed frequencies: bars are 1h apart"),
    ("notes.json", "{}", r"notes.json: unknown format"),
    ("prose.csv", "hello,world\nfoo,bar\n", r"prose.csv: unknown format"),
    ("badts.csv", OHLCV_HEADER + "2024-01-01 00:00,1,1,1,1,1\nyesterday,1,1,1,1,1\n",
     r"badts.csv row 3: cannot read timestamp 'yesterday'"),
])
def test_bad_input_is_one_line_naming_file_row_and_problem(tmp_path, name, text, pattern):
    with pytest.raises(InputError, match=pattern) as exc:
        load_market(write(tmp_path, name, text))
    assert "\n" not in exc.value.message


def test_missing_file_is_reported_by_name(tmp_path):
    with pytest.raises(InputError, match=r"nope.csv: file not found"):
        load_market(tmp_path / "nope.csv")


def test_inputs_with_different_bar_lengths_are_refused(tmp_path):
    a = write(tmp_path, "AAA.csv", OHLCV_HEADER + ohlcv_rows(10))
    b = write(tmp_path, "BBB.csv", OHLCV_HEADER + ohlcv_rows(10, freq="30min"))
    with pytest.raises(InputError, match=r"mixed frequencies across inputs \(AAA 1h, BBB 30min\)"):
        load_market([a, b])


def test_corrupt_binance_zip_is_reported(tmp_path):
    p = tmp_path / "BTCUSDT-1h-2024-01.zip"
    p.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InputError, match=r"not a valid zip file"):
        load_market(p)


def test_fingerprint_changes_when_one_price_changes(hourly):
    frame = hourly.frame.copy()
    frame.iloc[100, 3] *= 1.0001
    edited = type(hourly)(frame, hourly.step, hourly.source)
    assert edited.fingerprint() != hourly.fingerprint()


def test_between_keeps_bars_in_the_half_open_interval(hourly):
    sub = hourly.between("2019-01-01", "2019-02-01")
    assert (len(sub.frame), str(sub.frame.index[0])) == (31 * 24, "2019-01-01 00:00:00+00:00")


def test_cdd_banner_file_in_memory_like_layout_detects_format(tmp_path):
    buf = io.StringIO()
    buf.write("Created on 10-17-2019,https://www.CryptoDataDownload.com\n")
    buf.write("date,symbol,open,high,low,close,volume_btc,volume\n")
    buf.write("2019-10-17,BTCUSD,1,2,1,2,1,2\n2019-10-16,BTCUSD,1,2,1,1,1,1\n")
    md = load_market(write(tmp_path, "Coinbase_BTCUSD_d.csv", buf.getvalue()))
    assert (md.frequency, list(md.field("close")["BTC"])) == ("1D", [1.0, 2.0])
