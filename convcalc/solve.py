"""Inverse problems: which input sizes work, and which layer arguments give a wanted size.

**Valid input sizes** (:func:`solve_sizes`). The plan is built with the input sizes symbolic;
every constraint it collected (sizes >= 1, merges agree, no stride drops a remainder) is a
predicate in the symbols, periodic in the strides beyond a threshold. Evaluating them exactly at
every size (:mod:`convcalc.constraints`) gives, per symbol, the smallest size that works, the
period and the residues: the original U-Net works for ``H = 188 + 16k`` (572 among them), and
its output is then ``H - 184``.

**Layer arguments** (:func:`parameter_options`). For one layer and a target output size, every
combination of kernel, stride, padding, dilation and output_padding in a small range is planned
under the model's own framework rules — the planner accepts or refuses it exactly as it would in
a model file — and the combinations that hit the target are listed, simplest first.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .dims import fmt_dim, free_symbols, norm, subs, symbol
from .errors import ConvcalcError, UsageError, did_you_mean
from .frontends import Window, lookup
from .ir import AXIS_NAMES, layout
from .model import Model
from .plan import LayerPlan, Plan


@dataclass(frozen=True)
class SizeSolution:
    """Valid sizes per symbol, the constraints they come from, and the first valid sizes with the
    output shapes there."""

    plan: Plan
    symbols: Mapping[str, Any]  # name -> constraints.Analysis
    rows: list[dict[str, Any]] = field(default_factory=list)
    on_valid: Mapping[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbols": {
                name: {"min": a.first, "modulus": a.modulus, "residues": list(a.residues)}
                for name, a in self.symbols.items()
            },
            "constraints": [t for texts in self.plan.constraint_summary.values() for t in texts],
            "constraints_by_kind": self.plan.constraint_summary,
            "outputs": {ly.name: [fmt_dim(d) for d in ly.output_shape] for ly in self.plan.outputs()},
            "outputs_on_valid_sizes": dict(self.on_valid),
            "first": self.rows,
        }


def solve_sizes(model: Model, sets: Mapping[str, int] | None = None, count: int = 8) -> SizeSolution:
    """Per free symbol: the smallest valid and exact size, the period and the residues."""
    from .constraints import PeriodTooLarge, solve  # sympy and numpy: a solve is symbolic

    sets = dict(sets or {})
    # The sizes solved for are the input's; a symbol only layer arguments use (out_channels: K)
    # keeps its value, and without one it must be given.
    in_inputs = model.input_symbol_names() - set(sets)
    plan = model.plan_symbolic(*in_inputs, **sets) if in_inputs else model.plan(**sets)
    names = sorted(set().union(*(free_symbols(d) for shape in plan.inputs.values() for d in shape)) - set(sets))
    loose = sorted(set().union(*(free_symbols(c.lhs) | free_symbols(c.rhs) for c in plan.constraints)) - set(names))
    if loose:
        raise UsageError(f"the layer arguments use {', '.join(loose)}, which no input size holds: solve needs their "
                         "values", fix=" ".join(f"--set {n}=..." for n in loose) + f", or give {loose[0]} a default "
                         "under symbols:")
    if not names:
        raise UsageError(
            "the model has no free symbol to solve for (every input size is a number)",
            fix="write an input size as a symbol (input: [1, H, W, 3]) or drop its --set",
        )
    try:
        found = solve(plan.constraints, names)
    except PeriodTooLarge as e:
        raise UsageError(f"the constraints on the input sizes repeat only every {e.period:,} sizes: too many to list "
                         "the valid ones", fix="`convcalc plan` states them as relations") from None
    columns = {n: found[n].values(count) for n in names}
    rows = []
    for i in range(min(len(v) for v in columns.values())):
        point = {n: columns[n][i] for n in names}
        outs = {ly.name: [subs(d, point) for d in ly.output_shape] for ly in plan.outputs()}
        rows.append({**point, "outputs": {k: [int(d) if isinstance(d, int) else fmt_dim(d) for d in v]
                                          for k, v in outs.items()}})
    on_valid = {ly.name: [_on_valid(d, found) for d in ly.output_shape] for ly in plan.outputs()}
    return SizeSolution(plan, found, rows, on_valid)


def _on_valid(d: Any, found: Mapping[str, Any]) -> str:
    """An output size restricted to the valid sizes, where the roundings are exact: affine in
    each symbol (``16*floor((H + 4)/16) - 188`` is ``H - 184`` for H = 188 + 16k)."""
    names = sorted(free_symbols(d))
    if len(names) != 1:
        return fmt_dim(d)
    name = names[0]
    xs = found[name].values(6)
    if len(xs) < 3:
        return fmt_dim(d)
    ys = [subs(d, {name: x}) for x in xs]
    if not all(isinstance(y, int) for y in ys):
        return fmt_dim(d)
    slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    if slope != int(slope) or any(y != ys[0] + slope * (x - xs[0]) for x, y in zip(xs, ys)):
        return fmt_dim(d)
    return fmt_dim(norm(int(slope) * symbol(name) + (ys[0] - int(slope) * xs[0])))


# --------------------------------------------------------------------------- layer arguments

KERNELS, STRIDES, PADS, DILATIONS, EXTRAS = range(1, 8), range(1, 5), range(0, 4), range(1, 4), range(0, 4)


def _per_axis(value: Any, rank: int, default: int) -> list[Any]:
    if value is None:
        return [default] * rank
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] * rank


@dataclass(frozen=True)
class Option:
    """One argument combination that gives the size: its arguments as written, the output, its
    params and MACs, and the other spellings of the same computation (``padding: same`` where
    ``padding: 1`` is shown)."""

    args: dict[str, Any]
    output: tuple
    params: int = 0
    macs: int = 0
    same_as: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class LayerOptions:
    layer: LayerPlan
    axis: int
    target: int
    searched: list[str]
    options: list[Option]
    nearest: tuple[int | None, int | None] = (None, None)  # the closest sizes reachable below / above

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer.name, "op": self.layer.op, "input_shape": list(self.layer.input_shapes[0]),
                "axis": self.axis, "target": self.target,
                "options": [{**{k: o.args.get(k) for k in self.searched}, "output_shape": list(o.output),
                             "params": o.params, "macs": o.macs,
                             "same_as": [{k: a.get(k) for k in self.searched} for a in o.same_as]}
                            for o in self.options],
                "nearest": {"below": self.nearest[0], "above": self.nearest[1]}}


def _computation(layer: LayerPlan) -> tuple:
    """What a planned layer computes, whatever its arguments' spelling: each step's kind, window,
    stride, dilation and resolved (begin, end) padding (``same`` resolves to numbers)."""
    out = []
    x = layer.input_shapes[0]
    for step, shape in zip(layer.steps, (x, *layer.step_shapes)):
        pads = step.explicit_padding(shape) if hasattr(step, "explicit_padding") else getattr(step, "crops", None)
        kernel, dilation = getattr(step, "kernel", None), getattr(step, "dilation", None)
        if kernel is not None and dilation is not None:  # a 1-wide window reads the same at any dilation
            dilation = tuple(1 if k == 1 else d for k, d in zip(kernel, dilation))
        out.append((step.kind, kernel, getattr(step, "stride", None), dilation, pads,
                    getattr(step, "output_padding", None), getattr(step, "ceil_mode", None)))
    return tuple(out)


def axis_index(name: str, rank: int) -> int:
    """``H`` -> 0 on a 2-D layer, ``L`` on a 1-D layer; an axis the layer does not have is a
    usage error.

    >>> axis_index("W", 2), axis_index("L", 1)
    (1, 0)
    """
    names = list(AXIS_NAMES.get(rank, ()))
    if rank == 1:
        if name.upper() != names[0]:
            raise UsageError(f"a 1-D layer has the one axis {names[0]}, not {name!r}", fix=f"--output {names[0]}=SIZE")
        return 0
    aliases = {"T": "D"}
    key = aliases.get(name.upper(), name.upper())
    if key not in names:
        raise UsageError(f"a {rank}-D layer has the axes {', '.join(names)}, not {name!r}",
                         fix=f"--output {names[0]}=SIZE")
    return names.index(key)


def parameter_options(model: Model, layer_name: str, axis_name: str, target: int,
                      sets: Mapping[str, int] | None = None) -> LayerOptions:
    """Every argument combination (small ranges) that makes ``layer_name`` give ``target``."""
    plan = model.plan(**dict(sets or {}))
    names = [ly.name for ly in plan.layers]
    if layer_name not in names:
        raise UsageError(f"no layer named {layer_name!r}.{did_you_mean(layer_name, names)}".replace("..", "."))
    layer = plan.layer(layer_name)
    spec = next(ly for ly in model.layers if ly.name == layer_name)
    family = lookup(model.registry, spec.op).window
    if family is None:
        raise UsageError(f"solving for arguments covers convolutions and pooling; '{layer_name}' is a {spec.op}")
    step = layer.steps[0]
    rank = getattr(step, "rank", None)
    if rank is None:
        raise UsageError(f"'{layer_name}' has no spatial axes to solve for")
    axis = axis_index(axis_name, rank)
    if any(not isinstance(d, int) for s in layer.input_shapes for d in s):
        raise UsageError(f"the input of '{layer_name}' is symbolic {layer.input_shapes[0]}; give sizes with --set")
    x = layer.input_shapes[0]
    lay = layout(x, rank, bool(getattr(step, "channels_last", False)), "solve")
    ax = lay.spatial_axes[axis]

    def axis_values(key: str, value: Any, default: int) -> list[Any]:
        current = _per_axis(spec.args.get(key), rank, default)
        current[axis] = value
        return current

    grid: dict[str, list[Any]] = {family.kernel: list(KERNELS), family.stride: list(STRIDES)}
    if family.dilation:
        grid[family.dilation] = list(DILATIONS)
    if family.extra:
        grid[family.extra] = ([None] if family.extra_none else []) + list(EXTRAS)
    if family.ceil:
        grid[family.ceil] = [False, True] if model.framework != "onnx" else [0, 1]
    padding_choices: list[tuple[str | None, Any]] = []
    if family.padding:
        padding_choices += [(None, p) for p in PADS]
    padding_choices += [(m, None) for m in family.modes]
    keys = list(grid)
    options: list[tuple[Option, tuple]] = []
    reached: set[int] = set()
    seen = set()
    for values in itertools.product(*grid.values(), padding_choices):
        combo = dict(zip(keys, values[:-1]))
        mode, pad = values[-1]
        if family.mode_key == family.padding and mode is None and pad is None:
            continue
        args = dict(spec.args)
        for key in (family.kernel, family.stride, family.dilation):
            if key:
                args[key] = axis_values(key, combo[key], 1)
        if family.extra:
            a = combo[family.extra]
            if a is None:
                args.pop(family.extra, None)
            else:
                args[family.extra] = axis_values(family.extra, a, 0)
        if family.ceil:
            args[family.ceil] = combo[family.ceil]
        if family.mode_key and family.mode_key != family.padding:
            args[family.mode_key] = mode if mode is not None else family.modes[0]
        if family.padding:
            if mode is not None and family.mode_key == family.padding:
                args[family.padding] = mode
            elif pad is not None:
                if family.padding == "pads":  # ONNX: begins then ends
                    current = list(spec.args.get("pads") or [0] * (2 * rank))
                    current[axis], current[axis + rank] = pad, pad
                    args["pads"] = current
                else:
                    args[family.padding] = axis_values(family.padding, pad, 0)
            elif family.padding == "pads":
                args.pop("pads", None)
        if model.framework == "onnx" and "pads" in args and args.get("auto_pad", "NOTSET") != "NOTSET":
            continue
        shown = {k: args.get(k) for k in family.searched}
        key = repr(sorted((k, repr(v)) for k, v in shown.items()))
        if key in seen:
            continue
        seen.add(key)
        one = Model(framework=model.framework, inputs={f"in{i}": list(s) for i, s in enumerate(layer.input_shapes)},
                    layers=[{"op": spec.op, "inputs": [f"in{i}" for i in range(len(layer.input_shapes))], **args}])
        try:
            planned = one.plan().layers[0]
        except ConvcalcError:
            continue  # the framework refuses this combination
        out = planned.output_shape
        reached.add(out[ax])
        if out[ax] == target:
            options.append((Option(shown, tuple(out), int(planned.params), int(planned.macs)), _computation(planned)))
    options.sort(key=lambda o: _simplicity(o[0], family, axis))
    merged: dict[tuple, Option] = {}  # the simplest spelling of each computation, the others under it
    for option, computation in options:
        if computation in merged:
            first = merged[computation]
            merged[computation] = dataclasses.replace(first, same_as=first.same_as + (option.args,))
        else:
            merged[computation] = option
    below = max((r for r in reached if r < target), default=None)
    above = min((r for r in reached if r > target), default=None)
    return LayerOptions(layer, axis, target, family.searched, list(merged.values()), (below, above))


def _simplicity(o: Option, f: Window, axis: int) -> tuple:
    def at(key: str | None, default: int = 0) -> int:
        if not key:
            return default
        v = o.args.get(key)
        if isinstance(v, (list, tuple)):
            v = v[axis] if len(v) > axis else v[0]
        return v if isinstance(v, int) else default

    mode = o.args.get(f.mode_key) if f.mode_key else None
    return (at(f.dilation, 1), at(f.extra), bool(at(f.ceil)), str(mode), at(f.padding), at(f.stride, 1),
            at(f.kernel, 1))
