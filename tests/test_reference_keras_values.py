"""The reference executor reproduces Keras VALUES, not just shapes.

``tests/golden/values/{keras,tf_keras}.json`` hold small layers run by Keras 3 (torch backend)
and by tf.keras on TensorFlow with recorded inputs, weights and outputs
(``gen_keras.py --values``). Each case is planned by convcalc, and its lowered steps are run by
the executor with the same weights (converted from Keras' kernel layouts): where 'same' padding
puts its odd pixel, causal padding, averages that exclude padding, and where a transposed
convolution crops and adds its output_padding all show up in the values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import convcalc
from convcalc import reference
from convcalc.check import plain_fields

VALUES = Path(__file__).parent / "golden" / "values"
KERAS_VALUES = [VALUES / "keras.json", VALUES / "tf_keras.json"]  # values/onnx.json: test_reference_onnx_values


def keras_weights_to_steps(op: str, weights: list[np.ndarray], steps) -> list[dict]:
    """Keras kernels -> the executor's layouts, one dict per lowered step."""
    per_step: list[dict] = [{} for _ in steps]
    if not weights:
        return per_step
    first = steps[0]
    if op.startswith(("Conv1D", "Conv2D", "Conv3D")) and "Transpose" not in op:
        kernel = weights[0]  # (*k, C_in/g, filters)
        rank = kernel.ndim - 2
        g = first.groups
        cg, filters = kernel.shape[-2:]
        w = kernel.reshape(kernel.shape[:rank] + (cg, g, filters // g))
        per_step[0]["weight"] = np.moveaxis(w, (rank + 1, rank + 2, rank), (0, 1, 2))
    elif "Transpose" in op:
        kernel = weights[0]  # (*k, filters, C_in)
        rank = kernel.ndim - 2
        per_step[0]["weight"] = np.moveaxis(kernel, (rank + 1, rank), (0, 1))  # (C_in, filters, *k)
    elif op.startswith("DepthwiseConv"):
        kernel = weights[0]  # (*k, C, m)
        rank = kernel.ndim - 2
        per_step[0]["weight"] = np.moveaxis(kernel, (rank, rank + 1), (0, 1))[:, :, None]  # (C, m, 1, *k)
    elif op.startswith("SeparableConv"):
        depthwise, pointwise = weights[0], weights[1]  # (*k, C, m), (1.., C*m, filters)
        rank = depthwise.ndim - 2
        per_step[0]["weight"] = np.moveaxis(depthwise, (rank, rank + 1), (0, 1))[:, :, None]
        pw = pointwise.reshape(pointwise.shape[-2:])  # (C*m, filters)
        per_step[1]["weight"] = pw.T.reshape((1, pw.shape[1], pw.shape[0]) + (1,) * rank)
        if len(weights) > 2:
            per_step[1]["bias"] = weights[2]
        return per_step
    elif op == "Dense":
        per_step[0]["weight"] = weights[0]
    elif op == "BatchNormalization":
        gamma, beta, mean, var = weights
        per_step[0] = {"gamma": gamma, "beta": beta, "moving_mean": mean, "moving_variance": var}
        return per_step
    if len(weights) > 1:
        per_step[0]["bias"] = weights[1]
    return per_step


def _keras3_torch_asymmetric_average(stem: str, model: dict) -> bool:
    """Keras 3's torch backend pads an asymmetric 'same' average pool with *replicate* padding and
    then averages it in (keras/src/backend/torch/nn.py ``_apply_same_padding``), while TensorFlow,
    JAX and the Keras docs exclude padding. convcalc follows the latter (the tf.keras fixture
    checks the same layers and passes); this marks the torch-backend deviation, strictly."""
    layer = model["layers"][0]
    if stem != "keras" or not layer["op"].startswith("AveragePooling") or layer.get("padding") != "same":
        return False
    rank = len(model["input"]) - 2
    k = layer["pool_size"] if isinstance(layer["pool_size"], list) else [layer["pool_size"]] * rank
    s = layer.get("strides") or k
    s = s if isinstance(s, list) else [s] * rank
    for n, kk, ss in zip(model["input"][1:-1], k, s):
        total = max(0, (-(-n // ss) - 1) * ss + kk - n)
        if total % 2:
            return True
    return False


def _cases() -> list:
    out = []
    for path in KERAS_VALUES:
        data = json.loads(path.read_text())
        for case in data["cases"]:
            marks = []
            if _keras3_torch_asymmetric_average(path.stem, case["model"]):
                marks.append(pytest.mark.xfail(strict=True, reason="Keras 3 torch backend replicate-pads"))
            out.append(pytest.param(case, id=f"{path.stem}:{case['id']}:{case['model']['layers'][0]['op']}",
                                    marks=marks))
    return out


@pytest.mark.parametrize("case", _cases())
def test_executor_reproduces_keras_values(case):
    model, expected = case["model"], case["expected"]
    plan = convcalc.Model.from_dict(model).plan()
    (layer,) = plan.layers
    x = np.asarray(expected["input"], dtype=np.float32)
    weights = [np.asarray(w, dtype=np.float32) for w in expected["weights"]]
    given = keras_weights_to_steps(layer.op, weights, layer.steps)
    current = [x]
    rng = np.random.default_rng(0)
    for step, w in zip(layer.steps, given):
        result = reference.run(step.kind, plain_fields(step, current), current, rng, w)
        current = [result.output]
    want = np.asarray(expected["output"], dtype=np.float32)
    assert current[0].shape == want.shape == tuple(layer.output_shape)
    np.testing.assert_allclose(current[0], want, rtol=1e-4, atol=1e-4)


def test_value_fixtures_cover_the_keras_traps():
    ops = set()
    for path in KERAS_VALUES:
        for case in json.loads(path.read_text())["cases"]:
            layer = case["model"]["layers"][0]
            ops.add((layer["op"], str(layer.get("padding")), "output_padding" in layer))
    assert ("Conv1D", "causal", False) in ops
    assert ("AveragePooling2D", "same", False) in ops
    assert ("Conv2DTranspose", "same", True) in ops and ("Conv2DTranspose", "same", False) in ops
