"""The primitives' equality, hash and repr (defined once on ``convcalc.ir.Primitive``, not
generated per class: see the comment above it) against what ``@dataclass(frozen=True)`` generates
for a twin class with the same fields, on every step of every example plan."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

import convcalc
from convcalc import ir

from .conftest import EXAMPLES


def _twin(cls: type) -> type:
    """``cls``'s fields in a class that dataclasses writes whole."""
    twin = dataclasses.make_dataclass(cls.__name__, [(f.name, Any) for f in dataclasses.fields(cls)],
                                      frozen=True, kw_only=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def _steps() -> list[ir.Primitive]:
    steps = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        loaded = convcalc.load(str(path))
        models = loaded.values() if isinstance(loaded, convcalc.Variants) else [loaded]
        for model in models:
            try:
                plan = model.plan() if not model.symbol_names() else model.plan_symbolic()
            except convcalc.ConvcalcError:  # the examples that show an error
                continue
            steps += [step for layer in plan.layers for step in layer.steps]
    return steps


def test_equality_hash_and_repr_are_the_dataclass_ones():
    steps = _steps()
    kinds = {type(s) for s in steps}
    assert len(kinds) >= 15, sorted(k.__name__ for k in kinds)  # the examples cover most primitives
    twins = {cls: _twin(cls) for cls in kinds}

    def twin(step: ir.Primitive) -> Any:
        return twins[type(step)](**{f.name: getattr(step, f.name) for f in dataclasses.fields(step)})

    for step in steps:
        other = twin(step)
        assert repr(step) == repr(other)
        assert hash(step) == hash(other)
        assert step == dataclasses.replace(step) and not step != dataclasses.replace(step)
        with pytest.raises(dataclasses.FrozenInstanceError):
            step.kind_of_mutation = 1  # type: ignore[attr-defined]
    by_kind = {k: [s for s in steps if type(s) is k][:30] for k in kinds}
    for group in by_kind.values():
        for a, b in itertools.product(group, repeat=2):
            assert (a == b) == (twin(a) == twin(b)), (a, b)
    conv, pool = by_kind.get(ir.Conv, [None])[0], by_kind.get(ir.Pool, [None])[0]
    assert conv is not None and pool is not None and conv != pool and conv.__eq__(pool) is NotImplemented
