"""The loss terms, as pure functions of tensors: WGAN-GP gradient penalty and the tail (VaR/ES) matching term.

Notes
-----
Critic (Gulrajani et al. 2017, with the drift term of Karras et al. 2018)::

    L_D = E[D(fake)] - E[D(real)] + lambda * E[(||grad_x D(x_hat)||_2 - 1)^2] + eps * E[D(real)^2],
    x_hat = u * real + (1 - u) * fake,  u ~ U(0, 1) per window (same context, regime, severity)

Generator::

    L_G = -E[D(fake)] + tail_weight * L_tail

``L_tail`` matches, within the batch, the lower and upper VaR/ES of each channel's horizon sum and the lower
VaR/ES of its running minimum (the drawdown) between generated and real windows, on the whole batch and on
every regime with at least ``min_count`` windows. Real and generated windows share their contexts, regimes
and severities, so the two empirical tails estimate the same conditional mixture; the differentiable order
statistics (sorting) pass gradients to the generated paths in the tail. It is a simple, batch-level version
of Tail-GAN's (Cont et al. 2022) VaR/ES criterion.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor


def gradient_penalty(critic_fn: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, u: Tensor) -> Tensor:
    """WGAN-GP penalty ``E[(||grad D(x_hat)|| - 1)^2]`` computed in float32 with autocast off.

    Parameters
    ----------
    critic_fn : callable
        ``x (n, H, C) -> D(x) (n,)`` with the conditioning already bound.
    real, fake : Tensor (n, H, C)
        Normalised real and generated targets (``fake`` detached).
    u : Tensor (n,)
        Interpolation weights in [0, 1].

    Notes
    -----
    Under mixed precision the interpolate, the critic pass and ``autograd.grad`` run in float32 outside
    autocast, so the gradient norm is neither rounded to bf16 nor underflowing in fp16; no loss scaling is
    involved because ``autograd.grad`` differentiates the unscaled critic output.
    """
    with torch.autocast(device_type=real.device.type, enabled=False):
        u = u.float().view(-1, 1, 1)
        x_hat = (u * real.float() + (1.0 - u) * fake.float()).requires_grad_(True)
        d = critic_fn(x_hat).float()
        (grad,) = torch.autograd.grad(d.sum(), x_hat, create_graph=True)
        return (grad.flatten(1).norm(dim=1) - 1.0).square().mean()


def horizon_statistics(paths: Tensor, channels: list[int]) -> Tensor:
    """Horizon sum and running minimum of the cumulative path, per channel: (n, H, C) -> (n, 2, len(channels))."""
    x = paths[..., channels].float()
    cum = x.cumsum(dim=1)  # (n, H, c)
    root_h = math.sqrt(x.shape[1])
    return torch.stack([cum[:, -1], cum.min(dim=1).values.clamp(max=0.0)], dim=1) / root_h


def lower_tail(x: Tensor, alpha: float) -> tuple[Tensor, Tensor]:
    """Empirical VaR (k-th smallest) and ES (mean of the k smallest), k = ceil(alpha n), along dim 0: (n, d) -> (d,)."""
    k = max(1, math.ceil(alpha * x.shape[0]))
    smallest = torch.topk(x, k, dim=0, largest=False, sorted=True).values  # (k, d)
    return smallest[-1], smallest.mean(dim=0)


def tail_loss(fake: Tensor, real: Tensor, regime: Tensor, n_regimes: int, alphas: list[float],
              channels: list[int], min_count: int) -> Tensor:
    """Mean absolute VaR/ES gap between generated and real horizon statistics, per regime group.

    Parameters
    ----------
    fake, real : Tensor (n, H, C)
        Normalised generated and real paths for the same windows.
    regime : Tensor (n,)
        Regime of each window; the whole batch is one more group.
    """
    s_fake, s_real = horizon_statistics(fake, channels), horizon_statistics(real, channels)  # (n, 2, c)
    groups = [torch.ones_like(regime, dtype=torch.bool)]
    groups += [regime == k for k in range(n_regimes)]
    terms = []
    for mask in groups:
        if int(mask.sum()) < min_count:
            continue
        f, r = s_fake[mask], s_real[mask]  # (m, 2, c)
        for alpha in alphas:
            tails = [(f[:, 0], r[:, 0]), (-f[:, 0], -r[:, 0]), (f[:, 1], r[:, 1])]  # sum low, sum high, drawdown
            for tf, tr in tails:
                var_f, es_f = lower_tail(tf, alpha)
                var_r, es_r = lower_tail(tr, alpha)
                terms.append((var_f - var_r).abs().mean() + (es_f - es_r).abs().mean())
    if not terms:
        return fake.new_zeros(())
    return torch.stack(terms).mean()
