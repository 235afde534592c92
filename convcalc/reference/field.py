"""Receptive fields measured by the executor's own window walks (issue 13).

Which input pixels can change an output element? With every weight positive, max pooling
replaced by average pooling and the activations positive, an output depends on exactly the
input pixels its windows reach through real (not padded) elements — the support of its
gradient, found here without a backward pass: a boolean "depends on" matrix per spatial axis
(output position x input pixel) is carried forward through every layer by the same index walks
the executor computes with (``window_starts``, the pooling window starts, the adaptive bins,
the resize source index, the transposed scatter). Fields are separable: an element's field is
the product of its per-axis supports.

Each function takes one axis's matrix ``m`` (positions of the op's input x input pixels) and
the op's plain integer arguments, and returns the matrix of the op's output; ``convcalc.check``
walks the plan with them. This is a measurement, independent of the closed forms in
``convcalc.receptive``; ``convcalc check --rf`` compares the two for the centre and the corners
of every spatial layer's output.
"""

from __future__ import annotations

import numpy as np

from ._common import window_starts
from .ops import _source_index
from .pool import _starts, bins

MAX_CELLS = 50_000_000  # booleans one axis matrix may hold (positions x taps x input pixels)


def conv_support(m: np.ndarray, k: int, s: int, d: int, pb: int, pe: int) -> np.ndarray:
    """A convolution's windows: the executor's ``window_starts`` over the padded axis."""
    starts = np.array(window_starts(m.shape[0] + pb + pe, d * (k - 1) + 1, s))
    return _gather(m, starts[:, None] + np.arange(k) * d - pb)


def pool_support(m: np.ndarray, k: int, s: int, d: int, pb: int, pe: int, ceil_mode: bool) -> np.ndarray:
    """A pooling's windows (max measured as average: the same windows), ceil mode included."""
    starts = np.array(_starts(m.shape[0], pb, pe, d * (k - 1) + 1, s, ceil_mode))
    return _gather(m, starts[:, None] + np.arange(k) * d - pb)


def transposed_support(m: np.ndarray, out_len: int, k: int, s: int, d: int, crop: int) -> np.ndarray:
    """A transposed convolution's scatter: input ``i`` adds into full position ``i*s + t*d``,
    of which the layer keeps positions from ``crop`` on (the executor's slices)."""
    out = np.zeros((out_len, m.shape[1]), dtype=bool)
    for t in range(k):
        pos = np.arange(m.shape[0]) * s + t * d - crop
        ok = (pos >= 0) & (pos < out_len)
        out[pos[ok]] |= m[ok]
    return out


def bins_support(m: np.ndarray, out_len: int) -> np.ndarray:
    """Adaptive pooling: the executor's bins."""
    return np.stack([m[a:b].any(0) for a, b in bins(m.shape[0], out_len)])


def whole_support(m: np.ndarray, out_len: int = 1) -> np.ndarray:
    """Every position of the axis mixed (global pooling, a norm's statistics over it)."""
    return np.broadcast_to(m.any(0), (out_len, m.shape[1])).copy()


def shift_support(m: np.ndarray, out_len: int, offset: int) -> np.ndarray:
    """Padding (``offset`` < 0: output ``o`` is input ``o + offset``, zeros outside) or cropping."""
    return _gather(m, (np.arange(out_len) + offset)[:, None])


def resize_support(m: np.ndarray, out_len: int, scale: float | None, mode: str, align_corners: bool) -> np.ndarray:
    """Resizing by the executor's source index: one tap (nearest) or two (linear; a tap whose
    weight is 0, where the source falls on an element, is no dependency)."""
    n_in = m.shape[0]
    nearest = mode in ("nearest", "nearest-exact")
    src = _source_index(n_in, out_len, scale, mode if nearest else "linear", align_corners)
    lo = np.floor(src).astype(np.int64)
    if nearest:
        return m[lo]
    hi = np.minimum(lo + 1, n_in - 1)
    # the second tap weighs src - lo: exactly 0 where the formula's source falls on an element
    # (1e-9: what float64 leaves of an exact 0, e.g. 1.5 * (1/3) - 0.5)
    return m[lo] | (m[hi] & (src - lo > 1e-9)[:, None])


def repeat_support(m: np.ndarray, factor: int) -> np.ndarray:
    """Pixel shuffle: each input position becomes ``factor`` neighbouring outputs."""
    return np.repeat(m, factor, axis=0)


def _gather(m: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` (positions x taps) of ``m`` OR-ed over the taps; out-of-range rows (padding)
    contribute nothing."""
    if idx.size * m.shape[1] > MAX_CELLS:
        raise ValueError(f"the field measurement would hold {idx.size * m.shape[1]:,} cells; check smaller sizes")
    ok = (idx >= 0) & (idx < m.shape[0])
    rows = m[np.clip(idx, 0, max(m.shape[0] - 1, 0))] & ok[..., None]
    return rows.any(axis=1)


def support_box(row: np.ndarray) -> tuple[int, int] | None:
    """The first and last input pixel one output position depends on (``None``: none)."""
    hit = np.flatnonzero(row)
    return (int(hit[0]), int(hit[-1])) if hit.size else None


__all__ = ["bins_support", "conv_support", "pool_support", "repeat_support", "resize_support", "shift_support",
           "support_box", "transposed_support", "whole_support"]
