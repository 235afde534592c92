"""Golden fixtures for the Keras model-file importer: the stock ``keras.applications`` models.

Every model is built with ``weights=None`` (nothing is downloaded) at its default input size and
stored twice: the exact text of ``model.to_json()`` (gzipped with mtime=0, so a rerun with the
same versions writes the same bytes) and what the framework itself reports per layer (output
shape, input shapes, parameter counts). Keras has no FLOP counter, so no MACs are stored; the
importer cross-checks MACs through the equivalent torch models.

Install and run (venvs outside the repo; the system python stays untouched)::

    # Keras 3 (torch backend): keras 3.15.1, torch 2.13.0+cpu, Python 3.11
    python3 -m venv /work/venvs/keras3
    /work/venvs/keras3/bin/pip install torch==2.13.0 keras==3.15.1
    KERAS_BACKEND=torch /work/venvs/keras3/bin/python tests/importers/generators/gen_keras_apps.py --flavor keras
        # -> tests/importers/fixtures/keras/
    # Keras 3 refuses NASNetMobile on the torch backend ("not available with the torch backend ...
    # outstanding bug"); it is built with Keras 3.15.1 on the TensorFlow backend instead, from the
    # tf.keras venv below (make it first; tensorflow-cpu pulls keras 3.15.1 in). The result is merged into index.json
    # and the catalogue; the expected.json says backend "tensorflow". (Keras 3 to_json() text was
    # checked to be byte-identical across torch/tensorflow backends for NASNetLarge, ResNet50,
    # MobileNetV3Small, EfficientNetB0, ConvNeXtTiny.)
    KERAS_BACKEND=tensorflow /work/venvs/tfk/bin/python tests/importers/generators/gen_keras_apps.py --flavor keras --models NASNetMobile

    # tf.keras 2 (tf_keras on TensorFlow): tensorflow-cpu 2.21.0, tf_keras 2.21.0
    python3 -m venv /work/venvs/tfk
    /work/venvs/tfk/bin/pip install tensorflow-cpu==2.21.0 tf_keras==2.21.0
    /work/venvs/tfk/bin/python tests/importers/generators/gen_keras_apps.py --flavor tf.keras
        # -> tests/importers/fixtures/tf_keras/

    # options: --models ResNet50 VGG16 ...   (a subset: index.json is merged, the other fixtures are
    #                                          kept, catalogue.json is rebuilt from every *.json.gz)
    #          --out DIR                      (another output folder)
    #          --no-keras-file                (skip the stripped MobileNetV2.keras)

Files per model ``M`` in the output folder:

* ``M.json.gz``        -- ``model.to_json()``, byte for byte, gzip (mtime=0).
* ``M.expected.json``  -- versions, build arguments, totals (``count_params()``, trainable and
  non-trainable weight sizes) and ``layers``: one entry per graph node owner, in graph order.
  In Keras 3 that is ``model.operations`` (the layers of ``model.layers`` plus the bare
  ``keras.ops`` operations, e.g. ``x + 3.0``, that ``to_json()`` also lists; those have
  ``"kind": "operation"``); in tf.keras it is ``model.layers`` (there ``x + 3.0`` is a
  ``TFOpLambda`` layer). Each entry: ``name``, ``class_name``, ``output_shape`` (one shape, or a
  list of shapes when several), ``input_shapes`` (always a list, one shape per inbound tensor,
  ``null`` for unknown dims), ``params``, ``trainable_params``, ``non_trainable_params``. A nested
  model (a ``Sequential``/``Functional`` used as a layer) is followed by its own layers with the
  name ``outer/inner`` and ``"nested_in": "outer"`` (their parameters are already counted in the
  outer entry; shapes are those of the inner graph).
* ``M_symbolic.*``     -- ResNet50, MobileNetV2, EfficientNetB0 with ``input_shape=(None, None, 3)``
  (``include_top=False, pooling="avg"`` where ``include_top=True`` refuses free sizes).
* ``M_224.*``          -- models whose *default* input has free spatial dims (MobileNetV3 in
  Keras 3 and tf.keras) built again with ``input_shape=(224, 224, 3)``.
* ``MobileNetV2.keras`` -- ``model.save()`` rewritten to keep only ``config.json`` and
  ``metadata.json`` (no weights), with a note in ``index.json`` whether the framework can load it.
* ``catalogue.json``   -- every layer ``class_name`` seen (nested layers included), counts, modules,
  registered names, config keys and sample values.
* ``index.json``       -- versions, per-model status and file sizes.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import io
import json
import os
import platform
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
warnings.filterwarnings("ignore")

MODELS = [
    "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "VGG16", "VGG19", "InceptionV3", "InceptionResNetV2", "Xception",
    "MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large",
    "DenseNet121", "DenseNet169", "DenseNet201",
    *[f"EfficientNetB{i}" for i in range(8)],
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
    "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L",
    "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase",
    "NASNetMobile", "NASNetLarge",
]
SYMBOLIC = ("ResNet50", "MobileNetV2", "EfficientNetB0")
KERAS_FILE_MODEL = "MobileNetV2"
SAMPLE_VALUES = 12  # distinct values kept per config key in the catalogue
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# ----------------------------------------------------------------------------- framework access
def load_keras(flavor: str) -> Any:
    if flavor == "tf.keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tf_keras as keras  # noqa: PLC0415
    else:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras  # noqa: PLC0415
    return keras


def versions(keras: Any, flavor: str) -> dict[str, str]:
    out = {"python": platform.python_version(), "keras": keras.__version__,
           "backend": keras.backend.backend(), "numpy": np.__version__}
    if flavor == "tf.keras":
        import tensorflow as tf  # noqa: PLC0415
        out["tf_keras"] = keras.__version__
        out["tensorflow"] = tf.__version__
    else:
        if keras.backend.backend() == "torch":
            import torch  # noqa: PLC0415
            out["torch"] = torch.__version__
        elif keras.backend.backend() == "tensorflow":
            import tensorflow as tf  # noqa: PLC0415
            out["tensorflow"] = tf.__version__
    return out


def shape_of(t: Any) -> list[int | None] | None:
    s = t.shape
    if hasattr(s, "as_list"):  # tf.TensorShape
        if s.rank is None:
            return None
        s = s.as_list()
    return [None if d is None else int(d) for d in s]


def wsize(ws: list[Any]) -> int:
    return int(sum(int(np.prod(tuple(shape_of(w) or ()))) for w in ws))


def graph_of(model: Any) -> Any:
    """The object holding a model's graph (Keras 3 Sequential keeps it in ``_functional``)."""
    return getattr(model, "_functional", None) or model


def nodes_by_owner(model: Any) -> dict[int, list[Any]]:
    """Nodes of this model's own graph, keyed by id() of the layer/operation that owns them."""
    out: dict[int, list[Any]] = {}
    for _depth, nodes in sorted(getattr(graph_of(model), "_nodes_by_depth", {}).items()):
        for n in nodes:
            owner = getattr(n, "operation", None) or getattr(n, "layer", None)
            out.setdefault(id(owner), []).append(n)
    return out


def members(model: Any, flavor: str) -> list[Any]:
    """Everything the model's JSON lists as a layer, in graph order."""
    g = graph_of(model)
    if flavor == "keras":
        return list(g.operations)
    tracked = list(getattr(model, "_self_tracked_trackables", []))
    layers = list(model.layers)
    # tf.keras Sequential.layers hides its InputLayer, get_config() lists it
    if tracked and type(tracked[0]).__name__ == "InputLayer" and (not layers or layers[0] is not tracked[0]):
        layers = [tracked[0], *layers]
    return layers


def node_io(node: Any) -> tuple[list[Any], list[Any]]:
    if hasattr(node, "operation"):  # Keras 3 (a tf.keras Node has .layer)
        return list(node.input_tensors), list(node.output_tensors)
    import tensorflow as tf  # noqa: PLC0415 - tf.keras Node
    return list(node.keras_inputs), list(tf.nest.flatten(node.outputs))


def is_model(obj: Any) -> bool:
    return hasattr(obj, "layers") and hasattr(obj, "inputs") and type(obj).__name__ in ("Functional", "Sequential", "Model")


def layer_record(keras: Any, obj: Any, node: Any, n_nodes: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"name": obj.name, "class_name": type(obj).__name__}
    is_layer = isinstance(obj, keras.layers.Layer)
    if not is_layer:
        rec["kind"] = "operation"
    if node is not None:
        ins, outs = node_io(node)
        rec["output_shape"] = shape_of(outs[0]) if len(outs) == 1 else [shape_of(t) for t in outs]
        rec["input_shapes"] = [shape_of(t) for t in ins]
    else:
        rec["output_shape"] = None
        rec["input_shapes"] = None
        rec["note"] = "no node in this graph"
    if n_nodes != 1:
        rec["n_nodes"] = n_nodes
    if is_layer:
        built = bool(getattr(obj, "built", True))
        rec["params"] = int(obj.count_params()) if built else None
        rec["trainable_params"] = wsize(obj.trainable_weights)
        rec["non_trainable_params"] = wsize(obj.non_trainable_weights)
    else:
        rec["params"] = rec["trainable_params"] = rec["non_trainable_params"] = 0
    return rec


def walk(keras: Any, model: Any, flavor: str, prefix: str = "", parent: str | None = None) -> list[dict[str, Any]]:
    owners = nodes_by_owner(model)
    out = []
    for obj in members(model, flavor):
        nodes = owners.get(id(obj), [])
        rec = layer_record(keras, obj, nodes[0] if nodes else None, len(nodes))
        if prefix:
            rec["name"] = prefix + rec["name"]
        if parent is not None:
            rec["nested_in"] = parent
        if is_model(obj):
            rec["nested_model"] = True
        out.append(rec)
        if is_model(obj):
            out.extend(walk(keras, obj, flavor, prefix=rec["name"] + "/", parent=rec["name"]))
    return out


# ----------------------------------------------------------------------------- file writing
def dump_expected(path: Path, payload: dict[str, Any]) -> None:
    """Header pretty-printed, one layer per line (small, readable, diff-friendly)."""
    head = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in payload.items() if k != "layers"]
    lines = [json.dumps(r) for r in payload["layers"]]
    text = "{\n" + ",\n".join(head) + ',\n "layers": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"
    json.loads(text)  # it must still be JSON
    path.write_text(text)


def write_gz(path: Path, text: str) -> None:
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def json_layers(cfg: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(prefixed name, layer dict) for every layer of the JSON, nested models' layers included."""
    out = []
    for layer in cfg.get("config", {}).get("layers", []):
        name = layer.get("name") or layer.get("config", {}).get("name")
        out.append((prefix + name, layer))
        if isinstance(layer.get("config"), dict) and "layers" in layer["config"]:
            out.extend(json_layers(layer, prefix + name + "/"))
    return out


def strip_key(x: Any, key: str) -> Any:
    if isinstance(x, dict):
        return {k: strip_key(v, key) for k, v in x.items() if k != key}
    if isinstance(x, list):
        return [strip_key(v, key) for v in x]
    return x


# ----------------------------------------------------------------------------- catalogue
def sample(v: Any) -> str | None:
    if isinstance(v, dict):
        if "class_name" in v:
            return f"<{v['class_name']}>"
        return "<dict:" + ",".join(sorted(v)) + ">"
    if isinstance(v, (list, tuple)) and len(v) > 8:
        return f"<list len {len(v)}>"
    return json.dumps(v)


def catalogue_add(cat: dict[str, Any], cfg: dict[str, Any], model: str) -> None:
    for layer in cfg.get("config", {}).get("layers", []):
        cls = layer["class_name"]
        e = cat.setdefault(cls, {"count": 0, "models": [], "modules": {}, "registered_names": [],
                                 "top_level_keys": [], "config_keys": {}, "inbound_node_forms": []})
        e["count"] += 1
        if model not in e["models"]:
            e["models"].append(model)
        mod = str(layer.get("module"))
        e["modules"][mod] = e["modules"].get(mod, 0) + 1
        if layer.get("registered_name") not in e["registered_names"]:
            e["registered_names"].append(layer.get("registered_name"))
        for k in layer:
            if k not in e["top_level_keys"]:
                e["top_level_keys"].append(k)
        form = inbound_form(layer.get("inbound_nodes"))
        if form is not None and form not in e["inbound_node_forms"]:
            e["inbound_node_forms"].append(form)
        for k, v in (layer.get("config") or {}).items():
            vals = e["config_keys"].setdefault(k, [])
            s = sample(v) if k not in ("name", "layers", "input_layers", "output_layers") else None
            if s is not None and s not in vals and len(vals) <= SAMPLE_VALUES:
                vals.append(s if len(vals) < SAMPLE_VALUES else "...")
        if "layers" in (layer.get("config") or {}):
            catalogue_add(cat, layer, model)


def inbound_form(nodes: Any) -> str | None:
    """A short description of the structure of one layer's inbound_nodes (for the catalogue)."""
    if nodes is None:
        return None
    if not nodes:
        return "[]"

    def f(x: Any) -> str:
        if isinstance(x, dict):
            if x.get("class_name") == "__keras_tensor__":
                return "T"
            return "{" + ",".join(f"{k}:{f(v)}" for k, v in x.items()) + "}"
        if isinstance(x, list):
            if len(x) == 4 and isinstance(x[0], str) and isinstance(x[1], int):
                return "[name,node,tensor,{" + ",".join(sorted(x[3])) + "}]"
            return "[" + ",".join(f(y) for y in x) + "]"
        return type(x).__name__
    return f(nodes[0]) + (f" x{len(nodes)} nodes" if len(nodes) > 1 else "")


# ----------------------------------------------------------------------------- one model
def build(keras: Any, name: str, args: dict[str, Any]) -> Any:
    keras.backend.clear_session()  # fresh name counters -> same auto names on every run
    gc.collect()
    return getattr(keras.applications, name)(weights=None, **args)


def describe(keras: Any, flavor: str, model: Any, name: str, args: dict[str, Any], vers: dict[str, str],
             text: str, notes: list[str]) -> dict[str, Any]:
    layers = walk(keras, model, flavor)
    total = int(model.count_params())
    tr, ntr = wsize(model.trainable_weights), wsize(model.non_trainable_weights)
    top = [r for r in layers if "nested_in" not in r]
    if sum(r["params"] or 0 for r in top) != total:
        notes.append("sum of top-level layer params differs from count_params()")
    if tr + ntr != total:
        notes.append("trainable + non_trainable differs from count_params()")
    jl = json_layers(json.loads(text))
    if [n for n, _ in jl] != [r["name"] for r in layers]:
        notes.append("layer names/order differ from the JSON's config.layers (nested included)")
    by_name = dict(jl)
    for r in layers:  # say where the class comes from when it is not a stock keras.layers layer
        j = by_name.get(r["name"], {})
        if j.get("class_name", r["class_name"]) != r["class_name"]:
            notes.append(f"{r['name']}: JSON class_name {j.get('class_name')} vs {r['class_name']}")
        if j.get("module") not in (None, "keras.layers"):
            r["module"] = j["module"]
        if j.get("registered_name") is not None:
            r["registered_name"] = j["registered_name"]
    classes = {}
    for r in layers:
        classes[r["class_name"]] = classes.get(r["class_name"], 0) + 1
    return {
        "model": name,
        "flavor": flavor,
        "generated_by": "tests/importers/generators/gen_keras_apps.py",
        "generated": time.strftime("%Y-%m-%d"),
        "versions": vers,
        "build": {"function": f"{'tf_keras' if flavor == 'tf.keras' else 'keras'}.applications.{name}",
                  "args": {"weights": None, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in args.items()}}},
        "json_file": f"{name}.json.gz",
        "model_name": model.name,
        "input_shapes": [shape_of(t) for t in model.inputs],
        "output_shapes": [shape_of(t) for t in model.outputs],
        "total_params": total,
        "trainable_params": tr,
        "non_trainable_params": ntr,
        "counts": {"entries": len(layers), "top_level": len(top), "model_layers": len(model.layers),
                   "nested_models": sum(1 for r in layers if r.get("nested_model")),
                   "operations": sum(1 for r in layers if r.get("kind") == "operation")},
        "class_counts": dict(sorted(classes.items())),
        "notes": notes,
        "layers": layers,
    }


def do_model(keras: Any, flavor: str, out: Path, key: str, name: str, args: dict[str, Any], vers: dict[str, str],
             catalogue: dict[str, Any], notes: list[str] | None = None) -> dict[str, Any]:
    t0 = time.time()
    notes = list(notes or [])
    model = build(keras, name, args)
    text = model.to_json()
    write_gz(out / f"{key}.json.gz", text)
    payload = describe(keras, flavor, model, name, args, vers, text, notes)
    payload["json_file"] = f"{key}.json.gz"
    dump_expected(out / f"{key}.expected.json", payload)
    catalogue_add(catalogue, json.loads(text), key)
    free = any(d is None for s in payload["input_shapes"] for d in s[1:])
    status = {"status": "ok", "seconds": round(time.time() - t0, 1), "total_params": payload["total_params"],
              "entries": payload["counts"]["entries"], "input_shapes": payload["input_shapes"], "notes": notes,
              "free_input_dims": free}
    del model
    return status


def keras_file(keras: Any, flavor: str, out: Path, vers: dict[str, str]) -> dict[str, Any]:
    """Save MobileNetV2 as .keras, keep only config.json + metadata.json, try loading it back."""
    model = build(keras, KERAS_FILE_MODEL, {})
    ref = json.loads(model.to_json())
    info: dict[str, Any] = {"file": f"{KERAS_FILE_MODEL}.keras"}
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.keras"
        model.save(str(full))
        with zipfile.ZipFile(full) as zf:
            info["original_members"] = {i.filename: i.file_size for i in zf.infolist()}
            kept = {n: zf.read(n) for n in ("config.json", "metadata.json") if n in zf.namelist()}
    info["kept_members"] = sorted(kept)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in kept.items():
            zi = zipfile.ZipInfo(n, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    path = out / info["file"]
    old = None
    if path.exists():  # metadata.json carries the save time: keep the old file if nothing else changed
        with zipfile.ZipFile(path) as zf:
            old = zf.read("config.json") if "config.json" in zf.namelist() else None
    def same(x: bytes | None, y: bytes) -> bool:  # shared_object_id values are id()s: they change every run
        return x is not None and strip_key(json.loads(x), "shared_object_id") == strip_key(json.loads(y), "shared_object_id")

    if not same(old, kept["config.json"]):
        path.write_bytes(buf.getvalue())
    else:
        with zipfile.ZipFile(path) as zf:
            kept["metadata.json"] = zf.read("metadata.json")
        info["kept_previous_file"] = ("config.json unchanged (up to shared_object_id values, which are id()s), "
                                      "previous file and its date_saved kept")
    cfg = json.loads(kept["config.json"])
    info["metadata"] = json.loads(kept.get("metadata.json", b"{}"))
    strip = {"compile_config", "build_config"}
    info["config_json_equals_to_json"] = cfg == ref
    info["config_json_equals_to_json_ignoring_compile_build"] = (
        {k: v for k, v in cfg.items() if k not in strip} == {k: v for k, v in ref.items() if k not in strip})
    info["config_json_equals_to_json_ignoring_shared_object_id"] = (
        strip_key(cfg, "shared_object_id") == strip_key(ref, "shared_object_id"))
    info["config_json_top_level_keys"] = sorted(cfg)
    del model
    keras.backend.clear_session()
    for label, fn in (("load_model", lambda: keras.models.load_model(str(path))),
                      ("load_model(compile=False)", lambda: keras.models.load_model(str(path), compile=False)),
                      ("model_from_json(config.json)", lambda: keras.models.model_from_json(kept["config.json"].decode()))):
        try:
            m = fn()
            info[label] = f"ok: loaded, count_params={m.count_params()} (weights freshly initialised)"
            del m
        except Exception as exc:  # noqa: BLE001 - we want to record what the framework says
            msg = str(exc).strip().splitlines()
            info[label] = f"error: {type(exc).__name__}: {msg[0] if msg else ''}"[:500]
        keras.backend.clear_session()
    info["size_bytes"] = path.stat().st_size
    return info


# ----------------------------------------------------------------------------- main
def merge_status(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """index.json keeps earlier runs: a success is never replaced by another backend's failure."""
    if not old:
        return new
    if new["status"] != "ok" and old.get("status") == "ok":
        backend = new.get("versions", {}).get("backend")
        if backend != old.get("versions", {}).get("backend"):
            old.setdefault("failed_elsewhere", {})[str(backend)] = new.get("error")
            return old
    if new["status"] == "ok" and old.get("status") == "error":
        backend = old.get("versions", {}).get("backend")
        if backend != new.get("versions", {}).get("backend"):
            new.setdefault("failed_elsewhere", {})[str(backend)] = old.get("error")
            new["notes"].append(f"built with backend {new['versions']['backend']}: with {backend} it failed")
    return new


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flavor", choices=("keras", "tf.keras"), default="keras")
    ap.add_argument("--models", nargs="*", default=None, help="subset of the model list (others keep their files)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--no-keras-file", action="store_true", help="skip the stripped .keras file")
    a = ap.parse_args()
    keras = load_keras(a.flavor)
    out = a.out or FIXTURES / ("keras" if a.flavor == "keras" else "tf_keras")
    out.mkdir(parents=True, exist_ok=True)
    vers = versions(keras, a.flavor)
    print(f"{a.flavor}: {vers} -> {out}", file=sys.stderr)
    names = a.models or MODELS
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown models {unknown}")
    index_path = out / "index.json"
    index: dict[str, Any] = json.loads(index_path.read_text()) if index_path.exists() else {}
    index.update({"flavor": a.flavor, "generated_by": "tests/importers/generators/gen_keras_apps.py"})
    index.setdefault("models", {})
    index.setdefault("runs", [])
    same = [r for r in index["runs"] if r["versions"] == vers]
    done = {m for r in same for m in r["models"]} | set(names)
    index["runs"] = [r for r in index["runs"] if r["versions"] != vers] + [
        {"generated": time.strftime("%Y-%m-%d"), "versions": vers, "models": [m for m in MODELS if m in done]}]
    scratch: dict[str, Any] = {}
    jobs: list[tuple[str, str, dict[str, Any], list[str]]] = []
    for name in names:
        jobs.append((name, name, {}, []))
    for name in SYMBOLIC:
        if name in names:
            jobs.append((f"{name}_symbolic", name, {"input_shape": (None, None, 3)}, []))
    results: dict[str, dict[str, Any]] = {}
    for key, name, args, notes in jobs:
        if not hasattr(keras.applications, name):
            results[key] = {"status": "not offered", "versions": vers,
                            "notes": [f"{keras.__name__}.applications has no {name}"]}
            print(f"  {key}: not offered", file=sys.stderr)
            continue
        try:
            try:
                st = do_model(keras, a.flavor, out, key, name, args, vers, scratch, notes)
            except ValueError as exc:
                if not key.endswith("_symbolic"):
                    raise
                first = str(exc).strip().splitlines()[0]
                args = {**args, "include_top": False, "pooling": "avg"}
                st = do_model(keras, a.flavor, out, key, name, args, vers, scratch,
                              [f"include_top=True with input_shape=(None, None, 3) raised: {first}"])
        except Exception as exc:  # noqa: BLE001 - recorded, the other models go on
            msg = str(exc).strip().splitlines()
            results[key] = {"status": "error", "versions": vers,
                            "error": f"{type(exc).__name__}: {msg[0] if msg else ''}"[:500]}
            print(f"  {key}: ERROR {results[key]['error']}", file=sys.stderr)
            continue
        st["versions"] = vers
        results[key] = st
        print(f"  {key}: {st['total_params']:,} params, {st['entries']} entries, {st['seconds']}s"
              + (f"  notes={st['notes']}" if st["notes"] else ""), file=sys.stderr)
        if st.get("free_input_dims") and not key.endswith("_symbolic"):
            key224 = f"{name}_224"
            note = f"default input of {name} has free spatial dims; this variant fixes input_shape=(224, 224, 3)"
            st2 = do_model(keras, a.flavor, out, key224, name, {"input_shape": (224, 224, 3)}, vers, scratch, [note])
            st2["versions"] = vers
            results[key224] = st2
            print(f"  {key224}: {st2['total_params']:,} params, {st2['entries']} entries", file=sys.stderr)
        gc.collect()
    for key, st in results.items():
        for suffix in (".json.gz", ".expected.json"):
            p = out / f"{key}{suffix}"
            if p.exists() and st["status"] == "ok":
                st.setdefault("bytes", {})[suffix] = p.stat().st_size
        index["models"][key] = merge_status(index["models"].get(key), st)
    order = [k for n in MODELS for k in (n, f"{n}_224", f"{n}_symbolic") if k in index["models"]]
    index["models"] = {k: index["models"][k] for k in order}
    if not a.no_keras_file and KERAS_FILE_MODEL in names:
        try:
            index["keras_file"] = keras_file(keras, a.flavor, out, vers)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            index["keras_file"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        index["keras_file"]["versions"] = vers
        print(f"  .keras: {index['keras_file']}", file=sys.stderr)
    # the catalogue covers every fixture on disk, whichever run (backend) wrote it
    catalogue: dict[str, Any] = {}
    for key, st in index["models"].items():
        if st.get("status") == "ok" and (out / f"{key}.json.gz").exists():
            catalogue_add(catalogue, json.loads(gzip.decompress((out / f"{key}.json.gz").read_bytes())), key)
    cat = {"flavor": a.flavor, "generated_by": index["generated_by"], "runs": index["runs"],
           "models": [k for k, st in index["models"].items() if st.get("status") == "ok"],
           "classes": dict(sorted(catalogue.items()))}
    (out / "catalogue.json").write_text(json.dumps(cat, indent=1) + "\n")
    index_path.write_text(json.dumps(index, indent=1) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"wrote {out}: {total / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
