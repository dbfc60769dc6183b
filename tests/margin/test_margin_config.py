"""Portfolio and venue YAML: shipped files validate; mistakes fail in one line naming file, line and field."""

import textwrap

import numpy as np
import pytest

from margin import ConfigError, list_books, list_venues, load_portfolio, load_venue, simulate
from margin_helpers import paths_from_prices

GOOD = """\
name: desk
collateral: {USD: 1000000}
margin_model: tiered
venue: binance
positions:
  - {instrument: perp, asset: BTC, settlement: linear, quantity: 10}
  - {instrument: option, asset: BTC, type: put, strike: 0.8, expiry_hours: 168, quantity: -5}
"""


def _write(tmp_path, text, name="book.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _error(tmp_path, text, loader=load_portfolio):
    with pytest.raises(ConfigError) as info:
        loader(_write(tmp_path, text))
    return str(info.value)


@pytest.mark.parametrize("name", list_books())
def test_shipped_books_validate(name):
    assert load_portfolio(name).name == name


@pytest.mark.parametrize("name", list_venues())
def test_shipped_venues_validate_and_cite_sources(name):
    assert load_venue(name).sources


def test_shipped_books_hold_btc_only():
    assert {p.asset for b in list_books() for p in load_portfolio(b).positions} == {"BTC"}


def test_valid_book_loads(tmp_path):
    assert len(load_portfolio(_write(tmp_path, GOOD)).positions) == 2


def test_misspelt_field_names_file_line_and_field(tmp_path):
    msg = _error(tmp_path, GOOD.replace("quantity: 10}", "quantiy: 10}"))
    assert "book.yaml line 6: positions[0].quantiy: unknown field" in msg


def test_negative_strike_names_the_strike_field_and_its_line(tmp_path):
    msg = _error(tmp_path, GOOD.replace("strike: 0.8", "strike: -0.8"))
    assert "line 7: positions[1].strike: Input should be greater than 0" in msg


def test_unknown_instrument_names_the_instrument_field(tmp_path):
    msg = _error(tmp_path, GOOD.replace("instrument: perp", "instrument: swap"))
    assert "line 6: positions[0].instrument:" in msg and "'swap'" in msg


def test_missing_required_field_names_it(tmp_path):
    msg = _error(tmp_path, GOOD.replace("type: put, ", ""))
    assert "positions[1].type: required field is missing" in msg


def test_errors_are_one_line(tmp_path):
    msg = _error(tmp_path, GOOD.replace("quantity: 10}", "quantity: 0}").replace("strike: 0.8", "strike: x"))
    assert "\n" not in msg


def test_margin_model_missing_from_venue_names_margin_model_line(tmp_path):
    msg = _error(tmp_path, GOOD.replace("margin_model: tiered", "margin_model: span"))
    assert "line 3: margin_model: venue 'binance' does not define 'span'" in msg


def test_unknown_venue_lists_built_in_venues(tmp_path):
    msg = _error(tmp_path, GOOD.replace("venue: binance", "venue: kraken"))
    assert "unknown venue 'kraken'" in msg and "binance" in msg


def test_invalid_yaml_reports_the_line(tmp_path):
    msg = _error(tmp_path, GOOD.replace("collateral: {USD: 1000000}", "collateral: {USD: 1000000"))
    assert "invalid YAML" in msg and "line" in msg


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_portfolio(tmp_path / "nope.yaml")


def test_venue_tier_with_maintenance_above_initial_names_the_tier(tmp_path):
    venue = """\
    name: v
    margin:
      tiered:
        linear:
          - {notional_floor_usd: 0, initial_rate: 0.05, maintenance_rate: 0.10}
    """
    msg = _error(tmp_path, venue, loader=load_venue)
    assert "line 5: margin.tiered.linear[0]: maintenance_rate must not exceed initial_rate" in msg


def test_venue_without_any_margin_model_is_refused(tmp_path):
    msg = _error(tmp_path, "name: v\nmargin: {}\n", loader=load_venue)
    assert "define at least one margin model" in msg


def test_portfolio_venue_path_is_relative_to_the_portfolio_file(tmp_path):
    (tmp_path / "venues").mkdir()
    (tmp_path / "venues" / "mine.yaml").write_text(
        "name: mine\nmargin:\n  tiered:\n    linear: [{notional_floor_usd: 0, initial_rate: 0.1, maintenance_rate: 0.05}]\n")
    book = load_portfolio(_write(tmp_path, GOOD.replace("venue: binance", "venue: venues/mine.yaml")
                                 .replace("  - {instrument: option, asset: BTC, type: put, strike: 0.8, "
                                          "expiry_hours: 168, quantity: -5}\n", "")))
    assert book.load_venue().name == "mine"


def test_asset_missing_from_the_paths_is_named():
    paths = paths_from_prices(np.full((1, 3), 30000.0))
    book = load_portfolio("basis_trade").model_copy(update={"collateral": {"ETH": 10.0}})
    with pytest.raises(ValueError, match="collateral ETH uses asset 'ETH', but the paths carry only BTC"):
        simulate(book, paths)


def test_smile_that_could_go_negative_is_refused(tmp_path):
    msg = _error(tmp_path, GOOD + "market: {skew: -2.0, curvature: 0.5}\n")
    assert "market: curvature must exceed skew^2/4" in msg
