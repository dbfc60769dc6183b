"""gan tests: make gan_helpers.py importable (any import mode) and share synthetic windows per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gan_helpers import CONTEXT_LEN, HORIZON, synthetic_windows  # noqa: E402


@pytest.fixture(scope="session")
def train_windows():
    return synthetic_windows(2048, CONTEXT_LEN, HORIZON, seed=0)


@pytest.fixture(scope="session")
def val_windows():
    return synthetic_windows(256, CONTEXT_LEN, HORIZON, seed=1)
