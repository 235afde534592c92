"""The reference executor: run a planned layer on real arrays, from the definitions.

This package is convcalc's independent witness. It imports numpy and the standard library
only — nothing from the rest of convcalc, and never sympy (a test scans its imports) — and it
never computes an output size from a formula: it pads, stretches and slides windows over real
arrays and *counts* the windows that fit, the multiply-adds it performs and the weight elements
it allocates. :mod:`convcalc.check` is the only module that sees both this package and the
engine, and it only compares.

It is driven with plain data: an op ``kind`` (the IR kind names, e.g. ``"conv"``), a mapping of
concrete fields (ints, tuples, strings, floats — what ``dataclasses.asdict`` of an IR primitive
gives, with ``same_*`` padding already turned into explicit pads), and input arrays::

    >>> import numpy as np
    >>> from convcalc.reference import run
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    >>> fields = dict(rank=2, in_channels=3, out_channels=4, kernel=(3, 3), stride=(2, 2), dilation=(1, 1),
    ...               padding=((1, 1), (1, 1)), groups=1, bias=True, channels_last=False, padding_mode="zeros")
    >>> result = run("conv", fields, [x], rng)
    >>> result.output.shape, result.macs, result.params
    ((1, 4, 4, 4), 1728, 112)

Layouts: spatial layers know their ``rank`` and ``channels_last``; the spatial axes are counted
from the end, so leading batch axes of any number are folded into one and restored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import ExecutionError, Weights
from .conv import conv, conv_transpose
from .ops import (
    activation,
    concat,
    constant_operand,
    crop,
    crop_to,
    dense,
    elementwise,
    flatten,
    gather,
    identity,
    matmul,
    norm,
    pad,
    per_sample_conv,
    permute,
    pixel_shuffle,
    reduce,
    reshape,
    resize,
    resize_to,
    slice_,
    split,
    stored,
)
from .pool import adaptive_pool, global_pool, pool


@dataclass(frozen=True)
class Executed:
    """What running one op gave: the output array (``outputs``: all of them, for an op with
    several), the multiply-adds performed, and the weights it allocated by name (``params``
    counts their elements, trainable and non-trainable alike)."""

    output: np.ndarray
    macs: int
    weights: Mapping[str, np.ndarray]
    outputs: tuple[np.ndarray, ...] = ()

    @property
    def params(self) -> int:
        return sum(int(w.size) for w in self.weights.values())


Op = Callable[[Mapping[str, Any], Sequence[np.ndarray], Weights], "tuple[np.ndarray, int]"]

OPS: dict[str, Op] = {
    "conv": conv,
    "conv_transpose": conv_transpose,
    "pool": pool,
    "adaptive_pool": adaptive_pool,
    "global_pool": global_pool,
    "pad": pad,
    "crop": crop,
    "crop_to": crop_to,
    "resize": resize,
    "flatten": flatten,
    "reshape": reshape,
    "permute": permute,
    "concat": concat,
    "elementwise": elementwise,
    "dense": dense,
    "norm": norm,
    "activation": activation,
    "identity": identity,
    "pixel_shuffle": pixel_shuffle,
    "per_sample_conv": per_sample_conv,
    "split": split,
    "constant_operand": constant_operand,
    "reduce": reduce,
    "slice": slice_,
    "gather": gather,
    "resize_to": resize_to,
    "matmul": matmul,
    "stored": stored,
}


def run(
    kind: str,
    fields: Mapping[str, Any],
    inputs: Sequence[np.ndarray],
    rng: np.random.Generator,
    weights: Mapping[str, np.ndarray] | None = None,
) -> Executed:
    """Run one op on ``inputs``; raise :class:`ExecutionError` when the op cannot run on these
    arrays (no window fits, shapes that do not merge, ...).

    Weights are drawn from ``rng``, except those named in ``weights`` (e.g. ``{"weight": w}``
    in the executor's layouts: conv ``(groups, C_out/g, C_in/g, *k)``, transposed conv
    ``(C_in, C_out/g, *k)``, dense ``(in, out)``, norm ``gamma``/``beta``/``moving_mean``/
    ``moving_variance`` over its axes, PReLU ``alpha``).
    """
    if kind not in OPS:
        raise ExecutionError(f"the reference executor has no op {kind!r}")
    allocator = Weights(rng, weights)
    output, macs = OPS[kind](fields, inputs, allocator)
    outputs = tuple(np.asarray(o) for o in output) if isinstance(output, (list, tuple)) else (np.asarray(output),)
    return Executed(outputs[0], int(macs), dict(allocator.allocated), outputs)


__all__ = ["OPS", "Executed", "ExecutionError", "run"]
