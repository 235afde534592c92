"""The model file's ``repeat`` form (convcalc/blocks.py): a block written once is the same plan
as the block written out, and every misuse is one error with its line."""

from __future__ import annotations

import time

import pytest

import convcalc
from convcalc.cli import cli
from convcalc.errors import ArgumentError

from .conftest import EXAMPLES


def _facts(plan):
    return [(ly.name, ly.op, tuple(map(str, ly.sources)), ly.input_shapes, ly.output_shape, ly.trainable_params,
             ly.non_trainable_params, ly.macs) for ly in plan.layers]


def test_resnet50_written_with_repeat_is_the_same_plan():
    """37 lines instead of 189, and the same 175 layers: names, sources, shapes, params, MACs."""
    written_out = convcalc.load(str(EXAMPLES / "resnet50.yaml"))
    repeated = convcalc.load(str(EXAMPLES / "resnet50_repeat.yaml"))
    assert _facts(repeated.plan()) == _facts(written_out.plan())
    assert repeated.plan().totals == written_out.plan().totals  # 25,557,032 params, 4,089,184,256 MACs
    assert repeated.plan_symbolic().totals == written_out.plan_symbolic().totals
    assert len((EXAMPLES / "resnet50_repeat.yaml").read_text().splitlines()) <= 40


def _model(layers: str) -> convcalc.Model:
    return convcalc.loads(f"framework: pytorch\ninput: [1, 4, 16]\nlayers:\n{layers}", file="m.yaml")


def test_names_indexes_first_rest_each_when_and_the_block_input():
    model = _model(
        "  - {op: Conv1d, name: stem, out_channels: 8, kernel_size: 1}\n"
        "  - repeat: 3\n"
        "    name: block\n"
        "    layers:\n"
        "      - {op: Conv1d, name: conv, out_channels: {each: [8, 16, 32]}, kernel_size: 3, padding: 1,\n"
        "         stride: {first: 2, rest: 1}}\n"
        "      - {op: Conv1d, name: skip, inputs: $input, out_channels: 8, kernel_size: 1, stride: 2, when: first}\n"
        "      - {op: add, name: add, inputs: [conv, skip], when: first}\n"
        "      - {op: ReLU, name: 'act{i+1}', when: [1, 2]}\n")
    plan = model.plan()
    assert [ly.name for ly in plan.layers] == ["stem", "block.0.conv", "block.0.skip", "block.0.add", "block.1.conv",
                                               "block.1.act2", "block.2.conv", "block.2.act3"]
    assert plan.layer("block.0.skip").inputs == ("stem",)  # $input of repeat 0: the layer before the block
    assert plan.layer("block.0.add").inputs == ("block.0.conv", "block.0.skip")  # local names, prefixed
    assert plan.layer("block.1.conv").inputs == ("block.0.add",)  # the previous repeat's last layer
    assert [plan.layer(f"block.{i}.conv").output_shape for i in range(3)] == [(1, 8, 8), (1, 16, 8), (1, 32, 8)]


def test_nested_blocks_are_named_under_each_other():
    model = _model("  - repeat: 2\n    name: outer\n    index: s\n    layers:\n"
                   "      - repeat: '{s+1}'\n        name: inner\n        layers:\n"
                   "          - {op: Conv1d, name: c, out_channels: '{4*(s+1)}', kernel_size: 1}\n")
    names = [ly.name for ly in model.plan().layers]
    assert names == ["outer.0.inner.0.c", "outer.1.inner.0.c", "outer.1.inner.1.c"]
    assert model.plan().layer("outer.1.inner.1.c").output_shape == (1, 8, 16)


# line: of the file, whose layers start at line 4
@pytest.mark.parametrize("layers,message,line", [
    ("  - repeat: 2\n    name: b\n    layers:\n      - {op: ReLU, name: r, size: {each: [1, 2, 3]}}\n",
     "each must list one value per repeat (2)", 7),
    ("  - repeat: 0\n    name: b\n    layers: [{op: ReLU}]\n", "repeat must be a count from 1", 4),
    ("  - repeat: 2\n    name: b\n    layers: [{op: ReLU}]\n    lyers: []\n", "a repeat has no key 'lyers'", 7),
    ("  - repeat: 2\n    layers: [{op: ReLU}]\n", "a repeat needs a name", 4),
    ("  - repeat: 2\n    name: b\n    layers:\n      - {op: Conv1d, name: c, out_channels: '{j}', kernel_size: 1}\n",
     "'{j}' names something other than the indexes ['i']", 7),
    ("  - repeat: 2\n    name: b\n    layers:\n      - {op: ReLU, name: r, when: sometimes}\n",
     "when must be one of first, rest, last", 7),
])
def test_every_misuse_is_one_error_with_its_line(layers, message, line):
    with pytest.raises(ArgumentError) as info:
        _model(layers)
    assert message in info.value.message and info.value.line == line and info.value.file == "m.yaml"


def test_an_error_in_a_repeated_layer_names_the_generated_layer_and_the_template_line(runner, write_model):
    text = ("framework: pytorch\ninput: [1, 4, 16]\nlayers:\n  - repeat: 3\n    name: b\n    layers:\n"
            "      - {op: Conv1d, name: c, out_channels: 4, kernel_size: 7}\n")
    result = runner.invoke(cli, ["plan", write_model(text)])
    assert result.exit_code == 1
    assert ":7: layer 'b.2.c' (Conv1d): output would be empty" in result.stderr  # 16 -> 10 -> 4 -> nothing


def test_a_repeat_past_the_layer_limit_is_refused_before_it_is_built():
    start = time.perf_counter()
    with pytest.raises(ArgumentError, match="expands to more than"):
        _model("  - repeat: 1000000\n    name: b\n    layers: [{op: ReLU}, {op: ReLU}]\n")
    assert time.perf_counter() - start < 5
