"""Shared fixtures of the gan tests: a tiny config and synthetic windows (see synthetic.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gan.config import GanConfig  # noqa: E402
from synthetic import synthetic_windows  # noqa: E402

CONTEXT_LEN, HORIZON = 16, 8


def tiny_config(**overrides) -> GanConfig:
    """Small networks and a high learning rate: trains in seconds on 2 CPU cores."""
    values = dict(n_channels=2, context_len=CONTEXT_LEN, horizon=HORIZON, noise_dim=8, gen_width=32,
                  cond_width=32, ctx_width=8, ctx_dim=16, regime_dim=4, critic_width=32, batch_size=64, n_critic=2,
                  lr_generator=1e-3, lr_critic=1e-3, tail_min_count=8, max_epochs=2, seed=3)
    values.update(overrides)
    return GanConfig(**values)


@pytest.fixture(scope="session")
def train_windows():
    return synthetic_windows(2048, CONTEXT_LEN, HORIZON, seed=0)


@pytest.fixture(scope="session")
def val_windows():
    return synthetic_windows(256, CONTEXT_LEN, HORIZON, seed=1)
