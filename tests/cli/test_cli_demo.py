"""``stressgan demo``: the whole product on the bundled data with the shipped model, from the command line."""

from __future__ import annotations

import json

import openpyxl
import pytest
from typer.testing import CliRunner

from scenarios.cli import app
from scenarios.demo import BOOKS, DEMO_DATE

runner = CliRunner()


@pytest.mark.slow
def test_demo_runs_end_to_end_and_prints_where_the_report_is(tmp_path):
    res = runner.invoke(app, ["demo", "--out", str(tmp_path), "--paths", "300", "-q"])
    assert res.exit_code == 0, res.stderr
    run = tmp_path / DEMO_DATE.isoformat()
    report = run / "report" / "report.html"
    assert f"report: {report}" in res.stdout.replace("\n", "")
    for name in ("report.html", "report.pdf", "report.xlsx", "summary.json"):
        assert (run / "report" / name).stat().st_size > 0, name

    summary = json.loads((run / "summary.json").read_text())
    packs = {p.split("/")[-1] for p in summary["packs"]}
    assert packs == {f"{src}_{reg}" for src in ("gan", "gjr", "fhs", "historical")
                     for reg in ("calm", "flash_crash", "liquidity_drought")}
    assert summary["status"] in ("ok", "limits_breached") and summary["exit_code"] in (0, 1)

    results = json.loads((run / "results" / "summary.json").read_text())
    combos = {(r["portfolio"], r["margin_model"]) for r in results["runs"]}
    assert combos == {(b, m) for b in BOOKS for m in ("tiered", "risk_matrix")}

    # the GAN's flash crash costs the leveraged long more than its calm paths do
    es = {r["regime"]: r["metrics"]["loss_es"]["99"]["value"] for r in results["runs"]
          if r["portfolio"] == "leveraged_long_perp" and r["margin_model"] == "tiered" and r["source"] == "gan"}
    assert es["flash_crash"] > es["calm"]

    wb = openpyxl.load_workbook(run / "report" / "report.xlsx", read_only=True)
    assert {"Summary", "Metrics", "Provenance"} <= set(wb.sheetnames)
