"""Rich tables printed by the CLI (stdout). Kept apart from the logic so commands stay thin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
if not console.is_terminal:  # logs and pipes: wide enough for every table
    console = Console(highlight=False, width=160)


def print_market_summary(s: dict[str, Any]) -> None:
    console.print(f"[bold]{s['source']}[/bold]: {', '.join(s['assets'])}, {s['frequency']} bars, "
                  f"{s['start']} .. {s['end']}, {s['rows']:,} rows, fingerprint {s['fingerprint']}")
    gaps = "; ".join(f"{a} -> {b}" for a, b in s["long_gaps"]) or "none"
    console.print(f"filled bars (gap rule): {s['filled_bars']}; long gaps left out: {gaps}")
    t = Table("asset", "first", "last", "min", "max", "ann. vol", "worst bar", "at", "max DD", "median vol/bar",
              "zero-vol bars")
    for a, x in s["per_asset"].items():
        t.add_row(a, f"{x['first_close']:,.2f}", f"{x['last_close']:,.2f}", f"{x['min_close']:,.2f}",
                  f"{x['max_close']:,.2f}", f"{x['annual_vol']:.0%}", f"{x['worst_bar']:+.2%}", x["worst_bar_at"][:16],
                  f"{x['max_drawdown']:+.1%}", f"${x['median_volume_usd']:,.0f}", str(x["zero_volume_bars"]))
    console.print(t)


def print_episode_summary(ep: pd.DataFrame, hours: dict[str, float], rules, out: Path) -> None:
    total = sum(hours.values()) or 1.0
    t = Table("regime", "episodes", "hours", "share")
    for name, h in hours.items():
        n = int((ep.regime == name).sum()) if name != "calm" else "-"
        t.add_row(name, str(n), f"{h:,.0f}", f"{h / total:.1%}")
    console.print(t)
    crashes = ep[ep.regime == "flash_crash"].sort_values("severity", ascending=False).head(10)
    if len(crashes):
        c = Table("flash crash start", "end", "severity (z)", "drawdown", "volume ratio", title="Worst flash crashes")
        for _, e in crashes.iterrows():
            c.add_row(str(e.start)[:16], str(e.end)[:16], f"{e.severity:.1f}", f"{e.drawdown:+.1%}",
                      f"{e.volume_ratio:.2f}")
        console.print(c)
    console.print(f"{len(ep)} episodes written to {out} (drought illiquidity threshold "
                  f"{rules.drought_illiquidity:.3f})")


def print_frame(df: pd.DataFrame, title: str | None = None, floatfmt: str = "{:.4g}") -> None:
    """Any small DataFrame as a table (index as the first column)."""
    t = Table(df.index.name or "", *map(str, df.columns), title=title)
    for idx, row in df.iterrows():
        t.add_row(str(idx), *[(floatfmt.format(v) if isinstance(v, float) else str(v)) for v in row])
    console.print(t)
