"""PyTorch vocabulary: ``torch.nn`` modules and a few functional ops, channels-first.

Arguments are the modules' own constructor arguments (``torch 2.13``); ``in_channels``,
``in_features`` and ``num_features`` may be omitted (inferred from the input) and are checked
when given. ``ConvTranspose*d`` also takes ``output_size``, as ``forward(x, output_size)`` does.
Parameters are ``sum(p.numel() for p in m.parameters())``: buffers (BatchNorm running
statistics) are not parameters (§5). Rules follow conventions.md §1.1, §2.1, §3.1, §3.4, §4.
"""

from __future__ import annotations

from typing import Any

from .. import formulas as F
from ..dims import Dim, fmt_dim, fmt_shape, is_concrete, norm, prod
from ..errors import ConvcalcError, Reason, ShapeError
from ..ir import (
    Activation,
    AdaptivePool,
    Concat,
    Conv,
    ConvTranspose,
    Dense,
    Flatten,
    Identity,
    MatMul,
    Norm,
    Pad,
    Permute,
    PixelShuffle,
    Pool,
    Primitive,
    Reduce,
    Reshape,
    Resize,
    ResizeTo,
    Slice,
    Split,
    axis_name,
)
from ._base import (
    OPAQUE_ARGS,
    REQUIRED,
    STORED_ARGS,
    Call,
    Registry,
    Window,
    binary_builder,
    crop_to_builder,
    keys,
    opaque_builder,
    per_sample_conv_builder,
    require_ndim,
    stored_builder,
)

REG = Registry("pytorch", "PyTorch")
DEVICE = keys("device", "dtype")


def _check_channels(call: Call, key: str, c: Dim, what: str = "channels") -> Dim:
    """Infer ``in_channels``-style arguments from the input, or check the given value."""
    if not call.given(key):
        return c
    given = call.dim(key)
    if is_concrete(given) and is_concrete(c) and given != c:
        x = call.x
        fix = f"{key}: {c}, or leave {key} out to infer it"
        if len(x) >= 3 and x[-1] == given and all(is_concrete(d) for d in x):
            # (1, 224, 224, 3) with in_channels=3: a channels-last (Keras/TF) input.
            fix = (f"PyTorch reads channels first: if {fmt_shape(x)} is channels last, write input: "
                   f"{fmt_shape((x[0], x[-1], *x[1:-1]))}; else {fix}")
        raise call.fail(
            key,
            f"{key}={given}, but the input {fmt_shape(x)} has {c} {what}",
            fix=fix, cls=ShapeError, reason=Reason.CHANNELS,
        )
    return given


def _conv_fix(error: ConvcalcError, call: Call) -> str | None:
    if error.reason == "empty_output" and "max_kernel" in error.data:
        d = error.data
        # Symmetric padding p fits the dilated kernel when L + 2p >= k_eff = dilation*(k-1) + 1.
        k_eff = F.effective_kernel(d["kernel"], d["dilation"])
        need = -(-(k_eff - d["input"]) // 2) if is_concrete(d["input"]) else None
        pad = f"padding={need} or more along {d['axis']}, " if need and need > 0 else ""
        return f"{pad}a kernel_size of at most {fmt_dim(d['max_kernel'])} along {d['axis']}, or a larger input"
    if error.reason == "reflect_pad":
        return "use padding_mode='replicate' or 'zeros', or a smaller padding"
    return None


# --------------------------------------------------------------------------- convolutions

CONV_ARGS = {
    "in_channels": None,
    "out_channels": REQUIRED,
    "kernel_size": REQUIRED,
    "stride": 1,
    "padding": 0,
    "dilation": 1,
    "groups": 1,
    "bias": True,
    "padding_mode": "zeros",
    **DEVICE,
}


def _batched(call: Call, fn: str) -> None:
    r = call.rank
    n = len(call.x)
    if n not in (r + 1, r + 2):
        raise ShapeError(
            f"expects a {r + 1}-D (unbatched) or {r + 2}-D (batched) input, got {n}-D {fmt_shape(call.x)} "
            f"(PyTorch: 'Expected {r + 1}D (unbatched) or {r + 2}D (batched) input to {fn}')",
            reason=Reason.RANK,
        )


@REG.op("Conv1d", "Conv2d", "Conv3d", args=CONV_ARGS, fix=_conv_fix, ranks=(1, 2, 3),
        window=Window("kernel_size", "stride", "padding", modes=("same",), mode_key="padding", dilation="dilation"))
def conv(call: Call) -> list[Primitive]:
    """``nn.Conv{1,2,3}d`` (§1.1): padding int/tuple (both sides), ``'valid'``, or ``'same'``
    (stride 1 only; odd extra at the end); ``padding_mode`` never changes the shape."""
    r = call.rank
    out_ch = call.dim("out_channels")
    k, s, d = call.ints("kernel_size", r), call.ints("stride", r), call.ints("dilation", r)
    groups = call.int("groups")
    mode = call.choice("padding_mode", ["zeros", "reflect", "replicate", "circular"], case_insensitive=False)
    bias = call.flag("bias")
    raw_pad = call.raw("padding")
    if isinstance(raw_pad, str):
        pmode = call.choice("padding", ["valid", "same"], case_insensitive=False)
        if pmode == "same":
            if any(x != 1 for x in s):
                raise call.fail(
                    "padding",
                    f"padding='same' is not supported for strided convolutions (stride={_t(s)})",
                    fix="use stride 1 with padding='same', or explicit padding (TF-style 'same' with stride 2 "
                    "needs F.pad(x, (0, 1, 0, 1)) then padding 0 on even sizes)",
                )
            pads = tuple(F.torch_same_pads(k[i], d[i]) for i in range(r))
        else:
            pads = ((0, 0),) * r
    else:
        p = call.ints("padding", r, min=0)
        pads = tuple((x, x) for x in p)
    if call.given("in_channels"):
        cin = call.dim("in_channels")
        if is_concrete(cin) and cin % groups:
            raise call.fail("groups", f"in_channels must be divisible by groups (in_channels={cin}, groups={groups})")
    if is_concrete(out_ch) and out_ch % groups:
        raise call.fail("groups", f"out_channels must be divisible by groups (out_channels={out_ch}, groups={groups})")
    _batched(call, f"conv{r}d")
    c = call.x[-r - 1]
    if not call.given("in_channels") and is_concrete(c) and c % groups:
        raise call.fail(
            "groups",
            f"the input has {c} channels, which groups={groups} does not divide",
            fix=f"groups must divide {c}",
            cls=ShapeError, reason=Reason.GROUPS,
        )
    cin = _check_channels(call, "in_channels", c)
    return [
        Conv(
            rank=r,
            in_channels=cin,
            out_channels=out_ch,
            kernel=k,
            stride=s,
            dilation=d,
            padding=pads,
            groups=groups,
            bias=bias,
            padding_mode=mode,
        )
    ]


CONV_T_ARGS = {**CONV_ARGS, "output_padding": 0, "output_size": None}


@REG.op("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", args=CONV_T_ARGS, ranks=(1, 2, 3),
        window=Window("kernel_size", "stride", "padding", dilation="dilation", extra="output_padding"))
def conv_transpose(call: Call) -> list[Primitive]:
    """``nn.ConvTranspose{1,2,3}d`` (§2.1): ``O = (L-1)*s - 2p + d*(k-1) + output_padding + 1``.

    ``output_padding`` must be smaller than stride or dilation; ``output_size`` (as in
    ``forward(x, output_size)``) picks ``output_padding = output_size - O_min`` in
    ``[O_min, O_min + s - 1]``.
    """
    r = call.rank
    out_ch = call.dim("out_channels")
    k, s, d = call.ints("kernel_size", r), call.ints("stride", r), call.ints("dilation", r)
    groups = call.int("groups")
    bias = call.flag("bias")
    if call.raw("padding_mode") != "zeros":
        raise call.fail(
            "padding_mode",
            f'Only "zeros" padding mode is supported for {call.op.name} (got {call.raw("padding_mode")!r})',
        )
    if isinstance(call.raw("padding"), str):
        raise call.fail(
            "padding",
            f"{call.op.name} takes integer padding, not {call.raw('padding')!r} (PyTorch: 'argument padding must be "
            "tuple of ints')",
            fix="padding = (dilation*(kernel_size-1)) // 2 keeps L*stride for odd kernels; or use output_size",
        )
    p = call.ints("padding", r, min=0)
    a = call.ints("output_padding", r, min=0)
    if is_concrete(out_ch) and out_ch % groups:
        raise call.fail("groups", f"out_channels must be divisible by groups (out_channels={out_ch}, groups={groups})")
    _batched(call, f"conv_transpose{r}d")
    c = call.x[-r - 1]
    cin = _check_channels(call, "in_channels", c)
    if is_concrete(cin) and cin % groups:
        raise call.fail("groups", f"in_channels must be divisible by groups (in_channels={cin}, groups={groups})")
    spatial = call.x[-r:]
    if call.given("output_size"):
        if call.given("output_padding"):
            raise call.fail("output_size", "give output_size or output_padding, not both")
        size = call.raw("output_size")
        sizes = size if isinstance(size, (list, tuple)) else [size]
        if len(sizes) == len(call.x):  # forward() also accepts the full shape
            sizes = sizes[-r:]
        if len(sizes) != r:
            raise call.fail("output_size", f"output_size must have {r} entries (or {len(call.x)}), got {list(sizes)}")
        want = [call.dim("output_size", value=v) for v in sizes]
        mins = [F.conv_transpose_out(spatial[i], k[i], s[i], p[i], p[i], d[i], 0) for i in range(r)]
        a_list = []
        for i in range(r):
            extra = norm(want[i] - mins[i])
            if is_concrete(extra) and not 0 <= extra < s[i]:
                lo = [fmt_dim(m) for m in mins]
                hi = [fmt_dim(norm(m + s[j] - 1)) for j, m in enumerate(mins)]
                raise call.fail(
                    "output_size",
                    f"requested an output size of [{', '.join(fmt_dim(w) for w in want)}], but valid sizes range "
                    f"from [{', '.join(lo)}] to [{', '.join(hi)}] (for an input of {fmt_shape(spatial)})",
                    fix="an output_size in that range (it sets output_padding = output_size - minimum), or change "
                    "stride/padding",
                    cls=ShapeError, reason=Reason.OUTPUT_SIZE,
                )
            a_list.append(extra)
        a = tuple(a_list)  # type: ignore[assignment]
    else:
        for i in range(r):
            if a[i] >= s[i] and a[i] >= d[i]:
                raise call.fail(
                    "output_padding",
                    f"output padding must be smaller than either stride or dilation, but got output_padding={_t(a)}, "
                    f"stride={_t(s)}, dilation={_t(d)}",
                    fix=f"output_padding < {max(s[i], d[i])} along {axis_name(r, i)}",
                )
    return [
        ConvTranspose(
            rank=r,
            in_channels=cin,
            out_channels=out_ch,
            kernel=k,
            stride=s,
            dilation=d,
            crops=tuple((x, x) for x in p),
            output_padding=tuple(a),
            groups=groups,
            bias=bias,
        )
    ]


# --------------------------------------------------------------------------- pooling

MAXPOOL_ARGS = {"kernel_size": REQUIRED, "stride": None, "padding": 0, "dilation": 1, "return_indices": False, "ceil_mode": False}
AVGPOOL_WINDOW = Window("kernel_size", "stride", "padding", ceil="ceil_mode")
AVGPOOL_ARGS = {"kernel_size": REQUIRED, "stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True}


def _pool(call: Call, mode: str) -> list[Primitive]:
    r = call.rank
    k = call.ints("kernel_size", r)
    s = k if call.raw("stride") is None or call.raw("stride") == [] else call.ints("stride", r)
    d = call.ints("dilation", r) if mode == "max" else (1,) * r
    p = call.ints("padding", r, min=0)
    ceil = call.flag("ceil_mode")
    include = call.flag("count_include_pad") if mode == "avg" else True
    if mode == "avg" and call.op.name != "AvgPool1d" and call.raw("divisor_override") is not None:
        call.int("divisor_override")
    for i in range(r):
        if p[i] > k[i] // 2:
            raise call.fail(
                "padding",
                f"pad should be at most half of kernel size, but got padding={_t(p)} and kernel_size={_t(k)}",
                fix=f"padding <= {k[i] // 2} along {axis_name(r, i)} (PyTorch pads at most kernel_size // 2)",
            )
    _batched(call, f"{mode}_pool{r}d")
    if mode == "avg" and r == 3:
        spatial = call.x[-3:]
        if all(is_concrete(v) for v in spatial) and any(v < kk for v, kk in zip(spatial, k)):
            raise ShapeError(
                f"input image (T: {spatial[0]} H: {spatial[1]} W: {spatial[2]}) smaller than kernel size "
                f"(kT: {k[0]} kH: {k[1]} kW: {k[2]}): PyTorch's avg_pool3d needs the unpadded input to hold the "
                "kernel, padding notwithstanding",
                reason=Reason.KERNEL_TOO_LARGE,
                fix="a kernel_size no larger than the input along each axis",
            )
    return [Pool(mode=mode, rank=r, kernel=k, stride=s, dilation=d, padding=tuple((x, x) for x in p), ceil_mode=ceil, count_include_pad=include)]


def _pool_fix(error: ConvcalcError, call: Call) -> str | None:
    if error.reason == "empty_output":
        return "a smaller kernel_size, padding, or ceil_mode=True, or a larger input"
    return None


@REG.op("MaxPool1d", "MaxPool2d", "MaxPool3d", args=MAXPOOL_ARGS, fix=_pool_fix, ranks=(1, 2, 3),
        window=Window("kernel_size", "stride", "padding", dilation="dilation", ceil="ceil_mode"))
def max_pool(call: Call) -> list[Primitive]:
    """``nn.MaxPool{1,2,3}d`` (§3.1): stride defaults to kernel_size; ``ceil_mode`` with the
    start-inside rule; padding at most ``kernel_size // 2``."""
    return _pool(call, "max")


@REG.op("AvgPool1d", args=AVGPOOL_ARGS, fix=_pool_fix, ranks=(1,), window=AVGPOOL_WINDOW)
@REG.op("AvgPool2d", "AvgPool3d", args={**AVGPOOL_ARGS, "divisor_override": None}, fix=_pool_fix, ranks=(2, 3),
        window=AVGPOOL_WINDOW)
def avg_pool(call: Call) -> list[Primitive]:
    """``nn.AvgPool{1,2,3}d`` (§3.1): as max pooling, without dilation."""
    return _pool(call, "avg")


def _adaptive(call: Call, mode: str) -> list[Primitive]:
    r = call.rank
    raw = call.raw("output_size")
    sizes = raw if isinstance(raw, (list, tuple)) else [raw] * r
    if len(sizes) != r:
        raise call.fail("output_size", f"output_size must be one value or a list of {r}, got {list(sizes)}")
    if r == 1 and None in sizes:
        raise call.fail(
            "output_size",
            f"adaptive_{mode}_pool1d() takes an integer output_size; None (keep the input size) works only in 2-D and 3-D",
        )
    out = tuple(None if v is None else call.dim("output_size", value=v) for v in sizes)
    _batched(call, f"adaptive_{mode}_pool{r}d")
    return [AdaptivePool(mode=mode, rank=r, output_size=out)]


@REG.op("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", args={"output_size": REQUIRED}, ranks=(1, 2, 3))
def adaptive_avg(call: Call) -> list[Primitive]:
    """``nn.AdaptiveAvgPool{1,2,3}d`` (§3.4): ``None`` keeps the input size."""
    return _adaptive(call, "avg")


@REG.op(
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
    args={"output_size": REQUIRED, "return_indices": False}, ranks=(1, 2, 3),
)
def adaptive_max(call: Call) -> list[Primitive]:
    """``nn.AdaptiveMaxPool{1,2,3}d`` (§3.4)."""
    return _adaptive(call, "max")


# --------------------------------------------------------------------------- resizing

UPSAMPLE_MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _interpolate(call: Call) -> list[Primitive]:
    n = len(call.x)
    if n not in (3, 4, 5):
        raise ShapeError(
            f"expects a 3-D, 4-D or 5-D input (N, C, spatial...), got {n}-D {fmt_shape(call.x)}", reason=Reason.RANK
        )
    r = n - 2
    mode = call.choice("mode", list(UPSAMPLE_MODES), case_insensitive=False)
    need = UPSAMPLE_MODES[mode]
    if need is not None and need != r:
        raise call.fail(
            "mode",
            f"Got {n}D input, but {mode} mode needs {need + 2}D input",
            fix="mode: nearest works for any rank" ,
            cls=ShapeError, reason=Reason.RANK,
        )
    if call.raw("align_corners") is not None and need is None:
        raise call.fail(
            "align_corners",
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear",
        )
    size, scale = call.raw("size"), call.raw("scale_factor")
    if (size is None) == (scale is None):
        raise call.fail(
            "size" if size is not None else "scale_factor",
            "only one of size or scale_factor should be defined" if size is not None else "either size or scale_factor should be defined",
        )
    if size is not None:
        sizes = size if isinstance(size, (list, tuple)) else [size] * r
        if len(sizes) != r:
            raise call.fail(
                "size",
                f"Input and output must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {list(call.x[2:])} and output size of {list(sizes)}",
                cls=ShapeError, reason=Reason.RANK,
            )
        return [Resize(rank=r, mode=mode, sizes=tuple(call.dim("size", value=v) for v in sizes))]
    scales = scale if isinstance(scale, (list, tuple)) else [scale] * r
    if len(scales) != r:
        raise call.fail(
            "scale_factor",
            f"Input and scale_factor must have the same number of spatial dimensions, but got input with spatial "
            f"dimensions of {list(call.x[2:])} and scale_factor of shape {list(scales)}",
            cls=ShapeError, reason=Reason.RANK,
        )
    out = []
    for v in scales:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise call.fail("scale_factor", f"scale_factor must be positive numbers, got {scale!r}")
        out.append(float(v))
    return [Resize(rank=r, mode=mode, scales=tuple(out))]


UPSAMPLE_ARGS = {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None, "recompute_scale_factor": None}


@REG.op("Upsample", args=UPSAMPLE_ARGS)
def upsample(call: Call) -> list[Primitive]:
    """``nn.Upsample`` (§4): ``size``, or ``scale_factor`` with ``O = floor(L * f)``."""
    return _interpolate(call)


@REG.op("UpsamplingNearest2d", args={"size": None, "scale_factor": None})
def upsampling_nearest2d(call: Call) -> list[Primitive]:
    call.args.setdefault("mode", "nearest")
    require_ndim(call, [4], "(N, C, H, W)")
    return _interpolate(call)


@REG.op("interpolate", args={**UPSAMPLE_ARGS, "antialias": False}, inputs=(1, 2))
def interpolate(call: Call) -> list[Primitive]:
    """``F.interpolate`` (§4). With a second input, the size is that tensor's spatial size
    (``F.interpolate(x, size=skip.shape[-2:])``), kept symbolic where it is."""
    if len(call.inputs) == 2:
        if call.raw("size") is not None or call.raw("scale_factor") is not None:
            raise call.fail("size", "interpolate with a second input takes its size from it: give no size or "
                            "scale_factor")
        rank = len(call.x) - 2
        if rank < 1 or len(call.inputs[1]) != len(call.x):
            raise ShapeError(f"interpolate to the size of {fmt_shape(call.inputs[1])} needs inputs with the same number "
                             f"of axes (N, C, spatial...), got {fmt_shape(call.x)}", reason=Reason.RANK)
        mode = call.raw("mode") or "nearest"
        return [ResizeTo(rank=rank, mode=str(mode), align_corners=bool(call.raw("align_corners")))]
    return _interpolate(call)


# --------------------------------------------------------------------------- padding


def _torch_pad_pairs(call: Call, key: str, values: list[int], ndim: int) -> tuple[tuple[int, int], ...]:
    """``F.pad`` order: last axis first, (left, right, top, bottom, front, back) (trap 12)."""
    if len(values) % 2 or len(values) // 2 > ndim:
        raise call.fail(
            key,
            f"Padding length must be divisible by 2 and at most twice the number of axes ({2 * ndim}), got "
            f"{len(values)} values {values}",
            cls=ShapeError, reason=Reason.PADDING,
        )
    pairs = [(0, 0)] * ndim
    for j in range(len(values) // 2):
        pairs[ndim - 1 - j] = (values[2 * j], values[2 * j + 1])
    return tuple(pairs)


def _pad_values(call: Call, key: str, n: int) -> list[int]:
    raw = call.raw(key)
    if isinstance(raw, (list, tuple)):
        if len(raw) != 2 * n:
            raise call.fail(key, f"{key} must be one integer or a list of {2 * n}, got {list(raw)}")
        return [call._to_int(key, v) for v in raw]  # type: ignore[misc]
    v = call._to_int(key, raw)
    return [v] * (2 * n)  # type: ignore[list-item]


def _module_pad(call: Call, mode: str) -> list[Primitive]:
    r = call.rank
    vals = _pad_values(call, "padding", r)
    n = len(call.x)
    if mode == "constant":
        if n < r:
            raise call.fail(
                "padding",
                f"Padding length should be less than or equal to two times the input dimension but got padding "
                f"length {2 * r} and input of dimension {n}",
                cls=ShapeError, reason=Reason.PADDING,
            )
    else:
        if n not in (r + 1, r + 2):
            raise ShapeError(
                f"expects a {r + 1}-D or {r + 2}-D input, got {n}-D {fmt_shape(call.x)} (PyTorch: 'Padding size "
                f"{2 * r} is not supported for {n}D input tensor')",
                reason=Reason.RANK,
            )
        if any(v < 0 for v in vals):
            raise call.fail("padding", f"{mode} padding must be non-negative, got {vals}")
    value = call.number("value") if call.op.args.get("value", None) is REQUIRED else 0.0
    return [Pad(widths=_torch_pad_pairs(call, "padding", vals, n), mode=mode, value=value)]


@REG.op("ZeroPad1d", "ZeroPad2d", "ZeroPad3d", args={"padding": REQUIRED}, ranks=(1, 2, 3))
def zero_pad(call: Call) -> list[Primitive]:
    """``nn.ZeroPad{1,2,3}d`` (§4): ``(left, right, top, bottom, front, back)``, last axis first;
    negative values crop."""
    return _module_pad(call, "constant")


@REG.op("ConstantPad1d", "ConstantPad2d", "ConstantPad3d", args={"padding": REQUIRED, "value": REQUIRED}, ranks=(1, 2, 3))
def constant_pad(call: Call) -> list[Primitive]:
    """``nn.ConstantPad{1,2,3}d``."""
    return _module_pad(call, "constant")


@REG.op("ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", args={"padding": REQUIRED}, ranks=(1, 2, 3))
def reflection_pad(call: Call) -> list[Primitive]:
    """``nn.ReflectionPad{1,2,3}d``: each pad must be smaller than its axis."""
    return _module_pad(call, "reflect")


@REG.op("ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", args={"padding": REQUIRED}, ranks=(1, 2, 3))
def replication_pad(call: Call) -> list[Primitive]:
    """``nn.ReplicationPad{1,2,3}d``."""
    return _module_pad(call, "replicate")


@REG.op("CircularPad1d", "CircularPad2d", "CircularPad3d", args={"padding": REQUIRED}, ranks=(1, 2, 3))
def circular_pad(call: Call) -> list[Primitive]:
    """``nn.CircularPad{1,2,3}d``: each pad at most its axis."""
    return _module_pad(call, "circular")


@REG.op("pad", args={"pad": REQUIRED, "mode": "constant", "value": None})
def pad(call: Call) -> list[Primitive]:
    """``F.pad(input, pad, mode, value)``: ``pad`` lists (left, right) pairs from the last axis."""
    raw = call.raw("pad")
    if not isinstance(raw, (list, tuple)):
        raise call.fail("pad", f"pad must be a list such as [1, 1, 2, 2], got {raw!r}")
    vals = [call._to_int("pad", v) for v in raw]
    mode = call.choice("mode", ["constant", "reflect", "replicate", "circular"], case_insensitive=False)
    n = len(call.x)
    if mode != "constant":
        r = len(vals) // 2
        if len(vals) % 2 or r not in (1, 2, 3) or n not in (r + 1, r + 2):
            raise call.fail(
                "pad",
                f"Padding size {len(vals)} is not supported for {n}D input tensor (non-constant modes pad the last "
                f"1, 2 or 3 axes of a 2-3D, 3-4D or 4-5D input)",
                cls=ShapeError, reason=Reason.PADDING,
            )
        if any(v < 0 for v in vals):  # type: ignore[operator]
            raise call.fail("pad", f"{mode} padding must be non-negative, got {vals}")
    value = 0.0 if call.raw("value") is None else call.number("value")
    return [Pad(widths=_torch_pad_pairs(call, "pad", vals, n), mode=mode, value=value)]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reshaping


def _flatten(call: Call) -> list[Primitive]:
    start = call.int("start_dim", min=None)
    end = call.int("end_dim", min=None)
    n = max(len(call.x), 1)
    call.in_range_axis("start_dim", start, n)
    call.in_range_axis("end_dim", end, n)
    return [Flatten(start=start, end=end)]


@REG.op("Flatten", args={"start_dim": 1, "end_dim": -1})
def flatten_module(call: Call) -> list[Primitive]:
    """``nn.Flatten``: ``start_dim=1`` keeps the batch axis (§4)."""
    return _flatten(call)


@REG.op("flatten", args={"start_dim": 0, "end_dim": -1})
def flatten_fn(call: Call) -> list[Primitive]:
    """``torch.flatten``: ``start_dim=0`` by default — the batch axis too."""
    return _flatten(call)


@REG.op("Unflatten", args={"dim": REQUIRED, "unflattened_size": REQUIRED})
def unflatten(call: Call) -> list[Primitive]:
    """``nn.Unflatten(dim, sizes)``: splits one axis; one ``-1`` is inferred."""
    dim = call.in_range_axis("dim", call.int("dim", min=None), len(call.x))
    raw = call.raw("unflattened_size")
    if not isinstance(raw, (list, tuple)) or not raw:
        raise call.fail("unflattened_size", f"unflattened_size must be a list of sizes, got {raw!r}")
    sizes = tuple(call.dim("unflattened_size", value=v, min=-1) for v in raw)
    return [Reshape(target=tuple(call.x[:dim]) + sizes + tuple(call.x[dim + 1 :]))]


@REG.op("reshape", args={"shape": REQUIRED})
def reshape(call: Call) -> list[Primitive]:
    """``torch.reshape(input, shape)``: the full shape, batch included; one ``-1``."""
    raw = call.raw("shape")
    if not isinstance(raw, (list, tuple)):
        raise call.fail("shape", f"shape must be a list, got {raw!r}")
    return [Reshape(target=tuple(call.dim("shape", value=v, min=-1) for v in raw))]


REG.alias("view", "reshape")


@REG.op("permute", args={"dims": REQUIRED})
def permute(call: Call) -> list[Primitive]:
    """``torch.permute(input, dims)``: output axis i is input axis ``dims[i]``."""
    raw = call.raw("dims")
    if not isinstance(raw, (list, tuple)):
        raise call.fail("dims", f"dims must be a list, got {raw!r}")
    perm = tuple(call._to_int("dims", v) for v in raw)
    n = len(call.x)
    if len(perm) != n or sorted(p % n if -n <= p < n else p for p in perm) != list(range(n)):  # type: ignore[operator]
        raise call.fail(
            "dims",
            f"dims {list(perm)} is not a permutation of the {n} axes of {fmt_shape(call.x)}",
            cls=ShapeError, reason=Reason.PERMUTE,
        )
    return [Permute(perm=tuple(p % n for p in perm))]  # type: ignore[operator]


@REG.op("PixelShuffle", args={"upscale_factor": REQUIRED})
def pixel_shuffle(call: Call) -> list[Primitive]:
    """``nn.PixelShuffle(r)``: ``(*, C*r^2, H, W) -> (*, C, H*r, W*r)`` (§4)."""
    return [PixelShuffle(factor=call.int("upscale_factor"))]


@REG.op("PixelUnshuffle", args={"downscale_factor": REQUIRED})
def pixel_unshuffle(call: Call) -> list[Primitive]:
    """``nn.PixelUnshuffle(r)``: the inverse."""
    return [PixelShuffle(factor=call.int("downscale_factor"), inverse=True)]


# --------------------------------------------------------------------------- merging


@REG.op("cat", args={"dim": 0}, inputs=(1, None))
def cat(call: Call) -> list[Primitive]:
    """``torch.cat(tensors, dim=0)`` — note the default ``dim=0``, the batch axis (§4, §8)."""
    return [Concat(axis=call.in_range_axis("dim", call.int("dim", min=None), len(call.x)))]


REG.alias("concat", "cat")


def _split_axis(call: Call) -> tuple[int, Dim]:
    dim = call.in_range_axis("dim", call.int("dim", min=None), len(call.x))
    size = call.x[dim]
    if not is_concrete(size):
        raise call.fail("dim", f"cannot split the symbolic size {fmt_dim(size)} of {fmt_shape(call.x)}: the number of "
                        "pieces depends on it", fix="give the size a value with --set", cls=ShapeError,
                        reason=Reason.SPLIT)
    return dim, size


@REG.op("chunk", args={"chunks": REQUIRED, "dim": 0})
def chunk(call: Call) -> list[Primitive]:
    """``torch.chunk(input, chunks, dim=0)``: pieces of ``ceil(L / chunks)``, the last smaller —
    so there may be fewer than ``chunks`` pieces (``chunk`` of 5 into 4 gives 3 pieces of 2, 2, 1)."""
    dim, size = _split_axis(call)
    n = call.int("chunks")
    step = -(-size // n)
    return [Split(axis=dim, sizes=tuple(min(step, size - start) for start in range(0, size, step)))]


@REG.op("split", args={"split_size_or_sections": REQUIRED, "dim": 0})
def split(call: Call) -> list[Primitive]:
    """``torch.split(tensor, split_size_or_sections, dim=0)``: pieces of one size (the last
    smaller), or the listed sizes, which must add up to the axis."""
    dim, size = _split_axis(call)
    raw = call.raw("split_size_or_sections")
    if isinstance(raw, (list, tuple)):
        sizes = tuple(call._to_int("split_size_or_sections", v) for v in raw)
        if any(s < 0 for s in sizes):
            raise call.fail("split_size_or_sections", f"split sizes must not be negative, got {list(sizes)}")
        return [Split(axis=dim, sizes=sizes)]
    step = call.int("split_size_or_sections")
    return [Split(axis=dim, sizes=tuple(min(step, size - start) for start in range(0, size, step)))]


OPERAND = {"constant_shape": None, "weight_shape": None}
for _name, _op, _extra in [("add", "add", {"alpha": 1}), ("sub", "subtract", {"alpha": 1}), ("mul", "multiply", {}),
                           ("div", "divide", {"rounding_mode": None})]:
    REG.op(_name, args={**_extra, **OPERAND}, inputs=(1, 2))(binary_builder(_op, f"torch.{_name}"))
    # Tensor.add_ (and ``out += identity``): in place, so the memory plan allocates nothing for it
    REG.op(f"{_name}_", args={**_extra, **OPERAND}, inputs=(1, 2))(
        binary_builder(_op, f"Tensor.{_name}_", in_place=True))


@REG.op("mean", args={"dim": None, "keepdim": False, "dtype": None})
def mean(call: Call) -> list[Primitive]:
    """``torch.mean(input, dim, keepdim=False)`` (every axis when ``dim`` is absent): no MACs, as
    pooling (a mean over the spatial axes is global average pooling)."""
    n = len(call.x)
    raw = call.raw("dim")
    dims = range(n) if raw is None else (raw if isinstance(raw, (list, tuple)) else [raw])
    axes = tuple(call.in_range_axis("dim", call._to_int("dim", d), n) for d in dims)
    return [Reduce(op="mean", axes=axes, keepdims=call.flag("keepdim"))]


@REG.op("transpose", args={"dim0": REQUIRED, "dim1": REQUIRED})
def transpose(call: Call) -> list[Primitive]:
    """``torch.transpose(input, dim0, dim1)``: swap two axes."""
    n = len(call.x)
    a = call.in_range_axis("dim0", call.int("dim0", min=None), n)
    b = call.in_range_axis("dim1", call.int("dim1", min=None), n)
    perm = list(range(n))
    perm[a], perm[b] = perm[b], perm[a]
    return [Permute(perm=tuple(perm))]


@REG.op("getitem", args={"index": REQUIRED})
def getitem(call: Call) -> list[Primitive]:
    """``x[i, a:b:c, ...]`` (``operator.getitem``) with integers and slices, one item per leading
    axis: ``index: [[null, null, null], 0]`` is ``x[:, 0]`` — a slice is ``[start, stop, step]``
    (``null`` for none), an integer picks one entry and drops its axis."""
    raw = call.raw("index")
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    x = call.x
    if len(items) > len(x):
        raise call.fail("index", f"{len(items)} indices for the {len(x)}-D input {fmt_shape(x)}", cls=ShapeError,
                        reason=Reason.AXIS)
    axes, starts, ends, steps, drop = [], [], [], [], []
    for axis, item in enumerate(items):
        if isinstance(item, (list, tuple)) and len(item) == 3:
            start, stop, step = (None if v is None else call._to_int("index", v) for v in item)
            if (start, stop, step) == (None, None, None):
                continue
            axes.append(axis)
            starts.append(0 if start is None else start)
            ends.append(stop)
            steps.append(1 if step is None else step)
        elif isinstance(item, int) and not isinstance(item, bool):
            size = x[axis]
            if is_concrete(size) and not -size <= item < size:
                raise call.fail("index", f"index {item} is out of range for axis {axis} of size {size}", cls=ShapeError,
                                reason=Reason.AXIS)
            axes.append(axis)
            starts.append(item)
            ends.append(item + 1 if item != -1 else None)
            steps.append(1)
            drop.append(axis)
        else:
            raise call.fail("index", f"an index item is an integer or [start, stop, step], got {item!r}")
    steps_ = [Slice(axes=tuple(axes), starts=tuple(starts), ends=tuple(ends), steps=tuple(steps))] if axes else []
    if drop:
        sliced = Slice(axes=tuple(axes), starts=tuple(starts), ends=tuple(ends), steps=tuple(steps)).infer((x,), None) \
            if axes else x
        steps_.append(Reshape(target=tuple(d for i, d in enumerate(sliced) if i not in drop)))
    return steps_ or [Identity()]


@REG.op("matmul", args={}, inputs=(2, 2))
def matmul(call: Call) -> list[Primitive]:
    """``torch.matmul(a, b)`` / ``a @ b`` / ``torch.bmm``: ``prod(batch) * M * K * N`` MACs."""
    return [MatMul()]


REG.op("Parameter", args=dict(STORED_ARGS), inputs=(0, 0))(stored_builder)


@REG.op("StochasticDepth", args={"p": REQUIRED, "mode": "row"})
def stochastic_depth(call: Call) -> list[Primitive]:
    """``torchvision.ops.StochasticDepth(p, mode)``: the identity at inference."""
    call.choice("mode", ["row", "batch"], case_insensitive=False)
    return [Identity(note="stochastic depth")]


# --------------------------------------------------------------------------- dense and normalisation


@REG.op("Linear", args={"in_features": None, "out_features": REQUIRED, "bias": True, **DEVICE})
def linear(call: Call) -> list[Primitive]:
    """``nn.Linear`` on the last axis of any input: ``rows * in * out`` MACs (§6.1)."""
    if not call.x:
        raise ShapeError("Linear needs an input with at least one axis", reason=Reason.RANK)
    x = call.x
    if call.given("in_features") and len(x) > 2 and all(is_concrete(d) and d == 1 for d in x[2:]) and \
            call.x[-1] != call.dim("in_features"):
        flat = norm(prod(x[1:]))
        raise call.fail("in_features", f"in_features={fmt_dim(call.dim('in_features'))}, but the input {fmt_shape(x)} "
                        f"has {fmt_dim(x[-1])} features on its last axis: it is not flattened",
                        fix=f"add {{op: Flatten}} (nn.Flatten()) before it: {fmt_shape(x)} flattens to "
                        f"{fmt_shape((x[0], flat))}", cls=ShapeError, reason=Reason.FEATURES)
    fin = _check_channels(call, "in_features", call.x[-1], "features on its last axis")
    return [Dense(in_features=fin, out_features=call.dim("out_features"), bias=call.flag("bias"))]


BN_ARGS = {"num_features": None, "eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True, "bias": True, **DEVICE}


def _affine(call: Call, key: str = "affine") -> tuple[bool, bool]:
    """(scale, center): weight exists when affine; bias when affine and ``bias=True``."""
    on = call.flag(key)
    return on, on and call.flag("bias")


def _affine_count(call: Call, c: Dim, key: str = "affine") -> Dim:
    scale, center = _affine(call, key)
    return norm(c * (int(scale) + int(center)))


@REG.op("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", args=BN_ARGS, ranks=(1, 2, 3))
def batch_norm(call: Call) -> list[Primitive]:
    """``nn.BatchNorm{1,2,3}d``: weight and bias are parameters; running mean/var are buffers,
    not counted (§5)."""
    r = call.rank
    allowed = (2, 3) if r == 1 else (r + 2,)
    if len(call.x) not in allowed:
        want = " or ".join(f"{a}D" for a in allowed)
        raise ShapeError(f"expected {want} input (got {len(call.x)}D input {fmt_shape(call.x)})", reason=Reason.RANK)
    c = _check_channels(call, "num_features", call.x[1])
    call.number("eps")
    scale, center = _affine(call)
    return [Norm(norm_kind="batch", axes=(1,), scale=scale, center=center, trainable=_affine_count(call, c),
                 epsilon=call.number("eps"))]


@REG.op("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", args={**BN_ARGS, "affine": False, "track_running_stats": False}, ranks=(1, 2, 3))
def instance_norm(call: Call) -> list[Primitive]:
    """``nn.InstanceNorm{1,2,3}d``: unbatched (C, spatial) or batched input; affine off by default."""
    r = call.rank
    if len(call.x) not in (r + 1, r + 2):
        raise ShapeError(
            f"expected {r + 1}D (unbatched) or {r + 2}D (batched) input (got {len(call.x)}D input {fmt_shape(call.x)})",
            reason=Reason.RANK,
        )
    c = call.x[-r - 1]
    if call.flag("affine") or call.flag("track_running_stats"):
        c = _check_channels(call, "num_features", c)
    elif call.given("num_features"):
        call.dim("num_features")  # PyTorch only warns on a mismatch here
    spatial = prod(call.x[-r:])
    if not call.flag("track_running_stats") and is_concrete(spatial) and spatial <= 1:
        raise ShapeError(
            f"instance normalisation of {fmt_shape(call.x)} sees one value per channel: PyTorch raises 'Expected more "
            "than 1 spatial element' (the variance of one value is undefined)",
            reason=Reason.INSTANCE_NORM,
        )
    scale, center = _affine(call)
    return [Norm(norm_kind="instance", axes=(len(call.x) - r - 1,), scale=scale, center=center,
                 trainable=_affine_count(call, c), epsilon=call.number("eps"))]


@REG.op("GroupNorm", args={"num_groups": REQUIRED, "num_channels": None, "eps": 1e-5, "affine": True, "bias": True, **DEVICE})
def group_norm(call: Call) -> list[Primitive]:
    """``nn.GroupNorm(num_groups, num_channels)``: channels on axis 1, divisible by the groups."""
    g = call.int("num_groups")
    if len(call.x) < 2:
        raise ShapeError(f"expects an input (N, C, *), got {fmt_shape(call.x)}", reason=Reason.RANK)
    c = _check_channels(call, "num_channels", call.x[1])
    if is_concrete(c) and c % g:
        raise call.fail("num_groups", f"num_channels must be divisible by num_groups (num_channels={c}, num_groups={g})")
    scale, center = _affine(call)
    return [Norm(norm_kind="group", axes=(1,), groups=g, scale=scale, center=center, trainable=_affine_count(call, c),
                 epsilon=call.number("eps"))]


@REG.op("LayerNorm", args={"normalized_shape": REQUIRED, "eps": 1e-5, "elementwise_affine": True, "bias": True, **DEVICE})
def layer_norm(call: Call) -> list[Primitive]:
    """``nn.LayerNorm(normalized_shape)``: the trailing axes must equal it; ``2 * prod`` params."""
    raw = call.raw("normalized_shape")
    dims = raw if isinstance(raw, (list, tuple)) else [raw]
    ns = tuple(call.dim("normalized_shape", value=v) for v in dims)
    x = call.x
    if len(ns) > len(x) or any(a != b for a, b in zip(ns, x[len(x) - len(ns) :])):
        raise call.fail(
            "normalized_shape",
            f"Given normalized_shape={list(ns)}, expected input with shape [*, {', '.join(fmt_dim(d) for d in ns)}], "
            f"but got input of size {fmt_shape(x)}",
            fix=f"normalized_shape: {[fmt_dim(d) for d in x[-len(ns):]] if len(ns) <= len(x) else list(x)}",
            cls=ShapeError, reason=Reason.NORMALIZED_SHAPE,
        )
    scale, center = _affine(call, "elementwise_affine")
    n = len(x)
    return [Norm(norm_kind="layer", axes=tuple(range(n - len(ns), n)), scale=scale, center=center,
                 trainable=_affine_count(call, prod(ns), "elementwise_affine"), epsilon=call.number("eps"))]


# --------------------------------------------------------------------------- activations, dropout, identity

_ACTS: dict[str, tuple[str, dict[str, Any]]] = {
    "ReLU": ("relu", {"inplace": False}),
    "ReLU6": ("relu6", {"inplace": False}),
    "LeakyReLU": ("leaky_relu", {"negative_slope": 0.01, "inplace": False}),
    "GELU": ("gelu", {"approximate": "none"}),
    "SiLU": ("silu", {"inplace": False}),
    "Sigmoid": ("sigmoid", {}),
    "Tanh": ("tanh", {}),
    "Hardswish": ("hard_swish", {"inplace": False}),
    "Hardsigmoid": ("hard_sigmoid", {"inplace": False}),
    "ELU": ("elu", {"alpha": 1.0, "inplace": False}),
    "Mish": ("mish", {"inplace": False}),
}


def _make_activation(fn: str):
    def build(call: Call) -> list[Primitive]:
        alpha = call.number("negative_slope") if "negative_slope" in call.op.args else (
            call.number("alpha") if "alpha" in call.op.args else 0.0
        )
        return [Activation(fn=fn, alpha=alpha)]

    build.__doc__ = f"``nn.{fn}``: element-wise, no parameters, no MACs."
    return build


for _name, (_fn, _args) in _ACTS.items():
    REG.op(_name, args=_args)(_make_activation(_fn))


@REG.op("Softmax", args={"dim": None})
def softmax(call: Call) -> list[Primitive]:
    """``nn.Softmax(dim)``."""
    dim = call.raw("dim")
    axis = -1 if dim is None else call.in_range_axis("dim", call.int("dim", min=None), len(call.x))
    return [Activation(fn="softmax", axis=axis)]


@REG.op("PReLU", args={"num_parameters": 1, "init": 0.25, **DEVICE})
def prelu(call: Call) -> list[Primitive]:
    """``nn.PReLU(num_parameters)``: one learnable slope per channel (or one in all)."""
    n = call.int("num_parameters")
    if n != 1 and (len(call.x) < 2 or (is_concrete(call.x[1]) and call.x[1] != n)):
        raise call.fail("num_parameters", f"num_parameters={n} must be 1 or the channel count of {fmt_shape(call.x)}", cls=ShapeError, reason=Reason.CHANNELS)
    shape = (n,) + (1,) * max(len(call.x) - 2, 0) if n > 1 else (1,)
    return [Activation(fn="prelu", param_shape=shape, trainable=n)]


@REG.op("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", args={"p": 0.5, "inplace": False})
def dropout(call: Call) -> list[Primitive]:
    """Dropout: the identity at inference."""
    p = call.number("p")
    if not 0 <= p <= 1:
        raise call.fail("p", f"dropout probability has to be between 0 and 1, but got {p}")
    return [Identity(note="dropout")]


@REG.op("Identity", args={})
def identity(call: Call) -> list[Primitive]:
    """``nn.Identity``."""
    return [Identity()]


for _prefix in ("nn.", "torch.nn."):
    for _op in list(REG.ops):
        if _op[0].isupper():
            REG.alias(_prefix + _op, _op)
for _prefix in ("torch.", "F.", "torch.nn.functional."):
    for _op in list(REG.ops):
        if _op[0].islower():
            REG.alias(_prefix + _op, _op)


def _t(values: tuple) -> str:
    return "(" + ", ".join(str(v) for v in values) + ")" if len(values) > 1 else str(values[0])



REG.op("Opaque", args=dict(OPAQUE_ARGS), inputs=(0, None))(opaque_builder)
REG.op("CropTo", args={}, inputs=(2, 2))(crop_to_builder(False))
REG.op("PerSampleConv", args={"mode": "valid"}, inputs=(2, 2))(per_sample_conv_builder(False))


__all__ = ["REG"]
