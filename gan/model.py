"""The networks: a context encoder, the conditional generator and the projection critic.

All three work in *normalised* units, ``(x - channel_loc) / channel_scale`` per channel and, for the optional static
covariates, ``(x - covariate_loc) / covariate_scale`` per covariate; the generator holds these buffers (fitted on
the training windows) and converts at the edges (``normalize`` / ``denormalize`` / ``normalize_covariates``).

Generator, per path (cheap: only this part runs once per path when sampling)::

    z   ~ N(0, I)                                   # (n, noise_dim)   path-level latent
    h   = lrelu(W_in z + b[k])                      # (n, width)       b[k] from the condition of context k
    h   = lrelu((W_2 h) * (1 + gamma[k]) + beta[k]) # FiLM by the condition
    h   = lrelu(W_i h)  for the remaining layers
    mu, s = W_out h + o[k]                          # (n, H, C) each   path of means and scales
    eps ~ multivariate Student-t per step           # (n, H, C)        heavy-tailed innovations, unit variance
    y   = mu + softplus(s) * (eps @ M[k])           # (n, H, C)        M[k]: channel mixing, identity at init

The condition of a context (code of the context window, regime embedding, severity and, when
``n_covariates > 0``, the normalised covariates) is computed once per distinct context and broadcast to the paths
that share it, so covariates leave the per-path cost unchanged. Heavy tails come from three places: the latent
scale path ``softplus(s)`` (a scale mixture, as in stochastic volatility), the Student-t innovations (whose
per-step chi-square is shared by all channels, so a shock hits every asset and liquidity at once, as a
multivariate t) and the mean path ``mu`` (deterministic crash shapes).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan.config import GanConfig

NEG_SLOPE = 0.2


def lrelu(x: Tensor) -> Tensor:
    return F.leaky_relu(x, NEG_SLOPE)


def severity_features(severity: Tensor) -> Tensor:
    """(n,) severity in [0, 1] -> (n, 2) features ``[s, s^2]``."""
    s = severity.to(torch.float32).unsqueeze(-1)
    return torch.cat([s, s * s], dim=-1)


def covariate_features(covariates: Tensor | None, n_covariates: int, n: int) -> list[Tensor]:
    """``[covariates (n, F)]`` as float32 for a model with F = ``n_covariates`` > 0, ``[]`` for a model without.

    Raises ValueError when covariates are missing for a covariate model, given to a model without, or mis-shaped.
    """
    if not n_covariates:
        if covariates is not None:
            raise ValueError("covariates given to a network without covariates (n_covariates = 0)")
        return []
    if covariates is None:
        raise ValueError(f"this network needs covariates of shape ({n}, {n_covariates})")
    if tuple(covariates.shape) != (n, n_covariates):
        raise ValueError(f"covariates must have shape ({n}, {n_covariates}), got {tuple(covariates.shape)}")
    return [covariates.to(torch.float32)]


class ContextEncoder(nn.Module):
    """Code of a normalised context window: (n, L, C) -> (n, out_dim).

    Patch convolution (kernel = stride = 4) over ``[x, |x|]``, one strided convolution, a linear projection of
    the flattened maps together with the last step and the log realised variance (whole window, last quarter).
    """

    patch = 4

    def __init__(self, n_channels: int, context_len: int, width: int, out_dim: int):
        super().__init__()
        self.pad = (-context_len) % self.patch
        n_patches = (context_len + self.pad) // self.patch
        self.recent = max(1, context_len // 4)
        self.embed = nn.Conv1d(2 * n_channels, width, kernel_size=self.patch, stride=self.patch)
        self.conv = nn.Conv1d(width, 2 * width, kernel_size=3, stride=2, padding=1)
        n_flat = 2 * width * ((n_patches + 1) // 2)
        self.proj = nn.Linear(n_flat + 3 * n_channels, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        # x: (n, L, C)
        feats = torch.cat([x, x.abs()], dim=-1).transpose(1, 2)  # (n, 2C, L)
        feats = F.pad(feats, (self.pad, 0))  # left pad to a multiple of the patch
        h = lrelu(self.embed(feats))  # (n, width, L/4)
        h = lrelu(self.conv(h))  # (n, 2*width, L/8)
        var_all = torch.log(x.square().mean(dim=1) + 1e-3)  # (n, C)
        var_recent = torch.log(x[:, -self.recent :].square().mean(dim=1) + 1e-3)  # (n, C)
        summary = torch.cat([h.flatten(1), x[:, -1], var_all, var_recent], dim=-1)
        return lrelu(self.proj(summary))  # (n, out_dim)


class Condition(NamedTuple):
    """Per-context conditioning of the per-path MLP (first dim: contexts, or paths after ``select``)."""

    bias_in: Tensor  # (k, width)
    gamma: Tensor  # (k, width)
    beta: Tensor  # (k, width)
    out: Tensor  # (k, 2 * H * C)   offsets of the mean and pre-softplus scale paths
    mix: Tensor  # (k, C, C)        innovation mixing

    def select(self, index: Tensor) -> Condition:
        """The conditions of paths whose context is ``index`` (n,)."""
        return Condition(*(t.index_select(0, index) for t in self))


class Generator(nn.Module):
    """Conditional generator of (H, C) paths; see the module docstring for the equations."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.config = config
        c, h, w = config.n_channels, config.horizon, config.gen_width
        self.register_buffer("channel_loc", torch.zeros(c))
        self.register_buffer("channel_scale", torch.ones(c))
        self.n_covariates = f = config.n_covariates
        if f:  # none without covariates: the state dict (and exported models) stay as before covariates existed
            self.register_buffer("covariate_loc", torch.zeros(f))
            self.register_buffer("covariate_scale", torch.ones(f))

        # per context: code of (context, regime, severity, covariates) -> heads
        self.encoder = ContextEncoder(c, config.context_len, config.ctx_width, config.ctx_dim)
        self.regime_embedding = nn.Embedding(config.n_regimes, config.regime_dim)
        self.cond = nn.Sequential(
            nn.Linear(config.ctx_dim + config.regime_dim + 2 + f, config.cond_width),
            nn.LeakyReLU(NEG_SLOPE),
            nn.Linear(config.cond_width, config.cond_width),
            nn.LeakyReLU(NEG_SLOPE),
        )
        self.head_in = nn.Linear(config.cond_width, w)
        self.head_film = nn.Linear(config.cond_width, 2 * w)
        self.head_out = nn.Linear(config.cond_width, 2 * h * c)
        self.head_mix = nn.Linear(config.cond_width, c * c)
        for head in (self.head_film, self.head_mix):  # FiLM = identity, mixing = identity at init
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

        # per path: latent -> paths
        self.inp = nn.Linear(config.noise_dim, w, bias=False)
        self.hidden = nn.ModuleList([nn.Linear(w, w) for _ in range(config.gen_depth - 1)])
        self.out = nn.Linear(w, 2 * h * c, bias=False)

    # ------------------------------------------------------------------ units
    def normalize(self, x: Tensor) -> Tensor:
        """Data units -> network units, (..., C)."""
        return (x - self.channel_loc) / self.channel_scale

    def denormalize(self, y: Tensor) -> Tensor:
        """Network units -> data units, (..., C)."""
        return y * self.channel_scale + self.channel_loc

    def normalize_covariates(self, x: Tensor | None) -> Tensor | None:
        """Covariates in data units -> network units, (k, F); None stays None."""
        if x is None or not self.n_covariates:
            return x
        return (x - self.covariate_loc) / self.covariate_scale

    @torch.no_grad()
    def set_channel_scaler(self, loc: Tensor, scale: Tensor) -> None:
        """Fit-time per-channel location and scale (C,) of the training data."""
        self.channel_loc.copy_(torch.as_tensor(loc, dtype=torch.float32))
        self.channel_scale.copy_(torch.as_tensor(scale, dtype=torch.float32))

    @torch.no_grad()
    def set_covariate_scaler(self, loc: Tensor, scale: Tensor) -> None:
        """Fit-time per-covariate location and scale (F,) of the training windows (needs ``n_covariates > 0``)."""
        if not self.n_covariates:
            raise ValueError("set_covariate_scaler: this generator has no covariates (n_covariates = 0)")
        self.covariate_loc.copy_(torch.as_tensor(loc, dtype=torch.float32))
        self.covariate_scale.copy_(torch.as_tensor(scale, dtype=torch.float32))

    # ------------------------------------------------------------------ noise
    def draw_noise(self, n: int, generator: torch.Generator | None,
                   device: torch.device | str) -> tuple[Tensor, Tensor]:
        """Latents ``z`` (n, noise_dim) and unit-variance innovations ``eps`` (n, H, C), in a fixed draw order."""
        cfg = self.config
        z = torch.randn(n, cfg.noise_dim, generator=generator, device=device)
        eps = torch.randn(n, cfg.horizon, cfg.n_channels, generator=generator, device=device)
        if cfg.innovations == "student_t":
            df = cfg.innovation_df
            chi2 = torch.randn(n, cfg.horizon, df, generator=generator, device=device).square().sum(-1, keepdim=True)
            eps = eps * torch.rsqrt(chi2 / df) * math.sqrt((df - 2) / df)  # (n, H, C), t_df scaled to unit variance
        return z, eps

    # ------------------------------------------------------------------ networks
    def condition(self, context: Tensor, regime: Tensor, severity: Tensor,
                  covariates: Tensor | None = None) -> Condition:
        """Per-context heads from a normalised context (k, L, C), regime (k,), severity (k,) and, iff the model
        has ``n_covariates = F > 0``, normalised covariates (k, F)."""
        parts = [self.encoder(context), self.regime_embedding(regime), severity_features(severity)]
        parts += covariate_features(covariates, self.n_covariates, context.shape[0])
        c = self.cond(torch.cat(parts, -1))  # (k, cond_width)
        gamma, beta = self.head_film(c).chunk(2, dim=-1)
        n_ch = self.config.n_channels
        mix = self.head_mix(c).view(-1, n_ch, n_ch) + torch.eye(n_ch, device=c.device, dtype=c.dtype)
        return Condition(self.head_in(c), gamma, beta, self.head_out(c), mix)

    def paths(self, cond: Condition, z: Tensor, eps: Tensor) -> Tensor:
        """Normalised paths (n, H, C) from per-path conditions (n, ...) or one shared condition (1, ...)."""
        h = lrelu(self.inp(z) + cond.bias_in)  # (n, width)
        h = lrelu(self.hidden[0](h) * (1.0 + cond.gamma) + cond.beta)  # FiLM
        for layer in self.hidden[1:]:
            h = lrelu(layer(h))
        out = (self.out(h) + cond.out).view(-1, 2, self.config.horizon, self.config.n_channels)
        mu, scale = out[:, 0], F.softplus(out[:, 1])  # (n, H, C) each
        return mu + scale * torch.matmul(eps, cond.mix)  # (n, H, C) @ (n or 1, C, C)

    def forward(self, context: Tensor, regime: Tensor, severity: Tensor, z: Tensor, eps: Tensor,
                covariates: Tensor | None = None) -> Tensor:
        """One normalised path (n, H, C) per normalised context (n, L, C) (and normalised covariates (n, F))."""
        return self.paths(self.condition(context, regime, severity, covariates), z, eps)

    def flops_per_path(self) -> int:
        """Multiply-adds x 2 of the per-path part (the shared per-context part, covariates included, excluded)."""
        cfg = self.config
        w, hc, c = cfg.gen_width, cfg.horizon * cfg.n_channels, cfg.n_channels
        return 2 * (cfg.noise_dim * w + (cfg.gen_depth - 1) * w * w + w * 2 * hc + hc * c)


def path_statistics(target: Tensor) -> Tensor:
    """Per-channel path features of normalised paths (n, H, C) -> (n, 6C).

    Horizon sum, lowest and highest point of the cumulative path (all divided by sqrt(H)), mean |x|, root mean
    square and max |x|: the aggregates the tail metrics and drawdowns depend on, given to the critic directly.
    """
    root_h = math.sqrt(target.shape[1])
    cum = target.cumsum(dim=1)  # (n, H, C)
    return torch.cat([
        cum[:, -1] / root_h,
        cum.min(dim=1).values / root_h,
        cum.max(dim=1).values / root_h,
        target.abs().mean(dim=1),
        torch.sqrt(target.square().mean(dim=1) + 1e-6),
        target.abs().max(dim=1).values,
    ], dim=-1)


class Critic(nn.Module):
    """Projection critic (Miyato & Koyama 2018): D = w . phi + embed(regime) . phi (+ (V x) . phi for covariates x).

    ``phi`` sees the target path with the last ``critic_recent`` context steps (strided convolutions over
    ``[x, |x|, is_target]``), its path statistics, a code of the whole context, the severity and (when
    ``n_covariates > 0``) the normalised covariates ``x``, so it judges realism given the covariates; the
    projection term ``(V x) . phi`` lets it compare, say, the path's spread with a volatility covariate directly
    (learnt about twice as fast as through the concatenation alone on the tests' synthetic data).
    """

    def __init__(self, config: GanConfig):
        super().__init__()
        c, w = config.n_channels, config.critic_width
        self.n_covariates = config.n_covariates
        self.recent = min(config.critic_recent, config.context_len)
        self.encoder = ContextEncoder(c, config.context_len, config.ctx_width, config.ctx_dim)
        self.conv = nn.Sequential(
            nn.Conv1d(2 * c + 1, w, kernel_size=3, stride=2, padding=1),
            nn.LeakyReLU(NEG_SLOPE),
            nn.Conv1d(w, w, kernel_size=3, stride=2, padding=1),
            nn.LeakyReLU(NEG_SLOPE),
            nn.Conv1d(w, w, kernel_size=3, stride=2, padding=1),
            nn.LeakyReLU(NEG_SLOPE),
        )
        steps = self.recent + config.horizon
        for _ in range(3):
            steps = (steps + 1) // 2  # length after each stride-2 convolution
        self.mlp = nn.Sequential(
            nn.Linear(w * steps + 6 * c + config.ctx_dim + 2 + config.n_covariates, 2 * w),
            nn.LeakyReLU(NEG_SLOPE),
            nn.Linear(2 * w, 2 * w),
            nn.LeakyReLU(NEG_SLOPE),
        )
        self.linear = nn.Linear(2 * w, 1)
        self.regime_embedding = nn.Embedding(config.n_regimes, 2 * w)
        nn.init.normal_(self.regime_embedding.weight, std=0.02)
        if config.n_covariates:  # projection of the covariates, like the regime's: x^T V phi
            self.covariate_projection = nn.Linear(config.n_covariates, 2 * w, bias=False)
            nn.init.normal_(self.covariate_projection.weight, std=0.02)
        marker = torch.cat([torch.zeros(self.recent), torch.ones(config.horizon)])
        self.register_buffer("marker", marker.view(1, -1, 1), persistent=False)

    def forward(self, target: Tensor, context: Tensor, regime: Tensor, severity: Tensor,
                covariates: Tensor | None = None) -> Tensor:
        """Critic value (n,) of normalised target paths (n, H, C) given normalised contexts (n, L, C), regimes (n,),
        severities (n,) and, iff ``n_covariates = F > 0``, normalised covariates (n, F)."""
        seq = torch.cat([context[:, context.shape[1] - self.recent :], target], dim=1)  # (n, recent + H, C)
        marker = self.marker.expand(seq.shape[0], -1, -1).to(seq.dtype)
        x = torch.cat([seq, seq.abs(), marker], dim=-1).transpose(1, 2)  # (n, 2C + 1, recent + H)
        phi = self.mlp(torch.cat([
            self.conv(x).flatten(1),
            path_statistics(target),
            self.encoder(context),
            severity_features(severity).to(seq.dtype),
            *(f.to(seq.dtype) for f in covariate_features(covariates, self.n_covariates, seq.shape[0])),
        ], dim=-1))  # (n, 2 * width)
        value = self.linear(phi).squeeze(-1) + (self.regime_embedding(regime) * phi).sum(-1)
        if self.n_covariates:
            value = value + (self.covariate_projection(covariates.to(phi.dtype)) * phi).sum(-1)
        return value
