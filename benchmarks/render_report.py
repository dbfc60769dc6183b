"""Build a committee report, time it, and render what a reader sees to PNG files for a visual check.

    python benchmarks/render_report.py RESULTS_DIR --out /tmp/report_check [--fidelity F] [--limits F]
                                       [--previous DIR] [--scale 1.4]

Writes ``OUT/report/`` (the report), ``OUT/pages/page-NN.png`` (every PDF page rendered with pypdfium2) and
``OUT/charts/NN-<id>.png`` (the charts embedded in the HTML, decoded from base64: the same pixels as in the
PDF). Prints the build time per stage and the page count. Open the PNGs and look: overlaps, clipped labels,
unreadable tables. Never passes or fails on time.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import pstats
import re
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--fidelity", type=Path)
    ap.add_argument("--limits", type=Path)
    ap.add_argument("--previous", type=Path)
    ap.add_argument("--scale", type=float, default=1.4, help="PDF render scale (1 = 72 dpi)")
    ap.add_argument("--profile", action="store_true", help="print the 25 most expensive calls")
    args = ap.parse_args()

    from scenarios.limits import Limits
    from scenarios.report import build_report

    limits = Limits.load(args.limits) if args.limits else None
    report = args.out / "report"
    prof = cProfile.Profile() if args.profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    summary = build_report(args.results, report, fidelity=args.fidelity, limits=limits, previous=args.previous,
                           run_info={"benchmark": "render_report.py"})
    if prof:
        prof.disable()
    dt = time.perf_counter() - t0
    scope = summary["scope"]
    print(f"report: {len(scope['portfolios'])} books x {len(scope['packs'])} packs x "
          f"{len(scope['margin_models'])} models ({scope['n_runs']} runs) built in {dt:.2f} s")
    for name, f in summary["files"].items():
        print(f"  {name}: {f['bytes'] / 1e6:.2f} MB" + (f", {f['pages']} pages" if "pages" in f else ""))
    print(f"  breaches: {len(summary['breaches'])}")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)

    import pypdfium2 as pdfium

    pages = args.out / "pages"
    pages.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pdf = pdfium.PdfDocument(str(report / "report.pdf"))
    for i in range(len(pdf)):
        pdf[i].render(scale=args.scale).to_pil().save(pages / f"page-{i + 1:02d}.png")
    print(f"rendered {len(pdf)} PDF pages to {pages} in {time.perf_counter() - t0:.2f} s")

    charts = args.out / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    html = (report / "report.html").read_text(encoding="utf-8")
    found = re.findall(r'<figure id="([^"]+)">\s*<img alt="[^"]*" src="data:image/png;base64,([^"]+)"', html)
    for i, (cid, b64) in enumerate(found, 1):
        (charts / f"{i:02d}-{cid[:60]}.png").write_bytes(base64.b64decode(b64))
    print(f"wrote {len(found)} HTML charts to {charts}")


if __name__ == "__main__":
    main()
