"""gan tests: make gan_helpers.py importable (any import mode) and share synthetic windows per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `pytest -n 2` on 2 cores: two workers x two torch threads oversubscribe the cores and OpenMP's spinning
    # threads then make small training steps tens of times slower. One intra-op thread per worker.
    torch.set_num_threads(1)

from gan_helpers import CONTEXT_LEN, HORIZON, synthetic_windows  # noqa: E402


@pytest.fixture(scope="session")
def train_windows():
    return synthetic_windows(2048, CONTEXT_LEN, HORIZON, seed=0)


@pytest.fixture(scope="session")
def val_windows():
    return synthetic_windows(256, CONTEXT_LEN, HORIZON, seed=1)
