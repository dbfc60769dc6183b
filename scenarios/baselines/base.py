"""The baseline contract: fit on real features, then simulate paths of returns and liquidity in chunks.

Every scenario source that is not the GAN is a :class:`Baseline`: ``fit(features, train_end)`` learns from bars
before ``train_end`` only, ``simulate(starts, n, horizon, seed)`` yields chunks of paths and ``params()`` gives
the fitted parameters for the pack manifest.

Reproducibility. Paths are generated in fixed blocks of :data:`BLOCK_PATHS` paths; block ``k`` draws from its
own generator, ``Philox`` seeded by ``SeedSequence(seed, spawn_key=(k,))``, and path ``i`` uses start
``starts[context_index[i]]`` whatever the chunking. So the same seed gives the same bytes and ``chunk_size``
changes only how the paths are cut into chunks, never the paths. Memory is one chunk plus one block.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Iterator, NamedTuple

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.features import Features
from scenarios.regimes import REGIMES, regime_index

BLOCK_PATHS = 8192


class PathChunk(NamedTuple):
    """A chunk of simulated paths with the bookkeeping a scenario pack stores next to them.

    Attributes
    ----------
    returns : float32[m, horizon, n_assets]
        Log returns per step.
    liquidity : float32[m, horizon, n_assets]
        Log volume ratio per step (0 = the trailing median volume at the start).
    sigma_ref : float32[m, n_assets]
        Reference volatility per step (trailing 30-day std of returns) of the real window each path starts
        from (parametric baselines) or replays (historical): what the regime labeller scales drops by.
    start : datetime64[ns][m]
        Bar-open time (UTC) of the first step of that real window.
    """

    returns: np.ndarray
    liquidity: np.ndarray
    sigma_ref: np.ndarray
    start: np.ndarray


class Baseline(ABC):
    """A fitted, seeded generator of joint return and liquidity paths (see the package docstring).

    Subclasses implement :meth:`fit`, :meth:`params`, ``_plan`` (per-call preparation) and ``_block``
    (one block of paths from a given generator).
    """

    name: ClassVar[str]

    @abstractmethod
    def fit(self, features: Features, train_end: pd.Timestamp | str | None = None) -> "Baseline":
        """Fit on the bars of ``features`` before ``train_end`` (all bars when None); returns ``self``."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """JSON-able fitted parameters and modelling choices, for the pack manifest."""

    @property
    @abstractmethod
    def assets(self) -> tuple[str, ...]:
        """Asset names, in the order of the last array axis."""

    def simulate(self, starts: pd.DatetimeIndex, n: int, horizon: int, seed: int, *,
                 context_index: np.ndarray | None = None, chunk_size: int = 65536, regime: str | None = None,
                 severity: float | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Simulate ``n`` paths of ``horizon`` steps in chunks.

        Parameters
        ----------
        starts : DatetimeIndex[k]
            Bar-open time of the first simulated step of each context (``RealWindows.start`` values); the
            context ends at the bar before. Naive times are read as UTC.
        n : int
            Number of paths.
        horizon : int
            Steps per path.
        seed : int
            Non-negative seed; the same seed gives the same bytes.
        context_index : int[n], optional
            Path ``i`` starts from ``starts[context_index[i]]``; default round-robin ``i % k``.
        chunk_size : int
            Paths per yielded chunk (the last may be shorter); does not change the paths.
        regime : str, optional
            Requested regime; what a baseline does with it is in the package docstring.
        severity : float, optional
            Requested within-regime severity quantile in [0, 1] (needs ``regime``).

        Yields
        ------
        returns, liquidity : float32[chunk, horizon, n_assets]
            Log returns and log volume ratios per step.
        """
        for chunk in self.simulate_chunks(starts, n, horizon, seed, context_index=context_index,
                                          chunk_size=chunk_size, regime=regime, severity=severity):
            yield chunk.returns, chunk.liquidity

    def simulate_chunks(self, starts: pd.DatetimeIndex, n: int, horizon: int, seed: int, *,
                        context_index: np.ndarray | None = None, chunk_size: int = 65536,
                        regime: str | None = None, severity: float | None = None) -> Iterator[PathChunk]:
        """As :meth:`simulate`, yielding :class:`PathChunk` (with ``sigma_ref`` and ``start`` per path)."""
        self._check_fitted()
        starts = as_utc_index(starts)
        n, horizon, chunk_size = _positive_int(n, "n"), _positive_int(horizon, "horizon"), _positive_int(
            chunk_size, "chunk_size")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {seed!r}")
        regime = check_request(regime, severity)
        ctx = resolve_context_index(context_index, n, len(starts))
        plan = self._plan(starts, horizon, regime, severity)
        blocks = (self._block(plan, block_rng(int(seed), k), ctx[lo:lo + BLOCK_PATHS])
                  for k, lo in enumerate(range(0, n, BLOCK_PATHS)))
        yield from rechunk(blocks, chunk_size)

    @abstractmethod
    def _plan(self, starts: pd.DatetimeIndex, horizon: int, regime: str | None, severity: float | None) -> Any:
        """Per-call state shared by all blocks (start states, window pools)."""

    @abstractmethod
    def _block(self, plan: Any, rng: np.random.Generator, context: np.ndarray) -> PathChunk:
        """One block: ``len(context)`` paths, path ``j`` from start ``context[j]``, drawing only from ``rng``."""

    def _check_fitted(self) -> None:
        if not getattr(self, "_fitted", False):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit(features) first")


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The generator of block ``block`` for ``seed``: Philox on ``SeedSequence(seed, spawn_key=(block,))``."""
    return np.random.Generator(np.random.Philox(np.random.SeedSequence(seed, spawn_key=(block,))))


def rechunk(blocks: Iterator[PathChunk], chunk_size: int) -> Iterator[PathChunk]:
    """Re-cut a stream of blocks into chunks of ``chunk_size`` paths (the last may be shorter), lazily."""
    buf: list[PathChunk] = []
    count = 0
    for b in blocks:
        buf.append(b)
        count += len(b.returns)
        while count >= chunk_size:
            cat = _concat(buf)
            yield PathChunk(*(x[:chunk_size] for x in cat))
            rest = PathChunk(*(x[chunk_size:] for x in cat))
            count = len(rest.returns)
            buf = [rest] if count else []
    if count:
        yield _concat(buf)


def _concat(parts: list[PathChunk]) -> PathChunk:
    if len(parts) == 1:
        return parts[0]
    return PathChunk(*(np.concatenate(xs) for xs in zip(*parts)))


def resolve_context_index(context_index: np.ndarray | None, n: int, n_starts: int) -> np.ndarray:
    """int64[n]: the start of each path; round-robin when ``context_index`` is None."""
    if n_starts == 0:
        raise InputError("no start times given; pass at least one (e.g. from starts_for_regime)")
    if context_index is None:
        return np.arange(n, dtype=np.int64) % n_starts
    ctx = np.asarray(context_index)
    if ctx.shape != (n,) or not np.issubdtype(ctx.dtype, np.integer):
        raise InputError(f"context_index must be {n} integers (one per path), got shape {ctx.shape} "
                         f"of {ctx.dtype}")
    if n and (ctx.min() < 0 or ctx.max() >= n_starts):
        raise InputError(f"context_index must lie in 0..{n_starts - 1} (there are {n_starts} starts)")
    return ctx.astype(np.int64)


def check_request(regime: str | None, severity: float | None) -> str | None:
    """Canonical regime name (or None); InputError for an unknown regime or a severity outside [0, 1]."""
    if severity is not None:
        if regime is None:
            raise InputError("a severity needs a regime; pass regime=... as well")
        if not (0.0 <= float(severity) <= 1.0):
            raise InputError(f"severity {severity} is outside [0, 1]; it is a quantile within the regime")
    if regime is None:
        return None
    try:
        return REGIMES[regime_index(regime)]
    except ValueError as exc:
        raise InputError(str(exc)) from None


def as_utc_index(times: pd.DatetimeIndex | pd.Timestamp | str | list) -> pd.DatetimeIndex:
    """A DatetimeIndex in UTC (naive times read as UTC)."""
    idx = pd.DatetimeIndex([times] if isinstance(times, (str, pd.Timestamp)) else times)
    return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")


def as_utc(t: pd.Timestamp | str | None) -> pd.Timestamp | None:
    """A UTC timestamp (naive read as UTC), or None."""
    if t is None:
        return None
    ts = pd.Timestamp(t)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def _positive_int(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise InputError(f"{name} must be a positive integer, got {v!r}")
    return int(v)
