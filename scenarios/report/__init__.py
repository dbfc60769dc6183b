"""The committee report: HTML (self-contained), PDF (matplotlib only), XLSX and summary.json from a stress
results directory. Entry point: :func:`build_report`."""

from scenarios.report.build import build_report

__all__ = ["build_report"]
