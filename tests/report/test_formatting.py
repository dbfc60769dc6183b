"""Number formats the committee reads: $1.23M, 8.54%, signed changes; axis ticks without trailing zeros."""

from __future__ import annotations

import pytest

from scenarios.report import formatting as fmt


@pytest.mark.parametrize("x, text", [(0, "$0"), (167.2, "$167"), (40_060, "$40.1k"), (999_600, "$1.00M"),
                                     (3_177_000, "$3.18M"), (-122_600, "−$123k"), (2.5e9, "$2.50B"),
                                     (float("nan"), "n/a"), (None, "n/a")])
def test_usd_has_three_significant_digits_and_a_unit(x, text):
    assert fmt.usd(x) == text


@pytest.mark.parametrize("x, text", [(800_000, "$800k"), (1_750_000, "$1.75M"), (2_000_000, "$2M"),
                                     (1_500, "$1.5k"), (0, "$0")])
def test_axis_usd_drops_trailing_zeros_only_after_the_point(x, text):
    assert fmt.axis_usd(x) == text


@pytest.mark.parametrize("p, text", [(0, "0%"), (1, "100%"), (0.0854, "8.54%"), (0.9996, "99.96%"),
                                     (0.0002, "0.02%")])
def test_pct_keeps_two_decimals_for_shares_near_100(p, text):
    assert fmt.pct(p) == text


def test_signed_changes_carry_their_sign():
    assert (fmt.signed_usd(100_000), fmt.signed_usd(-40_000), fmt.signed_pp(0.0123)) == ("+$100k", "−$40.0k",
                                                                                          "+1.23 pp")
