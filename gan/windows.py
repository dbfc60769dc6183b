"""WindowSet: the training examples (context, target, regime, severity, covariates), and the rare-regime sampler.

Rare-regime scheme
------------------
A window is drawn with probability proportional to ``weight_i * freq(regime_i) ** -beta`` (with replacement,
``len(windows)`` draws per epoch), so regime ``k`` fills a share ``freq_k ** (1 - beta) / sum_j freq_j ** (1 - beta)``
of every batch. ``beta = 0`` keeps the natural frequencies, ``beta = 1`` balances the regimes; the default
``0.5`` (square-root tempering) lifts a 2% flash-crash regime to about 8% of a batch next to 44/32/14% for
60/32/6% calm/volatile/drought.

Why this and not full balancing or loss weights: the model is conditional, so re-weighting *regimes* leaves
each conditional law p(target | context, regime, severity) untouched; it only decides how much of the critic's
and the generator's attention each regime gets. Full balancing (beta = 1) would show each of the few distinct
crash episodes (overlapping windows of ~30 events) 12x more often than now and lets the critic memorise them;
loss weights instead of sampling would leave most batches without a single crash window, so the per-regime
tail term would rarely see one. Within a regime, windows keep their relative (caller-given) weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Sampler

from gan.errors import WindowError
from gan.seeding import derive_seed


@dataclass(frozen=True)
class WindowSet:
    """Conditioning windows and the horizons that follow them.

    Parameters
    ----------
    context : float32[N, L, C]
        The ``L`` steps before each horizon (oldest first), all channels.
    target : float32[N, H, C]
        The ``H`` steps to be generated.
    regime : int64[N]
        Regime class of each window (index into ``GanConfig.regimes``).
    severity : float32[N]
        Within-regime severity in [0, 1].
    weight : float32[N] or None
        Optional non-negative sampling weight of each window (e.g. to down-weight overlaps).
    covariates : float32[N, F] or None
        Optional static covariates of each window in data units (e.g. log of a reference volatility), F >= 1;
        None for a model without covariates (``GanConfig.n_covariates = 0``).
    """

    context: np.ndarray
    target: np.ndarray
    regime: np.ndarray
    severity: np.ndarray
    weight: np.ndarray | None = None
    covariates: np.ndarray | None = None

    def __post_init__(self) -> None:
        cast = {"context": np.float32, "target": np.float32, "regime": np.int64, "severity": np.float32}
        for name, dtype in cast.items():
            value = getattr(self, name)
            try:
                array = np.ascontiguousarray(value, dtype=dtype)
            except (TypeError, ValueError) as exc:
                raise WindowError(f"windows: {name} cannot be read as {np.dtype(dtype).name} ({exc})") from None
            if name == "regime" and np.issubdtype(np.asarray(value).dtype, np.floating):
                if not np.array_equal(np.asarray(value), array):
                    raise WindowError("windows: regime must hold integer class indices")
            object.__setattr__(self, name, array)
        if self.weight is not None:
            object.__setattr__(self, "weight", np.ascontiguousarray(self.weight, dtype=np.float32))
        if self.covariates is not None:
            try:
                covariates = np.ascontiguousarray(self.covariates, dtype=np.float32)
            except (TypeError, ValueError) as exc:
                raise WindowError(f"windows: covariates cannot be read as float32 ({exc})") from None
            object.__setattr__(self, "covariates", covariates)
        self._validate()

    def _validate(self) -> None:
        c, t = self.context, self.target
        if c.ndim != 3:
            raise WindowError(f"windows: context must be [N, L, C], got shape {c.shape}")
        if t.ndim != 3:
            raise WindowError(f"windows: target must be [N, H, C], got shape {t.shape}")
        n = c.shape[0]
        if n == 0:
            raise WindowError("windows: the set is empty")
        if t.shape[0] != n or t.shape[2] != c.shape[2]:
            raise WindowError(f"windows: target shape {t.shape} does not match context shape {c.shape} "
                              "(same N and C expected)")
        if c.shape[1] == 0 or t.shape[1] == 0 or c.shape[2] == 0:
            raise WindowError(f"windows: empty context or target (context {c.shape}, target {t.shape})")
        for name in ("regime", "severity") + (("weight",) if self.weight is not None else ()):
            shape = getattr(self, name).shape
            if shape != (n,):
                raise WindowError(f"windows: {name} must have shape ({n},), got {shape}")
        for name in ("context", "target"):
            bad = ~np.isfinite(getattr(self, name))
            if bad.any():
                i, step, ch = np.argwhere(bad)[0]
                raise WindowError(f"windows: {name} has {int(bad.sum())} NaN/inf values "
                                  f"(first at window {i}, step {step}, channel {ch})")
        if (self.regime < 0).any():
            raise WindowError(f"windows: regime must be >= 0, got {int(self.regime.min())}")
        sev = self.severity
        if not np.isfinite(sev).all() or (sev < 0).any() or (sev > 1).any():
            i = int(np.flatnonzero(~((sev >= 0) & (sev <= 1)))[0])
            raise WindowError(f"windows: severity must be in [0, 1], got {sev[i]} at window {i}")
        if self.weight is not None:
            w = self.weight
            if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
                raise WindowError("windows: weight must be finite, non-negative and not all zero")
        if self.covariates is not None:
            x = self.covariates
            if x.ndim != 2 or x.shape[0] != n or x.shape[1] == 0:
                raise WindowError(f"windows: covariates must be [N, F] = [{n}, F] with F >= 1 (or None), "
                                  f"got shape {x.shape}")
            bad = ~np.isfinite(x)
            if bad.any():
                i, j = np.argwhere(bad)[0]
                raise WindowError(f"windows: covariates has {int(bad.sum())} NaN/inf values "
                                  f"(first at window {i}, covariate {j})")

    # ------------------------------------------------------------------ shape
    def __len__(self) -> int:
        return self.context.shape[0]

    @property
    def context_len(self) -> int:
        return self.context.shape[1]

    @property
    def horizon(self) -> int:
        return self.target.shape[1]

    @property
    def n_channels(self) -> int:
        return self.context.shape[2]

    @property
    def n_covariates(self) -> int:
        """F, the number of covariates (0 without covariates)."""
        return 0 if self.covariates is None else self.covariates.shape[1]

    def regime_counts(self, n_regimes: int) -> np.ndarray:
        """Windows per regime, int64[n_regimes]."""
        return np.bincount(self.regime, minlength=n_regimes)[:n_regimes]

    def subset(self, index: np.ndarray) -> WindowSet:
        """The windows at ``index`` (a boolean mask or integer indices)."""
        w = None if self.weight is None else self.weight[index]
        x = None if self.covariates is None else self.covariates[index]
        return WindowSet(self.context[index], self.target[index], self.regime[index], self.severity[index], w, x)


def sampling_weights(windows: WindowSet, n_regimes: int, beta: float) -> np.ndarray:
    """Per-window draw probability ``~ weight_i * freq(regime_i) ** -beta``, float64[N] summing to 1."""
    counts = windows.regime_counts(n_regimes).astype(np.float64)
    p = np.power(counts[windows.regime], -beta)  # counts of present regimes are >= 1
    if windows.weight is not None:
        p = p * windows.weight
    return p / p.sum()


def regime_shares(windows: WindowSet, n_regimes: int, beta: float) -> np.ndarray:
    """Expected share of each regime in a training batch under ``sampling_weights``, float64[n_regimes]."""
    return np.bincount(windows.regime, weights=sampling_weights(windows, n_regimes, beta), minlength=n_regimes)


class RegimeBalancedSampler(Sampler[int]):
    """Weighted draws with replacement, deterministic per (seed, epoch), split across DDP ranks.

    Every epoch draws ``num_samples * world_size`` indices with a generator seeded from ``(seed, epoch)``;
    rank ``r`` takes every ``world_size``-th of them starting at ``r``. The order therefore depends on the epoch
    number alone, so a run resumed from an epoch-end checkpoint sees the same batches as an uninterrupted one.
    """

    def __init__(self, weights: np.ndarray, num_samples: int, seed: int, rank: int = 0, world_size: int = 1):
        self.weights = torch.as_tensor(np.asarray(weights, dtype=np.float64))
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of every epoch."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(derive_seed(self.seed, "sampler", self.epoch))
        draws = torch.multinomial(self.weights, self.num_samples * self.world_size, replacement=True, generator=g)
        return iter(draws[self.rank :: self.world_size].tolist())

    def __len__(self) -> int:
        return self.num_samples

