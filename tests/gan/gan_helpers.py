"""Helpers of the gan tests: a tiny config and synthetic windows (GARCH-like returns + AR(1) liquidity).

Regime 0 (calm): low volatility. 1 (volatile): high volatility. 2 (crash): the target falls by
``-(1 + 3 * severity)`` per step over its first half (a deep drawdown). 3 (drought): liquidity drops by 2.
"""

from __future__ import annotations

import numpy as np

from gan.config import GanConfig
from gan.windows import WindowSet

CONTEXT_LEN, HORIZON = 16, 8


def tiny_config(**overrides) -> GanConfig:
    """Small networks and a high learning rate: trains in seconds on 2 CPU cores."""
    values = dict(n_channels=2, context_len=CONTEXT_LEN, horizon=HORIZON, noise_dim=8, gen_width=32,
                  cond_width=32, ctx_width=8, ctx_dim=16, regime_dim=4, critic_width=32, batch_size=64, n_critic=2,
                  lr_generator=1e-3, lr_critic=1e-3, tail_min_count=8, max_epochs=2, seed=3)
    values.update(overrides)
    return GanConfig(**values)


def synthetic_windows(n: int, context_len: int = 16, horizon: int = 8, n_assets: int = 1, seed: int = 0,
                      shares: tuple[float, ...] = (0.5, 0.25, 0.15, 0.10)) -> WindowSet:
    """``n`` windows with C = 2 * n_assets channels (return, liquidity per asset)."""
    rng = np.random.default_rng(seed)
    steps = context_len + horizon
    regime = rng.choice(len(shares), size=n, p=np.asarray(shares) / sum(shares))
    severity = rng.uniform(0, 1, size=n).astype(np.float32)
    vol = np.where(regime == 1, 1.8, np.where(regime == 0, 0.6, 1.0))[:, None, None]  # (n, 1, 1)
    t_noise = rng.standard_t(5, size=(n, steps, n_assets)) * np.sqrt(3 / 5)
    returns = vol * t_noise  # (n, steps, assets)
    liquidity = np.zeros((n, steps, n_assets))
    shocks = rng.normal(0, 0.3, size=(n, steps, n_assets))
    for t in range(1, steps):
        liquidity[:, t] = 0.8 * liquidity[:, t - 1] + shocks[:, t]
    crash = regime == 2
    half = horizon // 2
    drift = -(1.0 + 3.0 * severity[crash])[:, None, None]
    returns[crash, context_len : context_len + half] += drift
    liquidity[crash, context_len : context_len + half] += 1.0
    drought = regime == 3
    liquidity[drought, context_len:] -= 2.0
    paths = np.concatenate([returns[..., None], liquidity[..., None]], axis=-1).reshape(n, steps, 2 * n_assets)
    return WindowSet(paths[:, :context_len].astype(np.float32), paths[:, context_len:].astype(np.float32),
                     regime.astype(np.int64), severity)


def covariate_config(**overrides) -> GanConfig:
    """One channel, one regime, one covariate; smaller batches and a higher learning rate than ``tiny_config``
    so that the conditional spread is learnt within ~10 epochs of 2048 windows."""
    values = dict(n_channels=1, regimes=["any"], n_covariates=1, covariate_names=["log_vol"], batch_size=32,
                  lr_generator=2e-3, lr_critic=2e-3)
    values.update(overrides)
    return tiny_config(**values)


def covariate_windows(n: int, context_len: int = 16, horizon: int = 8, seed: int = 0) -> WindowSet:
    """``n`` one-channel windows whose target is ``exp(c) * N(0, 1)`` with covariate ``c ~ U(-1, 1)`` per window.

    The context is N(0, 1) whatever ``c``: only the covariate tells the target's scale (e^-1 to e^+1).
    """
    rng = np.random.default_rng(seed)
    c = rng.uniform(-1.0, 1.0, size=(n, 1))
    context = rng.standard_normal((n, context_len, 1))
    target = np.exp(c)[:, :, None] * rng.standard_normal((n, horizon, 1))
    return WindowSet(context.astype(np.float32), target.astype(np.float32), np.zeros(n, np.int64),
                     np.full(n, 0.5, np.float32), covariates=c.astype(np.float32))
