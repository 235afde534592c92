"""ONNX vocabulary (opset 22): operator attributes as in the spec, NC[D]HW layout.

ONNX weights are graph inputs/initializers, not attributes, so a model file says what the
weights would be: ``out_channels`` and ``bias: true|false`` for ``Conv``/``ConvTranspose``,
``out_features`` and ``bias`` for ``Gemm``; ``Reshape`` takes ``shape``, ``Pad`` takes ``pads``
and ``Resize`` takes ``scales`` or ``sizes`` as attributes instead of inputs.

Parameters are the elements of the initializers the op would need (``W``, ``B``; for
``BatchNormalization`` ``scale``/``B`` counted as trainable and ``mean``/``var`` as
non-trainable, mirroring Keras). Shapes follow ``onnx.shape_inference`` (conventions.md §1.3,
§2.3, §3.2); where ONNX tools disagree (trap 11) convcalc says so instead of picking one.
"""

from __future__ import annotations

from typing import Any

from .. import formulas as F
from ..dims import Dim, floordiv, fmt_dim, fmt_shape, is_concrete, norm, prod
from ..errors import ConvcalcError, Reason, ShapeError
from ..ir import (
    Activation,
    Concat,
    Conv,
    ConvTranspose,
    Dense,
    Gather,
    GlobalPool,
    Identity,
    MatMul,
    Norm,
    Pad,
    Permute,
    Pool,
    Primitive,
    Reduce,
    Reshape,
    Resize,
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
    opaque_builder,
    per_sample_conv_builder,
    stored_builder,
)

REG = Registry("onnx", "ONNX")

AUTO_PAD = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]


def _spatial_rank(call: Call) -> int:
    n = len(call.x)
    if n < 3:
        raise ShapeError(
            f"{call.op.name} expects an input (N, C, D1, ..., Dn) with at least 3 axes, got {n}-D {fmt_shape(call.x)}",
            reason=Reason.RANK,
        )
    return n - 2


def _list_attr(call: Call, key: str, n: int, default: int, *, min: int | None = 1) -> tuple[int, ...]:
    raw = call.raw(key)
    if raw is None:
        return (default,) * n
    if not isinstance(raw, (list, tuple)):
        raise call.fail(key, f"{key} must be a list of {n} integers (one per spatial axis), got {raw!r}")
    return call.ints(key, n, min=min)


def _pads_attr(call: Call, r: int) -> tuple[tuple[int, int], ...] | None:
    """ONNX ``pads``: all begins, then all ends (trap 12)."""
    raw = call.raw("pads")
    if raw is None:
        return None
    if not isinstance(raw, (list, tuple)) or len(raw) != 2 * r:
        raise call.fail("pads", f"pads must list {2 * r} integers [x1_begin, x2_begin, ..., x1_end, x2_end, ...], got {raw!r}")
    v = [call._to_int("pads", x) for x in raw]
    if any(x < 0 for x in v):  # type: ignore[operator]
        raise call.fail("pads", f"pads must be non-negative, got {v}")
    return tuple((v[i], v[i + r]) for i in range(r))  # type: ignore[misc]


def _window(call: Call, r: int, *, dilations: bool = True) -> tuple[tuple, tuple, tuple]:
    k = call.raw("kernel_shape")
    if not isinstance(k, (list, tuple)):
        raise call.fail("kernel_shape", f"kernel_shape must be a list of {r} integers, got {k!r}")
    kernel = call.ints("kernel_shape", r)
    strides = _list_attr(call, "strides", r, 1)
    dil = _list_attr(call, "dilations", r, 1) if dilations else (1,) * r
    return kernel, strides, dil


def _padding(call: Call, r: int, *, conflict: str) -> tuple | str:
    auto = call.choice("auto_pad", AUTO_PAD, case_insensitive=False)
    pads = _pads_attr(call, r)
    if pads is not None and auto != "NOTSET":
        raise call.fail(
            "pads",
            f"pads cannot be used together with auto_pad={auto} (ONNX spec). {conflict}",
            fix="remove pads, or set auto_pad: NOTSET",
        )
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return auto.lower()
    return pads if pads is not None else ((0, 0),) * r


def _grouped_channels(call: Call) -> tuple[int, Dim, Dim]:
    """``group``, input channels ``C`` and ``out_channels`` ``M``; ``group`` must divide both."""
    group = call.int("group")
    m = call.dim("out_channels")
    c = call.x[1]
    if is_concrete(c) and c % group:
        raise call.fail("group", f"input channels ({c}) must be divisible by group ({group})", cls=ShapeError, reason=Reason.GROUPS)
    if is_concrete(m) and m % group:
        raise call.fail("group", f"out_channels ({m}) must be divisible by group ({group})")
    return group, c, m


def _conv_fix(error: ConvcalcError, call: Call) -> str | None:
    if error.reason == "empty_output" and "max_kernel" in error.data:
        return f"auto_pad: SAME_UPPER, or kernel_shape <= {error.data['max_kernel']} along {error.data['axis']}"
    return None


CONV_ATTRS = {"out_channels": REQUIRED, "kernel_shape": REQUIRED, "strides": None, "pads": None,
              "auto_pad": "NOTSET", "dilations": None, "group": 1, "bias": True}


@REG.op("Conv", args=CONV_ATTRS, fix=_conv_fix,
        window=Window("kernel_shape", "strides", "pads", modes=tuple(AUTO_PAD), mode_key="auto_pad", dilation="dilations"))
def conv(call: Call) -> list[Primitive]:
    """``Conv`` (§1.3): explicit ``pads`` (begins then ends), or ``auto_pad`` SAME_UPPER (= TF
    same) / SAME_LOWER (odd extra first) / VALID. Weight ``(M, C/group, k...)``."""
    r = _spatial_rank(call)
    k, s, d = _window(call, r)
    padding = _padding(
        call, r,
        conflict="onnx.shape_inference silently uses pads, while the ReferenceEvaluator uses auto_pad, so the "
        "output size depends on the tool",
    )
    group, c, m = _grouped_channels(call)
    return [Conv(rank=r, in_channels=c, out_channels=m, kernel=k, stride=s, dilation=d, padding=padding,
                 groups=group, bias=call.flag("bias"))]


@REG.op("ConvTranspose", args={**CONV_ATTRS, "output_padding": None, "output_shape": None}, fix=_conv_fix,
        window=Window("kernel_shape", "strides", "pads", modes=tuple(AUTO_PAD), mode_key="auto_pad", dilation="dilations",
                      extra="output_padding"))
def conv_transpose(call: Call) -> list[Primitive]:
    """``ConvTranspose`` (§2.3): ``O = s*(L-1) + output_padding + k_eff - pad_begin - pad_end``.

    Where ONNX's own tools disagree, this follows **onnxruntime** (the runtime that executes the
    model; observed on 8,064 argument combinations, ``tests/golden/generators/gen_onnx.py``):

    * ``output_padding < stride`` on every axis. onnxruntime rejects ``output_padding >=
      max(stride, dilation)``, and then ``output_padding >= stride`` because the output no longer
      maps back to the input size; shape inference accepts both.
    * ``auto_pad=SAME_*``: total pad ``max(0, output_padding + k_eff - s)``, so ``O = L*s`` when
      ``output_padding + k_eff >= s``. Shape inference leaves ``output_padding`` out of the total
      (``50 -> 101`` where onnxruntime gives ``100``); the ReferenceEvaluator forces ``L*s``.
    * ``output_shape`` fixes ``O`` and derives the pads, the larger half first unless
      ``SAME_UPPER``. An ``O`` up to ``stride - 1 - output_padding`` past the full output is
      zero-filled at the end (onnxruntime); beyond that it is refused.

    ``pads`` with ``auto_pad`` is a shape-inference error. Weight ``(C, M/group, k...)``.
    """
    r = _spatial_rank(call)
    k, s, d = _window(call, r)
    auto = call.choice("auto_pad", AUTO_PAD, case_insensitive=False)
    pads = _pads_attr(call, r)
    if pads is not None and auto != "NOTSET":
        raise call.fail(
            "pads",
            "The pads attribute cannot be used simultaneously with auto_pad attribute",
            fix="remove pads, or set auto_pad: NOTSET",
        )
    a = _list_attr(call, "output_padding", r, 0, min=0)
    for i in range(r):
        if a[i] >= s[i]:
            raise call.fail(
                "output_padding",
                f"output_padding {list(a)} must be less than the stride {list(s)} along {axis_name(r, i)}: "
                f"onnxruntime rejects it (shape inference does not), as the output would not map back to "
                f"the input size",
                fix=f"output_padding < {s[i]} along {axis_name(r, i)}",
            )
    group, c, m = _grouped_channels(call)
    spatial = call.x[2:]
    if call.raw("output_shape") is not None:
        if pads is not None:
            raise call.fail(
                "output_shape",
                "give output_shape or pads, not both: the spec ignores pads when output_shape is set, and "
                "onnx.shape_inference (1.23) then returns a tensor with an axis missing",
                fix="remove pads (output_shape derives them), or remove output_shape",
            )
        raw = call.raw("output_shape")
        if not isinstance(raw, (list, tuple)) or len(raw) != r:
            raise call.fail("output_shape", f"output_shape must list {r} sizes (spatial only), got {raw!r}")
        want = [call.dim("output_shape", value=v) for v in raw]
        pair_list = []
        padding = list(a)
        for i in range(r):
            total = norm((spatial[i] - 1) * s[i] + a[i] + F.effective_kernel(k[i], d[i]) - want[i])
            if is_concrete(total) and total < 0:
                # onnxruntime zero-fills up to stride - 1 past the scatter output: more output padding.
                most = norm((spatial[i] - 1) * s[i] + s[i] - 1 + F.effective_kernel(k[i], d[i]))
                if -total + a[i] >= s[i]:
                    raise call.fail(
                        "output_shape",
                        f"output_shape {list(raw)} is larger than this ConvTranspose can produce along "
                        f"{axis_name(r, i)} (at most {fmt_dim(most)}; onnxruntime zero-fills at most stride - 1 "
                        f"past the last window)",
                        fix=f"an output_shape of at most {fmt_dim(most)} along {axis_name(r, i)}",
                        cls=ShapeError, reason=Reason.OUTPUT_SIZE,
                    )
                padding[i] = a[i] - total
                pair_list.append((0, 0))
                continue
            half = floordiv(total, 2)
            big = norm(total - half)
            pair_list.append((half, big) if auto == "SAME_UPPER" else (big, half))
        pad_pairs = tuple(pair_list)
        a = tuple(padding)
    elif auto in ("SAME_UPPER", "SAME_LOWER"):
        pad_pairs = tuple(F.onnx_conv_transpose_same_pads(k[i], s[i], d[i], a[i], lower=auto == "SAME_LOWER")
                          for i in range(r))
    else:
        pad_pairs = pads if pads is not None else ((0, 0),) * r
    return [ConvTranspose(rank=r, in_channels=c, out_channels=m, kernel=k, stride=s, dilation=d, crops=pad_pairs,
                          output_padding=a, groups=group, bias=call.flag("bias"))]


POOL_ATTRS = {"kernel_shape": REQUIRED, "strides": None, "pads": None, "auto_pad": "NOTSET", "ceil_mode": 0,
              "dilations": None}


def _int_flag(call: Call, key: str) -> bool:
    v = call.raw(key)
    if isinstance(v, bool) or v in (0, 1):
        return bool(v)
    raise call.fail(key, f"{key} must be 0 or 1, got {v!r}")


def _pool(call: Call, mode: str) -> list[Primitive]:
    r = _spatial_rank(call)
    k, s, d = _window(call, r)
    padding = _padding(call, r, conflict="tools disagree on which one wins")
    include = _int_flag(call, "count_include_pad") if mode == "avg" else True
    return [Pool(mode=mode, rank=r, kernel=k, stride=s, dilation=d, padding=padding,
                 ceil_mode=_int_flag(call, "ceil_mode"), count_include_pad=include)]


@REG.op("MaxPool", args={**POOL_ATTRS, "storage_order": 0}, fix=_conv_fix,
        window=Window("kernel_shape", "strides", "pads", modes=tuple(AUTO_PAD), mode_key="auto_pad", dilation="dilations",
                      ceil="ceil_mode"))
def max_pool(call: Call) -> list[Primitive]:
    """``MaxPool`` (§3.2): ``strides`` default to 1, not to the kernel (trap 4); ``ceil_mode``
    with the start-inside rule."""
    return _pool(call, "max")


@REG.op("AveragePool", args={**POOL_ATTRS, "count_include_pad": 0}, fix=_conv_fix,
        window=Window("kernel_shape", "strides", "pads", modes=tuple(AUTO_PAD), mode_key="auto_pad", ceil="ceil_mode"))
def average_pool(call: Call) -> list[Primitive]:
    """``AveragePool`` (§3.2): as MaxPool; ``dilations`` since opset 19."""
    return _pool(call, "avg")


@REG.op("GlobalAveragePool", args={})
def global_average_pool(call: Call) -> list[Primitive]:
    """``GlobalAveragePool``: (N, C, D1..Dn) -> (N, C, 1, ..., 1)."""
    return [GlobalPool(mode="avg", rank=_spatial_rank(call), keepdims=True)]


@REG.op("GlobalMaxPool", args={})
def global_max_pool(call: Call) -> list[Primitive]:
    """``GlobalMaxPool``: (N, C, D1..Dn) -> (N, C, 1, ..., 1)."""
    return [GlobalPool(mode="max", rank=_spatial_rank(call), keepdims=True)]


@REG.op("BatchNormalization", args={"epsilon": 1e-5, "momentum": 0.9, "training_mode": 0})
def batch_norm(call: Call) -> list[Primitive]:
    """``BatchNormalization``: initializers scale, B (counted trainable) and mean, var
    (counted non-trainable), ``C`` elements each."""
    if len(call.x) < 2:
        raise ShapeError(f"BatchNormalization expects (N, C, ...), got {fmt_shape(call.x)}", reason=Reason.RANK)
    c = call.x[1]
    return [Norm(norm_kind="batch", axes=(1,), moving_stats=True, trainable=norm(2 * c), non_trainable=norm(2 * c),
                 epsilon=call.number("epsilon"))]


def _act(fn: str, args: dict[str, Any]):
    def build(call: Call) -> list[Primitive]:
        return [Activation(fn=fn, alpha=call.number("alpha") if "alpha" in args else 0.0,
                           max_value=call.number("max") if fn == "clip" and call.raw("max") is not None else None)]

    build.__doc__ = f"``{fn}``: element-wise."
    return build


for _name, _fn, _args in [("Relu", "relu", {}), ("Sigmoid", "sigmoid", {}), ("Tanh", "tanh", {}),
                          ("LeakyRelu", "leaky_relu", {"alpha": 0.01}), ("HardSigmoid", "hard_sigmoid",
                                                                          {"alpha": 0.2, "beta": 0.5}),
                          ("HardSwish", "hard_swish", {}), ("Erf", "erf", {}), ("Sqrt", "sqrt", {}),
                          ("Gelu", "gelu", {"approximate": "none"}), ("Clip", "clip", {"min": None, "max": None})]:
    REG.op(_name, args=_args)(_act(_fn, _args))


@REG.op("Softmax", args={"axis": -1})
def softmax(call: Call) -> list[Primitive]:
    """``Softmax(axis=-1)``."""
    return [Activation(fn="softmax", axis=call.in_range_axis("axis", call.int("axis", min=None), len(call.x)))]


@REG.op("Identity", args={})
def identity(call: Call) -> list[Primitive]:
    """``Identity``."""
    return [Identity()]


@REG.op("Dropout", args={"seed": None, "ratio": 0.5})
def dropout(call: Call) -> list[Primitive]:
    """``Dropout``: the identity at inference."""
    return [Identity(note="dropout")]


@REG.op("Split", args={"axis": 0, "split": None, "num_outputs": None})
def split(call: Call) -> list[Primitive]:
    """``Split(axis, split | num_outputs)`` (opset 18): the listed sizes, or ``num_outputs``
    pieces of ``ceil(L / n)`` with the last smaller. The sizes (an input since opset 13) are
    written as the ``split`` attribute."""
    axis = call.in_range_axis("axis", call.int("axis", min=None), len(call.x))
    size = call.x[axis]
    if call.given("split") == call.given("num_outputs"):
        raise call.fail("split", "Split needs exactly one of split (the sizes) and num_outputs",
                        fix="split: [2, 2] or num_outputs: 2")
    if call.given("split"):
        raw = call.raw("split")
        sizes = tuple(call._to_int("split", v) for v in (raw if isinstance(raw, (list, tuple)) else [raw]))
        return [Split(axis=axis, sizes=sizes)]
    if not is_concrete(size):
        raise call.fail("num_outputs", f"cannot split the symbolic size {fmt_dim(size)} into equal pieces here",
                        fix="give the size a value with --set, or list the sizes with split", cls=ShapeError,
                        reason=Reason.SPLIT)
    n = call.int("num_outputs")
    step = -(-size // n)
    return [Split(axis=axis, sizes=tuple(min(step, size - start) for start in range(0, size, step)))]


@REG.op("Concat", args={"axis": REQUIRED}, inputs=(1, None))
def concat(call: Call) -> list[Primitive]:
    """``Concat(axis)``: the axis is required in ONNX."""
    return [Concat(axis=call.in_range_axis("axis", call.int("axis", min=None), len(call.x)))]


for _name, _op in [("Add", "add"), ("Mul", "multiply"), ("Sub", "subtract"), ("Div", "divide")]:
    REG.op(_name, args={"constant_shape": None, "weight_shape": None}, inputs=(1, 2))(binary_builder(_op, _name))


def _axes(call: Call, key: str, n: int) -> tuple[int, ...]:
    raw = call.raw(key)
    values = raw if isinstance(raw, (list, tuple)) else [raw]
    return tuple(call.in_range_axis(key, call._to_int(key, a), n) for a in values)


@REG.op("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", args={"axes": None, "keepdims": 1,
                                                                    "noop_with_empty_axes": 0})
def reduce_(call: Call) -> list[Primitive]:
    """``ReduceMean`` and friends over ``axes`` (an input since opset 18; every axis when absent)."""
    n = len(call.x)
    axes = _axes(call, "axes", n) if call.raw("axes") is not None else tuple(range(n))
    op = call.op.name[len("Reduce"):].lower()
    return [Reduce(op=op, axes=axes, keepdims=_int_flag(call, "keepdims"))]


@REG.op("Squeeze", args={"axes": None})
def squeeze(call: Call) -> list[Primitive]:
    """``Squeeze(axes)``: drop axes of size 1 (every size-1 axis when ``axes`` is absent)."""
    x = call.x
    axes = _axes(call, "axes", len(x)) if call.raw("axes") is not None else tuple(
        i for i, d in enumerate(x) if is_concrete(d) and d == 1)
    for a in axes:
        if not (is_concrete(x[a]) and x[a] == 1):
            raise call.fail("axes", f"cannot squeeze axis {a} of {fmt_shape(x)}: its size is {fmt_dim(x[a])}, not 1",
                            cls=ShapeError, reason=Reason.AXIS)
    return [Reshape(target=tuple(d for i, d in enumerate(x) if i not in axes))]


@REG.op("Unsqueeze", args={"axes": REQUIRED})
def unsqueeze(call: Call) -> list[Primitive]:
    """``Unsqueeze(axes)``: insert axes of size 1 (axes count in the output)."""
    out = list(call.x)
    n = len(out) + len(call.raw("axes") if isinstance(call.raw("axes"), (list, tuple)) else [1])
    for a in sorted(_axes(call, "axes", n)):
        out.insert(a, 1)
    return [Reshape(target=tuple(out))]


@REG.op("Slice", args={"starts": REQUIRED, "ends": REQUIRED, "axes": None, "steps": None})
def slice_(call: Call) -> list[Primitive]:
    """``Slice(starts, ends, axes, steps)`` (inputs since opset 10), with ONNX's clamping; an end
    of 2**31 - 1 or more means "to the end"."""
    n = len(call.x)
    starts = [call._to_int("starts", v) for v in _list_of(call, "starts")]
    ends = [call._to_int("ends", v) for v in _list_of(call, "ends")]
    axes = _axes(call, "axes", n) if call.raw("axes") is not None else tuple(range(len(starts)))
    steps = [call._to_int("steps", v) for v in _list_of(call, "steps")] if call.raw("steps") is not None else [1] * len(
        starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise call.fail("starts", "starts, ends, axes and steps must have the same length")
    ends_ = tuple(None if e >= 2**31 - 1 else e for e in ends)
    return [Slice(axes=axes, starts=tuple(starts), ends=ends_, steps=tuple(steps))]


def _list_of(call: Call, key: str) -> list[Any]:
    raw = call.raw(key)
    return list(raw) if isinstance(raw, (list, tuple)) else [raw]


@REG.op("LayerNormalization", args={"axis": -1, "epsilon": 1e-5, "stash_type": 1, "bias": True})
def layer_normalization(call: Call) -> list[Primitive]:
    """``LayerNormalization(axis)``: normalises the axes from ``axis`` on; the scale (and the
    bias, when the node has one) have their shape: parameters."""
    n = len(call.x)
    axis = call.in_range_axis("axis", call.int("axis", min=None), n)
    count = prod(call.x[axis:])
    return [Norm(norm_kind="layer", axes=tuple(range(axis, n)), center=call.flag("bias"),
                 trainable=norm(count * (2 if call.flag("bias") else 1)), epsilon=call.number("epsilon"))]


@REG.op("Gather", args={"axis": 0, "indices_shape": REQUIRED})
def gather(call: Call) -> list[Primitive]:
    """``Gather(data, indices)`` with constant indices of ``indices_shape``: the axis is replaced
    by the indices' axes (the torch exporter's ``as_strided``, embedding look-ups)."""
    axis = call.in_range_axis("axis", call.int("axis", min=None), len(call.x))
    raw = call.raw("indices_shape")
    if not isinstance(raw, (list, tuple)):
        raise call.fail("indices_shape", f"indices_shape must be a list of sizes, got {raw!r}")
    return [Gather(axis=axis, indices_shape=tuple(call._to_int("indices_shape", d) for d in raw))]


@REG.op("MatMul", args={"out_features": None}, inputs=(1, 2))
def matmul(call: Call) -> list[Primitive]:
    """``MatMul(A, B)``: of two tensors (attention's ``q @ k^T``: ``prod(batch) * M * K * N``
    MACs), or with ``B`` a ``K x out_features`` weight initializer — a dense layer on the last
    axis without bias."""
    if len(call.inputs) == 2:
        if call.given("out_features"):
            raise call.fail("out_features", "MatMul of two tensors takes no out_features")
        return [MatMul()]
    if not call.x:
        raise ShapeError("MatMul needs an input with at least one axis", reason=Reason.RANK)
    if not call.given("out_features"):
        raise call.fail("out_features", "MatMul of one tensor needs out_features (the weight's second axis)")
    return [Dense(in_features=call.x[-1], out_features=call.dim("out_features"), bias=False)]


REG.op("Constant", args=dict(STORED_ARGS), inputs=(0, 0))(stored_builder)


@REG.op("Flatten", args={"axis": 1})
def flatten(call: Call) -> list[Primitive]:
    """``Flatten(axis=1)``: always 2-D, ``(prod(shape[:axis]), prod(shape[axis:]))``."""
    n = len(call.x)
    axis = call.int("axis", min=None)
    if not -n <= axis <= n:
        raise call.fail("axis", f"axis={axis} is out of range for {fmt_shape(call.x)} (valid: {-n} to {n})", cls=ShapeError, reason=Reason.AXIS)
    if axis < 0:
        axis += n
    return [Reshape(target=(prod(call.x[:axis]), prod(call.x[axis:])))]


@REG.op("Reshape", args={"shape": REQUIRED, "allowzero": 0})
def reshape(call: Call) -> list[Primitive]:
    """``Reshape(shape)``: ``0`` copies the input size at that index (unless ``allowzero``), one ``-1``."""
    raw = call.raw("shape")
    if not isinstance(raw, (list, tuple)):
        raise call.fail("shape", f"shape must be a list, got {raw!r}")
    allow_zero = _int_flag(call, "allowzero")
    target = []
    for i, v in enumerate(raw):
        d = call.dim("shape", value=v, min=-1 if allow_zero else -1)
        if is_concrete(d) and d == 0 and not allow_zero:
            if i >= len(call.x):
                raise call.fail("shape", f"shape[{i}] = 0 copies an input axis that {fmt_shape(call.x)} does not have", cls=ShapeError, reason=Reason.RESHAPE)
            d = call.x[i]
        target.append(d)
    return [Reshape(target=tuple(target))]


@REG.op("Transpose", args={"perm": None})
def transpose(call: Call) -> list[Primitive]:
    """``Transpose(perm)``: reverses the axes by default."""
    n = len(call.x)
    raw = call.raw("perm")
    perm = tuple(range(n - 1, -1, -1)) if raw is None else tuple(call._to_int("perm", v) for v in raw)
    if sorted(perm) != list(range(n)):  # type: ignore[type-var]
        raise call.fail("perm", f"perm {list(perm)} is not a permutation of the {n} axes of {fmt_shape(call.x)}", cls=ShapeError, reason=Reason.PERMUTE)
    return [Permute(perm=perm)]  # type: ignore[arg-type]


@REG.op("Pad", args={"pads": REQUIRED, "mode": "constant", "constant_value": 0.0, "axes": None})
def pad(call: Call) -> list[Primitive]:
    """``Pad(pads, mode)``: begins then ends for every axis (or for ``axes``); negative crops.
    Modes constant / reflect / edge / wrap."""
    raw = call.raw("pads")
    n = len(call.x)
    axes_raw = call.raw("axes")
    axes = list(range(n)) if axes_raw is None else [call.in_range_axis("axes", call._to_int("axes", a), n) for a in axes_raw]  # type: ignore[arg-type]
    if not isinstance(raw, (list, tuple)) or len(raw) != 2 * len(axes):
        raise call.fail("pads", f"pads must list {2 * len(axes)} integers (all begins, then all ends), got {raw!r}")
    v = [call._to_int("pads", x) for x in raw]
    mode = call.choice("mode", ["constant", "reflect", "edge", "wrap"], case_insensitive=False)
    pairs = [(0, 0)] * n
    for j, ax in enumerate(axes):
        pairs[ax] = (v[j], v[j + len(axes)])  # type: ignore[assignment]
    canonical = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}[mode]
    return [Pad(widths=tuple(pairs), mode=canonical, value=call.number("constant_value"), limits=False)]


RESIZE_ATTRS = {"scales": None, "sizes": None, "mode": "nearest", "coordinate_transformation_mode": "half_pixel",
                "nearest_mode": "round_prefer_floor", "cubic_coeff_a": -0.75, "exclude_outside": 0,
                "extrapolation_value": 0.0, "antialias": 0, "axes": None, "keep_aspect_ratio_policy": "stretch"}


@REG.op("Resize", args=RESIZE_ATTRS)
def resize(call: Call) -> list[Primitive]:
    """``Resize(scales | sizes)``: one value per axis (N and C must stay 1); ``floor(L * scale)``."""
    n = len(call.x)
    scales, sizes = call.raw("scales"), call.raw("sizes")
    if (scales is None) == (sizes is None):
        raise call.fail("scales", "Resize needs exactly one of scales or sizes")
    call.choice("mode", ["nearest", "linear", "cubic"], case_insensitive=False)
    if call.raw("keep_aspect_ratio_policy") != "stretch" and sizes is not None:
        raise call.fail("keep_aspect_ratio_policy", "only keep_aspect_ratio_policy: stretch is modelled")
    values = scales if scales is not None else sizes
    key = "scales" if scales is not None else "sizes"
    if not isinstance(values, (list, tuple)) or len(values) != n:
        raise call.fail(key, f"{key} must list {n} values (one per axis, N and C included), got {values!r}")
    if scales is not None:
        vals = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise call.fail("scales", f"scales must be positive numbers, got {values!r}")
            vals.append(float(v))
        if vals[0] != 1 or vals[1] != 1:
            raise call.fail("scales", "scaling the batch or channel axis is not modelled; use 1 for N and C")
        return [Resize(rank=n - 2, mode=call.raw("mode"), scales=tuple(vals[2:]))]
    dims = [call.dim("sizes", value=v) for v in values]
    if dims[0] != call.x[0] or dims[1] != call.x[1]:
        raise call.fail("sizes", f"sizes must keep N and C ({call.x[0]}, {call.x[1]}) as they are")
    return [Resize(rank=n - 2, mode=call.raw("mode"), sizes=tuple(dims[2:]))]


@REG.op("Gemm", args={"out_features": REQUIRED, "bias": True, "transA": 0, "transB": 0, "alpha": 1.0, "beta": 1.0})
def gemm(call: Call) -> list[Primitive]:
    """``Gemm``: ``Y = alpha * A' @ B' + beta * C`` with A 2-D; B (``K x out_features``) and C are
    the weights."""
    if len(call.x) != 2:
        raise ShapeError(f"Gemm expects a 2-D input A, got {fmt_shape(call.x)}", reason=Reason.RANK)
    steps: list[Primitive] = []
    k = call.x[1]
    if _int_flag(call, "transA"):
        steps.append(Permute(perm=(1, 0)))
        k = call.x[0]
    _int_flag(call, "transB")
    return steps + [Dense(in_features=k, out_features=call.dim("out_features"), bias=call.flag("bias"))]



REG.op("Opaque", args=dict(OPAQUE_ARGS), inputs=(0, None))(opaque_builder)
REG.op("CropTo", args={}, inputs=(2, 2))(crop_to_builder(False))
REG.op("PerSampleConv", args={"mode": "valid"}, inputs=(2, 2))(per_sample_conv_builder(False))


__all__ = ["REG"]
