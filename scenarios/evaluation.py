"""``stressgan evaluate``: fidelity of packs against the real windows of a period, side by side.

Each pack is compared with the real windows of ``[start, end)`` that have the pack's horizon: all of them for
a ``regime=all`` pack, those of the pack's regime otherwise (condition adherence is then reported). Windows
before ``start`` are the training side of the memorisation check. Regime rules come from the first pack's
manifest so real and generated windows are labelled alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.features import compute_features
from scenarios.fidelity import evaluate, fidelity_table, jsonable
from scenarios.market import MarketData
from scenarios.pack import ScenarioPack
from scenarios.regimes import RegimeRules
from scenarios.windows import RealWindows, cut_windows

CONTEXT_LEN = 48
MAX_PATHS = 20000


def pack_label(pack: ScenarioPack) -> str:
    """Column name of a pack in fidelity tables, e.g. ``gan:flash_crash``."""
    return f"{pack.manifest.source}:{pack.manifest.regime}"


def evaluate_packs(pack_dirs: list[Path], market: MarketData, *, start: str | None = None, end: str | None = None,
                   seed: int = 0, max_paths: int = MAX_PATHS, discriminate: bool = True) -> dict[str, Any]:
    """Fidelity metrics of each pack (at most ``max_paths`` paths, evenly spaced) against real windows.

    Returns ``{"period", "rules", "packs": {label: {"dir", "pack_id", "n_paths_evaluated", "n_real",
    **metrics}}}``, JSON-able.
    """
    if not pack_dirs:
        raise InputError("give at least one pack directory")
    packs = [ScenarioPack.read(d) for d in pack_dirs]
    assets = packs[0].assets
    for d, p in zip(pack_dirs, packs):
        if p.assets != tuple(market.assets):
            raise InputError(f"pack assets {', '.join(p.assets)} differ from the data's {', '.join(market.assets)}",
                             file=d)
        if abs(p.manifest.step_hours - market.step_hours) > 1e-9:
            raise InputError(f"pack has {p.manifest.frequency} steps, the data {market.frequency}", file=d)
    rules = RegimeRules.from_dict(packs[0].manifest.rules) if packs[0].manifest.rules else None
    features = compute_features(market)
    by_horizon: dict[int, RealWindows] = {}
    out: dict[str, Any] = {}
    for d, p in zip(pack_dirs, packs):
        h = p.manifest.horizon
        if h not in by_horizon:
            by_horizon[h] = cut_windows(features, CONTEXT_LEN, h, rules=rules)
        windows = by_horizon[h]
        real = windows.between(start, end)
        train = windows.between(None, start) if start else None
        regime = None if p.manifest.regime == "all" else p.manifest.regime
        if regime is not None:
            real = real.of_regime(regime)
        if len(real) < 5:
            raise InputError(f"only {len(real)} real {regime or ''} windows of {h} steps in the period; widen "
                             "--start/--end", file=d)
        idx = np.unique(np.linspace(0, len(p.returns) - 1, min(max_paths, len(p.returns))).astype(int))
        res = evaluate(p.returns[idx], p.liquidity[idx], p.sigma_ref[idx], real, train=train, rules=windows.rules,
                       step_hours=market.step_hours, requested_regime=regime, seed=seed,
                       discriminate=discriminate)
        label = pack_label(p)
        while label in out:
            label += "'"
        out[label] = {"dir": str(d), "pack_id": p.manifest.pack_id, "n_paths_evaluated": int(len(idx)),
                      "n_real": int(len(real))} | res
    period = {"start": start, "end": end, "assets": list(assets), "frequency": market.frequency}
    return jsonable({"period": period, "rules": (rules or windows.rules).to_dict(), "packs": out})


def table(result: dict[str, Any]) -> pd.DataFrame:
    """The side-by-side table (rows: metrics, one column per pack)."""
    return fidelity_table({k: v for k, v in result["packs"].items()})
