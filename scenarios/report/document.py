"""The report's content as a small document tree (sections of headings, paragraphs, tables and charts) that the
HTML and PDF writers render alike, so both always carry the same content.

Text here is plain (never markup): the HTML template escapes it, the PDF draws it as text.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from scenarios.limits import Breach, Limits
from scenarios.report import charts
from scenarios.report import formatting as fmt
from scenarios.report.inputs import Results
from scenarios.stress import safe_name

# ------------------------------------------------------------------------------------------------ building blocks


@dataclass
class Cell:
    """One table cell: display text, an optional second line (a confidence interval) and a flag
    (``"bad"``: a limit is crossed; ``"good"``: best in its row)."""

    text: str
    sub: str | None = None
    flag: str | None = None


@dataclass
class Column:
    name: str
    align: str = "right"  # "left" for names
    wrap: int | None = None  # wrap text at about this many characters (PDF)


@dataclass
class Table:
    columns: list[Column]
    rows: list[list[Cell]]
    caption: str | None = None
    header: bool = True
    font_scale: float = 1.0
    kind: str = "table"


@dataclass
class Paragraph:
    text: str
    style: str = "text"  # text | note | alert | ok
    kind: str = "paragraph"


@dataclass
class Heading:
    text: str
    kind: str = "heading"


@dataclass
class Chart:
    id: str
    title: str
    image: charts.Rendered
    caption: str | None = None
    kind: str = "chart"


Block = Table | Paragraph | Heading | Chart


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]


def c(text: Any, sub: str | None = None, flag: str | None = None) -> Cell:
    return Cell("" if text is None else str(text), sub or None, flag)


# ------------------------------------------------------------------------------------------------ composition


@dataclass
class Context:
    """Everything the content is made from."""

    results: Results
    heads: list[dict[str, Any]]
    worst: list[dict[str, Any]]
    adequacy: list[dict[str, Any]]
    breaches: list[Breach]
    unmatched_books: list[str]
    limits: Limits | None
    changes: dict[str, Any] | None
    fidelity: dict[str, Any] | None
    fidelity_file: str | None
    run_info: dict[str, Any] | None
    built_at: str
    version: str

    def __post_init__(self) -> None:
        self._breach_keys = {b.key for b in self.breaches}

    def breach(self, portfolio: str, pack: str, model: str, metric: str) -> bool:
        """True when this run crosses its limit on ``metric`` (a key of :data:`scenarios.limits.METRICS`)."""
        return (portfolio, pack, model, metric) in self._breach_keys

    def limit(self, portfolio: str, metric: str) -> float | None:
        """The book's effective limit on ``metric`` (None: no limit)."""
        return None if self.limits is None else getattr(self.limits.for_portfolio(portfolio), metric)

    @property
    def horizon_hours(self) -> float:
        for r in self.results.runs:
            h = r["metrics"].get("horizon_hours")
            if h:
                return float(h)
        return 24.0


def compose(ctx: Context) -> Document:
    """The report: executive summary, one section per book, scenarios, fidelity, provenance."""
    with charts.style():
        ids: set[str] = {"executive-summary", "scenarios", "fidelity", "provenance"}
        sections = [executive_summary(ctx)]
        for book in ctx.results.portfolios:
            sid = f"portfolio-{safe_name(book)}"
            while sid in ids:
                sid += "-"
            ids.add(sid)
            sections.append(portfolio_section(ctx, book, sid))
        sections += [scenarios_section(ctx), fidelity_section(ctx), provenance_section(ctx)]
    res = ctx.results
    sub = (f"{len(res.portfolios)} books x {len(res.packs)} scenario packs x {len(res.models)} margin models; "
           f"results of {res.summary.get('created_at', '?')}; built {ctx.built_at}")
    return Document("Margin committee stress report", sub, sections)


def _render(fig) -> charts.Rendered:
    return charts.render(fig)


def executive_summary(ctx: Context) -> Section:
    res = ctx.results
    s = Section("executive-summary", "Executive summary")
    n_paths = sorted({h["n_paths"] for h in ctx.heads if h["n_paths"]})
    venues = sorted({str(r.get("venue")) for r in res.runs if r.get("venue")})
    s.blocks.append(Paragraph(
        f"Scope: {len(res.portfolios)} books x {len(res.packs)} scenario packs "
        f"({', '.join(res.packs)}) x {len(res.models)} margin models ({', '.join(res.models)})"
        f"{' on venue ' + ', '.join(venues) if venues else ''}; "
        f"{' / '.join(f'{n:,}' for n in n_paths)} paths of {ctx.horizon_hours:g} h per pack. "
        "Losses are positive, in USD; intervals are 95% bootstrap confidence intervals."))
    if ctx.limits is None or ctx.limits.is_empty():
        s.blocks.append(Paragraph("No limits configured: pass --limits FILE to check ES, VaR, bad debt, "
                                  "liquidation and IM-coverage limits.", "note"))
    elif ctx.breaches:
        books = sorted({b.portfolio for b in ctx.breaches})
        s.blocks.append(Paragraph(f"{len(ctx.breaches)} limit breach(es) in {len(books)} book(s): "
                                  f"{', '.join(books)}. See 'Breaches of configured limits' below.", "alert"))
    else:
        s.blocks.append(Paragraph(f"No limit breached ({len(res.runs)} runs checked).", "ok"))
    if ctx.worst:
        w = ctx.worst[0]
        share = f" ({fmt.pct(w['es99_share_of_equity'], 0)} of its equity)" if w["es99_share_of_equity"] else ""
        s.blocks.append(Paragraph(f"Worst book by ES 99: {w['portfolio']}, {fmt.usd(w['es99_usd'])}{share} "
                                  f"under {w['pack']} with {w['margin_model']} margin."))
    es_limits = {b: ctx.limit(b, "es99_usd") for b in res.portfolios}
    s.blocks.append(Chart("chart-es99-overview", "ES 99 by book and pack", _render(charts.es99_overview(
        ctx.heads, res.portfolios, res.packs, es_limits, ctx.horizon_hours))))

    s.blocks.append(Heading("Worst portfolios by ES 99"))
    rows = []
    for i, w in enumerate(ctx.worst, 1):
        rows.append([c(i), c(w["portfolio"]), c(fmt.usd(w["es99_usd"]),
                                                  fmt.usd_range(w["es99_ci_low_usd"], w["es99_ci_high_usd"]),
                                                  "bad" if ctx.breach(w["portfolio"], w["pack"], w["margin_model"],
                                                                      "es99_usd") else None),
                     c(fmt.pct(w["es99_share_of_equity"], 1)), c(w["pack"]), c(w["margin_model"]),
                     c(fmt.pct(w["p_liquidation_max"])), c(fmt.usd(w["expected_bad_debt_max_usd"])),
                     c(w["n_breaches"], flag="bad" if w["n_breaches"] else None)])
    s.blocks.append(Table([Column("#"), Column("book", "left", 28), Column("worst ES 99"),
                           Column("of equity"), Column("pack", "left"), Column("margin model", "left"),
                           Column("max P(liq.)"), Column("max exp. bad debt"), Column("breaches")], rows,
                          caption="Per book its worst run (pack x margin model) by ES 99 of the loss (second "
                                  "line: 95% CI); max P(liq.) and max expected bad debt over all its runs."))

    has_limits = ctx.limits is not None and not ctx.limits.is_empty()
    s.blocks.append(Heading("Margin adequacy: initial-margin coverage per book and margin model"))
    packs = res.packs
    rows = []
    for a in ctx.adequacy:
        floor = ctx.limit(a["portfolio"], "im_coverage_min")
        cells = [c(a["portfolio"]), c(a["margin_model"]), c(fmt.usd(a["initial_margin_usd"])),
                 c(fmt.pct(a["initial_margin_usd"] / a["initial_equity_usd"], 1) if a["initial_equity_usd"] else "")]
        for p in packs:
            v = a["im_coverage_by_pack"].get(p)
            cells.append(c(fmt.pct(v) if v is not None else "–",
                           flag="bad" if v is not None and floor is not None and v < floor else None))
        rows.append(cells)
    s.blocks.append(Table([Column("book", "left", 24), Column("margin model", "left"), Column("initial margin"),
                           Column("IM / equity")] + [Column(p) for p in packs], rows,
                          caption="IM coverage: share of paths whose loss over the margin period of risk stays "
                                  "within the initial margin (a model calibrated at 99% should cover at least 99%)."
                                  + (" Flagged: below the configured floor." if has_limits else "")))

    s.blocks.append(Heading("Breaches of configured limits"))
    if ctx.limits is None or ctx.limits.is_empty():
        s.blocks.append(Paragraph("No limits configured.", "note"))
    elif not ctx.breaches:
        s.blocks.append(Paragraph("None.", "ok"))
    else:
        new = {tuple(b[k] for k in ("portfolio", "pack", "margin_model", "metric"))
               for b in (ctx.changes or {}).get("new_breaches", [])}
        order = {b: i for i, b in enumerate(res.portfolios)}
        ranked = sorted(ctx.breaches, key=lambda b: (order.get(b.portfolio, len(order)), b.metric))
        s.blocks.append(breach_table(ranked, new if ctx.changes is not None else None))
    if ctx.unmatched_books:
        s.blocks.append(Paragraph("Limits are set for books that are not in these results (check the names): "
                                  + ", ".join(ctx.unmatched_books), "alert"))

    s.blocks.append(Heading("Changes since the last run"))
    s.blocks.extend(changes_blocks(ctx))
    return s


METRIC_LABELS = {"es99_usd": "ES 99", "var99_usd": "VaR 99", "expected_bad_debt_usd": "expected bad debt",
                 "tail_bad_debt_99_usd": "tail bad debt (ES 99)", "p_liquidation": "P(liquidation)",
                 "im_coverage_min": "IM coverage (floor)"}


def metric_value(metric: str, v: float) -> str:
    return fmt.usd(v) if metric.endswith("_usd") else fmt.pct(v)


def breach_table(breaches: Sequence[Breach], new: set | None) -> Table:
    rows = []
    for b in breaches:
        excess = b.excess
        row = [c(b.portfolio), c(b.pack), c(b.margin_model), c(METRIC_LABELS.get(b.metric, b.metric)),
               c(metric_value(b.metric, b.value), flag="bad"),
               c(("≥ " if b.kind == "min" else "≤ ") + (fmt.usd(b.limit) if b.metric.endswith("_usd")
                                                          else fmt.pct_short(b.limit))),
               c(fmt.signed_usd(excess) if b.metric.endswith("_usd") else fmt.signed_pp(excess))]
        if new is not None:
            row.append(c("new" if b.key in new else "", flag="bad" if b.key in new else None))
        rows.append(row)
    cols = [Column("book", "left", 24), Column("pack", "left"), Column("margin model", "left"),
            Column("metric", "left"), Column("value"), Column("limit"), Column("beyond limit")]
    if new is not None:
        cols.append(Column("since last run", "left"))
    return Table(cols, rows)


def changes_blocks(ctx: Context, top: int = 15) -> list[Block]:
    ch = ctx.changes
    if ch is None:
        return [Paragraph("No previous report given (pass --previous with an earlier report's directory or "
                          "summary.json).", "note")]
    out: list[Block] = []
    when = ch.get("previous_created_at") or "?"
    parts = [f"Against the report built {when}: {ch['n_changed']} of {len(ch['runs'])} matching runs changed "
             "in ES 99, P(liquidation) or expected bad debt"]
    if ch["runs_added"]:
        parts.append(f"{len(ch['runs_added'])} run(s) new")
    if ch["runs_removed"]:
        parts.append(f"{len(ch['runs_removed'])} run(s) gone")
    parts.append(f"{len(ch['new_breaches'])} new breach(es), {len(ch['cleared_breaches'])} cleared")
    out.append(Paragraph("; ".join(parts) + "."))
    changed = [r for r in ch["runs"] if r["changed"]]

    def size(r: dict[str, Any]) -> float:
        es = r["es99_usd"]
        return max(abs(es["relative"] or 0.0), abs(r["p_liquidation"]["delta"] or 0.0),
                   abs(r["expected_bad_debt_usd"]["relative"] or 0.0) * 0.1)

    changed.sort(key=size, reverse=True)
    if changed:
        rows = []
        for r in changed[:top]:
            es, pl, bd = r["es99_usd"], r["p_liquidation"], r["expected_bad_debt_usd"]
            rel = f" ({es['relative']:+.1%})".replace("-", fmt.MINUS) if es["relative"] is not None else ""
            rows.append([c(r["portfolio"]), c(r["pack"]), c(r["margin_model"]),
                         c(fmt.usd(es["current"]), f"was {fmt.usd(es['previous'])}"),
                         c(fmt.signed_usd(es["delta"]) + rel, flag="bad" if (es["delta"] or 0) > 0 else None),
                         c(fmt.pct(pl["current"]), f"was {fmt.pct(pl['previous'])}"),
                         c(fmt.signed_pp(pl["delta"]), flag="bad" if (pl["delta"] or 0) > 0 else None),
                         c(fmt.usd(bd["current"]), f"was {fmt.usd(bd['previous'])}"),
                         c(fmt.signed_usd(bd["delta"]), flag="bad" if (bd["delta"] or 0) > 0 else None)])
        out.append(Table([Column("book", "left", 24), Column("pack", "left"), Column("margin model", "left"),
                          Column("ES 99"), Column("change"), Column("P(liq.)"), Column("change"),
                          Column("exp. bad debt"), Column("change")], rows,
                         caption="Largest changes first" + (f" (top {top} of {len(changed)}; all in the workbook)"
                                                            if len(changed) > top else "") + "."))
    if ch["cleared_breaches"]:
        out.append(Paragraph("Cleared since the last run: " + "; ".join(
            f"{b['portfolio']} / {b['pack']} / {b['margin_model']}: {METRIC_LABELS.get(b['metric'], b['metric'])}"
            for b in ch["cleared_breaches"]), "ok"))
    return out


def _positions_text(book: Mapping[str, Any]) -> str:
    parts = []
    for p in book.get("positions", []):
        kind = p.get("instrument", "?")
        desc = f"{kind} {p.get('asset', '')}"
        if kind == "option":
            desc = f"{p.get('type', '')} {p.get('asset', '')} strike {p.get('strike')} {p.get('expiry_hours', '')}h"
        elif p.get("settlement"):
            desc += f" {p['settlement']}"
        size = p.get("notional_usd")
        qty = p.get("quantity")
        amount = fmt.usd(size) if size is not None else (f"{qty:g} units" if qty is not None else "")
        parts.append(f"{desc} {amount}" + (" (delta-hedged)" if p.get("delta_hedge") else ""))
    return "; ".join(parts)


def portfolio_section(ctx: Context, book: str, sid: str) -> Section:
    res = ctx.results
    rec = res.book_record(book)
    s = Section(sid, f"Portfolio: {book}")
    desc = rec.get("description")
    if desc:
        s.blocks.append(Paragraph(desc))
    hs = [h for h in ctx.heads if h["portfolio"] == book]
    eq = next((h["initial_equity_usd"] for h in hs if h["initial_equity_usd"]), None)
    ims = {h["margin_model"]: h["initial_margin_usd"] for h in hs}
    coll = ", ".join(f"{k} {v:,.6g}" for k, v in (rec.get("collateral") or {}).items())
    facts = [[c("equity at start"), c(fmt.usd(eq))],
             [c("collateral"), c(coll or "–")],
             [c("positions"), c(_positions_text(rec) or "–")],
             [c("initial margin"), c(", ".join(f"{m} {fmt.usd(v)}" for m, v in ims.items()))],
             [c("book's own venue / model"), c(f"{rec.get('venue', '?')} / {rec.get('margin_model', '?')}")]]
    s.blocks.append(Table([Column("", "left"), Column("", "left", 110)], facts, header=False))

    packs = [p for p in res.packs if any(h["pack"] == p for h in hs)]
    models = [m for m in res.models if any(h["margin_model"] == m for h in hs)]
    metrics = {(r["pack"], r["margin_model"]): r["metrics"] for r in res.runs if r["portfolio"] == book}
    lim = lambda m: ctx.limit(book, m)  # noqa: E731
    if models:
        m0 = models[0]
        losses = {p: res.losses[(book, p, m0)] for p in packs if (book, p, m0) in res.losses}
        fig = charts.loss_distributions(book, packs, losses, {p: metrics[(p, m0)] for p in packs
                                                              if (p, m0) in metrics}, m0, ctx.horizon_hours,
                                        lim("es99_usd"))
        s.blocks.append(Chart(f"chart-loss-{sid}", f"{book}: loss distribution", _render(fig)))
        s.blocks.append(Chart(f"chart-tail-{sid}", f"{book}: VaR and ES", _render(charts.tail_metrics(
            book, packs, models, metrics, ctx.horizon_hours, lim("es99_usd"), lim("var99_usd")))))

    s.blocks.append(Heading("Loss tail by scenario pack and margin model"))
    rows = []
    for p in packs:
        for m in models:
            mt = metrics.get((p, m))
            if mt is None:
                continue
            v, e = mt["loss_var"], mt["loss_es"]
            rows.append([c(p), c(m), c(fmt.usd(v["95"]["value"])),
                         c(fmt.usd(v["99"]["value"]), fmt.usd_range(v["99"]["ci_low"], v["99"]["ci_high"]),
                           "bad" if ctx.breach(book, p, m, "var99_usd") else None),
                         c(fmt.usd(e["99"]["value"]), fmt.usd_range(e["99"]["ci_low"], e["99"]["ci_high"]),
                           "bad" if ctx.breach(book, p, m, "es99_usd") else None),
                         c(fmt.usd(e["99.9"]["value"]), fmt.usd_range(e["99.9"]["ci_low"], e["99.9"]["ci_high"])),
                         c(fmt.usd((mt.get("max_drawdown_usd") or {}).get("p99")))])
    s.blocks.append(Table([Column("pack", "left"), Column("margin model", "left"), Column("VaR 95"),
                           Column("VaR 99 [95% CI]"), Column("ES 99 [95% CI]"), Column("ES 99.9 [95% CI]"),
                           Column("max drawdown p99")], rows,
                          caption=f"Loss over {ctx.horizon_hours:g} h (USD, losses positive). Flagged: over the "
                                  "book's limit."))
    if models:
        s.blocks.append(Chart(f"chart-margin-{sid}", f"{book}: margin outcomes", _render(charts.margin_outcomes(
            book, packs, models, metrics, p_liq_limit=lim("p_liquidation"),
            bad_debt_limit=lim("expected_bad_debt_usd"), im_cov_limit=lim("im_coverage_min")))))
    s.blocks.append(Heading("Margin calls, liquidations and bad debt"))
    rows = []
    for p in packs:
        for m in models:
            mt = metrics.get((p, m))
            if mt is None:
                continue
            pc, pl, cov, bd = mt["p_margin_call"], mt["p_liquidation"], mt["im_coverage"], mt["expected_bad_debt_usd"]
            ttl = mt.get("time_to_liquidation_hours") or {}
            ttl_s = fmt.hours(ttl.get("median"))
            rows.append([c(p), c(m), c(fmt.usd(mt.get("initial_margin_usd"))),
                         c(fmt.pct(pc["value"]), fmt.pct_range(pc["ci_low"], pc["ci_high"])),
                         c(fmt.pct(pl["value"]), fmt.pct_range(pl["ci_low"], pl["ci_high"]),
                           "bad" if ctx.breach(book, p, m, "p_liquidation") else None),
                         c(ttl_s, f"p05 {fmt.hours(ttl.get('p05'))}" if ttl.get("p05") is not None else None),
                         c(fmt.usd(mt.get("liquidation_cost_usd"))),
                         c(fmt.usd(bd["value"]), fmt.usd_range(bd["ci_low"], bd["ci_high"]),
                           "bad" if ctx.breach(book, p, m, "expected_bad_debt_usd") else None),
                         c(fmt.usd((mt.get("tail_bad_debt_usd") or {}).get("99")),
                           flag="bad" if ctx.breach(book, p, m, "tail_bad_debt_99_usd") else None),
                         c(fmt.pct(cov["value"]), fmt.pct_range(cov["ci_low"], cov["ci_high"]),
                           "bad" if ctx.breach(book, p, m, "im_coverage_min") else None)])
    s.blocks.append(Table([Column("pack", "left"), Column("margin model", "left"), Column("initial margin"),
                           Column("P(margin call)"), Column("P(liquidation)"), Column("time to liq. (median)"),
                           Column("liq. cost (mean)"), Column("exp. bad debt"), Column("tail bad debt 99"),
                           Column("IM coverage")], rows,
                          caption="Time to liquidation and liquidation cost over liquidated paths; tail bad debt: "
                                  "ES 99 of bad debt (USD)."))
    return s


def scenarios_section(ctx: Context) -> Section:
    res = ctx.results
    s = Section("scenarios", "Scenario packs")
    rows = []
    for label in res.packs:
        p = res.pack_record(label)
        gen = p.get("generator") or {}
        params = gen.get("params") or {}
        model = params.get("model") if isinstance(params.get("model"), str) else gen.get("model")
        sev = p.get("severity")
        rows.append([c(label), c(p.get("source", "?")), c(p.get("regime", "?")),
                     c(f"{sev:g}" if isinstance(sev, (int, float)) else "–"),
                     c(f"{p['n_paths']:,}" if p.get("n_paths") else "?"),
                     c(f"{p.get('horizon', '?')} x {p.get('frequency', '?')}"),
                     c(", ".join(f"{a} {fmt.usd(v)}" for a, v in (p.get("start_prices") or {}).items())),
                     c(model or "–")])
    s.blocks.append(Table([Column("pack", "left"), Column("source", "left"), Column("regime", "left"),
                           Column("severity"), Column("paths"), Column("horizon"), Column("start price", "left"),
                           Column("generator", "left", 60)], rows))
    assets = list(dict.fromkeys(a for f in res.fans.values() for a in f.get("assets", {})))
    if not assets:
        s.blocks.append(Paragraph("No fan quantiles in the results directory.", "note"))
    for a in assets:
        s.blocks.append(Chart(f"chart-fan-{safe_name(a)}", f"{a} scenario paths",
                              _render(charts.fan_chart(a, res.packs, res.fans)),
                              caption=f"Per-step quantiles over the paths of each pack ({a}); volume relative to "
                                      "the pack's reference level (1x)."))
    return s


# label, value keys, formatter, key deciding the best column, "low" | "high"
FIDELITY_ROWS: list[tuple[str, tuple[str, ...], Callable[..., str], str | None, str | None]] = [
    ("VaR 99 of horizon return: generated (real)", ("var_99_gen", "var_99_real"),
     lambda a, b: f"{fmt.pct(a, 1)} ({fmt.pct(b, 1)})", "var_99_relerr", "low"),
    ("ES 99: generated (real)", ("es_99_gen", "es_99_real"),
     lambda a, b: f"{fmt.pct(a, 1)} ({fmt.pct(b, 1)})", "es_99_relerr", "low"),
    ("ES 99.9: generated (real)", ("es_99.9_gen", "es_99.9_real"),
     lambda a, b: f"{fmt.pct(a, 1)} ({fmt.pct(b, 1)})", "es_99.9_relerr", "low"),
    ("ES 99 relative error", ("es_99_relerr",), lambda a: fmt.pct(a, 1), "es_99_relerr", "low"),
    ("W1 of step returns (sigma units)", ("w1_step",), fmt.number, "w1_step", "low"),
    ("W1 of horizon returns (sigma units)", ("w1_horizon",), fmt.number, "w1_horizon", "low"),
    ("W1 of liquidity (log volume ratio)", ("w1_liquidity",), fmt.number, "w1_liquidity", "low"),
    ("Volatility clustering: ACF of |r|, MSE", ("acf_abs_mse",), fmt.number, "acf_abs_mse", "low"),
    ("Leverage effect, MSE", ("leverage_mse",), fmt.number, "leverage_mse", "low"),
    ("Excess kurtosis: generated (real)", ("kurtosis_gen", "kurtosis_real"),
     lambda a, b: f"{fmt.number(a)} ({fmt.number(b)})", "kurtosis_abserr", "low"),
    ("Max drawdown, mean: generated (real)", ("mdd_mean_gen", "mdd_mean_real"),
     lambda a, b: f"{fmt.pct(a, 1)} ({fmt.pct(b, 1)})", "mdd_w1", "low"),
    ("Max drawdown distribution, W1", ("mdd_w1",), fmt.number, "mdd_w1", "low"),
    ("Condition adherence (share in the regime)", ("adherence",), lambda a: fmt.pct(a, 1), "adherence", "high"),
    ("Discriminative score (0: indistinguishable)", ("discriminative_score",), fmt.number,
     "discriminative_score", "low"),
    ("Copies of training windows (share)", ("memorisation_copy_share",), lambda a: fmt.pct(a, 1), None, None),
    ("Selection score (lower is better)", ("selection_score",), fmt.number, "selection_score", "low"),
]


def fidelity_section(ctx: Context) -> Section:
    s = Section("fidelity", "Scenario fidelity against real windows of the same regime")
    fid = ctx.fidelity
    if fid is None:
        s.blocks.append(Paragraph("No fidelity results given (run `stressgan evaluate PACKS --start DATE --out "
                                  "DIR` and pass --fidelity DIR/fidelity.json).", "note"))
        return s
    per = fid["packs"]
    labels = list(per)
    period = fid.get("period") or {}
    n_real = sorted({int(v["n_real"]) for v in per.values() if isinstance(v.get("n_real"), (int, float))})
    s.blocks.append(Paragraph(
        f"Each source's paths against the real windows of the same regime from {period.get('start') or 'start'} "
        f"to {period.get('end') or 'end'} ({', '.join(period.get('assets') or [])}, {period.get('frequency', '')} "
        f"bars; {' / '.join(map(str, n_real))} real windows). Returns are log returns over the horizon, losses "
        "positive; W1 is the Wasserstein-1 distance. Flagged: closest to the real data in the row. A period that "
        "overlaps the data the models were fitted on measures in-sample fit; the held-out comparison is "
        "`benchmarks/bench_heldout.py` (README, figures)."))
    rows = []
    for label, keys, f, best_key, better in FIDELITY_ROWS:
        if not any(keys[0] in per[p] for p in labels):
            continue
        vals = {p: per[p].get(best_key) if best_key else None for p in labels}
        known = {p: v for p, v in vals.items() if isinstance(v, (int, float))}
        best = None
        if better and len(known) > 1:
            target = min(known.values()) if better == "low" else max(known.values())
            best = {p for p, v in known.items() if v == target}
        cells = [c(label)]
        for p in labels:
            args = [per[p].get(k) for k in keys]
            cells.append(c("n/a" if args[0] is None else f(*args), flag="good" if best and p in best else None))
        rows.append(cells)
    rows.insert(0, [c("paths evaluated / real windows")] + [
        c(f"{per[p].get('n_paths_evaluated', '?'):,} / {per[p].get('n_real', '?')}") for p in labels])
    s.blocks.append(Table([Column("metric", "left", 44)] + [Column(p) for p in labels], rows))
    if any((per[p].get("memorisation_copy_share") or 0) > 0.5 for p in labels):
        s.blocks.append(Paragraph("A copy share near 100% is expected for historical replay (it replays real "
                                  "windows); for a generator it means memorised training windows.", "note"))
    return s


def _short(h: Any, n: int = 16) -> str:
    return "–" if not h else (str(h)[:n] + "…" if len(str(h)) > n else str(h))


def provenance_section(ctx: Context) -> Section:
    res = ctx.results
    s = Section("provenance", "Provenance")
    summ = res.summary
    facts = [["report built", ctx.built_at], ["stressgan (report)", ctx.version],
             ["results directory", str(res.directory)], ["results created", summ.get("created_at", "?")],
             ["stressgan (results)", summ.get("stressgan_version", "?")],
             ["margin models", ", ".join(res.models)], ["venue override", summ.get("venue_override") or "–"],
             ["fidelity file", ctx.fidelity_file or ("given as data" if ctx.fidelity else "–")],
             ["previous report", (ctx.changes or {}).get("previous_file") or ("given as data" if ctx.changes
                                                                               else "–")],
             ["python", platform.python_version()]]
    s.blocks.append(Heading("Run"))
    s.blocks.append(Table([Column("", "left"), Column("", "left", 100)], [[c(k), c(v)] for k, v in facts],
                          header=False))
    if ctx.run_info:
        s.blocks.append(Heading("Run information"))
        s.blocks.append(Table([Column("", "left"), Column("", "left", 100)],
                              [[c(k), c(v)] for k, v in _flatten(ctx.run_info)], header=False))
    s.blocks.append(Heading("Scenario packs"))
    rows = []
    for label in res.packs:
        p = res.pack_record(label)
        data = p.get("data") or {}
        rows.append([c(label), c(p.get("pack_id", "–")), c(p.get("seed", "–")),
                     c(_short(p.get("model_fingerprint"))), c(_short(p.get("data_fingerprint"))),
                     c(data.get("source", "–")), c(str(data.get("train_end") or "–")),
                     c(p.get("created_at", "–")), c(p.get("stressgan_version", "–"))])
    s.blocks.append(Table([Column("pack", "left"), Column("pack id", "left"), Column("seed"),
                           Column("model fingerprint", "left"), Column("data fingerprint", "left"),
                           Column("data", "left"), Column("train end", "left"), Column("created", "left"),
                           Column("version", "left")], rows, font_scale=0.9,
                          caption="Fingerprints shortened; full values in summary.json and the workbook."))
    s.blocks.append(Heading("Portfolios"))
    rows = []
    for name in res.portfolios:
        b = res.book_record(name)
        rows.append([c(name), c(b.get("file") or "shipped"), c(_short(b.get("sha256"))),
                     c(b.get("venue", "–")), c(b.get("margin_model", "–"))])
    s.blocks.append(Table([Column("book", "left", 28), Column("file", "left", 60), Column("sha256", "left"),
                           Column("venue", "left"), Column("own margin model", "left")], rows, font_scale=0.9))
    if ctx.limits is not None and not ctx.limits.is_empty():
        s.blocks.append(Heading("Limits in force"))
        s.blocks.append(limits_table(ctx))
    return s


def limits_table(ctx: Context) -> Table:
    """Effective limits per book (defaults with the book's overrides); '–': no limit."""
    from scenarios.limits import METRICS

    assert ctx.limits is not None
    books = ctx.results.portfolios + [b for b in ctx.unmatched_books if b not in ctx.results.portfolios]
    rows = [[c("all books (default)")] + [c(_limit_text(m, getattr(ctx.limits, m))) for m in METRICS]]
    for b in books:
        eff = ctx.limits.for_portfolio(b)
        own = ctx.limits.per_portfolio.get(b)
        rows.append([c(b + ("" if b in ctx.results.portfolios else " (not in results)"))]
                    + [c(_limit_text(m, getattr(eff, m)), flag=None) if own is None or m not in own.model_fields_set
                       else c(_limit_text(m, getattr(eff, m)) + " *") for m in METRICS])
    return Table([Column("book", "left", 30)] + [Column(METRIC_LABELS.get(m, m)) for m in METRICS], rows,
                 caption="Ceilings, except IM coverage (a floor). *: set for this book (overrides the default).")


def _limit_text(metric: str, v: float | None) -> str:
    if v is None:
        return "–"
    return fmt.usd(v) if metric.endswith("_usd") else fmt.pct_short(v)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.extend(_flatten(v, key + "."))
        elif isinstance(v, (list, tuple)):
            out.append((key, ", ".join(map(str, v))))
        else:
            out.append((key, "–" if v is None else str(v)))
    return out


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
