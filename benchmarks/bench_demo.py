"""End-to-end ``stressgan demo`` time on this machine, per stage, with peak memory (printed, never asserted).

    python benchmarks/bench_demo.py [--paths 10000] [--threads 2] [--keep DIR]

Runs the demo exactly as ``make demo`` does (shipped model, 4 sources x 3 regimes, 5 books x 2 margin models,
fidelity, report) into a fresh temporary directory, so no stage is skipped, and prints the seconds of every
stage from the run's ``summary.json``, the total wall time including imports, and the peak RSS. The design's
figure: a few minutes at most on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=10000, help="paths per pack (the demo's default)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument("--keep", type=Path, default=None, help="write the run here instead of a temporary folder")
    args = ap.parse_args()

    t0 = time.perf_counter()
    import torch

    from scenarios.demo import run_demo

    if args.threads:
        torch.set_num_threads(args.threads)
    t_import = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="stressgan-bench-demo-") as tmp:
        out = args.keep or Path(tmp)
        t1 = time.perf_counter()
        code, report = run_demo(out, paths=args.paths, quiet=True)
        wall = time.perf_counter() - t1
        summary = json.loads((report.parent.parent / "summary.json").read_text())
    print(f"cpus {os.cpu_count()}, torch threads {torch.get_num_threads()}, paths per pack {args.paths}, "
          f"packs {len(summary['packs'])}, nightly code {code} (1: the demo limits are breached; `demo` exits 0)")
    for stage, rec in summary["stages"].items():
        print(f"  {stage:<10} {rec['seconds']:8.1f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"imports {t_import:.1f} s; demo {wall:.1f} s; total {t_import + wall:.1f} s; peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
