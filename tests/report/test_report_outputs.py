"""The report built from a small real results directory: files, HTML sections, workbook, PDF pages, summary."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

SECTIONS = ["executive-summary", "portfolio-leveraged_long_perp", "portfolio-short_vol_seller", "scenarios",
            "fidelity", "provenance"]


@pytest.fixture(scope="module")
def html(report) -> str:
    return (report[0] / "report.html").read_text(encoding="utf-8")


def test_report_writes_html_pdf_xlsx_and_summary_of_real_size(report):
    out, _ = report
    sizes = {name: (out / name).stat().st_size for name in ("report.html", "report.pdf", "report.xlsx",
                                                             "summary.json")}
    assert sizes["report.html"] > 100_000 and sizes["report.pdf"] > 100_000 and sizes["report.xlsx"] > 8_000 \
        and sizes["summary.json"] > 5_000, sizes


def test_no_temporary_files_are_left_in_the_report_directory(report):
    assert sorted(p.name for p in report[0].iterdir()) == ["report.html", "report.pdf", "report.xlsx",
                                                           "summary.json"]


def test_html_has_every_section(html):
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids == SECTIONS


def test_html_loads_nothing_from_the_network(html):
    assert "http://" not in html and "https://" not in html


def test_html_resources_are_all_embedded(html):
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith(("data:image/png;base64,", "#")) for r in refs), \
        [r[:40] for r in refs if not r.startswith(("data:", "#"))]


def test_html_embeds_a_loss_chart_per_book_and_a_fan_chart(html):
    ids = re.findall(r'<figure id="([^"]+)">', html)
    assert {"chart-loss-portfolio-leveraged_long_perp", "chart-loss-portfolio-short_vol_seller",
            "chart-fan-BTC"} <= set(ids)


def test_html_fidelity_table_has_a_column_per_source(html):
    fidelity = html.split('<section id="fidelity">')[1].split("</section>")[0]
    assert all(f"<th class=\"r\">{p}</th>" in fidelity for p in ("gjr:flash_crash", "fhs:flash_crash",
                                                                  "historical:flash_crash"))


def test_html_provenance_names_every_pack_id(html, results_summary):
    provenance = html.split('<section id="provenance">')[1]
    assert all(p["pack_id"] in provenance for p in results_summary["packs"])


def test_xlsx_has_the_expected_sheets(report):
    from openpyxl import load_workbook

    wb = load_workbook(report[0] / "report.xlsx", read_only=True)
    assert wb.sheetnames == ["Summary", "Metrics", "Breaches", "Changes", "Fidelity", "Provenance"]


def test_xlsx_es99_is_a_number_equal_to_summary_json(report):
    from openpyxl import load_workbook

    out, summary = report
    ws = load_workbook(out / "report.xlsx")["Metrics"]
    header = [c.value for c in ws[1]]
    col = header.index("ES 99 (USD)")
    first = next(r for r in ws.iter_rows(min_row=2, values_only=True))
    run = summary["runs"][0]
    assert first[:3] == (run["portfolio"], run["pack"], run["margin_model"])
    assert isinstance(first[col], (int, float)) and first[col] == pytest.approx(run["es99_usd"], rel=1e-12)


def test_xlsx_breaches_sheet_lists_every_breach(report):
    from openpyxl import load_workbook

    out, summary = report
    rows = list(load_workbook(out / "report.xlsx")["Breaches"].iter_rows(min_row=2, values_only=True))
    assert len([r for r in rows if r[0]]) == len(summary["breaches"])


def test_pdf_has_the_page_count_recorded_in_the_summary(report):
    pdfium = pytest.importorskip("pypdfium2")

    out, summary = report
    n = len(pdfium.PdfDocument(str(out / "report.pdf")))
    assert n == summary["files"]["report.pdf"]["pages"] and n >= len(SECTIONS)


def test_pdf_every_page_renders_to_a_non_blank_image(report):
    pdfium = pytest.importorskip("pypdfium2")

    pdf = pdfium.PdfDocument(str(report[0] / "report.pdf"))
    ink = []
    for page in pdf:
        img = np.asarray(page.render(scale=0.5).to_pil().convert("L"))
        ink.append(float((img < 200).mean()))
    assert min(ink) > 0.005, ink


def test_pdf_text_is_searchable(report):
    pdfium = pytest.importorskip("pypdfium2")

    first = pdfium.PdfDocument(str(report[0] / "report.pdf"))[0].get_textpage().get_text_range()
    assert "Margin committee stress report" in first and "Executive summary" in first


def test_pdf_is_a4_landscape(report):
    pdfium = pytest.importorskip("pypdfium2")

    w, h = pdfium.PdfDocument(str(report[0] / "report.pdf"))[0].get_size()
    assert (round(w), round(h)) == (842, 595)


def test_summary_breaches_are_the_runs_over_the_es99_limit(report, results_summary, es99_limit):
    expected = sorted((r["portfolio"], r["pack"], r["margin_model"]) for r in results_summary["runs"]
                      if r["metrics"]["loss_es"]["99"]["value"] > es99_limit)
    got = sorted((b["portfolio"], b["pack"], b["margin_model"]) for b in report[1]["breaches"])
    assert got == expected


def test_summary_ranks_the_book_with_the_largest_es99_first(report, results_summary):
    worst = max(results_summary["runs"], key=lambda r: r["metrics"]["loss_es"]["99"]["value"])
    assert report[1]["worst_portfolios"][0]["portfolio"] == worst["portfolio"]


def test_summary_records_the_sha256_of_each_file(report):
    out, summary = report
    assert all(hashlib.sha256((out / name).read_bytes()).hexdigest() == f["sha256"]
               for name, f in summary["files"].items())


def test_summary_json_on_disk_is_what_build_report_returned(report):
    out, summary = report
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary))


def test_summary_has_no_changes_without_a_previous_report(report):
    assert report[1]["changes"] is None


def test_summary_provenance_carries_fingerprints_and_run_info(report, results_summary):
    prov = report[1]["provenance"]
    fingerprints = [p["data_fingerprint"] for p in results_summary["packs"]]
    assert [p["data_fingerprint"] for p in prov["packs"]] == fingerprints \
        and prov["run_info"] == {"run": "test", "date": "2026-01-02"}
