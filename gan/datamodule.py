"""Lightning data plumbing: WindowSet -> batches of tensors, with the rare-regime sampler per DDP rank."""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from gan.config import GanConfig
from gan.windows import RegimeBalancedSampler, WindowSet, sampling_weights


class WindowDataset(Dataset):
    """Map-style dataset over a WindowSet; ``__getitems__`` gathers a whole batch in one indexing op.

    A batch is a dict of ``context`` (B, L, C), ``target`` (B, H, C), ``regime`` (B,), ``severity`` (B,) and,
    for windows with covariates, ``covariates`` (B, F), all in data units.
    """

    def __init__(self, windows: WindowSet):
        self.context = torch.from_numpy(windows.context)  # (N, L, C)
        self.target = torch.from_numpy(windows.target)  # (N, H, C)
        self.regime = torch.from_numpy(windows.regime)  # (N,)
        self.severity = torch.from_numpy(windows.severity)  # (N,)
        self.covariates = None if windows.covariates is None else torch.from_numpy(windows.covariates)  # (N, F)

    def __len__(self) -> int:
        return self.context.shape[0]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([i])

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.int64)
        batch = {"context": self.context[idx], "target": self.target[idx],
                 "regime": self.regime[idx], "severity": self.severity[idx]}
        if self.covariates is not None:  # data units, float32 (B, F); normalised by the module
            batch["covariates"] = self.covariates[idx]
        return batch


def collate_batch(batch: Any) -> Any:
    """Batches arrive already stacked by ``__getitems__``."""
    return batch


class WindowDataModule(pl.LightningDataModule):
    """Training batches of ``batch_size * n_critic`` windows drawn by ``RegimeBalancedSampler``.

    One loader batch feeds one ``training_step``: ``n_critic`` critic steps on consecutive slices of
    ``batch_size`` windows, then one generator step on the last slice. An epoch draws about ``len(train)``
    windows in total (at least one batch per rank). Validation windows are read in order on every rank
    (every rank computes the same deterministic energy score, so no cross-rank reduction is needed; the
    caller's ``val_score`` runs on rank 0 and is broadcast).
    """

    def __init__(self, train: WindowSet, config: GanConfig, val: WindowSet | None = None,
                 placeholder_val: bool = False):
        super().__init__()
        self.train_windows, self.val_windows, self.config = train, val, config
        self.placeholder_val = placeholder_val

    def train_dataloader(self) -> DataLoader:
        cfg = self.config
        world, rank = self.trainer.world_size, self.trainer.global_rank
        batch = cfg.batch_size * cfg.n_critic
        per_rank = max(1, math.ceil(len(self.train_windows) / (batch * world))) * batch
        weights = sampling_weights(self.train_windows, cfg.n_regimes, cfg.regime_beta)
        sampler = RegimeBalancedSampler(weights, per_rank, cfg.seed, rank=rank, world_size=world)
        return DataLoader(WindowDataset(self.train_windows), batch_size=batch, sampler=sampler, drop_last=True,
                          collate_fn=collate_batch, num_workers=cfg.num_workers,
                          persistent_workers=cfg.num_workers > 0)

    def val_dataloader(self) -> DataLoader | list:
        if self.val_windows is None:
            # only a caller's val_score: one placeholder batch so that the validation hooks run
            return DataLoader([0], batch_size=1) if self.placeholder_val else []
        return DataLoader(WindowDataset(self.val_windows), batch_size=256, shuffle=False,
                          collate_fn=collate_batch, num_workers=0)
