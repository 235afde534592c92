"""The canonical layers: one frozen dataclass per kind, framework-free.

A frontend lowers each framework layer into a short chain of these primitives (a PyTorch
``Conv2d`` is one :class:`Conv`; a Keras ``SeparableConv2D`` is a depthwise :class:`Conv`, a
pointwise :class:`Conv` and maybe an :class:`Activation`). Every primitive answers three
questions, and nothing below this module knows which framework a layer came from:

- :meth:`Primitive.infer` — the output shape, from the input shapes (raises :class:`ShapeError`
  with the formula and the numbers when the shapes do not work);
- :meth:`Primitive.params` — ``(trainable, non_trainable)`` parameter counts;
- :meth:`Primitive.macs` — multiply-accumulates, by design.md §4.

Shapes are in the tensor's real layout. Spatial primitives know their spatial ``rank`` and
whether channels come last; the spatial axes are counted from the end, so leading batch
dimensions (tf.keras' extra ones, PyTorch's unbatched inputs) need no special case.

Padding is explicit ``(begin, end)`` per spatial axis, or a policy ``"same_upper"`` /
``"same_lower"`` whose pads depend on the input size (TF/Keras ``same`` is ``same_upper``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Callable, ClassVar, Union

from . import formulas as F
from .dims import (
    Dim,
    Shape,
    divisible,
    eq,
    floordiv,
    fmt_dim,
    fmt_shape,
    ge,
    is_concrete,
    norm,
    prod,
)
from .errors import Reason, ShapeError

Pads = tuple[tuple[Dim, Dim], ...]
Padding = Union[Pads, str]  # explicit (begin, end) per spatial axis, or "same_upper"/"same_lower"

AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def axis_name(rank: int, i: int) -> str:
    """``H``/``W`` style name of spatial axis ``i`` of a ``rank``-D layer (``X0``, ... past 3-D)."""
    names = AXIS_NAMES.get(rank)
    return names[i] if names is not None else f"X{i}"


# --------------------------------------------------------------------------- constraints


@dataclass(frozen=True)
class Constraint:
    """Something the symbols must satisfy: ``lhs >= rhs``, ``lhs == rhs`` or ``lhs % rhs == 0``
    (``op`` is ``">="``, ``"=="`` or ``"%0"``).

    ``kind`` is ``"valid"`` (every size >= 1, kernels fit), ``"merge"`` (the inputs of a merge
    agree), ``"exact"`` (every input row is read by some window, and centre crops are centred: the
    U-Net tiling condition) or ``"invertible"`` (a transposed convolution with the same arguments
    gives back the size).
    :func:`convcalc.constraints.describe` states it in plain words, solved for its symbol where it
    has one (``H >= 5``, ``H % 16 == 12``); this value only holds the relation.
    """

    kind: str
    lhs: Any
    op: str
    rhs: Any
    layer: str | None = None


class Checks:
    """Collects constraints while shapes are inferred; raises on violations that are certain.

    Each ``require_*`` is three-valued: a certain violation raises the error built by
    ``error()``, a certain success passes, an undecidable condition becomes a :class:`Constraint`.
    :meth:`exact` never raises: a concrete remainder becomes a note, a symbolic one a constraint.
    """

    def __init__(self) -> None:
        self.constraints: list[Constraint] = []
        self.notes: list[str] = []  # input rows no window reads (or a centre crop off-centre)
        self.inversion_notes: list[str] = []  # sizes a transposed convolution would not give back
        self.hints: list[str] = []  # what plans but looks like a mistake
        self.layer: str | None = None

    def _record(self, kind: str, lhs: Any, op: str, rhs: Any) -> None:
        c = Constraint(kind, lhs, op, rhs, self.layer)
        if all((c.kind, c.lhs, c.op, c.rhs) != (o.kind, o.lhs, o.op, o.rhs) for o in self.constraints):
            self.constraints.append(c)

    def _require(self, verdict: bool | None, error: Callable[[], ShapeError], kind: str, lhs: Any, op: str,
                 rhs: Any) -> None:
        if verdict is False:
            raise error()
        if verdict is None:
            self._record(kind, lhs, op, rhs)

    def require_ge(self, a: Dim, b: Dim, error: Callable[[], ShapeError], kind: str = "valid") -> None:
        self._require(ge(a, b), error, kind, a, ">=", b)

    def require_eq(self, a: Dim, b: Dim, error: Callable[[], ShapeError], kind: str = "merge") -> None:
        self._require(eq(a, b), error, kind, a, "==", b)

    def require_divisible(self, x: Dim, d: Dim, error: Callable[[], ShapeError], kind: str = "valid") -> None:
        self._require(divisible(x, d), error, kind, x, "%0", d)

    def _note(self, notes: list[str], note: str) -> None:
        if notes and notes[-1].startswith(f"{self.layer}: "):
            notes[-1] += f", {note}"
        else:
            notes.append(f"{self.layer}: {note}")

    def exact(self, x: Dim, d: int, axis: str) -> None:
        """A centre crop of ``x`` elements off ``axis`` is centred when ``x`` is even (``d`` = 2)."""
        if d == 1:
            return
        verdict = divisible(x, d)
        if verdict is False:
            self._note(self.notes, f"{axis} cropped off-centre by {x % d}")
        elif verdict is None:
            self._record("exact", x, "%0", d)

    def windows(self, L: Dim, pb: Dim, pe: Dim, k_eff: int, s: int, out: Dim, axis: str) -> None:
        """What the windows of a strided convolution or pooling read along ``axis`` (§1.0):

        - input rows no window reads: ``pb + L - ((out - 1)*s + k_eff)`` when positive — only
          real rows count, never padding (ResNet-50's conv1 at 224 reads every row);
        - windows narrower than the stride (a 1x1 stride-2 convolution) read ``k_eff`` rows in
          every ``s``;
        - apart from these, whether a transposed convolution with the same arguments gives back
          the size: ``(L + pb + pe - k_eff) % s == 0`` (Dumoulin & Visin, relation 14), its own
          kind of constraint, ``invertible``.
        """
        if s == 1:
            return
        if k_eff < s:  # rows between the windows are skipped whatever the size
            self._note(self.notes, f"{axis}: {k_eff} row{'s' * (k_eff != 1)} read in every {s}")
        else:
            unread = norm(pb + L - ((out - 1) * s + k_eff))
            verdict = ge(0, unread)
            if verdict is False:
                self._note(self.notes, f"{axis}: the last {fmt_dim(unread)} input row{'s' * (unread != 1)} never read")
            elif verdict is None:
                self._record("exact", norm(-unread), ">=", 0)
        x = norm(L + pb + pe - k_eff)
        recovered = divisible(x, s)
        if recovered is False:
            self._note(self.inversion_notes, f"{axis} {fmt_dim(L)}")
        elif recovered is None:
            self._record("invertible", x, "%0", s)


# --------------------------------------------------------------------------- layout helpers


@dataclass(frozen=True)
class Layout:
    """Where batch, channel and spatial axes sit in a tensor of a given rank."""

    batch_axes: tuple[int, ...]
    channel_axis: int
    spatial_axes: tuple[int, ...]


def layout(shape: Shape, rank: int, channels_last: bool, what: str) -> Layout:
    """Axes of a ``rank``-D spatial layer's input, counted from the end.

    >>> layout((8, 3, 224, 224), 2, False, "Conv")
    Layout(batch_axes=(0,), channel_axis=1, spatial_axes=(2, 3))
    """
    n = len(shape)
    if n < rank + 1:
        raise ShapeError(
            f"needs an input with at least {rank + 1} axes ({rank} spatial + channels), got {n}-D {fmt_shape(shape)}",
            reason=Reason.RANK,
        )
    return _layout(n, rank, channels_last)


@lru_cache(maxsize=256)
def _layout(n: int, rank: int, channels_last: bool) -> Layout:
    """The axes depend only on the number of axes (remembered: every layer asks)."""
    if channels_last:
        return Layout(tuple(range(n - rank - 1)), n - 1, tuple(range(n - rank - 1, n - 1)))
    return Layout(tuple(range(n - rank - 1)), n - rank - 1, tuple(range(n - rank, n)))


def replace_axes(shape: Shape, new: dict[int, Dim]) -> Shape:
    return tuple(new.get(i, d) for i, d in enumerate(shape))


def _same_pad_pairs(shape: Shape, lay: Layout, kernel, stride, dilation, policy: str) -> Pads:
    return tuple(
        F.same_pads(shape[ax], kernel[i], stride[i], dilation[i], lower=policy == "same_lower")
        for i, ax in enumerate(lay.spatial_axes)
    )


# --------------------------------------------------------------------------- the primitives

# Every primitive is a frozen, keyword-only dataclass whose equality, hash and repr are the ones
# dataclasses would write — the fields in order, same class only — but defined once on
# :class:`Primitive` instead of generated per class: dataclasses compiles each generated method
# from source, and three of the six per class were a third of this module's import time (11.6 ms
# -> 7.8 ms; a concrete ``convcalc plan`` imports it every run). tests/test_ir_records.py holds
# them to what ``@dataclass(frozen=True)`` generates.
primitive = dataclass(frozen=True, kw_only=True, eq=False, repr=False)
_COMPARED: dict[type, tuple[str, ...]] = {}
_SHOWN: dict[type, tuple[str, ...]] = {}


def _compared(cls: type) -> tuple[str, ...]:
    names = _COMPARED.get(cls)
    if names is None:
        names = _COMPARED[cls] = tuple(f.name for f in fields(cls) if f.compare)
    return names


@primitive
class Primitive:
    """Base class: shape-preserving, parameter-free, no MACs, unless a subclass says otherwise."""

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = _compared(self.__class__)
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in _compared(self.__class__)))

    def __repr__(self) -> str:
        cls = self.__class__
        names = _SHOWN.get(cls)
        if names is None:
            names = _SHOWN[cls] = tuple(f.name for f in fields(cls) if f.repr)
        return f"{cls.__qualname__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    kind: ClassVar[str] = "primitive"
    arity: ClassVar[tuple[int, int | None]] = (1, 1)  # (min, max) number of inputs
    unknown: ClassVar[frozenset[str]] = frozenset()  # figures this primitive cannot know ("macs", "params")

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        return inputs[0]

    def infer_all(self, inputs: tuple[Shape, ...], checks: Checks) -> tuple[Shape, ...]:
        """Every output shape: one for all primitives but :class:`Split`, which overrides this."""
        return (self.infer(inputs, checks),)

    def params(self) -> tuple[Dim, Dim]:
        return (0, 0)

    def macs(self, inputs: tuple[Shape, ...], output: Shape) -> Dim:
        return 0


@primitive
class Conv(Primitive):
    """N-d convolution, grouped and dilated, with explicit or policy padding (§1).

    ``padding_mode`` (zeros/reflect/replicate/circular) never changes the shape (§1.1), but
    reflect needs ``pad < L`` and circular ``pad <= L``.
    """

    kind: ClassVar[str] = "conv"
    rank: int
    in_channels: Dim
    out_channels: Dim
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Padding
    groups: int = 1
    bias: bool = True
    channels_last: bool = False
    padding_mode: str = "zeros"

    def explicit_padding(self, x: Shape) -> Pads:
        """Explicit (begin, end) pads for input ``x`` (resolving a ``same_*`` policy)."""
        if isinstance(self.padding, str):
            lay = layout(x, self.rank, self.channels_last, "conv")
            return _same_pad_pairs(x, lay, self.kernel, self.stride, self.dilation, self.padding)
        return self.padding

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        lay = layout(x, self.rank, self.channels_last, "conv")
        c = x[lay.channel_axis]
        checks.require_eq(
            c,
            self.in_channels,
            lambda: ShapeError(
                f"expects {fmt_dim(self.in_channels)} input channels, but the input {fmt_shape(x)} has {fmt_dim(c)}",
                reason=Reason.CHANNELS,
                data={"expected": self.in_channels, "got": c},
            ),
            kind="valid",
        )
        checks.require_divisible(
            c,
            self.groups,
            lambda: ShapeError(
                f"input channels ({fmt_dim(c)}) are not divisible by groups ({self.groups})", reason=Reason.GROUPS
            ),
        )
        checks.require_divisible(
            self.out_channels,
            self.groups,
            lambda: ShapeError(
                f"output channels ({fmt_dim(self.out_channels)}) are not divisible by groups ({self.groups})",
                reason=Reason.GROUPS,
            ),
        )
        out: dict[int, Dim] = {lay.channel_axis: self.out_channels}
        for i, ax in enumerate(lay.spatial_axes):
            L = x[ax]
            k, s, d = self.kernel[i], self.stride[i], self.dilation[i]
            name = axis_name(self.rank, i)
            if isinstance(self.padding, str):
                out[ax] = F.same_out(L, s)
                continue
            pb, pe = self.padding[i]
            self._check_padding_mode(L, pb, pe, name, x, checks)
            o = F.conv_out(L, k, s, pb, pe, d)
            k_eff = F.effective_kernel(k, d)

            def empty(o=o, L=L, pb=pb, pe=pe, k=k, s=s, d=d, name=name, k_eff=k_eff, i=i) -> ShapeError:
                max_k = floordiv(L + pb + pe - 1, d) + 1
                return ShapeError(
                    f"output would be empty ({name} = {fmt_dim(o)}): the kernel spans {k_eff} but the padded "
                    f"input is {fmt_dim(norm(L + pb + pe))}",
                    details=F.CONV_OUT.explain(f"{name}_out", o, L=L, pb=pb, pe=pe, d=d, k=k, s=s),
                    reason=Reason.EMPTY_OUTPUT,
                    data={"axis": name, "axis_index": i, "input": L, "max_kernel": max_k, "kernel": k, "dilation": d},
                )

            checks.require_ge(norm(L + pb + pe), k_eff, empty)
            checks.windows(L, pb, pe, k_eff, s, o, name)
            out[ax] = o
        return replace_axes(x, out)

    def _check_padding_mode(self, L: Dim, pb: Dim, pe: Dim, name: str, x: Shape, checks: Checks) -> None:
        if self.padding_mode == "reflect":
            for p in (pb, pe):
                checks.require_ge(
                    L,
                    norm(p + 1),
                    lambda p=p: ShapeError(
                        f"reflect padding {fmt_dim(p)} must be smaller than the input size {name} = {fmt_dim(L)}",
                        reason=Reason.REFLECT_PAD,
                        data={"axis": name, "pad": p, "input": L},
                    ),
                )
        elif self.padding_mode == "circular":
            for p in (pb, pe):
                checks.require_ge(
                    L,
                    p,
                    lambda p=p: ShapeError(
                        f"circular padding {fmt_dim(p)} wraps around more than once: the input is "
                        f"{name} = {fmt_dim(L)}",
                        reason=Reason.CIRCULAR_PAD,
                    ),
                )

    def params(self) -> tuple[Dim, Dim]:
        return (F.conv_params(self.in_channels, self.out_channels, self.groups, prod(self.kernel), self.bias), 0)

    def macs(self, inputs: tuple[Shape, ...], output: Shape) -> Dim:
        lay = layout(output, self.rank, self.channels_last, "conv")
        batch = prod(output[a] for a in lay.batch_axes)
        positions = prod(output[a] for a in lay.spatial_axes)
        return F.conv_macs(batch, positions, self.out_channels, self.in_channels, self.groups, prod(self.kernel))


@primitive
class ConvTranspose(Primitive):
    """N-d transposed convolution (§2).

    ``crops`` (the framework's padding) are cut from the full scatter output ``(L-1)*s + k_eff``
    at the begin/end of each axis, and ``output_padding`` zeros are added at the end.
    """

    kind: ClassVar[str] = "conv_transpose"
    rank: int
    in_channels: Dim
    out_channels: Dim
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    crops: Pads
    output_padding: tuple[Dim, ...]
    groups: int = 1
    bias: bool = True
    channels_last: bool = False

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        lay = layout(x, self.rank, self.channels_last, "conv_transpose")
        c = x[lay.channel_axis]
        checks.require_eq(
            c,
            self.in_channels,
            lambda: ShapeError(
                f"expects {fmt_dim(self.in_channels)} input channels, but the input {fmt_shape(x)} has {fmt_dim(c)}",
                reason=Reason.CHANNELS,
            ),
            kind="valid",
        )
        checks.require_divisible(
            c, self.groups, lambda: ShapeError(f"input channels ({fmt_dim(c)}) are not divisible by groups ({self.groups})", reason=Reason.GROUPS)
        )
        out: dict[int, Dim] = {lay.channel_axis: self.out_channels}
        for i, ax in enumerate(lay.spatial_axes):
            L = x[ax]
            k, s, d = self.kernel[i], self.stride[i], self.dilation[i]
            (pb, pe), a = self.crops[i], self.output_padding[i]
            o = F.conv_transpose_out(L, k, s, pb, pe, d, a)
            name = axis_name(self.rank, i)
            checks.require_ge(
                o,
                1,
                lambda o=o, L=L, k=k, s=s, d=d, pb=pb, pe=pe, a=a, name=name: ShapeError(
                    f"output would be empty ({name} = {fmt_dim(o)}): the padding crops more than the "
                    f"transposed convolution produces",
                    details=F.CONV_TRANSPOSE_OUT.explain(f"{name}_out", o, L=L, s=s, pb=pb, pe=pe, d=d, k=k, a=a),
                    reason=Reason.EMPTY_OUTPUT,
                ),
            )
            out[ax] = o
        return replace_axes(x, out)

    def params(self) -> tuple[Dim, Dim]:
        weights = norm(self.in_channels * floordiv(self.out_channels, self.groups) * prod(self.kernel))
        return (norm(weights + (self.out_channels if self.bias else 0)), 0)

    def macs(self, inputs: tuple[Shape, ...], output: Shape) -> Dim:
        x = inputs[0]
        lay = layout(x, self.rank, self.channels_last, "conv_transpose")
        batch = prod(x[a] for a in lay.batch_axes)
        positions = prod(x[a] for a in lay.spatial_axes)
        return F.conv_transpose_macs(batch, positions, self.in_channels, self.out_channels, self.groups, prod(self.kernel))


@primitive
class Pool(Primitive):
    """Max or average pooling over windows (§3). No parameters and, by convention, no MACs.

    ``count_include_pad`` decides whether padded zeros count in an average (values only);
    Keras ``same`` excludes them.
    """

    kind: ClassVar[str] = "pool"
    mode: str  # "max" | "avg"
    rank: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Padding
    ceil_mode: bool = False
    count_include_pad: bool = True
    channels_last: bool = False

    def explicit_padding(self, x: Shape) -> Pads:
        """Explicit (begin, end) pads for input ``x`` (resolving a ``same_*`` policy)."""
        if isinstance(self.padding, str):
            lay = layout(x, self.rank, self.channels_last, "pool")
            return _same_pad_pairs(x, lay, self.kernel, self.stride, self.dilation, self.padding)
        return self.padding

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        lay = layout(x, self.rank, self.channels_last, "pool")
        out: dict[int, Dim] = {}
        for i, ax in enumerate(lay.spatial_axes):
            L = x[ax]
            k, s, d = self.kernel[i], self.stride[i], self.dilation[i]
            name = axis_name(self.rank, i)
            if isinstance(self.padding, str):
                out[ax] = F.same_out(L, s)
                continue
            pb, pe = self.padding[i]
            o = F.pool_out(L, k, s, pb, pe, d, self.ceil_mode)
            k_eff = F.effective_kernel(k, d)
            formula = F.POOL_CEIL_OUT if self.ceil_mode else F.CONV_OUT
            # ceil_mode lets the last window hang past the end: one window exists as soon as
            # L + pb + pe - k_eff + s - 1 >= 0 (floor mode: the window must fit).
            slack = s - 1 if self.ceil_mode else 0

            def empty(o=o, L=L, pb=pb, pe=pe, k=k, s=s, d=d, name=name, k_eff=k_eff, formula=formula, i=i) -> ShapeError:
                return ShapeError(
                    f"output would be empty ({name} = {fmt_dim(o)}): the pooling window spans {k_eff} but the "
                    f"padded input is {fmt_dim(norm(L + pb + pe))}",
                    details=formula.explain(f"{name}_out", o, L=L, pb=pb, pe=pe, d=d, k=k, s=s),
                    reason=Reason.EMPTY_OUTPUT,
                    data={"axis": name, "axis_index": i, "input": L, "max_kernel": floordiv(L + pb + pe - 1, d) + 1},
                )

            checks.require_ge(norm(L + pb + pe + slack), k_eff, empty)
            if not self.ceil_mode:
                checks.windows(L, pb, pe, k_eff, s, o, name)
            out[ax] = o
        return replace_axes(x, out)


@primitive
class AdaptivePool(Primitive):
    """Adaptive max/average pooling to a fixed output size (``None`` keeps the input size) (§3.4).

    Bins follow PyTorch: bin ``i`` covers ``[floor(i*L/O), ceil((i+1)*L/O))``; they may overlap
    and ``O > L`` is allowed.
    """

    kind: ClassVar[str] = "adaptive_pool"
    mode: str
    rank: int
    output_size: tuple[Dim | None, ...]
    channels_last: bool = False

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        lay = layout(x, self.rank, self.channels_last, "adaptive_pool")
        new = {ax: (x[ax] if o is None else o) for ax, o in zip(lay.spatial_axes, self.output_size)}
        return replace_axes(x, new)


@primitive
class GlobalPool(Primitive):
    """Global max/average over every spatial axis; ``keepdims`` keeps them as 1s (§3.4)."""

    kind: ClassVar[str] = "global_pool"
    mode: str
    rank: int
    keepdims: bool
    channels_last: bool = False

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        lay = layout(x, self.rank, self.channels_last, "global_pool")
        if self.keepdims:
            return replace_axes(x, {ax: 1 for ax in lay.spatial_axes})
        return tuple(d for i, d in enumerate(x) if i not in lay.spatial_axes)


@primitive
class Pad(Primitive):
    """Pad every axis by ``(begin, end)`` (one pair per axis of the tensor) (§4).

    ``mode``: constant (negative pads crop, as in ``F.pad``), reflect (pad < L), replicate,
    circular (pad <= L).
    """

    kind: ClassVar[str] = "pad"
    widths: Pads  # (begin, end) per axis; negative widths crop
    mode: str = "constant"
    value: float = 0.0
    limits: bool = True  # PyTorch's reflect < L and circular <= L; ONNX states none

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        if len(self.widths) != len(x):
            raise ShapeError(f"padding has {len(self.widths)} axes, the input {fmt_shape(x)} has {len(x)}", reason=Reason.RANK)
        out = []
        for i, (L, (pb, pe)) in enumerate(zip(x, self.widths)):
            o = norm(L + pb + pe)
            if self.limits and self.mode == "reflect" and (pb != 0 or pe != 0):
                for p in (pb, pe):
                    checks.require_ge(
                        L,
                        norm(p + 1),
                        lambda p=p, L=L, i=i: ShapeError(
                            f"reflect padding {fmt_dim(p)} must be smaller than the input size {fmt_dim(L)} "
                            f"(axis {i} of {fmt_shape(x)})",
                            reason=Reason.REFLECT_PAD,
                        ),
                    )
            if self.limits and self.mode == "circular":
                for p in (pb, pe):
                    checks.require_ge(
                        L,
                        p,
                        lambda p=p, L=L, i=i: ShapeError(
                            f"circular padding {fmt_dim(p)} wraps around more than once: axis {i} of "
                            f"{fmt_shape(x)} has size {fmt_dim(L)}",
                            reason=Reason.CIRCULAR_PAD,
                        ),
                    )
            checks.require_ge(
                o,
                1,
                lambda o=o, L=L, pb=pb, pe=pe, i=i: ShapeError(
                    f"axis {i} would be empty: {fmt_dim(L)} + {fmt_dim(pb)} + {fmt_dim(pe)} = {fmt_dim(o)}",
                    reason=Reason.EMPTY_OUTPUT,
                ),
            )
            out.append(o)
        return tuple(out)


@primitive
class Crop(Primitive):
    """Remove ``(begin, end)`` elements from each axis (one pair per axis of the tensor)."""

    kind: ClassVar[str] = "crop"
    crops: Pads

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        out = []
        for i, (L, (cb, ce)) in enumerate(zip(x, self.crops)):
            o = norm(L - cb - ce)
            checks.require_ge(
                o,
                1,
                lambda o=o, L=L, cb=cb, ce=ce, i=i: ShapeError(
                    f"cropping {fmt_dim(cb)} + {fmt_dim(ce)} leaves nothing of axis {i} (size {fmt_dim(L)}) "
                    f"of {fmt_shape(x)}",
                    reason=Reason.EMPTY_OUTPUT,
                ),
            )
            out.append(o)
        return tuple(out)


@primitive
class CropTo(Primitive):
    """Centre-crop the spatial axes of the first input to the sizes of the second (two inputs).

    Per axis ``d = L_first - L_second`` elements go, ``floor(d/2)`` at the start and the rest at
    the end (Caffe's ``Crop`` layer; slicing in PyTorch code). The first must not be smaller
    (a merge constraint), and an odd ``d`` crops off-centre (an exactness constraint: the U-Net
    skips want it even).
    """

    kind: ClassVar[str] = "crop_to"
    arity: ClassVar[tuple[int, int | None]] = (2, 2)
    rank: int
    channels_last: bool = False

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x, ref = inputs
        lx = layout(x, self.rank, self.channels_last, "crop_to")
        lr = layout(ref, self.rank, self.channels_last, "crop_to")
        new: dict[int, Dim] = {}
        for i, (ax, ar) in enumerate(zip(lx.spatial_axes, lr.spatial_axes)):
            a, b = x[ax], ref[ar]
            name = axis_name(self.rank, i)
            checks.require_ge(
                a,
                b,
                lambda a=a, b=b, name=name: ShapeError(
                    f"cannot crop {name} = {fmt_dim(a)} of {fmt_shape(x)} to {fmt_dim(b)} of {fmt_shape(ref)}: it is "
                    "smaller",
                    reason=Reason.CROP_TO,
                    fix="the first input is the one cropped; swap the inputs, or pad instead",
                ),
                kind="merge",
            )
            checks.exact(norm(a - b), 2, name)
            new[ax] = b
        return replace_axes(x, new)

    def crops(self, x: Shape, ref: Shape) -> Pads:
        """The (begin, end) amounts per axis of the whole tensor."""
        lx = layout(x, self.rank, self.channels_last, "crop_to")
        lr = layout(ref, self.rank, self.channels_last, "crop_to")
        out = [(0, 0)] * len(x)
        for ax, ar in zip(lx.spatial_axes, lr.spatial_axes):
            d = norm(x[ax] - ref[ar])
            out[ax] = (floordiv(d, 2), norm(d - floordiv(d, 2)))
        return tuple(out)


@primitive
class PerSampleConv(Primitive):
    """Each sample's signal convolved with that sample's own kernel (two inputs, no weights).

    Signal ``(N, *L, M)`` and kernels ``(N, *K, M)`` (channels last; channels first
    ``(N, M, *L)`` likewise): channel ``m`` of sample ``n`` is slid against kernel channel ``m``
    of sample ``n`` — cross-correlation, as ``tf.nn.conv1d`` and ``F.conv1d`` compute (a
    textbook convolution flips the kernel; the sizes and costs are the same). Modes per axis:
    ``valid`` ``L - K + 1`` (needs ``L >= K``), ``same`` ``L`` (odd padding at the end, as TF),
    ``full`` ``L + K - 1``. MACs ``N * M * prod(out) * prod(K)``, zeros of the padding included —
    exactly the grouped-convolution trick's (batch folded into channels, groups = N*M).
    """

    kind: ClassVar[str] = "per_sample_conv"
    arity: ClassVar[tuple[int, int | None]] = (2, 2)
    rank: int
    mode: str = "valid"
    channels_last: bool = True

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x, kern = inputs
        lx = layout(x, self.rank, self.channels_last, "per_sample_conv")
        lk = layout(kern, self.rank, self.channels_last, "per_sample_conv")
        if len(x) != len(kern):
            raise ShapeError(f"the signal {fmt_shape(x)} and the kernels {fmt_shape(kern)} need the same number of axes",
                             reason=Reason.RANK)
        for what, a, b in (("samples (N)", x[0], kern[0]), ("channels (M)", x[lx.channel_axis], kern[lk.channel_axis])):
            checks.require_eq(a, b, lambda what=what, a=a, b=b: ShapeError(
                f"the signal {fmt_shape(x)} and the kernels {fmt_shape(kern)} differ in {what}: {fmt_dim(a)} vs "
                f"{fmt_dim(b)}", reason=Reason.MERGE), kind="merge")
        new: dict[int, Dim] = {}
        for i, (ax, ak) in enumerate(zip(lx.spatial_axes, lk.spatial_axes)):
            L, K = x[ax], kern[ak]
            name = axis_name(self.rank, i)
            if self.mode == "valid":
                checks.require_ge(L, K, lambda L=L, K=K, name=name: ShapeError(
                    f"'valid' needs the signal at least as long as the kernel, but {name} = {fmt_dim(L)} < "
                    f"{fmt_dim(K)}: L_out = L - K + 1 = {fmt_dim(norm(L - K + 1))}",
                    reason=Reason.EMPTY_OUTPUT,
                    fix="mode: full (L + K - 1) or same (L), or longer signals"))
                new[ax] = norm(L - K + 1)
            elif self.mode == "full":
                new[ax] = norm(L + K - 1)
            else:
                new[ax] = L
        return replace_axes(x, new)

    def macs(self, inputs: tuple[Shape, ...], output: Shape) -> Dim:
        x, kern = inputs
        lo = layout(output, self.rank, self.channels_last, "per_sample_conv")
        lk = layout(kern, self.rank, self.channels_last, "per_sample_conv")
        return norm(output[0] * output[lo.channel_axis] * prod(output[a] for a in lo.spatial_axes)
                    * prod(kern[a] for a in lk.spatial_axes))


@primitive
class Resize(Primitive):
    """Resize the spatial axes to ``sizes`` or by ``scales`` (``floor(L * scale)``) (§4)."""

    kind: ClassVar[str] = "resize"
    rank: int
    mode: str = "nearest"
    sizes: tuple[Dim, ...] | None = None
    scales: tuple[Any, ...] | None = None  # float or Fraction per spatial axis
    channels_last: bool = False
    align_corners: bool = False

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        lay = layout(x, self.rank, self.channels_last, "resize")
        new: dict[int, Dim] = {}
        for i, ax in enumerate(lay.spatial_axes):
            L = x[ax]
            o = self.sizes[i] if self.sizes is not None else F.scale_out(L, self.scales[i])  # type: ignore[index]
            name = axis_name(self.rank, i)
            checks.require_ge(
                o,
                1,
                lambda o=o, L=L, name=name, i=i: ShapeError(
                    f"output would be empty ({name} = floor({fmt_dim(L)} * {self.scales[i]}) = {fmt_dim(o)})"  # type: ignore[index]
                    if self.scales is not None
                    else f"output size {name} = {fmt_dim(o)} must be at least 1",
                    reason=Reason.EMPTY_OUTPUT,
                ),
            )
            new[ax] = o
        return replace_axes(x, new)


@primitive
class ResizeTo(Primitive):
    """Resize the spatial axes of the first input to the sizes of the second (two inputs):
    ``F.interpolate(x, size=skip.shape[-2:])``, the size kept as the other tensor's, symbolic
    where it is."""

    kind: ClassVar[str] = "resize_to"
    arity: ClassVar[tuple[int, int | None]] = (2, 2)
    rank: int
    mode: str = "nearest"
    channels_last: bool = False
    align_corners: bool = False

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x, ref = inputs
        lx = layout(x, self.rank, self.channels_last, "resize_to")
        lr = layout(ref, self.rank, self.channels_last, "resize_to")
        return replace_axes(x, {ax: ref[ar] for ax, ar in zip(lx.spatial_axes, lr.spatial_axes)})


def _norm_axis(axis: int, ndim: int, what: str) -> int:
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{what} {axis} is out of range for a {ndim}-D input (valid: {-ndim} to {ndim - 1})", reason=Reason.AXIS)
    return axis % ndim


@primitive
class Flatten(Primitive):
    """Merge axes ``start..end`` (inclusive; negative counts from the end) into one."""

    kind: ClassVar[str] = "flatten"
    start: int = 1
    end: int = -1

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        if len(x) == 0:
            return (1,)
        a, b = _norm_axis(self.start, len(x), "start axis"), _norm_axis(self.end, len(x), "end axis")
        if a > b:
            raise ShapeError(f"flatten start axis {self.start} comes after end axis {self.end} for {fmt_shape(x)}", reason=Reason.AXIS)
        return tuple(x[:a]) + (prod(x[a : b + 1]),) + tuple(x[b + 1 :])


@primitive
class Reshape(Primitive):
    """Reshape to ``target`` (the full shape; one ``-1`` is inferred). Element counts must match."""

    kind: ClassVar[str] = "reshape"
    target: tuple[Dim, ...]

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        total = prod(x)
        unknown = [i for i, d in enumerate(self.target) if is_concrete(d) and d == -1]
        if len(unknown) > 1:
            raise ShapeError(f"the target shape {fmt_shape(self.target)} has more than one -1", reason=Reason.RESHAPE)
        for d in self.target:
            if is_concrete(d) and d < 1 and d != -1:
                raise ShapeError(f"the target shape {fmt_shape(self.target)} has a non-positive size {d}", reason=Reason.RESHAPE)
        known = prod(d for d in self.target if not (is_concrete(d) and d == -1))
        mismatch = lambda: ShapeError(  # noqa: E731
            f"cannot reshape {fmt_shape(x)} ({fmt_dim(total)} elements) into {fmt_shape(self.target)}"
            + ("" if unknown else f" ({fmt_dim(known)} elements)"),
            reason=Reason.RESHAPE,
        )
        if unknown:
            checks.require_divisible(total, known, mismatch)
            missing = norm(floordiv(total, known)) if divisible(total, known) is not None else norm(total / known)
            return tuple(missing if i == unknown[0] else d for i, d in enumerate(self.target))
        checks.require_eq(total, known, mismatch, kind="valid")
        return tuple(self.target)


@primitive
class Permute(Primitive):
    """Reorder axes: output axis ``i`` is input axis ``perm[i]``."""

    kind: ClassVar[str] = "permute"
    perm: tuple[int, ...]

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        perm = tuple(p % len(x) if -len(x) <= p < len(x) else p for p in self.perm)
        if sorted(perm) != list(range(len(x))):
            raise ShapeError(
                f"{self.perm} is not a permutation of the {len(x)} axes of {fmt_shape(x)}", reason=Reason.PERMUTE
            )
        return tuple(x[p] for p in perm)


@primitive
class Concat(Primitive):
    """Concatenate along ``axis``; every other axis must agree."""

    kind: ClassVar[str] = "concat"
    arity: ClassVar[tuple[int, int | None]] = (1, None)
    axis: int

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        first = inputs[0]
        for other in inputs[1:]:
            if len(other) != len(first):
                raise ShapeError(
                    f"cannot concatenate {fmt_shape(first)} and {fmt_shape(other)}: different numbers of axes",
                    reason=Reason.CONCAT,
                )
        axis = _norm_axis(self.axis, len(first), "concatenation axis")
        for other in inputs[1:]:
            for i, (a, b) in enumerate(zip(first, other)):
                if i == axis:
                    continue
                checks.require_eq(
                    a,
                    b,
                    lambda a=a, b=b, i=i, other=other: ShapeError(
                        f"cannot concatenate {fmt_shape(first)} and {fmt_shape(other)} on axis {self.axis}: "
                        f"axis {i} differs ({fmt_dim(a)} vs {fmt_dim(b)})",
                        reason=Reason.CONCAT,
                        data={"axis": i, "sizes": (a, b)},
                        fix=f"make axis {i} equal before concatenating: crop or pad one input (a difference of "
                        f"{fmt_dim(norm(a - b))}), or use 'same' padding in the layers that feed it",
                    ),
                )
        return tuple(norm(sum(x[axis] for x in inputs)) if i == axis else d for i, d in enumerate(first))


@primitive
class MatMul(Primitive):
    """The matrix product of two tensors (numpy ``matmul`` rules: the last two axes multiply,
    the leading ones broadcast; a 1-D operand is a vector): attention's ``q @ k^T``.
    MACs ``prod(batch) * M * K * N``, as ``bmm`` counts them.

    >>> MatMul().infer(((2, 12, 197, 64), (2, 12, 64, 197)), Checks())
    (2, 12, 197, 197)
    """

    kind: ClassVar[str] = "matmul"
    arity: ClassVar[tuple[int, int | None]] = (2, 2)

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        a, b = inputs
        if not a or not b:
            raise ShapeError(f"matmul needs tensors of at least one axis, got {fmt_shape(a)} and {fmt_shape(b)}",
                             reason=Reason.RANK)
        a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
        b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
        checks.require_eq(a2[-1], b2[-2], lambda: ShapeError(
            f"cannot multiply {fmt_shape(a)} by {fmt_shape(b)}: {fmt_dim(a2[-1])} columns against {fmt_dim(b2[-2])} "
            "rows", reason=Reason.FEATURES), kind="valid")
        batch = broadcast_shapes(a2[:-2], b2[:-2], checks, "matmul")
        out = tuple(batch) + ((a2[-2],) if len(a) > 1 else ()) + ((b2[-1],) if len(b) > 1 else ())
        return out

    def macs(self, inputs: tuple[Shape, ...], output: Shape) -> Dim:
        a, b = inputs
        k = a[-1]
        return norm(prod(output) * k)


@primitive
class Stored(Primitive):
    """A stored tensor used as data (no inputs): a learned class token, a constant mask. Its
    ``params`` are the elements of the weights it is made of (0 for a constant)."""

    kind: ClassVar[str] = "stored"
    arity: ClassVar[tuple[int, int | None]] = (0, 0)
    shape: tuple[int, ...]
    elements: int = 0

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        return tuple(self.shape)

    def params(self) -> tuple[Dim, Dim]:
        return (self.elements, 0)


@primitive
class Opaque(Primitive):
    """A node convcalc cannot model, kept with the output shapes its source states (an imported
    model planned with ``partial``): its MACs are unknown, and its parameters too unless the
    source has its weights (``params_known``)."""

    kind: ClassVar[str] = "opaque"
    arity: ClassVar[tuple[int, int | None]] = (0, None)
    shapes: tuple[Shape, ...]
    trainable: Dim = 0
    params_known: bool = True
    source_op: str = ""

    @property
    def unknown(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({"macs"}) if self.params_known else frozenset({"macs", "params"})

    def infer_all(self, inputs: tuple[Shape, ...], checks: Checks) -> tuple[Shape, ...]:
        return self.shapes

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        return self.shapes[0]

    def params(self) -> tuple[Dim, Dim]:
        return (self.trainable, 0)


@primitive
class Split(Primitive):
    """Split along ``axis`` into pieces of ``sizes`` (which must add up to the axis): several
    outputs, one per piece (``torch.split``/``chunk``, ONNX ``Split``). A layer reading piece
    ``i`` of a layer ``s`` names it ``s:i``.

    >>> Split(axis=1, sizes=(2, 2, 1)).infer_all(((1, 5, 8),), Checks())
    ((1, 2, 8), (1, 2, 8), (1, 1, 8))
    """

    kind: ClassVar[str] = "split"
    axis: int
    sizes: tuple[Dim, ...]

    def infer_all(self, inputs: tuple[Shape, ...], checks: Checks) -> tuple[Shape, ...]:
        x = inputs[0]
        ax = _norm_axis(self.axis, len(x), "split axis")
        total = norm(sum(self.sizes))
        checks.require_eq(
            total,
            x[ax],
            lambda: ShapeError(
                f"split sizes {fmt_shape(self.sizes)} add up to {fmt_dim(total)}, but axis {self.axis} of "
                f"{fmt_shape(x)} has {fmt_dim(x[ax])}",
                reason=Reason.SPLIT,
                fix=f"sizes that add up to {fmt_dim(x[ax])}",
            ),
            kind="valid",
        )
        return tuple(replace_axes(x, {ax: size}) for size in self.sizes)

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        return self.infer_all(inputs, checks)[0]


def broadcast_shapes(a: Shape, b: Shape, checks: Checks, what: str) -> Shape:
    """numpy broadcasting (align from the right, 1s stretch); sizes that differ are an error,
    or a merge constraint when symbolic."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb):
        if is_concrete(x) and x == 1:
            out.append(y)
        elif is_concrete(y) and y == 1:
            out.append(x)
        else:
            checks.require_eq(x, y, lambda x=x, y=y: ShapeError(
                f"cannot {what} shapes {fmt_shape(a)} and {fmt_shape(b)}: sizes {fmt_dim(x)} and {fmt_dim(y)} "
                f"do not broadcast",
                reason=Reason.MERGE,
                fix="sizes must be equal or 1 (aligned from the last axis): crop, pad or resize one input",
            ))
            out.append(x)
    return tuple(out)


def require_in_place(op: str, x: Shape, out: Shape, checks: Checks) -> None:
    """An in-place op writes its result into its first input, which therefore cannot grow by
    broadcasting (PyTorch: "output with shape [...] doesn't match the broadcast shape [...]")."""
    def grows() -> ShapeError:
        return ShapeError(f"an in-place {op} writes into its first input {fmt_shape(x)}, but broadcasting makes "
                          f"{fmt_shape(out)}", reason=Reason.MERGE, data={"axis": None},
                          fix="use the out-of-place form (a new tensor), or swap the operands")

    if len(out) != len(x):
        raise grows()
    for a, b in zip(x, out):
        checks.require_eq(a, b, grows)


@primitive
class Elementwise(Primitive):
    """Element-wise merge of several inputs (add, subtract, multiply, average, max, min).

    ``broadcast``: numpy rules (align from the right, 1s stretch), as PyTorch and ONNX; without
    it every shape must be equal.
    """

    kind: ClassVar[str] = "elementwise"
    arity: ClassVar[tuple[int, int | None]] = (1, None)
    op: str
    broadcast: bool = True
    in_place: bool = False  # PyTorch's add_, mul_, ...: the result is written into the first input

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        out = inputs[0]
        for other in inputs[1:]:
            out = self._merge(out, other, checks)
        if self.in_place:
            require_in_place(self.op, inputs[0], out, checks)
        return out

    def _merge(self, a: Shape, b: Shape, checks: Checks) -> Shape:
        def mismatch(i: int | None = None) -> ShapeError:
            where = "" if i is None else f": axis {i} differs ({fmt_dim(a[i])} vs {fmt_dim(b[i])})"
            return ShapeError(
                f"cannot {self.op} shapes {fmt_shape(a)} and {fmt_shape(b)}{where}",
                reason=Reason.MERGE,
                data={"axis": i},
                fix="element-wise merges need equal shapes: crop, pad or resize one input to match the other",
            )

        if not self.broadcast:
            if len(a) != len(b):
                raise mismatch()
            for i, (x, y) in enumerate(zip(a, b)):
                checks.require_eq(x, y, lambda i=i: mismatch(i))
            return a
        return broadcast_shapes(a, b, checks, self.op)


@primitive
class ConstantOperand(Primitive):
    """An element-wise op with a fixed tensor of ``shape`` as its other operand, broadcast
    (numpy rules): a learned per-channel scale (ConvNeXt's layer scale ``x * gamma``: its
    elements are parameters, ``learned``), or a constant such as GELU's ``x * 0.5`` (none).

    >>> ConstantOperand(op="multiply", shape=(96, 1, 1), learned=True).params()
    (96, 0)
    """

    kind: ClassVar[str] = "constant_operand"
    op: str
    shape: tuple[int, ...] = ()
    learned: bool = False
    in_place: bool = False  # x.mul_(gamma)

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        out = broadcast_shapes(inputs[0], self.shape, checks, self.op)
        if self.in_place:
            require_in_place(self.op, inputs[0], out, checks)
        return out

    def params(self) -> tuple[Dim, Dim]:
        return (prod(self.shape) if self.learned else 0, 0)


@primitive
class Reduce(Primitive):
    """A reduction (mean, sum, max, ...) over ``axes``; ``keepdims`` keeps them as 1s. No MACs,
    by the convention that pooling is none (a mean over the spatial axes is global pooling)."""

    kind: ClassVar[str] = "reduce"
    op: str
    axes: tuple[int, ...]
    keepdims: bool = True

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        axes = {_norm_axis(a, len(x), "reduction axis") for a in self.axes}
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(x))
        return tuple(d for i, d in enumerate(x) if i not in axes)


@primitive
class Gather(Primitive):
    """Pick entries along ``axis`` with a tensor of indices of ``indices_shape`` (ONNX ``Gather``,
    ``torch.index_select``): the axis is replaced by the indices' axes. A scalar index
    (``indices_shape`` ``()``) drops the axis."""

    kind: ClassVar[str] = "gather"
    axis: int
    indices_shape: tuple[int, ...]

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        ax = _norm_axis(self.axis, len(x), "gather axis")
        return tuple(x[:ax]) + tuple(self.indices_shape) + tuple(x[ax + 1:])


@primitive
class Slice(Primitive):
    """``x[start:end:step]`` along each of ``axes`` (Python/ONNX clamping: negative indices count
    from the end; ends beyond the size are clamped). Concrete sizes along the sliced axes, or a
    start and an end that do not depend on the size (``end`` ``None``: to the end)."""

    kind: ClassVar[str] = "slice"
    axes: tuple[int, ...]
    starts: tuple[int, ...]
    ends: tuple[int | None, ...]
    steps: tuple[int, ...]

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = list(inputs[0])
        for a, start, end, step in zip(self.axes, self.starts, self.ends, self.steps):
            ax = _norm_axis(a, len(x), "slice axis")
            size = x[ax]
            if is_concrete(size):
                x[ax] = len(range(*slice(start, end, step).indices(size)))
            elif step == 1 and start >= 0 and end is None:
                x[ax] = norm(size - start)
            else:
                raise ShapeError(f"cannot slice the symbolic size {fmt_dim(size)} by [{start}:{end}:{step}]",
                                 reason=Reason.AXIS, fix="give the size a value with --set")
            if is_concrete(x[ax]) and x[ax] < 1:
                raise ShapeError(f"the slice [{start}:{end}:{step}] of axis {a} (size {fmt_dim(size)}) is empty",
                                 reason=Reason.EMPTY_OUTPUT)
        return tuple(x)


@primitive
class Dense(Primitive):
    """A dense (fully connected) layer on the last axis: ``rows * in * out`` MACs (§6.1)."""

    kind: ClassVar[str] = "dense"
    in_features: Dim
    out_features: Dim
    bias: bool = True

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        if not x:
            raise ShapeError("needs an input with at least one axis", reason=Reason.RANK)
        checks.require_eq(
            x[-1],
            self.in_features,
            lambda: ShapeError(
                f"expects {fmt_dim(self.in_features)} input features, but the input {fmt_shape(x)} has "
                f"{fmt_dim(x[-1])} on its last axis",
                reason=Reason.FEATURES,
            ),
            kind="valid",
        )
        return tuple(x[:-1]) + (self.out_features,)

    def params(self) -> tuple[Dim, Dim]:
        return (norm(self.in_features * self.out_features + (self.out_features if self.bias else 0)), 0)

    def macs(self, inputs: tuple[Shape, ...], output: Shape) -> Dim:
        return F.dense_macs(prod(output[:-1]), self.in_features, self.out_features)


@primitive
class Norm(Primitive):
    """Batch/layer/group/instance normalisation: shape-preserving; the frontend counts params.

    Frameworks count differently (§5): Keras puts BatchNorm moving statistics in
    ``non_trainable``; PyTorch keeps them as buffers, which are not parameters.

    ``axes`` are the axes of the learned scale and offset (the channel axis for batch, group and
    instance norm; the normalised axes for layer norm). ``scale``/``center`` say whether gamma and
    beta exist, ``moving_stats`` whether moving mean/variance are counted (as non-trainable).
    """

    kind: ClassVar[str] = "norm"
    norm_kind: str  # "batch" | "layer" | "group" | "instance"
    axes: tuple[int, ...]
    groups: int = 1
    scale: bool = True
    center: bool = True
    moving_stats: bool = False
    trainable: Dim = 0
    non_trainable: Dim = 0
    epsilon: float = 1e-5

    def params(self) -> tuple[Dim, Dim]:
        return (self.trainable, self.non_trainable)


@primitive
class Activation(Primitive):
    """An element-wise (or, for softmax, per-axis) activation: no shape change, no MACs."""

    kind: ClassVar[str] = "activation"
    fn: str
    axis: int = -1
    alpha: float = 0.0
    max_value: float | None = None
    param_shape: tuple[int, ...] = ()  # PReLU slopes, broadcast against the input without its batch axis
    trainable: Dim = 0  # learnable slopes (PReLU)

    def params(self) -> tuple[Dim, Dim]:
        return (self.trainable, 0)


@primitive
class Identity(Primitive):
    """A layer that is the identity at inference (dropout, ``Identity``)."""

    kind: ClassVar[str] = "identity"
    note: str = ""


@primitive
class PixelShuffle(Primitive):
    """``(*, C*r*r, H, W) -> (*, C, H*r, W*r)``; the inverse with ``inverse=True`` (channels first)."""

    kind: ClassVar[str] = "pixel_shuffle"
    factor: int
    inverse: bool = False

    def infer(self, inputs: tuple[Shape, ...], checks: Checks) -> Shape:
        x = inputs[0]
        if len(x) < 3:
            raise ShapeError(f"needs an input with at least 3 axes (C, H, W), got {fmt_shape(x)}", reason=Reason.RANK)
        r = self.factor
        *lead, c, h, w = x
        if not self.inverse:
            checks.require_divisible(
                c, r * r, lambda: ShapeError(f"channels ({fmt_dim(c)}) must be divisible by upscale_factor² = {r * r}",
                                             reason=Reason.PIXEL_SHUFFLE)
            )
            return (*lead, norm(floordiv(c, r * r)), norm(h * r), norm(w * r))
        for name, size in (("height", h), ("width", w)):
            checks.require_divisible(
                size,
                r,
                lambda name=name, size=size: ShapeError(
                    f"{name} ({fmt_dim(size)}) must be divisible by downscale_factor = {r}", reason=Reason.PIXEL_SHUFFLE
                ),
            )
        return (*lead, norm(c * r * r), floordiv(h, r), floordiv(w, r))


__all__ = [
    "Activation",
    "AdaptivePool",
    "Checks",
    "Concat",
    "ConstantOperand",
    "Constraint",
    "Conv",
    "ConvTranspose",
    "Crop",
    "CropTo",
    "Dense",
    "Elementwise",
    "Flatten",
    "Gather",
    "GlobalPool",
    "Identity",
    "MatMul",
    "Norm",
    "Opaque",
    "Pad",
    "PerSampleConv",
    "PixelShuffle",
    "Permute",
    "Pool",
    "Primitive",
    "Reduce",
    "Reshape",
    "Resize",
    "ResizeTo",
    "Slice",
    "Split",
    "Stored",
    "layout",
]
