"""Properties of the margin models and the engine over generated inputs (hypothesis)."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from margin import load_portfolio, load_venue, margin_model_from_venue, simulate
from margin.book import compile_book
from margin.market import market_state
from margin.valuation import StepValuation
from margin_helpers import random_paths

REFERENCE = load_venue("reference")
BOOKS = ("mm_delta_hedged", "short_vol_seller", "coin_margined_inverse", "basis_trade")


def _valuation(book_name, seed, t):
    paths = random_paths(64, 6, seed=seed, vol=0.01)
    book = compile_book(load_portfolio(book_name), paths)
    return paths, StepValuation(book, market_state(paths, book.market), t)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(BOOKS), st.sampled_from(("risk_matrix", "span", "es")), st.integers(0, 1000),
       st.integers(0, 6), st.floats(0.05, 0.95))
def test_portfolio_margins_scale_with_the_open_share_of_the_book(book, name, seed, t, share):
    paths, val = _valuation(book, seed, t)
    model = margin_model_from_venue(REFERENCE, name)
    model.prepare(paths)
    full = model.requirement(val, np.ones(64)).initial
    part = model.requirement(val, np.full(64, share)).initial
    np.testing.assert_allclose(part, share * full, rtol=1e-9, atol=1e-6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(BOOKS), st.sampled_from(("tiered", "risk_matrix", "span", "es")), st.integers(0, 1000),
       st.integers(0, 6))
def test_maintenance_never_exceeds_initial_margin(book, name, seed, t):
    paths, val = _valuation(book, seed, t)
    model = margin_model_from_venue(REFERENCE, name)
    model.prepare(paths)
    req = model.requirement(val, np.ones(64))
    assert np.all(req.maintenance <= req.initial + 1e-9) and np.all(req.maintenance >= 0)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(BOOKS + ("leveraged_long_perp",)), st.integers(0, 1000), st.integers(1, 50))
def test_results_do_not_depend_on_the_chunk_size(book, seed, chunk):
    paths = random_paths(60, 8, seed=seed, vol=0.03)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = simulate(book, paths, venue="reference", margin_model="risk_matrix").to_frame()
        b = simulate(book, paths, venue="reference", margin_model="risk_matrix", chunk_paths=chunk).to_frame()
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 1000))
def test_account_never_loses_more_than_its_equity_after_bad_debt_cover(seed):
    paths = random_paths(200, 24, seed=seed, vol=0.04)
    res = simulate("leveraged_long_perp", paths)
    assert np.all(res.final_pnl_usd >= -res.initial_equity_usd - 1e-6)


def test_bad_debt_is_fully_accounted_for():
    res = simulate("leveraged_long_perp", random_paths(2000, 24, seed=1, vol=0.05))
    covered = res.insurance_paid_usd + res.adl_usd + res.uncovered_bad_debt_usd
    np.testing.assert_allclose(covered, res.bad_debt_usd)
