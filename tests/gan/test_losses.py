import torch

from gan.losses import gradient_penalty, lower_tail, tail_loss
from gan.train import resolve_precision, resolve_strategy


def _critic():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    return lambda x: net(x).squeeze(-1)


def test_gradient_penalty_is_float32_and_unchanged_under_bf16_autocast():
    critic = _critic()
    real, fake, u = torch.randn(64, 8, 2), torch.randn(64, 8, 2), torch.rand(64)
    plain = gradient_penalty(critic, real, fake, u)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = gradient_penalty(critic, real.bfloat16(), fake.bfloat16(), u)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, plain, rtol=2e-2, atol=1e-4)  # inputs rounded to bf16, math in float32


def test_gradient_penalty_of_a_unit_slope_critic_is_zero():
    w = torch.zeros(8, 2)
    w[0, 0] = 1.0
    gp = gradient_penalty(lambda x: (x * w).sum(dim=(1, 2)), torch.randn(5, 8, 2), torch.randn(5, 8, 2), torch.rand(5))
    assert gp.item() < 1e-12


def test_lower_tail_var_and_es_on_known_values():
    x = torch.arange(1.0, 101.0).unsqueeze(-1)  # 1..100
    var, es = lower_tail(x, 0.05)
    assert var.item() == 5.0 and es.item() == 3.0


def test_tail_loss_is_zero_for_identical_batches_and_pushes_thin_tails_out():
    real = torch.randn(200, 8, 2) * 2.0
    regime = torch.arange(200) % 2
    assert tail_loss(real, real, regime, 2, [0.05], [0, 1], 20).item() == 0.0
    fake = (real * 0.5).requires_grad_(True)
    loss = tail_loss(fake, real, regime, 2, [0.05], [0], 20)
    loss.backward()
    assert loss.item() > 0 and fake.grad[..., 0].abs().sum() > 0 and fake.grad[..., 1].abs().sum() == 0


def test_precision_defaults_to_float32_without_cuda():
    expected = "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"
    assert resolve_precision(None, "auto") == expected
    assert resolve_precision(None, "cpu") == "32-true"
    assert resolve_precision("16-mixed", "auto") == "16-mixed"


def test_ddp_strategies_find_unused_parameters():
    assert resolve_strategy("ddp", "cpu", 2) == "ddp_find_unused_parameters_true"
    assert resolve_strategy("ddp_spawn", "auto", 2) == "ddp_spawn_find_unused_parameters_true"
    assert resolve_strategy("auto", "cpu", 1) == "auto"
