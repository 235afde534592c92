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

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from .dims import (
    DTYPE_BYTES,
    Dim,
    ast_names,
    check_symbol_value,
    dim_from_ast,
    dsum,
    fmt_count,
    fmt_dim,
    fmt_shape,
    is_concrete,
    json_dim,
    norm,
    parse_dim,
    parse_dim_ast,
    printed,
    prod,
)
from .errors import (
    ArgumentError,
    ConvcalcError,
    Reason,
    ShapeError,
    UsageError,
    Where,
    did_you_mean,
    unknown_symbol_error,
)
from .figures import FIGURES
from .frontends import Registry, lookup
from .graph import Layer, Source, sources_of, topological_order
from .ir import Checks, Constraint, Primitive

FLOPS_PER_MAC = 2
MAX_RANK = 64  # axes of a tensor: torch allows 64 (CUDA 25); a longer shape is a generated typo
# What a primitive's unknown figure makes unknown in the layer's figures.
UNKNOWN_FIGURES = {"macs": frozenset({"macs", "flops"}),
                   "params": frozenset({"params", "trainable_params", "non_trainable_params"})}


@dataclass(frozen=True)
class LayerPlan:
    """One layer of the plan.

    ``steps`` are the canonical primitives the layer was lowered to and ``step_shapes`` their
    output shapes (the last one is ``output_shape``). ``inputs`` are the tensors the layer reads
    as written (``"conv1"``, ``"split:1"``), ``sources`` the same resolved to (layer, output).
    A layer with several outputs (a split) has them all in ``output_shapes``.
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
    output_shapes: tuple[tuple, ...] = ()
    sources: tuple[Source, ...] = ()
    where: Where = Where()
    unknown: frozenset[str] = frozenset()  # figure keys convcalc cannot know here (an Opaque layer's MACs)

    @property
    def outputs(self) -> tuple[tuple, ...]:
        """Every output shape (one for all layers but splits)."""
        return self.output_shapes or (self.output_shape,)

    @property
    def params(self) -> Dim:
        return norm(self.trainable_params + self.non_trainable_params)

    @property
    def flops(self) -> Dim:
        return norm(FLOPS_PER_MAC * self.macs)

    @property
    def activation_bytes(self) -> Dim:
        """Elements of every output, batch included, times the dtype size."""
        return norm(sum(prod(shape) for shape in self.outputs) * self.dtype_bytes)

    def to_dict(self) -> dict[str, Any]:
        """The layer's entry of the JSON report (docs/json.md); ``output_shapes`` is added for a
        layer with several outputs."""
        out = {
            "name": self.name,
            "op": self.op,
            "inputs": list(self.inputs),
            "line": self.line,
            "input_shapes": [[json_dim(d) for d in s] for s in self.input_shapes],
            "output_shape": [json_dim(d) for d in self.output_shape],
        }
        if len(self.outputs) > 1:
            out["output_shapes"] = [[json_dim(d) for d in s] for s in self.outputs]
        out.update({f.key: None if f.key in self.unknown else json_dim(getattr(self, f.key)) for f in FIGURES})
        return out


@dataclass(frozen=True)
class Totals:
    """Sums over the layers of every figure in :data:`~convcalc.figures.FIGURES` (activation
    bytes: every layer output, model inputs excluded)."""

    params: Dim
    trainable_params: Dim
    non_trainable_params: Dim
    macs: Dim
    flops: Dim
    activation_bytes: Dim

    @classmethod
    def of(cls, layers: Iterable[LayerPlan]) -> Totals:
        layers = list(layers)
        return cls(**{f.key: dsum(getattr(ly, f.key) for ly in layers) for f in FIGURES})

    def to_dict(self) -> dict[str, Any]:
        return {f.key: json_dim(getattr(self, f.key)) for f in FIGURES}


# The report (an edge module: it imports tabulate) renders plans, and Plan.table is its shortcut.
# So that the core never imports the edge, convcalc.report registers its renderer here when it is
# imported; the package face (convcalc/__init__.py) imports the report with the planner.
RENDERERS: dict[str, Callable[[Plan, str], str]] = {}


@dataclass(frozen=True, repr=False)
class Plan:
    """The planned model: per-layer figures, totals and constraints.

    >>> import convcalc
    >>> plan = convcalc.Model(framework="keras", input=[2, 10, 11, 3]).add(
    ...     "Conv2D", filters=8, kernel_size=3, strides=2, padding="same").plan()
    >>> plan.layers[0].output_shape, plan.totals.params
    ((2, 5, 6, 8), 224)
    >>> plan
    <Plan 'model' (keras, float32): 1 layer, 224 params, 12,960 MACs, output (2, 5, 6, 8)>
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
    inversion_notes: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()

    def __repr__(self) -> str:
        """A short summary: name, framework, layers, totals and the output (``plan.table()``
        prints the whole table)."""
        t = self.totals
        outs = " + ".join(fmt_shape(ly.output_shape) for ly in self.outputs()) if self.layers else ""
        n = len(self.layers)
        return (f"<Plan {self.name or self.file or 'model'!r} ({self.framework}, {self.dtype}): {n} layer"
                f"{'s' if n != 1 else ''}, {fmt_count(t.params)} params, {fmt_count(t.macs)} MACs, output {outs}>")

    def _repr_html_(self) -> str:
        """Jupyter: the plan's table as HTML."""
        return self.table("html")

    @cached_property
    def constraint_summary(self) -> dict[str, list[str]]:
        """Plain statements by kind (``valid``, ``merge``, ``exact``), one per symbol where they
        concern one symbol: ``{"valid": ["H >= 32"], "merge": [], "exact": ["H % 4 == 0"]}``."""
        if not self.constraints:
            return {"valid": [], "merge": [], "exact": [], "invertible": []}
        from .constraints import summarize  # sympy and numpy: only for symbolic plans

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

    def consumers(self, name: str) -> list[LayerPlan]:
        """The layers that read any output of layer (or model input) ``name``, in plan order."""
        return [ly for ly in self.layers if any(s.producer == name for s in ly.sources)]

    def outputs(self) -> list[LayerPlan]:
        """The model's outputs: the layers nothing else reads (the last layer when all are read)."""
        read = {s.producer for ly in self.layers for s in ly.sources}
        return [ly for ly in self.layers if ly.name not in read] or [self.layers[-1]]

    @property
    def unknown(self) -> frozenset[str]:
        """Figure keys some layer cannot know (``--partial`` imports): their totals are lower bounds."""
        return frozenset().union(*(ly.unknown for ly in self.layers))

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (docs/json.md); ``macs_complete``/``params_complete`` are added (false)
        when some layer's figure is unknown, and its per-layer value is ``null``."""
        out = {
            "name": self.name,
            "framework": self.framework,
            "dtype": self.dtype,
            "inputs": {k: [json_dim(d) for d in v] for k, v in self.inputs.items()},
            "layers": [ly.to_dict() for ly in self.layers],
            "totals": self.totals.to_dict(),
            "constraints": [t for texts in self.constraint_summary.values() for t in texts],
            "constraints_by_kind": self.constraint_summary,
            "notes": list(self.notes),
        }
        if self.inversion_notes:
            out["inversion_notes"] = list(self.inversion_notes)
        if self.hints:
            out["hints"] = list(self.hints)
        if "macs" in self.unknown:
            out["macs_complete"] = False
        if "params" in self.unknown:
            out["params_complete"] = False
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def table(self, fmt: str = "text", **layout: Any) -> str:
        """The per-layer table with totals and the counting conventions, in ``fmt``
        (text, github, markdown, latex, html, csv, json): :func:`convcalc.report.render_plan`.
        ``layout`` is :class:`convcalc.report.View`'s: ``width`` (100; None for no limit),
        ``exact``, ``columns``, ``depth``."""
        if "plan" not in RENDERERS:
            raise RuntimeError("the report is not loaded: import convcalc.report (import convcalc does it)")
        return RENDERERS["plan"](self, fmt, **layout)


# --------------------------------------------------------------------------- the walk


class Plannable(Protocol):
    """What :func:`build_plan` reads of a model (:class:`convcalc.Model` is one)."""

    name: str | None
    framework: str
    dtype: str
    file: str | None
    registry: Registry
    inputs: Mapping[str, tuple]
    input_lines: Mapping[str, int | None]
    symbols: Mapping[str, int]
    layers: list[Layer]

    def symbol_names(self) -> set[str]: ...


def build_plan(
    model: Plannable,
    overrides: Mapping[str, Any] | None = None,
    *,
    strict_symbols: bool = True,
    free: frozenset[str] | set[str] = frozenset(),
) -> Plan:
    """Plan ``model`` with symbol values ``overrides`` (on top of the file's ``symbols``).

    The graph walk only: each layer is bound to its op definition (the frontend checks its
    inputs and arguments), lowered to primitives, and their shapes, parameters and MACs summed.
    ``free`` names symbols to keep symbolic even when the file gives them a default (for
    ``solve`` and ``--sweep``).
    """
    planner = Planner(model, overrides, free=free)
    sources = sources_of(model.layers, list(model.inputs), model.file)
    for layer in topological_order(model.layers, sources, model.file):
        planner.add(layer, sources[layer.name])
    return planner.finish(strict_symbols=strict_symbols)


class Planner:
    """Plans layers one at a time, in an order where each comes after what it reads: what
    :func:`build_plan` does for a whole model, and what an importer uses to know the shape of
    every tensor so far (to fold ``Shape`` arithmetic into numbers or closed forms)."""

    def __init__(self, model: Plannable, overrides: Mapping[str, Any] | None = None, *,
                 free: frozenset[str] | set[str] = frozenset()) -> None:
        self.model = model
        self.overrides = dict(overrides or {})
        for k, v in self.overrides.items():
            try:
                check_symbol_value(k, v)
            except ArgumentError as e:
                raise UsageError(e.message, fix=e.fix) from None
        self.env = {k: v for k, v in {**model.symbols, **self.overrides}.items() if k not in free or k in self.overrides}
        self.used: set[str] = set()
        self.checks = Checks()
        self.tensors: dict[str, tuple[tuple, ...]] = {}  # producer -> its output shapes
        self.origin: dict[str, str] = {}
        self.where: dict[str, Where] = {}
        self.plans: list[LayerPlan] = []
        for name, raw in model.inputs.items():
            self.tensors[name] = (self._input_shape(name, raw),)
            self.origin[name] = (f"the model input '{name}'" if len(model.inputs) > 1 or name != "input"
                                 else "the model input")
        self.known_symbols = model.symbol_names()

    def _input_shape(self, name: str, raw: tuple) -> tuple:
        model, dims = self.model, []
        for d in raw:
            try:
                if isinstance(d, str):
                    ast = parse_dim_ast(d)
                    self.used |= ast_names(ast)
                    value = dim_from_ast(ast, self.env, d)
                else:
                    value = parse_dim(d, self.env)
            except ArgumentError as e:
                raise e.add_context(file=model.file, line=model.input_lines.get(name), key="input") from None
            self.checks.layer = name
            self.checks.require_ge(
                value,
                1,
                lambda d=d, value=value, name=name: ArgumentError(
                    f"input '{name}': the size {d} = {fmt_dim(value)} must be at least 1",
                    file=model.file,
                    line=model.input_lines.get(name),
                ),
            )
            dims.append(value)
        return tuple(dims)

    def shape(self, src: Source) -> tuple:
        """The shape of a tensor planned so far (an input, or an output of a planned layer)."""
        return _tensor(self.tensors, src)

    def add(self, layer: Layer, srcs: tuple[Source, ...]) -> LayerPlan:
        """Plan one layer whose sources are all planned; raise its error with every context."""
        model, checks = self.model, self.checks
        self.where[layer.name] = layer.where
        checks.layer = layer.name
        op = call = None
        try:
            in_shapes = tuple(_tensor(self.tensors, s) for s in srcs)
            op = lookup(model.registry, layer.op)
            call = op.bind(layer.name, layer.op, layer.args, in_shapes, sources=[str(s) for s in srcs], env=self.env,
                           key_lines=layer.key_lines, known_symbols=self.known_symbols)
            if model.registry.hint is not None:
                model.registry.hint(call)
            steps = op.build(call)
            self.used |= call.used_symbols
            checks.hints += [f"{layer.name}: {h}" for h in call.hints]
            step_shapes, outputs, trainable, frozen, macs = _run(steps, in_shapes, checks)
            if any(len(shape) > MAX_RANK for shape in outputs):
                raise ShapeError(f"the output has {max(len(s) for s in outputs):,} axes, more than the {MAX_RANK} a "
                                 "tensor may have here (PyTorch and ONNX runtimes stop earlier)", reason=Reason.RANK)
            unknown = frozenset().union(*(UNKNOWN_FIGURES[u] for step in steps for u in step.unknown))
        except ConvcalcError as e:
            if e.fix is None and op is not None and op.fix is not None and call is not None:
                e.fix = op.fix(e, call)
            details = [f"input {fmt_shape(_tensor(self.tensors, s))} comes from "
                       + _origin(s, self.where, self.origin, model.file)
                       for s in srcs if s.producer in self.tensors and s.index < len(self.tensors[s.producer])]
            raise e.add_context(layer=layer.name, op=layer.op, where=_located(layer.where, model.file),
                                details=details)
        trainable, frozen = model.registry.param_convention(layer.args, trainable, frozen)
        plan = LayerPlan(
            name=layer.name,
            op=layer.op,
            inputs=tuple(str(s) for s in srcs) if layer.inputs is None else layer.inputs,
            line=layer.line,
            input_shapes=tuple(printed(x) for x in in_shapes),
            output_shape=printed(outputs[0]),
            trainable_params=trainable,
            non_trainable_params=frozen,
            macs=macs,
            dtype_bytes=DTYPE_BYTES[model.dtype],
            steps=tuple(steps),
            step_shapes=tuple(step_shapes),
            args=dict(layer.args),
            output_shapes=tuple(printed(o) for o in outputs) if len(outputs) > 1 else (),
            sources=srcs,
            where=layer.where,
            unknown=unknown,
        )
        self.plans.append(plan)
        self.tensors[layer.name] = outputs
        return plan

    def finish(self, *, strict_symbols: bool = True) -> Plan:
        """The plan of every layer added (an unknown ``--set`` symbol is an error when strict)."""
        model = self.model
        if strict_symbols:
            known = self.used | self.known_symbols
            for k in self.overrides:
                if k not in known:
                    raise unknown_symbol_error(k, known)
        return Plan(
            name=model.name,
            framework=model.framework,
            dtype=model.dtype,
            inputs={k: printed(self.tensors[k][0]) for k in model.inputs},
            layers=tuple(self.plans),
            totals=Totals.of(self.plans),
            constraints=tuple(self.checks.constraints),
            symbols={k: v for k, v in self.env.items() if k in self.used or k in self.known_symbols},
            used_symbols=frozenset(self.used),
            file=model.file,
            notes=tuple(self.checks.notes),
            inversion_notes=tuple(self.checks.inversion_notes),
            hints=tuple(self.checks.hints),
        )


def _tensor(tensors: Mapping[str, tuple[tuple, ...]], src: Source) -> tuple:
    outputs = tensors[src.producer]
    if src.index >= len(outputs):
        raise ArgumentError(
            f"'{src.producer}' has {len(outputs)} output{'s' * (len(outputs) > 1)}, so there is no '{src}'",
            fix=f"read {src.producer}:0 to {src.producer}:{len(outputs) - 1}" if len(outputs) > 1 else
            f"read '{src.producer}'",
            key="inputs",
        )
    return outputs[src.index]


def _located(where: Where, file: str | None) -> Where:
    return where if where.file or not file else Where(file, where.line, where.node)


def _origin(src: Source, where: Mapping[str, Where], origin: Mapping[str, str], file: str | None) -> str:
    if src.producer not in where:
        return origin[src.producer]
    place = str(_located(where[src.producer], file)) if (where[src.producer].line or where[src.producer].node) else ""
    return f"'{src}'" + (f" ({place})" if place else "")


def _run(steps: list[Primitive], inputs: tuple[tuple, ...], checks: Checks
         ) -> tuple[list[tuple], tuple[tuple, ...], Dim, Dim, Dim]:
    """Infer each step in turn (each reads the outputs of the one before); sum its parameters
    and MACs. Returns the first output of each step, the layer's outputs, and the sums."""
    cur = inputs
    shapes: list[tuple] = []
    trainable: Any = 0
    frozen: Any = 0
    macs: Any = 0
    for step in steps:
        lo, hi = step.arity
        if len(cur) < lo or (hi is not None and len(cur) > hi):
            raise ArgumentError(f"takes {lo if lo == hi else f'{lo}+'} input(s), got {len(cur)}")
        outs = tuple(tuple(o) for o in step.infer_all(cur, checks))
        t, f = step.params()
        trainable, frozen = trainable + t, frozen + f
        macs = macs + step.macs(cur, outs[0])
        shapes.append(outs[0])
        cur = outs
    return shapes, (cur if steps else inputs[:1]), norm(trainable), norm(frozen), norm(macs)
