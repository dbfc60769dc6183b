"""``stressgan stress``: portfolios x packs x margin models through the margin engine.

Packs are streamed one stored chunk at a time (bounded memory); each chunk becomes a
:class:`margin.MarketPaths` anchored at the pack's start prices and liquidity levels, with the real returns
before the data's end as lookback for the ES margin model.

Results directory::

    summary.json                   runs: per portfolio x pack x margin model, the tail metrics of
                                   margin.summarize (losses positive, USD) and provenance of every input
    paths/<book>__<pack>__<model>.parquet   per-path results (margin.PathResults.to_frame())
    fans/<pack>.json               per-step quantiles of price (relative to start) and liquidity per asset
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios import __version__
from scenarios.console import Reporter
from scenarios.errors import InputError
from scenarios.io import write_json_atomic, write_parquet_atomic
from scenarios.market import BUNDLED, MarketData, load_market
from scenarios.pack import Manifest, iter_chunks, read_manifest

FAN_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HISTORY_BARS = 24 * 365  # lookback handed to the ES margin model (one year of bars at most)
RESULTS_KIND = "stressgan.stress-results"


@dataclass
class PackRef:
    label: str
    directory: Path
    manifest: Manifest


def safe_name(text: str) -> str:
    """File-name-safe version of a label (``gan:flash_crash`` -> ``gan-flash_crash``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def pack_refs(pack_dirs: list[Path]) -> list[PackRef]:
    """Verified manifests with unique labels ``source:regime[:severity]``."""
    refs: list[PackRef] = []
    seen: set[str] = set()
    for d in pack_dirs:
        m = read_manifest(d, verify=True)
        label = f"{m.source}:{m.regime}"
        if m.severity is not None and m.regime != "all" and abs(m.severity - 0.5) > 1e-9:
            label += f":{m.severity:g}"
        if label in seen:
            label = f"{label}:{Path(d).name}"
        seen.add(label)
        refs.append(PackRef(label, Path(d), m))
    return refs


def history_for(manifest: Manifest, data: MarketData | None) -> np.ndarray | None:
    """float32[n_hist, a]: real log returns before the pack starts, from ``data`` or from the bundled set the
    pack was generated on (matched by data fingerprint); None when neither is available."""
    if data is None:
        for name in BUNDLED:
            md = load_market(name)
            if md.fingerprint() == manifest.data_fingerprint:
                data = md
                break
    if data is None or tuple(data.assets) != tuple(manifest.assets):
        return None
    r = np.log(data.field("close")).diff().to_numpy(np.float32)[-HISTORY_BARS:]
    return r[np.isfinite(r).all(axis=1)]


def fan_quantiles(directory: Path, manifest: Manifest, max_paths: int = 50000) -> dict[str, Any]:
    """Per-step quantiles of the price relative to its start and of liquidity, per asset, from the first
    ``max_paths`` paths (for fan charts)."""
    rets, liqs, n = [], [], 0
    for _, (r, q, _, _) in iter_chunks(directory, manifest=manifest, verify=False):
        rets.append(r)
        liqs.append(q)
        n += len(r)
        if n >= max_paths:
            break
    r = np.concatenate(rets)[:max_paths]
    q = np.concatenate(liqs)[:max_paths]
    price = np.exp(np.concatenate([np.zeros((len(r), 1, r.shape[2])), np.cumsum(r, axis=1, dtype=np.float64)], 1))
    out = {"quantiles": list(FAN_QUANTILES), "step_hours": manifest.step_hours, "n_paths": int(len(r)),
           "assets": {}}
    for j, a in enumerate(manifest.assets):
        out["assets"][a] = {
            "price_rel": np.quantile(price[:, :, j], FAN_QUANTILES, axis=0).round(6).tolist(),
            "liquidity": np.quantile(q[:, :, j], FAN_QUANTILES, axis=0).round(4).tolist(),
            "start_price": manifest.start_prices[a],
        }
    return out


def run_stress(portfolios: list[str], pack_dirs: list[Path], out: Path, *, margin_models: list[str] | None = None,
               venue: str | None = None, data: MarketData | None = None, n_boot: int = 1000, seed: int = 0,
               reporter: Reporter | None = None) -> dict[str, Any]:
    """Run every portfolio through every pack under each margin model; write the results directory.

    Parameters
    ----------
    portfolios : list of str
        Shipped book names or portfolio YAML paths.
    pack_dirs : list of path
    out : path
        Results directory (created; files inside are replaced atomically).
    margin_models : list of str, optional
        Margin models to compare (``tiered``, ``risk_matrix``, ``span``, ``es``); default each book's own.
    venue : str, optional
        Venue (shipped name or YAML) for every book instead of each book's own; ``reference`` defines all four
        models with the same liquidation rules, for like-for-like comparisons.
    data : MarketData, optional
        Real data for the ES model's lookback; default the bundled set matching the packs.
    """
    import margin

    reporter = reporter or Reporter(quiet=True)
    books = [_load_book(p) for p in portfolios]
    venues = {}
    for book, _ in books:
        v = margin.load_venue(venue) if venue else book.load_venue()
        for mm in margin_models or [book.margin_model]:
            if mm not in v.available_models:
                raise InputError(f"venue {v.name!r} of portfolio {book.name!r} does not define margin model {mm!r} "
                                 f"(it defines {', '.join(v.available_models)}); pass --venue reference to compare "
                                 "all four models", field="--margin-model")
        venues[book.name] = v
    refs = pack_refs(pack_dirs)
    for book, _ in books:
        for ref in refs:
            missing = sorted({pos.asset for pos in book.positions} - set(ref.manifest.assets))
            if missing:
                raise InputError(f"portfolio {book.name!r} holds {', '.join(missing)} but pack {ref.label} has only "
                                 f"{', '.join(ref.manifest.assets)}", file=ref.directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / "paths").mkdir(exist_ok=True)
    (out / "fans").mkdir(exist_ok=True)
    runs: list[dict[str, Any]] = []
    warned: set[str] = set()
    for ref in refs:
        m = ref.manifest
        history = history_for(m, data)
        combos = [(book, src, mm) for book, src in books for mm in (margin_models or [book.margin_model])]
        parts: dict[int, list] = {i: [] for i in range(len(combos))}
        with reporter.progress(f"stress {ref.label}", total=m.n_paths * len(combos)) as bar:
            for _, (r, q, _, _) in iter_chunks(ref.directory, manifest=m, verify=False):
                paths = margin.MarketPaths(
                    returns=r, liquidity=q, assets=tuple(m.assets), step_hours=m.step_hours,
                    start_prices=np.array([m.start_prices[a] for a in m.assets]),
                    ref_volume_usd=np.array([m.ref_volume_usd[a] for a in m.assets]), history_returns=history)
                for i, (book, _, mm) in enumerate(combos):
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        parts[i].append(margin.simulate(book, paths, mm, venue=venues[book.name]))
                    for w in caught:
                        if str(w.message) not in warned:
                            warned.add(str(w.message))
                            reporter.warn(str(w.message))
                    bar.advance(len(r))
        for i, (book, src, mm) in enumerate(combos):
            res = margin.PathResults.concat(parts[i])
            name = f"{safe_name(book.name)}__{safe_name(ref.label)}__{safe_name(mm)}.parquet"
            write_parquet_atomic(res.to_frame().reset_index(), out / "paths" / name)
            summary = margin.summarize(res, n_boot=n_boot, seed=seed)
            runs.append({"portfolio": book.name, "pack": ref.label, "margin_model": mm, "venue": venues[book.name].name,
                         "source": m.source,
                         "regime": m.regime, "severity": m.severity, "paths_file": f"paths/{name}",
                         "metrics": summary})
        write_json_atomic(fan_quantiles(ref.directory, m), out / "fans" / f"{safe_name(ref.label)}.json")
    result = {
        "kind": RESULTS_KIND, "version": 1, "stressgan_version": __version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "packs": [{"label": r.label, "dir": str(r.directory), "fans_file": f"fans/{safe_name(r.label)}.json"}
                  | r.manifest.model_dump(mode="json", exclude={"files", "contexts"})
                  | {"n_contexts": len(r.manifest.contexts)} for r in refs],
        "portfolios": [_book_record(b, src) for b, src in books],
        "margin_models": margin_models, "venue_override": venue,
        "runs": runs,
    }
    write_json_atomic(result, out / "summary.json")
    return result


def _load_book(ref: str):
    """(Portfolio, source YAML path or None for a shipped book)."""
    import margin

    book = margin.load_portfolio(ref)
    return book, book.source


def _book_record(book, src: Path | None) -> dict[str, Any]:
    return {
        "name": book.name, "file": str(src) if src else None,
        "sha256": hashlib.sha256(src.read_bytes()).hexdigest() if src and src.exists() else None,
        "description": book.description, "margin_model": book.margin_model, "venue": book.venue,
        "collateral": dict(book.collateral),
        "positions": [p.model_dump(mode="json") for p in book.positions],
    }


def results_table(result: dict[str, Any], level: str = "99") -> pd.DataFrame:
    """Portfolios x (pack, margin model) table of headline metrics for printing."""
    rows = []
    for run in result["runs"]:
        mt = run["metrics"]
        rows.append({"portfolio": run["portfolio"], "pack": run["pack"], "model": run["margin_model"],
                     f"VaR{level} $": mt["loss_var"][level]["value"], f"ES{level} $": mt["loss_es"][level]["value"],
                     "P(call)": mt["p_margin_call"]["value"], "P(liq)": mt["p_liquidation"]["value"],
                     "exp. bad debt $": mt["expected_bad_debt_usd"]["value"],
                     "IM cover": mt["im_coverage"]["value"]})
    return pd.DataFrame(rows)
