"""The other reference ops: padding and cropping, resizing, reshaping, merging, dense layers,
normalisation, activations. Each allocates the weights its definition needs and counts them;
only ``dense`` performs multiply-adds (convcalc's convention: normalisation and activations are
not MACs)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import ExecutionError, Weights, pad_axes, pairs, to_channels_first

# --------------------------------------------------------------------------- padding, cropping


def pad(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    x = inputs[0]
    p = pairs(fields["widths"])
    if len(p) != x.ndim:
        raise ExecutionError(f"{len(p)} padding pairs for an array of {x.ndim} axes")
    y = pad_axes(x, tuple(range(x.ndim)), p, fields.get("mode", "constant"), float(fields.get("value", 0.0)),
                 limits=bool(fields.get("limits", True)))
    if 0 in y.shape:
        raise ExecutionError(f"padding {p} leaves an empty array {y.shape}")
    return y, 0


def crop(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    x = inputs[0]
    index = []
    for n, (b, e) in zip(x.shape, pairs(fields["crops"])):
        if b + e >= n:
            raise ExecutionError(f"cropping ({b}, {e}) leaves nothing of an axis of {n}")
        index.append(slice(b, n - e))
    return x[tuple(index)], 0


def crop_to(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Centre-crop the spatial axes of the first array to the second's sizes (the odd element
    goes at the end)."""
    rank = int(fields["rank"])
    last = bool(fields.get("channels_last", False))
    x, ref = inputs
    axes_x = range(x.ndim - rank - 1, x.ndim - 1) if last else range(x.ndim - rank, x.ndim)
    axes_r = range(ref.ndim - rank - 1, ref.ndim - 1) if last else range(ref.ndim - rank, ref.ndim)
    index = [slice(None)] * x.ndim
    for ax, ar in zip(axes_x, axes_r):
        extra = x.shape[ax] - ref.shape[ar]
        if extra < 0:
            raise ExecutionError(f"cannot crop {x.shape[ax]} down to {ref.shape[ar]}")
        index[ax] = slice(extra // 2, extra // 2 + ref.shape[ar])
    return x[tuple(index)], 0


def per_sample_conv(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Sample n's channel m slid against sample n's kernel channel m (cross-correlation), one
    vectorised multiply-add over (N, M) per kernel offset; modes valid / same / full."""
    import itertools

    rank = int(fields["rank"])
    last = bool(fields.get("channels_last", True))
    x, k = inputs
    if last:
        x, k = np.moveaxis(x, -1, 1), np.moveaxis(k, -1, 1)
    if x.shape[:2] != k.shape[:2]:
        raise ExecutionError(f"signals {x.shape} and kernels {k.shape} differ in samples or channels")
    ks = k.shape[2:]
    mode = fields.get("mode", "valid")
    if mode == "valid":
        pads = [(0, 0)] * rank
    elif mode == "full":
        pads = [(n - 1, n - 1) for n in ks]
    else:
        pads = [((n - 1) // 2, n - 1 - (n - 1) // 2) for n in ks]
    xp = pad_axes(x, tuple(range(2, 2 + rank)), tuple(pads))
    out_len = [n - kk + 1 for n, kk in zip(xp.shape[2:], ks)]
    if min(out_len) < 1:
        raise ExecutionError(f"a kernel of {ks} does not fit in the padded signal {xp.shape[2:]}")
    out = np.zeros(x.shape[:2] + tuple(out_len), dtype=np.result_type(x, k))
    macs = 0
    for offset in itertools.product(*(range(n) for n in ks)):
        window = xp[(slice(None), slice(None)) + tuple(slice(o, o + n) for o, n in zip(offset, out_len))]
        out += window * k[(slice(None), slice(None)) + offset].reshape(k.shape[:2] + (1,) * rank)
        macs += out.size
    return (np.moveaxis(out, 1, -1) if last else out), macs


# --------------------------------------------------------------------------- resizing


def _source_index(n_in: int, n_out: int, scale: float | None, mode: str, align_corners: bool) -> np.ndarray:
    """Where output position j reads from, in input coordinates (PyTorch's conventions)."""
    j = np.arange(n_out, dtype=np.float64)
    ratio = (1.0 / scale) if scale else n_in / n_out  # PyTorch uses 1/scale_factor when it is given
    if mode in ("nearest",):
        return np.minimum(np.floor(j * ratio), n_in - 1)
    if mode == "nearest-exact":
        return np.minimum(np.floor((j + 0.5) * ratio), n_in - 1)
    if align_corners:
        return j * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    return np.maximum((j + 0.5) * ratio - 0.5, 0.0)


def resize(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Nearest or (bi/tri)linear resizing, one spatial axis at a time. Output sizes are the
    given ``sizes`` or ``floor(L * scale)`` (double precision, as PyTorch). Other modes (area,
    cubic, lanczos, ...) are resized linearly: right shape, approximate values."""
    rank = int(fields["rank"])
    x, restore = to_channels_first(inputs[0], rank, bool(fields.get("channels_last", False)))
    mode = str(fields.get("mode", "nearest")).lower()
    nearest = mode in ("nearest", "nearest-exact")
    y = x.astype(np.float64)
    for i in range(rank):
        ax = 2 + i
        n_in = y.shape[ax]
        scale = None
        if fields.get("sizes") is not None:
            n_out = int(fields["sizes"][i])
        else:
            scale = float(fields["scales"][i])
            n_out = math.floor(float(n_in) * scale)
        if n_out < 1:
            raise ExecutionError(f"resizing {n_in} positions gives {n_out}")
        src = _source_index(n_in, n_out, scale, mode if nearest else "linear", bool(fields.get("align_corners", False)))
        if nearest:
            y = np.take(y, src.astype(np.int64), axis=ax)
            continue
        lo = np.floor(src).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        frac = (src - lo).reshape((-1,) + (1,) * (y.ndim - ax - 1))
        y = np.take(y, lo, axis=ax) * (1 - frac) + np.take(y, hi, axis=ax) * frac
    return restore(y.astype(inputs[0].dtype)), 0


# --------------------------------------------------------------------------- reshaping


def resize_to(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Resize the first input to the spatial sizes of the second."""
    rank = int(fields["rank"])
    ref, _ = to_channels_first(inputs[1], rank, bool(fields.get("channels_last", False)))
    return resize({**fields, "sizes": tuple(ref.shape[2:]), "scales": None}, inputs[:1], weights)


def flatten(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    x = inputs[0]
    if x.ndim == 0:
        return x.reshape(1), 0
    a, b = int(fields["start"]) % x.ndim, int(fields["end"]) % x.ndim
    if a > b:
        raise ExecutionError(f"flatten from axis {a} to {b}")
    return x.reshape(x.shape[:a] + (math.prod(x.shape[a:b + 1]),) + x.shape[b + 1:]), 0


def reshape(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    try:
        return inputs[0].reshape(tuple(int(d) for d in fields["target"])), 0
    except ValueError as e:
        raise ExecutionError(f"cannot reshape {inputs[0].shape} into {tuple(fields['target'])}: {e}") from None


def permute(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    return np.transpose(inputs[0], tuple(int(p) for p in fields["perm"])), 0


def pixel_shuffle(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """``(*, C*r*r, H, W) <-> (*, C, H*r, W*r)``, PyTorch's element order."""
    x, r = inputs[0], int(fields["factor"])
    *lead, c, h, w = x.shape
    if not fields.get("inverse", False):
        if c % (r * r):
            raise ExecutionError(f"{c} channels do not split into {r}x{r}")
        y = x.reshape(*lead, c // (r * r), r, r, h, w)
        n = len(lead)
        y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
        return y.reshape(*lead, c // (r * r), h * r, w * r), 0
    if h % r or w % r:
        raise ExecutionError(f"{h}x{w} does not split into {r}x{r} blocks")
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r), 0


# --------------------------------------------------------------------------- merging


def concat(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    try:
        return np.concatenate(list(inputs), axis=int(fields["axis"])), 0
    except ValueError as e:
        raise ExecutionError(f"cannot concatenate {[a.shape for a in inputs]}: {e}") from None


_MERGE = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
          "maximum": np.maximum, "minimum": np.minimum}


def elementwise(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    op = fields["op"]
    shapes = [a.shape for a in inputs]
    if not fields.get("broadcast", True) and len(set(shapes)) > 1:
        raise ExecutionError(f"element-wise {op} of different shapes {shapes}")
    try:
        if op == "average":
            return sum(inputs[1:], inputs[0]) / len(inputs), 0
        out = inputs[0]
        for other in inputs[1:]:
            out = _MERGE[op](out, other)
        return out, 0
    except ValueError as e:
        raise ExecutionError(f"cannot {op} {shapes}: {e}") from None


# --------------------------------------------------------------------------- dense, normalisation, activations


def dense(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    x = inputs[0]
    fin, fout = int(fields["in_features"]), int(fields["out_features"])
    if x.shape[-1] != fin:
        raise ExecutionError(f"the last axis has {x.shape[-1]} features, the weights expect {fin}")
    w = weights("weight", (fin, fout))  # (in, out): rows @ weight; PyTorch stores the transpose
    rows = x.reshape(-1, fin)
    y = rows @ w
    if fields.get("bias", True):
        y = y + weights("bias", (fout,))
    return y.reshape(x.shape[:-1] + (fout,)), rows.shape[0] * fin * fout


def norm(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Inference-mode normalisation. Batch norm uses (random) stored statistics; layer, group and
    instance norm compute theirs from the input. Allocates gamma/beta over ``axes`` when
    ``scale``/``center``, and moving mean/variance when ``moving_stats`` (Keras and ONNX count them)."""
    x = inputs[0].astype(np.float64)
    kind = fields["norm_kind"]
    axes = tuple(int(a) % x.ndim for a in fields["axes"])
    eps = float(fields.get("epsilon", 1e-5))
    param_shape = tuple(x.shape[a] if a in axes else 1 for a in range(x.ndim))
    stats_shape = tuple(x.shape[a] for a in axes)
    if kind == "batch":
        # Inference: stored statistics. Keras and ONNX count them as (non-trainable) weights;
        # PyTorch keeps them as buffers, which the executor draws without counting.
        store = weights if fields.get("moving_stats", False) else Weights(weights.rng)
        mean = store("moving_mean", stats_shape).reshape(param_shape)
        var = store("moving_variance", stats_shape, positive=True).reshape(param_shape)
        y = (x - mean) / np.sqrt(var + eps)
    elif kind == "normalization":
        # Keras Normalization: adapted statistics (mean, variance, count) are non-trainable
        # weights; statistics given as constants are not weights.
        store = weights if fields.get("non_trainable", 0) else Weights(weights.rng)
        mean = store("mean", stats_shape).reshape(param_shape)
        var = store("variance", stats_shape, positive=True).reshape(param_shape)
        if fields.get("non_trainable", 0):
            store("count", (1,))
        y = (x - mean) / np.sqrt(var + eps)
    elif kind == "layer":
        y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    elif kind in ("group", "instance"):
        (ch,) = axes
        c = x.shape[ch]
        g = int(fields.get("groups", 1)) if kind == "group" else c
        if c % g:
            raise ExecutionError(f"{c} channels do not split into {g} groups")
        sample = np.moveaxis(x, ch, 1) if ch != 0 else x[None]  # (N, C, ...); ch 0 is an unbatched input
        grouped = sample.reshape(sample.shape[0], g, -1)
        if grouped.shape[-1] < 2 and kind == "instance":
            raise ExecutionError("instance normalisation of one value per channel")
        normed = (grouped - grouped.mean(-1, keepdims=True)) / np.sqrt(grouped.var(-1, keepdims=True) + eps)
        normed = normed.reshape(sample.shape)
        y = np.moveaxis(normed, 1, ch) if ch != 0 else normed[0]
    else:
        raise ExecutionError(f"unknown normalisation {kind!r}")
    if fields.get("scale", True):
        y = y * weights("gamma", stats_shape).reshape(param_shape)
    if fields.get("center", True):
        y = y + weights("beta", stats_shape).reshape(param_shape)
    return y.astype(inputs[0].dtype), 0


def _gelu(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


ACTIVATIONS = {
    "relu": lambda x, f: np.maximum(x, 0) if not f.get("alpha") else np.where(x > 0, x, x * float(f["alpha"])),
    "relu6": lambda x, f: np.clip(x, 0, 6),
    "leaky_relu": lambda x, f: np.where(x > 0, x, x * float(f.get("alpha") or 0.01)),
    "elu": lambda x, f: np.where(x > 0, x, float(f.get("alpha") or 1.0) * np.expm1(np.minimum(x, 0))),
    "selu": lambda x, f: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0))),
    "sigmoid": lambda x, f: 1 / (1 + np.exp(-x)),
    "hard_sigmoid": lambda x, f: np.clip(x / 6 + 0.5, 0, 1),
    "tanh": lambda x, f: np.tanh(x),
    "silu": lambda x, f: x / (1 + np.exp(-x)),
    "swish": lambda x, f: x / (1 + np.exp(-x)),
    "hard_swish": lambda x, f: x * np.clip(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x, f: x * np.clip(x / 6 + 0.5, 0, 1),
    "gelu": lambda x, f: _gelu(x),
    "mish": lambda x, f: x * np.tanh(np.logaddexp(0, x)),
    "softplus": lambda x, f: np.logaddexp(0, x),
    "softsign": lambda x, f: x / (1 + np.abs(x)),
    "exponential": lambda x, f: np.exp(np.minimum(x, 50)),
    "linear": lambda x, f: x,
}


def _softmax(x: np.ndarray, axis: int, log: bool = False) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    if log:
        return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def activation(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    x = inputs[0].astype(np.float64)
    fn = fields["fn"]
    if fn in ("softmax", "log_softmax"):
        y = _softmax(x, int(fields.get("axis", -1)), log=fn == "log_softmax")
    elif fn == "prelu":
        shape = tuple(int(d) for d in fields.get("param_shape", ()) or (1,))
        alpha = weights("alpha", shape).astype(np.float64)
        tail = x.shape[1:]
        if len(shape) > len(tail) or any(a not in (1, b) for a, b in zip(shape, tail[: len(shape)])):
            raise ExecutionError(f"PReLU slopes of shape {shape} do not broadcast over {x.shape}")
        a = alpha.reshape((1,) + shape + (1,) * (len(tail) - len(shape)))
        y = np.where(x > 0, x, x * a)
    elif fn in ACTIVATIONS:
        y = ACTIVATIONS[fn](x, fields)
    else:  # other smooth activations: the shape is what matters here
        y = np.tanh(x)
    if fields.get("max_value") is not None:
        y = np.minimum(y, float(fields["max_value"]))
    return y.astype(inputs[0].dtype), 0


def identity(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Dropout at inference, ``Identity``."""
    return inputs[0], 0


def split(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[list[np.ndarray], int]:
    """Cut the input along ``axis`` into consecutive pieces of ``sizes`` (several outputs)."""
    x = inputs[0]
    axis = int(fields["axis"]) % x.ndim
    sizes = [int(s) for s in fields["sizes"]]
    if sum(sizes) != x.shape[axis] or any(s < 0 for s in sizes):
        raise ExecutionError(f"cannot split an axis of {x.shape[axis]} into {sizes}")
    bounds = np.cumsum(sizes)[:-1].tolist()
    return list(np.split(x, bounds, axis=axis)), 0


def constant_operand(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """``x op t`` with a tensor ``t`` of ``shape``: a weight when ``learned``, else a constant."""
    shape = tuple(int(d) for d in fields["shape"])
    other = weights("weight", shape) if fields.get("learned") else np.full(shape, 0.5, np.float32)
    try:
        return _MERGE[fields["op"]](inputs[0], other), 0
    except ValueError as e:
        raise ExecutionError(f"cannot {fields['op']} {inputs[0].shape} and {shape}: {e}") from None


_REDUCE = {"mean": np.mean, "sum": np.sum, "max": np.max, "min": np.min}


def reduce(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    x = inputs[0]
    axes = tuple(sorted({int(a) % x.ndim for a in fields["axes"]}))
    return _REDUCE[fields["op"]](x, axis=axes, keepdims=bool(fields.get("keepdims", True))), 0


def matmul(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """numpy's matmul; the multiply-adds counted from the operands' shapes as they multiply."""
    a, b = inputs
    try:
        out = np.matmul(a, b)
    except ValueError as e:
        raise ExecutionError(f"cannot multiply {a.shape} by {b.shape}: {e}") from None
    return out, int(out.size) * int(a.shape[-1])


def stored(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """A stored tensor: its weights (``elements`` of them) drawn and counted; the array itself zeros."""
    if int(fields.get("elements", 0)):
        weights("weight", (int(fields["elements"]),))
    return np.zeros(tuple(int(d) for d in fields["shape"]), np.float32), 0


def gather(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    """Entries along ``axis`` at indices of ``indices_shape`` (the last entry, everywhere)."""
    x = inputs[0]
    axis = int(fields["axis"]) % x.ndim
    indices = np.full(tuple(int(d) for d in fields["indices_shape"]), x.shape[axis] - 1, dtype=np.int64)
    return np.take(x, indices, axis=axis), 0


def slice_(fields: Mapping[str, Any], inputs: Sequence[np.ndarray], weights: Weights) -> tuple[np.ndarray, int]:
    x = inputs[0]
    index = [slice(None)] * x.ndim
    for a, start, end, step in zip(fields["axes"], fields["starts"], fields["ends"], fields["steps"]):
        index[int(a) % x.ndim] = slice(start, end, step)
    out = x[tuple(index)]
    if out.size == 0:
        raise ExecutionError(f"the slice leaves an empty array {out.shape}")
    return out, 0
