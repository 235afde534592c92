"""Golden fixtures from ONNX shape inference (opset 22), and onnxruntime for ConvTranspose.

    pip install onnx==1.23.2 onnxruntime==1.32.0
    python tests/golden/generators/gen_onnx.py            # writes tests/golden/onnx.json
    python tests/golden/generators/gen_onnx.py --values   # writes tests/golden/values/onnx.json

Each case is a model file in ONNX vocabulary. It is turned into a real ONNX graph: the weights
the case describes (``out_channels``, ``bias``, ``out_features``) become initializers of the
shapes the operator spec requires, and ``shape``/``pads``/``scales``/``sizes`` become constant
initializer inputs. ``onnx.checker.check_model(full_check=True)`` and
``onnx.shape_inference.infer_shapes(strict_mode=True)`` give the output shape of every node, or
the error. Parameters are the elements of the weight initializers.

ONNX's tools disagree on ``ConvTranspose`` (``auto_pad=SAME_*`` with ``output_padding``, an
``output_padding`` of at least the stride, an ``output_shape`` past the full output), and convcalc
follows the runtime that executes the model. So every graph with a ``ConvTranspose`` that shape
inference accepts is also run by onnxruntime on zeros: its error, or its output shapes, are the
fixture; where they differ from shape inference's, the case keeps those under
``shape_inference`` for the record.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from common import first_line, run_cases, write_fixture
from onnx import TensorProto, helper, numpy_helper

ort.set_default_logger_severity(4)  # its failures are the fixture; keep them off the terminal
SEED = 20261128
OPSET = 22
# Keys of a case that are not attributes of the ONNX node: convcalc's weight descriptions, and
# the operands ONNX takes as inputs (Reshape shape; Pad pads/constant_value/axes; Resize scales/sizes).
CONTROL = {"op", "name", "inputs", "out_channels", "out_features", "bias"}
AS_INPUTS = {"Reshape": {"shape"}, "Pad": {"pads", "constant_value", "axes"}, "Resize": {"scales", "sizes"}}


def _init(name: str, array: np.ndarray, inits: list) -> str:
    inits.append(numpy_helper.from_array(array, name))
    return name


def build_node(i: int, spec: dict[str, Any], srcs: list[str], shapes: dict[str, list[int]], inits: list,
               weights: list[str]) -> onnx.NodeProto:
    op = spec["op"]
    out = spec.get("name", f"l{i}")
    attrs = {k: v for k, v in spec.items() if k not in CONTROL and k not in AS_INPUTS.get(op, ())}
    x = shapes[srcs[0]]
    inputs = list(srcs)
    if op in ("Conv", "ConvTranspose"):
        g = spec.get("group", 1)
        c, m = x[1], spec["out_channels"]
        k = spec["kernel_shape"]
        w_shape = [m, c // g, *k] if op == "Conv" else [c, m // g, *k]
        inputs.append(_init(f"{out}.W", np.zeros(w_shape, np.float32), inits))
        weights.append(f"{out}.W")
        if spec.get("bias", True):
            inputs.append(_init(f"{out}.B", np.zeros([m], np.float32), inits))
            weights.append(f"{out}.B")
    elif op == "BatchNormalization":
        for part in ("scale", "B", "mean", "var"):
            inputs.append(_init(f"{out}.{part}", np.ones([x[1]], np.float32), inits))
            weights.append(f"{out}.{part}")
    elif op == "Gemm":
        kdim = x[0] if spec.get("transA", 0) else x[1]
        n = spec["out_features"]
        b_shape = [n, kdim] if spec.get("transB", 0) else [kdim, n]
        inputs.append(_init(f"{out}.B", np.zeros(b_shape, np.float32), inits))
        weights.append(f"{out}.B")
        if spec.get("bias", True):
            inputs.append(_init(f"{out}.C", np.zeros([n], np.float32), inits))
            weights.append(f"{out}.C")
    elif op == "Reshape":
        inputs.append(_init(f"{out}.shape", np.array(spec["shape"], np.int64), inits))
    elif op == "Pad":
        inputs.append(_init(f"{out}.pads", np.array(spec["pads"], np.int64), inits))
        inputs.append(_init(f"{out}.value", np.array(spec.get("constant_value", 0.0), np.float32), inits))
        if spec.get("axes") is not None:
            inputs.append(_init(f"{out}.axes", np.array(spec["axes"], np.int64), inits))
    elif op == "Resize":
        inputs.append("")  # roi
        if spec.get("scales") is not None:
            inputs.append(_init(f"{out}.scales", np.array(spec["scales"], np.float32), inits))
        else:
            inputs.append("")
            inputs.append(_init(f"{out}.sizes", np.array(spec["sizes"], np.int64), inits))
    return helper.make_node(op, inputs, [out], name=out, **attrs)


def execute(model: dict[str, Any]) -> dict[str, Any]:
    shapes = dict(model["inputs"]) if "inputs" in model else {"input": model["input"]}
    graph_inputs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in shapes.items()]
    prev = next(iter(shapes))
    nodes, inits, names = [], [], []
    per_layer_weights: list[list[str]] = []
    try:
        for i, spec in enumerate(model["layers"]):
            srcs = spec.get("inputs", prev)
            srcs = [srcs] if isinstance(srcs, str) else srcs
            weights: list[str] = []
            node = build_node(i, spec, srcs, shapes, inits, weights)
            nodes.append(node)
            names.append(node.output[0])
            per_layer_weights.append(weights)
            prev = node.output[0]
            # Infer as we go so that the next node's weights can use this output's shape.
            graph = helper.make_graph(nodes, "case", graph_inputs,
                                      [helper.make_tensor_value_info(prev, TensorProto.FLOAT, None)], inits)
            m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
            m.ir_version = 10
            inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
            known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
            t = known[prev].type.tensor_type
            if not t.HasField("shape") or any(not d.HasField("dim_value") for d in t.shape.dim):
                raise RuntimeError(f"shape inference left the output shape of {prev} unknown")
            shapes[prev] = [d.dim_value for d in t.shape.dim]
        final = helper.make_graph(nodes, "case", graph_inputs,
                                  [helper.make_tensor_value_info(prev, TensorProto.FLOAT, shapes[prev])], inits)
        checked = helper.make_model(final, opset_imports=[helper.make_opsetid("", OPSET)])
        checked.ir_version = 10
        onnx.checker.check_model(checked, full_check=True)
    except Exception as e:  # noqa: BLE001 - the error text is the fixture
        return {"error": first_line(e), "layers_before_error": len(per_layer_weights) - 1}
    inferred_shapes = [shapes[n] for n in names]
    if any(n.op_type == "ConvTranspose" for n in nodes):
        ran = run_on_onnxruntime(nodes, graph_inputs, inits, names)
        if isinstance(ran, str):
            return {"error": ran, "shape_inference": inferred_shapes}
        if ran != inferred_shapes:
            shapes.update(zip(names, ran))
    sizes = {init.name: int(np.prod(init.dims)) if len(init.dims) else 1 for init in inits}
    result: dict[str, Any] = {"layers": [{"output_shape": shapes[n], "params": sum(sizes[w] for w in ws)}
                                         for n, ws in zip(names, per_layer_weights)]}
    if [shapes[n] for n in names] != inferred_shapes:
        result["shape_inference"] = inferred_shapes
    return result


def run_on_onnxruntime(nodes: list, graph_inputs: list, inits: list, names: list[str]) -> list[list[int]] | str:
    """The output shape of every node as onnxruntime computes it on zeros, or its error's first line."""
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names]
    graph = helper.make_graph(nodes, "case", graph_inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 10
    feed = {v.name: np.zeros([d.dim_value for d in v.type.tensor_type.shape.dim], np.float32) for v in graph_inputs}
    try:
        ran = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)
    except Exception as e:  # noqa: BLE001 - the error text is the fixture
        return "onnxruntime: " + first_line(e).split("Status Message: ")[-1]
    return [list(y.shape) for y in ran]


def one(op: str, in_shape: list[int], **args: Any) -> dict[str, Any]:
    return {"framework": "onnx", "input": in_shape, "layers": [{"op": op, **args}]}


def size(rng: random.Random, r: int) -> list[int]:
    return [rng.randint(1, {1: 24, 2: 14, 3: 8}[r]) for _ in range(r)]


def conv(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 2, 3])
    g = rng.choice([1, 1, 2])
    c, m = g * rng.randint(1, 3), g * rng.randint(1, 3)
    args: dict[str, Any] = {"out_channels": m, "kernel_shape": [rng.randint(1, 5) for _ in range(r)],
                            "group": g, "bias": rng.random() < 0.6}
    if rng.random() < 0.7:
        args["strides"] = [rng.randint(1, 3) for _ in range(r)]
    if rng.random() < 0.4:
        args["dilations"] = [rng.randint(1, 3) for _ in range(r)]
    mode = rng.random()
    if mode < 0.4:
        args["auto_pad"] = rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID"])
    if mode > 0.3:
        args["pads"] = [rng.randint(0, 3) for _ in range(2 * r)]
    return one("Conv", [rng.randint(1, 2), c] + size(rng, r), **args)


def conv_transpose(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 2, 3])
    c, m = rng.randint(1, 3), rng.randint(1, 3)
    args: dict[str, Any] = {"out_channels": m, "kernel_shape": [rng.randint(1, 5) for _ in range(r)],
                            "bias": rng.random() < 0.6, "strides": [rng.randint(1, 3) for _ in range(r)]}
    shape = [1, c] + size(rng, r)
    if rng.random() < 0.3:
        args["dilations"] = [rng.randint(1, 2) for _ in range(r)]
    mode = rng.random()
    if mode < 0.3:
        args["auto_pad"] = rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID"])
    elif mode < 0.5:
        args["output_shape"] = [max(1, shape[2 + i] * args["strides"][i] + rng.randint(-2, 1)) for i in range(r)]
    if mode > 0.2 and mode < 0.9 and rng.random() < 0.7:
        args["pads"] = [rng.randint(0, 2) for _ in range(2 * r)]
    if rng.random() < 0.3:
        args["output_padding"] = [rng.randint(0, 1) for _ in range(r)]
    return one("ConvTranspose", shape, **args)


def pool(rng: random.Random) -> dict[str, Any]:
    r = rng.choice([1, 2, 3])
    op = rng.choice(["MaxPool", "AveragePool"])
    args: dict[str, Any] = {"kernel_shape": [rng.randint(1, 4) for _ in range(r)], "ceil_mode": rng.randint(0, 1)}
    if rng.random() < 0.6:
        args["strides"] = [rng.randint(1, 3) for _ in range(r)]
    if rng.random() < 0.3:
        args["dilations"] = [rng.randint(1, 2) for _ in range(r)]
    mode = rng.random()
    if mode < 0.3:
        args["auto_pad"] = rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID"])
    elif mode < 0.7:
        args["pads"] = [rng.randint(0, 2) for _ in range(2 * r)]
    if op == "AveragePool" and rng.random() < 0.5:
        args["count_include_pad"] = 1
    return one(op, [1, rng.randint(1, 3)] + size(rng, r), **args)


def misc(rng: random.Random) -> dict[str, Any]:
    k = rng.randint(0, 8)
    x = [2, 3, 4, 5]
    if k == 0:
        return one(rng.choice(["GlobalAveragePool", "GlobalMaxPool"]), [2, 3] + size(rng, rng.randint(1, 3)))
    if k == 1:
        return one("Flatten", x, axis=rng.randint(-4, 4))
    if k == 2:
        return one("Reshape", x, shape=rng.choice([[0, -1], [6, 20], [2, 0, 0, 5], [-1, 5], [7, -1], [0, 0, -1]]))
    if k == 3:
        perm = list(range(4))
        rng.shuffle(perm)
        return one("Transpose", x, perm=perm)
    if k == 4:
        mode = rng.choice(["constant", "reflect", "edge", "wrap"])
        return one("Pad", x, pads=[rng.randint(0, 2) for _ in range(8)], mode=mode)
    if k == 5:
        if rng.random() < 0.5:
            return one("Resize", [1, 2, 5, 7], scales=[1.0, 1.0, rng.choice([0.5, 1.5, 2.0, 3.0]), rng.choice([0.5, 2.0])],
                       mode=rng.choice(["nearest", "linear"]))
        return one("Resize", [1, 2, 5, 7], sizes=[1, 2, rng.randint(1, 12), rng.randint(1, 12)])
    if k == 6:
        return one("Gemm", [3, rng.randint(1, 6)], out_features=rng.randint(1, 5), transA=rng.randint(0, 1),
                   transB=rng.randint(0, 1), bias=rng.random() < 0.5)
    if k == 7:
        a, b = [2, 3, 4], rng.choice([[2, 3, 4], [3, 1], [4], [2, 1, 4], [2, 2, 4]])
        return {"framework": "onnx", "inputs": {"a": a, "b": b},
                "layers": [{"op": rng.choice(["Add", "Mul", "Sub", "Div"]), "inputs": ["a", "b"]}]}
    a, b = [2, 3, 4], [2, rng.randint(1, 3), rng.choice([4, 4, 5])]
    return {"framework": "onnx", "inputs": {"a": a, "b": b},
            "layers": [{"op": "Concat", "inputs": ["a", "b"], "axis": rng.choice([1, -2, 2])}]}


CATALOGUE = [
    one("Conv", [1, 3, 10, 11], out_channels=4, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER", bias=False),
    one("Conv", [1, 3, 10, 11], out_channels=4, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER", bias=False),
    one("Conv", [1, 3, 10, 11], out_channels=4, kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID", bias=False),
    one("Conv", [1, 3, 10, 11], out_channels=4, kernel_shape=[3, 3], strides=[2, 2]),
    one("Conv", [1, 3, 224, 224], out_channels=8, kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
    one("Conv", [1, 2, 12], out_channels=2, kernel_shape=[2], strides=[5], auto_pad="SAME_UPPER", bias=False),
    one("Conv", [1, 3, 10, 11], out_channels=4, kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 0, 0], auto_pad="SAME_UPPER"),
    one("Conv", [1, 4, 8, 8], out_channels=6, kernel_shape=[3, 3], group=2, dilations=[2, 2]),
    one("Conv", [1, 4, 2, 2], out_channels=6, kernel_shape=[3, 3]),
    one("ConvTranspose", [1, 2, 7, 7], out_channels=2, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    one("ConvTranspose", [1, 2, 7, 7], out_channels=2, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
    one("ConvTranspose", [1, 2, 7, 7], out_channels=2, kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
    one("ConvTranspose", [1, 2, 7, 7], out_channels=2, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
    one("ConvTranspose", [1, 2, 7, 7], out_channels=2, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER"),
    one("ConvTranspose", [1, 2, 7, 7], out_channels=2, kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID"),
    one("ConvTranspose", [1, 2, 7, 7], out_channels=2, kernel_shape=[3, 3], strides=[2, 2], output_shape=[13, 14]),
    one("ConvTranspose", [1, 2, 5], out_channels=2, kernel_shape=[2], strides=[3], auto_pad="SAME_UPPER"),
    one("ConvTranspose", [1, 2, 5], out_channels=2, kernel_shape=[2], strides=[3], auto_pad="SAME_UPPER", pads=[0, 0]),
    one("ConvTranspose", [1, 4, 5, 5], out_channels=4, kernel_shape=[2, 2], strides=[2, 2], group=2),
    one("MaxPool", [1, 1, 8, 8], kernel_shape=[2, 2]),
    one("MaxPool", [1, 1, 7, 7], kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_LOWER"),
    one("MaxPool", [1, 1, 5], kernel_shape=[2], strides=[2], pads=[1, 1], ceil_mode=1),
    one("AveragePool", [1, 1, 10, 10], kernel_shape=[3, 3], strides=[3, 3], pads=[1, 1, 1, 1], ceil_mode=1),
    one("AveragePool", [1, 1, 10, 10], kernel_shape=[3, 3], dilations=[2, 2]),
    one("GlobalAveragePool", [2, 3, 5, 6]),
    one("GlobalMaxPool", [2, 3, 5]),
    one("BatchNormalization", [2, 8, 4, 4]),
    one("Relu", [2, 3]), one("Sigmoid", [2, 3]), one("Tanh", [2, 3]), one("LeakyRelu", [2, 3], alpha=0.2),
    one("Softmax", [2, 3], axis=1), one("Identity", [2, 3]), one("Dropout", [2, 3]),
    one("Flatten", [2, 3, 4, 5]), one("Flatten", [2, 3, 4, 5], axis=0), one("Flatten", [2, 3, 4, 5], axis=-1),
    one("Reshape", [2, 3, 4], shape=[0, -1]), one("Transpose", [2, 3, 4]), one("Transpose", [2, 3, 4], perm=[0, 2, 1]),
    one("Pad", [1, 2, 3, 4], pads=[0, 0, 1, 2, 0, 0, 3, 4]), one("Pad", [1, 2, 3, 4], pads=[0, 0, -1, 0, 0, 0, 0, -2]),
    one("Pad", [1, 2, 3, 4], pads=[1, 2, 3, 4], axes=[2, 3], mode="reflect"),
    one("Resize", [1, 2, 5, 7], scales=[1.0, 1.0, 1.5, 2.0]), one("Resize", [1, 2, 5, 7], sizes=[1, 2, 9, 4]),
    one("Gemm", [3, 2048], out_features=1000), one("Gemm", [5, 3], out_features=4, transA=1, transB=1, bias=False),
    {"framework": "onnx", "inputs": {"a": [2, 3, 4], "b": [2, 5, 4]},
     "layers": [{"op": "Concat", "inputs": ["a", "b"], "axis": 1}]},
    {"framework": "onnx", "inputs": {"a": [2, 3, 4], "b": [3, 1]},
     "layers": [{"op": "Add", "inputs": ["a", "b"]}]},
    {"framework": "onnx", "inputs": {"a": [2, 3, 4], "b": [4]},
     "layers": [{"op": "Mul", "inputs": ["a", "b"]}]},
    {"framework": "onnx", "input": [1, 3, 32, 32], "layers": [
        {"op": "Conv", "name": "c1", "out_channels": 8, "kernel_shape": [3, 3], "pads": [1, 1, 1, 1]},
        {"op": "BatchNormalization", "name": "bn"}, {"op": "Relu", "name": "r"},
        {"op": "MaxPool", "name": "p", "kernel_shape": [2, 2], "strides": [2, 2]},
        {"op": "GlobalAveragePool", "name": "gap"}, {"op": "Flatten", "name": "f"},
        {"op": "Gemm", "name": "fc", "out_features": 10}]},
]


# The issue-10 decoder: ConvTranspose 50 -> 100 over the arguments where ONNX's tools disagree
# (SAME_* with output_padding; output_padding >= stride; output_shape at and past the full output).
CATALOGUE += [
    one("ConvTranspose", [1, 1, 50], out_channels=1, kernel_shape=[k], strides=[2], dilations=[d],
        output_padding=[a], **mode)
    for k in (1, 2, 3, 4) for d in (1, 2) for a in (0, 1, 2)
    for mode in ({"auto_pad": "SAME_UPPER"}, {"auto_pad": "SAME_LOWER"}, {"auto_pad": "VALID"}, {},
                 {"output_shape": [100]}, {"output_shape": [101]})
]
CATALOGUE += [
    one("ConvTranspose", [1, 2, 5, 6], out_channels=2, kernel_shape=[3, 2], strides=[1, 3], dilations=[2, 1],
        output_padding=[1, 2]),
    one("ConvTranspose", [1, 2, 5, 6], out_channels=2, kernel_shape=[3, 2], strides=[2, 3], output_padding=[1, 2],
        auto_pad="SAME_LOWER"),
    one("ConvTranspose", [1, 2, 7, 7], out_channels=2, kernel_shape=[3, 3], strides=[2, 2], output_shape=[16, 15]),
]


# --------------------------------------------------------------------------- values
# Where the crops go decides the VALUES, not only the shape: these ConvTranspose cases are run by
# onnxruntime on recorded random inputs and weights (``--values``), and the reference executor
# must reproduce its outputs (tests/test_reference_onnx_values.py).
VALUE_CASES = [
    one("ConvTranspose", [1, 2, 7], out_channels=2, kernel_shape=[k], strides=[s], dilations=[d], output_padding=[a],
        **mode)
    for k in (1, 2, 3, 4) for s in (2, 3) for d in (1, 2) for a in range(s)
    for mode in ({"auto_pad": "SAME_UPPER"}, {"auto_pad": "SAME_LOWER"}, {"pads": [1, 2]},
                 {"output_shape": [7 * s - 1]}, {"auto_pad": "SAME_UPPER", "output_shape": [7 * s + 1]})
] + [
    one("ConvTranspose", [1, 4, 5, 6], out_channels=2, kernel_shape=[3, 2], strides=[2, 3], output_padding=[1, 2],
        auto_pad="SAME_LOWER", group=2),
    one("ConvTranspose", [1, 2, 5, 6], out_channels=3, kernel_shape=[3, 3], strides=[2, 2], output_shape=[12, 11]),
]


def execute_values(model: dict[str, Any], seed: int) -> dict[str, Any] | None:
    """onnxruntime's output on a random input with random weights, or None if it refuses the node."""
    rng = np.random.default_rng(seed)
    spec, x_shape = model["layers"][0], model["input"]
    g, m = spec.get("group", 1), spec["out_channels"]
    # Four decimals, so that the JSON numbers read back as exactly the float32 values that ran.
    x, w, b = (rng.standard_normal(shape).round(4).astype(np.float32)
               for shape in (x_shape, [x_shape[1], m // g, *spec["kernel_shape"]], [m]))
    attrs = {k: v for k, v in spec.items() if k not in CONTROL}
    node = helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], **attrs)
    graph = helper.make_graph([node], "values", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = 10
    try:
        (y,) = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    except Exception:  # noqa: BLE001 - refused cases are in onnx.json; values need a result
        return None
    def short(a: np.ndarray, decimals: int) -> list:
        return a.astype(np.float64).round(decimals).tolist()

    return {"input": short(x, 4), "weights": [short(w, 4), short(b, 4)], "output": short(y, 6)}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", action="store_true", help="write values/onnx.json (onnxruntime outputs) instead")
    versions = {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "opset": str(OPSET)}
    if parser.parse_args().values:
        cases = []
        for i, model in enumerate(VALUE_CASES):
            expected = execute_values(model, SEED + i)
            if expected is not None:
                cases.append({"id": f"values-{i:03d}", "model": model, "expected": expected})
        write_fixture("values/onnx", versions, SEED, cases, "gen_onnx.py --values")
        return
    builders = [conv, conv, conv_transpose, conv_transpose, pool, pool, misc, misc]
    cases = run_cases(builders, 300, SEED, execute, CATALOGUE)
    write_fixture("onnx", versions, SEED, cases, "gen_onnx.py")


if __name__ == "__main__":
    main()
