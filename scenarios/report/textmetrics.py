"""Text widths for layout without a renderer: per-character advances of matplotlib's default font (DejaVu
Sans), measured once and cached, summed per string (kerning ignored; a 2% allowance covers it)."""

from __future__ import annotations

from functools import lru_cache

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path


@lru_cache(maxsize=4096)
def _char_pt(ch: str, bold: bool) -> float:
    """Advance width of one character at 1 pt."""
    prop = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=100)
    w, _, _ = text_to_path.get_text_width_height_descent(ch, prop, ismath=False)
    return w / 100.0


def text_width_in(text: str, size_pt: float, bold: bool = False) -> float:
    """Width of ``text`` in inches at ``size_pt``."""
    return sum(_char_pt(ch, bold) for ch in str(text)) * size_pt / 72.0 * 1.02


def wrap(text: str, width_in: float, size_pt: float, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width_in`` inches; words longer than a line are cut."""
    if not text:
        return [""]
    lines: list[str] = []
    for para in str(text).split("\n"):
        cur = ""
        for word in para.split(" "):
            cand = word if not cur else f"{cur} {word}"
            if text_width_in(cand, size_pt, bold) <= width_in:
                cur = cand
                continue
            if cur:
                lines.append(cur)
            while text_width_in(word, size_pt, bold) > width_in and len(word) > 1:
                n = max(1, int(len(word) * width_in / text_width_in(word, size_pt, bold)))
                lines.append(word[:n])
                word = word[n:]
            cur = word
        lines.append(cur)
    return lines
