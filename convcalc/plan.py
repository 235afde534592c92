"""The plan: walk the layer graph once, giving every layer its shapes, parameters, MACs, FLOPs
and activation memory, and collecting the constraints symbolic sizes must satisfy.

Counting conventions (design.md §4) live here and in :mod:`convcalc.formulas` only:

- MACs: convolutions ``N * prod(out) * C_out * C_in/g * prod(k)``; transposed convolutions by
  INPUT positions; dense ``rows * in * out``. Bias adds, normalisation, activations, pooling and
  resizing are not MACs.
- FLOPs = 2 * MACs.
- Activation bytes = elements of the layer's output (batch included) * dtype size.
- Parameters by the framework's own count (Keras: BatchNorm moving statistics are
  non-trainable parameters; PyTorch: buffers are not parameters).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .dims import Dim, ast_names, dim_from_ast, fmt_dim, fmt_shape, is_concrete, norm, parse_dim, parse_dim_ast, prod
from .errors import ArgumentError, ConvcalcError, did_you_mean
from .frontends import Call, lookup
from .ir import Checks, Constraint, Primitive
from .model import DTYPE_BYTES, Layer, Model, check_symbol_value, unknown_symbol_error

FLOPS_PER_MAC = 2


@dataclass(frozen=True)
class LayerPlan:
    """One layer of the plan.

    ``steps`` are the canonical primitives the layer was lowered to and ``step_shapes`` their
    output shapes (the last one is ``output_shape``).
    """

    name: str
    op: str
    inputs: tuple[str, ...]
    line: int | None
    input_shapes: tuple[tuple, ...]
    output_shape: tuple
    trainable_params: Dim
    non_trainable_params: Dim
    macs: Dim
    dtype_bytes: int
    steps: tuple[Primitive, ...] = ()
    step_shapes: tuple[tuple, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> Dim:
        return norm(self.trainable_params + self.non_trainable_params)

    @property
    def flops(self) -> Dim:
        return norm(FLOPS_PER_MAC * self.macs)

    @property
    def activation_bytes(self) -> Dim:
        return norm(prod(self.output_shape) * self.dtype_bytes)

    def to_dict(self) -> dict[str, Any]:
        """The layer's entry of the JSON report (design.md §3)."""
        return {
            "name": self.name,
            "op": self.op,
            "inputs": list(self.inputs),
            "line": self.line,
            "input_shapes": [[_json_dim(d) for d in s] for s in self.input_shapes],
            "output_shape": [_json_dim(d) for d in self.output_shape],
            "params": _json_dim(self.params),
            "trainable_params": _json_dim(self.trainable_params),
            "non_trainable_params": _json_dim(self.non_trainable_params),
            "macs": _json_dim(self.macs),
            "flops": _json_dim(self.flops),
            "activation_bytes": _json_dim(self.activation_bytes),
        }


@dataclass(frozen=True)
class Totals:
    """Sums over the layers (activation bytes: every layer output, inputs excluded)."""

    params: Dim
    trainable_params: Dim
    non_trainable_params: Dim
    macs: Dim
    flops: Dim
    activation_bytes: Dim

    def to_dict(self) -> dict[str, Any]:
        return {k: _json_dim(getattr(self, k)) for k in
                ("params", "trainable_params", "non_trainable_params", "macs", "flops", "activation_bytes")}


@dataclass(frozen=True)
class Plan:
    """The planned model: per-layer figures, totals and constraints.

    >>> import convcalc
    >>> plan = convcalc.Model(framework="keras", input=[2, 10, 11, 3]).add(
    ...     "Conv2D", filters=8, kernel_size=3, strides=2, padding="same").plan()
    >>> plan.layers[0].output_shape, plan.totals.params
    ((2, 5, 6, 8), 224)
    """

    name: str | None
    framework: str
    dtype: str
    inputs: Mapping[str, tuple]
    layers: tuple[LayerPlan, ...]
    totals: Totals
    constraints: tuple[Constraint, ...] = ()
    symbols: Mapping[str, int] = field(default_factory=dict)
    used_symbols: frozenset[str] = frozenset()
    file: str | None = None
    notes: tuple[str, ...] = ()

    @cached_property
    def constraint_summary(self) -> dict[str, list[str]]:
        """Plain statements by kind (``valid``, ``merge``, ``exact``), one per symbol where they
        concern one symbol: ``{"valid": ["H >= 32"], "merge": [], "exact": ["H % 4 == 0"]}``."""
        if not self.constraints:
            return {"valid": [], "merge": [], "exact": []}
        from .symbolic import summarize

        return summarize(self.constraints)

    @property
    def dtype_bytes(self) -> int:
        return DTYPE_BYTES[self.dtype]

    @property
    def is_symbolic(self) -> bool:
        return not all(is_concrete(getattr(self.totals, k)) for k in ("params", "macs", "activation_bytes"))

    def layer(self, name: str) -> LayerPlan:
        for ly in self.layers:
            if ly.name == name:
                return ly
        raise KeyError(f"no layer named {name!r}.{did_you_mean(name, [ly.name for ly in self.layers])}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (design.md §3)."""
        return {
            "name": self.name,
            "framework": self.framework,
            "dtype": self.dtype,
            "inputs": {k: [_json_dim(d) for d in v] for k, v in self.inputs.items()},
            "layers": [ly.to_dict() for ly in self.layers],
            "totals": self.totals.to_dict(),
            "constraints": [t for texts in self.constraint_summary.values() for t in texts],
            "constraints_by_kind": self.constraint_summary,
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def table(self, fmt: str = "text") -> str:
        """The per-layer table with totals and the counting conventions, in ``fmt``
        (text, github, markdown, latex, html, csv, json)."""
        from .report import render_plan

        return render_plan(self, fmt)


def _json_dim(d: Any) -> Any:
    return d if is_concrete(d) else fmt_dim(d)


# --------------------------------------------------------------------------- the walk


def build_plan(
    model: Model,
    overrides: Mapping[str, Any] | None = None,
    *,
    strict_symbols: bool = True,
    free: frozenset[str] | set[str] = frozenset(),
) -> Plan:
    """Plan ``model`` with symbol values ``overrides`` (on top of the file's ``symbols``).

    ``free`` names symbols to keep symbolic even when the file gives them a default (for
    ``solve`` and ``--sweep``).
    """
    overrides = dict(overrides or {})
    for k, v in overrides.items():
        try:
            check_symbol_value(k, v)
        except ArgumentError as e:
            from .errors import UsageError

            raise UsageError(e.message, fix=e.fix) from None
    env = {k: v for k, v in {**model.symbols, **overrides}.items() if k not in free or k in overrides}
    used: set[str] = set()
    checks = Checks()
    shapes: dict[str, tuple] = {}
    origin: dict[str, str] = {}
    for name, raw in model.inputs.items():
        dims = []
        for d in raw:
            try:
                if isinstance(d, str):
                    ast = parse_dim_ast(d)
                    used |= ast_names(ast)
                    value = dim_from_ast(ast, env, d)
                else:
                    value = parse_dim(d, env)
            except ArgumentError as e:
                raise e.add_context(file=model.file, line=model.input_lines.get(name), key="input") from None
            checks.layer = name
            checks.require_ge(
                value,
                1,
                lambda d=d, value=value, name=name: ArgumentError(
                    f"input '{name}': the size {d} = {fmt_dim(value)} must be at least 1",
                    file=model.file,
                    line=model.input_lines.get(name),
                ),
            )
            dims.append(value)
        shapes[name] = tuple(dims)
        origin[name] = f"the model input '{name}'" if len(model.inputs) > 1 or name != "input" else "the model input"

    known_symbols = model.symbol_names()
    order, sources = _order(model)
    plans: list[LayerPlan] = []
    lines = {ly.name: ly.line for ly in model.layers}
    for layer in order:
        srcs = sources[layer.name]
        in_shapes = tuple(shapes[s] for s in srcs)
        checks.layer = layer.name
        op = call = None
        try:
            op = lookup(model.registry, layer.op)
            lo, hi = op.inputs
            if len(srcs) < lo or (hi is not None and len(srcs) > hi):
                want = f"{lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
                raise ArgumentError(
                    f"{layer.op} takes {want} input{'s' if want != '1' else ''}, got {len(srcs)} "
                    f"({', '.join(repr(s) for s in srcs)})",
                    fix="list its sources with inputs: [a, b]" if lo > 1 else "give it one source with inputs: name",
                    line=layer.key_lines.get("inputs"),
                )
            for key in layer.args:
                if key not in op.args:
                    raise ArgumentError(
                        f"{layer.op} has no argument '{key}'.{did_you_mean(key, op.args)}".replace("..", "."),
                        fix=f"{layer.op} takes: " + ", ".join(k for k in op.args if not _ignorable(k)),
                        key=key,
                        line=layer.key_lines.get(key),
                    )
            call = Call(op, layer.name, layer.args, in_shapes, env, layer.key_lines, known_symbols)
            steps = op.build(call)
            used |= call.used_symbols
            step_shapes, trainable, frozen, macs = _run(steps, in_shapes, checks)
        except ConvcalcError as e:
            if e.fix is None and op is not None and op.fix is not None and call is not None:
                e.fix = op.fix(e, call)
            details = [
                f"input {fmt_shape(shapes[s])} comes from "
                + (f"'{s}'" + (f" ({_where(model.file, lines[s])})" if lines.get(s) else "") if s in lines else origin[s])
                for s in srcs
            ]
            raise e.add_context(layer=layer.name, op=layer.op, line=layer.line, file=model.file, details=details)
        if model.registry.framework in ("keras", "tf.keras") and layer.args.get("trainable") is False:
            trainable, frozen = 0, norm(trainable + frozen)
        plans.append(
            LayerPlan(
                name=layer.name,
                op=layer.op,
                inputs=srcs,
                line=layer.line,
                input_shapes=in_shapes,
                output_shape=step_shapes[-1] if step_shapes else in_shapes[0],
                trainable_params=trainable,
                non_trainable_params=frozen,
                macs=macs,
                dtype_bytes=DTYPE_BYTES[model.dtype],
                steps=tuple(steps),
                step_shapes=tuple(step_shapes),
                args=dict(layer.args),
            )
        )
        shapes[layer.name] = plans[-1].output_shape
    if strict_symbols:
        known = used | known_symbols
        for k in overrides:
            if k not in known:
                raise unknown_symbol_error(k, known)
    totals = Totals(
        params=norm(sum(p.params for p in plans)),
        trainable_params=norm(sum(p.trainable_params for p in plans)),
        non_trainable_params=norm(sum(p.non_trainable_params for p in plans)),
        macs=norm(sum(p.macs for p in plans)),
        flops=norm(sum(p.flops for p in plans)),
        activation_bytes=norm(sum(p.activation_bytes for p in plans)),
    )
    return Plan(
        name=model.name,
        framework=model.framework,
        dtype=model.dtype,
        inputs=shapes_of_inputs(model, shapes),
        layers=tuple(plans),
        totals=totals,
        constraints=tuple(checks.constraints),
        symbols={k: v for k, v in env.items() if k in used or k in known_symbols},
        used_symbols=frozenset(used),
        file=model.file,
        notes=tuple(checks.notes),
    )


def shapes_of_inputs(model: Model, shapes: Mapping[str, tuple]) -> dict[str, tuple]:
    return {k: shapes[k] for k in model.inputs}


def _ignorable(key: str) -> bool:
    return key.endswith(("_initializer", "_regularizer", "_constraint")) or key in (
        "device", "dtype", "autocast", "input_shape", "input_dim", "batch_size", "dynamic", "lora_rank", "lora_alpha",
        "quantization_config", "inplace",
    )


def _where(file: str | None, line: int | None) -> str:
    return f"{file}:{line}" if file else f"line {line}"


def _run(steps: list[Primitive], inputs: tuple[tuple, ...], checks: Checks) -> tuple[list[tuple], Dim, Dim, Dim]:
    """Infer each step in turn; sum its parameters and MACs."""
    cur = inputs
    shapes: list[tuple] = []
    trainable: Any = 0
    frozen: Any = 0
    macs: Any = 0
    for step in steps:
        lo, hi = step.arity
        if len(cur) < lo or (hi is not None and len(cur) > hi):
            raise ArgumentError(f"takes {lo if lo == hi else f'{lo}+'} input(s), got {len(cur)}")
        out = tuple(step.infer(cur, checks))
        t, f = step.params()
        trainable, frozen = trainable + t, frozen + f
        macs = macs + step.macs(cur, out)
        shapes.append(out)
        cur = (out,)
    return shapes, norm(trainable), norm(frozen), norm(macs)


def _order(model: Model) -> tuple[list[Layer], dict[str, tuple[str, ...]]]:
    """Each layer's sources, and a topological order that keeps file order where it can."""
    layers = model.layers
    names = {ly.name: i for i, ly in enumerate(layers)}
    sources: dict[str, tuple[str, ...]] = {}
    for i, ly in enumerate(layers):
        if ly.inputs is None:
            if i > 0:
                sources[ly.name] = (layers[i - 1].name,)
            elif len(model.inputs) == 1:
                sources[ly.name] = (next(iter(model.inputs)),)
            else:
                raise ArgumentError(
                    f"the first layer does not say which of the inputs {list(model.inputs)} it reads",
                    fix=f"add inputs: {next(iter(model.inputs))} to layer '{ly.name}'",
                    layer=ly.name,
                    op=ly.op,
                    line=ly.line,
                    file=model.file,
                )
        else:
            for s in ly.inputs:
                if s not in names and s not in model.inputs:
                    raise ArgumentError(
                        f"unknown input '{s}'.{did_you_mean(s, list(names) + list(model.inputs))}".replace("..", "."),
                        fix="name a model input or a layer: "
                        + ", ".join(list(model.inputs) + [n for n in names if n != ly.name][:8])
                        + (", ..." if len(names) > 9 else ""),
                        layer=ly.name,
                        op=ly.op,
                        line=ly.key_lines.get("inputs", ly.line),
                        file=model.file,
                        key="inputs",
                    )
            sources[ly.name] = ly.inputs
    # Kahn's algorithm, smallest file index first.
    pending = {ly.name: sum(1 for s in sources[ly.name] if s in names) for ly in layers}
    users: dict[str, list[int]] = {}
    for i, ly in enumerate(layers):
        for s in sources[ly.name]:
            if s in names:
                users.setdefault(s, []).append(i)
    ready = [i for i, ly in enumerate(layers) if pending[ly.name] == 0]
    heapq.heapify(ready)
    order: list[Layer] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(layers[i])
        for j in users.get(layers[i].name, []):
            pending[layers[j].name] -= 1
            if pending[layers[j].name] == 0:
                heapq.heappush(ready, j)
    if len(order) < len(layers):
        stuck = [ly for ly in layers if pending[ly.name] > 0]
        cycle = _find_cycle(stuck, sources, names)
        first = layers[names[cycle[0]]]
        raise ArgumentError(
            "the layers form a cycle: " + " -> ".join(cycle + [cycle[0]]),
            fix="a layer can only read model inputs and layers that do not depend on it",
            layer=first.name,
            op=first.op,
            line=first.key_lines.get("inputs", first.line),
            file=model.file,
        )
    return order, sources


def _find_cycle(stuck: list[Layer], sources: Mapping[str, tuple[str, ...]], names: Mapping[str, int]) -> list[str]:
    stuck_names = {ly.name for ly in stuck}
    node = stuck[0].name
    seen: list[str] = []
    while node not in seen:
        seen.append(node)
        node = next(s for s in sources[node] if s in stuck_names)
    cycle = seen[seen.index(node):]
    return list(reversed(cycle))
