"""Helpers shared by the reference ops: layouts, padding, weights. numpy and stdlib only."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


class ExecutionError(Exception):
    """The op cannot run on these arrays (the executor's own verdict, with the numbers)."""


def ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


def pairs(value: Any) -> tuple[tuple[int, int], ...]:
    return tuple((int(b), int(e)) for b, e in value)


def to_channels_first(x: np.ndarray, rank: int, channels_last: bool) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """View ``x`` as ``(B, C, *spatial)``; return it and a function that restores the layout.

    Leading batch axes (none for an unbatched input, several for tf.keras) fold into ``B``.
    """
    if x.ndim < rank + 1:
        raise ExecutionError(f"a {rank}-D op needs at least {rank + 1} axes, got an array of shape {x.shape}")
    if channels_last:
        x = np.moveaxis(x, -1, x.ndim - rank - 1)
    lead = x.shape[: x.ndim - rank - 1]
    folded = x.reshape((math.prod(lead),) + x.shape[x.ndim - rank - 1:])

    def restore(y: np.ndarray) -> np.ndarray:
        y = y.reshape(lead + y.shape[1:])
        if channels_last:
            y = np.moveaxis(y, y.ndim - rank - 1, -1)
        return y

    return folded, restore


NUMPY_PAD_MODE = {"zeros": "constant", "constant": "constant", "reflect": "reflect", "replicate": "edge",
                  "circular": "wrap"}


def pad_axes(x: np.ndarray, axes: tuple[int, ...], pads: tuple[tuple[int, int], ...], mode: str = "zeros",
             value: float = 0.0, *, limits: bool = True) -> np.ndarray:
    """Pad (or, with negative amounts, crop) the given axes. Modes: zeros/constant, reflect,
    replicate, circular — numpy's constant, reflect, edge and wrap.

    ``limits``: PyTorch's rules (reflect pad < size, circular pad <= size). Without them (ONNX,
    whose spec states none) numpy reflects and wraps as often as needed."""
    # Crop first (negative pads), then pad what is positive.
    index = [slice(None)] * x.ndim
    for ax, (b, e) in zip(axes, pads):
        start = -b if b < 0 else 0
        stop = x.shape[ax] + e if e < 0 else x.shape[ax]
        if stop - start < 0:
            raise ExecutionError(f"cropping ({-min(b, 0)}, {-min(e, 0)}) is more than axis {ax} of size {x.shape[ax]}")
        index[ax] = slice(start, stop)
    x = x[tuple(index)]
    widths = [(0, 0)] * x.ndim
    for ax, (b, e) in zip(axes, pads):
        widths[ax] = (max(b, 0), max(e, 0))
    if all(w == (0, 0) for w in widths):
        return x
    npmode = NUMPY_PAD_MODE[mode]
    for ax, (b, e) in zip(axes, pads):
        if not limits:
            break
        if npmode in ("reflect",) and (b >= x.shape[ax] or e >= x.shape[ax]):
            raise ExecutionError(f"reflect padding ({b}, {e}) needs more than the {x.shape[ax]} elements of axis {ax}")
        if npmode in ("wrap",) and (b > x.shape[ax] or e > x.shape[ax]):
            raise ExecutionError(f"circular padding ({b}, {e}) wraps more than once around axis {ax} of {x.shape[ax]}")
        if npmode != "constant" and x.shape[ax] == 0:
            raise ExecutionError(f"cannot {mode}-pad an empty axis {ax}")
    if npmode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode=npmode)


def window_starts(length: int, span: int, stride: int) -> range:
    """Start positions of the windows of ``span`` that fit in ``length``: 0, s, 2s, ..."""
    return range(0, length - span + 1, stride)


class Weights:
    """The weights an op allocates, by name: drawn at random, or taken from ``given`` (to compare
    values with a framework that holds the same weights). ``allocated`` keeps every array, so
    an op's parameter count is the number of elements it really allocated."""

    def __init__(self, rng: np.random.Generator, given: Mapping[str, np.ndarray] | None = None) -> None:
        self.rng = rng
        self.given = dict(given or {})
        self.allocated: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...], *, positive: bool = False) -> np.ndarray:
        if name in self.given:
            array = np.asarray(self.given[name], dtype=np.float32)
            if array.shape != tuple(shape):
                raise ExecutionError(f"the given {name} has shape {array.shape}, the op needs {tuple(shape)}")
        elif positive:
            array = self.rng.uniform(0.5, 1.5, shape).astype(np.float32)
        else:
            # Scaled so that activations stay O(1) through deep models; drawn in float32 directly
            # (a float64 draw and a cast took a third of `check` on ResNet-50 at 224).
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
            array = self.rng.standard_normal(shape, dtype=np.float32)
            array *= np.float32(1 / math.sqrt(max(fan_in, 1)))
        self.allocated[name] = array
        return array

    @property
    def count(self) -> int:
        return sum(a.size for a in self.allocated.values())


