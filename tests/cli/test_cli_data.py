"""``stressgan data`` and ``stressgan pack``: output, files and exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from scenarios.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_inspect_bundled_hourly_prints_period_and_rows():
    res = run("data", "inspect", "hourly", "--json")
    s = json.loads(res.stdout)
    assert (res.exit_code, s["rows"], s["frequency"], s["per_asset"]["BTC"]["worst_bar_at"][:16]) == (
        0, 20106, "1h", "2017-12-22T13:00")


def test_label_writes_episodes_with_the_known_crashes(tmp_path):
    out = tmp_path / "episodes.csv"
    res = run("data", "label", "hourly", "--out", str(out))
    ep = pd.read_csv(out, parse_dates=["start", "end"])
    crash_days = set(ep[ep.regime == "flash_crash"].start.dt.strftime("%Y-%m-%d"))
    assert res.exit_code == 0 and {"2017-12-22", "2019-06-26", "2019-09-24"} <= crash_days


def test_label_reports_hours_per_regime(tmp_path):
    res = run("data", "label", "hourly", "--out", str(tmp_path / "e.csv"))
    assert "liquidity_drought" in res.stdout and "flash_crash" in res.stdout and "hours" in res.stdout


def test_bad_file_exits_2_with_one_line_error(tmp_path):
    p = tmp_path / "prices.csv"
    p.write_text("timestamp,close,volume\n2024-01-01 00:00,1,1\n2024-01-01 01:00,-3.0,1\n")
    res = run("data", "inspect", str(p))
    assert (res.exit_code, res.stderr.strip()) == (
        2, "error: prices.csv row 3 column 'close': close is -3; prices must be positive")


def test_missing_data_file_exits_2(tmp_path):
    res = run("data", "inspect", str(tmp_path / "nothing.csv"))
    assert res.exit_code == 2 and "file not found" in res.stderr


def test_unknown_subcommand_is_a_usage_error_exit_2():
    assert run("data", "frobnicate").exit_code == 2


def test_pack_verify_ok_and_corrupt(tmp_path):
    import numpy as np

    from scenarios.pack import ScenarioPack

    d = ScenarioPack.from_arrays(np.zeros((4, 3, 1)), np.zeros((4, 3, 1)), np.ones((4, 1)), assets=["BTC"],
                                 source="fhs", regime="calm", seed=1, frequency="1h", step_hours=1.0,
                                 start_prices={"BTC": 1.0}, ref_volume_usd={"BTC": 1.0},
                                 data_fingerprint="x").write(tmp_path / "pk")
    ok = run("pack", "verify", str(d))
    (d / "paths.parquet").write_bytes(b"garbage")
    bad = run("pack", "verify", str(d))
    assert (ok.exit_code, bad.exit_code) == (0, 2) and "paths.parquet" in bad.stderr
