"""Black-76 under many scenarios at once: the engine's hot path, in torch with paths innermost.

Each call prices every option of one asset block (``P`` options) under ``S`` scenarios (a relative move of
the underlying and a multiplicative shock to the implied vol) for ``n`` paths, as a ``[P*S, n]`` array with
paths contiguous. All work happens in place in a reused workspace, a sub-chunk of paths at a time, so the
arrays stay in cache and no memory is allocated per step (fresh multi-megabyte allocations page-fault and
cost more than the arithmetic). Torch is used because its vectorised ``erf`` and two intra-op threads are
several times faster than ``scipy.special.ndtr`` on this workload (see ``benchmarks/bench_margin.py``).

Notes
-----
With :math:`x = \\ln(F/K)` (the scenario forward over the strike), implied vol :math:`\\sigma` from the
smile in :mod:`margin.smile` evaluated at :math:`k=-x`, :math:`w=\\sigma\\sqrt\\tau` and
:math:`\\omega = \\pm 1`:

.. math:: V = \\omega K D\\,[e^{x} N(\\omega d_1) - N(\\omega d_2)],\\quad d_1 = x/w + w/2,\\ d_2 = d_1 - w,

which is :func:`margin.black76.black76_price` written per unit of strike, so one ``exp`` replaces a
product and a division.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

_SQRT2 = float(np.sqrt(2.0))
_MIN_SQRT_TAU = 1e-4  # ~ 5 minutes; options at or past expiry are settled by the engine, not priced here
_TARGET_ELEMENTS = 1 << 19  # elements per workspace buffer (2 MiB in float32): stays in L2/L3
_THREADS = int(os.environ.get("STRESSGAN_MARGIN_THREADS", "1"))


def set_kernel_threads(n: int) -> None:
    """Torch intra-op threads used by the kernels (default 1, or ``$STRESSGAN_MARGIN_THREADS``).

    One thread per process is the robust default: the kernels' ops are short, and with ``pytest -n 2`` or
    other work on the same cores a second OpenMP thread waits on descheduled peers for milliseconds per op.
    On an otherwise idle machine 2 threads are up to ~1.7x faster (see ``benchmarks/bench_margin.py``).
    """
    global _THREADS
    if n < 1:
        raise ValueError("threads must be at least 1")
    _THREADS = int(n)


@contextmanager
def _threads() -> Iterator[None]:
    prev = torch.get_num_threads()
    if prev != _THREADS:
        torch.set_num_threads(_THREADS)
    try:
        yield
    finally:
        if prev != _THREADS:
            torch.set_num_threads(prev)


@dataclass(frozen=True)
class SmileParams:
    """Smile of :mod:`margin.smile`: ``sigma = clip(atm * (1 + skew*k + curvature*k^2), floor, cap)``."""

    skew: float
    curvature: float
    vol_floor: float
    vol_cap: float


@dataclass(frozen=True)
class OptionRows:
    """One asset's live options at one step, each a float64 array of shape ``[P]``.

    log_fwd_over_strike : ``ln(S0 * g / K)``: log forward over strike when the spot is at its start price.
    sqrt_tau : square root of years to expiry.
    omega : +1 call, -1 put.
    strike : strike, USD.
    discount : discount factor ``exp(-r tau)``.
    fwd_factor : ``g = F / S`` (futures basis factor), for the delta against spot.
    """

    log_fwd_over_strike: np.ndarray
    sqrt_tau: np.ndarray
    omega: np.ndarray
    strike: np.ndarray
    discount: np.ndarray
    fwd_factor: np.ndarray

    @property
    def n_options(self) -> int:
        return int(self.omega.shape[0])


class _Workspace:
    """Reusable scratch buffers, grown on demand, one per (slot, dtype)."""

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, torch.dtype], torch.Tensor] = {}

    def get(self, slot: str, dtype: torch.dtype, k: int, rows: int, cols: int) -> list[torch.Tensor]:
        need = k * rows * cols
        buf = self._buffers.get((slot, dtype))
        if buf is None or buf.numel() < need:
            buf = torch.empty(need, dtype=dtype)
            self._buffers[(slot, dtype)] = buf
        size = rows * cols
        return [buf[i * size:(i + 1) * size].view(rows, cols) for i in range(k)]


_WORKSPACE = _Workspace()


def _col(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(np.array(a, dtype=np.float64).reshape(-1, 1), dtype=dtype)


def _sum_rows(t: torch.Tensor) -> torch.Tensor:
    """Sum over dim 0 in a fixed order, so a path's result does not depend on the chunk size."""
    out = t[0].clone()
    for row in t[1:]:
        out += row
    return out


def _price_block(x, w, d1, d2, atm, vol_mult, w_row, smile: SmileParams, fill_fk) -> None:
    """In place, for ``x = ln(F/K)`` [R, m]: leave ``erf(omega d1 / sqrt2)`` in ``d1``, ``erf(omega d2 / sqrt2)``
    in ``d2`` and whatever ``fill_fk(x)`` writes (``F/K`` times a per-row constant) in ``x``.

    With ``w'' = sqrt2 * omega * sigma * sqrt(tau)`` (``w_row`` = ``sqrt2 * omega * sqrt(tau)`` per row),
    ``omega d1/sqrt2 = x/w'' + w''/4`` and ``omega d2/sqrt2 = x/w'' - w''/4``, so the sign and the
    ``1/sqrt2`` of the normal CDF cost no extra pass. ``F/K`` comes as a product of per-row and per-path
    exponentials, cheaper than an ``exp`` per element.
    """
    torch.mul(x, smile.curvature, out=w)
    w.sub_(smile.skew).mul_(x).add_(1.0)              # smile factor 1 + skew*k + curv*k^2, k = -x
    w.mul_(atm).mul_(vol_mult).clamp_(smile.vol_floor, smile.vol_cap).mul_(w_row)
    torch.div(x, w, out=d1)
    torch.sub(d1, w, alpha=0.25, out=d2)
    d1.add_(w, alpha=0.25)
    fill_fk(x)
    d1.erf_()
    d2.erf_()


def _option_values(
    log_spot_rel: torch.Tensor, atm_vol: torch.Tensor, rows: OptionRows, smile: SmileParams,
    dtype: torch.dtype = torch.float64, with_deltas: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mark values and spot deltas of each option, per unit of underlying.

    Parameters
    ----------
    log_spot_rel : Tensor[n]
        ``ln(S_t / S_0)`` of the block's asset on each path.
    atm_vol : Tensor[n]
        Annualised ATM implied vol on each path.
    rows : OptionRows
        The options (``P`` of them).
    smile : SmileParams
    dtype : torch dtype of the computation (float64 for marks).
    with_deltas : also return the deltas (Black-76 at the smile vol, vol held fixed).

    Returns
    -------
    values : float64[P, n], USD per unit.
    deltas : float64[P, n], dV/dS per unit, or None.
    """
    n, p = int(log_spot_rel.shape[0]), rows.n_options
    lr, atm = log_spot_rel.to(dtype), atm_vol.to(dtype)
    c = _col(rows.log_fwd_over_strike, dtype)
    w_row = _col(_SQRT2 * rows.omega * np.maximum(rows.sqrt_tau, _MIN_SQRT_TAU), dtype)
    coef = _col(0.5 * rows.omega * rows.strike * rows.discount, dtype)
    dcoef = _col(0.5 * rows.omega * rows.discount * rows.fwd_factor, dtype)
    ones = torch.ones((p, 1), dtype=dtype)
    e_row = torch.exp(c)                                              # [P, 1]
    values = torch.empty((p, n), dtype=torch.float64)
    deltas = torch.empty((p, n), dtype=torch.float64) if with_deltas else None
    m = max(256, _TARGET_ELEMENTS // max(p, 1))
    for i in range(0, n, m):
        j = min(n, i + m)
        x, iv, d1, d2 = _WORKSPACE.get("marks", dtype, 4, p, j - i)
        torch.add(c, lr[i:j], out=x)
        e_lr = torch.exp(lr[i:j])
        _price_block(x, iv, d1, d2, atm[i:j], ones, w_row, smile, lambda t: torch.mul(e_row, e_lr, out=t))
        if deltas is not None:
            torch.add(d1, 1.0, out=deltas[:, i:j]).mul_(dcoef)         # D * omega * N(omega d1) * g
        d1.add_(1.0).mul_(x).sub_(d2.add_(1.0))
        torch.mul(d1, coef, out=values[:, i:j])
    return values.numpy(), None if deltas is None else deltas.numpy()


def _option_scenario_pnl(
    log_spot_rel: torch.Tensor,
    atm_vol: torch.Tensor,
    rows: OptionRows,
    smile: SmileParams,
    weights: np.ndarray,
    log_moves: np.ndarray | torch.Tensor,
    vol_mult: np.ndarray,
    scenario_sqrt_tau: np.ndarray | None = None,
) -> np.ndarray:
    """Weighted P&L of an option block under scenarios, in float32.

    Parameters
    ----------
    log_spot_rel, atm_vol : Tensor[n]
        As in :func:`option_values`.
    rows : OptionRows
        ``P`` options.
    smile : SmileParams
    weights : float[P]
        Quantity of each option (units of underlying, signed).
    log_moves : float[S] or float[S, n]
        Log move of the underlying in each scenario (the same for all paths, or per path).
    vol_mult : float[P, S]
        Multiplier on the ATM vol per option and scenario (1 = unchanged).
    scenario_sqrt_tau : float[P] or None
        Square root of years to expiry in the scenarios (shorter than now for a look-ahead); ``None`` =
        the current ``rows.sqrt_tau``.

    Returns
    -------
    float64[S, n]: ``sum_p weights[p] * (V_p(scenario) - V_p(now))`` in USD.
    """
    dtype = torch.float32
    n, p = int(log_spot_rel.shape[0]), rows.n_options
    moves = torch.as_tensor(np.asarray(log_moves), dtype=dtype)
    s = int(moves.shape[0])
    per_path = moves.ndim == 2
    lr, atm = log_spot_rel.to(dtype), atm_vol.to(dtype)
    sc_tau = rows.sqrt_tau if scenario_sqrt_tau is None else scenario_sqrt_tau
    # per-row constants (rows = options x scenarios, option-major)
    x0 = torch.as_tensor(rows.log_fwd_over_strike, dtype=dtype).view(p, 1, 1)
    c = None if per_path else (x0.view(p, 1) + moves.view(1, s)).reshape(p * s, 1)
    w_row = _col(np.repeat(_SQRT2 * rows.omega * np.maximum(sc_tau, _MIN_SQRT_TAU), s), dtype)
    vm = _col(np.broadcast_to(np.asarray(vol_mult, np.float64), (p, s)), dtype)
    # value per unit = K D omega [e^x (1 + erf1) - (1 + erf2)] / 2; the constant -1 cancels in (scenario - now)
    half_kdw = 0.5 * rows.omega * rows.strike * rows.discount * np.asarray(weights, np.float64)     # [P]
    coef = _col(np.repeat(half_kdw, s), dtype)
    coef_now = _col(half_kdw, dtype)
    e_x0 = torch.exp(x0) * torch.as_tensor(half_kdw, dtype=dtype).view(p, 1, 1)   # coef * e^{x0}, [P, 1, 1]
    e_c = None if per_path else torch.exp(c) * coef                               # coef * e^{c}, [P*S, 1]
    base_c = _col(rows.log_fwd_over_strike, dtype)
    e_base = torch.exp(base_c) * coef_now
    now_w = _col(_SQRT2 * rows.omega * np.maximum(rows.sqrt_tau, _MIN_SQRT_TAU), dtype)
    ones = torch.ones((p, 1), dtype=dtype)
    out = np.empty((s, n), np.float64)
    m = max(256, _TARGET_ELEMENTS // max(p * s, 1))
    for i in range(0, n, m):
        j = min(n, i + m)
        x, w, d1, d2 = _WORKSPACE.get("scenarios", dtype, 4, p * s, j - i)
        e_lr = torch.exp(lr[i:j])
        if per_path:
            torch.add(x0, moves[:, i:j].unsqueeze(0), out=x.view(p, s, j - i)).add_(lr[i:j])
            e_path = torch.exp(moves[:, i:j]).mul_(e_lr)                    # [S, m]
            fill = lambda t: torch.mul(e_x0, e_path.unsqueeze(0), out=t.view(p, s, j - i))
        else:
            torch.add(c, lr[i:j], out=x)
            fill = lambda t: torch.mul(e_c, e_lr, out=t)
        _price_block(x, w, d1, d2, atm[i:j], vm, w_row, smile, fill)
        x.addcmul_(x, d1).addcmul_(d2, coef, value=-1.0)         # coef [e^x (1 + erf1) - erf2]
        scen = _sum_rows(x.view(p, s, j - i))                    # [S, m]
        # the same block at the current state (no move, no shock, current tau), in the same precision
        xb, wb, d1b, d2b = _WORKSPACE.get("scenario_base", dtype, 4, p, j - i)
        torch.add(base_c, lr[i:j], out=xb)
        _price_block(xb, wb, d1b, d2b, atm[i:j], ones, now_w, smile, lambda t: torch.mul(e_base, e_lr, out=t))
        xb.addcmul_(xb, d1b).addcmul_(d2b, coef_now, value=-1.0)
        out[:, i:j] = scen.sub_(_sum_rows(xb)).numpy()
    return out


def option_values(log_spot_rel, atm_vol, rows, smile, dtype=torch.float64, with_deltas=True):
    """Mark values and spot deltas per unit (see :func:`_option_values` for shapes); float64[P, n] each."""
    with _threads(), torch.no_grad():
        return _option_values(log_spot_rel, atm_vol, rows, smile, dtype, with_deltas)


def option_scenario_pnl(log_spot_rel, atm_vol, rows, smile, weights, log_moves, vol_mult,
                        scenario_sqrt_tau=None):
    """Weighted scenario P&L of an option block (see :func:`_option_scenario_pnl`); float64[S, n]."""
    with _threads(), torch.no_grad():
        return _option_scenario_pnl(log_spot_rel, atm_vol, rows, smile, weights, log_moves, vol_mult,
                                    scenario_sqrt_tau)
