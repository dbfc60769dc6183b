"""User-supplied names (books, descriptions, pack labels) reach the HTML escaped, and odd characters in them
(a dollar sign, which matplotlib would read as mathtext; letters outside the PDF standard fonts) do not break
the charts or the PDF."""

from __future__ import annotations

import json
import shutil

import pytest

HOSTILE = "<script>alert(1)</script>"
DOLLARS = "book $1M and $2M Δ-книга"


@pytest.fixture(scope="module")
def hostile_report(results_dir, tmp_path_factory):
    """The fixture results with one book renamed to a script tag, another to text with two '$', a description
    and a pack label carrying markup; built into a report."""
    from scenarios.report import build_report

    root = tmp_path_factory.mktemp("hostile")
    res = root / "results"
    shutil.copytree(results_dir, res)
    summary = json.loads((res / "summary.json").read_text())
    names = {"leveraged_long_perp": HOSTILE, "short_vol_seller": DOLLARS}
    label = summary["packs"][0]["label"]
    new_label = '<img src=x onerror="alert(2)">'
    for book in summary["portfolios"]:
        book["description"] = "<b>bold</b> & <i>more</i>"
        book["name"] = names[book["name"]]
    for run in summary["runs"]:
        run["portfolio"] = names[run["portfolio"]]
        run["pack"] = new_label if run["pack"] == label else run["pack"]
    summary["packs"][0]["label"] = new_label
    (res / "summary.json").write_text(json.dumps(summary))
    out = root / "report"
    build_report(res, out)
    return out, (out / "report.html").read_text(encoding="utf-8")


def test_script_tag_in_a_book_name_is_escaped(hostile_report):
    _, html = hostile_report
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markup_in_descriptions_and_pack_labels_is_escaped(hostile_report):
    _, html = hostile_report
    assert "<b>bold</b>" not in html and "<img src=x" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp;" in html


def test_section_id_of_a_hostile_book_is_a_plain_slug(hostile_report):
    _, html = hostile_report
    assert '<section id="portfolio-script-alert-1-script">' in html


def test_dollar_signs_in_names_still_give_a_pdf(hostile_report):
    out, _ = hostile_report
    assert (out / "report.pdf").stat().st_size > 50_000


def test_names_outside_the_standard_pdf_fonts_switch_the_pdf_to_an_embedded_font(hostile_report):
    pdfium = pytest.importorskip("pypdfium2")

    out, _ = hostile_report
    text = "".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(str(out / "report.pdf")))
    assert "Δ-книга" in text
