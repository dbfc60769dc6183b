"""fit(): train a GanModule on windows with Lightning, select by a validation score, export the selected generator.

Files in ``out_dir``::

    last.ckpt            every epoch end (resume point; torch.load(weights_only=True) compatible)
    best.ckpt            the checkpoint with the lowest ``config.selection_metric`` (when validation runs)
    logs/version_N/      CSV metrics (and TensorBoard events when tensorboard is importable)
    model/               the exported selected generator: model.safetensors + config.json
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, Logger

from gan.checkpoint import export_model
from gan.config import RESUMABLE_KEYS, GanConfig
from gan.datamodule import WindowDataModule
from gan.errors import ConfigError
from gan.module import ConditionLoss, GanModule
from gan.sampler import SampleFn
from gan.windows import WindowSet

LAST_CKPT = "last.ckpt"
BEST_NAME = "best"


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes
    ----------
    model_dir : Path
        Exported selected generator (``out_dir/model``); None on non-zero DDP ranks.
    best_checkpoint : Path or None
        Lightning checkpoint of the selected model (None when nothing was validated: the last one is used).
    last_checkpoint : Path
        Resume point.
    best_score : float or None
        ``config.selection_metric`` of the selected model.
    epochs : int
        Epochs completed in total (resumed runs included).
    global_step : int
        Optimizer steps in total: ``(n_critic + 1)`` per batch.
    metrics : dict
        Last logged values (losses, validation metrics).
    """

    model_dir: Path | None
    best_checkpoint: Path | None
    last_checkpoint: Path
    best_score: float | None
    epochs: int
    global_step: int
    metrics: dict[str, float] = field(default_factory=dict)


def fit(train: WindowSet, config: GanConfig, out_dir: str | Path, *, val: WindowSet | None = None,
        val_score: Callable[[SampleFn], dict[str, float]] | None = None, max_epochs: int | None = None,
        max_minutes: float | None = None, accelerator: str = "auto", devices: int | str | list = "auto",
        strategy: str | pl.strategies.Strategy = "auto", precision: str | None = None, resume: bool = True,
        progress: bool = True, log_csv: bool = True, condition_loss: ConditionLoss | None = None) -> TrainResult:
    """Train the conditional GAN and export the selected generator to ``out_dir/model``.

    Parameters
    ----------
    train, val : WindowSet
        Training windows; optional validation windows (built-in energy score, and the validation rounds).
    config : GanConfig
        Must match the windows' shapes (n_channels, context_len, horizon, n_covariates) and regime labels.
    out_dir : path
        Run directory (checkpoints, logs, exported model).
    val_score : callable, optional
        ``val_score(sample_fn) -> {metric: value}`` run at every validation round; must return
        ``config.selection_metric`` (lower is better). Without it, ``selection_score`` is the built-in
        energy score on ``val``. ``sample_fn(context, regime, severity, n, horizon, seed, covariates=None)``
        returns float32[n, horizon, C]; regime and severity may also be given per context; ``covariates``
        (float32[K, F] in data units, one row per context) is required iff ``config.n_covariates > 0``.
    max_epochs, max_minutes : optional
        Override ``config.max_epochs`` / ``config.max_minutes``. ``max_minutes`` is Lightning's ``max_time``:
        it counts the training time of the resumed run too.
    accelerator, devices, strategy : Lightning Trainer arguments
        ``"ddp"``/``"ddp_spawn"`` are mapped to their ``find_unused_parameters_true`` variants (the generator is
        idle in critic steps); ``"auto"`` on several CUDA devices picks DDP likewise.
    precision : str, optional
        ``None``: ``"bf16-mixed"`` on a CUDA GPU with bf16 support, else ``"32-true"``.
    resume : bool
        Continue from ``out_dir/last.ckpt`` when it exists (its config must match, run-control keys aside).
    condition_loss : callable, optional
        ``condition_loss(fake, regime, severity, covariates) -> scalar`` added to the generator loss with weight
        ``config.condition_weight``: the caller's knowledge of what a condition means (e.g. a regime's defining
        rule), on generated targets in data units ``(B, H, C)``, regimes ``(B,)``, severities ``(B,)`` and
        covariates in data units ``(B, F)`` or None. Differentiable in ``fake``; 0 where it has nothing to say.

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingDivergedError
        A loss became NaN/inf or exceeded ``config.divergence_threshold``.
    ConfigError
        The config does not fit the windows, or ``last.ckpt`` was written with a different config.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    check_windows(train, config, "train")
    if val is not None:
        check_windows(val, config, "val")

    pl.seed_everything(config.seed, workers=True, verbose=False)
    module = GanModule(config.to_dict())
    loc, scale = channel_scaler(train)
    module.generator.set_channel_scaler(loc, scale)  # restored from last.ckpt when resuming
    if config.n_covariates:
        module.generator.set_covariate_scaler(*covariate_scaler(train))  # likewise
    module.val_score = val_score
    module.condition_loss = condition_loss
    validating = val is not None or val_score is not None
    datamodule = WindowDataModule(train, config, val=val, placeholder_val=val is None and val_score is not None)

    callbacks: list[pl.Callback] = [LastCheckpoint(out_dir / LAST_CKPT)]
    best_saver = None
    if validating:
        best_saver = ModelCheckpoint(dirpath=out_dir, filename=BEST_NAME, monitor=config.selection_metric,
                                     mode="min", save_top_k=1, save_last=False, enable_version_counter=False)
        callbacks.append(best_saver)
        if config.early_stopping_patience > 0:
            callbacks.append(EarlyStopping(monitor=config.selection_metric, mode="min",
                                           patience=config.early_stopping_patience, check_finite=False))

    minutes = max_minutes if max_minutes is not None else config.max_minutes
    last = out_dir / LAST_CKPT
    ckpt_path = None
    if resume and last.exists():
        check_resumable(last, config)
        ckpt_path = str(last)
    with warnings.catch_warnings(), _lightning_log_level(logging.INFO if progress else logging.WARNING):
        warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")  # logs/, resume
        warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")  # Lightning-internal
        trainer = pl.Trainer(
            accelerator=accelerator,
            devices=devices,
            strategy=resolve_strategy(strategy, accelerator, devices),
            precision=resolve_precision(precision, accelerator),
            max_epochs=max_epochs if max_epochs is not None else config.max_epochs,
            max_time=timedelta(minutes=minutes) if minutes is not None else None,
            default_root_dir=out_dir,
            logger=_loggers(out_dir) if log_csv else False,
            callbacks=callbacks,
            enable_checkpointing=best_saver is not None,  # LastCheckpoint writes the resume point either way
            check_val_every_n_epoch=config.val_every_n_epochs,
            limit_val_batches=None if validating else 0,
            num_sanity_val_steps=0,
            log_every_n_steps=1,
            use_distributed_sampler=False,  # RegimeBalancedSampler splits the draws across ranks itself
            enable_progress_bar=progress,
            enable_model_summary=progress,
        )
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)

    best_path = Path(best_saver.best_model_path) if best_saver and best_saver.best_model_path else None
    best_score = float(best_saver.best_model_score) if best_saver and best_saver.best_model_score is not None \
        else None
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if torch.as_tensor(v).numel() == 1}
    result = TrainResult(None, best_path, last, best_score, trainer.current_epoch, trainer.global_step, metrics)
    if trainer.is_global_zero:
        if best_path is not None and best_path.exists():
            state = torch.load(best_path, map_location="cpu", weights_only=True)["state_dict"]
            module.load_state_dict(state)
        selected = {"selection_metric": config.selection_metric, "best_score": best_score,
                    "selected_checkpoint": best_path.name if best_path else LAST_CKPT,
                    "epochs": result.epochs, "global_step": result.global_step, "last_metrics": metrics}
        result.model_dir = export_model(module.generator, config, out_dir / "model", metrics=selected)
    return result


# ---------------------------------------------------------------------- helpers
class LastCheckpoint(pl.Callback):
    """Writes the resume point ``path`` at the end of every training epoch (after its validation round) and at
    the end of training, atomically: a temporary sibling renamed into place, so a run killed at any moment
    resumes from its last completed epoch and never finds a half-written checkpoint.

    (Lightning 2.6's ``ModelCheckpoint(save_last=True, save_top_k=0)`` writes ``last.ckpt`` only when training
    ends or raises, which a SIGKILL or a lost node never lets happen.)
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._saved_step = -1

    def _save(self, trainer: pl.Trainer) -> None:
        if trainer.sanity_checking or trainer.global_step == self._saved_step:
            return
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        trainer.save_checkpoint(tmp, weights_only=False)  # full state to resume; every rank calls it, rank 0 writes
        if trainer.is_global_zero:
            os.replace(tmp, self.path)
        trainer.strategy.barrier("last_checkpoint")
        self._saved_step = trainer.global_step

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._save(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._save(trainer)


def check_windows(windows: WindowSet, config: GanConfig, name: str) -> None:
    """Raise ConfigError if the windows' shapes or regime labels do not fit the config."""
    expected = {"n_channels": windows.n_channels, "context_len": windows.context_len, "horizon": windows.horizon}
    for key, actual in expected.items():
        if getattr(config, key) != actual:
            raise ConfigError(f"{name} windows have {key}={actual} but the config says {getattr(config, key)}")
    if windows.n_covariates != config.n_covariates:
        have = "no covariates" if windows.covariates is None else f"{windows.n_covariates} covariates"
        raise ConfigError(f"{name} windows have {have} but the config says n_covariates={config.n_covariates}")
    top = int(windows.regime.max())
    if top >= config.n_regimes:
        raise ConfigError(f"{name} windows have regime {top} but the config names {config.n_regimes} regimes "
                          f"({', '.join(config.regimes)})")


def channel_scaler(windows: WindowSet) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation (floored) of context and target steps, float32[C] each."""
    steps = np.concatenate([windows.context.reshape(-1, windows.n_channels),
                            windows.target.reshape(-1, windows.n_channels)])
    loc = steps.mean(axis=0, dtype=np.float64)
    scale = steps.std(axis=0, dtype=np.float64)
    scale = np.maximum(scale, 1e-6 * np.maximum(1.0, np.abs(loc)))
    return loc.astype(np.float32), scale.astype(np.float32)


def covariate_scaler(windows: WindowSet) -> tuple[np.ndarray, np.ndarray]:
    """Per-covariate mean and standard deviation (floored) over the windows, float32[F] each."""
    x = windows.covariates
    if x is None:
        raise ValueError("covariate_scaler: the windows have no covariates")
    loc = x.mean(axis=0, dtype=np.float64)
    scale = x.std(axis=0, dtype=np.float64)
    scale = np.maximum(scale, 1e-6 * np.maximum(1.0, np.abs(loc)))
    return loc.astype(np.float32), scale.astype(np.float32)


def resolve_precision(precision: str | None, accelerator: str) -> str:
    """``None`` -> ``"bf16-mixed"`` on a CUDA GPU that supports bf16, else ``"32-true"``."""
    if precision is not None:
        return precision
    on_cuda = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return "bf16-mixed" if on_cuda and torch.cuda.is_bf16_supported() else "32-true"


def resolve_strategy(strategy: Any, accelerator: str, devices: Any) -> Any:
    """Map DDP strategies to their find-unused-parameters variants (generator idle in critic steps)."""
    if isinstance(strategy, str):
        if strategy in ("ddp", "ddp_spawn", "ddp_fork", "ddp_notebook"):
            return f"{strategy}_find_unused_parameters_true"
        if strategy == "auto" and accelerator in ("auto", "gpu", "cuda") and torch.cuda.device_count() > 1:
            n = len(devices) if isinstance(devices, (list, tuple)) else devices
            if n in ("auto", -1, "-1") or (isinstance(n, int) and n > 1) or (isinstance(n, str) and n.isdigit()
                                                                               and int(n) > 1):
                return "ddp_find_unused_parameters_true"
    return strategy


def check_resumable(checkpoint: Path, config: GanConfig) -> None:
    """Refuse to resume from a checkpoint whose config differs in a model or loss setting."""
    try:
        stored = torch.load(checkpoint, map_location="cpu", weights_only=True)["hyper_parameters"]["config"]
    except Exception as exc:  # corrupt or foreign file
        raise ConfigError(f"{checkpoint}: cannot resume from it ({type(exc).__name__}: {exc}); "
                          "delete it or pass resume=False") from None
    current = config.to_dict()
    defaults = GanConfig().to_dict()  # keys added since the checkpoint was written take their default values
    for key in sorted(set(stored) | set(current)):
        if key in RESUMABLE_KEYS:
            continue
        before = stored.get(key, defaults.get(key))
        if before != current.get(key):
            raise ConfigError(f"{checkpoint} was trained with {key}={before!r}, the config now says "
                              f"{current.get(key)!r}; use a new out_dir or resume=False")


def _loggers(out_dir: Path) -> list[Logger]:
    loggers: list[Logger] = [CSVLogger(save_dir=out_dir, name="logs")]
    try:
        from pytorch_lightning.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(save_dir=out_dir, name="logs", version=loggers[0].version,
                                         default_hp_metric=False))
    except (ImportError, ModuleNotFoundError):
        pass
    return loggers


@contextmanager
def _lightning_log_level(level: int) -> Iterator[None]:
    """Lightning's info lines (devices, tips) only when progress is shown."""
    loggers = [logging.getLogger(name) for name in ("pytorch_lightning", "lightning_fabric")]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, before):
            lg.setLevel(lvl)
