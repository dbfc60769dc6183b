"""Number formats shared by the HTML, PDF and chart axes: ``$1.23M``, ``8.54%``, ``14.5 h``.

Three significant digits for money (a committee reads magnitudes, the workbook keeps full precision), two
decimals for shares of paths (IM coverage lives between 95 % and 100 %).
"""

from __future__ import annotations

import math
import re

DASH = "–"  # en dash for ranges
MINUS = "−"  # typographic minus


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def usd(x: float | None, digits: int = 3) -> str:
    """``1234567 -> "$1.23M"``, ``40060 -> "$40.1k"``, ``167.2 -> "$167"``, ``-122600 -> "−$123k"``."""
    if not _finite(x):
        return "n/a"
    sign = MINUS if x < 0 else ""
    a = abs(float(x))
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= scale * 0.9995:
            return f"{sign}${_sig(a / scale, digits)}{suffix}"
    if a == 0:
        return "$0"
    return f"{sign}${a:,.0f}" if a >= 1 else f"{sign}${a:.2g}"


def _sig(v: float, digits: int) -> str:
    """``v`` in [1, 1000) with ``digits`` significant digits, trailing zeros kept (``3.10``)."""
    decimals = max(0, digits - len(str(int(v))))
    return f"{v:.{decimals}f}"


def usd_range(lo: float | None, hi: float | None) -> str:
    """``"$3.05M–$3.31M"``."""
    if not (_finite(lo) and _finite(hi)):
        return ""
    return f"{usd(lo)}{DASH}{usd(hi)}"


def pct(p: float | None, decimals: int = 2) -> str:
    """A share as percent: ``0.0854 -> "8.54%"``, ``0.9996 -> "99.96%"``, ``0 -> "0%"``, ``1 -> "100%"``."""
    if not _finite(p):
        return "n/a"
    if p == 0:
        return "0%"
    if p == 1:
        return "100%"
    v = 100 * float(p)
    if 0 < abs(v) < 10 ** -decimals:
        return f"{v:.1g}%"
    return f"{v:.{decimals}f}%"


def pct_short(p: float | None) -> str:
    """A share as percent without trailing zeros: ``0.95 -> "95%"``, ``0.995 -> "99.5%"``."""
    if not _finite(p):
        return "n/a"
    return f"{100 * float(p):.4g}%"


def pct_range(lo: float | None, hi: float | None, decimals: int = 2) -> str:
    if not (_finite(lo) and _finite(hi)):
        return ""
    return f"{pct(lo, decimals)}{DASH}{pct(hi, decimals)}"


def signed_usd(x: float | None) -> str:
    """A change in USD with an explicit sign: ``"+$1.2M"``, ``"−$40k"``, ``"±$0"``."""
    if not _finite(x):
        return "n/a"
    if x == 0:
        return "±$0"
    return ("+" if x > 0 else "") + usd(x)


def signed_pp(x: float | None) -> str:
    """A change of a share in percentage points: ``0.012 -> "+1.20 pp"``."""
    if not _finite(x):
        return "n/a"
    if x == 0:
        return "±0 pp"
    return f"{'+' if x > 0 else MINUS}{abs(100 * x):.2f} pp"


def hours(h: float | None) -> str:
    if not _finite(h):
        return "–"
    return f"{h:,.1f} h"


def number(x: float | None, digits: int = 3) -> str:
    """A plain metric with ``digits`` significant digits (``0.0254``, ``1.41``, ``75.9``)."""
    if not _finite(x):
        return "n/a"
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    if "e" in s:
        return f"{x:.2e}"
    return s


def axis_usd(x: float, _pos=None) -> str:
    """Tick formatter for USD axes (two significant digits are enough on an axis)."""
    if x == 0:
        return "$0"
    return re.sub(r"\.(\d*?)0+(?=[kMBT]?$)", lambda m: "." + m.group(1) if m.group(1) else "", usd(x))


def axis_pct(x: float, _pos=None) -> str:
    """Tick formatter for axes in percent already (values 0..100)."""
    return f"{x:g}%"
