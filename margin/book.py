"""A portfolio compiled against a set of paths: one array per position attribute, entry marks, collateral.

The engine and the margin models work on these arrays (positions vectorised, paths innermost) rather than
on the pydantic position objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from margin.crypto_calendar import hours_to_years
from margin.black76 import black76_price
from margin.instruments import FuturePosition, OptionPosition, PerpPosition, SpotPosition, resolve_strike
from margin.market import MarketModel
from margin.paths import MarketPaths
from margin.portfolio import Portfolio
from margin.smile import smile_vol

SPOT, PERP, FUTURE, OPTION = 0, 1, 2, 3
KIND_NAMES = ("spot", "perp", "future", "option")


@dataclass(frozen=True)
class CompiledBook:
    """Positions as arrays of shape ``[P]`` plus the opening cash and coin balances.

    kind : int, one of SPOT, PERP, FUTURE, OPTION.
    asset : int, column in the paths.
    quantity : float64, units of the asset, signed.
    coin_settled : bool, flows in the asset coin (inverse perps/futures, coin-settled options).
    expiry_hours : float64, ``inf`` for spot and perps.
    strike : float64 USD (options; NaN otherwise). omega : +1 call, -1 put, 0 otherwise.
    entry : float64, USD per unit: the entry price for delta-one positions (S0, or F0 for futures) and the
        premium for options.
    start_spot : float64[A]. usd0 : opening USD balance. coin0 : float64[A] opening coin balances (collateral
        plus coin premiums). labels : human-readable position names.
    """

    kind: np.ndarray
    asset: np.ndarray
    quantity: np.ndarray
    coin_settled: np.ndarray
    expiry_hours: np.ndarray
    strike: np.ndarray
    omega: np.ndarray
    entry: np.ndarray
    start_spot: np.ndarray
    usd0: float
    coin0: np.ndarray
    labels: tuple[str, ...]
    assets: tuple[str, ...]
    market: MarketModel

    @property
    def n_positions(self) -> int:
        return int(self.kind.shape[0])

    @property
    def is_option(self) -> np.ndarray:
        return self.kind == OPTION

    def initial_equity_usd(self) -> float:
        """Equity at the start: collateral value (premium flows and option marks cancel)."""
        opt = self.is_option
        return float(self.usd0 + self.coin0 @ self.start_spot + np.sum(self.quantity[opt] * self.entry[opt]))


def compile_book(portfolio: Portfolio, paths: MarketPaths, market: MarketModel | None = None) -> CompiledBook:
    """Resolve strikes, forwards and opening marks of ``portfolio`` on ``paths``.

    Raises
    ------
    ValueError
        When a position or a collateral coin names an asset the paths do not carry.
    """
    market = market or portfolio.market
    s0 = np.asarray(paths.start_prices, np.float64)
    atm0 = market.start_atm_vol(paths)
    rows = []
    coin0 = np.zeros(paths.n_assets)
    usd0 = 0.0
    for cur, amount in portfolio.collateral.items():
        if cur == "USD":
            usd0 += amount
        else:
            coin0[_asset(paths, cur, f"collateral {cur}")] += amount
    for i, pos in enumerate(portfolio.positions):
        a = _asset(paths, pos.asset, f"position {i} ({pos.instrument})")
        q = pos.units(s0[a])
        label = f"{pos.instrument}:{pos.asset}:{i}"
        if isinstance(pos, SpotPosition):
            rows.append((SPOT, a, q, False, np.inf, np.nan, 0.0, s0[a], label))
        elif isinstance(pos, PerpPosition):
            rows.append((PERP, a, q, pos.settles_in_coin, np.inf, np.nan, 0.0, s0[a], label))
        elif isinstance(pos, FuturePosition):
            f0 = s0[a] * np.exp(market.basis_annual * hours_to_years(pos.expiry_hours))
            rows.append((FUTURE, a, q, pos.settles_in_coin, pos.expiry_hours, np.nan, 0.0, f0, label))
        elif isinstance(pos, OptionPosition):
            k = resolve_strike(pos.strike, s0[a])
            tau = hours_to_years(pos.expiry_hours)
            f0 = s0[a] * np.exp(market.basis_annual * tau)
            iv = smile_vol(np.log(k / f0), atm0[a], market.skew, market.curvature, market.vol_floor,
                           market.vol_cap)
            premium = float(black76_price(f0, k, iv, tau, pos.is_call, market.rate_annual))
            if pos.settles_in_coin:
                coin0[a] -= q * premium / s0[a]
            else:
                usd0 -= q * premium
            rows.append((OPTION, a, q, pos.settles_in_coin, pos.expiry_hours, k,
                         1.0 if pos.is_call else -1.0, premium, label))
        else:  # pragma: no cover - the schema admits only the four kinds
            raise TypeError(f"unsupported position {pos!r}")
    rows = _size_hedges(portfolio, rows, s0, atm0, market)
    cols = list(zip(*rows))
    return CompiledBook(
        kind=np.array(cols[0], np.int64), asset=np.array(cols[1], np.int64),
        quantity=np.array(cols[2], np.float64), coin_settled=np.array(cols[3], bool),
        expiry_hours=np.array(cols[4], np.float64), strike=np.array(cols[5], np.float64),
        omega=np.array(cols[6], np.float64), entry=np.array(cols[7], np.float64),
        start_spot=s0, usd0=usd0, coin0=coin0, labels=tuple(cols[8]), assets=tuple(paths.assets),
        market=market,
    )


def _size_hedges(portfolio: Portfolio, rows: list[tuple], s0: np.ndarray, atm0: np.ndarray,
                 market: MarketModel) -> list[tuple]:
    """Replace the NaN quantity of ``delta_hedge`` lines by the size that zeroes the asset's start delta."""
    hedges = [i for i, r in enumerate(rows) if np.isnan(r[2])]
    seen: set[int] = set()
    for i in hedges:
        kind, a, _, coin, expiry, _, _, entry, label = rows[i]
        if a in seen:
            raise ValueError(f"position {i}: only one delta_hedge per asset ({portfolio.positions[i].asset})")
        seen.add(a)
        delta = 0.0
        for j, r in enumerate(rows):
            if j in hedges or r[1] != a:
                continue
            if r[0] == OPTION:
                delta += r[2] * smile_delta(s0[a], r[5], r[6] > 0, hours_to_years(r[4]), atm0[a], market)
            else:
                delta += r[2] * (entry_factor(r, market))
        hedge_g = entry / s0[a]
        rows[i] = (kind, a, -delta / hedge_g, coin, expiry, np.nan, 0.0, entry, label)
    return rows


def smile_delta(spot: float, strike: float, is_call: bool, tau_years: float, atm_vol: float,
                market: MarketModel) -> float:
    """dV/dS of an option under the market model, smile included (sticky moneyness), by central difference.

    With a skewed smile this differs from the fixed-vol Black-76 delta: when spot moves, a fixed strike's
    log-moneyness moves along the smile. This is the delta a ``delta_hedge`` line neutralises.
    """
    def value(s: float) -> float:
        fwd = s * np.exp(market.basis_annual * tau_years)
        iv = smile_vol(np.log(strike / fwd), atm_vol, market.skew, market.curvature, market.vol_floor,
                       market.vol_cap)
        return float(black76_price(fwd, strike, iv, tau_years, is_call, market.rate_annual))

    h = 1e-4 * spot
    return (value(spot + h) - value(spot - h)) / (2 * h)


def entry_factor(row: tuple, market: MarketModel) -> float:
    """Spot delta per unit of a delta-one row at the start: ``F0 / S0`` (1 for spot and perps)."""
    return float(np.exp(market.basis_annual * hours_to_years(row[4]))) if row[0] == FUTURE else 1.0


def _asset(paths: MarketPaths, code: str, what: str) -> int:
    try:
        return paths.asset_index(code)
    except ValueError:
        raise ValueError(f"{what} uses asset {code!r}, but the paths carry only "
                         f"{', '.join(paths.assets)}; use one of those or other paths") from None
