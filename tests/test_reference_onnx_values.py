"""The reference executor reproduces onnxruntime's ConvTranspose VALUES.

Where ONNX's tools disagree on ``ConvTranspose`` (``auto_pad=SAME_*`` with ``output_padding``,
``output_shape`` past the full output), convcalc follows onnxruntime. The shapes are checked by
``tests/golden/onnx.json``; this checks where the crops go: ``tests/golden/values/onnx.json`` holds
small transposed convolutions that onnxruntime ran on recorded random inputs and weights
(``tests/golden/generators/gen_onnx.py --values``). Each is planned by convcalc and its lowered
step run by the executor with the same weights (ONNX's ``(C, M/group, k...)`` is the executor's
layout): a pad on the wrong side, or output padding where onnxruntime crops, changes the values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import convcalc
from convcalc import reference
from convcalc.check import plain_fields

FIXTURE = Path(__file__).parent / "golden" / "values" / "onnx.json"
DATA = json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["id"] for c in DATA["cases"]])
def test_executor_reproduces_onnxruntime_conv_transpose(case):
    model, expected = case["model"], case["expected"]
    plan = convcalc.Model.from_dict(model).plan()
    (layer,) = plan.layers
    (step,) = layer.steps
    x = np.asarray(expected["input"], dtype=np.float32)
    weight, bias = (np.asarray(w, dtype=np.float32) for w in expected["weights"])
    result = reference.run(step.kind, plain_fields(step, [x]), [x], np.random.default_rng(0),
                           {"weight": weight, "bias": bias})
    want = np.asarray(expected["output"], dtype=np.float32)
    assert result.output.shape == want.shape == tuple(layer.output_shape)
    np.testing.assert_allclose(result.output, want, rtol=1e-4, atol=1e-4)


def test_value_fixture_covers_where_onnx_tools_disagree():
    """SAME_* with output_padding (shape inference's extra element), output_shape past the full
    output (onnxruntime's zero fill), and both SAME sides, from onnxruntime."""
    assert DATA["versions"]["onnxruntime"]
    kinds = set()
    for case in DATA["cases"]:
        (ly,) = case["model"]["layers"]
        full = (case["model"]["input"][2] - 1) * ly["strides"][0] + ly["output_padding"][0] \
            + ly["dilations"][0] * (ly["kernel_shape"][0] - 1) + 1 if len(ly["kernel_shape"]) == 1 else None
        if ly.get("auto_pad", "").startswith("SAME") and ly["output_padding"][0] > 0 and "output_shape" not in ly:
            kinds.add(ly["auto_pad"] + " with output_padding")
        if ly.get("output_shape") and full is not None and ly["output_shape"][0] > full:
            kinds.add("output_shape past the full output")
    assert kinds == {"SAME_UPPER with output_padding", "SAME_LOWER with output_padding",
                     "output_shape past the full output"}
