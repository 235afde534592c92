"""Tensor-level edges: a layer with several outputs (torch.chunk / torch.split, ONNX Split) and
the layers that read one of them by ``name:i``.

The piece sizes are checked against live torch (``torch.chunk``/``torch.split`` on real
tensors) and every plan runs through the reference executor (numpy's own ``np.split``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import convcalc
from convcalc.check import check_plan
from convcalc.errors import ArgumentError, ModelError, ShapeError

from .conftest import torch_or_skip

CHUNKED = {
    "framework": "pytorch",
    "input": [1, 6, 8, 8],
    "layers": [
        {"op": "Conv2d", "name": "conv", "out_channels": 5, "kernel_size": 3, "padding": 1},
        {"op": "chunk", "name": "halves", "chunks": 2, "dim": 1},
        {"op": "Conv2d", "name": "c0", "inputs": "halves:0", "out_channels": 2, "kernel_size": 1},
        {"op": "add", "name": "merged", "inputs": ["c0", "halves:1"]},
        {"op": "cat", "name": "joined", "inputs": ["merged", "halves:0"], "dim": 1},
    ],
}


def test_a_split_layer_has_every_output_and_each_is_read_by_index():
    plan = convcalc.Model.from_dict(CHUNKED).plan()
    halves = plan.layer("halves")
    # torch.chunk(5 channels, 2) gives ceil(5/2) = 3 and the remaining 2.
    assert halves.outputs == ((1, 3, 8, 8), (1, 2, 8, 8))
    assert halves.output_shape == (1, 3, 8, 8)
    assert halves.activation_bytes == (3 + 2) * 64 * 4
    assert plan.layer("merged").input_shapes == ((1, 2, 8, 8), (1, 2, 8, 8))
    assert plan.layer("joined").output_shape == (1, 5, 8, 8)
    assert [ly.name for ly in plan.consumers("halves")] == ["c0", "merged", "joined"]
    assert [ly.name for ly in plan.outputs()] == ["joined"]
    entry = plan.to_dict()["layers"][1]
    assert entry["output_shapes"] == [[1, 3, 8, 8], [1, 2, 8, 8]]
    assert "output_shapes" not in plan.to_dict()["layers"][0]  # the contract only grows where needed


def test_the_reference_executor_agrees_on_split_layers():
    plan = convcalc.Model.from_dict(CHUNKED).plan()
    report = check_plan(plan)
    assert report.ok, [ly.differences() for ly in report.layers if not ly.ok]


@pytest.mark.torch
@pytest.mark.parametrize("length,chunks", [(5, 2), (5, 4), (6, 3), (7, 7), (1, 3), (10, 4)])
def test_chunk_piece_sizes_match_torch(length, chunks):
    torch = torch_or_skip()
    expected = [tuple(t.shape) for t in torch.chunk(torch.zeros(2, length, 3), chunks, dim=1)]
    plan = convcalc.Model(framework="pytorch", input=[2, length, 3]).add("chunk", chunks=chunks, dim=1).plan()
    assert list(plan.layers[0].outputs) == expected


@pytest.mark.torch
@pytest.mark.parametrize("sections", [2, 3, [1, 4], [5], [0, 2, 3]])
def test_split_piece_sizes_match_torch(sections):
    torch = torch_or_skip()
    expected = [tuple(t.shape) for t in torch.split(torch.zeros(1, 5, 4), sections, dim=1)]
    plan = convcalc.Model(framework="pytorch", input=[1, 5, 4]).add("split", split_size_or_sections=sections,
                                                                       dim=1).plan()
    assert list(plan.layers[0].outputs) == expected


def test_onnx_split_by_sizes_and_by_count():
    # ONNX Split (opset 18): num_outputs=3 on 10 gives ceil(10/3) = 4, 4 and the remaining 2.
    model = convcalc.Model(framework="onnx", input=[1, 10, 4])
    model.add("Split", name="s", axis=1, num_outputs=3)
    model.add("Split", name="t", inputs="s:2", axis=2, split=[1, 3])
    plan = model.plan()
    assert plan.layer("s").outputs == ((1, 4, 4), (1, 4, 4), (1, 2, 4))
    assert plan.layer("t").outputs == ((1, 2, 1), (1, 2, 3))
    assert check_plan(plan).ok


GOLDEN_MORE = json.loads((Path(__file__).parent / "golden" / "multi_output" / "onnx_more.json").read_text())


@pytest.mark.parametrize("case", GOLDEN_MORE["cases"], ids=lambda c: str(c["model"]["layers"][0]))
def test_onnx_ops_match_shape_inference_and_onnxruntime(case):
    """Split (several outputs) and the other ops the ONNX importer writes, against ONNX shape
    inference and onnxruntime (tests/golden/generators/gen_onnx_more.py); and the executor agrees."""
    model = convcalc.Model.from_dict(case["model"])
    if "error" in case["expected"]:
        with pytest.raises(ModelError):
            model.plan()
        return
    plan = model.plan()
    assert [list(s) for s in plan.layers[0].outputs] == case["expected"]["output_shapes"]
    assert check_plan(plan).ok


def test_reading_an_output_that_does_not_exist():
    model = convcalc.Model(framework="pytorch", input=[1, 4, 3])
    model.add("chunk", name="s", chunks=2, dim=1).add("add", inputs=["s:0", "s:2"])
    with pytest.raises(ArgumentError, match=r"'s' has 2 outputs, so there is no 's:2'"):
        model.plan()


def test_split_sizes_must_add_up():
    model = convcalc.Model(framework="onnx", input=[1, 10, 4]).add("Split", axis=1, split=[3, 3])
    with pytest.raises(ShapeError, match=r"split sizes \(3, 3\) add up to 6, but axis 1 of \(1, 10, 4\) has 10") as e:
        model.plan()
    assert e.value.reason == "split"


def test_a_layer_named_with_a_colon_is_read_by_its_name():
    # Names may contain ':' (design.md §2); an exact name always wins over an output index.
    model = convcalc.Model(framework="pytorch", input=[1, 4, 3])
    model.add("chunk", name="s", chunks=2, dim=1).add("ReLU", name="s:1", inputs="s:0").add("add", inputs=["s:1", "s"])
    plan = model.plan()
    assert plan.layers[-1].input_shapes == ((1, 2, 3), (1, 2, 3))
    assert plan.layers[-1].sources[0].producer == "s:1"


GOLDEN_KERAS_MORE = [case for flavor in ("keras", "tf_keras") for case in json.loads(
    (Path(__file__).parent / "golden" / "multi_output" / f"{flavor}_more.json").read_text())["cases"]]


@pytest.mark.parametrize("case", GOLDEN_KERAS_MORE, ids=lambda c: f"{c['model']['framework']}-{c['model']['layers'][0]['layer']}")
def test_keras_time_distributed_matches_keras(case):
    """TimeDistributed (a layer wrapping a layer) against Keras 3 itself
    (tests/golden/generators/gen_keras_more.py); the executor agrees on its MACs, every step."""
    model = convcalc.Model.from_dict(case["model"])
    if "error" in case["expected"]:
        with pytest.raises(ModelError):
            model.plan()
        return
    plan = model.plan()
    want = case["expected"]["layers"][0]
    layer = plan.layers[0]
    assert list(layer.output_shape) == want["output_shape"]
    assert (layer.trainable_params, layer.non_trainable_params) == (want["trainable_params"],
                                                                    want["non_trainable_params"])
    assert check_plan(plan).ok
