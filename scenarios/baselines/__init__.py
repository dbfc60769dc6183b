"""Baseline scenario sources: GARCH(1,1)-t, GJR-GARCH(1,1,1)-t, filtered historical simulation, historical replay.

One small family (:class:`Baseline`): ``fit(features, train_end)`` on bars before ``train_end``,
``simulate(starts, n, horizon, seed, ...)`` yields chunks ``(returns, liquidity)`` of
``float32[chunk, horizon, n_assets]`` (log returns, log volume ratios), ``params()`` the JSON-able fit for a
pack manifest; ``simulate_chunks`` yields the same with each path's ``sigma_ref`` and start time.
``make_baseline(name, **options)`` builds one by name.

=============  ================================================================================================
``garch``      GARCH(1,1), Student-t innovations (skew-t/normal option), per asset, Gaussian copula across assets
``gjr``        GJR-GARCH(1,1,1), Student-t innovations (skew-t/normal option), Gaussian copula
``fhs``        GJR-GARCH filter per asset (Gaussian QML), bootstrap of whole residual vectors (all assets, one bar)
``historical`` real windows of the fitting period, of the requested regime and severity, with replacement
=============  ================================================================================================

Liquidity paths (``garch``, ``gjr``, ``fhs``): ``q_t = max(c + phi q_{t-1} + beta |z_t| + e_t, log 0.01)``
per asset, an AR(1) of the log volume ratio with a link to the size of the return shock ``z_t``, fitted by OLS
on the training bars and started from the last real liquidity of the context; ``e_t`` is Gaussian (GARCH, GJR)
or bootstrapped jointly with the return residual vector of the same bar (FHS). ``historical`` replays the real
liquidity of its windows.

What each baseline can and cannot honour
----------------------------------------
A regime request (``calm``, ``volatile``, ``flash_crash``, ``liquidity_drought``, with a severity quantile)
means something different to each source:

- ``historical`` honours it fully but only with the past: every path *is* a real window of that regime, from
  the severity band nearest the request. It cannot produce anything the fitting period did not contain (no
  deeper crash than the worst seen, no new combination of assets' moves), and a rare regime is a handful of
  episodes resampled many times.
- ``garch``, ``gjr`` and ``fhs`` cannot make a crash (or a drought) happen: their dynamics have no regime
  switch, so a path's distribution depends only on its starting state. They honour a regime only through that
  state: start them with :func:`starts_for_regime` (the start times of real windows of the regime) and each
  path begins from the conditional variance, last liquidity and reference volatility right before a real
  episode, e.g. the bar before the 2017-12-22 crash. The ``regime`` and ``severity`` arguments of their
  ``simulate`` are accepted for a uniform interface and otherwise ignored. Expect the share of their paths that
  the labeller puts in ``flash_crash`` (condition adherence) to be low: high starting variance makes large
  moves more likely, not a crash certain. ``fhs`` reproduces the joint tail moves of the residuals it
  resamples; ``garch``/``gjr`` with a Gaussian copula understate joint crashes across assets.
- Liquidity droughts are honoured by the parametric sources only through the starting liquidity, which the
  AR(1) pulls back to normal at rate ``phi`` per bar.

Reproducibility: same seed, same bytes; ``chunk_size`` does not change the paths (fixed blocks of paths, each
with its own Philox stream keyed by ``(seed, block)``; :mod:`scenarios.baselines.base`).
"""

from __future__ import annotations

from typing import Any

from scenarios.baselines.base import BLOCK_PATHS, Baseline, PathChunk
from scenarios.baselines.fhs import FHS
from scenarios.baselines.historical import Historical
from scenarios.baselines.parametric import GARCH, GJR, FilteredBaseline
from scenarios.baselines.selection import select_windows, starts_for_regime
from scenarios.errors import InputError

BASELINES: dict[str, type[Baseline]] = {"garch": GARCH, "gjr": GJR, "fhs": FHS, "historical": Historical}

__all__ = ["BASELINES", "BLOCK_PATHS", "Baseline", "FHS", "FilteredBaseline", "GARCH", "GJR", "Historical",
           "PathChunk", "make_baseline", "select_windows", "starts_for_regime"]


def make_baseline(name: str, **options: Any) -> Baseline:
    """An unfitted baseline by name.

    Parameters
    ----------
    name : {"garch", "gjr", "fhs", "historical"}
    **options
        Constructor options, e.g. ``dist="skewt"`` for ``garch``/``gjr``/``fhs``, ``context_len``, ``rules``,
        ``band``, ``min_windows`` for ``historical``.
    """
    key = str(name).strip().lower()
    if key not in BASELINES:
        raise InputError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")
    try:
        return BASELINES[key](**options)
    except TypeError as exc:
        raise InputError(f"bad option for baseline {key!r}: {exc}") from None
