"""``convcalc check``: run the plan on real arrays with the reference executor and compare.

The only module that sees both the engine (the plan) and :mod:`convcalc.reference`; it only
translates each planned step into plain fields, feeds the executor's own outputs forward layer
by layer (so the two run in lockstep), and compares per layer: output shape, parameters and MACs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import reference
from .dims import fmt_bytes, fmt_count, fmt_shape, free_symbols
from .errors import UsageError
from .ir import Conv, Pool, Primitive
from .plan import Plan
from .reference import field as reference_field

DEFAULT_MAX_MACS = 2 * 10**10
DEFAULT_MAX_BYTES = 8 * 2**30  # leaves this 24 GiB machine room for everything else
ELEMENT_BYTES = 4  # the executor's arrays are float32
# Scratch the executor may hold beside a layer's input and output: a padded copy, the per-offset
# products of a convolution, float64 working copies in activations and normalisation.
SCRATCH_FACTOR = 4
# A padded copy is made in float64 (pools) and counted again beside the window sums: two float64
# arrays of the padded size are four float32 elements' worth each.
PADDED_COPIES = 4


def executor_bytes(plan: Plan) -> int:
    """The most memory the reference executor holds at once running ``plan``, computed from the
    plan before anything is allocated: the live arrays (each kept until its last reader has run),
    the weights of the layer running, and scratch of :data:`SCRATCH_FACTOR` times its input and
    output, or of its largest temporary (:func:`scratch_elements`: a padded copy, a transposed
    convolution's full output) in float64, whichever is more (float32 elements)."""
    sizes = {name: int(_elements(shape)) for name, shape in plan.inputs.items()}
    live = sum(sizes.values())
    peak = live
    for layer, freed in zip(plan.layers, _freed_after(plan)):
        out = sum(int(_elements(s)) for s in layer.outputs)
        ins = sum(int(_elements(s)) for s in layer.input_shapes)
        scratch = max(SCRATCH_FACTOR * (ins + out), PADDED_COPIES * scratch_elements(layer))
        peak = max(peak, live + out + int(layer.params) + scratch)
        live += out
        sizes[layer.name] = out
        live -= sum(sizes.get(name, 0) for name in freed)
    return peak * ELEMENT_BYTES


def scratch_elements(layer: Any) -> int:
    """The elements of the largest temporary a step of ``layer`` makes in the executor: the
    padded (and, for a dilated window, reach-extended) copy of its input for a convolution or
    pooling, the full scatter output and the zero-stretched input of a transposed convolution."""
    most = 0
    for step, x in zip(layer.steps, (layer.input_shapes[0] if layer.input_shapes else (),) + tuple(layer.step_shapes)):
        if not x or not hasattr(step, "kernel"):
            continue
        rank = getattr(step, "rank", None)
        if not isinstance(rank, int) or len(x) < rank + 2 or not isinstance(step.kernel, tuple):
            continue  # not a (batch..., channels, spatial...) window
        # The spatial axes are the last ``rank`` before the channels (channels last) or after them;
        # tf.keras allows extra leading batch axes.
        end = len(x) - 1 if getattr(step, "channels_last", False) else len(x)
        spatial = list(range(end - rank, end))
        others = _elements(tuple(d for i, d in enumerate(x) if i not in spatial))
        if hasattr(step, "explicit_padding"):
            pads = step.explicit_padding(x)
            lengths = [int(x[a]) + int(b) + int(e) for a, (b, e) in zip(spatial, pads)]
        elif hasattr(step, "crops"):  # transposed: the full output, and the stretched input padded by k_eff - 1
            lengths = [max((int(x[a]) - 1) * s + (k - 1) * d + 1 + int(o), (int(x[a]) - 1) * s + 1 + 2 * (k - 1) * d)
                       for a, k, s, d, o in zip(spatial, step.kernel, step.stride, step.dilation, step.output_padding)]
        else:
            continue
        n = others
        for length in lengths:
            n *= length
        most = max(most, n)
    return int(most)


def _freed_after(plan: Plan) -> list[list[str]]:
    """For each layer of ``plan``, the arrays free once it has run: those it is the last reader
    of, and its own output when no layer reads it (compared, then dropped). Shared by
    :func:`executor_bytes` and :func:`check_plan`, so the budget and the run free alike."""
    last_use: dict[str, int] = {}
    for i, layer in enumerate(plan.layers):
        for s in layer.sources:
            last_use[s.producer] = i
    freed: list[list[str]] = [[] for _ in plan.layers]
    for name, i in last_use.items():
        freed[i].append(name)
    for i, layer in enumerate(plan.layers):
        if layer.name not in last_use:
            freed[i].append(layer.name)
    return freed


def _elements(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


@dataclass(frozen=True)
class Figures:
    """Output shape, parameters and MACs of one layer (``error`` when the executor refused)."""

    output_shape: tuple | None
    params: int | None
    macs: int | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "output_shape": None if self.output_shape is None else list(self.output_shape),
            "params": self.params,
            "macs": self.macs,
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class LayerCheck:
    name: str
    op: str
    predicted: Figures
    executed: Figures

    @property
    def ok(self) -> bool:
        p, e = self.predicted, self.executed
        return e.error is None and (p.output_shape, p.params, p.macs) == (e.output_shape, e.params, e.macs)

    def differences(self) -> list[str]:
        p, e = self.predicted, self.executed
        if e.error:
            return [f"the executor could not run it: {e.error}"]
        out = []
        for label, a, b in (("output shape", p.output_shape, e.output_shape), ("params", p.params, e.params),
                            ("MACs", p.macs, e.macs)):
            if a != b:
                show = fmt_shape if label == "output shape" else fmt_count
                out.append(f"{label}: predicted {show(a)}, executed {show(b)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "ok": self.ok, "predicted": self.predicted.to_dict(),
                "executed": self.executed.to_dict()}


@dataclass(frozen=True)
class CheckReport:
    """Per-layer verdicts of one model (JSON contract in issue 3)."""

    name: str | None
    layers: tuple[LayerCheck, ...]
    seconds: float
    seed: int

    @property
    def ok(self) -> bool:
        return all(ly.ok for ly in self.layers)

    @property
    def first_difference(self) -> LayerCheck | None:
        return next((ly for ly in self.layers if not ly.ok), None)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "layers": [ly.to_dict() for ly in self.layers]}


def plain_fields(step: Primitive, inputs: list[np.ndarray]) -> dict[str, Any]:
    """A step as the executor's plain data: concrete ints, explicit pads for 'same' policies."""
    fields = dataclasses.asdict(step)
    if isinstance(step, (Conv, Pool)) and isinstance(step.padding, str):
        fields["padding"] = step.explicit_padding(tuple(inputs[0].shape))
    return _plain(fields)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, (bool, str, float)) or value is None:
        return value
    return int(value)  # int or a sympy Integer left from a substitution


def check_plan(
    plan: Plan,
    *,
    seed: int = 0,
    max_macs: int = DEFAULT_MAX_MACS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int, str], None] | None = None,
) -> CheckReport:
    """Run ``plan`` on seeded random inputs and compare every layer with the prediction.

    Refused before anything is allocated when it would take more than ``max_macs``
    multiply-accumulates or ``max_bytes`` of memory (:func:`executor_bytes`); arrays are freed
    after their last reader."""
    if plan.is_symbolic or any(not isinstance(d, int) for s in plan.inputs.values() for d in s):
        names = sorted(set().union(*(free_symbols(d) for s in plan.inputs.values() for d in s)) | set(plan.used_symbols)
                       - set(plan.symbols))
        sets = " ".join(f"--set {n}=..." for n in names) or "--set NAME=..."
        raise UsageError(
            f"the model is symbolic in {', '.join(names) or 'some sizes'}; the executor needs numbers",
            fix=f"give every symbol a size: {sets}",
        )
    if plan.totals.macs > max_macs:
        raise UsageError(
            f"running this plan means {plan.totals.macs:,} multiply-accumulates ({plan.totals.macs / 1e9:.1f} G), "
            f"over the budget of {max_macs:,}",
            fix="shrink the sizes with --set (e.g. a smaller H and W, batch 1), or raise --max-macs",
        )
    opaque = [ly.name for ly in plan.layers if ly.unknown]
    if opaque:
        raise UsageError(f"the executor cannot run the {len(opaque)} layer(s) convcalc cannot model (first: "
                         f"'{opaque[0]}')", fix="check the model without --partial, or a part of it without them")
    need = executor_bytes(plan)
    if need > max_bytes:
        raise UsageError(
            f"running this plan takes about {fmt_bytes(need)} ({need:,} bytes) of arrays at once, over the budget of "
            f"{fmt_bytes(max_bytes)}",
            fix="shrink the sizes with --set (a smaller H and W, batch 1), or raise --max-bytes",
        )
    rng = np.random.default_rng(seed)
    try:
        arrays: dict[str, list[np.ndarray] | None] = {  # producer -> its outputs
            name: [rng.standard_normal(tuple(int(d) for d in shape), dtype=np.float32)]
            for name, shape in plan.inputs.items()
        }
    except MemoryError:
        raise UsageError(f"the model's inputs alone do not fit in memory (the plan's estimate: {fmt_bytes(need)})",
                         fix="shrink the sizes with --set (a smaller H and W, batch 1)") from None
    start = time.perf_counter()
    checks = []
    for i, (layer, freed) in enumerate(zip(plan.layers, _freed_after(plan))):
        if progress is not None:
            progress(i, len(plan.layers), layer.name)
        predicted = Figures(tuple(int(d) for d in layer.output_shape), int(layer.params), int(layer.macs))
        sources = [arrays[s.producer] for s in layer.sources]
        if any(a is None for a in sources):
            executed = Figures(None, None, None, error="an input layer could not run")
            arrays[layer.name] = None
        else:
            inputs = [outs[s.index] for outs, s in zip(sources, layer.sources)]  # type: ignore[index]
            try:
                executed, arrays[layer.name] = _execute(layer.steps, inputs, rng)
            except MemoryError:
                arrays.clear()  # give the memory back before saying so
                raise UsageError(
                    f"the reference executor ran out of memory at layer '{layer.name}' ({layer.op}, output "
                    f"{fmt_shape(layer.output_shape)}), though the plan's estimate was {fmt_bytes(need)}",
                    fix="shrink the sizes with --set (a smaller H and W, batch 1)") from None
        checks.append(LayerCheck(layer.name, layer.op, predicted, executed))
        for name in freed:
            arrays.pop(name, None)  # its last reader has run
    if progress is not None:
        progress(len(plan.layers), len(plan.layers), "")
    return CheckReport(plan.name, tuple(checks), time.perf_counter() - start, seed)


def _execute(steps: tuple[Primitive, ...], inputs: list[np.ndarray], rng: np.random.Generator
             ) -> tuple[Figures, list[np.ndarray] | None]:
    current = list(inputs)
    macs = params = 0
    try:
        for step in steps:
            result = reference.run(step.kind, plain_fields(step, current), current, rng)
            macs += result.macs
            params += result.params
            current = list(result.outputs)
    except reference.ExecutionError as e:
        return Figures(None, None, None, error=str(e)), None
    return Figures(tuple(current[0].shape), params, macs), current


__all__ = ["CheckReport", "DEFAULT_MAX_MACS", "Figures", "LayerCheck", "check_plan"]


# --------------------------------------------------------------------------- receptive fields


@dataclass(frozen=True)
class FieldCheck:
    """One probed output element of one layer: per spatial axis, the input box the closed forms
    predict (clipped to the input) and the one the executor's window walks measure."""

    layer: str
    position: tuple[int, ...]
    predicted: tuple[tuple[int, int] | None, ...]
    measured: tuple[tuple[int, int] | None, ...]

    @property
    def ok(self) -> bool:
        return self.predicted == self.measured


def check_fields(plan: Plan) -> list[FieldCheck]:
    """``convcalc check --rf``: for every layer with spatial axes, its first, central and last
    element along every axis (each axis probed on its own: fields are separable), the predicted
    box (:class:`convcalc.receptive.ElementBoxes` over real elements: padding depends on nothing) against the measured
    support (:mod:`convcalc.reference.field`: every weight positive, max pooling as average)."""
    from .receptive import ElementBoxes, spatial_input_axes

    if plan.is_symbolic:
        raise UsageError("check --rf runs on concrete sizes", fix="--set H=224 --set W=224 (every symbol)")
    predict = ElementBoxes(plan, real=True)
    support = _measure_fields(plan, spatial_input_axes)
    out: list[FieldCheck] = []
    for ly in plan.layers:
        measured = support.get(ly.name)
        axes = predict.axes(ly.name)
        if not axes or measured is None:
            continue
        shape = ly.output_shape
        for probe in sorted({0, int(shape[axes[0]]) // 2, int(shape[axes[0]]) - 1}):
            position = tuple(min(probe, int(shape[ax]) - 1) for ax in axes)
            predicted, got = [], []
            for ax, o in zip(axes, position):
                predicted.append(predict.box(ly.name, ax, o))
                rows = measured.get(ax, {})
                boxes = [b for m in rows.values() if (b := reference_field.support_box(m[o])) is not None]
                got.append((min(b[0] for b in boxes), max(b[1] for b in boxes)) if boxes else None)
            out.append(FieldCheck(ly.name, position, tuple(predicted), tuple(got)))
    return out


def _measure_fields(plan: Plan, spatial_input_axes: Callable) -> dict[str, dict[int, dict]]:
    """Per layer: tracked axis -> {(input, axis): dependency matrix} (a ``"whole"`` key marks a
    tensor whose spatial axes are all mixed)."""
    from .ir import layout

    fld = reference_field
    states: dict[str, dict | None] = {}
    for name, shape in plan.inputs.items():
        states[name] = {ax: {(name, ax): np.eye(int(shape[ax]), dtype=bool)} for ax in spatial_input_axes(plan, shape)}
    for ly in plan.layers:
        ins = [states.get(s.producer) for s in ly.sources]
        shapes = list(ly.input_shapes)
        state: dict | None = None
        for k, step in enumerate(ly.steps):
            if k > 0:
                ins, shapes = [state], [ly.step_shapes[k - 1]]
            state = _field_step(step, ins, shapes, ly.step_shapes[k], fld, layout)
        states[ly.name] = state
    return {k: v for k, v in states.items() if v is not None}


def _field_step(step: Any, ins: list, shapes: list, out: tuple, fld: Any, layout: Callable) -> dict | None:
    if not ins or any(s is None for s in ins):
        return None
    x, xs, kind = ins[0], shapes[0], step.kind

    def spatial(rank: int, last: bool, fn: Callable) -> dict:
        lay = layout(xs, rank, last, kind)
        new = {ax: ms for ax, ms in x.items() if ax != lay.channel_axis}
        for i, ax in enumerate(lay.spatial_axes):
            if ax in x:
                new[ax] = {key: fn(i, ax, m) for key, m in x[ax].items()}
        return new

    if kind in ("conv", "pool"):
        pads = step.explicit_padding(xs)
        if kind == "conv":
            return spatial(step.rank, step.channels_last, lambda i, ax, m: fld.conv_support(
                m, step.kernel[i], step.stride[i], step.dilation[i], int(pads[i][0]), int(pads[i][1])))
        return spatial(step.rank, step.channels_last, lambda i, ax, m: fld.pool_support(
            m, step.kernel[i], step.stride[i], step.dilation[i], int(pads[i][0]), int(pads[i][1]), step.ceil_mode))
    if kind == "conv_transpose":
        return spatial(step.rank, step.channels_last, lambda i, ax, m: fld.transposed_support(
            m, int(out[ax]), step.kernel[i], step.stride[i], step.dilation[i], int(step.crops[i][0])))
    if kind == "adaptive_pool":
        return spatial(step.rank, step.channels_last, lambda i, ax, m: fld.bins_support(m, int(out[ax])))
    if kind == "global_pool":
        return None if not step.keepdims else spatial(step.rank, step.channels_last,
                                                      lambda i, ax, m: fld.whole_support(m))
    if kind in ("resize", "resize_to"):
        def resize(i: int, ax: int, m: np.ndarray) -> np.ndarray:
            scale = float(step.scales[i]) if kind == "resize" and step.sizes is None and step.scales is not None else None
            return fld.resize_support(m, int(out[ax]), scale, step.mode, step.align_corners)
        return spatial(step.rank, step.channels_last, resize)
    if kind == "pixel_shuffle" and not step.inverse:
        return spatial(len(xs) - 2, False, lambda i, ax, m: fld.repeat_support(m, step.factor))
    if kind in ("pad", "crop", "crop_to"):
        begins = ([-b for b, _ in step.widths] if kind == "pad" else [b for b, _ in step.crops] if kind == "crop"
                  else [b for b, _ in step.crops(xs, shapes[1])])
        return {ax: ({key: fld.shift_support(m, int(out[ax]), int(begins[ax])) for key, m in ms.items()}
                     if begins[ax] != 0 or out[ax] != xs[ax] else ms) for ax, ms in x.items()}
    if kind in ("activation", "identity", "constant_operand") or kind == "split" and step.axis % len(xs) not in x:
        return x
    if kind == "norm":
        mixed = set(x) if step.norm_kind in ("group", "instance") else (
            {a % len(xs) for a in step.axes} if step.norm_kind == "layer" else set())
        return {ax: ({key: fld.whole_support(m, m.shape[0]) for key, m in ms.items()} if ax in mixed else ms)
                for ax, ms in x.items()}
    if kind in ("elementwise", "concat"):
        rank = len(out)
        axis = step.axis % rank if kind == "concat" else None
        merged: dict[int, dict] = {}
        for s, shape in zip(ins, shapes):
            for ax, ms in s.items():
                oax = ax + rank - len(shape)
                if oax == axis:
                    return None
                target = merged.setdefault(oax, {})
                for key, m in ms.items():
                    if m.shape[0] == 1 and out[oax] != 1:
                        m = np.broadcast_to(m, (int(out[oax]), m.shape[1]))
                    target[key] = (target[key] | m) if key in target else m
        return merged
    if kind == "permute":
        perm = [p % len(xs) for p in step.perm]
        return {new: x[old] for new, old in enumerate(perm) if old in x}
    if kind == "dense" and (len(xs) - 1) not in x:
        return x
    if kind in ("flatten", "reshape"):
        from .receptive import trailing_axes_kept

        kept = trailing_axes_kept(xs, out, set(x))
        return None if kept is None else {ax + len(out) - len(xs): x[ax] for ax in kept}
    return None
