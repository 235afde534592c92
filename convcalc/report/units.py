"""Numbers as people read them: thousands separators, human units (three significant digits),
ratios.

    >>> human_bytes(3 * 2**20), human_bytes(98 * 2**20 + 2**19), human_count(4_089_184_256), human_count(25_557_032)
    ('3.00 MiB', '98.5 MiB', '4.09 G', '25.6 M')
    >>> human_count(864), human_bytes(392 * 1024), count(25_557_032)
    ('864', '392 KiB', '25,557,032')
    >>> from fractions import Fraction
    >>> ratio_text(Fraction(401, 126)), ratio_text(Fraction(1, 5))
    ('3.18x (401/126)', '0.2x')
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

from ..dims import BYTE_UNITS, COUNT_UNITS, fmt_bytes, fmt_count, fmt_dim, fmt_scaled, is_concrete


def human_bytes(n: Any) -> str:
    """``3.00 MiB``, ``98.5 MiB``. An expression keeps its exact value: a common factor that is a
    whole number of KiB, MiB, ... is written in that unit (``256*H*W`` bytes: ``0.25 KiB·H*W``),
    else ``expr B``."""
    if is_concrete(n):
        return fmt_bytes(int(n))
    return symbolic_bytes(n)


@lru_cache(maxsize=65536)
def symbolic_bytes(expr: Any) -> str:
    """An expression of bytes with its common factor in the largest binary unit in which it is
    exact to three decimals: ``0.25 KiB·H*W`` for ``256*H*W``, ``36 KiB·(H - 4)*(W - 4)`` for
    ``36864*(...)``, ``3136 KiB·N`` for ``3211264*N`` (3.0625 MiB is not exact in three).

        >>> import sympy
        >>> n = sympy.Symbol("N")
        >>> symbolic_bytes(3211264 * n), symbolic_bytes(3 * 2**20 * n), symbolic_bytes(1000 * n)
        ('3136 KiB·N', '3 MiB·N', '1000*N B')
    """
    from sympy import factor_terms  # only expressions get here: sympy is loaded

    content, rest = factor_terms(expr).as_coeff_Mul()
    if not content.is_Integer or content < 256 or rest == 1:
        return fmt_dim(expr) + " B"
    content = int(content)
    # the largest unit in which the factor is exact to three decimals and at least 0.25
    # (3211264 bytes: 3136 KiB, not 3.0625 MiB; 256: 0.25 KiB)
    unit, value = 0, Fraction(content)
    for u in range(1, len(BYTE_UNITS)):
        scaled = Fraction(content, 1024**u)
        if scaled < Fraction(1, 4):
            break
        if (scaled * 1000).denominator == 1:
            unit, value = u, scaled
    if unit == 0:  # no unit is exact: keep the bytes
        return fmt_dim(expr) + " B"
    shown = f"{float(value):.3f}".rstrip("0").rstrip(".")
    body = fmt_dim(rest)
    return f"{shown} {BYTE_UNITS[unit]}·{body if rest.is_Mul or rest.is_Symbol else '(' + body + ')'}"


def human_count(n: Any) -> str:
    """``4.09 G``, ``25.6 M``, ``864``; expressions are left as they are (exact)."""
    if not is_concrete(n):
        return fmt_dim(n)
    return fmt_scaled(int(n), 1000, COUNT_UNITS)


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
