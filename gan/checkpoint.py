"""Exported models: ``model.safetensors`` (generator weights) + ``config.json`` (config, metrics, versions).

Loading never unpickles: weights come from safetensors, everything else from JSON. ``config.json`` records the
SHA-256 of the weights file, so a truncated or altered file is refused with a one-line ``ModelLoadError``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import tempfile
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gan.config import GanConfig
from gan.errors import ConfigError, ModelLoadError
from gan.model import Generator

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FORMAT = "stressgan.gan.model"
FORMAT_VERSION = 1


def export_model(module_or_generator: torch.nn.Module, config: GanConfig, out_dir: str | Path,
                 metrics: dict[str, Any] | None = None) -> Path:
    """Write the generator's weights and config to ``out_dir`` (created; files replaced atomically).

    Parameters
    ----------
    module_or_generator : GanModule or Generator
        The module's ``generator`` is exported; the critic is not needed to sample.
    config : GanConfig
        Stored as ``config.json["config"]``.
    out_dir : path
        Target directory, e.g. ``run/model``.
    metrics : dict, optional
        JSON-able training/selection metrics (non-finite floats are stored as null).

    Returns
    -------
    Path of the model directory.
    """
    generator = getattr(module_or_generator, "generator", module_or_generator)
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a GanModule or Generator, got {type(module_or_generator).__name__}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in generator.state_dict().items()}
    buffers = {name for name, _ in generator.named_buffers()}  # channel (and covariate) scalers

    weights_tmp = _temp_path(out_dir, WEIGHTS_FILE)
    save_file(state, str(weights_tmp), metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION)})
    digest = _sha256(weights_tmp)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config.to_dict(),
        "metrics": _plain(metrics or {}),
        "versions": _versions(),
        "weights": {"file": WEIGHTS_FILE, "sha256": digest,
                    "n_parameters": int(sum(v.numel() for k, v in state.items() if k not in buffers))},
    }
    config_tmp = _temp_path(out_dir, CONFIG_FILE)
    config_tmp.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    os.replace(weights_tmp, out_dir / WEIGHTS_FILE)
    os.replace(config_tmp, out_dir / CONFIG_FILE)  # last: a directory with a new config has its weights
    return out_dir


def read_model_info(model_dir: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a model directory (config, metrics, versions, weights digest)."""
    model_dir = Path(model_dir)
    path = model_dir / CONFIG_FILE
    if not model_dir.is_dir():
        raise ModelLoadError(f"{model_dir}: no such model directory")
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: missing (a model directory holds {CONFIG_FILE} and {WEIGHTS_FILE})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelLoadError(f"{path}: not a stressgan model config (format is not {FORMAT!r})")
    if document.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"{path}: format_version {document.get('format_version')!r} is not supported "
                             f"(this stressgan reads {FORMAT_VERSION})")
    for key in ("config", "weights"):
        if not isinstance(document.get(key), dict):
            raise ModelLoadError(f"{path}: the {key!r} entry is missing")
    return document


def load_generator(model_dir: str | Path, device: str | torch.device = "cpu") -> tuple[Generator, GanConfig]:
    """Rebuild the generator of an exported model (safetensors only, nothing is unpickled).

    Raises
    ------
    ModelLoadError
        One line naming the file and the problem: missing, unreadable, checksum mismatch, invalid config,
        missing/unexpected tensors or shape mismatch.
    """
    model_dir = Path(model_dir)
    document = read_model_info(model_dir)
    config_path = model_dir / CONFIG_FILE
    try:
        config = GanConfig.from_dict(document["config"], source=str(config_path))
    except ConfigError as exc:
        raise ModelLoadError(str(exc)) from None

    weights_path = model_dir / WEIGHTS_FILE
    if not weights_path.is_file():
        raise ModelLoadError(f"{weights_path}: missing")
    expected = document["weights"].get("sha256")
    if expected is not None and _sha256(weights_path) != expected:
        raise ModelLoadError(f"{weights_path}: checksum mismatch with {CONFIG_FILE} (file corrupt or replaced)")
    try:
        state = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"{weights_path}: not a readable safetensors file ({exc})") from None

    generator = Generator(config)
    wanted = generator.state_dict()
    missing = sorted(set(wanted) - set(state))
    unexpected = sorted(set(state) - set(wanted))
    if missing or unexpected:
        what = f"missing tensor {missing[0]!r}" if missing else f"unexpected tensor {unexpected[0]!r}"
        raise ModelLoadError(f"{weights_path}: {what}; the weights do not match {CONFIG_FILE}")
    for name, tensor in wanted.items():
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise ModelLoadError(f"{weights_path}: tensor {name!r} has shape {tuple(state[name].shape)} but "
                                 f"{CONFIG_FILE} implies {tuple(tensor.shape)}")
        if not torch.isfinite(state[name]).all():
            raise ModelLoadError(f"{weights_path}: tensor {name!r} holds NaN or inf values")
    generator.load_state_dict(state)
    return generator.to(device).eval(), config


# ---------------------------------------------------------------------- helpers
def _temp_path(directory: Path, name: str) -> Path:
    fd, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    return Path(path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _plain(value: Any) -> Any:
    """JSON-able copy: tensors/numpy scalars to floats, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("stressgan", "torch", "pytorch-lightning", "numpy", "safetensors"):
        try:
            versions[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions
