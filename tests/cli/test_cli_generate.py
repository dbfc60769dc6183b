"""``stressgan generate`` and ``stressgan evaluate`` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from scenarios.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_generate_then_evaluate_writes_a_side_by_side_table(tmp_path):
    for src in ("gjr", "historical"):
        res = run("generate", "--source", src, "--regime", "flash_crash", "--n", 400, "--train-end", "2019-01-01",
                  "--context-start", "2019-01-01", "--out", tmp_path / src, "-q")
        assert res.exit_code == 0, res.stderr
    res = run("evaluate", tmp_path / "gjr", tmp_path / "historical", "--start", "2019-01-01", "--out", tmp_path / "ev")
    fid = json.loads((tmp_path / "ev" / "fidelity.json").read_text())
    assert res.exit_code == 0 and set(fid["packs"]) == {"gjr:flash_crash", "historical:flash_crash"}
    assert fid["packs"]["historical:flash_crash"]["adherence"] == 1.0


def test_generate_refuses_bad_severity_with_exit_2(tmp_path):
    res = run("generate", "--source", "gjr", "--severity", "1.5", "--out", tmp_path / "x")
    assert res.exit_code == 2 and "severity is a quantile in [0, 1]" in res.stderr


def test_train_needs_a_stopping_rule(tmp_path):
    res = run("train", "--out", tmp_path / "run")
    assert res.exit_code == 2 and "--max-epochs or --max-minutes" in res.stderr
