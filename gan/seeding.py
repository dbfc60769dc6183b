"""Seeds derived from (seed, tag, counters): counter-based streams for the sampler, the training noise and the
data order, independent of any global random state."""

from __future__ import annotations

import numpy as np


def derive_seed(*parts: int | str) -> int:
    """A 63-bit seed derived from non-negative integers and short tags with ``np.random.SeedSequence``.

    ``derive_seed(7, "block", 3)`` is the same on every machine and run; different parts give independent
    streams for ``torch.Generator().manual_seed``.
    """
    words: list[int] = []
    for p in parts:
        if isinstance(p, str):
            words.extend(p.encode())
        else:
            words.append(int(p))
    return int(np.random.SeedSequence(words).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
