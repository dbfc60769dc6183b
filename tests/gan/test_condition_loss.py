"""The caller's condition term (fit(condition_loss=...)) and counterfactual conditioning.

The windows here never show regime 3 after a calm context (they hold only regimes 0 and 1); the condition term
says "regime-3 paths must end at least 6 below where they start in channel 0". Only counterfactual conditioning
(regenerating the same contexts under random regimes) lets the generator learn that.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan.config import GanConfig
from gan.errors import ConfigError
from gan.sampler import Sampler
from gan.train import fit
from gan_helpers import tiny_config
from gan.windows import WindowSet

FIT = dict(accelerator="cpu", devices=1, progress=False, log_csv=False)
TARGET_REGIME = 3


def calm_only(windows: WindowSet) -> WindowSet:
    keep = np.flatnonzero(windows.regime <= 1)
    return windows.subset(keep)


def falls_by_six(seen: list):
    def condition_loss(fake, regime, severity, covariates):
        seen.append(regime.detach().clone())
        ask = regime == TARGET_REGIME
        if not ask.any():
            return fake.new_zeros(())
        return torch.relu(fake[ask, :, 0].sum(dim=1) + 6.0).mean()

    return condition_loss


def regime3_sum(model_dir, windows: WindowSet) -> float:
    sampler = Sampler.load(model_dir)
    x = sampler.sample_array(windows.context[:64], TARGET_REGIME, 0.5, 256, windows.horizon, seed=1)
    return float(np.median(x[:, :, 0].sum(axis=1)))


@pytest.fixture(scope="module")
def runs(train_windows, tmp_path_factory):
    calm = calm_only(train_windows)
    out = {}
    for share in (0.0, 1.0):
        seen: list = []
        cfg = tiny_config(max_epochs=6, condition_weight=5.0, counterfactual_share=share)
        res = fit(calm, cfg, tmp_path_factory.mktemp(f"cf{share}"), condition_loss=falls_by_six(seen), **FIT)
        out[share] = (res.model_dir, torch.cat(seen))
    return calm, out


def test_counterfactual_conditions_reach_the_condition_term(runs):
    _, out = runs
    assert set(out[0.0][1].unique().tolist()) <= {0, 1}  # the real windows' regimes only
    assert TARGET_REGIME in out[1.0][1].unique().tolist()


def test_counterfactual_conditioning_teaches_a_regime_the_contexts_never_showed(runs):
    calm, out = runs
    with_cf, without = regime3_sum(out[1.0][0], calm), regime3_sum(out[0.0][0], calm)
    assert with_cf < -4.0 < without


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_counterfactual_share_outside_unit_interval_is_refused(share):
    with pytest.raises(ConfigError, match="counterfactual_share"):
        GanConfig(counterfactual_share=share)
