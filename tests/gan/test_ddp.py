"""A 2-process CPU DDP run (gloo) through the same fit() a CLI would call."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gan.sampler import Sampler

TESTS = Path(__file__).parent


@pytest.mark.slow
def test_two_process_cpu_ddp_run_completes_and_exports(tmp_path):
    out = tmp_path / "run"
    script = tmp_path / "train_ddp.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        from gan_helpers import synthetic_windows, tiny_config
        from gan.train import fit

        train, val = synthetic_windows(1024, 16, 8, seed=0), synthetic_windows(128, 16, 8, seed=1)
        result = fit(train, tiny_config(max_epochs=2), {str(out)!r}, val=val, accelerator="cpu", devices=2,
                     strategy="ddp", progress=False)
        if result.model_dir is not None:
            print("GLOBAL_STEP", result.global_step)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    # 1024 windows / (2 ranks x 64 x 2) = 4 batches per epoch per rank, 3 optimizer steps each, 2 epochs
    assert "GLOBAL_STEP 24" in done.stdout
    paths = Sampler.load(out / "model", device="cpu").sample_array(
        np.zeros((1, 16, 2), np.float32), "calm", 0.5, 10, 8, seed=0)
    assert paths.shape == (10, 8, 2)
