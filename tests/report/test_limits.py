"""Limits: YAML loading with one-line errors, per-book overrides, and breaches exactly where a limit is crossed."""

from __future__ import annotations

import pytest

from scenarios.errors import InputError
from scenarios.limits import Limits, check_limits, unmatched_books
from scenarios.report.summary import headline, worst_portfolios


def _run(book: str, pack: str, model: str, *, es99: float = 0.0, var99: float = 0.0, bad: float = 0.0,
         tail_bad: float = 0.0, p_liq: float = 0.0, cover: float = 1.0) -> dict:
    pt = lambda v: {"value": v, "ci_low": v, "ci_high": v}  # noqa: E731
    return {"portfolio": book, "pack": pack, "margin_model": model,
            "metrics": {"loss_es": {"99": pt(es99)}, "loss_var": {"99": pt(var99)},
                        "expected_bad_debt_usd": pt(bad), "tail_bad_debt_usd": {"99": tail_bad},
                        "p_liquidation": pt(p_liq), "im_coverage": pt(cover)}}


def test_es99_breach_only_for_the_run_above_the_limit():
    summary = {"runs": [_run("a", "gjr:flash_crash", "tiered", es99=1.5e6),
                        _run("a", "fhs:flash_crash", "tiered", es99=0.5e6)]}
    breaches = check_limits(summary, Limits(es99_usd=1e6))
    assert [(b.pack, b.metric, b.value, b.limit) for b in breaches] == [("gjr:flash_crash", "es99_usd", 1.5e6, 1e6)]


def test_value_equal_to_the_limit_is_not_a_breach():
    summary = {"runs": [_run("a", "p", "tiered", es99=1e6, p_liq=0.1, cover=0.99)]}
    assert check_limits(summary, Limits(es99_usd=1e6, p_liquidation=0.1, im_coverage_min=0.99)) == []


def test_im_coverage_is_a_floor():
    summary = {"runs": [_run("a", "p", "tiered", cover=0.97), _run("a", "p", "es", cover=0.995)]}
    breaches = check_limits(summary, Limits(im_coverage_min=0.99))
    assert [(b.margin_model, b.kind) for b in breaches] == [("tiered", "min")]


def test_excess_is_how_far_past_the_limit_for_ceilings_and_floors():
    summary = {"runs": [_run("a", "p", "m", es99=1.25e6, cover=0.97)]}
    by_metric = {b.metric: b for b in check_limits(summary, Limits(es99_usd=1e6, im_coverage_min=0.99))}
    assert by_metric["es99_usd"].excess == pytest.approx(250_000)
    assert by_metric["im_coverage_min"].excess == pytest.approx(0.02)
    assert by_metric["im_coverage_min"].to_dict()["excess"] == pytest.approx(0.02)


def test_every_metric_has_its_own_limit():
    summary = {"runs": [_run("a", "p", "m", es99=2, var99=2, bad=2, tail_bad=2, p_liq=0.2, cover=0.5)]}
    limits = Limits(es99_usd=1, var99_usd=1, expected_bad_debt_usd=1, tail_bad_debt_99_usd=1, p_liquidation=0.1,
                    im_coverage_min=0.9)
    assert {b.metric for b in check_limits(summary, limits)} == {
        "es99_usd", "var99_usd", "expected_bad_debt_usd", "tail_bad_debt_99_usd", "p_liquidation", "im_coverage_min"}


def test_per_portfolio_override_applies_to_that_book_only():
    summary = {"runs": [_run("basis", "p", "m", es99=40_000), _run("other", "p", "m", es99=40_000)]}
    limits = Limits.load({"es99_usd": 1e6, "per_portfolio": {"basis": {"es99_usd": 30_000}}})
    assert [b.portfolio for b in check_limits(summary, limits)] == ["basis"]


def test_override_keeps_the_defaults_it_does_not_name():
    limits = Limits.load({"es99_usd": 1e6, "p_liquidation": 0.1, "per_portfolio": {"basis": {"es99_usd": 3e4}}})
    assert limits.for_portfolio("basis").p_liquidation == 0.1


def test_explicit_null_in_an_override_removes_the_default_limit():
    summary = {"runs": [_run("hedger", "p", "m", p_liq=0.9)]}
    limits = Limits.load({"p_liquidation": 0.1, "per_portfolio": {"hedger": {"p_liquidation": None}}})
    assert check_limits(summary, limits) == []


def test_no_limits_no_breaches():
    assert check_limits({"runs": [_run("a", "p", "m", es99=1e12)]}, None) == []


def test_books_named_in_limits_but_absent_from_results_are_reported():
    limits = Limits.load({"per_portfolio": {"basis_trad": {"es99_usd": 1}}})
    assert unmatched_books({"runs": [_run("basis_trade", "p", "m")]}, limits) == ["basis_trad"]


def test_yaml_file_loads(tmp_path):
    f = tmp_path / "limits.yaml"
    f.write_text("es99_usd: 2000000\nper_portfolio:\n  basis_trade: {es99_usd: 250000}\n")
    assert Limits.load(f).for_portfolio("basis_trade").es99_usd == 250_000


def test_empty_yaml_file_means_no_limits(tmp_path):
    f = tmp_path / "limits.yaml"
    f.write_text("# nothing yet\n")
    assert Limits.load(f).is_empty()


def test_unknown_field_error_names_file_and_field(tmp_path):
    f = tmp_path / "limits.yaml"
    f.write_text("per_portfolio:\n  basis_trade: {es99: 250000}\n")
    with pytest.raises(InputError, match=r"limits\.yaml row 2: per_portfolio\.basis_trade\.es99: unknown field"):
        Limits.load(f)


def test_share_above_one_is_refused_with_the_field(tmp_path):
    f = tmp_path / "limits.yaml"
    f.write_text("p_liquidation: 10   # meant 10%\n")
    with pytest.raises(InputError, match=r"limits\.yaml row 1: p_liquidation: Input should be less than or equal to 1"):
        Limits.load(f)


def test_invalid_yaml_error_names_the_line(tmp_path):
    f = tmp_path / "limits.yaml"
    f.write_text("es99_usd: 1\nper_portfolio: {basis: [\n")
    with pytest.raises(InputError, match=r"limits\.yaml row \d+: not valid YAML"):
        Limits.load(f)


def test_missing_limits_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="limits file not found"):
        Limits.load(tmp_path / "nope.yaml")


def test_real_results_breach_exactly_the_runs_above_a_hand_set_limit(results_summary, es99_limit):
    expected = {(r["portfolio"], r["pack"], r["margin_model"]) for r in results_summary["runs"]
                if r["metrics"]["loss_es"]["99"]["value"] > es99_limit}
    got = {(b.portfolio, b.pack, b.margin_model) for b in check_limits(results_summary, Limits(es99_usd=es99_limit))}
    assert got == expected and 0 < len(got) < len(results_summary["runs"])


def test_worst_run_of_a_book_wiped_out_everywhere_is_the_one_with_most_bad_debt():
    # the loss of a book is capped at its equity, so wiped-out runs tie on ES 99; bad debt breaks the tie
    runs = [_run("a", "fhs:calm", "tiered", es99=1e6, p_liq=0.9), _run("a", "historical:crash", "tiered", es99=1e6,
                                                                      bad=39_000, p_liq=0.7),
            _run("b", "gjr:crash", "tiered", es99=1e6, p_liq=0.2)]
    for r in runs:
        r["metrics"] |= {"loss_es": {"99": {"value": 1e6, "ci_low": 1e6, "ci_high": 1e6}, "99.9": {"value": 1e6}},
                         "initial_equity_usd": 1e6}
    worst = worst_portfolios([headline(r) for r in runs], [])
    assert [(w["portfolio"], w["pack"]) for w in worst] == [("a", "historical:crash"), ("b", "gjr:crash")]
