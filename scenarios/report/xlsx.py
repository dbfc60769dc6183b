"""The XLSX workbook: the report's tables at full precision for analysts (openpyxl).

Sheets: ``Summary`` (scope, worst books, margin adequacy), ``Metrics`` (one row per run: every metric of
margin.summarize with its 95% CI), ``Breaches``, ``Changes`` (against the previous report), ``Fidelity``
(every scalar fidelity metric x pack) and ``Provenance`` (packs with full fingerprints, books, run info, limits).
Numbers are numbers (USD ``$#,##0``, shares ``0.00%``), headers bold on a tinted fill, widths fitted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scenarios.report.document import Context, _flatten

USD, SHARE, HOURS, INT, NUM, TEXT = '"$"#,##0;[Red]-"$"#,##0', "0.00%", "0.0", "#,##0", "0.0000", "@"
AUTO = "auto"  # integers #,##0, other numbers 0.0000
HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="0B4F8A")
TITLE_FONT = Font(bold=True, size=13, color="0B4F8A")
BAD_FILL = PatternFill("solid", fgColor="FDE8EB")
BAD_FONT = Font(bold=True, color="B00020")
THIN = Border(bottom=Side(style="thin", color="AAB4BE"))
LEVELS = ("95", "99", "99.5", "99.9")


class _Sheet:
    """Write titled tables one below another; remember widths."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.row = 1
        self.widths: dict[int, float] = {}

    def title(self, text: str) -> None:
        self.ws.cell(self.row, 1, text).font = TITLE_FONT
        self.row += 1

    def note(self, text: str) -> None:
        self.ws.cell(self.row, 1, text).font = Font(italic=True, color="5F6368")
        self.row += 1

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], formats: Sequence[str | None],
              bad: set[tuple[int, int]] | None = None) -> tuple[int, int]:
        """Header + rows at the current row; returns (header row, last row)."""
        head = self.row
        for j, h in enumerate(headers, 1):
            cell = self.ws.cell(head, j, h)
            cell.font, cell.fill, cell.border = HEAD_FONT, HEAD_FILL, THIN
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            self._fit(j, min(len(str(h)), 24) + 2)
        for i, r in enumerate(rows, 1):
            for j, (v, f) in enumerate(zip(r, formats), 1):
                cell = self.ws.cell(head + i, j, _plain(v))
                if f == AUTO and isinstance(cell.value, (int, float)):
                    cell.number_format = INT if isinstance(cell.value, int) else "0.0000"
                elif f and isinstance(cell.value, (int, float)):
                    cell.number_format = f
                if bad and (i - 1, j - 1) in bad:
                    cell.fill, cell.font = BAD_FILL, BAD_FONT
                self._fit(j, _display_len(cell.value, f))
        self.row = head + len(rows) + 2
        return head, head + len(rows)

    def kv(self, items: Sequence[tuple[str, Any]], fmt: Mapping[str, str] | None = None) -> None:
        for k, v in items:
            self.ws.cell(self.row, 1, k).font = Font(bold=True)
            cell = self.ws.cell(self.row, 2, _plain(v))
            if fmt and k in fmt and isinstance(cell.value, (int, float)):
                cell.number_format = fmt[k]
            self._fit(1, len(k) + 2)
            self._fit(2, min(_display_len(cell.value, None), 70))
            self.row += 1
        self.row += 1

    def _fit(self, col: int, width: float) -> None:
        self.widths[col] = max(self.widths.get(col, 8), min(width, 60))

    def finish(self) -> None:
        for col, w in self.widths.items():
            self.ws.column_dimensions[get_column_letter(col)].width = w + 1


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return str(v)


def _display_len(v: Any, f: str | None) -> int:
    if v is None:
        return 0
    if isinstance(v, float) and f == USD:
        return len(f"${v:,.0f}") + 1
    if isinstance(v, float):
        return 10
    return len(str(v))


def write_xlsx(ctx: Context, summary: Mapping[str, Any], target: Path) -> None:
    """Write the workbook to ``target`` (a path the caller makes atomic)."""
    wb = Workbook()
    wb.remove(wb.active)
    sheets = []
    for name, fill in (("Summary", _summary), ("Metrics", _metrics), ("Breaches", _breaches),
                       ("Changes", _changes), ("Fidelity", _fidelity), ("Provenance", _provenance)):
        s = _Sheet(wb.create_sheet(name))
        fill(s, ctx, summary)
        s.finish()
        sheets.append(s)
    wb.save(target)


def _summary(s: _Sheet, ctx: Context, summary: Mapping[str, Any]) -> None:
    res = ctx.results
    s.title("Margin committee stress report")
    s.kv([("built", ctx.built_at), ("results", str(res.directory)),
          ("results created", res.summary.get("created_at")), ("books", len(res.portfolios)),
          ("scenario packs", ", ".join(res.packs)), ("margin models", ", ".join(res.models)),
          ("runs", len(res.runs)), ("limit breaches", len(ctx.breaches)),
          ("limits configured", "yes" if ctx.limits is not None and not ctx.limits.is_empty() else "no")])
    s.title("Worst portfolios by ES 99")
    s.table(["rank", "book", "worst ES 99 (USD)", "CI low (USD)", "CI high (USD)", "ES 99 / equity", "pack",
             "margin model", "max P(liquidation)", "max expected bad debt (USD)", "breaches"],
            [[i, w["portfolio"], w["es99_usd"], w["es99_ci_low_usd"], w["es99_ci_high_usd"],
              w["es99_share_of_equity"], w["pack"], w["margin_model"], w["p_liquidation_max"],
              w["expected_bad_debt_max_usd"], w["n_breaches"]] for i, w in enumerate(ctx.worst, 1)],
            [INT, TEXT, USD, USD, USD, SHARE, TEXT, TEXT, SHARE, USD, INT])
    s.title("Margin adequacy: IM coverage per book and margin model")
    packs = res.packs
    s.table(["book", "margin model", "initial margin (USD)", "IM / equity"] + [f"IM coverage {p}" for p in packs]
            + ["worst pack"],
            [[a["portfolio"], a["margin_model"], a["initial_margin_usd"],
              a["initial_margin_usd"] / a["initial_equity_usd"] if a["initial_equity_usd"] else None]
             + [a["im_coverage_by_pack"].get(p) for p in packs] + [a["worst_pack"]] for a in ctx.adequacy],
            [TEXT, TEXT, USD, SHARE] + [SHARE] * len(packs) + [TEXT])
    s.ws.freeze_panes = None


def _point_cols(label: str, unit: str, fmt: str) -> list[tuple[str, str, Any]]:
    return [(f"{label} ({unit})", fmt, "value"), (f"{label} CI low ({unit})", fmt, "ci_low"),
            (f"{label} CI high ({unit})", fmt, "ci_high")]


def _metrics(s: _Sheet, ctx: Context, summary: Mapping[str, Any]) -> None:
    cols: list[tuple[str, str, Any]] = [
        ("book", TEXT, lambda r: r["portfolio"]), ("pack", TEXT, lambda r: r["pack"]),
        ("margin model", TEXT, lambda r: r["margin_model"]), ("venue", TEXT, lambda r: r.get("venue")),
        ("source", TEXT, lambda r: r.get("source")), ("regime", TEXT, lambda r: r.get("regime")),
        ("severity", NUM, lambda r: r.get("severity")), ("paths", INT, lambda r: r["metrics"].get("n_paths")),
        ("horizon (h)", HOURS, lambda r: r["metrics"].get("horizon_hours")),
        ("MPOR (h)", HOURS, lambda r: r["metrics"].get("mpor_hours")),
        ("initial equity (USD)", USD, lambda r: r["metrics"].get("initial_equity_usd")),
        ("initial margin (USD)", USD, lambda r: r["metrics"].get("initial_margin_usd")),
        ("maintenance margin (USD)", USD, lambda r: r["metrics"].get("maintenance_margin_usd")),
        ("IM / equity", SHARE, lambda r: r["metrics"].get("initial_margin_usage")),
    ]

    def point(key: str, level: str | None, field: str):
        def get(r):
            m = r["metrics"].get(key)
            if level is not None:
                m = (m or {}).get(level)
            return (m or {}).get(field)
        return get

    for name, key in (("VaR", "loss_var"), ("ES", "loss_es")):
        for lvl in LEVELS:
            for label, f, field in _point_cols(f"{name} {lvl}", "USD", USD):
                cols.append((label, f, point(key, lvl, field)))
    for label, key, unit, f in (("P(margin call)", "p_margin_call", "share", SHARE),
                                ("P(liquidation)", "p_liquidation", "share", SHARE),
                                ("IM coverage", "im_coverage", "share", SHARE),
                                ("expected bad debt", "expected_bad_debt_usd", "USD", USD)):
        for lab, ff, field in _point_cols(label, unit, f):
            cols.append((lab, ff, point(key, None, field)))
    for lvl in LEVELS:
        cols.append((f"tail bad debt ES {lvl} (USD)", USD,
                     lambda r, lvl=lvl: (r["metrics"].get("tail_bad_debt_usd") or {}).get(lvl)))
    cols += [
        ("P(bad debt)", SHARE, lambda r: r["metrics"].get("p_bad_debt")),
        ("uncovered bad debt, mean (USD)", USD, lambda r: r["metrics"].get("uncovered_bad_debt_usd")),
        ("time to liquidation mean (h)", HOURS,
         lambda r: (r["metrics"].get("time_to_liquidation_hours") or {}).get("mean")),
        ("time to liquidation median (h)", HOURS,
         lambda r: (r["metrics"].get("time_to_liquidation_hours") or {}).get("median")),
        ("time to liquidation p05 (h)", HOURS,
         lambda r: (r["metrics"].get("time_to_liquidation_hours") or {}).get("p05")),
        ("liquidation cost, mean over liquidated (USD)", USD, lambda r: r["metrics"].get("liquidation_cost_usd")),
        ("max drawdown mean (USD)", USD, lambda r: (r["metrics"].get("max_drawdown_usd") or {}).get("mean")),
        ("max drawdown p99 (USD)", USD, lambda r: (r["metrics"].get("max_drawdown_usd") or {}).get("p99")),
        ("per-path file", TEXT, lambda r: r.get("paths_file")),
    ]
    rows = []
    for r in ctx.results.runs:
        row = []
        for _, _, get in cols:
            try:
                row.append(get(r))
            except (KeyError, TypeError, AttributeError):
                row.append(None)
        rows.append(row)
    head, last = s.table([c[0] for c in cols], rows, [c[1] for c in cols])
    s.ws.freeze_panes = s.ws.cell(head + 1, 4)
    s.ws.auto_filter.ref = f"A{head}:{get_column_letter(len(cols))}{last}"
    s.ws.row_dimensions[head].height = 45


def _breaches(s: _Sheet, ctx: Context, summary: Mapping[str, Any]) -> None:
    if ctx.limits is None or ctx.limits.is_empty():
        s.note("No limits configured.")
    new = {tuple(b[k] for k in ("portfolio", "pack", "margin_model", "metric"))
           for b in (ctx.changes or {}).get("new_breaches", [])}
    rows = [[b.portfolio, b.pack, b.margin_model, b.metric, b.value, b.limit, b.excess,
             "floor" if b.kind == "min" else "ceiling",
             ("new" if b.key in new else "") if ctx.changes is not None else None] for b in ctx.breaches]
    fmts = []
    for b in ctx.breaches:
        fmts.append(USD if b.metric.endswith("_usd") else SHARE)
    head, _ = s.table(["book", "pack", "margin model", "metric", "value", "limit", "beyond limit", "kind",
                       "since last run"], rows, [TEXT, TEXT, TEXT, TEXT, None, None, None, TEXT, TEXT])
    for i, f in enumerate(fmts, 1):  # per-row number format: USD or share
        for j in (5, 6, 7):
            s.ws.cell(head + i, j).number_format = f
    s.ws.freeze_panes = s.ws.cell(head + 1, 1)
    if ctx.unmatched_books:
        s.note("Limits set for books not in these results: " + ", ".join(ctx.unmatched_books))


def _changes(s: _Sheet, ctx: Context, summary: Mapping[str, Any]) -> None:
    ch = ctx.changes
    if ch is None:
        s.note("No previous report given.")
        return
    s.kv([("previous report", ch.get("previous_file") or "given as data"),
          ("previous built", ch.get("previous_created_at")), ("runs changed", ch["n_changed"]),
          ("runs added", len(ch["runs_added"])), ("runs removed", len(ch["runs_removed"])),
          ("new breaches", len(ch["new_breaches"])), ("cleared breaches", len(ch["cleared_breaches"]))])
    rows = []
    for r in ch["runs"]:
        row = [r["portfolio"], r["pack"], r["margin_model"]]
        for k in ("es99_usd", "p_liquidation", "expected_bad_debt_usd"):
            row += [r[k]["previous"], r[k]["current"], r[k]["delta"]]
        rows.append(row)
    s.table(["book", "pack", "margin model", "ES 99 previous (USD)", "ES 99 now (USD)", "ES 99 change (USD)",
             "P(liq.) previous", "P(liq.) now", "P(liq.) change", "exp. bad debt previous (USD)",
             "exp. bad debt now (USD)", "exp. bad debt change (USD)"], rows,
            [TEXT, TEXT, TEXT, USD, USD, USD, SHARE, SHARE, SHARE, USD, USD, USD])
    for title, items in (("New breaches", ch["new_breaches"]), ("Cleared breaches", ch["cleared_breaches"])):
        if items:
            s.title(title)
            s.table(["book", "pack", "margin model", "metric", "value", "limit"],
                    [[b.get("portfolio"), b.get("pack"), b.get("margin_model"), b.get("metric"), b.get("value"),
                      b.get("limit")] for b in items], [TEXT, TEXT, TEXT, TEXT, NUM, NUM])


def _fidelity(s: _Sheet, ctx: Context, summary: Mapping[str, Any]) -> None:
    fid = ctx.fidelity
    if fid is None:
        s.note("No fidelity results given.")
        return
    period = fid.get("period") or {}
    s.kv([("real windows from", period.get("start")), ("to", period.get("end")),
          ("assets", period.get("assets")), ("frequency", period.get("frequency")),
          ("file", ctx.fidelity_file or "given as data")])
    per = fid["packs"]
    labels = list(per)
    keys: list[str] = []
    for p in labels:
        for k, v in per[p].items():
            if (isinstance(v, (int, float)) and not isinstance(v, bool)) and k not in keys:
                keys.append(k)
    rows = [[k] + [per[p].get(k) if isinstance(per[p].get(k), (int, float)) else None for p in labels]
            for k in keys]
    head, _ = s.table(["metric"] + labels, rows, [TEXT] + [AUTO] * len(labels))
    s.ws.freeze_panes = s.ws.cell(head + 1, 2)


def _provenance(s: _Sheet, ctx: Context, summary: Mapping[str, Any]) -> None:
    res = ctx.results
    s.title("Run")
    s.kv([(k, v) for k, v in _flatten(summary.get("provenance", {}).get("report", {}))])
    if ctx.run_info:
        s.title("Run information")
        s.kv(_flatten(ctx.run_info))
    s.title("Scenario packs")
    cols = ["label", "pack_id", "source", "regime", "severity", "seed", "n_paths", "horizon", "frequency", "assets",
            "model_fingerprint", "data_fingerprint", "created_at", "stressgan_version", "dir"]
    rows = [[res.pack_record(p).get(k) for k in cols] for p in res.packs]
    s.table(cols, rows, [TEXT, TEXT, TEXT, TEXT, NUM, INT, INT, INT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT])
    s.title("Portfolios")
    cols = ["name", "description", "file", "sha256", "venue", "margin_model"]
    s.table(cols, [[res.book_record(b).get(k) for k in cols] for b in res.portfolios], [TEXT] * len(cols))
    if ctx.limits is not None and not ctx.limits.is_empty():
        from scenarios.limits import METRICS

        s.title("Limits in force (empty: no limit; IM coverage is a floor)")
        books = ["(default)"] + ctx.results.portfolios + ctx.unmatched_books
        rows = [[b] + [getattr(ctx.limits if b == "(default)" else ctx.limits.for_portfolio(b), m) for m in METRICS]
                for b in books]
        s.table(["book"] + list(METRICS), rows, [TEXT] + [USD if m.endswith("_usd") else SHARE for m in METRICS])
