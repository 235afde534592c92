"""Design alternatives side by side: one column per variant, ratios to a baseline.

Ratios are exact: fractions of integers for concrete plans (``401/126`` params, ``1/5`` MACs),
and quotients of closed forms for symbolic ones, cancelled (``sympy.cancel``, which is cheap on
polynomials — never ``simplify``) so that a ratio which does not depend on the sizes comes out
as a number: Conv2D over Conv3D MACs is ``1/5`` whatever ``T``, ``H``, ``W`` are.

    >>> import convcalc
    >>> a = convcalc.Model(framework="keras", input=[1, 16, 64, 64, 1], name="conv3d").add(
    ...     "Conv3D", filters=8, kernel_size=5, padding="same")
    >>> b = convcalc.Model(framework="keras", input=[1, 64, 64, 16], name="conv2d").add(
    ...     "Conv2D", filters=8, kernel_size=5, padding="same")
    >>> c = compare({"conv3d": a.plan(), "conv2d": b.plan()})
    >>> c.ratio("conv2d", "macs"), c.ratio("conv2d", "params")
    (Fraction(1, 5), Fraction(401, 126))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .dims import fmt_dim, is_concrete, sp
from .errors import UsageError, did_you_mean
from .figures import RATIO_KEYS
from .plan import Plan


@dataclass(frozen=True)
class Comparison:
    """Plans by name, and the baseline every ratio is taken against."""

    plans: Mapping[str, Plan]
    baseline: str

    def ratio(self, name: str, key: str) -> Any:
        """``figure(name) / figure(baseline)``: a Fraction, or a sympy expression (a constant one
        comes back as a Fraction); ``None`` when the baseline figure is 0."""
        a, b = getattr(self.plans[name].totals, key), getattr(self.plans[self.baseline].totals, key)
        if is_concrete(a) and is_concrete(b):
            return None if b == 0 else Fraction(a, b)
        s = sp()
        if b == 0:
            return None
        r = s.cancel(s.together(s.sympify(a) / s.sympify(b)))
        if r.is_Rational:
            return Fraction(int(r.p), int(r.q))
        return s.together(r)

    def to_dict(self) -> dict[str, Any]:
        """JSON contract (issue 5): baseline, variants (plan reports), ratios."""
        return {
            "baseline": self.baseline,
            "variants": {k: p.to_dict() for k, p in self.plans.items()},
            "ratios": {k: {key: ratio_json(self.ratio(k, key)) for key in RATIO_KEYS} for k in self.plans},
        }


def compare(plans: Mapping[str, Plan], baseline: str | None = None) -> Comparison:
    if not plans:
        raise UsageError("nothing to compare")
    if baseline is None:
        baseline = next(iter(plans))
    if baseline not in plans:
        raise UsageError(f"no variant named {baseline!r} to use as baseline.{did_you_mean(baseline, plans)}".replace(
            "..", "."), fix="--baseline " + " | ".join(plans))
    return Comparison(dict(plans), baseline)


def ratio_json(r: Any) -> Any:
    """A ratio as JSON: a float for a number, the expression's text for a closed form."""
    if r is None:
        return None
    if isinstance(r, Fraction):
        return float(r)
    return fmt_dim(r)
