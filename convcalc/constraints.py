"""Constraints in plain words: where a predicate on the symbols holds, solved exactly.

The plan collects :class:`~convcalc.ir.Constraint` values (``lhs >= rhs``, ``lhs == rhs``,
``lhs % rhs == 0``) while it infers shapes. This module turns them into statements a person
reads (``H >= 188``, ``H % 16 == 12``) and into the valid sizes per symbol that ``convcalc
solve`` lists. Each one-symbol predicate is evaluated exactly (:func:`convcalc.algebra.
compile_condition`) at every size from 1: beyond a threshold it is periodic in the strides, so
the answer is a threshold, a modulus and a set of residues (:class:`Analysis`).

Built on :mod:`convcalc.algebra`; imported only when a plan has symbolic constraints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import sympy as sp

from .algebra import compile_condition, period_of, textbook

MAX_WINDOW = 1 << 22


@dataclass(frozen=True)
class Analysis:
    """Where a one-symbol predicate holds, found by exact evaluation of every size from 1.

    From ``threshold`` on, it holds exactly when ``symbol % modulus`` is in ``residues`` (the
    predicates convcalc builds are periodic in the strides beyond a threshold); below it, it
    holds at the sizes in ``below``. ``first`` is the smallest size where it holds (``None``:
    nowhere up to ``window``).
    """

    symbol: str
    first: int | None
    threshold: int
    modulus: int
    residues: tuple[int, ...]
    window: int
    below: frozenset[int] = frozenset()

    @property
    def always(self) -> bool:
        return self.threshold <= 1 and len(self.residues) == self.modulus

    def holds(self, x: int) -> bool:
        if x < self.threshold:
            return x in self.below
        return x % self.modulus in self.residues

    def values(self, count: int) -> list[int]:
        """The first ``count`` sizes where the predicate holds."""
        out: list[int] = []
        x = self.first or 1
        while len(out) < count and self.residues and x <= self.window * 4:
            if self.holds(x):
                out.append(x)
            x += 1
        return out


MAX_PERIOD = 1 << 16  # 16 periods of sizes are enumerated: at most about a million


class PeriodTooLarge(ValueError):
    """The predicate repeats only every ``period`` sizes: too many to enumerate."""

    def __init__(self, period: int) -> None:
        super().__init__(f"it repeats every {period:,} sizes")
        self.period = period


def analyze(predicate: Callable[..., np.ndarray], symbol: str, period: int) -> Analysis:
    """Evaluate ``predicate`` at every size 1..N (N growing until the pattern is steady).

    The work is bounded: a period beyond :data:`MAX_PERIOD` raises :class:`PeriodTooLarge`
    before anything is allocated (21 stride-2 pools, a stride of 2**40, strides 1009*1013*1019
    would otherwise enumerate gigabytes); the callers then state the constraint as a relation."""
    period = max(1, period)
    if period > MAX_PERIOD:
        raise PeriodTooLarge(period)
    n = max(512, 16 * period)
    while True:
        xs = np.arange(1, n + 1, dtype=np.int64)
        mask = np.broadcast_to(np.asarray(predicate(**{symbol: xs}), dtype=bool), xs.shape)
        tail = slice(n - 2 * period, n)
        residues = sorted({int(v) for v in (xs[tail][mask[tail]] % period)})
        expected = np.isin(xs % period, residues)
        bad = np.nonzero(mask != expected)[0]
        threshold = int(xs[bad[-1]]) + 1 if bad.size else 1
        if threshold < n - 4 * period or n >= MAX_WINDOW:
            break
        n *= 4
    # A smaller modulus when the residues are whole classes of a divisor.
    modulus = period
    for q in sorted(d for d in range(1, period + 1) if period % d == 0):
        classes = {r % q for r in residues}
        if sorted(r for r in range(period) if r % q in classes) == residues:
            modulus, residues = q, sorted(classes)
            break
    ok = np.nonzero(mask)[0]
    below = frozenset(int(v) for v in xs[ok] if v < threshold)
    return Analysis(symbol, int(xs[ok[0]]) if ok.size else None, threshold, modulus, tuple(residues), n, below)


def _relation(lhs: Any, op: str, rhs: Any) -> str:
    left, right = textbook(sp.sympify(lhs)), textbook(sp.sympify(rhs))
    if op == "%0":
        if isinstance(lhs, int) or not (getattr(lhs, "is_Add", False) or getattr(lhs, "is_Mul", False)):
            return f"{left} % {right} == 0"
        return f"({left}) % {right} == 0"
    return f"{left} {op} {right}"


def describe(lhs: Any, op: str, rhs: Any) -> str | None:
    """A constraint in plain words, solved for its symbol (``H >= 5``, ``H % 16 == 12``);
    ``None`` when it always holds. Several symbols: the relation in textbook form."""
    names = set()
    for side in (lhs, rhs):
        if not isinstance(side, int):
            names |= {str(s) for s in sp.sympify(side).free_symbols}
    if len(names) != 1:
        return _relation(lhs, op, rhs)
    (name,) = names
    period = period_of([lhs, rhs])
    if op == "%0" and isinstance(rhs, int):
        period *= rhs  # floor(H/m) mod d depends on H mod m*d
    try:
        a = analyze(compile_condition(lhs, op, rhs), name, period)
    except PeriodTooLarge:
        return _relation(lhs, op, rhs)
    return analysis_text(a) if not a.always else None


def analysis_text(a: Analysis) -> str:
    s = a.symbol
    if not a.residues:
        return f"no {s} satisfies it (checked up to {a.window:,})"
    if len(a.residues) == a.modulus:
        return f"{s} >= {a.threshold}"
    mod = f"{s} % {a.modulus} == {a.residues[0]}" if len(a.residues) == 1 else (
        f"{s} % {a.modulus} in {{{', '.join(str(r) for r in a.residues)}}}")
    if a.threshold > 1:
        return f"{mod} and {s} >= {max(a.threshold, a.first or 1)}" if a.first and a.first >= a.threshold else (
            f"{mod} (for {s} >= {a.threshold})")
    return mod


KINDS = ("valid", "merge", "exact", "invertible")
SIZE_KINDS = ("valid", "merge", "exact")  # what solve's valid sizes satisfy (invertible is told apart)
# What a size must meet to plan at all (a sweep's "valid"); "exact" and "invertible" are
# properties of a size that plans, not conditions on it.
VALIDITY_KINDS = ("valid", "merge")


def _symbols_of(c: Any) -> set[str]:
    out: set[str] = set()
    for side in (c.lhs, c.rhs):
        if not isinstance(side, int):
            out |= {str(s) for s in sp.sympify(side).free_symbols}
    return out


def _period(c: Any) -> int:
    p = period_of([c.lhs, c.rhs])
    return p * c.rhs if c.op == "%0" and isinstance(c.rhs, int) else p


def combined(constraints: Sequence[Any], symbol: str) -> Analysis:
    """Where all of ``constraints`` (each in the one symbol ``symbol``) hold together."""
    preds = [compile_condition(c.lhs, c.op, c.rhs) for c in constraints]
    period = reduce(math.lcm, (_period(c) for c in constraints), 1)

    def all_hold(**env: Any) -> np.ndarray:
        out = np.bool_(True)
        for p in preds:
            out = np.logical_and(out, p(**env))
        return out

    return analyze(all_hold, symbol, period)


def summarize(constraints: Sequence[Any]) -> dict[str, list[str]]:
    """Plain statements by kind: one per symbol (all its constraints of that kind combined),
    then the ones that tie several symbols together, in textbook form."""
    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for kind in KINDS:
        mine = [c for c in constraints if c.kind == kind]
        by_symbol: dict[str, list[Any]] = {}
        for c in mine:
            names = _symbols_of(c)
            if len(names) == 1:
                by_symbol.setdefault(next(iter(names)), []).append(c)
            else:
                out[kind].append(_relation(c.lhs, c.op, c.rhs))
        for name in sorted(by_symbol):
            try:
                a = combined(by_symbol[name], name)
            except PeriodTooLarge:  # each one alone, solved where its own period allows, else as a relation
                out[kind] += [t for c in by_symbol[name] if (t := describe(c.lhs, c.op, c.rhs))]
                continue
            if not a.always:
                out[kind].insert(len([t for t in out[kind] if t]), analysis_text(a))
    return out


def solve(constraints: Sequence[Any], symbols: Sequence[str]) -> dict[str, Analysis]:
    """For each symbol, the sizes where every one-symbol constraint on it holds."""
    result = {}
    for name in symbols:
        mine = [c for c in constraints if _symbols_of(c) == {name} and c.kind in SIZE_KINDS]
        result[name] = combined(mine, name) if mine else analyze(lambda **env: np.bool_(True), name, 1)
    return result
