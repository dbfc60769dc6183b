import numpy as np
import pytest
import torch

from gan.config import GanConfig
from gan.model import Critic, Generator


@pytest.mark.parametrize("n_channels, context_len, horizon", [(2, 48, 24), (6, 72, 24), (2, 5, 3)])
def test_generator_and_critic_shapes(n_channels, context_len, horizon):
    config = GanConfig(n_channels=n_channels, context_len=context_len, horizon=horizon, gen_width=16,
                       cond_width=16, critic_width=16)
    g, d = Generator(config), Critic(config)
    n = 7
    ctx = torch.randn(n, context_len, n_channels)
    regime, severity = torch.randint(0, 4, (n,)), torch.rand(n)
    paths = g(ctx, regime, severity, *g.draw_noise(n, None, "cpu"))
    assert paths.shape == (n, horizon, n_channels)
    assert d(paths, ctx, regime, severity).shape == (n,)


def test_one_shared_condition_broadcasts_to_all_paths():
    config = GanConfig(gen_width=16, cond_width=16)
    g = Generator(config)
    ctx = torch.randn(1, 48, 2)
    cond = g.condition(ctx, torch.tensor([2]), torch.tensor([0.9]))
    z, eps = g.draw_noise(5, torch.Generator().manual_seed(0), "cpu")
    shared = g.paths(cond, z, eps)
    per_path = g.paths(cond.select(torch.zeros(5, dtype=torch.int64)), z, eps)
    torch.testing.assert_close(shared, per_path)


def test_student_t_innovations_have_unit_variance_and_fat_tails():
    g = Generator(GanConfig(innovations="student_t", innovation_df=5))
    _, eps = g.draw_noise(20000, torch.Generator().manual_seed(0), "cpu")
    x = eps.flatten().numpy().astype(np.float64)
    assert abs(x.var() - 1.0) < 0.05
    assert ((x - x.mean()) ** 4).mean() / x.var() ** 2 > 5.0  # Gaussian: 3; t5: 9


def test_per_path_flops_stay_within_the_sampling_budget():
    assert Generator(GanConfig(n_channels=2)).flops_per_path() < 200_000
    assert Generator(GanConfig(n_channels=6)).flops_per_path() < 200_000
