"""Reading what a report is built from: a stress results directory, an optional fidelity.json and an optional
earlier report's summary.json. Every problem is an :class:`~scenarios.errors.InputError` naming the file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.stress import RESULTS_KIND

REPORT_KIND = "stressgan.report"
RunKey = tuple[str, str, str]  # (portfolio, pack label, margin model)


@dataclass
class Results:
    """A stress results directory in memory.

    Attributes
    ----------
    summary : dict
        ``summary.json`` as written by :func:`scenarios.stress.run_stress`.
    losses : dict (portfolio, pack, margin_model) -> float64[n_paths]
        Horizon loss per path (``-final_pnl_usd``, USD, losses positive).
    fans : dict pack label -> dict
        ``fans/<pack>.json`` (per-step quantiles of price relative to start and of liquidity per asset).
    """

    directory: Path
    summary: dict[str, Any]
    losses: dict[RunKey, np.ndarray] = field(default_factory=dict)
    fans: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def runs(self) -> list[dict[str, Any]]:
        return self.summary["runs"]

    @property
    def portfolios(self) -> list[str]:
        """Book names in the order of ``portfolios`` (then any only found in runs)."""
        names = [p["name"] for p in self.summary.get("portfolios", [])]
        return _unique(names + [r["portfolio"] for r in self.runs])

    @property
    def packs(self) -> list[str]:
        names = [p["label"] for p in self.summary.get("packs", [])]
        return _unique(names + [r["pack"] for r in self.runs])

    @property
    def models(self) -> list[str]:
        return _unique([r["margin_model"] for r in self.runs])

    def run(self, portfolio: str, pack: str, model: str) -> dict[str, Any] | None:
        for r in self.runs:
            if (r["portfolio"], r["pack"], r["margin_model"]) == (portfolio, pack, model):
                return r
        return None

    def pack_record(self, label: str) -> dict[str, Any]:
        for p in self.summary.get("packs", []):
            if p.get("label") == label:
                return p
        return {"label": label}

    def book_record(self, name: str) -> dict[str, Any]:
        for p in self.summary.get("portfolios", []):
            if p.get("name") == name:
                return p
        return {"name": name}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def load_results(directory: Path | str) -> Results:
    """Read ``summary.json``, every run's per-path losses and the fan quantiles of a results directory.

    Raises
    ------
    InputError
        The directory, its summary.json or a per-path file it names is missing or unreadable, or the
        summary is not a ``stressgan stress`` results summary.
    """
    d = Path(directory)
    if not d.is_dir():
        raise InputError("results directory not found; run `stressgan stress ... --out DIR` first", file=d)
    path = d / "summary.json"
    if not path.is_file():
        raise InputError("no summary.json here; is this a `stressgan stress` results directory?", file=d)
    summary = _read_json(path)
    if not isinstance(summary, dict) or summary.get("kind") != RESULTS_KIND:
        kind = summary.get("kind") if isinstance(summary, dict) else type(summary).__name__
        raise InputError(f"not a stress results summary (kind {kind!r}, expected {RESULTS_KIND!r})", file=path)
    runs = summary.get("runs")
    if not isinstance(runs, list) or not runs:
        raise InputError("no runs in the results summary", file=path)
    for i, run in enumerate(runs):
        missing = [k for k in ("portfolio", "pack", "margin_model", "metrics", "paths_file") if k not in run]
        if missing:
            raise InputError(f"runs[{i}] lacks {', '.join(missing)}", file=path)
    res = Results(d, summary)
    for run in runs:
        f = d / run["paths_file"]
        try:
            pnl = pd.read_parquet(f, columns=["final_pnl_usd"])["final_pnl_usd"].to_numpy(np.float64)
        except FileNotFoundError:
            raise InputError(f"per-path results {run['paths_file']} are missing; rerun `stressgan stress`",
                             file=d) from None
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for damaged files
            raise InputError(f"cannot read per-path results ({exc.__class__.__name__}: {exc})", file=f) from None
        res.losses[(run["portfolio"], run["pack"], run["margin_model"])] = -pnl
    for pack in summary.get("packs", []):
        f = d / pack.get("fans_file", "")
        if pack.get("fans_file") and f.is_file():
            res.fans[pack["label"]] = _read_json(f)
    return res


def load_fidelity(source: Path | str | Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, str | None]:
    """``(fidelity result, file it came from)`` from a fidelity.json, a directory holding one, or a dict."""
    if source is None:
        return None, None
    if isinstance(source, Mapping):
        data, where = dict(source), None
    else:
        p = Path(source)
        if p.is_dir():
            p = p / "fidelity.json"
        if not p.is_file():
            raise InputError("fidelity file not found (give fidelity.json or the directory of "
                             "`stressgan evaluate --out`)", file=p)
        data, where = _read_json(p), str(p)
    if not isinstance(data, dict) or not isinstance(data.get("packs"), dict):
        raise InputError("not a fidelity result (expected {'period', 'rules', 'packs': {label: metrics}})",
                         file=where)
    return data, where


def load_previous(source: Path | str | Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, str | None]:
    """``(earlier report summary, file)`` from a report summary.json, a report directory, or a dict."""
    if source is None:
        return None, None
    if isinstance(source, Mapping):
        data, where = dict(source), None
    else:
        p = Path(source)
        if p.is_dir():
            p = p / "summary.json"
        if not p.is_file():
            raise InputError("previous report not found (give its summary.json or its directory)", file=p)
        data, where = _read_json(p), str(p)
    if not isinstance(data, dict) or data.get("kind") != REPORT_KIND:
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"not a report summary (kind {kind!r}, expected {REPORT_KIND!r}); --previous takes "
                         "an earlier `stressgan report` output", file=where)
    return data, where


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}: {exc.msg})", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc})", file=path) from None
