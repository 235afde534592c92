"""`convcalc convert`: the model file written for an imported model plans exactly as the source
does — every layer's name, output shapes, parameters and MACs — for every importer fixture, and
a torch factory named on the command line."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

import convcalc
from convcalc.cli import cli
from convcalc.loader import dump_model

from .conftest import torch_or_skip, torchvision_or_skip

FIXTURES = Path(__file__).parent / "importers" / "fixtures"
ONNX = sorted(p for p in (FIXTURES / "onnx").glob("*.onnx") if not p.name.startswith("swin_t"))
KERAS = [(f, p.name[: -len(".json.gz")]) for f in ("keras", "tf_keras") for p in sorted((FIXTURES / f).glob("*.json.gz"))]


def _same_plan(a, b):
    assert [ly.name for ly in a.layers] == [ly.name for ly in b.layers]
    assert [ly.outputs for ly in a.layers] == [ly.outputs for ly in b.layers]
    assert [(ly.trainable_params, ly.non_trainable_params, ly.macs) for ly in a.layers] == [
        (ly.trainable_params, ly.non_trainable_params, ly.macs) for ly in b.layers]
    assert a.totals == b.totals and a.framework == b.framework


def _round_trip(model):
    written = dump_model(model)
    _same_plan(model.plan(), convcalc.loads(written).plan())
    return written


@pytest.mark.parametrize("path", ONNX, ids=lambda p: p.name)
def test_onnx_round_trip(path):
    _round_trip(convcalc.from_onnx(path))


@pytest.mark.parametrize("flavor,name", KERAS, ids=[f"{f}-{n}" for f, n in KERAS])
def test_keras_round_trip(flavor, name):
    written = _round_trip(convcalc.from_keras(json.loads(gzip.open(FIXTURES / flavor / f"{name}.json.gz").read())))
    assert "initializer" not in written  # bookkeeping arguments at no effect are left out


def test_partial_round_trip_keeps_the_opaque_rows():
    model = convcalc.from_onnx(FIXTURES / "onnx" / "swin_t.dynamo.onnx", partial=True)
    written = _round_trip(model)
    assert "op: Opaque" in written and "source_op: ScatterND" in written


@pytest.mark.torch
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "convnext_tiny", "googlenet", "shufflenet_v2_x1_0"])
def test_torch_round_trip(name):
    tv = torchvision_or_skip()
    kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    module = tv.models.get_model(name, weights=None, **kwargs).eval()
    _round_trip(convcalc.from_torch(module, (1, 3, 224, 224)))


def test_cli_convert_onnx_then_plan(tmp_path, runner):
    out = tmp_path / "resnet50.yaml"
    result = runner.invoke(cli, ["convert", str(FIXTURES / "onnx" / "resnet50_symbolic.ts.onnx"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("name: main_graph\nframework: onnx\ninput: [1, 3, H, W]\n")
    planned = runner.invoke(cli, ["plan", str(out), "--set", "H=224", "--set", "W=224", "--format", "json"])
    assert json.loads(planned.stdout)["totals"]["macs"] == 4089184256


@pytest.mark.torch
def test_cli_convert_a_torch_factory(tmp_path, runner, monkeypatch):
    torch_or_skip()
    (tmp_path / "my_nets.py").write_text(
        "import torch\n"
        "def small():\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(inplace=True),\n"
        "                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "small.yaml"
    result = runner.invoke(cli, ["convert", "torch:my_nets:small", "--input", "1,3,H,W", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "framework: pytorch\ninput: [1, 3, H, W]\n" in text and "name: '0'" in text  # Sequential's own names
    plan = convcalc.load(str(out)).plan(H=32, W=32)
    assert plan.layers[0].output_shape == (1, 8, 16, 16) and plan.totals.params == 3 * 8 * 9 + 8 + 8 * 10 + 10
    sys.modules.pop("my_nets", None)


def test_cli_convert_usage_errors(runner):
    for args, text in ((["convert", "torch:nope"], "expected torch:PACKAGE.MODULE:CALLABLE"),
                       (["convert", "torch:no_such_module_here:f", "--input", "1,3,8,8"], "cannot import"),
                       (["convert", "torch:json:dumps"], "needs --input"),
                       (["convert", str(FIXTURES / "onnx" / "resnet18.ts.onnx"), "--input", "1,3,8,8"],
                        "--input goes with a torch")):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2 and text in result.stderr, (args, result.output)
