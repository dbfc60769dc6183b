"""Black-76 prices and greeks against closed forms, parity and finite differences; the torch kernel against them."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from margin.black76 import black76_greeks, black76_price
from margin.option_kernel import OptionRows, SmileParams, option_scenario_pnl, option_values
from margin.smile import smile_vol

forwards = st.floats(1000, 100000)
moneyness = st.floats(0.5, 2.0)
vols = st.floats(0.1, 2.0)
taus = st.floats(1 / 365, 2.0)
rates = st.floats(0.0, 0.1)


def test_atm_call_equals_hand_closed_form():
    # F = K = 100, sigma = 0.2, T = 1, r = 0: d1 = 0.1, d2 = -0.1, C = 100 (N(0.1) - N(-0.1)) = 7.9656...
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    expected = 100 * (n(0.1) - n(-0.1))
    assert black76_price(100.0, 100.0, 0.2, 1.0, True) == pytest.approx(expected, rel=1e-12)


def test_black76_on_the_forward_equals_black_scholes_on_spot():
    s, k, v, t, r = 30000.0, 33000.0, 0.7, 0.25, 0.05
    d1 = (math.log(s / k) + (r + v * v / 2) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    bs = s * n(d1) - k * math.exp(-r * t) * n(d2)
    assert black76_price(s * math.exp(r * t), k, v, t, True, r) == pytest.approx(bs, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(forwards, moneyness, vols, taus, rates)
def test_put_call_parity_holds(f, m, v, t, r):
    k = f * m
    c = black76_price(f, k, v, t, True, r)
    p = black76_price(f, k, v, t, False, r)
    assert c - p == pytest.approx(math.exp(-r * t) * (f - k), abs=1e-8 * f)


def test_price_at_expiry_is_intrinsic():
    prices = black76_price([90.0, 110.0, 90.0, 110.0], 100.0, 0.5, 0.0, [True, True, False, False])
    np.testing.assert_array_equal(prices, [0.0, 10.0, 10.0, 0.0])


@pytest.mark.parametrize("is_call", [True, False])
@pytest.mark.parametrize("greek", ["delta", "gamma", "vega", "theta"])
def test_greeks_match_central_finite_differences(greek, is_call):
    f, k, v, t, r = 30000.0, 27000.0, 0.65, 30 / 365, 0.03
    g = getattr(black76_greeks(f, k, v, t, is_call, r), greek)
    price = lambda **kw: black76_price(kw.get("f", f), k, kw.get("v", v), kw.get("t", t), is_call, r)
    if greek == "delta":
        h = 1e-3 * f
        fd = (price(f=f + h) - price(f=f - h)) / (2 * h)
    elif greek == "gamma":
        h = 1e-2 * f
        fd = (price(f=f + h) - 2 * price() + price(f=f - h)) / (h * h)
    elif greek == "vega":
        fd = (price(v=v + 1e-5) - price(v=v - 1e-5)) / 2e-5
    else:
        fd = -(price(t=t + 1e-6) - price(t=t - 1e-6)) / 2e-6
    assert float(g) == pytest.approx(float(fd), rel=1e-4)


def _rows(s0, strikes, days, omega, basis=0.05, rate=0.0):
    tau = np.asarray(days, float) / 365.0
    g = np.exp(basis * tau)
    k = np.asarray(strikes, float)
    return OptionRows(np.log(s0 * g / k), np.sqrt(tau), np.asarray(omega, float), k, np.exp(-rate * tau), g), g, tau


SMILE = SmileParams(skew=-0.5, curvature=1.0, vol_floor=0.05, vol_cap=5.0)


def test_kernel_marks_equal_black76_with_the_smile():
    s0 = 30000.0
    rows, g, tau = _rows(s0, [24000, 30000, 36000], [7, 30, 1], [-1, 1, 1], rate=0.02)
    rng = np.random.default_rng(0)
    lr = rng.normal(0, 0.1, 500)
    atm = rng.uniform(0.3, 1.2, 500)
    values, _ = option_values(torch.tensor(lr), torch.tensor(atm), rows, SMILE)
    fwd = s0 * np.exp(lr)[None] * g[:, None]
    iv = smile_vol(np.log(rows.strike[:, None] / fwd), atm[None], -0.5, 1.0, 0.05, 5.0)
    expected = black76_price(fwd, rows.strike[:, None], iv, tau[:, None], rows.omega[:, None] > 0, 0.02)
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-8)


def test_kernel_deltas_equal_closed_form_delta_times_basis_factor():
    s0 = 30000.0
    rows, g, tau = _rows(s0, [27000, 33000], [10, 60], [-1, 1])
    flat = SmileParams(0.0, 0.0, 0.05, 5.0)
    _, deltas = option_values(torch.zeros(3, dtype=torch.float64), torch.full((3,), 0.8, dtype=torch.float64),
                              rows, flat)
    expected = black76_greeks(s0 * g, rows.strike, 0.8, tau, rows.omega > 0).delta * g
    np.testing.assert_allclose(deltas[:, 0], expected, rtol=1e-12)


def test_float32_scenario_pnl_matches_float64_repricing():
    s0 = 30000.0
    rows, g, tau = _rows(s0, [25000, 30000, 34000], [3, 14, 45], [-1, -1, 1])
    weights = np.array([-20.0, 5.0, 12.0])
    moves = np.log1p(np.linspace(-0.16, 0.16, 9))
    vol_mult = np.tile([0.7, 1.0, 1.4], (3, 3))
    rng = np.random.default_rng(1)
    lr, atm = rng.normal(0, 0.05, 300), rng.uniform(0.4, 1.0, 300)
    pnl = option_scenario_pnl(torch.tensor(lr, dtype=torch.float32), torch.tensor(atm, dtype=torch.float32),
                              rows, SMILE, weights, moves, vol_mult)
    fwd = s0 * np.exp(lr)[None, None] * g[:, None, None] * np.exp(moves)[None, :, None]
    iv = smile_vol(np.log(rows.strike[:, None, None] / fwd), atm * vol_mult[:, :, None], -0.5, 1.0, 0.05, 5.0)
    now_fwd = s0 * np.exp(lr)[None] * g[:, None]
    now_iv = smile_vol(np.log(rows.strike[:, None] / now_fwd), atm[None], -0.5, 1.0, 0.05, 5.0)
    now = black76_price(now_fwd, rows.strike[:, None], now_iv, tau[:, None], rows.omega[:, None] > 0)
    scen = black76_price(fwd, rows.strike[:, None, None], iv, tau[:, None, None], rows.omega[:, None, None] > 0)
    expected = np.einsum("p,psn->sn", weights, scen - now[:, None, :])
    np.testing.assert_allclose(pnl, expected, atol=1e-5 * np.abs(weights).sum() * s0)
