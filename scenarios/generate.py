"""Generate a scenario pack from any source: the GAN or a baseline, streamed in chunks into a pack.

What each source honours (the README quotes this):

- ``gan``: the regime and severity it is asked for, from the context it is given (default: the latest
  ``L`` bars of the data, i.e. "a flash crash starting from today's market").
- ``garch``, ``gjr``, ``fhs``: cannot make a crash or a drought happen; for a regime request they start from the
  volatility state right before real windows of that regime (with severity near the requested one), so their
  paths carry the stress that the starting volatility implies and nothing more. With ``regime=all`` (or explicit
  ``--context-start/--context-end``) they start from the chosen contexts.
- ``historical``: replays real windows of the requested regime and severity band; only as many distinct paths as
  real episodes exist.

Every pack is anchored at the last close and the trailing median volume of the data (``start_prices``,
``ref_volume_usd``): returns and liquidity are relative, so a 2017 crash shape is applied to today's prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from scenarios.console import Reporter
from scenarios.errors import InputError
from scenarios.features import Features, compute_features
from scenarios.market import MarketData
from scenarios.pack import Manifest, PackWriter, read_manifest
from scenarios.regimes import REGIMES, RegimeRules, SeverityScale, regime_index
from scenarios.windows import Contexts, RealWindows, complete_context_ends, context_windows, cut_windows

SOURCES = ("gan", "garch", "gjr", "fhs", "historical")
BASELINE_CONTEXT_LEN = 48
ALL = "all"


@dataclass
class GenerateRequest:
    """What to generate.

    Attributes
    ----------
    source : {"gan", "garch", "gjr", "fhs", "historical"}
    regime : str
        One of :data:`~scenarios.regimes.REGIMES`, or ``"all"`` (the real mix of regimes).
    severity : float or None
        Within-regime severity quantile in [0, 1] (0.5: a median episode of that regime); None = 0.5.
    n : int
        Paths.
    horizon : int
        Steps per path.
    seed : int
    context_start, context_end : optional
        Draw contexts from windows ending in ``[context_start, context_end)``; default: the latest bars
        (``gan``, and baselines with ``regime="all"``) or the real windows of the regime (baselines).
    train_end : optional
        Baselines fit (and historical replay draws) only on data before this time.
    model_dir : path, optional
        GAN model directory (default: the shipped model).
    chunk_size : int
        Paths generated and written per chunk (bounded memory).
    """

    source: str
    regime: str = ALL
    severity: float | None = None
    n: int = 10000
    horizon: int = 24
    seed: int = 0
    context_start: str | None = None
    context_end: str | None = None
    train_end: str | None = None
    model_dir: Path | None = None
    chunk_size: int = 65536
    options: dict = field(default_factory=dict)

    def validate(self) -> None:
        if self.source not in SOURCES:
            raise InputError(f"unknown source {self.source!r}; choose one of {', '.join(SOURCES)}", field="--source")
        if self.regime != ALL:
            try:
                self.regime = REGIMES[regime_index(self.regime)]
            except ValueError as exc:
                raise InputError(f"{exc} or all", field="--regime") from None
        if self.severity is not None and not 0.0 <= self.severity <= 1.0:
            raise InputError(f"severity is a quantile in [0, 1], got {self.severity}", field="--severity")
        for name, low in (("n", 1), ("horizon", 1), ("chunk_size", 1)):
            if getattr(self, name) < low:
                raise InputError(f"must be at least {low}, got {getattr(self, name)}", field=f"--{name}")
        if self.seed < 0:
            raise InputError(f"must be non-negative, got {self.seed}", field="--seed")


@dataclass
class Plan:
    """Everything a source needs, resolved from the request and the data."""

    request: GenerateRequest
    features: Features
    windows: RealWindows
    contexts: Contexts
    context_index: np.ndarray  # int32[n]: context of each path
    rules: RegimeRules
    scale: SeverityScale
    severity_score: float | None

    @property
    def starts(self) -> pd.DatetimeIndex:
        """Bar-open time of the first step after each context."""
        return self.contexts.end + pd.Timedelta(hours=self.features.step_hours)


def generate_pack(market: MarketData, request: GenerateRequest, out: Path, *, overwrite: bool = False,
                  reporter: Reporter | None = None) -> Manifest:
    """Generate ``request`` on ``market`` into the pack directory ``out``; returns the manifest."""
    request.validate()
    reporter = reporter or Reporter(quiet=True)
    source = _SOURCE_BUILDERS[request.source]()
    plan = source.plan(market, request)
    manifest = _manifest(market, plan, source)
    starts: dict[int, int] = {}  # path start time (ns) -> index into manifest.contexts
    with reporter.progress(f"generate {request.source} {request.regime}", total=request.n) as bar:
        with PackWriter(out, manifest, overwrite=overwrite) as w:
            for returns, liquidity, sigma, start in source.chunks(plan):
                w.write(returns, liquidity, sigma, _context_codes(start, starts))
                bar.advance(len(returns))
            w.manifest.contexts = [pd.Timestamp(t, tz="UTC").isoformat() for t in starts]
    return read_manifest(out, verify=False)


def _context_codes(start: np.ndarray, codes: dict[int, int]) -> np.ndarray:
    """int32 code of each path's start time, adding new times to ``codes`` in order of appearance."""
    ns = np.asarray(start, dtype="datetime64[ns]").astype(np.int64)
    uniq, inverse = np.unique(ns, return_inverse=True)
    mapped = np.array([codes.setdefault(int(t), len(codes)) for t in uniq], dtype=np.int32)
    return mapped[inverse]


# ---------------------------------------------------------------------------------------------------- sources


class Source:
    """A scenario source: resolves a plan, then yields chunks in path order of ``(returns, liquidity, sigma_ref,
    start)``: float32[m, horizon, a] twice, float32[m, a] (reference volatility per step the path is scaled by)
    and datetime64[ns][m] (bar-open time of the path's first step in the real data it starts from)."""

    name = ""
    context_len = BASELINE_CONTEXT_LEN

    def plan(self, market: MarketData, request: GenerateRequest) -> Plan:
        raise NotImplementedError

    def chunks(self, plan: Plan) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        raise NotImplementedError

    def provenance(self) -> tuple[str | None, dict]:
        """(model fingerprint, generator parameters) for the manifest."""
        return None, {}


def base_plan(market: MarketData, request: GenerateRequest, context_len: int, *, pick_regime_contexts: bool,
              rules: RegimeRules | None = None, scale: SeverityScale | None = None) -> Plan:
    """Features, labelled windows, contexts and the path-to-context assignment for a request."""
    from scenarios.baselines import starts_for_regime

    features = compute_features(market)
    windows = cut_windows(features, context_len, request.horizon, rules=rules)
    rules = windows.rules
    scale = scale or SeverityScale.fit(windows.labels)
    q = 0.5 if request.severity is None else request.severity
    score = scale.to_severity(request.regime, q) if request.regime != ALL else None
    if request.context_start or request.context_end:
        ends = complete_context_ends(features, context_len, request.context_start, request.context_end)
        if len(ends) == 0:
            raise InputError(f"no complete {context_len}-bar context ends in [{request.context_start}, "
                             f"{request.context_end})", field="--context-start")
        if pick_regime_contexts and request.regime != ALL:
            starts = set(starts_for_regime(windows.between(request.context_start, request.context_end),
                                           request.regime, q))
            step = pd.Timedelta(hours=features.step_hours)
            chosen = ends[[(e + step) in starts for e in ends]]
            ends = chosen if len(chosen) else ends
    elif pick_regime_contexts and request.regime != ALL:
        pool = windows.between(None, request.train_end) if request.train_end else windows
        starts = starts_for_regime(pool, request.regime, q)
        ends = starts - pd.Timedelta(hours=features.step_hours)
    else:
        ends = None
    contexts = context_windows(features, context_len, ends)
    index = (np.arange(request.n) % len(contexts)).astype(np.int32)
    return Plan(request, features, windows, contexts, index, rules, scale, score)


class BaselineSource(Source):
    """GARCH-t, GJR-GARCH-t, FHS or historical replay through :mod:`scenarios.baselines`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._model = None

    def plan(self, market: MarketData, request: GenerateRequest) -> Plan:
        plan = base_plan(market, request, self.context_len, pick_regime_contexts=True)
        from scenarios.baselines import make_baseline

        end = pd.Timestamp(request.train_end, tz="UTC") if request.train_end else None
        options = dict(request.options)
        if self.name == "historical":  # label replayed windows with the pipeline's rules
            options = {"rules": plan.rules, "context_len": self.context_len} | options
        self._model = make_baseline(self.name, **options).fit(plan.features, train_end=end)
        return plan

    def chunks(self, plan: Plan) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        r = plan.request
        regime = None if r.regime == ALL else r.regime
        severity = None if regime is None else (0.5 if r.severity is None else r.severity)
        for c in self._model.simulate_chunks(plan.starts, r.n, r.horizon, r.seed, context_index=plan.context_index,
                                             chunk_size=r.chunk_size, regime=regime, severity=severity):
            yield c.returns, c.liquidity, c.sigma_ref, c.start

    def provenance(self) -> tuple[str | None, dict]:
        return None, {"model": self.name, "params": self._model.params() if self._model else {}}


def _gan_source() -> Source:
    from scenarios.neural import GanSource

    return GanSource()


_SOURCE_BUILDERS: dict[str, Callable[[], Source]] = {
    "gan": _gan_source,
    **{name: (lambda name=name: BaselineSource(name)) for name in ("garch", "gjr", "fhs", "historical")},
}


def _manifest(market: MarketData, plan: Plan, source: Source) -> Manifest:
    r = plan.request
    f = plan.features
    last_close = f.close.iloc[-1]
    ref_volume = f.ref_volume.ffill().iloc[-1]
    fingerprint, generator = source.provenance()
    generator = generator | {"chunk_size": r.chunk_size, "context_len": source.context_len}
    return Manifest(
        source=r.source, regime=r.regime, severity=None if r.regime == ALL else (0.5 if r.severity is None
                                                                                 else r.severity),
        severity_score=plan.severity_score, seed=r.seed, n_paths=r.n, horizon=r.horizon, assets=list(f.assets),
        frequency=market.frequency, step_hours=f.step_hours,
        start_prices={a: float(last_close[a]) for a in f.assets},
        ref_volume_usd={a: float(ref_volume[a]) for a in f.assets},
        model_fingerprint=fingerprint, data_fingerprint=market.fingerprint(),
        data={"source": market.source, "start": f.index[0].isoformat(), "end": f.index[-1].isoformat(),
              "train_end": r.train_end, "context_start": r.context_start, "context_end": r.context_end},
        generator=generator, rules=plan.rules.to_dict(),
    )
