"""GanModule: the LightningModule that trains the generator against the critic (WGAN-GP, manual optimisation).

One ``training_step`` = ``n_critic`` critic steps (each on its own slice of the batch, with the gradient penalty)
then one generator step, in that order, as in Lightning's GAN example. ``global_step`` therefore grows by
``n_critic + 1`` per batch; logging (``log_every_n_steps``) counts batches.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from gan.config import GanConfig
from gan.errors import TrainingDivergedError
from gan.evaluation import path_energy_score
from gan.losses import gradient_penalty, tail_loss
from gan.model import Critic, Generator
from gan.sampler import SampleFn, Sampler
from gan.seeding import derive_seed

ValScore = Callable[[SampleFn], dict[str, float]]
# condition_loss(fake (B, H, C) data units, regime (B,), severity (B,), covariates (B, F) data units or None) -> scalar
ConditionLoss = Callable[[Tensor, Tensor, Tensor, "Tensor | None"], Tensor]


class GanModule(pl.LightningModule):
    """Conditional WGAN-GP on windows.

    Parameters
    ----------
    config : dict
        ``GanConfig.to_dict()``. Kept as a plain dict in ``hparams`` so checkpoints load with
        ``torch.load(weights_only=True)``.
    """

    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config = GanConfig.from_dict(config)
        self.generator = Generator(self.config)
        self.critic = Critic(self.config)
        self.automatic_optimization = False
        self.val_score: ValScore | None = None  # set by fit(); not a hyperparameter
        self.condition_loss: ConditionLoss | None = None  # set by fit(); weighted by config.condition_weight
        self._val_sum, self._val_count = 0.0, 0

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        cfg = self.config
        opt_d = torch.optim.Adam(self.critic.parameters(), lr=cfg.lr_critic, betas=tuple(cfg.betas))
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr_generator, betas=tuple(cfg.betas))
        return [opt_d, opt_g]

    # ------------------------------------------------------------------ training
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        cfg, g, d = self.config, self.generator, self.critic
        opt_d, opt_g = self.optimizers()
        rng = self._noise_generator("train", self.current_epoch, batch_idx, self.global_rank)
        context = g.normalize(batch["context"])  # (n_critic * B, L, C)
        target = g.normalize(batch["target"])  # (n_critic * B, H, C)
        regime, severity = batch["regime"], batch["severity"]  # (n_critic * B,)
        raw_covariates = batch.get("covariates")  # (n_critic * B, F) data units, or None
        covariates = g.normalize_covariates(raw_covariates)
        n = target.shape[0] // cfg.n_critic

        # ---- critic: n_critic steps, each on its own slice of the batch
        for i in range(cfg.n_critic):
            part = slice(i * n, (i + 1) * n)
            ctx, real, reg, sev = context[part], target[part], regime[part], severity[part]
            cov = None if covariates is None else covariates[part]
            with torch.no_grad():
                fake = g(ctx, reg, sev, *g.draw_noise(n, rng, self.device), covariates=cov)  # (B, H, C)
            scores = d(torch.cat([real, fake]), ctx.repeat(2, 1, 1), reg.repeat(2), sev.repeat(2),
                       None if cov is None else cov.repeat(2, 1))  # (2B,)
            d_real, d_fake = scores[:n].float(), scores[n:].float()
            u = torch.rand(n, generator=rng, device=self.device)
            # covariates are conditioning, like the context: bound, not interpolated
            gp = gradient_penalty(lambda x: d(x, ctx, reg, sev, cov), real, fake, u)  # float32, autocast off
            wasserstein = d_real.mean() - d_fake.mean()
            loss_d = -wasserstein + cfg.gp_lambda * gp + cfg.drift_epsilon * d_real.square().mean()
            opt_d.zero_grad(set_to_none=True)
            self.manual_backward(loss_d)
            opt_d.step()  # gradients clipped in on_before_optimizer_step

        # ---- generator: one step on the last slice, fresh noise
        with self.toggled_optimizer(opt_g):  # no critic weight gradients in this step
            fake = g(ctx, reg, sev, *g.draw_noise(n, rng, self.device), covariates=cov)
            adversarial = -d(fake, ctx, reg, sev, cov).float().mean()
            tail = tail_loss(fake, real, reg, cfg.n_regimes, cfg.tail_alphas, cfg.tail_channel_list,
                             cfg.tail_min_count) if cfg.tail_weight > 0 else adversarial.new_zeros(())
            condition = adversarial.new_zeros(())
            if self.condition_loss is not None and cfg.condition_weight > 0:
                raw_cov = None if raw_covariates is None else raw_covariates[part]
                condition = self.condition_loss(g.denormalize(fake).float(), reg, sev, raw_cov)
                m = round(cfg.counterfactual_share * n)
                if m > 0:  # the same contexts under conditions drawn at random: the condition term only
                    cf_reg = torch.randint(cfg.n_regimes, (m,), generator=rng, device=self.device)
                    cf_sev = torch.rand(m, generator=rng, device=self.device)
                    cf = g(ctx[:m], cf_reg, cf_sev, *g.draw_noise(m, rng, self.device),
                           covariates=None if cov is None else cov[:m])
                    condition = condition + self.condition_loss(g.denormalize(cf).float(), cf_reg, cf_sev,
                                                                None if raw_cov is None else raw_cov[:m])
            loss_g = adversarial + cfg.tail_weight * tail + cfg.condition_weight * condition
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss_g)
            opt_g.step()

        losses = {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "wasserstein": wasserstein.detach(),
                  "gp": gp.detach(), "tail": tail.detach(), "condition": condition.detach()}
        self._stop_if_diverged(losses, batch_idx)
        self.log_dict(losses, on_step=True, on_epoch=True, batch_size=n)
        self.log("w_dist", losses["wasserstein"], prog_bar=True, on_step=True, on_epoch=False, batch_size=n)

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Lightning calls this after unscaling (16-mixed), so the clip threshold is in true gradient units.
        if self.config.grad_clip > 0:
            self.clip_gradients(optimizer, gradient_clip_val=self.config.grad_clip, gradient_clip_algorithm="norm")

    def _stop_if_diverged(self, losses: dict[str, Tensor], batch_idx: int) -> None:
        """Raise TrainingDivergedError on every rank if any loss is NaN/inf or beyond the threshold on any rank."""
        values = torch.stack([v.float() for v in losses.values()])
        bad_mask = ~torch.isfinite(values) | (values.abs() > self.config.divergence_threshold)
        bad = bool(bad_mask.any())  # one device sync per batch
        if not self.trainer.strategy.reduce_boolean_decision(bad, all=False):
            return
        if bad:
            name, value = next((k, v.item()) for k, v, b in zip(losses, values, bad_mask) if b)
            what = f"{name} is {value:.4g}"
        else:
            what = "a loss on another process is not finite"
        last = Path(self.trainer.default_root_dir) / "last.ckpt"
        hint = f"the last good checkpoint is {last}" if last.exists() else "no checkpoint was written yet"
        raise TrainingDivergedError(
            f"training diverged at epoch {self.current_epoch}, batch {batch_idx} (global step {self.global_step}): "
            f"{what}; {hint}; lower lr_critic/lr_generator, raise gp_lambda or check the windows for extreme values"
        )

    def _noise_generator(self, *parts: int | str) -> torch.Generator:
        """A generator seeded from (config.seed, parts): training noise is reproducible and resume-exact."""
        return torch.Generator(device=self.device).manual_seed(derive_seed(self.config.seed, *parts))

    # ------------------------------------------------------------------ validation and model selection
    def on_validation_epoch_start(self) -> None:
        self._val_sum, self._val_count = 0.0, 0

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        if not isinstance(batch, dict):  # placeholder batch: only the caller's val_score runs
            return
        cfg, g, m = self.config, self.generator, self.config.val_paths_per_window
        rng = self._noise_generator("val", batch_idx)  # the same noise every epoch: comparable scores
        with torch.autocast(self.device.type, enabled=False):
            ctx, real = g.normalize(batch["context"]), g.normalize(batch["target"])  # (w, L, C), (w, H, C)
            cov = g.normalize_covariates(batch.get("covariates"))  # (w, F) or None
            w = ctx.shape[0]
            fake = g(ctx.repeat_interleave(m, 0), batch["regime"].repeat_interleave(m, 0),
                     batch["severity"].repeat_interleave(m, 0), *g.draw_noise(w * m, rng, self.device),
                     covariates=None if cov is None else cov.repeat_interleave(m, 0))
            channels = list(range(cfg.n_channels))
            score = path_energy_score(fake.view(w, m, *fake.shape[1:]), real, channels)  # (w,)
        self._val_sum += float(score.sum())
        self._val_count += w

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        cfg = self.config
        metrics: dict[str, float] = {}
        if self._val_count:
            metrics["val_energy"] = self._val_sum / self._val_count
        if self.val_score is not None:
            returned = None
            if self.trainer.is_global_zero:  # the caller's score runs once; other ranks receive its result
                sample_fn = Sampler(self.generator, cfg, device=self.device).sample_fn()
                returned = {str(k): float(v) for k, v in self.val_score(sample_fn).items()}
            returned = self.trainer.strategy.broadcast(returned, src=0)
            metrics.update(returned)
            if cfg.selection_metric not in returned:
                raise KeyError(f"val_score returned {sorted(returned)} without the selection metric "
                               f"{cfg.selection_metric!r} (GanConfig.selection_metric)")
        elif "val_energy" in metrics:
            metrics[cfg.selection_metric] = metrics["val_energy"]
        for key, value in metrics.items():  # identical on every rank: no sync needed
            value = value if value == value else float("inf")  # NaN would never be selected; say inf
            self.log(key, value, prog_bar=key == cfg.selection_metric, on_epoch=True, sync_dist=False)
