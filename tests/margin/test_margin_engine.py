"""The path engine on hand-made paths with answers computed by hand."""

import warnings

import numpy as np
import pytest

from margin import load_portfolio, simulate
from margin.black76 import black76_price
from margin.book import compile_book
from margin.market import market_state
from margin.models import ExpectedShortfallMargin
from margin.smile import smile_vol
from margin.valuation import StepValuation
from margin.venue import EsConfig
from margin_helpers import paths_from_prices, portfolio, random_paths, simple_venue

S0 = 10000.0
LINEAR_DROP = S0 * (1 - 0.5 * np.arange(25) / 24)          # 10,000 -> 5,000 in 24 equal steps
TEN_X_LONG = [{"instrument": "perp", "asset": "BTC", "settlement": "linear", "quantity": 10.0}]
FIVE_PCT_SLIPPAGE = {"impact_k": 1000.0, "impact_cap": 0.05}   # any close costs exactly 5% of notional


def _ten_x(**venue):
    venue.setdefault("liquidation", FIVE_PCT_SLIPPAGE)
    return simulate(portfolio(TEN_X_LONG, {"USD": 10000.0}), paths_from_prices(LINEAR_DROP[None]),
                    venue=simple_venue(**venue), margin_model="tiered")


# Hand arithmetic for the 10x long perp (10 BTC at 10,000 on 10,000 USD; MM 5% of notional):
#   S_t = 10,000 (1 - t/48); equity E_t = 10,000 + 10 (S_t - 10,000); MM_t = 0.05 x 10 x S_t
#   t=2: S = 9,583.33, E = 5,833.33, MM = 4,791.67 -> no call
#   t=3: S = 9,375.00, E = 3,750.00, MM = 4,687.50 -> call, whole book closed at 9,375 with 5% slippage
#   cost = 0.05 x 10 x 9,375 = 4,687.50; equity after = 3,750 - 4,687.50 = -937.50 -> bad debt 937.50

def test_linear_drop_liquidates_10x_long_at_the_step_equity_crosses_maintenance():
    assert _ten_x().liquidation_step[0] == 3


def test_linear_drop_leaves_bad_debt_computed_by_hand():
    assert _ten_x().bad_debt_usd[0] == pytest.approx(937.5)


def test_account_loses_its_whole_collateral_when_bad_debt_is_left():
    assert _ten_x().final_pnl_usd[0] == pytest.approx(-10000.0)


def test_insurance_fund_pays_first_then_adl_takes_the_rest():
    # fund 500 of the 937.50: ADL covers 437.50
    res = _ten_x(insurance_fund_usd=500.0, liquidation={**FIVE_PCT_SLIPPAGE, "adl": True})
    assert res.adl_usd[0] == pytest.approx(437.5)


def test_flat_path_never_calls():
    flat = paths_from_prices(np.full((3, 49), 30000.0))
    res = simulate(load_portfolio("leveraged_long_perp"), flat)
    assert res.margin_calls.sum() == 0


def test_mpor_loss_of_a_long_perp_by_hand():
    # 10 BTC long, 30,000 -> 27,000 over the 24h MPOR: loss 30,000 (even though it was liquidated)
    prices = np.linspace(30000.0, 27000.0, 25)[None]
    res = simulate(portfolio(TEN_X_LONG, {"USD": 30000.0}), paths_from_prices(prices), venue=simple_venue(),
                   margin_model="tiered")
    assert res.mpor_loss_usd[0] == pytest.approx(30000.0)


def test_delta_hedged_option_book_pnl_stays_near_zero_for_small_moves():
    # One-minute step, moves of +/-0.01%. P&L relative to the unmoved path (which only carries theta) is
    # first order (delta x move) for the options alone and second order for the hedged book: gamma plus the
    # ATM vol's EWMA response to the squared move; both shrink with the move squared.
    book = load_portfolio("mm_delta_hedged")
    unhedged = book.model_copy(update={"positions": book.positions[:-1]})
    paths = paths_from_prices(30000.0 * np.array([[1, 1.0], [1, 1.0001], [1, 0.9999]]), step_hours=1 / 60)

    def move_pnl(b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pnl = simulate(b, paths, "span").final_pnl_usd
        return pnl[1:] - pnl[0]

    assert np.max(np.abs(move_pnl(book))) < 0.05 * np.min(np.abs(move_pnl(unhedged)))


def test_margin_models_rank_tiered_above_risk_matrix_above_span_above_es_for_a_hedged_option_book():
    # Tiered margins each position alone (no offsets); the risk matrix and SPAN scan the same +/-16%, but
    # the risk matrix adds extended moves and contingencies; ES over a calm history's 24h moves (~+/-4%)
    # is the smallest. Documented in margin/models/__init__ and the report.
    calm = np.random.default_rng(3).normal(0, 0.003, 9000)
    paths = paths_from_prices(np.full((1, 2), 30000.0), history=calm)
    book = load_portfolio("mm_delta_hedged")
    im = [simulate(book, paths, m, venue="reference").initial_margin_usd
          for m in ("tiered", "risk_matrix", "span", "es")]
    assert im[0] > im[1] > im[2] > im[3]


def test_naked_leveraged_perp_needs_more_under_the_risk_matrix_than_under_venue_tiers():
    paths = paths_from_prices(np.full((1, 2), 30000.0))
    book = load_portfolio("leveraged_long_perp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tiered = simulate(book, paths, "tiered", venue="reference").initial_margin_usd
        matrix = simulate(book, paths, "risk_matrix", venue="reference").initial_margin_usd
    assert matrix > tiered


def _crash_cost(liquidity):
    prices = np.array([[30000.0, 30000.0, 27000.0, 27000.0]])
    paths = paths_from_prices(prices, liquidity=liquidity, ref_volume_usd=2e6)
    res = simulate(portfolio([{"instrument": "perp", "asset": "BTC", "quantity": 20.0}], {"USD": 60000.0}),
                   paths, venue=simple_venue(), margin_model="tiered")
    return res.liquidation_cost_usd[0]


def test_liquidity_drought_raises_liquidation_cost():
    assert _crash_cost(-3.0) > _crash_cost(0.0)


def test_coin_collateral_loses_value_in_a_crash():
    # Same start value (300,000 USD or 10 BTC at 30,000), tiny perp; 30% crash: the coin account ends
    # 10 x (21,000 - 30,000) = 90,000 USD behind.
    prices = np.linspace(30000.0, 21000.0, 7)[None]
    small = [{"instrument": "perp", "asset": "BTC", "quantity": 1.0}]
    venue = simple_venue()
    usd = simulate(portfolio(small, {"USD": 300000.0}), paths_from_prices(prices), venue=venue, margin_model="tiered")
    coin = simulate(portfolio(small, {"BTC": 10.0}), paths_from_prices(prices), venue=venue, margin_model="tiered")
    assert coin.final_pnl_usd[0] - usd.final_pnl_usd[0] == pytest.approx(-90000.0)


def test_short_inverse_perp_on_coin_collateral_keeps_its_usd_value():
    # 10 BTC collateral and a short inverse perp of 10 BTC (face 300,000 USD) form a synthetic dollar.
    prices = np.linspace(30000.0, 15000.0, 13)[None]
    book = portfolio([{"instrument": "perp", "asset": "BTC", "settlement": "inverse", "quantity": -10.0}],
                     {"BTC": 10.0})
    res = simulate(book, paths_from_prices(prices), venue=simple_venue(
        margin={"tiered": {"linear": [{"notional_floor_usd": 0, "initial_rate": 0.1, "maintenance_rate": 0.05}]}}),
        margin_model="tiered")
    assert res.final_pnl_usd[0] == pytest.approx(0.0, abs=1e-6)


def test_short_put_expiring_inside_the_horizon_settles_at_intrinsic():
    # put struck at 0.9 x 30,000 = 27,000, 2h expiry; spot 25,000 at expiry -> pays 2,000 per BTC
    prices = np.array([[30000.0, 26000.0, 25000.0, 40000.0]])
    book = portfolio([{"instrument": "option", "asset": "BTC", "type": "put", "strike": 0.9, "expiry_hours": 2,
                       "quantity": -1.0}], {"USD": 1e6}, market={"atm_vol": 0.6, "funding_premium_per_return": 0})
    paths = paths_from_prices(prices)
    res = simulate(book, paths, venue="reference", margin_model="tiered")
    f0 = 30000.0 * np.exp(0.05 * 2 / 8760)
    premium = black76_price(f0, 27000.0, smile_vol(np.log(27000.0 / f0), 0.6, -0.5, 1.0, 0.05, 5.0),
                            2 / 8760, False)
    spot_at_expiry = paths.prices()[0, 2, 0]      # 25,000 up to the float32 rounding of the returns
    assert res.final_pnl_usd[0] == pytest.approx(premium - (27000.0 - spot_at_expiry), rel=1e-12)


def test_dated_future_settles_at_spot_at_expiry():
    prices = np.array([[30000.0, 29000.0, 25000.0, 40000.0]])
    book = portfolio([{"instrument": "future", "asset": "BTC", "expiry_hours": 2, "quantity": 2.0}], {"USD": 1e6})
    paths = paths_from_prices(prices)
    res = simulate(book, paths, venue=simple_venue(), margin_model="tiered")
    f0 = 30000.0 * np.exp(0.05 * 2 / 8760)
    assert res.final_pnl_usd[0] == pytest.approx(2 * (paths.prices()[0, 2, 0] - f0), rel=1e-12)


def test_longs_pay_premium_driven_funding_after_a_rally():
    # +1%/h for 8h; premium = 0.02 x ln(1.01^8) = 0.001592; rate = premium + clamp(0.0001 - premium, +/-0.0005)
    # = premium - 0.0005 = 0.001092, paid on 10 x S_8 at hour 8.
    prices = 30000.0 * 1.01 ** np.arange(9)[None]
    book = portfolio(TEN_X_LONG, {"USD": 1e6}, market={"funding_premium_per_return": 0.02})
    venue = simple_venue(funding={"interval_hours": 8, "interest_per_interval": 0.0001,
                                  "interest_clamp": 0.0005, "cap": 0.01})
    res = simulate(book, paths_from_prices(prices), venue=venue, margin_model="tiered")
    premium = 0.02 * 8 * np.log(1.01)
    rate = premium - 0.0005
    s8 = prices[0, -1]
    assert res.final_pnl_usd[0] == pytest.approx(10 * (s8 - 30000.0) - rate * 10 * s8)


def test_partial_liquidation_costs_less_than_closing_the_whole_book():
    prices = np.array([[10000.0, 9200.0, 9200.0]])
    paths = paths_from_prices(prices, ref_volume_usd=1e6)
    book = portfolio(TEN_X_LONG, {"USD": 10000.0})
    whole = simulate(book, paths, venue=simple_venue(), margin_model="tiered")
    partial = simulate(book, paths, venue=simple_venue(liquidation={"partial": True}), margin_model="tiered")
    assert partial.liquidation_cost_usd[0] < whole.liquidation_cost_usd[0]


def test_procyclical_es_margin_rises_along_a_crash_path():
    calm = np.random.default_rng(0).normal(0, 0.003, 9000)
    crash = 30000.0 * np.exp(-0.02 * np.arange(25))[None]
    paths = paths_from_prices(crash, history=calm)
    book = compile_book(portfolio(TEN_X_LONG, {"USD": 1e5}), paths)
    val = StepValuation(book, market_state(paths, book.market), 24)
    margins = []
    for procyclical in (False, True):
        model = ExpectedShortfallMargin(EsConfig(procyclical=procyclical), mpor_hours=24)
        model.prepare(paths)
        margins.append(model.requirement(val, np.ones(1)).initial[0])
    assert margins[1] > 1.5 * margins[0]


@pytest.mark.parametrize("book, model", [("leveraged_long_perp", "tiered"), ("mm_delta_hedged", "risk_matrix"),
                                         ("short_vol_seller", "span"), ("mm_delta_hedged", "es"),
                                         ("coin_margined_inverse", "risk_matrix")])
def test_chunked_results_equal_unchunked(book, model):
    paths = random_paths(300, 12, seed=5, vol=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = simulate(book, paths, model, venue="reference").to_frame()
        chunked = simulate(book, paths, model, venue="reference", chunk_paths=37).to_frame()
    np.testing.assert_array_equal(chunked.to_numpy(), whole.to_numpy())


def test_simulation_is_deterministic():
    paths = random_paths(200, 12, seed=9, vol=0.02)
    runs = [simulate("mm_delta_hedged", paths, "risk_matrix").to_frame() for _ in range(2)]
    np.testing.assert_array_equal(runs[0].to_numpy(), runs[1].to_numpy())


def test_book_starting_below_initial_margin_warns():
    # 8x long: the risk matrix's -16% scenario alone needs $1.28M against $1M of equity
    paths = paths_from_prices(np.full((1, 3), 30000.0))
    eight_x = portfolio([{"instrument": "perp", "asset": "BTC", "notional_usd": 8e6}], {"USD": 1e6})
    with pytest.warns(UserWarning, match="starts below initial margin"):
        simulate(eight_x, paths, "risk_matrix", venue="reference")


def test_results_frame_has_one_row_per_path_for_parquet():
    paths = random_paths(50, 6, seed=2)
    frame = simulate("basis_trade", paths).to_frame()
    assert frame.shape[0] == 50 and frame.attrs["margin_model"] == "tiered"


def test_short_spot_pays_the_borrow_rate():
    # short 10 BTC at a flat 30,000 for 24h at 10%/year: 10 x 30,000 x 0.10 x 24/8760 = 82.19 USD
    book = portfolio([{"instrument": "spot", "asset": "BTC", "quantity": -10.0}], {"USD": 1e6})
    venue = simple_venue(borrow={"short_spot_annual": 0.10, "long_spot_annual": 0.0})
    res = simulate(book, paths_from_prices(np.full((1, 25), 30000.0)), venue=venue, margin_model="tiered")
    assert res.final_pnl_usd[0] == pytest.approx(-10 * 30000.0 * 0.10 * 24 / 8760)


def test_coin_settled_premium_loses_value_with_the_crash():
    # Same short put, USD- or coin-settled: the coin-settled premium is held in BTC, so after a fall from
    # 30,000 to 24,000 the coin seller is behind by premium x (1 - 24,000/30,000) = premium x 0.2.
    prices = np.linspace(30000.0, 24000.0, 7)[None]
    paths = paths_from_prices(prices)
    put = {"instrument": "option", "asset": "BTC", "type": "put", "strike": 0.7, "expiry_hours": 720,
           "quantity": -10.0}
    pnl = {}
    for settlement in ("usd", "coin"):
        book = portfolio([{**put, "settlement": settlement}], {"USD": 1e6})
        pnl[settlement] = simulate(book, paths, venue="reference", margin_model="tiered").final_pnl_usd[0]
    premium = 10 * compile_book(portfolio([put], {"USD": 1e6}), paths).entry[0]
    spot_end = paths.prices()[0, -1, 0]
    assert pnl["coin"] - pnl["usd"] == pytest.approx(-premium * (1 - spot_end / 30000.0), rel=1e-9)
