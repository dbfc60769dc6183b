"""Per-path results of a simulation: a small dataclass of arrays, with a pandas view for Parquet."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

PER_PATH = (
    "final_pnl_usd", "worst_pnl_usd", "min_equity_usd", "max_drawdown_usd", "margin_calls", "liquidated",
    "liquidation_step", "liquidation_cost_usd", "bad_debt_usd", "insurance_paid_usd", "adl_usd",
    "uncovered_bad_debt_usd", "mpor_loss_usd",
)


@dataclass(frozen=True)
class PathResults:
    """One entry per path (arrays of shape ``[n_paths]``) plus the run's scalars.

    Attributes
    ----------
    final_pnl_usd : float64, equity at the horizon minus equity at the start (P&L: gains positive).
    worst_pnl_usd : float64, lowest equity over the path (marks before and after liquidation) minus the
        start equity; below ``-initial_equity_usd`` when the account went negative before bad debt was covered.
    min_equity_usd : float64, lowest equity over the path (market value, no haircut).
    max_drawdown_usd : float64, largest fall of equity from a running peak (>= 0).
    margin_calls : int32, steps at which margin equity was below maintenance margin.
    liquidated : bool, at least one liquidation. liquidation_step : int32, first liquidation step (1..H),
        -1 if none. liquidation_cost_usd : float64, slippage plus liquidation fees paid.
    bad_debt_usd : float64, negative equity left after liquidation (the venue's loss before cover).
    insurance_paid_usd, adl_usd, uncovered_bad_debt_usd : float64, how that bad debt was covered:
        by the insurance fund, by auto-deleveraging (if the venue uses ADL), or not at all.
    mpor_loss_usd : float64, loss (positive) of the unchanged opening positions over the margin period of
        risk (first ``mpor_steps`` steps): change of their marks, settlement values for those expiring
        earlier; collateral revaluation and funding are left out (haircuts, not IM, cover collateral). For
        initial-margin coverage.
    initial_equity_usd, initial_margin_usd, maintenance_margin_usd : float, at the start (same on every path).
    equity_path_usd : float32[n_paths, H+1] or None, equity after each step when recorded.
    """

    final_pnl_usd: np.ndarray
    worst_pnl_usd: np.ndarray
    min_equity_usd: np.ndarray
    max_drawdown_usd: np.ndarray
    margin_calls: np.ndarray
    liquidated: np.ndarray
    liquidation_step: np.ndarray
    liquidation_cost_usd: np.ndarray
    bad_debt_usd: np.ndarray
    insurance_paid_usd: np.ndarray
    adl_usd: np.ndarray
    uncovered_bad_debt_usd: np.ndarray
    mpor_loss_usd: np.ndarray
    initial_equity_usd: float
    initial_margin_usd: float
    maintenance_margin_usd: float
    step_hours: float
    horizon_steps: int
    mpor_steps: int
    portfolio: str
    margin_model: str
    venue: str
    equity_path_usd: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_paths(self) -> int:
        return int(self.final_pnl_usd.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per path, one column per per-path field; the scalars are in ``DataFrame.attrs``."""
        df = pd.DataFrame({name: getattr(self, name) for name in PER_PATH})
        df.index.name = "path"
        df.attrs.update({f.name: getattr(self, f.name) for f in fields(self)
                         if f.name not in PER_PATH and f.name != "equity_path_usd"})
        return df

    @classmethod
    def concat(cls, parts: list["PathResults"]) -> "PathResults":
        """Join the results of consecutive chunks of paths (scalars from the first chunk)."""
        first = parts[0]
        arrays = {name: np.concatenate([getattr(p, name) for p in parts]) for name in PER_PATH}
        eq = None
        if first.equity_path_usd is not None:
            eq = np.concatenate([p.equity_path_usd for p in parts])
        return replace(first, equity_path_usd=eq, **arrays)
