"""Sweeps: a model's totals over a range of one input size, from its closed forms.

The plan is built once with the swept symbol(s) free; its totals (params, MACs, FLOPs,
activation bytes) are compiled to exact int64 numpy functions (:func:`convcalc.algebra.
compile_int`) and evaluated over the whole range at once — a 100,000-point sweep takes a fraction
of a second. Each point also says whether the sizes are valid (every size >= 1, merges agree)
and exact (no stride drops a remainder).

    >>> import convcalc
    >>> model = convcalc.Model(framework="pytorch", input=[1, 3, "H", "H"])
    >>> model = model.add("Conv2d", out_channels=8, kernel_size=3, stride=2)
    >>> result = sweep(model, ["H"], range(3, 8))
    >>> result.values.tolist(), result.totals["macs"].tolist()
    ([3, 4, 5, 6, 7], [216, 216, 864, 864, 1944])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .algebra import compile_condition, compile_float, compile_int
from .constraints import VALIDITY_KINDS
from .dims import MAX_INT, ascii_int, free_symbols, subs
from .errors import UsageError, quoted, unknown_symbol_error
from .figures import RATIO_KEYS
from .model import Model
from .plan import Plan

# The points are capped by memory and time: the totals take tens of bytes per point and are
# streamed when written (convcalc.report.sweeps), so 1,000,000 points write as CSV in about 2 s
# and 150 MiB (tests/benchmarks/bench_sweep.py).
MAX_POINTS = 1_000_000
CHUNK = 250_000  # points evaluated at a time (the progress bar's step)
INT64_SAFE = 2**62  # beyond this a product of the closed form may wrap: exact Python integers instead


@dataclass(frozen=True)
class SweepResult:
    names: tuple[str, ...]
    values: np.ndarray
    totals: Mapping[str, np.ndarray]
    valid: np.ndarray
    exact: np.ndarray
    plan: Plan

    def to_dict(self) -> dict[str, Any]:
        """JSON contract (issue 4): symbol, values, totals; valid/exact flags added."""
        return {
            "symbol": ",".join(self.names),
            "values": self.values.tolist(),
            "totals": {k: v.tolist() for k, v in self.totals.items()},
            "valid": self.valid.tolist(),
            "exact": self.exact.tolist(),
        }


def parse_sweep(spec: str) -> tuple[list[str], range]:
    """``H=188:1000:16`` (``range`` semantics; STEP defaults to 1); ``H,W=...`` sweeps both
    symbols together (square inputs)."""
    names_part, sep, rng = spec.partition("=")
    names = [n.strip() for n in names_part.split(",") if n.strip()]
    parts = rng.split(":")
    numbers = [ascii_int(p) for p in parts]
    if not sep or not names or not all(n.isidentifier() and n.isascii() for n in names) or len(parts) not in (2, 3) \
            or any(v is None for v in numbers):
        raise UsageError(f"--sweep expects NAME=START:STOP[:STEP] of positive integers (ASCII digits, at most 15), "
                         f"got {quoted(spec)}", fix="--sweep H=32:1025:32")
    start, stop, step = numbers if len(numbers) == 3 else (numbers[0], numbers[1], 1)  # type: ignore[misc]
    if step <= 0 or start < 1 or stop <= start:
        raise UsageError(f"--sweep needs 1 <= START < STOP and STEP >= 1, got {spec!r}")
    if len(range(start, stop, step)) > MAX_POINTS:
        raise UsageError(f"--sweep {quoted(spec)} has {len(range(start, stop, step)):,} points, more than {MAX_POINTS:,}",
                         fix="a larger STEP, or a shorter range (STOP is exclusive)")
    return names, range(start, stop, step)


def _wrapped(values: np.ndarray, approx: np.ndarray) -> bool:
    """Whether int64 ``values`` disagree with their float64 ``approx``: beyond 2**62, or off by
    more than the float's own rounding (a wrap-around is off by about 2**64)."""
    if values.dtype == object:
        return False
    big = np.abs(approx) >= INT64_SAFE
    return bool(big.any() or not np.allclose(values.astype(np.float64), approx, rtol=1e-9, atol=1.0))


def sweep(model: Model, names: Sequence[str], values: range, sets: Mapping[str, int] | None = None,
          progress: Callable[[int, int, str], None] | None = None) -> SweepResult:
    """Every total of ``model`` at each value of ``values`` for the symbols ``names`` (swept
    together), from one symbolic plan; ``sets`` fixes other symbols.

    Totals are exact: int64 where every value stays below 2**62 (each chunk is checked against a
    float64 evaluation that cannot wrap), Python integers beyond (a 512-channel convolution at
    H = 10**7, or a total that peaks inside the range). ``progress(done, total, "")`` is called per chunk."""
    sets = dict(sets or {})
    known = model.symbol_names()
    for n in names:
        if n not in known:
            raise unknown_symbol_error(n, known)
    plan = model.plan_symbolic(*names, **sets)
    left = set().union(*(free_symbols(d) for s in plan.inputs.values() for d in s)) - set(names)
    if left:
        listed = " ".join(f"--set {n}=..." for n in sorted(left))
        raise UsageError(f"the sweep over {', '.join(names)} leaves {', '.join(sorted(left))} free", fix=f"give them "
                         f"values: {listed}, or sweep them together: --sweep {','.join(list(names) + sorted(left))}=...")
    if values.stop > MAX_INT or len(values) > MAX_POINTS:
        raise UsageError(f"a sweep runs over at most {MAX_POINTS:,} sizes up to {MAX_INT:,}")
    xs = np.arange(values.start, values.stop, values.step, dtype=np.int64)
    ends = {n: int(xs[-1]) for n in names}
    wide = {key for key in RATIO_KEYS if abs(subs(getattr(plan.totals, key), ends)) >= INT64_SAFE or abs(
        subs(getattr(plan.totals, key), {n: int(xs[0]) for n in names})) >= INT64_SAFE}
    exprs = {key: getattr(plan.totals, key) for key in RATIO_KEYS}
    fns = {key: compile_int(exprs[key], exact_objects=key in wide) for key in RATIO_KEYS}
    approx = {key: compile_float(exprs[key]) for key in RATIO_KEYS if key not in wide}
    conditions = [(c.kind, compile_condition(c.lhs, c.op, c.rhs)) for c in plan.constraints]
    totals = {key: np.empty(xs.shape, dtype=object if key in wide else np.int64) for key in RATIO_KEYS}
    valid = np.ones(xs.shape, dtype=bool)
    exact = np.ones(xs.shape, dtype=bool)
    for lo in range(0, len(xs), CHUNK):
        part = xs[lo:lo + CHUNK]
        env = {n: part for n in names}
        for key, fn in fns.items():
            got = np.broadcast_to(np.asarray(fn(**env)), part.shape)
            if key in approx and _wrapped(got, np.broadcast_to(approx[key](**env), part.shape)):
                # int64 wrapped somewhere inside the range (a total need not grow with the size):
                # this figure is computed in exact Python integers from here on.
                wide.add(key)
                del approx[key]
                fns[key] = fn = compile_int(exprs[key], exact_objects=True)
                totals[key] = totals[key].astype(object)
                got = np.broadcast_to(np.asarray(fn(**env)), part.shape)
            totals[key][lo:lo + CHUNK] = got
        for kind, condition in conditions:
            holds = np.broadcast_to(condition(**env), part.shape)
            if kind == "exact":
                exact[lo:lo + CHUNK] &= holds
            elif kind in VALIDITY_KINDS:
                valid[lo:lo + CHUNK] &= holds
        if progress is not None:
            progress(min(lo + CHUNK, len(xs)), len(xs), "")
    return SweepResult(tuple(names), xs, totals, valid, exact, plan)
