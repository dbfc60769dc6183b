"""Held-out evidence table: GAN vs GJR-GARCH-t vs FHS vs historical on 2019 (never seen in training).

    python benchmarks/bench_heldout.py [--model DIR] [--train-end 2019-01-01] [--per-window 8] [--json OUT]

Prints the headline table (the README quotes it) and whether each of the issue's targets is met.
Without --model, evaluates the shipped model (trained with --train-end 2019-01-01).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from scenarios.heldout import headline_table, heldout_comparison, targets_met
from scenarios.market import load_market
from scenarios.neural import shipped_model_dir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--train-end", default="2019-01-01")
    ap.add_argument("--per-window", type=int, default=8)
    ap.add_argument("--no-classifier", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    model = args.model or shipped_model_dir()
    t = time.perf_counter()
    res = heldout_comparison(load_market(), model, train_end=args.train_end, n_per_window=args.per_window,
                             discriminate=not args.no_classifier)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(f"model {model}; real test windows: {res['n_real']}; {time.perf_counter() - t:.0f}s")
    print(headline_table(res).to_string(float_format=lambda v: f"{v:.4g}"))
    print()
    for k, v in targets_met(res).items():
        print(f"{'MET ' if v else 'MISS' if v is not None else 'n/a '}  {k}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
