"""Numbers as people read them: thousands separators, human units, ratios.

    >>> human_bytes(3 * 2**20), human_count(4_089_184_256), count(25_557_032)
    ('3.00 MiB', '4.09 G', '25,557,032')
    >>> from fractions import Fraction
    >>> ratio_text(Fraction(401, 126)), ratio_text(Fraction(1, 5))
    ('3.18x (401/126)', '0.2x')
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..dims import fmt_count, fmt_dim, is_concrete


def human_bytes(n: Any) -> str:
    """``3.06 MiB``; expressions are left as they are."""
    if not is_concrete(n):
        return fmt_dim(n) + " B"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError  # pragma: no cover


def human_count(n: Any) -> str:
    """``4.09 G``; expressions are left as they are."""
    if not is_concrete(n):
        return fmt_dim(n)
    for div, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f} {unit}"
    return str(n)


def count(n: Any) -> str:
    """An exact count with thousands separators, or the expression."""
    return fmt_count(n)


def exact(n: Any) -> str:
    """An exact integer without separators (CSV), or the expression."""
    return str(n) if is_concrete(n) else fmt_dim(n)


def ratio_text(r: Any) -> str:
    """``0.2x (1/5)``, ``3.18x (401/126)``, ``2.3x``; expressions as they are."""
    if r is None:
        return "-"
    if isinstance(r, Fraction):
        if r == 1:
            return "1x"
        value = float(r)
        shown = f"{value:.3g}" if value < 1000 else f"{value:,.0f}"
        precision = 4
        while value < 1000 and "." not in shown and "e" not in shown and float(shown) != value and precision < 10:
            shown = f"{value:.{precision}g}"  # 1.002 or 1.000002, not a misleading 1
            precision += 1
        exact = f" ({r.numerator}/{r.denominator})" if r.denominator > 1 and r.denominator <= 1000 and (
            f"{value:.3g}" != str(value) or r.denominator not in (1, 2, 4, 5, 8, 10, 20, 25, 50, 100)) else ""
        return f"{shown}x{exact}"
    return f"({fmt_dim(r)})x"
