"""The PDF report: the same document as the HTML, laid out on A4 landscape pages with matplotlib's PdfPages
(nothing beyond matplotlib: no browser, no Pango).

Text and tables are vector text; charts are the same PNG pixels as in the HTML, embedded unscaled
(``interpolation="none"``), 150 dpi at print size. Each section starts on a new page; headings stay with the
table or chart after them; long tables continue on the next page with their header repeated; every page has a
running header and "page i of n".

Fonts: when every string fits the PDF standard fonts' encoding (cp1252, after ``−`` -> ``-`` and ``≤`` -> ``<=``),
text is set in Helvetica, one of the 14 fonts every PDF reader has: nothing embedded, fully searchable, and
twice as fast to write as embedding. Otherwise (a book named in Greek or Cyrillic, say) DejaVu Sans is embedded,
which covers them. Layout measures DejaVu Sans advances, scaled by 0.9 for Helvetica (narrower by 12-22%).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from scenarios import __version__
from scenarios.report.document import Cell, Chart, Document, Heading, Paragraph, Table
from scenarios.report.textmetrics import text_width_in, wrap

PAGE_W, PAGE_H = 11.69, 8.27  # A4 landscape, inches
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.55, 0.62, 0.5
BODY_W = PAGE_W - 2 * MARGIN_X
INK, MUTED, ACCENT = "#1a1a1a", "#5f6368", "#0b4f8a"
HEADER_BG, ZEBRA, RULE = "#e8edf2", "#f5f7f9", "#c5ccd3"
FLAG_STYLE = {"bad": ("#fde8eb", "#b00020"), "good": ("#e3f4f1", "#00695c")}
PARA_STYLE = {"note": ("#f1f3f4", "#9aa0a6"), "alert": ("#fde8eb", "#b00020"), "ok": ("#e3f4f1", "#00695c")}
TABLE_PT, BODY_PT, MIN_TABLE_PT = 7.6, 9.0, 5.8
PAD_X = 0.06  # inches each side of a cell
ROW_PAD = 0.05  # inches per row
HELVETICA_PER_DEJAVU = 0.9  # Helvetica widths are 0.78-0.88 of DejaVu Sans (bold-regular); 0.9 never overlaps
SUB_LINE = 0.88  # height of a CI line, in lines


@dataclass
class _Cursor:
    fig: Figure
    y: float  # inches from the top of the page


class PdfWriter:
    """Flows headings, paragraphs, tables and charts onto pages."""

    def __init__(self, doc: Document, core_fonts: bool = False) -> None:
        self.core_fonts = core_fonts
        self.family = "Helvetica" if core_fonts else "DejaVu Sans"
        self.m = HELVETICA_PER_DEJAVU if core_fonts else 1.0  # text measure relative to DejaVu Sans
        self.regular = "medium" if core_fonts else "normal"  # Helvetica's AFM calls its regular weight Medium
        self.doc = doc
        self.pages: list[tuple[Figure, str]] = []
        self.cur: _Cursor | None = None
        self.section_title = ""

    # ------------------------------------------------------------------ page handling
    def new_page(self) -> _Cursor:
        fig = Figure(figsize=(PAGE_W, PAGE_H))
        self.pages.append((fig, self.section_title))
        self.cur = _Cursor(fig, MARGIN_TOP)
        return self.cur

    @property
    def remaining(self) -> float:
        assert self.cur is not None
        return PAGE_H - MARGIN_BOTTOM - self.cur.y

    def ensure(self, height_in: float) -> _Cursor:
        if self.cur is None or self.remaining < height_in:
            return self.new_page()
        return self.cur

    def _fx(self, x_in: float) -> float:
        return x_in / PAGE_W

    def _fy(self, y_in: float) -> float:
        return 1.0 - y_in / PAGE_H

    def text(self, x_in: float, y_in: float, s: str, size: float, *, color: str = INK, bold: bool = False,
             ha: str = "left", va: str = "top", italic: bool = False) -> None:
        assert self.cur is not None
        if self.core_fonts:
            s = s.translate(CORE_FONT_MAP)
        self.cur.fig.text(self._fx(x_in), self._fy(y_in), s, fontsize=size, color=color, ha=ha, va=va,
                          fontweight="bold" if bold else self.regular, fontstyle="italic" if italic else "normal",
                          family=self.family, parse_math=False)

    def rect(self, x_in: float, y_in: float, w_in: float, h_in: float, color: str) -> None:
        assert self.cur is not None
        self.cur.fig.add_artist(Rectangle((self._fx(x_in), self._fy(y_in + h_in)), w_in / PAGE_W, h_in / PAGE_H,
                                          transform=self.cur.fig.transFigure, facecolor=color, lw=0, zorder=0))

    def hline(self, x0: float, x1: float, y_in: float, color: str = RULE, lw: float = 0.6) -> None:
        assert self.cur is not None
        self.cur.fig.add_artist(Line2D([self._fx(x0), self._fx(x1)], [self._fy(y_in)] * 2,
                                       transform=self.cur.fig.transFigure, color=color, lw=lw))

    # ------------------------------------------------------------------ blocks
    def title_block(self) -> None:
        cur = self.new_page()
        self.text(MARGIN_X, cur.y, self.doc.title, 20, color=ACCENT, bold=True)
        cur.y += 0.42
        for line in wrap(self.doc.subtitle, BODY_W, 9.5 * self.m):
            self.text(MARGIN_X, cur.y, line, 9.5, color=MUTED)
            cur.y += 0.19
        contents = "Contents: " + " · ".join(s.title for s in self.doc.sections)
        for line in wrap(contents, BODY_W, 8.5 * self.m):
            self.text(MARGIN_X, cur.y, line, 8.5, color=MUTED)
            cur.y += 0.17
        self.hline(MARGIN_X, PAGE_W - MARGIN_X, cur.y + 0.04, ACCENT, 1.6)
        cur.y += 0.2

    def section(self, title: str, first: bool) -> None:
        self.section_title = title
        if not first:
            self.new_page()
        assert self.cur is not None
        if first:
            self.pages[-1] = (self.pages[-1][0], title)
        self.text(MARGIN_X, self.cur.y, title, 15, color=ACCENT, bold=True)
        self.cur.y += 0.38

    def heading(self, b: Heading, following: list | None = None) -> None:
        """A subheading, on the page where the blocks after it (up to the first table or chart) can start."""
        keep = sum(self.keep_height(x) for x in following) if following else 1.0
        cur = self.ensure(0.35 + keep)
        cur.y += 0.08
        self.text(MARGIN_X, cur.y, b.text, 11, bold=True)
        cur.y += 0.27

    def _paragraph_geometry(self, b: Paragraph):
        size = BODY_PT
        boxed = b.style in PARA_STYLE
        inset = 0.14 if boxed else 0.0
        lines = wrap(b.text, BODY_W - 2 * inset - 0.05, size * self.m, bold=b.style == "alert")
        lh = size * 1.4 / 72
        return size, boxed, inset, lines, lh, len(lines) * lh + (0.12 if boxed else 0.0)

    def paragraph(self, b: Paragraph) -> None:
        size, boxed, inset, lines, lh, h = self._paragraph_geometry(b)
        cur = self.ensure(h + 0.1)
        if boxed:
            bg, edge = PARA_STYLE[b.style]
            self.rect(MARGIN_X, cur.y, BODY_W, h, bg)
            self.rect(MARGIN_X, cur.y, 0.05, h, edge)
            cur.y += 0.06
        for line in lines:
            self.text(MARGIN_X + inset, cur.y, line, size, bold=b.style == "alert",
                      color=FLAG_STYLE["bad"][1] if b.style == "alert" else INK)
            cur.y += lh
        cur.y += 0.1 + (0.06 if boxed else 0.0)

    def chart(self, b: Chart) -> None:
        img = b.image
        cap = wrap(b.caption, BODY_W, 7.5 * self.m) if b.caption else []
        cap_h = 0.15 * len(cap) + 0.14
        scale = min(1.0, BODY_W / img.width_in, (PAGE_H - MARGIN_TOP - MARGIN_BOTTOM - 0.45 - cap_h) / img.height_in)
        if self.cur is not None and self.remaining < img.height_in * scale + cap_h:
            fit = (self.remaining - cap_h) / img.height_in
            if fit >= 0.72 * scale:  # shrink a little rather than leave most of a page empty
                scale = fit
        w, h = img.width_in * scale, img.height_in * scale
        cur = self.ensure(h + cap_h)
        x = MARGIN_X + (BODY_W - w) / 2
        ax = cur.fig.add_axes((self._fx(x), self._fy(cur.y + h), w / PAGE_W, h / PAGE_H))
        ax.imshow(img.rgb, interpolation="none", aspect="auto")
        ax.set_axis_off()
        cur.y += h + 0.06
        for line in cap:
            self.text(MARGIN_X, cur.y, line, 7.5, color=MUTED, italic=True)
            cur.y += 0.15
        cur.y += 0.08

    def _table_geometry(self, t: Table) -> "_TableGeometry":
        size = TABLE_PT * t.font_scale
        while True:
            layout = _layout_table(t, size, self.m)
            if sum(layout.widths) <= BODY_W or size <= MIN_TABLE_PT:
                break
            size = max(MIN_TABLE_PT, size * 0.92)
        widths = layout.widths
        total = sum(widths)
        if total > BODY_W:  # still too wide at the smallest size: squeeze every column alike
            widths = [w * BODY_W / total for w in widths]
            total = BODY_W
        lh = size * 1.32 / 72
        head_h = (len(layout.header_lines) * lh + 0.08) if t.header else 0.0
        cap_lines = wrap(t.caption, BODY_W, 7.5 * self.m) if t.caption else []
        return _TableGeometry(layout, size, widths, total, lh, head_h, cap_lines)

    def keep_height(self, b) -> float:
        """Height a block needs on the current page to start there (whole if it fits on one page)."""
        body = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM - 0.45
        if isinstance(b, Table):
            g = self._table_geometry(b)
            rows = [n * g.lh + ROW_PAD for n in g.layout.row_heights]
            whole = g.head_h + sum(rows) + 0.04 + 0.15 * len(g.cap_lines)
            return whole if whole <= body else g.head_h + sum(rows[:3])
        if isinstance(b, Chart):
            return min(b.image.height_in, body) * 0.72
        if isinstance(b, Paragraph):
            return self._paragraph_geometry(b)[-1] + 0.16
        return 0.3

    def table(self, t: Table) -> None:
        g = self._table_geometry(t)
        layout, size, widths, total, lh, head_h, cap_lines = (g.layout, g.size, g.widths, g.total, g.lh, g.head_h,
                                                               g.cap_lines)
        sub_size = size * 0.88

        def draw_header(cont: bool) -> None:
            cur = self.cur
            assert cur is not None
            if not t.header:
                return
            self.rect(MARGIN_X, cur.y, total, head_h, HEADER_BG)
            x = MARGIN_X
            for j, col in enumerate(t.columns):
                for k, line in enumerate(layout.header_lines):
                    s = line[j]
                    if not s:
                        continue
                    xx = x + widths[j] - PAD_X if col.align == "right" else x + PAD_X
                    self.text(xx, cur.y + 0.04 + k * lh, s, size, bold=True,
                              ha="right" if col.align == "right" else "left")
                x += widths[j]
            cur.y += head_h
            self.hline(MARGIN_X, MARGIN_X + total, cur.y, "#8d99a6", 0.9)
            if cont:
                self.text(MARGIN_X + total, cur.y - head_h - 0.02, "(continued)", 6.5, color=MUTED, ha="right",
                          va="bottom")

        self.ensure(self.keep_height(t))
        draw_header(False)
        cur = self.cur
        assert cur is not None
        last = len(layout.rows) - 1
        for i, (row, n_lines) in enumerate(zip(layout.rows, layout.row_heights)):
            h = n_lines * lh + ROW_PAD
            keep = 0.04 + 0.15 * len(cap_lines) if i == last else 0.0  # the caption stays with the last row
            if self.remaining < h + keep:
                self.new_page()
                draw_header(True)
                cur = self.cur
                assert cur is not None
            if i % 2 == 1:
                self.rect(MARGIN_X, cur.y, total, h, ZEBRA)
            x = MARGIN_X
            for j, (col, cell) in enumerate(zip(t.columns, row)):
                lines, sub, flag = cell
                colour = INK
                if flag in FLAG_STYLE:
                    bg, colour = FLAG_STYLE[flag]
                    self.rect(x, cur.y, widths[j], h, bg)
                right = col.align == "right"
                xx = x + widths[j] - PAD_X if right else x + PAD_X
                yy = cur.y + 0.03
                for line in lines:
                    self.text(xx, yy, line, size, color=colour, bold=flag in FLAG_STYLE,
                              ha="right" if right else "left")
                    yy += lh
                if sub:
                    self.text(xx, yy, sub, sub_size, color=MUTED, ha="right" if right else "left")
                x += widths[j]
            cur.y += h
            self.hline(MARGIN_X, MARGIN_X + total, cur.y)
        if cap_lines:
            cur.y += 0.04
            for line in cap_lines:
                if self.remaining < 0.16:
                    cur = self.new_page()
                self.text(MARGIN_X, cur.y, line, 7.5, color=MUTED, italic=True)
                cur.y += 0.15
        cur.y += 0.16

    # ------------------------------------------------------------------ whole document
    def layout(self) -> list[Figure]:
        self.title_block()
        for i, s in enumerate(self.doc.sections):
            self.section(s.title, first=i == 0)
            for k, b in enumerate(s.blocks):
                if isinstance(b, Heading):  # kept with the blocks after it, up to a table or chart
                    following = []
                    for x in s.blocks[k + 1:]:
                        if isinstance(x, Heading):
                            break
                        following.append(x)
                        if isinstance(x, (Table, Chart)):
                            break
                    self.heading(b, following)
                elif isinstance(b, Paragraph):
                    self.paragraph(b)
                elif isinstance(b, Chart):
                    self.chart(b)
                elif isinstance(b, Table):
                    self.table(b)
        n = len(self.pages)
        for i, (fig, title) in enumerate(self.pages, 1):
            self.cur = _Cursor(fig, 0.0)
            self.text(MARGIN_X, 0.32, self.doc.title, 7.5, color=MUTED, va="bottom")
            self.text(PAGE_W - MARGIN_X, 0.32, title, 7.5, color=MUTED, va="bottom", ha="right")
            self.hline(MARGIN_X, PAGE_W - MARGIN_X, 0.36)
            self.text(PAGE_W - MARGIN_X, PAGE_H - 0.28, f"page {i} of {n}", 7.5, color=MUTED, ha="right",
                      va="bottom")
            self.text(MARGIN_X, PAGE_H - 0.28, f"stressgan {__version__}", 7.5, color=MUTED, va="bottom")
        return [f for f, _ in self.pages]


@dataclass
class _TableGeometry:
    layout: "_TableLayout"
    size: float
    widths: list[float]
    total: float
    lh: float
    head_h: float
    cap_lines: list[str]


@dataclass
class _TableLayout:
    widths: list[float]
    header_lines: list[list[str]]  # header line k, column j
    rows: list[list[tuple[list[str], str | None, str | None]]]
    row_heights: list[float]  # in lines (a CI line counts SUB_LINE)


def _layout_table(t: Table, size: float, m: float = 1.0) -> _TableLayout:
    """Column widths, wrapped header and cell lines at font ``size``; ``m`` scales the DejaVu Sans measure to
    the font in use (0.9 for Helvetica, which is narrower)."""
    sub_size = size * 0.88
    n = len(t.columns)
    widths = []
    for j, col in enumerate(t.columns):
        w = 0.0
        for row in t.rows:
            cell: Cell = row[j]
            w = max(w, text_width_in(cell.text, size * m, bold=cell.flag is not None))
            if cell.sub:
                w = max(w, text_width_in(cell.sub, sub_size * m))
        if col.wrap:
            w = min(w, text_width_in("n" * col.wrap, size * m))
        if t.header:
            longest_word = max((text_width_in(x, size * m, True) for x in col.name.split()), default=0.0)
            w = max(w, longest_word, min(text_width_in(col.name, size * m, True), 1.1))
        widths.append(w + 2 * PAD_X)
    header_cols = [wrap(col.name, widths[j] - 2 * PAD_X + 1e-6, size * m, True) if t.header else [""]
                   for j, col in enumerate(t.columns)]
    n_head = max(len(h) for h in header_cols) if header_cols else 1
    header_lines = [[header_cols[j][k] if k < len(header_cols[j]) else "" for j in range(n)] for k in range(n_head)]
    rows, heights = [], []
    for row in t.rows:
        cells = []
        h = 1.0
        for j, cell in enumerate(row):
            lines = wrap(cell.text, widths[j] - 2 * PAD_X + 1e-6, size * m, cell.flag is not None) \
                if t.columns[j].wrap else [cell.text]
            cells.append((lines, cell.sub, cell.flag))
            h = max(h, len(lines) + (SUB_LINE if cell.sub else 0))
        rows.append(cells)
        heights.append(h)
    return _TableLayout(widths, header_lines, rows, heights)


def write_pdf(doc: Document, target: Path) -> int:
    """Lay out ``doc`` and write it to ``target`` (a path the caller makes atomic); returns the page count."""
    core = fits_core_fonts(doc)
    with matplotlib.rc_context({"pdf.fonttype": 3, "pdf.compression": 6, "pdf.use14corefonts": core}):
        pages = PdfWriter(doc, core_fonts=core).layout()
        with PdfPages(target, metadata={"Title": doc.title, "Creator": f"stressgan {__version__}",
                                        "Subject": doc.subtitle}) as pdf:
            for fig in pages:
                pdf.savefig(fig)
    return len(pages)




CORE_FONT_MAP = str.maketrans({"−": "-", "≤": "<=", "≥": ">="})


def _strings(doc: Document):
    yield doc.title
    yield doc.subtitle
    yield f"stressgan {__version__}"
    for sec in doc.sections:
        yield sec.title
        for b in sec.blocks:
            if isinstance(b, (Heading, Paragraph)):
                yield b.text
            elif isinstance(b, Chart):
                yield b.caption or ""
            elif isinstance(b, Table):
                yield b.caption or ""
                for col in b.columns:
                    yield col.name
                for row in b.rows:
                    for cell in row:
                        yield cell.text
                        yield cell.sub or ""


def fits_core_fonts(doc: Document) -> bool:
    """True when every string of ``doc`` can be set in the PDF standard fonts (cp1252 after the mapping)."""
    try:
        for text in _strings(doc):
            str(text).translate(CORE_FONT_MAP).encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True
