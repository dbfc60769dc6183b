"""Fidelity of generated paths against real windows: tails, clustering, drawdowns, adherence, realism, copying.

Inputs are plain arrays (``gen_returns``, ``gen_liquidity`` float32[n, h, a], ``gen_sigma`` float32[n, a]) and a
:class:`~scenarios.windows.RealWindows`, so packs of any source (GAN, baselines, or real windows themselves)
compare directly. For a conditional evaluation pass the real windows of the regime (``real.of_regime(...)``)
and ``requested_regime``.

Units. ``z = r / sigma`` is a step return in units of the path's reference volatility (the trailing 30-day
standard deviation of per-bar returns before the path): the shape metrics (W1 of step and horizon returns,
ACF, leverage, kurtosis, cross-asset correlation, the classifier and the memorisation check) use ``z``, so a
period's volatility level does not dominate them. The risk metrics (VaR/ES of horizon returns, drawdowns) and
the ``*_raw`` W1 variants use raw log returns, the units a margin engine sees. Horizon return: ``sum_t r_t``.
With several assets, per-asset metrics are computed per asset and averaged.

Metrics (keys of :func:`evaluate`'s result):

``w1_step``, ``w1_step_raw``, ``w1_horizon``, ``w1_horizon_raw``, ``w1_liquidity``
    Wasserstein-1 between generated and real pooled step returns (``z``; raw), horizon returns
    (``sum z / sqrt(h)``; raw) and step log volume ratios.
``var_{97.5,99,99.9}_{gen,real,relerr}``, ``es_...``
    Loss-positive VaR and ES of horizon returns at 2.5 %, 1 %, 0.1 %: with ``k = ceil(alpha n)``, VaR is minus
    the ``k``-th smallest horizon return and ES minus the mean of the ``k`` smallest; ``relerr = |gen - real| /
    |real|``.
``acf_r_*``, ``acf_abs_*``, ``leverage_*``
    Autocorrelation of ``z`` and ``|z|`` at lags ``1 .. min(24, h - 1)``, pooled within windows: at lag ``k``
    the correlation of ``x[i, t]`` and ``x[i, t + k]`` over all paths ``i`` and steps ``t``; leverage effect
    ``corr(z_t, |z_{t+k}|)`` the same way. ``*_mse``: mean squared difference of the gen and real vectors.
``kurtosis_{gen,real,abserr}``
    Excess kurtosis of pooled step ``z``.
``corr_{gen,real}``, ``corr_frobenius``
    Cross-asset correlation matrix of step ``z`` and the Frobenius norm of the difference (NaN for one asset).
``mdd_{mean,q99}_{gen,real}``, ``mdd_w1``
    Per-path maximum drawdown of the cumulative log price (positive, log units), its mean, 99th percentile and
    the W1 between the gen and real distributions.
``adherence``, ``regime_share_gen``, ``regime_share_real``
    Share of generated paths that :func:`~scenarios.regimes.label_windows` puts in ``requested_regime`` (None
    when no regime was requested) and the regime mix of both sides.
``discriminative_score``, ``discriminative_accuracy``
    A small MLP told real from generated (module function :func:`discriminative_score`); score
    ``|held-out accuracy - 0.5|``: 0 is indistinguishable, 0.5 trivially separable.
``memorisation_share``, ``memorisation_median_ratio``, ``memorisation_threshold``, ``memorisation_copy_share``
    With ``train`` windows: for each generated path the L2 distance (over ``z`` of the whole path) to its
    nearest training window, against the same distance for the real (held-out) windows: the share of generated
    paths closer than the 1st percentile of the real distances (about 0.01 for fresh samples, near 1 for
    copies) and the ratio of medians (about 1 for fresh samples, near 0 for copies). This comparison (the
    data-copying test of Meehan et al., 2020) assumes generated and real held-out paths are alike: paths milder
    than the real ones read as "close to training" without copying anything (GJR started before 2019's
    flash crashes: share 0.65, against 120 real crash windows). ``memorisation_copy_share`` is scale-free and
    reads copies only: the share of generated paths within 10 % relative L2 distance (``d < 0.1 |z|``) of a
    training window (0 for GJR there, 1 for replayed training windows; ``..._copy_share_real`` gives the real
    held-out windows' own share for reference).
``selection_score``
    :func:`combine_selection_score` of the ES error, ACF of ``|z|`` and drawdown W1 (lower is better).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from scenarios.errors import InputError
from scenarios.regimes import REGIMES, RegimeRules, label_windows, regime_index
from scenarios.windows import RealWindows

ALPHAS: dict[str, float] = {"97.5": 0.025, "99": 0.01, "99.9": 0.001}
MAX_LAG = 24
DISC_MAX_PER_CLASS = 4000
DISC_MIN_PER_CLASS = 50
DISC_EPOCHS = 25
MEMO_QUANTILE = 0.01
COPY_TOL = 0.1
_ACF_FLOOR = 0.05


def evaluate(gen_returns: np.ndarray, gen_liquidity: np.ndarray, gen_sigma: np.ndarray, real: RealWindows, *,
             train: RealWindows | None = None, rules: RegimeRules | None = None, step_hours: float | None = None,
             requested_regime: str | None = None, seed: int = 0, discriminate: bool = True,
             max_lag: int = MAX_LAG) -> dict[str, Any]:
    """All fidelity metrics of generated paths against real windows (module docstring for the keys).

    Parameters
    ----------
    gen_returns, gen_liquidity : float[n, h, a]
        Generated log returns and log volume ratios per step.
    gen_sigma : float[n, a]
        Reference volatility per step of each generated path (the pack's ``sigma_ref``).
    real : RealWindows
        Real windows to compare with (a held-out period; the regime's windows for a conditional evaluation).
    train : RealWindows, optional
        The generator's training windows, for the memorisation check (skipped when None).
    rules : RegimeRules, optional
        Labelling rules for adherence; default ``real.rules``.
    step_hours : float, optional
        Bar length; default ``real.step_hours``.
    requested_regime : str, optional
        The regime the paths were asked for; adherence is None without it.
    seed : int
        Seed of the classifier and the subsampling.
    discriminate : bool
        Train the classifier (the slowest metric, about a second).
    max_lag : int
        Largest ACF/leverage lag (capped at ``h - 1``).

    Returns
    -------
    dict
        Floats, lists and small dicts (NaN where a metric does not apply: see :func:`jsonable`).
    """
    r, q, s = _check_inputs(gen_returns, gen_liquidity, gen_sigma, real)
    rr, rq, rs = real.returns, real.liquidity, real.sigma
    n, h, a = r.shape
    z, rz = r / s[:, None, :], rr / rs[:, None, :]
    lags = np.arange(1, min(max_lag, h - 1) + 1)
    out: dict[str, Any] = {"n_gen": n, "n_real": len(real), "horizon": h, "n_assets": a,
                           "assets": list(real.assets), "requested_regime": requested_regime}

    out["w1_step"] = _mean_over_assets(lambda j: _w1(z[..., j], rz[..., j]), a)
    out["w1_step_raw"] = _mean_over_assets(lambda j: _w1(r[..., j], rr[..., j]), a)
    hz, rhz = z.sum(axis=1) / np.sqrt(h), rz.sum(axis=1) / np.sqrt(h)
    hr, rhr = r.sum(axis=1, dtype=np.float64), rr.sum(axis=1, dtype=np.float64)
    out["w1_horizon"] = _mean_over_assets(lambda j: _w1(hz[:, j], rhz[:, j]), a)
    out["w1_horizon_raw"] = _mean_over_assets(lambda j: _w1(hr[:, j], rhr[:, j]), a)
    out["w1_liquidity"] = _mean_over_assets(lambda j: _w1(q[..., j], rq[..., j]), a)
    out.update(tail_metrics(hr, rhr))

    acf = {}
    for name, fn in (("acf_r", lambda x: pooled_acf(x, x, lags)),
                     ("acf_abs", lambda x: pooled_acf(np.abs(x), np.abs(x), lags)),
                     ("leverage", lambda x: pooled_acf(x, np.abs(x), lags))):
        g = np.stack([fn(z[..., j]) for j in range(a)])  # (a, lags)
        re = np.stack([fn(rz[..., j]) for j in range(a)])
        acf[name] = (g, re)
        out[f"{name}_gen"] = _floats(g.mean(axis=0))
        out[f"{name}_real"] = _floats(re.mean(axis=0))
        out[f"{name}_mse"] = float(np.mean((g - re) ** 2)) if len(lags) else math.nan
    out["lags"] = [int(k) for k in lags]

    kg = float(np.mean([stats.kurtosis(z[..., j].ravel()) for j in range(a)]))
    kr = float(np.mean([stats.kurtosis(rz[..., j].ravel()) for j in range(a)]))
    out.update(kurtosis_gen=kg, kurtosis_real=kr, kurtosis_abserr=abs(kg - kr))

    if a > 1:
        cg, cr = np.corrcoef(z.reshape(-1, a), rowvar=False), np.corrcoef(rz.reshape(-1, a), rowvar=False)
        out.update(corr_gen=cg.round(6).tolist(), corr_real=cr.round(6).tolist(),
                   corr_frobenius=float(np.linalg.norm(cg - cr)))
    else:
        out.update(corr_gen=[[1.0]], corr_real=[[1.0]], corr_frobenius=math.nan)

    mg, mr = max_drawdown(r), max_drawdown(rr)
    out.update(mdd_mean_gen=float(mg.mean()), mdd_mean_real=float(mr.mean()),
               mdd_q99_gen=float(np.quantile(mg, 0.99, axis=0).mean()),
               mdd_q99_real=float(np.quantile(mr, 0.99, axis=0).mean()),
               mdd_w1=_mean_over_assets(lambda j: _w1(mg[:, j], mr[:, j]), a))

    out.update(condition_adherence(r, q, s, real, rules=rules, step_hours=step_hours,
                                   requested_regime=requested_regime))

    if discriminate:
        out.update(discriminative_score(window_features(z, q), window_features(rz, rq), seed=seed))
    else:
        out.update(discriminative_score=None, discriminative_accuracy=None)

    if train is not None:
        out.update(memorisation(z.reshape(n, -1), rz.reshape(len(real), -1),
                                (train.returns / train.sigma[:, None, :]).reshape(len(train), -1)))
    else:
        out.update(memorisation_share=None, memorisation_median_ratio=None, memorisation_threshold=None,
                   memorisation_copy_share=None, memorisation_copy_share_real=None)

    out["selection_score"] = combine_selection_score(out)
    return out


def selection_score(gen_returns: np.ndarray, gen_liquidity: np.ndarray, gen_sigma: np.ndarray,
                    real: RealWindows, *, rules: RegimeRules | None = None, step_hours: float | None = None
                    ) -> dict[str, float]:
    """The cheap model-selection score of generated paths against (validation) real windows.

    Same inputs as :func:`evaluate`. Returns ``selection_score`` (lower is better, see
    :func:`combine_selection_score`) with its parts ``es_error``, ``acf_abs_error`` and ``mdd_error``.
    ``rules`` and ``step_hours`` are accepted for a uniform call and not used.
    """
    r, _, s = _check_inputs(gen_returns, gen_liquidity, gen_sigma, real)
    h = r.shape[1]
    lags = np.arange(1, min(MAX_LAG, h - 1) + 1)
    z, rz = r / s[:, None, :], real.returns / real.sigma[:, None, :]
    a = r.shape[2]
    res: dict[str, Any] = tail_metrics(r.sum(axis=1, dtype=np.float64), real.returns.sum(axis=1, dtype=np.float64))
    g = np.stack([pooled_acf(np.abs(z[..., j]), np.abs(z[..., j]), lags) for j in range(a)])
    re = np.stack([pooled_acf(np.abs(rz[..., j]), np.abs(rz[..., j]), lags) for j in range(a)])
    res["acf_abs_mse"] = float(np.mean((g - re) ** 2)) if len(lags) else 0.0
    res["acf_abs_real"] = _floats(re.mean(axis=0))
    mg, mr = max_drawdown(r), max_drawdown(real.returns)
    res["mdd_w1"] = _mean_over_assets(lambda j: _w1(mg[:, j], mr[:, j]), a)
    res["mdd_mean_real"] = float(mr.mean())
    parts = selection_parts(res)
    return {"selection_score": float(np.mean(list(parts.values())))} | parts


def selection_parts(result: Mapping[str, Any]) -> dict[str, float]:
    """The three normalised errors behind the selection score.

    ``es_error``: mean relative error of ES 97.5 and ES 99 of horizon returns; ``acf_abs_error``: RMS
    difference of the ACF of ``|z|`` over the RMS of the real ACF (floored at 0.05); ``mdd_error``: drawdown W1
    over the mean real drawdown.
    """
    es = float(np.mean([result["es_97.5_relerr"], result["es_99_relerr"]]))
    acf_real = np.asarray(result["acf_abs_real"], dtype=np.float64)
    rms_real = max(float(np.sqrt(np.mean(acf_real**2))) if len(acf_real) else 0.0, _ACF_FLOOR)
    acf = float(np.sqrt(result["acf_abs_mse"])) / rms_real
    mdd = float(result["mdd_w1"]) / max(float(result["mdd_mean_real"]), 1e-12)
    return {"es_error": es, "acf_abs_error": acf, "mdd_error": mdd}


def combine_selection_score(result: Mapping[str, Any]) -> float:
    """Mean of :func:`selection_parts`: one number, lower is better, 0 for a perfect match."""
    return float(np.mean(list(selection_parts(result).values())))


# ---------------------------------------------------------------------------------------------------- metrics


def var_es(x: np.ndarray, alpha: float) -> tuple[float, float]:
    """Loss-positive empirical VaR and ES of outcomes ``x[n]`` at tail probability ``alpha``.

    With ``k = max(1, ceil(alpha n))`` and ``x_(1) <= ... <= x_(n)``: ``VaR = -x_(k)``,
    ``ES = -(x_(1) + ... + x_(k)) / k``.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    k = max(1, math.ceil(alpha * len(x) - 1e-9))
    low = np.partition(x, k - 1)[:k]
    return float(-low.max()), float(-low.mean())


def tail_metrics(gen_horizon: np.ndarray, real_horizon: np.ndarray) -> dict[str, float]:
    """VaR/ES at 97.5/99/99.9 of horizon returns ``[n, a]`` (gen, real, relative error; mean over assets)."""
    out: dict[str, float] = {}
    a = gen_horizon.shape[1]
    for name, alpha in ALPHAS.items():
        vg, eg = np.array([var_es(gen_horizon[:, j], alpha) for j in range(a)]).T
        vr, er = np.array([var_es(real_horizon[:, j], alpha) for j in range(a)]).T
        out[f"var_{name}_gen"], out[f"var_{name}_real"] = float(vg.mean()), float(vr.mean())
        out[f"var_{name}_relerr"] = float(np.mean(np.abs(vg - vr) / np.maximum(np.abs(vr), 1e-12)))
        out[f"es_{name}_gen"], out[f"es_{name}_real"] = float(eg.mean()), float(er.mean())
        out[f"es_{name}_relerr"] = float(np.mean(np.abs(eg - er) / np.maximum(np.abs(er), 1e-12)))
    return out


def pooled_acf(x: np.ndarray, y: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Cross-correlation of ``x[i, t]`` and ``y[i, t + k]`` over all paths and steps, per lag.

    Parameters
    ----------
    x, y : float[n, h]
    lags : int[m]
        Lags ``1 <= k < h``.

    Returns
    -------
    float64[m]
        ``corr(x[:, :h-k].ravel(), y[:, k:].ravel())`` per lag (NaN where one side is constant).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, h = x.shape
    cross = x.T @ y  # (h, h): cross[t, u] = sum_i x[i, t] y[i, u]
    sx, sy = x.sum(axis=0), y.sum(axis=0)
    qx, qy = (x * x).sum(axis=0), (y * y).sum(axis=0)
    out = np.empty(len(lags))
    for i, k in enumerate(lags):
        m = n * (h - k)
        ma, mb = sx[: h - k].sum() / m, sy[k:].sum() / m
        cov = np.trace(cross, offset=k) / m - ma * mb
        va, vb = qx[: h - k].sum() / m - ma**2, qy[k:].sum() / m - mb**2
        out[i] = cov / np.sqrt(va * vb) if va > 0 and vb > 0 else np.nan
    return out


def max_drawdown(returns: np.ndarray) -> np.ndarray:
    """float64[n, a]: deepest fall of the cumulative log price from its running peak (start at 0 included),
    positive, log units, for returns ``[n, h, a]``."""
    logp = np.cumsum(returns, axis=1, dtype=np.float64)
    peak = np.maximum(np.maximum.accumulate(logp, axis=1), 0.0)
    return (peak - logp).max(axis=1)


def condition_adherence(gen_returns: np.ndarray, gen_liquidity: np.ndarray, gen_sigma: np.ndarray,
                        real: RealWindows, *, rules: RegimeRules | None = None, step_hours: float | None = None,
                        requested_regime: str | None = None) -> dict[str, Any]:
    """Share of paths the regime labeller puts in ``requested_regime`` (None without one), and regime mixes."""
    rules = rules or real.rules
    step_hours = real.step_hours if step_hours is None else step_hours
    lab = label_windows(gen_returns, gen_liquidity, gen_sigma, rules, step_hours)
    out: dict[str, Any] = {"regime_share_gen": lab.share(), "regime_share_real": real.labels.share()}
    if requested_regime is None:
        out["adherence"] = None
    else:
        try:
            code = regime_index(requested_regime)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        out["adherence"] = float(np.mean(lab.regime == code))
        out["requested_regime"] = REGIMES[code]
    return out


def window_features(z: np.ndarray, liquidity: np.ndarray) -> np.ndarray:
    """float32[n, d]: per-window inputs of the discriminator.

    Per asset: the path of ``z`` and of the log volume ratio (``2 h`` values) and summaries: std, max ``|z|``,
    sum of ``z``, max drawdown of ``z``, lag-1 autocorrelation of ``|z|`` within the window, mean and min
    liquidity.
    """
    n, h, a = z.shape
    absz = np.abs(z)
    dev = absz - absz.mean(axis=1, keepdims=True)
    ac1 = (dev[:, 1:] * dev[:, :-1]).sum(axis=1) / np.maximum((dev**2).sum(axis=1), 1e-12)
    summary = [z.std(axis=1), absz.max(axis=1), z.sum(axis=1), max_drawdown(z), ac1,
               liquidity.mean(axis=1), liquidity.min(axis=1)]
    feats = [z.reshape(n, -1), liquidity.reshape(n, -1)] + [s.reshape(n, -1) for s in summary]
    return np.concatenate(feats, axis=1).astype(np.float32)


def discriminative_score(gen_features: np.ndarray, real_features: np.ndarray, *, seed: int = 0,
                         max_per_class: int = DISC_MAX_PER_CLASS, epochs: int = DISC_EPOCHS) -> dict[str, Any]:
    """Train a small classifier real vs generated and score it on held-out windows.

    Both classes are subsampled to the same size (at most ``max_per_class``), split 70/30 into train and
    held-out sets; an MLP (d -> 64 -> 64 -> 1, ReLU, Adam, ``epochs`` epochs, batch 256) is trained on the
    standardised features with a fixed seed (the global torch RNG is left as it was).

    Returns
    -------
    dict
        ``discriminative_score`` = ``|held-out accuracy - 0.5|`` and ``discriminative_accuracy``; both None
        when either side has fewer than 50 windows.
    """
    import torch

    rng = np.random.default_rng(seed)
    m = min(len(gen_features), len(real_features), max_per_class)
    if m < DISC_MIN_PER_CLASS:
        return {"discriminative_score": None, "discriminative_accuracy": None}
    g = gen_features[rng.choice(len(gen_features), m, replace=False)]
    r = real_features[rng.choice(len(real_features), m, replace=False)]
    x = np.concatenate([g, r]).astype(np.float32)
    y = np.concatenate([np.zeros(m), np.ones(m)]).astype(np.float32)
    order = rng.permutation(2 * m)
    x, y = x[order], y[order]
    cut = int(0.7 * len(x))
    mu, sd = x[:cut].mean(axis=0), x[:cut].std(axis=0) + 1e-6
    x = np.clip((x - mu) / sd, -10, 10)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: threads only add contention
    try:
        acc = _train_and_score(x, y, cut, seed, epochs)
    finally:
        torch.set_num_threads(threads)
    return {"discriminative_score": abs(acc - 0.5), "discriminative_accuracy": acc}


def _train_and_score(x: np.ndarray, y: np.ndarray, cut: int, seed: int, epochs: int) -> float:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                  torch.nn.ReLU(), torch.nn.Linear(64, 1))
        opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-4)
        xt, yt = torch.from_numpy(x[:cut]), torch.from_numpy(y[:cut])
        loss_fn = torch.nn.BCEWithLogitsLoss()
        for _ in range(epochs):
            perm = torch.randperm(cut)
            for lo in range(0, cut, 256):
                idx = perm[lo:lo + 256]
                opt.zero_grad()
                loss_fn(net(xt[idx]).squeeze(1), yt[idx]).backward()
                opt.step()
        with torch.no_grad():
            pred = (net(torch.from_numpy(x[cut:])).squeeze(1) > 0).numpy()
    return float(np.mean(pred == (y[cut:] > 0.5)))


def nearest_distance(x: np.ndarray, pool: np.ndarray, chunk: int = 512) -> np.ndarray:
    """float32[n]: Euclidean distance from each row of ``x[n, d]`` to its nearest row of ``pool[m, d]``.

    Float32 matrix products in chunks of ``chunk`` rows (``|x|^2 + |p|^2 - 2 x p^T``), so memory is
    ``chunk x m`` floats; exact copies come out at about 1e-3 rather than 0 (rounding).
    """
    p = np.ascontiguousarray(pool, dtype=np.float32)
    pt = np.ascontiguousarray(p.T)
    p2 = np.einsum("ij,ij->i", p, p)
    out = np.empty(len(x), np.float32)
    for lo in range(0, len(x), chunk):
        xc = np.ascontiguousarray(x[lo:lo + chunk], dtype=np.float32)
        d2 = xc @ pt  # (chunk, m)
        d2 *= -2.0
        d2 += p2
        best = d2.min(axis=1) + np.einsum("ij,ij->i", xc, xc)
        out[lo:lo + chunk] = np.sqrt(np.maximum(best, 0.0))
    return out


def memorisation(gen: np.ndarray, real_test: np.ndarray, train: np.ndarray,
                 quantile: float = MEMO_QUANTILE, copy_tol: float = COPY_TOL) -> dict[str, float]:
    """Are generated paths copies of training windows? (Module docstring.)

    Parameters
    ----------
    gen, real_test, train : float[n, d]
        Flattened sigma-normalised return paths of generated, real held-out and training windows.
    quantile : float
        Quantile of the real held-out nearest-train distances below which a generated path is flagged.
    copy_tol : float
        Relative distance ``d / |x|`` below which a path counts as a near copy.

    Returns
    -------
    dict
        ``memorisation_share`` (flagged share), ``memorisation_median_ratio`` (median nearest-train distance,
        generated over real), ``memorisation_threshold`` (the distance at ``quantile``),
        ``memorisation_copy_share`` (share of generated paths within ``copy_tol`` relative L2 distance of a
        training window) and ``memorisation_copy_share_real`` (the same for the real held-out windows).
    """
    d_gen = nearest_distance(gen, train)
    d_real = nearest_distance(real_test, train)
    thr = float(np.quantile(d_real, quantile))

    def copies(x: np.ndarray, d: np.ndarray) -> float:
        return float(np.mean(d < copy_tol * np.maximum(np.linalg.norm(x, axis=1), 1e-12)))

    return {"memorisation_share": float(np.mean(d_gen < thr)),
            "memorisation_median_ratio": float(np.median(d_gen) / max(float(np.median(d_real)), 1e-12)),
            "memorisation_threshold": thr,
            "memorisation_copy_share": copies(gen, d_gen),
            "memorisation_copy_share_real": copies(real_test, d_real)}


# ---------------------------------------------------------------------------------------------------- tables


TABLE_ROWS = (
    "n_gen", "n_real", "selection_score",
    "w1_step", "w1_step_raw", "w1_horizon", "w1_horizon_raw", "w1_liquidity",
    *(f"{m}_{a}_{s}" for m in ("var", "es") for a in ALPHAS for s in ("gen", "real", "relerr")),
    "acf_r_mse", "acf_abs_mse", "leverage_mse", "kurtosis_gen", "kurtosis_real", "kurtosis_abserr",
    "corr_frobenius", "mdd_mean_gen", "mdd_mean_real", "mdd_q99_gen", "mdd_q99_real", "mdd_w1",
    "adherence", "discriminative_score", "discriminative_accuracy",
    "memorisation_share", "memorisation_median_ratio", "memorisation_copy_share",
)


def fidelity_table(results: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Side-by-side table: one row per scalar metric (in :data:`TABLE_ROWS` order), one column per source.

    Parameters
    ----------
    results : mapping name -> result of :func:`evaluate`
    """
    cols = {}
    for name, res in results.items():
        cols[name] = {k: (np.nan if res.get(k) is None else float(res[k])) for k in TABLE_ROWS if k in res}
    table = pd.DataFrame(cols)
    return table.reindex([k for k in TABLE_ROWS if k in table.index])


def jsonable(result: Any) -> Any:
    """``result`` with NaN and infinities replaced by None and numpy scalars by Python ones (strict JSON)."""
    if isinstance(result, Mapping):
        return {str(k): jsonable(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return [jsonable(v) for v in result]
    if isinstance(result, (np.integer,)):
        return int(result)
    if isinstance(result, (float, np.floating)):
        return float(result) if math.isfinite(result) else None
    return result


# ---------------------------------------------------------------------------------------------------- helpers


def _check_inputs(r: np.ndarray, q: np.ndarray, s: np.ndarray, real: RealWindows
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.asarray(r, dtype=np.float32)
    q = np.asarray(q, dtype=np.float32)
    s = np.asarray(s, dtype=np.float32)
    if r.ndim != 3 or q.shape != r.shape or s.shape != (r.shape[0], r.shape[2]):
        raise InputError(f"generated arrays have shapes returns {r.shape}, liquidity {q.shape}, sigma {s.shape}; "
                         "expected [n, h, a], [n, h, a], [n, a]")
    if len(real) < 2 or r.shape[0] < 2:
        raise InputError(f"need at least 2 generated paths and 2 real windows, got {r.shape[0]} and {len(real)}")
    if r.shape[1:] != real.returns.shape[1:]:
        raise InputError(f"generated paths are {r.shape[1]} steps x {r.shape[2]} assets, the real windows "
                         f"{real.returns.shape[1]} x {real.returns.shape[2]}; cut real windows with the pack's "
                         "horizon and assets")
    if not (np.isfinite(r).all() and np.isfinite(q).all() and np.isfinite(s).all() and (s > 0).all()):
        raise InputError("generated paths contain NaN/infinite values or a non-positive sigma_ref")
    return r, q, s


def _w1(a: np.ndarray, b: np.ndarray) -> float:
    return float(stats.wasserstein_distance(np.ravel(a), np.ravel(b)))


def _mean_over_assets(fn, a: int) -> float:
    return float(np.mean([fn(j) for j in range(a)]))


def _floats(x: np.ndarray) -> list[float]:
    return [float(v) for v in x]
