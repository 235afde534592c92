"""Golden cases for ONNX ``Split`` (several outputs per node), from ONNX shape inference and
onnxruntime.

    pip install onnx onnxruntime numpy        # onnx 1.23.2, onnxruntime 1.32.0 here
    python tests/golden/generators/gen_onnx_split.py   # -> tests/golden/multi_output/onnx_split.json

Each case is a one-node model in convcalc's ONNX vocabulary (``split`` as an attribute-like
argument; in the ONNX graph it is the second input, an int64 initializer, since opset 13). The
stored shapes are shape inference's, and onnxruntime's outputs on zeros must agree with them.
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

OUT = Path(__file__).resolve().parent.parent / "multi_output" / "onnx_split.json"
CASES = [
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


def main() -> None:
    payload = {"framework": "onnx", "generated_by": "tests/golden/generators/gen_onnx_split.py",
               "versions": {"python": platform.python_version(), "onnx": onnx.__version__,
                            "onnxruntime": ort.__version__},
               "generated": time.strftime("%Y-%m-%d"), "cases": [run(s, a) for s, a in CASES]}
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {OUT} ({len(payload['cases'])} cases)")


if __name__ == "__main__":
    main()
