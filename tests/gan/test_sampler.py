import numpy as np
import pytest
import torch

from gan_helpers import CONTEXT_LEN, HORIZON, tiny_config
from gan.errors import SamplingError
from gan.model import Generator
from gan.sampler import Sampler


@pytest.fixture(scope="module")
def sampler():
    torch.manual_seed(0)
    return Sampler(Generator(tiny_config()), device="cpu")


@pytest.fixture(scope="module")
def contexts(val_windows):
    return val_windows.context[:5]  # (5, L, C)


def _all(sampler, contexts, **kw):
    args = dict(regime="flash_crash", severity=0.7, n=10000, horizon=HORIZON, seed=11)
    args.update(kw)
    return np.concatenate(list(sampler.sample(contexts, **args)))


def test_chunks_are_float32_in_order_with_requested_sizes(sampler, contexts):
    chunks = list(sampler.sample(contexts, "calm", 0.5, n=10000, horizon=HORIZON, seed=1, chunk_size=3000))
    assert [len(c) for c in chunks] == [3000, 3000, 3000, 1000]
    assert all(c.dtype == np.float32 and c.shape[1:] == (HORIZON, 2) for c in chunks)


def test_same_seed_gives_the_same_bytes(sampler, contexts):
    assert _all(sampler, contexts).tobytes() == _all(sampler, contexts).tobytes()


def test_other_seed_gives_other_paths(sampler, contexts):
    assert not np.array_equal(_all(sampler, contexts), _all(sampler, contexts, seed=12))


def test_paths_do_not_depend_on_chunk_size(sampler, contexts):
    a = np.concatenate(list(sampler.sample(contexts, "calm", 0.5, 9000, HORIZON, 5, chunk_size=65536)))
    b = np.concatenate(list(sampler.sample(contexts, "calm", 0.5, 9000, HORIZON, 5, chunk_size=777)))
    assert a.tobytes() == b.tobytes()


def test_fewer_paths_are_a_prefix_of_more(sampler, contexts):
    assert _all(sampler, contexts, n=5000).tobytes() == _all(sampler, contexts, n=10000)[:5000].tobytes()


def test_context_index_picks_the_context_of_each_path(sampler, contexts):
    index = np.full(50, 3, dtype=np.int64)
    picked = _all(sampler, contexts, n=50, context_index=index)
    alone = _all(sampler, contexts[3:4], n=50)
    np.testing.assert_allclose(picked, alone, rtol=1e-5, atol=1e-5)


def test_long_horizon_continues_the_first_block_autoregressively(sampler, contexts):
    long = _all(sampler, contexts, n=300, horizon=3 * HORIZON + 2)
    short = _all(sampler, contexts, n=300)
    assert long.shape == (300, 3 * HORIZON + 2, 2)
    np.testing.assert_array_equal(long[:, :HORIZON], short)


def test_per_context_regimes_and_severities(sampler, contexts):
    paths = _all(sampler, contexts, n=20, regime=[0, 1, 2, 3, "calm"], severity=np.linspace(0, 1, 5))
    assert paths.shape == (20, HORIZON, 2) and np.isfinite(paths).all()


def test_longer_context_uses_its_last_steps(sampler, val_windows):
    ctx = val_windows.context[:2]
    padded = np.concatenate([np.zeros((2, 4, 2), np.float32), ctx], axis=1)
    assert _all(sampler, padded, n=10).tobytes() == _all(sampler, ctx, n=10).tobytes()


@pytest.mark.parametrize("change, message", [
    ({"regime": "panic"}, "unknown regime 'panic'"),
    ({"severity": 1.2}, "severity must be a number in \\[0, 1\\]"),
    ({"n": 0}, "n must be an integer >= 1"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"context": np.zeros((2, CONTEXT_LEN - 1, 2), np.float32)}, "context has 15 steps"),
    ({"context": np.zeros((2, CONTEXT_LEN, 3), np.float32)}, "context must be float32\\[K, L, 2\\]"),
    ({"context_index": np.array([0, 7])}, "context_index must lie in 0..4"),
])
def test_bad_arguments_raise_sampling_error(sampler, contexts, change, message):
    args = dict(context=contexts, regime="calm", severity=0.5, n=2, horizon=HORIZON, seed=0)
    args.update(change)
    with pytest.raises(SamplingError, match=message):
        sampler.sample(**args)


def test_sampling_leaves_grad_mode_alone(sampler, contexts):
    it = sampler.sample(contexts, "calm", 0.5, n=9000, horizon=HORIZON, seed=0, chunk_size=100)
    next(it)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
