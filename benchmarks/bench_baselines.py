"""Baseline generation throughput next to arch's own simulation, and the cost of a fidelity evaluation.

Prints figures, never asserts. Run: ``python benchmarks/bench_baselines.py [--n 200000]``.

- GJR-GARCH-t and FHS paths per second (h = 24) on the bundled hourly BTC (1 asset) and daily BTC/ETH/LTC
  (3 assets), chunks of 65536 paths, float32 output;
- ``arch``'s ``forecast(method="simulation", simulations=N)`` with the same parameters from the same state
  (1 asset; for 3 assets, three univariate forecasts: arch has no multivariate GARCH, so no dependence);
- ``scenarios.fidelity.evaluate`` of 10k GJR paths against 5k real windows (with the memorisation check
  against the training windows and the discriminator).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

from scenarios.baselines import FHS, GJR, FilteredBaseline
from scenarios.features import Features, compute_features
from scenarios.fidelity import evaluate
from scenarios.market import load_market
from scenarios.windows import cut_windows

TRAIN_END = pd.Timestamp("2019-01-01", tz="UTC")
HORIZON = 24


def paths_per_second(model: FilteredBaseline, start: pd.Timestamp, n: int, repeats: int = 3) -> float:
    """Best of ``repeats`` runs of generating ``n`` paths (all chunks consumed)."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for r, q in model.simulate(pd.DatetimeIndex([start]), n, HORIZON, seed=0):
            pass
        best = min(best, time.perf_counter() - t0)
    return n / best


def arch_paths_per_second(model: FilteredBaseline, features: Features, start: pd.Timestamp, n: int,
                          repeats: int = 3) -> float:
    """``arch`` forecast simulation from the bar before ``start``, every asset in turn; paths (all assets)/s."""
    from arch import arch_model

    fixed = []
    for j, asset in enumerate(features.assets):
        p = model.garch_params[j]
        y = features.returns[asset].dropna() * 100.0
        y = y[y.index < start]
        am = arch_model(y, mean="Constant", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False)
        fixed.append(am.fix([p.mu, p.omega, p.alpha, p.gamma, p.beta, p.nu]))
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for res in fixed:
                res.forecast(horizon=HORIZON, method="simulation", simulations=n, reindex=False)
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000, help="paths per generation run")
    args = ap.parse_args()
    import torch

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"generation: n = {args.n:,} paths x {HORIZON} steps, float32, best of 3\n")
    print(f"{'data':<26}{'source':<8}{'paths/s':>12}{'arch paths/s':>15}{'ratio':>8}")
    cases = (("hourly BTC (1 asset)", load_market(), pd.Timestamp("2019-06-26 19:00", tz="UTC")),
             ("daily BTC/ETH/LTC (3)", load_market("daily"), pd.Timestamp("2019-06-27", tz="UTC")))
    for label, market, start in cases:
        features = compute_features(market)
        gjr = GJR().fit(features, TRAIN_END)
        arch_rate = arch_paths_per_second(gjr, features, start, args.n)
        for model in (gjr, FHS().fit(features, TRAIN_END)):
            rate = paths_per_second(model, start, args.n)
            print(f"{label:<26}{model.name:<8}{rate:>12,.0f}{arch_rate:>15,.0f}{rate / arch_rate:>7.1f}x")

    features = compute_features(load_market())
    windows = cut_windows(features, 48, HORIZON)
    train, test = windows.between(None, TRAIN_END), windows.between(TRAIN_END, None)
    real = test.subset(np.arange(min(5000, len(test))))
    gjr = GJR().fit(features, TRAIN_END)
    chunks = list(gjr.simulate_chunks(real.start, 10_000, HORIZON, seed=0))
    r, q, s = (np.concatenate([getattr(c, f) for c in chunks]) for f in ("returns", "liquidity", "sigma_ref"))
    evaluate(r[:500], q[:500], s[:500], real.subset(np.arange(500)), seed=0)  # warm up torch
    for label, kw in (("all metrics", {"train": train}), ("no discriminator", {"train": train,
                                                                                "discriminate": False}),
                      ("no memorisation, no discriminator", {"discriminate": False})):
        t0 = time.perf_counter()
        evaluate(r, q, s, real, seed=0, **kw)
        print(f"\nevaluate 10k generated x {len(real):,} real ({len(train):,} train windows), {label}: "
              f"{time.perf_counter() - t0:.2f} s", end="")
    print()


if __name__ == "__main__":
    main()
