"""The regime rules as a differentiable training signal: what it means for a path to *be* a flash crash or a
liquidity drought, told to the GAN's generator.

:func:`condition_loss` is handed to :func:`gan.train.fit` (weight ``GanConfig.condition_weight``). For every
generated path whose requested regime is ``flash_crash`` or ``liquidity_drought`` it measures by how much the
path misses that regime's rule in :mod:`scenarios.regimes` (the same thresholds, in a smooth relative form)
and charges a hinge ``relu(margin_target - margin)``. Paths of other regimes cost nothing. The adversarial loss
keeps the paths realistic; this term only says which side of the rule a requested crash must land on, which a
critic learns slowly from ~15 real crash episodes.

Margins (positive = the rule holds, per path; the worst asset decides, like the labeller):

- flash crash: ``max over (start, d <= m bars) of min(z / crash_sigma, drop / crash_min_drop) - 1`` with
  ``drop`` the fall of the log price over ``d`` bars and ``z = drop / (sigma sqrt d)``;
- drought: ``min(log(drought_volume_ratio) - q_(k), log(illiq_median / drought_illiquidity))`` with ``q_(k)`` the
  ``ceil(drought_min_share h)``-th smallest log volume ratio and ``illiq_median`` the median of
  ``(|r| / sigma) exp(-q)``.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from scenarios.regimes import FLASH_CRASH, LIQUIDITY_DROUGHT, RegimeRules

MARGIN_TARGET = 0.1  # aim a little beyond the threshold, so sampling noise does not fall back below it


def crash_margin(returns: Tensor, sigma: Tensor, rules: RegimeRules, step_hours: float) -> Tensor:
    """(B,): relative margin of the flash-crash rule; ``returns`` (B, H, a) log returns, ``sigma`` (B, a)."""
    b, h, a = returns.shape
    logp = torch.cat([returns.new_zeros(b, 1, a), returns.cumsum(1)], dim=1)  # (B, H+1, a)
    best = returns.new_full((b, a), -10.0)
    for d in range(1, min(rules.crash_bars(step_hours), h) + 1):
        drop = logp[:, :-d] - logp[:, d:]  # (B, H+1-d, a)
        z = drop / (sigma[:, None, :] * math.sqrt(d))
        margin = torch.minimum(z / rules.crash_sigma, drop / rules.crash_min_drop) - 1.0
        best = torch.maximum(best, margin.amax(dim=1))
    return best.amax(dim=1)


def drought_margin(returns: Tensor, liquidity: Tensor, sigma: Tensor, rules: RegimeRules) -> Tensor:
    """(B,): margin of the liquidity-drought rule (log units); shapes as in :func:`crash_margin`."""
    h = liquidity.shape[1]
    k = max(1, math.ceil(rules.drought_min_share * h))
    q_k = liquidity.sort(dim=1).values[:, k - 1]  # (B, a): at least share of bars at or below this
    volume = math.log(rules.drought_volume_ratio) - q_k
    illiq = (returns.abs() / sigma[:, None, :]) * torch.exp(-liquidity)  # (B, H, a)
    ordered = illiq.sort(dim=1).values  # order statistics pass gradients to the bars they pick
    med = 0.5 * (ordered[:, (h - 1) // 2] + ordered[:, h // 2])  # the labeller's median (np.median), even h too
    moves = torch.log(med.clamp_min(1e-8) / rules.drought_illiquidity)
    return torch.minimum(volume, moves).amax(dim=1)


def make_condition_loss(rules: RegimeRules, step_hours: float, n_assets: int) -> Callable:
    """``condition_loss(fake, regime, severity, covariates)`` for :func:`gan.train.fit`.

    ``fake``: (B, H, 2a) generated channels in data units (returns in sigma units, then log volume ratios);
    ``covariates``: (B, a) log reference volatility (see :func:`scenarios.neural.covariates`).
    """
    if rules.drought_illiquidity is None:
        raise ValueError("rules must be calibrated (drought_illiquidity set)")

    def condition_loss(fake: Tensor, regime: Tensor, severity: Tensor, covariates: Tensor | None) -> Tensor:
        sigma = torch.exp(covariates.float())  # (B, a)
        returns = fake[..., :n_assets] * sigma[:, None, :]
        liquidity = fake[..., n_assets:]
        loss = fake.new_zeros(())  # mean hinge of each stressed regime's paths in the batch
        crash = regime == FLASH_CRASH
        if crash.any():
            m = crash_margin(returns[crash], sigma[crash], rules, step_hours)
            loss = loss + torch.relu(MARGIN_TARGET - m).mean()
        drought = regime == LIQUIDITY_DROUGHT
        if drought.any():
            m = drought_margin(returns[drought], liquidity[drought], sigma[drought], rules)
            loss = loss + torch.relu(MARGIN_TARGET - m).mean()
        return loss

    return condition_loss
