"""``stressgan demo``: the whole product on the bundled data in a few minutes on 2 CPU cores.

A nightly run with built-in settings: the shipped GAN and the GJR-GARCH, FHS and historical baselines generate
calm, flash-crash and liquidity-drought packs; the five example books run through tiered and risk-matrix margin
on the reference venue (like-for-like); fidelity against the real windows of each regime; the committee report.
The run date is the last day of the bundled data, so every demo reproduces the same numbers.
"""

from __future__ import annotations

from datetime import date as Date
from pathlib import Path

from scenarios.console import Reporter
from scenarios.limits import Limits
from scenarios.nightly import NightlyConfig, NightlyRun

DEMO_DATE = Date(2019, 10, 17)
BOOKS = ["leveraged_long_perp", "basis_trade", "short_vol_seller", "mm_delta_hedged", "coin_margined_inverse"]


def demo_config(out: Path, paths: int = 10000) -> NightlyConfig:
    """The demo's nightly config writing into ``out``."""
    return NightlyConfig(
        name="demo", output_root=str(out.resolve()),
        scenarios={"sources": ["gan", "gjr", "fhs", "historical"], "paths": paths, "horizon": 24, "seed": 7,
                   "regimes": [{"regime": "calm"}, {"regime": "flash_crash"}, {"regime": "liquidity_drought"}]},
        portfolios=BOOKS, margin_models=["tiered", "risk_matrix"], venue="reference",
        limits=Limits(es99_usd=2_000_000, expected_bad_debt_usd=10_000, p_liquidation=0.10),
    )


def run_demo(out: Path, *, paths: int = 10000, quiet: bool = False) -> tuple[int, Path]:
    """Run the demo; returns (exit code, path of report.html)."""
    cfg = demo_config(out, paths)
    code = NightlyRun(cfg, DEMO_DATE, Reporter(quiet), config_path=None).run()
    return code, out / DEMO_DATE.isoformat() / "report" / "report.html"
