"""PyTorch modules as convcalc models, in the ``pytorch`` vocabulary (the user's own torch).

The module is traced with ``torch.fx`` at module level: the ``torch.nn`` layers convcalc knows
(``Conv2d``, ``BatchNorm2d``, ``ReLU``, ... and their subclasses, such as torchvision's
``Conv3DSimple``) and ``torchvision.ops.StochasticDepth`` stay leaves, and each becomes one
layer named by its module path (``layer1.0.conv1``) with its constructor arguments read from
the module. Functional calls (``F.relu``, ``torch.flatten``, ``x + y``, ``x * self.gamma``,
``torch.cat``, ``x.mean((2, 3))``, ...) become the equivalent ops, named by their fx node.
Shapes come from ``ShapeProp`` on the meta device (fake tensors where a module cannot run
there): no real computation, no memory for activations. Python arithmetic on sizes
(``x.size(0)``, ``x.view(b, g, c // g, h, w)``) is evaluated on the traced sizes.

    >>> # convcalc.from_torch(torchvision.models.resnet18(), (1, 3, 224, 224)).plan()
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import operator
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..dims import fmt_dim
from ..errors import ModelError, UsageError, Where
from ..frontends import FRAMEWORKS
from ..graph import resolve_source
from ..model import Model
from ..plan import Planner

REGISTRY = FRAMEWORKS["pytorch"]
SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_SIZE = 224  # the size a symbolic axis is traced at (the plan stays symbolic)


class Unsupported(Exception):
    """A node convcalc cannot model."""


class Downstream(Unsupported):
    """A node that reads the output of a node convcalc could not model."""


def _torch() -> Any:
    try:
        import torch
        import torch.fx
    except ImportError:
        raise UsageError("from_torch needs PyTorch (your own install): pip install torch") from None
    return torch


def from_torch(module: Any, input_shape: Sequence[Any], *, name: str | None = None,
               trace_sizes: dict[str, int] | None = None, partial: bool = False) -> Model:
    """A :class:`~convcalc.Model` (framework ``pytorch``) from an ``nn.Module`` and the shape of
    its one input, batch first. A size may be a symbol name (``(1, 3, "H", "W")``): the module
    is traced at ``trace_sizes`` (224 by default) and the plan keeps the symbol. With
    ``partial``, a call convcalc cannot model becomes an ``Opaque`` layer with the traced output
    shape and the parameters it uses; its MACs are unknown (totals become lower bounds).
    """
    torch = _torch()
    shape = list(input_shape)
    symbols = {d: (trace_sizes or {}).get(d, DEFAULT_SIZE) for d in shape if isinstance(d, str)}
    for d in shape:
        if isinstance(d, str) and not SYMBOL.match(d):
            raise UsageError(f"input size {d!r} is not a symbol name", fix="(1, 3, 'H', 'W')")
        if not isinstance(d, str) and (isinstance(d, bool) or not isinstance(d, int) or d < 1):
            raise UsageError(f"input sizes are positive integers or symbol names, got {d!r}")
    concrete = [symbols[d] if isinstance(d, str) else d for d in shape]
    return _Importer(torch, module, shape, concrete, name, partial).model()


class _Tracer:
    """torch.fx's tracer, keeping every module convcalc models as a leaf."""

    @staticmethod
    def make(torch: Any) -> Any:
        class Tracer(torch.fx.Tracer):
            def is_leaf_module(self, m: Any, qualname: str) -> bool:
                return _op_of(m) is not None or super().is_leaf_module(m, qualname)

        return Tracer()


def _op_of(m: Any) -> str | None:
    """The pytorch-vocabulary op of a module: its class or the nearest torch.nn base class that
    convcalc knows, when the subclass computes what the base does (it keeps the base's
    ``forward``: torchvision's ``Conv3DSimple`` is a ``Conv3d``; ``LayerNorm2d``, which permutes
    around its base, is traced through instead)."""
    own_forward = type(m).forward
    for cls in type(m).__mro__:
        module = getattr(cls, "__module__", "")
        if cls.__name__ == "StochasticDepth" and module.startswith("torchvision"):
            return "StochasticDepth"
        if module.startswith("torch.nn") and cls.__name__ in REGISTRY.ops:
            return cls.__name__ if getattr(cls, "forward", None) is own_forward else None
    return None


def _tuple(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def module_args(op: str, m: Any) -> dict[str, Any]:
    """The constructor arguments of module ``m`` (op ``op``), as the PyTorch frontend reads them."""
    od = REGISTRY.ops[op]
    args: dict[str, Any] = {}
    for key in od.args:
        if key in ("device", "dtype", "output_size") and op.startswith("ConvTranspose"):
            continue
        if key == "bias":
            value = getattr(m, "bias", None)
            if op.startswith(("Conv", "Linear")):
                args["bias"] = value is not None
            elif op.startswith(("BatchNorm", "InstanceNorm", "GroupNorm", "LayerNorm")):
                if value is None and getattr(m, "weight", None) is not None:
                    args["bias"] = False
            continue
        if key in ("device", "dtype", "init"):
            continue
        if key == "num_parameters" and op == "PReLU":
            args[key] = int(m.weight.numel())
            continue
        if hasattr(m, key):
            value = getattr(m, key)
            if callable(value) or hasattr(value, "shape"):
                continue
            args[key] = _tuple(value)
    if op.startswith(("Dropout", "AlphaDropout")):
        args = {"p": float(m.p)}
    if op == "Upsample":
        args = {k: _tuple(getattr(m, k)) for k in ("size", "scale_factor", "mode", "align_corners")
                if getattr(m, k, None) is not None}
    return args


class _Importer:
    def __init__(self, torch: Any, module: Any, shape: list[Any], concrete: list[int], name: str | None,
                 partial: bool = False) -> None:
        self.torch = torch
        self.partial = partial
        self.counted: set[int] = set()  # ids of parameters some layer already counts
        self.downstream = 0  # calls left out only because they read an unsupported call's output
        self.module = module
        self.shape = shape
        self.concrete = concrete
        self.name = name or type(module).__name__
        self.where_file = f"<{type(module).__name__}>"
        self.layers: list[dict[str, Any]] = []
        self.places: dict[str, str] = {}
        self.names: Counter[str] = Counter()
        self.refs: dict[Any, Any] = {}  # fx node -> a tensor ref (str), a tuple of refs, or a Python value
        self.unsupported: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def error(self, message: str, node: str | None = None) -> ModelError:
        return ModelError(message, file=self.where_file, node=node)

    def model(self) -> Model:
        torch = self.torch
        try:
            graph = _Tracer.make(torch).trace(self.module)
        except Exception as e:  # noqa: BLE001 - fx raises many kinds for untraceable code
            raise self.error(f"torch.fx cannot trace the module: {type(e).__name__}: {str(e).splitlines()[0][:200]}",
                             ) from None
        gm = torch.fx.GraphModule(self.module, graph)
        self._propagate(gm)
        self.modules = dict(gm.named_modules())
        # Planned while imported: x.size() then reads the planned sizes (closed forms in the
        # symbols of the input), so a view(b, c, h, w) stays right for every input size.
        self.target = Model(framework="pytorch", input=self.shape, name=self.name if SYMBOL.match(self.name) else None)
        self.planner = Planner(self.target)
        for node in gm.graph.nodes:
            try:
                self._node(node)
            except Unsupported as e:
                if self.partial and self._opaque(node, str(e)):
                    continue
                self.refs[node] = None
                if isinstance(e, Downstream):
                    self.downstream += 1
                    continue
                key = str(e) or node.op
                self.unsupported[key] += 1
                self.first.setdefault(key, str(node.target) if node.op == "call_module" else node.name)
                self.refs[node] = None
        if self.unsupported:
            listed = ", ".join(f"{k} x{n} (first: {self.first[k]})" for k, n in self.unsupported.most_common())
            after = f", and {self.downstream} call(s) that depend on them" if self.downstream else ""
            raise ModelError(f"{sum(self.unsupported.values())} call(s) convcalc cannot model: {listed}{after}",
                             file=self.where_file, fix="from_torch(..., partial=True) keeps them as opaque rows; see "
                             "`convcalc ops pytorch` for the modules convcalc models")
        model = self.target
        model.layers = [dataclasses.replace(ly, where=Where(self.where_file, node=self.places[ly.name]))
                        for ly in model.layers]
        return model

    def _add(self, spec: dict[str, Any], place: str) -> None:
        """Add one layer to the model and plan it (its errors name the module or call)."""
        spec = dict(spec)
        op, name, refs = spec.pop("op"), spec.pop("name"), spec.pop("inputs")
        self.target.add(op, name=name, inputs=list(refs), **spec)
        layer = dataclasses.replace(self.target.layers[-1], where=Where(self.where_file, node=place))
        self.target.layers[-1] = layer
        try:
            self.planner.add(layer, tuple(resolve_source(r, self.planner.tensors) for r in refs))  # type: ignore[arg-type]
        except ModelError:
            self.target.drop_last()
            if not self.partial or op == "Opaque":
                raise
            raise Unsupported(op) from None
        self.layers.append({"name": name})

    def _planned(self, a: Any) -> tuple:
        """The planned shape of tensor ``a`` (sizes, or closed forms in the input's symbols)."""
        ref = self.refs.get(a)
        if not isinstance(ref, str):
            raise Downstream("a size of a tensor convcalc could not follow")
        return self.planner.shape(resolve_source(ref, self.planner.tensors))  # type: ignore[arg-type]

    def _params_of(self, tensors: Sequence[Any]) -> int:
        """Elements of the parameters among ``tensors`` that no layer counts yet (then counted)."""
        total = 0
        for t in tensors:
            if isinstance(t, self.torch.nn.Parameter) and id(t) not in self.counted:
                self.counted.add(id(t))
                total += int(t.numel())
        return total

    def _opaque(self, node: Any, what: str) -> bool:
        """Keep a call convcalc cannot model with its traced output shape (``partial``): only for
        a concrete input, where the traced shape is the shape (with symbols it would hold only
        at the traced size)."""
        if any(isinstance(d, str) for d in self.shape):
            return False
        meta = node.meta.get("tensor_meta")
        metas = [meta] if hasattr(meta, "shape") else list(meta or [])
        while len(metas) > 1 and (not hasattr(metas[-1], "shape") or 0 in tuple(metas[-1].shape)):
            metas.pop()  # (output, None or empty): MultiheadAttention without its attention weights
        if not metas or not all(hasattr(m, "shape") for m in metas):
            return False
        inputs = [a for a in node.all_input_nodes if isinstance(self.refs.get(a), str)]
        weights = [self.refs[a].tensor for a in node.all_input_nodes if isinstance(self.refs.get(a), _Weight)]
        if node.op == "call_module":
            weights += list(self.modules[node.target].parameters())
        if any(self.refs.get(a) is None and a.op != "get_attr" for a in node.all_input_nodes):
            return False
        shapes = [[int(d) for d in m.shape] for m in metas]
        self._emit(node, "Opaque", inputs, {"output_shapes": shapes, "params": self._params_of(weights),
                                            "source_op": what or node.op}, str(node.target) if node.op ==
                   "call_module" else node.name)
        return True

    def _propagate(self, gm: Any) -> None:
        """Every node's output shape (``node.meta["tensor_meta"]``), in eval mode, computing
        nothing: on the meta device when the module runs there, else on fake tensors.

        Meta first: the parameters and buffers are swapped for meta tensors of the same shapes
        for the run (``torch.nn.utils.stateless``, what ``torch.func.functional_call`` uses; the
        module's own tensors are back when it ends), 3-7x faster than FakeTensorMode (DenseNet-121
        0.75 -> 0.11 s) with the same meta kernels underneath. A module that makes CPU tensors in
        its forward (``torch.arange(n)``), holds plain tensor attributes, or calls an op without
        a meta kernel fails there and runs on fake tensors instead, which take all of those."""
        torch = self.torch
        from torch.fx.passes.shape_prop import ShapeProp

        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                try:
                    self._on_meta(gm, ShapeProp)
                    return
                except Exception:  # noqa: BLE001 - any failure on meta: fake tensors decide
                    for node in gm.graph.nodes:
                        node.meta.pop("tensor_meta", None)
                from torch._subclasses.fake_tensor import FakeTensorMode

                mode = FakeTensorMode(allow_non_fake_inputs=True)
                ShapeProp(gm, fake_mode=mode).propagate(mode.from_tensor(torch.empty(self.concrete)))
        except Exception as e:  # noqa: BLE001
            raise self.error(f"the module does not run on an input of shape {tuple(self.concrete)}: "
                             f"{type(e).__name__}: {str(e).splitlines()[0][:200]}") from None
        finally:
            self.module.train(was_training)

    def _on_meta(self, gm: Any, shape_prop: Any) -> None:
        torch = self.torch
        from torch.nn.utils.stateless import _reparametrize_module

        tensors = [*gm.named_parameters(remove_duplicate=False), *gm.named_buffers(remove_duplicate=False)]
        metas = {name: torch.empty_like(t, device="meta") for name, t in tensors}
        # ShapeProp prints the traceback of a failing node itself before it re-raises: on this
        # attempt a failure is expected (fake tensors run next), so it is kept off the terminal.
        with _reparametrize_module(gm, metas), contextlib.redirect_stderr(io.StringIO()):
            shape_prop(gm).propagate(torch.empty(self.concrete, device="meta"))

    # ------------------------------------------------------------------ nodes

    def _name(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.\-/:]", "_", base) or "layer"

        self.names[base] += 1
        name = base if self.names[base] == 1 else f"{base}_{self.names[base] - 1}"
        while name in self.places:
            self.names[base] += 1
            name = f"{base}_{self.names[base] - 1}"
        return name

    def _emit(self, node: Any, op: str, inputs: list[Any], args: dict[str, Any], base: str) -> None:
        refs = [self._tensor(a) for a in inputs]
        name = self._name(base)
        self.places[name] = str(node.target) if node.op == "call_module" else node.name
        try:
            self._add({"op": op, "name": name, "inputs": refs, **{k: _arg_value(v) for k, v in args.items()}},
                      self.places[name])
        except Unsupported:
            del self.places[name]
            raise
        out = node.meta.get("tensor_meta")
        if isinstance(out, (tuple, list)) and not hasattr(out, "shape"):  # several outputs (TensorMetadata is a tuple)
            self.refs[node] = tuple(name if i == 0 else f"{name}:{i}" for i in range(len(out)))
        else:
            self.refs[node] = name

    def _tensor(self, a: Any) -> str:
        ref = self.refs.get(a) if hasattr(a, "op") else None
        if isinstance(ref, _Weight):  # a parameter used as data (ViT's class token)
            return self._parameter_layer(a)
        if not isinstance(ref, str):
            raise Downstream("an input convcalc could not follow")
        return ref

    def _parameter_layer(self, a: Any) -> str:
        w = self.refs[a].tensor
        name = self._name(str(a.target) if a.op == "get_attr" else a.name)
        self.places[name] = str(a.target) if a.op == "get_attr" else a.name
        self._add({"op": "Parameter", "name": name, "inputs": [], "shape": [int(d) for d in self._shape(a)],
                   "params": self._params_of([w] + list(self.refs[a].sources))}, self.places[name])
        self.refs[a] = name
        return name

    def _value(self, a: Any) -> Any:
        """A Python value of the trace (ints, tuples of sizes, ...) for an fx argument."""
        if hasattr(a, "op"):
            v = self.refs.get(a)
            if isinstance(v, _Value):
                return v.value
            raise Downstream("a size computed from a tensor convcalc could not follow")
        if isinstance(a, list):  # torch.fx's immutable_list included
            return [self._value(x) for x in a]
        if isinstance(a, tuple):
            return tuple(self._value(x) for x in a)
        return a

    def _shape(self, a: Any) -> tuple[int, ...]:
        meta = a.meta.get("tensor_meta")
        if meta is None or not hasattr(meta, "shape"):
            raise Unsupported("a tensor without a traced shape")
        return tuple(int(d) for d in meta.shape)

    def _is_tensor(self, a: Any) -> bool:
        return hasattr(a, "op") and isinstance(self.refs.get(a), (str, tuple)) or (
            hasattr(a, "op") and a.op == "get_attr")

    def _node(self, node: Any) -> None:
        op = node.op
        if op == "placeholder":
            self.refs[node] = "input"
        elif op == "output":
            return
        elif op == "get_attr":
            self.refs[node] = _Weight(self._attr(node.target))
        elif op == "call_module":
            m = self.modules[node.target]
            name = _op_of(m)
            if name is None:
                raise Unsupported(type(m).__name__)
            self._emit(node, name, [node.args[0]], module_args(name, m), str(node.target))
        elif op == "call_function":
            self._function(node)
        elif op == "call_method":
            self._method(node)

    def _attr(self, target: str) -> Any:
        obj = self.module
        for part in target.split("."):
            obj = getattr(obj, part)
        return obj

    def _function(self, node: Any) -> None:
        fn = node.target
        name = getattr(fn, "__name__", str(fn))
        qual = f"{getattr(fn, '__module__', '') or ''}.{name}"
        args, kwargs = node.args, node.kwargs
        if fn in (getattr, operator.getitem) and self.refs.get(args[0]) is None and hasattr(args[0], "op"):
            raise Downstream("an input convcalc could not follow")
        if fn is getattr:
            base = self.refs.get(args[0])
            if args[1] == "shape" and isinstance(base, str):
                self.refs[node] = _Value(self._planned(args[0]))
                return
            raise Unsupported(f"getattr {args[1]}")
        if fn is operator.getitem:
            base = self.refs.get(args[0])
            if isinstance(base, tuple):
                self.refs[node] = base[args[1]]
                return
            if isinstance(base, _Value):
                self.refs[node] = _Value(base.value[self._value(args[1])])
                return
            if isinstance(base, str):
                self._index(node, args[0], args[1])
                return
            raise Unsupported("indexing a tensor")
        if fn in (operator.floordiv, operator.mul, operator.add, operator.sub, operator.truediv, operator.eq) and \
                not any(self._is_tensor(a) for a in args):
            self.refs[node] = _Value(fn(*(self._value(a) for a in args)))
            return
        if name == "_assert":
            self.refs[node] = _Value(None)
            return
        binary = {operator.add: "add", operator.iadd: "add_", operator.mul: "mul", operator.imul: "mul_",
                  operator.sub: "sub", operator.isub: "sub_", operator.truediv: "div", operator.itruediv: "div_"}
        torch_binary = {"add": "add", "mul": "mul", "sub": "sub", "div": "div", "true_divide": "div"}
        if fn in binary or (qual.startswith("torch.") and name in torch_binary and len(args) >= 2):
            self._binary(node, binary.get(fn) or torch_binary[name], args[0], args[1])
            return
        simple = {"relu": "ReLU", "relu6": "ReLU6", "silu": "SiLU", "gelu": "GELU", "sigmoid": "Sigmoid",
                  "tanh": "Tanh", "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "dropout": "Dropout",
                  "stochastic_depth": "StochasticDepth"}
        if name.endswith("_") and name[:-1] in ("relu", "relu6", "silu", "hardswish", "hardsigmoid") and \
                qual.startswith("torch."):  # torch.relu_(x): in place
            self._emit(node, simple[name[:-1]], [args[0]], {"inplace": True}, node.name)
            return
        if name in simple:
            op = simple[name]
            extra = {}
            if self._value(self._arg(node, 1 if op in ("ReLU", "ReLU6", "SiLU", "Hardswish", "Hardsigmoid") else 99,
                                     "inplace", False)) is True:
                extra["inplace"] = True  # F.relu(x, inplace=True)
            if op == "StochasticDepth":
                extra = {"p": float(self._arg(node, 1, "p", 0.0)), "mode": self._arg(node, 2, "mode", "row")}
            elif op == "Dropout":
                extra = {"p": float(self._arg(node, 1, "p", 0.5))}
            elif op == "GELU" and kwargs.get("approximate"):
                extra = {"approximate": kwargs["approximate"]}
            self._emit(node, op, [args[0]], extra, node.name)
            return
        if name == "flatten":
            self._emit(node, "flatten", [args[0]], {"start_dim": self._arg(node, 1, "start_dim", 0),
                                                    "end_dim": self._arg(node, 2, "end_dim", -1)}, node.name)
            return
        if name in ("cat", "concat"):
            tensors = args[0]
            self._emit(node, "cat", list(tensors), {"dim": self._arg(node, 1, "dim", 0)}, node.name)
            return
        if name in ("adaptive_avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool3d", "adaptive_max_pool2d"):
            rank = name[-2]
            kind = "AdaptiveAvgPool" if "avg" in name else "AdaptiveMaxPool"
            self._emit(node, f"{kind}{rank}d", [args[0]], {"output_size": _tuple(self._value(
                self._arg(node, 1, "output_size", None)))}, node.name)
            return
        if name in ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d"):
            rank = name[-2]
            if name.startswith("max"):
                keys = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
                op = f"MaxPool{rank}d"
            else:
                keys = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
                op = f"AvgPool{rank}d"
            values = {k: _tuple(self._value(self._arg(node, i + 1, k, None))) for i, k in enumerate(keys)}
            self._emit(node, op, [args[0]], {k: v for k, v in values.items() if v is not None and v != []}, node.name)
            return
        if name in ("conv1d", "conv2d", "conv3d") and qual.startswith("torch"):
            self._functional_conv(node, name)
            return
        if name == "layer_norm":
            weight = self._arg(node, 2, "weight", None)
            shape = _tuple(self._value(self._arg(node, 1, "normalized_shape", None)))
            bias = self._arg(node, 3, "bias", None)
            self._emit(node, "LayerNorm", [args[0]], {"normalized_shape": shape, "eps": float(self._arg(
                node, 4, "eps", 1e-5)), "elementwise_affine": weight is not None, "bias": bias is not None}, node.name)
            return
        if name == "interpolate":
            size = self._arg(node, 1, "size", None)
            extra = {k: self._value(kwargs[k]) for k in ("mode", "align_corners") if kwargs.get(k) is not None}
            source = self._size_source(size)
            if source is not None:
                self._emit(node, "interpolate", [args[0], source], extra, node.name)
                return
            if size is not None:
                extra["size"] = _tuple(self._value(size))
            scale = self._arg(node, 2, "scale_factor", None)
            if scale is not None:
                extra["scale_factor"] = _tuple(self._value(scale))
            self._emit(node, "interpolate", [args[0]], extra, node.name)
            return
        if fn is operator.matmul or name in ("matmul", "bmm"):
            self._emit(node, "matmul", [args[0], args[1]], {}, node.name)
            return
        if name in ("permute", "transpose", "mean", "chunk", "reshape", "split"):
            self._method_like(node, name, args[0], args[1:], kwargs)
            return
        raise Unsupported(qual.lstrip("."))

    def _index(self, node: Any, x: Any, index: Any) -> None:
        """``x[:, 0]``, ``x[..., 1:3]``: integers and slices (an integer drops its axis)."""
        items = list(index) if isinstance(index, tuple) else [index]
        shape = self._shape(x)
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items = items[:at] + [slice(None)] * (len(shape) - len(items) + 1) + items[at + 1:]
        spec = []
        for item in items:
            if isinstance(item, slice):
                spec.append([self._value(item.start), self._value(item.stop), self._value(item.step)])
            elif isinstance(self._value(item), int) and not isinstance(self._value(item), bool):
                spec.append(self._value(item))
            else:
                raise Unsupported("indexing a tensor with a tensor or None")
        self._emit(node, "getitem", [x], {"index": spec}, node.name)

    def _arg(self, node: Any, index: int, key: str, default: Any) -> Any:
        if len(node.args) > index:
            return node.args[index]
        return node.kwargs.get(key, default)

    def _size_source(self, size: Any) -> Any:
        """The tensor whose spatial size ``size`` is (``x.shape[-2:]``), to keep it symbolic."""
        if not hasattr(size, "op") or size.target is not operator.getitem:
            return None
        base, index = size.args
        if hasattr(base, "op") and base.op == "call_function" and base.target is getattr and base.args[1] == "shape":
            tensor = base.args[0]
        elif hasattr(base, "op") and base.op == "call_method" and base.target == "size" and len(base.args) == 1:
            tensor = base.args[0]
        else:
            return None
        if isinstance(index, slice) and index.stop is None and index.step is None and index.start is not None and \
                index.start < 0 and -index.start == len(self._shape(tensor)) - 2:
            return tensor
        return None

    def _binary(self, node: Any, op: str, a: Any, b: Any) -> None:
        ta, tb = self._is_tensor(a) and not self._is_weight(a), self._is_tensor(b) and not self._is_weight(b)
        if op.endswith("_") and not ta:  # `c += x` with c not an activation: a new tensor after all
            op = op[:-1]
        if ta and tb:
            self._emit(node, op, [a, b], {}, node.name)
            return
        data, other = (a, b) if ta else (b, a)
        if not (ta or tb):
            raise Unsupported(f"{op} of constants")
        if self._is_weight(other):
            w = self.refs[other].tensor
            key = "weight_shape" if getattr(w, "requires_grad", False) or _is_parameter(self.torch, w) else \
                "constant_shape"
            self._emit(node, op, [data], {key: [int(d) for d in w.shape]}, node.name)
            return
        value = self._value(other)
        if isinstance(value, (int, float)):
            self._emit(node, op, [data], {"constant_shape": []}, node.name)
            return
        raise Unsupported(f"{op} with a {type(value).__name__}")

    def _is_weight(self, a: Any) -> bool:
        return hasattr(a, "op") and isinstance(self.refs.get(a), _Weight)

    def _functional_conv(self, node: Any, name: str) -> None:
        weight = self._arg(node, 1, "weight", None)
        if not self._is_weight(weight):
            raise Unsupported(f"{name} with a computed weight")
        w = self.refs[weight].tensor
        bias = self._arg(node, 2, "bias", None)
        values = {k: _tuple(self._value(self._arg(node, i + 3, k, d))) for i, (k, d) in
                  enumerate((("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)))}
        rank = int(name[-2])
        args = {"out_channels": int(w.shape[0]), "kernel_size": [int(k) for k in w.shape[2:]], "bias": bias is not None,
                **values}
        op = f"Conv{rank}d"
        label = weight.target.rsplit(".", 1)[0] if "." in str(weight.target) else node.name
        self._emit(node, op, [node.args[0]], args, label)

    def _method(self, node: Any) -> None:
        name = node.target
        args = node.args
        if name == "size":
            shape = self._planned(args[0])
            self.refs[node] = _Value(shape if len(args) == 1 and "dim" not in node.kwargs else
                                     shape[self._value(args[1] if len(args) > 1 else node.kwargs["dim"])])
            return
        if name == "dim":
            self.refs[node] = _Value(len(self._shape(args[0])))
            return
        if name in ("contiguous", "clone", "detach", "float"):
            self.refs[node] = self.refs.get(args[0])
            return
        self._method_like(node, name, args[0], args[1:], node.kwargs)

    def _method_like(self, node: Any, name: str, x: Any, rest: Sequence[Any], kwargs: dict[str, Any]) -> None:
        if name in ("view", "reshape"):
            target = rest[0] if len(rest) == 1 and isinstance(self._value(rest[0]), (tuple, list)) else rest
            self._emit(node, "reshape", [x], {"shape": list(self._value(list(target)))}, node.name)
        elif name == "permute":
            dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else rest
            self._emit(node, "permute", [x], {"dims": [int(d) for d in self._value(list(dims))]}, node.name)
        elif name == "transpose":
            self._emit(node, "transpose", [x], {"dim0": self._value(rest[0]), "dim1": self._value(rest[1])}, node.name)
        elif name == "flatten":
            self._emit(node, "flatten", [x], {"start_dim": self._value(rest[0]) if rest else kwargs.get("start_dim", 0),
                                              "end_dim": self._value(rest[1]) if len(rest) > 1 else
                                              kwargs.get("end_dim", -1)}, node.name)
        elif name == "mean":
            dim = rest[0] if rest else kwargs.get("dim")
            keep = rest[1] if len(rest) > 1 else kwargs.get("keepdim", False)
            self._emit(node, "mean", [x], {"dim": _tuple(self._value(dim)), "keepdim": bool(keep)}, node.name)
        elif name == "chunk":
            chunks = rest[0] if rest else kwargs["chunks"]
            dim = rest[1] if len(rest) > 1 else kwargs.get("dim", 0)
            self._emit(node, "chunk", [x], {"chunks": self._value(chunks), "dim": self._value(dim)}, node.name)
        elif name == "split":
            sections = rest[0] if rest else kwargs["split_size"]
            dim = rest[1] if len(rest) > 1 else kwargs.get("dim", 0)
            self._emit(node, "split", [x], {"split_size_or_sections": _tuple(self._value(sections)),
                                            "dim": self._value(dim)}, node.name)
        elif name in ("add", "mul", "sub", "div", "add_", "mul_", "sub_", "div_"):
            self._binary(node, name, x, rest[0])  # add_ stays in place: the memory plan needs it
        elif name in ("expand", "repeat") and self._is_weight(x):  # a parameter broadcast: still its elements
            self.refs[node] = _Weight(self.refs[x].tensor, (self.refs[x].tensor,))
        elif name in ("relu", "relu_", "sigmoid", "tanh"):
            op = {"relu": "ReLU", "relu_": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}[name]
            self._emit(node, op, [x], {"inplace": True} if name == "relu_" else {}, node.name)
        else:
            raise Unsupported(f"Tensor.{name}")


@dataclasses.dataclass(frozen=True)
class _Value:
    """A Python value computed on the traced sizes (``x.size()``, ``c // g``)."""

    value: Any


@dataclasses.dataclass(frozen=True)
class _Weight:
    """A parameter or buffer the graph reads (``self.gamma``); ``sources`` the parameters a
    derived one (``self.cls_token.expand(n, -1, -1)``) is made of."""

    tensor: Any
    sources: tuple[Any, ...] = ()


def _is_parameter(torch: Any, t: Any) -> bool:
    return isinstance(t, torch.nn.Parameter)


def _arg_value(v: Any) -> Any:
    """An argument as a model file holds it: a closed-form size (from x.size() of a symbolic
    input) as its expression text; lists element by element."""
    if isinstance(v, (list, tuple)):
        return [_arg_value(x) for x in v]
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if getattr(v, "is_Integer", False):
        return int(v)
    if getattr(v, "free_symbols", None) is not None:
        return fmt_dim(v)
    return v
