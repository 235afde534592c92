"""Golden cases for the ONNX ops the importer added (``Split`` with several outputs, reductions,
``Squeeze``/``Unsqueeze``, ``Slice``, ``Gather``, ``MatMul`` and elementwise ops with a weight or
constant operand, ``LayerNormalization``, activations), from ONNX shape inference and onnxruntime.

    pip install onnx onnxruntime numpy        # onnx 1.23.2, onnxruntime 1.32.0 here
    python tests/golden/generators/gen_onnx_more.py   # -> tests/golden/multi_output/onnx_more.json

Each case is a one-node model in convcalc's ONNX vocabulary: the arguments that ONNX passes as
constant inputs since opset 13/18 (``split``, ``axes``, ``starts``/``ends``, ...) are written as
arguments, and a weight operand by its shape (``weight_shape``, ``out_features``,
``indices_shape``), as the importer writes them. The stored output shapes are shape
inference's; onnxruntime's outputs on zeros must agree with them.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

OUT = Path(__file__).resolve().parent.parent / "multi_output" / "onnx_more.json"
SPLIT_CASES = [
    ([1, 10, 4], {"axis": 1, "num_outputs": 3}),
    ([1, 10, 4], {"axis": 1, "num_outputs": 2}),
    ([1, 7, 4], {"axis": 1, "num_outputs": 7}),
    ([2, 6, 5], {"axis": -1, "num_outputs": 2}),
    ([1, 10, 4], {"axis": 1, "split": [3, 7]}),
    ([1, 10, 4], {"axis": 2, "split": [1, 3]}),
    ([1, 4, 6, 6], {"axis": 1, "split": [1, 1, 2]}),
    ([1, 10, 4], {"axis": 1, "split": [3, 3]}),  # does not add up: rejected
]


def run(shape: list[int], args: dict) -> dict:
    if "op" in args:
        return run_op(shape, dict(args))
    n = args.get("num_outputs") or len(args["split"])
    outs = [f"y{i}" for i in range(n)]
    inputs, inits = ["x"], []
    attrs = {"axis": args["axis"]}
    if "split" in args:
        inits.append(helper.make_tensor("split", TensorProto.INT64, [len(args["split"])], args["split"]))
        inputs.append("split")
    else:
        attrs["num_outputs"] = n
    node = helper.make_node("Split", inputs, outs, name="s", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in inferred.graph.output}
        got = [shapes[o] for o in outs]
        ran = ort.InferenceSession(model.SerializeToString()).run(None, {"x": np.zeros(shape, np.float32)})
        assert [list(r.shape) for r in ran] == got, (ran, got)
        expected = {"output_shapes": got}
    except Exception as e:  # noqa: BLE001 - the framework's refusal is the expected answer
        expected = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"}
    layer = {"op": "Split", "name": "s", **args}
    return {"model": {"framework": "onnx", "input": shape, "layers": [layer]}, "expected": expected}


# (input shape, {op, convcalc args..., "onnx": (inputs as ("const"|"weight", value/shape), attrs)})
OP_CASES = [
    ([1, 8, 5, 5], {"op": "ReduceMean", "axes": [2, 3], "keepdims": 1}),
    ([1, 8, 5, 5], {"op": "ReduceMean", "axes": [-1, -2], "keepdims": 0}),
    ([1, 8, 5, 5], {"op": "ReduceSum", "axes": [1], "keepdims": 1}),
    ([1, 8, 5, 5], {"op": "ReduceMax", "axes": [2], "keepdims": 0}),
    ([1, 8, 5, 5], {"op": "ReduceMin", "keepdims": 1}),
    ([1, 8, 1, 1], {"op": "Squeeze", "axes": [2, 3]}),
    ([1, 8, 1, 1], {"op": "Squeeze"}),
    ([1, 8], {"op": "Unsqueeze", "axes": [2, 3]}),
    ([1, 8], {"op": "Unsqueeze", "axes": [0]}),
    ([1, 8, 10, 10], {"op": "Slice", "starts": [2], "ends": [9223372036854775807], "axes": [1]}),
    ([1, 8, 10, 10], {"op": "Slice", "starts": [1, 0], "ends": [-1, 10], "axes": [2, 3], "steps": [2, 3]}),
    ([1, 8, 10, 10], {"op": "Slice", "starts": [-3], "ends": [100], "axes": [3]}),
    ([1, 768, 4], {"op": "Gather", "axis": 2, "indices_shape": [2, 3]}),
    ([768], {"op": "Gather", "axis": 0, "indices_shape": [1, 768, 1, 1]}),
    ([1, 7, 7, 96], {"op": "MatMul", "out_features": 384}),
    ([1, 96, 7, 7], {"op": "Mul", "weight_shape": [96, 1, 1]}),
    ([1, 7, 7, 384], {"op": "Add", "weight_shape": [384]}),
    ([1, 7, 7, 384], {"op": "Div", "constant_shape": []}),
    ([1, 7, 7, 384], {"op": "Sub", "constant_shape": [1, 1, 384]}),
    ([1, 7, 7, 96], {"op": "LayerNormalization", "axis": -1, "epsilon": 1e-6}),
    ([1, 7, 7, 96], {"op": "LayerNormalization", "axis": 2, "bias": False}),
    ([1, 16, 5, 5], {"op": "HardSigmoid", "alpha": 0.16666666, "beta": 0.5}),
    ([1, 16, 5, 5], {"op": "HardSwish"}),
    ([1, 16, 5, 5], {"op": "Clip", "min": 0.0, "max": 6.0}),
    ([1, 16, 5, 5], {"op": "Erf"}),
    ([1, 16, 5, 5], {"op": "Sqrt"}),
    ([1, 16, 5, 5], {"op": "Gelu"}),
    ([1, 8, 5, 5], {"op": "ReduceMean", "axes": [4], "keepdims": 1}),  # out of range: rejected
    ([1, 8, 2, 1], {"op": "Squeeze", "axes": [2]}),  # not of size 1: rejected
]
OPSETS = {"Gelu": 20}


def run_op(shape: list[int], args: dict) -> dict:
    """One node whose extra inputs (axes, starts, weights, ...) are initializers, as the exporters write them."""
    op = args["op"]
    inits, inputs, attrs = [], ["x"], {}

    def const(name: str, values: list, dtype=TensorProto.INT64) -> None:
        inits.append(helper.make_tensor(name, dtype, [len(values)], values))
        inputs.append(name)

    def tensor(name: str, shape_: list[int]) -> None:
        inits.append(helper.make_tensor(name, TensorProto.FLOAT, shape_, np.full(shape_, 0.5, np.float32).ravel()))
        inputs.append(name)

    if op.startswith("Reduce"):
        if "axes" in args:
            const("axes", args["axes"])
        attrs["keepdims"] = args.get("keepdims", 1)
    elif op in ("Squeeze", "Unsqueeze"):
        if "axes" in args:
            const("axes", args["axes"])
    elif op == "Slice":
        for key in ("starts", "ends", "axes", "steps"):
            if key in args:
                const(key, args[key])
            elif key in ("axes", "steps"):
                inputs.append("")
    elif op == "Gather":
        attrs["axis"] = args["axis"]
        n = int(np.prod(args["indices_shape"]))
        inits.append(helper.make_tensor("idx", TensorProto.INT64, args["indices_shape"], [0] * n))
        inputs.append("idx")
    elif op == "MatMul":
        tensor("w", [shape[-1], args["out_features"]])
    elif op in ("Add", "Sub", "Mul", "Div"):
        tensor("w", args.get("weight_shape", args.get("constant_shape")))
    elif op == "LayerNormalization":
        axis = args.get("axis", -1)
        norm_shape = shape[axis:]
        tensor("scale", norm_shape)
        if args.get("bias", True):
            tensor("bias", norm_shape)
        attrs["axis"] = axis
        if "epsilon" in args:
            attrs["epsilon"] = args["epsilon"]
    elif op == "HardSigmoid":
        attrs = {"alpha": args["alpha"], "beta": args["beta"]}
    elif op == "Clip":
        for key in ("min", "max"):
            inits.append(helper.make_tensor(key, TensorProto.FLOAT, [], [args[key]]))
            inputs.append(key)
    node = helper.make_node(op, inputs, ["y"], name="n", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSETS.get(op, 18))])
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        got = [[d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]]
        ran = ort.InferenceSession(model.SerializeToString()).run(None, {"x": np.zeros(shape, np.float32)})
        assert [list(r.shape) for r in ran] == got, (ran, got)
        expected = {"output_shapes": got}
    except Exception as e:  # noqa: BLE001 - the framework's refusal is the expected answer
        expected = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"}
    layer = {"name": "n", **args}
    return {"model": {"framework": "onnx", "input": shape, "layers": [layer]}, "expected": expected}


def main() -> None:
    payload = {"framework": "onnx", "generated_by": "tests/golden/generators/gen_onnx_split.py",
               "versions": {"python": platform.python_version(), "onnx": onnx.__version__,
                            "onnxruntime": ort.__version__},
               "generated": time.strftime("%Y-%m-%d"), "cases": [run(s, a) for s, a in SPLIT_CASES + OP_CASES]}
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {OUT} ({len(payload['cases'])} cases)")


if __name__ == "__main__":
    main()
