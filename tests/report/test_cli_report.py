"""``stressgan report``: exit 0 with the report's path (even with breaches), exit 2 with one line for bad input."""

from __future__ import annotations

from typer.testing import CliRunner

from scenarios.cli import app


def test_report_command_prints_where_the_report_is_and_exits_0_with_breaches(results_dir, tmp_path):
    limits = tmp_path / "limits.yaml"
    limits.write_text("es99_usd: 1\n")  # every run breaches
    out = tmp_path / "report"
    res = CliRunner().invoke(app, ["report", str(results_dir), "--out", str(out), "--limits", str(limits)])
    assert res.exit_code == 0 and f"report: {out / 'report.html'}" in res.output and "limit breach" in res.output


def test_missing_results_directory_exits_2_with_one_line(tmp_path):
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r")])
    lines = res.output.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") \
        and "nope: results directory not found" in lines[0]


def test_directory_without_results_summary_exits_2(tmp_path):
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(app, ["report", str(tmp_path / "empty"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "no summary.json here" in res.output


def test_summary_of_another_kind_exits_2(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "summary.json").write_text('{"kind": "stressgan.nightly-run"}')
    res = CliRunner().invoke(app, ["report", str(tmp_path / "other"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "not a stress results summary" in res.output


def test_bad_limits_file_exits_2_naming_the_field(results_dir, tmp_path):
    limits = tmp_path / "limits.yaml"
    limits.write_text("es99_usd: lots\n")
    res = CliRunner().invoke(app, ["report", str(results_dir), "--out", str(tmp_path / "r"), "--limits",
                                   str(limits)])
    assert res.exit_code == 2 and "limits.yaml row 1: es99_usd:" in res.output
