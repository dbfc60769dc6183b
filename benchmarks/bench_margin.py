"""Margin-engine throughput, printed (never asserted).

For a market maker's option book (5 options + a perp hedge, ``margin/books/mm_delta_hedged.yaml``) and a
one-line leveraged perp, on synthetic BTC paths of 24 hourly steps, prints for each margin model:
position-steps per second (paths x steps x positions / wall time), the ratio to the plain per-path Python
reference (``benchmarks/margin_reference.py``), peak memory for 1M paths, and the memory-bandwidth floor
(bytes the engine must read per position-step / measured copy bandwidth).

Usage::

    python benchmarks/bench_margin.py                 # 200k paths per model, 1M for the memory figure
    python benchmarks/bench_margin.py --paths 1000000 --threads 2
    python benchmarks/bench_margin.py --quick         # 20k paths, a smoke run

Timings on a shared machine are noisy: the load average is printed next to them, and each figure is the
best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from margin import load_portfolio, set_kernel_threads, simulate
from margin.paths import MarketPaths

HERE = Path(__file__).resolve().parent
MODELS = ("tiered", "risk_matrix", "span", "es")


def synthetic_paths(n: int, horizon: int = 24, seed: int = 0) -> MarketPaths:
    """Student-t(4) hourly returns at ~0.6%/h, N(0, 0.5) log-liquidity, one year of history.

    Filled in blocks of 65,536 paths so that generating 1M paths does not itself set the memory peak.
    """
    rng = np.random.default_rng(seed)
    scale = 0.006 / np.sqrt(2.0)
    r = np.empty((n, horizon, 1), np.float32)
    q = np.empty((n, horizon, 1), np.float32)
    for i in range(0, n, 65536):
        j = min(n, i + 65536)
        r[i:j] = scale * rng.standard_t(4, size=(j - i, horizon, 1))
        q[i:j] = 0.5 * rng.standard_normal((j - i, horizon, 1))
    hist = (scale * rng.standard_t(4, size=(8760, 1))).astype(np.float32)
    return MarketPaths(r, q, ("BTC",), 1.0, np.array([30000.0]), np.array([5e7]), hist)


def _reference():
    spec = importlib.util.spec_from_file_location("margin_reference", HERE / "margin_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def time_engine(book, paths, model, repeat: int, **options) -> tuple[float, float]:
    """Best wall and CPU seconds over ``repeat`` runs."""
    best_wall, best_cpu = np.inf, np.inf
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        simulate(book, paths, model, venue="reference", **options)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu


def time_reference(ref, book, paths, model) -> float:
    t0 = time.perf_counter()
    ref.reference_simulate(book, paths, model, venue="reference")
    return time.perf_counter() - t0


def copy_bandwidth_gbs(mbytes: int = 512) -> float:
    """Best-of-5 numpy copy bandwidth (read + write bytes per second), GB/s."""
    a = np.ones(mbytes * (1 << 20) // 8)
    b = np.empty_like(a)
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best / 1e9


def memory_child(n: int, model: str, threads: int) -> dict:
    """Run one simulation of ``n`` paths in a fresh process; report its peak resident memory.

    The child reads ``VmHWM`` (peak RSS of its own address space) from /proc before and after
    ``simulate``; ``ru_maxrss`` would carry over the parent's peak across fork+exec. tracemalloc adds the
    peak of numpy allocations during the call (torch's small workspace is not traced).
    """
    code = (
        "import json, tracemalloc, warnings, sys; sys.path.insert(0, %r)\n"
        "warnings.simplefilter('ignore')\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'): return int(line.split()[1]) / 1024\n"
        "from bench_margin import synthetic_paths\n"
        "from margin import load_portfolio, simulate, set_kernel_threads\n"
        "set_kernel_threads(%d)\n"
        "paths = synthetic_paths(%d); book = load_portfolio('mm_delta_hedged')\n"
        "simulate(book, synthetic_paths(1000, seed=3), %r, venue='reference')\n"
        "before = hwm()\n"
        "tracemalloc.start(); res = simulate(book, paths, %r, venue='reference')\n"
        "cur, peak = tracemalloc.get_traced_memory()\n"
        "print(json.dumps({'hwm_mb': hwm(), 'hwm_before_mb': before, 'traced_peak_mb': peak / 2**20,"
        " 'input_mb': (paths.returns.nbytes + paths.liquidity.nbytes) / 2**20,"
        " 'results_mb': sum(v.nbytes for v in res.to_frame().to_dict('series').values()) / 2**20}))\n"
    ) % (str(HERE), threads, n, model, model)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=200_000)
    ap.add_argument("--memory-paths", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.paths, args.memory_paths, args.repeat = 20_000, 100_000, 1
    warnings.simplefilter("ignore")
    set_kernel_threads(args.threads)
    horizon = 24
    print(f"margin engine benchmark: {args.paths:,} paths x {horizon} steps, kernel threads={args.threads}, "
          f"cpus={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    paths = synthetic_paths(args.paths, horizon)
    books = {"mm_delta_hedged (5 options + perp)": load_portfolio("mm_delta_hedged"),
             "leveraged_long_perp (1 perp)": load_portfolio("leveraged_long_perp")}
    ref = _reference()
    ref_paths = synthetic_paths(60, horizon, seed=1)
    results = []
    for label, book in books.items():
        n_pos = len(book.positions)
        print(f"\n{label}: {n_pos} positions")
        print(f"{'model':12s} {'wall s':>8s} {'cpu s':>8s} {'M pos-steps/s':>14s} {'ref pos-steps/s':>16s} "
              f"{'x reference':>12s}")
        for model in MODELS:
            simulate(book, synthetic_paths(2000, horizon, seed=2), model, venue="reference")   # warm-up
            wall, cpu = time_engine(book, paths, model, args.repeat)
            rate = args.paths * horizon * n_pos / wall
            n_ref = 60 if model == "tiered" or n_pos == 1 else 12
            ref_wall = time_reference(ref, book, ref_paths.slice(0, n_ref), model)
            ref_rate = n_ref * horizon * n_pos / ref_wall
            results.append((label, model, rate))
            print(f"{model:12s} {wall:8.2f} {cpu:8.2f} {rate / 1e6:14.1f} {ref_rate:16,.0f} {rate / ref_rate:12,.0f}")

    book = books["mm_delta_hedged (5 options + perp)"]
    n_pos = len(book.positions)
    print("\nvariants, mm_delta_hedged (CPU seconds count both threads):")
    for model, threads, fast in (("tiered", args.threads, True), ("tiered", 2, False), ("tiered", 2, True),
                                 ("risk_matrix", 2, False)):
        set_kernel_threads(threads)
        wall, cpu = time_engine(book, paths, model, args.repeat, fast_marks=fast)
        print(f"  {model:12s} threads={threads} fast_marks={fast!s:5s}: {wall:6.2f} s wall, {cpu:6.2f} s cpu, "
              f"{args.paths * horizon * n_pos / wall / 1e6:6.1f} M pos-steps/s")
    set_kernel_threads(args.threads)

    bw = copy_bandwidth_gbs()
    bytes_per_pos_step = 8.0 / n_pos      # float32 return + float32 liquidity per path-step, shared by the positions
    floor = bw * 1e9 / bytes_per_pos_step
    print(f"\nmemory bandwidth (numpy copy, read+write): {bw:.1f} GB/s")
    print(f"bandwidth floor: the engine must read {bytes_per_pos_step:.2f} bytes per position-step (8 bytes of "
          f"inputs per path-step over {n_pos} positions) -> {floor / 1e9:.1f}G position-steps/s")
    for label, model, rate in results:
        if label.startswith("mm_delta"):
            print(f"  {model:12s} runs at {rate / floor:.2%} of the bandwidth floor (compute bound: Black-76 "
                  "with two erf per option and scenario)")

    print(f"\npeak memory, {args.memory_paths:,} paths, mm_delta_hedged (fresh process):")
    for model in ("tiered", "risk_matrix"):
        mem = memory_child(args.memory_paths, model, args.threads)
        print(f"  {model:12s} peak RSS {mem['hwm_mb']:,.0f} MB; before simulate {mem['hwm_before_mb']:,.0f} MB "
              f"(interpreter, torch, {mem['input_mb']:,.0f} MB of input paths); numpy peak during simulate "
              f"{mem['traced_peak_mb']:,.0f} MB, of which per-path results {mem['results_mb']:,.0f} MB")
    print(f"\nload average after the run: {os.getloadavg()[0]:.2f} (other processes share these cores)")


if __name__ == "__main__":
    main()
