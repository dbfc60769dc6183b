"""Pure instrument maths: inverse P&L by hand, futures convergence, strikes, funding, impact, smile."""

import numpy as np
import pytest

from margin.funding import funding_events, funding_rate
from margin.impact import impact_slippage
from margin.instruments import futures_price, inverse_pnl_coin, linear_pnl, resolve_strike
from margin.smile import ewma_atm_variance, ewma_decay, smile_vol


def test_inverse_long_loses_quarter_coin_when_price_falls_from_50k_to_40k():
    # face = 1 x 50,000 USD; coins at entry 50,000/50,000 = 1.0, at 40,000: 50,000/40,000 = 1.25;
    # a long inverse position gains the difference 1.0 - 1.25 = -0.25 BTC.
    assert inverse_pnl_coin(1.0, 50000.0, 40000.0) == pytest.approx(-0.25)


def test_inverse_short_gains_in_coin_by_hand():
    # short 2 coin-equivalent at 20,000 (face 40,000 USD); at 16,000: -2 x 20,000 x (1/20,000 - 1/16,000)
    # = -40,000 x (-0.0000125) = +0.5 BTC
    assert inverse_pnl_coin(-2.0, 20000.0, 16000.0) == pytest.approx(0.5)


def test_inverse_pnl_at_current_price_equals_linear_pnl_in_usd():
    prices = np.array([10000.0, 25000.0, 60000.0])
    usd = inverse_pnl_coin(3.0, 30000.0, prices) * prices
    np.testing.assert_allclose(usd, linear_pnl(3.0, 30000.0, prices))


def test_futures_price_converges_to_spot_at_expiry():
    assert futures_price(30000.0, 0.08, 0.0) == pytest.approx(30000.0)


def test_futures_trade_at_carry_before_expiry():
    assert futures_price(30000.0, 0.08, 0.5) == pytest.approx(30000.0 * np.exp(0.04))


@pytest.mark.parametrize("strike, expected", [(0.8, 24000.0), (1.1, 33000.0), (25000.0, 25000.0)])
def test_strikes_below_five_are_moneyness_else_usd(strike, expected):
    assert resolve_strike(strike, 30000.0) == pytest.approx(expected)


def test_funding_equals_interest_when_premium_is_inside_the_clamp():
    assert funding_rate(0.0, 0.02, 0.0001, 0.0005, 0.0075) == pytest.approx(0.0001)


def test_funding_in_a_crash_is_floored_at_minus_cap():
    assert funding_rate(-0.6, 0.02, 0.0001, 0.0005, 0.0075) == pytest.approx(-0.0075)


def test_funding_follows_the_premium_beyond_the_interest_clamp():
    # premium 0.02 x 0.1 = 0.2%; clamp(0.01% - 0.2%, +/-0.05%) = -0.05%; rate 0.15%
    assert funding_rate(0.1, 0.02, 0.0001, 0.0005, 0.0075) == pytest.approx(0.0015)


def test_hourly_steps_pay_funding_at_hours_8_16_24():
    events = [t for t in range(1, 25) if funding_events(t, 1.0, 8.0)]
    assert events == [8, 16, 24]


def test_daily_steps_pay_three_fundings_each():
    assert funding_events(5, 24.0, 8.0) == 3


def test_square_root_impact_by_hand():
    # k=1, sigma=1%, N/V = 4 -> 1% x 2 = 2%
    assert impact_slippage(4e6, 1e6, 0.01, 1.0, 0.25) == pytest.approx(0.02)


def test_drought_raises_slippage():
    normal = impact_slippage(1e6, 1e7, 0.01, 1.0, 0.25)
    drought = impact_slippage(1e6, 1e7 * np.exp(-2.0), 0.01, 1.0, 0.25)
    assert drought == pytest.approx(normal * np.e)


def test_slippage_is_capped():
    assert impact_slippage(1e12, 1.0, 0.05, 1.0, 0.25) == pytest.approx(0.25)


def test_negative_skew_makes_otm_puts_richer_than_otm_calls():
    put_vol, call_vol = smile_vol([np.log(0.8), np.log(1.25)], 0.6, -0.5, 1.0, 0.05, 5.0)
    assert put_vol > call_vol


def test_ewma_atm_vol_rises_after_a_crash_step():
    returns = np.array([[[0.0], [-0.10], [0.0]]], np.float32)
    var = ewma_atm_variance(returns, np.array([0.36]), ewma_decay(24.0, 1.0), 1.0)
    assert np.sqrt(var[0, 2, 0]) > 1.5 * 0.6
