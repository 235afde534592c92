"""Receptive fields: which input pixels each layer's outputs see (issue 13).

Per layer and per spatial axis (in the framework's axis order), in the *start form* of
:func:`~convcalc.formulas.rf_size`: output element ``i`` sees input pixels
``start + i*stride`` to ``start + i*stride + size - 1``, where

* ``size`` is the field's extent in input pixels (a dilated kernel's field has gaps: the size
  is its span);
* ``stride`` is the effective stride (the jump between neighbouring outputs' fields), a
  fraction after a transposed convolution or an upsampling;
* ``start`` is where output element 0's field begins, negative where it begins in padding.

Convolutions and pooling (any padding, dilation, ceil mode; groups do not matter), padding and
cropping follow the closed forms, symbolic where the sizes are. A **fractional stride**
(transposed convolution, upsampling, resizing, adaptive pooling with bins of unequal width)
makes the field depend on the element's phase: the size is then the largest over the output
elements and the start is element 0's, both exact, found by walking each element's window back
to the input (:class:`Walk`, which needs concrete sizes). Element-wise merges and
concatenations along the channels take the union of their inputs' fields, with a note where the
paths disagree on the stride or on where the fields are centred (a skip off by half a pixel).
Layers that mix every position of an axis (flatten, a dense layer over it, global pooling or
adaptive pooling to one cell, layer/group/instance norm over it) see the whole input: so does
everything a squeeze-excitation's global context is multiplied into.

    >>> import convcalc
    >>> f = receptive_fields(convcalc.load("examples/resnet50.yaml").plan())
    >>> f["layer4.2.relu3"].axes[0].size, f["layer4.2.relu3"].axes[0].stride, f["layer4.2.relu3"].axes[0].start
    (427, 32, -213)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import formulas as F
from .dims import dmax, dmin, fmt_dim, is_concrete, json_dim, norm
from .ir import layout
from .plan import LayerPlan, Plan

MAX_PERIOD = 4096  # phases examined for the largest field after fractional strides
MAX_WALK_DEPTH = 3000  # layers one element's walk may cross (Python's recursion)


@dataclass(frozen=True)
class AxisField:
    """One spatial axis of a layer's receptive field, on axis ``axis`` of model input ``input``."""

    size: Any
    stride: Any
    start: Any
    input: str
    axis: int
    exact: bool = True  # False: a closed form past a fractional stride in a symbolic plan (approximate)

    def to_dict(self) -> dict[str, Any]:
        return {"size": _json(self.size), "stride": _json(self.stride), "start": _json(self.start)}


@dataclass(frozen=True)
class Field:
    """A layer's receptive field: per spatial axis of its output (``None``: unknown past an op
    convcalc cannot follow), or ``whole`` when no spatial axis is left (every input pixel)."""

    layer: str
    axes: tuple[AxisField | None, ...]
    whole: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any] | None:
        if self.whole or not self.axes or any(a is None for a in self.axes):
            return None
        axes = [a for a in self.axes if a is not None]
        return {"size": [_json(a.size) for a in axes], "stride": [_json(a.stride) for a in axes],
                "start": [_json(a.start) for a in axes]}


def _json(v: Any) -> Any:
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    return json_dim(v)


# --------------------------------------------------------------------------- per-axis state


@dataclass(frozen=True)
class _Axis:
    """The field of one tensor axis: closed form (size, jump, start), the walk node that gives
    any element's exact box, and whether the closed form is exact."""

    size: Any
    jump: Any
    start: Any
    node: int
    input: str
    in_axis: int
    exact: bool = True
    period: int = 1  # the element pattern repeats every ``period`` outputs


@dataclass
class _State:
    """The fields of one tensor: tensor axis -> its field (only the spatial axes are tracked);
    ``whole``: axes that have been mixed entirely (flatten, global pooling)."""

    axes: dict[int, _Axis | None]
    rank: int
    whole: bool = False


@dataclass
class _Graph:
    """Walk nodes: how each element's box derives from an earlier tensor's boxes."""

    nodes: list[tuple] = field(default_factory=list)

    def add(self, node: tuple) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1


def receptive_fields(plan: Plan) -> dict[str, Field]:
    """Every layer's receptive field (see the module), by layer name."""
    return _Propagation(plan).run()


def spatial_input_axes(plan: Plan, shape: tuple) -> tuple[int, ...]:
    """The spatial axes of a model input: after the batch and channel axes (PyTorch, ONNX), or
    between them (Keras: channels last)."""
    n = len(shape)
    if n < 3:
        return ()
    return tuple(range(1, n - 1)) if plan.framework in ("keras", "tf.keras") else tuple(range(2, n))


class _Propagation:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.graph = _Graph()
        self.states: dict[str, _State] = {}

    def run(self) -> dict[str, Field]:
        for name, shape in self.plan.inputs.items():
            axes: dict[int, _Axis | None] = {}
            for ax in spatial_input_axes(self.plan, shape):
                axes[ax] = _Axis(1, 1, 0, self.graph.add(("input", name, ax)), name, ax)
            self.states[name] = _State(axes, len(shape))
        out: dict[str, Field] = {}
        for ly in self.plan.layers:
            notes: list[str] = []
            ins = [self.states.get(s.producer) for s in ly.sources]
            shapes = list(ly.input_shapes)
            state: _State | None = None
            for k, step in enumerate(ly.steps):
                if k > 0:
                    ins, shapes = [state], [ly.step_shapes[k - 1]]
                state = self._step(step, ins, shapes, ly.step_shapes[k], notes)
            if state is None:
                state = _State({}, len(ly.output_shape))
            self.states[ly.name] = state
            out[ly.name] = self._field(ly, state, notes)
        return out

    # -- one primitive -------------------------------------------------------------------------

    def _step(self, step: Any, ins: list, shapes: list, out_shape: tuple, notes: list) -> _State:
        if any(s is None for s in ins) or not ins:
            return _State({}, len(out_shape))
        x, xs = ins[0], shapes[0]
        kind = step.kind
        if x.whole and kind not in ("concat", "elementwise"):
            return _State({}, len(out_shape), whole=True)
        if kind in ("conv", "pool"):
            pads = step.explicit_padding(xs)
            return self._spatial(x, xs, out_shape, step.rank, step.channels_last, kind, lambda i, ax, a: self._window(
                a, step.kernel[i], step.dilation[i], step.stride[i], pads[i][0], xs[ax]))
        if kind == "conv_transpose":
            return self._spatial(x, xs, out_shape, step.rank, step.channels_last, kind, lambda i, ax, a: self._transposed(
                a, step.kernel[i], step.stride[i], step.dilation[i], step.crops[i][0], xs[ax]))
        if kind in ("pad", "crop"):
            new = dict(x.axes)
            for ax, (b, e) in enumerate(step.widths if kind == "pad" else step.crops):
                a = x.axes.get(ax)
                if a is not None and (b, e) != (0, 0):
                    new[ax] = self._shift(a, b if kind == "crop" else -b, xs[ax])
            return _State(new, len(out_shape))
        if kind == "crop_to":
            crops = step.crops(xs, shapes[1])
            return _State({ax: (self._shift(a, crops[ax][0], xs[ax]) if a is not None else None)
                           for ax, a in x.axes.items()}, len(out_shape))
        if kind == "adaptive_pool":
            state = self._spatial(x, xs, out_shape, step.rank, step.channels_last, kind,
                                  lambda i, ax, a: self._bins(a, xs[ax], out_shape[ax]))
            # pooled to one cell (squeeze-excitation, the classifier's pooling): global context
            lay = layout(xs, step.rank, step.channels_last, kind)
            state.whole = bool(x.axes) and all(out_shape[ax] == 1 for ax in lay.spatial_axes if x.axes.get(ax))
            return state
        if kind == "global_pool":
            if not step.keepdims:
                return _State({}, len(out_shape), whole=True)
            state = self._spatial(x, xs, out_shape, step.rank, step.channels_last, kind,
                                  lambda i, ax, a: self._whole(a, xs[ax]))
            state.whole = True
            return state
        if kind in ("resize", "resize_to"):
            def scale(i: int) -> Fraction | None:
                if kind == "resize" and step.sizes is None and step.scales is not None:
                    return Fraction(step.scales[i]).limit_denominator(10**6)
                return None
            return self._spatial(x, xs, out_shape, step.rank, step.channels_last, kind, lambda i, ax, a: self._resize(
                a, xs[ax], out_shape[ax], scale(i), step.mode, step.align_corners))
        if kind in ("activation", "identity", "constant_operand", "split"):
            if kind == "split" and x.axes.get(step.axis % len(xs)) is not None:
                notes.append("split along a spatial axis: the fields of its pieces are not followed")
                return _State({}, len(out_shape))
            return _State(dict(x.axes), len(out_shape))
        if kind == "norm":
            mixed = {a % len(xs) for a in step.axes} if step.norm_kind == "layer" else set()
            if step.norm_kind in ("group", "instance"):  # per-sample statistics over the spatial axes
                mixed = set(x.axes)
            new = {ax: (self._whole(a, xs[ax]) if ax in mixed and a is not None else a) for ax, a in x.axes.items()}
            return _State(new, len(out_shape), whole=x.whole or bool(mixed & set(x.axes)))
        if kind in ("elementwise", "concat"):
            return self._merge(step, ins, shapes, out_shape, notes)
        if kind == "permute":
            perm = [p % len(xs) for p in step.perm]
            return _State({new: x.axes[old] for new, old in enumerate(perm) if old in x.axes}, len(out_shape))
        if kind in ("flatten", "reshape"):
            kept = trailing_axes_kept(xs, out_shape, set(x.axes))
            if kept is not None:  # a channel shuffle: the spatial axes pass unchanged at the end
                return _State({ax + len(out_shape) - len(xs): x.axes[ax] for ax in kept}, len(out_shape))
            return _State({}, len(out_shape), whole=bool(x.axes))
        if kind in ("dense", "reduce", "matmul"):
            if kind == "dense" and (len(xs) - 1) not in x.axes:
                return _State(dict(x.axes), len(out_shape))
            if kind == "reduce" and not ({a % len(xs) for a in step.axes} & set(x.axes)):
                return _State(dict(x.axes), len(out_shape))
            return _State({}, len(out_shape), whole=bool(x.axes))
        if kind == "pixel_shuffle" and not step.inverse:
            return self._spatial(x, xs, out_shape, len(xs) - 2, False, kind, lambda i, ax, a: self._resize(
                a, xs[ax], out_shape[ax], Fraction(step.factor), "nearest", False))
        notes.append(f"the field is not followed past a {kind} step")
        return _State({}, len(out_shape))

    @staticmethod
    def _spatial(x: _State, xs: tuple, out_shape: tuple, rank: int, channels_last: bool, kind: str,
                 fn: Any) -> _State:
        """A spatial op's output state: ``fn(i, axis, field)`` on each tracked spatial axis (its
        ``i``-th), the channel axis dropped (the op mixes the channels), other axes as they are."""
        lay = layout(xs, rank, channels_last, kind)
        new = {ax: a for ax, a in x.axes.items() if ax != lay.channel_axis}
        for i, ax in enumerate(lay.spatial_axes):
            if x.axes.get(ax) is not None:
                new[ax] = fn(i, ax, x.axes[ax])
        return _State(new, len(out_shape))

    # -- closed forms, each with its walk node --------------------------------------------------

    def _window(self, a: _Axis, k: int, d: int, s: int, pb: Any, n_in: Any) -> _Axis:
        k_eff = F.effective_kernel(k, d)
        node = self.graph.add(("window", a.node, s, pb, k, d, n_in))
        return _Axis(F.rf_size(a.size, k_eff, a.jump), F.rf_jump(a.jump, s), F.rf_start(a.start, pb, a.jump),
                     node, a.input, a.in_axis, a.exact, a.period)

    def _shift(self, a: _Axis, offset: Any, n_in: Any = None) -> _Axis:
        node = self.graph.add(("shift", a.node, offset, n_in))
        return _Axis(a.size, a.jump, F.rf_start(a.start, -offset, a.jump), node, a.input, a.in_axis, a.exact, a.period)

    def _transposed(self, a: _Axis, k: int, s: int, d: int, crop: Any, n_in: Any) -> _Axis:
        node = self.graph.add(("transposed", a.node, k, s, d, crop, n_in))
        spans = [max(t) - min(t) for o in range(s) if (t := F.rf_transposed_taps(k, s, d, o, 0))]
        first = F.rf_transposed_taps(k, s, d, 0, crop) if is_concrete(crop) else []
        start = a.start + (min(first) if first else 0) * a.jump
        return _Axis(a.size + max(spans, default=0) * a.jump, Fraction(a.jump) / s, start, node, a.input, a.in_axis,
                     False, a.period * s)

    def _bins(self, a: _Axis, n_in: Any, n_out: Any) -> _Axis:
        if is_concrete(n_in) and is_concrete(n_out) and n_in % n_out == 0:
            w = n_in // n_out
            return self._window(a, w, 1, w, 0, n_in)
        node = self.graph.add(("bins", a.node, n_in, n_out))
        if not (is_concrete(n_in) and is_concrete(n_out)):
            return _Axis(a.size, None, a.start, node, a.input, a.in_axis, False, a.period)
        widest = max(-(-((i + 1) * n_in) // n_out) - (i * n_in) // n_out for i in range(min(n_out, MAX_PERIOD)))
        return _Axis(F.rf_size(a.size, widest, a.jump), Fraction(a.jump) * Fraction(n_in, n_out), a.start, node,
                     a.input, a.in_axis, False, a.period * n_out)

    def _whole(self, a: _Axis, n_in: Any) -> _Axis:
        node = self.graph.add(("whole", a.node, n_in))
        return _Axis(F.rf_size(a.size, n_in, a.jump), a.jump, a.start, node, a.input, a.in_axis, a.exact, a.period)

    def _resize(self, a: _Axis, n_in: Any, n_out: Any, scale: Fraction | None, mode: str, align: bool) -> _Axis:
        node = self.graph.add(("resize", a.node, n_in, n_out, scale, mode, align))
        ratio = (1 / scale) if scale else (Fraction(n_in, n_out) if is_concrete(n_in) and is_concrete(n_out) else None)
        nearest = mode in ("nearest", "nearest-exact")
        jump = Fraction(a.jump) * ratio if ratio is not None else None
        period = a.period * (ratio.denominator if ratio is not None else 1)
        return _Axis(a.size if nearest else a.size + a.jump, jump, a.start, node, a.input, a.in_axis, False, period)

    def _merge(self, step: Any, ins: list, shapes: list, out_shape: tuple, notes: list) -> _State:
        rank = len(out_shape)
        axis = step.axis % rank if step.kind == "concat" else None
        if any(s.whole for s in ins):
            return _State({}, rank, whole=True)
        new: dict[int, _Axis | None] = {}
        keys = set().union(*(set(s.axes) for s in ins))
        for ax in sorted(keys):
            if ax == axis:
                notes.append("concatenated along a spatial axis: the field is not followed")
                new[ax] = None
                continue
            parts = []
            for s, shape in zip(ins, shapes):
                a = s.axes.get(ax + len(shape) - rank) if len(shape) != rank else s.axes.get(ax)
                if a is None:
                    continue
                if shape[ax + len(shape) - rank] == 1 and out_shape[ax] != 1:  # broadcast along this axis
                    a = self._whole(a, 1)
                parts.append(a)
            new[ax] = self._union(parts, notes, ax) if parts else None
        return _State(new, rank)

    def _union(self, parts: list[_Axis], notes: list, ax: int) -> _Axis:
        if len(parts) == 1:
            return parts[0]
        node = self.graph.add(("merge", tuple(p.node for p in parts)))
        start = _fold(dmin, [p.start for p in parts])
        end = _fold(dmax, [p.start + p.size for p in parts])
        jumps = {p.jump for p in parts}
        inputs = {(p.input, p.in_axis) for p in parts}
        name = f"axis {ax}"
        if len(inputs) > 1:
            notes.append(f"{name}: the merged fields come from different inputs ({', '.join(sorted(i for i, _ in inputs))})")
        if len(jumps) > 1:
            notes.append(f"{name}: the merged paths disagree on the stride ({', '.join(_show(j) for j in jumps)})")
        centres = {p.start + Fraction(1, 2) * (p.size - 1) for p in parts if _all_concrete(p.start, p.size)}
        if len(centres) > 1 and len(jumps) == 1:
            off = max(centres) - min(centres)
            notes.append(f"{name}: the merged fields of element 0 are centred {_show(off)} pixel{'s' * (off != 1)} apart")
        size = end - start if any(isinstance(v, Fraction) for v in (start, end)) else norm(end - start)
        return _Axis(size, min(jumps, key=_sort_key), start, node, parts[0].input, parts[0].in_axis,
                     all(p.exact for p in parts) and len(jumps) == 1, math.lcm(*(p.period for p in parts)))

    # -- the result -----------------------------------------------------------------------------

    def _field(self, ly: LayerPlan, state: _State, notes: list[str]) -> Field:
        if state.whole:  # global context: every input pixel, whatever the input's size
            return Field(ly.name, (), True, tuple(dict.fromkeys(notes)))
        axes: list[AxisField | None] = []
        walk = None
        for ax in sorted(state.axes):
            a = state.axes[ax]
            if a is None:
                axes.append(None)
                continue
            size, start, exact = a.size, a.start, a.exact
            if not a.exact and not self.plan.is_symbolic and len(self.plan.layers) <= MAX_WALK_DEPTH:
                walk = walk or Walk(self)
                size, start, exact = walk.largest(a.node, a.period), walk.start(a.node), True
            elif not a.exact:  # past a fractional stride, the closed form is no longer exact
                size, start = (size, start) if _all_concrete(size, start) else (None, None)
                notes.append("past a fractional stride with symbolic sizes: --set the sizes for the exact field")
            axes.append(AxisField(size, a.jump, start, a.input, a.in_axis, exact))
        return Field(ly.name, tuple(axes), state.whole, tuple(dict.fromkeys(notes)))


def trailing_axes_kept(x: tuple, out: tuple, tracked: set[int]) -> list[int] | None:
    """The tracked axes a reshape leaves in place: the last axes of equal sizes in ``x`` and
    ``out`` (ShuffleNet's ``view(b, g, c/g, h, w)``), when every tracked axis is among them;
    ``None`` when a tracked axis is merged or split (a flatten: the whole input).

    >>> trailing_axes_kept((1, 2, 58, 28, 28), (1, 116, 28, 28), {3, 4}), trailing_axes_kept((1, 8, 7, 7), (1, 392), {2, 3})
    ([3, 4], None)
    """
    k = 0
    while k < min(len(x), len(out)) and x[len(x) - 1 - k] == out[len(out) - 1 - k]:
        k += 1
    kept = set(range(len(x) - k, len(x)))
    if not tracked <= kept:
        return None
    return sorted(tracked)


def _fold(pick: Any, values: list) -> Any:
    """min or max of several values: plain for numbers (fractions too), symbolic otherwise."""
    if all(isinstance(v, (int, Fraction)) for v in values):
        return (min if pick is dmin else max)(values)
    out = values[0]
    for v in values[1:]:
        out = pick(out, v)
    return out


def _all_concrete(*vs: Any) -> bool:
    return all(isinstance(v, (int, Fraction)) for v in vs)


def _sort_key(j: Any) -> Any:
    return j if isinstance(j, (int, Fraction)) else 0


def _show(v: Any) -> str:
    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    return fmt_dim(v) if v is not None else "?"


# --------------------------------------------------------------------------- exact boxes


class Walk:
    """Exact boxes of single output elements: each element's window walked back to the input
    (``lo``/``hi``: its first and last input pixel). Concrete sizes only.

    ``real=False`` (the field): padding is read as if the layer below went on past its ends, so
    the box is unclipped — negative or past the end where it reaches into padding. ``real=True``
    (what the element really depends on): padded positions are zeros and depend on nothing."""

    def __init__(self, propagation: _Propagation, real: bool = False) -> None:
        self.nodes = propagation.graph.nodes
        # a box recurses once per node on its path (Python frames, not C stack, since 3.11)
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * len(self.nodes) + 1000))
        self.real = real
        self.memo: dict[tuple[int, int], tuple[int, int] | None] = {}

    def _read(self, src: int, q: int, n: Any) -> tuple[int, int] | None:
        if self.real and n is not None and not 0 <= q < n:
            return None
        return self.box(src, q)

    def box(self, node: int, o: int) -> tuple[int, int] | None:
        """``(lo, hi)`` of element ``o``, or ``None`` when it sees no input (a transposed
        convolution's output that only its bias reaches)."""
        key = (node, o)
        if key not in self.memo:
            self.memo[key] = self._box(self.nodes[node], o)
        return self.memo[key]

    def _box(self, n: tuple, o: int) -> tuple[int, int] | None:
        kind = n[0]
        if kind == "input":
            return (o, o)
        if kind == "window":
            _, src, s, pb, k, d, n_in = n
            taps = [o * s - pb + t * d for t in range(k)]
            if not self.real:  # boxes grow with the position: the outer taps bound the window
                return _span(self.box(src, taps[0]), self.box(src, taps[-1]))
            return self._hull(src, taps, n_in)
        if kind == "shift":
            return self._read(n[1], o + n[2], n[3])
        if kind == "transposed":
            _, src, k, s, d, crop, n_in = n
            boxes = [b for i in F.rf_transposed_taps(k, s, d, o, crop) if (b := self._read(src, i, n_in)) is not None]
            return (min(b[0] for b in boxes), max(b[1] for b in boxes)) if boxes else None
        if kind == "bins":
            _, src, n_in, n_out = n
            first, last = (o * n_in) // n_out, -(-((o + 1) * n_in) // n_out) - 1
            if self.real:
                return self._hull(src, range(first, last + 1), n_in)
            return _span(self._read(src, first, n_in), self._read(src, last, n_in))
        if kind == "whole":
            _, src, n_in = n
            if self.real:
                return self._hull(src, range(n_in), n_in)
            return _span(self.box(src, 0), self.box(src, n_in - 1))
        if kind == "resize":
            _, src, n_in, n_out, scale, mode, align = n
            lo, hi = resize_taps(o, n_in, n_out, scale, mode, align)
            return _span(self._read(src, lo, n_in), self._read(src, hi, n_in))
        if kind == "merge":
            boxes = [b for src in n[1] if (b := self.box(src, o)) is not None]
            return (min(b[0] for b in boxes), max(b[1] for b in boxes)) if boxes else None
        raise AssertionError(kind)

    def _hull(self, src: int, taps: Iterable[int], n_in: Any) -> tuple[int, int] | None:
        """The span of every real tap's box. Real boxes do not grow with the position the way
        unclipped ones do: next to the border a dilated window's real taps can skip the pixels
        its neighbour reaches (element 0 of a k=2, d=2, p=1 convolution sees pixel 1 alone,
        element 1 sees 0..2), so no pair of outer taps bounds the window."""
        boxes = [b for q in taps if (b := self._read(src, q, n_in)) is not None]
        return (min(b[0] for b in boxes), max(b[1] for b in boxes)) if boxes else None

    def start(self, node: int) -> int | None:
        b = self.box(node, 0)
        return b[0] if b else None

    def largest(self, node: int, period: int) -> int:
        """The largest field over one period of the element pattern."""
        sizes = [b[1] - b[0] + 1 for o in range(min(max(period, 1), MAX_PERIOD)) if (b := self.box(node, o))]
        return max(sizes, default=0)


def _span(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None or b is None:
        return a or b
    return (min(a[0], b[0]), max(a[1], b[1]))


def resize_taps(o: int, n_in: int, n_out: int, scale: Fraction | None, mode: str, align: bool) -> tuple[int, int]:
    """The input elements output ``o`` of a resize reads (PyTorch's coordinate rules, exact in
    fractions): one for nearest, the two around the source point for linear (one when the
    point falls on an element: the other weighs nothing)."""
    ratio = (1 / scale) if scale else Fraction(n_in, n_out)
    inside = 0 <= o < n_out
    if mode == "nearest":
        i = math.floor(o * ratio)
        return (min(i, n_in - 1), min(i, n_in - 1)) if inside else (i, i)
    if mode == "nearest-exact":
        i = math.floor((o + Fraction(1, 2)) * ratio)
        return (min(i, n_in - 1), min(i, n_in - 1)) if inside else (i, i)
    if align:
        src = Fraction(o * (n_in - 1), n_out - 1) if n_out > 1 else Fraction(0)
    else:
        src = (o + Fraction(1, 2)) * ratio - Fraction(1, 2)
        src = max(src, Fraction(0)) if inside else src
    lo = math.floor(src)
    hi = lo + 1 if src != lo else lo
    return (lo, min(hi, n_in - 1) if inside else hi)


class ElementBoxes:
    """Exact boxes of any output element of any layer of a concrete plan (:class:`Walk`):
    ``real=False`` the field (padding read as the layer below continued, unclipped),
    ``real=True`` what the element really depends on (padding is zeros).

        >>> import convcalc
        >>> boxes = ElementBoxes(convcalc.load("examples/resnet50.yaml").plan())
        >>> boxes.axes("conv1"), boxes.box("conv1", 2, 0), ElementBoxes(boxes.plan, real=True).box("conv1", 2, 0)
        ([2, 3], (-3, 3), (0, 3))
    """

    def __init__(self, plan: Plan, real: bool = False) -> None:
        if len(plan.layers) > MAX_WALK_DEPTH:
            raise ValueError(f"the model has {len(plan.layers):,} layers; exact boxes walk at most {MAX_WALK_DEPTH:,}")
        self.plan = plan
        prop = _Propagation(plan)
        self.fields = prop.run()  # receptive_fields(plan), from the same walk
        self.states = prop.states
        self.walk = Walk(prop, real=real)

    def axes(self, layer: str) -> list[int]:
        """The tensor axes of ``layer``'s output that have a field (its spatial axes)."""
        return sorted(ax for ax, a in self.states[layer].axes.items() if a is not None)

    def box(self, layer: str, axis: int, o: int) -> tuple[int, int] | None:
        """``(first, last)`` input pixel element ``o`` of ``layer`` sees along ``axis``."""
        return self.walk.box(self.states[layer].axes[axis].node, o)

    def cell(self, layer: str, index: dict[int, int]) -> dict[int, tuple[int, int] | None]:
        """The box per spatial axis (tensor axis -> (first, last)) that output element ``index``
        (tensor axis -> position; 0 where not given) of ``layer`` sees."""
        return {ax: self.box(layer, ax, index.get(ax, 0)) for ax in self.axes(layer)}


__all__ = ["AxisField", "ElementBoxes", "Field", "Walk", "receptive_fields", "resize_taps", "spatial_input_axes",
           "trailing_axes_kept"]
