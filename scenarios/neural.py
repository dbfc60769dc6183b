"""The GAN wired to market data and packs: channels, training windows, model selection, the shipped model.

Channels: for ``a`` assets the GAN sees ``2a`` channels per step: the log returns divided by the window's
reference volatility (``sigma``, trailing 30-day std known at the end of the context), then the log volume
ratios. Working in sigma units lets one model learn crash *shapes* across volatility regimes (a -10% hour in a
quiet month and a -15% hour in a wild one are both ~10 sigma); the pack multiplies back by each path's sigma.

Conditions: regime (the labeller's regime of the real target window) and severity (its within-regime quantile,
see :class:`~scenarios.regimes.SeverityScale`), plus the context window itself.

Model selection: every validation round generates paths for the real windows of the validation period (the
latest 15% of the training period by default), each with its own context and the real window's regime and
severity, and scores them with :func:`scenarios.fidelity.selection_score` (tail error, volatility clustering,
drawdowns); the best round is exported. GAN losses do not select models.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from scenarios.errors import InputError
from scenarios.features import compute_features
from scenarios.generate import ALL, GenerateRequest, Plan, Source, base_plan
from scenarios.market import MarketData
from scenarios.regimes import REGIMES, RegimeRules, SeverityScale
from scenarios.windows import RealWindows, cut_windows

SHIPPED = "shipped"
VAL_FRACTION = 0.15


def channel_names(assets: tuple[str, ...] | list[str]) -> list[str]:
    return [f"{a}_return_z" for a in assets] + [f"{a}_liquidity" for a in assets]


def to_channels(returns: np.ndarray, liquidity: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """float32[n, T, 2a]: returns in sigma units then liquidity (``returns``/``liquidity`` [n, T, a], ``sigma``
    [n, a])."""
    return np.concatenate([returns / sigma[:, None, :], liquidity], axis=-1).astype(np.float32)


def from_channels(x: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(returns, liquidity) float32[n, T, a] from GAN channels ``x[n, T, 2a]`` and ``sigma[n, a]``."""
    a = x.shape[-1] // 2
    return (x[..., :a] * sigma[:, None, :]).astype(np.float32), np.ascontiguousarray(x[..., a:], np.float32)


def window_set(windows: RealWindows, scale: SeverityScale, weight: np.ndarray | None = None):
    """The GAN's :class:`gan.windows.WindowSet` of real windows (conditions from their labels)."""
    from gan.windows import WindowSet

    sev = np.zeros(len(windows), np.float32)
    for i, name in enumerate(REGIMES):
        m = windows.labels.regime == i
        if m.any():
            sev[m] = scale.to_quantile(name, windows.labels.severity[m])
    return WindowSet(
        context=to_channels(windows.context_returns, windows.context_liquidity, windows.sigma),
        target=to_channels(windows.returns, windows.liquidity, windows.sigma),
        regime=windows.labels.regime.astype(np.int64), severity=sev, weight=weight,
        covariates=covariates(windows.sigma))


def covariates(sigma: np.ndarray) -> np.ndarray:
    """float32[n, a]: the GAN's static covariates, log of the reference volatility per step of each asset.

    Returns are fed in sigma units, but the flash-crash rule has an absolute floor (a 10% drop), so the generator
    must know the volatility level: in a quiet month a crash is many more sigmas than in a wild one."""
    return np.log(np.asarray(sigma, np.float64)).astype(np.float32)


def shipped_model_dir() -> Path:
    """Directory of the default model that ships inside the package."""
    return Path(str(resources.files("gan").joinpath(SHIPPED)))


def model_metadata(model_dir: Path) -> dict[str, Any]:
    """The scenarios-side metadata stored in a model's config (rules, severity scale, data, training)."""
    from gan.checkpoint import load_generator

    _, config = load_generator(model_dir)
    meta = config.metadata
    if "rules" not in meta or "severity_scale" not in meta:
        raise InputError("model was not trained by stressgan train (no regime rules or severity scale in its "
                         "config.json)", file=model_dir)
    return meta | {"config": config}


def model_fingerprint(model_dir: Path) -> str:
    """sha256 (first 16 hex) of the model's weights and config."""
    h = hashlib.sha256()
    for name in ("model.safetensors", "config.json"):
        p = Path(model_dir) / name
        if not p.exists():
            raise InputError(f"{name} is missing", file=model_dir)
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------------------------------------- training


@dataclass
class TrainSplit:
    train: RealWindows
    val: RealWindows
    rules: RegimeRules
    scale: SeverityScale


def split_windows(market: MarketData, context_len: int, horizon: int, train_end: str | None,
                  val_fraction: float = VAL_FRACTION) -> TrainSplit:
    """Labelled windows before ``train_end``; the latest ``val_fraction`` of them (by time) validate.

    Rules are calibrated and the severity scale fitted on the training part only.
    """
    features = compute_features(market)
    all_w = cut_windows(features, context_len, horizon)
    pool = all_w.between(None, train_end) if train_end else all_w
    if len(pool) < 50:
        raise InputError(f"only {len(pool)} complete windows before {train_end}; need at least 50",
                         field="--train-end")
    cut = pool.start[int(len(pool) * (1 - val_fraction))]
    train_raw = pool.between(None, cut)
    # calibrate the drought threshold on the training windows only, then relabel everything with it
    rules = RegimeRules().calibrated(train_raw.returns, train_raw.liquidity, train_raw.sigma)
    pool = cut_windows(features, context_len, horizon, rules=rules)
    pool = pool.between(None, train_end) if train_end else pool
    train, val = pool.between(None, cut), pool.between(cut, None)
    return TrainSplit(train, val, rules, SeverityScale.fit(train.labels))


def default_config(n_assets: int, context_len: int, horizon: int, **overrides: Any):
    """The shipped model's hyperparameters for ``n_assets`` assets (see the README's model card)."""
    from gan.config import GanConfig

    base = dict(n_channels=2 * n_assets, context_len=context_len, horizon=horizon, regimes=list(REGIMES),
                tail_channels=list(range(n_assets)), n_covariates=n_assets, condition_weight=4.0,
                counterfactual_share=0.5)
    return GanConfig.from_dict(base | overrides)


def selection_scorer(split: TrainSplit, step_hours: float, paths_per_window: int = 4, max_windows: int = 1500,
                     adherence_contexts: int = 300, seed: int = 0):
    """``val_score(sample_fn) -> {"selection_score": ..., ...}`` on the validation windows.

    The score is the fidelity :func:`~scenarios.fidelity.selection_score` of paths generated for the validation
    windows (their own context, regime and severity), plus the mean condition *miss* rate
    ``1 - adherence`` for ``flash_crash`` and ``liquidity_drought`` asked for from ``adherence_contexts``
    validation contexts (median severity): a model must both look like the data and honour its conditions.
    """
    from scenarios.fidelity import selection_score

    val = split.val
    if len(val) > max_windows:  # a fixed, evenly spread subset keeps validation rounds cheap
        val = val.subset(np.linspace(0, len(val) - 1, max_windows).astype(int))
    ws = window_set(val, split.scale)
    k = len(val)
    pick = np.linspace(0, k - 1, min(adherence_contexts, k)).astype(int)
    rules = split.rules

    def val_score(sample_fn) -> dict[str, float]:
        from scenarios.regimes import label_windows, regime_index

        n = k * paths_per_window
        x = sample_fn(ws.context, ws.regime, ws.severity, n, val.returns.shape[1], seed, covariates=ws.covariates)
        idx = np.arange(n) % k
        r, q = from_channels(x, val.sigma[idx])
        out = selection_score(r, q, val.sigma[idx], val, rules=rules, step_hours=step_hours)
        misses = []
        for regime in ("flash_crash", "liquidity_drought"):
            x = sample_fn(ws.context[pick], regime, 0.5, 2 * len(pick), val.returns.shape[1], seed + 1,
                          covariates=ws.covariates[pick])
            sig = val.sigma[pick][np.arange(2 * len(pick)) % len(pick)]
            r, q = from_channels(x, sig)
            adherence = float(np.mean(label_windows(r, q, sig, rules, step_hours).regime == regime_index(regime)))
            out[f"adherence_{regime}"] = adherence
            misses.append(1.0 - adherence)
        out["fidelity_score"] = out["selection_score"]
        out["selection_score"] = out["fidelity_score"] + float(np.mean(misses))
        return out

    return val_score


def train_model(market: MarketData, out_dir: Path, *, train_end: str | None = None, config_path: Path | None = None,
                context_len: int = 48, horizon: int = 24, max_epochs: int | None = None,
                max_minutes: float | None = None, seed: int = 0, progress: bool = True,
                command: str | None = None, **fit_options: Any):
    """Train the GAN on ``market`` (windows before ``train_end``) into ``out_dir``; returns the TrainResult.

    The exported model (``out_dir/model``) carries in its config the data fingerprint, regime rules, severity
    scale, assets, bar length, periods and the command line, so generation needs nothing else.
    """
    from gan.config import GanConfig
    from gan.train import fit

    from scenarios.conditioning import make_condition_loss

    overrides: dict[str, Any] = {"seed": seed}
    if config_path is not None:
        user = GanConfig.load_overrides(config_path)  # only the keys the file sets, each wins over the defaults
        overrides |= user
        context_len, horizon = user.get("context_len", context_len), user.get("horizon", horizon)
    split = split_windows(market, context_len, horizon, train_end)
    config = default_config(len(split.train.assets), context_len, horizon, **overrides)
    config.channel_names = channel_names(split.train.assets)
    config.covariate_names = [f"{a}_log_sigma_ref" for a in split.train.assets]
    config.metadata = {
        "stressgan": "scenarios.neural",
        "data_fingerprint": market.fingerprint(), "data_source": market.source,
        "assets": list(split.train.assets), "step_hours": split.train.step_hours, "frequency": market.frequency,
        "train_start": split.train.start[0].isoformat(), "train_end": train_end,
        "val_start": split.val.start[0].isoformat() if len(split.val) else None,
        "rules": split.rules.to_dict(), "severity_scale": split.scale.grid,
        "regime_counts": split.train.regime_counts(),
        "command": command or " ".join(sys.argv), "seed": config.seed,
    }
    scorer = selection_scorer(split, split.train.step_hours, seed=config.seed) if len(split.val) else None
    return fit(window_set(split.train, split.scale), config, out_dir,
               val=window_set(split.val, split.scale) if len(split.val) else None, val_score=scorer,
               max_epochs=max_epochs, max_minutes=max_minutes, progress=progress,
               condition_loss=make_condition_loss(split.rules, split.train.step_hours, len(split.train.assets)),
               **fit_options)


# ------------------------------------------------------------------------------------------------- sampling


class GanSource(Source):
    """The conditional GAN as a pack source."""

    name = "gan"

    def __init__(self) -> None:
        self.sampler = None
        self.model_dir: Path | None = None

    def plan(self, market: MarketData, request: GenerateRequest) -> Plan:
        from gan.sampler import Sampler

        self.model_dir = Path(request.model_dir) if request.model_dir else shipped_model_dir()
        if not (self.model_dir / "model.safetensors").exists():
            raise InputError("no model here (model.safetensors missing); train one with `stressgan train` or "
                             "leave out --model to use the shipped model", file=self.model_dir)
        meta = model_metadata(self.model_dir)
        config = meta["config"]
        if list(meta["assets"]) != list(market.assets):
            raise InputError(f"the model was trained on {', '.join(meta['assets'])}; the data has "
                             f"{', '.join(market.assets)}", field="--data")
        if abs(float(meta["step_hours"]) - market.step_hours) > 1e-9:
            raise InputError(f"the model was trained on {meta['frequency']} bars; the data has {market.frequency}",
                             field="--data")
        self.context_len = config.context_len
        rules = RegimeRules.from_dict(meta["rules"])
        scale = SeverityScale(meta["severity_scale"])
        plan = base_plan(market, request, config.context_len, pick_regime_contexts=False, rules=rules,
                         scale=scale)
        self.sampler = Sampler.load(self.model_dir)
        self._regime_counts = meta.get("regime_counts") or {r: 1 for r in REGIMES}
        return plan

    def chunks(self, plan: Plan) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        r = plan.request
        c = plan.contexts
        context = to_channels(c.returns, c.liquidity, c.sigma)
        if r.regime == ALL:
            # the real mix: each context gets a regime drawn from the training frequencies, severity uniform
            rng = np.random.default_rng(np.random.SeedSequence([r.seed, 0x5EED]))
            p = np.array([self._regime_counts.get(name, 0) for name in REGIMES], float)
            regime = rng.choice(len(REGIMES), size=len(c), p=p / p.sum()).tolist()
            severity = rng.uniform(0, 1, size=len(c)).tolist()
        else:
            regime, severity = r.regime, 0.5 if r.severity is None else r.severity
        starts = plan.starts.to_numpy(dtype="datetime64[ns]")
        lo = 0
        for x in self.sampler.sample(context, regime, severity, r.n, r.horizon, r.seed, covariates=covariates(c.sigma),
                                     context_index=plan.context_index.astype(np.int64), chunk_size=r.chunk_size):
            ci = plan.context_index[lo:lo + len(x)]
            returns, liquidity = from_channels(x, c.sigma[ci])
            yield returns, liquidity, c.sigma[ci], starts[ci]
            lo += len(x)

    def provenance(self) -> tuple[str | None, dict]:
        cfg = self.sampler.config if self.sampler else None
        return (model_fingerprint(self.model_dir) if self.model_dir else None,
                {"model": str(self.model_dir), "device": str(self.sampler.device) if self.sampler else None,
                 "architecture": {k: getattr(cfg, k) for k in ("noise_dim", "gen_width", "gen_depth",
                                                                "innovations")} if cfg else {}})

