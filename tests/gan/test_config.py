import json

import pytest

from gan.config import GanConfig
from gan.errors import ConfigError


def test_dict_round_trip_keeps_every_value():
    config = GanConfig(n_channels=6, regimes=["a", "b"], channel_names=[f"x{i}" for i in range(6)],
                       tail_channels=[0, 2, 4], metadata={"fingerprint": "abc", "norm": {"vol": [1.0, 2.0]}})
    assert GanConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_yaml_file_with_negative_n_critic_names_file_and_key(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("n_critic: -1\n")
    with pytest.raises(ConfigError) as info:
        GanConfig.load(path)
    assert str(info.value) == "config.yaml: n_critic must be a positive integer, got -1"


def test_json_file_loads(tmp_path):
    path = tmp_path / "gan.json"
    GanConfig(horizon=12, seed=9).save(path)
    assert GanConfig.load(path) == GanConfig(horizon=12, seed=9)


def test_yaml_section_loads(tmp_path):
    path = tmp_path / "all.yaml"
    path.write_text("gan:\n  batch_size: 128\nmargin: {}\n")
    assert GanConfig.load(path, section="gan").batch_size == 128


def test_overrides_keep_keys_set_to_the_library_default_and_are_validated(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("condition_weight: 1.0\ntail_channels: [0, 1]\n")  # 1.0 is GanConfig's own default
    assert GanConfig.load_overrides(path) == {"condition_weight": 1.0, "tail_channels": [0, 1]}
    path.write_text("condition_weight: -2\n")
    with pytest.raises(ConfigError, match="train.yaml: condition_weight"):
        GanConfig.load_overrides(path)


@pytest.mark.parametrize("values, fragment", [
    ({"gp_lambda": -1.0}, "gp_lambda must be a non-negative number"),
    ({"lr_critic": 0}, "lr_critic must be a positive number"),
    ({"betas": [0.5]}, "betas must be two numbers"),
    ({"regime_beta": 1.5}, "regime_beta must be a number in [0, 1]"),
    ({"innovations": "cauchy"}, "innovations must be"),
    ({"regimes": ["calm", "calm"]}, "regimes must be a list of distinct names"),
    ({"tail_channels": [5]}, "tail_channels must be"),
    ({"channel_names": ["r"]}, "channel_names has 1 names for n_channels=2"),
    ({"batch_size": True}, "batch_size must be a positive integer"),
    ({"metadata": {"x": float("nan")}}, "metadata must hold JSON types only"),
    ({"wobble": 1}, "unknown key 'wobble'"),
])
def test_invalid_values_give_one_line_errors(values, fragment):
    with pytest.raises(ConfigError) as info:
        GanConfig.from_dict(values, source="cfg.yaml")
    message = str(info.value)
    assert message.startswith("cfg.yaml: ") and fragment in message and "\n" not in message


def test_unparsable_yaml_is_one_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("n_critic: [1,\n")
    with pytest.raises(ConfigError, match=r"^broken.yaml: not valid YAML") as info:
        GanConfig.load(path)
    assert "\n" not in str(info.value)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: cannot read config file"):
        GanConfig.load(tmp_path / "nope.yaml")


def test_regime_lookup_by_name_and_index():
    config = GanConfig()
    assert config.regime_index("flash_crash") == 2 and config.regime_index(3) == 3
    with pytest.raises(ConfigError, match="unknown regime 'panic'"):
        config.regime_index("panic")


def test_config_written_before_covariates_existed_loads_without_covariates():
    old = {k: v for k, v in GanConfig().to_dict().items() if k not in ("n_covariates", "covariate_names")}
    config = GanConfig.from_dict(old)
    assert config.n_covariates == 0 and config.covariate_labels == []


def test_covariate_labels_default_to_x_i():
    assert GanConfig(n_covariates=2).covariate_labels == ["x0", "x1"]
    assert GanConfig(n_covariates=1, covariate_names=["log_vol"]).covariate_labels == ["log_vol"]


@pytest.mark.parametrize("values, fragment", [
    ({"n_covariates": -1}, "n_covariates must be a non-negative integer, got -1"),
    ({"n_covariates": 1.5}, "n_covariates must be a non-negative integer"),
    ({"n_covariates": 1, "covariate_names": ["a", "b"]}, "covariate_names has 2 names for n_covariates=1"),
    ({"covariate_names": "log_vol"}, "covariate_names must be a list of names"),
])
def test_invalid_covariate_settings_give_one_line_errors(values, fragment):
    with pytest.raises(ConfigError) as info:
        GanConfig.from_dict(values, source="cfg.yaml")
    assert str(info.value).startswith("cfg.yaml: ") and fragment in str(info.value) and "\n" not in str(info.value)
