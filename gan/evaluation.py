"""Built-in validation score: the energy score of generated horizon statistics against the real ones.

Used for model selection when the caller supplies validation windows but no ``val_score``. The energy score
(Gneiting & Raftery 2007) is a proper scoring rule for a conditional distribution given paths ``X_1..X_m``
generated for one window and the realised ``y``::

    ES = mean_j ||X_j - y|| - 1/2 mean_{j,k} ||X_j - X_k||

It is computed on the per-channel horizon sum and drawdown (``horizon_statistics``), so it rewards getting the
spread and the tails of horizon moves right for each context; lower is better.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gan.losses import horizon_statistics


def energy_score(samples: Tensor, observed: Tensor) -> Tensor:
    """Energy score per window.

    Parameters
    ----------
    samples : Tensor (w, m, d)
        ``m`` generated feature vectors per window.
    observed : Tensor (w, d)
        The realised feature vector of each window.

    Returns
    -------
    Tensor (w,)
    """
    m = samples.shape[1]
    to_obs = (samples - observed.unsqueeze(1)).norm(dim=-1).mean(dim=1)  # (w,)
    pairwise = torch.cdist(samples, samples).sum(dim=(1, 2)) / (m * m)  # (w,)
    return to_obs - 0.5 * pairwise


def path_energy_score(generated: Tensor, real: Tensor, channels: list[int]) -> Tensor:
    """Energy score of horizon statistics: generated (w, m, H, C) vs real (w, H, C) normalised paths -> (w,)."""
    w, m = generated.shape[:2]
    feats_gen = horizon_statistics(generated.flatten(0, 1), channels).flatten(1).view(w, m, -1)  # (w, m, 2c)
    feats_real = horizon_statistics(real, channels).flatten(1)  # (w, 2c)
    return energy_score(feats_gen, feats_real)
