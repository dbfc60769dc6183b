"""The vectorised engine gives the same numbers as the plain per-path reference in benchmarks/."""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from margin import load_portfolio, simulate
from margin_helpers import random_paths

_SPEC = importlib.util.spec_from_file_location(
    "margin_reference", Path(__file__).resolve().parents[2] / "benchmarks" / "margin_reference.py")
reference = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(reference)

CASES = [("leveraged_long_perp", "tiered"), ("basis_trade", "tiered"), ("coin_margined_inverse", "tiered"),
         ("mm_delta_hedged", "tiered"), ("mm_delta_hedged", "risk_matrix"), ("short_vol_seller", "risk_matrix"),
         ("short_vol_seller", "span"), ("mm_delta_hedged", "es"), ("coin_margined_inverse", "risk_matrix")]


@pytest.mark.parametrize("book, model", CASES)
def test_engine_matches_the_per_path_reference(book, model):
    # Volatile paths so that calls, partial and whole liquidations and bad debt all occur. Scenario
    # revaluation is float32 in the engine and float64 in the reference: margins agree to ~1e-6
    # relative, so amounts that depend on them (partial-liquidation fractions) agree to about a dollar.
    paths = random_paths(24, 24, seed=7, vol=0.05)
    portfolio = load_portfolio(book)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine = simulate(portfolio, paths, model, venue="reference")
    ref = reference.reference_simulate(portfolio, paths, model, venue="reference")
    got = np.array([np.broadcast_to(getattr(engine, k), (paths.n_paths,)) for k in ref], float)
    np.testing.assert_allclose(got, np.array([ref[k] for k in ref], float), rtol=1e-5, atol=1.0)
