"""The nightly run: end to end on small settings, idempotent reruns, resuming after kills, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scenarios import nightly
from scenarios.cli import app
from scenarios.nightly import NightlyConfig, date_lock

DATE = "2019-10-17"
runner = CliRunner()


def config(tmp_path: Path, **over) -> Path:
    cfg = {
        "name": "test", "output_root": str(tmp_path / "runs"),
        "scenarios": {"sources": ["gan", "gjr", "historical"], "paths": 400, "seed": 3,
                      "regimes": [{"regime": "flash_crash"}, {"regime": "liquidity_drought"}]},
        "portfolios": ["leveraged_long_perp", "basis_trade"], "margin_models": ["tiered", "risk_matrix"],
        "venue": "reference", "fidelity": {"enabled": True},
    } | over
    p = tmp_path / "nightly.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def nightly_cli(cfg: Path, *extra: str):
    return runner.invoke(app, ["nightly", "--config", str(cfg), "--date", DATE, "-q", *extra])


def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs" / DATE


def state(tmp_path: Path) -> dict:
    return json.loads((run_dir(tmp_path) / "state.json").read_text())["stages"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One complete run, shared by the read-only tests."""
    tmp = tmp_path_factory.mktemp("nightly")
    res = nightly_cli(config(tmp))
    return tmp, res


def test_run_writes_packs_results_report_summary_and_log(finished):
    tmp, res = finished
    d = run_dir(tmp)
    expected = ["data.json", "fidelity/fidelity.json", "packs/gan_flash_crash/manifest.json",
                "results/summary.json", "report/report.html", "report/report.pdf", "report/report.xlsx",
                "report/summary.json", "summary.json", "run.log", "state.json"]
    assert res.exit_code == 0, res.stderr
    assert [f for f in expected if not (d / f).is_file()] == []


def test_summary_is_the_runs_manifest_with_checksums_of_every_artefact(finished):
    tmp, _ = finished
    s = json.loads((run_dir(tmp) / "summary.json").read_text())
    assert s["status"] == "ok" and s["exit_code"] == 0 and "report/report.pdf" in s["artefacts"]
    assert len(s["packs"]) == 6


def test_rerun_is_a_no_op(finished):
    tmp, _ = finished
    before = state(tmp)
    res = nightly_cli(config(tmp))
    after = state(tmp)
    summary = json.loads((run_dir(tmp) / "summary.json").read_text())
    assert res.exit_code == 0 and before == after
    assert all(v["skipped_this_run"] for v in summary["stages"].values())


def test_kill_at_a_stage_boundary_resumes_without_redoing_packs(tmp_path, monkeypatch):
    cfg = config(tmp_path)

    def killed(self, market, packs):
        raise KeyboardInterrupt  # the run dies after the packs and fidelity, before stress

    monkeypatch.setattr(nightly.NightlyRun, "stage_stress", killed)
    assert nightly_cli(cfg).exit_code == 130
    packs_done = {k: v["finished_at"] for k, v in state(tmp_path).items() if k.startswith("pack:")}
    monkeypatch.undo()
    res = nightly_cli(cfg)
    assert res.exit_code == 0 and {k: state(tmp_path)[k]["finished_at"] for k in packs_done} == packs_done


def test_kill_mid_pack_leaves_no_pack_and_the_rerun_completes(tmp_path, monkeypatch):
    cfg = config(tmp_path, scenarios={"sources": ["gjr"], "paths": 3000, "chunk_size": 500,
                                      "regimes": [{"regime": "flash_crash"}]})
    from scenarios.pack import PackWriter

    calls = {"n": 0}
    real_write = PackWriter.write

    def dying_write(self, *a):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_write(self, *a)

    monkeypatch.setattr(PackWriter, "write", dying_write)
    nightly_cli(cfg)
    assert not (run_dir(tmp_path) / "packs" / "gjr_flash_crash").exists()
    monkeypatch.undo()
    assert nightly_cli(cfg).exit_code == 0


def test_leftovers_of_a_hard_kill_are_cleaned_and_a_damaged_pack_is_redone(finished, tmp_path):
    import shutil

    src, _ = finished
    shutil.copytree(src / "runs", tmp_path / "runs")
    d = run_dir(tmp_path)
    (d / "packs" / ".gjr_flash_crash.tmp-deadbeef").mkdir()  # what SIGKILL during a pack write leaves
    f = d / "packs" / "gjr_flash_crash" / "paths-00000.parquet"
    f.write_bytes(f.read_bytes()[:-10])  # a damaged artefact
    res = nightly_cli(config(tmp_path))
    assert res.exit_code == 0 and not (d / "packs" / ".gjr_flash_crash.tmp-deadbeef").exists()
    assert json.loads((d / "summary.json").read_text())["stages"]["pack:gjr_flash_crash"]["skipped_this_run"] is False


@pytest.mark.slow
def test_sigkill_then_rerun_gives_the_same_packs_as_an_uninterrupted_run(finished, tmp_path):
    cfg = config(tmp_path)
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "scenarios.cli", "nightly", "--config", str(cfg), "--date", DATE, "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None:  # until two packs are written (or the run ends by itself)
        st = run_dir(tmp_path) / "state.json"
        if st.exists() and sum(k.startswith("pack:") for k in json.loads(st.read_text())["stages"]) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    ours = json.loads((run_dir(tmp_path) / "summary.json").read_text())["artefacts"]
    ref = json.loads((run_dir(finished[0]) / "summary.json").read_text())["artefacts"]

    def data_files(artefacts):  # every pack file but the manifests, which hold their own creation time
        return {k: v for k, v in artefacts.items() if k.startswith("packs/") and not k.endswith("manifest.json")}

    def manifests(root):  # the manifests themselves, all but created_at
        return {p.parent.name: {k: v for k, v in json.loads(p.read_text()).items() if k != "created_at"}
                for p in sorted((run_dir(root) / "packs").glob("*/manifest.json"))}

    assert data_files(ours) and data_files(ours) == data_files(ref)
    assert len(manifests(tmp_path)) == 6 and manifests(tmp_path) == manifests(finished[0])


def test_limit_breach_exits_1_with_the_report_written(finished, tmp_path):
    import shutil

    shutil.copytree(finished[0] / "runs", tmp_path / "runs")
    res = nightly_cli(config(tmp_path, limits={"es99_usd": 1000}))
    s = json.loads((run_dir(tmp_path) / "summary.json").read_text())
    assert res.exit_code == 1 and s["status"] == "limits_breached" and len(s["breaches"]) > 0
    assert (run_dir(tmp_path) / "report" / "report.html").is_file()


def test_bad_config_exits_2_naming_file_field_and_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("output_root: runs\nportfolios: [basis_trade]\nscenarios:\n  paths: -5\n")
    res = runner.invoke(app, ["nightly", "--config", str(p)])
    assert res.exit_code == 2 and "bad.yaml row 4: scenarios.paths: Input should be greater than 0" in res.stderr


def test_unknown_portfolio_exits_2(tmp_path):
    res = nightly_cli(config(tmp_path, portfolios=["no_such_book"],
                             scenarios={"sources": ["gjr"], "paths": 100, "regimes": [{"regime": "calm"}]}))
    assert res.exit_code == 2 and "no_such_book" in res.stderr


def test_a_second_run_on_a_locked_date_exits_2(tmp_path):
    cfg = config(tmp_path)
    with date_lock(run_dir(tmp_path)):
        res = nightly_cli(cfg)
    assert res.exit_code == 2 and "another nightly run holds the lock" in res.stderr


def test_sample_config_in_the_package_validates():
    from importlib import resources

    p = Path(str(resources.files("scenarios").joinpath("configs/nightly.example.yaml")))
    cfg = NightlyConfig.load(p)
    assert cfg.model.retrain == "weekly" and cfg.limits.per_portfolio["basis_trade"].es99_usd == 250000


def test_weekly_retrain_is_due_only_after_seven_days(tmp_path):
    models = tmp_path / "models"
    (models / "2024-01-01" / "model").mkdir(parents=True)
    (models / "2024-01-01" / "model" / "model.safetensors").write_bytes(b"x")
    due = [nightly._retrain_due(models, date(2024, 1, d), "weekly") for d in (3, 7, 8)]
    assert due == [False, False, True]
