"""Keras 3 (``framework: keras``) and tf.keras / Keras 2 (``framework: tf.keras``) vocabulary.

Layers take their own constructor arguments (``filters``, ``kernel_size``, ``strides``,
``padding``, ``dilation_rate``, ``data_format``, ``use_bias``, ``activation``, ...). Shapes
include the batch axis; ``data_format`` defaults to ``channels_last``.

Where the two differ (conventions.md §1.2, §8, trap 6):

- tf.keras ``Conv1D/2D/3D`` and ``SeparableConv*D`` accept extra leading batch axes
  (``batch_rank = ndim - rank - 1``); Keras 3 rejects them ("Kernel shape must have the same
  length as input").
- ``padding='causal'``: Keras 3 only on ``Conv1D``; tf.keras also on ``SeparableConv1D``.
- Adaptive pooling layers exist only in Keras 3 (3.15); tf.keras ``LeakyReLU`` takes ``alpha``,
  Keras 3 ``negative_slope``.

Both count BatchNormalization's moving mean and variance as non-trainable parameters (§5), and a
layer built with ``trainable: false`` has only non-trainable parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .. import formulas as F
from ..dims import Dim, fmt_dim, fmt_shape, is_concrete, norm, prod
from ..errors import ConvcalcError, Reason, ShapeError, did_you_mean
from ..ir import (
    Activation,
    AdaptivePool,
    Checks,
    Concat,
    ConstantOperand,
    Conv,
    ConvTranspose,
    Crop,
    Dense,
    Elementwise,
    Flatten,
    GlobalPool,
    Identity,
    Norm,
    Pad,
    Permute,
    Pool,
    Primitive,
    Reshape,
    Resize,
    axis_name,
    layout,
)
from ._base import (
    OPAQUE_ARGS,
    REQUIRED,
    Call,
    Registry,
    Window,
    binary_builder,
    crop_to_builder,
    keys,
    opaque_builder,
    per_sample_conv_builder,
)
from ._base import channels_last as layout_of


def frozen_layer(args: Mapping[str, Any], trainable: Dim, non_trainable: Dim) -> tuple[Dim, Dim]:
    """Keras' count: a layer built with ``trainable=False`` has only non-trainable weights."""
    if args.get("trainable") is False:
        return 0, norm(trainable + non_trainable)
    return trainable, non_trainable


KERAS = Registry("keras", "Keras 3", param_convention=frozen_layer)  # hint: layout_hint, set below

# Window arguments as solve --layer searches them (Keras spells padding as a mode only).
CONV_WINDOW = Window("kernel_size", "strides", modes=("valid", "same"), mode_key="padding", dilation="dilation_rate")
CONV1D_WINDOW = dataclasses.replace(CONV_WINDOW, modes=("valid", "same", "causal"))
CONV_T_WINDOW = Window("kernel_size", "strides", modes=("valid", "same"), mode_key="padding", dilation="dilation_rate",
                       extra="output_padding", extra_none=True)
POOL_WINDOW = Window("pool_size", "strides", modes=("valid", "same"), mode_key="padding")

BASE = keys("name", "dtype", "autocast", "activity_regularizer", "input_shape", "input_dim", "batch_size", "dynamic")
BASE["trainable"] = True
INIT = keys(
    "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer", "kernel_constraint",
    "bias_constraint",
)
CONV_KEYS = {
    "filters": REQUIRED,
    "kernel_size": REQUIRED,
    "strides": 1,
    "padding": "valid",
    "data_format": None,
    "dilation_rate": 1,
    "groups": 1,
    "activation": None,
    "use_bias": True,
    "lora_rank": None,
    "lora_alpha": None,
    **INIT,
    **BASE,
}

# Keras activation identifiers (keras.activations); "linear" and None add nothing.
ACTIVATIONS = {
    "relu", "relu6", "sigmoid", "softmax", "tanh", "elu", "selu", "softplus", "softsign", "swish", "silu",
    "gelu", "exponential", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "log_softmax", "mish",
    "celu", "glu", "sparse_plus", "squareplus", "tanh_shrink", "hard_tanh", "hard_shrink", "soft_shrink",
    "log_sigmoid", "sparsemax", "threshold", "linear",
}


def is_tf(call: Call) -> bool:
    return call.op.framework == "tf.keras"


def channels_last(call: Call) -> bool:
    """Keras layouts: ``data_format`` when given, channels last by default."""
    return layout_of(call, True)


def activation(call: Call, key: str = "activation") -> list[Primitive]:
    """The primitive for ``activation=...`` (nothing for None / 'linear')."""
    v = call.raw(key)
    if v is None:
        return []
    if not isinstance(v, str) or v.lower() not in ACTIVATIONS:
        hint = did_you_mean(v, sorted(ACTIVATIONS)) if isinstance(v, str) else ""
        raise call.fail(key, f"Could not interpret activation function identifier: {v!r}.{hint}".replace("..", "."))
    v = v.lower()
    return [] if v == "linear" else [Activation(fn=v, axis=-1 if channels_last(call) else 1)]


def require_rank(call: Call, rank: int, *, extra_batch_ok: bool = False) -> None:
    """Keras ``InputSpec(ndim=rank+2)`` (or ``min_ndim`` where tf.keras allows extra batch axes)."""
    n, want = len(call.x), rank + 2
    lay = "(batch, " + ", ".join(_spatial_names(rank)) + ", channels)"
    if n == want or (extra_batch_ok and n > want):
        return
    if n > want and not is_tf(call) and call.op.name.startswith(("Conv", "SeparableConv", "DepthwiseConv")):
        raise ShapeError(
            f"Keras 3 {call.op.name} needs a {want}-D input {lay}, got {n}-D {fmt_shape(call.x)}; Keras 3 rejects "
            f"extra leading batch axes ('Kernel shape must have the same length as input'), which tf.keras accepts",
            reason=Reason.RANK,
            fix="use framework: tf.keras, wrap the layer in TimeDistributed, or Reshape to merge the leading axes",
        )
    kind = "min_ndim" if extra_batch_ok else "ndim"
    raise ShapeError(
        f"{call.op.name} expects {kind}={want}, found ndim={n}: the input {fmt_shape(call.x)} should be {lay}",
        reason=Reason.RANK,
    )


def _spatial_names(rank: int) -> list[str]:
    return {1: ["steps"], 2: ["rows", "cols"], 3: ["depth", "rows", "cols"]}[rank]


def window_args(call: Call, rank: int, *, kernel_key: str = "kernel_size") -> tuple[tuple, tuple, tuple]:
    """kernel, strides, dilation, with Keras' own checks (no zeros; strides>1 with dilation>1 is an error)."""
    k = call.ints(kernel_key, rank)
    s = call.ints("strides", rank)
    d = call.ints("dilation_rate", rank) if "dilation_rate" in call.op.args else (1,) * rank
    if max(s) > 1 and max(d) > 1:
        raise call.fail(
            "dilation_rate",
            f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides={_t(s)} and "
            f"dilation_rate={_t(d)}",
            fix="use strides 1 with dilation, or dilation 1 with strides (Keras allows only one of them)",
        )
    return k, s, d


def conv_padding(call: Call, rank: int, k: tuple, d: tuple, *, causal_ok: bool) -> tuple | str:
    options = ["valid", "same", "causal"] if causal_ok else ["valid", "same"]
    raw = call.raw("padding")
    if isinstance(raw, str) and raw.lower() == "causal" and not causal_ok:
        only = "Conv1D and SeparableConv1D" if is_tf(call) else "Conv1D"
        raise call.fail(
            "padding",
            f"padding='causal' is only supported by {only} in {'tf.keras' if is_tf(call) else 'Keras 3'}",
            fix="padding: same, or a ZeroPadding1D((k-1)*dilation, 0) layer before a 'valid' convolution",
        )
    mode = call.choice("padding", options)
    if mode == "valid":
        return ((0, 0),) * rank
    if mode == "causal":
        return (F.causal_pads(k[0], d[0]),)
    return "same_upper"


def _conv_fix(error: ConvcalcError, call: Call) -> str | None:
    if error.reason == "empty_output" and "max_kernel" in error.data:
        key = "pool_size" if "pool_size" in call.op.args else "kernel_size"
        return f"padding: same, or {key} <= {fmt_dim(error.data['max_kernel'])} along {error.data['axis']}"
    return None


def finish(call: Call, steps: list[Primitive]) -> list[Primitive]:
    return steps + activation(call) if "activation" in call.op.args else steps


# --------------------------------------------------------------------------- convolutions


@KERAS.op("Conv1D", args=CONV_KEYS, fix=_conv_fix, ranks=(1,), window=CONV1D_WINDOW)
@KERAS.op("Conv2D", "Conv3D", args=CONV_KEYS, fix=_conv_fix, ranks=(2, 3), window=CONV_WINDOW)
def conv(call: Call) -> list[Primitive]:
    """``Conv{1,2,3}D`` (§1.2): valid ``floor((L-k_eff)/s)+1``, same ``ceil(L/s)`` with the TF
    split (odd extra at the end), causal (Conv1D) ``d*(k-1)`` zeros in front."""
    r = call.rank
    filters = call.dim("filters")
    groups = call.int("groups")
    k, s, d = window_args(call, r)
    if is_concrete(filters) and filters % groups:
        raise call.fail(
            "groups",
            f"The number of filters must be evenly divisible by the number of groups. Received: groups={groups}, "
            f"filters={filters}",
        )
    padding = conv_padding(call, r, k, d, causal_ok=r == 1)
    bias = call.flag("use_bias")
    require_rank(call, r, extra_batch_ok=is_tf(call))
    last = channels_last(call)
    if len(call.x) > r + 2 and not last and max(s) > 1:
        raise call.fail(
            "strides",
            f"tf.keras fails on extra leading batch axes with channels_first and strides {_t(s)}: TensorFlow strides the "
            f"wrong axes of {fmt_shape(call.x)} and the shapes disagree at run time ('Dimension ... in both shapes must "
            "be equal')",
            fix="use channels_last, strides 1, or Reshape the leading axes into the batch",
            cls=ShapeError, reason=Reason.LAYOUT,
        )
    c = call.x[-1] if last else call.x[-r - 1]
    if is_concrete(c) and c % groups:
        raise call.fail(
            "groups",
            f"The number of input channels must be evenly divisible by the number of groups. Received groups={groups}, "
            f"but the input has {c} channels (full input shape is {fmt_shape(call.x)})",
            cls=ShapeError, reason=Reason.GROUPS,
        )
    step = Conv(rank=r, in_channels=c, out_channels=filters, kernel=k, stride=s, dilation=d, padding=padding,
                groups=groups, bias=bias, channels_last=last)
    return finish(call, [step])


CONV_T_KEYS = {k: v for k, v in CONV_KEYS.items() if k not in ("groups", "lora_rank", "lora_alpha")}
CONV_T_KEYS["output_padding"] = None


@KERAS.op("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", args=CONV_T_KEYS, ranks=(1, 2, 3),
          window=CONV_T_WINDOW)
def conv_transpose(call: Call) -> list[Primitive]:
    """``Conv{1,2,3}DTranspose`` (§2.2). ``output_padding=None`` is not ``0``:

    - valid: ``(L-1)*s + max(k_eff, s)``, or ``(L-1)*s + k_eff + a``
    - same: ``L*s``, or ``(L-1)*s + (k_eff mod 2) + a``

    ``output_padding < strides`` strictly, per axis (dilation does not relax it, unlike PyTorch).
    """
    r = call.rank
    filters = call.dim("filters")
    k, s, d = window_args(call, r)
    mode = call.choice("padding", ["valid", "same"])
    a: tuple | None = None
    if call.raw("output_padding") is not None:
        a = call.ints("output_padding", r, min=0)
        for i in range(r):
            if a[i] >= s[i]:
                raise call.fail(
                    "output_padding",
                    f"Strides must be greater than output padding. Received strides={_t(s)}, output_padding={_t(a)}",
                    fix=f"output_padding < {s[i]} along {axis_name(r, i)}, or output_padding: null",
                )
    if is_tf(call):
        d = _tf_transpose_dilation(call, r, d)
        if a is not None and mode == "same":
            for i in range(r):
                if F.effective_kernel(k[i], d[i]) % 2 == 0 and a[i] == 0:
                    raise call.fail(
                        "output_padding",
                        f"tf.keras cannot run padding='same' with output_padding=0 and an even kernel ({k[i]} along "
                        f"{axis_name(r, i)}): the output (L-1)*s would need ceil(O/s) = L - 1 input positions, and "
                        "TensorFlow's Conv2DBackpropInput fails at run time",
                        fix="output_padding: null (output L*s), output_padding >= 1, or an odd kernel_size",
                    )
    bias = call.flag("use_bias")
    require_rank(call, r)
    last = channels_last(call)
    c = call.x[-1] if last else call.x[1]
    crops = [F.keras_conv_transpose_crops(k[i], s[i], d[i], mode, None if a is None else a[i]) for i in range(r)]
    step = ConvTranspose(
        rank=r, in_channels=c, out_channels=filters, kernel=k, stride=s, dilation=d,
        crops=tuple((b, e) for b, e, _ in crops), output_padding=tuple(x for _, _, x in crops),
        bias=bias, channels_last=last,
    )
    return finish(call, [step])


def _tf_transpose_dilation(call: Call, rank: int, d: tuple) -> tuple:
    """tf.keras quirks: Conv2DTranspose needs equal dilation rates (TensorFlow's
    conv2d_transpose); Conv3DTranspose ignores dilation_rate altogether (its output shape and
    its call never use it), so the plan uses 1 — as tf.keras does."""
    if rank == 2 and d[0] != d[1]:
        raise call.fail(
            "dilation_rate",
            f"Expected the 2 dimensions of the `dilation_rate` argument to be equal to each other. Received: "
            f"dilation_rate={_t(d)}",
            fix=f"dilation_rate: {max(d)}",
        )
    if rank == 3:
        return (1, 1, 1)
    return d


DW_KEYS = {
    "kernel_size": REQUIRED, "strides": 1, "padding": "valid", "depth_multiplier": 1, "data_format": None,
    "dilation_rate": 1, "activation": None, "use_bias": True,
    **keys("depthwise_initializer", "bias_initializer", "depthwise_regularizer", "bias_regularizer",
           "depthwise_constraint", "bias_constraint"),
    **BASE,
}


def layout_hint(call: Call) -> None:
    """An input that reads like channels first under channels_last ((1, 3, 224, 224): 224
    "channels", a first "spatial" size of 3) plans, but is most likely a mistake: say so.

    The Keras registries' ``hint``: it runs for every layer with a spatial rank (convolutions,
    pooling, global pooling, padding, cropping, upsampling, spatial dropout, ...)."""
    if call.op.rank is None or not call.inputs:
        return
    x, r = call.x, call.rank
    if len(x) != r + 2 or not channels_last(call):
        return
    first, chans = x[1], x[-1]
    if is_concrete(first) and is_concrete(chans) and 1 <= first <= 4 and chans >= 16 * first:
        call.hints.append(f"the input {fmt_shape(x)} reads as {fmt_dim(chans)} channels with a first spatial size of "
                          f"{first}: if it is channels first, write data_format: channels_first or input: "
                          f"{fmt_shape((x[0], *x[2:], first))}")


KERAS.hint = layout_hint


def _no_groups(call: Call) -> None:
    """tf.keras saves its base class's ``groups`` (always 1) in depthwise and separable configs."""
    if "groups" in call.op.args and call.raw("groups") not in (1, None):
        raise call.fail("groups", f"{call.op.name} takes no groups other than 1, got {call.raw('groups')!r}")


@KERAS.op("DepthwiseConv1D", "DepthwiseConv2D", args=DW_KEYS, fix=_conv_fix, ranks=(1, 2), window=CONV_WINDOW)
def depthwise(call: Call) -> list[Primitive]:
    """``DepthwiseConv{1,2}D`` (§5): ``prod(k)*C*m`` weights + ``C*m`` biases; a grouped conv
    with ``groups = C``."""
    _no_groups(call)
    r = call.rank
    m = call.dim("depth_multiplier")
    k, s, d = window_args(call, r)
    padding = conv_padding(call, r, k, d, causal_ok=False)
    bias = call.flag("use_bias")
    require_rank(call, r)
    last = channels_last(call)
    c = call.x[-1] if last else call.x[1]
    if not is_concrete(c):
        raise call.fail(None, "depthwise convolution needs a concrete channel count", cls=ShapeError, reason=Reason.CHANNELS)
    step = Conv(rank=r, in_channels=c, out_channels=norm(c * m), kernel=k, stride=s, dilation=d, padding=padding,
                groups=c, bias=bias, channels_last=last)
    return finish(call, [step])


SEP_KEYS = {
    "filters": REQUIRED, "kernel_size": REQUIRED, "strides": 1, "padding": "valid", "data_format": None,
    "dilation_rate": 1, "depth_multiplier": 1, "activation": None, "use_bias": True,
    **keys("depthwise_initializer", "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
           "pointwise_regularizer", "bias_regularizer", "depthwise_constraint", "pointwise_constraint",
           "bias_constraint"),
    **BASE,
}


@KERAS.op("SeparableConv1D", "SeparableConv2D", args=SEP_KEYS, fix=_conv_fix, ranks=(1, 2), window=CONV_WINDOW)
def separable(call: Call) -> list[Primitive]:
    """``SeparableConv{1,2}D`` (§5, trap 14): a depthwise conv (no bias) then a 1x1 pointwise
    conv with the single bias: ``prod(k)*C*m + C*m*filters + filters``."""
    _no_groups(call)
    r = call.rank
    filters = call.dim("filters")
    m = call.dim("depth_multiplier")
    k, s, d = window_args(call, r)
    padding = conv_padding(call, r, k, d, causal_ok=r == 1 and is_tf(call))
    bias = call.flag("use_bias")
    require_rank(call, r, extra_batch_ok=False)
    last = channels_last(call)
    c = call.x[-1] if last else call.x[1]
    if not is_concrete(c):
        raise call.fail(None, "separable convolution needs a concrete channel count", cls=ShapeError, reason=Reason.CHANNELS)
    dw = Conv(rank=r, in_channels=c, out_channels=norm(c * m), kernel=k, stride=s, dilation=d, padding=padding,
              groups=c, bias=False, channels_last=last)
    pw = Conv(rank=r, in_channels=norm(c * m), out_channels=filters, kernel=(1,) * r, stride=(1,) * r,
              dilation=(1,) * r, padding=((0, 0),) * r, bias=bias, channels_last=last)
    return finish(call, [dw, pw])


# --------------------------------------------------------------------------- pooling

POOL_KEYS = {"pool_size": 2, "strides": None, "padding": "valid", "data_format": None, **BASE}


def _pool(call: Call, mode: str) -> list[Primitive]:
    r = call.rank
    k = call.ints("pool_size", r)
    s = k if call.raw("strides") is None else call.ints("strides", r)
    pad = call.choice("padding", ["valid", "same"])
    require_rank(call, r)
    last = channels_last(call)
    padding: Any = "same_upper" if pad == "same" else ((0, 0),) * r
    # Keras averages exclude the padding under 'same' (count_include_pad=False).
    return [Pool(mode=mode, rank=r, kernel=k, stride=s, dilation=(1,) * r, padding=padding,
                 count_include_pad=False, channels_last=last)]


@KERAS.op("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", args=POOL_KEYS, fix=_conv_fix, ranks=(1, 2, 3),
          window=POOL_WINDOW)
def max_pool(call: Call) -> list[Primitive]:
    """``MaxPooling{1,2,3}D`` (§3.3): strides default to pool_size; valid or same; no ceil mode."""
    return _pool(call, "max")


@KERAS.op("AveragePooling1D", "AveragePooling2D", "AveragePooling3D", args=POOL_KEYS, fix=_conv_fix,
          ranks=(1, 2, 3), window=POOL_WINDOW)
def avg_pool(call: Call) -> list[Primitive]:
    """``AveragePooling{1,2,3}D`` (§3.3): 'same' excludes the padding from each average."""
    return _pool(call, "avg")


KERAS.alias("MaxPool1D", "MaxPooling1D")
KERAS.alias("MaxPool2D", "MaxPooling2D")
KERAS.alias("MaxPool3D", "MaxPooling3D")
KERAS.alias("AvgPool1D", "AveragePooling1D")
KERAS.alias("AvgPool2D", "AveragePooling2D")
KERAS.alias("AvgPool3D", "AveragePooling3D")

GLOBAL_KEYS = {"data_format": None, "keepdims": False, **BASE}


@KERAS.op("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", args=GLOBAL_KEYS, ranks=(1, 2, 3))
def global_avg(call: Call) -> list[Primitive]:
    """``GlobalAveragePooling{1,2,3}D`` (§3.4): (N, ..., C) -> (N, C), or 1s with keepdims."""
    require_rank(call, call.rank)
    return [GlobalPool(mode="avg", rank=call.rank, keepdims=call.flag("keepdims"), channels_last=channels_last(call))]


@KERAS.op("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", args=GLOBAL_KEYS, ranks=(1, 2, 3))
def global_max(call: Call) -> list[Primitive]:
    """``GlobalMaxPooling{1,2,3}D`` (§3.4)."""
    require_rank(call, call.rank)
    return [GlobalPool(mode="max", rank=call.rank, keepdims=call.flag("keepdims"), channels_last=channels_last(call))]


for _a, _t_ in [("GlobalAvgPool1D", "GlobalAveragePooling1D"), ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
                ("GlobalAvgPool3D", "GlobalAveragePooling3D"), ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
                ("GlobalMaxPool2D", "GlobalMaxPooling2D"), ("GlobalMaxPool3D", "GlobalMaxPooling3D")]:
    KERAS.alias(_a, _t_)

ADAPTIVE_KEYS = {"output_size": REQUIRED, "data_format": None, **BASE}


def _adaptive(call: Call, mode: str) -> list[Primitive]:
    r = call.rank
    raw = call.raw("output_size")
    vals = raw if isinstance(raw, (list, tuple)) else [raw] * r
    if len(vals) != r:
        raise call.fail("output_size", f"output_size must be one integer or a list of {r}, got {list(vals)}")
    out = tuple(call.dim("output_size", value=v) for v in vals)
    require_rank(call, r)
    return [AdaptivePool(mode=mode, rank=r, output_size=out, channels_last=channels_last(call))]


@KERAS.op("AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D", args=ADAPTIVE_KEYS, ranks=(1, 2, 3))
def adaptive_avg(call: Call) -> list[Primitive]:
    """``AdaptiveAveragePooling{1,2,3}D`` (Keras 3.15; §3.4, PyTorch bins)."""
    return _adaptive(call, "avg")


@KERAS.op("AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", args=ADAPTIVE_KEYS, ranks=(1, 2, 3))
def adaptive_max(call: Call) -> list[Primitive]:
    """``AdaptiveMaxPooling{1,2,3}D`` (Keras 3.15)."""
    return _adaptive(call, "max")


# --------------------------------------------------------------------------- resizing, padding, cropping


@KERAS.op("UpSampling1D", args={"size": 2, **BASE}, ranks=(1,))
@KERAS.op("UpSampling2D", args={"size": 2, "data_format": None, "interpolation": "nearest", **BASE}, ranks=(2,))
@KERAS.op("UpSampling3D", args={"size": 2, "data_format": None, **BASE}, ranks=(3,))
def upsampling(call: Call) -> list[Primitive]:
    """``UpSampling{1,2,3}D(size)``: ``L * size`` (integers) (§4)."""
    r = call.rank
    if r == 1 and isinstance(call.raw("size"), (list, tuple)):
        raise call.fail("size", f"UpSampling1D takes one integer size, got {_list(call.raw('size'))}", fix="size: 2")
    size = call.ints("size", r)
    mode = "nearest"
    if "interpolation" in call.op.args:
        mode = call.choice(
            "interpolation",
            ["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area", "gaussian", "mitchellcubic"],
            case_insensitive=False,
        )
    require_rank(call, r)
    last = channels_last(call)
    lay = layout(call.x, r, last, "resize")
    sizes = tuple(norm(call.x[ax] * size[i]) for i, ax in enumerate(lay.spatial_axes))
    return [Resize(rank=r, mode=mode, sizes=sizes, channels_last=last)]


def _pairs(call: Call, key: str, rank: int) -> tuple[tuple[int, int], ...]:
    """Keras padding/cropping: an int, ``rank`` ints (symmetric), or ``rank`` (begin, end) pairs.

    ``Cropping1D``/``ZeroPadding1D`` take a single (begin, end) pair for their one axis.
    """
    raw = call.raw(key)
    if isinstance(raw, bool):
        raise call.fail(key, f"{key} must be an integer or a list, got {raw}")
    if rank == 1 and isinstance(raw, (list, tuple)):
        if len(raw) != 2 or any(isinstance(v, (list, tuple)) for v in raw):
            raise call.fail(key, f"{key} must be an integer or a (begin, end) pair, got {list(raw)}")
        b, e = (call._to_int(key, v) for v in raw)
        pairs = ((b, e),)
    elif isinstance(raw, (list, tuple)):
        if len(raw) != rank:
            raise call.fail(key, f"{key} must be an integer, {rank} integers or {rank} (begin, end) pairs, got {_list(raw)}")
        out = []
        for v in raw:
            if isinstance(v, (list, tuple)):
                if len(v) != 2:
                    raise call.fail(key, f"each entry of {key} must be a (begin, end) pair, got {_list(v)}")
                out.append((call._to_int(key, v[0]), call._to_int(key, v[1])))
            else:
                x = call._to_int(key, v)
                out.append((x, x))
        pairs = tuple(out)  # type: ignore[assignment]
    else:
        x = call._to_int(key, raw)
        pairs = ((x, x),) * rank  # type: ignore[assignment]
    for b, e in pairs:
        if b < 0 or e < 0:  # type: ignore[operator]
            raise call.fail(key, f"{key} values must be non-negative, got {_list(raw)}")
    return pairs  # type: ignore[return-value]


def _full_pairs(call: Call, rank: int, pairs: tuple, last: bool) -> tuple:
    lay = layout(call.x, rank, last, "pad")
    full = [(0, 0)] * len(call.x)
    for i, ax in enumerate(lay.spatial_axes):
        full[ax] = pairs[i]
    return tuple(full)


@KERAS.op("ZeroPadding1D", args={"padding": 1, **BASE}, ranks=(1,))
@KERAS.op("ZeroPadding2D", "ZeroPadding3D", args={"padding": 1, "data_format": None, **BASE}, ranks=(2, 3))
def zero_padding(call: Call) -> list[Primitive]:
    """``ZeroPadding{1,2,3}D``: ``((top, bottom), (left, right))`` order, first axis first (trap 12)."""
    r = call.rank
    pairs = _pairs(call, "padding", r)
    require_rank(call, r)
    last = channels_last(call)
    return [Pad(widths=_full_pairs(call, r, pairs, last), mode="constant")]


@KERAS.op("Cropping1D", args={"cropping": 1, **BASE}, ranks=(1,))
@KERAS.op("Cropping2D", "Cropping3D", args={"cropping": 0, "data_format": None, **BASE}, ranks=(2, 3))
def cropping(call: Call) -> list[Primitive]:
    """``Cropping{1,2,3}D``: removes ``(begin, end)`` rows per spatial axis."""
    r = call.rank
    pairs = _pairs(call, "cropping", r)
    require_rank(call, r)
    last = channels_last(call)
    full = _full_pairs(call, r, pairs, last)
    lay = layout(call.x, r, last, "crop")
    for i, ax in enumerate(lay.spatial_axes):
        L, (b, e) = call.x[ax], pairs[i]
        if is_concrete(L) and b + e >= L:
            raise ShapeError(
                f"cropping ({b}, {e}) leaves nothing of {axis_name(r, i)} = {L} in {fmt_shape(call.x)}; Keras "
                f"requires the cropping to be smaller than the corresponding spatial dimension",
                reason=Reason.EMPTY_OUTPUT,
                fix=f"crop at most {L - 1} in total along {axis_name(r, i)}",
            )
    return [Crop(crops=full)]


# --------------------------------------------------------------------------- reshaping


@KERAS.op("Flatten", args={"data_format": None, **BASE})
def flatten(call: Call) -> list[Primitive]:
    """``Flatten``: (N, ...) -> (N, prod(...)); channels_first inputs are put channels-last first,
    as Keras does, so the element order matches."""
    n = len(call.x)
    if n < 1:
        raise ShapeError("Flatten needs an input with a batch axis", reason=Reason.RANK)
    if n == 1:
        return [Reshape(target=(call.x[0], 1))]
    steps: list[Primitive] = []
    if not channels_last(call) and n > 2:
        steps.append(Permute(perm=(0, *range(2, n), 1)))
    return steps + [Flatten(start=1, end=-1)]


@KERAS.op("Reshape", args={"target_shape": REQUIRED, **BASE})
def reshape(call: Call) -> list[Primitive]:
    """``Reshape(target_shape)``: the batch axis is kept; one ``-1`` is inferred (§4)."""
    raw = call.raw("target_shape")
    if not isinstance(raw, (list, tuple)):
        raw = [raw]
    target = tuple(call.dim("target_shape", value=v, min=-1) for v in raw)
    return [Reshape(target=(call.x[0], *target))]


@KERAS.op("Permute", args={"dims": REQUIRED, **BASE})
def permute(call: Call) -> list[Primitive]:
    """``Permute(dims)``: 1-based, batch excluded."""
    raw = call.raw("dims")
    if not isinstance(raw, (list, tuple)):
        raise call.fail("dims", f"dims must be a list such as [2, 1], got {raw!r}")
    dims = [call._to_int("dims", v) for v in raw]
    if sorted(dims) != list(range(1, len(dims) + 1)):
        raise call.fail(
            "dims",
            f"Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be consecutive "
            f"and start from 1. Received dims={_list(raw)}",
        )
    if len(call.x) != len(dims) + 1:
        raise ShapeError(
            f"Permute(dims={_list(raw)}) expects ndim={len(dims) + 1}, found ndim={len(call.x)} {fmt_shape(call.x)}",
            reason=Reason.RANK,
        )
    return [Permute(perm=(0, *dims))]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- merging


def _same_batch(call: Call) -> None:
    batches = {d[0] for d in call.inputs if d and is_concrete(d[0])}
    if len(batches) > 1:
        raise ShapeError(
            "Cannot merge tensors with different batch sizes: " + ", ".join(fmt_shape(s) for s in call.inputs),
            reason=Reason.MERGE,
        )


@KERAS.op("Concatenate", args={"axis": -1, **BASE}, inputs=(1, None))
def concatenate(call: Call) -> list[Primitive]:
    """``Concatenate(axis=-1)``: every other axis must match (§4)."""
    axis = call.int("axis", min=None)
    for x in call.inputs:
        if not -len(x) <= axis < len(x):
            raise call.fail("axis", f"axis={axis} is out of range for the input {fmt_shape(x)}", cls=ShapeError, reason=Reason.AXIS)
    return [Concat(axis=axis)]


def _merge(op: str, n: tuple[int, int | None] = (1, None)):
    def build(call: Call) -> list[Primitive]:
        _same_batch(call)
        return [Elementwise(op=op, broadcast=True)]

    build.__doc__ = f"Keras merge layer: element-wise {op}; size-1 axes broadcast, batch sizes must match."
    return build


for _name, _op, _n in [("Add", "add", (1, None)), ("Subtract", "subtract", (2, 2)), ("Multiply", "multiply", (1, None)),
                       ("Average", "average", (1, None)), ("Maximum", "maximum", (1, None)),
                       ("Minimum", "minimum", (1, None))]:
    KERAS.op(_name, args=dict(BASE), inputs=_n)(_merge(_op, _n))


# Keras 3 ops in a functional graph (keras.ops.add(x, 3.0)) and tf.keras' TFOpLambda
# (tf.math.multiply): one tensor with a constant or a learned tensor, or two tensors.
for _name, _op in [("ops.add", "add"), ("ops.multiply", "multiply")]:
    KERAS.op(_name, args={"constant_shape": None, "weight_shape": None, **BASE}, inputs=(1, 2))(
        binary_builder(_op, f"keras.{_name}"))


@KERAS.op("Rescaling", args={"scale": REQUIRED, "offset": 0.0, **BASE})
def rescaling(call: Call) -> list[Primitive]:
    """``Rescaling(scale, offset)``: ``x * scale + offset``, no parameters."""
    return [Identity(note="rescaling")]


@KERAS.op("Normalization", args={"axis": -1, "mean": None, "variance": None, "invert": False, **BASE})
def normalization(call: Call) -> list[Primitive]:
    """``Normalization(axis, mean, variance)``: ``(x - mean) / sqrt(variance)``. Without given
    statistics the layer adapts and keeps mean, variance (per ``axis`` entry) and a count as
    non-trainable weights — Keras counts them (EfficientNet: 3 + 3 + 1 = 7); given as lists, the
    statistics are constants and count nothing."""
    axis = call.raw("axis")
    axes = [axis] if isinstance(axis, int) else list(axis or [])
    x = call.x
    size = prod(x[call.in_range_axis("axis", a, len(x))] for a in axes) if axes else 1
    frozen = 0 if call.raw("mean") is not None else norm(2 * size + 1)
    return [Norm(norm_kind="normalization", axes=tuple(a % len(x) for a in axes), scale=False, center=False,
                 non_trainable=frozen)]


@KERAS.op("LayerScale", args={"init_values": REQUIRED, "projection_dim": REQUIRED, **BASE})
def layer_scale(call: Call) -> list[Primitive]:
    """ConvNeXt's ``LayerScale(init_values, projection_dim)`` (keras.applications.convnext): a
    learned per-channel scale on the last axis, ``projection_dim`` parameters."""
    return [ConstantOperand(op="multiply", shape=(call.int("projection_dim"),), learned=True)]


@KERAS.op("CustomScaleLayer", args={"scale": REQUIRED, **BASE}, inputs=(2, 2))
def custom_scale_layer(call: Call) -> list[Primitive]:
    """InceptionResNetV2's ``CustomScaleLayer(scale)``: ``a + b * scale`` of two tensors, no weights."""
    return [Elementwise(op="add", broadcast=True)]


@KERAS.op("TimeDistributed", args={"layer": REQUIRED, **BASE})
def time_distributed(call: Call) -> list[Primitive]:
    """``TimeDistributed(layer)``: the inner layer on every step of axis 1. The inner layer is
    written as a layer of the model file (``layer: {op: Conv2D, filters: 8, kernel_size: 3}``);
    it runs on ``(N*T, ...)`` — its MACs count every step — and its output is split back into
    ``(N, T, ...)``. Its parameters count once."""
    spec = call.raw("layer")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("op"), str):
        raise call.fail("layer", f"layer must be a layer mapping such as {{op: Conv2D, filters: 8}}, got {spec!r}")
    x = call.x
    if len(x) < 3:
        raise ShapeError(f"TimeDistributed needs an input with a batch and a time axis, got {fmt_shape(x)}",
                         reason=Reason.RANK)
    registry = TF_KERAS if call.op.framework == "tf.keras" else KERAS
    inner = registry.get(spec["op"])
    if inner is None or inner.name == "TimeDistributed":
        raise call.fail("layer", f"TimeDistributed cannot wrap {spec['op']!r}{did_you_mean(spec['op'], registry.ops)}")
    merged = (norm(x[0] * x[1]),) + tuple(x[2:])
    args = {k: v for k, v in spec.items() if k != "op"}
    inner_call = inner.bind(f"{call.layer}/{spec['op']}", spec["op"], args, (merged,), env=call.env,
                            known_symbols=call.known_symbols)
    steps = inner.build(inner_call)
    call.used_symbols |= inner_call.used_symbols
    shape = merged
    scratch = Checks()  # the steps run again in the plan, with the real checks; here only their output shape
    for step in steps:
        shape = step.infer((shape,), scratch)
    return [Reshape(target=merged), *steps, Reshape(target=(x[0], x[1], *shape[1:]))]


# --------------------------------------------------------------------------- dense and normalisation

DENSE_KEYS = {"units": REQUIRED, "activation": None, "use_bias": True, "lora_rank": None, "lora_alpha": None,
              "quantization_config": None, **INIT, **BASE}


@KERAS.op("Dense", args=DENSE_KEYS)
def dense(call: Call) -> list[Primitive]:
    """``Dense(units)`` on the last axis of an N-d input: ``in*units + units`` params (§5)."""
    units = call.dim("units")
    if len(call.x) < 2:
        raise ShapeError(f"Dense expects min_ndim=2, found ndim={len(call.x)} {fmt_shape(call.x)}", reason=Reason.RANK)
    step = Dense(in_features=call.x[-1], out_features=units, bias=call.flag("use_bias"))
    return [step] + activation(call)


NORM_BASE = {"epsilon": 1e-3, "center": True, "scale": True,
             **keys("beta_initializer", "gamma_initializer", "beta_regularizer", "gamma_regularizer",
                    "beta_constraint", "gamma_constraint"), **BASE}


def _axes(call: Call, key: str = "axis") -> tuple[int, ...]:
    raw = call.raw(key)
    vals = raw if isinstance(raw, (list, tuple)) else [raw]
    n = len(call.x)
    out = []
    for v in vals:
        a = call._to_int(key, v)
        out.append(call.in_range_axis(key, a, n))  # type: ignore[arg-type]
    return tuple(out)


def _affine(call: Call) -> int:
    return int(call.flag("center")) + int(call.flag("scale"))


@KERAS.op(
    "BatchNormalization",
    args={"axis": -1, "momentum": 0.99, "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99,
          "synchronized": False,
          **keys("moving_mean_initializer", "moving_variance_initializer"), **NORM_BASE},
)
def batch_norm(call: Call) -> list[Primitive]:
    """``BatchNormalization``: gamma/beta trainable, moving mean/variance non-trainable — and
    Keras counts both in ``count_params()`` (§5, trap 10)."""
    (axis,) = _axes(call)
    c = call.x[axis]
    if call.flag("renorm"):
        raise call.fail("renorm", "renorm=True is not modelled (it adds renormalisation variables)")
    return [Norm(norm_kind="batch", axes=(axis,), scale=call.flag("scale"), center=call.flag("center"), moving_stats=True,
                 trainable=norm(c * _affine(call)), non_trainable=norm(2 * c),
                 epsilon=call.number("epsilon"))]


@KERAS.op("LayerNormalization", args={"axis": -1, **NORM_BASE})
def layer_norm(call: Call) -> list[Primitive]:
    """``LayerNormalization(axis)``: gamma and beta over the normalised axes."""
    axes = _axes(call)
    count = prod(call.x[a] for a in axes)
    return [Norm(norm_kind="layer", axes=axes, scale=call.flag("scale"), center=call.flag("center"),
                 trainable=norm(count * _affine(call)), epsilon=call.number("epsilon"))]


@KERAS.op("GroupNormalization", args={"groups": 32, "axis": -1, **NORM_BASE})
def group_norm(call: Call) -> list[Primitive]:
    """``GroupNormalization(groups, axis)``: channels divisible by groups (``-1``: one per channel)."""
    (axis,) = _axes(call)
    c = call.x[axis]
    g = call.int("groups", min=-1)
    if g == 0:
        raise call.fail("groups", "groups must be a positive integer or -1")
    if g == -1:
        g = c
    if is_concrete(c):
        if g > c:
            raise call.fail(
                "groups", f"Number of groups ({g}) cannot be more than the number of channels ({c})", cls=ShapeError, reason=Reason.GROUPS
            )
        if c % g:
            raise call.fail(
                "groups", f"Number of groups ({g}) must be a multiple of the number of channels ({c})", cls=ShapeError, reason=Reason.GROUPS
            )
    return [Norm(norm_kind="group", axes=(axis,), groups=g, scale=call.flag("scale"), center=call.flag("center"),
                 trainable=norm(c * _affine(call)),
                 epsilon=call.number("epsilon"))]


# --------------------------------------------------------------------------- activations, dropout


@KERAS.op("Activation", args={"activation": REQUIRED, **BASE})
def activation_layer(call: Call) -> list[Primitive]:
    """``Activation(name)``."""
    return activation(call) or [Identity(note="linear")]


@KERAS.op("ReLU", args={"max_value": None, "negative_slope": 0.0, "threshold": 0.0, **BASE})
def relu(call: Call) -> list[Primitive]:
    """``ReLU(max_value, negative_slope, threshold)``."""
    mv = call.raw("max_value")
    return [Activation(fn="relu", alpha=call.number("negative_slope"), max_value=None if mv is None else call.number("max_value"))]


@KERAS.op("LeakyReLU", args={"negative_slope": 0.3, "alpha": None, **BASE})
def leaky_relu(call: Call) -> list[Primitive]:
    """``LeakyReLU``: Keras 3 ``negative_slope`` (``alpha`` deprecated); tf.keras ``alpha``."""
    key = "alpha" if call.raw("alpha") is not None or "negative_slope" not in call.op.args else "negative_slope"
    return [Activation(fn="leaky_relu", alpha=call.number(key))]


@KERAS.op("Softmax", args={"axis": -1, **BASE})
def softmax(call: Call) -> list[Primitive]:
    """``Softmax(axis)``."""
    (axis,) = _axes(call)
    return [Activation(fn="softmax", axis=axis)]


@KERAS.op("ELU", args={"alpha": 1.0, **BASE})
def elu(call: Call) -> list[Primitive]:
    """``ELU(alpha)``."""
    return [Activation(fn="elu", alpha=call.number("alpha"))]


@KERAS.op("PReLU", args={"shared_axes": None, **keys("alpha_initializer", "alpha_regularizer", "alpha_constraint"), **BASE})
def prelu(call: Call) -> list[Primitive]:
    """``PReLU``: one learnable slope per input element, except along ``shared_axes`` (1-based)."""
    raw = call.raw("shared_axes")
    shared = [] if raw is None else (raw if isinstance(raw, (list, tuple)) else [raw])
    dims = list(call.x[1:])
    for a in shared:
        i = call._to_int("shared_axes", a)
        if not 1 <= i <= len(dims):  # type: ignore[operator]
            raise call.fail("shared_axes", f"shared_axes entry {i} is out of range for {fmt_shape(call.x)}")
        dims[i - 1] = 1  # type: ignore[operator]
    return [Activation(fn="prelu", param_shape=tuple(dims), trainable=prod(dims))]


@KERAS.op("Dropout", args={"rate": REQUIRED, "noise_shape": None, "seed": None, **BASE})
def dropout(call: Call) -> list[Primitive]:
    """``Dropout(rate)``: the identity at inference."""
    rate = call.number("rate")
    if not 0 <= rate <= 1:
        raise call.fail("rate", f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}")
    return [Identity(note="dropout")]


@KERAS.op("SpatialDropout1D", args={"rate": REQUIRED, "seed": None, **BASE}, ranks=(1,))
@KERAS.op("SpatialDropout2D", "SpatialDropout3D", args={"rate": REQUIRED, "data_format": None, "seed": None, **BASE}, ranks=(2, 3))
def spatial_dropout(call: Call) -> list[Primitive]:
    """``SpatialDropout{1,2,3}D``: the identity at inference; needs a ``rank+2``-D input."""
    call.number("rate")
    require_rank(call, call.rank)
    return [Identity(note="dropout")]


@KERAS.op("Identity", args=dict(BASE))
def identity(call: Call) -> list[Primitive]:
    """``Identity``."""
    return [Identity()]



KERAS.op("Opaque", args=dict(OPAQUE_ARGS), inputs=(0, None))(opaque_builder)
KERAS.op("CropTo", args={"data_format": None, **BASE}, inputs=(2, 2))(crop_to_builder(True))
KERAS.op("PerSampleConv", args={"mode": "valid", "data_format": None, **BASE}, inputs=(2, 2))(per_sample_conv_builder(True))


# --------------------------------------------------------------------------- tf.keras


# Arguments tf.keras (tf_keras 2.21) takes that Keras 3 does not, and the reverse.
TF_ONLY_ARGS = {
    # tf.keras' depthwise and separable layers save their Conv base class's arguments too.
    **{f"DepthwiseConv{r}D": {"groups": 1, **keys("kernel_initializer", "kernel_regularizer", "kernel_constraint")}
       for r in (1, 2)},
    **{f"SeparableConv{r}D": {"groups": 1, **keys("kernel_initializer", "kernel_regularizer", "kernel_constraint")}
       for r in (1, 2)},
    "BatchNormalization": {"fused": None, "virtual_batch_size": None, "adjustment": None},
    "Softmax": {"robust_masking": False},
    "LeakyReLU": {"alpha": 0.3},
}
KERAS3_ONLY_ARGS = {"lora_rank", "lora_alpha", "quantization_config", "negative_slope@LeakyReLU"}


def _tf_registry() -> Registry:
    """tf.keras: Keras 3's ops without the adaptive pooling layers (Keras 3.15 only), with
    tf.keras' own extra arguments and without Keras 3's (LoRA, quantization, LeakyReLU's
    ``negative_slope``)."""
    reg = KERAS.copy("tf.keras", "tf.keras")
    for name in [n for n in reg.ops if n.startswith("Adaptive")]:
        del reg.ops[name]
    for name, od in list(reg.ops.items()):
        args = {k: v for k, v in od.args.items()
                if k not in KERAS3_ONLY_ARGS and f"{k}@{name}" not in KERAS3_ONLY_ARGS}
        args.update(TF_ONLY_ARGS.get(name, {}))
        reg.ops[name] = dataclasses.replace(od, args=args)
    return reg


TF_KERAS = _tf_registry()


def _t(values: tuple) -> str:
    return "(" + ", ".join(str(v) for v in values) + ")"


def _list(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_list(e) for e in v) + "]"
    return str(v)


__all__ = ["KERAS", "TF_KERAS"]
