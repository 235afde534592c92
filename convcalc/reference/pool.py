"""Pooling from its definition: slide windows, count the ones that exist, reduce.

Window starts along an axis of padded length ``Lp`` with stride ``s`` and span ``k_eff``:

- floor mode: the windows that fit, ``0, s, 2s, ... <= Lp - k_eff``;
- ceil mode (PyTorch, ONNX): windows may also hang over the end by less than a stride, but a
  window must start inside the input or its left padding.

Max pooling pads with -inf; average pooling sums values and divides by how many counted cells
the window covered: input and explicit padding (``count_include_pad``, PyTorch's default) or
the input only (Keras 'same', ``count_include_pad=False``). The overhang of ceil mode never
counts. Pooling performs no multiply-adds (convcalc's convention), so MACs are 0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import ExecutionError, Weights, ints, pairs, to_channels_first


def _starts(length: int, pb: int, pe: int, span: int, stride: int, ceil_mode: bool) -> list[int]:
    padded = length + pb + pe
    if not ceil_mode:
        return list(range(0, padded - span + 1, stride))
    return [i for i in range(0, padded - span + stride, stride) if i < length + pb]


def pool(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    rank = int(fields["rank"])
    k, s, d = ints(fields["kernel"]), ints(fields["stride"]), ints(fields["dilation"])
    pads = pairs(fields["padding"])
    ceil_mode = bool(fields.get("ceil_mode", False))
    mode = fields["mode"]
    x, restore = to_channels_first(inputs[0], rank, bool(fields.get("channels_last", False)))
    spans = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
    lengths = x.shape[2:]
    starts = [_starts(n, pb, pe, span, st, ceil_mode) for n, (pb, pe), span, st in zip(lengths, pads, spans, s)]
    if any(not st for st in starts):
        raise ExecutionError(f"no pooling window of span {spans} fits in {lengths} with padding {pads}")
    out_len = [len(st) for st in starts]
    # Extend each axis so that every window's last cell exists: begin pad, then end pad or overhang.
    ends = [max(pe, st[-1] + span - (n + pb)) for st, span, n, (pb, pe) in zip(starts, spans, lengths, pads)]
    widths = [(0, 0), (0, 0)] + [(pb, e) for (pb, _), e in zip(pads, ends)]
    if mode == "max":
        padded = np.pad(x.astype(np.float64), widths, constant_values=-np.inf)
        acc = np.full(x.shape[:2] + tuple(out_len), -np.inf)
    else:
        padded = np.pad(x.astype(np.float64), widths)
        include = bool(fields.get("count_include_pad", True))
        counted = np.ones(lengths)
        # Cells that count in the divisor: the input, plus the explicit padding when included;
        # never the ceil-mode overhang.
        counted = np.pad(counted, [(pb, pe) for pb, pe in pads], constant_values=1.0 if include else 0.0)
        counted = np.pad(counted, [(0, e - pe) for (_, pe), e in zip(pads, ends)])
        acc = np.zeros(x.shape[:2] + tuple(out_len))
        count = np.zeros(tuple(out_len))
    for offset in itertools.product(*(range(kk) for kk in k)):
        index = tuple(slice(o * dd, o * dd + st * (n - 1) + 1, st) for o, dd, st, n in zip(offset, d, s, out_len))
        window = padded[(slice(None), slice(None)) + index]
        if mode == "max":
            acc = np.maximum(acc, window)
        else:
            acc += window
            count += counted[index]
    if mode == "max":
        # A dilated window can land on padding only; PyTorch pads with -inf and returns -inf there.
        return restore(acc.astype(inputs[0].dtype)), 0
    # ONNX allows pads wider than the window: a window of padding alone averages nothing (NaN,
    # as ONNX's reference implementation gives); PyTorch's pad <= kernel/2 rule prevents it.
    with np.errstate(invalid="ignore", divide="ignore"):
        return restore((acc / count).astype(inputs[0].dtype)), 0


def bins(length: int, out: int) -> list[tuple[int, int]]:
    """Adaptive pooling bins (PyTorch ``start_index``/``end_index``; Keras 3 uses the same):
    bin ``i`` covers ``[floor(i*L/O), ceil((i+1)*L/O))``."""
    return [((i * length) // out, -(-((i + 1) * length) // out)) for i in range(out)]


def adaptive_pool(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Reduce each bin; a box's max (or mean, bins being products of ranges) is taken one axis at a time."""
    rank = int(fields["rank"])
    x, restore = to_channels_first(inputs[0], rank, bool(fields.get("channels_last", False)))
    reduce = np.max if fields["mode"] == "max" else np.mean
    y = x.astype(np.float64)
    for i, size in enumerate(fields["output_size"]):
        ax = 2 + i
        n = y.shape[ax]
        o = n if size is None else int(size)
        if o < 1 or n < 1:
            raise ExecutionError(f"adaptive pooling of {n} positions into {o} bins")
        parts = [reduce(np.take(y, range(a, b), axis=ax), axis=ax, keepdims=True) for a, b in bins(n, o)]
        y = np.concatenate(parts, axis=ax)
    return restore(y.astype(inputs[0].dtype)), 0


def global_pool(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    rank = int(fields["rank"])
    last = bool(fields.get("channels_last", False))
    x = inputs[0]
    axes = tuple(range(x.ndim - rank - 1, x.ndim - 1)) if last else tuple(range(x.ndim - rank, x.ndim))
    if math.prod(x.shape[a] for a in axes) == 0:
        raise ExecutionError("global pooling over an empty input")
    reduce = np.max if fields["mode"] == "max" else np.mean
    return reduce(x, axis=axes, keepdims=bool(fields.get("keepdims", False))), 0
