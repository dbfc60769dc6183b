"""Pack write + read throughput, size on disk and peak memory (each phase in its own process).

    python benchmarks/bench_pack_io.py [--paths 1000000] [--horizon 24] [--assets 2] [--chunk 65536]

Prints seconds for a chunked write (data generated chunk by chunk, as the sources do), a verified streaming
read (iter_chunks: one row group at a time), and a full read into arrays, with MB on disk and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def phase(kind: str, d: Path, n: int, h: int, a: int, chunk: int) -> dict:
    from scenarios.pack import Manifest, PackWriter, ScenarioPack, iter_chunks

    assets = [f"A{i}" for i in range(a)]
    t = time.perf_counter()
    if kind == "write":
        m = Manifest(source="gjr", regime="all", seed=0, n_paths=n, horizon=h, assets=assets, frequency="1h",
                     step_hours=1.0, start_prices={x: 1.0 for x in assets}, ref_volume_usd={x: 1.0 for x in assets},
                     data_fingerprint="bench")
        rng = np.random.default_rng(0)
        with PackWriter(d, m) as w:
            for lo in range(0, n, chunk):
                c = min(chunk, n - lo)
                r = (rng.standard_t(4, (c, h, a)) * 0.01).astype(np.float32)
                q = rng.normal(0, 0.8, (c, h, a)).astype(np.float32)
                w.write(r, q, np.full((c, a), 0.01, np.float32), np.zeros(c, np.int32))
    elif kind == "stream":
        total = sum(float(r.sum()) for _, (r, _, _, _) in iter_chunks(d))
    else:
        p = ScenarioPack.read(d)
        assert p.returns.shape == (n, h, a)
    secs = time.perf_counter() - t
    return {"phase": kind, "seconds": secs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=1_000_000)
    ap.add_argument("--horizon", type=int, default=24)
    ap.add_argument("--assets", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--phase", default=None)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.dir, args.paths, args.horizon, args.assets, args.chunk)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "pack"
        print(f"pack of {args.paths:,} paths x {args.horizon} steps x {args.assets} assets "
              f"(returns + liquidity float32), chunks of {args.chunk:,}")
        baseline = None
        for kind in ("write", "stream", "read"):
            out = subprocess.run([sys.executable, __file__, "--phase", kind, "--dir", str(d), "--paths",
                                  str(args.paths), "--horizon", str(args.horizon), "--assets", str(args.assets),
                                  "--chunk", str(args.chunk)], capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            size = sum(f.stat().st_size for f in d.glob("*")) / 1e6
            raw = args.paths * args.horizon * args.assets * 8 / 1e6
            print(f"  {kind:6s} {res['seconds']:6.2f} s   peak RSS {res['peak_rss_mb']:7.0f} MB   "
                  f"({raw / res['seconds']:.0f} MB/s of float32 data)")
        print(f"  on disk {size:.0f} MB (zstd) for {raw:.0f} MB of float32 data")


if __name__ == "__main__":
    main()
