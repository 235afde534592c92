"""The ONNX importer on real exports: torchvision's models through both torch exporters
(TorchScript-based and ``dynamo=True``), without weights (tests/importers/generators/
gen_torchvision.py wrote them, with onnx shape inference's shapes per node and onnxruntime's
output shapes beside each file).

Every node convcalc plans is compared with shape inference's output shapes; the parameters
with the elements of the weight tensors the exporter wrote; the MACs with FlopCounterMode's
count on the torch module itself (tests/importers/fixtures/torchvision/*.json). The exports fold
BatchNorm into the convolutions, so ONNX's parameter count is the folded one, but the MACs are
the module's exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx  # noqa: F401  (a test dependency: the test extra installs it, so these tests never skip)
import pytest

import convcalc
from convcalc.errors import ModelError

FIXTURES = Path(__file__).parent / "importers" / "fixtures"
ONNX_DIR = FIXTURES / "onnx"
PARTIAL = ("swin_t",)  # vit_b_16 plans whole: its attention is MatMul, Softmax, Reshape, Transpose
FILES = sorted(p for p in ONNX_DIR.glob("*.onnx") if "symbolic" not in p.name and not p.name.startswith(PARTIAL))


def _expected(path: Path) -> dict:
    return json.loads(Path(str(path) + ".shapes.json").read_text())


def _model_name(path: Path) -> str:
    return path.name.split(".")[0]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_node_matches_shape_inference(path):
    expected = _expected(path)
    plan = convcalc.from_onnx(path).plan()
    layers = {ly.name: ly for ly in plan.layers}
    compared = 0
    for node in expected["nodes"]:
        if node["name"] not in layers:
            continue  # folded shape arithmetic (Constant, Shape, Gather of constants, ...)
        got = [list(s) for s in layers[node["name"]].outputs]
        want = [v["shape"] for v in node["output_shapes"].values()][: len(got)]
        if any(w is None or not all(isinstance(d, int) for d in w) for w in want):
            continue  # shape inference left it unknown (a Slice fed by a Shape chain): the graph outputs below
        assert got == want, f"node {node['name']}"
        compared += 1
    # shufflenet's and vit's TorchScript exports compute shapes with Shape arithmetic that shape
    # inference leaves unknown; their dynamo exports (fully inferred) and MACs cover those nodes.
    loose = path.name.startswith(("shufflenet", "vit")) and path.name.endswith(".ts.onnx")
    assert compared >= (0.3 if loose else 0.9) * len(plan.layers), (compared, len(plan.layers))
    assert all(ly.where.node for ly in plan.layers) and plan.layers[0].where.file == str(path)
    outputs = [list(ly.output_shape) for ly in plan.outputs()]
    assert outputs == [list(s) for s in expected["ort_output_shapes"].values()], "onnxruntime's output shapes"
    assert plan.totals.params == expected["weight_inputs_numel"] + sum(
        i["numel"] for i in expected["initializers"] if i.get("shape") is not None and len(i["shape"]) > 1)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_macs_equal_the_torch_modules_flop_count(path):
    torch_fixture = json.loads((FIXTURES / "torchvision" / f"{_model_name(path)}.json").read_text())
    assert convcalc.from_onnx(path).plan().totals.macs == torch_fixture["total_macs"]


def test_a_dim_param_input_plans_symbolically():
    model = convcalc.from_onnx(ONNX_DIR / "resnet50_symbolic.ts.onnx")
    assert model.inputs == {"input": (1, 3, "H", "W")}
    symbolic = model.plan()
    last = next(ly for ly in reversed(symbolic.layers) if ly.op == "Relu")
    assert convcalc.dims.fmt_shape(last.output_shape) == "(1, 2048, ceil(H/32), ceil(W/32))"
    concrete = convcalc.from_onnx(ONNX_DIR / "resnet50.ts.onnx").plan()
    at_224 = model.plan(H=224, W=224)
    assert [ly.outputs for ly in at_224.layers] == [ly.outputs for ly in concrete.layers]
    assert (at_224.totals.params, at_224.totals.macs) == (concrete.totals.params, concrete.totals.macs)


@pytest.mark.parametrize("name", ["mobilenet_v2_symbolic.dynamo.onnx", "googlenet_symbolic.ts.onnx",
                                  "squeezenet1_0_symbolic.ts.onnx"])
def test_symbolic_exports_agree_with_the_concrete_ones_at_224(name):
    base = name.replace("_symbolic", "")
    at_224 = convcalc.from_onnx(ONNX_DIR / name).plan(H=224, W=224)
    concrete = convcalc.from_onnx(ONNX_DIR / base).plan()
    assert [ly.outputs for ly in at_224.layers] == [ly.outputs for ly in concrete.layers]
    assert at_224.totals.macs == concrete.totals.macs


def test_swin_names_its_unsupported_ops_and_plans_with_partial(runner):
    from convcalc.cli import cli

    path = ONNX_DIR / "swin_t.dynamo.onnx"
    with pytest.raises(ModelError) as e:
        convcalc.from_onnx(path)
    assert e.value.message.startswith("3 node(s) convcalc cannot model: ScatterND x3 (first: node 'node_ScatterND_")
    assert "node(s) that depend on them" in e.value.message and "--partial" in e.value.fix
    plan = convcalc.from_onnx(path, partial=True).plan()
    expected = _expected(path)
    assert [list(ly.output_shape) for ly in plan.outputs()] == list(expected["ort_output_shapes"].values())
    torch_fixture = json.loads((FIXTURES / "torchvision" / "swin_t.json").read_text())
    assert plan.totals.macs == torch_fixture["total_macs"]  # the opaque nodes (masks) do no MACs here
    assert "macs" in plan.unknown and plan.to_dict()["macs_complete"] is False
    opaque = [ly for ly in plan.layers if ly.op == "Opaque"]
    assert opaque and all(ly.to_dict()["macs"] is None for ly in opaque)
    result = runner.invoke(cli, ["plan", str(path), "--partial"])
    assert result.exit_code == 0, result.output
    assert "≥ 4,490,566,656 MACs" in result.stdout and "ScatterND" in result.stdout


def test_the_cli_plans_an_onnx_file(runner):
    from convcalc.cli import cli

    result = runner.invoke(cli, ["plan", str(ONNX_DIR / "resnet18.ts.onnx"), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["framework"] == "onnx"
    assert data["layers"][0]["name"] == "/conv1/Conv"
    assert data["totals"]["macs"] == 1814073344


# --------------------------------------------------------------------------- bad files


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _small_model(nodes, inputs, inits=(), outputs=("y",)):
    from onnx import TensorProto, helper

    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_truncated_and_corrupt_files(tmp_path, runner):
    from convcalc.cli import cli

    data = (ONNX_DIR / "resnet18.ts.onnx").read_bytes()
    for name, payload in (("truncated.onnx", data[: len(data) // 2]), ("corrupt.onnx", b"\x08\x07garbage" * 50),
                          ("empty.onnx", b"")):
        path = _write(tmp_path, name, payload)
        result = runner.invoke(cli, ["plan", str(path)])
        assert result.exit_code == 1, (name, result.output)
        assert result.stderr.startswith(f"error: {path}") and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2


def test_a_cycle_and_a_missing_initializer(tmp_path):
    from onnx import helper

    cycle = _small_model([helper.make_node("Relu", ["b"], ["a"], name="r1"), helper.make_node("Relu", ["a"], ["b"],
                                                                                              name="r2")],
                         [("x", [1, 3, 8, 8])], outputs=("b",))
    with pytest.raises(ModelError, match=r"node 'r1' reads 'b' before it is produced \(a cycle"):
        convcalc.from_onnx(cycle)
    missing = _small_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])],
                           [("x", [1, 3, 8, 8])])
    with pytest.raises(ModelError, match=r"node 'conv' reads 'w', which no node, input or initializer provides"):
        convcalc.from_onnx(missing)


def test_a_weight_of_the_wrong_rank(tmp_path):
    from onnx import TensorProto, helper

    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [8, 3, 3])  # a 2-D conv needs a 4-D weight
    model = _small_model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])],
                         [("x", [1, 3, 8, 8])])
    model.graph.input.append(w)
    with pytest.raises(ModelError, match=r"the weight 'w' of Conv node 'conv' has the shape \[8, 3, 3\]") as e:
        convcalc.from_onnx(model)
    assert e.value.node == "conv" and e.value.render().startswith("error: node 'conv': ")


def test_the_bundled_examples_plan(runner):
    """README's first screen: examples/resnet50.onnx (torch's TorchScript export, dynamic H, W,
    without weights) and examples/mobilenet_v2.keras (config.json and metadata only)."""
    from convcalc.cli import cli

    examples = Path(__file__).parent.parent / "examples"
    onnx_plan = runner.invoke(cli, ["plan", str(examples / "resnet50.onnx"), "--set", "H=224", "--set", "W=224",
                                    "--format", "json"])
    assert onnx_plan.exit_code == 0, onnx_plan.output
    assert json.loads(onnx_plan.stdout)["totals"]["macs"] == 4089184256
    symbolic = runner.invoke(cli, ["plan", str(examples / "resnet50.onnx")])
    assert "ceil(H/32)" in symbolic.stdout
    keras_plan = runner.invoke(cli, ["plan", str(examples / "mobilenet_v2.keras"), "--format", "json"])
    assert keras_plan.exit_code == 0, keras_plan.output
    assert json.loads(keras_plan.stdout)["totals"]["params"] == 3538984
