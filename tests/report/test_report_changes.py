"""'What changed since the last run': deltas per run, new and cleared breaches, shown in the report."""

from __future__ import annotations

import copy
import json

import pytest

from scenarios.errors import InputError
from scenarios.limits import Breach, Limits
from scenarios.report.summary import changes


def _head(es99: float, p_liq: float = 0.1, bad: float = 100.0, book: str = "a", pack: str = "gjr:flash_crash",
          model: str = "tiered") -> dict:
    return {"portfolio": book, "pack": pack, "margin_model": model, "es99_usd": es99, "p_liquidation": p_liq,
            "expected_bad_debt_usd": bad}


def test_es99_delta_is_current_minus_previous():
    ch = changes([_head(1.2e6)], [], {"runs": [_head(1.0e6)], "breaches": []})
    assert ch["runs"][0]["es99_usd"]["delta"] == pytest.approx(2e5) and ch["n_changed"] == 1


def test_identical_runs_are_not_changed():
    ch = changes([_head(1e6)], [], {"runs": [_head(1e6)], "breaches": []})
    assert ch["n_changed"] == 0


def test_runs_only_in_one_report_are_listed_as_added_or_removed():
    ch = changes([_head(1e6, book="new")], [], {"runs": [_head(1e6, book="old")], "breaches": []})
    assert (ch["runs_added"], ch["runs_removed"]) == ([["new", "gjr:flash_crash", "tiered"]],
                                                     [["old", "gjr:flash_crash", "tiered"]])


def test_a_breach_absent_last_time_is_new_and_one_gone_is_cleared():
    now = [Breach("a", "gjr:flash_crash", "tiered", "es99_usd", 2e6, 1e6)]
    before = [{"portfolio": "a", "pack": "gjr:flash_crash", "margin_model": "tiered", "metric": "p_liquidation",
               "value": 0.2, "limit": 0.1}]
    ch = changes([_head(2e6)], now, {"runs": [_head(1e6)], "breaches": before})
    assert ([b["metric"] for b in ch["new_breaches"]], [b["metric"] for b in ch["cleared_breaches"]]) == \
        (["es99_usd"], ["p_liquidation"])


def test_no_previous_report_means_no_changes():
    assert changes([_head(1e6)], [], None) is None


@pytest.fixture(scope="module")
def report_against_previous(report, results_dir, es99_limit, tmp_path_factory):
    """The fixture report rebuilt against an edited copy of itself: the first run's ES 99 was $100k lower and
    an extra breach that has since cleared."""
    from scenarios.report import build_report

    _, summary = report
    prev = copy.deepcopy(summary)
    prev["runs"][0]["es99_usd"] -= 100_000
    prev["breaches"].append({"portfolio": "short_vol_seller", "pack": "fhs:flash_crash", "margin_model": "tiered",
                             "metric": "p_liquidation", "value": 0.5, "limit": 0.1})
    prev_dir = tmp_path_factory.mktemp("previous")
    (prev_dir / "summary.json").write_text(json.dumps(prev))
    out = tmp_path_factory.mktemp("report_vs_previous")
    s = build_report(results_dir, out, limits=Limits(es99_usd=es99_limit), previous=prev_dir)
    return s, (out / "report.html").read_text(encoding="utf-8")


def test_report_summary_shows_the_es99_delta_of_the_edited_run(report_against_previous, report):
    s, _ = report_against_previous
    first = report[1]["runs"][0]
    row = next(r for r in s["changes"]["runs"]
               if (r["portfolio"], r["pack"], r["margin_model"]) == (first["portfolio"], first["pack"],
                                                                    first["margin_model"]))
    assert row["es99_usd"]["delta"] == pytest.approx(100_000) and s["changes"]["n_changed"] == 1


def test_report_html_shows_the_delta_in_the_changes_table(report_against_previous):
    _, html = report_against_previous
    summary_section = html.split('<section id="executive-summary">')[1].split("</section>")[0]
    assert "+$100k" in summary_section.split("Changes since the last run")[1]


def test_report_lists_the_cleared_breach(report_against_previous):
    s, html = report_against_previous
    assert len(s["changes"]["cleared_breaches"]) == 1 and "Cleared since the last run" in html


def test_previous_that_is_not_a_report_summary_is_refused(results_dir, tmp_path):
    from scenarios.report import build_report

    with pytest.raises(InputError, match="not a report summary"):
        build_report(results_dir, tmp_path / "out", previous=results_dir / "summary.json")
