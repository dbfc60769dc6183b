"""stressgan.gan: a conditional time-series GAN library (windows -> generator/critic -> Lightning -> sampler).

Knows nothing about markets, packs or margin: it learns ``target[H, C]`` given ``context[L, C]``,
a regime class, a severity in [0, 1] and optional static covariates ``[F]`` per window
(``GanConfig.n_covariates``). ``scenarios`` decides what the channels and covariates mean.

Reading order: ``config`` (GanConfig), ``windows`` (WindowSet, rare-regime sampler), ``model`` (networks),
``losses``, ``module`` (LightningModule), ``train`` (fit), ``checkpoint`` (export/load), ``sampler``.
``fit``/``GanModule`` import Lightning on first use, so sampling a shipped model does not.
"""

from gan.checkpoint import export_model, load_generator
from gan.config import GanConfig
from gan.errors import ConfigError, ModelLoadError, SamplingError, TrainingDivergedError, WindowError
from gan.model import Critic, Generator
from gan.sampler import Sampler
from gan.windows import WindowSet

__all__ = [
    "ConfigError", "Critic", "GanConfig", "GanModule", "Generator", "ModelLoadError", "Sampler",
    "SamplingError", "TrainResult", "TrainingDivergedError", "WindowError", "WindowSet", "export_model", "fit",
    "load_generator",
]


def __getattr__(name: str):
    if name in ("fit", "TrainResult"):
        from gan import train

        return getattr(train, name)
    if name == "GanModule":
        from gan.module import GanModule

        return GanModule
    raise AttributeError(f"module 'gan' has no attribute {name!r}")
