"""convcalc against what the real frameworks did, case by case.

The fixtures under ``tests/golden/*.json`` were produced by running every case through PyTorch,
Keras 3, tf.keras and ONNX shape inference (``tests/golden/generators/``; each file names the
versions). This suite needs none of those frameworks: it replays each case through convcalc and
asserts the same output shape and parameter counts for every layer — or, where the framework
raised, that convcalc refuses the model too (a :class:`ModelError`, never a wrong number).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import convcalc
from convcalc.errors import ModelError

GOLDEN = Path(__file__).parent / "golden"
FIXTURES = sorted(GOLDEN.glob("*.json"))
# Ops with several outputs and the ops the ONNX importer added: their own fixtures
# (tests/golden/generators/gen_onnx_more.py), replayed by tests/test_graph.py.
MULTI_OUTPUT = sorted((GOLDEN / "multi_output").glob("*.json"))
# torch.chunk / torch.split (tests/test_graph.py) and the ops from_torch writes for functional
# forms (tests/test_import_torch.py) are checked against live torch; CI sets
# CONVCALC_REQUIRE_TORCH=1, so those checks cannot skip).
LIVE_CHECKED = {"pytorch": {"chunk", "split", "div", "mean", "transpose", "StochasticDepth", "matmul", "Parameter", "getitem",
                            # in place: tests/test_memory.py, against Tensor.add_ ... on broadcast cases
                            "add_", "sub_", "mul_", "div_"}}
# Layers the Keras importer added, compared layer by layer with Keras' own shapes and parameter
# counts on the Keras applications that use them (tests/test_import_keras.py; fixtures by
# tests/importers/generators/gen_keras_apps.py): keras.ops add/multiply and tf.keras TFOpLambda
# (MobileNetV3, ConvNeXt), Rescaling and Normalization (EfficientNet, ConvNeXt), LayerScale
# (ConvNeXt), CustomScaleLayer (InceptionResNetV2).
IMPORTER_CHECKED = {f: {"ops.add", "ops.multiply", "Rescaling", "Normalization", "LayerScale", "CustomScaleLayer"}
                    for f in ("keras", "tf.keras")}
# ONNX Constant (a stored tensor used as data: ViT's class token) is compared node by node with
# shape inference on vit_b_16's exports (tests/test_import_onnx.py).
IMPORTER_CHECKED["onnx"] = {"Constant"}

# Cases where convcalc deliberately refuses what one framework tool accepts, with the reason.
# Keyed by a predicate on the case so that regenerating the fixtures keeps them covered.


def _onnx_pads_with_auto_pad(model: dict) -> bool:
    return model["framework"] == "onnx" and any(
        ly.get("pads") is not None and ly.get("auto_pad", "NOTSET") != "NOTSET" for ly in model["layers"]
    )


def _framework_made_an_empty_tensor(case_expected: dict) -> bool:
    return any(d <= 0 for ly in case_expected.get("layers", []) for d in ly["output_shape"])


def _keras3_torch_layer_norm_inner_axes(model: dict) -> bool:
    for ly in model["layers"]:
        if model["framework"] == "keras" and ly["op"] == "LayerNormalization":
            shape = model["input"]
            axes = ly.get("axis", -1)
            axes = sorted(a % len(shape) for a in (axes if isinstance(axes, list) else [axes]))
            if axes != list(range(len(shape) - len(axes), len(shape))):
                return True
    return False


def _onnx_truncated_negative_window(model: dict) -> bool:
    """ONNX shape inference divides with C++ truncation toward zero: for a window larger than the
    padded input, (L + pads - k_eff) / s rounds -1/3 up to 0 and reports a size of 1."""
    if model["framework"] != "onnx" or "input" not in model:
        return False
    x = model["input"]
    for ly in model["layers"]:
        if ly["op"] not in ("Conv", "MaxPool", "AveragePool") or ly.get("auto_pad") in ("SAME_UPPER", "SAME_LOWER"):
            continue
        r = len(x) - 2
        pads = ly.get("pads") or [0] * (2 * r)
        for i in range(r):
            k_eff = ly.get("dilations", [1] * r)[i] * (ly["kernel_shape"][i] - 1) + 1
            s = ly.get("strides", [1] * r)[i]
            num = x[2 + i] + pads[i] + pads[i + r] - k_eff + (s - 1 if ly.get("ceil_mode") else 0)
            if num < 0 and int(num / s) != num // s:
                return True
    return False


def _onnx_conv_transpose_output_shape_and_pads(model: dict) -> bool:
    return model["framework"] == "onnx" and any(
        ly["op"] == "ConvTranspose" and ly.get("output_shape") and ly.get("pads") for ly in model["layers"]
    )


DELIBERATE = [
    (
        _onnx_pads_with_auto_pad,
        "ONNX Conv/pool shape inference silently uses pads when auto_pad is also set, the ReferenceEvaluator "
        "uses auto_pad, and the spec forbids the combination (conventions.md trap 11): convcalc refuses it",
    ),
    (
        _onnx_truncated_negative_window,
        "onnx.shape_inference truncates a negative numerator toward zero and reports size 1 for a window larger "
        "than its padded input; by the spec's floor (and PyTorch's) there is no window: convcalc refuses it",
    ),
    (
        _onnx_conv_transpose_output_shape_and_pads,
        "ConvTranspose with both output_shape and pads: the spec ignores pads, onnx.shape_inference 1.23 drops an "
        "output axis: convcalc asks for one of the two",
    ),
]
# Cases where the fixture's framework backend fails although the layer is valid Keras 3; convcalc
# plans them (the TensorFlow and JAX backends run them). Their expected error is not asserted.
BACKEND_BUGS = [
    (
        _keras3_torch_layer_norm_inner_axes,
        "Keras 3.15 on the torch backend passes normalized_shape=[C] to torch.layer_norm when the axes are not "
        "the trailing ones ('Given normalized_shape=[3], expected input with shape [*, 3]')",
    ),
]


def _load_cases() -> list:
    params = []
    for path in FIXTURES:
        data = json.loads(path.read_text())
        for case in data["cases"]:
            params.append(pytest.param(case, id=f"{data['framework']}:{case['id']}"))
    return params


CASES = _load_cases()


def test_fixtures_exist_and_are_big_enough():
    """At least 400 cases from the real frameworks, each fixture naming its versions."""
    assert {p.stem for p in FIXTURES} >= {"pytorch", "keras", "tf_keras", "onnx"}
    total = 0
    for path in FIXTURES:
        data = json.loads(path.read_text())
        assert data["versions"], path
        assert data["counts"]["rejected"] > 0 and data["counts"]["accepted"] > 0
        total += len(data["cases"])
    assert total >= 400


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    model_dict, expected = case["model"], case["expected"]
    if any(pred(model_dict) for pred, _ in BACKEND_BUGS):
        plan = convcalc.Model.from_dict(model_dict).plan()
        assert plan.layers[-1].output_shape == tuple(model_dict["input"])  # normalisation keeps the shape
        return
    deliberate = [why for pred, why in DELIBERATE if pred(model_dict)]
    if _framework_made_an_empty_tensor(expected):
        # PyTorch returns a zero-size tensor for, e.g., area interpolation to floor(1 * 0.5) = 0 or
        # F.pad cropping a whole axis; ONNX shape inference even reports negative sizes for a
        # kernel larger than its padded input. A plan with an empty tensor is always a mistake;
        # convcalc refuses it with the numbers instead of planning zeros downstream.
        deliberate.append("empty tensor")
    if "error" in expected or deliberate:
        with pytest.raises(ModelError) as info:
            convcalc.Model.from_dict(model_dict).plan()
        assert info.value.message, "an error must say what is wrong"
        return
    plan = convcalc.Model.from_dict(model_dict).plan()
    assert len(plan.layers) == len(expected["layers"])
    for got, want in zip(plan.layers, expected["layers"]):
        assert list(got.output_shape) == want["output_shape"], f"layer {got.name} ({got.op})"
        assert got.params == want["params"], f"layer {got.name} ({got.op}) params"
        if "trainable_params" in want:
            assert got.trainable_params == want["trainable_params"], f"layer {got.name} trainable"
            assert got.non_trainable_params == want["non_trainable_params"], f"layer {got.name} non-trainable"


def test_every_op_of_every_framework_is_checked_against_its_framework():
    """Each op convcalc knows appears, accepted by its framework, in that framework's fixture."""
    from convcalc.frontends import FRAMEWORKS

    accepted: dict[str, set[str]] = {}
    for path in FIXTURES + MULTI_OUTPUT:
        data = json.loads(path.read_text())
        accepted.setdefault(data["framework"], set()).update(
            ly["op"] for c in data["cases"] if "error" not in c["expected"] for ly in c["model"]["layers"])
    for framework, ops in accepted.items():
        # CropTo and PerSampleConv are convcalc's own cross-framework ops (no framework has them):
        # the executor checks them (tests/test_symbolic.py, tests/test_compare.py); Opaque stands
        # for an imported node convcalc cannot model (tests/test_import_*.py). LIVE_CHECKED ops
        # are checked against the live framework in CI instead.
        missing = set(FRAMEWORKS[framework].ops) - ops - {"CropTo", "PerSampleConv", "Opaque"} - LIVE_CHECKED.get(framework, set()) \
            - IMPORTER_CHECKED.get(framework, set())
        assert not missing, f"{framework}: ops never checked against the framework: {sorted(missing)}"
