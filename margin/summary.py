"""One plain, JSON-able dictionary of tail and margin metrics for a simulation (``summary.json``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from margin.risk import (LEVELS, bootstrap_proportion, bootstrap_sparse_mean, bootstrap_var_es, var_es)
from margin.results import PathResults


def _level_key(a: float) -> str:
    return f"{a * 100:g}"


def summarize(results: PathResults, levels: tuple[float, ...] = LEVELS, n_boot: int = 1000, seed: int = 0,
              ci: float = 0.95) -> dict[str, Any]:
    """Tail metrics of ``results`` with bootstrap intervals; only floats, ints, strings, lists and dicts.

    Keys: run description; ``loss_var`` and ``loss_es`` per level (``{"99": {"value", "ci_low",
    "ci_high"}}``) of the horizon loss ``-final_pnl_usd``; ``p_margin_call``, ``p_liquidation``,
    ``im_coverage`` (share of paths whose MPOR loss stays within initial margin), ``expected_bad_debt_usd``
    (each with an interval); ``tail_bad_debt_usd`` (ES of bad debt per level); ``p_bad_debt``;
    ``time_to_liquidation_hours`` (mean, median, 5th percentile over liquidated paths);
    ``liquidation_cost_usd`` (mean over liquidated paths); ``max_drawdown_usd`` (mean, 99th percentile);
    ``initial_margin_usage`` (IM / equity at the start).
    """
    n = results.n_paths
    rng = np.random.default_rng(seed)
    losses = -results.final_pnl_usd
    var, es = var_es(losses, levels)
    var_ci, es_ci = bootstrap_var_es(losses, levels, rng, n_boot, ci)

    def point(value: float, interval: tuple[float, float]) -> dict[str, float]:
        return {"value": float(value), "ci_low": interval[0], "ci_high": interval[1]}

    def share(mask: np.ndarray) -> dict[str, float]:
        p = float(np.mean(mask))
        return point(p, bootstrap_proportion(p, n, rng, n_boot, ci))

    bad = results.bad_debt_usd
    _, bad_es = var_es(bad, levels)
    liq = results.liquidated
    hours = results.liquidation_step[liq] * results.step_hours
    return {
        "portfolio": results.portfolio,
        "margin_model": results.margin_model,
        "venue": results.venue,
        "n_paths": n,
        "horizon_hours": results.horizon_steps * results.step_hours,
        "mpor_hours": results.mpor_steps * results.step_hours,
        "sign_convention": "losses are positive (loss = -P&L, USD)",
        "initial_equity_usd": results.initial_equity_usd,
        "initial_margin_usd": results.initial_margin_usd,
        "maintenance_margin_usd": results.maintenance_margin_usd,
        "initial_margin_usage": results.initial_margin_usd / results.initial_equity_usd
        if results.initial_equity_usd else float("nan"),
        "loss_var": {_level_key(a): point(var[j], tuple(var_ci[j])) for j, a in enumerate(levels)},
        "loss_es": {_level_key(a): point(es[j], tuple(es_ci[j])) for j, a in enumerate(levels)},
        "p_margin_call": share(results.margin_calls > 0),
        "p_liquidation": share(liq),
        "im_coverage": share(results.mpor_loss_usd <= results.initial_margin_usd),
        "expected_bad_debt_usd": point(float(bad.mean()), bootstrap_sparse_mean(bad, rng, n_boot, ci)),
        "tail_bad_debt_usd": {_level_key(a): float(bad_es[j]) for j, a in enumerate(levels)},
        "p_bad_debt": float(np.mean(bad > 0)),
        "uncovered_bad_debt_usd": float(results.uncovered_bad_debt_usd.mean()),
        "time_to_liquidation_hours": {
            "mean": float(hours.mean()) if hours.size else None,
            "median": float(np.median(hours)) if hours.size else None,
            "p05": float(np.quantile(hours, 0.05)) if hours.size else None,
        },
        "liquidation_cost_usd": float(results.liquidation_cost_usd[liq].mean()) if liq.any() else 0.0,
        "max_drawdown_usd": {"mean": float(results.max_drawdown_usd.mean()),
                             "p99": float(np.quantile(results.max_drawdown_usd, 0.99))},
    }
