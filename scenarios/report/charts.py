"""The report's figures, drawn with matplotlib's object API (no pyplot state) and rendered once to PNG: the same
pixels go into the HTML (base64) and the PDF (embedded unscaled).

Conventions: 10 in wide, 150 dpi, Okabe-Ito colours (colour-blind safe), a bold title top left, axis labels with
units, legends below the axes, USD ticks as ``$1.5M``. Margins are set in inches rather than by a layout engine
(constrained layout doubled the render time); labels that vary in length (book names) are measured first.
Mathtext is off (``text.parse_math``) so a ``$`` in a portfolio name is just a dollar sign.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from scenarios.report import formatting as fmt
from scenarios.report.textmetrics import text_width_in

DPI = 150
WIDTH_IN = 10.0
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
MODEL_COLOURS = {"tiered": "#0072B2", "risk_matrix": "#D55E00", "span": "#009E73", "es": "#CC79A7"}
LIMIT_COLOUR = "#B00020"
TITLE_PT, TICK_PT, LABEL_PT = 11.0, 8.0, 9.0
TITLE_H, LEGEND_H = 0.42, 0.3  # inches reserved at the top for the title, at the bottom for a legend row
STYLE = {
    "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": LABEL_PT, "xtick.labelsize": TICK_PT,
    "ytick.labelsize": TICK_PT, "legend.fontsize": 8, "axes.titleweight": "bold", "font.family": "DejaVu Sans",
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6, "axes.axisbelow": True, "text.parse_math": False, "figure.dpi": DPI,
    "savefig.dpi": DPI, "axes.prop_cycle": cycler(color=OKABE_ITO), "legend.frameon": False,
    "axes.titlepad": 5.0,
}


@dataclass
class Rendered:
    """A chart rendered once: PNG bytes for the HTML, RGB pixels for the PDF, size in inches."""

    png: bytes
    rgb: np.ndarray  # uint8[h_px, w_px, 3]
    width_in: float
    height_in: float


@contextmanager
def style() -> Iterator[None]:
    """The report's matplotlib settings, without touching the caller's global rcParams."""
    with matplotlib.rc_context(STYLE):
        yield


def render(fig: Figure) -> Rendered:
    """Draw ``fig`` with Agg once; PNG-encode the pixels."""
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
    w, h = fig.get_size_inches()
    return Rendered(buf.getvalue(), rgb, float(w), float(h))


def pack_colours(packs: Sequence[str]) -> dict[str, str]:
    """One colour per pack: Okabe-Ito (colour-blind safe) up to 8 packs, then tab20's 20 (no colour twice)."""
    if len(packs) <= len(OKABE_ITO):
        palette = OKABE_ITO
    else:
        palette = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab20"].colors]
    return {p: palette[i % len(palette)] for i, p in enumerate(packs)}


def model_colours(models: Sequence[str]) -> dict[str, str]:
    spare = [c for c in OKABE_ITO if c not in MODEL_COLOURS.values()]
    out, j = {}, 0
    for m in models:
        if m in MODEL_COLOURS:
            out[m] = MODEL_COLOURS[m]
        else:
            out[m] = spare[j % len(spare)]
            j += 1
    return out


# ---------------------------------------------------------------------------------------------------- layout


def _figure(height_in: float) -> Figure:
    return Figure(figsize=(WIDTH_IN, height_in))


def _grid(fig: Figure, nrows: int, ncols: int, *, left: float, right: float, top: float, bottom: float,
          wgap: float = 0.0, hgap: float = 0.0, **kw) -> np.ndarray:
    """``nrows x ncols`` axes with margins and gaps in inches; returns a 2-d array of axes."""
    w, h = fig.get_size_inches()
    aw = (w - left - right - (ncols - 1) * wgap) / ncols
    ah = (h - top - bottom - (nrows - 1) * hgap) / nrows
    gs = {"left": left / w, "right": 1 - right / w, "top": 1 - top / h, "bottom": bottom / h,
          "wspace": wgap / aw if ncols > 1 else 0.0, "hspace": hgap / ah if nrows > 1 else 0.0}
    return fig.subplots(nrows, ncols, squeeze=False, gridspec_kw=gs, **kw)


def _title(fig: Figure, text: str) -> None:
    h = fig.get_size_inches()[1]
    fig.text(0.12 / WIDTH_IN, 1 - 0.1 / h, text, fontsize=TITLE_PT, fontweight="bold", va="top", ha="left")


LEGEND_PT, LEGEND_ROW_H = 8.0, 0.2  # legend font size (points) and the height of one more legend row (inches)


def legend_layout(labels: Sequence[str], width_in: float = WIDTH_IN) -> tuple[int, int]:
    """(columns, rows) of a legend below the plot that fits ``width_in``: as many columns as fit.

    Matplotlib fills a legend column by column; a column is as wide as its widest entry plus the handle
    (1.8 em) and the gaps (0.8 em to the text, 1.6 em between columns)."""
    n = len(labels)
    if n == 0:
        return 1, 1
    em = LEGEND_PT / 72.0
    widths = [text_width_in(lab, LEGEND_PT) + (1.8 + 0.8 + 1.6) * em for lab in labels]
    for ncols in range(n, 0, -1):
        rows = -(-n // ncols)
        cols = [widths[c * rows:(c + 1) * rows] for c in range(ncols)]
        if sum(max(c) for c in cols if c) <= width_in - 0.3 or ncols == 1:
            return ncols, rows
    return 1, n


def _legend_below(fig: Figure, handles: list, labels: list[str]) -> None:
    """A legend centred at the bottom, wrapped into as many rows as its labels need (see
    :func:`legend_layout`; figures with long legends reserve ``(rows - 1) * LEGEND_ROW_H`` more)."""
    h = fig.get_size_inches()[1]
    ncols, _ = legend_layout(labels, fig.get_size_inches()[0])
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.04 / h), ncols=ncols,
               handlelength=1.8, columnspacing=1.6, handletextpad=0.8)


def short(name: str, max_chars: int = 40) -> str:
    """A user-supplied name cut to ``max_chars`` with an ellipsis, for titles and tick labels."""
    name = " ".join(str(name).split())
    return name if len(name) <= max_chars else name[: max_chars - 1].rstrip() + "…"


def _usd_axis(axis, nbins: int = 6) -> None:
    axis.set_major_formatter(FuncFormatter(fmt.axis_usd))
    axis.set_major_locator(MaxNLocator(nbins=nbins))


def _pct_axis(axis, signed: bool = False) -> None:
    axis.set_major_formatter(FuncFormatter((lambda v, _: f"{v:+g}%" if v else "0%") if signed
                                           else (lambda v, _: f"{v:g}%")))


@dataclass
class PackTicks:
    """How pack names go under grouped marks: the labels, their rotation (degrees) and the band they need."""

    labels: list[str]
    rotation: float
    height_in: float


def pack_ticks(packs: Sequence[str], axis_width_in: float) -> PackTicks:
    """Horizontal labels (split at the first ':' when any is long, so all read alike) when each fits its slot of
    the axis; otherwise whole names at 45 degrees, so a dozen packs never run into each other."""
    wrap = any(len(p) > 12 for p in packs)
    labels = [short(p, 28).replace(":", "\n", 1) if wrap else p for p in packs]
    slot = axis_width_in / max(len(packs), 1)
    widest = max((text_width_in(line, TICK_PT) for lab in labels for line in lab.split("\n")), default=0.0)
    line_h = TICK_PT / 72.0 * 1.25
    if widest <= 0.92 * slot:
        return PackTicks(labels, 0.0, 0.1 + line_h * max((lab.count("\n") + 1 for lab in labels), default=1))
    labels = [short(p, 28) for p in packs]
    widest = max(text_width_in(lab, TICK_PT) for lab in labels)
    return PackTicks(labels, 45.0, 0.1 + (widest + line_h) * 0.7072)


def _pack_ticks(ax, packs: Sequence[str], ticks: PackTicks) -> None:
    rotated = ticks.rotation != 0
    ax.set_xticks(range(len(packs)), ticks.labels, rotation=ticks.rotation, ha="right" if rotated else "center",
                  rotation_mode="anchor" if rotated else "default")
    ax.set_xlim(-0.6, len(packs) - 0.4)
    ax.grid(axis="x", visible=False)


# ---------------------------------------------------------------------------------------------------- summary


def es99_overview(heads: list[dict[str, Any]], books: Sequence[str], packs: Sequence[str],
                  es_limits: Mapping[str, float | None], horizon_hours: float) -> Figure:
    """Horizontal bars: per book (worst on top) and pack, the larger ES 99 over margin models with its CI;
    a red tick marks each book's ES 99 limit."""
    worst: dict[tuple[str, str], dict[str, Any]] = {}
    for h in heads:
        k = (h["portfolio"], h["pack"])
        if h["es99_usd"] is not None and (k not in worst or h["es99_usd"] > worst[k]["es99_usd"]):
            worst[k] = h
    order = sorted(books, key=lambda b: max((worst[(b, p)]["es99_usd"] for p in packs if (b, p) in worst),
                                            default=0.0))
    n_p = max(len(packs), 1)
    bar_h = 0.8 / n_p
    legend_labels = [short(p, 28) for p in packs] + (["ES 99 limit"] if any(v is not None for v in
                                                                            es_limits.values()) else [])
    legend_h = LEGEND_H + (legend_layout(legend_labels)[1] - 1) * LEGEND_ROW_H
    fig = _figure(TITLE_H + 0.75 + legend_h + len(order) * (0.12 * n_p + 0.2))
    names = [short(b, 36) for b in order]
    left = min(3.2, max(text_width_in(b, TICK_PT) for b in names) + 0.25) if order else 1.0
    ax = _grid(fig, 1, 1, left=left, right=0.3, top=TITLE_H, bottom=0.7 + legend_h)[0, 0]
    colours = pack_colours(packs)
    for j, p in enumerate(packs):
        ys, xs, lo, hi = [], [], [], []
        for i, b in enumerate(order):
            h = worst.get((b, p))
            if h is None:
                continue
            v = h["es99_usd"]
            ys.append(i - 0.4 + bar_h * (n_p - 1 - j) + bar_h / 2)
            xs.append(v)
            lo.append(max(v - (h["es99_ci_low_usd"] if h["es99_ci_low_usd"] is not None else v), 0))
            hi.append(max((h["es99_ci_high_usd"] if h["es99_ci_high_usd"] is not None else v) - v, 0))
        ax.barh(ys, xs, height=bar_h * 0.9, color=colours[p], xerr=[lo, hi],
                error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"})
    has_limit = False
    for i, b in enumerate(order):
        lim = es_limits.get(b)
        if lim is not None:
            ax.plot([lim, lim], [i - 0.47, i + 0.47], color=LIMIT_COLOUR, lw=2.2, solid_capstyle="butt")
            has_limit = True
    ax.axvline(0, color="#444444", lw=0.8)
    ax.set_yticks(range(len(order)), names)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.grid(axis="y", visible=False)
    _usd_axis(ax.xaxis)
    ax.set_xlabel(f"ES 99 of the {horizon_hours:g} h loss (USD); the larger of the margin models; whiskers: 95% CI")
    _title(fig, "Expected shortfall 99% by book and scenario pack (worst book on top)")
    handles: list = [Patch(color=colours[p]) for p in packs]
    labels = [short(p, 28) for p in packs]
    if has_limit:
        handles.append(Line2D([], [], color=LIMIT_COLOUR, lw=2.2))
        labels.append("ES 99 limit")
    _legend_below(fig, handles, labels)
    return fig


# ---------------------------------------------------------------------------------------------------- per book


def loss_distributions(book: str, packs: Sequence[str], losses: Mapping[str, np.ndarray],
                       metrics: Mapping[str, Mapping[str, Any]], model: str, horizon_hours: float,
                       es_limit: float | None = None) -> Figure:
    """One panel per pack (side by side, shared axes): histogram of the horizon loss under ``model`` as a share
    of paths (log scale, so the tail shows), VaR 99 (dashed) and ES 99 (solid) with their 95% CIs shaded.

    The axis starts at the 0.5% quantile of the loss (large gains are not the committee's question); paths
    beyond either end are counted in the end bins."""
    packs = [p for p in packs if p in losses]
    n = max(len(packs), 1)
    ncols = min(n, 4)
    nrows = int(np.ceil(n / ncols))
    fig = _figure(TITLE_H + 0.2 + 2.35 * nrows + 0.35 * (nrows - 1) + 0.55 + LEGEND_H)
    axes = _grid(fig, nrows, ncols, left=0.85, right=0.2, top=TITLE_H + 0.2, bottom=0.55 + LEGEND_H, wgap=0.18,
                 hgap=0.35, sharex=True, sharey=True).ravel()
    finite = {p: losses[p][np.isfinite(losses[p])] for p in packs}
    lo = min((float(np.quantile(x, 0.005)) for x in finite.values() if x.size), default=0.0)
    hi = max((float(x.max()) for x in finite.values() if x.size), default=1.0)
    marks = [m[k]["99"][f] for m in metrics.values() for k in ("loss_var", "loss_es") for f in ("ci_low", "ci_high")]
    hi = max([hi] + marks)
    lo = min([lo] + marks)
    if es_limit is not None and es_limit <= hi + 0.5 * (hi - lo):
        hi = max(hi, es_limit)
    span = hi - lo if hi - lo > 1e-9 * max(1.0, abs(hi)) else max(1.0, abs(hi) * 0.1)
    lo, hi = lo - 0.02 * span, hi + 0.04 * span
    edges = np.linspace(lo, hi, 51)
    colours = pack_colours(list(losses))
    n_max = max((len(x) for x in finite.values()), default=1)
    floor = 50.0 / n_max  # half a path, in percent
    for ax, p in zip(axes, packs):
        x = np.clip(finite[p], edges[0], edges[-1])
        counts, _ = np.histogram(x, bins=edges)
        share = np.where(counts > 0, 100.0 * counts / max(len(losses[p]), 1), floor * 0.5)
        ax.stairs(share, edges, fill=True, color=colours[p], alpha=0.5, baseline=floor * 0.5)
        ax.stairs(share, edges, color=colours[p], lw=0.9, baseline=floor * 0.5)
        m = metrics.get(p)
        if m is not None:
            for key, ls in (("loss_var", "--"), ("loss_es", "-")):
                pt = m[key]["99"]
                ax.axvspan(pt["ci_low"], pt["ci_high"], color="#555555", alpha=0.2, lw=0)
                ax.axvline(pt["value"], color="#222222", ls=ls, lw=1.3)
            ax.text(0.03, 0.97, f"VaR 99 {fmt.usd(m['loss_var']['99']['value'])}\n"
                                f"ES 99 {fmt.usd(m['loss_es']['99']['value'])}",
                    transform=ax.transAxes, ha="left", va="top", fontsize=7.5,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#bbbbbb", "alpha": 0.92})
        if es_limit is not None and lo <= es_limit <= hi:
            ax.axvline(es_limit, color=LIMIT_COLOUR, lw=1.6, ls=":")
        ax.set_title(short(p, 34), loc="left", fontsize=9, y=1.0)
    axes[0].set_yscale("log")
    axes[0].yaxis.set_minor_locator(NullLocator())  # minor log ticks cost more to draw than they tell
    axes[0].set_ylim(floor * 0.5, 100)
    axes[0].set_xlim(lo, hi)
    axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    _usd_axis(axes[0].xaxis, nbins=4)
    for ax in axes[len(packs):]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel("share of paths (%, log scale)")
    h = fig.get_size_inches()[1]
    fig.text(0.5, (LEGEND_H + 0.1) / h, f"loss over {horizon_hours:g} h (USD; negative: gain)", ha="center",
             va="bottom", fontsize=LABEL_PT)
    handles = [Line2D([], [], color="#222222", ls="--", lw=1.3), Line2D([], [], color="#222222", lw=1.3),
               Patch(color="#555555", alpha=0.2)]
    labels = ["VaR 99", "ES 99", "95% CI of VaR / ES"]
    if es_limit is not None:
        handles.append(Line2D([], [], color=LIMIT_COLOUR, ls=":", lw=1.6))
        labels.append(f"ES 99 limit {fmt.usd(es_limit)}")
    _legend_below(fig, handles, labels)
    _title(fig, f"{short(book)}: loss distribution by scenario source ({model} margin)")
    return fig


def tail_metrics(book: str, packs: Sequence[str], models: Sequence[str],
                 metrics: Mapping[tuple[str, str], Mapping[str, Any]], horizon_hours: float,
                 es_limit: float | None = None, var_limit: float | None = None) -> Figure:
    """Dots with 95% CI whiskers: VaR 99 (open circle) and ES 99 (filled diamond) per pack, one colour per
    margin model, side by side."""
    ticks = pack_ticks(packs, WIDTH_IN - 0.95 - 0.25)
    band = max(0.55, ticks.height_in + 0.2)
    fig = _figure(TITLE_H + 2.2 + band + LEGEND_H)
    ax = _grid(fig, 1, 1, left=0.95, right=0.25, top=TITLE_H, bottom=band + LEGEND_H)[0, 0]
    colours = model_colours(models)
    n_m = max(len(models), 1)
    width = 0.7
    for k, mm in enumerate(models):
        for j, (key, marker, filled) in enumerate((("loss_var", "o", False), ("loss_es", "D", True))):
            xs, ys, lo, hi = [], [], [], []
            for i, p in enumerate(packs):
                m = metrics.get((p, mm))
                if m is None:
                    continue
                pt = m[key]["99"]
                xs.append(i - width / 2 + width * (2 * k + j + 0.5) / (2 * n_m))
                ys.append(pt["value"])
                lo.append(max(pt["value"] - pt["ci_low"], 0))
                hi.append(max(pt["ci_high"] - pt["value"], 0))
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt=marker, color=colours[mm], ms=6 if filled else 6.5,
                        mfc=colours[mm] if filled else "white", mew=1.4, elinewidth=1.1, capsize=3, ls="none")
    data_top = max([abs(v) for m in metrics.values() for k in ("loss_var", "loss_es")
                    for v in (m[k]["99"]["ci_high"], m[k]["99"]["ci_low"])] or [1.0])
    off_scale = {}
    for lim, ls in ((es_limit, "-"), (var_limit, "--")):
        if lim is not None:
            off_scale[ls] = lim > 3 * data_top  # a limit far above the data would squash it: name it instead
            if not off_scale[ls]:
                ax.axhline(lim, color=LIMIT_COLOUR, lw=1.3, ls=ls)
    _pack_ticks(ax, packs, ticks)
    _usd_axis(ax.yaxis)
    ax.set_ylabel(f"loss over {horizon_hours:g} h (USD)")
    _title(fig, f"{short(book)}: VaR 99 and ES 99 by scenario pack and margin model (whiskers: 95% bootstrap CI)")
    handles: list = [Patch(color=colours[m]) for m in models]
    labels = [f"{m} margin" for m in models]
    handles += [Line2D([], [], color="#444444", marker="o", mfc="white", ls="none", mew=1.4),
                Line2D([], [], color="#444444", marker="D", ls="none")]
    labels += ["VaR 99", "ES 99"]
    for lim, ls, name in ((es_limit, "-", "ES 99 limit"), (var_limit, "--", "VaR 99 limit")):
        if lim is not None:
            handles.append(Line2D([], [], color=LIMIT_COLOUR, ls=ls))
            labels.append(f"{name} {fmt.usd(lim)}" + (" (far above the axis)" if off_scale[ls] else ""))
    _legend_below(fig, handles, labels)
    return fig


def margin_outcomes(book: str, packs: Sequence[str], models: Sequence[str],
                    metrics: Mapping[tuple[str, str], Mapping[str, Any]], *, p_liq_limit: float | None = None,
                    bad_debt_limit: float | None = None, im_cov_limit: float | None = None) -> Figure:
    """2 x 2 panels per pack and margin model with 95% CIs: P(margin call), P(liquidation), expected bad debt
    (bars) and IM coverage (dots: the interesting range is near 100%)."""
    ticks = pack_ticks(packs, (WIDTH_IN - 0.85 - 0.2 - 0.95) / 2)
    band = max(0.55, ticks.height_in + 0.2)
    hgap = band + 0.2  # the upper panels' pack names and the lower panels' titles
    fig = _figure(TITLE_H + 0.15 + 2 * 2.1 + hgap + band + LEGEND_H)
    axes = _grid(fig, 2, 2, left=0.85, right=0.2, top=TITLE_H + 0.15, bottom=band + LEGEND_H, wgap=0.95,
                 hgap=hgap).ravel()
    colours = model_colours(models)
    n_m = max(len(models), 1)
    width = 0.75 / n_m
    panels = [("p_margin_call", "P(margin call)", "share of paths (%)", 100.0, None),
              ("p_liquidation", "P(liquidation)", "share of paths (%)", 100.0, p_liq_limit),
              ("expected_bad_debt_usd", "Expected bad debt", "mean over paths (USD)", 1.0, bad_debt_limit),
              ("im_coverage", "IM coverage (MPOR loss within IM)", "share of paths (%)", 100.0,
               im_cov_limit)]
    for ax, (key, title, ylabel, scale, limit) in zip(axes, panels):
        for k, mm in enumerate(models):
            xs, ys, lo, hi = [], [], [], []
            for i, p in enumerate(packs):
                m = metrics.get((p, mm))
                if m is None or m.get(key) is None:
                    continue
                pt = m[key]
                xs.append(i - 0.375 + width * (k + 0.5))
                ys.append(pt["value"] * scale)
                lo.append(max(pt["value"] - pt["ci_low"], 0) * scale)
                hi.append(max(pt["ci_high"] - pt["value"], 0) * scale)
            if key == "im_coverage":
                ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", color=colours[mm], ms=5.5, elinewidth=1.1, capsize=3,
                            ls="none")
            else:
                ax.bar(xs, ys, width=width * 0.92, color=colours[mm], yerr=[lo, hi],
                       error_kw={"elinewidth": 0.9, "capsize": 2.5, "ecolor": "#333333"})
        ax.set_title(title, loc="left", y=1.0)
        ax.set_ylabel(ylabel)
        _pack_ticks(ax, packs, ticks)
        if key == "expected_bad_debt_usd":
            _usd_axis(ax.yaxis, nbins=5)
            top = ax.get_ylim()[1]
            ax.set_ylim(0, max(top, (limit or 0) * 1.1, 1.0))
        elif key == "im_coverage":
            _pct_axis(ax.yaxis)
            bottom = ax.get_ylim()[0]
            ax.set_ylim(min(bottom, 99.0, (limit or 1) * 100 - 1), 100.6)
        else:
            _pct_axis(ax.yaxis)
            top = ax.get_ylim()[1]
            ax.set_ylim(0, max(top, 1.0, (limit or 0) * 100 * 1.1))
        if limit is not None:
            ax.axhline(limit * scale, color=LIMIT_COLOUR, lw=1.3, ls="--")
    handles: list = [Patch(color=colours[m]) for m in models]
    labels = [f"{m} margin" for m in models]
    for limit, name in ((p_liq_limit, f"P(liq.) limit {fmt.pct_short(p_liq_limit)}"),
                        (bad_debt_limit, f"bad-debt limit {fmt.usd(bad_debt_limit)}"),
                        (im_cov_limit, f"IM-coverage floor {fmt.pct_short(im_cov_limit)}")):
        if limit is not None:
            handles.append(Line2D([], [], color=LIMIT_COLOUR, lw=1.3, ls="--"))
            labels.append(name)
    _legend_below(fig, handles, labels)
    _title(fig, f"{short(book)}: margin calls, liquidations, bad debt and IM coverage (whiskers: 95% CI)")
    return fig


# ---------------------------------------------------------------------------------------------------- scenarios


def fan_chart(asset: str, packs: Sequence[str], fans: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Per pack, a price panel (change from the start, %) above a volume panel (traded volume relative to the
    reference level, x, log scale); at most four packs side by side, further packs in further row pairs, all
    price panels on one scale and all volume panels on another. Bands: 1-99%, 5-95%, 25-75% of paths; line:
    median."""
    packs = [p for p in packs if p in fans and asset in fans[p].get("assets", {})]
    n = max(len(packs), 1)
    ncols = min(n, 4)
    groups = int(np.ceil(n / ncols))
    panel_h, pair_gap, inner_gap = 1.75, 0.62, 0.32  # inches: panel height, gap between row pairs, within one
    height = TITLE_H + 0.25 + groups * 2 * panel_h + groups * inner_gap + (groups - 1) * pair_gap + 0.62 + LEGEND_H
    fig = _figure(height)
    left, right, wgap = 0.95, 0.2, 0.18
    width = (WIDTH_IN - left - right - (ncols - 1) * wgap) / ncols
    colours = pack_colours(list(fans))

    def panel(group: int, row: int, col: int):
        top = TITLE_H + 0.25 + group * (2 * panel_h + inner_gap + pair_gap) + row * (panel_h + inner_gap)
        x0 = left + col * (width + wgap)
        return fig.add_axes((x0 / WIDTH_IN, 1 - (top + panel_h) / height, width / WIDTH_IN, panel_h / height))

    price_axes, liq_axes = [], []
    for j, p in enumerate(packs):
        g, c = divmod(j, ncols)
        ax_p, ax_q = panel(g, 0, c), panel(g, 1, c)
        if price_axes:
            ax_p.sharey(price_axes[0])
            ax_q.sharey(liq_axes[0])
            ax_p.sharex(price_axes[0])
        ax_q.sharex(price_axes[0] if price_axes else ax_p)
        price_axes.append(ax_p)
        liq_axes.append(ax_q)
        f = fans[p]
        q = [round(float(x), 6) for x in f["quantiles"]]
        a = f["assets"][asset]
        price = (np.asarray(a["price_rel"], dtype=float) - 1.0) * 100.0  # (n_q, h+1)
        liq = np.exp(np.asarray(a["liquidity"], dtype=float))  # (n_q, h)
        t_price = np.arange(price.shape[1]) * float(f["step_hours"])
        t_liq = (np.arange(liq.shape[1]) + 1) * float(f["step_hours"])
        for ax, y, t in ((ax_p, price, t_price), (ax_q, liq, t_liq)):
            for (lo, hi), alpha in (((0.01, 0.99), 0.15), ((0.05, 0.95), 0.25), ((0.25, 0.75), 0.45)):
                if lo in q and hi in q:
                    ax.fill_between(t, y[q.index(lo)], y[q.index(hi)], color=colours[p], alpha=alpha, lw=0)
            if 0.5 in q:
                ax.plot(t, y[q.index(0.5)], color=colours[p], lw=1.6)
        ax_p.axhline(0, color="#444444", lw=0.7)
        ax_q.axhline(1, color="#444444", lw=0.7)
        ax_p.set_title(short(p, 30), loc="left", fontsize=9, y=1.0)
        ax_p.tick_params(labelbottom=False)
        if c > 0:
            ax_p.tick_params(labelleft=False)
            ax_q.tick_params(labelleft=False)
        else:
            ax_p.set_ylabel("price change (%)")
            ax_q.set_ylabel("volume vs ref. (x)")
    if not packs:  # nothing to draw: one empty pair keeps the layout valid
        price_axes, liq_axes = [panel(0, 0, 0)], [panel(0, 1, 0)]
    liq_axes[0].set_yscale("log")
    _pct_axis(price_axes[0].yaxis, signed=True)
    liq_axes[0].yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    liq_axes[0].yaxis.set_minor_locator(NullLocator())
    liq_axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    fig.text(0.5, (LEGEND_H + 0.06) / height, "hours from the start of the scenario", ha="center", va="bottom")
    grey = "#666666"
    handles = [Patch(color=grey, alpha=0.15), Patch(color=grey, alpha=0.35), Patch(color=grey, alpha=0.6),
               Line2D([], [], color=grey, lw=1.6)]
    _legend_below(fig, handles, ["1-99% of paths", "5-95%", "25-75%", "median"])
    _title(fig, f"{asset}: scenario paths by pack (price change from the start; traded volume vs reference)")
    return fig
