"""stressgan.margin: a margin-engine simulator for crypto-derivatives portfolios along scenario paths.

Takes plain arrays (see :class:`margin.paths.MarketPaths`); never imports ``scenarios`` or ``gan``.

Quick start::

    from margin import MarketPaths, load_portfolio, simulate, summarize
    results = simulate(load_portfolio("leveraged_long_perp"), paths)
    summary = summarize(results)            # plain dict for summary.json
    results.to_frame().to_parquet("paths.parquet")
"""

from margin.backtest import (backtest_margin, christoffersen_conditional_coverage, christoffersen_independence,
                             kupiec_pof)
from margin.black76 import black76_greeks, black76_price
from margin.engine import simulate
from margin.market import MarketModel
from margin.models import (ExpectedShortfallMargin, MarginModel, Requirement, RiskMatrixMargin, SpanMargin,
                           TieredMargin, margin_model_from_venue)
from margin.option_kernel import set_kernel_threads
from margin.paths import MarketPaths
from margin.portfolio import Portfolio, list_books, load_portfolio
from margin.results import PathResults
from margin.risk import LEVELS, var_es
from margin.summary import summarize
from margin.venue import Venue, list_venues, load_venue
from margin.yaml_source import ConfigError

__all__ = [
    "MarketPaths", "Portfolio", "Venue", "MarketModel", "PathResults", "ConfigError",
    "load_portfolio", "list_books", "load_venue", "list_venues", "simulate", "summarize",
    "MarginModel", "Requirement", "TieredMargin", "RiskMatrixMargin", "SpanMargin", "ExpectedShortfallMargin",
    "margin_model_from_venue", "black76_price", "black76_greeks", "var_es", "LEVELS",
    "kupiec_pof", "christoffersen_independence", "christoffersen_conditional_coverage", "backtest_margin",
    "set_kernel_threads",
]
