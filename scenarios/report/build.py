"""``build_report``: a stress results directory (plus optional fidelity, limits and the previous report) ->
``report.html``, ``report.pdf``, ``report.xlsx`` and ``summary.json`` in one output directory.

Every file is written beside its target and renamed into place (a killed build leaves the previous files or
none, never half a file); ``summary.json`` comes last and lists the others with their sha256, so its presence
means the report is complete.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Mapping

from scenarios import __version__
from scenarios.errors import InputError
from scenarios.io import atomic_path, write_json_atomic, write_text_atomic
from scenarios.limits import Limits, check_limits, unmatched_books
from scenarios.report import summary as sm
from scenarios.report.document import Context, compose, now_utc
from scenarios.report.html import render_html
from scenarios.report.inputs import REPORT_KIND, load_fidelity, load_previous, load_results
from scenarios.report.pdf import write_pdf
from scenarios.report.xlsx import write_xlsx

FILES = ("report.html", "report.pdf", "report.xlsx")


def build_report(results_dir: Path, out_dir: Path, *, fidelity: Path | Mapping[str, Any] | None = None,
                 limits: Limits | None = None, previous: Path | Mapping[str, Any] | None = None,
                 run_info: dict | None = None) -> dict[str, Any]:
    """Build the committee report of a ``stressgan stress`` results directory.

    Parameters
    ----------
    results_dir : path
        Results directory (``summary.json``, ``paths/``, ``fans/``).
    out_dir : path
        Created if needed; ``report.html``, ``report.pdf``, ``report.xlsx`` and ``summary.json`` are replaced.
    fidelity : path or dict, optional
        ``stressgan evaluate``'s fidelity.json (or its directory, or the loaded dict).
    limits : Limits, optional
        Limits to check every run against (a path or mapping is loaded with :meth:`Limits.load`).
    previous : path or dict, optional
        An earlier report's ``summary.json`` (or its directory) for "changes since the last run".
    run_info : dict, optional
        Free-form provenance shown in the report (the nightly passes run name, date, config).

    Returns
    -------
    dict
        The ``summary.json`` written: ``worst_portfolios``, ``margin_adequacy``, ``breaches`` (list of dicts:
        portfolio, pack, margin_model, metric, value, limit, kind), ``changes`` (None without ``previous``),
        ``runs`` (headline metrics per run), ``fidelity``, ``provenance`` and ``files``.

    Raises
    ------
    InputError
        A missing or invalid results directory, fidelity file or previous report.
    """
    t0 = time.perf_counter()
    results = load_results(results_dir)
    if limits is not None and not isinstance(limits, Limits):
        limits = Limits.load(limits)
    fid, fid_file = load_fidelity(fidelity)
    prev, prev_file = load_previous(previous)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("report output exists and is not a directory", file=out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    heads = [sm.headline(r) for r in results.runs]
    breaches = check_limits(results.summary, limits)
    changes = sm.changes(heads, breaches, prev, prev_file)
    built_at = now_utc()
    ctx = Context(results=results, heads=heads, worst=sm.worst_portfolios(heads, breaches),
                  adequacy=sm.margin_adequacy(heads), breaches=breaches,
                  unmatched_books=unmatched_books(results.summary, limits), limits=limits, changes=changes,
                  fidelity=fid, fidelity_file=fid_file, run_info=run_info, built_at=built_at, version=__version__)
    doc = compose(ctx)
    summary = _summary(ctx)

    files: dict[str, dict[str, Any]] = {}
    write_text_atomic(render_html(doc), out_dir / "report.html")
    with atomic_path(out_dir / "report.pdf") as tmp:
        pages = write_pdf(doc, tmp)
    with atomic_path(out_dir / "report.xlsx") as tmp:
        write_xlsx(ctx, summary, tmp)
    for name in FILES:
        data = (out_dir / name).read_bytes()
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    files["report.pdf"]["pages"] = pages
    summary["files"] = files
    summary["build_seconds"] = round(time.perf_counter() - t0, 3)
    write_json_atomic(summary, out_dir / "summary.json")
    return summary


def _summary(ctx: Context) -> dict[str, Any]:
    res = ctx.results
    packs = []
    keep = ("label", "pack_id", "source", "regime", "severity", "seed", "n_paths", "horizon", "frequency",
            "assets", "model_fingerprint", "data_fingerprint", "created_at", "stressgan_version", "dir")
    for label in res.packs:
        p = res.pack_record(label)
        packs.append({k: p.get(k) for k in keep} | {"generator": (p.get("generator") or {}).get("model"),
                                                    "data": p.get("data")})
    books = [{k: res.book_record(b).get(k) for k in ("name", "description", "file", "sha256", "venue",
                                                     "margin_model")} for b in res.portfolios]
    fid = None
    if ctx.fidelity is not None:
        fid = {label: {k: v for k, v in m.items() if isinstance(v, (int, float, str)) or v is None}
               for label, m in ctx.fidelity["packs"].items()}
    return {
        "kind": REPORT_KIND, "version": 1, "created_at": ctx.built_at, "stressgan_version": __version__,
        "results_dir": str(res.directory),
        "scope": {"portfolios": res.portfolios, "packs": res.packs, "margin_models": res.models,
                  "n_runs": len(res.runs)},
        "sign_convention": "losses are positive (loss = -P&L, USD); shares in [0, 1]",
        "worst_portfolios": ctx.worst,
        "margin_adequacy": ctx.adequacy,
        "limits": ctx.limits.model_dump(mode="json", exclude_unset=True) if ctx.limits is not None else None,
        "limits_unmatched_books": ctx.unmatched_books,
        "breaches": [b.to_dict() for b in ctx.breaches],
        "changes": ctx.changes,
        "runs": ctx.heads,
        "fidelity": fid,
        "provenance": {
            "report": {"built_at": ctx.built_at, "stressgan_version": __version__,
                       "results_dir": str(res.directory), "results_created_at": res.summary.get("created_at"),
                       "results_stressgan_version": res.summary.get("stressgan_version"),
                       "venue_override": res.summary.get("venue_override"),
                       "fidelity_file": ctx.fidelity_file,
                       "previous_file": (ctx.changes or {}).get("previous_file")},
            "run_info": ctx.run_info,
            "packs": packs,
            "portfolios": books,
        },
    }
