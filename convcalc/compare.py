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
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .dims import fmt_dim, is_concrete, sp
from .errors import ModelError, UsageError, did_you_mean
from .figures import RATIO_KEYS
from .plan import Plan


@dataclass(frozen=True)
class Comparison:
    """Plans by name, the baseline every ratio is taken against, and the variants that could
    not be planned (name -> the error's one line, fix included): they are shown as columns that
    say why, and the comparison of the others still stands."""

    plans: Mapping[str, Plan]
    baseline: str
    failures: Mapping[str, str] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # every variant, planned or not, in the file's order

    @property
    def names(self) -> tuple[str, ...]:
        return self.order or tuple(self.plans)

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
        out = {
            "baseline": self.baseline,
            "variants": {k: p.to_dict() for k, p in self.plans.items()},
            "ratios": {k: {key: ratio_json(self.ratio(k, key)) for key in RATIO_KEYS} for k in self.plans},
        }
        if self.failures:
            out["failures"] = dict(self.failures)  # the contract, extended: variant -> its error
        return out


def compare(plans: Mapping[str, Plan], baseline: str | None = None, failures: Mapping[str, str] | None = None,
            order: tuple[str, ...] = ()) -> Comparison:
    """Compare ``plans`` against ``baseline`` (default: the first); ``failures`` are variants that
    could not be planned, by name, with their one-line errors."""
    failures = dict(failures or {})
    if not plans:
        raise UsageError("nothing to compare")
    if baseline in failures:
        raise UsageError(f"the baseline {baseline!r} could not be planned: {failures[baseline]}",
                         fix="--baseline " + " | ".join(plans))
    if baseline is None:
        baseline = next(iter(plans))
    if baseline not in plans:
        raise UsageError(f"no variant named {baseline!r} to use as baseline.{did_you_mean(baseline, plans)}".replace(
            "..", "."), fix="--baseline " + " | ".join(plans))
    return Comparison(dict(plans), baseline, failures, tuple(order) or (*plans, *failures))


def plan_variants(models: Mapping[str, Any], symbols: Mapping[str, int] | None = None,
                  symbolic: bool = False) -> tuple[dict[str, Plan], dict[str, str]]:
    """Plan every model (a :class:`~convcalc.model.Model`, or a :class:`Plan` as it is), each
    with the symbols it knows; a model that cannot be planned goes into the failures, by name,
    with its error's one line (naming the variant) and fix."""
    symbols = dict(symbols or {})
    plans: dict[str, Plan] = {}
    failures: dict[str, str] = {}
    for name, m in models.items():
        if isinstance(m, Plan):
            plans[name] = m
            continue
        mine = {k: v for k, v in symbols.items() if k in m.symbol_names()}
        try:
            plans[name] = m.plan_symbolic(**mine) if symbolic else m.plan(**mine)
        except ModelError as e:  # the others are still compared; this one is a column that says why
            if e.variant is None:
                e.variant = name
            failures[name] = e.headline() + (f" (fix: {e.fix})" if e.fix else "")
    return plans, failures


def raise_first_failure(models: Mapping[str, Any], symbols: Mapping[str, int] | None = None,
                        symbolic: bool = False) -> None:
    """When no model could be planned there is nothing to compare: raise the first one's error,
    naming its variant, as ``plan`` would."""
    name, first = next(iter(models.items()))
    mine = {k: v for k, v in dict(symbols or {}).items() if k in first.symbol_names()}
    try:
        first.plan_symbolic(**mine) if symbolic else first.plan(**mine)
    except ModelError as e:
        if e.variant is None:
            e.variant = name
        raise
    raise AssertionError("raise_first_failure: the first model planned")  # pragma: no cover


def ratio_json(r: Any) -> Any:
    """A ratio as JSON: a float for a number, the expression's text for a closed form."""
    if r is None:
        return None
    if isinstance(r, Fraction):
        return float(r)
    return fmt_dim(r)
