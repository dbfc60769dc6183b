"""The differentiable regime rules agree with the labeller."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scenarios.conditioning import crash_margin, drought_margin, make_condition_loss
from scenarios.regimes import FLASH_CRASH, LIQUIDITY_DROUGHT, RegimeRules, crash_scores, label_windows

RULES = RegimeRules(drought_illiquidity=0.65)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.floats(0.002, 0.06))
def test_crash_margin_is_positive_exactly_when_the_labeller_sees_a_qualifying_drop(seed, scale):
    rng = np.random.default_rng(seed)
    r = rng.standard_t(3, (64, 24, 1)) * scale
    sigma = np.full((64, 1), 0.01)
    qualifies, _ = crash_scores(r.astype(np.float32), sigma.astype(np.float32), RULES, 1.0)
    m = crash_margin(torch.tensor(r), torch.tensor(sigma), RULES, 1.0).numpy()
    decided = np.abs(m) > 1e-5  # float32 labeller vs float64 margin exactly at the threshold
    assert np.array_equal((m > 0)[decided], qualifies[:, 0][decided])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), level=st.floats(-2.0, 0.5))
@example(seed=0, level=-0.75)  # window 34: the lower median of 24 bars is below the threshold, np.median above
def test_drought_margin_is_positive_exactly_when_the_drought_rule_holds(seed, level):
    rng = np.random.default_rng(seed)
    r = rng.normal(0, 0.01, (64, 24, 1))
    q = level + rng.normal(0, 0.5, (64, 24, 1))
    sigma = np.full((64, 1), 0.01)
    lab = label_windows(r, q, sigma.astype(np.float32), RULES, 1.0)
    crash, _ = crash_scores(r.astype(np.float32), sigma.astype(np.float32), RULES, 1.0)
    m = drought_margin(torch.tensor(r), torch.tensor(q), torch.tensor(sigma), RULES).numpy()
    decided = (np.abs(m) > 1e-4) & ~crash[:, 0]
    assert np.array_equal((m > 0)[decided], (lab.regime == LIQUIDITY_DROUGHT)[decided])


def test_condition_loss_is_zero_for_a_deep_crash_and_pulls_a_flat_crash_path_down():
    loss = make_condition_loss(RULES, 1.0, n_assets=1)
    fake = torch.zeros(2, 24, 2, requires_grad=True)
    with torch.no_grad():
        fake[0, 5:8, 0] = -10.0  # -30 sigma over 3 bars with sigma 1%: a 30% crash
    cov = torch.log(torch.full((2, 1), 0.01))
    value = loss(fake, torch.tensor([FLASH_CRASH, FLASH_CRASH]), torch.zeros(2), cov)
    value.backward()
    assert value.item() > 0 and fake.grad[0].abs().sum() == 0 and fake.grad[1, :, 0].sum() > 0
