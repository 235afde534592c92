"""The command line, through click's CliRunner: formats, files, symbols, variants, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from convcalc.cli import cli
from convcalc.report import FORMATS

from .conftest import EXAMPLES, ROOT

SMALL = """\
name: small
framework: keras
input: [2, 10, 11, 3]
layers:
  - {op: Conv2D, name: conv, filters: 8, kernel_size: 3, strides: 2, padding: same}
  - {op: BatchNormalization, name: bn}
  - {op: GlobalAveragePooling2D, name: gap}
  - {op: Dense, name: fc, units: 4}
"""


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_and_states_its_conventions(runner, write_model, fmt):
    result = runner.invoke(cli, ["plan", write_model(SMALL), "--format", fmt])
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "json":
        report = json.loads(out)
        assert report["totals"]["params"] == 224 + 32 + 36  # conv 3*3*3*8+8; BN 4*8; dense 8*4+4
        return
    out = " ".join(out.split())  # text wraps its notes to the width
    assert "FLOPs = 2 x MACs" in out and "excluded" in out
    assert "BatchNorm moving mean/variance included, as non-trainable" in out


def test_csv_is_exact_and_sums(runner, write_model):
    """CSV carries exact integers; the per-layer columns add up to the total row."""
    out = runner.invoke(cli, ["plan", write_model(SMALL), "--format", "csv"]).stdout
    rows = [r for r in csv.reader(io.StringIO(out)) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    layers, total = [r for r in body if r[1] not in ("", "input")], body[-1]
    for col in ("params", "non-trainable", "MACs", "FLOPs", "activation bytes"):
        i = header.index(col)
        assert sum(int(r[i]) for r in layers) == int(total[i]), col
    conv = next(r for r in layers if r[0] == "conv")
    assert conv[header.index("MACs")] == str(2 * 5 * 6 * 8 * 3 * 9)  # N * out positions * C_out * C_in * k*k
    assert conv[header.index("output")] == "(2, 5, 6, 8)"


def test_set_substitutes_symbols(runner, write_model):
    path = write_model("framework: pytorch\ninput: [1, 3, H, W]\nlayers:\n"
                       "  - {op: Conv2d, out_channels: 8, kernel_size: 7, stride: 2, padding: 3}\n")
    result = runner.invoke(cli, ["plan", path, "--set", "H=224", "--set", "W=225", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"][0]["output_shape"] == [1, 8, 112, 113]
    symbolic = json.loads(runner.invoke(cli, ["plan", path, "--format", "json"]).stdout)
    assert symbolic["inputs"]["input"] == [1, 3, "H", "W"]
    assert isinstance(symbolic["totals"]["macs"], str)


def test_symbols_defaults_and_override(runner, write_model):
    path = write_model("framework: keras\ninput: [N, 8]\nsymbols: {N: 4}\nlayers:\n  - {op: Dense, units: 2}\n")
    report = json.loads(runner.invoke(cli, ["plan", path, "--format", "json"]).stdout)
    assert report["layers"][0]["output_shape"] == [4, 2]
    report = json.loads(runner.invoke(cli, ["plan", path, "--set", "N=9", "--format", "json"]).stdout)
    assert report["layers"][0]["output_shape"] == [9, 2]


def test_output_file_is_written_atomically(runner, write_model, tmp_path):
    out = tmp_path / "report.md"
    out.write_text("old")
    result = runner.invoke(cli, ["plan", write_model(SMALL), "--format", "markdown", "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text().startswith("**small (keras, float32)**")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".convcalc-")]


def test_variants_file(runner, write_model):
    path = write_model("""\
framework: keras
input: [1, 16, 32, 32, 1]
layers:
  - {op: Conv3D, filters: 8, kernel_size: 5, padding: same}
variants:
  conv3d: {}
  conv2d:
    input: [1, 32, 32, 16]
    layers:
      - {op: Conv2D, filters: 8, kernel_size: 5, padding: same}
""")
    report = json.loads(runner.invoke(cli, ["plan", path, "--format", "json"]).stdout)
    assert list(report["variants"]) == ["conv3d", "conv2d"]
    assert report["variants"]["conv3d"]["totals"]["params"] == 5 * 5 * 5 * 8 + 8
    assert report["variants"]["conv2d"]["totals"]["params"] == 5 * 5 * 16 * 8 + 8
    text = runner.invoke(cli, ["plan", path]).stdout
    assert "variant 'conv3d'" in text and "variant 'conv2d'" in text


def test_ops_lists_every_framework(runner):
    result = runner.invoke(cli, ["ops"])
    assert result.exit_code == 0
    for name in ("Keras 3", "tf.keras", "PyTorch", "ONNX"):
        assert name in result.stdout
    assert "Conv2d(in_channels, out_channels, kernel_size" in runner.invoke(cli, ["ops", "pytorch"]).stdout
    assert runner.invoke(cli, ["ops", "caffe"]).exit_code == 1


def test_help_and_version(runner):
    assert runner.invoke(cli, ["--help"]).exit_code == 0
    assert "MODEL" in runner.invoke(cli, ["plan", "--help"]).stdout
    assert "convcalc, version" in runner.invoke(cli, ["--version"]).stdout
    assert runner.invoke(cli, ["frobnicate"]).exit_code == 2


def test_python_dash_m_and_console_script_agree():
    args = ["plan", str(EXAMPLES / "vgg16.yaml"), "--format", "json"]
    a = subprocess.run([sys.executable, "-m", "convcalc", *args], capture_output=True, text=True, cwd=ROOT)
    assert a.returncode == 0, a.stderr
    assert json.loads(a.stdout)["totals"]["params"] == 138_357_544


def test_bad_input_exits_1_without_traceback_in_a_real_process(write_model):
    path = write_model("framework: keras\ninput: [1, 4, 4, 3]\nlayers:\n  - {op: Conv2D, filters: 2, kernel_size: 5}\n")
    proc = subprocess.run([sys.executable, "-m", "convcalc", "plan", path], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: {path}:4: layer 'conv2d_1' (Conv2D): output would be empty")
    assert "Traceback" not in proc.stderr
