"""Keras models as convcalc models, in the ``keras`` (Keras 3) or ``tf.keras`` vocabulary.

Reads the model's architecture only — never its weights, never its code: a ``.keras`` zip's
``config.json``, ``model.to_json()`` text (``.json``), an ``.h5`` file's ``model_config``
attribute (with ``h5py``), a dict, or a live Keras model (through its ``to_json()``). The
framework is chosen from the file's own fields: tf.keras 2 writes ``keras_version: 2.x`` and
nests ``inbound_nodes`` as ``[[layer, node, tensor, kwargs], ...]``; Keras 3 writes ``module``
keys and ``{"args": [...], "kwargs": {...}}`` calls with ``__keras_tensor__`` references.

Every layer call becomes one layer with the Keras layer name (a layer called twice: ``name``
and ``name_1``), its config as the arguments. A model used as a layer (ConvNeXt's
``Sequential`` stem) is inlined with its layers named ``outer/inner``. A ``None`` batch size is
the symbol ``N`` (default 1) and ``None`` spatial sizes the symbols ``H``, ``W`` (``D``).
``Lambda`` layers are never run: they are named as unsupported.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from collections import Counter
from typing import Any

from ..errors import ModelError, UsageError, Where
from ..frontends import FRAMEWORKS
from ..model import Model

MAX_CONFIG_BYTES = 64 * 1024 * 1024
# Config keys that do not change what convcalc computes (bookkeeping, training-time settings).
DROPPED = {"name", "dtype", "sparse", "ragged", "optional", "build_config", "synchronized", "rms_scaling",
           "seed", "noise_shape", "renorm", "renorm_clipping", "renorm_momentum", "fused", "virtual_batch_size",
           "adjustment", "autocast", "batch_input_shape", "batch_shape"}
OPS = {"Add": "ops.add", "Multiply": "ops.multiply", "Subtract": "ops.subtract", "Divide": "ops.divide",
       "__operators__.add": "ops.add", "math.add": "ops.add", "math.multiply": "ops.multiply",
       "__operators__.mul": "ops.multiply", "math.subtract": "ops.subtract", "math.truediv": "ops.divide",
       "__operators__.sub": "ops.subtract", "math.divide": "ops.divide"}
NESTED = {"Functional", "Sequential", "Model"}


def from_keras(source: Any, *, name: str | None = None, partial: bool = False) -> Model:
    """A :class:`~convcalc.Model` from a Keras model file, its JSON, a config dict, or a live
    Keras model (only its ``to_json()`` is read). With ``partial``, a layer convcalc cannot model
    (a ``Lambda``) becomes an ``Opaque`` row with the output shape the file records for it (the
    shapes of its consumers' inputs); its parameters and MACs are unknown."""
    file = os.fspath(source) if isinstance(source, (str, os.PathLike)) and not str(source).lstrip().startswith("{") \
        else None
    if file is not None:
        data = _read(file)
    elif hasattr(source, "to_json"):
        data = json.loads(source.to_json())
    elif isinstance(source, str):
        data = _parse(source, None)
    else:
        data = source
    return _Importer(data, file, name, partial).model()


def _parse(text: str, file: str | None) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ModelError(f"not valid JSON: {str(e)[:200]}", file=file,
                         fix="a Keras model file is model.to_json() text, a .keras zip or an .h5 file") from None


def _read(file: str) -> Any:
    from ..loader import regular_file_size

    size = regular_file_size(file)
    suffix = os.path.splitext(file)[1].lower()
    if suffix == ".h5":
        return _read_h5(file)
    if suffix == ".keras" or zipfile.is_zipfile(file):
        try:
            with zipfile.ZipFile(file) as z:
                try:
                    info = z.getinfo("config.json")
                except KeyError:
                    raise ModelError("the .keras file has no config.json", file=file) from None
                if info.file_size > MAX_CONFIG_BYTES:
                    raise ModelError(f"config.json expands to {info.file_size:,} bytes, more than {MAX_CONFIG_BYTES:,} "
                                     "(a zip bomb?)", file=file)
                with z.open(info) as fh:
                    raw = fh.read(MAX_CONFIG_BYTES + 1)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise ModelError(f"not a readable .keras file: {e}", file=file) from None
        if len(raw) > MAX_CONFIG_BYTES:
            raise ModelError(f"config.json is larger than {MAX_CONFIG_BYTES:,} bytes (a zip bomb?)", file=file)
        return _parse(raw.decode("utf-8", "replace"), file)
    if size > MAX_CONFIG_BYTES:
        raise UsageError(f"{file}: the file is larger than {MAX_CONFIG_BYTES // 1024**2} MiB")
    with open(file, "rb") as fh:
        return _parse(fh.read().decode("utf-8", "replace"), file)


def _read_h5(file: str) -> Any:
    try:
        import h5py
    except ImportError:
        raise UsageError("reading .h5 files needs h5py", fix="pip install h5py") from None
    try:
        with h5py.File(file, "r") as f:
            config = f.attrs.get("model_config")
    except OSError as e:
        raise ModelError(f"not a readable .h5 file: {e}", file=file) from None
    if config is None:
        raise ModelError("the .h5 file has no model_config (a weights-only file?)", file=file)
    return _parse(config.decode() if isinstance(config, bytes) else str(config), file)


def _flavor(data: dict) -> str:
    version = str(data.get("keras_version", ""))
    if version.startswith("2"):
        return "tf.keras"
    return "keras"


class _Importer:
    def __init__(self, data: Any, file: str | None, name: str | None, partial: bool = False) -> None:
        self.partial = partial
        self.recorded: dict[tuple[str, int, int], list[Any]] = {}  # (layer, call, tensor) -> its shape
        if not isinstance(data, dict) or "config" not in data or "class_name" not in data:
            raise ModelError("not a Keras model config (no class_name and config)", file=file)
        self.data = data
        self.file = file
        self.flavor = _flavor(data)
        self.registry = FRAMEWORKS[self.flavor]
        self.name = name or data["config"].get("name")
        self.layers: list[dict[str, Any]] = []
        self.places: dict[str, str] = {}
        self.inputs: dict[str, list[Any]] = {}
        self.symbols: dict[str, int] = {}
        self.unsupported: Counter[str] = Counter()
        self.first: dict[str, str] = {}
        self.nested: set[str] = set()

    def error(self, message: str, node: str | None = None) -> ModelError:
        return ModelError(message, file=self.file, node=node)

    def model(self) -> Model:
        top = self.data
        if top["class_name"] not in NESTED:
            raise self.error(f"the top level is a {top['class_name']}, not a Functional or Sequential model")
        outputs = self._graph(top["config"], top["class_name"], prefix="", bound=None)
        del outputs
        if self.unsupported:
            listed = ", ".join(f"{k} x{n} (first: layer '{self.first[k]}')" for k, n in self.unsupported.most_common())
            raise ModelError(f"{sum(self.unsupported.values())} layer(s) convcalc cannot model: {listed}", file=self.file,
                             fix=f"see `convcalc ops {self.flavor}` for the layers convcalc models (Lambda layers are "
                             "never run)")
        spec: dict[str, Any] = {"framework": self.flavor, "layers": self.layers}
        if len(self.inputs) == 1:
            spec["input"] = next(iter(self.inputs.values()))
            first = next(iter(self.inputs))
            for ly in self.layers:
                ly["inputs"] = ["input" if r == first else r for r in ly["inputs"]]
        else:
            spec["inputs"] = self.inputs
        if self.symbols:
            spec["symbols"] = self.symbols
        if isinstance(self.name, str):
            spec["name"] = self.name
        model = Model.from_dict(spec, file=self.file)
        model.layers = [dataclasses.replace(ly, where=Where(self.file, node=self.places[ly.name]))
                        for ly in model.layers]
        return model

    # ------------------------------------------------------------------ graphs

    def _input_shape(self, config: dict) -> list[Any]:
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if not isinstance(shape, list) or not shape:
            raise self.error(f"the input layer '{config.get('name')}' has no shape")
        spatial = {3: ["L"], 4: ["H", "W"], 5: ["D", "H", "W"]}.get(len(shape), [f"S{i}" for i in range(len(shape) - 2)])
        out: list[Any] = []
        for i, d in enumerate(shape):
            if d is not None:
                out.append(int(d))
            elif i == 0:
                out.append("N")
                self.symbols["N"] = 1
            elif 1 <= i <= len(spatial):
                out.append(spatial[i - 1])
            else:
                raise self.error(f"the input layer '{config.get('name')}' has an unknown channel size: {shape}")
        return out

    def _graph(self, config: dict, kind: str, prefix: str, bound: list[str] | None) -> list[str]:
        """Translate one (possibly nested) model's layers; ``bound`` are the refs its inputs
        take when it is called as a layer. Returns the refs of its outputs."""
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise self.error("the model config has no layers list")
        produced: dict[tuple[str, int], list[str]] = {}  # (layer, call) -> output refs
        if kind == "Sequential":
            prev: list[str] | None = None
            for k, layer in enumerate(layers):
                cls = layer.get("class_name")
                lname = layer.get("config", {}).get("name") or layer.get("name") or f"layer_{k}"
                if cls == "InputLayer":
                    prev = bound if bound is not None else [self._new_input(prefix + lname, layer["config"])]
                    continue
                if prev is None:
                    shape = (layer.get("build_config") or {}).get("input_shape") or layer["config"].get(
                        "batch_input_shape")
                    if bound is not None:
                        prev = bound
                    elif shape:
                        prev = [self._new_input(prefix + "input", {"batch_shape": shape, "name": "input"})]
                    else:
                        raise self.error("a Sequential model without an input shape")
                prev = self._call(layer, prefix, 0, prev, {})
            return prev or []
        input_refs = config.get("input_layers")
        inputs_list = _refs_list(input_refs)
        self.nested = {ly.get("name") for ly in layers if ly.get("class_name") in NESTED}
        self._record_shapes(layers, prefix)
        for k, layer in enumerate(layers):
            cls = layer.get("class_name")
            lname = layer.get("name") or layer.get("config", {}).get("name") or f"layer_{k}"
            if cls == "InputLayer":
                position = [i for i, r in enumerate(inputs_list) if r[0] == lname]
                if bound is not None and position:
                    produced[(lname, 0)] = [bound[position[0]]]
                else:
                    produced[(lname, 0)] = [self._new_input(prefix + lname, layer["config"])]
                continue
            for call_index, node in enumerate(layer.get("inbound_nodes") or []):
                try:
                    sources, extra = self._sources(node, produced)
                except KeyError as e:
                    self._unsupported("a tensor from a layer convcalc could not model", prefix + lname)
                    del e
                    continue
                produced[(lname, call_index)] = self._call(layer, prefix, call_index, sources, extra)
        outs = []
        for r in _refs_list(config.get("output_layers")):
            key = (r[0], r[1]) if self.flavor == "keras" else self._tf_key(r[0], r[1])
            if key not in produced:
                return []
            outs.append(produced[key][r[2] if len(r) > 2 else 0])
        return outs

    def _new_input(self, name: str, config: dict) -> str:
        key = name.replace("/", "_")
        self.inputs[key] = self._input_shape(config)
        return key

    def _sources(self, node: Any, produced: dict) -> tuple[list[str], dict[str, Any]]:
        """The refs of the tensors a call reads, and its constant operand (``{"constant": 3.0}``)."""
        extra: dict[str, Any] = {}
        if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            tensors: list[Any] = []
            consts: list[Any] = []
            _collect(node.get("args", []), tensors, consts)
            if consts:
                extra["constant"] = consts[0]
            refs = [produced[(h[0], h[1])][h[2]] for h in tensors]
            return refs, extra
        # tf.keras 2: [[layer, node, tensor, kwargs], ...]; TFOpLambda drops one level.
        entries = [node] if node and isinstance(node[0], str) else list(node)
        refs = []
        for e in entries:
            refs.append(produced[self._tf_key(e[0], e[1])][e[2]])
            kwargs = e[3] if len(e) > 3 and isinstance(e[3], dict) else {}
            y = kwargs.get("y")
            if isinstance(y, list) and y and isinstance(y[0], str):
                refs.append(produced[self._tf_key(y[0], y[1])][y[2]])
            elif isinstance(y, (int, float)):
                extra["constant"] = y
        return refs, extra

    def _record_shapes(self, layers: list[dict], prefix: str) -> None:
        """The output shapes the file records, from its consumers: Keras 3 writes each input
        tensor's shape beside its history; tf.keras a layer's ``build_config`` input shape."""
        for layer in layers:
            for node in layer.get("inbound_nodes") or []:
                if isinstance(node, dict):
                    found: list[Any] = []
                    _collect_tensors(node.get("args", []), found)
                    for config in found:
                        h = config.get("keras_history") or []
                        if len(h) == 3 and isinstance(config.get("shape"), list):
                            self.recorded[(prefix + h[0], h[1], h[2])] = config["shape"]
                    continue
                entries = [node] if node and isinstance(node[0], str) else list(node)
                shape = (layer.get("build_config") or {}).get("input_shape")
                shapes = shape if len(entries) > 1 and isinstance(shape, list) and shape and isinstance(
                    shape[0], list) else [shape]
                for e, s in zip(entries, shapes):
                    if isinstance(s, list):
                        self.recorded[(prefix + e[0], *self._tf_key(e[0], e[1])[1:], e[2])] = s

    def _fallback(self, what: str, name: str, base: str, call_index: int, sources: list[str]) -> list[str]:
        """A layer convcalc cannot model: named as unsupported, or (``partial``) an Opaque row with
        the output shape the file records — when it records one in sizes convcalc can name."""
        shape = self.recorded.get((base, call_index, 0))
        if self.partial and shape is not None and all(d is not None for d in shape[1:]):
            out = ["N" if d is None else int(d) for d in shape]
            if "N" not in out or "N" in self.symbols:
                self.layers.append({"op": "Opaque", "name": name, "inputs": list(sources), "output_shapes": [out],
                                    "params": None, "source_op": what})
                self.places[name] = base
                return [name]
        self._unsupported(what, name)
        return [name]

    def _tf_key(self, name: str, index: int) -> tuple[str, int]:
        """tf.keras numbers a nested model's calls from 1 (its own internal node is 0)."""
        return (name, index - 1 if name in self.nested and index > 0 else index)

    def _unsupported(self, what: str, where: str) -> None:
        self.unsupported[what] += 1
        self.first.setdefault(what, where)

    def _call(self, layer: dict, prefix: str, call_index: int, sources: list[str], extra: dict) -> list[str]:
        cls = layer.get("class_name")
        config = dict(layer.get("config") or {})
        lname = layer.get("name") or config.get("name") or cls
        base = prefix + lname
        name = base if call_index == 0 else f"{base}_{call_index}"
        if cls in NESTED and isinstance(config.get("layers"), list):
            outs = self._graph(config, cls, prefix=f"{base}/", bound=sources)
            return outs or [sources[0]]
        module = str(layer.get("module") or "")
        op = cls
        if cls == "TFOpLambda":
            op = OPS.get(str(config.get("function")), "")
        elif module.startswith("keras.src.ops") and cls in OPS:
            op = OPS[cls]
        if op == "Lambda" or not op or op not in self.registry.ops:
            return self._fallback(cls if cls != "TFOpLambda" else f"TFOpLambda {config.get('function')}", name, base,
                                  call_index, sources)
        args = {k: v for k, v in config.items() if k not in DROPPED and not k.startswith("_")}
        if op == "TimeDistributed" and isinstance(config.get("layer"), dict):
            inner = config["layer"]
            args["layer"] = {"op": inner.get("class_name"), **{k: v for k, v in (inner.get("config") or {}).items()
                                                              if k not in DROPPED}}
        if op.startswith("ops."):
            args = {"trainable": config["trainable"]} if "trainable" in config else {}
            if len(sources) == 1:
                args["constant_shape"] = []
        od = self.registry.ops[op]
        unknown = [k for k in args if k not in od.args]
        for k in unknown:
            if args[k] in (None, False, [], {}):
                del args[k]
        unknown = [k for k in args if k not in od.args]
        if unknown:
            return self._fallback(f"{cls} with {', '.join(sorted(unknown))}", name, base, call_index, sources)
        self.layers.append({"op": op, "name": name, "inputs": list(sources), **args})
        self.places[name] = base
        return [name]


def _collect(value: Any, tensors: list[Any], consts: list[Any]) -> None:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        tensors.append(value["config"]["keras_history"])
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect(v, tensors, consts)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        consts.append(value)


def _refs_list(refs: Any) -> list[list[Any]]:
    if not refs:
        return []
    if isinstance(refs[0], str):
        return [refs]
    return [list(r) for r in refs]


def _collect_tensors(value: Any, found: list[dict]) -> None:
    """The ``__keras_tensor__`` configs in a Keras 3 call's arguments."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        found.append(value.get("config") or {})
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect_tensors(v, found)
