"""A model as written: framework, inputs, layers — the Python side of the model file (docs/model-file.md).

Build one from a mapping (what a model file holds) or layer by layer::

    >>> m = Model(framework="pytorch", input=[1, 3, 224, 224])
    >>> m = m.add("Conv2d", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False, name="conv1")
    >>> m.plan().layers[0].output_shape
    (1, 64, 112, 112)

Nothing is checked against a framework here beyond the structure; :meth:`Model.plan` lowers each
layer through its frontend and walks the graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .blocks import expand, expanded_size, is_repeat
from .dims import DTYPE_BYTES, MAX_INT, ast_names, check_symbol_value, parse_dim_ast
from .errors import ArgumentError, ConvcalcError, UsageError, Where, did_you_mean, unknown_symbol_error
from .frontends import framework_registry, lookup
from .graph import Layer
from .plan import Plan, build_plan

TOP_KEYS = ("name", "description", "framework", "dtype", "input", "inputs", "symbols", "layers", "variants")
LAYER_KEYS = ("op", "name", "inputs")
MAX_ARG_ITEMS = 65_536  # a per-channel list of a wide layer fits; a generated 1.9M-item shape does not
MAX_LAYERS = 100_000
_NAME_RE = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_.\-/:]*$")  # ONNX node names start with /, torch paths with 0


def _line(obj: Any, key: str | None = None) -> int | None:
    """The line of a loaded mapping (or of one of its keys), when the loader recorded it (the
    loader's mappings carry ``line`` and ``key_lines``; plain dicts have none)."""
    if key is not None:
        lines = getattr(obj, "key_lines", None)
        if lines and key in lines:
            return lines[key]
    return getattr(obj, "line", None)


_ACRONYMS = {"ReLU": "relu", "ReLU6": "relu6", "PReLU": "prelu", "LeakyReLU": "leaky_relu", "GELU": "gelu",
             "SiLU": "silu", "ELU": "elu", "LeakyRelu": "leaky_relu"}


def snake(op: str) -> str:
    """``BatchNorm2d`` -> ``batch_norm2d``, ``F.pad`` -> ``pad``: default layer names.

    >>> [snake(op) for op in ("Conv2DTranspose", "BatchNorm2d", "ReLU", "F.pad")]
    ['conv2d_transpose', 'batch_norm2d', 'relu', 'pad']
    """
    base = op.rsplit(".", 1)[-1]
    if base in _ACRONYMS:
        return _ACRONYMS[base]
    return re.sub(r"(?<=[A-Za-z0-9])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])", "_", base).lower()


class Model:
    """A network to plan: one framework, named inputs with shapes, and layers in order.

    Args:
        framework: ``keras`` (default), ``tf.keras``, ``pytorch`` or ``onnx``.
        input: the shape of the single input (named ``input``), batch first, in the framework's
            layout; a dimension is an int, a symbol name or an expression (``"2*T"``).
        inputs: several named inputs instead (``{"x": [...], "h": [...]}``).
        layers: layer mappings (``{"op": "Conv2D", "filters": 8, ...}``) or :class:`Layer` objects.
        symbols: default symbol values; :meth:`plan` keyword arguments override them.
        dtype: element type for the memory columns (``float32``: 4 bytes).
    """

    def __init__(
        self,
        framework: str = "keras",
        input: Any = None,
        inputs: Mapping[str, Any] | None = None,
        layers: Any = (),
        *,
        name: str | None = None,
        dtype: str = "float32",
        symbols: Mapping[str, int] | None = None,
        file: str | None = None,
        description: str | None = None,
    ) -> None:
        self.file = file
        self.name = name
        self.description = description
        self.registry = framework_registry(framework)
        self.framework = self.registry.framework
        if dtype not in DTYPE_BYTES:
            raise ArgumentError(
                f"unknown dtype {dtype!r}.{did_you_mean(str(dtype), DTYPE_BYTES)}".replace("..", "."),
                fix="dtype: " + " | ".join(DTYPE_BYTES),
                key="dtype",
            )
        self.dtype = dtype
        if (input is None) == (inputs is None):
            raise ArgumentError(
                "a model needs exactly one of 'input' (one input) or 'inputs' (named inputs)"
                if input is None
                else "give 'input' or 'inputs', not both",
                fix="input: [1, 224, 224, 3]   or   inputs: {x: [20, 100, 100, 3], h: [20, 3, 1]}",
                key="input",
            )
        raw_inputs = {"input": input} if inputs is None else inputs
        if not isinstance(raw_inputs, Mapping) or not raw_inputs:
            raise ArgumentError("'inputs' must map input names to shapes", key="inputs", line=_line(inputs))
        self.inputs: dict[str, tuple] = {}
        self.input_lines: dict[str, int | None] = {}
        for key, shape in raw_inputs.items():
            if not isinstance(key, str) or not _NAME_RE.match(key):
                raise ArgumentError(f"input name {key!r} is not a valid name", key="inputs", line=_line(raw_inputs))
            self.inputs[key] = _check_shape(shape, key, _line(raw_inputs, key) if inputs is not None else _line(input))
            self.input_lines[key] = _line(raw_inputs, key) if inputs is not None else None
        self.symbols: dict[str, int] = {}
        for k, v in (symbols or {}).items():
            self.symbols[k] = check_symbol_value(k, v, line=_line(symbols, k))
        self.layers: list[Layer] = []
        self._counts: dict[str, int] = {}
        self._taken: dict[str, int | None] = {}  # layer name -> its line: appending stays linear
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
            raise ArgumentError("'layers' must be a list of layers", key="layers")
        for spec in layers:
            if is_repeat(spec):  # a block written once (convcalc.blocks): its layers, written out
                expanded_size(spec, {}, MAX_LAYERS - len(self.layers))
                for one in expand(spec, self._last_name):
                    self._append(one)
            else:
                self._append(spec)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None) -> Model:
        """A model from a model-file mapping (without ``variants``; see :func:`convcalc.load`)."""
        if not isinstance(data, Mapping):
            raise ArgumentError("a model must be a mapping with 'input' and 'layers'", file=file)
        for key in data:
            if key not in TOP_KEYS:
                raise ArgumentError(
                    f"unknown key {key!r} in the model.{did_you_mean(str(key), TOP_KEYS)}".replace("..", "."),
                    fix="the model keys are: " + ", ".join(TOP_KEYS),
                    key=str(key),
                    line=_line(data, key),
                    file=file,
                )
        if "variants" in data:
            raise ArgumentError("this file has variants; load it with convcalc.load()", key="variants", file=file)
        if "layers" not in data:
            raise ArgumentError("the model has no 'layers'", fix="add layers: [...]", file=file, line=_line(data))
        for key in ("name", "framework", "dtype", "description"):
            if key in data and not isinstance(data[key], str):
                raise ArgumentError(f"'{key}' must be a string, got {data[key]!r}", key=key, line=_line(data, key), file=file)
        if "symbols" in data and not isinstance(data["symbols"], Mapping):
            raise ArgumentError("'symbols' must map names to integers, e.g. {H: 224}", key="symbols",
                                line=_line(data, "symbols"), file=file)
        layers = data["layers"]
        if not isinstance(layers, list) or not layers:
            raise ArgumentError("'layers' must be a non-empty list", key="layers", line=_line(data, "layers"), file=file)
        try:
            return cls(
                framework=data.get("framework", "keras"),
                input=data.get("input"),
                inputs=data.get("inputs"),
                layers=layers,
                name=data.get("name"),
                dtype=data.get("dtype", "float32"),
                symbols=data.get("symbols"),
                file=file,
                description=data.get("description"),
            )
        except ArgumentError as e:
            if e.line is None and e.key in ("framework", "dtype", "input", "inputs"):
                e.line = _line(data, e.key if e.key in data else ("inputs" if "inputs" in data else "input"))
            raise e.add_context(file=file)

    def add(self, op: str, *, name: str | None = None, inputs: str | list[str] | None = None, **args: Any) -> Model:
        """Append a layer and return the model (so calls chain). The op and its argument names are
        checked at once (a typo raises here, with "did you mean", and the layer is not kept);
        the values are checked when the model is planned, against the shapes.

            >>> import convcalc
            >>> m = convcalc.Model(framework="pytorch", input=[1, 3, 32, 32]).add("Conv2d", out_channels=8, kernel_size=3)
            >>> m.add("Conv2d", out_chanels=8)
            Traceback (most recent call last):
            ...
            convcalc.errors.ArgumentError: error: Conv2d has no argument 'out_chanels'. Did you mean 'out_channels' or 'in_channels'?
              fix: Conv2d takes: in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode
            >>> len(m.layers)
            1
        """
        lookup(self.registry, op).check_args(op, args)
        spec: dict[str, Any] = {"op": op, **args}
        if name is not None:
            spec["name"] = name
        if inputs is not None:
            spec["inputs"] = inputs
        self._append(spec)
        return self

    def _last_name(self) -> str | None:
        """The tensor a layer appended now reads by default: the last layer, or the only input."""
        if self.layers:
            return self.layers[-1].name
        return next(iter(self.inputs)) if len(self.inputs) == 1 else None

    def drop_last(self) -> Layer:
        """Remove and return the last layer (an importer taking back a layer it could not plan)."""
        layer = self.layers.pop()
        self._taken.pop(layer.name, None)
        return layer

    def _append(self, spec: Any) -> None:
        if len(self.layers) >= MAX_LAYERS:
            raise ArgumentError(f"more than {MAX_LAYERS:,} layers", file=self.file)
        if isinstance(spec, Layer):
            layer = spec
        else:
            layer = self._parse_layer(spec)
        if layer.name in self._taken or layer.name in self.inputs:
            before = self._taken.get(layer.name)
            raise ArgumentError(
                f"the name '{layer.name}' is used twice"
                + (f" (first at line {before})" if before else " (it is also a model input)"),
                fix="give every layer a unique name",
                line=layer.key_lines.get("name", layer.line),
                file=self.file,
                key="name",
            )
        self.layers.append(layer)
        self._taken[layer.name] = layer.line

    def _parse_layer(self, spec: Any) -> Layer:
        index = len(self.layers) + 1
        if not isinstance(spec, Mapping):
            raise ArgumentError(
                f"layer {index} must be a mapping such as {{op: Conv2D, filters: 8}}, got {spec!r}",
                line=_line(spec) or _line(self.layers[-1]) if self.layers else _line(spec),
                file=self.file,
            )
        line = _line(spec)
        op = spec.get("op")
        if not isinstance(op, str) or not op:
            raise ArgumentError(
                f"layer {index} has no 'op'" if op is None else f"layer {index}: 'op' must be a name, got {op!r}",
                fix="every layer starts with op: <the framework's class or function name>",
                line=line,
                file=self.file,
                key="op",
            )
        name = spec.get("name")
        if name is None:
            base = snake(op)
            self._counts[base] = self._counts.get(base, 0) + 1
            name = f"{base}_{self._counts[base]}"
            while name in self._taken or name in self.inputs:
                self._counts[base] += 1
                name = f"{base}_{self._counts[base]}"
        elif not isinstance(name, str) or not _NAME_RE.match(name):
            raise ArgumentError(
                f"layer {index}: name {name!r} is not a valid name (letters, digits, _ . - / :)",
                line=_line(spec, "name"),
                file=self.file,
                key="name",
            )
        src = spec.get("inputs")
        sources: tuple[str, ...] | None
        if src is None:
            sources = None
        elif isinstance(src, str):
            sources = (src,)
        elif isinstance(src, list) and all(isinstance(s, str) for s in src):  # [] for ops of no input
            sources = tuple(src)
        else:
            raise ArgumentError(
                f"layer '{name}': inputs must be a layer name or a list of names, got {src!r}",
                line=_line(spec, "inputs"),
                file=self.file,
                key="inputs",
            )
        args = {k: v for k, v in spec.items() if k not in LAYER_KEYS}
        for k, v in args.items():
            if not isinstance(k, str):
                raise ArgumentError(f"layer '{name}': argument names must be strings, got {k!r}", line=line, file=self.file)
            if isinstance(v, (list, tuple)) and len(v) > MAX_ARG_ITEMS:
                raise ArgumentError(f"layer '{name}': {k} lists {len(v):,} values, more than the {MAX_ARG_ITEMS:,} an "
                                    "argument may", line=_line(spec, k), file=self.file, key=k)
        key_lines = dict(getattr(spec, "key_lines", {}) or {})
        return Layer(op=op, name=name, args=args, inputs=sources, where=Where(self.file, line), key_lines=key_lines)

    # ------------------------------------------------------------------ planning

    def plan(self, **symbols: int) -> Plan:
        """Plan every layer: shapes, params, MACs, memory. Keyword arguments set symbols."""
        return build_plan(self, symbols)

    def plan_symbolic(self, *free: str, **symbols: int) -> Plan:
        """Plan keeping ``free`` symbols symbolic (all of them when none is named), even where
        the file gives defaults; keyword arguments still set symbols."""
        names = set(free) or self.symbol_names()
        return build_plan(self, symbols, free=names)

    def input_symbol_names(self) -> set[str]:
        """Symbols named in the input shapes."""
        names: set[str] = set()
        for shape in self.inputs.values():
            for d in shape:
                if isinstance(d, str):
                    names |= ast_names(parse_dim_ast(d))
        return names

    def symbol_names(self) -> set[str]:
        """Symbols named in the input shapes and the ``symbols`` defaults."""
        names = set(self.symbols)
        for shape in self.inputs.values():
            for d in shape:
                if isinstance(d, str):
                    names |= ast_names(parse_dim_ast(d))
        return names

    def __repr__(self) -> str:
        return f"Model({self.name or 'unnamed'!r}, framework={self.framework!r}, {len(self.layers)} layers)"


def _check_shape(shape: Any, name: str, line: int | None) -> tuple:
    """A shape as written: a list of ints or expression strings (parsed now, evaluated at plan time)."""
    if not isinstance(shape, (list, tuple)) or not shape:
        raise ArgumentError(
            f"the shape of input '{name}' must be a non-empty list such as [1, 224, 224, 3], got {shape!r}",
            line=line,
            key="input",
        )
    out = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, str)):
            raise ArgumentError(
                f"input '{name}': a dimension must be an integer or an expression, got {d!r}",
                fix="write sizes as integers (224) or symbols (H, 2*T)",
                line=line,
                key="input",
            )
        if isinstance(d, int):
            if d < 1:
                raise ArgumentError(
                    f"input '{name}': sizes must be at least 1, got {d} in {list(shape)}",
                    fix="every size is a positive integer (or a symbol such as H)",
                    line=line,
                    key="input",
                )
            if d > MAX_INT:
                raise ArgumentError(f"input '{name}': the size {d} is larger than {MAX_INT:,}", line=line, key="input")
        else:
            try:
                parse_dim_ast(d)
            except ArgumentError as e:
                raise e.add_context(line=line, key="input") from None
        out.append(d)
    return tuple(out)


class Variants(Mapping[str, Model]):
    """The models of a ``variants`` file, by name, in file order."""

    def __init__(self, models: dict[str, Model], *, file: str | None = None, name: str | None = None) -> None:
        self._models = models
        self.file = file
        self.name = name

    def __getitem__(self, key: str) -> Model:
        if key not in self._models:
            raise UsageError(f"no variant named {key!r}.{did_you_mean(key, self._models)}".replace("..", "."))
        return self._models[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def plan(self, **symbols: int) -> dict[str, Plan]:
        """Plan every variant (symbols a variant does not use are ignored for it)."""
        unknown = set(symbols) - set().union(*(m.symbol_names() for m in self._models.values()))
        plans = {}
        for key, model in self._models.items():
            try:
                plans[key] = build_plan(model, symbols, strict_symbols=False)
            except ConvcalcError as e:
                raise e.add_context(variant=key) from None
        if unknown:
            used = set().union(*(p.used_symbols for p in plans.values()))
            really = unknown - used
            if really:
                raise unknown_symbol_error(sorted(really)[0], used)
        return plans

    def __repr__(self) -> str:
        return f"Variants({list(self._models)})"
