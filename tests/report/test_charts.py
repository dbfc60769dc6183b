"""Chart layout: what a reader would notice first (overlapping titles, panels squeezed off the page)."""

from __future__ import annotations

import itertools
import json

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from scenarios.report import charts

SOURCES = ["gan", "gjr", "fhs", "historical"]
REGIMES = ["calm", "flash_crash", "liquidity_drought"]


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _left_titles(axes) -> list[Text]:
    """The left-aligned title artists of ``axes`` (the panels' pack or metric names)."""
    return [c for ax in axes for c in ax.get_children()
            if isinstance(c, Text) and ax.get_title(loc="left") and c.get_text() == ax.get_title(loc="left")]


def test_fan_chart_of_twelve_packs_keeps_titles_apart_and_panels_on_the_figure(results_dir):
    real = [json.loads(p.read_text()) for p in sorted((results_dir / "fans").glob("*.json"))]
    packs = [f"{s}:{r}" for s in SOURCES for r in REGIMES]  # the demo's 12 packs, the longest names it has
    fans = {p: real[i % len(real)] for i, p in enumerate(packs)}
    with charts.style():
        fig = charts.fan_chart("BTC", packs, fans)
        renderer = FigureCanvasAgg(fig).get_renderer()
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert len(axes) == 2 * len(packs)  # a price and a volume panel per pack
        assert len({round(ax.get_position().y0, 4) for ax in axes}) == 2 * 3  # 4 packs a row: 3 row pairs
        titles = _left_titles(axes)
        assert [t.get_text() for t in titles] == packs
        boxes = [t.get_window_extent(renderer) for t in titles]
        assert not any(_overlap(a, b) for a, b in itertools.combinations(boxes, 2))
        ticks = [lab.get_window_extent(renderer) for ax in axes for lab in ax.get_xticklabels() + ax.get_yticklabels()
                 if lab.get_visible() and lab.get_text()]
        assert not any(_overlap(t, b) for t in ticks for b in boxes)  # no title sits on a tick label
        fig_box = fig.bbox
        for ax in axes:
            bb = ax.get_tightbbox(renderer)
            assert bb.x0 >= fig_box.x0 - 1 and bb.x1 <= fig_box.x1 + 1 and bb.y0 >= fig_box.y0 - 1
        price = [ax for ax in axes if ax.get_yscale() == "linear"]
        assert len({ax.get_ylim() for ax in price}) == 1  # one price scale for every pack


def test_es99_overview_of_twelve_packs_wraps_its_legend_inside_the_figure_with_a_colour_per_pack():
    packs = [f"{s}:{r}" for s in SOURCES for r in REGIMES]
    books = ["leveraged_long_perp", "basis_trade"]
    heads = [{"portfolio": b, "pack": p, "es99_usd": 1e5 * (i + 1) * (j + 1), "es99_ci_low_usd": None,
              "es99_ci_high_usd": None} for j, b in enumerate(books) for i, p in enumerate(packs)]
    assert len(set(charts.pack_colours(packs).values())) == len(packs)
    with charts.style():
        fig = charts.es99_overview(heads, books, packs, {"basis_trade": 2.5e5}, 24.0)
        renderer = FigureCanvasAgg(fig).get_renderer()
        legend = fig.legends[0]
        box = legend.get_window_extent(renderer)
        assert box.x0 >= fig.bbox.x0 and box.x1 <= fig.bbox.x1 and box.y0 >= fig.bbox.y0
        assert [t.get_text() for t in legend.get_texts()] == packs + ["ES 99 limit"]
        ax = fig.axes[0]
        assert not _overlap(box, ax.get_tightbbox(renderer))  # the legend sits below the axis labels


def test_margin_outcomes_of_twelve_packs_turn_pack_names_so_none_touch():
    packs = [f"{s}:{r}" for s in SOURCES for r in REGIMES]
    models = ["tiered", "risk_matrix"]
    point = {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    metrics = {(p, m): {k: point for k in ("p_margin_call", "p_liquidation", "im_coverage")}
               | {"expected_bad_debt_usd": {"value": 1e3, "ci_low": 5e2, "ci_high": 2e3}}
               for p in packs for m in models}
    assert charts.pack_ticks(packs[:3], 4.0).rotation == 0  # three fit side by side, split at the colon
    with charts.style():
        fig = charts.margin_outcomes("book", packs, models, metrics, p_liq_limit=0.1)
        renderer = FigureCanvasAgg(fig).get_renderer()
        titles = [t.get_window_extent(renderer) for t in _left_titles(fig.axes)]
        for ax in fig.axes:
            texts = [t for t in ax.get_xticklabels() if t.get_text()]
            assert len(texts) == len(packs) and {t.get_rotation() for t in texts} == {45.0}
            # turned 45 degrees, neighbours are a slot x sin 45 apart across the text: more than a text line
            slot = ax.get_window_extent(renderer).width / len(packs)
            line = texts[0].get_fontsize() / 72 * fig.dpi
            assert slot * 0.7071 > line
            labels = [t.get_window_extent(renderer) for t in texts]
            assert not any(_overlap(a, t) for a in labels for t in titles)
            assert all(a.y0 >= fig.bbox.y0 for a in labels)
