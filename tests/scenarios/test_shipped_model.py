"""The default GAN that ships in ``gan/shipped``: provenance, loading, and conditions it honours on real contexts
it never saw in training (2019)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gan.sampler import Sampler
from scenarios.fidelity import max_drawdown
from scenarios.generate import GenerateRequest, generate_pack
from scenarios.neural import covariates, from_channels, model_metadata, shipped_model_dir, to_channels
from scenarios.pack import ScenarioPack
from scenarios.regimes import RegimeRules, label_windows, regime_index
from scenarios.windows import cut_windows


@pytest.fixture(scope="module")
def shipped():
    d = shipped_model_dir()
    return d, model_metadata(d), Sampler.load(d)


@pytest.fixture(scope="module")
def contexts_2019(hourly_features, shipped):
    """200 real 2019 contexts (after the model's training end), labelled with the model's own rules."""
    _, meta, _ = shipped
    rules = RegimeRules.from_dict(meta["rules"])
    w = cut_windows(hourly_features, context_len=48, horizon=24, rules=rules).between("2019-01-01", None)
    return w.subset(np.linspace(0, len(w) - 1, 200).astype(int)), rules


def sample(sampler, windows, regime, n_per_context=4, seed=11):
    k = len(windows)
    ctx = to_channels(windows.context_returns, windows.context_liquidity, windows.sigma)
    x = sampler.sample_array(ctx, regime, 0.5, k * n_per_context, 24, seed, covariates=covariates(windows.sigma))
    sigma = windows.sigma[np.arange(k * n_per_context) % k]
    r, q = from_channels(x, sigma)
    return r, q, sigma


def test_shipped_model_is_small_and_says_how_to_reproduce_it(shipped, hourly):
    d, meta, _ = shipped
    sizes = {p.name: p.stat().st_size for p in d.iterdir()}
    assert {"model.safetensors", "config.json", "MODEL.md"} <= set(sizes) and sum(sizes.values()) < 5e6
    assert (meta["assets"], meta["step_hours"], meta["train_end"]) == (["BTC"], 1.0, "2019-01-01")
    assert meta["data_fingerprint"] == hourly.fingerprint()
    card = (d / "MODEL.md").read_text()
    assert "stressgan train --data hourly --train-end 2019-01-01" in card and meta["command"] in card
    config = json.loads((d / "config.json").read_text())
    assert config["metrics"]["selection_metric"] == "selection_score"


def test_asked_for_a_crash_the_shipped_model_falls_deeper_than_asked_for_calm(shipped, contexts_2019):
    _, _, sampler = shipped
    windows, _ = contexts_2019
    crash, _, _ = sample(sampler, windows, "flash_crash")
    calm, _, _ = sample(sampler, windows, "calm")
    assert np.median(max_drawdown(crash)) > 2 * np.median(max_drawdown(calm))
    assert np.median(crash.sum(axis=1)) < np.median(calm.sum(axis=1))


def test_asked_for_a_drought_the_shipped_model_dries_volume_up(shipped, contexts_2019):
    _, _, sampler = shipped
    windows, _ = contexts_2019
    _, dry, _ = sample(sampler, windows, "liquidity_drought")
    _, calm, _ = sample(sampler, windows, "calm")
    assert np.median(dry) < np.median(calm) - 0.5  # log volume ratio: well below normal volume


@pytest.mark.parametrize("regime, floor", [("flash_crash", 0.6), ("liquidity_drought", 0.6)])
def test_shipped_model_honours_stress_conditions_on_held_out_contexts(shipped, contexts_2019, regime, floor):
    # the labeller that defines the regimes on real data judges the generated paths (condition adherence)
    _, _, sampler = shipped
    windows, rules = contexts_2019
    r, q, sigma = sample(sampler, windows, regime)
    adherence = np.mean(label_windows(r, q, sigma, rules, 1.0).regime == regime_index(regime))
    assert adherence >= floor


def test_generate_without_model_uses_the_shipped_one(hourly, shipped, tmp_path):
    d, _, _ = shipped
    generate_pack(hourly, GenerateRequest(source="gan", regime="flash_crash", n=64, seed=2), tmp_path / "p")
    pack = ScenarioPack.read(tmp_path / "p")
    assert pack.manifest.generator["model"] == str(d) and pack.returns.shape == (64, 24, 1)
