import json

import numpy as np
import pytest
import torch

from gan_helpers import HORIZON, tiny_config
from gan.checkpoint import export_model, load_generator, read_model_info
from gan.errors import ModelLoadError
from gan.model import Generator
from gan.sampler import Sampler


@pytest.fixture()
def exported(tmp_path):
    torch.manual_seed(1)
    config = tiny_config(metadata={"fingerprint": "f00d"})
    generator = Generator(config)
    generator.set_channel_scaler(torch.tensor([0.1, -0.2]), torch.tensor([1.5, 0.5]))
    model_dir = export_model(generator, config, tmp_path / "model", metrics={"score": 1.5, "bad": float("nan")})
    return generator, config, model_dir


def test_round_trip_gives_identical_samples(exported, val_windows):
    generator, config, model_dir = exported
    ctx = val_windows.context[:3]
    before = Sampler(generator, config, device="cpu").sample_array(ctx, "volatile", 0.3, 5000, HORIZON, seed=4)
    after = Sampler.load(model_dir, device="cpu").sample_array(ctx, "volatile", 0.3, 5000, HORIZON, seed=4)
    assert before.tobytes() == after.tobytes()


def test_config_json_holds_config_metrics_and_versions(exported):
    _, config, model_dir = exported
    info = read_model_info(model_dir)
    assert info["config"] == config.to_dict()
    assert info["metrics"] == {"score": 1.5, "bad": None}
    assert "torch" in info["versions"] and len(info["weights"]["sha256"]) == 64


def test_only_json_and_safetensors_are_written(exported):
    *_, model_dir = exported
    assert sorted(p.name for p in model_dir.iterdir()) == ["config.json", "model.safetensors"]


def test_truncated_weights_are_refused_naming_the_file(exported):
    *_, model_dir = exported
    path = model_dir / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelLoadError, match=r"model.safetensors: checksum mismatch"):
        load_generator(model_dir)


def test_garbage_weights_without_checksum_are_refused(exported):
    *_, model_dir = exported
    info = json.loads((model_dir / "config.json").read_text())
    info["weights"]["sha256"] = None
    (model_dir / "config.json").write_text(json.dumps(info))
    (model_dir / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match=r"model.safetensors: not a readable safetensors file"):
        load_generator(model_dir)


def test_config_that_does_not_match_the_weights_is_refused(exported):
    *_, model_dir = exported
    info = json.loads((model_dir / "config.json").read_text())
    info["config"]["gen_width"] = 48
    (model_dir / "config.json").write_text(json.dumps(info))
    with pytest.raises(ModelLoadError, match=r"model.safetensors: tensor '.*' has shape .* but config.json implies"):
        load_generator(model_dir)


def test_invalid_config_value_is_refused_naming_config_json(exported):
    *_, model_dir = exported
    info = json.loads((model_dir / "config.json").read_text())
    info["config"]["n_critic"] = -1
    (model_dir / "config.json").write_text(json.dumps(info))
    with pytest.raises(ModelLoadError, match=r"config.json: n_critic must be a positive integer, got -1"):
        load_generator(model_dir)


def test_missing_and_unreadable_config_are_reported(exported, tmp_path):
    *_, model_dir = exported
    with pytest.raises(ModelLoadError, match="no such model directory"):
        load_generator(tmp_path / "nowhere")
    (model_dir / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match=r"config.json: not readable JSON"):
        load_generator(model_dir)
    (model_dir / "config.json").unlink()
    with pytest.raises(ModelLoadError, match=r"config.json: missing"):
        load_generator(model_dir)


def test_model_load_errors_are_one_line(exported):
    *_, model_dir = exported
    (model_dir / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError) as info:
        load_generator(model_dir)
    assert "\n" not in str(info.value) and "model.safetensors: missing" in str(info.value)


def test_loaded_generator_keeps_the_channel_scaler(exported):
    generator, _, model_dir = exported
    loaded, _ = load_generator(model_dir)
    assert torch.equal(loaded.channel_scale, generator.channel_scale)
    assert np.allclose(loaded.channel_loc.numpy(), [0.1, -0.2])
