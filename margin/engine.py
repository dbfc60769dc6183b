"""The path engine: mark a portfolio to market along every path, apply margin, liquidate, book bad debt.

Notes
-----
Each step ``t = 1..H`` (step 0 is the start, where the book is opened at the model marks):

1. Positions expiring in the step settle (futures at ``S - F0``, options at intrinsic) into the USD or
   coin balance by their settlement currency.
2. Perp funding is charged at funding times (:mod:`margin.funding`); short spot pays its borrow fee.
3. Equity = USD balance + coin balances at spot + scale x sum of position marks. Margin equity applies the
   venue's collateral haircuts to positive coin balances.
4. A margin call happens when margin equity < maintenance margin (:mod:`margin.models`). The venue then
   liquidates at once (crypto-venue style, no grace period):

   * partial (``liquidation.partial: true``): close the same fraction ``f`` of every position, enough to
     restore initial margin: ``f = 1 - (E - c)/IM`` with ``c`` the liquidation cost estimated at the
     first guess ``1 - E/IM`` (margins are taken as proportional to the book); the whole book is closed
     when ``f >= 1``, equity is not positive, or the partial close would leave negative equity;
   * whole (``partial: false``): always close everything.

   Closing a USD delta-notional ``N`` of an asset in a step with volume ``V`` costs the square-root
   impact ``min(k sigma_step sqrt(N/V), cap) * N`` (:mod:`margin.impact`; ``sigma_step`` is the path's
   EWMA vol for one step, so crashes and droughts both raise it), options also lose ``option_spread`` of
   their mark, and the venue takes ``fee_rate`` of the closed notional into the insurance fund (never more
   than the equity left). After a whole-book liquidation remaining coin collateral is sold at spot.
5. Equity below zero after a whole liquidation is bad debt: the insurance fund pays what it can, the
   rest is auto-deleveraged (``adl: true``) or left uncovered, and the account is reset to zero.

Everything is vectorised over paths (positions in small loops), chunked over paths, and deterministic.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from margin.book import OPTION, PERP, SPOT, CompiledBook, compile_book
from margin.crypto_calendar import hours_to_years
from margin.funding import funding_events, funding_rate
from margin.impact import impact_slippage
from margin.market import MarketState, market_state
from margin.models import MarginModel, margin_model_from_venue
from margin.paths import MarketPaths
from margin.portfolio import Portfolio, load_portfolio
from margin.results import PathResults
from margin.valuation import StepValuation
from margin.venue import Venue, load_venue

DEFAULT_CHUNK_PATHS = 16384


def weighted_rows(weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``sum_i weights[i] * rows[i]`` accumulated row by row, so each path's result does not depend on how
    many paths are in the chunk (a BLAS matrix-vector product may block, and round, differently)."""
    out = np.zeros(rows.shape[1:])
    for w, r in zip(weights, rows):
        out += w * r
    return out


def simulate(
    portfolio: Portfolio | str | Path,
    paths: MarketPaths,
    margin_model: MarginModel | str | None = None,
    *,
    venue: Venue | str | Path | None = None,
    chunk_paths: int = DEFAULT_CHUNK_PATHS,
    record_equity: bool = False,
    fast_marks: bool = False,
) -> PathResults:
    """Run ``portfolio`` through every path of ``paths``.

    Parameters
    ----------
    portfolio : Portfolio, or a shipped book name / YAML path
    paths : MarketPaths
        Returns and liquidity ``[n_paths, horizon_steps, n_assets]`` and their description.
    margin_model : MarginModel, model name, or None
        None = the portfolio's ``margin_model``; a name picks that section of the venue.
    venue : Venue, venue name / path, or None (the portfolio's venue)
    chunk_paths : int
        Paths simulated at once; memory grows ~ 1 KB x positions x chunk_paths. Results do not depend on it.
    record_equity : bool
        Keep the equity after every step (float32[n_paths, H+1]).
    fast_marks : bool
        Mark options in float32 instead of float64: ~25% faster for option books; marks then carry an
        absolute error of order 1e-7 x strike per unit (about a dollar on a $30M option book). Scenario
        revaluation for margins is always float32.

    Returns
    -------
    PathResults
    """
    if not isinstance(portfolio, Portfolio):
        portfolio = load_portfolio(portfolio)
    if venue is None:
        venue = portfolio.load_venue()
    elif not isinstance(venue, Venue):
        venue = load_venue(venue)
    if margin_model is None:
        margin_model = portfolio.margin_model
    model = margin_model if isinstance(margin_model, MarginModel) else margin_model_from_venue(venue, margin_model)
    if chunk_paths < 1:
        raise ValueError("chunk_paths must be at least 1")
    if paths.horizon_steps < 1:
        raise ValueError("paths need at least one step")
    book = compile_book(portfolio, paths)
    model.prepare(paths)
    parts = []
    for start in range(0, paths.n_paths, chunk_paths):
        chunk = paths.slice(start, min(paths.n_paths, start + chunk_paths))
        parts.append(_run_chunk(book, chunk, model, venue, portfolio.name, record_equity,
                                torch.float32 if fast_marks else torch.float64))
    result = PathResults.concat(parts)
    if result.initial_equity_usd < result.initial_margin_usd:
        warnings.warn(f"portfolio {portfolio.name!r} starts below initial margin under {model.name} "
                      f"(equity ${result.initial_equity_usd:,.0f} < IM ${result.initial_margin_usd:,.0f}); "
                      "add collateral or reduce positions if that is not intended", stacklevel=2)
    return result


class _Account:
    """Balances of one chunk: USD [n], coin [A, n], open share of the book [n], insurance fund [n]."""

    def __init__(self, book: CompiledBook, n: int, venue: Venue) -> None:
        self.usd = np.full(n, book.usd0)
        self.coin = np.repeat(book.coin0[:, None], n, axis=1)
        self.scale = np.ones(n)
        self.insurance = np.full(n, venue.insurance_fund_usd)
        self.haircut = np.array([[venue.collateral_haircuts.get(a, 0.0)] for a in book.assets])

    def credit(self, book: CompiledBook, i: int, amount_usd: np.ndarray, spot: np.ndarray,
               idx: np.ndarray | slice = slice(None)) -> None:
        """Add a USD amount from position ``i`` (on paths ``idx``) to its settlement currency's balance;
        coin-settled amounts are converted at the step's spot ``spot`` [A, n]."""
        if book.coin_settled[i]:
            a = book.asset[i]
            self.coin[a, idx] += amount_usd / spot[a, idx]
        else:
            self.usd[idx] += amount_usd

    def equity(self, val: StepValuation, idx=slice(None)) -> np.ndarray:
        """Market equity in USD (no haircuts)."""
        pos = weighted_rows(val.book.quantity, val.unit_values[:, idx])
        return self.usd[idx] + np.sum(self.coin[:, idx] * val.spot[:, idx], axis=0) + self.scale[idx] * pos

    def margin_equity(self, val: StepValuation, equity: np.ndarray) -> np.ndarray:
        """Equity with the venue's haircuts on positive coin balances."""
        return equity - np.sum(self.haircut * np.maximum(self.coin, 0.0) * val.spot, axis=0)


def _charge_carry(acct: _Account, book: CompiledBook, val: StepValuation, venue: Venue, t: int,
                  step_hours: float) -> None:
    """Funding on perps at funding times and borrow fees on spot, for step ``t``."""
    fund = venue.funding
    events = funding_events(t, step_hours, fund.interval_hours)
    lookback = max(1, int(round(fund.interval_hours / step_hours)))
    lr = val.market.log_spot_rel
    for i in np.flatnonzero(val.alive):
        a = book.asset[i]
        q = book.quantity[i] * acct.scale
        if book.kind[i] == PERP and events:
            trailing = lr[a, t] - lr[a, max(0, t - lookback)]
            rate = funding_rate(trailing, book.market.funding_premium_per_return, fund.interest_per_interval,
                                fund.interest_clamp, fund.cap)
            price = book.entry[i] if book.coin_settled[i] else val.spot[a]
            acct.credit(book, i, -events * rate * q * price, val.spot)
        elif book.kind[i] == SPOT:
            rate = venue.borrow.short_spot_annual if book.quantity[i] < 0 else venue.borrow.long_spot_annual
            if rate:
                acct.usd -= np.abs(q) * val.spot[a] * rate * hours_to_years(step_hours)


def _liquidate(acct: _Account, book: CompiledBook, val: StepValuation, ms: MarketState, venue: Venue,
               idx: np.ndarray, margin_eq: np.ndarray, market_eq: np.ndarray, initial: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Close part or all of the book on paths ``idx``; return (fraction closed, cost incl. fee)."""
    liq = venue.liquidation
    t = val.t
    alive = np.flatnonzero(val.alive)
    sc = acct.scale[idx]
    spot = val.spot[:, idx]
    q_abs = np.abs(book.quantity[alive])[:, None] * sc                       # [P_alive, m]
    gross = q_abs * np.abs(val.unit_deltas[alive][:, idx]) * spot[book.asset[alive]]   # delta notional
    premium = np.where(book.kind[alive] == OPTION, 1.0, 0.0)[:, None] * q_abs * np.abs(val.unit_values[alive][:, idx])
    n_assets = spot.shape[0]
    gross_a = np.zeros((n_assets, idx.size))
    np.add.at(gross_a, book.asset[alive], gross)
    volume = ms.volume_usd[:, t, idx]
    sigma = ms.sigma_step(t)[:, idx]

    def costs(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        slip = impact_slippage(f * gross_a, volume, sigma, liq.impact_k, liq.impact_cap)     # [A, m]
        per_pos = f * (slip[book.asset[alive]] * gross + liq.option_spread * premium)       # [P_alive, m]
        return per_pos, liq.fee_rate * f * gross_a.sum(axis=0)

    f = np.ones(idx.size)
    if liq.partial:
        with np.errstate(divide="ignore", invalid="ignore"):
            f0 = np.clip(1.0 - margin_eq / initial, 0.0, 1.0)
            c0, fee0 = costs(f0)
            f = np.clip(1.0 - (margin_eq - c0.sum(axis=0) - fee0) / initial, 0.0, 1.0)
        full = (margin_eq <= 0) | ~(initial > 0) | ~np.isfinite(f) | (f >= 1.0 - 1e-12)
        f = np.where(full, 1.0, f)
        c1, _ = costs(f)
        f = np.where(market_eq - c1.sum(axis=0) < 0, 1.0, f)        # a partial close must not leave E < 0
    per_pos, fee = costs(f)
    cost = per_pos.sum(axis=0)
    fee = np.minimum(fee, np.maximum(market_eq - cost, 0.0))
    for j, i in enumerate(alive):
        realised = f * sc * book.quantity[i] * val.unit_values[i, idx] - per_pos[j]
        acct.credit(book, i, realised, val.spot, idx)
    acct.usd[idx] -= fee
    acct.insurance[idx] += fee
    acct.scale[idx] = sc * (1.0 - f)
    whole = idx[f >= 1.0]
    if whole.size:
        acct.scale[whole] = 0.0
        acct.usd[whole] += np.sum(acct.coin[:, whole] * val.spot[:, whole], axis=0)
        acct.coin[:, whole] = 0.0
    return f, cost + fee


def _run_chunk(book: CompiledBook, paths: MarketPaths, model: MarginModel, venue: Venue, name: str,
               record_equity: bool, mark_dtype: torch.dtype) -> PathResults:
    ms = market_state(paths, book.market)
    n, horizon, step_hours = paths.n_paths, paths.horizon_steps, paths.step_hours
    acct = _Account(book, n, venue)
    mpor = min(max(1, int(round(venue.mpor_hours / step_hours))), horizon)
    calls = np.zeros(n, np.int32)
    liq_step = np.full(n, -1, np.int32)
    liq_cost, bad, ins_paid, adl, uncovered = (np.zeros(n) for _ in range(5))

    val = StepValuation(book, ms, 0, mark_dtype)
    eq0 = acct.equity(val)
    req0 = model.requirement(val, acct.scale)
    u0 = val.unit_values.copy()
    static_u = u0.copy()
    mpor_loss = np.zeros(n)
    low = eq0.copy()
    peak = eq0.copy()
    max_dd = np.zeros(n)
    eq_path = np.empty((n, horizon + 1), np.float32) if record_equity else None
    if eq_path is not None:
        eq_path[:, 0] = eq0
    equity = eq0
    for t in range(1, horizon + 1):
        val = StepValuation(book, ms, t, mark_dtype)
        if val.settling.any():
            settle = val.settlement_values()
            for i in np.flatnonzero(val.settling):
                acct.credit(book, i, acct.scale * book.quantity[i] * settle[i], val.spot)
                if t <= mpor:
                    static_u[i] = settle[i]
        if t <= mpor:
            static_u[val.alive] = val.unit_values[val.alive]
        _charge_carry(acct, book, val, venue, t, step_hours)
        equity = acct.equity(val)
        step_low = equity.copy()
        if val.alive.any() and acct.scale.any():
            req = model.requirement(val, acct.scale)
            margin_eq = acct.margin_equity(val, equity)
            call = (margin_eq < req.maintenance) & (acct.scale > 0)
            if call.any():
                idx = np.flatnonzero(call)
                calls[idx] += 1
                _, cost = _liquidate(acct, book, val, ms, venue, idx, margin_eq[idx], equity[idx],
                                     req.initial[idx])
                liq_cost[idx] += cost
                first = liq_step[idx] < 0
                liq_step[idx[first]] = t
                after = acct.equity(val, idx)
                step_low[idx] = np.minimum(step_low[idx], after)
                deficit = np.maximum(-after, 0.0)
                if deficit.any():
                    paid = np.minimum(acct.insurance[idx], deficit)
                    acct.insurance[idx] -= paid
                    ins_paid[idx] += paid
                    rest = deficit - paid
                    if venue.liquidation.adl:
                        adl[idx] += rest
                    else:
                        uncovered[idx] += rest
                    bad[idx] += deficit
                    acct.usd[idx] += deficit
                equity = acct.equity(val)
        if t == mpor:
            mpor_loss = -weighted_rows(book.quantity, static_u - u0)
        max_dd = np.maximum(max_dd, peak - step_low)
        low = np.minimum(low, step_low)
        peak = np.maximum(peak, equity)
        if eq_path is not None:
            eq_path[:, t] = equity
    return PathResults(
        final_pnl_usd=equity - eq0, worst_pnl_usd=low - eq0, min_equity_usd=low, max_drawdown_usd=max_dd,
        margin_calls=calls, liquidated=liq_step >= 0, liquidation_step=liq_step, liquidation_cost_usd=liq_cost,
        bad_debt_usd=bad, insurance_paid_usd=ins_paid, adl_usd=adl, uncovered_bad_debt_usd=uncovered,
        mpor_loss_usd=mpor_loss, initial_equity_usd=float(eq0[0]), initial_margin_usd=float(req0.initial[0]),
        maintenance_margin_usd=float(req0.maintenance[0]), step_hours=step_hours, horizon_steps=horizon,
        mpor_steps=mpor, portfolio=name, margin_model=model.name, venue=venue.name, equity_path_usd=eq_path,
    )
