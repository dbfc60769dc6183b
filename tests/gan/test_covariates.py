"""Static per-window covariates in the conditioning: networks, sampler, export/load and training, end to end."""

import json

import numpy as np
import pytest
import torch

from gan_helpers import CONTEXT_LEN, HORIZON, covariate_config, covariate_windows, tiny_config
from gan.checkpoint import export_model, load_generator
from gan.errors import ConfigError, ModelLoadError, SamplingError
from gan.model import Critic, Generator
from gan.sampler import Sampler
from gan.train import covariate_scaler, fit

FIT = dict(accelerator="cpu", devices=1, progress=False)


@pytest.fixture(scope="module")
def cov_generator():
    torch.manual_seed(0)
    generator = Generator(covariate_config())
    generator.set_channel_scaler(torch.tensor([0.1]), torch.tensor([1.5]))
    generator.set_covariate_scaler(torch.tensor([0.2]), torch.tensor([0.5]))
    return generator


@pytest.fixture(scope="module")
def cov_sampler(cov_generator):
    return Sampler(cov_generator, device="cpu")


@pytest.fixture(scope="module")
def cov_val():
    return covariate_windows(128, CONTEXT_LEN, HORIZON, seed=1)


def _sample(sampler, windows, covariates, **kw):
    args = dict(regime=0, severity=0.5, n=2000, horizon=HORIZON, seed=5)
    args.update(kw)
    return sampler.sample_array(windows.context[:4], covariates=covariates, **args)


# ---------------------------------------------------------------------- networks
def test_model_without_covariates_has_no_covariate_tensors_and_the_old_input_widths():
    config = tiny_config()
    g, d = Generator(config), Critic(config)
    assert not [k for k in list(g.state_dict()) + list(d.state_dict()) if "covariate" in k]
    assert g.cond[0].in_features == config.ctx_dim + config.regime_dim + 2
    with pytest.raises(ValueError, match="covariates given to a network without covariates"):
        g.condition(torch.zeros(1, CONTEXT_LEN, 2), torch.zeros(1, dtype=torch.int64), torch.zeros(1),
                    torch.zeros(1, 1))


def test_generator_and_critic_consume_the_covariates(cov_generator):
    config = covariate_config()
    torch.manual_seed(1)
    d = Critic(config)
    n = 6
    ctx, regime, severity = torch.randn(n, CONTEXT_LEN, 1), torch.zeros(n, dtype=torch.int64), torch.rand(n)
    noise = cov_generator.draw_noise(n, torch.Generator().manual_seed(0), "cpu")
    low, high = torch.full((n, 1), -1.0), torch.full((n, 1), 1.0)
    paths = cov_generator(ctx, regime, severity, *noise, covariates=low)
    assert paths.shape == (n, HORIZON, 1)
    assert not torch.equal(paths, cov_generator(ctx, regime, severity, *noise, covariates=high))
    assert not torch.equal(d(paths, ctx, regime, severity, low), d(paths, ctx, regime, severity, high))
    with pytest.raises(ValueError, match=r"this network needs covariates of shape \(6, 1\)"):
        cov_generator(ctx, regime, severity, *noise)


# ---------------------------------------------------------------------- sampler
def test_covariates_in_data_units_steer_the_paths(cov_sampler, cov_val):
    low = _sample(cov_sampler, cov_val, np.full((4, 1), -1.0, np.float32))
    assert not np.array_equal(low, _sample(cov_sampler, cov_val, np.full((4, 1), 1.0, np.float32)))


def test_one_covariate_row_applies_to_every_context(cov_sampler, cov_val):
    one = _sample(cov_sampler, cov_val, np.array([0.3], np.float32))
    assert one.tobytes() == _sample(cov_sampler, cov_val, np.full((4, 1), 0.3, np.float32)).tobytes()


def test_covariate_sampling_is_deterministic_and_chunk_size_independent(cov_sampler, cov_val):
    x = cov_val.covariates[:4]
    whole = _sample(cov_sampler, cov_val, x, n=9000)
    chunked = _sample(cov_sampler, cov_val, x, n=9000, chunk_size=1000)
    assert whole.tobytes() == chunked.tobytes() == _sample(cov_sampler, cov_val, x, n=9000).tobytes()


def test_long_horizon_continues_with_the_same_covariates(cov_sampler, cov_val):
    x = cov_val.covariates[:4]
    long = _sample(cov_sampler, cov_val, x, horizon=2 * HORIZON + 3)
    assert long.shape == (2000, 2 * HORIZON + 3, 1)
    np.testing.assert_array_equal(long[:, :HORIZON], _sample(cov_sampler, cov_val, x))
    other = _sample(cov_sampler, cov_val, x + 1.0, horizon=2 * HORIZON + 3)
    assert not np.array_equal(long[:, HORIZON:], other[:, HORIZON:])


def test_sampler_refuses_a_covariate_model_without_covariates(cov_sampler, cov_val):
    with pytest.raises(SamplingError, match=r"the model needs covariates \(log_vol\): pass covariates=float32\[K, 1\]"):
        _sample(cov_sampler, cov_val, None)


def test_sampler_refuses_covariates_for_a_model_without(val_windows):
    torch.manual_seed(0)
    sampler = Sampler(Generator(tiny_config()), device="cpu")
    with pytest.raises(SamplingError, match=r"the model was trained without covariates \(n_covariates = 0\)"):
        sampler.sample_array(val_windows.context[:2], 0, 0.5, 10, HORIZON, 0, covariates=np.zeros((2, 1)))


@pytest.mark.parametrize("covariates, message", [
    (np.zeros((3, 1)), r"covariates must be float32\[K, F\] = \[4, 1\] \(one row per context\)"),
    (np.zeros((4, 2)), r"covariates must be float32\[K, F\] = \[4, 1\]"),
    (np.full((4, 1), np.nan), "covariates hold NaN or inf values"),
    ([["a"]] * 4, "covariates cannot be read as float32"),
])
def test_misshaped_or_non_finite_covariates_are_refused(cov_sampler, cov_val, covariates, message):
    with pytest.raises(SamplingError, match=message):
        _sample(cov_sampler, cov_val, covariates)


def test_sample_fn_takes_covariates_by_keyword(cov_sampler, cov_val):
    sample_fn = cov_sampler.sample_fn()
    x = cov_val.covariates[:4]
    paths = sample_fn(cov_val.context[:4], 0, 0.5, 2000, HORIZON, 5, covariates=x)
    assert paths.tobytes() == _sample(cov_sampler, cov_val, x).tobytes()


# ---------------------------------------------------------------------- export and load
def test_export_load_round_trip_keeps_the_covariate_scaler_and_the_samples(cov_sampler, cov_generator, cov_val,
                                                                           tmp_path):
    model_dir = export_model(cov_generator, covariate_config(), tmp_path / "model")
    loaded, config = load_generator(model_dir)
    assert config.n_covariates == 1 and config.covariate_names == ["log_vol"]
    assert torch.equal(loaded.covariate_loc, cov_generator.covariate_loc)
    assert torch.equal(loaded.covariate_scale, cov_generator.covariate_scale)
    x = cov_val.covariates[:4]
    assert _sample(Sampler(loaded, device="cpu"), cov_val, x).tobytes() == _sample(cov_sampler, cov_val, x).tobytes()


@pytest.mark.parametrize("n_covariates, message", [
    (0, r"unexpected tensor 'covariate_loc'"),
    (2, r"tensor 'covariate_loc' has shape \(1,\) but config.json implies \(2,\)"),
])
def test_load_refuses_covariate_weights_that_do_not_match_config_json(cov_generator, tmp_path, n_covariates, message):
    model_dir = export_model(cov_generator, covariate_config(), tmp_path / "model")
    info = json.loads((model_dir / "config.json").read_text())
    info["config"].update(n_covariates=n_covariates, covariate_names=[])
    (model_dir / "config.json").write_text(json.dumps(info))
    with pytest.raises(ModelLoadError, match=message):
        load_generator(model_dir)


def test_model_exported_before_covariates_existed_still_loads(val_windows, tmp_path):
    torch.manual_seed(0)
    generator = Generator(tiny_config())
    model_dir = export_model(generator, tiny_config(), tmp_path / "model")
    info = json.loads((model_dir / "config.json").read_text())
    del info["config"]["n_covariates"], info["config"]["covariate_names"]
    (model_dir / "config.json").write_text(json.dumps(info))
    ctx = val_windows.context[:3]
    before = Sampler(generator, device="cpu").sample_array(ctx, 1, 0.5, 500, HORIZON, 2)
    assert Sampler.load(model_dir, device="cpu").sample_array(ctx, 1, 0.5, 500, HORIZON, 2).tobytes() == \
        before.tobytes()


# ---------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def cov_trained(tmp_path_factory):
    train = covariate_windows(2048, CONTEXT_LEN, HORIZON, seed=0)
    result = fit(train, covariate_config(max_epochs=10), tmp_path_factory.mktemp("cov"), **FIT)
    return result, train


def test_generated_spread_grows_with_the_covariate(cov_trained, cov_val):
    sampler = Sampler.load(cov_trained[0].model_dir, device="cpu")
    low = _sample(sampler, cov_val, np.array([-1.0], np.float32), n=4000).std()  # real spread e^-1 = 0.37
    high = _sample(sampler, cov_val, np.array([1.0], np.float32), n=4000).std()  # real spread e^+1 = 2.72
    assert high > 2.0 * low


def test_fit_stores_the_covariate_scaler_of_the_training_windows(cov_trained):
    result, train = cov_trained
    loaded, _ = load_generator(result.model_dir)
    loc, scale = covariate_scaler(train)
    assert np.array_equal(loaded.covariate_loc.numpy(), loc) and np.array_equal(loaded.covariate_scale.numpy(), scale)


def test_validation_passes_covariates_to_the_energy_score_and_to_sample_fn(cov_val, tmp_path):
    train = covariate_windows(256, CONTEXT_LEN, HORIZON, seed=2)
    shapes = []

    def val_score(sample_fn):
        keyword = sample_fn(cov_val.context[:3], 0, 0.5, 6, HORIZON + 2, 7, covariates=cov_val.covariates[:3])
        positional = sample_fn(cov_val.context[:3], 0, 0.5, 6, HORIZON + 2, 7, cov_val.covariates[:3])
        shapes.append((keyword.shape, keyword.tobytes() == positional.tobytes()))
        return {"selection_score": 1.0}

    result = fit(train, covariate_config(max_epochs=1), tmp_path, val=cov_val, val_score=val_score, **FIT)
    assert shapes == [((6, HORIZON + 2, 1), True)] and np.isfinite(result.metrics["val_energy"])


@pytest.mark.parametrize("with_covariates, message", [
    (False, "train windows have no covariates but the config says n_covariates=1"),
    (True, "train windows have 1 covariates but the config says n_covariates=0"),
])
def test_fit_refuses_windows_whose_covariates_do_not_fit_the_config(with_covariates, message, tmp_path):
    windows = covariate_windows(64, CONTEXT_LEN, HORIZON)
    if not with_covariates:
        windows = windows.__class__(windows.context, windows.target, windows.regime, windows.severity)
    config = covariate_config() if not with_covariates else covariate_config(n_covariates=0, covariate_names=[])
    with pytest.raises(ConfigError, match=message):
        fit(windows, config, tmp_path, **FIT)


def test_resume_from_a_checkpoint_written_before_covariates_existed(train_windows, tmp_path):
    fit(train_windows, tiny_config(max_epochs=1), tmp_path, **FIT)
    ckpt = torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=True)
    del ckpt["hyper_parameters"]["config"]["n_covariates"], ckpt["hyper_parameters"]["config"]["covariate_names"]
    torch.save(ckpt, tmp_path / "last.ckpt")
    assert fit(train_windows, tiny_config(max_epochs=2), tmp_path, **FIT).epochs == 2
