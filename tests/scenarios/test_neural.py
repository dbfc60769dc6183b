"""The GAN wired to real data: channels, a short training on real BTC windows, GAN packs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scenarios.errors import InputError
from scenarios.generate import GenerateRequest, generate_pack
from scenarios.neural import from_channels, model_metadata, to_channels, train_model
from scenarios.pack import ScenarioPack


def test_channels_round_trip_returns_and_liquidity():
    rng = np.random.default_rng(0)
    r, q, s = rng.normal(0, 0.01, (5, 24, 2)), rng.normal(0, 1, (5, 24, 2)), rng.uniform(0.005, 0.02, (5, 2))
    r2, q2 = from_channels(to_channels(r, q, s), s)
    assert np.allclose(r2, r, atol=1e-7) and np.allclose(q2, q)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, hourly):
    """Two epochs on the second half of 2018 (real BTC windows); enough to exercise the whole path."""
    out = tmp_path_factory.mktemp("gan") / "run"
    md = hourly.between("2018-06-01", "2019-01-01")
    res = train_model(md, out, train_end="2019-01-01", max_epochs=2, seed=0, progress=False)
    return res.model_dir, md


def test_trained_model_carries_rules_scale_and_data_fingerprint(tiny_model):
    model_dir, md = tiny_model
    meta = model_metadata(model_dir)
    assert (meta["data_fingerprint"], meta["assets"], meta["train_end"]) == (md.fingerprint(), ["BTC"], "2019-01-01")
    assert set(meta["severity_scale"]) == {"calm", "volatile", "flash_crash", "liquidity_drought"}


def test_gan_pack_same_seed_same_bytes(tiny_model, tmp_path):
    model_dir, md = tiny_model
    for name in ("a", "b"):
        generate_pack(md, GenerateRequest(source="gan", regime="flash_crash", n=500, seed=5, model_dir=model_dir),
                      tmp_path / name)
    files = [json.loads((tmp_path / n / "manifest.json").read_text())["files"] for n in ("a", "b")]
    assert files[0] == files[1]


def test_gan_pack_starts_from_the_latest_context_and_records_the_model(tiny_model, tmp_path):
    model_dir, md = tiny_model
    generate_pack(md, GenerateRequest(source="gan", regime="calm", n=100, seed=1, model_dir=model_dir), tmp_path / "p")
    p = ScenarioPack.read(tmp_path / "p")
    assert p.manifest.contexts == ["2019-01-01T00:00:00+00:00"] and len(p.manifest.model_fingerprint) == 16


def test_gan_pack_for_all_regimes_mixes_contexts_of_a_period(tiny_model, tmp_path):
    model_dir, md = tiny_model
    req = GenerateRequest(source="gan", regime="all", n=240, seed=1, model_dir=model_dir,
                          context_start="2018-12-01", context_end="2018-12-02")
    generate_pack(md, req, tmp_path / "p")
    assert len(ScenarioPack.read(tmp_path / "p").manifest.contexts) == 24


def test_model_for_other_assets_is_refused(tiny_model, daily, tmp_path):
    model_dir, _ = tiny_model
    with pytest.raises(InputError, match="the model was trained on BTC; the data has BTC, ETH, LTC"):
        generate_pack(daily, GenerateRequest(source="gan", n=10, model_dir=model_dir), tmp_path / "p")


def test_resume_continues_from_last_checkpoint(tiny_model, tmp_path):
    model_dir, md = tiny_model
    run = model_dir.parent
    res = train_model(md, run, train_end="2019-01-01", max_epochs=3, seed=0, progress=False)
    assert res.epochs == 3
