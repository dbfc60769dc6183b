import numpy as np
import pytest

from gan.errors import WindowError
from gan.windows import RegimeBalancedSampler, WindowSet, regime_shares, sampling_weights


def _windows(n=10, regime=None, **changes):
    rng = np.random.default_rng(0)
    values = dict(context=rng.normal(size=(n, 6, 2)), target=rng.normal(size=(n, 3, 2)),
                  regime=np.zeros(n, dtype=np.int64) if regime is None else regime,
                  severity=np.full(n, 0.5))
    values.update(changes)
    return WindowSet(**values)


def test_arrays_are_cast_to_the_contract_dtypes():
    w = _windows()
    assert (w.context.dtype, w.target.dtype, w.regime.dtype, w.severity.dtype) == (
        np.float32, np.float32, np.int64, np.float32)
    assert (len(w), w.context_len, w.horizon, w.n_channels) == (10, 6, 3, 2)


def test_nan_in_target_names_its_position():
    target = np.zeros((10, 3, 2))
    target[4, 1, 0] = np.nan
    with pytest.raises(WindowError, match=r"target has 1 NaN/inf values \(first at window 4, step 1, channel 0\)"):
        _windows(target=target)


def test_channel_mismatch_between_context_and_target_is_refused():
    with pytest.raises(WindowError, match="does not match context shape"):
        _windows(target=np.zeros((10, 3, 3)))


def test_severity_outside_unit_interval_is_refused():
    with pytest.raises(WindowError, match="severity must be in \\[0, 1\\], got 1.5 at window 2"):
        _windows(severity=np.array([0.1, 0.2, 1.5] + [0.0] * 7))


def test_fractional_regime_labels_are_refused():
    with pytest.raises(WindowError, match="integer class indices"):
        _windows(regime=np.full(10, 0.5))


def test_square_root_tempering_lifts_a_two_percent_regime_to_about_eight_percent():
    regime = np.repeat([0, 1, 2, 3], [600, 320, 20, 60])
    shares = regime_shares(_windows(1000, regime=regime), 4, beta=0.5)
    expected = np.sqrt([0.6, 0.32, 0.02, 0.06]) / np.sqrt([0.6, 0.32, 0.02, 0.06]).sum()
    np.testing.assert_allclose(shares, expected)
    assert 0.07 < shares[2] < 0.09


def test_beta_one_balances_present_regimes():
    regime = np.repeat([0, 2], [990, 10])
    shares = regime_shares(_windows(1000, regime=regime), 4, beta=1.0)
    np.testing.assert_allclose(shares, [0.5, 0.0, 0.5, 0.0])


def test_sampler_order_depends_on_epoch_only_and_ranks_split_the_draws():
    p = sampling_weights(_windows(50, regime=np.arange(50) % 3), 3, 0.5)
    a = RegimeBalancedSampler(p, 20, seed=1)
    a.set_epoch(3)
    b = RegimeBalancedSampler(p, 20, seed=1)
    b.set_epoch(3)
    assert list(a) == list(b)
    b.set_epoch(4)
    assert list(a) != list(b)
    whole = RegimeBalancedSampler(p, 40, seed=1)
    whole.set_epoch(3)
    ranks = [RegimeBalancedSampler(p, 20, seed=1, rank=r, world_size=2) for r in (0, 1)]
    for s in ranks:
        s.set_epoch(3)
    drawn = list(whole)
    assert list(ranks[0]) == drawn[0::2] and list(ranks[1]) == drawn[1::2]


def test_covariates_are_cast_to_float32_and_kept_by_subset():
    w = _windows(covariates=np.arange(20).reshape(10, 2))
    assert w.covariates.dtype == np.float32 and w.n_covariates == 2 and _windows().n_covariates == 0
    np.testing.assert_array_equal(w.subset(np.array([3, 7])).covariates, [[6, 7], [14, 15]])


@pytest.mark.parametrize("covariates", [np.zeros(10), np.zeros((9, 1)), np.zeros((10, 0))])
def test_covariates_of_the_wrong_shape_are_refused(covariates):
    with pytest.raises(WindowError, match=r"^windows: covariates must be \[N, F\] = \[10, F\] with F >= 1"):
        _windows(covariates=covariates)


def test_nan_covariate_names_its_position():
    covariates = np.zeros((10, 2))
    covariates[6, 1] = np.inf
    with pytest.raises(WindowError, match=r"covariates has 1 NaN/inf values \(first at window 6, covariate 1\)"):
        _windows(covariates=covariates)
