"""Convolution and transposed convolution, from their definitions.

Direct convolution: pad the input (zeros, reflect, replicate or circular), then for every kernel
offset take the strided slice of the input that this offset touches and multiply it by that
offset's weights — one batched matrix product per kernel offset, no Python loop over pixels.
The output length is the number of window starts that fit, counted, not computed.

Transposed convolution, twice, and the two must agree:

1. **Scatter-add** (its definition): every input element adds ``x * w[offset]`` into the output
   at ``i*s + offset*d``. The full result has ``(L-1)*s + d*(k-1) + 1`` positions per axis;
   the layer keeps positions ``[begin, full - end + output_padding)`` (zeros past the end).
2. **Dumoulin & Visin, relation 14**: stretch the input with ``s-1`` zeros between elements,
   pad it with ``k_eff-1-begin`` in front and ``k_eff-1-end+output_padding`` behind, and run a
   stride-1 convolution with the spatially flipped kernel (channels swapped per group).

MACs are the multiply-adds of the scatter form (input positions), which is also what the
definition performs; the stretched form multiplies zeros too and is only a witness.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import ExecutionError, Weights, ints, pad_axes, pairs, to_channels_first, window_starts


def conv_core(x: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Valid (unpadded) grouped convolution of a channels-first input.

    Args:
        x: input ``(B, C_in, *L)``, already padded.
        w: weights ``(groups, C_out/groups, C_in/groups, *k)``.
    Returns:
        ``(B, C_out, *O)`` and the multiply-adds performed.
    """
    out, macs = conv_channels_last(np.ascontiguousarray(np.moveaxis(x, 1, -1)), w, stride, dilation)
    return np.moveaxis(out, -1, 1), macs


def conv_channels_last(xl: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Valid grouped convolution of a channels-last input ``(B, *L, C_in)`` -> ``(B, *O, C_out)``.

    One batched matrix product per kernel offset: the strided slice of the input that the offset
    touches, ``(groups, M, C_in/g)``, times that offset's weights ``(groups, C_in/g, C_out/g)``.
    """
    g, og, cg = w.shape[:3]
    k = w.shape[3:]
    if xl.shape[-1] != g * cg:
        raise ExecutionError(f"the input has {xl.shape[-1]} channels, the weights expect {g * cg}")
    spans = [dd * (kk - 1) + 1 for kk, dd in zip(k, dilation)]
    out_len = [len(window_starts(n, span, s)) for n, span, s in zip(xl.shape[1:-1], spans, stride)]
    if min(out_len, default=1) == 0:
        raise ExecutionError(f"no window of span {spans} fits in the padded input {xl.shape[1:-1]}")
    b = xl.shape[0]
    m = b * math.prod(out_len)
    acc = np.zeros((g, m, og), dtype=np.result_type(xl, w))
    macs = 0
    for offset in itertools.product(*(range(kk) for kk in k)):
        index = (slice(None),) + tuple(
            slice(o * dd, o * dd + s * (n - 1) + 1, s) for o, dd, s, n in zip(offset, dilation, stride, out_len)
        )
        patch = xl[index].reshape(m, g, cg).transpose(1, 0, 2)  # (g, M, C_in/g)
        wo = w[(slice(None), slice(None), slice(None)) + offset].transpose(0, 2, 1)  # (g, C_in/g, C_out/g)
        acc += patch @ wo
        macs += g * m * cg * og
    return acc.transpose(1, 0, 2).reshape((b, *out_len, g * og)), macs


def conv(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Grouped, dilated, strided convolution with explicit (begin, end) pads and a padding mode."""
    rank = int(fields["rank"])
    cin, cout, g = int(fields["in_channels"]), int(fields["out_channels"]), int(fields["groups"])
    k, s, d = ints(fields["kernel"]), ints(fields["stride"]), ints(fields["dilation"])
    if cin % g or cout % g:
        raise ExecutionError(f"groups={g} must divide both {cin} input and {cout} output channels")
    x, restore = to_channels_first(inputs[0], rank, bool(fields.get("channels_last", False)))
    if x.shape[1] != cin:
        raise ExecutionError(f"expected {cin} input channels, the array has {x.shape[1]} ({inputs[0].shape})")
    # (groups, C_out/g, C_in/g, *k) is PyTorch's (C_out, C_in/g, *k) split by group.
    w = weights("weight", (g, cout // g, cin // g, *k))
    bias = weights("bias", (cout,)) if fields.get("bias", True) else None
    pads = pairs(fields["padding"])
    mode = fields.get("padding_mode", "zeros")
    if mode == "zeros" and all(b >= 0 and e >= 0 for b, e in pads):
        # Zero padding and the move to channels last in one copy.
        xl = np.zeros((x.shape[0],) + tuple(n + b + e for n, (b, e) in zip(x.shape[2:], pads)) + (cin,), x.dtype)
        xl[(slice(None),) + tuple(slice(b, b + n) for n, (b, _) in zip(x.shape[2:], pads))] = np.moveaxis(x, 1, -1)
    else:
        xl = np.ascontiguousarray(np.moveaxis(pad_axes(x, tuple(range(2, 2 + rank)), pads, mode), 1, -1))
    y, macs = conv_channels_last(xl, w, s, d)
    if bias is not None:
        y += bias
    return restore(np.moveaxis(y, -1, 1)), macs


def transpose_scatter(x: np.ndarray, w: np.ndarray, groups: int, stride: tuple[int, ...], dilation: tuple[int, ...],
                      pads: tuple[tuple[int, int], ...], extra: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Transposed convolution by scatter-add: ``x`` is ``(B, C_in, *L)``, ``w`` is
    ``(C_in, C_out/groups, *k)`` (the PyTorch/ONNX layout). Returns the output and the
    multiply-adds performed (input positions x C_in x C_out/groups x prod(k))."""
    b, cin = x.shape[:2]
    lengths = x.shape[2:]
    cg, og = cin // groups, w.shape[1]
    k = w.shape[2:]
    full = [(n - 1) * s + dd * (kk - 1) + 1 for n, s, dd, kk in zip(lengths, stride, dilation, k)]
    m = b * math.prod(lengths)
    xs = np.moveaxis(x, 1, -1).reshape(m, groups, cg).transpose(1, 0, 2)  # (g, M, C_in/g)
    wg = w.reshape((groups, cg, og) + tuple(k))
    out = np.zeros((b, *full, groups * og), dtype=np.result_type(x, w))
    macs = 0
    for offset in itertools.product(*(range(kk) for kk in k)):
        contrib = xs @ wg[(slice(None), slice(None), slice(None)) + offset]  # (g, M, C_out/g)
        contrib = contrib.transpose(1, 0, 2).reshape((b, *lengths, groups * og))
        index = (slice(None),) + tuple(
            slice(o * dd, o * dd + s * (n - 1) + 1, s) for o, dd, s, n in zip(offset, dilation, stride, lengths)
        )
        out[index] += contrib
        macs += groups * m * cg * og
    # Keep positions [begin, full - end + extra) of each axis; positions past the end are zeros.
    for ax, ((pb, pe), a, n) in enumerate(zip(pads, extra, full), start=1):
        stop = n - pe + a
        if stop - pb < 1:
            raise ExecutionError(f"the padding ({pb}, {pe}) crops all {n} positions of the transposed convolution")
        out = np.take(out, range(pb, min(stop, n)), axis=ax)
        if stop > n:
            widths = [(0, 0)] * out.ndim
            widths[ax] = (0, stop - n)
            out = np.pad(out, widths)
    return np.moveaxis(out, -1, 1), macs


def transpose_stretched(x: np.ndarray, w: np.ndarray, groups: int, stride: tuple[int, ...], dilation: tuple[int, ...],
                        pads: tuple[tuple[int, int], ...], extra: tuple[int, ...]) -> np.ndarray:
    """Dumoulin & Visin relation 14: a stride-1 convolution over the zero-stretched input."""
    b, cin = x.shape[:2]
    rank = x.ndim - 2
    lengths = x.shape[2:]
    stretched = np.zeros((b, cin) + tuple((n - 1) * s + 1 for n, s in zip(lengths, stride)), dtype=x.dtype)
    stretched[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = x
    k = w.shape[2:]
    spans = [dd * (kk - 1) + 1 for kk, dd in zip(k, dilation)]
    around = tuple((span - 1 - pb, span - 1 - pe + a) for span, (pb, pe), a in zip(spans, pads, extra))
    padded = pad_axes(stretched, tuple(range(2, 2 + rank)), around, "zeros")
    cg, og = cin // groups, w.shape[1]
    # Direct-conv weights (g, C_out/g, C_in/g, *k): swap the channel roles and flip every spatial axis.
    flipped = w.reshape((groups, cg, og) + tuple(k)).transpose((0, 2, 1) + tuple(range(3, 3 + rank)))
    flipped = flipped[(slice(None),) * 3 + (slice(None, None, -1),) * rank]
    out, _ = conv_core(padded, np.ascontiguousarray(flipped), (1,) * rank, dilation)
    return out


def conv_transpose(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Transposed convolution: computed by scatter-add and by the stretched-input construction,
    which must agree to float precision (else :class:`ExecutionError`)."""
    rank = int(fields["rank"])
    cin, cout, g = int(fields["in_channels"]), int(fields["out_channels"]), int(fields["groups"])
    k, s, d = ints(fields["kernel"]), ints(fields["stride"]), ints(fields["dilation"])
    pads, extra = pairs(fields["crops"]), ints(fields["output_padding"])
    if cin % g or cout % g:
        raise ExecutionError(f"groups={g} must divide both {cin} input and {cout} output channels")
    x, restore = to_channels_first(inputs[0], rank, bool(fields.get("channels_last", False)))
    if x.shape[1] != cin:
        raise ExecutionError(f"expected {cin} input channels, the array has {x.shape[1]} ({inputs[0].shape})")
    w = weights("weight", (cin, cout // g, *k))  # PyTorch/ONNX layout (C_in, C_out/g, *k)
    bias = weights("bias", (cout,)) if fields.get("bias", True) else None
    y, macs = transpose_scatter(x, w, g, s, d, pads, extra)
    witness = transpose_stretched(x, w, g, s, d, pads, extra)
    if witness.shape != y.shape or not np.allclose(witness, y, rtol=1e-4, atol=1e-4):
        raise ExecutionError(
            f"scatter-add {y.shape} and the stretched-input convolution {witness.shape} disagree (relation 14)"
        )
    if bias is not None:
        y = y + bias.reshape((1, cout) + (1,) * rank)
    return restore(y), macs

