"""GanConfig: every hyperparameter of the conditional time-series GAN, as plain JSON/YAML types.

The config is the single source of truth for the networks' shapes, the losses and the training loop. It is
stored (as a plain dict) in Lightning checkpoints, so they load with ``torch.load(weights_only=True)``, and in
``config.json`` of an exported model.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gan.errors import ConfigError

DEFAULT_REGIMES = ["calm", "volatile", "flash_crash", "liquidity_drought"]

# Keys that may change between a run and its resumption (they steer the loop, not the model or the losses).
RESUMABLE_KEYS = frozenset(
    {"max_epochs", "max_minutes", "val_every_n_epochs", "early_stopping_patience", "num_workers", "metadata"}
)


@dataclass
class GanConfig:
    """Hyperparameters of the generator, the critic and their training.

    Shapes: context ``(context_len, n_channels)``, target ``(horizon, n_channels)``, optional static covariates
    ``(n_covariates,)`` per window; ``regimes`` names the class labels 0..K-1 in order. ``str(ConfigError)`` is
    a one-line message naming the source and the key.
    """

    # --- data shape (set by the caller from its windows) ---
    n_channels: int = 2
    context_len: int = 48
    horizon: int = 24
    regimes: list[str] = field(default_factory=lambda: list(DEFAULT_REGIMES))
    channel_names: list[str] = field(default_factory=list)  # empty: "c0", "c1", ...
    n_covariates: int = 0  # static per-window covariates in the conditioning (0 = none)
    covariate_names: list[str] = field(default_factory=list)  # empty: "x0", "x1", ...

    # --- generator ---
    noise_dim: int = 32  # path-level latent z ~ N(0, I)
    gen_width: int = 128  # width of the per-path MLP
    gen_depth: int = 3  # hidden layers of the per-path MLP (>= 2; layer 2 is FiLM-modulated)
    cond_width: int = 128  # width of the per-context conditioning MLP
    ctx_width: int = 32  # channels of the context encoder's convolutions (x2 in its second layer)
    ctx_dim: int = 64  # size of the context code
    regime_dim: int = 16  # size of the regime embedding
    innovations: str = "student_t"  # per-step innovations: "student_t" (multivariate t per step) or "gaussian"
    innovation_df: int = 5  # degrees of freedom of the Student-t innovations (integer >= 3)

    # --- critic ---
    critic_width: int = 64
    critic_recent: int = 8  # context steps shown to the critic's convolution next to the target

    # --- losses ---
    gp_lambda: float = 10.0  # WGAN-GP weight (Gulrajani et al. 2017)
    drift_epsilon: float = 1e-3  # penalty eps * E[D(real)^2] keeping critic outputs near 0 (Karras et al. 2018)
    tail_weight: float = 1.0  # weight of the VaR/ES matching term in the generator loss (0 = off)
    tail_alphas: list[float] = field(default_factory=lambda: [0.05])  # tail levels of the VaR/ES term
    tail_channels: list[int] | None = None  # channels of the tail term; None = all
    tail_min_count: int = 20  # smallest regime group in a batch that gets its own tail term
    condition_weight: float = 0.0  # weight of the caller's condition-consistency term (fit(condition_loss=...))
    # share of each generator step's windows generated again under a counterfactual condition (regime uniform over
    # the regimes, severity uniform on [0, 1], same context) and charged the condition term only: teaches the
    # generator to honour a requested regime from contexts that never preceded one in the data (a crash asked
    # for from a calm day), which the real windows alone cannot show it
    counterfactual_share: float = 0.0

    # --- optimisation ---
    lr_generator: float = 2e-4
    lr_critic: float = 2e-4
    betas: list[float] = field(default_factory=lambda: [0.0, 0.9])  # Adam betas, both networks
    n_critic: int = 5  # critic steps per generator step
    batch_size: int = 256  # windows per critic step (a loader batch holds n_critic of them)
    grad_clip: float = 10.0  # max gradient norm per network (0 = off)
    regime_beta: float = 0.5  # rare-regime sampling: P(window) ~ freq(regime)^-beta (0 = natural, 1 = balanced)
    divergence_threshold: float = 1e6  # |loss| above this (or NaN/inf) stops training
    seed: int = 0

    # --- loop and model selection ---
    max_epochs: int = 200
    max_minutes: float | None = None
    val_every_n_epochs: int = 1
    val_paths_per_window: int = 8  # generated paths per validation window for the built-in energy score
    selection_metric: str = "selection_score"  # key of the validation metric (lower is better) that selects
    early_stopping_patience: int = 0  # validation rounds without improvement before stopping (0 = off)
    num_workers: int = 0

    # --- opaque provenance filled by the caller (data fingerprint, normalisation, command line) ---
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ derived
    @property
    def n_regimes(self) -> int:
        return len(self.regimes)

    @property
    def channels(self) -> list[str]:
        """Channel names, ``channel_names`` or ``c0, c1, ...``."""
        return list(self.channel_names) or [f"c{i}" for i in range(self.n_channels)]

    @property
    def covariate_labels(self) -> list[str]:
        """Covariate names, ``covariate_names`` or ``x0, x1, ...``."""
        return list(self.covariate_names) or [f"x{i}" for i in range(self.n_covariates)]

    @property
    def tail_channel_list(self) -> list[int]:
        return list(range(self.n_channels)) if self.tail_channels is None else list(self.tail_channels)

    def regime_index(self, regime: int | str) -> int:
        """Class index of a regime given by name or index."""
        if isinstance(regime, str):
            if regime not in self.regimes:
                raise ConfigError(f"unknown regime {regime!r}; the model knows {', '.join(self.regimes)}")
            return self.regimes.index(regime)
        if isinstance(regime, bool) or not isinstance(regime, int) or not 0 <= regime < self.n_regimes:
            raise ConfigError(f"regime must be a name or an index in 0..{self.n_regimes - 1}, got {regime!r}")
        return int(regime)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON/YAML types only) that ``from_dict`` reads back."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> GanConfig:
        """Build and validate a config; unknown keys are an error. ``source`` prefixes error messages."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of config keys, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown key {unknown[0]!r} (known keys: {', '.join(sorted(known))})")
        try:
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def load(cls, path: str | Path, section: str | None = None) -> GanConfig:
        """Read a config from a ``.yaml``/``.yml``/``.json`` file (optionally one top-level ``section``)."""
        return cls.from_dict(*_read_mapping(Path(path), section))

    @classmethod
    def load_overrides(cls, path: str | Path, section: str | None = None) -> dict[str, Any]:
        """The keys a config file sets, validated as :meth:`load` does: ``{key: value}`` in ``to_dict`` form.

        Unlike ``load(...).to_dict()``, a key set to the library default is kept, so it can still override
        another set of defaults (e.g. ``condition_weight: 1.0`` against the shipped model's 4).
        """
        data, name = _read_mapping(Path(path), section)
        full = cls.from_dict(data, name).to_dict()
        return {k: full[k] for k in data}

    def save(self, path: str | Path) -> None:
        """Write the config as JSON (``.json``) or YAML (any other suffix)."""
        path = Path(path)
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        else:
            import yaml

            path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Raise ConfigError (one line, naming the key) on the first invalid value."""
        for name in ("n_channels", "context_len", "horizon", "noise_dim", "gen_width", "cond_width", "ctx_width",
                     "ctx_dim", "regime_dim", "critic_width", "n_critic", "batch_size", "max_epochs",
                     "val_every_n_epochs", "val_paths_per_window", "tail_min_count"):
            _positive_int(name, getattr(self, name))
        for name in ("n_covariates", "critic_recent", "early_stopping_patience", "num_workers", "seed"):
            _nonnegative_int(name, getattr(self, name))
        _check(self.gen_depth, isinstance(self.gen_depth, int) and not isinstance(self.gen_depth, bool)
               and self.gen_depth >= 2, "gen_depth", "an integer >= 2")
        _check(self.val_paths_per_window, self.val_paths_per_window >= 2, "val_paths_per_window", "an integer >= 2")
        for name in ("gp_lambda", "drift_epsilon", "tail_weight", "grad_clip", "regime_beta", "condition_weight"):
            _nonnegative_float(name, getattr(self, name))
        for name in ("lr_generator", "lr_critic", "divergence_threshold"):
            _positive_float(name, getattr(self, name))
        _check(self.regime_beta, self.regime_beta <= 1.0, "regime_beta", "a number in [0, 1]")
        _nonnegative_float("counterfactual_share", self.counterfactual_share)
        _check(self.counterfactual_share, self.counterfactual_share <= 1.0, "counterfactual_share", "a number in [0, 1]")
        if self.max_minutes is not None:
            _positive_float("max_minutes", self.max_minutes)

        _check(self.regimes, isinstance(self.regimes, list) and len(self.regimes) >= 1
               and all(isinstance(r, str) and r for r in self.regimes), "regimes", "a non-empty list of names")
        _check(self.regimes, len(set(self.regimes)) == len(self.regimes), "regimes", "a list of distinct names")
        _check(self.channel_names, isinstance(self.channel_names, list)
               and all(isinstance(c, str) for c in self.channel_names), "channel_names", "a list of names")
        if self.channel_names and len(self.channel_names) != self.n_channels:
            raise ConfigError(f"channel_names has {len(self.channel_names)} names for n_channels={self.n_channels}")
        _check(self.covariate_names, isinstance(self.covariate_names, list)
               and all(isinstance(c, str) for c in self.covariate_names), "covariate_names", "a list of names")
        if self.covariate_names and len(self.covariate_names) != self.n_covariates:
            raise ConfigError(f"covariate_names has {len(self.covariate_names)} names for "
                              f"n_covariates={self.n_covariates}")

        _check(self.innovations, self.innovations in ("student_t", "gaussian"), "innovations",
               "'student_t' or 'gaussian'")
        _check(self.innovation_df, isinstance(self.innovation_df, int) and not isinstance(self.innovation_df, bool)
               and 3 <= self.innovation_df <= 100, "innovation_df", "an integer in 3..100")

        _check(self.betas, isinstance(self.betas, list) and len(self.betas) == 2
               and all(_is_number(b) and 0.0 <= b < 1.0 for b in self.betas), "betas", "two numbers in [0, 1)")
        _check(self.tail_alphas, isinstance(self.tail_alphas, list) and len(self.tail_alphas) >= 1
               and all(_is_number(a) and 0.0 < a < 0.5 for a in self.tail_alphas), "tail_alphas",
               "a non-empty list of levels in (0, 0.5)")
        if self.tail_channels is not None:
            _check(self.tail_channels, isinstance(self.tail_channels, list) and len(self.tail_channels) >= 1
                   and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < self.n_channels
                           for c in self.tail_channels),
                   "tail_channels", f"null or a non-empty list of channel indices in 0..{self.n_channels - 1}")
        _check(self.selection_metric, isinstance(self.selection_metric, str) and self.selection_metric,
               "selection_metric", "a metric name")
        _check(self.metadata, isinstance(self.metadata, dict), "metadata", "a mapping")
        try:
            json.dumps(self.metadata, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"metadata must hold JSON types only ({exc})") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(value: Any, ok: bool, name: str, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{name} must be {expected}, got {value!r}")


def _positive_int(name: str, value: Any) -> None:
    _check(value, isinstance(value, int) and not isinstance(value, bool) and value > 0, name, "a positive integer")


def _nonnegative_int(name: str, value: Any) -> None:
    _check(value, isinstance(value, int) and not isinstance(value, bool) and value >= 0, name,
           "a non-negative integer")


def _positive_float(name: str, value: Any) -> None:
    _check(value, _is_number(value) and value > 0, name, "a positive number")


def _nonnegative_float(name: str, value: Any) -> None:
    _check(value, _is_number(value) and value >= 0, name, "a non-negative number")


def _read_mapping(path: Path, section: str | None) -> tuple[Any, str]:
    """The parsed YAML/JSON document of a config file (or its ``section``) and the file name for messages."""
    name = path.name
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read config file ({exc.strerror or exc})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{name}: not valid {'JSON' if path.suffix == '.json' else 'YAML'} ({first})") from None
    data = {} if data is None else data
    if section is not None:
        if not isinstance(data, dict) or section not in data:
            raise ConfigError(f"{name}: no {section!r} section")
        data = data[section] or {}
    return data, name
