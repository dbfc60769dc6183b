"""Generation pipeline: sources into packs, seeds, contexts, anchoring and bad requests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scenarios.errors import InputError
from scenarios.generate import GenerateRequest, generate_pack
from scenarios.pack import ScenarioPack
from scenarios.regimes import FLASH_CRASH, RegimeRules, label_windows


def gen(hourly, tmp_path, name="pk", **kw):
    req = GenerateRequest(**({"source": "gjr", "n": 300, "horizon": 24, "seed": 3} | kw))
    generate_pack(hourly, req, tmp_path / name)
    return ScenarioPack.read(tmp_path / name)


def hashes(d):
    return {k: v["sha256"] for k, v in json.loads((d / "manifest.json").read_text())["files"].items()}


def test_same_seed_gives_byte_identical_pack_data(hourly, tmp_path):
    gen(hourly, tmp_path, "a", source="fhs", regime="flash_crash")
    gen(hourly, tmp_path, "b", source="fhs", regime="flash_crash")
    assert hashes(tmp_path / "a") == hashes(tmp_path / "b")


def test_other_seed_gives_other_paths(hourly, tmp_path):
    a = gen(hourly, tmp_path, "a", seed=1)
    b = gen(hourly, tmp_path, "b", seed=2)
    assert not np.array_equal(a.returns, b.returns)


def test_chunk_size_does_not_change_the_paths(hourly, tmp_path):
    a = gen(hourly, tmp_path, "a", chunk_size=64)
    b = gen(hourly, tmp_path, "b", chunk_size=1000)
    assert np.array_equal(a.returns, b.returns) and np.array_equal(a.liquidity, b.liquidity)


def test_pack_is_anchored_at_the_last_close_and_volume_of_the_data(hourly, tmp_path):
    p = gen(hourly, tmp_path)
    assert p.manifest.start_prices == {"BTC": 8035.88} and p.manifest.ref_volume_usd["BTC"] > 1e5


def test_default_unconditional_baseline_starts_after_the_latest_bar(hourly, tmp_path):
    p = gen(hourly, tmp_path)
    assert p.manifest.contexts == ["2019-10-17T10:00:00+00:00"] and p.manifest.regime == "all"


def test_flash_crash_request_starts_baselines_right_before_real_crash_windows(hourly, hourly_windows, tmp_path):
    p = gen(hourly, tmp_path, regime="flash_crash")
    starts = pd.DatetimeIndex(pd.to_datetime(p.manifest.contexts))
    crash_starts = set(hourly_windows.of_regime("flash_crash").start)
    assert len(starts) >= 20 and all(s in crash_starts for s in starts)


def test_historical_flash_crash_pack_is_all_flash_crashes_by_the_labeller(hourly, tmp_path):
    p = gen(hourly, tmp_path, source="historical", regime="flash_crash")
    rules = RegimeRules.from_dict(p.manifest.rules)
    lab = label_windows(p.returns, p.liquidity, p.sigma_ref, rules, step_hours=1.0)
    assert (lab.regime == FLASH_CRASH).all()


def test_context_period_limits_where_paths_start(hourly, tmp_path):
    p = gen(hourly, tmp_path, context_start="2019-03-01", context_end="2019-03-02")
    starts = pd.to_datetime(p.manifest.contexts)
    assert len(starts) == 24 and starts.min() >= pd.Timestamp("2019-03-01 01:00", tz="UTC")


def test_train_end_is_recorded_and_baseline_params_are_in_the_manifest(hourly, tmp_path):
    p = gen(hourly, tmp_path, train_end="2019-01-01")
    assert p.manifest.data["train_end"] == "2019-01-01" and "params" in p.manifest.generator


def test_gan_source_without_a_model_is_a_clear_error(hourly, tmp_path):
    with pytest.raises(InputError, match="model.safetensors missing"):
        generate_pack(hourly, GenerateRequest(source="gan", model_dir=tmp_path, n=10), tmp_path / "pk")


def test_empty_context_period_is_a_clear_error(hourly, tmp_path):
    with pytest.raises(InputError, match="no complete 48-bar context"):
        gen(hourly, tmp_path, context_start="2030-01-01")


def test_existing_output_is_not_overwritten(hourly, tmp_path):
    gen(hourly, tmp_path)
    with pytest.raises(InputError, match="already exists"):
        gen(hourly, tmp_path)


def test_daily_three_asset_fhs_pack_keeps_assets_and_steps(daily, tmp_path):
    p = gen(daily, tmp_path, source="fhs", horizon=10)
    assert p.assets == ("BTC", "ETH", "LTC") and p.returns.shape == (300, 10, 3) and p.manifest.step_hours == 24.0
