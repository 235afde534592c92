"""Golden fixtures for the PyTorch-module and ONNX importers, from torchvision's model zoo.

Not imported by the test suite: the suite reads only the JSON / ONNX files this script writes.

Install (in a venv outside the repo; never let pip pull another torch, the CUDA builds are GBs)::

    python3 -m venv /work/venvs/tv && . /work/venvs/tv/bin/activate
    pip install torch==2.13.0                      # the CPU wheel (2.13.0+cpu)
    pip install --no-deps torchvision==0.28.0      # the release that matches torch 2.13
    pip install onnx==1.23.2 onnxscript==0.7.2 onnxruntime==1.32.0 numpy pillow

Run (from the repository root; about 10 minutes on 2 cores for everything)::

    python tests/importers/generators/gen_torchvision.py                 # all phases, all models
    python tests/importers/generators/gen_torchvision.py --phase torch   # only the torch JSON fixtures
    python tests/importers/generators/gen_torchvision.py --phase ts --models resnet18,vgg16
    #  phases: torch | ts | dynamo | symbolic | catalogue | all (default)

Writes:

* ``tests/importers/fixtures/torchvision/<model>.json``: the module-level torch.fx graph after
  ShapeProp (every node: op, target, module class and hyper-parameters, args, output shape,
  params / buffers), FlopCounterMode's MACs per module, and the parameter total. A model that
  fails is written as ``{"model": ..., "error": ...}`` and the run goes on.
* ``tests/importers/fixtures/onnx/<model>.ts.onnx`` (TorchScript exporter, opset 17) and
  ``<model>.dynamo.onnx`` (torch.export-based exporter, opset 18), both without weights: the
  weights are graph inputs with their shapes, so shape inference and onnxruntime still work
  when random weights are fed. ``<model>_symbolic.{ts,dynamo}.onnx`` for a few models take
  ``[1, 3, H, W]``. The models in ``NO_DYNAMO`` (the largest graphs) get only the TorchScript export.
* ``<file>.shapes.json`` beside every ONNX file: onnx shape inference's result per node, the
  weight inputs / initializers with their element counts, and onnxruntime's actual output shapes.
* ``_catalogue.json`` in both folders: every module class / function / method / op_type seen,
  with counts, and ``torchvision/_index.json``: which model succeeded in which phase (torch and
  ONNX alike).

Nothing is deleted: a run writes only the files of the models it was given (``--models``, else
all of ``MODELS``), and removes nothing but its own scratch file (``<file>.onnx.partial``, which
replaces ``<file>.onnx`` once the export and its sidecar succeeded). A fixture that succeeded
before is not replaced by a failed regeneration (the error is printed, the earlier files stay).
``_index.json`` and the catalogues' per-model / per-file tables are merged: only the entries of
the run's models are recomputed, all others are kept as they were; the totals over all models
are recounted from the fixture files present in the folders.

Choices made here (the importer tests should know them):

* Every model is built with ``weights=None`` and put in ``eval()``.
* Before an ONNX export the model's floating parameters get small seeded noise and BatchNorm's
  running statistics are made non-trivial ("as if trained"). The torch.export-based exporter's
  optimizer is value-dependent: with freshly initialised weights it fuses BatchNorm into the
  preceding Conv, finds the fused bias all zeros and drops it, so the graph would not have the
  structure a trained model exports to. The noise changes no shape and no parameter count.
* ``export_params=False`` is honoured by the TorchScript exporter directly. For the dynamo
  exporter ``export_params=False`` removes the initializers but leaves the graph referring to
  them (an invalid model), and with ``keep_initializers_as_inputs=True`` it also turns the small
  shape constants (Reshape targets) into inputs. So the dynamo model is exported in memory with
  its weights, and every initializer that holds a parameter or buffer of the model (by name: a
  state_dict key, or a key plus a suffix such as ``conv1.weight_bias`` for a fused bias) is
  turned into a graph input of the same type and shape, and so is every other floating
  initializer of more than one element (constant folding's products: Linear weights transposed
  for MatMul, named ``val_<N>``; swin's gathered relative-position bias; these are listed in the
  sidecar as ``folded_constants_moved_to_inputs``); the rest (int64 shape constants, scalars)
  stay initializers. The dynamo exporter's debug metadata (per-node Python stack traces with
  this machine's paths, FX node text, the graph-signature dump) is dropped: it was most of each
  file and made the files machine-dependent. The module mapping it writes per node
  (``namespace``, ``pkg.torch.onnx.name_scopes``, ``pkg.torch.onnx.class_hierarchy``) stays.
* Symbolic dynamo exports ask for ``Dim("H", min=32)``; where torch.export cannot handle that
  (googlenet, squeezenet1_0: ceil-mode pooling) they fall back to ``Dim.DYNAMIC`` and rename the
  dims it invents (``s53``, ``s0``) to H and W, also inside the exporter's shape expressions.
* MultiheadAttention's inference fast path (``aten::_native_multi_head_attention``, taken under
  ``no_grad``) is switched off for the exports and the FLOP count: the TorchScript exporter cannot
  export it, and FlopCounterMode does not see inside it.
* The dynamo exporter is asked for opset 18: it translates to 18 natively and its down-conversion
  to 17 fails on ReduceMean/Reshape axes inputs (it then silently keeps 18 anyway).
* FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` counts only matrix products
  (aten.convolution, addmm, mm, bmm, baddbmm, scaled-dot-product attention kernels) at 2 FLOPs
  per multiply-accumulate; normalisation, activations, pooling and elementwise ops count 0.
  ``macs`` = flops / 2. MultiheadAttention's fast path (a fused CPU kernel it does not see) is
  switched off and scaled_dot_product_attention is forced to the math backend (bmm it does see)
  for that one forward pass, so attention models are counted completely.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import gc
import json
import math
import os
import platform
import re
import sys
import time
import traceback
import types
import warnings
from pathlib import Path
from typing import Any

# The torchvision wheel on PyPI is built for CUDA. Its compiled ops (nms, roi_align, ...) do not
# load next to the CPU torch, and torchvision/_meta_registrations.py, which registers meta kernels
# for those ops at import time, then fails with "operator torchvision::nms does not exist". The
# model builders used here need none of the compiled ops, so that one module is replaced by an
# empty stand-in before torchvision is imported. (torchvision.extension's own loading failure is
# only a warning, and the image/video decoders are never touched.)
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.fx  # noqa: E402
import torchvision  # noqa: E402
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parents[1]  # tests/importers
TV_DIR = ROOT / "fixtures" / "torchvision"
ONNX_DIR = ROOT / "fixtures" / "onnx"
SCRIPT = "tests/importers/generators/gen_torchvision.py"
SEED = 20261201
TS_OPSET = 17
DYNAMO_OPSET = 18

IMG = (1, 3, 224, 224)
VIDEO = (1, 3, 16, 112, 112)
NO_AUX = {"aux_logits": False, "init_weights": False}
SEG = {"weights_backbone": None, "aux_loss": False}

# name -> (builder kwargs besides weights=None, input shape)
MODELS: dict[str, tuple[dict[str, Any], tuple[int, ...]]] = {
    "alexnet": ({}, IMG),
    "vgg11": ({}, IMG),
    "vgg11_bn": ({}, IMG),
    "vgg13": ({}, IMG),
    "vgg13_bn": ({}, IMG),
    "vgg16": ({}, IMG),
    "vgg16_bn": ({}, IMG),
    "vgg19": ({}, IMG),
    "vgg19_bn": ({}, IMG),
    "resnet18": ({}, IMG),
    "resnet34": ({}, IMG),
    "resnet50": ({}, IMG),
    "resnet101": ({}, IMG),
    "resnet152": ({}, IMG),
    "resnext50_32x4d": ({}, IMG),
    "resnext101_32x8d": ({}, IMG),
    "resnext101_64x4d": ({}, IMG),
    "wide_resnet50_2": ({}, IMG),
    "wide_resnet101_2": ({}, IMG),
    "densenet121": ({}, IMG),
    "densenet161": ({}, IMG),
    "densenet169": ({}, IMG),
    "densenet201": ({}, IMG),
    "googlenet": (NO_AUX, IMG),
    "inception_v3": (NO_AUX, (1, 3, 299, 299)),
    "squeezenet1_0": ({}, IMG),
    "squeezenet1_1": ({}, IMG),
    "shufflenet_v2_x0_5": ({}, IMG),
    "shufflenet_v2_x1_0": ({}, IMG),
    "shufflenet_v2_x1_5": ({}, IMG),
    "shufflenet_v2_x2_0": ({}, IMG),
    "mobilenet_v2": ({}, IMG),
    "mobilenet_v3_small": ({}, IMG),
    "mobilenet_v3_large": ({}, IMG),
    "mnasnet0_5": ({}, IMG),
    "mnasnet0_75": ({}, IMG),
    "mnasnet1_0": ({}, IMG),
    "mnasnet1_3": ({}, IMG),
    "efficientnet_b0": ({}, IMG),
    "efficientnet_b1": ({}, IMG),
    "efficientnet_b2": ({}, IMG),
    "efficientnet_b3": ({}, IMG),
    "efficientnet_b4": ({}, IMG),
    "efficientnet_b5": ({}, IMG),
    "efficientnet_b6": ({}, IMG),
    "efficientnet_b7": ({}, IMG),
    "efficientnet_v2_s": ({}, IMG),
    "efficientnet_v2_m": ({}, IMG),
    "efficientnet_v2_l": ({}, IMG),
    "regnet_x_400mf": ({}, IMG),
    "regnet_x_800mf": ({}, IMG),
    "regnet_x_1_6gf": ({}, IMG),
    "regnet_x_3_2gf": ({}, IMG),
    "regnet_x_8gf": ({}, IMG),
    "regnet_y_400mf": ({}, IMG),
    "regnet_y_800mf": ({}, IMG),
    "regnet_y_1_6gf": ({}, IMG),
    "regnet_y_3_2gf": ({}, IMG),
    "regnet_y_8gf": ({}, IMG),
    "convnext_tiny": ({}, IMG),
    "convnext_small": ({}, IMG),
    "convnext_base": ({}, IMG),
    "convnext_large": ({}, IMG),
    "vit_b_16": ({}, IMG),
    "swin_t": ({}, IMG),
    "r3d_18": ({}, VIDEO),
    "mc3_18": ({}, VIDEO),
    "r2plus1d_18": ({}, VIDEO),
    "fcn_resnet50": (SEG, IMG),
    "deeplabv3_resnet50": (SEG, IMG),
    "deeplabv3_mobilenet_v3_large": (SEG, IMG),
    "lraspp_mobilenet_v3_large": (SEG, IMG),
}
ATTENTION = {"vit_b_16", "swin_t"}  # only a "partial" import is expected of these
# No dynamo export for these (the TorchScript one is kept): the largest graphs, left out to keep the
# ONNX fixture folder small (each dynamo file and its sidecar is about 2.4x the TorchScript pair).
NO_DYNAMO = {
    "densenet169", "densenet201", "efficientnet_b1", "efficientnet_b2", "efficientnet_b4", "efficientnet_b5",
    "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_m", "efficientnet_v2_l", "regnet_y_1_6gf",
    "regnet_y_3_2gf", "convnext_small", "convnext_base", "convnext_large",
}
SYMBOLIC = ["resnet50", "mobilenet_v2", "googlenet", "squeezenet1_0"]
SYMBOLIC_MIN = 32  # the dynamo exporter's lower bound for the symbolic H and W
# Node metadata the dynamo exporter writes for debugging only: the Python stack (with this
# machine's absolute site-packages paths, so the files would differ per machine) and the FX node's
# text. Both are dropped, as is the model-level copy of the ExportedProgram's graph signature;
# they are most of the file. The module mapping (namespace, name_scopes, class_hierarchy) stays.
DROPPED_METADATA = ("pkg.torch.onnx.stack_trace", "pkg.torch.onnx.fx_node",
                    "pkg.torch.export.ExportedProgram.graph_signature")


# ----------------------------------------------------------------------------------------------
# helpers


def versions() -> dict[str, str]:
    import onnxruntime  # noqa: PLC0415
    import onnxscript  # noqa: PLC0415

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
        "onnxscript": onnxscript.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def first_lines(exc: BaseException, n: int = 3) -> str:
    text = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {' | '.join(text[:n])}"[:1000]


def write_json(path: Path, payload: Any) -> None:
    """Top-level keys one per line, and lists of records (nodes, weights) one record per line:
    compact, yet a regenerated fixture diffs line by line."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def dump(v: Any) -> str:
        return json.dumps(v, separators=(",", ":"), allow_nan=False)

    parts = []
    for k, v in payload.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            body = "[\n" + ",\n".join("  " + dump(x) for x in v) + "\n ]"
        elif isinstance(v, dict) and len(dump(v)) > 200:
            body = "{\n" + ",\n".join(f"  {dump(str(kk))}: {dump(vv)}" for kk, vv in v.items()) + "\n }"
        else:
            body = dump(v)
        parts.append(f" {dump(k)}: {body}")
    path.write_text("{\n" + ",\n".join(parts) + "\n}\n")


def build(name: str) -> torch.nn.Module:
    kwargs, _ = MODELS[name]
    torch.manual_seed(SEED)
    return torchvision.models.get_model(name, weights=None, **kwargs).eval()


def example_input(name: str) -> torch.Tensor:
    return torch.randn(MODELS[name][1], generator=torch.Generator().manual_seed(SEED))


def jsonable(a: Any) -> Any:
    """Render an fx argument / constant as JSON. Nodes become their names (plain strings; the
    node's ``input_nodes`` lists which strings are references); other non-JSON values are tagged."""
    if isinstance(a, torch.fx.Node):
        return a.name
    if isinstance(a, bool) or a is None or isinstance(a, (int, str)):
        return a
    if isinstance(a, float):
        return a if math.isfinite(a) else {"float": repr(a)}
    if isinstance(a, torch.Size):
        return [int(d) for d in a]
    if isinstance(a, (tuple, list)):
        return [jsonable(v) for v in a]
    if isinstance(a, dict):
        return {str(k): jsonable(v) for k, v in a.items()}
    if isinstance(a, slice):
        return {"slice": [jsonable(a.start), jsonable(a.stop), jsonable(a.step)]}
    if a is Ellipsis:
        return {"ellipsis": True}
    if isinstance(a, torch.dtype):
        return {"dtype": str(a)}
    if isinstance(a, torch.device):
        return {"device": str(a)}
    if isinstance(a, torch.Tensor):
        return {"tensor": {"shape": list(a.shape), "dtype": str(a.dtype)}}
    return {"repr": repr(a)}


def qualified(fn: Any) -> str:
    try:
        name = torch.fx.node._get_qualified_name(fn)
        return "operator." + name[len("_operator."):] if name.startswith("_operator.") else name
    except Exception:  # noqa: BLE001
        return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def meta_shape(meta: Any) -> Any:
    """ShapeProp's tensor_meta -> shape lists, keeping the nesting of tuple/list/dict outputs."""
    if isinstance(meta, TensorMetadata):  # a NamedTuple: test it before tuple
        return [int(d) for d in meta.shape]
    if isinstance(meta, (tuple, list)):
        return [meta_shape(m) for m in meta]
    if isinstance(meta, dict):
        return {str(k): meta_shape(v) for k, v in meta.items()}
    return None


def meta_dtype(meta: Any) -> Any:
    if isinstance(meta, TensorMetadata):
        return str(meta.dtype)
    if isinstance(meta, (tuple, list)):
        return [meta_dtype(m) for m in meta]
    if isinstance(meta, dict):
        return {str(k): meta_dtype(v) for k, v in meta.items()}
    return None


def has_tensor(v: Any) -> bool:
    if isinstance(v, torch.Tensor):
        return True
    if isinstance(v, (tuple, list)):
        return any(has_tensor(x) for x in v)
    if isinstance(v, dict):
        return any(has_tensor(x) for x in v.values())
    return False


class RecordingShapeProp(ShapeProp):
    """ShapeProp that also keeps the values of nodes whose result is not a tensor (x.size(),
    getitem on a size, ...), which an importer has to evaluate too."""

    def __init__(self, gm: torch.fx.GraphModule) -> None:
        super().__init__(gm)
        self.values: dict[str, Any] = {}

    def run_node(self, n: torch.fx.Node) -> Any:
        result = super().run_node(n)
        if not has_tensor(result):
            self.values[n.name] = jsonable(result)
        return result


def module_attrs(mod: torch.nn.Module) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for k in getattr(type(mod), "__constants__", []):
        if hasattr(mod, k):
            attrs[k] = jsonable(getattr(mod, k))
    for k in ("p", "inplace", "eps", "momentum", "affine", "track_running_stats", "approximate",
              "negative_slope", "start_dim", "end_dim", "scale_factor", "mode", "align_corners",
              "output_size", "batch_first", "normalized_shape", "elementwise_affine"):
        if k not in attrs and hasattr(mod, k) and not callable(getattr(mod, k)):
            attrs[k] = jsonable(getattr(mod, k))
    if hasattr(mod, "bias") and not callable(mod.bias):
        attrs["bias"] = mod.bias is not None
    return attrs


# torchvision modules a fallback tracer keeps whole, should the default Tracer fail on a model.
FALLBACK_LEAVES = ("StochasticDepth", "Permute", "LayerNorm2d", "SqueezeExcitation")


class FallbackTracer(torch.fx.Tracer):
    def is_leaf_module(self, m: torch.nn.Module, qualname: str) -> bool:
        return type(m).__name__ in FALLBACK_LEAVES or super().is_leaf_module(m, qualname)


def trace(model: torch.nn.Module) -> tuple[torch.fx.GraphModule, str, str | None]:
    try:
        return torch.fx.symbolic_trace(model), "torch.fx.symbolic_trace (default Tracer)", None
    except Exception as exc:  # noqa: BLE001
        why = first_lines(exc)
    tracer = FallbackTracer()
    graph = tracer.trace(model)
    gm = torch.fx.GraphModule(tracer.root, graph, type(model).__name__)
    return gm, f"FallbackTracer (default leaves + {', '.join(FALLBACK_LEAVES)})", why


# ----------------------------------------------------------------------------------------------
# phase: torch fixtures


def flop_breakdown(model: torch.nn.Module, x: torch.Tensor) -> dict[str, Any]:
    from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: PLC0415

    with torch.no_grad(), NoMhaFastPath(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        model(x)
    counts = fc.get_flop_counts()
    root = type(model).__name__
    inclusive: dict[str, dict[str, int]] = {}
    for key, ops in counts.items():
        if key == "Global":
            continue
        path = "" if key == root else key[len(root) + 1:] if key.startswith(root + ".") else key
        inclusive[path] = {str(op): int(n) for op, n in ops.items()}
    # FlopCounterMode reports each module with its children's flops included: subtract, from
    # each module, the totals of its nearest reported descendants (a ModuleList is never called,
    # so the children of ``aspp`` may be ``aspp.convs.0``) to get what the module itself did.
    def parent(path: str) -> str | None:
        if not path:
            return None
        parts = path.split(".")
        for i in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:i]) in inclusive:
                return ".".join(parts[:i])
        return ""

    own_ops = {path: collections.Counter(ops) for path, ops in inclusive.items()}
    for path, ops in inclusive.items():
        up = parent(path)
        if up is not None:
            own_ops.setdefault(up, collections.Counter()).subtract(ops)
    leaf_names = {n for n, m in model.named_modules() if not list(m.children())}
    by_module: dict[str, Any] = {}
    for path, own in own_ops.items():
        own = {k: v for k, v in own.items() if v}
        assert all(v > 0 for v in own.values()), f"negative own flops at {path!r}"
        if own:
            flops = sum(own.values())
            by_module[path] = {"macs": flops // 2, "flops": flops, "flops_by_op": dict(sorted(own.items())),
                               "leaf": path in leaf_names}
    glob = {str(op): int(n) for op, n in counts.get("Global", {}).items()}
    total = int(fc.get_total_flops())
    assert sum(v["flops"] for v in by_module.values()) == total, "per-module flops do not add up"
    return {"macs_by_module": by_module, "total_flops": total, "total_macs": total // 2,
            "flops_by_op": dict(sorted(glob.items()))}


def torch_fixture(name: str, vers: dict[str, str]) -> dict[str, Any]:
    model = build(name)
    x = example_input(name)
    gm, tracer, trace_error = trace(model)
    prop = RecordingShapeProp(gm)
    with torch.no_grad():
        prop.propagate(x)
    modules = dict(gm.named_modules())
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    nodes = []
    reached: set[str] = set()
    for node in gm.graph.nodes:
        rec: dict[str, Any] = {"name": node.name, "op": node.op}
        if node.op == "call_module":
            mod = modules[node.target]
            rec["target"] = node.target
            rec["module_class"] = type(mod).__name__
            rec["module_type"] = f"{type(mod).__module__}.{type(mod).__qualname__}"
            rec["module_attrs"] = module_attrs(mod)
            rec["params"] = sum(p.numel() for p in mod.parameters())
            own = sum(p.numel() for p in mod.parameters(recurse=False))
            if own != rec["params"]:
                rec["params_own"] = own  # e.g. MultiheadAttention's out_proj is a child Linear
            rec["buffers"] = sum(b.numel() for b in mod.buffers())
            prefix = node.target + "."
            reached.update(k for k in params if k.startswith(prefix))
        elif node.op in ("call_function",):
            rec["target"] = qualified(node.target)
        elif node.op == "get_attr":
            rec["target"] = node.target
            rec["params"] = params[node.target].numel() if node.target in params else 0
            rec["buffers"] = buffers[node.target].numel() if node.target in buffers else 0
            reached.add(node.target)
        else:  # placeholder, call_method, output
            rec["target"] = str(node.target)
        rec["args"] = jsonable(node.args)
        rec["kwargs"] = jsonable(node.kwargs)
        rec["input_nodes"] = [n.name for n in node.all_input_nodes]
        meta = node.meta.get("tensor_meta")
        rec["output_shape"] = meta_shape(meta)
        rec["output_dtype"] = meta_dtype(meta)
        if node.name in prop.values and node.op != "output":
            rec["output_value"] = prop.values[node.name]
        nodes.append(rec)
    total_params = sum(p.numel() for p in model.parameters())
    in_graph = sum(params[k].numel() for k in reached if k in params)
    out: dict[str, Any] = {
        "model": name,
        "builder": f"torchvision.models.get_model({name!r}, weights=None"
                   + "".join(f", {k}={v!r}" for k, v in MODELS[name][0].items()) + ").eval()",
        "input_shape": list(x.shape),
        "versions": vers,
        "generated": datetime.date.today().isoformat(),
        "generated_by": SCRIPT,
        "attention_model": name in ATTENTION,
        "tracer": tracer,
    }
    if trace_error:
        out["default_tracer_error"] = trace_error
    out.update({
        "conventions": {
            "args": "fx args/kwargs; a string that is listed in the node's input_nodes is a reference "
                    "to that node, other strings are constants; slices, dtypes etc. are tagged objects",
            "params": "call_module: numel of the module's parameters, recursive (params_own, when "
                      "present, is recurse=False); get_attr: numel of the parameter it reads",
            "buffers": "numel of the module's buffers (BatchNorm: running_mean, running_var and the "
                       "one-element num_batches_tracked)",
            "macs": "FlopCounterMode flops / 2; flops are counted only for aten.convolution, addmm, mm, "
                    "bmm, baddbmm and attention kernels, at 2 per multiply-accumulate; macs_by_module "
                    "holds each module's own flops (its children's subtracted), keyed by module path",
        },
        "total_params": total_params,
        "total_buffers": sum(b.numel() for b in model.buffers()),
        "params_in_graph": in_graph,
        "params_unused": sorted(k for k in params if k not in reached),
        "output_shape": next(r["output_shape"] for r in nodes if r["op"] == "output"),
        "node_count": len(nodes),
        "nodes": nodes,
    })
    out.update(flop_breakdown(model, x))
    return out


def succeeded(path: Path) -> bool:
    """Whether ``path`` is a fixture (torch JSON or ONNX sidecar) that an earlier run wrote
    without error."""
    try:
        return "error" not in json.loads(path.read_text())
    except (OSError, ValueError):
        return False


def phase_torch(names: list[str], vers: dict[str, str], skip: bool) -> dict[str, str]:
    status = {}
    for name in names:
        path = TV_DIR / f"{name}.json"
        if skip and path.exists() and "error" not in json.loads(path.read_text()):
            status[name] = "ok (kept)"
            continue
        t = time.time()
        try:
            payload = torch_fixture(name, vers)
            status[name] = "ok"
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            payload = {"model": name, "input_shape": list(MODELS[name][1]), "versions": vers,
                       "generated": datetime.date.today().isoformat(), "error": first_lines(exc)}
            status[name] = "error: " + payload["error"]
            if succeeded(path):  # a fixture that succeeded before is kept, not replaced by the error
                status[name] += " (the earlier fixture is kept)"
                payload = None
        if payload is not None:
            write_json(path, payload)
        print(f"[torch] {name}: {status[name][:120]} ({time.time() - t:.1f}s)", flush=True)
        gc.collect()
    return status


# ----------------------------------------------------------------------------------------------
# ONNX exports


def as_if_trained(model: torch.nn.Module) -> torch.nn.Module:
    """Seeded noise on every floating parameter, non-trivial BatchNorm statistics (see the module
    docstring: the dynamo exporter's optimizer otherwise drops BatchNorm and zero biases)."""
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for p in model.parameters():
            if p.is_floating_point():
                p.add_(torch.rand(p.shape, generator=g).sub_(0.5).mul_(0.02))
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_var is not None:
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g).sub_(0.5).mul_(0.2))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g).add_(0.5))
    return model


class NoMhaFastPath:
    """MultiheadAttention's inference fast path (taken under no_grad) calls the fused
    aten::_native_multi_head_attention, which neither FlopCounterMode nor the TorchScript
    ONNX exporter knows; the ordinary path computes the same with linear / bmm / softmax."""

    def __enter__(self) -> None:
        self.saved = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)

    def __exit__(self, *exc: Any) -> None:
        torch.backends.mha.set_fastpath_enabled(self.saved)


def export_ts(name: str, path: Path, symbolic: bool) -> None:
    model = as_if_trained(build(name))
    x = example_input(name)
    kwargs: dict[str, Any] = {}
    if symbolic:
        kwargs["dynamic_axes"] = {"input": {2: "H", 3: "W"}}
    with torch.no_grad(), NoMhaFastPath():
        torch.onnx.export(model, (x,), str(path), dynamo=False, export_params=False, opset_version=TS_OPSET,
                          input_names=["input"], output_names=["output"], **kwargs)


def export_dynamo(name: str, path: Path, symbolic: bool) -> dict[str, Any]:
    model = as_if_trained(build(name))
    x = example_input(name)
    info: dict[str, Any] = {}

    def run(**kwargs: Any) -> Any:
        with torch.no_grad(), NoMhaFastPath():
            return torch.onnx.export(model, (x,), dynamo=True, opset_version=DYNAMO_OPSET, input_names=["input"],
                                     output_names=["output"], verbose=False, **kwargs)

    if not symbolic:
        program = run()
    else:
        from torch.export import Dim  # noqa: PLC0415

        # Dim("H") alone (2 <= H) fails for googlenet and squeezenet1_0: torch.export proves their
        # ceil-mode max-pools need H, W >= 15 / 21 and rejects the range. With min=32 those two
        # still fail, inside torch.export's constraint pretty-printer (AssertionError "Expected op
        # to be '==', got < for (-2) + 2*(((1/2)*H) // 4) < (1/4)*H"); Dim.DYNAMIC lets torch.export
        # pick the range itself, and names the dims s<N>, which are renamed to H, W afterwards.
        try:
            program = run(dynamic_shapes=({2: Dim("H", min=SYMBOLIC_MIN), 3: Dim("W", min=SYMBOLIC_MIN)},))
            info["dynamic_shapes"] = f"({{2: Dim('H', min={SYMBOLIC_MIN}), 3: Dim('W', min={SYMBOLIC_MIN})}},)"
        except Exception as exc:  # noqa: BLE001
            info["named_dim_error"] = first_lines(exc.__cause__ or exc, 1)
            program = run(dynamic_shapes=({2: Dim.DYNAMIC, 3: Dim.DYNAMIC},))
            info["dynamic_shapes"] = "({2: Dim.DYNAMIC, 3: Dim.DYNAMIC},) after the named Dim failed"
    proto = program.model_proto
    if symbolic:
        dims = proto.graph.input[0].type.tensor_type.shape.dim
        rename = {dims[2].dim_param: "H", dims[3].dim_param: "W"}
        rename = {k: v for k, v in rename.items() if k and k != v}
        if rename:
            info["renamed_dims"] = rename
            pattern = re.compile(r"\b(" + "|".join(map(re.escape, rename)) + r")\b")
            for vi in [*proto.graph.input, *proto.graph.output, *proto.graph.value_info]:
                for d in vi.type.tensor_type.shape.dim:
                    if d.HasField("dim_param"):
                        d.dim_param = pattern.sub(lambda m: rename[m.group(1)], d.dim_param)
    keys = list(model.state_dict().keys())
    keyset = set(keys)

    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}

    def origin(init: onnx.TensorProto) -> str | None:
        if init.name in keyset or any(init.name.startswith(k + "_") for k in keys):
            return "state_dict"  # a parameter / buffer, or one fused with BatchNorm (`<key>_bias`)
        if init.data_type in floats and int(np.prod(list(init.dims), dtype=np.int64)) > 1:
            # the optimizer's constant folding: a transposed Linear weight for MatMul (val_N),
            # a gathered relative-position bias, a window mask, ...
            return "folded"
        return None  # shape constants and scalars stay initializers

    kept, moved = [], {}
    for init in proto.graph.initializer:
        o = origin(init)
        if o is None:
            kept.append(init)
        else:
            moved[init.name] = o
            proto.graph.input.append(onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(kept)
    dropped = collections.Counter()
    for holder in [proto, proto.graph, *proto.graph.node]:
        props = [p for p in holder.metadata_props if p.key not in DROPPED_METADATA]
        dropped.update(p.key for p in holder.metadata_props if p.key in DROPPED_METADATA)
        del holder.metadata_props[:]
        holder.metadata_props.extend(props)
    onnx.save(proto, str(path))
    return {**info, "weights_moved_to_inputs": dict(collections.Counter(moved.values())),
            "metadata_dropped": dict(dropped),
            "folded_constants_moved_to_inputs": sorted(k for k, v in moved.items() if v == "folded")}


DTYPES = {v: k for k, v in onnx.TensorProto.DataType.items()}


def vi_shape(vi: onnx.ValueInfoProto) -> dict[str, Any]:
    t = vi.type.tensor_type
    shape = None
    if t.HasField("shape"):
        shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None)
                 for d in t.shape.dim]
    return {"dtype": DTYPES.get(t.elem_type, str(t.elem_type)), "shape": shape}


def attr_json(a: onnx.AttributeProto) -> Any:
    v = onnx.helper.get_attribute_value(a)
    if isinstance(v, onnx.TensorProto):
        arr = onnx.numpy_helper.to_array(v)
        d: dict[str, Any] = {"tensor": {"dims": list(v.dims), "dtype": DTYPES.get(v.data_type)}}
        if arr.size <= 64:
            d["tensor"]["value"] = [x if math.isfinite(x) else repr(x) for x in arr.astype(float).ravel().tolist()] \
                if arr.dtype.kind == "f" else arr.ravel().tolist()
        return d
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, list):
        return [x.decode(errors="replace") if isinstance(x, bytes) else (x if not isinstance(x, float) or math.isfinite(x) else repr(x)) for x in v]
    if isinstance(v, onnx.GraphProto):
        return {"graph": v.name, "nodes": len(v.node)}
    return repr(v)


NP_TYPES = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.INT64: np.int64, onnx.TensorProto.DOUBLE: np.float64,
            onnx.TensorProto.INT32: np.int32, onnx.TensorProto.BOOL: np.bool_, onnx.TensorProto.FLOAT16: np.float16}


def run_ort(model: onnx.ModelProto, data_input: str, data_shape: tuple[int, ...]) -> dict[str, Any]:
    import onnxruntime as ort  # noqa: PLC0415

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(SEED)
    feeds = {}
    for i in sess.get_inputs():
        if i.name == data_input:
            feeds[i.name] = rng.standard_normal(data_shape).astype(np.float32)
            continue
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        kind = i.type
        if "int64" in kind:
            feeds[i.name] = np.zeros(shape, np.int64)
        else:  # random weights; positive so that BatchNormalization's variance stays valid
            feeds[i.name] = rng.uniform(0.5, 1.0, shape).astype(np.float32)
    outs = sess.run(None, feeds)
    return {o.name: list(v.shape) for o, v in zip(sess.get_outputs(), outs)}


def shapes_sidecar(path: Path, file_name: str, exporter: str, name: str, symbolic: bool, extra: dict[str, Any],
                   vers: dict[str, str]) -> dict[str, Any]:
    model = onnx.load(str(path))
    side: dict[str, Any] = {
        "file": file_name, "model": name, "exporter": exporter, "symbolic": symbolic,
        "opset": {o.domain or "ai.onnx": o.version for o in model.opset_import},
        "file_bytes": path.stat().st_size, "versions": vers, "generated": datetime.date.today().isoformat(),
        "generated_by": SCRIPT, **extra,
    }
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
        side["shape_inference"] = "strict_mode=True, data_prop=True"
    except Exception as exc:  # noqa: BLE001
        side["strict_shape_inference_error"] = first_lines(exc)
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
        side["shape_inference"] = "strict_mode=False, data_prop=True (strict failed)"
    g = inferred.graph
    values = {vi.name: vi_shape(vi) for vi in list(g.value_info) + list(g.output) + list(g.input)}
    inits = {i.name: i for i in g.initializer}
    data_input = g.input[0].name
    side["data_input"] = {"name": data_input, **vi_shape(g.input[0])}
    weights = [{"name": i.name, **vi_shape(i), "numel": int(np.prod(vi_shape(i)["shape"] or [], dtype=np.int64))}
               for i in g.input[1:] if i.name not in inits]
    side["weight_inputs"] = weights
    side["weight_inputs_numel"] = sum(w["numel"] for w in weights)
    side["initializers"] = [{"name": i.name, "dims": list(i.dims), "dtype": DTYPES.get(i.data_type),
                             "numel": int(np.prod(list(i.dims), dtype=np.int64))} for i in g.initializer]
    side["initializers_numel"] = sum(i["numel"] for i in side["initializers"])
    side["functions"] = [f.name for f in model.functions]
    side["outputs"] = [{"name": o.name, **vi_shape(o)} for o in g.output]
    nodes = []
    for i, n in enumerate(g.node):
        rec: dict[str, Any] = {"name": n.name or f"#{i}", "op_type": n.op_type}
        if n.domain:
            rec["domain"] = n.domain
        rec["inputs"] = list(n.input)
        rec["outputs"] = list(n.output)
        rec["attributes"] = {a.name: attr_json(a) for a in n.attribute}
        rec["output_shapes"] = {o: values.get(o) for o in n.output}
        md = {p.key: p.value for p in n.metadata_props if "name_scopes" in p.key or "class_hierarchy" in p.key}
        if md:
            rec["metadata"] = md
        nodes.append(rec)
    side["op_type_counts"] = dict(sorted(collections.Counter(n["op_type"] for n in nodes).items()))
    side["node_count"] = len(nodes)
    side["nodes"] = nodes
    try:
        shape = tuple(MODELS[name][1])
        side["ort_output_shapes"] = run_ort(model, data_input, shape)
        side["ort_input_shape"] = list(shape)
    except Exception as exc:  # noqa: BLE001
        side["ort_error"] = first_lines(exc)
    return side


def phase_onnx(names: list[str], exporter: str, symbolic: bool, vers: dict[str, str], skip: bool) -> dict[str, str]:
    status = {}
    for name in names:
        stem = f"{name}_symbolic" if symbolic else name
        path = ONNX_DIR / f"{stem}.{exporter}.onnx"
        side_path = Path(str(path) + ".shapes.json")
        if skip and path.exists() and side_path.exists():
            status[stem] = "ok (kept)"
            continue
        t = time.time()
        ONNX_DIR.mkdir(parents=True, exist_ok=True)
        # The exporters write to a scratch file beside the target (a name no fixture has), which
        # replaces the target only once the export and its sidecar succeeded. The scratch file,
        # written by this run, is the only file this script ever removes.
        scratch = path.with_name(path.name + ".partial")
        try:
            extra = {}
            if exporter == "ts":
                export_ts(name, scratch, symbolic)
                extra["export_call"] = (f"torch.onnx.export(m, (x,), f, dynamo=False, export_params=False, opset_version={TS_OPSET}, "
                                        "input_names=['input'], output_names=['output']"
                                        + (", dynamic_axes={'input': {2: 'H', 3: 'W'}})" if symbolic else ")"))
            else:
                extra = export_dynamo(name, scratch, symbolic)
                extra["export_call"] = (f"torch.onnx.export(m, (x,), dynamo=True, opset_version={DYNAMO_OPSET}, "
                                        "input_names=['input'], output_names=['output']"
                                        + (", dynamic_shapes=<see dynamic_shapes>)" if symbolic else ")")
                                        + "; weight initializers moved to graph inputs")
            side = shapes_sidecar(scratch, path.name, exporter, name, symbolic, extra, vers)
            scratch.replace(path)
            write_json(side_path, side)
            status[stem] = "ok" + (" (ort: " + side["ort_error"][:80] + ")" if "ort_error" in side else "") + \
                (" (strict shape inference failed)" if "strict_shape_inference_error" in side else "")
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            status[stem] = "error: " + first_lines(exc)
            if scratch.exists():
                scratch.unlink()
            if path.exists() and succeeded(side_path):  # an export that succeeded before is kept
                status[stem] += " (the earlier export is kept)"
            else:
                write_json(side_path, {"file": path.name, "model": name, "exporter": exporter, "symbolic": symbolic,
                                       "versions": vers, "error": first_lines(exc)})
        size = path.stat().st_size if path.exists() else 0
        print(f"[{exporter}{' symbolic' if symbolic else ''}] {stem}: {status[stem][:160]} ({time.time() - t:.1f}s, {size} B)", flush=True)
        gc.collect()
    return status


# ----------------------------------------------------------------------------------------------
# catalogue


def file_model(fname: str) -> str:
    """The model an ONNX file name belongs to: ``resnet50_symbolic.ts.onnx`` -> ``resnet50``."""
    stem = fname.split(".", 1)[0]
    return stem.removesuffix("_symbolic")


def merged(old: dict[str, Any], new: dict[str, Any], model_of: Any, names: set[str]) -> dict[str, Any]:
    """Merge a per-model (or per-file) table: the entries of this run's models come from their
    files as they are now; every other entry is kept exactly as the earlier table had it, and only
    added from the files when the earlier table lacked it."""
    out = {k: v for k, v in old.items() if model_of(k) not in names}
    out.update({k: v for k, v in new.items() if model_of(k) in names or k not in out})
    return dict(sorted(out.items()))


def read_table(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def phase_catalogue(names: list[str]) -> None:
    """Write ``_index.json`` and both ``_catalogue.json``. Their per-model and per-file tables are
    merged with the existing files (see ``merged``), so a ``--models`` run changes only the entries
    of those models; the totals over all models (class / op counts and how many models use each)
    are sums, so they are recounted from every fixture file in the folders."""
    run = set(names)
    old_index = read_table(TV_DIR / "_index.json")
    old_tv = read_table(TV_DIR / "_catalogue.json")
    old_onnx = read_table(ONNX_DIR / "_catalogue.json")
    leaf: collections.Counter = collections.Counter()
    leaf_models: dict[str, set[str]] = collections.defaultdict(set)
    funcs: collections.Counter = collections.Counter()
    meths: collections.Counter = collections.Counter()
    attrs: collections.Counter = collections.Counter()
    flop_ops: collections.Counter = collections.Counter()
    index: dict[str, Any] = {}
    for path in sorted(TV_DIR.glob("*.json")):
        if path.name.startswith("_"):
            continue
        fx = json.loads(path.read_text())
        name = fx["model"]
        if "error" in fx:
            index[name] = {"torch": "error: " + fx["error"]}
            continue
        index[name] = {"torch": "ok", "tracer": fx["tracer"], "nodes": fx["node_count"], "total_params": fx["total_params"],
                       "total_macs": fx["total_macs"], "params_in_graph": fx["params_in_graph"]}
        for n in fx["nodes"]:
            if n["op"] == "call_module":
                leaf[n["module_type"]] += 1
                leaf_models[n["module_type"]].add(name)
            elif n["op"] == "call_function":
                funcs[n["target"]] += 1
            elif n["op"] == "call_method":
                meths[n["target"]] += 1
            elif n["op"] == "get_attr":
                attrs[name] += 1
        flop_ops.update(fx["flops_by_op"].keys())
    index = merged(old_index.get("torch", {}), index, str, run)
    write_json(TV_DIR / "_catalogue.json", {
        "generated_by": SCRIPT,
        "call_module": {k: {"nodes": v, "models": len(leaf_models[k])} for k, v in sorted(leaf.items())},
        "call_function": dict(sorted(funcs.items())),
        "call_method": dict(sorted(meths.items())),
        "get_attr_nodes_by_model": merged(old_tv.get("get_attr_nodes_by_model", {}), dict(attrs), str, run),
        "flop_counted_ops": sorted(flop_ops),
    })
    per_exporter: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    per_exporter_models: dict[str, dict[str, set[str]]] = collections.defaultdict(lambda: collections.defaultdict(set))
    sizes = {}
    onnx_index: dict[str, Any] = {}
    for side_path in sorted(ONNX_DIR.glob("*.shapes.json")):
        side = json.loads(side_path.read_text())
        fname = side["file"]
        exporter = side["exporter"] + ("_symbolic" if side["symbolic"] else "")
        if "error" in side:
            onnx_index[fname] = "error: " + side["error"]
            continue
        onnx_index[fname] = "ok" + ("; ort_error: " + side["ort_error"] if "ort_error" in side else "") + \
            ("; strict shape inference failed" if "strict_shape_inference_error" in side else "")
        sizes[fname] = side["file_bytes"]
        for op, c in side["op_type_counts"].items():
            per_exporter[exporter][op] += c
            per_exporter_models[exporter][op].add(side["model"])
    sizes = merged(old_onnx.get("file_bytes", {}), sizes, file_model, run)
    onnx_index = merged(old_index.get("onnx", {}), onnx_index, file_model, run)
    write_json(ONNX_DIR / "_catalogue.json", {
        "generated_by": SCRIPT,
        "op_types": {e: {op: {"nodes": c, "models": len(per_exporter_models[e][op])} for op, c in sorted(cnt.items())}
                     for e, cnt in sorted(per_exporter.items())},
        "file_bytes": sizes,
        "total_onnx_bytes": sum(sizes.values()),
    })
    write_json(TV_DIR / "_index.json", {"generated_by": SCRIPT, "torch": index, "onnx": onnx_index})
    print(f"[catalogue] {len(index)} torch fixtures, {len(onnx_index)} onnx files, {sum(sizes.values())} ONNX bytes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phase", default="all", choices=["torch", "ts", "dynamo", "symbolic", "catalogue", "all"])
    ap.add_argument("--models", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--skip-existing", action="store_true", help="keep fixtures that already exist and succeeded")
    a = ap.parse_args()
    names = [n for n in a.models.split(",") if n] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"unknown models: {unknown}")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    vers = versions()
    if a.phase in ("torch", "all"):
        phase_torch(names, vers, a.skip_existing)
    if a.phase in ("ts", "all"):
        phase_onnx(names, "ts", False, vers, a.skip_existing)
    if a.phase in ("dynamo", "all"):
        skipped = [n for n in names if n in NO_DYNAMO]
        if skipped:
            print(f"[dynamo] not exported (NO_DYNAMO): {', '.join(skipped)}", flush=True)
        phase_onnx([n for n in names if n not in NO_DYNAMO], "dynamo", False, vers, a.skip_existing)
    if a.phase in ("symbolic", "all"):
        sym = [n for n in names if n in SYMBOLIC]
        phase_onnx(sym, "ts", True, vers, a.skip_existing)
        phase_onnx(sym, "dynamo", True, vers, a.skip_existing)
    phase_catalogue(names)


if __name__ == "__main__":
    main()
