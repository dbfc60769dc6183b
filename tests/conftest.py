"""Shared fixtures: the bundled real data, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.features import compute_features
from scenarios.market import load_market
from scenarios.windows import cut_windows

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def hourly():
    return load_market()


@pytest.fixture(scope="session")
def hourly_features(hourly):
    return compute_features(hourly)


@pytest.fixture(scope="session")
def hourly_windows(hourly_features):
    return cut_windows(hourly_features, context_len=48, horizon=24)


@pytest.fixture(scope="session")
def daily():
    return load_market("daily")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The original files in ../shared/data (present beside the checkout in CI and in development)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not present: these tests compare the bundled copy with the originals")
    return SHARED_DATA
