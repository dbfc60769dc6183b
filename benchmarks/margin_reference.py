"""A plain per-path Python reference implementation of the margin engine (scalar ``math``, no numpy in the loop).

It follows the rules documented in ``margin/engine.py`` and the margin-model modules one path, one step,
one position and one scenario at a time, so it is easy to audit and slow. ``tests/margin`` checks that the
vectorised engine gives the same numbers on a small case; ``bench_margin.py`` reports the speed ratio.
It shares only the opening of the book with the engine (``margin.book.compile_book``: strikes, premiums,
hedge sizes) and the validated configuration objects. ES margin is supported with ``procyclical: false``.

Usage: ``reference_simulate(portfolio, paths, margin_model, venue) -> dict of per-path lists``.
"""

from __future__ import annotations

import math
from typing import Any

from margin.book import FUTURE, OPTION, PERP, SPOT, compile_book
from margin.crypto_calendar import HOURS_PER_YEAR

SQRT2 = math.sqrt(2.0)


def ncdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / SQRT2))


def smile(k: float, atm: float, m) -> float:
    return min(max(atm * (1.0 + m.skew * k + m.curvature * k * k), m.vol_floor), m.vol_cap)


def b76(f: float, k: float, vol: float, tau: float, omega: float, rate: float) -> tuple[float, float]:
    """Black-76 value and forward delta (per unit)."""
    disc = math.exp(-rate * tau)
    w = vol * math.sqrt(max(tau, 1e-8))
    d1 = math.log(f / k) / w + 0.5 * w
    d2 = d1 - w
    value = disc * omega * (f * ncdf(omega * d1) - k * ncdf(omega * d2))
    return value, disc * omega * ncdf(omega * d1)


class RefPosition:
    def __init__(self, book, i: int) -> None:
        self.kind = int(book.kind[i])
        self.asset = int(book.asset[i])
        self.q = float(book.quantity[i])
        self.coin = bool(book.coin_settled[i])
        self.expiry = float(book.expiry_hours[i])
        self.strike = float(book.strike[i])
        self.omega = float(book.omega[i])
        self.entry = float(book.entry[i])


def option_value(p: RefPosition, spot: float, atm: float, hours: float, m, move: float = 0.0,
                 vol_mult: float = 1.0, look_ahead: float = 0.0) -> float:
    tau = max(p.expiry - hours, 0.0) / HOURS_PER_YEAR
    g = math.exp(m.basis_annual * tau)
    tau_s = max(p.expiry - hours - look_ahead, 0.0) / HOURS_PER_YEAR
    tau_s = max(tau_s, 1e-8)
    f = spot * g * math.exp(move)
    vol = min(max(atm * vol_mult * (1.0 + m.skew * math.log(p.strike / f) + m.curvature * math.log(p.strike / f) ** 2),
                  m.vol_floor), m.vol_cap)
    disc = math.exp(-m.rate_annual * tau_s)
    w = vol * math.sqrt(tau_s)
    x = math.log(f / p.strike)
    d1 = x / w + 0.5 * w
    return disc * p.omega * (f * ncdf(p.omega * d1) - p.strike * ncdf(p.omega * (d1 - w)))


def tier_margin(rows, notional: float) -> tuple[float, float]:
    cum, prev_mm, j = 0.0, 0.0, 0
    cums = []
    for r in rows:
        cum += r.notional_floor_usd * (r.maintenance_rate - prev_mm)
        prev_mm = r.maintenance_rate
        cums.append(cum)
    for i, r in enumerate(rows):
        if notional >= r.notional_floor_usd:
            j = i
    return notional * rows[j].initial_rate, notional * rows[j].maintenance_rate - cums[j]


class RefEngine:
    def __init__(self, portfolio, paths, model_name: str, venue) -> None:
        self.book = compile_book(portfolio, paths)
        self.m = portfolio.market
        self.venue = venue
        self.name = model_name
        self.cfg = getattr(venue.margin, model_name)
        self.pos = [RefPosition(self.book, i) for i in range(self.book.n_positions)]
        self.paths = paths
        self.h = paths.step_hours
        self.n_assets = paths.n_assets
        self.atm0 = [float(v) for v in self.m.start_atm_vol(paths)]
        if model_name == "es":
            self._prepare_es()

    # ---- ES scenario set (same construction as margin/models/es.py, in plain Python) -------------
    def _prepare_es(self) -> None:
        c = self.cfg
        h = self.h
        m = max(1, int(round(self.venue.mpor_hours / h)))
        lookback = max(m, int(round(c.lookback_hours / h)))
        hist = [[float(v) for v in row] for row in self.paths.history_returns[-lookback:]]
        windows = [[sum(hist[j + i][a] for i in range(m)) for a in range(self.n_assets)]
                   for j in range(len(hist) - m + 1)]
        n = len(windows)
        k = math.ceil((1.0 - c.confidence) * n - 1e-9)
        if self.n_assets != 1:
            raise NotImplementedError("the reference ES supports one asset")
        order = sorted(range(n), key=lambda j: windows[j][0])
        block = math.ceil(k / c.tail_points)
        n_blocks = math.ceil(k / block)
        if 2 * n_blocks * block > n:
            block, n_blocks = 1, k
        low = [windows[j][0] for j in order[:n_blocks * block]]
        high = [windows[j][0] for j in order[::-1][:n_blocks * block]]
        means = [sum(low[b * block:(b + 1) * block]) / block for b in range(n_blocks)]
        means += [sum(high[b * block:(b + 1) * block]) / block for b in range(n_blocks)]
        self.es_moves, self.es_block, self.es_mass = means, block, k

    # ---- one path ---------------------------------------------------------------------------------
    def run_path(self, p: int) -> dict[str, Any]:
        book, m, venue, h = self.book, self.m, self.venue, self.h
        n_steps = self.paths.horizon_steps
        decay = 0.5 ** (h / m.vol_halflife_hours)
        per_year = HOURS_PER_YEAR / h
        s0 = [float(v) for v in self.paths.start_prices]
        lr = [0.0] * self.n_assets
        lr_hist = [[0.0] * self.n_assets]
        var = [v * v for v in self.atm0]
        acct = Account(float(book.usd0), [float(v) for v in book.coin0], venue.insurance_fund_usd)
        haircut = [venue.collateral_haircuts.get(a, 0.0) for a in book.assets]
        mpor = min(max(1, int(round(venue.mpor_hours / h))), n_steps)
        out = dict(calls=0, liq_step=-1, liq_cost=0.0, bad=0.0, ins=0.0, adl=0.0, uncovered=0.0, mpor_loss=0.0)

        def atm_of(a):
            return min(max(math.sqrt(var[a]), m.vol_floor), m.vol_cap)

        def marks(t):
            hours = t * h
            spot = [s0[a] * math.exp(lr[a]) for a in range(self.n_assets)]
            vals, dels, alive = [], [], []
            for q in self.pos:
                live = q.expiry > hours + 1e-9
                alive.append(live)
                if not live:
                    vals.append(0.0)
                    dels.append(0.0)
                    continue
                s = spot[q.asset]
                if q.kind == OPTION:
                    tau = (q.expiry - hours) / HOURS_PER_YEAR
                    g = math.exp(m.basis_annual * tau)
                    f = s * g
                    v, d = b76(f, q.strike, smile(math.log(q.strike / f), atm_of(q.asset), m), tau, q.omega,
                               m.rate_annual)
                    vals.append(v)
                    dels.append(d * g)
                else:
                    g = math.exp(m.basis_annual * (q.expiry - hours) / HOURS_PER_YEAR) if q.kind == FUTURE else 1.0
                    vals.append(g * s - q.entry)
                    dels.append(g)
            return spot, vals, dels, alive

        def equity_of(spot, vals):
            return (acct.usd + sum(acct.coin[a] * spot[a] for a in range(self.n_assets))
                    + acct.scale * sum(q.q * v for q, v in zip(self.pos, vals)))

        def requirement(t, spot, vals, alive):
            hours = t * h
            if self.name == "tiered":
                return self._tiered(spot, vals, alive, acct.scale, hours)
            assets = sorted({q.asset for q, live in zip(self.pos, alive) if live})
            if self.name == "es":
                losses = []
                for mv in self.es_moves:
                    pnl = 0.0
                    for a in assets:
                        pnl += self._scenario_pnl(a, mv, 1.0, 0.0, spot, alive, hours, atm_of(a))
                    losses.append(-pnl)
                losses.sort(reverse=True)
                j, r = divmod(self.es_mass, self.es_block)
                tail = self.es_block * sum(losses[:j]) + (r * losses[j] if r and j < len(losses) else 0.0)
                es = max(tail / self.es_mass, 0.0) * acct.scale
                return (1.0 + self.cfg.apc_buffer) * es, es
            total = sum(self._portfolio_asset(a, spot, alive, hours, atm_of(a)) for a in assets)
            if self.name == "risk_matrix":
                im = total * acct.scale
                return im, self.cfg.maintenance_fraction * im
            mm = total * acct.scale
            return self.cfg.initial_to_maintenance * mm, mm

        spot, vals, dels, alive = marks(0)
        eq0 = equity_of(spot, vals)
        im0, mm0 = requirement(0, spot, vals, alive)
        u0 = list(vals)
        static_u = list(vals)
        low, peak, max_dd, equity = eq0, eq0, 0.0, eq0
        fund = venue.funding
        for t in range(1, n_steps + 1):
            prev = (t - 1) * h
            for a in range(self.n_assets):
                r = float(self.paths.returns[p, t - 1, a])
                lr[a] += r
                var[a] = decay * var[a] + (1.0 - decay) * per_year * r * r
            lr_hist.append(list(lr))
            spot, vals, dels, alive = marks(t)
            for i, q in enumerate(self.pos):                     # settlement at expiry
                if not alive[i] and q.expiry > prev + 1e-9:
                    s = spot[q.asset]
                    sv = max(q.omega * (s - q.strike), 0.0) if q.kind == OPTION else s - q.entry
                    acct.credit(q, acct.scale * q.q * sv, spot)
                    if t <= mpor:
                        static_u[i] = sv
            if t <= mpor:
                for i in range(len(self.pos)):
                    if alive[i]:
                        static_u[i] = vals[i]
            events = int(math.floor(t * h / fund.interval_hours + 1e-9)
                         - math.floor((t - 1) * h / fund.interval_hours + 1e-9))
            look = max(1, int(round(fund.interval_hours / h)))
            for i, q in enumerate(self.pos):                     # funding and borrow
                if not alive[i]:
                    continue
                if q.kind == PERP and events:
                    trailing = lr_hist[t][q.asset] - lr_hist[max(0, t - look)][q.asset]
                    prem = m.funding_premium_per_return * trailing
                    rate = prem + min(max(fund.interest_per_interval - prem, -fund.interest_clamp),
                                      fund.interest_clamp)
                    rate = min(max(rate, -fund.cap), fund.cap)
                    price = q.entry if q.coin else spot[q.asset]
                    acct.credit(q, -events * rate * q.q * acct.scale * price, spot)
                elif q.kind == SPOT:
                    rate = venue.borrow.short_spot_annual if q.q < 0 else venue.borrow.long_spot_annual
                    acct.usd -= abs(q.q * acct.scale) * spot[q.asset] * rate * h / HOURS_PER_YEAR
            equity = equity_of(spot, vals)
            step_low = equity
            if any(alive) and acct.scale > 0:
                im, mm = requirement(t, spot, vals, alive)
                meq = equity - sum(haircut[a] * max(acct.coin[a], 0.0) * spot[a] for a in range(self.n_assets))
                if meq < mm:
                    out["calls"] += 1
                    sig = [atm_of(a) * math.sqrt(h / HOURS_PER_YEAR) for a in range(self.n_assets)]
                    cost = self._liquidate(acct, t, p, spot, vals, dels, alive, meq, equity, im, sig)
                    out["liq_cost"] += cost
                    if out["liq_step"] < 0:
                        out["liq_step"] = t
                    after = equity_of(spot, vals)
                    step_low = min(step_low, after)
                    deficit = max(-after, 0.0)
                    if deficit > 0:
                        paid = min(acct.insurance, deficit)
                        acct.insurance -= paid
                        out["ins"] += paid
                        out["adl" if venue.liquidation.adl else "uncovered"] += deficit - paid
                        out["bad"] += deficit
                        acct.usd += deficit
                    equity = equity_of(spot, vals)
            if t == mpor:
                out["mpor_loss"] = -sum(q.q * (su - uu) for q, su, uu in zip(self.pos, static_u, u0))
            max_dd = max(max_dd, peak - step_low)
            low = min(low, step_low)
            peak = max(peak, equity)
        out.update(final_pnl=equity - eq0, worst_pnl=low - eq0, min_equity=low, max_dd=max_dd, im0=im0, mm0=mm0)
        return out

    # ---- pieces -----------------------------------------------------------------------------------
    def _tiered(self, spot, vals, alive, scale, hours):
        cfg = self.cfg
        im = mm = 0.0
        for i, q in enumerate(self.pos):
            if not alive[i]:
                continue
            qa = abs(q.q) * scale
            s = spot[q.asset]
            if q.kind == OPTION:
                if q.q > 0:
                    continue
                o = cfg.option
                otm = max(q.omega * (q.strike - s), 0.0)
                im += qa * (max(o.short_initial - otm / s, o.short_initial_floor) * s + vals[i])
                mmu = o.short_maintenance * s
                if q.omega < 0:
                    mmu = max(mmu, o.short_maintenance * vals[i])
                mm += qa * (mmu + vals[i])
                continue
            if q.kind == SPOT:
                rows, price = cfg.spot, s
            elif q.coin:
                rows, price = (cfg.inverse or cfg.linear), q.entry
            else:
                g = math.exp(self.m.basis_annual * (q.expiry - hours) / HOURS_PER_YEAR) if q.kind == FUTURE else 1.0
                rows, price = cfg.linear, g * s
            a, b = tier_margin(rows, qa * price)
            im += a
            mm += b
        return im, min(mm, im)

    def _scenario_pnl(self, a, move, vol_mult, look_ahead, spot, alive, hours, atm) -> float:
        pnl = 0.0
        for i, q in enumerate(self.pos):
            if not alive[i] or q.asset != a:
                continue
            if q.kind == OPTION:
                vm = vol_mult(q) if callable(vol_mult) else vol_mult
                now = option_value(q, spot[a], atm, hours, self.m, 0.0, 1.0, 0.0)
                pnl += q.q * (option_value(q, spot[a], atm, hours, self.m, move, vm, look_ahead) - now)
            else:
                g = math.exp(self.m.basis_annual * (q.expiry - hours) / HOURS_PER_YEAR) if q.kind == FUTURE else 1.0
                pnl += q.q * g * spot[a] * math.expm1(move)
        return pnl

    def _portfolio_asset(self, a, spot, alive, hours, atm) -> float:
        c = self.cfg
        if self.name == "risk_matrix":
            worst = 0.0
            grid = [-c.price_range + 2 * c.price_range * i / (c.price_buckets - 1) for i in range(c.price_buckets)]

            def shock(q, up):
                d = max((q.expiry - hours) / 24.0, c.min_days)
                power = c.short_term_vega_power if d < c.vega_power_days else c.long_term_vega_power
                f = (c.vega_power_days / d) ** power
                return 1.0 + c.vol_range_up * f if up else max(1.0 - c.vol_range_down * f, 0.05)

            scenarios = [(mv, lambda q: shock(q, True), 1.0) for mv in grid]
            scenarios += [(mv, 1.0, 1.0) for mv in grid]
            scenarios += [(mv, lambda q: shock(q, False), 1.0) for mv in grid]
            scenarios += [(mv, lambda q: shock(q, True), c.extended_fraction) for mv in c.extended_moves]
            for mv, vm, w in scenarios:
                worst = max(worst, -w * self._scenario_pnl(a, math.log1p(mv), vm, 0.0, spot, alive, hours, atm))
            net: dict = {}
            long_u = short_u = 0.0
            for i, q in enumerate(self.pos):
                if not alive[i] or q.asset != a:
                    continue
                if q.kind == OPTION:
                    net[(q.strike, q.expiry)] = net.get((q.strike, q.expiry), 0.0) + q.q
                elif q.q > 0:
                    long_u += q.q
                else:
                    short_u -= q.q
            units = c.option_contingency * sum(max(-v, 0.0) for v in net.values())
            units += c.future_contingency * min(long_u, short_u)
            return worst + units * spot[a]
        # span
        scan = 0.0
        for f in (0.0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1.0, -1.0):
            for v in (1.0, -1.0):
                scan = max(scan, -self._scenario_pnl(a, math.log1p(f * c.price_scan_range), 1.0 + v * c.vol_scan_range,
                                                     c.look_ahead_hours, spot, alive, hours, atm))
        for sign in (1.0, -1.0):
            scan = max(scan, -c.extreme_fraction * self._scenario_pnl(
                a, math.log1p(sign * c.extreme_multiplier * c.price_scan_range), 1.0, c.look_ahead_hours,
                spot, alive, hours, atm))
        shorts = sum(-q.q for i, q in enumerate(self.pos) if alive[i] and q.asset == a and q.kind == OPTION and q.q < 0)
        return max(scan, c.short_option_minimum * shorts * spot[a])

    def _liquidate(self, acct, t, p, spot, vals, dels, alive, meq, equity, im, sig) -> float:
        """Partial or whole close-out on one path (rules of margin/engine.py); returns cost incl. fee."""
        liq = self.venue.liquidation
        n_a = self.n_assets
        gross, prem, gross_a = {}, {}, [0.0] * n_a
        for i, q in enumerate(self.pos):
            if not alive[i]:
                continue
            gross[i] = abs(q.q) * acct.scale * abs(dels[i]) * spot[q.asset]
            prem[i] = abs(q.q) * acct.scale * abs(vals[i]) if q.kind == OPTION else 0.0
            gross_a[q.asset] += gross[i]
        vol_usd = [float(self.paths.ref_volume_usd[a]) * math.exp(float(self.paths.liquidity[p, t - 1, a]))
                   for a in range(n_a)]

        def costs(f):
            slip = [min(liq.impact_k * sig[a] * math.sqrt(abs(f * gross_a[a]) / vol_usd[a]), liq.impact_cap)
                    for a in range(n_a)]
            per = {i: f * (slip[self.pos[i].asset] * gross[i] + liq.option_spread * prem[i]) for i in gross}
            return per, liq.fee_rate * f * sum(gross_a)

        f = 1.0
        if liq.partial:
            if im > 0:
                f0 = min(max(1.0 - meq / im, 0.0), 1.0)
                c0, fee0 = costs(f0)
                f = min(max(1.0 - (meq - sum(c0.values()) - fee0) / im, 0.0), 1.0)
            if meq <= 0 or not im > 0 or f >= 1.0 - 1e-12:
                f = 1.0
            c1, _ = costs(f)
            if equity - sum(c1.values()) < 0:
                f = 1.0
        per, fee = costs(f)
        cost = sum(per.values())
        fee = min(fee, max(equity - cost, 0.0))
        for i in gross:
            q = self.pos[i]
            acct.credit(q, f * acct.scale * q.q * vals[i] - per[i], spot)
        acct.usd -= fee
        acct.insurance += fee
        acct.scale *= 1.0 - f
        if f >= 1.0:
            acct.scale = 0.0
            acct.usd += sum(acct.coin[a] * spot[a] for a in range(n_a))
            acct.coin = [0.0] * n_a
        return cost + fee


class Account:
    """USD and coin balances, the open share of the book and the insurance fund of one path."""

    def __init__(self, usd: float, coin: list[float], insurance: float) -> None:
        self.usd, self.coin, self.insurance, self.scale = usd, coin, insurance, 1.0

    def credit(self, q: RefPosition, amount: float, spot) -> None:
        if q.coin:
            self.coin[q.asset] += amount / spot[q.asset]
        else:
            self.usd += amount


def reference_simulate(portfolio, paths, margin_model: str | None = None, venue=None) -> dict[str, list]:
    """Run the reference engine on every path; per-path lists keyed like :class:`margin.PathResults`."""
    venue = venue if venue is not None else portfolio.load_venue()
    if isinstance(venue, str):
        from margin.venue import load_venue
        venue = load_venue(venue)
    engine = RefEngine(portfolio, paths, margin_model or portfolio.margin_model, venue)
    rows = [engine.run_path(p) for p in range(paths.n_paths)]
    keys = {"final_pnl_usd": "final_pnl", "worst_pnl_usd": "worst_pnl", "min_equity_usd": "min_equity",
            "max_drawdown_usd": "max_dd", "margin_calls": "calls", "liquidation_step": "liq_step",
            "liquidation_cost_usd": "liq_cost", "bad_debt_usd": "bad", "insurance_paid_usd": "ins",
            "adl_usd": "adl", "uncovered_bad_debt_usd": "uncovered", "mpor_loss_usd": "mpor_loss",
            "initial_margin_usd": "im0"}
    return {k: [r[v] for r in rows] for k, v in keys.items()}
