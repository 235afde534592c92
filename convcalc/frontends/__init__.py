"""Frontends: one per framework, each a :class:`~convcalc.frontends._base.Registry` of ops.

``FRAMEWORKS`` maps the ``framework:`` value of a model file to its registry. :func:`lookup`
finds an op, or explains what went wrong: a close spelling in the same framework, or the
framework the op really belongs to.
"""

from __future__ import annotations

from ..errors import ArgumentError, did_you_mean
from ._base import Call, OpDef, Registry, Window, is_hidden
from .keras import KERAS, TF_KERAS
from .onnx import REG as ONNX
from .pytorch import REG as PYTORCH

FRAMEWORKS: dict[str, Registry] = {"keras": KERAS, "tf.keras": TF_KERAS, "pytorch": PYTORCH, "onnx": ONNX}
FRAMEWORK_ALIASES = {"keras3": "keras", "tf_keras": "tf.keras", "tensorflow": "tf.keras", "keras2": "tf.keras",
                     "torch": "pytorch"}


def framework_registry(name: str) -> Registry:
    """The registry for a ``framework:`` value (aliases such as ``torch`` accepted)."""
    key = FRAMEWORK_ALIASES.get(name, name)
    if key not in FRAMEWORKS:
        raise ArgumentError(
            f"unknown framework {name!r}.{did_you_mean(name, FRAMEWORKS)}".replace("..", "."),
            fix="framework: keras | tf.keras | pytorch | onnx",
            key="framework",
        )
    return FRAMEWORKS[key]


def lookup(registry: Registry, op: str) -> OpDef:
    """The op ``op`` of ``registry``, or an :class:`ArgumentError` that says what it is instead."""
    found = registry.get(op)
    if found is not None:
        return found
    elsewhere = [reg for reg in FRAMEWORKS.values() if reg is not registry and reg.get(op) is not None]
    close = did_you_mean(op, list(registry.ops) + list(registry.aliases))
    if elsewhere:
        names = " and ".join(f"{r.display} (framework: {r.framework})" for r in elsewhere[:2])
        raise ArgumentError(
            f"'{op}' is not a {registry.display} op; it belongs to {names}.{close}",
            fix=f"use the {registry.display} name, or set framework: {elsewhere[0].framework}",
            key="op",
        )
    raise ArgumentError(
        f"unknown {registry.display} op '{op}'.{close}",
        fix=f"see `convcalc ops {registry.framework}` for the {len(registry.ops)} {registry.display} ops convcalc knows",
        key="op",
    )


__all__ = ["FRAMEWORKS", "Call", "OpDef", "Registry", "Window", "framework_registry", "is_hidden", "lookup"]
