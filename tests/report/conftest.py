"""A small real results directory (three 1,000-path flash-crash packs: GJR-GARCH, FHS, historical replay; two
books; two margin models), its fidelity.json, and a report built from them, once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.limits import Limits

BOOKS = ["leveraged_long_perp", "short_vol_seller"]
MODELS = ["tiered", "risk_matrix"]


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory, hourly) -> Path:
    from scenarios.generate import GenerateRequest, generate_pack
    from scenarios.stress import run_stress

    root = tmp_path_factory.mktemp("report_inputs")
    packs = []
    for source in ("gjr", "fhs", "historical"):
        d = root / f"pack_{source}"
        generate_pack(hourly, GenerateRequest(source=source, regime="flash_crash", n=1000, train_end="2019-01-01"),
                      d)
        packs.append(d)
    out = root / "results"
    run_stress(BOOKS, packs, out, margin_models=MODELS, venue="reference", data=hourly, n_boot=200)
    return out


@pytest.fixture(scope="session")
def results_summary(results_dir) -> dict:
    return json.loads((results_dir / "summary.json").read_text())


@pytest.fixture(scope="session")
def fidelity_file(results_dir, hourly) -> Path:
    from scenarios.evaluation import evaluate_packs
    from scenarios.io import write_json_atomic

    summary = json.loads((results_dir / "summary.json").read_text())
    res = evaluate_packs([Path(p["dir"]) for p in summary["packs"]], hourly, start="2019-01-01",
                         discriminate=False)
    return write_json_atomic(res, results_dir.parent / "fidelity" / "fidelity.json")


@pytest.fixture(scope="session")
def es99_limit(results_summary) -> float:
    """An ES 99 limit between the runs' ES 99 values (so some runs breach it and some do not)."""
    values = sorted(r["metrics"]["loss_es"]["99"]["value"] for r in results_summary["runs"])
    return (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2


@pytest.fixture(scope="session")
def report(results_dir, fidelity_file, es99_limit, tmp_path_factory) -> tuple[Path, dict]:
    """(report directory, summary) of the fixture results with an ES 99 limit set between the runs."""
    from scenarios.report import build_report

    out = tmp_path_factory.mktemp("report")
    summary = build_report(results_dir, out, fidelity=fidelity_file, limits=Limits(es99_usd=es99_limit),
                           run_info={"run": "test", "date": "2026-01-02"})
    return out, summary
