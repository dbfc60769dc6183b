"""Training behaviour on synthetic windows (tiny networks, CPU, seconds per fit)."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan_helpers import HORIZON, tiny_config
from gan.errors import ConfigError, TrainingDivergedError
from gan.sampler import Sampler
from gan.train import fit

FIT = dict(accelerator="cpu", devices=1, progress=False)


@pytest.fixture(scope="module")
def trained(train_windows, val_windows, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    result = fit(train_windows, tiny_config(max_epochs=10), out, val=val_windows, **FIT)
    return result, out


def _drawdowns(sampler, windows, regime):
    ctx = windows.context[windows.regime == regime][:32]
    paths = sampler.sample_array(ctx, regime, 0.8, 4000, HORIZON, seed=0)  # (n, H, C)
    return np.minimum(paths[..., 0].cumsum(axis=1).min(axis=1), 0.0)  # drawdown of the return channel


def test_crash_regime_paths_fall_deeper_than_calm_ones(trained, val_windows):
    result, _ = trained
    sampler = Sampler.load(result.model_dir, device="cpu")
    crash, calm = _drawdowns(sampler, val_windows, 2), _drawdowns(sampler, val_windows, 0)
    assert np.median(crash) < np.median(calm) - 3.0  # synthetic crashes fall ~10 units, calm paths ~1


def test_drought_regime_paths_have_lower_liquidity_than_calm_ones(trained, val_windows):
    sampler = Sampler.load(trained[0].model_dir, device="cpu")
    drought = sampler.sample_array(val_windows.context[:32], 3, 0.5, 2000, HORIZON, seed=0)[..., 1].mean()
    calm = sampler.sample_array(val_windows.context[:32], 0, 0.5, 2000, HORIZON, seed=0)[..., 1].mean()
    assert drought < calm - 1.0  # synthetic droughts sit 2 units lower


def test_fit_selects_by_validation_score_and_exports(trained):
    result, out = trained
    assert result.best_checkpoint == out / "best.ckpt" and result.best_score is not None
    assert (out / "model" / "model.safetensors").exists() and (out / "last.ckpt").exists()
    assert result.metrics["selection_score"] >= result.best_score - 1e-6


def test_checkpoints_load_with_weights_only(trained):
    _, out = trained
    ckpt = torch.load(out / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["hyper_parameters"]["config"]["n_critic"] == 2


def test_global_step_counts_critic_and_generator_steps(trained, train_windows):
    result, _ = trained
    cfg = tiny_config()
    batches_per_epoch = int(np.ceil(len(train_windows) / (cfg.batch_size * cfg.n_critic)))
    assert result.global_step == 10 * batches_per_epoch * (cfg.n_critic + 1)


def test_csv_log_is_written(trained):
    _, out = trained
    logs = list((out / "logs").rglob("metrics.csv"))
    assert logs and "w_dist" in logs[0].read_text().splitlines()[0]


def test_resumed_run_matches_an_uninterrupted_one(train_windows, tmp_path):
    straight = fit(train_windows, tiny_config(max_epochs=3), tmp_path / "a", **FIT)
    first = fit(train_windows, tiny_config(max_epochs=1), tmp_path / "b", **FIT)
    resumed = fit(train_windows, tiny_config(max_epochs=3), tmp_path / "b", **FIT)
    assert resumed.global_step == straight.global_step > first.global_step
    a = load_file(str(straight.model_dir / "model.safetensors"))
    b = load_file(str(resumed.model_dir / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_last_checkpoint_is_on_disk_after_every_epoch_not_only_at_the_end(train_windows, tmp_path):
    # a run killed (SIGKILL) in epoch k must find epoch k-1's resume point: look for it from inside epoch 1
    seen = []

    def val_score(sample_fn):
        last = tmp_path / "last.ckpt"
        seen.append(torch.load(last, weights_only=True)["epoch"] if last.exists() else None)
        return {"selection_score": 0.0}

    fit(train_windows, tiny_config(max_epochs=3), tmp_path, val_score=val_score, **FIT)
    assert seen == [None, 0, 1]  # written at the end of epoch k (it resumes at k + 1)
    assert not list(tmp_path.glob("*.tmp"))


def test_resume_with_a_different_model_config_is_refused(train_windows, tmp_path):
    fit(train_windows, tiny_config(max_epochs=1), tmp_path, **FIT)
    with pytest.raises(ConfigError, match=r"last.ckpt was trained with gen_width=32, the config now says 64"):
        fit(train_windows, tiny_config(max_epochs=2, gen_width=64), tmp_path, **FIT)


def test_exploding_learning_rate_stops_with_a_clear_error(train_windows, tmp_path):
    config = tiny_config(lr_critic=1e12, lr_generator=1e12, grad_clip=0.0, divergence_threshold=1e4)
    with pytest.raises(TrainingDivergedError, match=r"training diverged at epoch 0, batch \d+ .*lower lr_critic"):
        fit(train_windows, config, tmp_path, **FIT)


def test_val_score_receives_a_sample_fn_and_selects(train_windows, tmp_path):
    calls = []

    def val_score(sample_fn):
        x = sample_fn(train_windows.context[:3], [0, 2, 3], [0.1, 0.5, 0.9], 6, HORIZON + 3, 7)
        calls.append(x)
        return {"selection_score": float(len(calls) % 2), "extra": 1.0}  # best = round 2

    result = fit(train_windows, tiny_config(max_epochs=3), tmp_path, val_score=val_score, **FIT)
    assert calls[0].shape == (6, HORIZON + 3, 2) and calls[0].dtype == np.float32
    assert result.best_score == 0.0 and result.metrics["extra"] == 1.0
    assert torch.load(result.best_checkpoint, weights_only=True)["epoch"] == 1


def test_time_limit_stops_early_and_still_exports(train_windows, tmp_path):
    result = fit(train_windows, tiny_config(max_epochs=1000), tmp_path, max_minutes=0.02, **FIT)
    assert result.epochs < 1000 and (tmp_path / "model" / "model.safetensors").exists()
    assert (tmp_path / "last.ckpt").exists()


def test_bf16_mixed_precision_trains_on_cpu(train_windows, val_windows, tmp_path):
    result = fit(train_windows, tiny_config(max_epochs=1), tmp_path, val=val_windows, precision="bf16-mixed", **FIT)
    assert np.isfinite(result.metrics["loss_d"]) and np.isfinite(result.best_score)
