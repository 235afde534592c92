"""Report rendering: golden files per format (regenerate with CONVCALC_OVERWRITE=1 after an
intended change and review the diff), plus invariants that do not trust the golden files: the
numbers are the hand-computed ones, and each column adds up to its total row.

The model: Keras Conv2D(8, 3, strides 2, same) on (2, 10, 11, 3), BatchNormalization, global
average pooling, Dense(4). By hand: conv 3*3*3*8 + 8 = 224 params, output (2, 5, 6, 8),
MACs 2*5*6*8*3*9 = 12,960; BN 16 trainable + 16 non-trainable; Dense 8*4 + 4 = 36 params,
2*8*4 = 64 MACs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import convcalc
from convcalc.report import FORMATS

REPORTS = Path(__file__).parent / "reports"
MODEL = {
    "name": "small",
    "framework": "keras",
    "input": [2, 10, 11, 3],
    "layers": [
        {"op": "Conv2D", "name": "conv", "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"},
        {"op": "BatchNormalization", "name": "bn"},
        {"op": "GlobalAveragePooling2D", "name": "gap"},
        {"op": "Dense", "name": "fc", "units": 4},
    ],
}


@pytest.fixture(scope="module")
def plan():
    return convcalc.Model.from_dict(MODEL).plan()


def test_hand_computed_numbers(plan):
    conv, bn, gap, fc = plan.layers
    assert (conv.output_shape, conv.params, conv.macs) == ((2, 5, 6, 8), 224, 12_960)
    assert (bn.trainable_params, bn.non_trainable_params, bn.macs) == (16, 16, 0)
    assert (gap.output_shape, fc.output_shape, fc.params, fc.macs) == ((2, 8), (2, 4), 36, 64)
    assert plan.totals.params == 224 + 32 + 36
    assert plan.totals.activation_bytes == 4 * (2 * 5 * 6 * 8 * 2 + 2 * 8 + 2 * 4)


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_rendering(plan, fmt):
    text = plan.table(fmt)
    path = REPORTS / f"small.{fmt}.txt"
    if os.environ.get("CONVCALC_OVERWRITE") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with CONVCALC_OVERWRITE=1 and review it"
    assert text == path.read_text()


def test_text_columns_add_up_to_the_total_row(plan):
    """torchinfo's invariant, on the rendered text itself (columns located by the dash rule)."""
    lines = plan.table("text").splitlines()
    header, rule = lines[2], lines[3]
    spans = {header[m.start():m.end()].strip(): (m.start(), m.end()) for m in re.finditer(r"-+", rule)}
    rows = [ln for ln in lines[4:] if ln.strip() and not ln.startswith(("totals", "conventions", "valid"))]
    body = [r for r in rows if not r.startswith(("input", "total"))]
    total = next(r for r in rows if r.startswith("total"))
    for name in ("params", "non-trainable", "MACs", "FLOPs"):
        a, b = spans[name]
        column = [int(r[a:b].strip().replace(",", "")) for r in body]
        assert sum(column) == int(total[a:b].strip().replace(",", "")), name


def test_conventions_follow_the_framework():
    for fw, phrase in [("pytorch", "buffers (BatchNorm running mean/var) excluded"),
                       ("keras", "BatchNorm moving mean/variance included"),
                       ("onnx", "initializer elements")]:
        model = convcalc.Model(framework=fw, input=[1, 4]).add("Identity")
        assert phrase in model.plan().table("text")
