"""The report's numbers, as plain JSON-able data: headline metrics per run, worst books, margin adequacy,
limit breaches and what changed since an earlier report. The HTML, PDF and XLSX all render these.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from scenarios.limits import Breach

# headline metric -> (reader of margin.summarize's dict); units in the name
HEADLINE = {
    "var99_usd": lambda m: m["loss_var"]["99"]["value"],
    "es99_usd": lambda m: m["loss_es"]["99"]["value"],
    "es99_ci_low_usd": lambda m: m["loss_es"]["99"]["ci_low"],
    "es99_ci_high_usd": lambda m: m["loss_es"]["99"]["ci_high"],
    "es99_9_usd": lambda m: m["loss_es"]["99.9"]["value"],
    "p_margin_call": lambda m: m["p_margin_call"]["value"],
    "p_liquidation": lambda m: m["p_liquidation"]["value"],
    "expected_bad_debt_usd": lambda m: m["expected_bad_debt_usd"]["value"],
    "tail_bad_debt_99_usd": lambda m: m["tail_bad_debt_usd"]["99"],
    "im_coverage": lambda m: m["im_coverage"]["value"],
    "initial_margin_usd": lambda m: m["initial_margin_usd"],
    "initial_equity_usd": lambda m: m["initial_equity_usd"],
    "time_to_liquidation_median_hours": lambda m: m["time_to_liquidation_hours"]["median"],
    "n_paths": lambda m: m["n_paths"],
}
# metrics compared with the previous report, and whether a rise is bad
CHANGE_METRICS = {"es99_usd": "up", "p_liquidation": "up", "expected_bad_debt_usd": "up"}


def _get(fn, m: Mapping[str, Any]) -> Any:
    try:
        v = fn(m)
    except (KeyError, TypeError):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def headline(run: Mapping[str, Any]) -> dict[str, Any]:
    """One run's identity and headline metrics (losses positive, USD; shares in [0, 1])."""
    m = run["metrics"]
    out = {k: run.get(k) for k in ("portfolio", "pack", "margin_model", "venue", "source", "regime", "severity")}
    out.update({k: _get(fn, m) for k, fn in HEADLINE.items()})
    eq = out.get("initial_equity_usd")
    out["es99_share_of_equity"] = out["es99_usd"] / eq if eq and out.get("es99_usd") is not None else None
    return out


def _badness(h: Mapping[str, Any]) -> tuple[float, float, float]:
    """Sort key of a run, worst largest: ES 99, then expected bad debt, then P(liquidation).

    The loss of a book is capped at its equity (what lies beyond is the venue's bad debt), so runs that wipe a
    book out tie on ES 99; the bad debt they leave behind and how often they liquidate break the tie."""
    return (h["es99_usd"], h.get("expected_bad_debt_usd") or 0.0, h.get("p_liquidation") or 0.0)


def worst_portfolios(heads: list[dict[str, Any]], breaches: list[Breach]) -> list[dict[str, Any]]:
    """Per book its worst run by ES 99 (ties broken by expected bad debt, then P(liquidation); pack and
    margin model named), books sorted worst first."""
    best: dict[str, dict[str, Any]] = {}
    for h in heads:
        if h["es99_usd"] is None:
            continue
        cur = best.get(h["portfolio"])
        if cur is None or _badness(h) > _badness(cur):
            best[h["portfolio"]] = h
    n_breach: dict[str, int] = {}
    for b in breaches:
        n_breach[b.portfolio] = n_breach.get(b.portfolio, 0) + 1
    rows = []
    for name, h in best.items():
        rows.append({"portfolio": name, "es99_usd": h["es99_usd"], "es99_ci_low_usd": h["es99_ci_low_usd"],
                     "es99_ci_high_usd": h["es99_ci_high_usd"], "pack": h["pack"], "margin_model": h["margin_model"],
                     "initial_equity_usd": h["initial_equity_usd"], "es99_share_of_equity": h["es99_share_of_equity"],
                     "p_liquidation_max": max((x["p_liquidation"] or 0.0) for x in heads if x["portfolio"] == name),
                     "expected_bad_debt_max_usd": max((x["expected_bad_debt_usd"] or 0.0) for x in heads
                                                      if x["portfolio"] == name),
                     "n_breaches": n_breach.get(name, 0)})
    return sorted(rows, key=lambda r: _badness(best[r["portfolio"]]), reverse=True)


def margin_adequacy(heads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per book x margin model: initial margin, IM coverage per pack and the worst pack."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for h in heads:
        groups.setdefault((h["portfolio"], h["margin_model"]), []).append(h)
    rows = []
    for (book, model), hs in groups.items():
        cov = {h["pack"]: h["im_coverage"] for h in hs}
        known = [h for h in hs if h["im_coverage"] is not None]
        worst = min(known, key=lambda h: h["im_coverage"]) if known else None
        rows.append({"portfolio": book, "margin_model": model, "initial_margin_usd": hs[0]["initial_margin_usd"],
                     "initial_equity_usd": hs[0]["initial_equity_usd"],
                     "im_coverage_by_pack": cov,
                     "im_coverage_min": worst["im_coverage"] if worst else None,
                     "worst_pack": worst["pack"] if worst else None,
                     "p_liquidation_max": max((h["p_liquidation"] or 0.0) for h in hs)})
    return rows


def changes(heads: list[dict[str, Any]], breaches: list[Breach], previous: Mapping[str, Any] | None,
            previous_file: str | None = None) -> dict[str, Any] | None:
    """What changed since ``previous`` (an earlier report's summary.json): per run present in both, the
    previous and current ES 99, P(liquidation) and expected bad debt with deltas; runs added and removed;
    breaches new in this report and breaches cleared since. None without a previous report."""
    if previous is None:
        return None
    key = lambda r: (r["portfolio"], r["pack"], r["margin_model"])  # noqa: E731
    prev = {key(r): r for r in previous.get("runs", []) if isinstance(r, Mapping)}
    cur = {key(h): h for h in heads}
    rows = []
    for k, h in cur.items():
        p = prev.get(k)
        if p is None:
            continue
        row: dict[str, Any] = {"portfolio": k[0], "pack": k[1], "margin_model": k[2]}
        changed = False
        for metric in CHANGE_METRICS:
            a, b = p.get(metric), h.get(metric)
            delta = None if a is None or b is None else b - a
            rel = None if delta is None or not a else delta / abs(a)
            row[metric] = {"previous": a, "current": b, "delta": delta, "relative": rel}
            if delta is not None and abs(delta) > 1e-9 * max(1.0, abs(a)):
                changed = True
        row["changed"] = changed
        rows.append(row)
    pb = {(b["portfolio"], b["pack"], b["margin_model"], b["metric"]): b for b in previous.get("breaches", [])
          if isinstance(b, Mapping)}
    cb = {b.key: b.to_dict() for b in breaches}
    return {
        "previous_file": previous_file,
        "previous_created_at": previous.get("created_at"),
        "runs": rows,
        "n_changed": sum(r["changed"] for r in rows),
        "runs_added": [list(k) for k in cur if k not in prev],
        "runs_removed": [list(k) for k in prev if k not in cur],
        "new_breaches": [v for k, v in cb.items() if k not in pb],
        "cleared_breaches": [dict(v) for k, v in pb.items() if k not in cb],
    }
