"""ONNX files as convcalc models, in the ``onnx`` vocabulary (the ``onnx`` optional extra).

Each compute node becomes one layer named after the node, with the node's attributes as its
arguments and the shapes of its weights turned into the arguments the ONNX frontend needs
(``out_channels`` from a Conv weight, ``weight_shape`` of a learned scale). Weights may be
initializers or graph inputs (``export_params=False``): a tensor in a weight slot of a node,
or a graph input of lower rank than the data that only meets elementwise ops, is a weight, and
the elements of every weight count as parameters. The file's weight *values* are never read.

Constant subgraphs are folded to their values, as ONNX shape inference does: ``Constant``,
``Shape`` (of a tensor whose shape inference gives concrete sizes), ``Gather``, ``Concat``,
``Unsqueeze``, ``Cast``, ``Slice`` and arithmetic on constants, feeding ``Reshape``, ``Resize``,
``Pad``, ``Slice``, ``ReduceMean`` and ``Split`` as their arguments. A ``dim_param`` input size
(``[1, 3, H, W]``) becomes a symbol.

    >>> # convcalc.from_onnx("resnet50.onnx").plan(H=224, W=224)
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..dims import fmt_dim, is_concrete
from ..errors import ModelError, UsageError, Where
from ..graph import resolve_source
from ..model import Model
from ..plan import Planner

MAX_FILE_BYTES = 2 * 1024**3
MAX_NODES = 200_000
MAX_CONSTANT_ELEMENTS = 1 << 20  # a folded constant larger than this is not a shape computation

# (op_type) -> the input slots that hold weights (their elements are parameters).
WEIGHT_SLOTS: dict[str, tuple[int, ...]] = {
    "Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (1, 2), "MatMul": (1,), "BatchNormalization": (1, 2, 3, 4),
    "LayerNormalization": (1, 2), "InstanceNormalization": (1, 2), "PRelu": (1,), "GroupNormalization": (1, 2),
}
ELEMENTWISE = {"Add", "Sub", "Mul", "Div"}
FOLDABLE = {"Constant", "Shape", "Gather", "Concat", "Unsqueeze", "Squeeze", "Cast", "Slice", "Add", "Sub", "Mul", "Div",
            "Floor", "Ceil", "Identity", "Reshape", "ConstantOfShape", "Range", "Equal", "Where", "Not", "Expand",
            "Min", "Max", "Neg", "Abs", "Sqrt", "Mod", "Pow", "Size", "Tile", "Transpose", "Less", "Greater", "And",
            "Or"}
SIMPLE = {"Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "HardSwish", "Erf", "Sqrt", "Gelu", "Softmax", "Identity",
          "Dropout", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Transpose", "Concat", "MaxPool", "AveragePool",
          "BatchNormalization"}
_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Unsupported(Exception):
    """A node convcalc cannot model (its op, or a form of it)."""


class Downstream(Unsupported):
    """A node that reads the output of a node convcalc could not model."""


def _onnx() -> Any:
    try:
        import onnx  # the optional extra: pip install '.[onnx]'
    except ImportError:
        raise UsageError("reading .onnx files needs the onnx package",
                         fix="pip install 'convcalc[onnx]'  (from a checkout: pip install '.[onnx]')") from None
    return onnx


def from_onnx(source: Any, *, name: str | None = None, partial: bool = False) -> Model:
    """A :class:`~convcalc.Model` (framework ``onnx``) from an ONNX file path or a loaded
    ``onnx.ModelProto``. With ``partial``, a node convcalc cannot model becomes an ``Opaque``
    layer with shape inference's output shapes and its weights' elements as parameters; its
    MACs are unknown (the plan's totals are then lower bounds)."""
    onnx = _onnx()
    path = source if isinstance(source, (str, os.PathLike)) else None
    file = os.fspath(path) if path is not None else None
    if path is not None:
        model = _read(onnx, file)
    else:
        model = source
    return _Importer(onnx, model, file, name, partial).model()


def _read(onnx: Any, file: str) -> Any:
    from ..loader import regular_file_size

    size = regular_file_size(file)
    if size > MAX_FILE_BYTES:
        raise UsageError(f"{file}: the file is larger than {MAX_FILE_BYTES // 1024**3} GiB")
    try:
        with open(file, "rb") as fh:
            data = fh.read()
        return onnx.load_model_from_string(data)
    except Exception as e:  # the protobuf decoder's errors have no common base class
        raise ModelError(f"not a readable ONNX model: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                         file=file, fix="check that the file is an .onnx export and is complete") from None


def _attr(onnx: Any, a: Any) -> Any:
    value = onnx.helper.get_attribute_value(a)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
    if hasattr(value, "dims"):  # a TensorProto (Constant's value)
        return onnx.numpy_helper.to_array(value)
    return value


def _plain(v: Any) -> Any:
    """A folded constant as model-file values: ints and floats, closed forms as their text."""
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()] if v.ndim else _plain(v.item())
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, (int, float, str)) or v is None:
        return v
    if getattr(v, "is_Integer", False):
        return int(v)
    return fmt_dim(v)  # a sympy size such as ceil(H/32): the model file's own expression text


class _Importer:
    def __init__(self, onnx: Any, proto: Any, file: str | None, name: str | None, partial: bool = False) -> None:
        self.onnx = onnx
        self.partial = partial
        self.proto = proto
        self.file = file
        self.graph = proto.graph
        self.initializers = {init.name: init for init in proto.graph.initializer}  # by name: one lookup each
        self.name = name or (self.graph.name or None)
        self.layers: list[dict[str, Any]] = []
        self.nodes: dict[str, str] = {}  # layer name -> the ONNX node it came from
        self.names: set[str] = set()
        self.tensors: dict[str, tuple[str, Any]] = {}  # tensor -> ("data", ref) | ("const", array) | ("weight", shape)
        self.unsupported: Counter[str] = Counter()
        self.opaque: Counter[str] = Counter()
        self.counted: set[str] = set()  # weights whose elements some layer already counts
        self.downstream = 0  # nodes left out only because they read an unsupported node's output
        self.first_place: dict[str, str] = {}
        self.inferred = self._shape_inference()

    # ------------------------------------------------------------------ set-up

    def error(self, message: str, node: str | None = None, fix: str | None = None) -> ModelError:
        return ModelError(message, file=self.file, node=node, fix=fix)

    def _shape_inference(self) -> dict[str, list[Any]]:
        """Tensor shapes from ONNX shape inference (for folding ``Shape``); empty on failure."""
        try:
            inferred = self.onnx.shape_inference.infer_shapes(self.proto, data_prop=True)
        except Exception:  # noqa: BLE001 - shape inference is a help here, not a requirement
            return {}
        out = {}
        for v in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
            out[v.name] = self._dims(v)
        return out

    @staticmethod
    def _dims(v: Any) -> list[Any]:
        t = v.type.tensor_type
        if not t.HasField("shape"):
            return []
        return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]

    def _weight_names(self, graph_inputs: list[Any]) -> set[str]:
        """Graph inputs (and initializers) that are weights, by the slots they fill."""
        slots = set()
        for node in self.graph.node:
            for i in WEIGHT_SLOTS.get(node.op_type, ()):
                if i < len(node.input) and node.input[i]:
                    slots.add(node.input[i])
        candidates = [v for v in graph_inputs if v.name not in slots]
        if candidates:
            rank = len(self._dims(candidates[0]))
            slots |= {v.name for v in candidates[1:] if len(self._dims(v)) < rank}
        return slots

    def model(self) -> Model:
        g = self.graph
        if len(g.node) > MAX_NODES:
            raise self.error(f"the graph has {len(g.node):,} nodes, more than {MAX_NODES:,}")
        for init in g.initializer:
            dims = tuple(int(d) for d in init.dims)
            if int(np.prod(dims)) <= MAX_CONSTANT_ELEMENTS and (init.HasField("raw_data") or init.int64_data or
                                                                   init.int32_data or init.float_data):
                self.tensors[init.name] = ("init", dims)
            else:
                self.tensors[init.name] = ("weight", dims)
        graph_inputs = [v for v in g.input if v.name not in self.initializers]
        weights = self._weight_names(graph_inputs)
        inputs: dict[str, list[Any]] = {}
        symbols_seen: list[str] = []
        for v in graph_inputs:
            dims = self._dims(v)
            if v.name in weights:
                if any(not isinstance(d, int) or d < 1 for d in dims):
                    raise self.error(f"the weight input '{v.name}' has no concrete shape {dims}",
                                     fix="export with fixed weight shapes")
                self.tensors[v.name] = ("weight", tuple(dims))
                continue
            shape = [self._symbol(d, i, len(dims), symbols_seen) for i, d in enumerate(dims)]
            if not shape:
                raise self.error(f"the input '{v.name}' has no shape", fix="export with input shapes (dynamic axes "
                                 "become symbols)")
            key = self._unique(self._clean(v.name) or "input")
            inputs[key] = shape
            self.tensors[v.name] = ("data", key)
        if not inputs:
            raise self.error("the graph has no data input (every input is a weight)")
        self._check_order()
        # The model is planned while it is imported, so that every tensor's shape is known —
        # concrete or in the symbols — when a Shape node reads it.
        self.target = Model(framework="onnx", **({"input": inputs["input"]} if list(inputs) == ["input"] else
                                                 {"inputs": inputs}), file=self.file)
        self.input_key = "input" if list(inputs) == ["input"] else None
        self.planner = Planner(self.target)
        for index, node in enumerate(g.node):
            self._node(index, node)
        if self.unsupported:
            listed = ", ".join(f"{op} x{n} (first: node '{self.first_place[op]}')" for op, n in
                               self.unsupported.most_common())
            after = f", and {self.downstream} node(s) that depend on them" if self.downstream else ""
            raise self.error(f"{sum(self.unsupported.values())} node(s) convcalc cannot model: {listed}{after}",
                             fix="plan with --partial (API: partial=True) to keep them as opaque rows, or see "
                             "`convcalc ops onnx` for the ops convcalc models")
        if not self.layers:
            raise self.error("the graph has no compute node")
        model = self.target
        if self.name and _NAME.match(self.name):
            model.name = self.name
        model.layers = [dataclasses.replace(ly, where=Where(self.file, node=self.nodes[ly.name])) for ly in model.layers]
        return model

    def _plan(self, spec: dict[str, Any], node_name: str) -> None:
        """Add one layer to the model and plan it (its errors name the node)."""
        op = spec.pop("op")
        name = spec.pop("name")
        refs = spec.pop("inputs")
        self.target.add(op, name=name, inputs=list(refs), **spec)
        layer = dataclasses.replace(self.target.layers[-1], where=Where(self.file, node=node_name))
        self.target.layers[-1] = layer
        sources = tuple(resolve_source(r, self.planner.tensors) for r in refs)
        self.planner.add(layer, sources)  # type: ignore[arg-type]
        self.layers.append({"name": name})

    def _symbol(self, d: Any, i: int, n: int, seen: list[str]) -> Any:
        if isinstance(d, int) and d >= 1:
            return d
        if isinstance(d, str) and _SYMBOL.match(d):
            return d
        # An unnamed or oddly named dynamic size: named by its axis (N, C, H, W / D, H, W).
        axis_names = {4: ("N", "C", "H", "W"), 5: ("N", "C", "D", "H", "W"), 3: ("N", "C", "L")}.get(n)
        name = axis_names[i] if axis_names else f"d{i}"
        while name in seen:
            name += "_"
        seen.append(name)
        return name

    def _check_order(self) -> None:
        """ONNX lists nodes in topological order; a node reading a tensor produced later is a
        cycle or a broken file."""
        produced = set(self.tensors)
        later = {o for n in self.graph.node for o in n.output}
        for node in self.graph.node:
            for t in node.input:
                if t and t not in produced:
                    if t in later:
                        raise self.error(f"node '{node.name}' reads '{t}' before it is produced (a cycle, or nodes out "
                                         "of order)", node=node.name)
                    raise self.error(f"node '{node.name}' reads '{t}', which no node, input or initializer provides "
                                     "(a missing initializer?)", node=node.name)
            produced.update(node.output)

    @staticmethod
    def _clean(name: str) -> str:
        cleaned = re.sub(r"[^A-Za-z0-9_.\-/:]", "_", name)
        return cleaned

    def _unique(self, name: str) -> str:
        base, k = name, 1
        while name in self.names:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        return name

    # ------------------------------------------------------------------ nodes

    def _node(self, index: int, node: Any) -> None:
        attrs = {a.name: _attr(self.onnx, a) for a in node.attribute}
        kinds = [self.tensors[t][0] if t else "none" for t in node.input]  # data | const | init | weight | derived
        place = node.name or f"{node.op_type}_{index}"
        try:
            if node.op_type == "Constant":
                self._const(node, 0, np.asarray(attrs.get("value", attrs.get("value_float", attrs.get("value_int")))))
                return
            if node.op_type == "Shape":
                self._fold_shape(node)
                return
            if node.op_type in FOLDABLE and all(k in ("const", "init", "none") for k in kinds) and kinds:
                self._fold(node, attrs)
                return
            if "data" not in kinds:
                self._fold_weights(node, attrs)
                return
            self._compute(node, attrs, place)
        except Unsupported as e:
            if self.partial and self._opaque(node, place):
                return
            for o in node.output:
                self.tensors[o] = ("data", None)
            if isinstance(e, Downstream):
                self.downstream += 1
                return
            self.unsupported[node.op_type] += 1
            self.first_place.setdefault(node.op_type, place)
            for o in node.output:  # its outputs are unknown: so is everything downstream
                self.tensors[o] = ("data", None)

    def _opaque(self, node: Any, place: str) -> bool:
        """Keep a node convcalc cannot model, with shape inference's output shapes (``partial``)."""
        shapes = [self.inferred.get(o) for o in node.output if o]
        if not shapes or any(not s or any(not isinstance(d, int) or d < 1 for d in s) for s in shapes):
            return False  # shape inference does not know its output either
        refs = [self.tensors[t][1] for t in node.input if t and self.tensors[t][0] == "data"]
        if any(r is None for r in refs):
            return False
        weights = [t for t in node.input if t and self.tensors[t][0] in ("weight", "init") and t not in self.counted
                   and len(self.tensors[t][1]) >= 1 and not self._is_shape_constant(t)]
        self.counted |= set(weights)
        params = sum(int(np.prod(self.tensors[t][1])) for t in weights)
        layer_name = self._unique(self._clean(node.name) or f"{node.op_type}_{len(self.layers)}")
        self.nodes[layer_name] = node.name or place
        self._plan({"op": "Opaque", "name": layer_name, "inputs": refs, "output_shapes": shapes, "params": params,
                    "source_op": node.op_type}, node.name or place)
        for i, o in enumerate(node.output):
            if o:
                self.tensors[o] = ("data", layer_name if i == 0 else f"{layer_name}:{i}")
        self.opaque[node.op_type] += 1
        return True

    def _is_shape_constant(self, t: str) -> bool:
        """An int64 initializer (shape arithmetic), not a weight."""
        init = self.initializers.get(t)
        return init is not None and init.data_type in (6, 7)  # INT32, INT64

    def _fold_weights(self, node: Any, attrs: Mapping[str, Any]) -> None:
        """A node of weights (and constants) only — ``Expand(class_token, shape)``, a transposed
        weight: its result is a *derived* weight, whose shape is found by running the node on
        zeros of the weights' shapes, and whose elements are those weights' (counted once)."""
        if node.op_type not in FOLDABLE:
            raise Unsupported(f"{node.op_type} of weights only")
        names: set[str] = set()
        saved = {}
        for t in node.input:
            if t and self.tensors[t][0] in ("weight", "derived"):
                shape = self.tensors[t][1]
                if int(np.prod(shape)) > MAX_CONSTANT_ELEMENTS * 16:
                    raise Unsupported(f"{node.op_type} of a weight too large to fold")
                names |= self.tensors[t][2] if self.tensors[t][0] == "derived" else {t}
                saved[t] = self.tensors[t]
                self.tensors[t] = ("const", np.zeros(shape, np.float32))
        try:
            self._fold(node, attrs)
            value = self.tensors[node.output[0]][1]
        finally:
            self.tensors.update(saved)
        self.tensors[node.output[0]] = ("derived", tuple(int(d) for d in np.shape(value)), frozenset(names))

    def _as_data(self, t: str) -> str:
        """A weight, derived weight or constant used where a tensor flows (``Concat`` of a class
        token and patches): a ``Constant`` layer holding it, its weights counted once."""
        kind = self.tensors[t][0]
        if kind == "data":
            return self._ref(t)
        if kind in ("weight", "derived", "init"):
            shape = list(self._shape_of(t))
            names = self.tensors[t][2] if kind == "derived" else {t}
        else:
            shape, names = list(np.shape(self.tensors[t][1])), set()
        fresh = [n for n in names if n not in self.counted and self.tensors.get(n, ("",))[0] in ("weight", "init")]
        self.counted |= set(fresh)
        elements = sum(int(np.prod(self.tensors[n][1])) for n in fresh)
        layer_name = self._unique(self._clean(t) or "constant")
        self.nodes[layer_name] = t
        self._plan({"op": "Constant", "name": layer_name, "inputs": [], "shape": shape, "params": elements}, t)
        self.tensors[t] = ("data", layer_name)
        return layer_name

    def _const(self, node: Any, i: int, value: np.ndarray) -> None:
        if value.size > MAX_CONSTANT_ELEMENTS:
            raise Unsupported("a constant too large to fold")
        self.tensors[node.output[i]] = ("const", value)

    def _value(self, t: str) -> np.ndarray:
        kind, v = self.tensors[t][:2]
        if kind == "const":
            return v
        if kind == "init":
            init = self.initializers[t]
            arr = self.onnx.numpy_helper.to_array(init)
            self.tensors[t] = ("const", arr)
            return arr
        raise Unsupported(f"'{t}' is not a constant")

    def _fold_shape(self, node: Any) -> None:
        """``Shape(x)``: x's shape as planned so far (numbers, or closed forms in the symbols)."""
        kind, ref = self.tensors[node.input[0]][:2]
        if kind in ("weight", "derived", "init"):
            self._const(node, 0, np.asarray(self._shape_of(node.input[0]), dtype=np.int64))
            return
        if kind != "data" or ref is None:
            raise Unsupported("Shape of a tensor convcalc could not follow")
        dims = self.planner.shape(resolve_source(ref, self.planner.tensors))  # type: ignore[arg-type]
        attrs = {a.name: a.i for a in node.attribute}
        dims = dims[attrs.get("start", 0): attrs.get("end", len(dims)) if "end" in attrs else None]
        if all(is_concrete(d) for d in dims):
            self._const(node, 0, np.asarray(dims, dtype=np.int64))
        else:
            self._const(node, 0, np.asarray(list(dims), dtype=object))

    def _fold(self, node: Any, attrs: Mapping[str, Any]) -> None:
        """Evaluate a node of constants (small integer shape arithmetic) with numpy."""
        op = node.op_type
        vals = [self._value(t) if t else None for t in node.input]
        a = vals[0] if vals else None
        if op == "Gather":
            out = np.take(a, vals[1], axis=attrs.get("axis", 0))
        elif op == "Concat":
            out = np.concatenate([np.atleast_1d(v) for v in vals if v is not None], axis=attrs.get("axis", 0))
        elif op == "Unsqueeze":
            axes = attrs.get("axes", vals[1] if len(vals) > 1 else None)
            out = np.expand_dims(a, tuple(int(x) for x in np.atleast_1d(axes)))
        elif op == "Squeeze":
            axes = attrs.get("axes", vals[1] if len(vals) > 1 else None)
            out = np.squeeze(a, tuple(int(x) for x in np.atleast_1d(axes))) if axes is not None else np.squeeze(a)
        elif op in ("Cast", "Identity"):
            out = a
        elif op == "Reshape":
            out = a.reshape(tuple(int(x) for x in vals[1]))
        elif op == "Slice":
            starts, ends = vals[1], vals[2]
            axes = vals[3] if len(vals) > 3 and vals[3] is not None else range(len(starts))
            steps = vals[4] if len(vals) > 4 and vals[4] is not None else [1] * len(starts)
            index = [slice(None)] * a.ndim
            for ax, s, e, st in zip(axes, starts, ends, steps):
                index[int(ax)] = slice(int(s), int(e), int(st))
            out = a[tuple(index)]
        elif op in ("Add", "Sub", "Mul", "Div", "Min", "Max", "Equal"):
            fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Min": np.minimum, "Max": np.maximum,
                  "Equal": np.equal}.get(op)
            if op == "Div":
                out = a // vals[1] if np.issubdtype(a.dtype, np.integer) else a / vals[1]
            else:
                out = fn(a, vals[1])
        elif op == "Mod":
            out = np.fmod(a, vals[1]) if attrs.get("fmod") else np.mod(a, vals[1])
        elif op == "Pow":
            out = np.power(a, vals[1])
        elif op in ("Less", "Greater", "And", "Or"):
            out = {"Less": np.less, "Greater": np.greater, "And": np.logical_and, "Or": np.logical_or}[op](a, vals[1])
        elif op == "Size":
            out = np.asarray(a.size, dtype=np.int64)
        elif op == "Tile":
            out = np.tile(a, tuple(int(x) for x in vals[1]))
        elif op == "Transpose":
            out = np.transpose(a, attrs.get("perm"))
        elif op in ("Floor", "Ceil", "Neg", "Abs", "Sqrt", "Not"):
            out = {"Floor": np.floor, "Ceil": np.ceil, "Neg": np.negative, "Abs": np.abs, "Sqrt": np.sqrt,
                   "Not": np.logical_not}[op](a)
        elif op == "ConstantOfShape":
            shape = tuple(int(x) for x in a)
            if int(np.prod(shape)) > MAX_CONSTANT_ELEMENTS:
                raise Unsupported("ConstantOfShape too large to fold")
            fill = attrs.get("value")
            out = np.full(shape, fill.reshape(-1)[0] if isinstance(fill, np.ndarray) else 0.0)
        elif op == "Range":
            count = int(np.ceil((vals[1] - a) / vals[2]))
            if count > MAX_CONSTANT_ELEMENTS:
                raise Unsupported("Range too large to fold")
            out = np.arange(a, vals[1], vals[2])
        elif op == "Where":
            out = np.where(a, vals[1], vals[2])
        elif op == "Expand":
            shape = np.broadcast_shapes(a.shape, tuple(int(x) for x in vals[1]))
            if int(np.prod(shape)) > MAX_CONSTANT_ELEMENTS:
                raise Unsupported("Expand too large to fold")
            out = np.broadcast_to(a, shape).copy()
        else:
            raise Unsupported(f"folding {op}")
        self._const(node, 0, np.asarray(out))

    def _ref(self, t: str) -> str:
        kind, ref = self.tensors[t][:2]
        if kind == "data" and ref is None:
            raise Downstream(f"'{t}' comes from a node convcalc could not model")
        if kind != "data":
            raise Unsupported(f"'{t}' is a weight where a tensor is expected")
        return ref

    def _shape_of(self, t: str) -> tuple[int, ...]:
        kind, v = self.tensors[t][:2]
        if kind in ("weight", "init", "derived"):
            return tuple(v)
        if kind == "const":
            return tuple(v.shape)
        raise Unsupported(f"'{t}' is not a weight")

    def _compute(self, node: Any, attrs: dict[str, Any], place: str) -> None:
        op = node.op_type
        data = [t for t in node.input if t and self.tensors[t][0] == "data"]
        args: dict[str, Any] = {}
        sources = [self._ref(data[0])]
        if op in ("Conv", "ConvTranspose"):
            w = self._shape_of(node.input[1])
            group = int(attrs.get("group", 1))
            args["out_channels"] = w[0] if op == "Conv" else w[1] * group
            args["kernel_shape"] = list(attrs.get("kernel_shape", w[2:]))
            if len(w) != 2 + len(args["kernel_shape"]) or list(w[2:]) != args["kernel_shape"]:
                raise self.error(f"the weight '{node.input[1]}' of {op} node '{place}' has the shape {list(w)}, which "
                                 f"does not fit kernel_shape {args['kernel_shape']} (expected (C_out, C_in/group, "
                                 f"{', '.join(str(k) for k in args['kernel_shape'])}))", node=place,
                                 fix="re-export the model; the file's weights and attributes disagree")
            if len(w) < 3:
                raise self.error(f"the weight '{node.input[1]}' of {op} node '{place}' has the shape {list(w)}: a "
                                 "convolution weight has at least 3 axes", node=place)
            for key in ("strides", "pads", "dilations", "output_padding", "output_shape"):
                if key in attrs:
                    args[key] = list(attrs[key])
            if attrs.get("auto_pad", "NOTSET") != "NOTSET":
                args["auto_pad"] = attrs["auto_pad"]
            args["group"] = group
            args["bias"] = len(node.input) > 2 and bool(node.input[2])
        elif op == "Gemm":
            b = self._shape_of(node.input[1])
            trans_b = int(attrs.get("transB", 0))
            args["out_features"] = b[0] if trans_b else b[1]
            args["bias"] = len(node.input) > 2 and bool(node.input[2])
            args.update({k: int(attrs[k]) for k in ("transA", "transB") if k in attrs})
        elif op == "MatMul":
            b = self._shape_of(node.input[1]) if self.tensors[node.input[1]][0] != "data" else None
            if b is not None and len(b) == 2 and node.input[0] == data[0]:
                args["out_features"] = b[1]
            else:  # two tensors (attention), or a weight used as one
                sources = [self._as_data(t) for t in node.input[:2]]
        elif op in ELEMENTWISE:
            if len(data) == 2:
                sources = [self._ref(t) for t in data]
            else:
                other = next(t for t in node.input if t and t != data[0])
                kind = self.tensors[other][0]
                if kind == "derived":  # made of weights: a Constant layer counts them once
                    sources = [self._ref(data[0]), self._as_data(other)]
                else:
                    learned = kind == "weight" and other not in self.counted
                    self.counted.add(other) if learned else None
                    args["weight_shape" if learned else "constant_shape"] = list(self._shape_of(other))
        elif op == "Gather":
            if node.input[0] != data[0]:
                raise Unsupported("Gather with computed indices")
            args["axis"] = int(attrs.get("axis", 0))
            args["indices_shape"] = list(self._shape_of(node.input[1]))
        elif op == "LayerNormalization":
            args.update({k: attrs[k] for k in ("axis", "epsilon") if k in attrs})
            args["bias"] = len(node.input) > 2 and bool(node.input[2])
        elif op == "Reshape":
            args["shape"] = _plain(self._value(node.input[1]))
            if attrs.get("allowzero"):
                args["allowzero"] = 1
        elif op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"):
            axes = attrs.get("axes")
            if axes is None and len(node.input) > 1 and node.input[1]:
                axes = _plain(self._value(node.input[1]))
            if axes is not None:
                args["axes"] = _plain(axes)
            args["keepdims"] = int(attrs.get("keepdims", 1))
        elif op in ("Squeeze", "Unsqueeze"):
            axes = attrs.get("axes")
            if axes is None and len(node.input) > 1 and node.input[1]:
                axes = _plain(self._value(node.input[1]))
            if axes is not None:
                args["axes"] = _plain(axes)
        elif op == "Slice":
            names = ("starts", "ends", "axes", "steps")
            for key, t in zip(names, list(node.input[1:]) + [""] * 4):
                if t:
                    args[key] = _plain(self._value(t))
        elif op == "Split":
            args["axis"] = int(attrs.get("axis", 0))
            if "split" in attrs:
                args["split"] = list(attrs["split"])
            elif len(node.input) > 1 and node.input[1]:
                args["split"] = _plain(self._value(node.input[1]))
            else:
                args["num_outputs"] = int(attrs.get("num_outputs", len(node.output)))
        elif op == "Clip":
            for key, i in (("min", 1), ("max", 2)):
                if len(node.input) > i and node.input[i]:
                    args[key] = float(np.asarray(self._value(node.input[i])).reshape(-1)[0])
        elif op == "Pad":
            args["pads"] = _plain(self._value(node.input[1])) if len(node.input) > 1 else list(attrs.get("pads", []))
            if "mode" in attrs:
                args["mode"] = attrs["mode"]
            if len(node.input) > 3 and node.input[3]:
                args["axes"] = _plain(self._value(node.input[3]))
        elif op == "Resize":
            for key, i in (("scales", 2), ("sizes", 3)):
                if len(node.input) > i and node.input[i]:
                    value = _plain(self._value(node.input[i]))
                    if value:
                        args[key] = value
            args["mode"] = attrs.get("mode", "nearest")
        elif op in SIMPLE:
            keep = {"LeakyRelu": ("alpha",), "HardSigmoid": ("alpha", "beta"), "Softmax": ("axis",),
                    "Flatten": ("axis",), "Transpose": ("perm",), "Concat": ("axis",), "Gelu": ("approximate",),
                    "MaxPool": ("kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode",
                                "storage_order"),
                    "AveragePool": ("kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad"),
                    "BatchNormalization": ("epsilon", "momentum", "training_mode")}.get(op, ())
            args.update({k: _plain(attrs[k]) for k in keep if k in attrs})
            if op == "Concat":
                sources = [self._as_data(t) for t in node.input if t]
        else:
            raise Unsupported(op)
        from ..frontends import FRAMEWORKS

        if op not in FRAMEWORKS["onnx"].ops:
            raise Unsupported(op)
        layer_name = self._unique(self._clean(node.name) or f"{op}_{len(self.layers)}")
        self.nodes[layer_name] = node.name or place
        try:
            self._plan({"op": op, "name": layer_name, "inputs": sources, **args}, node.name or place)
        except ModelError:
            if not self.partial:
                raise
            self.target.drop_last()
            self.names.discard(layer_name)
            raise Unsupported(op) from None
        outputs = [o for o in node.output]
        for i, o in enumerate(outputs):
            if o:
                self.tensors[o] = ("data", layer_name if i == 0 else f"{layer_name}:{i}")
            if op in ("Dropout", "BatchNormalization", "MaxPool") and i > 0:
                self.tensors[o] = ("data", None)  # mask / training statistics / indices: not modelled


_NAME = re.compile(r"^[A-Za-z_/][A-Za-z0-9_.\-/:]*$")
