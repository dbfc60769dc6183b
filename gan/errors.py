"""Exceptions of the gan library: each carries a one-line message a CLI can print as ``error: {exc}``."""

from __future__ import annotations


class ConfigError(ValueError):
    """A GanConfig value or file is invalid, e.g. ``config.yaml: n_critic must be a positive integer, got -1``."""


class WindowError(ValueError):
    """A WindowSet has the wrong shape, dtype, NaN values or labels."""


class ModelLoadError(RuntimeError):
    """An exported model directory is missing, corrupt or does not match its config (message names the file)."""


class TrainingDivergedError(RuntimeError):
    """Training produced a non-finite or exploding loss; the message names the step and the last good checkpoint."""


class SamplingError(ValueError):
    """Arguments of ``Sampler.sample`` do not fit the model (context shape, regime, severity, n, ...)."""
