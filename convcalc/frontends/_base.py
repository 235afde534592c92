"""What every frontend shares: the op registry, and :class:`Call`, a layer's arguments with typed,
self-explaining accessors.

A frontend registers one builder per framework op::

    @REG.op("Conv1d", "Conv2d", "Conv3d", args=CONV_ARGS)
    def conv(call: Call) -> list[Primitive]: ...

The builder reads its arguments through ``call`` (``call.ints("kernel_size", rank)``), which
checks types and ranges and raises :class:`ArgumentError` naming the argument and the value it
received. Unknown argument names are rejected before the builder runs, with "did you mean".
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..dims import Dim, Shape, ast_names, dim_from_ast, fmt_shape, is_concrete, parse_dim_ast
from ..errors import ArgumentError, ConvcalcError, Reason, ShapeError, did_you_mean
from ..ir import ConstantOperand, CropTo, Elementwise, Opaque, PerSampleConv, Primitive, Stored

REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


# Arguments every layer of a framework accepts for bookkeeping (placement, names, initial values,
# Keras' trainable flag): accepted on any op that declares them, but not listed per op by
# `convcalc ops` or in the "X takes: ..." fix of an unknown argument.
HIDDEN_ARGS = frozenset({
    "device", "dtype", "name", "autocast", "input_shape", "input_dim", "batch_size", "dynamic", "trainable",
    "activity_regularizer", "lora_rank", "lora_alpha", "quantization_config",
})
HIDDEN_SUFFIXES = ("_initializer", "_regularizer", "_constraint")


def is_hidden(arg: str) -> bool:
    """Whether ``arg`` is a bookkeeping argument (see :data:`HIDDEN_ARGS`).

    >>> is_hidden("kernel_initializer"), is_hidden("trainable"), is_hidden("inplace")
    (True, True, False)
    """
    return arg in HIDDEN_ARGS or arg.endswith(HIDDEN_SUFFIXES)


# How each framework spells the same argument, so that a layer written with another framework's
# spelling (filters on a PyTorch Conv2d) is told the right one.
SPELLINGS: tuple[dict[str, str], ...] = (
    {"pytorch": "out_channels", "keras": "filters", "onnx": "out_channels"},
    {"pytorch": "kernel_size", "keras": "kernel_size", "onnx": "kernel_shape"},
    {"pytorch": "kernel_size", "keras": "pool_size", "onnx": "kernel_shape"},
    {"pytorch": "stride", "keras": "strides", "onnx": "strides"},
    {"pytorch": "dilation", "keras": "dilation_rate", "onnx": "dilations"},
    {"pytorch": "bias", "keras": "use_bias", "onnx": "bias"},
    {"pytorch": "groups", "keras": "groups", "onnx": "group"},
    {"pytorch": "padding", "keras": "padding", "onnx": "pads"},
    {"pytorch": "out_features", "keras": "units", "onnx": "out_features"},
    {"pytorch": "eps", "keras": "epsilon", "onnx": "epsilon"},
    {"pytorch": "dim", "keras": "axis", "onnx": "axis"},
)
FRAMEWORK_NAMES = {"pytorch": "PyTorch", "keras": "Keras", "onnx": "ONNX"}


@dataclass(frozen=True)
class Window:
    """How one op spells its window arguments, for ``convcalc solve --layer`` (which searches
    them): per-axis integer ``padding`` and/or whole-layer padding ``modes`` under ``mode_key``
    (Keras ``padding: same``, ONNX ``auto_pad``), ``dilation``, ``extra`` (output_padding; with
    ``extra_none`` it may also be left out, as Keras' ``None``) and ``ceil`` (ceil_mode)."""

    kernel: str
    stride: str
    padding: str | None = None
    modes: tuple[Any, ...] = ()
    mode_key: str | None = None
    dilation: str | None = None
    extra: str | None = None
    extra_none: bool = False
    ceil: str | None = None

    @property
    def searched(self) -> list[str]:
        """The argument names solve varies, in the order its table shows them."""
        keys = [self.kernel, self.stride]
        for k in (self.padding, self.mode_key, self.dilation, self.extra, self.ceil):
            if k and k not in keys:  # PyTorch's padding is both the size and the mode: one column
                keys.append(k)
        return keys


def keys(*names: str, default: Any = None) -> dict[str, Any]:
    """An argument table where every name has the same default (for ignored arguments)."""
    return {n: default for n in names}


@dataclass(frozen=True)
class OpDef:
    """One framework op: its accepted arguments (name -> default, :data:`REQUIRED`), how many
    inputs it takes, its builder, the fix it words for its own errors, and its window arguments.

    :meth:`bind` checks a layer against the definition (arity, unknown arguments) and gives the
    :class:`Call` the builder reads.
    """

    name: str
    framework: str
    build: Callable[[Call], list[Primitive]]
    args: Mapping[str, Any]
    inputs: tuple[int, int | None] = (1, 1)
    fix: Callable[[ConvcalcError, Call], str | None] | None = None
    rank: int | None = None  # for the ops registered as 1D/2D/3D families
    window: Window | None = None

    def _spelling(self, key: str) -> str:
        """`` (PyTorch spells it 'out_channels')`` for an argument spelled as another framework
        spells it; else a did-you-mean, or nothing."""
        for concept in SPELLINGS:
            if key in concept.values() and concept.get(self._family()) in self.args and concept[self._family()] != key:
                return f" ({FRAMEWORK_NAMES[self._family()]} spells it '{concept[self._family()]}')"
        close = did_you_mean(key, self.args)
        return f" ({close.strip().rstrip('?').replace('Did you mean', 'did you mean')}?)" if close else ""

    def _family(self) -> str:
        return "keras" if self.framework in ("keras", "tf.keras") else self.framework

    @property
    def listed_args(self) -> list[str]:
        """The arguments shown for this op (bookkeeping ones left out, see :func:`is_hidden`)."""
        return [k for k in self.args if not is_hidden(k)]

    def bind(
        self,
        layer: str,
        op_as_written: str,
        args: Mapping[str, Any],
        inputs: tuple[Shape, ...],
        *,
        sources: Iterable[str] = (),
        env: Mapping[str, int] | None = None,
        key_lines: Mapping[str, int] | None = None,
        known_symbols: set[str] | None = None,
    ) -> Call:
        """Check the number of inputs and the argument names, and give the builder's :class:`Call`.

        ``op_as_written`` is the op's name as the user spelled it (an alias such as
        ``nn.Conv2d`` included), for the messages; ``sources`` the names of the inputs.
        """
        lines = key_lines or {}
        lo, hi = self.inputs
        if len(inputs) < lo or (hi is not None and len(inputs) > hi):
            want = f"{lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
            raise ArgumentError(
                f"{op_as_written} takes {want} input{'s' if want != '1' else ''}, got {len(inputs)} "
                f"({', '.join(repr(s) for s in sources)})",
                fix="list its sources with inputs: [a, b]" if lo > 1 else "give it one source with inputs: name",
                line=lines.get("inputs"),
            )
        self.check_args(op_as_written, args, lines)
        return Call(self, layer, args, inputs, env, key_lines, known_symbols)

    def check_args(self, op_as_written: str, args: Mapping[str, Any], key_lines: Mapping[str, int] | None = None) -> None:
        """Every argument name is one the op takes; all unknown ones are named at once, each with
        its spelling in this framework when another framework spells it so."""
        lines = key_lines or {}
        unknown = [key for key in args if key not in self.args]
        if unknown:
            hints = [self._spelling(key) for key in unknown]
            listed = "; ".join(f"'{k}'{h}" for k, h in zip(unknown, hints))
            first = unknown[0]
            single = len(unknown) == 1 and "spells it" not in hints[0]
            raise ArgumentError(
                (f"{op_as_written} has no argument '{first}'.{did_you_mean(first, self.args)}" if single else
                 f"{op_as_written} has no argument {listed}").replace("..", "."),
                fix=f"{op_as_written} takes: " + ", ".join(self.listed_args),
                key=first,
                line=lines.get(first),
            )


def _same_count(args: Mapping[str, Any], trainable: Dim, non_trainable: Dim) -> tuple[Dim, Dim]:
    return trainable, non_trainable


@dataclass
class Registry:
    """The ops of one framework, and the framework's parameter convention.

    ``param_convention(args, trainable, non_trainable)`` turns the counts of a layer's primitives
    into the framework's own count for a layer written with ``args`` (Keras: ``trainable: false``
    makes every parameter non-trainable); by default the counts stand. ``hint(call)``, when set,
    looks at every bound call before it is built and may add to ``call.hints`` (never fail): the
    framework's warnings about inputs that plan but are likely mistakes.
    """

    framework: str
    display: str
    ops: dict[str, OpDef] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    param_convention: Callable[[Mapping[str, Any], Dim, Dim], tuple[Dim, Dim]] = _same_count
    hint: Callable[[Call], None] | None = None

    def op(
        self,
        *names: str,
        args: Mapping[str, Any],
        inputs: tuple[int, int | None] = (1, 1),
        fix: Callable[[ConvcalcError, Call], str | None] | None = None,
        ranks: Iterable[int] | None = None,
        window: Window | None = None,
    ) -> Callable[[Callable[[Call], list[Primitive]]], Callable[[Call], list[Primitive]]]:
        """Register ``build`` under ``names``; with ``ranks``, name i gets rank ranks[i]."""
        rank_list = list(ranks) if ranks is not None else [None] * len(names)

        def register(build: Callable[[Call], list[Primitive]]) -> Callable[[Call], list[Primitive]]:
            for name, rank in zip(names, rank_list):
                self.ops[name] = OpDef(name, self.framework, build, dict(args), inputs, fix, rank, window)
            return build

        return register

    def alias(self, alias: str, target: str) -> None:
        """Accept ``alias`` (e.g. ``nn.Conv2d``, ``torch.cat``) for the op ``target``."""
        self.aliases[alias] = target

    def get(self, name: str) -> OpDef | None:
        if name in self.ops:
            return self.ops[name]
        if name in self.aliases:
            return self.ops[self.aliases[name]]
        return None

    def copy(self, framework: str, display: str) -> Registry:
        reg = Registry(framework, display, param_convention=self.param_convention, hint=self.hint)
        for name, od in self.ops.items():
            reg.ops[name] = dataclasses.replace(od, framework=framework)
        reg.aliases = dict(self.aliases)
        return reg


class Call:
    """One layer's arguments, input shapes and context, as its builder sees them.

    Attributes:
        op: the op definition; ``op.name`` is the framework's op name.
        layer: the layer's name in the model.
        inputs: input shapes (in the framework's layout).
        env: symbol values, for expression strings in arguments.
    """

    def __init__(
        self,
        op: OpDef,
        layer: str,
        args: Mapping[str, Any],
        inputs: tuple[Shape, ...],
        env: Mapping[str, int] | None = None,
        key_lines: Mapping[str, int] | None = None,
        known_symbols: set[str] | None = None,
    ) -> None:
        self.op = op
        self.known_symbols = set(known_symbols or ())
        self.layer = layer
        self.args = dict(args)
        self.inputs = inputs
        self.env = dict(env or {})
        self.key_lines = dict(key_lines or {})
        self.used_symbols: set[str] = set()
        self.hints: list[str] = []  # what looks wrong though it plans (an input in the other layout)

    # ---------------------------------------------------------------- plumbing

    @property
    def x(self) -> Shape:
        """The first (usually only) input shape."""
        return self.inputs[0]

    @property
    def rank(self) -> int:
        assert self.op.rank is not None, self.op.name
        return self.op.rank

    def fail(self, key: str | None, message: str, fix: str | None = None, cls: type = ArgumentError,
             reason: Reason | None = None) -> ConvcalcError:
        """An error about argument ``key`` (its own line when the loader recorded it); a
        :class:`ShapeError` (``cls``) needs its ``reason``."""
        extra = {"reason": reason} if reason is not None else {}
        return cls(message, fix=fix, key=key, line=self.key_lines.get(key) if key else None, **extra)

    def given(self, name: str) -> bool:
        """Whether the model file gave this argument (as opposed to its default)."""
        return name in self.args

    def raw(self, name: str) -> Any:
        """The value as written, or the op's default."""
        if name in self.args:
            return self.args[name]
        default = self.op.args.get(name, ABSENT)
        if default is REQUIRED:
            raise self.fail(
                name, f"{self.op.name} needs the argument '{name}'", fix=f"add {name}: ... to the layer"
            )
        return None if default is ABSENT else default

    # ---------------------------------------------------------------- typed accessors

    def _to_int(self, name: str, value: Any, *, allow_symbolic: bool = False) -> Dim:
        if isinstance(value, bool):
            raise self.fail(name, f"{name} must be an integer, not the boolean {value}")
        if isinstance(value, float):
            if value.is_integer():
                return int(value)
            raise self.fail(name, f"{name} must be an integer, got {value}")
        if isinstance(value, str):
            try:
                ast = parse_dim_ast(value)
                names = ast_names(ast)
                unknown = names - self.known_symbols - set(self.env)
                if unknown:
                    known = ", ".join(sorted(self.known_symbols | set(self.env))) or "none"
                    raise ArgumentError(
                        f"{value!r} is not a number, and {', '.join(sorted(unknown))} is not a symbol of the model "
                        f"(its symbols: {known})",
                        fix=f"write a number, or declare the symbol under symbols: (e.g. symbols: {{{sorted(unknown)[0]}: 16}})"
                        " or use it in an input shape",
                    )
                self.used_symbols |= names
                v = dim_from_ast(ast, self.env, value)
            except ArgumentError as e:
                raise self.fail(name, f"{name}: {e.message}", fix=e.fix) from None
            if not is_concrete(v) and not allow_symbolic:
                raise self.fail(
                    name,
                    f"{name} must be a number; {value!r} depends on symbols",
                    fix=f"give the symbols a value with --set, or write a number for {name}",
                )
            return v
        if type(value) is int:
            return value
        raise self.fail(name, f"{name} must be an integer, got {_describe(value)}")

    def int(self, name: str, *, min: int | None = 1, allow_symbolic: bool = False) -> Any:
        """An integer argument (``min`` checked when concrete)."""
        v = self._to_int(name, self.raw(name), allow_symbolic=allow_symbolic)
        if min is not None and is_concrete(v) and v < min:
            raise self.fail(name, f"{name} must be at least {min}, got {v}")
        return v

    def ints(self, name: str, n: int, *, min: int | None = 1, value: Any = ABSENT) -> tuple[int, ...]:
        """An int or a list of ``n`` ints (``kernel_size: 3`` or ``[3, 3]``)."""
        v = self.raw(name) if value is ABSENT else value
        if isinstance(v, (list, tuple)):
            if len(v) != n:
                raise self.fail(
                    name,
                    f"{name} must be one integer or a list of {n}, got {len(v)} values {list(v)}",
                    fix=f"write {name}: {v[0] if v else 1} or a list of {n}",
                )
            out = tuple(self._to_int(name, e) for e in v)
        else:
            out = (self._to_int(name, v),) * n
        if min is not None:
            for e in out:
                if e < min:
                    raise self.fail(name, f"{name} values must be at least {min}, got {_fmt_value(self.raw(name) if value is ABSENT else value)}")
        return out  # type: ignore[return-value]

    def dim(self, name: str, *, min: int = 1, value: Any = ABSENT) -> Dim:
        """A size that may be a symbol or an expression (``units: 4*F``)."""
        v = self.raw(name) if value is ABSENT else value
        d = self._to_int(name, v, allow_symbolic=True)
        if is_concrete(d) and d < min:
            raise self.fail(name, f"{name} must be at least {min}, got {d}")
        return d

    def flag(self, name: str) -> bool:
        v = self.raw(name)
        if isinstance(v, bool):
            return v
        raise self.fail(name, f"{name} must be true or false, got {_describe(v)}")

    def number(self, name: str) -> float:
        v = self.raw(name)
        if isinstance(v, str):  # YAML 1.1 reads 1e-3 (no dot) as a string
            try:
                v = float(v)
            except ValueError:
                pass
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(name, f"{name} must be a number, got {_describe(v)}")
        if not math.isfinite(v):
            raise self.fail(name, f"{name} must be finite, got {v}")
        return float(v)

    def choice(self, name: str, options: Iterable[str], *, case_insensitive: bool = True) -> str:
        """One of ``options`` (returned as spelled in ``options``)."""
        opts = list(options)
        v = self.raw(name)
        if isinstance(v, str):
            for o in opts:
                if v == o or (case_insensitive and v.lower() == o.lower()):
                    return o
        shown = ", ".join(repr(o) for o in opts)
        hint = did_you_mean(v, opts) if isinstance(v, str) else ""
        raise self.fail(name, f"{name} must be one of {shown}, got {_describe(v)}.{hint}".replace("..", "."))

    def in_range_axis(self, name: str, axis: int, ndim: int) -> int:
        if not -ndim <= axis < ndim:
            raise self.fail(
                name,
                f"{name}={axis} is out of range for the {ndim}-D input {fmt_shape(self.x)} "
                f"(valid: {-ndim} to {ndim - 1})",
                cls=ShapeError, reason=Reason.AXIS,
            )
        return axis % ndim


def _fmt_value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(e) for e in v) + "]"
    return repr(v) if isinstance(v, str) else str(v)


def _describe(v: Any) -> str:
    if v is None:
        return "nothing (null)"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return f"the list {_fmt_value(v)}"
    if isinstance(v, dict):
        return "a mapping"
    return f"{type(v).__name__} {v!r}"


def require_ndim(call: Call, allowed: Iterable[int], what: str, fix: str | None = None) -> None:
    """Reject an input whose number of axes is not in ``allowed``."""
    ok = sorted(set(allowed))
    n = len(call.x)
    if n not in ok:
        want = " or ".join(f"{k}-D" for k in ok)
        raise ShapeError(
            f"{call.op.name} expects a {want} input {what}, got {n}-D {fmt_shape(call.x)}", reason=Reason.RANK, fix=fix
        )


def channels_last(call: Call, default: bool) -> bool:
    """The layout from ``data_format`` where the op takes one (Keras), else ``default``."""
    if "data_format" not in call.op.args or call.raw("data_format") is None:
        return default
    return call.choice("data_format", ["channels_last", "channels_first"], case_insensitive=False) == "channels_last"


def binary_builder(op: str, what: str, in_place: bool = False):
    """An element-wise ``op`` (broadcasting) of two inputs, or of one input and a fixed tensor
    given by its shape: ``constant_shape`` (a constant: no parameters) or ``weight_shape`` (a
    learned tensor, e.g. ConvNeXt's layer scale: its elements are parameters). ``in_place``
    (PyTorch's ``add_``): the result is written into the first input, which must not grow."""

    def build(call: Call) -> list[Primitive]:
        given = [k for k in ("constant_shape", "weight_shape") if call.given(k)]
        if len(call.inputs) == 2:
            if given:
                raise call.fail(given[0], f"{call.op.name} of two tensors takes no {given[0]}")
            return [Elementwise(op=op, in_place=in_place)]
        if len(given) != 1:
            raise call.fail("constant_shape", f"{call.op.name} of one input needs the shape of its other operand: "
                            "constant_shape (a constant) or weight_shape (a learned tensor: its elements are params)",
                            fix="constant_shape: [] for a scalar, or weight_shape: [C, 1, 1]")
        shape = call.raw(given[0])
        if not isinstance(shape, (list, tuple)):
            raise call.fail(given[0], f"{given[0]} must be a list of sizes, got {shape!r}")
        dims = tuple(call._to_int(given[0], d) for d in shape)
        return [ConstantOperand(op=op, shape=dims, learned=given[0] == "weight_shape", in_place=in_place)]

    build.__doc__ = (f"``{what}``, broadcasting: of two tensors, or of one tensor and a constant (``constant_shape``) "
                     "or a learned tensor (``weight_shape``, counted as parameters).")
    return build


def opaque_builder(call: Call) -> list[Primitive]:
    """``Opaque``: a node of an imported model convcalc cannot model (``--partial``): its
    ``output_shapes`` as the source states them, ``params`` from its weights (``null``: unknown),
    ``source_op`` its op in the source. MACs unknown: totals become lower bounds."""
    raw = call.raw("output_shapes")
    if not isinstance(raw, (list, tuple)) or not raw or not all(isinstance(s, (list, tuple)) for s in raw):
        raise call.fail("output_shapes", f"output_shapes must be a list of shapes, got {raw!r}")
    shapes = tuple(tuple(call.dim("output_shapes", value=d) for d in s) for s in raw)
    params = call.raw("params")
    trainable = 0 if params is None else call.int("params", min=0)
    return [Opaque(shapes=shapes, trainable=trainable, params_known=params is not None,
                   source_op=str(call.raw("source_op") or ""))]


OPAQUE_ARGS = {"output_shapes": REQUIRED, "params": None, "source_op": None}
STORED_ARGS = {"shape": REQUIRED, "params": 0}


def stored_builder(call: Call) -> list[Primitive]:
    """A stored tensor the model uses as data (ViT's class token, a constant mask; ONNX
    ``Constant``, PyTorch ``Parameter``): its ``shape``, and as ``params`` the elements of the
    parameters it is made of (0 for a constant or a buffer)."""
    raw = call.raw("shape")
    if not isinstance(raw, (list, tuple)):
        raise call.fail("shape", f"shape must be a list of sizes, got {raw!r}")
    return [Stored(shape=tuple(call._to_int("shape", d) for d in raw), elements=call.int("params", min=0))]


def crop_to_builder(channels_last_default: bool):
    """The cross-framework ``CropTo`` op (two inputs): centre-crops the spatial axes of the first
    input to the sizes of the second. Rank from the input (``ndim - 2``)."""

    def build(call: Call) -> list[Primitive]:
        x, ref = call.inputs
        if len(x) < 3 or len(ref) != len(x):
            raise ShapeError(
                f"CropTo needs two inputs with the same number of axes (batch, channels, spatial...), got "
                f"{fmt_shape(x)} and {fmt_shape(ref)}",
                reason=Reason.RANK,
            )
        return [CropTo(rank=len(x) - 2, channels_last=channels_last(call, channels_last_default))]

    build.__doc__ = crop_to_builder.__doc__
    return build


def per_sample_conv_builder(channels_last_default: bool):
    """The cross-framework ``PerSampleConv`` op (inputs: signals, kernels; ``mode`` valid, same
    or full): each sample's signal convolved with that sample's own kernel."""

    def build(call: Call) -> list[Primitive]:
        x, _ = call.inputs
        if len(x) < 3:
            raise ShapeError(f"PerSampleConv needs (N, length..., channels) inputs, got {fmt_shape(x)}", reason=Reason.RANK)
        return [PerSampleConv(rank=len(x) - 2, mode=call.choice("mode", ["valid", "same", "full"]),
                              channels_last=channels_last(call, channels_last_default))]

    build.__doc__ = per_sample_conv_builder.__doc__
    return build
