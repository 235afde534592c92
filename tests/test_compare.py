"""convcalc compare: ratio arithmetic, symbolic ratios, baseline choice, every format."""

from __future__ import annotations

import csv
import io
import json
import os
from fractions import Fraction
from pathlib import Path

import pytest

import convcalc
from convcalc.cli import cli
from convcalc.compare import compare
from convcalc.report import FORMATS, ratio_text

from .conftest import EXAMPLES

REPORTS = Path(__file__).parent / "reports"
TWO = """\
name: two
framework: pytorch
input: [2, 3, 16, 16]
variants:
  narrow:
    layers:
      - {op: Conv2d, name: c1, out_channels: 8, kernel_size: 3, padding: 1}
      - {op: BatchNorm2d, name: bn}
      - {op: Conv2d, name: c2, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
  wide:
    layers:
      - {op: Conv2d, name: c1, out_channels: 16, kernel_size: 3, padding: 1}
      - {op: BatchNorm2d, name: bn}
      - {op: Conv2d, name: c2, out_channels: 16, kernel_size: 3, stride: 2, padding: 1}
"""


def test_ratios_are_exact_and_against_the_baseline():
    v = convcalc.loads(TWO)
    plans = v.plan()
    # By hand: narrow c1 3*8*9 = 216 + 8, bn 16, c2 8*8*9 + 8 = 584; wide 448 + 16, 32, 2320.
    assert plans["narrow"].totals.params == 224 + 16 + 584
    assert plans["wide"].totals.params == 448 + 32 + 2320
    c = compare(plans)
    assert c.baseline == "narrow"
    assert c.ratio("wide", "params") == Fraction(2800, 824)
    assert c.ratio("wide", "macs") == Fraction(2 * 256 * 16 * 27 + 2 * 64 * 16 * 144, 2 * 256 * 8 * 27 + 2 * 64 * 8 * 72)
    assert c.ratio("narrow", "macs") == 1
    c2 = compare(plans, baseline="wide")
    assert c2.ratio("narrow", "params") == 1 / c.ratio("wide", "params")
    with pytest.raises(convcalc.UsageError, match="Did you mean 'wide'"):
        compare(plans, baseline="wid")


def test_symbolic_ratios_simplify_when_constant():
    variants = convcalc.load(str(EXAMPLES / "conv3d_vs_conv2d.yaml"))
    plans = {k: m.plan_symbolic() for k, m in variants.items()}
    c = compare(plans)
    assert c.ratio("conv2d_time_as_channels", "macs") == Fraction(1, 5)  # whatever T, H, W
    assert c.ratio("conv2d_time_as_channels", "flops") == Fraction(1, 5)
    assert ratio_text(c.ratio("conv2d_time_as_channels", "activation_bytes")) == "(1/T)x"
    assert ratio_text(c.ratio("conv2d_time_as_channels", "params")) == "((25*T + 1)/126)x"
    d = c.to_dict()
    assert d["ratios"]["conv2d_time_as_channels"] == {"params": "(25*T + 1)/126", "macs": 0.2, "flops": 0.2,
                                                      "activation_bytes": "1/T"}


def test_json_contract(runner, write_model):
    out = runner.invoke(cli, ["compare", write_model(TWO), "--format", "json"]).stdout
    d = json.loads(out)
    assert set(d) == {"baseline", "variants", "ratios"}
    assert d["baseline"] == "narrow" and list(d["variants"]) == ["narrow", "wide"]
    assert set(d["ratios"]["wide"]) == {"params", "macs", "flops", "activation_bytes"}
    assert d["ratios"]["narrow"]["macs"] == 1.0
    assert d["variants"]["wide"]["totals"]["params"] == 2800


def test_several_files_are_columns(runner, tmp_path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("framework: keras\ninput: [1, 8]\nlayers: [{op: Dense, units: 4}]\n")
    b.write_text("framework: keras\ninput: [1, 8]\nlayers: [{op: Dense, units: 8}]\n")
    result = runner.invoke(cli, ["compare", str(a), str(b), "--baseline", "b", "--format", "json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["baseline"] == "b" and d["ratios"]["a"]["params"] == 36 / 72


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_golden(runner, write_model, fmt):
    text = runner.invoke(cli, ["compare", write_model(TWO), "--layers", "--format", fmt]).stdout
    path = REPORTS / f"compare.{fmt}.txt"
    if os.environ.get("CONVCALC_OVERWRITE") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with CONVCALC_OVERWRITE=1 and review it"
    assert text == path.read_text()
    if fmt != "json":
        assert "FLOPs = 2 x MACs" in text and "excluded" in text


def test_layer_columns_add_up(runner, write_model):
    """Column-sum invariant on the per-layer side-by-side: each variant's MACs sum to its total."""
    out = runner.invoke(cli, ["compare", write_model(TWO), "--layers", "--format", "csv"]).stdout
    blocks = out.split("\n\n")
    rows = list(csv.reader(io.StringIO(blocks[-1])))
    header, body = rows[0], [r for r in rows[1:] if r]
    for col, name in enumerate(header):
        if name.endswith(": MACs"):
            values = [int(r[col]) for r in body[:-1] if r[col]]
            assert sum(values) == int(body[-1][col]), name


def test_per_sample_conv_equals_the_grouped_trick():
    """The per-sample op and the grouped convolution over the folded batch: same values, same MACs."""
    import numpy as np

    from convcalc import reference

    rng = np.random.default_rng(1)
    for mode, pads in (("valid", (0, 0)), ("same", (1, 1)), ("full", (2, 2))):
        x = rng.standard_normal((6, 9, 2)).astype(np.float32)  # N=6 signals of length 9, M=2 channels
        k = rng.standard_normal((6, 3, 2)).astype(np.float32)
        plan = convcalc.Model(framework="keras", inputs={"x": [6, 9, 2], "k": [6, 3, 2]}).add(
            "PerSampleConv", inputs=["x", "k"], mode=mode).plan()
        ours = reference.run("per_sample_conv", {"rank": 1, "mode": mode, "channels_last": True}, [x, k], rng)
        folded = x.transpose(1, 0, 2).reshape(1, 9, 12)  # (1, L, N*M)
        w = k.transpose(0, 2, 1).reshape(12, 1, 1, 3)  # group n*M + m uses kernel (n, :, m)
        trick = reference.run("conv", dict(rank=1, in_channels=12, out_channels=12, kernel=(3,), stride=(1,),
                                           dilation=(1,), padding=(pads,), groups=12, bias=False, channels_last=True,
                                           padding_mode="zeros"), [folded], rng, {"weight": w})
        unfolded = trick.output.reshape(1, -1, 6, 2)[0].transpose(1, 0, 2)
        np.testing.assert_allclose(ours.output, unfolded, rtol=1e-5, atol=1e-5)
        assert ours.macs == trick.macs == plan.layers[0].macs
        assert ours.output.shape == plan.layers[0].output_shape


# --------------------------------------------------------------------------- a variant that fails (issue 11)


def test_a_failing_variant_is_a_column_that_says_why_and_the_others_are_compared(runner):
    """examples/conv1d_on_images.yaml has two variants that fail on purpose (a Concatenate of
    transposed maps; Keras 3's Conv1D on 4-D): the three others are compared, exit code 1."""
    from .conftest import EXAMPLES

    path = str(EXAMPLES / "conv1d_on_images.yaml")
    result = runner.invoke(cli, ["compare", path], env={"COLUMNS": "100"})
    assert result.exit_code == 1
    table = result.stdout
    header = table.splitlines()[0].split()
    assert header[:3] == ["figure", "rows_and_columns", "(baseline)"] and "transposed_back" in header and "keras3" in header
    assert table.splitlines()[2].count("failed (below)") == 2
    flat = " ".join(table.split())
    assert "transposed_back: could not be planned: " in flat and "cannot concatenate (20, 100, 98, 32)" in flat
    assert "keras3: could not be planned: " in flat and "TimeDistributed" in flat
    assert "same_padding" in table and "115,200,000 [1.02x (50/49)]" in flat  # the others still compared
    assert result.stderr.startswith("error: 2 of 5 variants could not be planned: 'transposed_back', 'keras3'")
    data = json.loads(runner.invoke(cli, ["compare", path, "--format", "json"]).stdout)
    assert set(data["failures"]) == {"transposed_back", "keras3"} and set(data["variants"]) == {
        "rows_and_columns", "same_padding", "conv2d"}
    import convcalc

    same = convcalc.load(path)["same_padding"].plan()
    assert data["variants"]["same_padding"]["totals"]["macs"] == same.totals.macs == 115_200_000


def test_when_every_variant_fails_the_first_error_is_the_answer(runner, write_model):
    text = ("framework: pytorch\ninput: [1, 3, 8, 8]\nvariants:\n  a: {layers: [{op: Conv2d, out_channels: 4, "
            "kernel_size: 9}]}\n  b: {layers: [{op: Conv2d, out_channels: 4, kernel_size: 10}]}\n")
    result = runner.invoke(cli, ["compare", write_model(text)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "variant 'a'" in result.stderr


def test_layers_line_up_by_name_else_by_position_and_mixed_frameworks_say_whose_count(runner, write_model, tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text("name: k\nframework: keras\ninput: [1, 8, 8, 3]\nlayers:\n  - {op: Conv2D, filters: 4, kernel_size: 3}\n"
                 "  - {op: BatchNormalization, name: bn}\n")
    b = tmp_path / "b.yaml"
    b.write_text("name: t\nframework: pytorch\ninput: [1, 3, 8, 8]\nlayers:\n  - {op: Conv2d, out_channels: 4, "
                 "kernel_size: 3}\n  - {op: BatchNorm2d, name: bn}\n")
    result = runner.invoke(cli, ["compare", str(a), str(b), "--layers"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "k (baseline) [keras]" in lines[0] and "t [pytorch]" in lines[0]
    # params: Keras counts BatchNorm's moving statistics (16 + 8 + 8), PyTorch does not (8)
    assert "params follow Keras count_params()" in result.stdout and "params follow PyTorch" in result.stdout
    rows = {line.split()[0]: line for line in lines if line.startswith(("conv2d_1", "bn"))}
    assert "conv2d_1" in rows and "Conv2D (1, 6, 6, 4)" in rows["conv2d_1"] and "Conv2d (1, 4, 6, 6)" in rows["conv2d_1"]
    assert "BatchNormalization" in rows["bn"] and "BatchNorm2d" in rows["bn"]
    third = tmp_path / "c.yaml"
    third.write_text("name: c\nframework: keras\ninput: [1, 8, 8, 3]\nlayers:\n  - {op: Conv2D, name: first, filters: 4, "
                     "kernel_size: 3}\n  - {op: BatchNormalization, name: bn}\n")
    out = runner.invoke(cli, ["compare", str(a), str(third), "--layers"], env={"COLUMNS": "200"}).stdout
    assert any(line.startswith("conv2d_1 / first ") for line in out.splitlines())  # by position, both names shown
