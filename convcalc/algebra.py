"""The algebra of symbolic sizes: canonical roundings, bounds, textbook printing, exact evaluation.

Imported only when a size is symbolic (a concrete plan never loads sympy). This is what
:mod:`convcalc.dims` needs of sympy; the constraint solver built on it is :mod:`convcalc.constraints`.

**Canonical roundings.** Every stride, pool and 'same' padding applies ``floor`` or ``ceil``;
chained naively, ResNet-50's last feature map height would be twelve nested floors. For integer
``Y`` and positive integers ``m, b`` and integer ``c`` these identities collapse a chain into one
rounding (conventions.md notation):

- ``floor((floor(Y/m) + c) / b) = floor((Y + c*m) / (m*b))``
- ``ceil(Y/m) = floor((Y + m - 1) / m)``, so ``floor((ceil(Y/m) + c)/b)`` collapses the same way
- ``ceil(x / b) = floor((x + b - 1) / b)`` for integer ``x``
- ``floor((Y + n*D + D - 1) / D) = ceil(Y / D) + n`` — the form chosen when it applies.

So ``floor((H - 1)/2) + 1`` becomes ``ceil(H/2)``, and the whole ResNet-50 stem-to-head chain
``ceil(H/32)``. Nothing here calls ``sympy.simplify`` (tens of seconds on deep chains).

**Printing** is textbook: ``floor((H - 1)/4)``, ``ceil(H/32)``, ``H % 16``, ``min(a, b)``. The
same text is the JSON form; it parses back with convcalc's own dimension parser, or with sympy
given ``{"ceil": sympy.ceiling, "min": sympy.Min, "max": sympy.Max}`` as locals.

**Exact evaluation.** :func:`compile_int` turns an expression into a numpy function computing
it exactly in int64 over arrays of symbol values (rationals are carried as numerator and
denominator), for sweeps and for solving constraints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import reduce
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

# --------------------------------------------------------------------------- canonical roundings


def _integer_poly(expr: Any) -> bool:
    """Whether ``expr`` is integer-valued by construction: a sum of integer multiples of
    products of integer symbols and roundings."""
    expr = sp.expand(expr)
    for term in sp.Add.make_args(expr):
        coeff, rest = term.as_coeff_Mul()
        if not coeff.is_Integer:
            return False
        for factor in sp.Mul.make_args(rest):
            base = factor.base if factor.is_Pow and factor.exp.is_Integer and factor.exp > 0 else factor
            if not (base.is_Integer or base.is_Symbol or isinstance(base, (sp.floor, sp.ceiling))):
                return False
    return True


def _as_fraction(arg: Any) -> tuple[Any, int] | None:
    """``arg = P / m`` with ``P`` integer-valued (see :func:`_integer_poly`) and ``m`` a positive int."""
    arg = sp.expand(arg)
    if not arg.free_symbols:
        q = sp.Rational(arg)
        return sp.Integer(q.p), int(q.q)
    m = 1
    for term in sp.Add.make_args(arg):
        coeff, _ = term.as_coeff_Mul()
        if not coeff.is_Rational:
            return None
        m = math.lcm(m, int(sp.Rational(coeff).q))
    p = sp.expand(arg * m)
    return (p, m) if _integer_poly(p) else None


def _split_rounding(a: Any) -> tuple[type, Any, int, Any] | None:
    """``a = R(P/m) + rest`` with one rounding ``R`` (floor or ceiling) of coefficient 1 and an
    integer-polynomial ``rest``; ``None`` when ``a`` has another shape."""
    rounding = [t for t in sp.Add.make_args(a) if isinstance(t, (sp.floor, sp.ceiling))]
    if len(rounding) != 1:
        return None
    term = rounding[0]
    rest = sp.expand(a - term)
    if rest.has(sp.floor, sp.ceiling) or not _integer_poly(rest):
        return None
    frac = _as_fraction(term.args[0])
    if frac is None:
        return None
    return type(term), frac[0], frac[1], rest


def _canonical_floor(numerator: Any, d: int) -> Any:
    """``floor(N / d)`` for an integer polynomial ``N``: integer terms pulled out, and written as
    ``ceil`` when the constant makes it one (``floor((Y + d - 1)/d) = ceil(Y/d)``)."""
    numerator = sp.expand(numerator)
    if d == 1:
        return numerator
    const = numerator.as_coeff_Add()[0] if numerator.is_Add else (numerator if numerator.is_Integer else sp.Integer(0))
    const = int(const)
    variable = sp.expand(numerator - const)
    # Terms of the variable part divisible by d leave the rounding.
    whole = sp.Integer(0)
    kept = sp.Integer(0)
    for t in sp.Add.make_args(variable):
        coeff, _ = t.as_coeff_Mul()
        if coeff.is_Integer and int(coeff) % d == 0:
            whole += t / d
        else:
            kept += t
    q, r = divmod(const, d)
    if kept == 0:
        return sp.expand(whole + q)
    if r == d - 1:
        return whole + q + sp.ceiling(kept / d)
    return whole + q + sp.floor((kept + r) / d)


def canonical_floordiv(a: Any, b: int) -> Any:
    """``floor(a / b)`` in canonical form (one rounding where the identities allow)."""
    split = _split_rounding(a)
    if split is not None:
        kind, p, m, rest = split
        inner = p + rest * m + (m - 1 if kind is sp.ceiling else 0)
        return _canonical_floor(inner, m * b)
    if _integer_poly(a):
        return _canonical_floor(a, b)
    return sp.floor(a / b)


def canonical_ceildiv(a: Any, b: int) -> Any:
    """``ceil(a / b) = floor((a + b - 1) / b)`` for integer-valued ``a``, canonically."""
    return canonical_floordiv(a + b - 1, b)


def bounds(expr: Any) -> tuple[Any, Any]:
    """Integer lower and upper bounds of ``expr`` over all positive integer symbol values
    (``None`` where unbounded or unknown). Cheap interval arithmetic on the expression tree:
    symbols are ``>= 1``; ``floor``/``ceil`` of a bounded argument are bounded likewise."""
    if expr.is_Number:
        return expr, expr
    if expr.is_Symbol:
        return sp.Integer(1), None
    if expr.is_Add:
        lo, hi = sp.Integer(0), sp.Integer(0)
        for arg in expr.args:
            a, b = bounds(arg)
            lo = None if lo is None or a is None else lo + a
            hi = None if hi is None or b is None else hi + b
        return lo, hi
    if expr.is_Mul:
        coeff, rest = expr.as_coeff_Mul()
        if coeff != 1:
            a, b = bounds(rest)
            if coeff > 0:
                return (None if a is None else coeff * a), (None if b is None else coeff * b)
            return (None if b is None else coeff * b), (None if a is None else coeff * a)
        lo, hi = sp.Integer(1), sp.Integer(1)
        for arg in expr.args:  # a product of factors known to be >= 0
            a, b = bounds(arg)
            if a is None or a < 0:
                return None, None
            lo = lo * a
            hi = None if hi is None or b is None else hi * b
        return lo, hi
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        a, b = bounds(expr.base)
        if a is None or a < 0:
            return None, None
        return a**expr.exp, (None if b is None else b**expr.exp)
    if isinstance(expr, (sp.floor, sp.ceiling)):
        a, b = bounds(expr.args[0])
        f = sp.floor if isinstance(expr, sp.floor) else sp.ceiling
        return (None if a is None else f(a)), (None if b is None else f(b))
    if isinstance(expr, (sp.Min, sp.Max)):
        parts = [bounds(arg) for arg in expr.args]
        los, his = [p[0] for p in parts], [p[1] for p in parts]
        if isinstance(expr, sp.Min):
            return (None if None in los else min(los)), (min(h for h in his if h is not None) if any(
                h is not None for h in his) else None)
        return (max(lo for lo in los if lo is not None) if any(lo is not None for lo in los) else None), (
            None if None in his else max(his))
    return None, None


# --------------------------------------------------------------------------- printing


class TextbookPrinter(StrPrinter):
    """``floor((H - 1)/2)`` rather than ``floor(H/2 - 1/2)``; ``ceil``, ``%``, ``min``, ``max``."""

    def _fraction(self, arg: Any) -> str:
        frac = _as_fraction(arg)
        if frac is None:
            return self._print(arg)
        p, m = frac
        num = self._print(p)
        if m == 1:
            return num
        if p.is_Add:
            num = f"({num})"
        return f"{num}/{m}"

    def _print_floor(self, expr: Any) -> str:
        return f"floor({self._fraction(expr.args[0])})"

    def _print_ceiling(self, expr: Any) -> str:
        return f"ceil({self._fraction(expr.args[0])})"

    def _print_Mod(self, expr: Any) -> str:
        a, b = expr.args
        left = self._print(a)
        if a.is_Add or a.is_Mul:
            left = f"({left})"
        return f"{left} % {self._print(b)}"

    def _print_Min(self, expr: Any) -> str:
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Max(self, expr: Any) -> str:
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"


_PRINTER = TextbookPrinter()


def textbook(expr: Any) -> str:
    """The expression as a person writes it (and as JSON carries it)."""
    return _PRINTER.doprint(expr)


SYMPY_LOCALS = {"ceil": sp.ceiling, "floor": sp.floor, "min": sp.Min, "max": sp.Max}


# --------------------------------------------------------------------------- exact evaluation

Frac = tuple[np.ndarray, int]  # numerator array (int64) / positive denominator


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


def _node(expr: Any, env: Mapping[str, np.ndarray], const: Callable[[int], Any] = np.int64) -> Frac:
    """``expr`` as (numerator, denominator) over the arrays ``env``; ``const`` makes the
    constants: ``np.int64``, or ``int`` over object arrays of Python ints (exact, for sweeps past int64)."""
    if expr.is_Integer:
        return const(int(expr)), 1
    if expr.is_Rational:
        return const(int(expr.p)), int(expr.q)
    if expr.is_Symbol:
        return env[str(expr)], 1
    if expr.is_Add:
        num, den = const(0), 1
        for arg in expr.args:
            n, d = _node(arg, env, const)
            common = _lcm(den, d)
            num = num * (common // den) + n * (common // d)
            den = common
        return num, den
    if expr.is_Mul:
        num, den = const(1), 1
        for arg in expr.args:
            n, d = _node(arg, env, const)
            num, den = num * n, den * d
        return num, den
    if expr.is_Pow and expr.exp.is_Integer and int(expr.exp) >= 0:
        n, d = _node(expr.base, env, const)
        e = int(expr.exp)
        return n**e, d**e
    if isinstance(expr, sp.floor):
        n, d = _node(expr.args[0], env, const)
        return n // d, 1
    if isinstance(expr, sp.ceiling):
        n, d = _node(expr.args[0], env, const)
        return -((-n) // d), 1
    if isinstance(expr, (sp.Min, sp.Max)):
        parts = [_node(a, env, const) for a in expr.args]
        den = reduce(_lcm, (d for _, d in parts), 1)
        nums = [n * (den // d) for n, d in parts]
        pick = np.minimum if isinstance(expr, sp.Min) else np.maximum
        return reduce(pick, nums), den
    if isinstance(expr, sp.Mod):
        (n1, d1), (n2, d2) = _node(expr.args[0], env, const), _node(expr.args[1], env, const)
        den = _lcm(d1, d2)
        return (n1 * (den // d1)) % (n2 * (den // d2)), den
    if isinstance(expr, sp.Piecewise):
        out = None
        taken = None
        for value, cond in expr.args:
            n, d = _node(value, env, const)
            mask = _truth(cond, env)
            v = n // d if d == 1 else n / d
            if out is None:
                out = np.where(mask, v, 0)
                taken = mask
            else:
                fresh = np.logical_and(mask, np.logical_not(taken))
                out = np.where(fresh, v, out)
                taken = np.logical_or(taken, mask)
        return np.asarray(out, dtype=np.int64 if const is np.int64 else object), 1
    from .errors import ArgumentError

    raise ArgumentError(
        f"convcalc cannot evaluate {textbook(expr)} exactly over a range of sizes (it divides by an expression "
        "of the sizes)", fix="write sizes with floor or ceil of a division by a number, or give the symbols values "
        "with --set")


def _truth(cond: Any, env: Mapping[str, np.ndarray]) -> np.ndarray:
    if cond is sp.true or cond == sp.true:
        return np.bool_(True)
    if cond is sp.false or cond == sp.false:
        return np.bool_(False)
    lhs, rhs = cond.lhs, cond.rhs
    (n1, d1), (n2, d2) = _node(lhs, env), _node(rhs, env)
    a, b = n1 * d2, n2 * d1
    ops = {sp.GreaterThan: np.greater_equal, sp.StrictGreaterThan: np.greater, sp.LessThan: np.less_equal,
           sp.StrictLessThan: np.less, sp.Equality: np.equal, sp.Unequality: np.not_equal}
    return ops[type(cond)](a, b)


def compile_int(expr: Any, *, exact_objects: bool = False) -> Callable[..., np.ndarray]:
    """A function of symbol arrays (by keyword) giving ``expr`` exactly: an int64 array where it
    is an integer, a float array where it is not. ``exact_objects``: Python integers in object
    arrays instead (no overflow at any size, slower), for values beyond int64."""
    if isinstance(expr, int):
        return lambda **env: np.asarray(expr, dtype=object) if exact_objects else np.int64(expr)

    if exact_objects:
        def exact(**env: Any) -> np.ndarray:
            arrays = {k: np.asarray([int(x) for x in np.asarray(v).ravel()], dtype=object) for k, v in env.items()}
            n, d = _node(expr, arrays, int)
            return np.asarray(n, dtype=object) // d

        return exact

    def evaluate(**env: Any) -> np.ndarray:
        n, d = _node(expr, {k: np.asarray(v, dtype=np.int64) for k, v in env.items()})
        if d == 1:
            return np.asarray(n, dtype=np.int64)
        exact = np.asarray(n) % d == 0
        return np.where(exact, np.asarray(n) // d, np.asarray(n) / d) if not exact.all() else np.asarray(n) // d

    return evaluate


def compile_float(expr: Any) -> Callable[..., np.ndarray]:
    """``expr`` in float64 over symbol arrays: an approximation that cannot wrap around, against
    which an int64 evaluation is checked for overflow (a sweep's totals)."""
    if isinstance(expr, int):
        return lambda **env: np.float64(expr)

    def approximate(**env: Any) -> np.ndarray:
        n, d = _node(expr, {k: np.asarray(v, dtype=np.float64) for k, v in env.items()}, np.float64)
        return np.asarray(n, dtype=np.float64) / d

    return approximate


def compile_condition(lhs: Any, op: str, rhs: Any) -> Callable[..., np.ndarray]:
    """A vectorised, exact predicate ``lhs op rhs`` (op: ``>=``, ``==``, ``%0`` for divisibility)."""
    f, g = _fraction_fn(lhs), _fraction_fn(rhs)

    def predicate(**env: Any) -> np.ndarray:
        (n1, d1), (n2, d2) = f(env), g(env)
        if op == ">=":
            return n1 * d2 >= n2 * d1
        if op == "==":
            return n1 * d2 == n2 * d1
        if op == "%0":  # lhs divisible by rhs (both integer-valued)
            return (n1 // d1) % (n2 // d2) == 0
        raise ValueError(op)

    return predicate


def _fraction_fn(expr: Any) -> Callable[[Mapping[str, Any]], Frac]:
    if isinstance(expr, int):
        return lambda env: (np.int64(expr), 1)
    return lambda env: _node(expr, {k: np.asarray(v, dtype=np.int64) for k, v in env.items()})


def period_of(exprs: Sequence[Any]) -> int:
    """The lcm of every denominator inside floor/ceil/Mod: predicates built from these expressions
    repeat with this period in each symbol (for sizes beyond their validity threshold)."""
    out = 1
    for e in exprs:
        if isinstance(e, int):
            continue
        for node in sp.preorder_traversal(e):
            if isinstance(node, (sp.floor, sp.ceiling)):
                frac = _as_fraction(node.args[0])
                if frac is not None:
                    out = math.lcm(out, frac[1])
            elif isinstance(node, sp.Mod) and node.args[1].is_Integer:
                out = math.lcm(out, int(node.args[1]))
            elif node.is_Rational and not node.is_Integer:
                out = math.lcm(out, int(node.q))
    return out
