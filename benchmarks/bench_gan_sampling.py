"""GAN sampling throughput (paths x 24 steps per second) next to arch's GJR-GARCH-t simulation, and FLOPs per path.

Prints figures, never asserts (the target is >= 100k paths x 24 steps per second on 2 CPU cores).

    python benchmarks/bench_gan_sampling.py                 # default architecture, untrained weights
    python benchmarks/bench_gan_sampling.py --model DIR     # an exported model (same cost per path)
    python benchmarks/bench_gan_sampling.py --paths 2000000 --repeats 5

Throughput is the best of ``--repeats`` runs (the machine may be shared), with the median beside it; it includes
noise generation, the network, de-normalisation and the float32 numpy chunks the caller receives.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from gan.checkpoint import load_generator
from gan.config import GanConfig
from gan.model import Generator
from gan.sampler import Sampler


def time_sampler(sampler: Sampler, n_contexts: int, n_paths: int, horizon: int, repeats: int) -> tuple[float, float]:
    """Best and median paths per second for ``n_paths`` paths spread round-robin over ``n_contexts`` contexts."""
    cfg = sampler.config
    context = np.random.default_rng(0).standard_normal((n_contexts, cfg.context_len, cfg.n_channels), np.float32)
    covariates = mean_covariates(sampler.generator)
    for _ in sampler.sample(context, 0, 0.5, min(n_paths, 65536), horizon, seed=0, covariates=covariates):  # warm-up
        pass
    rates = []
    for r in range(repeats):
        start = time.perf_counter()
        for _ in sampler.sample(context, "flash_crash" if "flash_crash" in cfg.regimes else 0, 0.8, n_paths,
                                horizon, seed=r + 1, covariates=covariates, chunk_size=65536):
            pass
        if sampler.device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(n_paths / (time.perf_counter() - start))
    return max(rates), statistics.median(rates)


def mean_covariates(generator: Generator) -> np.ndarray | None:
    """The training mean of the covariates (float32[F], data units) of a covariate model, else None."""
    if not generator.config.n_covariates:
        return None
    return generator.covariate_loc.detach().cpu().numpy().astype(np.float32)


def measured_flops_per_path(generator: Generator, n: int = 4096) -> float:
    """FLOPs counted by torch's FlopCounterMode for ``n`` paths sharing one context, per path."""
    cfg = generator.config
    g = generator.to("cpu")
    with torch.inference_mode():
        ctx = torch.zeros(1, cfg.context_len, cfg.n_channels)
        cov = torch.zeros(1, cfg.n_covariates) if cfg.n_covariates else None  # normalised: the training mean
        cond = g.condition(ctx, torch.zeros(1, dtype=torch.int64), torch.zeros(1), cov)
        z, eps = g.draw_noise(n, torch.Generator().manual_seed(0), "cpu")
        with FlopCounterMode(display=False) as counter:
            g.paths(cond, z, eps)
    return counter.get_total_flops() / n


def arch_rate(n_sims: int, horizon: int, repeats: int) -> tuple[float, float]:
    """Paths per second of ``arch``'s GJR-GARCH(1,1)-t simulation forecast on synthetic GARCH-t returns."""
    from arch import arch_model
    from arch.univariate import GARCH, StudentsT, ZeroMean

    rng = np.random.default_rng(0)
    sim = ZeroMean(volatility=GARCH(p=1, o=1, q=1), distribution=StudentsT(seed=rng))
    returns = sim.simulate([0.02, 0.08, 0.05, 0.85, 6.0], 5000)["data"]  # percent-scale hourly-like returns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = arch_model(returns, vol="GARCH", p=1, o=1, q=1, dist="t").fit(disp="off")
        res.forecast(horizon=horizon, method="simulation", simulations=1000, reindex=False)  # warm-up
        rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            res.forecast(horizon=horizon, method="simulation", simulations=n_sims, reindex=False)
            rates.append(n_sims / (time.perf_counter() - start))
    return max(rates), statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="exported model directory (default: untrained default architecture)")
    parser.add_argument("--paths", type=int, default=1_000_000, help="paths per CPU timing run")
    parser.add_argument("--gpu-paths", type=int, default=8_000_000, help="paths per GPU timing run")
    parser.add_argument("--arch-sims", type=int, default=100_000, help="arch simulations per timing run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--contexts", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--long-horizon", type=int, default=72, help="also time this horizon (0: skip)")
    args = parser.parse_args()
    horizon = 24

    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {cpu}")
    if args.model:
        generator, config = load_generator(args.model)
        setups = [(f"model {args.model}", generator)]
    else:
        torch.manual_seed(0)
        setups = [(f"{a} asset(s), C={2 * a}, L=48, H=24", Generator(GanConfig(n_channels=2 * a)))
                  for a in (1, 3)]

    print(f"\n{'generator':32s} {'FLOPs/path':>11s} {'(formula)':>10s} {'contexts':>8s} {'device':>6s} "
          f"{'paths/s best':>13s} {'median':>10s} {'path-steps/s':>13s}")
    for name, generator in setups:
        flops = measured_flops_per_path(generator)
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for device in devices:
            sampler = Sampler(generator, device=device)
            n = args.paths if device == "cpu" else args.gpu_paths
            for k in args.contexts:
                best, median = time_sampler(sampler, k, n, horizon, args.repeats)
                print(f"{name:32s} {flops:11,.0f} {generator.flops_per_path():10,d} {k:8d} {device:>6s} "
                      f"{best:13,.0f} {median:10,.0f} {best * horizon:13,.0f}")
            generator.to("cpu")
        if args.long_horizon:  # autoregressive blocks: contexts are re-encoded per path after the first block
            sampler = Sampler(generator, device="cpu")
            best, median = time_sampler(sampler, max(args.contexts), args.paths // 4, args.long_horizon, args.repeats)
            print(f"{name:32s} {'horizon ' + str(args.long_horizon):>22s} {max(args.contexts):8d} {'cpu':>6s} "
                  f"{best:13,.0f} {median:10,.0f} {best * args.long_horizon:13,.0f}")

    best, median = arch_rate(args.arch_sims, horizon, args.repeats)
    print(f"\narch GJR-GARCH(1,1)-t forecast(method='simulation', horizon={horizon}), 1 asset, CPU: "
          f"{best:,.0f} paths/s best, {median:,.0f} median ({best * horizon:,.0f} path-steps/s)")
    print("target: >= 100,000 paths x 24 steps per second on 2 CPU cores")


if __name__ == "__main__":
    main()
