"""Sampler: chunked, seeded, device-agnostic path generation from a trained generator.

Determinism
-----------
Paths are generated in fixed internal blocks of ``block_paths`` paths (4096 on CPU, 65536 on CUDA). Block ``b``
draws its noise from its own ``torch.Generator`` seeded with ``derive_seed(seed, "paths", b, segment)`` and is
always computed at full block size (the tail of the last block is computed and dropped). A path therefore
depends only on ``(seed, its global index, its context)``: the same seed gives the same bytes on the same
device whatever ``chunk_size`` is and however many paths are asked for (with the default round-robin
``context_index``). CPU and CUDA streams differ.

Horizons longer than the model's ``H`` are generated autoregressively in blocks of ``H`` steps: the last ``L``
steps of (context + generated) become the next context, re-encoded per path (about 3x the cost per step). The
regime, severity and covariates of a path stay those of its context in every block.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from gan.config import GanConfig
from gan.errors import ConfigError, SamplingError
from gan.model import Condition, Generator
from gan.seeding import derive_seed


class SampleFn(Protocol):
    """``sample_fn(context float32[K, L, C], regime, severity, n, horizon, seed, covariates=None)``
    -> float32[n, horizon, C]; ``covariates`` float32[K, F] in data units, required iff the model has them."""

    def __call__(self, context: np.ndarray, regime: int | str | Sequence, severity: float | Sequence, n: int,
                 horizon: int, seed: int, covariates: np.ndarray | None = None) -> np.ndarray: ...


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None``/``"auto"`` -> the CUDA device when one is present, else CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Sampler:
    """Generate scenario paths from a generator and its config.

    Parameters
    ----------
    generator : Generator
        A trained generator (``load_generator`` or ``GanModule.generator``).
    config : GanConfig, optional
        Defaults to ``generator.config``.
    device : str or torch.device, optional
        ``"auto"`` (default): CUDA when present, else CPU. The generator is moved there.
    """

    def __init__(self, generator: Generator, config: GanConfig | None = None,
                 device: str | torch.device | None = None):
        self.config = config or generator.config
        self.device = resolve_device(device)
        self.generator = generator.to(self.device)

    @classmethod
    def load(cls, model_dir: str | Path, device: str | torch.device | None = None) -> Sampler:
        """Sampler of an exported model directory (``model.safetensors`` + ``config.json``)."""
        from gan.checkpoint import load_generator

        generator, config = load_generator(model_dir)
        return cls(generator.eval(), config, device=device)

    @property
    def block_paths(self) -> int:
        """Paths per internal block (fixed per device type; part of the seed -> bytes mapping)."""
        return 65536 if self.device.type == "cuda" else 4096

    def sample(self, context: np.ndarray, regime: int | str | Sequence, severity: float | Sequence, n: int,
               horizon: int, seed: int, *, covariates: np.ndarray | None = None,
               context_index: np.ndarray | None = None, chunk_size: int = 65536,
               device: str | torch.device | None = None) -> Iterator[np.ndarray]:
        """Yield generated paths in order, as float32[chunk, horizon, C] chunks of ``chunk_size`` (last smaller).

        Parameters
        ----------
        context : float32[K, L', C] or float32[L', C]
            Real conditioning windows in data units, L' >= the model's L (the last L steps are used).
        regime : int, str or sequence of K of them
            Regime of all paths, or of the paths of each context.
        severity : float or sequence of K floats
            Severity in [0, 1], for all paths or per context.
        n : int
            Number of paths.
        horizon : int
            Steps per path; beyond the model's H, generated autoregressively.
        seed : int
            Non-negative seed; same seed, same bytes on the same device.
        covariates : float32[K, F] or float32[F], optional
            Static covariates of each context (or one row for all) in data units, as in ``WindowSet.covariates``;
            required iff the model was trained with ``n_covariates = F > 0``.
        context_index : int64[n], optional
            Context of each path; default round-robin ``i % K``.
        chunk_size : int
            Paths per yielded chunk.
        device : str or torch.device, optional
            Overrides the sampler's device for this call (the generator is moved there).
        """
        if device is not None and resolve_device(device) != self.device:
            self.device = resolve_device(device)
            self.generator.to(self.device)
        ctx, regimes, severities = self._check_conditions(context, regime, severity)
        k = ctx.shape[0]
        cov = self._check_covariates(covariates, k)
        checks = (("n", n, 1), ("horizon", horizon, 1), ("seed", seed, 0), ("chunk_size", chunk_size, 1))
        for name, value, low in checks:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise SamplingError(f"{name} must be an integer >= {low}, got {value!r}")
        if context_index is not None:
            context_index = np.asarray(context_index)
            if context_index.shape != (n,) or not np.issubdtype(context_index.dtype, np.integer):
                raise SamplingError(f"context_index must be int64[{n}], got {context_index.dtype}{context_index.shape}")
            if n and (context_index.min() < 0 or context_index.max() >= k):
                raise SamplingError(f"context_index must lie in 0..{k - 1}")
        return self._generate(ctx, regimes, severities, cov, int(n), int(horizon), int(seed), context_index,
                              int(chunk_size))

    def sample_array(self, context: np.ndarray, regime: int | str | Sequence, severity: float | Sequence, n: int,
                     horizon: int, seed: int, **kwargs) -> np.ndarray:
        """All ``n`` paths as one float32[n, horizon, C] array (see ``sample``)."""
        return np.concatenate(list(self.sample(context, regime, severity, n, horizon, seed, **kwargs)), axis=0)

    def sample_fn(self) -> SampleFn:
        """``sample_fn(context, regime, severity, n, horizon, seed, covariates=None) -> float32[n, horizon, C]``
        for ``val_score`` (see ``sample``)."""

        def sample_fn(context, regime, severity, n, horizon, seed, covariates=None):
            return self.sample_array(context, regime, severity, n, horizon, seed, covariates=covariates)

        return sample_fn

    # ------------------------------------------------------------------ internals
    def _check_conditions(self, context, regime, severity) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cfg = self.config
        ctx = np.asarray(context, dtype=np.float32)
        if ctx.ndim == 2:
            ctx = ctx[None]
        if ctx.ndim != 3 or ctx.shape[0] == 0 or ctx.shape[2] != cfg.n_channels:
            raise SamplingError(f"context must be float32[K, L, {cfg.n_channels}], got shape {np.shape(context)}")
        if ctx.shape[1] < cfg.context_len:
            raise SamplingError(f"context has {ctx.shape[1]} steps; the model needs context_len={cfg.context_len}")
        ctx = np.array(ctx[:, ctx.shape[1] - cfg.context_len :], dtype=np.float32, order="C")  # own copy
        if not np.isfinite(ctx).all():
            raise SamplingError("context holds NaN or inf values")
        k = ctx.shape[0]
        regimes = [regime] * k if isinstance(regime, (int, str, np.integer)) else list(regime)
        if len(regimes) != k:
            raise SamplingError(f"regime must be one value or one per context ({k}), got {len(regimes)}")
        try:
            regime_ids = [cfg.regime_index(int(r) if isinstance(r, np.integer) else r) for r in regimes]
        except ConfigError as exc:
            raise SamplingError(str(exc)) from None
        sev = np.full(k, severity, dtype=np.float32) if np.ndim(severity) == 0 \
            else np.array(severity, dtype=np.float32)
        if sev.shape != (k,) or not np.all((sev >= 0) & (sev <= 1)):
            raise SamplingError(f"severity must be a number in [0, 1] or one per context, got {severity!r}")
        return torch.from_numpy(ctx), torch.tensor(regime_ids, dtype=torch.int64), torch.from_numpy(sev)

    def _check_covariates(self, covariates, k: int) -> torch.Tensor | None:
        """float32 (K, F) tensor of the covariates in data units, or None for a model without covariates."""
        f = self.config.n_covariates
        if not f:
            if covariates is not None:
                raise SamplingError("covariates given, but the model was trained without covariates "
                                    "(n_covariates = 0); drop the covariates argument")
            return None
        if covariates is None:
            raise SamplingError(f"the model needs covariates ({', '.join(self.config.covariate_labels)}): pass "
                                f"covariates=float32[K, {f}] in data units, one row per context")
        try:
            x = np.array(covariates, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise SamplingError(f"covariates cannot be read as float32 ({exc})") from None
        if x.shape == (f,):
            x = np.broadcast_to(x, (k, f)).copy()
        if x.shape != (k, f):
            raise SamplingError(f"covariates must be float32[K, F] = [{k}, {f}] (one row per context) or "
                                f"float32[{f}], got shape {x.shape}")
        if not np.isfinite(x).all():
            raise SamplingError("covariates hold NaN or inf values")
        return torch.from_numpy(np.ascontiguousarray(x))

    def _generate(self, ctx, regimes, severities, cov, n, horizon, seed, context_index,
                  chunk_size) -> Iterator[np.ndarray]:
        g, dev, block = self.generator, self.device, self.block_paths
        with torch.inference_mode(), torch.autocast(dev.type, enabled=False):
            ctx_n = g.normalize(ctx.to(dev))  # (K, L, C)
            cov_n = None if cov is None else g.normalize_covariates(cov.to(dev))  # (K, F)
            regimes, severities = regimes.to(dev), severities.to(dev)
            cond = g.condition(ctx_n, regimes, severities, cov_n)  # per context, (K, ...)
        pending: list[np.ndarray] = []
        n_pending = 0
        for b in range(math.ceil(n / block)):
            start = b * block
            if context_index is None:  # round-robin, defined beyond n so a block never depends on n
                idx = torch.arange(start, start + block, device=dev) % ctx.shape[0]
            else:
                idx_np = np.zeros(block, dtype=np.int64)
                stop = min(n, start + block)
                idx_np[: stop - start] = context_index[start:stop]
                idx = torch.from_numpy(idx_np).to(dev)
            with torch.inference_mode(), torch.autocast(dev.type, enabled=False):  # not held across yields
                paths = self._block(b, seed, horizon, cond, idx, ctx_n, regimes, severities, cov_n)
            rows = min(block, n - start)
            pending.append(paths[:rows].cpu().numpy())
            n_pending += rows
            while n_pending >= chunk_size:
                joined = pending[0] if len(pending) == 1 else np.concatenate(pending, axis=0)
                yield joined[:chunk_size]
                rest = joined[chunk_size:]
                pending, n_pending = ([rest] if len(rest) else []), len(rest)
        if n_pending:
            yield pending[0] if len(pending) == 1 else np.concatenate(pending, axis=0)

    def _block(self, b: int, seed: int, horizon: int, cond: Condition, idx: torch.Tensor, ctx_n: torch.Tensor,
               regimes: torch.Tensor, severities: torch.Tensor, cov_n: torch.Tensor | None) -> torch.Tensor:
        """Paths of block ``b`` in data units, (block, horizon, C)."""
        g, dev, block, cfg = self.generator, self.device, self.block_paths, self.config
        segments = []
        for j in range(math.ceil(horizon / cfg.horizon)):
            rng = torch.Generator(device=dev).manual_seed(derive_seed(seed, "paths", b, j))
            z, eps = g.draw_noise(block, rng, dev)
            if j == 0:
                path_cond = cond if ctx_n.shape[0] == 1 else cond.select(idx)  # one context: broadcast
                window = ctx_n.index_select(0, idx) if horizon > cfg.horizon else None
            else:  # autoregressive: the last L steps of context + generated paths are the next context
                window = torch.cat([window, segments[-1]], dim=1)[:, -cfg.context_len :]
                path_cond = g.condition(window, regimes.index_select(0, idx), severities.index_select(0, idx),
                                        None if cov_n is None else cov_n.index_select(0, idx))  # same covariates
            segments.append(g.paths(path_cond, z, eps))  # (block, H, C) normalised
        paths = segments[0] if len(segments) == 1 else torch.cat(segments, dim=1)[:, :horizon]
        return g.denormalize(paths).float()
