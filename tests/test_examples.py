"""The bundled models give the published figures exactly.

References (independent of convcalc): torchvision's weight metadata (``num_params`` and
``_ops``, which are MACs despite the "GFLOPS" label) and, for the original U-Net, the parameter
count and fvcore MACs of a PyTorch re-implementation (conventions.md §7.1, §7.2).
"""

from __future__ import annotations

import json

import pytest

import convcalc
from convcalc.cli import cli

from .conftest import EXAMPLES

PUBLISHED = {
    # model: (params, MACs of conv + linear layers, final output shape)
    "resnet50": (25_557_032, 4_089_184_256, (1, 1000)),
    "vgg16": (138_357_544, 15_470_264_320, (1, 1000)),
    "mobilenet_v2": (3_504_872, 300_774_272, (1, 1000)),
    "unet_original": (31_030_658, 150_428_424_448, (1, 388, 388, 2)),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_figures(name):
    params, macs, out = PUBLISHED[name]
    plan = convcalc.load(str(EXAMPLES / f"{name}.yaml")).plan()
    assert plan.totals.params == params
    assert plan.totals.macs == macs
    assert plan.totals.flops == 2 * macs
    assert plan.layers[-1].output_shape == out
    assert plan.totals.non_trainable_params == 0  # torchvision counts no buffers; the U-Net has no BN


def test_vgg16_conv_only_macs_match_the_paper():
    """The VGG paper's 15.3 G "FLOPs" are the convolutions alone (conventions.md §7.1)."""
    plan = convcalc.load(str(EXAMPLES / "vgg16.yaml")).plan()
    conv = sum(ly.macs for ly in plan.layers if ly.op == "Conv2d")
    assert conv == 15_346_630_656


def test_unet_shapes_follow_the_paper():
    """572 -> 570 -> 568 -> ... -> 28 at the bottom -> 388 at the top (conventions.md §7.2)."""
    plan = convcalc.load(str(EXAMPLES / "unet_original.yaml")).plan()
    sizes = {ly.name: ly.output_shape[1] for ly in plan.layers}
    assert [sizes[n] for n in ("enc1a", "enc1b", "pool1", "enc5b", "up1", "skip4", "dec1b", "up4", "dec4b")] == [
        570, 568, 284, 28, 56, 56, 52, 392, 388]
    assert sum(1 for ly in plan.layers if ly.op in ("Conv2D", "Conv2DTranspose")) == 23


def test_resnet50_json_report_contract(runner):
    result = runner.invoke(cli, ["plan", str(EXAMPLES / "resnet50.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"name", "framework", "dtype", "inputs", "layers", "totals", "constraints"}  # contract
    assert report["inputs"] == {"input": [1, 3, 224, 224]}
    first = report["layers"][0]
    assert set(first) == {"name", "op", "inputs", "line", "input_shapes", "output_shape", "params",
                          "trainable_params", "non_trainable_params", "macs", "flops", "activation_bytes"}
    assert first["name"] == "conv1" and first["output_shape"] == [1, 64, 112, 112]
    assert first["params"] == 64 * 3 * 7 * 7
    assert first["macs"] == 112 * 112 * 64 * 3 * 49
    assert first["activation_bytes"] == 64 * 112 * 112 * 4
    assert report["totals"]["params"] == 25_557_032
    assert report["totals"]["params"] == sum(ly["params"] for ly in report["layers"])
    assert report["totals"]["macs"] == sum(ly["macs"] for ly in report["layers"])


# Variants that show an error on purpose (their pages in examples/*.md explain it).
FAILS_ON_PURPOSE = {("conv1d_on_images", "transposed_back"), ("conv1d_on_images", "keras3"),
                    ("per_sample_convolution", "valid"), ("multi_kernel_conv1d", "mismatched")}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_plans(path, runner):
    loaded = convcalc.load(str(path))
    variants = list(loaded) if isinstance(loaded, convcalc.Variants) else [None]
    for variant in variants:
        args = ["plan", str(path)] + (["--variant", variant] if variant else [])
        result = runner.invoke(cli, args)
        if (path.stem, variant) in FAILS_ON_PURPOSE:
            assert result.exit_code == 1 and result.stderr.startswith("error: "), (variant, result.output)
        else:
            assert result.exit_code == 0, (variant, result.output)
            assert "conventions: MACs = multiply-accumulates" in result.stdout
